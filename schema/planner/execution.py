"""Where the planner meets execution: the execution context every operation runs with.

graphql-core builds it after strawberry parsed, validated and priced the document (the token,
depth, alias and cost limits all ran) and coerced the variables; `execute_operation` then either
runs the document's plan or, for a document the planner does not cover, or a request it does not
answer (an error of any kind), the general executor. Plans are kept per document (SHA-256 of its
text) and operation name, the documents that cannot be planned too, least recently used first out.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from typing import Any

from graphql import ExecutionResult, OperationType
from starlette.requests import Request

from schema.execution import PerEventExecutionContext
from schema.planner.compile import Plan, Unplannable, compile_plan
from schema.planner.run import STATS, run
from schema.planner.sql_json import answer_in_sql

log = logging.getLogger("pytake.graphql.planner")

# None: the `graphql_planner` setting decides; tests set True or False to compare both paths.
FORCED: bool | None = None


class PlanCache:
    def __init__(self, maxsize: int = 256) -> None:
        self.maxsize = maxsize
        self._plans: OrderedDict[tuple[int, str, str | None], Plan | str] = OrderedDict()

    def plan(self, executor: Any) -> Plan | str:
        """The operation's plan, or why it has none."""
        operation = executor.operation
        source = operation.loc.source.body if operation.loc else None
        if source is None:
            return "no document text"
        key = (
            id(executor.schema),  # a plan holds the schema's own fields (tests build several schemas)
            hashlib.sha256(source.encode()).hexdigest(),
            operation.name.value if operation.name else None,
        )
        found = self._plans.get(key)
        if found is not None:
            self._plans.move_to_end(key)
            return found
        try:
            found = answer_in_sql(compile_plan(executor.schema, operation, executor.fragment_definitions))
        except Unplannable as exc:
            found = str(exc)
        self._plans[key] = found
        while len(self._plans) > self.maxsize:
            self._plans.popitem(last=False)
        return found

    def __len__(self) -> int:
        return len(self._plans)


PLANS = PlanCache()


def _enabled(context: Any) -> bool:
    if FORCED is not None:
        return FORCED
    settings = getattr(context, "settings", None)
    return bool(getattr(settings, "graphql_planner", False))


class PlannedExecutionContext(PerEventExecutionContext):
    def execute_operation(self, serially: bool | None = None) -> Any:
        context = self.context_value
        # HTTP requests only: a query over the WebSocket checks standing its own way (patiently).
        if (
            serially
            or self.operation.operation is not OperationType.QUERY
            or not isinstance(getattr(context, "request", None), Request)
            or not _enabled(context)
        ):
            return super().execute_operation(serially)
        plan = PLANS.plan(self)
        if isinstance(plan, str):
            STATS[f"fallback: {plan}"] += 1
            return super().execute_operation(serially)
        return self._planned(plan, serially)

    async def _planned(self, plan: Plan, serially: bool | None) -> Any:
        try:
            data = await run(plan.root, self)
        except Exception as exc:  # answered by the general executor, with its own errors
            STATS[f"fallback: {type(exc).__name__}"] += 1
            log.debug("planner fell back: %r", exc)
            # Fresh loaders: a load that failed here (say, no connection to be had) is tried
            # again rather than answered from the loaders' cache.
            fresh = getattr(self.context_value, "fresh_loaders", None)
            if fresh is not None:
                fresh()
            result = super().execute_operation(serially)
            return await result if self.is_awaitable(result) else result
        STATS["planned"] += 1
        return ExecutionResult(data, None)
