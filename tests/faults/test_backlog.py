"""Scenario 6: replies queued while every worker is down drain when the workers return, in order
per conversation, at the platform's pace: past its throughput limit it answers 429, and those
sends are retried, not failed."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections import defaultdict

import httpx

from tests.faults.conftest import PASSWORD, World, setting
from tests.faults.load import graphql_until_ok, login
from tests.faults.test_send_faults import SEND, conversations_for

BACKLOG = setting("FAULTS_BACKLOG", 400)
CONVERSATIONS = setting("FAULTS_BACKLOG_CONVERSATIONS", 50)
PLATFORM_RATE = setting("FAULTS_PLATFORM_RATE", 40)  # sends a second the fake WhatsApp accepts


async def test_a_backlog_drains_in_order_per_conversation_honouring_429s(world: World) -> None:
    run = uuid.uuid4().hex[:6]
    customers = [3 * k + 6000 for k in range(CONVERSATIONS)]  # WhatsApp customers
    conversations = await conversations_for(world, run, customers)
    token = await login(world.bases, world.agents[0], PASSWORD)
    wa = world.fakes["whatsapp"]
    for worker in world.cluster.workers:
        worker.kill()
    try:
        pending = iter(range(BACKLOG))
        async with httpx.AsyncClient(timeout=10) as client:

            async def agent() -> None:
                for n in pending:
                    customer = customers[n % CONVERSATIONS]
                    text = f"{run} backlog {n}"
                    reply = {"conversationId": conversations[customer], "clientMessageId": text, "text": text}
                    await graphql_until_ok(client, world.bases, SEND, {"input": reply}, token)

            await asyncio.gather(*(agent() for _ in range(16)))
        sent_before = len(wa.sent)
        wa.app.rate_limit = PLATFORM_RATE
        throttled_before = wa.app.throttled
    finally:
        for worker in world.cluster.workers:
            worker.start()
    started = time.monotonic()
    try:
        deadline = started + max(240, BACKLOG / 5)
        while True:
            rows = await world.cluster.sql(
                "SELECT status, count(*) AS n FROM messages WHERE direction = 'outbound' AND text LIKE $1 GROUP BY status",
                f"{run} backlog %",
            )
            counts = {r["status"]: r["n"] for r in rows}
            if counts.get("queued", 0) == 0:
                break
            assert time.monotonic() < deadline, f"backlog not drained: {counts}"
            await asyncio.sleep(0.5)
        took = time.monotonic() - started
    finally:
        wa.app.rate_limit = 0
    assert counts == {"sent": BACKLOG}, f"every reply sent, none failed on the 429s: {counts}"
    by_recipient: dict[str, list[int]] = defaultdict(list)
    pattern = re.compile(rf"^{run} backlog (\d+)$")
    for message in wa.sent[sent_before:]:
        match = pattern.match(message.get("text", {}).get("body", ""))
        if match:
            by_recipient[message["to"]].append(int(match.group(1)))
    assert sum(len(v) for v in by_recipient.values()) == BACKLOG, "each reply reached WhatsApp once"
    # The order is the conversation's (the order the replies were stored in), not the agents'
    # numbering: sixteen clients send at once.
    stored = await world.cluster.sql(
        "SELECT i.external_id AS recipient, m.text FROM messages m JOIN customer_identities i ON i.id = m.identity_id "
        "WHERE m.direction = 'outbound' AND m.text LIKE $1 ORDER BY m.id",
        f"{run} backlog %",
    )
    expected: dict[str, list[int]] = defaultdict(list)
    for row in stored:
        expected[row["recipient"]].append(int(row["text"].rsplit(" ", 1)[1]))
    out_of_order = {to: ns for to, ns in by_recipient.items() if ns != expected[to]}
    assert not out_of_order, f"{len(out_of_order)} conversations got their replies out of order"
    print(
        f"\nbacklog: {BACKLOG} replies over {CONVERSATIONS} conversations drained in {took:.0f} s "
        f"({BACKLOG / took:.0f}/s, platform limit {PLATFORM_RATE}/s), {wa.app.throttled - throttled_before} answered 429"
    )
