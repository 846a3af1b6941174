"""Test set-up: every run gets its own PostgreSQL database (and its own Redis namespace), so runs
never collide. With DATABASE_URL/REDIS_URL set (CI) the machine's servers are used; otherwise the
embedded PostgreSQL and in-memory pub/sub, and the Redis-only tests skip with a reason.

The environment is fixed here, before any app module reads settings. When the session ends, every
Redis key under the run's namespace (Dramatiq's queues and heartbeats, rate-limit buckets, presence,
event logs; `<namespace>-prod` too) is deleted, so a run leaves nothing behind."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import redis

RUN_ID = uuid.uuid4().hex[:10]
TEST_DB = f"pytake_test_{RUN_ID}"
_DATA_DIR = Path(tempfile.mkdtemp(prefix="pytake-test-"))
SHARED = Path(__file__).resolve().parents[2] / "shared"
SAMPLES = SHARED / "platform-samples"

_server_url = os.environ.get("DATABASE_URL")
os.environ["PYTAKE_DATA_DIR"] = str(_DATA_DIR)
NAMESPACE = f"pytake-test-{RUN_ID}"
os.environ["PYTAKE_NAMESPACE"] = NAMESPACE
os.environ["PYTAKE_DEMO"] = "0"
os.environ["PYTAKE_INPROCESS_WORKER"] = "1"
os.environ["LOG_LEVEL"] = os.environ.get("TEST_LOG_LEVEL", "WARNING")
os.environ["LOGIN_RATE_PER_MINUTE"] = "1000"
os.environ["GRAPHQL_RATE_PER_MINUTE"] = "100000"  # the shared test server is one client address
# The shared test server's users and address make far more requests and failed sign-ins than a
# person; the abuse limits are tested on endpoints of their own (tests/test_limits.py).
os.environ["USER_RATE_PER_MINUTE"] = "100000"
os.environ["API_KEY_RATE_PER_MINUTE"] = "100000"
os.environ["GRAPHQL_COST_PER_MINUTE"] = "100000000"
os.environ["LOGIN_FREE_FAILURES"] = "100000"
os.environ["LOGIN_FREE_FAILURES_PER_ADDRESS"] = "100000"
os.environ["WEBHOOK_RATE_PER_MINUTE"] = "1000000"

from core import db as core_db  # noqa: E402  (after the environment is set)

if _server_url:
    SERVER_URL = core_db._normalise(_server_url)
else:  # embedded PostgreSQL, in a folder of its own for tests
    SERVER_URL = core_db.start_embedded_postgres(Path(tempfile.gettempdir()) / "pytake-test-pg")
DATABASE_URL = core_db.with_database(SERVER_URL, TEST_DB)
os.environ["DATABASE_URL"] = DATABASE_URL
REDIS_URL = os.environ.get("REDIS_URL")

from connectors.fakes.whatsapp import FakeWhatsApp  # noqa: E402  (after DATABASE_URL is the test database)
from tests.helpers import make_whatsapp_channel  # noqa: E402

requires_redis = pytest.mark.skipif(not REDIS_URL, reason="REDIS_URL not set: this test needs a Redis server")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop the run's Redis namespace after every fixture (the app's worker included) has stopped."""
    if REDIS_URL:
        drop_namespace(REDIS_URL, NAMESPACE)


def drop_namespace(redis_url: str, namespace: str) -> int:
    """Delete every key that starts with `namespace` (its `:` keys and `-prod` ones); the count."""
    client = redis.Redis.from_url(redis_url)
    try:
        deleted = 0
        for batch in _batches(client.scan_iter(match=f"{namespace}*", count=500), 500):
            deleted += client.unlink(*batch)
        return deleted
    finally:
        client.close()


def _batches(keys: Iterator[bytes], size: int) -> Iterator[list[bytes]]:
    batch: list[bytes] = []
    for key in keys:
        batch.append(key)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest_asyncio.fixture(scope="session")
async def database() -> AsyncIterator[str]:
    await core_db.drop_database(SERVER_URL, TEST_DB)
    await core_db.ensure_database(SERVER_URL, TEST_DB)
    await core_db.migrate(DATABASE_URL)
    yield DATABASE_URL
    with contextlib.suppress(Exception):
        await core_db.drop_database(SERVER_URL, TEST_DB)


@pytest_asyncio.fixture(scope="session")
async def server(database: str) -> AsyncIterator[str]:
    """The real app under uvicorn on a free port, in the test loop (tests share its ORM)."""
    import uvicorn

    from asgi import app

    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", ws="websockets-sansio"
    )
    uv = uvicorn.Server(config)
    task = asyncio.create_task(uv.serve())
    for _ in range(200):
        if uv.started:
            break
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    assert uv.started, "test server did not start"
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    await asyncio.wait_for(task, 15)


@pytest_asyncio.fixture(scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """One client per module for the connectors' sends: its TLS context costs ~50 ms to build."""
    async with httpx.AsyncClient() as client:
        yield client


@pytest_asyncio.fixture(scope="session")
async def fake_whatsapp() -> AsyncIterator[tuple[object, str]]:
    """A fake WhatsApp Cloud API on loopback: (fake, base_url)."""
    fake = FakeWhatsApp()
    async with fake.serve() as base_url:
        yield fake, base_url


@pytest_asyncio.fixture
async def wa(server: str, fake_whatsapp: tuple[object, str]):  # type: ignore[no-untyped-def]
    """A fresh WhatsApp channel wired to the fake both ways."""
    fake, base_url = fake_whatsapp
    channel, secrets = await make_whatsapp_channel(base_url)
    fake.add_number(  # type: ignore[attr-defined]
        channel.config["phone_number_id"],
        access_token=secrets["access_token"],
        app_secret=secrets["app_secret"],
        webhook_url=f"{server}/webhooks/whatsapp/{channel.id}",
    )
    fake.auto_statuses = []  # type: ignore[attr-defined]
    return channel, secrets, fake
