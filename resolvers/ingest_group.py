"""Ingest in groups: single-message webhooks arriving together are stored by one statement.

`pytake_ingest_group` (migrations/functions/30_ingest_message.sql) runs the same rule
(`pytake_ingest_one`) for each of them, in one transaction and one round trip, sorted by
(channel, sender) so concurrent groups lock in the same order, and logs their events itself just
before the commit: one copy of each event, published from here without a sequencer round trip.
Every webhook of the group is answered after that one commit. A message that fails in the
database fails the group's statement; then each message runs on its own, so the rest is stored and
that one gets its real error (a subtransaction per message would cost every group more than this
rare second pass).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import UTC
from functools import partial
from typing import Any

import asyncpg
import orjson
from tortoise.backends.base.client import TransactionalDBClient

from connectors.base import InboundMessage
from core.crypto import body_for_write
from core.events import INBOX, Sequenced, committed, conversation_stream, logs_inline, publish_logged
from core.group_commit import GroupCommit
from core.sql import db, retry_on_deadlock

GROUP_MAX = 32  # messages per statement: enough to amortise the commit, small enough to stay short
# Groups running at once per process: while they commit, the next group fills. More would spread
# the same work over more connections (and lock conflicts) without fewer commits.
GROUP_INFLIGHT = 2

# channel id, platform, message, and whether to hold it back when its sender has a CSAT survey
# waiting (`SURVEY_WAITS`: resolvers/csat.py decides whether it is an answer)
Item = tuple[int, str, InboundMessage, bool]
Stored = tuple[int, int | None]  # outcome (DUPLICATE, STORED, NEW_CONVERSATION, SURVEY_WAITS), conversation
DUPLICATE, STORED, NEW_CONVERSATION, SURVEY_WAITS = 0, 1, 2, 3
# What follows a commit (enqueue the jobs the messages ask for), run once for the whole group
# before any of its callers is answered; the group's events are published by then.
AfterCommit = Callable[[list[Item], list["Stored | BaseException"]], Awaitable[None]]

_groups: dict[tuple[asyncio.AbstractEventLoop, AfterCommit | None], GroupCommit[Item, Stored]] = {}
_recent: dict[asyncio.AbstractEventLoop, GroupCommit[Item, Stored]] = {}


async def store_message(
    channel_id: int,
    platform: str,
    msg: InboundMessage,
    *,
    after_commit: AfterCommit | None = None,
    survey_check: bool = False,
) -> Stored:
    """Store one inbound message with whatever else arrives at the same time; returns after commit
    and after `after_commit` ran for the group. A caller already inside a transaction keeps the
    message in it (and its all-or-nothing); `after_commit` then runs for this message alone.
    `survey_check`: store nothing and answer `SURVEY_WAITS` when the sender has a CSAT survey
    waiting (looked at inside the same statement, instead of a round trip of its own before)."""
    conn = db()
    item = (channel_id, platform, msg, survey_check)
    if isinstance(conn, TransactionalDBClient):
        if survey_check and await _survey_waits(conn, channel_id, msg.sender_id):
            return SURVEY_WAITS, None
        answer = await store_alone(channel_id, platform, msg, conn)
        if answer[0] in (STORED, NEW_CONVERSATION):
            # Its events wait in the outbox for the caller's commit: a wake-up now may come early,
            # and then the periodic sweep sequences them.
            committed()
        if after_commit is not None:
            await after_commit([item], [answer])
        return answer
    loop = asyncio.get_running_loop()
    group = _groups.get((loop, after_commit))
    if group is None:
        for old in [old for old in _groups if old[0].is_closed()]:
            _recent.pop(old[0], None)
            del _groups[old]
        run = store_group if after_commit is None else partial(_store_then, after_commit)
        group = _groups[(loop, after_commit)] = GroupCommit(
            run, max_size=GROUP_MAX, max_inflight=GROUP_INFLIGHT
        )
    _recent[loop] = group
    return await group.submit(item)


def current_group() -> GroupCommit[Item, Stored] | None:
    """The group this event loop used last (tests and benchmarks read its counters)."""
    return _recent.get(asyncio.get_running_loop())


async def _store_then(after_commit: AfterCommit, items: list[Item]) -> list[Stored | BaseException]:
    answers = await store_group(items)
    try:
        await after_commit(items, answers)
    except Exception as exc:
        # Stored, but what should follow did not happen: each caller hears it (the webhook is not
        # answered 2xx), as when one webhook's own follow-up failed. Not raised: the group is not
        # to be run again, its messages are committed.
        return [a if isinstance(a, BaseException) else exc for a in answers]
    return answers


def message_params(channel_id: int, platform: str, msg: InboundMessage) -> dict[str, Any]:
    """The arguments of `pytake_ingest_message`, by name."""
    sent_at = msg.sent_at if msg.sent_at.tzinfo else msg.sent_at.replace(tzinfo=UTC)
    return {
        "channel_id": channel_id,
        "platform": platform,
        "platform_message_id": msg.platform_message_id,
        "sender_id": msg.sender_id,
        "sender_name": msg.sender_name,
        "sender_phone": msg.sender_phone,
        "sender_email": msg.sender_email.lower() if msg.sender_email else None,
        "reply_address": msg.reply_address,
        "kind": msg.kind.value,
        "text": body_for_write(msg.text),  # sealed at rest when ENCRYPT_MESSAGE_BODIES (core/crypto.py)
        "reply_to": msg.reply_to_platform_id,
        "thread_refs": list(msg.thread_refs),
        "new_thread": msg.new_thread,
        "attachments": [_attachment(a) for a in msg.attachments],
        "metadata": dict(msg.metadata),
        "sent_at": sent_at,
    }


def _attachment(a: Any) -> dict[str, Any]:
    data = asdict(a)
    data["kind"] = a.kind.value
    return data


async def store_alone(channel_id: int, platform: str, msg: InboundMessage, conn: Any = None) -> Stored:
    """One message, one statement (atomic on its own); the caller's transaction when `conn` is given."""
    p = message_params(channel_id, platform, msg)
    rows = await _fetch(
        conn or db(),
        "SELECT out_outcome, out_conversation_id FROM pytake_ingest_message($1, $2, $3, $4, $5, $6, $7, $8, $9, "
        "$10, $11, $12, $13, $14::jsonb, $15::jsonb, $16, $17, $18)",
        [
            p["channel_id"],
            p["platform"],
            p["platform_message_id"],
            p["sender_id"],
            p["sender_name"],
            p["sender_phone"],
            p["sender_email"],
            p["reply_address"],
            p["kind"],
            p["text"],
            p["reply_to"],
            p["thread_refs"],
            p["new_thread"],
            orjson.dumps(p["attachments"]).decode(),
            orjson.dumps(p["metadata"]).decode(),
            p["sent_at"],
            INBOX,
            conversation_stream(""),
        ],
    )
    return rows[0]["out_outcome"], rows[0]["out_conversation_id"]


async def _fetch(client: Any, sql: str, args: list[Any]) -> list[Any]:
    """The hot statements straight on asyncpg's connection (the pool's, or the caller's
    transaction's): no ORM layer between, rows as asyncpg returns them."""
    async with client.acquire_connection() as conn:
        return await conn.fetch(sql, *args)


async def store_group(items: list[Item]) -> list[Stored | BaseException]:
    """One statement for all of `items`; each answered with its outcome or its own error. The
    group's events are logged by that statement before its commit and published here after it
    (core/events.py), unless no event log runs in this process: then through the outbox."""
    answers: list[Stored | BaseException | None] = [None] * len(items)
    encoded: list[bytes] = []
    positions: list[int] = []
    for i, (channel_id, platform, msg, survey_check) in enumerate(items):
        try:
            params = message_params(channel_id, platform, msg)
            params["survey_check"] = survey_check
            encoded.append(orjson.dumps(params))
            positions.append(i)
        except (TypeError, ValueError) as exc:  # not encodable: this message alone fails
            answers[i] = exc
    if not encoded:
        return answers  # type: ignore[return-value]
    try:
        rows = await retry_on_deadlock(
            lambda: _fetch(
                db(),
                "SELECT * FROM pytake_ingest_group($1::jsonb, $2, $3, $4)",
                [(b"[" + b",".join(encoded) + b"]").decode(), INBOX, conversation_stream(""), logs_inline()],
            )
        )
    except asyncpg.PostgresError as exc:
        if len(items) == 1:
            return [exc]
        # One message broke the group (rare): each again as a group of its own, so the rest is
        # stored and that one gets its own error.
        return [answer for item in items for answer in await store_group([item])]
    logged: list[Sequenced] = []
    for row in rows:
        if row["out_index"] is None:
            logged.append(
                (row["ev_seq"], row["ev_prev"], row["ev_stream"], row["ev_type"], row["ev_payload"])
            )
        else:
            answers[positions[row["out_index"]]] = (row["out_outcome"], row["out_conversation_id"])
    if logged:
        await publish_logged(logged)
    return answers  # type: ignore[return-value]


async def _survey_waits(conn: Any, channel_id: int, sender_id: str) -> bool:
    rows = await _fetch(conn, "SELECT pytake_survey_waits($1, $2) AS waits", [channel_id, sender_id])
    return bool(rows[0]["waits"])
