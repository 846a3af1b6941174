"""bench/ingest_parts: what PostgreSQL spends per ingested message, and on what.

PyTake's group statement (`pytake_ingest_group`, groups of 10 as webhooks form them under load) is
run on a bench database, and PostgreSQL's CPU per message is read from its backends' /proc counters.
Then parts of what the statement writes are taken away, one after another, on that same scratch
database, and the statement is measured again: the conversation's secondary indexes (the inbox's
orderings and filters; not the customer's, which the statement reads through), then full-text search (the trigger building `search_tsv` and its GIN
index), then the message's secondary indexes. The differences say what each part costs; whatever
remains is the rule itself (dedupe, customer, conversation, message, two logged events).

    DATABASE_URL=... REDIS_URL=... .venv/bin/python -m bench.ingest_parts   (BENCH_GROUPS)

PostgreSQL must run on this machine (its backends' CPU is read from /proc).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid

from bench.common import bench_channel, bench_database, require_production_env, run_load, text_message
from bench.inbox import cpu_seconds

GROUPS = int(os.environ.get("BENCH_GROUPS", "150"))
SIZE = 10
ROUNDS = 2  # each measured twice; the lower counts (the first may warm caches)

PARTS = [
    ("everything", ""),
    (
        "without the conversation's secondary indexes",
        "DROP INDEX idx_conversatio_status_5d4c6c, idx_conversatio_assigne_f2e212, "
        "idx_conversatio_identit_b5761d, idx_conversatio_last_me_inbox, idx_conversations_labels, idx_conversations_snoozed, idx_conversations_queue, "
        "idx_conversations_assignee_open",
    ),
    (
        "and without full-text search",
        "DROP TRIGGER messages_words ON messages; DROP INDEX idx_messages_search",
    ),
    (
        "and without the message's secondary indexes",
        "DROP INDEX idx_messages_template_experiment, idx_messages_outbound_queued, idx_messages_id_brin, "
        "idx_messages_conversation_created, idx_messages_lane, idx_messages_convers_f5b5a9",
    ),
]


def _cpu_seconds(pids: list[int]) -> float:
    return sum(cpu_seconds(pids).values())  # backends that ended are not counted


async def main() -> None:
    require_production_env()
    from connectors.base import InboundMessage
    from core.db import close_orm, init_orm
    from core.sql import db
    from resolvers import ingest_group

    run = uuid.uuid4().hex[:6]
    # Events logged by the statement itself, as in an API process; not published (no bus here).
    ingest_group.logs_inline = lambda: True

    async def not_published(batch: object) -> None:
        return None

    ingest_group.publish_logged = not_published  # type: ignore[assignment]
    async with bench_database() as db_url:
        await init_orm(db_url)
        channel = await bench_channel()

        def message(label: str, i: int) -> InboundMessage:
            text = f"message {i} about order {label}-{i % 97}: where is my parcel, it was due yesterday"
            return text_message(run, label, i, customers=1000, text=text)

        await run_load(  # a thousand customers with a conversation each, as bench/ingest has
            1000, 32, lambda i: ingest_group.store_alone(channel.id, "whatsapp", message("warm", i))
        )
        conn = db()

        async def backends() -> list[int]:
            rows = await conn.execute_query_dict(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            )
            return [row["pid"] for row in rows]

        results: list[tuple[str, float, float]] = []
        for step, (label, sql) in enumerate(PARTS):
            if sql:
                await conn.execute_script(sql)
            best = (float("inf"), float("inf"))
            for round_ in range(ROUNDS):
                pids = await backends()
                cpu0, wall0 = _cpu_seconds(pids), time.perf_counter()
                for g in range(GROUPS):
                    base = (step * ROUNDS + round_) * GROUPS * SIZE + g * SIZE
                    items = [(channel.id, "whatsapp", message("m", base + j), True) for j in range(SIZE)]
                    await ingest_group.store_group(items)
                n = GROUPS * SIZE
                cpu = _cpu_seconds(sorted(set(pids) | set(await backends()))) - cpu0
                best = min(best, (cpu / n * 1000, (time.perf_counter() - wall0) / n * 1000))
            results.append((label, *best))
        await close_orm()
    print(f"\nbench/ingest_parts  {GROUPS} groups of {SIZE} messages, one after another")
    first = previous = results[0][1]
    for label, cpu, wall in results:
        change = f"{cpu - previous:+.3f}" if label != results[0][0] else "      "
        print(f"  {label:46} PostgreSQL CPU {cpu:.3f} ms/msg {change}   wall {wall:.3f} ms/msg")
        previous = cpu
    print(f"  all parts taken away save {first - results[-1][1]:.3f} of {first:.3f} ms per message")


if __name__ == "__main__":
    asyncio.run(main())
