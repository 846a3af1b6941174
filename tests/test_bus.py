"""The event bus delivers every message in order, or RESYNC where it may have lost some: after a
Redis restart, and to a subscriber that fell too far behind. It never leaves a subscriber hanging."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from core.bus import RESYNC, BusClosed, EventBus

REDIS_URL = os.environ.get("REDIS_URL")
WAIT = 5.0  # upper bound for anything that should happen promptly


def _channel() -> str:
    return f"test-bus:{uuid.uuid4().hex}"


async def _take(sub: AsyncIterator[str], n: int) -> list[str]:
    async def take() -> list[str]:
        return [await anext(sub) for _ in range(n)]

    return await asyncio.wait_for(take(), WAIT)


async def _until(predicate: Callable[[], bool], timeout: float = WAIT) -> None:
    """Poll with a deadline: for conditions nothing signals (a server starting, a link dropping)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.01)


def _require_redis() -> str:
    if not REDIS_URL:
        pytest.skip("REDIS_URL not set: Redis-only test")
    return REDIS_URL


@pytest.fixture
async def memory_bus() -> AsyncIterator[EventBus]:
    bus = EventBus("memory://")
    await bus.connect()
    yield bus
    await bus.disconnect()


@pytest.fixture
async def redis_bus() -> AsyncIterator[EventBus]:
    bus = EventBus(_require_redis())
    await bus.connect()
    yield bus
    await bus.disconnect()


@pytest.fixture(params=["memory", "redis"])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[EventBus]:
    b = EventBus("memory://" if request.param == "memory" else _require_redis(), queue_size=5)
    await b.connect()
    yield b
    await b.disconnect()


# -- memory:// ----------------------------------------------------------------------------------


async def test_memory_channels_are_separate(memory_bus: EventBus) -> None:
    a, b = _channel(), _channel()
    async with memory_bus.subscribe(a) as sub_a, memory_bus.subscribe(b) as sub_b:
        for i in range(3):
            await memory_bus.publish(a, f"a{i}")
            await memory_bus.publish(b, f"b{i}")
        assert await _take(sub_a, 3) == ["a0", "a1", "a2"]
        assert await _take(sub_b, 3) == ["b0", "b1", "b2"]
    assert memory_bus.healthy and await memory_bus.ping()


async def test_memory_resubscribe_receives_new_messages(memory_bus: EventBus) -> None:
    ch = _channel()
    async with memory_bus.subscribe(ch) as sub:
        await memory_bus.publish(ch, "one")
        assert await _take(sub, 1) == ["one"]
    await memory_bus.publish(ch, "while nobody listens")
    async with memory_bus.subscribe(ch) as sub:
        await memory_bus.publish(ch, "two")
        assert await _take(sub, 1) == ["two"]


async def _subscribers(
    bus: EventBus, channel: str, count: int, n: int
) -> tuple[list[asyncio.Task[list[str]]], Callable[[], Awaitable[None]]]:
    """Start `count` subscriber tasks each reading `n` messages; the callable waits until all subscribed."""
    ready = [asyncio.Event() for _ in range(count)]

    async def run(subscribed: asyncio.Event) -> list[str]:
        async with bus.subscribe(channel) as sub:
            subscribed.set()
            return await _take(sub, n)

    tasks = [asyncio.create_task(run(r)) for r in ready]

    async def all_ready() -> None:
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in ready)), WAIT)

    return tasks, all_ready


async def test_memory_concurrent_subscribers(memory_bus: EventBus) -> None:
    ch = _channel()
    tasks, all_ready = await _subscribers(memory_bus, ch, count=5, n=50)
    await all_ready()
    sent = [str(i) for i in range(50)]
    for message in sent:
        await memory_bus.publish(ch, message)
    assert await asyncio.gather(*tasks) == [sent] * 5


async def test_publish_takes_str_only(memory_bus: EventBus) -> None:
    with pytest.raises(TypeError):
        await memory_bus.publish(_channel(), {"not": "a str"})  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        await memory_bus.publish(_channel(), RESYNC)


# -- slow subscribers and a dead listener -------------------------------------------------------


async def test_slow_subscriber_gets_resync_fast_one_gets_all(bus: EventBus) -> None:
    ch = _channel()
    got: list[str] = []
    progress = asyncio.Condition()

    async def fast() -> None:
        async with bus.subscribe(ch) as sub:
            fast_ready.set()
            async for message in sub:
                async with progress:
                    got.append(message)
                    progress.notify_all()
                if len(got) == 20:
                    return

    fast_ready = asyncio.Event()
    async with bus.subscribe(ch) as slow:
        fast_task = asyncio.create_task(fast())
        await asyncio.wait_for(fast_ready.wait(), WAIT)
        for i in range(20):
            await bus.publish(ch, str(i))
            async with progress:  # the fast one keeps up: publish the next once it has this one
                await asyncio.wait_for(progress.wait_for(lambda i=i: len(got) > i), WAIT)
        await asyncio.wait_for(fast_task, WAIT)
        assert got == [str(i) for i in range(20)]

        await bus.publish(ch, "end")
        seen: list[str] = []
        while not seen or seen[-1] != "end":
            seen += await _take(slow, 1)
    assert seen[0] == RESYNC
    tail = [int(m) for m in seen[1:-1]]
    assert tail == list(range(20 - len(tail), 20)) and len(tail) < 5  # only the newest, in order


async def test_listener_death_ends_subscriptions(caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus("memory://")
    explode = asyncio.Event()

    async def failing_next_published() -> None:
        await explode.wait()
        raise RuntimeError("backend broke")

    bus._backend.next_published = failing_next_published  # type: ignore[method-assign]
    await bus.connect()
    try:
        async with bus.subscribe(_channel()) as sub:
            explode.set()
            with caplog.at_level(logging.ERROR, logger="core.bus"), pytest.raises(BusClosed):
                await _take(sub, 1)
            assert "listener died" in caplog.text
            assert not bus.healthy and not await bus.ping()
            with pytest.raises(BusClosed):
                async with bus.subscribe(_channel()):
                    pass
    finally:
        await bus.disconnect()


async def test_disconnect_ends_subscriptions() -> None:
    bus = EventBus("memory://")
    await bus.connect()
    async with bus.subscribe(_channel()) as sub:
        reader = asyncio.create_task(_take(sub, 1))
        await bus.disconnect()
        with pytest.raises(BusClosed):
            await reader
    assert not bus.connected


# -- Redis ---------------------------------------------------------------------------------------


async def test_redis_rounds_deliver_everything_in_order(redis_bus: EventBus) -> None:
    for _ in range(3):
        ch = _channel()
        tasks, all_ready = await _subscribers(redis_bus, ch, count=2, n=100)
        await all_ready()
        sent = [f"m{i}" for i in range(100)]
        for message in sent:
            await redis_bus.publish(ch, message)
        assert await asyncio.gather(*tasks) == [sent, sent]


async def test_redis_first_message_after_subscribe_is_delivered() -> None:
    url = _require_redis()
    subscriber, publisher = EventBus(url), EventBus(url)  # as if in two processes
    await subscriber.connect()
    await publisher.connect()
    try:
        for _ in range(20):  # a fresh channel each time: the SUBSCRIBE must be in effect on return
            ch = _channel()
            async with subscriber.subscribe(ch) as sub:
                await publisher.publish(ch, "first")
                assert await _take(sub, 1) == ["first"]
    finally:
        await subscriber.disconnect()
        await publisher.disconnect()


async def test_redis_subscribe_waits_for_the_servers_confirmation() -> None:
    """On a slow link the SUBSCRIBE reaches Redis late; subscribe() must not return before it did."""
    url = _require_redis()
    subscriber, publisher = EventBus(url), EventBus(url)
    await subscriber.connect()
    await publisher.connect()
    try:
        link = subscriber._backend._conn  # type: ignore[attr-defined]
        # Simulate latency: a BLPOP ahead of it holds the SUBSCRIBE back on this connection for
        # 0.3 s while other clients carry on.
        await link.send_command("BLPOP", _channel(), "0.3", check_health=False)
        ch = _channel()
        async with subscriber.subscribe(ch) as sub:
            await publisher.publish(ch, "first")
            assert await _take(sub, 1) == ["first"]
    finally:
        await subscriber.disconnect()
        await publisher.disconnect()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_redis_restart_delivers_resync_then_new_messages(caplog: pytest.LogCaptureFixture) -> None:
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server not installed: cannot restart a private Redis")
    port = _free_port()
    url = f"redis://127.0.0.1:{port}/0"
    proc: asyncio.subprocess.Process | None = None

    async def start() -> asyncio.subprocess.Process:
        p = await asyncio.create_subprocess_exec(
            server,
            *("--save", "", "--appendonly", "no", "--port", str(port), "--bind", "127.0.0.1"),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        probe = aioredis.Redis.from_url(url, socket_connect_timeout=0.2)
        try:
            deadline = time.monotonic() + WAIT
            while True:
                try:
                    if await probe.ping():
                        return p
                except (RedisError, OSError):
                    if time.monotonic() > deadline:
                        raise
                await asyncio.sleep(0.02)
        finally:
            await probe.aclose()

    try:
        proc = await start()
        bus = EventBus(url)
        await bus.connect()
        try:
            ch = _channel()
            async with bus.subscribe(ch) as sub:
                await bus.publish(ch, "before")
                assert await _take(sub, 1) == ["before"]

                proc.kill()  # SIGKILL: no goodbye on the socket beyond the kernel closing it
                await proc.wait()
                await _until(lambda: not bus.healthy)
                with pytest.raises(RedisError):  # documented: publish raises while Redis is down
                    await bus.publish(ch, "lost")
                assert not await bus.ping()
                with caplog.at_level(logging.WARNING, logger="core.bus"):  # it keeps trying, backing off
                    await _until(lambda: "reconnect failed" in caplog.text)

                proc = await start()
                assert await _take(sub, 1) == [RESYNC]
                await bus.publish(ch, "after")
                assert await _take(sub, 1) == ["after"]
                assert bus.healthy and await bus.ping()
        finally:
            await bus.disconnect()
    finally:
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()
