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

from connectors.base import InboundMessage, ParsedWebhook
from core.events import INBOX, committed, conversation_stream
from core.sql import db, in_transaction, retry_on_deadlock
from resolvers.statuses import apply_status


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
    items = len(parsed.messages) + len(parsed.statuses)
    if items == 1 and parsed.messages:
        # The common case, one message: one statement, atomic on its own, one round trip.
        stored = await _store_message(db(), channel_id, platform, parsed.messages[0])
        result.stored, result.duplicates = int(stored), int(not stored)
    elif items:
        counts = await retry_on_deadlock(lambda: _store_batch(channel_id, platform, parsed))
        result.stored, result.duplicates, result.statuses = counts
    if result.emitted:
        committed()
    return result


async def _store_batch(channel_id: int, platform: str, parsed: ParsedWebhook) -> tuple[int, int, int]:
    """Several items (a batched webhook, or statuses): one transaction, all or nothing."""
    stored = duplicates = statuses = 0
    async with in_transaction() as conn:
        for message in parsed.messages:
            if await _store_message(conn, channel_id, platform, message):
                stored += 1
            else:
                duplicates += 1
        for status in parsed.statuses:
            if await apply_status(conn, channel_id, status):
                statuses += 1
    return stored, duplicates, statuses


async def _store_message(
    conn: BaseDBAsyncClient, channel_id: int, platform: str, msg: InboundMessage
) -> bool:
    """Customer → conversation → message → events, in the database function
    `pytake_ingest_message` (migrations/models/1_*_ingest_functions.py), which:
    - serialises one sender on one channel (advisory lock), so concurrent messages of one customer
      share a conversation and a concurrent redelivery is seen;
    - stores nothing for a platform message id already stored on this channel (returns false);
    - finds or creates the customer and their identity on this channel;
    - appends to the identity's open conversation (resolved/pending ones reopen), or starts one;
    - bumps the conversation's last message and unread count;
    - writes MESSAGE_CREATED on the conversation's stream and CONVERSATION_CREATED/UPDATED on the inbox.
    """
    rows = await conn.execute_query_dict(
        "SELECT pytake_ingest_message($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb, $12, $13, $14) AS stored",
        [
            channel_id,
            platform,
            msg.platform_message_id,
            msg.sender_id,
            msg.sender_name,
            msg.sender_phone,
            msg.kind.value,
            msg.text,
            msg.reply_to_platform_id,
            orjson.dumps([_attachment(a) for a in msg.attachments]).decode(),
            orjson.dumps(dict(msg.metadata)).decode(),
            msg.sent_at,
            INBOX,
            conversation_stream(""),
        ],
    )
    return bool(rows[0]["stored"])


def _attachment(a: Any) -> dict[str, Any]:
    data = asdict(a)
    data["kind"] = a.kind.value
    return data
