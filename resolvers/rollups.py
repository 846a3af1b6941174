"""The roll-ups the dashboards read, kept by a job that catches up from the event log.

Any event on a conversation's stream (a message, a status, an activity) or about a conversation
on the inbox stream marks that conversation; the job re-derives the conversation's facts from its
raw rows (resolvers/metrics_facts.py), compares them with the facts it stored last time, and adds
the difference to the hourly and daily roll-ups: a status arriving hours later, a backfill or a
relabel moves exactly what changed, in the bucket it belongs to. Several workers may run it: the
cursor's row lock (`FOR UPDATE SKIP LOCKED`) lets one in at a time and the others return at once,
and the cursor moves in the same transaction as the roll-ups, so a crash repeats a batch whole or
not at all. The event log is ordered by commit (core/events.py), so no event can appear behind it.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import numpy as np
from tortoise.backends.base.client import BaseDBAsyncClient

from core import cursors
from core.events import committed, emit
from core.sql import fetch, in_transaction
from resolvers import metrics_content, metrics_presence
from resolvers import metrics_histogram as histogram
from resolvers.metrics_facts import Fact, facts_of
from resolvers.sla import BusinessHours

log = logging.getLogger(__name__)

CURSOR = "rollups"
_CURSOR_SQL = "SELECT last_seq FROM metric_cursors WHERE name = $1 FOR UPDATE"
METRICS_STREAM = "metrics"  # METRICS_CHANGED: a batch changed the roll-ups (live dashboards recount)
# Events per transaction. A conversation named by many events in one batch is re-derived once, and
# re-deriving is what costs (it reads the conversation whole), so a busy log is read in large
# batches; the conversations are then refreshed CHUNK at a time to bound the rows held in memory.
BATCH = 5000
CHUNK = 200
ANY_PLATFORM, ANY_ID, ANY_LABEL = "*", -1, ""
GRAINS = ("h", "d")
ACTIVITY_TYPES = ("assigned", "unassigned", "transferred", "escalated", "flow_handed_off", "status_changed")

Key = tuple[str, str, datetime, str, int, int, int, str]


def bucket_of(at: datetime, grain: str) -> datetime:
    at = at.astimezone(UTC)
    hour = at.replace(minute=0, second=0, microsecond=0)
    return hour if grain == "h" else hour.replace(hour=0)


def keys_of(fact: Fact) -> list[Key]:
    """The roll-up rows a fact counts in: the full row (every dimension) once for any label and
    once per label, and the marginal rows (the total, each single dimension, each label)."""
    p, c, t, a = fact.platform, fact.channel_id, fact.team_id, fact.agent_id
    rows = [
        (p, c, t, a, ANY_LABEL),
        (ANY_PLATFORM, ANY_ID, ANY_ID, ANY_ID, ANY_LABEL),
        (p, ANY_ID, ANY_ID, ANY_ID, ANY_LABEL),
        (ANY_PLATFORM, c, ANY_ID, ANY_ID, ANY_LABEL),
        (ANY_PLATFORM, ANY_ID, t, ANY_ID, ANY_LABEL),
        (ANY_PLATFORM, ANY_ID, ANY_ID, a, ANY_LABEL),
    ]
    for label in fact.labels:
        rows += [(p, c, t, a, label), (ANY_PLATFORM, ANY_ID, ANY_ID, ANY_ID, label)]
    return [(fact.metric, grain, bucket_of(fact.at, grain), *row) for grain in GRAINS for row in rows]


class Delta:
    __slots__ = ("business", "hist", "hist_business", "n", "total")

    def __init__(self) -> None:
        self.n = 0
        self.total = 0.0
        self.business = 0.0
        self.hist: np.ndarray | None = None
        self.hist_business: np.ndarray | None = None

    def add(self, fact: Fact, sign: int) -> None:
        self.n += sign * fact.n
        if fact.value is None:
            return
        business = fact.business if fact.business is not None else fact.value
        self.total += sign * fact.value
        self.business += sign * business
        if fact.metric in metrics_presence.SUMS:
            return  # a sum of seconds: the total is the answer, no histogram
        if self.hist is None:
            self.hist, self.hist_business = histogram.empty(), histogram.empty()
        self.hist[histogram.bin_of(fact.value)] += sign
        self.hist_business[histogram.bin_of(business)] += sign  # type: ignore[index]


def deltas(old: Iterable[Fact], new: Iterable[Fact]) -> dict[Key, Delta]:
    changes = Counter(new)
    changes.subtract(Counter(old))
    out: dict[Key, Delta] = defaultdict(Delta)
    for fact, times in changes.items():
        if times:
            for key in keys_of(fact):
                out[key].add(fact, times)
    return out


# ---- reading the raw rows -----------------------------------------------------------------------


async def _raw(conn: BaseDBAsyncClient, ids: list[int]) -> tuple[list, dict, dict, list]:
    conversations = await fetch(
        "SELECT id, platform, channel_id, team_id, assignee_id, labels, priority FROM conversations WHERE id = ANY($1::int[])",
        ids,
        conn=conn,
    )
    messages: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in await fetch(
        "SELECT id, conversation_id, direction, sender_id, status, platform, channel_id, created_at, sent_at, "
        "delivered_at, read_at, (metadata ? 'flow' OR COALESCE(metadata->>'automated', '') = 'true') AS automated "
        "FROM messages WHERE conversation_id = ANY($1::int[])",
        ids,
        conn=conn,
    ):
        messages[row["conversation_id"]].append(row)
    activities: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in await fetch(
        "SELECT id, conversation_id, actor_id, type, data, created_at FROM conversation_activities "
        "WHERE conversation_id = ANY($1::int[]) AND type = ANY($2::text[])",
        ids,
        list(ACTIVITY_TYPES),
        conn=conn,
    ):
        activities[row["conversation_id"]].append(row)
    policies = await fetch("SELECT * FROM sla_policies ORDER BY position, id", conn=conn)
    return conversations, messages, activities, policies


def calendar_for(conversation: dict[str, Any], policies: list[dict[str, Any]]) -> BusinessHours | None:
    """The SLA policy's calendar that would time this conversation (resolvers/sla.py's match)."""
    for policy in policies:
        if all(
            policy[k] is None or policy[k] == conversation[c]
            for k, c in (("team_id", "team_id"), ("priority", "priority"), ("platform", "platform"))
        ):
            return BusinessHours.of(policy)
    return None


async def current_facts(conn: BaseDBAsyncClient, ids: list[int]) -> dict[int, list[Fact]]:
    """The facts the definitions give now, from the raw rows (the direct computation). Ids are
    conversations; minus a user's id is that agent's own history (resolvers/metrics_presence.py)."""
    conversations, messages, activities, policies = await _raw(conn, [i for i in ids if i > 0])
    calendars = {c["id"]: calendar_for(c, policies) for c in conversations}
    # Templates, flows and CSAT (resolvers/metrics_content.py).
    templated, runs, rated = await metrics_content.raw(conn, [i for i in ids if i > 0])
    out = {
        c["id"]: facts_of(c, messages[c["id"]], activities[c["id"]], calendars[c["id"]])
        + metrics_content.facts_of(
            c, messages[c["id"]], activities[c["id"]], templated[c["id"]], runs[c["id"]], rated[c["id"]]
        )
        for c in conversations
    }
    recorded = await metrics_presence.facts_for(
        conn, conversations, messages, activities, calendars, [-i for i in ids if i < 0]
    )
    for subject, facts in recorded.items():
        out.setdefault(subject, []).extend(facts)
    return out


async def _stored_facts(
    conn: BaseDBAsyncClient, ids: list[int], metrics: Iterable[str] | None = None
) -> list[tuple[int, int, Fact]]:
    """(row id, conversation id, fact) of every stored fact of these conversations (of these
    metrics only, when given)."""
    rows = await fetch(
        "SELECT id, conversation_id, metric, at, n, value, business, platform, channel_id, team_id, agent_id, "
        "labels FROM metric_facts WHERE conversation_id = ANY($1::int[]) "
        "AND ($2::text[] IS NULL OR metric = ANY($2::text[]))",
        ids,
        None if metrics is None else list(metrics),
        conn=conn,
    )
    return [
        (
            r["id"],
            r["conversation_id"],
            Fact(
                r["metric"],
                r["at"],
                r["n"],
                r["value"],
                r["business"],
                r["platform"],
                r["channel_id"],
                r["team_id"],
                r["agent_id"],
                tuple(r["labels"]),
            ),
        )
        for r in rows
    ]


async def _running_facts(conn: BaseDBAsyncClient, ids: list[int]) -> dict[int, list[Fact]]:
    """Only the facts of the state and presence histories (metrics_presence.RUNNING): all that a
    move of the hourly horizon changes. Reads no message."""
    conversations = await fetch(
        "SELECT id, platform, channel_id, team_id, assignee_id, labels, priority FROM conversations WHERE id = ANY($1::int[])",
        [i for i in ids if i > 0],
        conn=conn,
    )
    policies = await fetch("SELECT * FROM sla_policies ORDER BY position, id", conn=conn)
    calendars = {c["id"]: calendar_for(c, policies) for c in conversations}
    return await metrics_presence.facts_for(
        conn, conversations, {}, {}, calendars, [-i for i in ids if i < 0], running_only=True
    )


async def refresh_running(conn: BaseDBAsyncClient, ids: Iterable[int]) -> int:
    """The hourly horizon moved (resolvers/metrics_presence.tick): re-derive only what it feeds,
    so the hourly pass over every open conversation reads no messages. Same rules as `refresh`."""
    ids = sorted(set(ids))
    return sum(
        [await _refresh_chunk(conn, ids[i : i + CHUNK], running=True) for i in range(0, len(ids), CHUNK)]
    )


# ---- writing ------------------------------------------------------------------------------------


async def refresh(conn: BaseDBAsyncClient, ids: Iterable[int]) -> int:
    """Bring the facts and roll-ups of these conversations up to date (inside the caller's
    transaction, which must hold the cursor's lock). Returns how many roll-up rows changed."""
    ids = sorted(set(ids))
    return sum([await _refresh_chunk(conn, ids[i : i + CHUNK]) for i in range(0, len(ids), CHUNK)])


async def _refresh_chunk(conn: BaseDBAsyncClient, ids: list[int], running: bool = False) -> int:
    new = await (_running_facts(conn, ids) if running else current_facts(conn, ids))
    # Match the stored facts against the fresh ones: only those that no longer hold are deleted
    # and only the new ones inserted (a new message adds a few facts to a long conversation; it
    # does not rewrite all of them).
    unmatched = Counter((cid, f) for cid, facts in new.items() for f in facts)
    gone_ids: list[int] = []
    gone: list[Fact] = []
    for row_id, cid, fact in await _stored_facts(conn, ids, metrics_presence.RUNNING if running else None):
        if unmatched[(cid, fact)] > 0:
            unmatched[(cid, fact)] -= 1
        else:
            gone_ids.append(row_id)
            gone.append(fact)
    added = [(cid, f) for (cid, f), times in unmatched.items() for _ in range(times)]
    if gone_ids:
        await conn.execute_query("DELETE FROM metric_facts WHERE id = ANY($1::bigint[])", [gone_ids])
    await _insert_facts(conn, added)
    changes = deltas(gone, (f for _, f in added))
    await _apply(conn, changes)
    return len(changes)


async def _insert_facts(conn: BaseDBAsyncClient, fresh: list[tuple[int, Fact]]) -> None:
    if not fresh:
        return
    columns = list(
        zip(
            *[
                (
                    cid,
                    f.metric,
                    f.at,
                    f.n,
                    f.value,
                    f.business,
                    f.platform,
                    f.channel_id,
                    f.team_id,
                    f.agent_id,
                    "{"
                    + ",".join('"' + x.replace("\\", "\\\\").replace('"', '\\"') + '"' for x in f.labels)
                    + "}",
                )
                for cid, f in fresh
            ],
            strict=True,
        )
    )
    await conn.execute_query(
        "INSERT INTO metric_facts (conversation_id, metric, at, n, value, business, platform, channel_id, team_id, "
        "agent_id, labels) SELECT c, m, a, n, v, b, p, ch, t, ag, l::text[] FROM unnest($1::int[], $2::text[], "
        "$3::timestamptz[], $4::int[], $5::float8[], $6::float8[], $7::text[], $8::int[], $9::int[], $10::int[], "
        "$11::text[]) AS u(c, m, a, n, v, b, p, ch, t, ag, l)",
        [list(col) for col in columns],
    )


async def _apply(conn: BaseDBAsyncClient, changes: dict[Key, Delta]) -> None:
    """Read the touched rows, add, write back (safe: the cursor lock serialises every writer)."""
    changes = {k: d for k, d in changes.items() if d.n or d.total or (d.hist is not None and d.hist.any())}
    if not changes:
        return
    keys = list(changes)
    cols = list(zip(*keys, strict=True))
    existing = await fetch(
        "SELECT r.metric, r.grain, r.bucket, r.platform, r.channel_id, r.team_id, r.agent_id, r.label, r.n, r.total, "
        "r.total_business, r.hist, r.hist_business FROM metric_rollups r JOIN unnest($1::text[], $2::text[], "
        "$3::timestamptz[], $4::text[], $5::int[], $6::int[], $7::int[], $8::text[]) AS k(m, g, b, p, c, t, a, l) "
        "ON (r.metric, r.grain, r.bucket, r.platform, r.channel_id, r.team_id, r.agent_id, r.label) = "
        "(k.m, k.g, k.b, k.p, k.c, k.t, k.a, k.l) FOR UPDATE OF r",
        *[list(c) for c in cols],
        conn=conn,
    )
    current = {
        (
            r["metric"],
            r["grain"],
            r["bucket"],
            r["platform"],
            r["channel_id"],
            r["team_id"],
            r["agent_id"],
            r["label"],
        ): r
        for r in existing
    }
    rows = []
    for key, delta in changes.items():
        row = current.get(key)
        n = (row["n"] if row else 0) + delta.n
        total = (row["total"] if row else 0.0) + delta.total
        business = (row["total_business"] if row else 0.0) + delta.business
        hist = hist_business = None
        if delta.hist is not None or (row and row["hist"]):
            hist = histogram.from_bytes(row["hist"] if row else None)
            hist_business = histogram.from_bytes(row["hist_business"] if row else None)
            if delta.hist is not None:
                hist += delta.hist
                hist_business += delta.hist_business
        rows.append(
            (
                *key,
                n,
                total,
                business,
                None if hist is None else histogram.to_bytes(hist),
                None if hist_business is None else histogram.to_bytes(hist_business),
            )
        )
    values = [list(c) for c in zip(*rows, strict=True)]
    await conn.execute_query(
        "INSERT INTO metric_rollups (metric, grain, bucket, platform, channel_id, team_id, agent_id, label, n, total, "
        "total_business, hist, hist_business) SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], "
        "$4::text[], $5::int[], $6::int[], $7::int[], $8::text[], $9::bigint[], $10::float8[], $11::float8[], "
        "$12::bytea[], $13::bytea[]) ON CONFLICT (metric, grain, platform, channel_id, team_id, agent_id, label, bucket) "
        "DO UPDATE SET n = excluded.n, total = excluded.total, total_business = excluded.total_business, "
        "hist = excluded.hist, hist_business = excluded.hist_business",
        values,
    )


# ---- the job ------------------------------------------------------------------------------------


def _conversations_in(events: list[dict[str, Any]]) -> set[int]:
    ids = set()
    for event in events:
        stream = event["stream"]
        if stream.startswith("conversation:"):
            ids.add(int(stream.split(":", 1)[1]))
        elif stream.startswith("access:"):  # teams changed: the agent's own facts carry their team
            ids.add(-int(stream.split(":", 1)[1]))
        elif event["conversation_id"] is not None:
            ids.add(int(event["conversation_id"]))
    return ids


async def catch_up(batch: int = BATCH, wait: bool = False) -> int | None:
    """Fold every new event into the roll-ups. None when another worker holds the cursor, unless
    `wait` (a run woken by new events, core/wake.py): then one such run waits for the holder to
    finish (core/cursors.py), since the holder may have read its batch before those events
    committed. A batch that changed the roll-ups emits METRICS_CHANGED on METRICS_STREAM in the
    same transaction, so live dashboards (`dashboardUpdates`) recount when there is something new."""
    await fetch("INSERT INTO metric_cursors (name, last_seq) VALUES ($1, 0) ON CONFLICT DO NOTHING", CURSOR)
    done = 0
    while True:
        changed = 0
        async with in_transaction() as conn:
            rows = await fetch(_CURSOR_SQL + " SKIP LOCKED", CURSOR, conn=conn)
            events: list[dict[str, Any]] = []
            recorded: set[int] = set()
            running: set[int] = set()
            if rows:
                # Recorded history with no event (work sessions, presence) and, once an hour,
                # whatever is still running (resolvers/metrics_presence.py).
                recorded = await metrics_presence.dirty(conn, batch)
                running = await metrics_presence.tick(conn)
                events = await fetch(
                    "SELECT seq, stream, CASE WHEN payload->'conversation'->>'id' ~ '^[0-9]{1,9}$' "
                    "THEN (payload->'conversation'->>'id')::int END AS conversation_id FROM events "
                    "WHERE seq > $1 ORDER BY seq LIMIT $2",
                    rows[0]["last_seq"],
                    batch,
                    conn=conn,
                )
            if events or recorded or running:
                touched = _conversations_in(events) | recorded
                changed = await refresh(conn, touched)
                changed += await refresh_running(conn, running - touched)
                if changed:
                    through = events[-1]["seq"] if events else rows[0]["last_seq"]
                    await emit(conn, METRICS_STREAM, "METRICS_CHANGED", {"through_seq": through})
                if events:
                    await conn.execute_query(
                        "UPDATE metric_cursors SET last_seq = $2 WHERE name = $1", [CURSOR, events[-1]["seq"]]
                    )
                done += len(events) + len(recorded) + len(running)
        if not rows:  # another worker has it
            if wait and await cursors.wait_turn(_CURSOR_SQL, [CURSOR], CURSOR):
                wait = False
                continue
            return None if done == 0 else done
        wait = False  # in once: the cursor is ours to the end of the log
        if changed:
            committed()
        if not events and not recorded and not running:
            return done


async def rebuild(conversation_ids: Iterable[int]) -> int:
    """Re-derive these conversations now (a backfill written without events), under the cursor's
    lock like the job."""
    await fetch("INSERT INTO metric_cursors (name, last_seq) VALUES ($1, 0) ON CONFLICT DO NOTHING", CURSOR)
    async with in_transaction() as conn:
        await fetch("SELECT last_seq FROM metric_cursors WHERE name = $1 FOR UPDATE", CURSOR, conn=conn)
        return await refresh(conn, conversation_ids)
