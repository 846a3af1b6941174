"""Presence from open inboxes: an agent with an `inboxEvents` subscription counts as connected.

One heartbeat loop per process beats for every user with an inbox open in it, in one statement
(`resolvers.assignment.seen_many`), however many subscriptions (tabs, devices) each has: a
thousand live inboxes are one UPDATE every HEARTBEAT seconds, not a thousand queued on the
database pool that ingest and the live fan-out share. A user's first inbox in the process beats at
once (offline → online may let them take queued conversations); silence makes them offline
(jobs/assignment.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator

from core.outage import unavailable
from resolvers.assignment import request_drain, seen_many

log = logging.getLogger(__name__)

HEARTBEAT = 30.0  # well inside jobs/assignment.PRESENCE_SILENCE
DRAIN_COALESCE = 0.1

_open: Counter[int] = Counter()  # user id → inboxes open in this process
_loop_task: asyncio.Task[None] | None = None
_drain_soon: asyncio.TimerHandle | None = None
_first_beats: set[asyncio.Task[None]] = set()


@contextlib.asynccontextmanager
async def inbox_open(user_id: int) -> AsyncIterator[None]:
    """While this is entered the user counts as connected."""
    _open[user_id] += 1
    if _open[user_id] == 1:  # their first inbox here: beat now, without holding the subscription up
        task = asyncio.create_task(_beat([user_id], first=True))
        _first_beats.add(task)
        task.add_done_callback(_first_beats.discard)
    _ensure_loop()
    try:
        yield
    finally:
        _open[user_id] -= 1
        if _open[user_id] <= 0:
            del _open[user_id]


def open_users() -> list[int]:
    return sorted(_open)


def _ensure_loop() -> None:
    global _loop_task
    if _loop_task is None or _loop_task.done():
        _loop_task = asyncio.create_task(_beat_forever())


async def _beat_forever() -> None:
    global _loop_task
    try:
        while _open:
            await asyncio.sleep(HEARTBEAT)
            if _open:
                await _beat(open_users(), first=False)
    finally:
        _loop_task = None


async def _beat(user_ids: list[int], *, first: bool) -> None:
    try:
        came_online = await seen_many(user_ids)
        if came_online or first:
            _request_drain_soon()
    except Exception as exc:
        # An outage is one line per beat, not a traceback per user every 30 s.
        down = unavailable(exc)
        log.warning("presence heartbeat failed", exc_info=down is None, extra={"unavailable": down})


def _request_drain_soon() -> None:
    """request_drain() within DRAIN_COALESCE seconds, once for every inbox opened meanwhile (a
    thousand agents reconnecting at once is one enqueue, not a thousand on the event loop)."""
    global _drain_soon
    if _drain_soon is None:

        def drain() -> None:
            global _drain_soon
            _drain_soon = None
            try:
                request_drain()
            except Exception:
                log.warning("could not request an assignment drain", exc_info=True)

        _drain_soon = asyncio.get_running_loop().call_later(DRAIN_COALESCE, drain)
