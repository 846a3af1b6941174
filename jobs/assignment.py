"""Assignment jobs: drain the queue when something changed, and keep agents' presence honest.

A drain is requested (resolvers/assignment.request_drain) after a new conversation arrives and
whenever capacity frees up (an agent comes online, resolves, closes or hands a conversation back).
Any number of drains may run at once in any number of processes: resolvers/assignment.py locks
rows, so they never collide.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from core import tasks
from resolvers import assignment

log = logging.getLogger(__name__)

PRESENCE_SILENCE = timedelta(seconds=90)  # no heartbeat from any live connection: offline


@tasks.DRAIN_ASSIGNMENT_QUEUE.actor(max_retries=3, min_backoff=200)
async def drain_assignment_queue() -> None:
    assigned = await assignment.drain_queue()
    if assigned:
        log.info("assigned", extra={"count": len(assigned)})


@tasks.PRESENCE_UPKEEP.actor(max_retries=0)
async def presence_upkeep() -> None:
    """Agents gone quiet go offline; past their team's grace, their conversations re-queue."""
    await assignment.expire_presence(PRESENCE_SILENCE)
    if await assignment.requeue_offline_agents():
        assignment.request_drain()
