"""Live views come back by themselves: well under a second after Redis returns, however long it was
away, and a subscription opened while PostgreSQL is down waits for it instead of ending.

A private `redis-server` on a random port is killed and restarted; what is timed is from the moment
the restarted server answers a PING to the moment a subscriber gets RESYNC (its cue to re-read the
database), after Redis was down long enough for any backoff to reach its cap."""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from core.bus import RESYNC, EventBus
from core.sql import fetch
from models import Conversation, Role
from schema.relay import to_global_id
from tests import test_degraded
from tests.conftest import free_port
from tests.helpers import Subscriber, login, make_user, post_webhook, wa_text_payload
from tests.test_degraded import TcpProxy

# Seconds Redis stays away, one restart each: past where a backoff stops growing, and not on the
# instants a doubling backoff from 50 ms happens to retry at (3.15 s, 5.15 s, ...).
DOWN_FOR = (3.6, 4.4)
RESUME_BOUND = 0.75  # seconds from "Redis answers" to RESYNC at a subscriber, worst of the restarts


class PrivateRedis:
    """A throwaway redis-server (no persistence) that can be killed and started again on its port."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> float:
        """Start it; returns the monotonic time at which it first answered a PING."""
        self.proc = await asyncio.create_subprocess_exec(
            self.binary,
            *("--save", "", "--appendonly", "no", "--port", str(self.port), "--bind", "127.0.0.1"),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        probe = aioredis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        try:
            while True:
                try:
                    if await probe.ping():
                        return time.monotonic()
                except (RedisError, OSError):
                    if time.monotonic() > deadline:
                        raise
                await asyncio.sleep(0.005)
        finally:
            await probe.aclose()

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


@pytest.fixture
async def private_redis() -> AsyncIterator[PrivateRedis]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server not installed: cannot restart a private Redis")
    server = PrivateRedis(binary)
    await server.start()
    yield server
    await server.kill()


async def test_live_events_resume_well_under_a_second_after_redis_returns(
    private_redis: PrivateRedis,
) -> None:
    bus = EventBus(private_redis.url)
    await bus.connect()
    channel = f"test-reconnect:{uuid.uuid4().hex}"
    waits = []
    try:
        async with bus.subscribe(channel) as sub:
            for round_, down_for in enumerate(DOWN_FOR):
                await private_redis.kill()
                await asyncio.sleep(down_for)
                answered_at = await private_redis.start()
                assert await asyncio.wait_for(anext(sub), 10) == RESYNC
                waits.append(time.monotonic() - answered_at)
                await bus.publish(channel, f"after restart {round_}")
                assert await asyncio.wait_for(anext(sub), 5) == f"after restart {round_}"
    finally:
        await bus.disconnect()
    assert max(waits) < RESUME_BOUND, f"resumed {[round(w, 3) for w in waits]} s after Redis answered"


# A PostgreSQL that can be stopped: the fixtures of tests/test_degraded.py.
pg_proxy = test_degraded.pg_proxy
proxied_server = test_degraded.proxied_server
PRESENCE = "subscription($id: ID!) { conversationPresence(conversationId: $id) { name typing } }"


async def test_a_presence_subscription_opened_during_a_postgres_outage_waits_then_works(
    server: str,
    proxied_server: str,
    pg_proxy: TcpProxy,
    wa: Any,
) -> None:
    """The last live view that needed the database without waiting for it: its access check got
    INTERNAL and `complete` during an outage; now it waits, and shows the viewers once it is back."""
    channel, secrets, _ = wa
    body = wa_text_payload(channel.config["phone_number_id"], f"55119{uuid.uuid4().int % 10**8:08d}", "hi")
    assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200
    conversation = await Conversation.filter(channel_id=channel.id).order_by("-id").first()
    assert conversation is not None
    agent = await make_user(Role.AGENT)
    token = await login(server, agent)
    await fetch("SELECT 1")  # the proxied pool holds a live connection, which the stop resets
    await pg_proxy.stop()
    subscriber = await Subscriber.open(
        proxied_server, token, PRESENCE, {"id": to_global_id("Conversation", conversation.id)}
    )
    try:
        with pytest.raises(TimeoutError):  # neither an error nor `complete`: it is waiting
            await subscriber.next(timeout=1.0)
        await pg_proxy.start()
        viewers = await subscriber.next_where(lambda d: d["conversationPresence"], timeout=20)
        assert [v["name"] for v in viewers["conversationPresence"]] == [agent.name]
    finally:
        await subscriber.close()
