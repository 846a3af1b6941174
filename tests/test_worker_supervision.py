"""Workers never die for good and never hang: the broker gives up on a Redis that does not answer
within its socket timeouts."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import dramatiq
import pytest
from redis.exceptions import RedisError

from core.broker import CONNECT_TIMEOUT, SOCKET_TIMEOUT, redis_broker

# A read that times out is not retried; one second of slack for a loaded machine. (redis-py's own
# default would be 5 s per command, and a client built without timeouts would wait forever.)
GIVE_UP_BOUND = CONNECT_TIMEOUT + SOCKET_TIMEOUT + 1.0


@contextlib.asynccontextmanager
async def silent_redis() -> AsyncIterator[str]:
    """A TCP server that accepts connections and never answers: a Redis hung or behind a dead
    link, which a socket without timeouts waits on forever."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        for writer in held:
            writer.close()
        server.close()


async def _gives_up(call) -> float:  # type: ignore[no-untyped-def]
    """Seconds until `call` (blocking) raised a Redis error; fails if it hangs past the bound."""
    started = time.monotonic()
    with pytest.raises((RedisError, dramatiq.errors.BrokerConnectionError)):
        await asyncio.wait_for(asyncio.to_thread(call), GIVE_UP_BOUND + 5)
    return time.monotonic() - started


async def test_an_enqueue_to_a_silent_redis_fails_in_bounded_time() -> None:
    async with silent_redis() as url:
        broker = redis_broker(url, "silent-test", heartbeat_timeout=60)
        message = dramatiq.Message(queue_name="q", actor_name="a", args=(), kwargs={}, options={})
        took = await _gives_up(lambda: broker.enqueue(message))
        broker.close()
    assert took < GIVE_UP_BOUND


async def test_a_workers_fetch_from_a_silent_redis_fails_in_bounded_time() -> None:
    async with silent_redis() as url:
        broker = redis_broker(url, "silent-test", heartbeat_timeout=60)
        consumer = broker.consume("q", prefetch=1, timeout=100)
        took = await _gives_up(lambda: next(consumer))
        broker.close()
    assert took < GIVE_UP_BOUND
