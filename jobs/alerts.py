"""Alert evaluation, enqueued by every API process's upkeep timer: each rule is evaluated once
per period however many workers run this (resolvers/alerts.py claims the (rule, period) row)."""

from __future__ import annotations

import logging

from core import metrics, tasks
from core.settings import get_settings
from core.sql import fetch
from resolvers import alerts

log = logging.getLogger(__name__)


@tasks.EVALUATE_ALERTS.actor(max_retries=0)
async def evaluate_alerts() -> None:
    outcomes = await alerts.evaluate(period_seconds=get_settings().alert_evaluation_seconds)
    log.info("alert rules evaluated", extra={"evaluated": len(outcomes)})
    tasks.NOTIFY_FROM_EVENTS.send()  # an alert that opened is announced now, not at the next sweep
    await export_open_alerts()


async def export_open_alerts() -> None:
    """The `pytake_alerts_open` gauge, per severity, as the database has it after this round
    (a severity with none open reads 0, so a resolved alert clears its line)."""
    rows = await fetch(
        "SELECT severity, count(*) FILTER (WHERE state <> 'resolved') AS n FROM alerts GROUP BY severity"
    )
    for row in rows:
        metrics.ALERTS_OPEN.labels(row["severity"]).set(row["n"])
