"""bench/ingest_sql: the ingest rule without HTTP, one message per statement versus group commit,
in one process and one run, so the database side of ingest is measured apart from the web server.

    DATABASE_URL=... REDIS_URL=... .venv/bin/python -m bench.ingest_sql   (BENCH_N, BENCH_CONCURRENCY)
"""

from __future__ import annotations

import asyncio
import os
import uuid

from bench.common import (
    bench_channel,
    bench_database,
    percentile,
    require_production_env,
    run_load,
    text_message,
)

N = int(os.environ.get("BENCH_N", "4000"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "64"))
CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "1000"))
ROUNDS = 2
INFLIGHT = int(os.environ.get("BENCH_GROUP_INFLIGHT", "0"))  # 0: the module's default


async def main() -> None:
    require_production_env()
    from connectors.base import InboundMessage
    from core.db import close_orm, init_orm
    from resolvers import ingest_group

    run = uuid.uuid4().hex[:6]
    if INFLIGHT:
        ingest_group.GROUP_INFLIGHT = INFLIGHT
    async with bench_database() as db_url:
        await init_orm(db_url)
        channel = await bench_channel()

        def message(label: str, i: int) -> InboundMessage:
            return text_message(run, label, i, customers=CUSTOMERS)

        async def alone(i: int) -> None:
            await ingest_group.store_alone(channel.id, "whatsapp", message("alone", i))

        async def grouped(i: int) -> None:
            await ingest_group.store_message(channel.id, "whatsapp", message("grouped", i))

        await run_load(
            CUSTOMERS,
            CONCURRENCY,
            lambda i: ingest_group.store_alone(  # customers exist
                channel.id, "whatsapp", message("warm", i)
            ),
        )
        results: dict[str, list[tuple[float, float]]] = {}
        rounds = (("one per statement", alone), ("group commit", grouped)) * ROUNDS  # alternated: load drifts
        for k, (label, one) in enumerate(rounds):
            seconds, latencies = await run_load(N, CONCURRENCY, lambda i, one=one, k=k: one(k * N + i))
            results.setdefault(label, []).append((N / seconds, percentile(latencies, 99)))
        await close_orm()
    group = ingest_group.current_group()
    print(f"\nbench/ingest_sql  N={N} concurrency={CONCURRENCY} customers={CUSTOMERS}")
    for label, runs in results.items():
        for rate, p99 in runs:
            print(f"  {label:>18}: {rate:8.0f} msgs/s   p99 {p99 * 1000:.1f} ms")
    alone_rate, group_rate = (sum(r for r, _ in runs) / len(runs) for runs in results.values())
    print(f"  group / one-per-statement: {group_rate / alone_rate:.2f}x")
    if group is not None:
        grouped_n = N * ROUNDS
        print(
            f"  groups: {group.groups_run} for {grouped_n} messages ({grouped_n / group.groups_run:.1f} per group)"
        )


if __name__ == "__main__":
    asyncio.run(main())
