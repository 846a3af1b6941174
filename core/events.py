"""Events: written with the change, sequenced after commit, published, replayable.

The path of every real-time update (Zulip's model, see ../shared/ARCHITECTURE.md):
1. `emit()` inserts into `event_outbox` in the same transaction as the change.
2. After commit, the sequencer moves outbox rows to `events`, giving each a global `seq` under a
   PostgreSQL advisory lock. Because sequencing happens after commit and one transaction at a time,
   seq order is commit order: no event can later appear below a cursor a client already holds.
   Each event also records `prev_seq`, the previous event of its stream.
3. The events are published on the bus (channel = stream).
4. `follow()` subscribes first, replays from the database after the client's cursor, then goes
   live. A live event whose `prev_seq` is not the subscriber's cursor means something was missed
   (another process published out of order, Redis reconnected, a queue overflowed): it re-reads
   the gap from the database. So the bus may lose messages without a client ever missing one.
Any process can sequence (API, worker); a crash between commit and sequencing is picked up by the
periodic sweep of every running process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient

from core.bus import RESYNC, EventBus
from core.sql import fetch, fetchrow, in_transaction

log = logging.getLogger(__name__)

INBOX = "inbox"
_SEQUENCER_LOCK = 7_265_020  # pg advisory lock id, arbitrary but fixed
_BATCH = 1000
_GLOBAL_HEAD = "*"
SWEEP_INTERVAL = 1.0


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
        [stream, type_, orjson.dumps(payload).decode()],
    )


def _wire(seq: int, prev: int | None, stream: str, type_: str, payload_json: str) -> str:
    prev_txt = "null" if prev is None else str(prev)
    return f'{{"seq":{seq},"prev":{prev_txt},"stream":{orjson.dumps(stream).decode()},"type":"{type_}","payload":{payload_json}}}'


def _from_wire(message: str) -> EventRecord:
    data = orjson.loads(message)
    return EventRecord(data["seq"], data["prev"], data["stream"], data["type"], data["payload"])


_process_log: EventLog | None = None


def committed() -> None:
    """Tell this process's event log that a transaction with events committed (publish now rather
    than at the next sweep). Safe to call when no log runs, e.g. in a bare script."""
    if _process_log is not None:
        _process_log.notify()


class EventLog:
    def __init__(self, bus: EventBus, namespace: str = "pytake"):
        self.bus = bus
        self._prefix = f"{namespace}:"
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- writing side -------------------------------------------------------------------------
    def notify(self) -> None:
        """Called after a commit that emitted events; the flusher sequences and publishes soon."""
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
            except Exception:
                log.exception("event flush failed; retrying on the next sweep")

    async def flush(self) -> int:
        """Sequence and publish every committed outbox row. Returns how many were published."""
        total = 0
        while True:
            batch = await self._sequence_batch()
            if not batch:
                return total
            for seq, prev, stream, type_, payload_json in batch:
                try:
                    await self.bus.publish(
                        self._prefix + stream, _wire(seq, prev, stream, type_, payload_json)
                    )
                except Exception:
                    # Stored and sequenced already: subscribers catch up from the database.
                    log.warning("publish failed", extra={"seq": seq, "stream": stream}, exc_info=True)
            total += len(batch)
            if len(batch) < _BATCH:
                return total

    async def _sequence_batch(self) -> list[tuple[int, int | None, str, str, str]]:
        async with in_transaction() as conn:
            await conn.execute_query("SELECT pg_advisory_xact_lock($1)", [_SEQUENCER_LOCK])
            rows = await conn.execute_query_dict(
                "DELETE FROM event_outbox WHERE id IN (SELECT id FROM event_outbox ORDER BY id LIMIT $1) "
                "RETURNING id, stream, type, payload::text AS payload, created_at",
                [_BATCH],
            )
            if not rows:
                return []
            rows = sorted(rows, key=lambda r: r["id"])
            streams = sorted({r["stream"] for r in rows} | {_GLOBAL_HEAD})
            heads_rows = await conn.execute_query_dict(
                "SELECT stream, last_seq FROM stream_heads WHERE stream = ANY($1::text[])", [streams]
            )
            heads: dict[str, int] = {h["stream"]: h["last_seq"] for h in heads_rows}
            seq = heads.get(_GLOBAL_HEAD, 0)
            out: list[tuple[int, int | None, str, str, str]] = []
            cols: tuple[list[Any], ...] = ([], [], [], [], [], [])
            for r in rows:
                seq += 1
                prev = heads.get(r["stream"])
                heads[r["stream"]] = seq
                out.append((seq, prev, r["stream"], r["type"], r["payload"]))
                for col, value in zip(
                    cols, (seq, r["stream"], prev, r["type"], r["payload"], r["created_at"]), strict=True
                ):
                    col.append(value)
            heads[_GLOBAL_HEAD] = seq
            await conn.execute_query(
                "INSERT INTO events (seq, stream, prev_seq, type, payload, created_at) SELECT * FROM "
                "unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::jsonb[], $6::timestamptz[])",
                list(cols),
            )
            await conn.execute_query(
                "INSERT INTO stream_heads (stream, last_seq) SELECT * FROM unnest($1::text[], $2::bigint[]) "
                "ON CONFLICT (stream) DO UPDATE SET last_seq = EXCLUDED.last_seq",
                [list(heads), list(heads.values())],
            )
            return out

    # -- reading side -------------------------------------------------------------------------
    async def head(self, stream: str) -> int:
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
            EventRecord(r["seq"], r["prev_seq"], r["stream"], r["type"], orjson.loads(r["payload"]))
            for r in rows
        ]

    async def _check_retained(self, stream: str, after: int) -> None:
        """A cursor older than the oldest retained event of its stream cannot be replayed exactly."""
        row = await fetchrow(
            "SELECT prev_seq FROM events WHERE stream = $1 AND seq > $2 ORDER BY seq LIMIT 1", stream, after
        )
        if row is not None and row["prev_seq"] is not None and row["prev_seq"] > after:
            raise CursorExpired(f"events after {after} on this stream are no longer retained")

    async def follow(self, stream: str, after: int | None) -> AsyncIterator[EventRecord]:
        async with self.bus.subscribe(self._prefix + stream) as live:
            if after is None:
                cursor = await self.head(stream)
            else:
                await self._check_retained(stream, after)
                cursor = after
            async for event in self._catch_up(stream, cursor):
                cursor = event.seq
                yield event
            async for message in live:
                if message == RESYNC:
                    records: list[EventRecord] = [e async for e in self._catch_up(stream, cursor)]
                else:
                    event = _from_wire(message)
                    if event.seq <= cursor:
                        continue  # already replayed from the database
                    if (event.prev_seq or 0) == cursor:
                        records = [event]
                    else:  # a gap: what came before this event is in the database by now
                        records = [e async for e in self._catch_up(stream, cursor)]
                for record in records:
                    cursor = record.seq
                    yield record

    async def _catch_up(self, stream: str, cursor: int) -> AsyncIterator[EventRecord]:
        while True:
            batch = await self.replay(stream, cursor)
            for record in batch:
                cursor = record.seq
                yield record
            if len(batch) < 500:
                return
