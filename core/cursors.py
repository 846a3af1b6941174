"""Waiting for the cursor row of a job that reads the event log one worker at a time (the metrics
roll-up job, the notifier), for a run woken by new events (core/wake.py).

Such a job takes its cursor with `FOR UPDATE SKIP LOCKED` and returns when another worker holds
it. A woken run must not simply do that: the holder may have read its batch before the new events
committed, and would leave them for the next timer. But every process wakes the jobs, so many runs
may arrive while one holds the cursor. `wait_turn` lets one of them wait: in a transaction of its
own it takes a transaction-scoped advisory lock (the "waiter" slot) and waits on the row lock (at
most WAIT_SECONDS), then lets both go, and the run goes on to take the cursor as usual (or finds a
newer run took it, which then reads these events itself). The other woken runs find the slot taken
and return at once: the waiter reads everything committed before it stops waiting, theirs
included. Nothing here is session state: the lock and the timeout end with the transaction, so a
transaction-mode pooler is fine.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from core.sql import in_transaction

WAIT_SECONDS = 5.0


def _timed_out(exc: BaseException) -> bool:
    # Tortoise re-raises asyncpg's errors as its own; the original is the cause.
    return isinstance(exc, asyncpg.exceptions.LockNotAvailableError) or isinstance(
        exc.__cause__, asyncpg.exceptions.LockNotAvailableError
    )


async def wait_turn(select_for_update: str, args: list[Any], name: str) -> bool:
    """Wait until the cursor row(s) of `select_for_update` (a `SELECT … FOR UPDATE`) are free.
    False: another woken run of the job is waiting already (this one need not run)."""
    try:
        async with in_transaction() as conn:
            slot = await conn.execute_query_dict(
                "SELECT pg_try_advisory_xact_lock(hashtext($1)) AS ok", [f"pytake cursor waiter {name}"]
            )
            if not slot[0]["ok"]:
                return False
            await conn.execute_query(f"SET LOCAL lock_timeout = '{int(WAIT_SECONDS * 1000)}ms'")
            await conn.execute_query_dict(select_for_update, args)
    except Exception as exc:
        if not _timed_out(exc):
            raise
    return True  # free now (or still held after WAIT_SECONDS: the caller skips as usual)
