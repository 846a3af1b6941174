"""The roll-up job: enqueued by every API process's upkeep timer; one worker folds the new events
in at a time (the cursor's row lock), the others return at once (rules in resolvers/rollups.py)."""

from __future__ import annotations

import logging

from core import tasks
from resolvers import rollups

log = logging.getLogger(__name__)


@tasks.METRICS_ROLLUP.actor(max_retries=3, min_backoff=1000, max_backoff=30_000)
async def metrics_rollup(wait: bool = False) -> None:
    """`wait`: woken by new events (core/wake.py), so wait for a cursor another worker holds."""
    folded = await rollups.catch_up(wait=wait)
    if folded:
        log.info("metrics roll-up", extra={"events": folded})
