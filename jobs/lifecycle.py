"""Timers of the conversation lifecycle: a snoozed conversation reopens itself at its time.

The wake-up is a Dramatiq message delayed until then (resolvers/lifecycle.py sends it; it lives
in Redis, so it survives restarts of every process); the upkeep timer also sweeps for any that are
due, in case a delayed message was lost. Waking is idempotent (resolvers/lifecycle.wake_snoozed).
"""

from __future__ import annotations

from core import tasks
from resolvers.lifecycle import wake_snoozed


@tasks.WAKE_CONVERSATION.actor(max_retries=5)
async def wake_conversation(conversation_id: int) -> None:
    await wake_snoozed(conversation_id)


@tasks.WAKE_DUE_SNOOZES.actor(max_retries=0)
async def wake_due_snoozes() -> None:
    await wake_snoozed()
