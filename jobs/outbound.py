"""Sending to platforms. The actor is thin: the rules are in resolvers/messages.py."""

from __future__ import annotations

import logging
import time

import dramatiq

from core import metrics, tasks
from resolvers.messages import MAX_SEND_ATTEMPTS, TransientSendFailure, deliver

log = logging.getLogger(__name__)


@tasks.SEND_MESSAGE.actor(max_retries=MAX_SEND_ATTEMPTS, min_backoff=500, max_backoff=60_000)
async def send_message(message_id: int) -> None:
    started = time.perf_counter()
    try:
        outcome = await deliver(message_id)
    except TransientSendFailure as exc:
        metrics.JOB_OUTCOMES.labels("send_message", "retry").inc()
        log.info("send will be retried", extra={"message_id": message_id, "reason": str(exc)})
        raise dramatiq.Retry(str(exc), delay=int(exc.retry_after * 1000) + 50) from exc
    metrics.JOB_OUTCOMES.labels("send_message", outcome).inc()
    log.info(
        "send_message",
        extra={
            "message_id": message_id,
            "outcome": outcome,
            "ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
