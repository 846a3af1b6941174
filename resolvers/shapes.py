"""The shapes of rows as the API sees them: plain dicts that GraphQL types are built from and
that events carry.

One shape for both, so a message in a query result and in a live event are the same thing.
Views keep datetimes as datetimes; events serialise them to ISO strings (orjson) and
`schema/` reads either.
"""

from __future__ import annotations

from typing import Any

import orjson

MESSAGE_COLUMNS = (
    "id, conversation_id, channel_id, identity_id, platform, direction, kind, text, status, platform_message_id, client_message_id, "
    "sender_id, reply_to_platform_id, attachments, metadata, error_code, error_reason, created_at, sent_at, "
    "delivered_at, read_at, edited_at, deleted_at"
)

CONVERSATION_COLUMNS = (
    "id, channel_id, customer_id, identity_id, platform, status, assignee_id, last_message_id, last_message_at, "
    "unread_count, snoozed_until, priority, labels, escalation_level, team_id, queued_at, language, created_at, updated_at"
)


def conversation_columns(alias: str) -> str:
    """CONVERSATION_COLUMNS qualified by a table alias, for joins and UPDATE … FROM."""
    return ", ".join(f"{alias}.{column.strip()}" for column in CONVERSATION_COLUMNS.split(","))


def message_view(row: Any) -> dict[str, Any]:
    """From a `messages` row (asyncpg Record, dict or model)."""
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    view = {key.strip(): get(key.strip()) for key in MESSAGE_COLUMNS.split(",")}
    for key in ("attachments", "metadata"):
        if isinstance(view[key], str):
            view[key] = orjson.loads(view[key])
    for key in ("direction", "kind", "status", "platform"):
        view[key] = str(view[key].value if hasattr(view[key], "value") else view[key])
    return view


def conversation_view(row: Any) -> dict[str, Any]:
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    view = {key.strip(): get(key.strip()) for key in CONVERSATION_COLUMNS.split(",")}
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
    }


def _has(row: Any, key: str) -> bool:
    return key in row if isinstance(row, dict) else hasattr(row, key)


def _str(value: Any) -> str | None:
    return None if value is None else str(value.value if hasattr(value, "value") else value)
