"""Scheduled upkeep, enqueued periodically by every API process (idempotent, so N processes is fine)."""

from __future__ import annotations

import logging

from core import tasks
from core.events import prune_events
from core.settings import get_settings
from core.sql import fetch
from jobs.outbound import sweep_stale_sends
from resolvers.api_keys import prune_read_marks
from resolvers.sealed import rotate_sealed
from resolvers.webhook_delivery import prune_deliveries

log = logging.getLogger(__name__)
ROTATION_SLICE = 30.0  # seconds of re-encrypting old bodies per run (about hourly)


@tasks.REQUEUE_STALE_SENDS.actor(max_retries=0)
async def requeue_stale_sends() -> None:
    """The API processes' slower safety net for the workers' own sweep (jobs/outbound.py): queued
    replies whose job was lost or whose attempt died are sent again."""
    await sweep_stale_sends()


@tasks.FLUSH_TASK_OUTBOX.actor(max_retries=0)
async def flush_task_outbox() -> None:
    """Tasks parked in PostgreSQL while Redis was unreachable go to the broker (core/tasks.py)."""
    await tasks.flush_outbox()


@tasks.PRUNE_HISTORY.actor(max_retries=0)
async def prune_history() -> None:
    """The event log keeps EVENT_RETENTION_DAYS; parked statuses nobody claimed go after a week;
    finished outgoing webhook deliveries after WEBHOOK_DELIVERY_RETENTION_DAYS. Then a slice of
    the sealed bodies' key rotation (resolvers/sealed.py)."""
    settings = get_settings()
    pruned = await prune_events(settings.event_retention_days)
    orphans = await fetch(
        "WITH gone AS (DELETE FROM orphan_statuses WHERE created_at < now() - interval '7 days' RETURNING 1) "
        "SELECT count(*) AS n FROM gone"
    )
    deliveries = await prune_deliveries(settings.webhook_delivery_retention_days)
    await prune_read_marks()
    resealed = await rotate_sealed(budget_seconds=ROTATION_SLICE)
    log.info(
        "pruned history",
        extra={
            "events": pruned,
            "orphan_statuses": orphans[0]["n"],
            "webhook_deliveries": deliveries,
            "resealed_bodies": resealed,
        },
    )
