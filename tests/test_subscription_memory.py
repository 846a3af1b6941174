"""A live view open all day must not grow with every event it is sent: graphql-core runs each
event on a copy of the subscription's executor that shared its subfield memo, and every event
left entries in it (schema/execution.py). The soak's API processes grew ~2.7 MB a minute."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema import build_schema
from schema.execution import PerEventExecutionContext

EVENTS = 300


@strawberry.type
class Inner:
    a: int


@strawberry.type
class Event:
    cursor: str
    inner: Inner


@strawberry.type
class Query:
    x: int = 1


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def events(self) -> AsyncGenerator[Event, None]:
        for i in range(EVENTS):
            yield Event(cursor=str(i), inner=Inner(a=i))


async def _memo_after_events(base: type[StrawberryGraphQLCoreExecutionContext]) -> int:
    """Entries left in the subscription executor's subfield memo after EVENTS events."""
    executors: list[StrawberryGraphQLCoreExecutionContext] = []

    class Recording(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)
            executors.append(self)

    schema = strawberry.Schema(query=Query, subscription=Subscription, execution_context_class=Recording)
    received = 0
    async for result in await schema.subscribe("subscription { events { cursor inner { a } } }"):
        assert not result.errors
        assert result.data["events"]["cursor"] == str(received)
        received += 1
    assert received == EVENTS and len(executors) == 1
    return len(executors[0]._relevant_sub_fields)


async def test_the_stock_executor_keeps_something_per_event():
    # The cause, pinned: if graphql-core stops sharing the memo, this fails and the workaround
    # in schema/execution.py can go.
    assert await _memo_after_events(StrawberryGraphQLCoreExecutionContext) >= EVENTS


async def test_a_subscription_does_not_grow_with_its_events():
    assert await _memo_after_events(PerEventExecutionContext) == 0


def test_the_api_schema_runs_with_it():
    # The read path planner's context extends it; subscriptions run the per-event memo either way.
    assert issubclass(build_schema().execution_context_class, PerEventExecutionContext)
