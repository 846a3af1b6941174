"""Message retention per channel: bodies older than the channel's `message_body_days` are removed
by a periodic job, while the rows stay (counts, timestamps, statuses, directions, kinds): the
text, attachment references and metadata go, as an erasure does to one customer's messages.

The job is enqueued by every API process's upkeep timer; `claim_run` lets one of them through
per period, however many workers pick the job up at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson

from core import tasks
from core.auth import Actor
from core.sql import fetch, fetchrow, in_transaction
from resolvers import audit
from resolvers.auth import require_admin
from resolvers.errors import BadInput, NotFound
from resolvers.privacy import expire_exports, kept_metadata, strip_attachments

RUN_NAME = "privacy_upkeep"
MAX_DAYS = 36500
_BATCH = 500


async def set_retention(actor: Actor | None, channel_id: int, days: int | None) -> dict[str, Any]:
    """`days` None removes the policy (bodies are kept for ever)."""
    actor = require_admin(actor)
    if days is not None and not 0 < days <= MAX_DAYS:
        raise BadInput(f"messageBodyDays must be between 1 and {MAX_DAYS}", field="messageBodyDays")
    async with in_transaction() as conn:
        channel = await conn.execute_query_dict(
            "SELECT id FROM channels WHERE id = $1 FOR UPDATE", [channel_id]
        )
        if not channel:
            raise NotFound(f"channel {channel_id} does not exist", field="channelId")
        previous = await conn.execute_query_dict(
            "SELECT message_body_days FROM retention_policies WHERE channel_id = $1", [channel_id]
        )
        before = previous[0]["message_body_days"] if previous else None
        if days is None:
            await conn.execute_query("DELETE FROM retention_policies WHERE channel_id = $1", [channel_id])
        else:
            await conn.execute_query(
                "INSERT INTO retention_policies (channel_id, message_body_days, updated_at) VALUES ($1, $2, now()) "
                "ON CONFLICT (channel_id) DO UPDATE SET message_body_days = $2, updated_at = now()",
                [channel_id, days],
            )
        await audit.record(
            conn,
            actor,
            "channel.retention",
            "Channel",
            channel_id,
            audit.before_after({"message_body_days": before}, {"message_body_days": days}),
        )
    return {"channel_id": channel_id, "message_body_days": days}


async def list_retention(actor: Actor | None) -> list[dict[str, Any]]:
    require_admin(actor)
    return await fetch("SELECT channel_id, message_body_days FROM retention_policies ORDER BY channel_id")


async def claim_run(name: str, every: timedelta) -> bool:
    """True for exactly one caller per period: the row's timestamp moves only if the last start
    is older than `every`, and PostgreSQL lets one UPDATE through at a time."""
    await fetch(
        "INSERT INTO scheduled_runs (name, last_started_at) VALUES ($1, '-infinity') ON CONFLICT (name) DO NOTHING",
        name,
    )
    row = await fetchrow(
        "UPDATE scheduled_runs SET last_started_at = now() "
        "WHERE name = $1 AND last_started_at <= now() - make_interval(secs => $2) RETURNING name",
        name,
        every.total_seconds(),
    )
    return row is not None


async def apply_retention() -> int:
    """Remove the expired bodies of every channel with a policy; returns how many messages."""
    policies = await fetch("SELECT channel_id, message_body_days FROM retention_policies ORDER BY channel_id")
    total = 0
    for policy in policies:
        while True:
            done = await _expire_batch(policy["channel_id"], policy["message_body_days"])
            total += done
            if done < _BATCH:
                break
    return total


async def _expire_batch(channel_id: int, days: int) -> int:
    async with in_transaction() as conn:
        rows = await conn.execute_query_dict(
            "SELECT id, attachments::text AS a, metadata::text AS m FROM messages "
            "WHERE channel_id = $1 AND created_at < now() - make_interval(days => $2) "
            "AND NOT (metadata ? 'body_removed') AND (text IS NOT NULL OR attachments <> '[]'::jsonb) "
            "ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED",
            [channel_id, days, _BATCH],
        )
        for row in rows:
            await conn.execute_query(
                "UPDATE messages SET text = NULL, attachments = $2::jsonb, metadata = $3::jsonb WHERE id = $1",
                [
                    row["id"],
                    orjson.dumps(strip_attachments(orjson.loads(row["a"]))).decode(),
                    orjson.dumps(kept_metadata(orjson.loads(row["m"]), "retention")).decode(),
                ],
            )
    return len(rows)


async def requeue_pending_exports() -> int:
    """Exports whose job was lost (a crash between commit and enqueue) are asked for again; the
    job does nothing for an export already built."""
    rows = await fetch(
        "SELECT id FROM customer_exports WHERE status = 'pending' AND created_at < now() - interval '1 minute'"
    )
    for row in rows:
        tasks.BUILD_CUSTOMER_EXPORT.send(row["id"])
    return len(rows)


async def privacy_upkeep(every: timedelta, export_days: float) -> dict[str, int] | None:
    """The periodic job's body: None when another worker already ran it this period."""
    if not await claim_run(RUN_NAME, every):
        return None
    return {
        "message_bodies": await apply_retention(),
        "exports_expired": await expire_exports(export_days),
        "exports_requeued": await requeue_pending_exports(),
    }
