"""SLA timers through Dramatiq: a sync after every change that may move a timer, and checks
delayed until each warn/due moment (Redis keeps delayed messages across restarts; the upkeep
sweep catches any that were lost)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import dramatiq

from jobs.broker import broker  # noqa: F401
from resolvers import sla

_POLICY_CACHE_SECONDS = 10.0
_policies_known: tuple[float, bool] = (0.0, True)


@dramatiq.actor(queue_name="sla", max_retries=5, min_backoff=200)
async def sla_sync(conversation_ids: list[int]) -> None:
    for conversation_id in conversation_ids:
        for moment in await sla.sync(conversation_id):
            delay = max(0, int((moment - datetime.now(UTC)).total_seconds() * 1000)) + 50
            sla_check.send_with_options(delay=delay)


@dramatiq.actor(queue_name="sla", max_retries=3)
async def sla_check() -> None:
    await sla.check()


async def request_sla_sync(conversation_ids: list[int] | set[int]) -> None:
    """Ask for a sync, unless no SLA policy exists at all (checked at most every 10 s per
    process): then a webhook costs nothing extra."""
    global _policies_known
    checked_at, exist = _policies_known
    if time.monotonic() - checked_at > _POLICY_CACHE_SECONDS:
        from core.sql import fetch

        exist = bool(await fetch("SELECT 1 FROM sla_policies LIMIT 1"))
        _policies_known = (time.monotonic(), exist)
    if exist and conversation_ids:
        sla_sync.send(sorted(conversation_ids))


def forget_policy_cache() -> None:
    """A policy was just created in this process: start syncing at once."""
    global _policies_known
    _policies_known = (0.0, True)
