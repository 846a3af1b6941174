"""The roll-ups the dashboards read, kept by a job that catches up from the event log.

Any event on a conversation's stream (a message, a status, an activity) or about a conversation
on the inbox stream marks that conversation; the job re-derives the conversation's facts from its
raw rows (resolvers/metrics_facts.py), compares them with the facts it stored last time, and adds
the difference to the hourly and daily roll-ups: a status arriving hours later, a backfill or a
relabel moves exactly what changed, in the bucket it belongs to.

Only what the events can change is re-derived. Facts carry their `segment`, and
`metric_segments` keeps the walk's checkpoints (each cycle's opening, and every CHECKPOINT_ROWS
rows inside a cycle: resolvers/metrics_facts.py) with its state there. An event that names its
row's time (a message created or updated, an activity; a work session's rows, IDLE_CAP earlier)
re-derives from the last checkpoint before that time to the end: those rows (and IDLE_CAP before)
and stored facts are read, the earlier ones are not, so a new message in a long open cycle reads
about CHECKPOINT_ROWS rows, not the cycle. When the new rows change facts from before the
checkpoint (they end the cycle it is inside, whose handling is derived from the whole cycle, or
first reply to or resolve after an earlier templated send), the walk reports it and is re-derived
from the segment they reach. Anything else (an event without that time, changed dimensions or
calendar or segment layout: the signature kept in segment 0, no checkpoint yet, `rebuild`)
re-derives the conversation whole.
Flow runs, CSAT and the state history are few rows per conversation and always derived whole
(segment -1). Several workers may run it: the
cursor's row lock (`FOR UPDATE SKIP LOCKED`) lets one in at a time and the others return at once,
and the cursor moves in the same transaction as the roll-ups, so a crash repeats a batch whole or
not at all. The event log is ordered by commit (core/events.py), so no event can appear behind it.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import orjson
from tortoise.backends.base.client import BaseDBAsyncClient

from core import cursors
from core.events import INBOX, committed, emit
from core.sql import fetch, in_transaction
from resolvers import metrics_content, metrics_presence
from resolvers import metrics_histogram as histogram
from resolvers.metrics_facts import Checkpoint, Derivation, Fact, walk_facts
from resolvers.sla import BusinessHours

log = logging.getLogger(__name__)

CURSOR = "rollups"
_CURSOR_SQL = "SELECT last_seq FROM metric_cursors WHERE name = $1 FOR UPDATE"
METRICS_STREAM = "metrics"  # METRICS_CHANGED: a batch changed the roll-ups (live dashboards recount)
# Events per transaction. A conversation named by many events in one batch is re-derived once, and
# re-deriving is what costs (it reads the cycles the events reach), so a busy log is read in large
# batches; the conversations are then refreshed in chunks that bound the rows held in memory: at
# most CHUNK conversations, and as many as make ROWS_PER_CHUNK rows (messages and stored facts read)
# at the rows per conversation the last chunk read. A conversation's open care cycle used to be
# re-read whole, so without the row bound a chunk of long open cycles grew with them, and the
# worker's heap kept each larger chunk's high-water mark (README "Soak"); a cycle's end and a
# re-derivation whole still read many rows at once.
BATCH = 5000
CHUNK = 200
ROWS_PER_CHUNK = 20_000
_chunk = CHUNK  # conversations per chunk now; carried from batch to batch
ANY_PLATFORM, ANY_ID, ANY_LABEL = "*", -1, ""
GRAINS = ("h", "d")
ACTIVITY_TYPES = ("assigned", "unassigned", "transferred", "escalated", "flow_handed_off", "status_changed")

Key = tuple[str, str, datetime, str, int, int, int, str]
# How stored facts are cut into segments and what a checkpoint's state holds: 2, checkpoints inside
# care cycles too (metrics_facts.CHECKPOINT_ROWS). Part of the signature, so a conversation stored
# in another layout (1: a segment per cycle) is re-derived whole by its next event, never misread.
SEGMENTS = 2
WHOLE = -1  # the segment of the facts derived whole every time (flows, CSAT, state history, agents)
LATER = datetime.max.replace(tzinfo=UTC)  # an event that changes no row the walk reads
_TIMED = {"MESSAGE_CREATED": "message", "MESSAGE_UPDATED": "message", "ACTIVITY_ADDED": "activity"}
_WHOLE_ONLY = ("FLOW_FINISHED", "CSAT_RECEIVED")  # events about rows only the WHOLE families read
# Events no roll-up reads anything from: a customer's attributes or identities changed (a merge or
# split that moves conversations says so on the inbox as well, CONVERSATION_UPDATED).
_NO_METRICS = ("CUSTOMER_UPDATED",)
# Rows read by the last refreshes (messages, stored facts) and conversations re-derived from a later
# cycle (resumed) or whole: what the tests and bench/metrics count.
READ: Counter[str] = Counter()


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


async def _raw(
    conn: BaseDBAsyncClient, ids: list[int], since: list[datetime | None]
) -> tuple[list, dict, dict, list]:
    """The conversations' rows the walk reads, from `since` on (per conversation, None: all)."""
    conversations = await fetch(
        "SELECT id, platform, channel_id, team_id, assignee_id, labels, priority FROM conversations WHERE id = ANY($1::int[])",
        ids,
        conn=conn,
    )
    messages: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in await fetch(
        "SELECT m.id, m.conversation_id, m.direction, m.sender_id, m.status, m.platform, m.channel_id, m.created_at, "
        "m.sent_at, m.delivered_at, m.read_at, (m.metadata ? 'flow' OR COALESCE(m.metadata->>'automated', '') = 'true') "
        "AS automated, m.metadata ? 'response_template' AS templated FROM unnest($1::int[], $2::timestamptz[]) AS b(cid, since) JOIN messages m "
        "ON m.conversation_id = b.cid AND m.created_at >= COALESCE(b.since, '-infinity')",
        ids,
        since,
        conn=conn,
    ):
        messages[row["conversation_id"]].append(row)
    READ["messages"] += sum(len(v) for v in messages.values())
    activities: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in await fetch(
        "SELECT a.id, a.conversation_id, a.actor_id, a.type, a.data, a.created_at "
        "FROM unnest($1::int[], $2::timestamptz[]) AS b(cid, since) JOIN conversation_activities a "
        "ON a.conversation_id = b.cid AND a.created_at >= COALESCE(b.since, '-infinity') WHERE a.type = ANY($3::text[])",
        ids,
        since,
        list(ACTIVITY_TYPES),
        conn=conn,
    ):
        activities[row["conversation_id"]].append(row)
    policies = await fetch("SELECT * FROM sla_policies ORDER BY position, id", conn=conn)
    return conversations, messages, activities, policies


def _policy_for(conversation: Mapping[str, Any], policies: list[dict[str, Any]]) -> dict[str, Any] | None:
    for policy in policies:
        if all(
            policy[k] is None or policy[k] == conversation[c]
            for k, c in (("team_id", "team_id"), ("priority", "priority"), ("platform", "platform"))
        ):
            return policy
    return None


def calendar_for(conversation: dict[str, Any], policies: list[dict[str, Any]]) -> BusinessHours | None:
    """The SLA policy's calendar that would time this conversation (resolvers/sla.py's match)."""
    policy = _policy_for(conversation, policies)
    return None if policy is None else BusinessHours.of(policy)


def signature(conversation: Mapping[str, Any], policies: list[dict[str, Any]]) -> str:
    """What every fact of the conversation is derived with besides its rows: its dimensions, the
    calendar's policy and the layout of its segments (SEGMENTS). A change of any re-derives the
    conversation whole."""
    return orjson.dumps(
        [
            SEGMENTS,
            conversation["platform"],
            conversation["channel_id"],
            conversation["team_id"],
            sorted(conversation["labels"] or ()),
            _policy_for(conversation, policies),
        ],
        default=str,
    ).decode()


class Derived:
    """The facts of a chunk of subjects from their first re-derived segment (`start`; 0: whole)
    on, with their segments, and the checkpoints to keep."""

    def __init__(self) -> None:
        self.facts: dict[int, list[tuple[int, Fact]]] = {}
        self.start: dict[int, int] = {}
        self.checkpoints: dict[int, list[Checkpoint]] = {}
        self.signatures: dict[int, str] = {}
        self.rows = 0  # messages read to derive them


async def _plan(
    conn: BaseDBAsyncClient,
    conversations: list[dict[str, Any]],
    policies: list[dict[str, Any]],
    since: Mapping[int, datetime | None],
) -> dict[int, Checkpoint | None]:
    """Per conversation, the checkpoint to resume its walk from (None: whole): the last one before
    the earliest time its new rows can change (a row at a checkpoint's instant may come before its
    message: the one before). Reads the signature and that checkpoint only."""
    wanted = [(int(c["id"]), since.get(int(c["id"]))) for c in conversations]
    wanted = [(cid, when) for cid, when in wanted if when is not None]
    kept: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if wanted:
        for row in await fetch(
            "SELECT s.conversation_id, s.segment, s.opened_at, s.message_id, s.state "
            "FROM unnest($1::int[], $2::timestamptz[]) AS b(cid, since) CROSS JOIN LATERAL ("
            "(SELECT * FROM metric_segments WHERE conversation_id = b.cid AND segment = 0) UNION ALL "
            "(SELECT * FROM metric_segments WHERE conversation_id = b.cid AND segment > 0 AND opened_at < b.since "
            "ORDER BY segment DESC LIMIT 1)) AS s ORDER BY s.conversation_id, s.segment",
            [cid for cid, _ in wanted],
            [when for _, when in wanted],
            conn=conn,
        ):
            kept[row["conversation_id"]].append(row)
    plan: dict[int, Checkpoint | None] = {int(c["id"]): None for c in conversations}
    for c in conversations:
        rows = kept[int(c["id"])]
        if len(rows) < 2 or rows[0]["segment"] != 0:
            continue
        if _json(rows[0]["state"]).get("signature") != signature(c, policies):
            continue
        plan[int(c["id"])] = _checkpoint(rows[1])
    return plan


async def _checkpoints(conn: BaseDBAsyncClient, wanted: Mapping[int, int]) -> dict[int, Checkpoint | None]:
    """These conversations' checkpoints of these segments (segment 0: None, whole)."""
    out: dict[int, Checkpoint | None] = {cid: None for cid in wanted}
    rows = await fetch(
        "SELECT s.conversation_id, s.segment, s.opened_at, s.message_id, s.state FROM unnest($1::int[], $2::int[]) "
        "AS b(cid, segment) JOIN metric_segments s ON s.conversation_id = b.cid AND s.segment = b.segment "
        "WHERE b.segment > 0",
        list(wanted),
        list(wanted.values()),
        conn=conn,
    )
    for row in rows:
        out[row["conversation_id"]] = _checkpoint(row)
    return out


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _checkpoint(row: Mapping[str, Any]) -> Checkpoint:
    return Checkpoint.of(row["segment"], row["opened_at"], row["message_id"], _json(row["state"]))


def _bounds(plan: Mapping[int, Checkpoint | None], ids: list[int]) -> list[datetime | None]:
    # Signs of work count IDLE_CAP at most: the rows from that long before the checkpoint on.
    cap = timedelta(seconds=metrics_presence.IDLE_CAP)
    return [None if plan[cid] is None else plan[cid].opened_at - cap for cid in ids]  # type: ignore[union-attr]


async def derive(
    conn: BaseDBAsyncClient, ids: list[int], since: Mapping[int, datetime | None] | None = None
) -> Derived:
    """The facts the definitions give now, from the raw rows. Ids are conversations; minus a user's
    id is that agent's own history (resolvers/metrics_presence.py). `since`: per conversation, the
    earliest time the new rows can change (missing or None: re-derive it whole)."""
    out = Derived()
    since = since or {}
    positive = [i for i in ids if i > 0]
    conversations = await fetch(
        "SELECT id, platform, channel_id, team_id, assignee_id, labels, priority FROM conversations WHERE id = ANY($1::int[])",
        positive,
        conn=conn,
    )
    policies = await fetch("SELECT * FROM sla_policies ORDER BY position, id", conn=conn)
    plan = await _plan(conn, conversations, policies, since)
    by_id = {int(c["id"]): c for c in conversations}
    order = list(by_id)
    walked: dict[int, Derivation] = {}
    messages: dict[int, list[dict[str, Any]]] = {}
    activities: dict[int, list[dict[str, Any]]] = {}
    todo = order
    while todo:
        # Walk from the planned checkpoints; a walk whose new rows reach facts before its
        # checkpoint (metrics_facts.Derivation.reaches) is walked again from the segment they reach.
        _, read, done, _ = await _raw(conn, todo, _bounds(plan, todo))
        again: dict[int, int] = {}
        for cid in todo:
            c, resume = by_id[cid], plan[cid]
            messages[cid], activities[cid] = read[cid], done[cid]
            out.rows += len(read[cid])
            walked[cid] = walk_facts(c, read[cid], done[cid], calendar_for(c, policies), resume)
            when = since.get(cid)
            reached = [segment for at, segment in walked[cid].reaches if when is not None and at >= when]
            if reached and resume is not None:
                again[cid] = min(reached)
        if again:
            READ["again"] += len(again)
            plan.update(await _checkpoints(conn, again))
        todo = list(again)
    READ["resumed"] += sum(resume is not None for resume in plan.values())
    READ["whole"] += sum(resume is None for resume in plan.values())
    bounds = _bounds(plan, order)
    templated, runs, rated = await metrics_content.raw(conn, order, bounds)
    work = await metrics_presence.work_rows(conn, order, bounds)
    states = await metrics_presence.state_rows(conn, order)
    until = await metrics_presence.horizon(conn)
    for cid in order:
        c, resume, walk = by_id[cid], plan[cid], walked[cid]
        start = 0 if resume is None else resume.segment
        calendar = calendar_for(c, policies)
        facts = walk.facts
        facts += [
            (walk.segment_of[mid], f)
            for mid, f in metrics_content.template_facts(c, messages[cid], activities[cid], templated[cid])
            if mid in walk.segment_of
        ]
        # A cycle that ended before the checkpoint it resumed inside keeps its stored handling.
        facts += [
            (segment, f)
            for segment, f in metrics_presence.handling_by_cycle(
                c, messages[cid], work[cid], walk.cycles, calendar
            )
            if segment >= start
        ]
        facts += [(WHOLE, f) for f in metrics_content.run_facts(c, runs[cid], rated[cid])]
        facts += [(WHOLE, f) for f in metrics_presence.load_facts(c, states[cid], until, calendar)]
        out.facts[cid] = facts
        out.start[cid] = start
        out.checkpoints[cid] = walk.checkpoints
        if resume is None:
            out.signatures[cid] = signature(c, policies)
    agents = [-i for i in ids if i < 0]
    if agents:
        for subject, facts in (await metrics_presence.facts_for(conn, [], {}, {}, {}, agents)).items():
            out.facts[subject] = [(WHOLE, f) for f in facts]
    for i in ids:
        out.start.setdefault(i, 0)  # gone (or an agent): everything stored is re-read
    return out


async def current_facts(conn: BaseDBAsyncClient, ids: list[int]) -> dict[int, list[Fact]]:
    """The facts the definitions give now, from the raw rows (the direct computation, whole)."""
    return {
        subject: [f for _segment, f in facts] for subject, facts in (await derive(conn, ids)).facts.items()
    }


async def _stored_facts(
    conn: BaseDBAsyncClient,
    ids: list[int],
    metrics: Iterable[str] | None = None,
    start: Mapping[int, int] | None = None,
) -> list[tuple[int, int, int, Fact]]:
    """(row id, conversation id, segment, fact) of the stored facts of these conversations (of
    these metrics only, when given; of the segments from `start` on and WHOLE, when given)."""
    starts = [0 if start is None else start.get(i, 0) for i in ids]
    # Two ranges of the (conversation_id, segment) index: the re-derived segments and WHOLE.
    columns = (
        "SELECT f.id, f.conversation_id, f.segment, f.metric, f.at, f.n, f.value, f.business, f.platform, "
        "f.channel_id, f.team_id, f.agent_id, f.labels FROM unnest($1::int[], $2::int[]) AS b(cid, start) "
        "JOIN metric_facts f ON f.conversation_id = b.cid AND "
    )
    rows = await fetch(
        f"{columns} f.segment >= b.start WHERE ($3::text[] IS NULL OR f.metric = ANY($3::text[])) UNION ALL "
        f"{columns} f.segment < 0 WHERE ($3::text[] IS NULL OR f.metric = ANY($3::text[]))",
        ids,
        starts,
        None if metrics is None else list(metrics),
        conn=conn,
    )
    READ["facts"] += len(rows)
    return [
        (
            r["id"],
            r["conversation_id"],
            r["segment"],
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
        [(await _refresh_chunk(conn, ids[i : i + CHUNK], running=True))[0] for i in range(0, len(ids), CHUNK)]
    )


# ---- writing ------------------------------------------------------------------------------------


async def refresh(
    conn: BaseDBAsyncClient, ids: Iterable[int], since: Mapping[int, datetime | None] | None = None
) -> int:
    """Bring the facts and roll-ups of these conversations up to date (inside the caller's
    transaction, which must hold the cursor's lock). `since`: per conversation, the earliest time
    its new rows can change (missing or None: whole). Returns how many roll-up rows changed."""
    global _chunk
    ids = sorted(set(ids))
    changed = done = 0
    while done < len(ids):
        part = ids[done : done + _chunk]
        count, rows = await _refresh_chunk(conn, part, since=since)
        changed += count
        done += len(part)
        per_conversation = max(rows / len(part), 1.0)
        _chunk = max(1, min(CHUNK, int(ROWS_PER_CHUNK / per_conversation)))
    return changed


async def _refresh_chunk(
    conn: BaseDBAsyncClient,
    ids: list[int],
    running: bool = False,
    since: Mapping[int, datetime | None] | None = None,
) -> tuple[int, int]:
    """(roll-up rows changed, rows read: messages and stored facts)."""
    if running:
        new = {s: [(WHOLE, f) for f in facts] for s, facts in (await _running_facts(conn, ids)).items()}
        stored = await _stored_facts(conn, ids, metrics_presence.RUNNING)
        derived = None
    else:
        derived = await derive(conn, ids, since)
        new = derived.facts
        stored = await _stored_facts(conn, ids, None, derived.start)
    # Match the stored facts against the fresh ones (with their segments): only those that no
    # longer hold are deleted and only the new ones inserted (a new message adds a few facts to a
    # long conversation; it does not rewrite all of them).
    unmatched = Counter((cid, segment, f) for cid, facts in new.items() for segment, f in facts)
    gone_ids: list[int] = []
    gone: list[Fact] = []
    for row_id, cid, segment, fact in stored:
        if unmatched[(cid, segment, fact)] > 0:
            unmatched[(cid, segment, fact)] -= 1
        else:
            gone_ids.append(row_id)
            gone.append(fact)
    added = [key for key, times in unmatched.items() for _ in range(times)]
    if gone_ids:
        await conn.execute_query("DELETE FROM metric_facts WHERE id = ANY($1::bigint[])", [gone_ids])
    await _insert_facts(conn, added)
    if derived is not None:
        await _keep_checkpoints(conn, derived)
    changes = deltas(gone, (f for _, _, f in added))
    await _apply(conn, changes)
    return len(changes), len(stored) + (derived.rows if derived is not None else 0)


async def _keep_checkpoints(conn: BaseDBAsyncClient, derived: Derived) -> None:
    """Replace the checkpoints of the re-derived segments (all of them, with the signature in
    segment 0, for a conversation derived whole)."""
    ids = [i for i in derived.start if i > 0]
    if not ids:
        return
    await conn.execute_query(
        "DELETE FROM metric_segments s USING unnest($1::int[], $2::int[]) AS b(cid, start) "
        "WHERE s.conversation_id = b.cid AND s.segment >= b.start",
        [ids, [derived.start[i] for i in ids]],
    )
    rows = [
        (cid, 0, None, None, orjson.dumps({"signature": sig}).decode())
        for cid, sig in derived.signatures.items()
    ]
    rows += [
        (cid, c.segment, c.opened_at, c.message_id, orjson.dumps(c.state()).decode())
        for cid, checkpoints in derived.checkpoints.items()
        for c in checkpoints
    ]
    if rows:
        await conn.execute_query(
            "INSERT INTO metric_segments (conversation_id, segment, opened_at, message_id, state) "
            "SELECT * FROM unnest($1::int[], $2::int[], $3::timestamptz[], $4::bigint[], $5::jsonb[])",
            [list(c) for c in zip(*rows, strict=True)],
        )


async def _insert_facts(conn: BaseDBAsyncClient, fresh: list[tuple[int, int, Fact]]) -> None:
    if not fresh:
        return
    columns = list(
        zip(
            *[
                (
                    cid,
                    segment,
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
                for cid, segment, f in fresh
            ],
            strict=True,
        )
    )
    await conn.execute_query(
        "INSERT INTO metric_facts (conversation_id, segment, metric, at, n, value, business, platform, channel_id, "
        "team_id, agent_id, labels) SELECT c, s, m, a, n, v, b, p, ch, t, ag, l::text[] FROM unnest($1::int[], "
        "$2::int[], $3::text[], $4::timestamptz[], $5::int[], $6::float8[], $7::float8[], $8::text[], $9::int[], "
        "$10::int[], $11::int[], $12::text[]) AS u(c, s, m, a, n, v, b, p, ch, t, ag, l)",
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


def _when(event: Mapping[str, Any]) -> datetime | None:
    """The time of the row an event is about, when it names one the walk reads; LATER for an inbox
    update (its dimensions are checked by the signature, its rows come with events of their own), a
    finished flow run or a CSAT answer (derived whole every time); None (whole) for anything else."""
    if (event["stream"] == INBOX and event["type"] == "CONVERSATION_UPDATED") or event["type"] in _WHOLE_ONLY:
        return LATER
    if event["type"] in _TIMED and event["at"]:
        try:
            at = datetime.fromisoformat(event["at"])
        except ValueError:
            return None
        return at if at.tzinfo is not None else None
    return None


def _conversations_in(events: list[dict[str, Any]]) -> dict[int, datetime | None]:
    """The subjects the events name, each with the earliest time they can change (None: whole)."""
    since: dict[int, datetime | None] = {}
    for event in events:
        stream = event["stream"]
        if event["type"] in _NO_METRICS:
            continue
        if stream.startswith("conversation:"):
            subject = int(stream.split(":", 1)[1])
        elif stream.startswith("access:"):  # teams changed: the agent's own facts carry their team
            subject = -int(stream.split(":", 1)[1])
        elif event["conversation_id"] is not None:
            subject = int(event["conversation_id"])
        else:
            continue
        _merge(since, subject, _when(event) if subject > 0 else None)
    return since


def _merge(since: dict[int, datetime | None], subject: int, when: datetime | None) -> None:
    if subject in since:
        earlier = since[subject]
        when = None if earlier is None or when is None else min(earlier, when)
    since[subject] = when


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
            recorded: dict[int, datetime | None] = {}
            running: set[int] = set()
            if rows:
                # Recorded history with no event (work sessions, presence) and, once an hour,
                # whatever is still running (resolvers/metrics_presence.py).
                recorded = await metrics_presence.dirty(conn, batch)
                running = await metrics_presence.tick(conn)
                events = await fetch(
                    "SELECT seq, stream, type, CASE WHEN payload->'conversation'->>'id' ~ '^[0-9]{1,9}$' "
                    "THEN (payload->'conversation'->>'id')::int END AS conversation_id, "
                    "COALESCE(payload->'message'->>'created_at', payload->'activity'->>'created_at') AS at "
                    "FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
                    rows[0]["last_seq"],
                    batch,
                    conn=conn,
                )
            if events or recorded or running:
                since = _conversations_in(events)
                for subject, when in recorded.items():
                    _merge(since, subject, when)
                changed = await refresh(conn, since, since)
                changed += await refresh_running(conn, running - set(since))
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
