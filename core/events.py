"""Events: written with the change, sequenced after commit, published, replayable.

The path of every real-time update (Zulip's model, see ../shared/ARCHITECTURE.md):
1. `emit()` inserts into `event_outbox` in the same transaction as the change.
2. After commit, the sequencer moves outbox rows to `events`, giving each a global `seq` under a
   PostgreSQL advisory lock. Because sequencing happens after commit and one transaction at a time,
   seq order is commit order: no event can later appear below a cursor a client already holds.
   Each event also records `prev_seq`, the previous event of its stream.
3. The events are published on the bus (channel = stream).
4. `follow()` subscribes first, replays from the database after the client's cursor, then goes
   live; while the database is unreachable its reads wait and retry (the subscription stays open). A live event whose `prev_seq` is not the subscriber's cursor means something was missed
   (another process published out of order, Redis reconnected, a queue overflowed): it re-reads
   the gap from the database. So the bus may lose messages without a client ever missing one.
Any process can sequence (API, worker); a crash between commit and sequencing is picked up by the
periodic sweep of every running process. The one hot writer, ingest in groups, skips the outbox:
its statement numbers its own events as its last step, holding the same lock until its commit
(`pytake_log_events`, migrations/functions/40_sequence_events.sql), and publishes them after
(`publish_logged`), so commit order is still seq order and each event is written once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient

from core import timeline, wake
from core.bus import RESYNC, EventBus
from core.crypto import open_payload, seal_payload
from core.outage import Throttled, patiently, unavailable
from core.sql import fetch, fetchrow

log = logging.getLogger(__name__)
_flush_outage = Throttled(log, every=30.0)

INBOX = "inbox"
_BATCH = 1000
SWEEP_INTERVAL = 1.0
REORDER_WAIT = 0.2  # seconds a subscriber waits for an out-of-order predecessor before reading the log


def conversation_stream(conversation_id: int) -> str:
    return f"conversation:{conversation_id}"


@dataclass(frozen=True)
class EventRecord:
    seq: int
    prev_seq: int | None
    stream: str
    type: str
    payload: dict[str, Any]


class CursorExpired(Exception):
    """The client's cursor is older than the retained log: it must reload instead of replaying."""


def parse_cursor(cursor: str | None) -> int | None:
    if cursor is None or cursor == "":
        return None
    if not cursor.isdigit():
        raise ValueError("cursor must be a value previously returned in an event's `cursor` field")
    return int(cursor)


async def emit(conn: BaseDBAsyncClient, stream: str, type_: str, payload: dict[str, Any]) -> None:
    """Record an event inside the caller's transaction (`conn`)."""
    await conn.execute_query(
        "INSERT INTO event_outbox (stream, type, payload, created_at) VALUES ($1, $2, $3::jsonb, now())",
        [stream, type_, orjson.dumps(seal_payload(payload)).decode()],
    )


def load_payload(payload_json: str | bytes) -> dict[str, Any]:
    """An event's payload as stored in the log, its message bodies opened: the one way to read one
    (the log holds them sealed when message bodies are encrypted at rest, core/crypto.py)."""
    return open_payload(orjson.loads(payload_json))


def _wire(seq: int, prev: int | None, stream: str, type_: str, payload_json: str) -> str:
    prev_txt = "null" if prev is None else str(prev)
    return f'{{"seq":{seq},"prev":{prev_txt},"stream":{orjson.dumps(stream).decode()},"type":"{type_}","payload":{payload_json}}}'


def _seq_of(message: str) -> int:
    """The seq at the head of a `_wire` message, without decoding the rest (-1: not found)."""
    end = message.find(",", 7, 40)
    if not message.startswith('{"seq":') or end < 0 or not message[7:end].isdigit():
        return -1
    return int(message[7:end])


def _from_wire(message: str) -> EventRecord:
    data = orjson.loads(message)
    return EventRecord(data["seq"], data["prev"], data["stream"], data["type"], open_payload(data["payload"]))


_process_log: EventLog | None = None

# An event as the log numbered it: seq, prev_seq, stream, type, payload (JSON text).
Sequenced = tuple[int, int | None, str, str, str]


def committed() -> None:
    """Tell this process's event log that a transaction with events committed (publish now rather
    than at the next sweep). Safe to call when no log runs, e.g. in a bare script."""
    if _process_log is not None:
        _process_log.notify()


def logs_inline() -> bool:
    """May a writer number its events itself, before its commit (`pytake_log_events`), and
    hand them to `publish_logged`? Only where this process's event log runs to publish them;
    elsewhere (a bare script) they go through the outbox, which any running process sequences."""
    return _process_log is not None


async def publish_logged(batch: list[Sequenced]) -> None:
    """Publish events a writer logged itself in the transaction that just committed."""
    timeline.committed()
    if _process_log is not None:
        await _process_log.publish(batch)


class EventLog:
    def __init__(self, bus: EventBus, namespace: str = "pytake"):
        self.bus = bus
        self._prefix = f"{namespace}:"
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- writing side -------------------------------------------------------------------------
    def notify(self) -> None:
        """Called after a commit that emitted events; the flusher sequences and publishes soon."""
        timeline.committed()
        self._wake.set()

    async def start(self) -> None:
        global _process_log
        self._task = asyncio.create_task(self._flusher(), name="event-flusher")
        _process_log = self

    async def stop(self) -> None:
        global _process_log
        if _process_log is self:
            _process_log = None
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):
            await self.flush()  # hand over what this process committed

    async def _flusher(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), SWEEP_INTERVAL)
            self._wake.clear()
            try:
                await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                server = unavailable(exc)
                if server is None:
                    log.exception("event flush failed; retrying on the next sweep")
                else:  # an outage fails every sweep: one line per 30 s, no traceback
                    _flush_outage.warning(
                        f"event flush waiting for {server}; retrying on the next sweep",
                        error=repr(exc),
                    )

    async def flush(self) -> int:
        """Sequence and publish every committed outbox row. Returns how many were published."""
        total = 0
        while True:
            batch = await self._sequence_batch()
            if not batch:
                return total
            await self.publish(batch)
            total += len(batch)
            if len(batch) < _BATCH:
                return total

    async def publish(self, batch: list[Sequenced]) -> None:
        """Publish events already in the log (sequenced and committed), in seq order."""
        if timeline.PATH:
            timeline.sequenced([seq for seq, *_ in batch], time.time())
        wires = [
            (self._prefix + stream, _wire(seq, prev, stream, type_, payload))
            for seq, prev, stream, type_, payload in batch
        ]
        # This process's followers (the live fan-out's among them) take them now; the copies
        # coming back from Redis are dropped as already seen. Other processes get them there.
        self.bus.offer_local(wires)
        try:
            await self.bus.publish_many(wires)
        except Exception:
            # Stored and sequenced already: subscribers catch up from the database.
            log.warning("publish failed", extra={"events": len(batch)}, exc_info=True)
        if timeline.PATH:
            published = time.time()
            for seq, *_ in batch:
                timeline.mark(seq, "published", published)
        wake.events_published({stream for _, _, stream, _, _ in batch})  # core/wake.py

    async def _sequence_batch(self) -> list[Sequenced]:
        """One round trip: `pytake_sequence_events` (migrations/functions/) takes the advisory
        lock, moves up to _BATCH outbox rows to `events` in id order, and returns them."""
        rows = await fetch("SELECT * FROM pytake_sequence_events($1)", _BATCH)
        return [(r["out_seq"], r["out_prev"], r["out_stream"], r["out_type"], r["out_payload"]) for r in rows]

    # -- reading side -------------------------------------------------------------------------
    @staticmethod
    async def head(stream: str) -> int:
        """The seq of the stream's newest event (0 before its first): a cursor for "from now on"."""
        row = await fetchrow("SELECT last_seq FROM stream_heads WHERE stream = $1", stream)
        return row["last_seq"] if row else 0

    async def replay(self, stream: str, after: int, limit: int = 500) -> list[EventRecord]:
        rows = await fetch(
            "SELECT seq, prev_seq, stream, type, payload::text AS payload FROM events "
            "WHERE stream = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            stream,
            after,
            limit,
        )
        return [
            EventRecord(r["seq"], r["prev_seq"], r["stream"], r["type"], load_payload(r["payload"]))
            for r in rows
        ]

    async def check_retained(self, stream: str, after: int) -> None:
        """A cursor older than the retained log cannot be replayed exactly: say so (the client
        reloads) rather than replay with a silent hole."""
        # One statement, so one snapshot: read apart, an event committed between the two reads
        # made an up-to-date cursor look expired (a live view resubscribing under load).
        row = await fetchrow(
            "SELECT EXISTS (SELECT 1 FROM events WHERE stream = $1 AND seq > $2) AS newer, "
            "(SELECT prev_seq FROM events WHERE stream = $1 AND seq > $2 ORDER BY seq LIMIT 1) AS prev_seq, "
            "COALESCE((SELECT last_seq FROM stream_heads WHERE stream = $1), 0) AS head",
            stream,
            after,
        )
        assert row is not None
        if not row["newer"]:
            if row["head"] > after:  # events happened after the cursor, none is left
                raise CursorExpired(f"events after {after} on this stream are no longer retained")
        elif row["prev_seq"] is not None and row["prev_seq"] > after:
            raise CursorExpired(f"events after {after} on this stream are no longer retained")

    async def follow(self, stream: str, after: int | None) -> AsyncIterator[EventRecord]:
        async with self.bus.subscribe(self._prefix + stream) as live:
            # Every read below waits out a database outage (core/outage.py): the subscriber gets
            # its events late rather than an error that ends its subscription.
            if after is None:
                cursor = await patiently(lambda: self.head(stream), f"head of {stream}")
            else:
                await patiently(lambda: self.check_retained(stream, after), f"cursor on {stream}")
                cursor = after
            async for event in self._catch_up(stream, cursor):
                cursor = event.seq
                yield event
            # Events that arrived before their predecessor, keyed by the seq they follow. Several
            # processes publish, so small reorderings are normal: wait briefly for the missing
            # one on the bus before asking the database.
            early: dict[int, EventRecord] = {}
            loop = asyncio.get_running_loop()
            deadline = 0.0
            messages = aiter(live)
            while True:
                try:
                    timeout = max(0.0, deadline - loop.time()) if early else None
                    message = await asyncio.wait_for(anext(messages), timeout)
                except TimeoutError:
                    message = RESYNC
                except StopAsyncIteration:
                    return
                records: list[EventRecord] = []
                if message == RESYNC:
                    early.clear()
                    records = [e async for e in self._catch_up(stream, cursor)]
                else:
                    if _seq_of(message) <= cursor:
                        continue  # already delivered (from the database, or a copy), not decoded
                    event = _from_wire(message)
                    if event.seq <= cursor:
                        continue  # already delivered (from the database, or a duplicate)
                    if (event.prev_seq or 0) != cursor:
                        if not early:
                            deadline = loop.time() + REORDER_WAIT
                        early[event.prev_seq or 0] = event
                        continue
                    records = [event]
                for record in records:
                    cursor = record.seq
                    yield record
                while cursor in early:  # the gap closed: release what was waiting on it
                    record = early.pop(cursor)
                    cursor = record.seq
                    yield record
                early = {prev: e for prev, e in early.items() if e.seq > cursor}

    async def _catch_up(self, stream: str, cursor: int) -> AsyncIterator[EventRecord]:
        while True:
            batch = await patiently(partial(self.replay, stream, cursor), f"replay of {stream}")
            for record in batch:
                cursor = record.seq
                yield record
            if len(batch) < 500:
                return


async def prune_events(retain_days: float) -> int:
    """Forget events older than the retention window; a client resuming from before it gets
    CURSOR_EXPIRED and reloads. Batched, so one run never holds locks for long."""
    rows = await fetch(
        "WITH gone AS (DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE created_at < "
        "now() - make_interval(secs => $1) ORDER BY seq LIMIT 10000) RETURNING 1) SELECT count(*) AS n FROM gone",
        retain_days * 86400,
    )
    return rows[0]["n"]
