"""Raw SQL helpers over Tortoise's connection (hot paths and statements the ORM cannot express)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

__all__ = ["db", "fetch", "fetchrow", "in_transaction", "retry_on_deadlock"]


def db() -> BaseDBAsyncClient:
    return get_connection("default")


async def fetch(sql: str, *args: Any, conn: BaseDBAsyncClient | None = None) -> list[dict[str, Any]]:
    return await (conn or db()).execute_query_dict(sql, list(args))


async def fetchrow(sql: str, *args: Any, conn: BaseDBAsyncClient | None = None) -> dict[str, Any] | None:
    rows = await fetch(sql, *args, conn=conn)
    return rows[0] if rows else None


T = TypeVar("T")
_RETRYABLE = (asyncpg.exceptions.DeadlockDetectedError, asyncpg.exceptions.SerializationError)


def _is_retryable(exc: BaseException) -> bool:
    # Tortoise re-raises asyncpg errors as its own; the original is the cause.
    return isinstance(exc, _RETRYABLE) or isinstance(exc.__cause__, _RETRYABLE)


async def retry_on_deadlock(run: Callable[[], Awaitable[T]], attempts: int = 3) -> T:
    """Run a transaction again when PostgreSQL picked it as a deadlock victim: the other side has
    gone through by then, and the transaction rolled back whole, so running it again is safe."""
    for attempt in range(1, attempts + 1):
        try:
            return await run()
        except Exception as exc:
            if attempt == attempts or not _is_retryable(exc):
                raise
            await asyncio.sleep(0.01 * attempt)
    raise AssertionError("unreachable")
