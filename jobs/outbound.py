"""Sending to platforms. The actor is thin: the rules are in resolvers/messages.py and
resolvers/send_lease.py. The stale-send sweep lives here too: every worker process runs it every
SEND_SWEEP_INTERVAL seconds (jobs/worker.py), one at a time across the deployment.

One platform that answers slowly must not hold every worker thread (an async actor keeps its
thread while it awaits the platform): each worker process sends to one platform at most
SENDS_PER_PLATFORM (4) at a time. A send beyond that goes back on the queue half a second later,
without holding a thread, so the other platforms' sends keep their threads."""

from __future__ import annotations

import logging
import os
import time
from collections import Counter

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from core import metrics, tasks
from core.broker import broker
from core.settings import get_settings
from resolvers.messages import (
    MAX_THROTTLED_ATTEMPTS,
    TransientSendFailure,
    deliver,
    send_platform,
    stale_queued,
)

log = logging.getLogger(__name__)
SENDS_PER_PLATFORM = int(os.environ.get("SENDS_PER_PLATFORM") or 4)
DEFER_MS = 500
# Sends in flight in this process, per platform. Async actors all run on the worker's one event
# loop thread, so no lock is needed.
_in_flight: Counter[str] = Counter()

# With more sends than this waiting on the queue, a message nobody claimed yet is probably waiting
# its turn, not lost: the sweep then leaves those alone (re-enqueueing a backlog would double it)
# and takes back only sends whose attempt died.
BACKLOG_GATE = 100


# Retries are decided by `deliver` (fewer for a failing message than for a throttled one); the
# actor's own limit only has to be the larger of the two.
@tasks.SEND_MESSAGE.actor(max_retries=MAX_THROTTLED_ATTEMPTS, min_backoff=500, max_backoff=60_000)
async def send_message(message_id: int) -> None:
    started = time.perf_counter()
    platform = await send_platform(message_id)
    if platform is None:
        metrics.JOB_OUTCOMES.labels("send_message", "skipped").inc()
        return  # sent, failed or gone meanwhile
    if _in_flight[platform] >= SENDS_PER_PLATFORM:
        metrics.JOB_OUTCOMES.labels("send_message", "deferred").inc()
        tasks.SEND_MESSAGE.send(message_id, delay_ms=DEFER_MS)
        return
    _in_flight[platform] += 1
    try:
        outcome = await deliver(message_id)
    except TransientSendFailure as exc:
        metrics.JOB_OUTCOMES.labels("send_message", "retry").inc()
        log.info("send will be retried", extra={"message_id": message_id, "reason": str(exc)})
        raise dramatiq.Retry(str(exc), delay=int(exc.retry_after * 1000) + 50) from exc
    finally:
        _in_flight[platform] -= 1
    metrics.JOB_OUTCOMES.labels("send_message", outcome).inc()
    log.info(
        "send_message",
        extra={
            "message_id": message_id,
            "outcome": outcome,
            "ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )


async def sweep_stale_sends() -> int:
    """Enqueue again the queued replies nobody is sending (resolvers/send_lease.stale_sends): a send
    job that finds its message claimed or done does nothing, so a spare job is harmless."""
    ids = await stale_queued(include_unclaimed=outbound_backlog() < BACKLOG_GATE)
    for message_id in ids:
        tasks.SEND_MESSAGE.send(message_id)
    if ids:
        metrics.SENDS_TAKEN_BACK.inc(len(ids))
        log.warning("re-enqueued stale sends", extra={"count": len(ids)})
    return len(ids)


def outbound_backlog() -> int:
    """Send jobs waiting on the queue (not the delayed ones: those are retries biding their time)."""
    queue = tasks.SEND_MESSAGE.queue
    if isinstance(broker, RedisBroker):
        return int(broker.client.llen(f"{broker.namespace}:{queue}"))
    if isinstance(broker, StubBroker) and queue in broker.queues:
        return broker.queues[queue].qsize()
    return 0


def take_sweep_turn(interval: float) -> bool:
    """True for one caller per `interval` across every worker process (a Redis key that expires);
    without Redis (embedded: one process) always."""
    if not isinstance(broker, RedisBroker):
        return True
    key = f"{broker.namespace}:send-sweep"
    return bool(broker.client.set(key, get_settings().namespace, nx=True, px=max(1, int(interval * 1000))))
