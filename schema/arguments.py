"""What no argument may carry, decided once for every field that takes arguments: text with a NUL
or a lone UTF-16 surrogate (PostgreSQL refuses the first, UTF-8 cannot encode the second, so
either would fail deep in a resolver as INTERNAL), a DateTime that overflows when converted to UTC,
a number that is not finite (JSON has no NaN or Infinity, and jsonb refuses them). Each is
BAD_USER_INPUT naming the argument's path, e.g. `input.attachments[0].filename`.

It walks the arguments after strawberry has built them, so variables and literals, nested input
objects, lists and JSON scalars (keys too) are all covered, and it runs after the field's Access:
who may ask is decided first."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.types.base import StrawberryContainer, has_object_definition
from strawberry.types.union import StrawberryUnion
from strawberry.utils.str_converters import to_camel_case

from resolvers.errors import BadInput


def _graphql_name(field: Any) -> str:
    return field.graphql_name or to_camel_case(field.python_name)


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL character (U+0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"contains a lone UTF-16 surrogate (U+{ord(text[exc.start]):04X}), which is not a character"
    return None


def _problems(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path, problem) for each unstorable part of an argument's value."""
    if isinstance(value, str):
        problem = _text_problem(value)
        if problem:
            yield path, problem
    elif isinstance(value, float):
        if not math.isfinite(value):
            yield path, "is not a finite number"
    elif isinstance(value, datetime):
        try:
            value.astimezone(UTC)
        except (OverflowError, ValueError):
            yield path, "is out of range once converted to UTC"
    elif isinstance(value, dict):  # a JSON scalar
        for key, item in value.items():
            yield from _problems(key, f"{path} (a key)")
            yield from _problems(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _problems(item, f"{path}[{index}]")
    elif has_object_definition(value):  # an input object
        for field in value.__strawberry_definition__.fields:
            yield from _problems(getattr(value, field.python_name, None), f"{path}.{_graphql_name(field)}")


class CheckedArguments(FieldExtension):
    def apply(self, field: Any) -> None:
        self.names = {a.python_name: _graphql_name(a) for a in field.arguments}

    def _check(self, kwargs: dict[str, Any]) -> None:
        for name, value in kwargs.items():
            for path, problem in _problems(value, self.names.get(name, name)):
                # The path may hold a JSON key that is itself the problem: escape it, or the error
                # could not be encoded into the response either.
                path = path.encode("utf-8", "backslashreplace").decode("utf-8")
                raise BadInput(f"{path} {problem}", field=path)

    def resolve(self, next_: Callable[..., Any], source: Any, info: strawberry.Info, **kwargs: Any) -> Any:
        self._check(kwargs)
        return next_(source, info, **kwargs)

    async def resolve_async(
        self, next_: Callable[..., Any], source: Any, info: strawberry.Info, **kwargs: Any
    ) -> Any:
        self._check(kwargs)
        result = next_(source, info, **kwargs)
        return result if inspect.isasyncgen(result) else await result


def _named_types(type_: Any) -> Iterator[Any]:
    if isinstance(type_, StrawberryContainer):
        yield from _named_types(type_.of_type)
    elif isinstance(type_, StrawberryUnion):
        for member in type_.types:
            yield from _named_types(member)
    elif has_object_definition(type_):
        yield type_


def check_arguments_everywhere(types: Iterable[Any]) -> None:
    """Give every field that takes arguments, on these types and every type they reach, the check
    (first in its extensions, so that it runs last of them: after Access)."""
    seen: set[Any] = set()
    pending = list(types)
    while pending:
        type_ = pending.pop()
        if type_ in seen:
            continue
        seen.add(type_)
        for field in type_.__strawberry_definition__.fields:
            if field.arguments and not any(isinstance(e, CheckedArguments) for e in field.extensions):
                field.extensions.insert(0, CheckedArguments())
            pending.extend(_named_types(field.type))
