"""Who may send a queued message now, and when one nobody is sending goes out again.

A send attempt claims its message by setting `sending_until` (see `resolvers.messages.deliver`) and,
while the platform call is in flight, keeps pushing it SEND_LEASE seconds ahead (`held`). A worker
killed mid-send stops renewing, so its claim lapses within SEND_LEASE instead of a fixed minute,
and the stale-send sweep (`stale_sends`, run every few seconds by the workers) sends it again.

That resend is the one duplicate left on a platform without an idempotency key: the killed attempt
may have been accepted before our commit was lost. WhatsApp echoes the tag we send with each
message (`biz_opaque_callback_data`) in its status webhooks, which record the message as accepted
(`resolvers.statuses`); so on WhatsApp a lapsed claim is left alone for a further ECHO_GRACE
before anyone may claim it, time for that echo to arrive and make the resend unnecessary.

`sending_until` therefore reads: nobody may claim the message before `sending_until + grace of its
platform`. A retry the platform asked for (a 429, a 5xx) reserves the message until the retry is
due; that reservation is written `grace` earlier so the grace is not added to a refusal whose
outcome we know. A timeout's outcome we do not know, so it keeps the grace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import orjson

from connectors import whatsapp
from connectors.base import Platform
from core.settings import get_settings
from core.sql import fetch

log = logging.getLogger(__name__)

# Per platform: how long after a lapsed claim the platform's echo of an accepted send may still come.
ECHO_GRACE: dict[str, timedelta] = {Platform.WHATSAPP.value: whatsapp.STATUS_ECHO_GRACE}
# Outcomes unknown to us: the request may have reached the platform (connectors/http.py codes).
UNKNOWN_OUTCOME = frozenset({"TIMEOUT", "NETWORK_ERROR"})
# A due retry is taken by its own job within milliseconds; the sweep waits this much longer first.
RETRY_MARGIN = timedelta(seconds=2)
# A queued message no attempt ever claimed for this long lost its job (Redis without persistence
# restarted, or a worker died holding it prefetched).
UNCLAIMED_AFTER = timedelta(seconds=5)
_GRACES = orjson.dumps({p: g.total_seconds() for p, g in ECHO_GRACE.items()}).decode()
# `m.sending_until` plus its platform's grace (the SQL below reads $1 as _GRACES).
_FREE_FROM = "m.sending_until + make_interval(secs => COALESCE(($1::jsonb ->> m.platform)::float8, 0))"


def lane_head_sql(conversation: str) -> str:
    """SQL for the id of a conversation's lane head (NULL when its lane is empty): its earliest
    queued reply, the only one any attempt may send (replies go out in order; the attempt that
    sends the head goes on down the lane, resolvers/messages.deliver). `conversation` is an SQL
    expression for the conversation's id. One definition for the claim, the next in the lane and
    the sweep; the partial index idx_messages_lane (migration 29) answers it in one probe."""
    return (
        f"(SELECT h.id FROM messages h WHERE h.conversation_id = {conversation} "
        "AND h.direction = 'outbound' AND h.status = 'queued' ORDER BY h.id LIMIT 1)"
    )


def lease() -> timedelta:
    return timedelta(seconds=get_settings().send_lease)


def grace(platform: str) -> timedelta:
    return ECHO_GRACE.get(platform, timedelta(0))


def claimable_sql(now_param: str) -> tuple[str, str]:
    """(SQL condition on messages `m`, its $1 value): no attempt holds `m` at `now_param`."""
    return f"(m.sending_until IS NULL OR {_FREE_FROM} < {now_param})", _GRACES


def retry_reservation(platform: str, code: str, delay: float) -> datetime:
    """`sending_until` for a retry due in `delay` seconds after a refusal with this code."""
    due = datetime.now(UTC) + timedelta(seconds=delay)
    return due if code in UNKNOWN_OUTCOME else due - grace(platform)


def grace_left(platform: str, sending_until: datetime | None) -> float:
    """Seconds until a lapsed claim's grace ends; 0 when it has (or there is no claim)."""
    if sending_until is None:
        return 0.0
    now = datetime.now(UTC)
    if sending_until > now:
        return 0.0  # held by a live attempt, not waiting out a grace
    return max(0.0, (sending_until + grace(platform) - now).total_seconds())


@contextlib.asynccontextmanager
async def held(message_id: int, attempt: int) -> AsyncIterator[None]:
    """Keep attempt number `attempt`'s claim on the message alive while the body runs: renewed every
    third of the lease, so a renewal or two may fail (a slow database) without losing it. Only this
    attempt's claim is renewed; a later attempt that took over a lapsed claim keeps its own."""
    renewer = asyncio.create_task(_renew(message_id, attempt), name=f"send-lease-{message_id}")
    try:
        yield
    finally:
        renewer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewer


async def _renew(message_id: int, attempt: int) -> None:
    period = lease().total_seconds() / 3
    while True:
        await asyncio.sleep(period)
        try:
            await fetch(
                "UPDATE messages SET sending_until = now() + $3::interval "
                "WHERE id = $1 AND status = 'queued' AND send_attempts = $2",
                message_id,
                attempt,
                lease(),
            )
        except Exception as exc:  # the database is away: the attempt goes on, the claim may lapse
            log.warning("send lease not renewed", extra={"message_id": message_id, "error": repr(exc)})


async def stale_sends(*, include_unclaimed: bool = True, limit: int = 1000) -> list[int]:
    """Queued replies that no attempt holds and none will take by itself: their attempt died (its
    claim and grace lapsed), or their job was lost before anyone claimed them (`include_unclaimed`;
    the caller leaves those out while the queue is long, when waiting is not being lost)."""
    params: list[object] = [_GRACES, RETRY_MARGIN]
    unclaimed = ""
    if include_unclaimed:
        unclaimed = "OR (m.sending_until IS NULL AND m.created_at < now() - $3::interval)"
        params.append(UNCLAIMED_AFTER)
    # Lane heads only (the earliest queued reply of each conversation): the job that sends a head
    # goes on down its lane (resolvers/messages.deliver), and a reply behind a head that waits out
    # its echo grace is not worth a job every sweep.
    rows = await fetch(
        "SELECT m.id FROM messages m WHERE m.direction = 'outbound' AND m.status = 'queued' "
        f"AND (({_FREE_FROM}) < now() - $2::interval {unclaimed}) "
        f"AND m.id = {lane_head_sql('m.conversation_id')} "
        f"ORDER BY m.id LIMIT {int(limit)}",
        *params,
    )
    return [r["id"] for r in rows]
