"""A conversation's activity log: who changed what, when (status, labels, assignment, notes…).

Written in the change's own transaction by every rule that changes a conversation, and published
live as `ACTIVITY_ADDED` on the conversation's stream after commit.
"""

from __future__ import annotations

from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient

from core.auth import Actor
from core.events import conversation_stream, emit
from core.sql import fetch
from resolvers.auth import require_user

ACTIVITY_COLUMNS = "id, conversation_id, actor_id, type, data, created_at"


def activity_view(row: dict[str, Any]) -> dict[str, Any]:
    view = dict(row)
    if isinstance(view["data"], str):
        view["data"] = orjson.loads(view["data"])
    return view


async def record_activity(
    conn: BaseDBAsyncClient, conversation_id: int, actor_id: int | None, type_: str, data: dict[str, Any]
) -> dict[str, Any]:
    rows = await conn.execute_query_dict(
        "INSERT INTO conversation_activities (conversation_id, actor_id, type, data, created_at) "
        f"VALUES ($1, $2, $3, $4::jsonb, now()) RETURNING {ACTIVITY_COLUMNS}",
        [conversation_id, actor_id, type_, orjson.dumps(data).decode()],
    )
    activity = activity_view(dict(rows[0]))
    await emit(conn, conversation_stream(conversation_id), "ACTIVITY_ADDED", {"activity": activity})
    return activity


async def list_activities(
    actor: Actor | None, conversation_id: int, limit: int = 200
) -> list[dict[str, Any]]:
    require_user(actor)
    rows = await fetch(
        f"SELECT {ACTIVITY_COLUMNS} FROM conversation_activities WHERE conversation_id = $1 ORDER BY id LIMIT $2",
        conversation_id,
        limit,
    )
    return [activity_view(r) for r in rows]
