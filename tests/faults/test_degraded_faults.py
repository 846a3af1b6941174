"""Scenario 4, degraded but not broken. PostgreSQL down: webhooks are refused with 503 and
Retry-After within a second (so the platform retries), /readyz names the database, GraphQL
answers a named error; everything recovers without a restart. Redis down: reads and webhooks are
served (an API process even starts), and the jobs asked for meanwhile run once Redis is back."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx

from schema.relay import to_global_id
from tests.faults.conftest import PASSWORD, World
from tests.faults.load import graphql, graphql_until_ok, login
from tests.faults.platforms import inbound

READ = "query { conversations(first: 5) { edges { node { id } } } }"
SEND = "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id status } }"


async def _post(client: httpx.AsyncClient, base: str, hook) -> tuple[httpx.Response, float]:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    r = await client.post(base + hook.path, content=hook.body, headers=hook.headers)
    return r, time.monotonic() - started


async def _eventually(check, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        with_result = await check()
        if with_result:
            return with_result
        if time.monotonic() > deadline:
            raise AssertionError(f"not in {timeout:.0f} s: {what}")
        await asyncio.sleep(0.2)


async def test_postgres_down_refuses_fast_with_503_and_recovers_without_restart(world: World) -> None:
    run = uuid.uuid4().hex[:6]
    token = await login(world.bases, world.agents[0], PASSWORD)
    hooks = [inbound(world, run, i, customer=i) for i in range(3)]  # one per platform
    await asyncio.to_thread(world.cluster.postgres.stop, "immediate")
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            for base in world.bases:
                for hook in hooks:
                    r, took = await _post(client, base, hook)
                    assert r.status_code == 503, (hook.path, r.status_code, r.text[:300])
                    assert r.headers.get("retry-after"), "a 503 without Retry-After"
                    assert took < 1.0, f"the refusal took {took:.2f} s"
                ready = await client.get(f"{base}/readyz")
                assert ready.status_code == 503 and ready.json()["checks"]["database"] is False, ready.text
                status, body = await graphql(client, base, READ, {}, token)
                assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE", (status, body)
    finally:
        await asyncio.to_thread(world.cluster.postgres.start)
    async with httpx.AsyncClient(timeout=10) as client:
        for base in world.bases:  # the same processes, not restarted
            for hook in hooks:

                async def accepted(base: str = base, hook=hook) -> bool:  # type: ignore[no-untyped-def]
                    return (await _post(client, base, hook))[0].status_code == 200

                await _eventually(accepted, 30, f"{base} accepting webhooks again")
            status, body = await graphql(client, base, READ, {}, token)
            assert status == 200 and "errors" not in body, body
    rows = await world.cluster.sql("SELECT text FROM messages WHERE text LIKE $1", f"{run}:%")
    assert sorted(r["text"] for r in rows) == sorted(f"{run}:{i}" for i in range(3)), "stored once each"


async def test_redis_down_serves_reads_and_webhooks_and_jobs_resume(world: World) -> None:
    run = uuid.uuid4().hex[:6]
    token = await login(world.bases, world.agents[0], PASSWORD)
    wa = world.fakes["whatsapp"]
    first = inbound(world, run, 0, customer=0)  # a WhatsApp customer (customer % 3 == 0)
    async with httpx.AsyncClient(timeout=10) as client:
        assert (await _post(client, world.bases[0], first))[0].status_code == 200
        rows = await world.cluster.sql("SELECT conversation_id FROM messages WHERE text = $1", f"{run}:0")
        conversation = to_global_id("Conversation", rows[0]["conversation_id"])
        sent_before = len(wa.sent)
        world.cluster.redis.kill()
        try:
            # A process that starts now comes up and takes webhooks.
            world.cluster.apis[1].restart()

            async def healthy() -> bool:
                try:
                    return (await client.get(f"{world.bases[1]}/healthz")).status_code == 200
                except httpx.HTTPError:
                    return False

            await _eventually(healthy, 60, "an API process starting while Redis is down")
            for i, base in enumerate(world.bases):
                hook = inbound(world, run, 10 + i * 3, customer=3 + i * 3)  # a new WhatsApp customer
                r, _ = await _post(client, base, hook)
                assert r.status_code == 200, (base, r.status_code, r.text[:300])
                status, body = await graphql(client, base, READ, {}, token)
                assert status == 200 and "errors" not in body, (base, body)
                # Still ready (it serves), reported degraded: a probe must not drop every pod now.
                ready = await client.get(f"{base}/readyz")
                assert ready.status_code == 200 and "bus" in ready.json()["degraded"], ready.text
            reply = {"conversationId": conversation, "clientMessageId": f"{run}-r", "text": f"{run} reply"}
            status, body = await graphql(client, world.bases[0], SEND, {"input": reply}, token)
            assert status == 200 and body["data"]["sendMessage"]["status"] == "QUEUED", body
        finally:
            await asyncio.to_thread(world.cluster.redis.start)
        # The send asked for while Redis was down goes out once it is back (task outbox).

        async def sent() -> bool:
            return any(m.get("text", {}).get("body") == f"{run} reply" for m in wa.sent[sent_before:])

        await _eventually(sent, 90, "the reply queued during the Redis outage reaching WhatsApp")
        await graphql_until_ok(client, world.bases, READ, {}, token)
    copies = [m for m in wa.sent if m.get("text", {}).get("body") == f"{run} reply"]
    assert len(copies) == 1, f"sent {len(copies)} times"
    await world.cluster.wait_ready()
