"""The execution context every operation runs with.

graphql-core (3.3) runs each subscription event on a shallow copy of the subscription's executor
(`build_per_event_executor`), so the copies share the subfield memo `_relevant_sub_fields`. That
memo is keyed by the identity of each event's freshly collected field lists (and keeps the lists
alive so the ids stay unique): an event never hits what an earlier one stored, and every event
added a few entries that lived as long as the subscription. A live view open all day grew by
every event it was sent (the soak's API processes: ~2.7 MB a minute at ~18 webhooks a second).
Here each event gets its own memo (and its own @stream bookkeeping), dropped with the event;
memoizing within one event (lists of values) still works.
"""

from __future__ import annotations

from typing import Any

from graphql.pyutils import RefMap
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class PerEventExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}
        executor._stream_usages = RefMap()
        return executor
