"""The execution context every operation runs with.

graphql-core (3.3) runs each subscription event on a shallow copy of the subscription's executor
(`build_per_event_executor`), so the copies share the subfield memo `_relevant_sub_fields`. That
memo is keyed by the identity of each event's freshly collected field lists (and keeps the lists
alive so the ids stay unique): an event never hits what an earlier one stored, and every event
added a few entries that lived as long as the subscription. A live view open all day grew by
every event it was sent (the soak's API processes: ~2.7 MB a minute at ~18 webhooks a second).
Here each event gets its own memo (and its own @stream bookkeeping), dropped with the event;
memoizing within one event (lists of values) still works.

Each executor is also made known to the operation's own task (`current_executor`): a
subscription resolver served by the shared fan-out (schema/fanout.py) executes its events with it.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from graphql.pyutils import RefMap
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

_current: ContextVar[Any] = ContextVar("pytake_executor", default=None)


def current_executor() -> Any:
    """The executor of the operation running in this task (None outside one)."""
    return _current.get()


class PerEventExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _current.set(self)

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}
        executor._stream_usages = RefMap()
        return executor
