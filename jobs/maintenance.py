"""Scheduled upkeep, enqueued periodically by every API process (idempotent, so N processes is fine)."""

from __future__ import annotations

import logging

import dramatiq

from jobs.broker import broker  # noqa: F401
from jobs.outbound import enqueue_send
from resolvers.messages import stale_queued

log = logging.getLogger(__name__)


@dramatiq.actor(queue_name="maintenance", max_retries=0)
async def requeue_stale_sends() -> None:
    """Queued replies whose enqueue was lost (a crash between commit and enqueue) are sent now;
    the send lease makes a duplicate job harmless."""
    ids = await stale_queued()
    for message_id in ids:
        enqueue_send(message_id)
    if ids:
        log.warning("re-enqueued stale sends", extra={"count": len(ids)})
