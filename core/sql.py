"""Raw SQL helpers over Tortoise's connection (hot paths and statements the ORM cannot express)."""

from __future__ import annotations

from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

__all__ = ["db", "fetch", "fetchrow", "in_transaction"]


def db() -> BaseDBAsyncClient:
    return get_connection("default")


async def fetch(sql: str, *args: Any, conn: BaseDBAsyncClient | None = None) -> list[dict[str, Any]]:
    return await (conn or db()).execute_query_dict(sql, list(args))


async def fetchrow(sql: str, *args: Any, conn: BaseDBAsyncClient | None = None) -> dict[str, Any] | None:
    rows = await fetch(sql, *args, conn=conn)
    return rows[0] if rows else None
