"""bench/rollups_long: the roll-up job's cost per new message on a long conversation.

One conversation of BENCH_CYCLES care cycles (BENCH_PER_CYCLE messages each: the customer writes,
an agent answers, statuses, a templated send, a resolution), folded once; then new messages
arrive BENCH_NEW at a time (each with its event, as the ingest and send rules emit them) and the
job folds them: the milliseconds of `catch_up` per new message, and the messages and stored facts
it read (resolvers/rollups.READ, when the code has it), over BENCH_ROUNDS rounds. BENCH_OPEN=1:
the last cycle is never resolved and every round's messages continue it (a long chat, the soak's
case), rather than each round opening a new cycle.

    DATABASE_URL=… REDIS_URL=… python -m bench.rollups_long
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from datetime import UTC, datetime, timedelta

import orjson

from bench.common import bench_database, percentile, require_production_env

CYCLES = int(os.environ.get("BENCH_CYCLES", "20"))
PER_CYCLE = int(os.environ.get("BENCH_PER_CYCLE", "25"))
NEW = int(os.environ.get("BENCH_NEW", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "10"))
OPEN = os.environ.get("BENCH_OPEN") == "1"


async def main() -> None:
    require_production_env()
    from core.db import close_orm, init_orm
    from core.events import committed, conversation_stream, emit
    from core.sql import fetch, in_transaction
    from models import Channel, Customer, CustomerIdentity, User
    from resolvers import rollups

    async with bench_database() as url:
        await init_orm(url)
        try:
            channel = await Channel.create(platform="whatsapp", name="bench", config={}, secrets_encrypted="")
            customer = await Customer.create(name="Cliente")
            identity = await CustomerIdentity.create(
                customer=customer, channel=channel, platform="whatsapp", external_id=uuid.uuid4().hex
            )
            agent = await User.create(
                email="agent@bench.local", name="Agent", password_hash="x", role="agent", is_active=True
            )
            rows = await fetch(
                "INSERT INTO conversations (channel_id, customer_id, identity_id, platform, status, unread_count, "
                "priority, labels, escalation_level, last_message_at, created_at, updated_at) VALUES ($1, $2, $3, "
                "'whatsapp', 'open', 0, 'normal', '{vip}', 0, now(), now(), now()) RETURNING id",
                channel.id,
                customer.id,
                identity.id,
            )
            conversation = rows[0]["id"]
            at = datetime.now(UTC) - timedelta(days=CYCLES + ROUNDS + 2)

            async def message(direction: str, when: datetime, **extra: object) -> dict[str, object]:
                metadata = orjson.dumps(extra.get("metadata", {})).decode()
                row = await fetch(
                    "INSERT INTO messages (conversation_id, channel_id, platform, direction, kind, status, sender_id, "
                    "attachments, metadata, created_at, sent_at, delivered_at, send_attempts) SELECT id, channel_id, "
                    "platform, $2, 'text', $3, $4, '[]', $5::jsonb, $6, $7, $8, 0 FROM conversations WHERE id = $1 "
                    "RETURNING id, created_at",
                    conversation,
                    direction,
                    "received" if direction == "inbound" else "delivered",
                    None if direction == "inbound" else agent.id,
                    metadata,
                    when,
                    when,
                    None if direction == "inbound" else when + timedelta(seconds=3),
                )
                return {
                    "id": row[0]["id"],
                    "conversation_id": conversation,
                    "created_at": row[0]["created_at"],
                }

            async def activity(when: datetime, kind: str, **data: object) -> dict[str, object]:
                row = await fetch(
                    "INSERT INTO conversation_activities (conversation_id, actor_id, type, data, created_at) "
                    "VALUES ($1, NULL, $2, $3::jsonb, $4) RETURNING id, created_at",
                    conversation,
                    kind,
                    orjson.dumps(data).decode(),
                    when,
                )
                return {
                    "id": row[0]["id"],
                    "conversation_id": conversation,
                    "created_at": row[0]["created_at"],
                }

            async def announce(events: list[tuple[str, str, dict[str, object]]]) -> None:
                async with in_transaction() as conn:
                    for type_, key, row in events:
                        await emit(conn, conversation_stream(conversation), type_, {key: row})
                committed()
                await fetch("SELECT * FROM pytake_sequence_events(100000)")  # no event log runs here

            async def cycle(
                start: datetime, count: int, resolve: bool
            ) -> list[tuple[str, str, dict[str, object]]]:
                events = []
                for k in range(count):
                    when = start + timedelta(minutes=k)
                    if k == 1:
                        events.append(
                            (
                                "ACTIVITY_ADDED",
                                "activity",
                                await activity(when, "assigned", to_user_id=agent.id),
                            )
                        )
                    direction = "inbound" if k % 2 == 0 else "outbound"
                    extra = {"metadata": {"response_template": {"id": 1, "version": 1}}} if k == 3 else {}
                    events.append(("MESSAGE_CREATED", "message", await message(direction, when, **extra)))
                if resolve:
                    done = start + timedelta(minutes=count, seconds=30)
                    events.append(
                        ("ACTIVITY_ADDED", "activity", await activity(done, "status_changed", to="resolved"))
                    )
                return events

            for c in range(CYCLES):
                last = c == CYCLES - 1
                await announce(await cycle(at + timedelta(days=c), PER_CYCLE, resolve=not (OPEN and last)))
            t0 = time.perf_counter()
            await rollups.catch_up()
            first = time.perf_counter() - t0
            total = (await fetch("SELECT count(*) AS n FROM messages"))[0]["n"]
            print(f"conversation: {total} messages in {CYCLES} cycles, first fold {first * 1000:.0f} ms")
            per_message, read_messages, read_facts = [], [], []
            for r in range(ROUNDS):
                # New messages: a new cycle opens (a reopening) and runs; the cycle before is resolved.
                # Open: they continue the open cycle (its customer writes, the agent answers).
                events = await cycle(at + timedelta(days=CYCLES + r), NEW, resolve=not OPEN)
                await announce(events)
                read = getattr(rollups, "READ", None)
                if read is not None:
                    read.clear()
                t0 = time.perf_counter()
                await rollups.catch_up()
                per_message.append((time.perf_counter() - t0) * 1000 / NEW)
                if read is not None:
                    read_messages.append(read["messages"])
                    read_facts.append(read["facts"])
            total = (await fetch("SELECT count(*) AS n FROM messages"))[0]["n"]
            print(
                f"after {ROUNDS} rounds of {NEW} new messages ({total} in all): catch_up per new message "
                f"p50 {percentile(per_message, 50):.2f} ms, max {max(per_message):.2f} ms"
            )
            if read_messages:
                print(f"read per round: messages {read_messages}, stored facts {read_facts}")
        finally:
            await close_orm()


if __name__ == "__main__":
    asyncio.run(main())
