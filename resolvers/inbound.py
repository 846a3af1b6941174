"""Inbound: what a verified webhook carries becomes customers, conversations, messages, statuses.

Everything for one webhook is written in one transaction, with its events in the outbox; the
webhook is answered only after it commits. Platform retries are absorbed by the unique
(channel, platform_message_id) key: a redelivered message stores nothing and emits nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient

from connectors.base import InboundMessage, ParsedWebhook, StatusUpdate
from core.events import INBOX, committed, conversation_stream, emit
from core.sql import in_transaction
from resolvers.statuses import apply_status
from resolvers.views import CONVERSATION_COLUMNS, MESSAGE_COLUMNS, conversation_view, message_view


@dataclass
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    statuses: int = 0

    @property
    def emitted(self) -> bool:
        return self.stored > 0 or self.statuses > 0


async def ingest(channel_id: int, platform: str, parsed: ParsedWebhook) -> IngestResult:
    result = IngestResult()
    async with in_transaction() as conn:
        for message in parsed.messages:
            if await _store_message(conn, channel_id, platform, message):
                result.stored += 1
            else:
                result.duplicates += 1
        for status in parsed.statuses:
            if await apply_status(conn, channel_id, status):
                result.statuses += 1
    if result.emitted:
        committed()
    return result


async def _store_message(
    conn: BaseDBAsyncClient, channel_id: int, platform: str, msg: InboundMessage
) -> bool:
    # Serialise everything about one sender on one channel: the same customer writing twice at
    # once must land in one conversation, and a concurrent redelivery must see the first copy.
    await conn.execute_query(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [f"identity:{channel_id}:{msg.sender_id}"]
    )
    dup = await conn.execute_query_dict(
        "SELECT 1 FROM messages WHERE channel_id = $1 AND platform_message_id = $2",
        [channel_id, msg.platform_message_id],
    )
    if dup:
        return False
    identity_id, customer = await _identity(conn, channel_id, platform, msg)
    conversation, created = await _open_conversation(conn, channel_id, platform, identity_id, customer["id"])
    rows = await conn.execute_query_dict(
        "INSERT INTO messages (conversation_id, channel_id, direction, kind, text, status, platform_message_id, "
        "reply_to_platform_id, attachments, metadata, created_at, sent_at, send_attempts) "
        "VALUES ($1, $2, 'inbound', $3, $4, 'received', $5, $6, $7::jsonb, $8::jsonb, now(), $9, 0) "
        f"RETURNING {MESSAGE_COLUMNS}",
        [
            conversation["id"],
            channel_id,
            msg.kind.value,
            msg.text,
            msg.platform_message_id,
            msg.reply_to_platform_id,
            orjson.dumps([_attachment(a) for a in msg.attachments]).decode(),
            orjson.dumps(dict(msg.metadata)).decode(),
            msg.sent_at,
        ],
    )
    message = message_view(dict(rows[0]))
    conv_rows = await conn.execute_query_dict(
        "UPDATE conversations SET last_message_id = $2, last_message_at = $3, unread_count = unread_count + 1, "
        "status = CASE WHEN status IN ('resolved', 'pending') THEN 'open' ELSE status END, updated_at = now() "
        f"WHERE id = $1 RETURNING {CONVERSATION_COLUMNS}",
        [conversation["id"], message["id"], message["created_at"]],
    )
    await conn.execute_query(
        "UPDATE customer_identities SET last_inbound_at = GREATEST(COALESCE(last_inbound_at, $2), $2) WHERE id = $1",
        [identity_id, msg.sent_at],
    )
    conv = conversation_view(dict(conv_rows[0]))
    await emit(conn, conversation_stream(conv["id"]), "MESSAGE_CREATED", {"message": message})
    await emit(
        conn,
        INBOX,
        "CONVERSATION_CREATED" if created else "CONVERSATION_UPDATED",
        {"conversation": conv, "last_message": message, "customer": customer},
    )
    return True


def _attachment(a: Any) -> dict[str, Any]:
    data = asdict(a)
    data["kind"] = a.kind.value
    return data


async def _identity(
    conn: BaseDBAsyncClient, channel_id: int, platform: str, msg: InboundMessage
) -> tuple[int, dict[str, Any]]:
    """(identity id, customer view): found, or created with a new customer."""
    rows = await conn.execute_query_dict(
        "SELECT i.id, i.display_name, c.id AS customer_id, c.name, c.phone, c.email FROM customer_identities i "
        "JOIN customers c ON c.id = i.customer_id WHERE i.channel_id = $1 AND i.external_id = $2",
        [channel_id, msg.sender_id],
    )
    if rows:
        row = rows[0]
        if msg.sender_name and msg.sender_name != row["display_name"]:
            await conn.execute_query(
                "UPDATE customer_identities SET display_name = $2 WHERE id = $1", [row["id"], msg.sender_name]
            )
        return row["id"], {
            "id": row["customer_id"],
            "name": row["name"],
            "phone": row["phone"],
            "email": row["email"],
        }
    rows = await conn.execute_query_dict(
        "INSERT INTO customers (name, phone, created_at, updated_at) VALUES ($1, $2, now(), now()) "
        "RETURNING id, name, phone, email",
        [msg.sender_name, msg.sender_phone],
    )
    customer = dict(rows[0])
    rows = await conn.execute_query_dict(
        "INSERT INTO customer_identities (customer_id, channel_id, platform, external_id, display_name, phone, "
        "created_at) VALUES ($1, $2, $3, $4, $5, $6, now()) RETURNING id",
        [customer["id"], channel_id, platform, msg.sender_id, msg.sender_name, msg.sender_phone],
    )
    return rows[0]["id"], customer


async def _open_conversation(
    conn: BaseDBAsyncClient, channel_id: int, platform: str, identity_id: int, customer_id: int
) -> tuple[dict[str, Any], bool]:
    """The identity's current conversation (a resolved one reopens), or a new one."""
    rows = await conn.execute_query_dict(
        "SELECT id FROM conversations WHERE identity_id = $1 AND status <> 'closed' ORDER BY id DESC LIMIT 1",
        [identity_id],
    )
    if rows:
        return dict(rows[0]), False
    rows = await conn.execute_query_dict(
        "INSERT INTO conversations (channel_id, customer_id, identity_id, platform, status, unread_count, "
        "last_message_at, created_at, updated_at) VALUES ($1, $2, $3, $4, 'open', 0, now(), now(), now()) RETURNING id",
        [channel_id, customer_id, identity_id, platform],
    )
    return dict(rows[0]), True


__all__ = ["IngestResult", "StatusUpdate", "ingest"]
