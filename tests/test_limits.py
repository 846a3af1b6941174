"""Abuse limits: per user (with per-role overrides) and per API key, shared by every process on
one Redis; sign-in lockout per account and per address with a growing lock that says nothing about
which e-mails exist; webhooks per channel. Each test runs its own GraphQL endpoints with small
limits (the shared test server's are set out of reach in conftest)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute
from websockets.asyncio.client import connect

from core.bus import EventBus
from core.events import EventLog
from core.ratelimit import RateLimiter
from core.settings import get_settings
from models import Role
from schema import build_schema
from schema.http import GraphQLEndpoint
from tests.conftest import NAMESPACE, REDIS_URL, free_port, requires_redis
from tests.helpers import (
    PASSWORD,
    gql,
    login,
    make_user,
    make_whatsapp_channel,
    post_webhook,
    wa_text_payload,
)

ME = "{ me { id } }"
LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }"


def endpoint(
    namespace: str | None = None, *, shared: bool = True, persisted: Any = None, **overrides: Any
) -> GraphQLEndpoint:
    """A /graphql of its own with these settings; `shared` counts in Redis (when there is one)."""
    return GraphQLEndpoint(
        build_schema(),
        event_log=EventLog(EventBus("memory://")),
        rate_limiter=RateLimiter(
            REDIS_URL if shared else None, namespace or f"{NAMESPACE}:{uuid.uuid4().hex[:8]}"
        ),
        settings=replace(get_settings(), **overrides),
        persisted=persisted,
    )


def client(app: Any, ip: str = "127.0.0.1") -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(ip, 40000)), base_url="http://test"
    )


async def post(
    app_client: httpx.AsyncClient,
    query: str,
    variables: dict | None = None,
    token: str | None = None,
    **kw: Any,
) -> httpx.Response:
    headers = {"Accept": "application/graphql-response+json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return await app_client.post(
        "/graphql", json={"query": query, "variables": variables or {}, **kw}, headers=headers
    )


def code(response: httpx.Response) -> str | None:
    errors = response.json().get("errors")
    return errors[0]["extensions"]["code"] if errors else None


async def within_one_window(seconds_needed: float = 15) -> None:
    """The limits count per clock minute: start a burst early enough in one to finish in it."""
    while time.time() % 60 > 60 - seconds_needed:
        await asyncio.sleep(0.5)


async def _statuses(apps: list[GraphQLEndpoint], token: str, n: int) -> list[int]:
    clients = [client(app) for app in apps]
    try:
        return [(await post(clients[i % len(clients)], ME, token=token)).status_code for i in range(n)]
    finally:
        for c in clients:
            await c.aclose()


@requires_redis
async def test_user_role_and_key_limits_hold_across_two_app_instances_on_one_redis(server):
    limits = dict(user_rate_per_minute=4, role_rate_per_minute=(("admin", 6),), api_key_rate_per_minute=3)
    namespace = f"{NAMESPACE}:shared-{uuid.uuid4().hex[:6]}"
    apps = [endpoint(namespace, **limits), endpoint(namespace, **limits)]  # two processes' worth
    agent = await login(server, await make_user(Role.AGENT))
    admin_user = await make_user(Role.ADMIN)
    admin = await login(server, admin_user)
    created = await gql(
        server, 'mutation { createApiKey(name: "crm", scopes: [USERS_READ]) { token } }', token=admin
    )
    key = created["data"]["createApiKey"]["token"]

    await within_one_window()
    assert await _statuses(apps, agent, 8) == [200] * 4 + [429] * 4  # alternating between the two
    assert await _statuses(apps, admin, 8) == [200] * 6 + [429] * 2  # the admins' override
    assert await _statuses(apps, key, 5) == [200] * 3 + [429] * 2

    async with client(apps[1]) as c:
        refused = await post(c, ME, token=agent)
    wait = int(refused.headers["retry-after"])
    assert 1 <= wait <= 60
    assert refused.json()["errors"][0]["extensions"] == {"code": "RATE_LIMITED", "retryAfter": wait}

    # The same limits counted per process would let each instance admit its own four.
    alone = [endpoint(shared=False, **limits), endpoint(shared=False, **limits)]
    other = await login(server, await make_user(Role.AGENT))
    assert (await _statuses(alone, other, 10)).count(200) == 8


@contextlib.asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[str]:
    port = free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(uv.serve())
    try:
        for _ in range(200):
            if uv.started:
                break
            await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        uv.should_exit = True
        await asyncio.wait_for(task, 15)


async def test_each_websocket_subscribe_counts_as_a_request(server):
    graphql = endpoint(user_rate_per_minute=2)
    app = Starlette(routes=[Route("/graphql", graphql), WebSocketRoute("/graphql", graphql)])
    token = await login(server, await make_user(Role.AGENT))
    await within_one_window()
    async with serving(app) as base:
        ws = await connect(base.replace("http", "ws", 1) + "/graphql", subprotocols=["graphql-transport-ws"])
        try:
            await ws.send(
                json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
            )
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            for n in "123":
                query = "subscription { inboxEvents { type } }"
                await ws.send(json.dumps({"id": n, "type": "subscribe", "payload": {"query": query}}))
            refusal = json.loads(await asyncio.wait_for(ws.recv(), 10))
        finally:
            await ws.close()
    assert refusal["id"] == "3" and refusal["type"] == "error"
    assert refusal["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert 1 <= refusal["payload"][0]["extensions"]["retryAfter"] <= 60


async def _attempt(app: GraphQLEndpoint, email: str, password: str, ip: str = "127.0.0.1") -> dict[str, Any]:
    async with client(app, ip) as c:
        body = (await post(c, LOGIN, {"e": email, "p": password})).json()
    error = (body.get("errors") or [{}])[0]
    return {"code": (error.get("extensions") or {}).get("code"), "message": error.get("message")}


async def test_sign_in_locks_an_account_with_a_growing_lock_that_reveals_nothing(server):
    app = endpoint(login_free_failures=2, login_free_failures_per_address=1000, login_lockout_seconds=30)
    user = await make_user(Role.AGENT)
    nobody = f"nobody-{uuid.uuid4().hex[:8]}@test.local"

    async def run(email: str) -> list[dict[str, Any]]:
        return [await _attempt(app, email, "wrong password!") for _ in range(3)] + [
            await _attempt(app, email, PASSWORD)
        ]

    real, unknown = await run(user.email), await run(nobody)
    assert [a["code"] for a in real] == ["UNAUTHENTICATED"] * 3 + ["RATE_LIMITED"]  # even the right password
    assert _shape(real) == _shape(unknown)  # the same answers whether or not the e-mail exists
    waited = int(re.search(r"try again in (\d+) s", real[3]["message"]).group(1))  # type: ignore[union-attr]
    assert 20 <= waited <= 30  # the first lock, 30 s, less the time the attempts took

    # A success forgives the account's failures.
    other = await make_user(Role.AGENT)
    for _ in range(2):
        await _attempt(app, other.email, "wrong password!")
    assert (await _attempt(app, other.email, PASSWORD))["code"] is None
    for _ in range(2):
        await _attempt(app, other.email, "wrong password!")
    assert (await _attempt(app, other.email, PASSWORD))["code"] is None


def _shape(attempts: list[dict[str, Any]]) -> list[tuple[str | None, str]]:
    return [(a["code"], re.sub(r"\d+", "N", a["message"] or "")) for a in attempts]


async def test_the_lock_doubles_with_each_further_failure_up_to_the_cap():
    limiter = RateLimiter(REDIS_URL, f"{NAMESPACE}:lock-{uuid.uuid4().hex[:6]}")
    locks = [await limiter.fail("acct", free=2, base=30, cap=200) for _ in range(7)]
    assert locks == [0, 0, 30, 60, 120, 200, 200]
    assert 190 <= await limiter.locked_for("acct") <= 200
    await limiter.forgive("acct")
    assert await limiter.locked_for("acct") == 0
    assert await limiter.fail("acct", free=2, base=30, cap=200) == 0
    await limiter.close()


async def test_one_address_cannot_try_many_accounts(server):
    app = endpoint(login_free_failures=100, login_free_failures_per_address=3, login_lockout_seconds=30)
    for _ in range(4):  # three free, the fourth locks the address
        assert (
            await _attempt(app, f"x-{uuid.uuid4().hex[:6]}@test.local", "wrong password!", "198.51.100.7")
        )["code"] == "UNAUTHENTICATED"
    user = await make_user(Role.AGENT)
    assert (await _attempt(app, user.email, PASSWORD, "198.51.100.7"))["code"] == "RATE_LIMITED"
    assert (await _attempt(app, user.email, PASSWORD, "198.51.100.8"))["code"] is None  # another address


async def test_webhooks_are_limited_per_channel(server, fake_whatsapp, monkeypatch: pytest.MonkeyPatch):
    from ingress import webhooks

    monkeypatch.setattr(webhooks, "get_settings", lambda: replace(get_settings(), webhook_rate_per_minute=2))
    _, fake_base = fake_whatsapp
    busy, busy_secrets = await make_whatsapp_channel(fake_base)
    quiet, quiet_secrets = await make_whatsapp_channel(fake_base)
    await within_one_window()
    statuses = []
    for i in range(3):
        body = wa_text_payload(busy.config["phone_number_id"], f"5541{uuid.uuid4().int % 10**8}", f"m{i}")
        response = await post_webhook(server, busy, busy_secrets["app_secret"], body)
        statuses.append(response.status_code)
    assert statuses == [200, 200, 429]
    assert (
        1 <= int(response.headers["retry-after"]) <= 60 and response.json()["error"]["code"] == "RATE_LIMITED"
    )
    body = wa_text_payload(quiet.config["phone_number_id"], f"5541{uuid.uuid4().int % 10**8}", "fine")
    assert (await post_webhook(server, quiet, quiet_secrets["app_secret"], body)).status_code == 200


@requires_redis
async def test_a_users_limit_holds_across_two_pytake_serve_processes(server, database):
    from tests.test_production import _processes, _wait_healthy

    ports = [free_port(), free_port()]
    bases = [f"http://127.0.0.1:{p}" for p in ports]
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "REDIS_URL": REDIS_URL or "",
        "PYTAKE_NAMESPACE": f"{NAMESPACE}-limits",
        "PYTAKE_INPROCESS_WORKER": "0",
        "USER_RATE_PER_MINUTE": "5",
    }
    serve = [str(Path(sys.executable).parent / "pytake"), "serve", "--host", "127.0.0.1", "--port"]
    with _processes(env, [*serve, str(ports[0])], [*serve, str(ports[1])]) as procs:
        await asyncio.gather(*(_wait_healthy(b, p) for b, p in zip(bases, procs, strict=True)))
        token = await login(bases[0], await make_user(Role.AGENT))
        await within_one_window()
        statuses = [(await gql(bases[i % 2], ME, token=token))["_status"] for i in range(10)]
    assert statuses == [200] * 5 + [429] * 5


# --- one round trip for a request's limits --------------------------------------------------------


def _count_redis_calls(limiter: RateLimiter) -> list[str]:
    """The commands and pipelines `limiter` sends to Redis from now on (each one round trip)."""
    client = limiter._redis
    assert client is not None
    calls: list[str] = []
    execute, pipeline = client.execute_command, client.pipeline

    async def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(str(args[0]).upper())
        return await execute(*args, **kwargs)

    def counting_pipeline(*args: Any, **kwargs: Any) -> Any:
        calls.append("PIPELINE")
        return pipeline(*args, **kwargs)

    client.execute_command = counting  # type: ignore[method-assign]
    client.pipeline = counting_pipeline  # type: ignore[method-assign]
    return calls


async def _counters(namespace: str, *keys: str) -> list[int]:
    import redis.asyncio as aioredis

    window = int(time.time()) // 60
    r = aioredis.from_url(REDIS_URL)
    try:
        return [int(await r.get(f"{namespace}:rl:{k}:{window}") or 0) for k in keys]
    finally:
        await r.aclose()


@requires_redis
async def test_a_query_counts_its_address_user_and_cost_limits_in_one_round_trip(server):
    namespace = f"{NAMESPACE}:one-{uuid.uuid4().hex[:6]}"
    app = endpoint(namespace, graphql_rate_per_minute=1000, user_rate_per_minute=1000)
    user = await make_user(Role.AGENT)
    token = await login(server, user)
    await within_one_window()
    async with client(app) as c:
        assert (await post(c, ME, token=token)).status_code == 200  # loads the script into Redis
        calls = _count_redis_calls(app.rate_limiter)
        for _ in range(3):
            answer = await post(c, ME, token=token)
            assert answer.status_code == 200 and answer.json()["data"]["me"]["id"]
    assert calls == ["EVALSHA"] * 3  # one round trip each, nothing else
    keys = ("graphql:127.0.0.1", f"graphql:user:{user.id}", f"cost:user:{user.id}")
    assert await _counters(namespace, *keys) == [4, 4, 4]  # `{ me { id } }` costs 1


@requires_redis
async def test_the_first_refusal_wins_and_what_comes_after_it_is_not_counted(server):
    namespace = f"{NAMESPACE}:first-{uuid.uuid4().hex[:6]}"
    app = endpoint(namespace, graphql_rate_per_minute=5, user_rate_per_minute=2)
    user = await make_user(Role.AGENT)
    token = await login(server, user)
    headers = {"Accept": "application/graphql-response+json", "Content-Type": "application/json"}
    await within_one_window()
    async with client(app) as c:
        # The user's limit: the third is refused, and its cost is not spent.
        assert [(await post(c, ME, token=token)).status_code for _ in range(3)] == [200, 200, 429]
        keys = ("graphql:127.0.0.1", f"graphql:user:{user.id}", f"cost:user:{user.id}")
        assert await _counters(namespace, *keys) == [3, 3, 2]
        # The address's limit (5) beats whatever else is wrong with a request: malformed JSON, a
        # document over the cost limit, a parse error.
        assert (await c.post("/graphql", content=b"{not json", headers=headers)).status_code == 400
        assert (await post(c, "{ __typename")).status_code == 400
        over = [
            await c.post("/graphql", content=b"{not json", headers=headers),
            await post(c, "{ __typename"),
            await post(c, ME, token=token),
        ]
        assert [r.status_code for r in over] == [429] * 3
        for refused in over:
            error = refused.json()["errors"][0]
            assert error["extensions"]["code"] == "RATE_LIMITED"
            assert error["message"].startswith("too many requests from this address")
            assert error["extensions"]["retryAfter"] == int(refused.headers["retry-after"])
        # Refused once in this window, the address is refused without asking Redis again, and
        # the user's counters behind it are left alone.
        calls = _count_redis_calls(app.rate_limiter)
        assert (await post(c, ME, token=token)).status_code == 429
        assert calls == []
    assert await _counters(namespace, *keys) == [6, 3, 2]


async def test_several_limits_fall_back_to_this_process_in_order_while_redis_is_down():
    from core.ratelimit import Charge

    limiter = RateLimiter(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    await within_one_window(5)
    first, second = Charge("a", limit=2), Charge("b", limit=10)
    outcomes = [await limiter.take_all([first, second]) for _ in range(3)]
    assert outcomes[:2] == [None, None]
    refused, wait = outcomes[2]  # type: ignore[misc]
    assert refused is first and 1 <= wait <= 60
    window = int(time.time()) // 60
    assert limiter._local["a"] == (window, 3) and limiter._local["b"] == (window, 2)  # b: not the third
    await limiter.close()
