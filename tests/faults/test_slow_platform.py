"""Scenario 5: one platform answering only after 10 s does not delay the others. LINE is made
slow and given more sends than the workers have threads; WhatsApp replies made right after go
out in about their normal time."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx

from tests.faults.conftest import PASSWORD, World, setting
from tests.faults.load import graphql_until_ok, login
from tests.faults.test_send_faults import SEND, conversations_for

SLOW_SENDS = setting("FAULTS_SLOW_SENDS", 20)  # more than 2 workers × 8 threads
SLOW_SECONDS = 10.0


async def _send_all(world: World, token: str, targets: list[tuple[str, str]]) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        await asyncio.gather(
            *(
                graphql_until_ok(
                    client,
                    world.bases,
                    SEND,
                    {"input": {"conversationId": c, "clientMessageId": t, "text": t}},
                    token,
                )
                for t, c in targets
            )
        )


async def _latencies(world: World, prefix: str, count: int, timeout: float) -> list[float]:
    deadline = time.monotonic() + timeout
    while True:
        rows = await world.cluster.sql(
            "SELECT EXTRACT(EPOCH FROM sent_at - created_at) AS s FROM messages "
            "WHERE direction = 'outbound' AND text LIKE $1 AND sent_at IS NOT NULL",
            f"{prefix}%",
        )
        if len(rows) == count:
            return sorted(float(r["s"]) for r in rows)
        assert time.monotonic() < deadline, f"{len(rows)} of {count} '{prefix}' sends done in {timeout:.0f} s"
        await asyncio.sleep(0.2)


async def test_a_slow_platform_does_not_delay_sends_to_others(world: World) -> None:
    run = uuid.uuid4().hex[:6]
    wa_customers = [3 * k + 3000 for k in range(10)]
    line_customers = [3 * k + 3001 for k in range(10)]
    conversations = await conversations_for(world, run, wa_customers + line_customers)
    token = await login(world.bases, world.agents[0], PASSWORD)

    normal = [(f"{run} before {n}", conversations[wa_customers[n % 10]]) for n in range(10)]
    await _send_all(world, token, normal)
    baseline = await _latencies(world, f"{run} before", len(normal), 60)

    world.fakes["line"].app.delay = SLOW_SECONDS
    try:
        slow = [(f"{run} slow {n}", conversations[line_customers[n % 10]]) for n in range(SLOW_SENDS)]
        await _send_all(world, token, slow)
        await asyncio.sleep(1)  # the slow sends have taken what they can
        during = [(f"{run} during {n}", conversations[wa_customers[n % 10]]) for n in range(20)]
        await _send_all(world, token, during)
        latencies = await _latencies(world, f"{run} during", len(during), 120)
    finally:
        world.fakes["line"].app.delay = 0.0
    print(
        f"\nslow platform: WhatsApp send latency before {baseline[-1]:.2f} s max, while LINE takes {SLOW_SECONDS:.0f} s: {latencies[len(latencies) // 2]:.2f} s p50, {latencies[-1]:.2f} s max"
    )
    assert latencies[-1] < max(3.0, baseline[-1] * 3), f"WhatsApp sends waited behind LINE's: {latencies}"
    await _latencies(world, f"{run} slow", SLOW_SENDS, 180)  # and the slow ones still go out
