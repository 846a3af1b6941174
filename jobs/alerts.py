"""Alert evaluation, enqueued by every API process's upkeep timer: each rule is evaluated once
per period however many workers run this (resolvers/alerts.py claims the (rule, period) row)."""

from __future__ import annotations

import logging

from core import tasks
from core.settings import get_settings
from resolvers import alerts

log = logging.getLogger(__name__)


@tasks.EVALUATE_ALERTS.actor(max_retries=0)
async def evaluate_alerts() -> None:
    outcomes = await alerts.evaluate(period_seconds=get_settings().alert_evaluation_seconds)
    log.info("alert rules evaluated", extra={"evaluated": len(outcomes)})
    tasks.NOTIFY_FROM_EVENTS.send()  # an alert that opened is announced now, not at the next sweep
