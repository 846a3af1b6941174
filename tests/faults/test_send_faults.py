"""Scenario 2: agents' replies through the API by clients that retry with the same
clientMessageId, while a worker is SIGKILLed in the middle of sends and Redis is SIGKILLed.
Every reply is stored once and reaches its platform; exactly once on LINE (its X-Line-Retry-Key
makes a resend harmless); on WhatsApp, which has no idempotency key, a send the platform took
just before its worker died is sent again once its lease runs out: those are counted (README
"Faults" states the window)."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from typing import Any

import httpx

from schema.relay import to_global_id
from tests.faults.conftest import PASSWORD, World, setting
from tests.faults.load import deliver_webhooks, graphql_until_ok, login
from tests.faults.platforms import inbound

REPLIES = setting("FAULTS_REPLIES", 200)
CONVERSATIONS = setting("FAULTS_REPLY_CONVERSATIONS", 40)
SEND = "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id status } }"


def sent_texts(world: World, run: str) -> dict[str, Counter[str]]:
    """What each fake platform accepted of this run, by text."""
    whatsapp = Counter(
        m["text"]["body"]
        for m in world.fakes["whatsapp"].sent
        if m.get("text", {}).get("body", "").startswith(run)
    )
    line = Counter(
        msg["text"]
        for m in world.fakes["line"].sent
        for msg in m.get("messages", [])
        if msg.get("text", "").startswith(run)
    )
    return {"whatsapp": whatsapp, "line": line}


async def conversations_for(world: World, run: str, customers: list[int]) -> dict[int, str]:
    """One inbound message from each customer; their conversations' global ids."""
    hooks = [inbound(world, run, i, c) for i, c in enumerate(customers)]
    stats = await deliver_webhooks(world.bases, hooks, concurrency=8)
    assert not stats.unacknowledged
    rows = await world.cluster.sql(
        "SELECT text, conversation_id FROM messages WHERE text LIKE $1", f"{run}:%"
    )
    by_text = {r["text"]: r["conversation_id"] for r in rows}
    return {c: to_global_id("Conversation", by_text[f"{run}:{i}"]) for i, c in enumerate(customers)}


async def test_replies_reach_platforms_once_through_worker_and_redis_kills(world: World) -> None:
    run = uuid.uuid4().hex[:6]
    # WhatsApp customers are ≡ 0 (mod 3), LINE ones ≡ 1 (platforms.customer_platform).
    customers = [3 * k + (k % 2) for k in range(CONVERSATIONS)]
    conversations = await conversations_for(world, run, customers)
    platform_of = {c: ("whatsapp" if c % 3 == 0 else "line") for c in customers}
    token = await login(world.bases, world.agents[0], PASSWORD)
    for fake in ("whatsapp", "line"):
        world.fakes[fake].app.delay = 0.05  # a platform takes a moment: kills land mid-send
    replies = [(f"{run} reply {n}", random.choice(customers)) for n in range(REPLIES)]
    done = [0]
    attempts: list[int] = []

    async def faults(log: list[str]) -> None:
        while done[0] < REPLIES * 0.3:
            await asyncio.sleep(0.05)
        world.cluster.workers[0].kill()
        log.append("worker0 SIGKILL")
        await asyncio.sleep(2)
        world.cluster.workers[0].start()
        while done[0] < REPLIES * 0.6:
            await asyncio.sleep(0.05)
        world.cluster.redis.kill()
        log.append("redis SIGKILL")
        await asyncio.sleep(2)
        await asyncio.to_thread(world.cluster.redis.start)
        log.append("redis back")

    async with httpx.AsyncClient(timeout=10) as client:
        pending = iter(replies)

        async def agent() -> None:
            for text, customer in pending:
                reply: dict[str, Any] = {
                    "conversationId": conversations[customer],
                    "clientMessageId": text,
                    "text": text,
                }
                _, tries = await graphql_until_ok(client, world.bases, SEND, {"input": reply}, token)
                attempts.append(tries)
                done[0] += 1

        fault_log: list[str] = []
        fault_task = asyncio.create_task(faults(fault_log))
        started = time.monotonic()
        await asyncio.gather(*(agent() for _ in range(12)))
        await asyncio.wait_for(fault_task, 60)
    assert fault_log == ["worker0 SIGKILL", "redis SIGKILL", "redis back"], fault_log

    # Stored once each, whatever the retries.
    rows = await world.cluster.sql(
        "SELECT client_message_id, status FROM messages WHERE direction = 'outbound' AND text LIKE $1",
        f"{run} reply%",
    )
    assert len(rows) == REPLIES == len({r["client_message_id"] for r in rows}), (
        "a retried reply was stored twice"
    )

    # Every reply reaches its platform: the lost jobs are recovered by the stale-send sweep.
    async def all_sent() -> bool:
        statuses = await world.cluster.sql(
            "SELECT count(*) AS n FROM messages WHERE direction = 'outbound' AND text LIKE $1 AND status = 'queued'",
            f"{run} reply%",
        )
        return statuses[0]["n"] == 0

    deadline = time.monotonic() + 240
    while not await all_sent():
        assert time.monotonic() < deadline, "replies still queued four minutes after the faults"
        await asyncio.sleep(1)
    took = time.monotonic() - started
    failed = await world.cluster.sql(
        "SELECT text, error_reason FROM messages WHERE direction = 'outbound' AND text LIKE $1 AND status = 'failed'",
        f"{run} reply%",
    )
    assert not failed, [dict(r) for r in failed[:5]]
    sent = sent_texts(world, run)
    expected = {p: Counter(t for t, c in replies if platform_of[c] == p) for p in ("whatsapp", "line")}
    for platform in ("whatsapp", "line"):
        missing = set(expected[platform]) - set(sent[platform])
        assert not missing, f"{platform}: {len(missing)} replies never reached the platform"
    line_dupes = {t: n for t, n in sent["line"].items() if n > 1}
    assert not line_dupes, f"LINE honours a retry key, yet got duplicates: {line_dupes}"
    wa_dupes = sum(n - 1 for n in sent["whatsapp"].values())
    print(
        f"\nsends: {REPLIES} replies in {took:.0f} s, {sum(attempts) - len(attempts)} client retries, "
        f"faults {fault_log}; WhatsApp duplicates (no idempotency key, the documented window): {wa_dupes}"
    )
    for fake in ("whatsapp", "line"):
        world.fakes[fake].app.delay = 0.0
    # Only a send in flight when its worker died can be doubled: at most one worker's WhatsApp
    # slots (jobs/outbound.SENDS_PER_PLATFORM) for the one kill.
    assert wa_dupes <= 4, f"{wa_dupes} WhatsApp duplicates: more than the sends one worker had in flight"
