"""A customer's personal data (LGPD / GDPR): the export of everything kept about them, built by a
job into one JSON document and handed out through a signed, expiring link (schema/downloads.py);
and what erasure (resolvers/erasure.py) and retention (resolvers/retention.py) share.

"The customer" is the customer and every customer merged into it (merged customers stay as
tombstones that still hold what they were known by)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient

from core import tasks
from core.auth import Actor, Role
from core.sql import db, fetch, fetchrow, in_transaction
from resolvers import audit
from resolvers.auth import require_admin
from resolvers.errors import NotFound
from resolvers.shapes import CONVERSATION_COLUMNS, MESSAGE_COLUMNS, conversation_view, message_view

FORMAT = "pytake.customer-export/1"
_KEPT_ATTACHMENT_KEYS = ("kind", "mime_type", "size")
_KEPT_METADATA_KEYS = ("response_template",)
_EXPORT_COLUMNS = "id, customer_id, requested_by_id, status, error, created_at, finished_at"


async def customer_family(conn: BaseDBAsyncClient, customer_id: int) -> set[int]:
    """The customer and every customer merged into it, at any depth."""
    rows = await conn.execute_query_dict(
        "WITH RECURSIVE family AS (SELECT id FROM customers WHERE id = $1 "
        "UNION SELECT c.id FROM customers c JOIN family f ON c.merged_into_id = f.id) SELECT id FROM family",
        [customer_id],
    )
    if not rows:
        raise NotFound(f"customer {customer_id} does not exist", field="customerId")
    return {r["id"] for r in rows}


def strip_attachments(attachments: Any) -> list[dict[str, Any]]:
    """One entry per attachment still (counts stay), without anything that leads to the file."""
    if not isinstance(attachments, list):
        return []
    return [
        {k: a[k] for k in _KEPT_ATTACHMENT_KEYS if k in a} if isinstance(a, dict) else {} for a in attachments
    ]


def kept_metadata(metadata: Any, why: str) -> dict[str, Any]:
    """A message's metadata once its body is gone: the response template it came from (for the
    template statistics), and why the body is gone."""
    kept = {k: metadata[k] for k in _KEPT_METADATA_KEYS if isinstance(metadata, dict) and k in metadata}
    return {**kept, "body_removed": why} if why else kept


# ---- export ---------------------------------------------------------------------------------------


async def request_export(actor: Actor | None, customer_id: int) -> dict[str, Any]:
    actor = require_admin(actor)
    async with in_transaction() as conn:
        await customer_family(conn, customer_id)  # NOT_FOUND before anything is stored
        rows = await conn.execute_query_dict(
            "INSERT INTO customer_exports (customer_id, requested_by_id, status, created_at) "
            f"VALUES ($1, $2, 'pending', now()) RETURNING {_EXPORT_COLUMNS}",
            [customer_id, actor.user_id],
        )
        export = dict(rows[0])
        await audit.record(
            conn, actor, "customer.export_request", "Customer", customer_id, {"export_id": export["id"]}
        )
    tasks.BUILD_CUSTOMER_EXPORT.send(export["id"])
    return export


async def get_export(actor: Actor | None, export_id: int) -> dict[str, Any]:
    require_admin(actor)
    row = await fetchrow(f"SELECT {_EXPORT_COLUMNS} FROM customer_exports WHERE id = $1", export_id)
    if row is None:
        raise NotFound(f"export {export_id} does not exist", field="id")
    return row


async def build_export(export_id: int) -> None:
    """The job. Idempotent: an export already built (or erased since) is left alone, and a
    failure is kept on the row for the admin to see rather than retried forever."""
    async with in_transaction() as conn:
        rows = await conn.execute_query_dict(
            "SELECT customer_id, status FROM customer_exports WHERE id = $1 FOR UPDATE", [export_id]
        )
        if not rows or rows[0]["status"] != "pending":
            return
        try:
            document = await export_document(conn, rows[0]["customer_id"])
        except NotFound as exc:
            await conn.execute_query(
                "UPDATE customer_exports SET status = 'failed', error = $2, finished_at = now() WHERE id = $1",
                [export_id, str(exc)],
            )
            return
        await conn.execute_query(
            "UPDATE customer_exports SET status = 'ready', content = $2, finished_at = now() WHERE id = $1",
            [export_id, orjson.dumps(document, option=orjson.OPT_INDENT_2).decode()],
        )


async def export_document(conn: BaseDBAsyncClient, customer_id: int) -> dict[str, Any]:
    """Everything kept about the customer, in the API's shapes (ids are database ids)."""
    ids = sorted(await customer_family(conn, customer_id))
    customers = await conn.execute_query_dict(
        "SELECT id, name, phone, email, merged_into_id, created_at, updated_at FROM customers "
        "WHERE id = ANY($1::int[]) ORDER BY id",
        [ids],
    )
    identities = await conn.execute_query_dict(
        "SELECT id, customer_id, channel_id, platform, external_id, display_name, phone, email, "
        "reply_address, last_inbound_at, created_at FROM customer_identities "
        "WHERE customer_id = ANY($1::int[]) ORDER BY id",
        [ids],
    )
    conversations = [
        conversation_view(dict(r))
        for r in await conn.execute_query_dict(
            f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE customer_id = ANY($1::int[]) ORDER BY id",
            [ids],
        )
    ]
    conversation_ids = [c["id"] for c in conversations]
    messages = [
        message_view(dict(r))
        for r in await conn.execute_query_dict(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ANY($1::int[]) ORDER BY id",
            [conversation_ids],
        )
    ]
    by_conversation: dict[int, list[dict[str, Any]]] = {}
    for m in messages:
        by_conversation.setdefault(m["conversation_id"], []).append(m)
    entries = await conn.execute_query_dict(
        "SELECT id, actor_id, action, target_type, target_id, details::text AS details, ip, created_at "
        "FROM audit_log WHERE (target_type = 'Customer' AND target_id = ANY($1::text[])) "
        "OR (target_type = 'Conversation' AND target_id = ANY($2::text[])) ORDER BY id",
        [[str(i) for i in ids], [str(i) for i in conversation_ids]],
    )
    attributes = await conn.execute_query_dict(
        "SELECT customer_id, name, value, updated_at FROM customer_attributes "
        "WHERE customer_id = ANY($1::int[]) ORDER BY customer_id, name",
        [ids],
    )
    runs = await conn.execute_query_dict(
        "SELECT id, flow_id, flow_version, conversation_id, status, node, variables::text AS variables, "
        "trigger, reason, started_at, finished_at FROM flow_executions "
        "WHERE conversation_id = ANY($1::int[]) ORDER BY id",
        [conversation_ids],
    )
    return _jsonable(
        {
            "format": FORMAT,
            "customer_id": customer_id,
            "exported_at": datetime.now(UTC),
            "customers": customers,
            "identities": identities,
            "conversations": [{**c, "messages": by_conversation.get(c["id"], [])} for c in conversations],
            "attachments": [
                {"message_id": m["id"], **a} for m in messages for a in (m.get("attachments") or [])
            ],
            "csat": await _csat(conn, conversation_ids),
            "attributes": attributes,
            "flow_executions": [{**r, "variables": orjson.loads(r["variables"])} for r in runs],
            "audit": [{**e, "details": orjson.loads(e["details"])} for e in entries],
        }
    )


async def _csat(conn: BaseDBAsyncClient, conversation_ids: list[int]) -> list[dict[str, Any]]:
    """Satisfaction answers, where a table of them exists (CSAT is not collected by every
    installation yet): any `csat…` table with a conversation_id column."""
    tables = await conn.execute_query_dict(
        "SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name LIKE 'csat%' AND column_name = 'conversation_id' ORDER BY table_name"
    )
    answers: list[dict[str, Any]] = []
    for t in tables:
        rows = await conn.execute_query_dict(
            f'SELECT to_jsonb(t)::text AS row FROM "{t["table_name"]}" t '
            "WHERE conversation_id = ANY($1::int[]) ORDER BY 1",
            [conversation_ids],
        )
        answers.extend({"table": t["table_name"], **orjson.loads(r["row"])} for r in rows)
    return answers


def _jsonable(value: Any) -> Any:
    """Views hold datetimes and JSON held as text in places: one round trip makes them plain JSON."""
    return orjson.loads(orjson.dumps(value, default=str))


async def export_file(export_id: int, user_id: int) -> tuple[str, str] | None:
    """(file name, JSON text) for the signed link of `user_id`, audited as a download; None when
    the export is not (or no longer) there, or the user who was given the link may no longer
    read it (deactivated, or not an admin any more)."""
    user = await fetchrow("SELECT id, role, is_active FROM users WHERE id = $1", user_id)
    if user is None or not user["is_active"] or user["role"] != Role.ADMIN.value:
        return None
    row = await fetchrow(
        "SELECT customer_id, content FROM customer_exports WHERE id = $1 AND status = 'ready'", export_id
    )
    if row is None or row["content"] is None:
        return None
    actor = Actor(user_id=user_id, role=Role.ADMIN)
    await audit.record(
        db(), actor, "customer.export_download", "Customer", row["customer_id"], {"export_id": export_id}
    )
    return f"customer-{row['customer_id']}-export-{export_id}.json", row["content"]


async def expire_exports(older_than_days: float) -> int:
    """Built files are kept this long (the link can be asked for again meanwhile), then dropped."""
    rows = await fetch(
        "UPDATE customer_exports SET content = NULL, status = 'expired' "
        "WHERE status = 'ready' AND finished_at < now() - make_interval(secs => $1) RETURNING id",
        older_than_days * 86400,
    )
    return len(rows)
