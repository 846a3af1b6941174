"""Scenarios 1 and 3: webhooks of three platforms from many customers while an API process is
SIGKILLed, Redis is SIGKILLed and PostgreSQL is stopped in immediate mode (each restarted), and
live inbox views on both API processes all the while. Every webhook is eventually acknowledged,
every message stored once, no customer's conversation split, and every live view receives every
inbox event exactly once, in order."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter

from tests.faults.conftest import PASSWORD, World, setting
from tests.faults.load import LiveView, deliver_webhooks, login
from tests.faults.platforms import inbound

WEBHOOKS = setting("FAULTS_WEBHOOKS", 2000)
CUSTOMERS = setting("FAULTS_CUSTOMERS", 200)
SUBSCRIBERS = setting("FAULTS_SUBSCRIBERS", 20)
CONCURRENCY = setting("FAULTS_CONCURRENCY", 24)


async def _faults(world: World, acked: list[int], log: list[str]) -> None:
    """Each fault at a point of the run (by acknowledged webhooks, so small runs get them too)."""
    cluster = world.cluster

    async def at(fraction: float) -> None:
        while acked[0] < WEBHOOKS * fraction:
            await asyncio.sleep(0.05)

    def note(what: str) -> None:
        log.append(f"{time.time():.1f} {what}")

    await at(0.15)
    cluster.apis[0].kill()
    note("api0 SIGKILL")
    await asyncio.sleep(2)
    cluster.apis[0].start()
    note("api0 restarted")
    await at(0.35)
    cluster.redis.kill()
    note("redis SIGKILL")
    await asyncio.sleep(3)
    await asyncio.to_thread(cluster.redis.start)
    note("redis back")
    await at(0.6)
    await asyncio.to_thread(cluster.postgres.stop, "immediate")
    note("postgres stopped (immediate)")
    await asyncio.sleep(4)
    await asyncio.to_thread(cluster.postgres.start)
    note("postgres back")


async def test_ingest_and_live_views_survive_kills_and_outages(world: World) -> None:
    run = uuid.uuid4().hex[:6]
    customers = [random.randrange(CUSTOMERS) for _ in range(WEBHOOKS)]
    hooks = [inbound(world, run, i, c) for i, c in enumerate(customers)]
    tokens = [await login(world.bases, email, PASSWORD) for email in world.agents]
    start = (await world.cluster.sql("SELECT COALESCE(max(seq), 0) AS s FROM events"))[0]["s"]
    views = [LiveView(world.bases, tokens[i % len(tokens)], start, home=i) for i in range(SUBSCRIBERS)]
    for view in views:
        view.start()
    acked = [0]
    fault_log: list[str] = []
    faults = asyncio.create_task(_faults(world, acked, fault_log))

    def progress(n: int) -> None:
        acked[0] = n

    stats = await deliver_webhooks(world.bases, hooks, concurrency=CONCURRENCY, on_progress=progress)
    await asyncio.wait_for(faults, 60)  # the last fault's restart may end after the last webhook
    print(
        f"\ningest: {WEBHOOKS} webhooks, {stats.attempts} attempts, answers {dict(stats.answers)}; {fault_log}"
    )

    # 1. Every webhook eventually 2xx; every message stored exactly once; no conversation split.
    assert not stats.unacknowledged, f"{len(stats.unacknowledged)} webhooks never acknowledged"
    assert len(fault_log) == 6, f"not every fault happened: {fault_log}"
    await world.cluster.wait_ready()
    rows = await world.cluster.sql(
        "SELECT text, count(*) AS n FROM messages WHERE direction = 'inbound' AND text LIKE $1 GROUP BY text",
        f"{run}:%",
    )
    stored = {r["text"]: r["n"] for r in rows}
    assert len(stored) == WEBHOOKS, f"{WEBHOOKS - len(stored)} acknowledged messages are missing"
    assert all(n == 1 for n in stored.values()), {t: n for t, n in stored.items() if n > 1}
    split = await world.cluster.sql(
        "SELECT m.customer_id, count(DISTINCT c.id) AS n FROM (SELECT DISTINCT conversation_id, "
        "(SELECT customer_id FROM conversations WHERE id = conversation_id) AS customer_id FROM messages "
        "WHERE text LIKE $1) m JOIN conversations c ON c.customer_id = m.customer_id GROUP BY m.customer_id "
        "HAVING count(DISTINCT c.id) > 1",
        f"{run}:%",
    )
    assert not split, f"customers with their conversation split: {[dict(r) for r in split]}"
    customers_seen = await world.cluster.sql(
        "SELECT count(DISTINCT c.customer_id) AS n FROM messages m JOIN conversations c ON c.id = m.conversation_id "
        "WHERE m.text LIKE $1",
        f"{run}:%",
    )
    assert customers_seen[0]["n"] == len(set(customers)), "one customer became several"

    # 3. Every live view gets every inbox event once, in order, across its reconnects.
    expected = [
        r["seq"]
        for r in await world.cluster.sql(
            "SELECT seq FROM events WHERE stream = 'inbox' AND seq > $1 ORDER BY seq", start
        )
    ]
    assert len(expected) >= len(set(customers)), "fewer inbox events than new conversations"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and any(v.seqs[-1:] != expected[-1:] for v in views):
        await asyncio.sleep(0.5)
    for view in views:
        await view.stop()
    reconnects = sum(v.reconnects for v in views)
    print(
        f"live views: {len(views)} × {len(expected)} events, {reconnects} reconnects, errors {sum((v.errors for v in views), start=Counter())}"
    )
    expired = sum(v.errors["next:CURSOR_EXPIRED"] for v in views)
    assert not expired, f"{expired} resubscriptions with a current cursor were told CURSOR_EXPIRED"
    for i, view in enumerate(views):
        assert view.seqs == expected, (
            f"view {i}: {len(view.seqs)} events received, {len(expected)} expected; "
            f"duplicates {len(view.seqs) - len(set(view.seqs))}, missing {len(set(expected) - set(view.seqs))}, "
            f"in order {view.seqs == sorted(view.seqs)}"
        )
    # Nothing reached uvicorn as an unhandled exception while all this went on.
    assert "Exception in ASGI application" not in world.cluster.logs()
