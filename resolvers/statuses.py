"""Delivery statuses (sent → delivered → read, or failed): one rule for webhooks and send jobs.

Statuses only move forward (`core.vocabulary.advances`); each reported status is kept once in
`message_status_changes`; a status for a message whose platform id is not recorded yet is parked
in `orphan_statuses` and applied when the send job records the id. A status that names our
message by the tag it was sent with (`StatusUpdate.idempotency_key`, WhatsApp's echo) records that
id itself: the platform accepted the message even if the send job died before its commit, and a
message recorded as accepted is never sent again (resolvers/send_lease.py). When that takes a
queued reply (its lane's head) out of the queue, the caller collects its conversation (`moved`) and,
after its commit, enqueues the lane's next reply (resolvers/messages.lanes_moved).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from connectors.base import StatusUpdate
from core.events import INBOX, conversation_stream, emit
from core.vocabulary import DeliveryStatus, advances
from resolvers.shapes import CONVERSATION_COLUMNS, MESSAGE_COLUMNS, conversation_view, message_view

_TIMESTAMP_COLUMN = {
    DeliveryStatus.SENT: "sent_at",
    DeliveryStatus.DELIVERED: "delivered_at",
    DeliveryStatus.READ: "read_at",
    DeliveryStatus.FAILED: "failed_at",
}


async def apply_status(
    conn: BaseDBAsyncClient, channel_id: int, update: StatusUpdate, moved: set[int] | None = None
) -> bool:
    """Record a platform status report. True when a message changed (and events were emitted).
    `moved` collects the conversations of queued replies an echo recorded as accepted (their lanes'
    next reply is due: the caller enqueues it after commit, resolvers/messages.lanes_moved)."""
    if update.up_to is not None:
        return await _apply_watermark(conn, channel_id, update)
    rows = await conn.execute_query_dict(
        "SELECT id, status FROM messages WHERE channel_id = $1 AND platform_message_id = $2 FOR UPDATE",
        [channel_id, update.platform_message_id],
    )
    adopted = False
    if not rows and update.idempotency_key is not None:
        rows = await _adopt_echoed_send(conn, channel_id, update)
        adopted = bool(rows) and rows[0]["status"] == "queued"
    if not rows:
        await conn.execute_query(
            "INSERT INTO orphan_statuses (channel_id, platform_message_id, status, occurred_at, error_code, "
            "error_detail, created_at) VALUES ($1, $2, $3, $4, $5, $6, now()) ON CONFLICT DO NOTHING",
            [
                channel_id,
                update.platform_message_id,
                update.status.value,
                update.occurred_at,
                update.error_code,
                _reason(update),
            ],
        )
        return False
    changed = await transition(
        conn,
        rows[0]["id"],
        DeliveryStatus(rows[0]["status"]) if rows[0]["status"] != "received" else None,
        update.status,
        update.occurred_at,
        update.error_code,
        _reason(update),
    )
    if changed and adopted and moved is not None:  # out of the queue with no send job to go on
        moved.add(int(rows[0]["conversation_id"]))
    return changed


async def _adopt_echoed_send(
    conn: BaseDBAsyncClient, channel_id: int, update: StatusUpdate
) -> list[dict[str, Any]]:
    """Record the platform's id on the outbound message the status names by our tag, when none is
    recorded yet; its status then moves like any other (queued → sent, delivered, read or failed).
    A message recorded under another id (it was accepted twice) keeps it: this status is parked."""
    key = update.idempotency_key or ""
    if not key.isdigit() or len(key) > 18:
        return []
    return await conn.execute_query_dict(
        "UPDATE messages SET platform_message_id = $3 WHERE id = $1 AND channel_id = $2 "
        "AND direction = 'outbound' AND platform_message_id IS NULL RETURNING id, status, conversation_id",
        [int(key), channel_id, update.platform_message_id],
    )


async def _apply_watermark(conn: BaseDBAsyncClient, channel_id: int, update: StatusUpdate) -> bool:
    """Every outbound message to the recipient sent at or before the watermark reached `status`."""
    rows = await conn.execute_query_dict(
        "SELECT m.id, m.status FROM messages m JOIN customer_identities i ON i.id = m.identity_id "
        "WHERE m.channel_id = $1 AND i.external_id = $2 AND m.direction = 'outbound' "
        "AND m.status IN ('sent', 'delivered') AND m.sent_at <= $3 ORDER BY m.id FOR UPDATE OF m",
        [channel_id, update.recipient_id, update.up_to],
    )
    changed = False
    for row in rows:
        changed |= await transition(
            conn, row["id"], DeliveryStatus(row["status"]), update.status, update.occurred_at
        )
    return changed


def _reason(update: StatusUpdate) -> str | None:
    parts = [p for p in (update.error_title, update.error_detail) if p]
    return ": ".join(parts) if parts else None


async def transition(
    conn: BaseDBAsyncClient,
    message_id: int,
    current: DeliveryStatus | None,
    new: DeliveryStatus,
    occurred_at: datetime,
    error_code: str | None = None,
    error_reason: str | None = None,
) -> bool:
    """Move an outbound message to `new` if that is progress; history is kept either way."""
    inserted = await conn.execute_query_dict(
        "INSERT INTO message_status_changes (message_id, status, occurred_at, error_code, error_detail, created_at) "
        "VALUES ($1, $2, $3, $4, $5, now()) ON CONFLICT DO NOTHING RETURNING id",
        [message_id, new.value, occurred_at, error_code, error_reason],
    )
    if current is None or not inserted or not advances(current, new):
        return False
    column = _TIMESTAMP_COLUMN[new]
    # `read` implies delivered (WhatsApp skips `delivered` when both happen at once).
    implied = ", delivered_at = COALESCE(delivered_at, $2)" if new is DeliveryStatus.READ else ""
    rows = await conn.execute_query_dict(
        f"UPDATE messages SET status = $3, {column} = COALESCE({column}, $2){implied}, "
        "error_code = COALESCE($4, error_code), error_reason = COALESCE($5, error_reason), sending_until = NULL "
        f"WHERE id = $1 RETURNING {MESSAGE_COLUMNS}",
        [message_id, occurred_at, new.value, error_code, error_reason],
    )
    await emit_message_updated(conn, dict(rows[0]))
    return True


async def emit_message_updated(conn: BaseDBAsyncClient, row: dict[str, Any]) -> None:
    message = message_view(row)
    await emit(conn, conversation_stream(message["conversation_id"]), "MESSAGE_UPDATED", {"message": message})
    conv = await conn.execute_query_dict(
        f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = $1 AND last_message_id = $2",
        [message["conversation_id"], message["id"]],
    )
    if conv:  # the inbox shows the last message's ticks too
        await emit(
            conn,
            INBOX,
            "CONVERSATION_UPDATED",
            {"conversation": conversation_view(dict(conv[0])), "last_message": message},
        )


async def apply_orphans(conn: BaseDBAsyncClient, channel_id: int, platform_message_id: str) -> None:
    rows = await conn.execute_query_dict(
        "DELETE FROM orphan_statuses WHERE channel_id = $1 AND platform_message_id = $2 "
        "RETURNING status, occurred_at, error_code, error_detail",
        [channel_id, platform_message_id],
    )
    for row in sorted(rows, key=lambda r: r["occurred_at"]):
        await apply_status(
            conn,
            channel_id,
            StatusUpdate(
                platform_message_id=platform_message_id,
                status=DeliveryStatus(row["status"]),
                occurred_at=row["occurred_at"],
                error_code=row["error_code"],
                error_detail=row["error_detail"],
            ),
        )
