"""Running a plan: level by level over every object at one place in the document at once.

At each level the plan's fields are read for all the level's objects together: attributes
directly, resolvers called once per object with their arguments converted once, and whatever
they await (DataLoader loads, the root field's SQL) awaited together, so loads batch as they do
under the general executor and the number of statements does not grow with the page. Values are
completed as graphql-core completes them (the schema's own scalar and enum coercion, the same
nulls); the objects a level returns become the next level. Root fields pass their Access gate
and the argument checks first, the very ones the general executor runs.

Any error on the way (a refused caller, a malformed argument, a missing row where the schema
promises one, anything unexpected) is not answered here: `Fallback` hands the request to the
general executor, which answers it with its own errors and `extensions.code`, exactly as without
a planner. Only reads run here, so running them again there is harmless.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import Counter
from typing import Any

from graphql import Undefined
from graphql.execution.values import get_argument_values
from strawberry.schema.schema_converter import get_arguments

from schema.planner.compile import Out, PlannedField, Selection

# How requests went, for tests and for looking at a live process: "planned", "sql" (a root field
# answered by its own statement), or "fallback: <why>".
STATS: Counter[str] = Counter()


class Fallback(Exception):
    """The planner does not answer this request; the general executor does."""


class _Info:
    """What the schema's resolvers read from `info` (the context, and the gate's field and
    operation). A resolver reading anything else fails here and the request falls back."""

    __slots__ = ("context", "field_name", "operation", "path")

    def __init__(self, context: Any, field_name: str, typename: str, operation: Any) -> None:
        self.context = context
        self.field_name = field_name
        self.path = _Path(typename)
        self.operation = operation


class _Path:
    __slots__ = ("typename",)

    def __init__(self, typename: str) -> None:
        self.typename = typename


async def run(root: Selection, executor: Any) -> dict[str, Any]:
    strawberry_schema = executor.schema._strawberry_schema
    state = _Run(executor, strawberry_schema.config, strawberry_schema.schema_converter.scalar_registry)
    (data,) = await state.level([executor.root_value], root)
    return data


class _Run:
    def __init__(self, executor: Any, config: Any, scalar_registry: Any) -> None:
        self.executor = executor
        self.context = executor.context_value
        self.operation = executor.operation
        self.config = config
        self.scalar_registry = scalar_registry

    def _kwargs(self, f: PlannedField, info: _Info) -> dict[str, Any]:
        raw = (
            get_argument_values(f.gfield, f.node, self.executor.variable_values) if f.sfield.arguments else {}
        )
        _, kwargs = get_arguments(
            field=f.sfield,
            source=None,
            info=info,  # type: ignore[arg-type]
            kwargs=raw,
            config=self.config,
            scalar_registry=self.scalar_registry,
        )
        return kwargs

    async def _gated(self, f: PlannedField, info: _Info, source: Any, kwargs: dict[str, Any]) -> Any:
        """A root field as the general executor runs it: Access, then the argument checks."""
        access = f.access
        assert access is not None
        await access.admit_async(info)  # type: ignore[arg-type]
        self._check(f, kwargs)
        if f.direct is not None:
            answer = await f.direct.answer(info, kwargs)
            STATS["sql"] += 1
            return answer
        return await f.sfield.base_resolver(*((source,) if f.takes_self else ()), **kwargs)

    @staticmethod
    def _check(f: PlannedField, kwargs: dict[str, Any]) -> None:
        if f.checked:
            plain = {k: v for k, v in kwargs.items() if k != "info"}
            for check in f.checked:
                check._check(plain)

    def _read(
        self,
        objects: list[Any],
        selection: Selection,
        columns: list[list[Any]],
        pending: list[tuple[int, int, Any]],
    ) -> None:
        """Each field's value for every object; what must be awaited goes to `pending`."""
        for j, f in enumerate(selection.fields):
            if f.typename is not None:
                columns.append([f.typename] * len(objects))
                continue
            if f.attr is not None:
                attr = f.attr
                columns.append([getattr(o, attr) for o in objects])
                continue
            info = _Info(self.context, f.name, selection.type_name, self.operation)
            kwargs = self._kwargs(f, info)
            if f.access is not None:
                values = [self._gated(f, info, o, kwargs) for o in objects]
            else:
                self._check(f, kwargs)
                resolver = f.sfield.base_resolver
                values = [resolver(o, **kwargs) if f.takes_self else resolver(**kwargs) for o in objects]
            for i, value in enumerate(values):
                if inspect.isawaitable(value):
                    pending.append((j, i, value))
            columns.append(values)

    async def level(self, objects: list[Any], selection: Selection) -> list[dict[str, Any]]:
        fields = selection.fields
        if not objects:
            return []
        columns: list[list[Any]] = []
        pending: list[tuple[int, int, Any]] = []
        try:
            self._read(objects, selection, columns, pending)
        except BaseException:
            for _, _, awaitable in pending:  # started, never to be awaited: closed, not left warning
                if inspect.iscoroutine(awaitable):
                    awaitable.close()
            raise
        if pending:
            # One awaitable (a root field, a single conversation's messages) runs in this task, so
            # what it remembers for the request (the caller's scope) the levels below see too.
            results = await _together([p[2] for p in pending])
            for (j, i, _), result in zip(pending, results, strict=True):
                if isinstance(result, BaseException):
                    raise Fallback(f"{fields[j].name}: {type(result).__name__}") from result
                columns[j][i] = result

        # Leaves complete here; objects become the next level, one per object field, all at once.
        nested: list[tuple[int, Selection, list[Any]]] = []
        for j, f in enumerate(fields):
            if f.typename is not None or f.direct is not None:
                continue
            out = f.out
            assert out is not None
            inner = _inner(out)
            if inner.selection is None:
                columns[j] = [_leaf(v, out) for v in columns[j]]
            else:
                children: list[Any] = []
                for v in columns[j]:
                    _flatten(v, out, children)
                nested.append((j, inner.selection, children))
        if nested:
            done = await _together([self.level(children, sel) for _, sel, children in nested])
            for (j, _, _), result in zip(nested, done, strict=True):
                if isinstance(result, BaseException):
                    raise result
                it = iter(result)
                out = fields[j].out
                columns[j] = [_build(v, out, it) for v in columns[j]]  # type: ignore[arg-type]
        keys = [f.key for f in fields]
        return [dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True)]


async def _together(awaitables: list[Any]) -> list[Any]:
    """Each one's result or exception, all awaited (concurrently when there are several)."""
    if len(awaitables) == 1:
        try:
            return [await awaitables[0]]
        except Exception as exc:
            return [exc]
    return await asyncio.gather(*awaitables, return_exceptions=True)


def _inner(out: Out) -> Out:
    while out.list_of is not None:
        out = out.list_of
    return out


def _leaf(value: Any, out: Out) -> Any:
    if value is None:
        if out.nonnull:
            raise Fallback("null in a non-null field")
        return None
    if out.list_of is not None:
        if not isinstance(value, (list, tuple)):
            raise Fallback("not a list")
        return [_leaf(v, out.list_of) for v in value]
    coerced = out.serialize(value)
    if coerced is None or coerced is Undefined:
        raise Fallback("leaf coerced to null")
    return coerced


def _flatten(value: Any, out: Out, into: list[Any]) -> None:
    if value is None:
        if out.nonnull:
            raise Fallback("null in a non-null field")
        return
    if out.list_of is not None:
        if not isinstance(value, (list, tuple)):
            raise Fallback("not a list")
        for v in value:
            _flatten(v, out.list_of, into)
        return
    into.append(value)


def _build(value: Any, out: Out, it: Any) -> Any:
    if value is None:
        return None
    if out.list_of is not None:
        return [_build(v, out.list_of, it) for v in value]
    return next(it)
