"""What a web chat visitor may see and touch: the rules behind the visitor API (ingress/webchat/).

A visitor is an identity on a webchat channel (`customer_identities.external_id` is the visitor
id). They follow their customer's few most recent conversations (merges move conversations and
identities together), and in them see only their own messages and the replies sent to them on
this channel, once sent: never notes, activities, metadata, agents' e-mails, or other identities'
messages (not even those of the same customer on other platforms).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from connectors.base import DeliveryStatus, StatusUpdate
from core.crypto import open_body
from core.events import committed
from core.sql import fetch, fetchrow, in_transaction
from resolvers.shapes import MESSAGE_COLUMNS
from resolvers.statuses import apply_status

MAX_CONVERSATIONS = 5  # followed per visitor: the current one and a few recent
VISIBLE_OUTBOUND = ("sent", "delivered", "read")

# The message columns qualified with the alias `m`, for the joins below.
_COLUMNS = ", ".join(f"m.{c.strip()}" for c in MESSAGE_COLUMNS.split(","))


async def webchat_channel_id(public_key: str) -> int | None:
    """The webchat channel whose embed snippet carries this public key (enabled or not)."""
    row = await fetchrow(
        "SELECT id FROM channels WHERE platform = 'webchat' AND config->>'public_key' = $1 "
        "ORDER BY id LIMIT 1",
        public_key,
    )
    return row["id"] if row else None


async def identity_of(channel_id: int, visitor_id: str) -> int | None:
    """The visitor's identity, once they have written (None before)."""
    row = await fetchrow(
        "SELECT id FROM customer_identities WHERE channel_id = $1 AND external_id = $2",
        channel_id,
        visitor_id,
    )
    return row["id"] if row else None


async def recent_conversations(identity_id: int | None) -> list[int]:
    """The visitor's recent conversations, newest first: their customer's (merges move
    conversations and identities together). Which messages in them the visitor sees is decided
    per message."""
    if identity_id is None:
        return []
    rows = await fetch(
        "SELECT c.id FROM conversations c JOIN customer_identities i ON i.customer_id = c.customer_id "
        "WHERE i.id = $1 ORDER BY c.id DESC LIMIT $2",
        identity_id,
        MAX_CONVERSATIONS,
    )
    return [r["id"] for r in rows]


def visible(message: dict[str, Any], identity_id: int | None, channel_id: int) -> bool:
    """The visitor's own messages and replies sent to them here, nothing else."""
    if (
        identity_id is None
        or message.get("identity_id") != identity_id
        or message.get("channel_id") != channel_id
    ):
        return False
    if message.get("direction") == "inbound":
        return message.get("deleted_at") is None
    return message.get("direction") == "outbound" and message.get("status") in VISIBLE_OUTBOUND


async def latest_messages(
    conversations: list[int], identity_id: int | None, channel_id: int, limit: int
) -> list[dict[str, Any]]:
    """The last `limit` messages the visitor may see in these conversations, oldest first (the
    same rule as `visible`, in SQL)."""
    rows = await fetch(
        f"SELECT {_COLUMNS} FROM messages m WHERE m.conversation_id = ANY($1::int[]) "
        "AND m.identity_id = $2 AND m.channel_id = $3 AND m.deleted_at IS NULL "
        "AND (m.direction = 'inbound' OR (m.direction = 'outbound' AND m.status = ANY($4::text[]))) "
        "ORDER BY m.id DESC LIMIT $5",
        conversations,
        identity_id,
        channel_id,
        list(VISIBLE_OUTBOUND),
        limit,
    )
    return [dict(r) for r in rows][::-1]


async def message_from_visitor(
    channel_id: int, platform_message_id: str, visitor_id: str
) -> dict[str, Any] | None:
    """A message the visitor wrote, by the platform id the visitor API gave it."""
    row = await fetchrow(
        f"SELECT {_COLUMNS} FROM messages m JOIN customer_identities i ON i.id = m.identity_id "
        "WHERE m.channel_id = $1 AND m.platform_message_id = $2 AND i.external_id = $3",
        channel_id,
        platform_message_id,
        visitor_id,
    )
    return dict(row) if row else None


async def mark_replies(
    channel_id: int,
    visitor_id: str,
    identity_id: int | None,
    conversations: list[int],
    new: DeliveryStatus,
    up_to: int,
) -> int:
    """The visitor received (or read) the replies up to this message id: applied like a
    platform's status report, so agents see the ticks move live. Returns how many changed."""
    earlier = ["sent", "delivered"] if new is DeliveryStatus.READ else ["sent"]
    now = datetime.now(UTC)
    changed = 0
    async with in_transaction() as conn:
        rows = await conn.execute_query_dict(
            "SELECT platform_message_id FROM messages WHERE conversation_id = ANY($1::int[]) AND identity_id = $2 "
            "AND channel_id = $3 AND direction = 'outbound' AND status = ANY($4::text[]) AND id <= $5 "
            "AND platform_message_id IS NOT NULL ORDER BY id LIMIT 500",
            [conversations, identity_id, channel_id, earlier, up_to],
        )
        for row in rows:
            update = StatusUpdate(
                platform_message_id=row["platform_message_id"],
                status=new,
                occurred_at=now,
                recipient_id=visitor_id,
            )
            changed += await apply_status(conn, channel_id, update)
    if changed:
        committed()
    return changed


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return value.astimezone(UTC).isoformat()


def _json_field(value: Any, default: Any) -> Any:
    # Rows from the database carry JSON columns as text; event payloads carry them decoded.
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return default
    return default if value is None else value


def visitor_view(
    message: dict[str, Any],
    visitor_id: str,
    visitor_name: str | None,
    agent_names: dict[int, str],
    title: str,
) -> dict[str, Any]:
    """What a visitor may see of a message: no metadata, no agent e-mail, no internal ids.
    Replies are signed with the agent's name, or the widget's title when it has none."""
    inbound = message["direction"] == "inbound"
    attachments = [
        {k: a.get(k) for k in ("kind", "url", "mime_type", "filename")}
        for a in _json_field(message.get("attachments"), [])
        if isinstance(a, dict) and a.get("url")
    ]
    view: dict[str, Any] = {
        "id": message["id"],
        "conversation_id": message["conversation_id"],
        "direction": message["direction"],
        "kind": message.get("kind") or "text",
        "text": open_body(message.get("text")),  # rows read here are not through message_view
        "attachments": attachments,
        "status": message.get("status"),
        "created_at": _iso(message.get("created_at")),
    }
    if inbound:
        pmid = message.get("platform_message_id") or ""
        view["client_message_id"] = pmid.rpartition(":")[2] if pmid.startswith(visitor_id + ":") else None
        view["sender_name"] = visitor_name
    else:
        metadata = _json_field(message.get("metadata"), {})
        view["sender_name"] = agent_names.get(message.get("sender_id") or 0) or title
        view["buttons"] = [
            {"id": b.get("id"), "title": b.get("title"), "url": b.get("url")}
            for b in (metadata.get("buttons") or [])
            if isinstance(b, dict)
        ]
    return view


async def agent_names(messages: list[dict[str, Any]], cache: dict[int, str]) -> dict[int, str]:
    """The names of the agents who sent these messages, added to `cache` (looked up once each)."""
    wanted = {m["sender_id"] for m in messages if m.get("sender_id") and m["sender_id"] not in cache}
    if wanted:
        for row in await fetch("SELECT id, name FROM users WHERE id = ANY($1::int[])", sorted(wanted)):
            cache[row["id"]] = row["name"]
    return cache
