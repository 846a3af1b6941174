"""bench/sealed_bodies: what encrypting message bodies at rest (ENCRYPT_MESSAGE_BODIES) costs ingest
and reading. The raw baseline is the same ingest with sealing off, alternated with sealing on in
one run (load drifts): group-commit ingest (resolvers/ingest_group.py, the webhook path without
HTTP) and reading a conversation page through message_view (what every query does).

    DATABASE_URL=... REDIS_URL=... .venv/bin/python -m bench.sealed_bodies   (BENCH_N, BENCH_CONCURRENCY)
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from dataclasses import replace

from bench.common import (
    bench_channel,
    bench_database,
    percentile,
    require_production_env,
    run_load,
    text_message,
)

N = int(os.environ.get("BENCH_N", "3000"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "64"))
CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "500"))
READS = int(os.environ.get("BENCH_READS", "300"))
ROUNDS = 2


async def main() -> None:
    require_production_env()
    from connectors.base import InboundMessage
    from core import crypto
    from core.db import close_orm, init_orm
    from core.settings import get_settings
    from core.sql import fetch
    from resolvers import ingest_group
    from resolvers.shapes import MESSAGE_COLUMNS, message_view

    run = uuid.uuid4().hex[:6]
    modes = {"off": replace(get_settings(), encrypt_message_bodies=False)}
    modes["sealed"] = replace(modes["off"], encrypt_message_bodies=True)
    async with bench_database() as db_url:
        await init_orm(db_url)
        channel = await bench_channel()

        def message(label: str, i: int) -> InboundMessage:
            text = f"Olá, meu pedido {i} não chegou, quero o reembolso da entrega ({label})"
            return text_message(run, label, i, customers=CUSTOMERS, text=text)

        await run_load(
            CUSTOMERS,
            CONCURRENCY,
            lambda i: ingest_group.store_alone(channel.id, "whatsapp", message("warm", i)),
        )
        ingest: dict[str, list[tuple[float, float]]] = {}
        reads: dict[str, list[float]] = {}
        for k, mode in enumerate(("off", "sealed") * ROUNDS):
            crypto.get_settings = lambda mode=mode: modes[mode]  # type: ignore[assignment]
            seconds, latencies = await run_load(
                N,
                CONCURRENCY,
                lambda i, k=k, mode=mode: ingest_group.store_message(
                    channel.id, "whatsapp", message(mode, k * N + i)
                ),
            )
            ingest.setdefault(mode, []).append((N / seconds, percentile(latencies, 99)))
            ids = [
                r["id"]
                for r in await fetch(
                    "SELECT id FROM messages WHERE channel_id = $1 AND platform_message_id LIKE $2",
                    channel.id,
                    f"wamid.{run}.{mode}.%",
                )
            ] or [0]
            started = time.perf_counter()
            for j in range(READS):  # a page of 50 of this round's messages, opened where sealed
                page = [ids[(j * 50 + x) % len(ids)] for x in range(50)]
                rows = await fetch(
                    f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ANY($1::bigint[])", page
                )
                [message_view(r) for r in rows]
            reads.setdefault(mode, []).append(READS / (time.perf_counter() - started))
        sealed_rows = await fetch("SELECT count(*) AS n FROM messages WHERE text LIKE 'pytake:sealed:%'")
        await close_orm()
    print(f"\nbench/sealed_bodies  N={N} concurrency={CONCURRENCY} customers={CUSTOMERS}")
    for mode in ("off", "sealed"):
        for rate, p99 in ingest[mode]:
            print(f"  ingest {mode:>6}: {rate:8.0f} msgs/s   p99 {p99 * 1000:.1f} ms")
        for rate in reads[mode]:
            print(f"  read   {mode:>6}: {rate:8.0f} pages of 50/s")
    off, on = (sum(r for r, _ in ingest[m]) / ROUNDS for m in ("off", "sealed"))
    read_off, read_on = (sum(reads[m]) / ROUNDS for m in ("off", "sealed"))
    print(f"  ingest sealed / off: {on / off:.2f}x   reads sealed / off: {read_on / read_off:.2f}x")
    print(f"  sealed rows stored: {sealed_rows[0]['n']} (of {N * ROUNDS} ingested with sealing on)")


if __name__ == "__main__":
    asyncio.run(main())
