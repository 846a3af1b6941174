"""bench/metrics_history: what recording the metrics history (resolvers/metrics_presence.py) costs
on the hot paths, against the same work without it, in one run:

- new conversations through the ingest rule (each message from a new customer, so each inserts a
  conversation and fires the state trigger), with the history triggers on and off, alternated;
- typing as the web app reports it (a ping every 3 s while typing) through the coalescing recorder,
  against one insert per ping;
- the hourly horizon's pass (rollups.refresh_running) over the open conversations, against reading
  their state rows raw.

    DATABASE_URL=... REDIS_URL=... .venv/bin/python -m bench.metrics_history   (BENCH_N, BENCH_CONCURRENCY)
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from datetime import UTC, datetime

from bench.common import bench_channel, bench_database, percentile, require_production_env, run_load

N = int(os.environ.get("BENCH_N", "2000"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "32"))
ROUNDS = 2
TRIGGERS = ("trg_conversation_state_insert", "trg_conversation_state_update")


async def main() -> None:
    require_production_env()
    from connectors.base import InboundMessage, MessageKind
    from core.db import close_orm, init_orm
    from core.sql import fetch, in_transaction
    from resolvers import ingest_group, metrics_presence, rollups

    run = uuid.uuid4().hex[:6]
    async with bench_database() as db_url:
        await init_orm(db_url)
        channel = await bench_channel()

        def message(label: str, i: int) -> InboundMessage:
            return InboundMessage(
                platform_message_id=f"wamid.{run}.{label}.{i}",
                sender_id=f"55{label}{i:09d}",  # a new customer each time: a new conversation
                sent_at=datetime.now(UTC),
                kind=MessageKind.TEXT,
                text=f"{label} {i}",
                sender_name=f"Customer {i}",
            )

        async def triggers(on: bool) -> None:
            for name in TRIGGERS:
                await fetch(f"ALTER TABLE conversations {'ENABLE' if on else 'DISABLE'} TRIGGER {name}")

        results: dict[str, list[tuple[float, float]]] = {}
        for k, (label, on) in enumerate((("history off", False), ("history on", True)) * ROUNDS):
            await triggers(on)
            prefix = f"{k}{int(on)}"
            seconds, latencies = await run_load(
                N,
                CONCURRENCY,
                lambda i, prefix=prefix: ingest_group.store_message(
                    channel.id, "whatsapp", message(prefix, i)
                ),
            )
            results.setdefault(label, []).append((N / seconds, percentile(latencies, 99)))
        await triggers(True)
        logged = (await fetch("SELECT count(*) AS n FROM conversation_state_log"))[0]["n"]

        # Typing: 100 agents typing for 5 minutes, a ping every 3 s each.
        pings = [(c, c + 1_000_000, 1000.0 + 3 * t) for t in range(100) for c in range(100)]
        conversation = (await fetch("SELECT id FROM conversations LIMIT 1"))[0]["id"]
        started = time.perf_counter()
        for _c, user, _at in pings:
            await fetch(
                "INSERT INTO conversation_work_log (conversation_id, user_id, kind) VALUES ($1, $2, 'typing')",
                conversation,
                user,
            )
        raw_typing = time.perf_counter() - started
        started = time.perf_counter()
        written = 0
        for _c, user, at in pings:
            written += await metrics_presence.typed(conversation, user + 1_000_000, now=at)
        coalesced_typing = time.perf_counter() - started

        # The hourly pass over every open conversation, each open for the past 6 hours (6 hour pieces;
        # those made while the history was off have no state rows, so no facts).
        ids = [
            r["id"] for r in await fetch("SELECT id FROM conversations WHERE status IN ('open', 'pending')")
        ]
        await fetch("UPDATE conversation_state_log SET at = at - interval '6 hours'")
        async with in_transaction() as conn:
            await metrics_presence.tick(conn)
        started = time.perf_counter()
        await fetch(
            "SELECT id, conversation_id, at, status, team_id, assignee_id, queued FROM conversation_state_log "
            "WHERE conversation_id = ANY($1::int[])",
            ids,
        )
        raw_read = time.perf_counter() - started
        started = time.perf_counter()
        async with in_transaction() as conn:
            await rollups.refresh_running(conn, ids)
        hourly = time.perf_counter() - started
        pieces = (await fetch("SELECT count(*) AS n FROM metric_facts"))[0]["n"]
        await close_orm()

    print(f"\nbench/metrics_history  N={N} new conversations per round, concurrency={CONCURRENCY}")
    for label, runs in results.items():
        for rate, p99 in runs:
            print(f"  {label:>12}: {rate:8.0f} new conversations/s   p99 {p99 * 1000:.1f} ms")
    off, on = (sum(r for r, _ in runs) / len(runs) for runs in results.values())
    print(f"  history on / off: {on / off:.2f}x  ({logged} state rows written)")
    print(
        f"  typing: {len(pings)} pings → {written} rows coalesced ({written / len(pings):.2f} per ping), "
        f"{coalesced_typing * 1000:.0f} ms against {raw_typing * 1000:.0f} ms for a row per ping "
        f"({coalesced_typing / raw_typing:.2f}x)"
    )
    print(
        f"  hourly pass over {len(ids)} open conversations ({pieces} facts): {hourly * 1000:.0f} ms "
        f"({hourly / max(1, pieces) * 1000:.3f} ms per fact), {hourly / raw_read:.1f}x reading their state rows raw"
    )


if __name__ == "__main__":
    asyncio.run(main())
