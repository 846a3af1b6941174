"""Timers of the conversation lifecycle: a snoozed conversation reopens itself at its time.

The wake-up is a Dramatiq message delayed until then (it lives in Redis, so it survives restarts
of every process); the upkeep timer also sweeps for any that are due, in case a delayed message
was lost. Waking is idempotent (resolvers/lifecycle.wake_snoozed).
"""

from __future__ import annotations

from datetime import UTC, datetime

import dramatiq

from jobs.broker import broker  # noqa: F401
from resolvers.lifecycle import wake_snoozed


@dramatiq.actor(queue_name="maintenance", max_retries=5)
async def wake_conversation(conversation_id: int) -> None:
    await wake_snoozed(conversation_id)


@dramatiq.actor(queue_name="maintenance", max_retries=0)
async def wake_due_snoozes() -> None:
    await wake_snoozed()


def schedule_wake(conversation_id: int, at: datetime) -> None:
    delay_ms = max(0, int((at - datetime.now(UTC)).total_seconds() * 1000))
    wake_conversation.send_with_options(args=(conversation_id,), delay=delay_ms)
