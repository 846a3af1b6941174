"""AgentAssignmentService: who answers which conversation.

A new conversation is routed to a team by the ingest function (`routing_rules`, first match by
position) and queued (`queued_at`); with no matching rule it waits unassigned for someone to take
it by hand. `drain_queue` takes queued conversations oldest first and picks an agent by the team's
strategy — sticky (the customer's last agent),
round-robin, least-loaded, or manual (nobody: supervisors assign) — among members who are online,
have the conversation's language among their skills when it has one, and are under capacity
(overall and per platform). When nobody qualifies it stays queued, with a visible position, and
is taken the moment capacity frees up: an agent comes online, resolves, closes or hands one back
(those enqueue a drain).

Correct with any number of API and worker processes draining at once, using row locks, not
in-process locks: the conversation row is taken `FOR UPDATE SKIP LOCKED` (two drainers never
assign one conversation), and so is the chosen agent's row, held until the assignment commits (a
second drainer skips that agent, so it can never count the agent's load before the first one's
assignment is visible: nobody exceeds capacity).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from core import tasks
from core.events import INBOX, committed, emit
from core.sql import fetch, in_transaction, retry_on_deadlock
from models import AssignmentStrategy
from resolvers.activities import record_activity
from resolvers.shapes import CONVERSATION_COLUMNS, conversation_columns, conversation_view

log = logging.getLogger(__name__)

DRAIN_BATCH = 200
OPEN_STATES = "('open', 'pending')"

# An agent's current load: open/pending conversations assigned to them (all, and on one platform).
_LOAD = f"(SELECT count(*) FROM conversations l WHERE l.assignee_id = u.id AND l.status IN {OPEN_STATES})"
_PLATFORM_LOAD = (
    f"(SELECT count(*) FROM conversations l WHERE l.assignee_id = u.id AND l.status IN {OPEN_STATES} "
    "AND l.platform = $2)"
)
# Who may take a conversation at all: active, online, has the language, under both capacities.
_ELIGIBLE = (
    "u.is_active AND u.presence = 'online' AND u.role IN ('agent', 'supervisor') "
    f"AND {_LOAD} < u.capacity "
    f"AND {_PLATFORM_LOAD} < COALESCE((u.platform_capacity->>$2)::int, 2147483647) "
    "AND ($3::text IS NULL OR $3 = ANY(u.skills))"
)
_ORDER = {
    AssignmentStrategy.LEAST_LOADED: f"{_LOAD}, u.last_assigned_at NULLS FIRST, u.id",
    AssignmentStrategy.ROUND_ROBIN: "u.last_assigned_at NULLS FIRST, u.id",
}


def request_drain() -> None:
    """Ask a worker to drain the queue (jobs/assignment.py): capacity or the queue changed."""
    tasks.DRAIN_ASSIGNMENT_QUEUE.send()


async def drain_queue(limit: int = DRAIN_BATCH) -> list[tuple[int, int]]:
    """Assign what can be assigned now. Returns (conversation, agent) pairs.

    A pass skips agents other drainers hold locked at that instant, so a conversation can be left
    queued while capacity exists; a drainer that assigned anything therefore passes again, after
    its commits. The last drainer to make progress sees every lock released: nothing assignable
    is left behind, and a pass that assigns nothing ends it."""
    assigned: list[tuple[int, int]] = []
    while True:
        candidates = await fetch(
            "SELECT id FROM conversations WHERE queued_at IS NOT NULL AND team_id IS NOT NULL AND assignee_id IS NULL "
            f"AND status IN {OPEN_STATES} ORDER BY queued_at, id LIMIT $1",
            limit,
        )
        this_pass = []
        for row in candidates:
            agent = await retry_on_deadlock(lambda cid=row["id"]: _assign_one(cid))
            if agent is not None:
                this_pass.append((row["id"], agent))
        if this_pass:
            committed()
        assigned += this_pass
        if not this_pass or len(candidates) == len(this_pass) < limit:
            return assigned


async def _assign_one(conversation_id: int) -> int | None:
    async with in_transaction() as conn:
        rows = await conn.execute_query_dict(
            "SELECT id, team_id, customer_id, platform, channel_id, language FROM conversations "
            f"WHERE id = $1 AND queued_at IS NOT NULL AND team_id IS NOT NULL AND assignee_id IS NULL "
            f"AND status IN {OPEN_STATES} "
            "FOR UPDATE SKIP LOCKED",
            [conversation_id],
        )
        if not rows:
            return None  # assigned, closed or being handled by another drainer meanwhile
        conversation = rows[0]
        team = await _team_for(conn, conversation)
        if team is None or AssignmentStrategy(team["strategy"]) is AssignmentStrategy.MANUAL:
            return None
        strategy = AssignmentStrategy(team["strategy"])
        agent, how = None, strategy.value
        if team["sticky"]:
            agent = await _sticky_agent(conn, conversation, team)
            if agent is not None and not await _has_room(conn, agent, conversation["platform"]):
                agent = None
            how = "sticky" if agent else how
        refused: list[int] = []
        while agent is None and len(refused) < MAX_PICKS:
            agent = await _pick(conn, conversation, team, strategy, refused)
            if agent is None:
                return None
            if not await _has_room(conn, agent, conversation["platform"]):
                refused.append(agent)
                agent = None
        if agent is None:
            return None
        updated = await conn.execute_query_dict(
            "UPDATE conversations SET assignee_id = $2, queued_at = NULL, "
            f"updated_at = now() WHERE id = $1 RETURNING {CONVERSATION_COLUMNS}",
            [conversation_id, agent],
        )
        await conn.execute_query("UPDATE users SET last_assigned_at = now() WHERE id = $1", [agent])
        await record_activity(conn, conversation_id, None, "assigned", {"to_user_id": agent, "strategy": how})
        await emit(conn, INBOX, "CONVERSATION_UPDATED", {"conversation": conversation_view(dict(updated[0]))})
        return agent


MAX_PICKS = 5


async def _has_room(conn: BaseDBAsyncClient, agent: int, platform: str) -> bool:
    """Recount the agent's load now that we hold their row lock. The picking statement counted with
    its own snapshot: if another drainer's assignment to this agent committed between that snapshot
    and our lock, only a fresh statement sees it (READ COMMITTED takes one per statement)."""
    rows = await conn.execute_query_dict(
        f"SELECT {_LOAD} < u.capacity AND {_PLATFORM_LOAD} < COALESCE((u.platform_capacity->>$2)::int, 2147483647) "
        "AS room FROM users u WHERE u.id = $1",
        [agent, platform],
    )
    return bool(rows and rows[0]["room"])


async def _team_for(conn: BaseDBAsyncClient, conversation: dict[str, Any]) -> dict[str, Any] | None:
    rows = await conn.execute_query_dict(
        "SELECT id, strategy, sticky FROM teams WHERE id = $1", [conversation["team_id"]]
    )
    return rows[0] if rows else None


_MEMBER = "EXISTS (SELECT 1 FROM team_members m WHERE m.user_id = u.id AND m.team_id = $4)"
# Drainers lock the agent's row FOR NO KEY UPDATE (SKIP LOCKED: another drainer is assigning to
# them): the lock the `last_assigned_at` update takes anyway. FOR UPDATE would also collide with
# the KEY SHARE lock of every foreign-key check on a row inserted for the agent (a status log
# entry, an activity, a conversation), and skip an agent who is not busy at all.


async def _sticky_agent(
    conn: BaseDBAsyncClient, conversation: dict[str, Any], team: dict[str, Any]
) -> int | None:
    """The agent of the customer's most recent other conversation, if they can take it now."""
    rows = await conn.execute_query_dict(
        f"SELECT u.id FROM users u WHERE u.id = (SELECT c.assignee_id FROM conversations c "
        "WHERE c.customer_id = $1 AND c.id <> $5 AND c.assignee_id IS NOT NULL ORDER BY c.id DESC LIMIT 1) "
        f"AND {_ELIGIBLE} AND {_MEMBER} FOR NO KEY UPDATE OF u SKIP LOCKED",
        [
            conversation["customer_id"],
            conversation["platform"],
            conversation["language"],
            team["id"],
            conversation["id"],
        ],
    )
    return rows[0]["id"] if rows else None


async def _pick(
    conn: BaseDBAsyncClient,
    conversation: dict[str, Any],
    team: dict[str, Any],
    strategy: AssignmentStrategy,
    refused: list[int],
) -> int | None:
    # $1 is the conversation only so that the shared fragments keep their numbering ($2 platform,
    # $3 language, $4 team) in both queries.
    rows = await conn.execute_query_dict(
        f"SELECT u.id FROM users u WHERE $1::int IS NOT NULL AND {_ELIGIBLE} AND {_MEMBER} "
        f"AND u.id <> ALL($5::int[]) ORDER BY {_ORDER[strategy]} FOR NO KEY UPDATE OF u SKIP LOCKED LIMIT 1",
        [
            conversation["id"],
            conversation["platform"],
            conversation["language"],
            team["id"],
            refused,
        ],
    )
    return rows[0]["id"] if rows else None


async def route_by_topic(conversation_id: int) -> bool:
    """A conversation nobody has yet, labelled with a topic a routing rule names, moves to that
    rule's team queue (first rule by position). True when it moved."""
    async with in_transaction() as conn:
        rows = await conn.execute_query_dict(
            "UPDATE conversations c SET team_id = r.team_id, queued_at = COALESCE(c.queued_at, now()), updated_at = now() "
            "FROM (SELECT r.team_id FROM routing_rules r, conversations x WHERE x.id = $1 AND r.topic = ANY(x.labels) "
            "AND (r.platform IS NULL OR r.platform = x.platform) AND (r.channel_id IS NULL OR r.channel_id = x.channel_id) "
            "ORDER BY r.position, r.id LIMIT 1) r "
            f"WHERE c.id = $1 AND c.assignee_id IS NULL AND c.status IN {OPEN_STATES} "
            f"AND c.team_id IS DISTINCT FROM r.team_id RETURNING {conversation_columns('c')}",
            [conversation_id],
        )
        if not rows:
            return False
        view = conversation_view(dict(rows[0]))
        await record_activity(
            conn, conversation_id, None, "routed", {"team_id": view["team_id"], "by": "topic"}
        )
        await emit(conn, INBOX, "CONVERSATION_UPDATED", {"conversation": view})
    committed()
    return True


async def queue_position(conversation_id: int) -> int | None:
    """1 for the next in line (within its team), None when not queued."""
    rows = await fetch(
        "SELECT count(*) + 1 AS position FROM conversations o, conversations c "
        f"WHERE c.id = $1 AND c.queued_at IS NOT NULL AND o.queued_at IS NOT NULL AND o.status IN {OPEN_STATES} "
        "AND o.assignee_id IS NULL AND o.team_id IS NOT DISTINCT FROM c.team_id AND (o.queued_at, o.id) < (c.queued_at, c.id)",
        conversation_id,
    )
    queued = await fetch("SELECT queued_at FROM conversations WHERE id = $1", conversation_id)
    if not queued or queued[0]["queued_at"] is None:
        return None
    return rows[0]["position"]


# ---- agents' presence -----------------------------------------------------------------------------


async def set_presence(user_id: int, presence: str) -> bool:
    """True when it changed. Coming online frees capacity: the caller drains the queue."""
    rows = await fetch(
        "UPDATE users SET presence = $2, presence_changed_at = now(), last_seen_at = now() "
        "WHERE id = $1 AND presence <> $2 RETURNING id",
        user_id,
        presence,
    )
    return bool(rows)


async def seen(user_id: int) -> bool:
    """A live subscription's heartbeat: the agent is still connected. True when that brought them
    online (an explicit `away` stays away)."""
    rows = await fetch(
        "UPDATE users u SET last_seen_at = now(), presence = CASE WHEN u.presence = 'offline' THEN 'online' ELSE u.presence END, "
        "presence_changed_at = CASE WHEN u.presence = 'offline' THEN now() ELSE u.presence_changed_at END "
        "FROM users old WHERE u.id = $1 AND old.id = u.id RETURNING old.presence AS was",
        user_id,
    )
    return bool(rows) and rows[0]["was"] == "offline"


async def seen_many(user_ids: list[int]) -> bool:
    """`seen` for every user with a live connection in a process, in one statement (ids in order,
    so concurrent beats from several processes lock the rows in the same order). True when that
    brought anyone online."""
    rows = await fetch(
        "UPDATE users u SET last_seen_at = now(), presence = CASE WHEN u.presence = 'offline' THEN 'online' ELSE u.presence END, "
        "presence_changed_at = CASE WHEN u.presence = 'offline' THEN now() ELSE u.presence_changed_at END "
        "FROM (SELECT o.id, o.presence FROM users o WHERE o.id = ANY($1::bigint[]) ORDER BY o.id FOR UPDATE) old "
        "WHERE u.id = old.id RETURNING old.presence AS was",
        sorted(set(user_ids)),
    )
    return any(r["was"] == "offline" for r in rows)


async def expire_presence(silence: timedelta) -> list[int]:
    """Agents whose live connection went quiet for `silence` are offline."""
    rows = await fetch(
        "UPDATE users SET presence = 'offline', presence_changed_at = now() "
        "WHERE presence <> 'offline' AND last_seen_at < $1 RETURNING id",
        datetime.now(UTC) - silence,
    )
    return [r["id"] for r in rows]


async def requeue_offline_agents() -> list[int]:
    """Open conversations of agents offline longer than their team's grace go back to the queue
    (oldest first, as they arrived) and to whoever can take them."""
    rows = await fetch(
        "SELECT c.id FROM conversations c JOIN users u ON u.id = c.assignee_id "
        "LEFT JOIN teams t ON t.id = c.team_id "
        f"WHERE c.status IN {OPEN_STATES} AND u.presence = 'offline' "
        "AND u.presence_changed_at < now() - make_interval(secs => COALESCE(t.offline_grace_seconds, 300)) "
        "ORDER BY c.id LIMIT 1000"
    )
    moved = []
    for row in rows:
        async with in_transaction() as conn:
            updated = await conn.execute_query_dict(
                "UPDATE conversations c SET assignee_id = NULL, "
                "queued_at = CASE WHEN c.team_id IS NOT NULL THEN COALESCE(c.queued_at, c.created_at) END, "
                "updated_at = now() FROM users u WHERE c.id = $1 AND u.id = c.assignee_id AND u.presence = 'offline' "
                f"RETURNING {conversation_columns('c')}",
                [row["id"]],
            )
            if not updated:
                continue
            view = conversation_view(dict(updated[0]))
            await record_activity(conn, row["id"], None, "requeued", {"reason": "agent_offline"})
            await emit(conn, INBOX, "CONVERSATION_UPDATED", {"conversation": view})
        moved.append(row["id"])
    if moved:
        committed()
    return moved
