"""Metrics from recorded history: handling time (an agent's active time on a conversation), load
over time and queue wait (conversations' state changes), and agents' productivity (presence and
capacity changes). The README's "Metrics" section states the same rules.

Recorded, one row per transition (migration 26):
- `conversation_state_log`: status, team, assignee and "queued" of a conversation, written by a
  trigger on every insert and on every change of those columns, whatever code made it;
- `agent_status_log`: an agent's presence (online, away, offline) and capacity, by a trigger on
  `users` (a heartbeat that changes nothing writes nothing);
- `conversation_work_log`: an agent opened a conversation (`open`: its `conversationPresence`
  subscription started), closed it (`close`, naming the open row as `session_id`; a killed process
  writes none) or typed in it (`typing`: at most one row per TYPING_RECORD_EVERY seconds per agent
  and conversation in each process, however often `setTyping` is called).

The pure functions below turn those rows into facts (resolvers/metrics_facts.Fact), which the
roll-up job (resolvers/rollups.py) folds like every other fact. Time-weighted facts (seconds open,
queued, assigned, online, away, capacity × connected) are cut at UTC hour boundaries, one fact per
hour piece. A state still running (the last row of a history) counts up to the *horizon*: the
start of the hour in which the job last ticked (`metric_cursors` row `hourly_tick`); on its first
run in each hour the job moves the horizon and re-derives every subject whose state is still
running, so the numbers of an ongoing hour appear when it has passed. States that ended count
whole, whatever the horizon.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from core.outage import unavailable
from core.sql import fetch
from resolvers.metrics_facts import CareCycle, Fact, _meta, business_seconds, care_cycles
from resolvers.sla import BusinessHours

log = logging.getLogger(__name__)

IDLE_CAP = 120.0  # seconds of silence (no opening, typing or message) that still count as work
TYPING_RECORD_EVERY = 30.0  # typing pings closer than this to the last recorded one are not stored
OPEN_STATES = ("open", "pending")
SHORT_MAX, MEDIUM_MAX = 5, 20  # messages in a cycle: short ≤ 5 < medium ≤ 20 < long
TICK = "hourly_tick"
HOUR = timedelta(hours=1)

HANDLING = (
    "handling_time",
    "handling_time_short",
    "handling_time_medium",
    "handling_time_long",
    "handling_time_transferred",
)
DURATIONS = (*HANDLING, "queue_wait_time")
# Sums of seconds: no histogram, the total is the answer (resolvers/metrics.py kind "sum").
SUMS = (
    "open_seconds",
    "queued_seconds",
    "assigned_seconds",
    "online_seconds",
    "away_seconds",
    "capacity_seconds",
)
# What the state and presence histories alone give: all a move of the horizon can change.
RUNNING = (*SUMS, "queue_wait_time")


# ---- recording (cheap: one insert per transition, never a read) ---------------------------------


async def opened(conversation_id: int, user_id: int) -> int:
    """The agent opened the conversation: a work session starts. Returns its id."""
    rows = await fetch(
        "INSERT INTO conversation_work_log (conversation_id, user_id, kind) VALUES ($1, $2, 'open') RETURNING id",
        conversation_id,
        user_id,
    )
    return int(rows[0]["id"])


async def closed(conversation_id: int, user_id: int, session_id: int) -> None:
    await fetch(
        "INSERT INTO conversation_work_log (conversation_id, user_id, kind, session_id) VALUES ($1, $2, 'close', $3)",
        conversation_id,
        user_id,
        session_id,
    )


@contextlib.asynccontextmanager
async def work_session(conversation_id: int, user_id: int) -> AsyncIterator[None]:
    """Around a live view of the conversation: recorded as opened, then closed when it ends. A
    failure to record never ends the view (it is one session less in the metrics, logged)."""
    session = None
    try:
        session = await opened(conversation_id, user_id)
    except Exception as exc:
        down = unavailable(exc)  # an outage is one line, not a traceback
        log.warning("work session not recorded", exc_info=down is None, extra={"unavailable": down})
    try:
        yield
    finally:
        if session is not None:
            try:
                await closed(conversation_id, user_id, session)
            except Exception:  # the database is gone: the idle cap ends the session
                log.warning("end of work session not recorded", extra={"session": session})


_typed: dict[tuple[int, int], float] = {}  # (conversation, user) → when this process last stored typing


async def typed(conversation_id: int, user_id: int, now: float | None = None) -> bool:
    """The agent is typing. Stored at most once per TYPING_RECORD_EVERY seconds per agent and
    conversation in this process (the web app pings every 3 s). True when a row was written."""
    now = time.monotonic() if now is None else now
    key = (conversation_id, user_id)
    last = _typed.get(key)
    if last is not None and now - last < TYPING_RECORD_EVERY:
        return False
    if len(_typed) > 10_000:
        for stale in [k for k, t in _typed.items() if now - t >= TYPING_RECORD_EVERY]:
            del _typed[stale]
    _typed[key] = now
    try:
        await fetch(
            "INSERT INTO conversation_work_log (conversation_id, user_id, kind) VALUES ($1, $2, 'typing')",
            conversation_id,
            user_id,
        )
    except Exception as exc:
        down = unavailable(exc)
        log.warning("typing not recorded", exc_info=down is None, extra={"unavailable": down})
        return False
    return True


# ---- what the roll-up job re-derives ------------------------------------------------------------


async def dirty(conn: BaseDBAsyncClient, batch: int) -> dict[int, datetime | None]:
    """Subjects whose recorded history grew since the job last looked: conversations (their ids,
    with the earliest moment the new rows can change: IDLE_CAP before the earliest of them, since
    a close ends the spans of the signs just before it) and agents (minus their user ids, None:
    derived whole). Rows are marked folded in the caller's transaction."""
    work = await fetch(
        "UPDATE conversation_work_log SET folded = TRUE WHERE id IN (SELECT id FROM conversation_work_log "
        "WHERE NOT folded ORDER BY id LIMIT $1) RETURNING conversation_id, at",
        batch,
        conn=conn,
    )
    status = await fetch(
        "UPDATE agent_status_log SET folded = TRUE WHERE id IN (SELECT id FROM agent_status_log "
        "WHERE NOT folded ORDER BY id LIMIT $1) RETURNING user_id",
        batch,
        conn=conn,
    )
    out: dict[int, datetime | None] = {-int(r["user_id"]): None for r in status}
    cap = timedelta(seconds=IDLE_CAP)
    for r in work:
        cid, since = int(r["conversation_id"]), r["at"] - cap
        out[cid] = min(out.get(cid, since), since)
    return out


async def work_rows(
    conn: BaseDBAsyncClient, ids: list[int], since: list[datetime | None]
) -> dict[int, list[dict[str, Any]]]:
    """The work log rows that can matter from `since` on (per conversation, None: all of them):
    the rows at or after it and the sessions opened before it and not closed before it."""
    work: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in await fetch(
        "SELECT w.id, w.conversation_id, w.user_id, w.kind, w.session_id, w.at "
        "FROM unnest($1::int[], $2::timestamptz[]) AS b(cid, since) JOIN conversation_work_log w "
        "ON w.conversation_id = b.cid WHERE b.since IS NULL OR w.at >= b.since OR (w.kind = 'open' AND NOT EXISTS "
        "(SELECT 1 FROM conversation_work_log c WHERE c.conversation_id = b.cid AND c.kind = 'close' "
        "AND c.session_id = w.id AND c.at < b.since))",
        ids,
        since,
        conn=conn,
    ):
        work[row["conversation_id"]].append(row)
    return work


def _hour(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


async def tick(conn: BaseDBAsyncClient, now: datetime | None = None) -> set[int]:
    """On the job's first run in an hour: that hour's start becomes the horizon, and every subject
    whose last state is still running is returned to be re-derived (open or pending conversations,
    agents not offline). Inside the job's transaction, under its cursor lock."""
    hour = _hour(now or datetime.now(UTC))
    stamp = int(hour.timestamp())
    rows = await fetch("SELECT last_seq FROM metric_cursors WHERE name = $1", TICK, conn=conn)
    if rows and rows[0]["last_seq"] >= stamp:
        return set()
    await conn.execute_query(
        "INSERT INTO metric_cursors (name, last_seq) VALUES ($1, $2) "
        "ON CONFLICT (name) DO UPDATE SET last_seq = excluded.last_seq",
        [TICK, stamp],
    )
    conversations = await fetch("SELECT id FROM conversations WHERE status IN ('open', 'pending')", conn=conn)
    agents = await fetch(
        "SELECT u.id FROM users u CROSS JOIN LATERAL (SELECT presence FROM agent_status_log l "
        "WHERE l.user_id = u.id ORDER BY l.at DESC, l.id DESC LIMIT 1) last WHERE last.presence <> 'offline'",
        conn=conn,
    )
    return {int(r["id"]) for r in conversations} | {-int(r["id"]) for r in agents}


async def state_rows(conn: BaseDBAsyncClient, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    states: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in await fetch(
        "SELECT id, conversation_id, at, status, team_id, assignee_id, queued FROM conversation_state_log "
        "WHERE conversation_id = ANY($1::int[])",
        ids,
        conn=conn,
    ):
        states[row["conversation_id"]].append(row)
    return states


async def horizon(conn: BaseDBAsyncClient) -> datetime | None:
    rows = await fetch("SELECT last_seq FROM metric_cursors WHERE name = $1", TICK, conn=conn)
    return datetime.fromtimestamp(rows[0]["last_seq"], UTC) if rows else None


async def facts_for(
    conn: BaseDBAsyncClient,
    conversations: list[Mapping[str, Any]],
    messages: Mapping[int, list[Mapping[str, Any]]],
    activities: Mapping[int, list[Mapping[str, Any]]],
    calendars: Mapping[int, BusinessHours | None],
    agent_ids: Iterable[int],
    running_only: bool = False,
) -> dict[int, list[Fact]]:
    """Every fact of this module for these conversations (by id) and agents (by minus their id),
    from their raw rows: the direct computation the roll-ups are compared with. `running_only`:
    only the RUNNING metrics (what the horizon moves), without reading work sessions."""
    ids = [int(c["id"]) for c in conversations]
    users = sorted(set(agent_ids))
    until = await horizon(conn)
    work: dict[int, list[dict[str, Any]]] = defaultdict(list)
    states: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if ids and not running_only:
        work = await work_rows(conn, ids, [None] * len(ids))
    if ids:
        states = await state_rows(conn, ids)
    out: dict[int, list[Fact]] = {}
    for c in conversations:
        cid = int(c["id"])
        calendar = calendars.get(cid)
        handled = (
            [] if running_only else handling_facts(c, messages[cid], activities[cid], work[cid], calendar)
        )
        out[cid] = handled + load_facts(c, states[cid], until, calendar)
    if users:
        statuses: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in await fetch(
            "SELECT id, user_id, at, presence, capacity FROM agent_status_log WHERE user_id = ANY($1::int[])",
            users,
            conn=conn,
        ):
            statuses[row["user_id"]].append(row)
        teams = {
            r["id"]: r["team_id"]
            for r in await fetch(
                "SELECT u.id, (SELECT min(m.team_id) FROM team_members m WHERE m.user_id = u.id) AS team_id "
                "FROM users u WHERE u.id = ANY($1::int[])",
                users,
                conn=conn,
            )
        }
        for user in users:
            out[-user] = agent_facts(user, teams.get(user) or 0, statuses[user], until)
    return out


# ---- the definitions (pure) ---------------------------------------------------------------------


def _fact(
    conversation: Mapping[str, Any] | None,
    metric: str,
    at: datetime,
    value: float,
    business: float | None,
    team: int,
    agent: int,
) -> Fact:
    return Fact(
        metric,
        at,
        1,
        value,
        business,
        str(conversation["platform"]) if conversation else "",
        int(conversation["channel_id"]) if conversation else 0,
        team,
        agent,
        tuple(sorted(conversation.get("labels") or ())) if conversation else (),
    )


def _union(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _by_hand(message: Mapping[str, Any], user: int) -> bool:
    """A message or note the user wrote (sent or not): work on the conversation."""
    if message.get("sender_id") != user or message["direction"] not in ("outbound", "note"):
        return False
    if "automated" in message:
        return not message["automated"]
    metadata = _meta(message)
    return "flow" not in metadata and not metadata.get("automated")


def active_spans(
    work: Iterable[Mapping[str, Any]], messages: Iterable[Mapping[str, Any]], user: int
) -> list[tuple[datetime, datetime]]:
    """When `user` was working on the conversation: each sign of work (opening it, typing, a message
    or note of theirs) made while they had it open counts from that moment until the next sign, at
    most IDLE_CAP seconds, and never past the moment they closed it. Signs while it was not open
    count nothing; a session never closed (a killed process) ends with its last sign's IDLE_CAP."""
    mine = [w for w in work if w["user_id"] == user]
    opens = {int(w["id"]): w["at"] for w in mine if w["kind"] == "open"}
    closes: dict[int, datetime] = {}
    for w in mine:
        if w["kind"] == "close" and w.get("session_id") in opens:
            closes[int(w["session_id"])] = min(w["at"], closes.get(int(w["session_id"]), w["at"]))
    sessions = [(start, closes.get(sid)) for sid, start in opens.items()]
    signs = [w["at"] for w in mine if w["kind"] in ("open", "typing")]
    signs += [m["created_at"] for m in messages if _by_hand(m, user)]
    spans = []
    cap = timedelta(seconds=IDLE_CAP)
    for sign in signs:
        ends = [end for start, end in sessions if start <= sign and (end is None or sign < end)]
        if not ends:
            continue
        limit = None if any(e is None for e in ends) else max(e for e in ends if e is not None)
        end = sign + cap if limit is None else min(sign + cap, limit)
        spans.append((sign, end))
    return _union(spans)


def complexity(messages: int, transfers: int) -> str:
    if transfers:
        return "handling_time_transferred"
    if messages <= SHORT_MAX:
        return "handling_time_short"
    return "handling_time_medium" if messages <= MEDIUM_MAX else "handling_time_long"


def handling_facts(
    conversation: Mapping[str, Any],
    messages: list[Mapping[str, Any]],
    activities: list[Mapping[str, Any]],
    work: list[Mapping[str, Any]],
    calendar: BusinessHours | None = None,
) -> list[Fact]:
    """`handling_time` per agent and ended care cycle: the agent's active time (active_spans)
    within the cycle, counted at the cycle's end; also under its complexity's own name
    (`handling_time_short|medium|long|transferred`). Someone who only looked (opened it, but
    neither typed nor wrote a message or note during the cycle) handled nothing."""
    if not work:
        return []
    cycles = care_cycles(conversation, messages, activities)
    return [f for _index, f in handling_by_cycle(conversation, messages, work, cycles, calendar)]


def handling_by_cycle(
    conversation: Mapping[str, Any],
    messages: list[Mapping[str, Any]],
    work: list[Mapping[str, Any]],
    cycles: Iterable[CareCycle],
    calendar: BusinessHours | None = None,
) -> list[tuple[int, Fact]]:
    """`handling_facts` of these cycles (those ended), each with the segment its cycle opens. Signs of work
    count IDLE_CAP at most, so the rows from IDLE_CAP before the first cycle on are all it needs."""
    cycles = [c for c in cycles if c.end is not None]
    if not work or not cycles:
        return []
    team = int(conversation.get("team_id") or 0)
    facts = []
    for user in sorted({int(w["user_id"]) for w in work}):
        spans = active_spans(work, messages, user)
        worked = [w["at"] for w in work if w["user_id"] == user and w["kind"] == "typing"]
        worked += [m["created_at"] for m in messages if _by_hand(m, user)]
        for cycle in cycles:
            assert cycle.end is not None
            if not any(cycle.start <= moment < cycle.end for moment in worked):
                continue
            pieces = [
                (max(a, cycle.start), min(b, cycle.end))
                for a, b in spans
                if a < cycle.end and b > cycle.start
            ]
            if not pieces:
                continue
            wall = sum((b - a).total_seconds() for a, b in pieces)
            business = sum(business_seconds(calendar, a, b) for a, b in pieces)
            for metric in ("handling_time", complexity(cycle.messages, cycle.transfers)):
                facts.append(
                    (cycle.segment, _fact(conversation, metric, cycle.end, wall, business, team, user))
                )
    return facts


def _hours(start: datetime, end: datetime) -> Iterator[tuple[datetime, float]]:
    """[start, end) cut at UTC hour boundaries: (hour, seconds in it)."""
    hour = _hour(start)
    while hour < end:
        seconds = (min(end, hour + HOUR) - max(start, hour)).total_seconds()
        if seconds > 0:
            yield hour, seconds
        hour += HOUR


def _intervals(
    rows: Iterable[Mapping[str, Any]], until: datetime | None
) -> Iterator[tuple[Mapping[str, Any], datetime, datetime]]:
    """Each state row with its span: until the next row, the last one until the horizon."""
    ordered = sorted(rows, key=lambda r: (r["at"], r["id"]))
    for index, row in enumerate(ordered):
        end = ordered[index + 1]["at"] if index + 1 < len(ordered) else until
        if end is not None and end > row["at"]:
            yield row, row["at"], end


def load_facts(
    conversation: Mapping[str, Any],
    states: list[Mapping[str, Any]],
    until: datetime | None,
    calendar: BusinessHours | None = None,
) -> list[Fact]:
    """From the conversation's state history: per UTC hour, seconds it was open (open or pending;
    agent: its assignee then, if any), queued (open or pending, in a team's queue, nobody
    assigned) and assigned (open or pending, with an assignee), each with the team of that moment;
    and `queue_wait_time`: from entering the queue to leaving it for an assignee (counted at the
    assignment, agent: the assignee, team: the queue's). Leaving the queue otherwise (resolved,
    closed, moved out of every team) counts no wait."""
    sums: dict[tuple[str, datetime, int, int], float] = defaultdict(float)
    facts = []
    waiting_since: datetime | None = None
    queue = 0
    for row in sorted(states, key=lambda r: (r["at"], r["id"])):
        if row["queued"]:
            if waiting_since is None:
                waiting_since = row["at"]
            queue = int(row["team_id"] or 0)
        elif waiting_since is not None:
            if row["assignee_id"] is not None and row["status"] in OPEN_STATES:
                wall = max(0.0, (row["at"] - waiting_since).total_seconds())
                business = business_seconds(calendar, waiting_since, row["at"])
                facts.append(
                    _fact(
                        conversation,
                        "queue_wait_time",
                        row["at"],
                        wall,
                        business,
                        queue,
                        int(row["assignee_id"]),
                    )
                )
            waiting_since = None
    for row, start, end in _intervals(states, until):
        if row["status"] not in OPEN_STATES:
            continue
        team, agent = int(row["team_id"] or 0), int(row["assignee_id"] or 0)
        for hour, seconds in _hours(start, end):
            sums[("open_seconds", hour, team, agent)] += seconds
            if row["queued"]:
                sums[("queued_seconds", hour, team, 0)] += seconds
            if agent:
                sums[("assigned_seconds", hour, team, agent)] += seconds
    for (metric, hour, team, agent), seconds in sums.items():
        facts.append(_fact(conversation, metric, hour, seconds, None, team, agent))
    return facts


def agent_facts(
    user_id: int, team_id: int, statuses: list[Mapping[str, Any]], until: datetime | None
) -> list[Fact]:
    """From the agent's presence history: per UTC hour, seconds online, seconds away, and capacity
    × seconds connected (online or away). Platform and channel are none; the team is the agent's
    first team (the lowest id) now, 0 when in none."""
    sums: dict[tuple[str, datetime], float] = defaultdict(float)
    for row, start, end in _intervals(statuses, until):
        if row["presence"] not in ("online", "away"):
            continue
        for hour, seconds in _hours(start, end):
            sums[("online_seconds" if row["presence"] == "online" else "away_seconds", hour)] += seconds
            sums[("capacity_seconds", hour)] += seconds * int(row["capacity"])
    return [
        _fact(None, metric, hour, seconds, None, team_id, user_id) for (metric, hour), seconds in sums.items()
    ]


# ---- load now (not from the roll-ups: a count of the open conversations, as the live dashboard) --

NOW = {
    "open_now": "TRUE",
    "queued_now": "c.queued_at IS NOT NULL AND c.team_id IS NOT NULL AND c.assignee_id IS NULL",
    "assigned_now": "c.assignee_id IS NOT NULL",
}
_NOW_COLUMNS = {
    "platform": "c.platform",
    "channel": "c.channel_id",
    "team": "COALESCE(c.team_id, 0)",
    "agent": "COALESCE(c.assignee_id, 0)",
    "label": "l.label",
}


async def load_now(
    names: list[str],
    platforms: Iterable[str],
    channel_ids: Iterable[int],
    team_ids: Iterable[int],
    agent_ids: Iterable[int],
    label: str | None,
    group_by: list[str],
) -> list[tuple[str, tuple, int]]:
    """Open (open or pending), queued and assigned conversations now, filtered and grouped like
    the facts (team and agent 0: none): (name, group values, count) for each non-empty group."""
    args: list[Any] = []
    conds = ["c.status IN ('open', 'pending')"]
    for values, column, cast in (
        (list(platforms), "c.platform", "text"),
        (list(channel_ids), "c.channel_id", "int"),
        (list(team_ids), "COALESCE(c.team_id, 0)", "int"),
        (list(agent_ids), "COALESCE(c.assignee_id, 0)", "int"),
    ):
        if values:
            args.append(values)
            conds.append(f"{column} = ANY(${len(args)}::{cast}[])")
    if label:
        args.append(label)
        conds.append(f"${len(args)} = ANY(c.labels)")
    source = "conversations c" + (
        " CROSS JOIN LATERAL unnest(c.labels) AS l(label)" if "label" in group_by else ""
    )
    dims = [f"{_NOW_COLUMNS[g]} AS d{i}" for i, g in enumerate(group_by)]
    counts = [f"count(*) FILTER (WHERE {NOW[n]}) AS {n}" for n in names]
    group = f" GROUP BY {', '.join(str(i + 1) for i in range(len(dims)))}" if dims else ""
    rows = await fetch(
        f"SELECT {', '.join(dims + counts)} FROM {source} WHERE {' AND '.join(conds)}{group}", *args
    )
    out = []
    for row in rows:
        key = tuple(row[f"d{i}"] for i in range(len(group_by)))
        out += [(n, key, int(row[n])) for n in names if row[n]]
    return out
