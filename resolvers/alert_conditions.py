"""What each built-in alert kind measures: one small query over existing tables, given a rule and
`now` (the clock is a parameter, so tests drive it). Each returns a number that the rule's
condition compares with its threshold, or None when there is nothing to measure (no data: no
alert either way).

Scopes narrow by the conversation (platform, channel, team, assignee); a kind lists the scopes it
understands, and a rule naming any other is refused when saved.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.sql import fetchrow

Measure = Callable[[dict[str, Any], datetime], Awaitable[float | None]]
ALL_SCOPES = ("platform", "channel", "team", "agent")
_COLUMN = {"platform": "platform", "channel": "channel_id", "team": "team_id", "agent": "assignee_id"}
_OPEN = "('open', 'pending')"


@dataclass(frozen=True)
class Kind:
    measure: Measure
    scopes: tuple[str, ...]
    condition: str  # the usual direction: "above" (too many, too slow) or "below" (CSAT)
    unit: str
    needs_table: str | None = None  # refused at save while this table does not exist


def _scoped(rule: dict[str, Any], args: list[Any], alias: str = "c", *, conversation: bool = True) -> str:
    """` AND <alias>.<column> = $n` for the rule's scope ('' when it has none)."""
    scope = rule.get("scope_type")
    if not scope:
        return ""
    column = _COLUMN[scope]
    if not conversation and scope in ("team", "agent"):
        raise ValueError(f"scope {scope} does not apply here")  # save refuses these combinations
    value: Any = rule["scope_value"] if scope == "platform" else int(rule["scope_value"])
    args.append(value)
    return f" AND {alias}.{column} = ${len(args)}"


async def _number(sql: str, args: list[Any]) -> float | None:
    row = await fetchrow(sql, *args)
    value = row["v"] if row else None
    return None if value is None else float(value)


async def sla_breaches(rule: dict[str, Any], now: datetime) -> float | None:
    """Timers breached within the window and still unmet (a breach on a conversation since
    answered clears the alert)."""
    args: list[Any] = [now - timedelta(seconds=rule["window_seconds"]), now]
    return await _number(
        "SELECT count(*) AS v FROM sla_timers t JOIN conversations c ON c.id = t.conversation_id "
        "WHERE t.breached_at > $1 AND t.breached_at <= $2 AND t.met_at IS NULL AND t.cancelled_at IS NULL"
        + _scoped(rule, args),
        args,
    )


async def sla_impending(rule: dict[str, Any], now: datetime) -> float | None:
    """Timers past their warning moment, not yet due, neither met nor cancelled."""
    args: list[Any] = [now]
    return await _number(
        "SELECT count(*) AS v FROM sla_timers t JOIN conversations c ON c.id = t.conversation_id "
        "WHERE t.warn_at <= $1 AND t.due_at > $1 AND t.met_at IS NULL AND t.cancelled_at IS NULL "
        "AND t.breached_at IS NULL" + _scoped(rule, args),
        args,
    )


async def queue_length(rule: dict[str, Any], now: datetime) -> float | None:
    args: list[Any] = []
    return await _number(
        f"SELECT count(*) AS v FROM conversations c WHERE c.queued_at IS NOT NULL AND c.assignee_id IS NULL "
        f"AND c.status IN {_OPEN}" + _scoped(rule, args),
        args,
    )


async def queue_wait(rule: dict[str, Any], now: datetime) -> float | None:
    """Seconds the longest-waiting queued conversation has waited."""
    args: list[Any] = [now]
    return await _number(
        "SELECT EXTRACT(EPOCH FROM ($1 - min(c.queued_at))) AS v FROM conversations c "
        f"WHERE c.queued_at IS NOT NULL AND c.assignee_id IS NULL AND c.status IN {_OPEN}"
        + _scoped(rule, args),
        args,
    )


async def agents_over_capacity(rule: dict[str, Any], now: datetime) -> float | None:
    """Active agents holding more open conversations than their capacity (team scope: members)."""
    args: list[Any] = []
    where = ""
    if rule.get("scope_type") == "team":
        args.append(int(rule["scope_value"]))
        where = " AND u.id IN (SELECT user_id FROM team_members WHERE team_id = $1)"
    elif rule.get("scope_type") == "agent":
        args.append(int(rule["scope_value"]))
        where = " AND u.id = $1"
    return await _number(
        "SELECT count(*) AS v FROM users u WHERE u.is_active AND u.capacity < (SELECT count(*) FROM "
        f"conversations c WHERE c.assignee_id = u.id AND c.status IN {_OPEN})" + where,
        args,
    )


async def volume_spike(rule: dict[str, Any], now: datetime) -> float | None:
    """Inbound messages in the window divided by the usual count for the same window of the week:
    the mean over the past `weeks` (params, default 4) at the same hour of the week, so Monday
    9:00 is compared with past Mondays at 9:00, not with Sunday night. A baseline under one
    message counts as one (a first message is not an infinite spike)."""
    weeks = int((rule.get("params") or {}).get("weeks", 4))
    window = timedelta(seconds=rule["window_seconds"])
    args: list[Any] = [now - window, now]
    scope = _scoped(rule, args, "m", conversation=False)
    current = await _number(
        "SELECT count(*) AS v FROM messages m WHERE m.direction = 'inbound' AND m.created_at > $1 "
        "AND m.created_at <= $2" + scope,
        args,
    )
    past: list[float] = []
    for week in range(1, weeks + 1):
        shifted = [now - window - timedelta(weeks=week), now - timedelta(weeks=week), *args[2:]]
        past.append(
            await _number(
                "SELECT count(*) AS v FROM messages m WHERE m.direction = 'inbound' AND m.created_at > $1 "
                "AND m.created_at <= $2" + scope,
                shifted,
            )
            or 0.0
        )
    baseline = max(1.0, sum(past) / len(past)) if past else 1.0
    return (current or 0.0) / baseline


async def send_latency(rule: dict[str, Any], now: datetime) -> float | None:
    """p90 seconds from an outbound message being queued (created) to the platform accepting it
    (sent_at), over messages queued in the window; those still unsent count with their age, so
    a platform that stopped accepting shows up instead of vanishing from the sample."""
    args: list[Any] = [now - timedelta(seconds=rule["window_seconds"]), now]
    return await _number(
        "SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM "
        "(COALESCE(m.sent_at, GREATEST(m.created_at, $2)) - m.created_at))) AS v FROM messages m "
        "WHERE m.direction = 'outbound' AND m.created_at > $1 AND m.created_at <= $2"
        + _scoped(rule, args, "m", conversation=False),
        args,
    )


async def csat_average(rule: dict[str, Any], now: datetime) -> float | None:
    """Mean CSAT score (1–5) of answers in the window (csat_surveys, when CSAT is installed)."""
    args: list[Any] = [now - timedelta(seconds=rule["window_seconds"]), now]
    scope = ""
    if rule.get("scope_type"):
        column = {"platform": "platform", "channel": "channel_id", "team": "team_id", "agent": "agent_id"}
        value: Any = rule["scope_value"] if rule["scope_type"] == "platform" else int(rule["scope_value"])
        args.append(value)
        scope = f" AND s.{column[rule['scope_type']]} = $3"
    return await _number(
        "SELECT avg(s.score) AS v FROM csat_surveys s WHERE s.score IS NOT NULL AND s.answered_at > $1 "
        "AND s.answered_at <= $2" + scope,
        args,
    )


KINDS: dict[str, Kind] = {
    "sla_breach": Kind(sla_breaches, ALL_SCOPES, "above", "timers"),
    "sla_impending": Kind(sla_impending, ALL_SCOPES, "above", "timers"),
    "queue_length": Kind(queue_length, ALL_SCOPES, "above", "conversations"),
    "queue_wait": Kind(queue_wait, ALL_SCOPES, "above", "seconds"),
    "agents_over_capacity": Kind(agents_over_capacity, ("team", "agent"), "above", "agents"),
    "volume_spike": Kind(volume_spike, ("platform", "channel"), "above", "× usual volume"),
    "send_latency": Kind(send_latency, ("platform", "channel"), "above", "seconds (p90)"),
    "csat_drop": Kind(csat_average, ALL_SCOPES, "below", "mean score", needs_table="csat_surveys"),
}


async def table_exists(name: str) -> bool:
    row = await fetchrow("SELECT to_regclass($1) IS NOT NULL AS v", name)
    return bool(row and row["v"])


def firing(condition: str, value: float | None, threshold: float) -> bool:
    if value is None:
        return False
    return value > threshold if condition == "above" else value < threshold
