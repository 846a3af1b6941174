"""SLA timers through Dramatiq: a sync after every change that may move a timer
(resolvers/sla.request_sync), and checks delayed until each warn/due moment (Redis keeps delayed
messages across restarts; the upkeep sweep catches any that were lost)."""

from __future__ import annotations

from datetime import UTC, datetime

from core import tasks
from resolvers import sla


@tasks.SLA_SYNC.actor(max_retries=5, min_backoff=200)
async def sla_sync(conversation_ids: list[int]) -> None:
    for conversation_id in conversation_ids:
        for moment in await sla.sync(conversation_id):
            delay = max(0, int((moment - datetime.now(UTC)).total_seconds() * 1000)) + 50
            tasks.SLA_CHECK.send(delay_ms=delay)


@tasks.SLA_CHECK.actor(max_retries=3)
async def sla_check() -> None:
    await sla.check()
