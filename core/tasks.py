"""Work for the Dramatiq workers, named once.

A task is an actor's name and queue. Resolvers send tasks from here without importing `jobs/`
(the actors there call resolvers, so the import would run back up); `jobs/` declares each actor
with `TASK.actor(...)`, so a name or queue is never spelled twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dramatiq

from core.broker import broker


@dataclass(frozen=True)
class Task:
    name: str
    queue: str

    def send(self, *args: Any, delay_ms: int | None = None) -> None:
        """Enqueue a run of the actor named `name` (declared in `jobs/`, in whichever process
        consumes the queue). `delay_ms`: not before then (Redis keeps delayed messages)."""
        broker.declare_queue(self.queue)  # idempotent; the in-memory broker refuses unknown queues
        message = dramatiq.Message(
            queue_name=self.queue, actor_name=self.name, args=args, kwargs={}, options={}
        )
        broker.enqueue(message, delay=delay_ms)

    def actor(self, **options: Any) -> Callable[[Callable[..., Any]], dramatiq.Actor]:
        """Declare the function that runs this task (retries, backoff, time limit in `options`)."""
        return dramatiq.actor(actor_name=self.name, queue_name=self.queue, broker=broker, **options)


SEND_MESSAGE = Task("send_message", "outbound")
DRAIN_ASSIGNMENT_QUEUE = Task("drain_assignment_queue", "assignment")
PRESENCE_UPKEEP = Task("presence_upkeep", "maintenance")
SLA_SYNC = Task("sla_sync", "sla")
SLA_CHECK = Task("sla_check", "sla")
WAKE_CONVERSATION = Task("wake_conversation", "maintenance")
WAKE_DUE_SNOOZES = Task("wake_due_snoozes", "maintenance")
POLL_MAILBOXES = Task("poll_mailboxes", "maintenance")
REQUEUE_STALE_SENDS = Task("requeue_stale_sends", "maintenance")
PRUNE_HISTORY = Task("prune_history", "maintenance")

# What every API process enqueues on its upkeep timer (the jobs are idempotent, so N processes
# doing it costs N quick no-ops). PRUNE_HISTORY runs about hourly, apart from these.
UPKEEP = (
    REQUEUE_STALE_SENDS,
    POLL_MAILBOXES,
    WAKE_DUE_SNOOZES,
    PRESENCE_UPKEEP,
    SLA_CHECK,
    DRAIN_ASSIGNMENT_QUEUE,  # the safety net; drains are requested on every change
)
