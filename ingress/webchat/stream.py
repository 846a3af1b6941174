"""The visitor's live stream (Server-Sent Events) and the cursors that resume it.

Cursors
Each visitor may have a few conversations (a new one starts when the last was closed), each with
its own event stream. A cursor is the position in each: "s" + "conv.seq" joined by "_"
(e.g. "s12.345_19.400"; "s" alone: nothing seen yet). The SSE `id:` of every event is the cursor
after it, so a reconnect with Last-Event-ID resumes exactly; a conversation newer than every one
in the cursor is replayed from its start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson

from core.events import CursorExpired, EventLog, EventRecord, conversation_stream
from ingress.webchat.errors import WebchatError, bad_input
from ingress.webchat.sites import Site, find_site
from ingress.webchat.tokens import Visitor
from resolvers.webchat_visitors import agent_names, identity_of, recent_conversations, visible, visitor_view

log = logging.getLogger("pytake.webchat")

MAX_POLL_EVENTS = 2000
KEEPALIVE = 15.0  # seconds between SSE comments, so proxies keep the connection open
RECHECK = 5.0  # seconds between looks for a conversation the visitor started meanwhile


def encode_cursor(cursors: dict[int, int]) -> str:
    return "s" + "_".join(f"{conv}.{seq}" for conv, seq in sorted(cursors.items()))


def decode_cursor(raw: str | None) -> dict[int, int] | None:
    if raw is None or raw == "":
        return None
    if not raw.startswith("s") or len(raw) > 400:
        raise bad_input("the cursor must be one this API returned")
    cursors: dict[int, int] = {}
    for part in filter(None, raw[1:].split("_")):
        conv, dot, seq = part.partition(".")
        if not dot or not conv.isdigit() or not seq.isdigit():
            raise bad_input("the cursor must be one this API returned")
        cursors[int(conv)] = int(seq)
    return cursors


async def starting_points(
    event_log: EventLog, conversations: list[int], given: dict[int, int] | None
) -> dict[int, int]:
    """Where to read each conversation from: the cursor's position; from the start for a
    conversation newer than every one the cursor knew (it began after the cursor was made); from
    now otherwise. Entries for conversations that are not the visitor's are ignored."""
    newest_known = max(given, default=0) if given is not None else None
    start: dict[int, int] = {}
    for conv in conversations:
        if given is not None and conv in given:
            start[conv] = given[conv]
        elif newest_known is not None and conv > newest_known:
            start[conv] = 0
        else:
            start[conv] = await event_log.head(conversation_stream(conv))
    return start


async def replay(event_log: EventLog, conv: int, after: int) -> AsyncIterator[EventRecord]:
    """A conversation's events after `after`, at most MAX_POLL_EVENTS (for clients that poll)."""
    stream = conversation_stream(conv)
    await event_log.check_retained(stream, after)  # a hole is reported (CursorExpired), never skipped
    for _ in range(MAX_POLL_EVENTS // 500):
        batch = await event_log.replay(stream, after)
        for record in batch:
            after = record.seq
            yield record
        if len(batch) < 500:
            return


def _sse(cursor: str | None, data: dict[str, Any]) -> bytes:
    head = f"id: {cursor}\n".encode() if cursor is not None else b""
    return head + b"data: " + orjson.dumps(data) + b"\n\n"


async def event_stream(
    event_log: EventLog,
    site: Site,
    visitor: Visitor,
    identity_id: int | None,
    cursors: dict[int, int],
    given: dict[int, int] | None,
) -> AsyncIterator[bytes]:
    """One follower task per conversation (core/events.py: replay after the cursor, then live,
    gaps re-read), merged here. Cursors advance only as events are handled here, so the `id:` sent
    always covers exactly what this stream has passed on."""
    queue: asyncio.Queue[tuple[int, EventRecord | BaseException]] = asyncio.Queue(maxsize=200)
    tasks: dict[int, asyncio.Task[None]] = {}
    newest_known = max([*cursors, *(given or {})], default=0)
    names: dict[int, str] = {}

    async def follow(conv: int, after: int) -> None:
        try:
            async for record in event_log.follow(conversation_stream(conv), after):
                await queue.put((conv, record))
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # surfaced to the stream, which ends; the widget reconnects
            await queue.put((conv, exc))

    def start(conv: int, after: int) -> None:
        cursors[conv] = after
        tasks[conv] = asyncio.create_task(follow(conv, after), name=f"webchat-follow-{conv}")

    for conv, after in list(cursors.items()):
        start(conv, after)
    try:
        yield b"retry: 2000\n\n"
        yield _sse(encode_cursor(cursors), {"type": "ready", "conversation_ids": sorted(cursors)})
        loop = asyncio.get_running_loop()
        last_write = next_check = loop.time()
        while True:
            timeout = max(0.0, min(last_write + KEEPALIVE, next_check + RECHECK) - loop.time())
            try:
                conv, item = await asyncio.wait_for(queue.get(), timeout)
            except TimeoutError:
                now = loop.time()
                if now >= next_check + RECHECK:
                    next_check = now
                    try:
                        await find_site(site.creds.config.get("public_key", ""))
                    except WebchatError:
                        return  # the channel was disabled or its key changed: nothing more to say
                    if identity_id is None:
                        identity_id = await identity_of(site.channel_id, visitor.visitor_id)
                    for new in await recent_conversations(identity_id):
                        if new not in tasks:
                            # Started after we began: everything in it is news to this visitor.
                            start(
                                new,
                                0 if new > newest_known else await event_log.head(conversation_stream(new)),
                            )
                            newest_known = max(newest_known, new)
                if loop.time() >= last_write + KEEPALIVE:
                    last_write = loop.time()
                    yield b": keepalive\n\n"
                continue
            if isinstance(item, BaseException):
                if isinstance(item, CursorExpired):
                    yield _sse(
                        None, {"type": "reset", "reason": "the cursor is too old: load the messages again"}
                    )
                    return
                # The database or the bus failed under this follower: end the stream; the widget
                # reconnects with its cursor and loses nothing.
                log.warning("webchat stream ended by an error", exc_info=item)
                return
            cursors[conv] = item.seq
            message = item.payload.get("message")
            if not (isinstance(message, dict) and visible(message, identity_id, site.channel_id)):
                continue
            await agent_names([message], names)
            last_write = loop.time()
            yield _sse(
                encode_cursor(cursors),
                {
                    "type": "message",
                    "message": visitor_view(message, visitor.visitor_id, visitor.name, names, site.title),
                },
            )
    finally:
        for task in tasks.values():
            task.cancel()
        for task in tasks.values():
            with contextlib.suppress(BaseException):
                await task
