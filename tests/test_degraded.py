"""Degraded, not broken: while PostgreSQL or Redis is unreachable the API answers named errors
(503 with Retry-After, SERVICE_UNAVAILABLE), keeps what it accepted, and recovers by itself.

PostgreSQL "goes down" through a TCP proxy in front of the real server: stopping the proxy resets
every open connection and refuses new ones, which is what asyncpg sees when the server stops. The
app under test reads through it in a Tortoise context of its own (a context variable), called
in-process over ASGI. Redis "goes down" as a broker and a client pointed at a closed port."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
import pytest_asyncio
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from tortoise.context import TortoiseContext

from connectors.base import Platform
from connectors.fakes.signing import sign_webhook
from core import db as core_db
from core import outage, tasks
from core.bus import EventBus
from core.events import EventLog
from core.ratelimit import RateLimiter
from core.replay import NonceLedger
from core.settings import get_settings
from core.sql import fetch
from ingress import webhooks
from models import Message, Role
from tests.conftest import DATABASE_URL, free_port
from tests.helpers import (
    Subscriber,
    login,
    make_channel,
    make_user,
    make_whatsapp_channel,
    post_webhook,
    wa_text_payload,
)
from tests.test_webchat import ORIGIN, make_webchat

GRAPHQL_HEADERS = {"Accept": "application/graphql-response+json"}


class TcpProxy:
    """Loopback port → PostgreSQL. `stop()` aborts every connection and closes the port."""

    def __init__(self, host: str, port: int, unix_socket: str | None = None):
        self.target = (host, port)
        self.unix_socket = unix_socket  # the embedded PostgreSQL listens on a Unix socket only
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._streams: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for stream in list(self._streams):
            stream.transport.abort()
        self._streams.clear()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if self.unix_socket:
                up_reader, up_writer = await asyncio.open_unix_connection(self.unix_socket)
            else:
                up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._streams.update({writer, up_writer})
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    sink.transport.abort()


@pytest_asyncio.fixture
async def pg_proxy(database: str) -> AsyncIterator[TcpProxy]:
    """This test task (and what it calls in-process) reaches PostgreSQL through the proxy."""
    parts = urlsplit(database)
    socket_dir = parse_qs(parts.query).get("host", [None])[0]  # embedded: ?host=<socket folder>
    unix_socket = f"{socket_dir}/.s.PGSQL.{parts.port or 5432}" if socket_dir else None
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432, unix_socket)
    await proxy.start()
    proxied = urlunsplit(
        parts._replace(netloc=f"{parts.username or 'postgres'}@127.0.0.1:{proxy.port}", query="")
    )
    assert "@" in parts.netloc, "the test database URL names its user"
    async with TortoiseContext() as ctx:
        await ctx.init(config=core_db.tortoise_config(proxied))
        yield proxy
        with contextlib.suppress(Exception):
            await proxy.stop()


def _app_client() -> httpx.AsyncClient:
    from asgi import app  # the real app (routes and middleware), called in this task's context

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=10)


async def _count_raw(sql: str, *args: object) -> int:
    """Read the real database directly, whatever the proxy is doing."""
    conn = await asyncpg.connect(core_db.asyncpg_dsn(DATABASE_URL))
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


async def test_webhook_while_postgres_is_down_is_503_with_retry_after_and_stores_nothing(
    server: str, pg_proxy: TcpProxy, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outage._http_outage, "_last", float("-inf"))  # a warning is due
    channel, secrets = await make_whatsapp_channel("http://127.0.0.1:9")
    wamid = f"wamid.{uuid.uuid4().hex}"
    body = wa_text_payload(channel.config["phone_number_id"], "5511900000001", "hello", wamid=wamid)
    from connectors.fakes.whatsapp import sign

    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(secrets["app_secret"], body)}
    await pg_proxy.stop()
    caplog.clear()
    async with _app_client() as client:
        started = time.monotonic()
        down = await client.post(f"/webhooks/whatsapp/{channel.id}", content=body, headers=headers)
        elapsed = time.monotonic() - started
        await pg_proxy.start()
        up = await client.post(f"/webhooks/whatsapp/{channel.id}", content=body, headers=headers)
    assert down.status_code == 503 and elapsed < 1.0
    assert down.headers["retry-after"] == str(outage.RETRY_AFTER_SECONDS)
    assert down.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    outage_lines = [r for r in caplog.records if r.name == "pytake.outage"]
    assert len(outage_lines) == 1 and outage_lines[0].exc_info is None  # one line, no traceback
    assert not [r for r in caplog.records if r.exc_info]
    # The platform's retry, once the database is back, is stored exactly once.
    assert up.status_code == 200
    assert await _count_raw("SELECT count(*) FROM messages WHERE platform_message_id = $1", wamid) == 1


async def test_graphql_while_postgres_is_down_names_the_outage(
    server: str, pg_proxy: TcpProxy, caplog: pytest.LogCaptureFixture
) -> None:
    user = await make_user(name="Outage Agent")
    token = await login(server, user)
    name = f"view-{uuid.uuid4().hex[:8]}"
    mutation = "mutation($n:String!){ saveView(name:$n){ id } }"
    await pg_proxy.stop()
    caplog.clear()
    async with _app_client() as client:
        headers = {**GRAPHQL_HEADERS, "Authorization": f"Bearer {token}"}
        me = await client.post("/graphql", json={"query": "{ me { id } }"}, headers=headers)
        saved = await client.post(
            "/graphql", json={"query": mutation, "variables": {"n": name}}, headers=headers
        )
    for response in (me, saved):
        assert response.status_code < 500
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE", error
    assert not [r for r in caplog.records if r.exc_info]  # no traceback for an outage
    assert await _count_raw("SELECT count(*) FROM saved_views WHERE name = $1", name) == 0


async def test_a_follower_waits_out_the_outage_and_then_gets_its_events(pg_proxy: TcpProxy) -> None:
    """The replay a subscription starts with (its cursor check, then the catch-up) meets a dead
    connection: it waits and retries instead of ending, and delivers once the database is back."""
    stream = f"outage-{uuid.uuid4().hex[:8]}"
    await fetch("SELECT 1")  # the proxied pool holds a live connection, which the stop resets
    await pg_proxy.stop()
    log = EventLog(EventBus("memory://"))
    await log.bus.connect()
    received: asyncio.Queue = asyncio.Queue()

    async def follow() -> None:
        async for event in log.follow(stream, 0):
            await received.put(event)

    follower = asyncio.create_task(follow())
    try:
        await asyncio.sleep(0.5)  # several failed attempts
        assert not follower.done(), "the follower ended instead of waiting"
        conn = await asyncpg.connect(core_db.asyncpg_dsn(DATABASE_URL))  # the event, written meanwhile
        try:
            await conn.execute(
                "INSERT INTO event_outbox (stream, type, payload, created_at) VALUES ($1, 'T', '{}', now())",
                stream,
            )
            await conn.execute("SELECT * FROM pytake_sequence_events(1000)")
        finally:
            await conn.close()
        await pg_proxy.start()
        event = await asyncio.wait_for(received.get(), 5)
        assert (event.stream, event.type) == (stream, "T")
        assert not follower.done()
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
        await log.bus.disconnect()


async def test_graphql_rate_limits_fall_back_to_per_process_counts_while_redis_is_down(
    database: str, caplog: pytest.LogCaptureFixture
) -> None:
    from schema import build_schema
    from schema.http import GraphQLEndpoint

    limiter = RateLimiter(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    endpoint = GraphQLEndpoint(
        build_schema(),
        event_log=EventLog(EventBus("memory://")),
        rate_limiter=limiter,
        settings=replace(get_settings(), graphql_rate_per_minute=3),
    )
    caplog.set_level(logging.WARNING, logger="core.ratelimit")
    if time.time() % 60 > 45:  # the limit counts per clock minute: keep the five hits in one
        await asyncio.sleep(60.5 - time.time() % 60)
    transport = httpx.ASGITransport(app=endpoint)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        responses = [await client.post("/graphql", json={"query": "{ __typename }"}) for _ in range(5)]
    await limiter.close()
    assert [r.status_code for r in responses] == [200, 200, 200, 429, 429]
    assert responses[0].json() == {"data": {"__typename": "Query"}}
    assert responses[3].json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    warnings = [r for r in caplog.records if r.name == "core.ratelimit"]
    assert len(warnings) == 1 and not warnings[0].exc_info  # throttled: one line for the outage


async def test_tasks_refused_by_a_dead_broker_after_commit_are_kept_and_enqueued_when_it_returns(
    server: str, wa, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel, secrets, _ = wa
    dead = RedisBroker(url=f"redis://127.0.0.1:{free_port()}/0", namespace="dead")
    monkeypatch.setattr(tasks, "broker", dead)
    wamid = f"wamid.{uuid.uuid4().hex}"
    phone = f"55119{uuid.uuid4().int % 10**8:08d}"
    body = wa_text_payload(channel.config["phone_number_id"], phone, "new conversation", wamid=wamid)
    response = await post_webhook(server, channel, secrets["app_secret"], body)
    assert response.status_code == 200, response.text  # the message committed: no 500 for Redis
    assert await Message.filter(platform_message_id=wamid).count() == 1
    parked = await fetch("SELECT actor_name FROM task_outbox WHERE actor_name = 'drain_assignment_queue'")
    assert len(parked) == 1  # kept before the 2xx; identical requests share one row

    # Parking the same task again does not add a row (the jobs are idempotent).
    tasks.DRAIN_ASSIGNMENT_QUEUE.send()
    await tasks.outbox_settled()
    assert len(await fetch("SELECT 1 FROM task_outbox WHERE actor_name = 'drain_assignment_queue'")) == 1

    # Redis is back: the next successful enqueue hands over everything parked.
    alive = StubBroker()
    monkeypatch.setattr(tasks, "broker", alive)
    tasks.PRESENCE_UPKEEP.send()
    await tasks.outbox_settled()
    enqueued = [m.actor_name for m in _messages(alive, "assignment")]
    assert "drain_assignment_queue" in enqueued
    assert await fetch("SELECT 1 FROM task_outbox") == []


async def test_the_outbox_sweep_keeps_a_delayed_task_delayed_and_survives_a_broker_still_down(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks, "broker", RedisBroker(url=f"redis://127.0.0.1:{free_port()}/0", namespace="x"))
    tasks.WAKE_CONVERSATION.send(424242, delay_ms=60_000)
    await tasks.outbox_settled()
    with pytest.raises(Exception):  # noqa: B017  still down: the sweep fails and keeps the row
        await tasks.flush_outbox()
    assert len(await fetch("SELECT 1 FROM task_outbox WHERE args = '[424242]'::jsonb")) == 1
    alive = StubBroker()
    monkeypatch.setattr(tasks, "broker", alive)
    assert await tasks.flush_outbox() >= 1
    [message] = [m for m in _messages(alive, "maintenance") if m.args == (424242,)]
    # Still due in about a minute, not now.
    assert message.options["eta"] / 1000 - time.time() > 50
    assert await fetch("SELECT 1 FROM task_outbox WHERE args = '[424242]'::jsonb") == []


def _messages(stub: StubBroker, queue: str) -> list:
    from dramatiq import Message as DramatiqMessage

    found = []
    for name in (queue, f"{queue}.DQ"):
        q = stub.queues.get(name)
        while q is not None and not q.empty():
            found.append(DramatiqMessage.decode(q.get_nowait()))
    return found


async def test_webchat_while_postgres_is_down_is_503_and_stores_nothing(
    server: str, pg_proxy: TcpProxy
) -> None:
    """The same answer on the visitors' door (ingress/webchat): it comes from around every route."""
    _, key = await make_webchat()
    identities = await _count_raw("SELECT count(*) FROM customer_identities")
    await pg_proxy.stop()
    async with _app_client() as client:
        down = await client.post(f"/webchat/{key}/sessions", json={"name": "Ana"}, headers={"Origin": ORIGIN})
    assert down.status_code == 503 and down.headers["retry-after"] == str(outage.RETRY_AFTER_SECONDS)
    assert down.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert await _count_raw("SELECT count(*) FROM customer_identities") == identities


async def test_a_nonce_ledger_without_redis_answers_503_and_the_retry_is_stored_once(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """WeChat's nonce must be checked in Redis before anything is stored: while Redis is down the
    platform is told to retry (503), not 500, and nothing is stored until it can be checked."""
    token = "outageToken" + uuid.uuid4().hex[:8]
    channel = await make_channel(
        "wechat", {"app_id": "wx0123456789abcdef"}, {"token": token, "app_secret": "s"}
    )
    url = f"{server}/webhooks/wechat/{channel.id}"
    openid = "o" + uuid.uuid4().hex[:27]
    body = (
        f"<xml><ToUserName>gh_1</ToUserName><FromUserName>{openid}</FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType>text</MsgType>"
        f"<Content><![CDATA[during the outage]]></Content><MsgId>7</MsgId></xml>"
    ).encode()
    signed = sign_webhook(Platform.WECHAT, body, token, time.time(), url)
    monkeypatch.setattr(webhooks, "_ledger", NonceLedger(f"redis://127.0.0.1:{free_port()}/0", "dead"))
    async with httpx.AsyncClient(timeout=20) as client:
        down = await client.post(url, params=signed.query, content=body, headers=signed.headers)
        assert await Message.filter(channel_id=channel.id).count() == 0
        monkeypatch.setattr(webhooks, "_ledger", None)  # Redis is back (the app's own ledger)
        up = await client.post(url, params=signed.query, content=body, headers=signed.headers)
    assert down.status_code == 503 and down.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert "Redis" in down.json()["error"]["message"]
    assert (up.status_code, up.text) == (200, "success")
    assert [m.text for m in await Message.filter(channel_id=channel.id)] == ["during the outage"]


@pytest_asyncio.fixture
async def proxied_server(server: str, pg_proxy: TcpProxy) -> AsyncIterator[str]:
    """The app under uvicorn once more, started inside the proxied context: its connections (and
    their subscriptions) read PostgreSQL through the proxy. The session server runs its lifespan."""
    import uvicorn

    from asgi import app

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    uv = uvicorn.Server(config)
    task = asyncio.create_task(uv.serve())
    while not uv.started:
        assert not task.done(), "the proxied server did not start"
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    await asyncio.wait_for(task, 10)


async def test_a_subscription_resubscribing_during_the_outage_waits_and_then_replays(
    server: str, proxied_server: str, pg_proxy: TcpProxy, wa, caplog: pytest.LogCaptureFixture
) -> None:
    """The case measured in production: a client re-subscribes with its cursor while PostgreSQL is
    down. It got INTERNAL and `complete`; now it waits, and replays once the database is back."""
    channel, secrets, _ = wa
    agent = await make_user(Role.SUPERVISOR)
    token = await login(server, agent)
    cursor = str(await _count_raw("SELECT COALESCE(max(seq), 0) FROM events"))
    await pg_proxy.stop()
    subscriber = await Subscriber.open(
        proxied_server,
        token,
        "subscription($a:String){ inboxEvents(after:$a){ cursor type conversation { id } } }",
        {"a": cursor},
    )
    try:
        await asyncio.sleep(0.5)  # its cursor check has failed a few times by now
        phone = f"55119{uuid.uuid4().int % 10**8:08d}"
        body = wa_text_payload(channel.config["phone_number_id"], phone, "while you were away")
        assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200
        await pg_proxy.start()
        event = await subscriber.next_where(lambda d: d["inboxEvents"]["type"] == "CONVERSATION_CREATED")
        assert int(event["inboxEvents"]["cursor"]) > int(cursor)
        # The outage logged no traceback. Passed over: the in-process worker's jobs that found its
        # event loop already stopped by an earlier test's teardown (not the outage's doing).
        assert not [r for r in caplog.records if r.exc_info and not _stopped_loop(r)]
    finally:
        await subscriber.close()


def _stopped_loop(record: logging.LogRecord) -> bool:
    error = record.exc_info[1] if record.exc_info else None
    return isinstance(error, RuntimeError) and str(error) == "Event loop is not running."


def test_a_full_connection_table_counts_as_the_database_being_away() -> None:
    """PostgreSQL refusing a connection because its slots are full (53300, asyncpg's
    TooManyConnectionsError) is answered like the outage (503 + Retry-After, which platforms
    retry), not as a bug's 500; a constraint violation stays a bug."""
    import asyncpg

    assert (
        outage.unavailable(asyncpg.TooManyConnectionsError("sorry, too many clients already")) == "database"
    )
    assert outage.unavailable(asyncpg.UniqueViolationError("duplicate key")) is None
