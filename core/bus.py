"""Real-time fan-out: broadcaster's `Broadcast` API over memory:// (embedded) or our Redis pub/sub backend.

The bus carries hints, not the record: every event is in PostgreSQL before it is published, and
subscribers re-read from there. What the bus must never do is lose messages *silently*: whenever a
subscriber may have missed some (the Redis link dropped, its own queue overflowed) it receives
`RESYNC` in their place and re-reads the database.

broadcaster 0.3.1's Redis backends lose messages, its subscriber queues are unbounded and its
listener awaits each one (../shared/STACK-NOTES.md section 2), so this module supplies a backend and
a `Broadcast` subclass that fix those parts behind the same API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Final
from urllib.parse import urlparse

import redis.asyncio as aioredis
from broadcaster import Broadcast, Event
from broadcaster._backends.base import BroadcastBackend
from broadcaster._backends.memory import MemoryBackend
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError

log = logging.getLogger(__name__)

RESYNC: Final[str] = "\x00pytake-bus:resync"
"""Delivered in place of messages that may have been lost: re-read from the database."""

BACKOFF_MIN: Final = 0.05
# Live views wait for the link, so its reconnect must notice Redis' return well under a second. A
# refused connection costs the server nothing and an unreachable one is bounded by CONNECT_TIMEOUT,
# so a short cap is cheap; the jitter keeps many processes from reconnecting in lockstep.
BACKOFF_MAX: Final = 0.25
CONNECT_TIMEOUT: Final = 2.0  # TCP connect + handshake of the pub/sub link
SUBSCRIBE_TIMEOUT: Final = 2.0  # longest subscribe() waits for the server's confirmation
PUBLISH_TIMEOUT: Final = 1.0  # connect and reply timeout of each PUBLISH attempt
PING_INTERVAL: Final = 5.0  # an idle link is PINGed; no reply within one more interval = dead


class BusClosed(Exception):
    """The bus was disconnected or its listener died: the subscription ends instead of hanging."""


class RedisPubSubBackend(BroadcastBackend):
    """Redis pub/sub over one dedicated connection per process, with RESYNC after any outage.

    - `subscribe()` returns once the server confirmed the SUBSCRIBE, so the first message published
      afterwards is delivered. If the link is down (or no confirmation comes within
      SUBSCRIBE_TIMEOUT) it returns anyway and the channel gets RESYNC once it is subscribed.
    - A reader task owns the link. On any error, or a PING left unanswered, it reconnects with
      exponential backoff (BACKOFF_MIN doubling to BACKOFF_MAX, jittered), re-SUBSCRIBEs every current
      channel and emits `Event(channel, RESYNC)` for each as its confirmation arrives: after it, so
      a subscriber re-reading the database cannot miss a message published in between.
    - `publish()` goes through a separate small pool (a subscribed RESP2 connection cannot PUBLISH).
      It makes one immediate retry, which replaces a pooled socket killed by a Redis restart, then
      raises the redis error (ConnectionError / TimeoutError, each attempt bounded by
      PUBLISH_TIMEOUT). It does not wait for Redis to come back: callers log the failure and the
      outbox plus RESYNC make it recoverable.
    - `connect()` raises if Redis is unreachable at start; afterwards the backend reconnects itself.
    """

    def __init__(self, url: str, *, ping_interval: float = PING_INTERVAL) -> None:
        self._ping_interval = ping_interval
        pool = aioredis.ConnectionPool.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=PUBLISH_TIMEOUT,
            socket_timeout=PUBLISH_TIMEOUT,
            socket_keepalive=True,
            retry=Retry(NoBackoff(), 1),
        )
        self._redis = aioredis.Redis(connection_pool=pool)
        # The pub/sub link: no socket timeout (it idles between messages; liveness is our PING), no
        # redis-py retry (a silent reconnect inside redis-py would hide lost messages) and RESP2,
        # whose pub/sub frames are plain arrays. Only its make_connection() is used.
        self._link_pool = aioredis.ConnectionPool.from_url(
            url,
            protocol=2,
            decode_responses=True,
            encoding_errors="replace",  # a stray binary message must not look like a broken link
            socket_connect_timeout=CONNECT_TIMEOUT,
            socket_keepalive=True,
            retry=Retry(NoBackoff(), 0),
        )
        self._conn: AbstractConnection | None = None  # set while the link is up
        self._channels: dict[str, _Channel] = {}
        # SUBSCRIBE confirmations still to come, per channel, oldest first: a confirmation left over
        # from before an unsubscribe must not confirm the channel's next subscription.
        self._expected: dict[str, deque[_Channel]] = {}
        self._events: asyncio.Queue[Event | None] = asyncio.Queue()  # None: the reader died
        self._reader: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        return self._conn is not None

    async def connect(self) -> None:
        conn: AbstractConnection | None
        try:
            conn = await self._open()
        except (RedisError, OSError, TimeoutError) as exc:
            # A process starting while Redis is down starts anyway (reads and webhooks need only
            # PostgreSQL; live events catch up from the log) and links up when Redis answers.
            log.warning("Redis unreachable at start (%r); linking up when it answers", exc)
            conn = None
        self._reader = asyncio.create_task(self._run(conn), name="redis-bus-reader")
        self._reader.add_done_callback(self._reader_done)

    async def disconnect(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
            self._reader = None
        if self._conn is not None:
            await self._conn.disconnect(nowait=True)
            self._conn = None
        await self._redis.aclose()

    async def ping(self) -> bool:
        return self.connected and bool(await self._redis.ping())

    async def subscribe(self, channel: str) -> None:
        entry = self._channels[channel] = _Channel()
        conn = self._conn
        if conn is None:  # the reconnect subscribes it, then RESYNC covers the gap
            entry.resync = True
            return
        self._expected.setdefault(channel, deque()).append(entry)
        try:
            await conn.send_command("SUBSCRIBE", channel, check_health=False)
            await asyncio.wait_for(entry.settled.wait(), SUBSCRIBE_TIMEOUT)
        except (TimeoutError, RedisError, OSError):
            # Send failures also break the read side: the reader reconnects and re-subscribes.
            log.warning("SUBSCRIBE %s not confirmed; RESYNC follows once it is", channel)
        finally:
            if not entry.settled.is_set():  # timed out, failed or cancelled
                entry.resync = True

    async def unsubscribe(self, channel: str) -> None:
        self._channels.pop(channel, None)  # so a reconnect does not re-subscribe it
        conn = self._conn
        if conn is not None:
            with contextlib.suppress(RedisError, OSError):  # the reader handles a broken link
                await conn.send_command("UNSUBSCRIBE", channel, check_health=False)

    async def publish(self, channel: str, message: str) -> None:
        await self._redis.publish(channel, message)

    async def publish_many(self, items: list[tuple[str, str]]) -> None:
        """One round trip for a batch, in order (a pipeline, not a transaction)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for channel, message in items:
                pipe.publish(channel, message)
            await pipe.execute()

    async def next_published(self) -> Event:
        event = await self._events.get()
        if event is None:  # fail the Broadcast listener loudly rather than go quiet
            raise RuntimeError("Redis pub/sub reader stopped")
        return event

    def _reader_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled():
            log.error("Redis pub/sub reader died", exc_info=task.exception())
            self._events.put_nowait(None)

    async def _open(self) -> AbstractConnection:
        conn = self._link_pool.make_connection()
        try:
            await asyncio.wait_for(conn.connect(), CONNECT_TIMEOUT)
            # No await between publishing the link and listing the channels: a concurrent
            # subscribe() either is in this SUBSCRIBE or sends its own.
            self._conn = conn
            self._expected.clear()
            for channel, entry in self._channels.items():
                self._expected[channel] = deque([entry])
            if self._channels:
                await conn.send_command("SUBSCRIBE", *self._channels, check_health=False)
        except BaseException:
            self._lose_link()
            await conn.disconnect(nowait=True)
            raise
        return conn

    def _lose_link(self) -> None:
        self._conn = None
        self._expected.clear()
        for entry in self._channels.values():
            entry.resync = True  # whatever was published until the re-SUBSCRIBE is gone
            entry.settled.set()  # a subscribe() waiting for confirmation returns now

    async def _run(self, conn: AbstractConnection | None) -> None:
        if conn is None:
            conn = await self._reconnect()
        while True:
            try:
                await self._read(conn)
            except (RedisError, OSError) as exc:
                log.warning("Redis pub/sub link lost (%r); reconnecting", exc)
            except Exception:
                log.exception("Redis pub/sub reader failed; reconnecting")
            self._lose_link()
            await conn.disconnect(nowait=True)
            conn = await self._reconnect()

    async def _reconnect(self) -> AbstractConnection:
        delay = BACKOFF_MIN
        failures = 0
        while True:
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            try:
                conn = await self._open()
            except Exception as exc:  # RedisError, OSError, TimeoutError: keep trying whatever it is
                failures += 1
                # Warn once per outage, then quietly: the first warning already says what is wrong.
                log.log(
                    logging.WARNING if failures == 1 else logging.DEBUG, "Redis reconnect failed: %r", exc
                )
                delay = min(delay * 2, BACKOFF_MAX)
                continue
            log.info("Redis pub/sub link restored after %d failed attempts", failures)
            return conn

    async def _read(self, conn: AbstractConnection) -> None:
        ping_sent = False
        while True:
            try:
                frame = await conn.read_response(timeout=self._ping_interval, disconnect_on_error=False)
            except ResponseError as exc:  # e.g. an ACL refusing a channel: the link itself is fine
                log.error("Redis pub/sub error reply: %s", exc)
                continue
            if frame is None:  # idle for a whole interval
                if ping_sent:
                    raise RedisConnectionError("no reply to PING on the pub/sub link")
                await conn.send_command("PING", check_health=False)
                ping_sent = True
                continue
            ping_sent = False
            # ["message" | "subscribe" | "unsubscribe", channel, data | count]; "unsubscribe" and
            # PING replies (["pong", ""]) only prove the link is alive.
            if isinstance(frame, list) and len(frame) == 3:
                kind, channel, data = frame
                if kind == "message":
                    self._events.put_nowait(Event(channel, data))
                elif kind == "subscribe":
                    self._confirm(channel)

    def _confirm(self, channel: str) -> None:
        pending = self._expected.get(channel)
        entry = pending.popleft() if pending else None
        if pending is not None and not pending:
            del self._expected[channel]
        if entry is None or self._channels.get(channel) is not entry:
            return  # unsubscribed (and maybe resubscribed) since this SUBSCRIBE was sent
        entry.settled.set()
        if entry.resync:
            entry.resync = False
            self._events.put_nowait(Event(channel, RESYNC))


class _Channel:
    """One subscribed channel in the Redis backend."""

    __slots__ = ("resync", "settled")

    def __init__(self) -> None:
        self.settled = asyncio.Event()  # confirmed, or the link dropped: subscribe() may return
        self.resync = False  # emit RESYNC when the next confirmation arrives


class _Subscription:
    """One subscriber's bounded queue. Iterating yields messages and RESYNC markers."""

    __slots__ = ("_queue", "_reason")

    def __init__(self, size: int) -> None:
        self._queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=size)  # None: closed
        self._reason = ""

    def offer(self, message: str) -> None:
        """Never blocks the shared listener: on overflow the backlog is replaced by RESYNC."""
        try:
            self._queue.put_nowait(message)
            return
        except asyncio.QueueFull:
            pass
        log.warning("bus subscriber fell %d messages behind; sending RESYNC", self._queue.qsize())
        self._drain()
        self._queue.put_nowait(RESYNC)
        if message != RESYNC:
            with contextlib.suppress(asyncio.QueueFull):  # queue_size 1: RESYNC alone covers it
                self._queue.put_nowait(message)

    def close(self, reason: str) -> None:
        self._reason = reason
        self._drain()
        self._queue.put_nowait(None)

    def _drain(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()

    def __aiter__(self) -> AsyncIterator[str]:
        return self

    async def __anext__(self) -> str:
        item = await self._queue.get()
        if item is None:
            self._queue.put_nowait(None)  # later calls raise too
            raise BusClosed(self._reason)
        return item


class _BoundedBroadcast(Broadcast):
    """`Broadcast` with bounded per-subscriber queues and a listener that never waits on one of them.

    Also: a subscriber is registered before the backend subscribes, concurrent first subscribers of
    a channel all wait for that one backend subscribe (stock Broadcast loses one of their queues),
    and a dying listener is logged and ends every subscription with BusClosed.
    """

    def __init__(self, backend: BroadcastBackend, queue_size: int) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        super().__init__(backend=backend)
        self._queue_size = queue_size
        self._subs: dict[str, set[_Subscription]] = {}
        self._ready: dict[str, asyncio.Event] = {}
        self._listener_task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._listener_task is not None and not self._listener_task.done()

    async def connect(self) -> None:
        await self._backend.connect()
        self._listener_task = asyncio.create_task(self._listener(), name="bus-listener")
        self._listener_task.add_done_callback(self._listener_done)

    async def disconnect(self) -> None:
        task, self._listener_task = self._listener_task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._close_all("event bus disconnected")
        await self._backend.disconnect()

    async def _listener(self) -> None:
        while True:
            event = await self._backend.next_published()
            for sub in tuple(self._subs.get(event.channel, ())):
                sub.offer(event.message)

    def offer_local(self, channel: str, message: str) -> None:
        """Hand `message` to this process's subscribers of `channel` now, as if it had come back
        from the backend (it will too: they must tolerate the copy)."""
        for sub in tuple(self._subs.get(channel, ())):
            sub.offer(message)

    def _listener_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        log.error("event bus listener died; ending all subscriptions", exc_info=task.exception())
        self._close_all("event bus listener died")

    def _close_all(self, reason: str) -> None:
        for subs in self._subs.values():
            for sub in subs:
                sub.close(reason)

    async def publish(self, channel: str, message: str) -> None:
        # Redis only carries str; refusing anything else here keeps memory:// honest.
        if not isinstance(message, str):
            raise TypeError(f"bus messages must be str, not {type(message).__name__}")
        if message == RESYNC:
            raise ValueError("RESYNC is reserved for the bus itself")
        if self._listener_task is None:
            raise BusClosed("event bus not connected")
        await self._backend.publish(channel, message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[_Subscription]:  # type: ignore[override]
        if not self.running:
            raise BusClosed("event bus not running")
        sub = _Subscription(self._queue_size)
        subs = self._subs.get(channel)
        first = subs is None
        if subs is None:
            subs = self._subs[channel] = set()
            self._ready[channel] = asyncio.Event()
        ready = self._ready[channel]
        subs.add(sub)  # before the backend subscribes: nothing can arrive unseen
        try:
            if first:
                try:
                    await self._backend.subscribe(channel)
                except Exception:
                    for other in subs - {sub}:
                        other.close(f"subscribing to {channel} failed")
                    raise
                finally:
                    ready.set()
            else:
                await ready.wait()
            yield sub
        finally:
            subs.discard(sub)
            if not subs and self._subs.get(channel) is subs:
                del self._subs[channel], self._ready[channel]
                try:
                    await self._backend.unsubscribe(channel)
                except Exception:
                    log.warning("unsubscribing from %s failed", channel, exc_info=True)


class _MemoryBackend(MemoryBackend):
    """broadcaster's MemoryBackend, dropping messages nobody subscribes to at publish time (as Redis
    does): the stock one filters when its listener gets to them, so a subscriber arriving in between
    received messages published before it subscribed."""

    async def publish(self, channel: str, message: str) -> None:
        if channel in self._subscribed:
            await super().publish(channel, message)


class EventBus:
    """The process's bus: `memory://` (embedded, one process) or `redis://` / `rediss://`."""

    def __init__(self, url: str, *, queue_size: int = 1000) -> None:
        scheme = urlparse(url).scheme
        backend: BroadcastBackend
        if scheme == "memory":
            backend = _MemoryBackend(url)
        elif scheme in ("redis", "rediss"):
            backend = RedisPubSubBackend(url)
        else:
            raise ValueError(f"unsupported event bus URL scheme {scheme!r}")
        self._backend = backend
        self._broadcast = _BoundedBroadcast(backend, queue_size)
        self._connected = False

    async def connect(self) -> None:
        await self._broadcast.connect()
        self._connected = True

    async def disconnect(self) -> None:
        self._connected = False
        await self._broadcast.disconnect()

    async def publish(self, channel: str, message: str) -> None:
        await self._broadcast.publish(channel, message)

    async def publish_many(self, items: list[tuple[str, str]]) -> None:
        """Publish a batch in order. With Redis, one round trip: awaiting each publish on a busy
        event loop costs a whole loop turn apiece, which let a flood of events fall seconds behind."""
        for _, message in items:
            if not isinstance(message, str) or message == RESYNC:
                raise ValueError("bus messages must be str and not the RESYNC marker")
        if isinstance(self._backend, RedisPubSubBackend):
            if not self._connected:
                raise BusClosed("event bus not connected")
            await self._backend.publish_many(items)
        else:
            for channel, message in items:
                await self._broadcast.publish(channel, message)

    def offer_local(self, items: list[tuple[str, str]]) -> None:
        """Hand messages about to be published to this process's own subscribers at once, without
        the round trip through Redis; the published copies follow (core/events.follow drops them)."""
        for channel, message in items:
            self._broadcast.offer_local(channel, message)

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[str]]:
        """Yields the channel's messages and RESYNC markers; raises BusClosed when the bus stops."""
        return self._broadcast.subscribe(channel)

    @property
    def connected(self) -> bool:
        """connect() succeeded and disconnect() was not called."""
        return self._connected

    @property
    def healthy(self) -> bool:
        """Connected, the listener alive and, with Redis, the pub/sub link up right now."""
        link_up = not isinstance(self._backend, RedisPubSubBackend) or self._backend.connected
        return self._connected and self._broadcast.running and link_up

    async def ping(self) -> bool:
        """For /readyz: healthy and, with Redis, a PING round trip on the publishing pool."""
        if not self.healthy:
            return False
        if isinstance(self._backend, RedisPubSubBackend):
            try:
                return await self._backend.ping()
            except (RedisError, OSError):
                return False
        return True
