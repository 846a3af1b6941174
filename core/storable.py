"""Text PostgreSQL can store and every encoder can write, whatever a platform or visitor sent.

PostgreSQL refuses NUL in `text` and `\\u0000` in `jsonb` (`invalid byte sequence for encoding
"UTF8": 0x00`), and UTF-8 cannot hold a lone UTF-16 surrogate (orjson, asyncpg and every response
encoder raise on one). Refusing such input would lose the customer's message: the platform gets a
5xx, retries, and gives up. So inbound text is made storable instead, by one documented rule:

- NUL is removed. It carries no text of its own; mailers that put it in usually mis-read UTF-16,
  where removing it gives back the words ("H\\x00i\\x00" reads "Hi").
- A surrogate pair held as two code units (a JSON `\\ud83d\\ude00` read by a lenient parser) is
  joined into its character, so an emoji stays an emoji.
- A lone surrogate becomes U+FFFD REPLACEMENT CHARACTER: something was there that no encoding can
  write, and the reader should see that it was.

Every other character, control characters included, is kept as sent.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

REPLACEMENT = "\ufffd"


def storable_text(value: str) -> str:
    """`value` by the rule above; the same string object when there is nothing to change."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    if value.isascii():  # the common case, and no surrogate is ASCII
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # UTF-16 with surrogatepass round-trips the code units; decoding joins the pairs and
        # replaces what is left alone.
        value = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return value


def storable(value: Any) -> Any:
    """`value` with every string in it made storable: through dataclasses (frozen ones are
    rebuilt), mappings (keys too: jsonb keys cannot hold NUL either), lists and tuples. Enums,
    numbers, dates and None are returned as they are. What needs no change is returned as the
    same object, so the usual clean webhook costs a walk and no copies (it runs on every one)."""
    kind = type(value)
    if kind is str:
        return storable_text(value)
    if kind in _ATOMS or isinstance(value, Enum):  # str-valued enums are names, not outside text
        return value
    if kind is dict or isinstance(value, Mapping):
        pairs = [(k, v, storable(k), storable(v)) for k, v in value.items()]
        if all(nk is k and nv is v for k, v, nk, nv in pairs):
            return value
        return {nk: nv for _, _, nk, nv in pairs}
    if kind is tuple or kind is list:
        items = [storable(v) for v in value]
        if all(new is old for new, old in zip(items, value, strict=True)):
            return value
        return tuple(items) if kind is tuple else items
    if hasattr(kind, "__dataclass_fields__"):
        changes = {}
        for name in _init_fields(kind):
            old = getattr(value, name)
            new = storable(old)
            if new is not old:
                changes[name] = new
        return dataclasses.replace(value, **changes) if changes else value
    if isinstance(value, str):  # a str subclass
        return storable_text(value)
    return value


_ATOMS = frozenset({int, float, bool, type(None), datetime, date, Decimal, bytes})


@functools.cache
def _init_fields(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(kind) if f.init)


def loads_lenient(data: bytes | str) -> Any:
    """JSON that orjson refused for its text alone (invalid UTF-8, a `\\ud800` escape), read the
    way it was meant: bytes decoded with U+FFFD for what is not UTF-8, escapes by the stdlib parser,
    strings then made storable. Raises ValueError when it is not JSON at all (RecursionError, which
    the stdlib raises on absurd nesting, included)."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    try:
        return storable(json.loads(text))
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
