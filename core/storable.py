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
import json
from collections.abc import Mapping
from enum import Enum
from typing import Any

REPLACEMENT = "\ufffd"


def storable_text(value: str) -> str:
    """`value` by the rule above; the same string object when there is nothing to change."""
    if "\x00" in value:
        value = value.replace("\x00", "")
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
    numbers, dates and None are returned as they are."""
    if isinstance(value, Enum):  # str-valued enums are names, not text from outside
        return value
    if isinstance(value, str):
        return storable_text(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: storable(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
        return dataclasses.replace(value, **changes)
    if isinstance(value, Mapping):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(storable(v) for v in value)
    if isinstance(value, list):
        return [storable(v) for v in value]
    return value


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
