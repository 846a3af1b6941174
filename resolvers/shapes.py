"""The shapes of rows as the API sees them: plain dicts that GraphQL types are built from and
that events carry.

One shape for both, so a message in a query result and in a live event are the same thing. The
message and conversation shapes are defined once, in migrations/functions/20_shapes.sql, which
the database's own functions serialise with (the events ingest writes); the column lists here are
read from that file. Views keep datetimes as datetimes; events carry ISO strings and `schema/`
reads either.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from core.crypto import map_bodies, open_body
from core.db import FUNCTIONS_DIR

SHAPES_SQL = FUNCTIONS_DIR / "20_shapes.sql"


def shape_columns(function: str) -> tuple[str, ...]:
    """The keys the SQL function `function` builds: its `'key', row.key` pairs, in order."""
    sql = SHAPES_SQL.read_text(encoding="utf-8")
    body = re.search(rf"FUNCTION {function}\(.*?\$fn\$(.*?)\$fn\$", sql, re.S)
    if body is None:
        raise RuntimeError(f"{SHAPES_SQL} defines no {function}")
    keys = re.findall(r"'(\w+)'\s*,", body.group(1))
    pairs = re.findall(r"'(\w+)'\s*,\s*\w+\.(\w+)", body.group(1))
    if not pairs or len(pairs) != len(keys) or any(key != column for key, column in pairs):
        raise RuntimeError(f"{function} in {SHAPES_SQL} must map each key to the column of that name")
    return tuple(key for key, _ in pairs)


MESSAGE_KEYS = shape_columns("pytake_message_json")
CONVERSATION_KEYS = shape_columns("pytake_conversation_json")
MESSAGE_COLUMNS = ", ".join(MESSAGE_KEYS)
CONVERSATION_COLUMNS = ", ".join(CONVERSATION_KEYS)


def conversation_columns(alias: str) -> str:
    """CONVERSATION_COLUMNS qualified by a table alias, for joins and UPDATE … FROM."""
    return ", ".join(f"{alias}.{column}" for column in CONVERSATION_KEYS)


def message_view(row: Any) -> dict[str, Any]:
    """From a `messages` row (asyncpg Record, dict or model)."""
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    view = {key: get(key) for key in MESSAGE_KEYS}  # (keys split once: a view per row adds up)
    for key in ("attachments", "metadata"):
        if isinstance(view[key], str):
            view[key] = orjson.loads(view[key])
    for key in ("direction", "kind", "status", "platform"):
        view[key] = str(view[key].value if hasattr(view[key], "value") else view[key])
    return open_message(view)


def open_message(view: dict[str, Any]) -> dict[str, Any]:
    """A message's shape with its body (and the earlier bodies of an edited one) in plaintext,
    whether they are stored sealed or not (core/crypto.py): every reader of a row goes through here."""
    return map_bodies(view, open_body)


def conversation_view(row: Any) -> dict[str, Any]:
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    view = {key: get(key) for key in CONVERSATION_KEYS}
    for key in ("platform", "status", "priority"):
        view[key] = str(view[key].value if hasattr(view[key], "value") else view[key])
    view["labels"] = list(view["labels"] or ())
    return view


def user_view(row: Any) -> dict[str, Any]:
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    role = get("role")
    return {
        "id": get("id"),
        "email": get("email"),
        "name": get("name"),
        "role": str(role.value if hasattr(role, "value") else role),
        "is_active": get("is_active"),
        "presence": _str(get("presence")) if _has(row, "presence") else None,
        "capacity": get("capacity") if _has(row, "capacity") else None,
        "skills": list(get("skills") or ()) if _has(row, "skills") else None,
        "sees_all_conversations": get("sees_all_conversations")
        if _has(row, "sees_all_conversations")
        else None,
    }


def _has(row: Any, key: str) -> bool:
    return key in row if isinstance(row, dict) else hasattr(row, key)


def _str(value: Any) -> str | None:
    return None if value is None else str(value.value if hasattr(value, "value") else value)
