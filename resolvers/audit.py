"""The audit log: every admin action, written in the action's own transaction."""

from __future__ import annotations

from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient

from core.auth import Actor


async def record(
    conn: BaseDBAsyncClient,
    actor: Actor | None,
    action: str,
    target_type: str,
    target_id: object = None,
    details: dict[str, Any] | None = None,
    ip: str | None = None,
) -> None:
    await conn.execute_query(
        "INSERT INTO audit_log (actor_id, action, target_type, target_id, details, ip, created_at, api_key_id) "
        "VALUES ($1, $2, $3, $4, $5::jsonb, $6, now(), $7)",
        [
            actor.user_id if actor else None,
            action,
            target_type,
            None if target_id is None else str(target_id),
            orjson.dumps(details or {}).decode(),
            ip,
            actor.api_key_id if actor else None,  # an action by an API key is audited as that key
        ],
    )
