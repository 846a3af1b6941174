"""Alert rules and the alerts they open.

A rule names a kind (resolvers/alert_conditions.py), a scope, a condition and threshold, a window,
a severity and a cooldown. `evaluate(now)` runs from a periodic job in every worker: each rule is
evaluated once per period, whoever runs it, because the evaluation first claims the row
(rule, period) in `alert_evaluations` and a second claimant's insert waits for the first to commit
and then finds the row taken. Then, in that same transaction:
- firing with no active alert → one opens (unless the last one resolved less than the cooldown ago);
- firing with an active alert (open or acknowledged) → it is the same alert: value and last_seen_at
  move, nobody is told again (deduplicated);
- not firing with an active alert → it resolves by itself.
Every transition is a row in `alert_transitions` and an event on the `alerts` stream (the
`alertEvents` subscription; the notifier tells supervisors of openings).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient

from core.auth import Actor
from core.events import committed, emit
from core.sql import fetch, fetchrow, in_transaction
from core.vocabulary import Platform
from resolvers import alert_conditions as conditions
from resolvers import audit
from resolvers.auth import require_supervisor
from resolvers.errors import BadInput, NotFound

ALERTS_STREAM = "alerts"
SEVERITIES = ("info", "warning", "critical")
MAX_WINDOW = 31 * 86400
_ALERT_COLUMNS = (
    "a.id, a.rule_id, r.name AS rule_name, r.kind, a.state, a.severity, a.value, a.threshold, "
    "a.opened_at, a.last_seen_at, a.acknowledged_at, a.acknowledged_by_id, a.resolved_at"
)
_SCOPE_TABLES = {"channel": "channels", "team": "teams", "agent": "users"}


# ---- rules ---------------------------------------------------------------------------------------


async def _check_rule(fields: dict[str, Any]) -> None:
    kind = conditions.KINDS.get(fields["kind"])
    if kind is None:
        raise BadInput(f"unknown alert kind; one of {', '.join(conditions.KINDS)}", field="kind")
    if kind.needs_table and not await conditions.table_exists(kind.needs_table):
        raise BadInput(
            f"{fields['kind']} needs CSAT, which is not installed here (no {kind.needs_table} table)",
            field="kind",
        )
    scope, value = fields["scope_type"], fields["scope_value"]
    if scope is not None:
        if scope not in kind.scopes:
            raise BadInput(f"{fields['kind']} can be scoped by {', '.join(kind.scopes)} only", field="scope")
        if scope == "platform":
            if value not in {p.value for p in Platform}:
                raise BadInput("unknown platform", field="scope")
        elif not str(value).isdigit() or not await fetchrow(
            f"SELECT 1 FROM {_SCOPE_TABLES[scope]} WHERE id = $1", int(value)
        ):
            raise NotFound(f"the {scope} this rule is scoped to does not exist", field="scope")
    if fields["condition"] not in ("above", "below"):
        raise BadInput("condition is above or below", field="condition")
    if not math.isfinite(fields["threshold"]):
        raise BadInput("threshold must be a finite number", field="threshold")
    if not 60 <= fields["window_seconds"] <= MAX_WINDOW:
        raise BadInput(f"windowSeconds is 60 to {MAX_WINDOW}", field="windowSeconds")
    if fields["severity"] not in SEVERITIES:
        raise BadInput(f"severity is one of {', '.join(SEVERITIES)}", field="severity")
    if not 0 <= fields["cooldown_seconds"] <= MAX_WINDOW:
        raise BadInput(f"cooldownSeconds is 0 to {MAX_WINDOW}", field="cooldownSeconds")
    weeks = fields["params"].get("weeks", 4)
    if not isinstance(weeks, int) or not 1 <= weeks <= 12:
        raise BadInput("params.weeks (the baseline's weeks) is 1 to 12", field="params")
    if not 1 <= len(fields["name"].strip()) <= 120:
        raise BadInput("name is 1 to 120 characters", field="name")


async def save_rule(actor: Actor | None, rule_id: int | None, **fields: Any) -> dict[str, Any]:
    """Create (rule_id None) or replace a rule; `fields`: name, kind, scope_type, scope_value,
    condition (None: the kind's usual one), threshold, window_seconds, severity,
    cooldown_seconds, params, enabled."""
    actor = require_supervisor(actor)
    kind = conditions.KINDS.get(fields["kind"])
    fields["condition"] = fields.get("condition") or (kind.condition if kind else "above")
    fields["params"] = fields.get("params") or {}
    await _check_rule(fields)
    columns = (
        "name",
        "kind",
        "scope_type",
        "scope_value",
        "condition",
        "threshold",
        "window_seconds",
        "severity",
        "cooldown_seconds",
        "params",
        "enabled",
    )
    values = [fields[c] if c != "params" else orjson.dumps(fields["params"]).decode() for c in columns]
    async with in_transaction() as conn:
        if rule_id is None:
            rows = await conn.execute_query_dict(
                f"INSERT INTO alert_rules ({', '.join(columns)}, created_by_id, created_at, updated_at) "
                f"VALUES ({', '.join(f'${i}' for i in range(1, 12))}, $12, now(), now()) RETURNING *",
                [*values, actor.user_id],
            )
        else:
            sets = ", ".join(f"{c} = ${i}" for i, c in enumerate(columns, 2))
            rows = await conn.execute_query_dict(
                f"UPDATE alert_rules SET {sets}, updated_at = now() WHERE id = $1 RETURNING *",
                [rule_id, *values],
            )
            if not rows:
                raise NotFound("no such alert rule", field="id")
        rule = _rule_view(rows[0])
        await audit.record(conn, actor, "alert_rule.save", "AlertRule", rule["id"], {"kind": rule["kind"]})
    return rule


async def delete_rule(actor: Actor | None, rule_id: int) -> bool:
    actor = require_supervisor(actor)
    async with in_transaction() as conn:
        rows = await conn.execute_query_dict("DELETE FROM alert_rules WHERE id = $1 RETURNING id", [rule_id])
        if not rows:
            raise NotFound("no such alert rule", field="id")
        await audit.record(conn, actor, "alert_rule.delete", "AlertRule", rule_id)
    return True


async def list_rules(actor: Actor | None) -> list[dict[str, Any]]:
    require_supervisor(actor)
    return [_rule_view(r) for r in await fetch("SELECT * FROM alert_rules ORDER BY id")]


def _rule_view(row: dict[str, Any]) -> dict[str, Any]:
    view = dict(row)
    if isinstance(view["params"], str):
        view["params"] = orjson.loads(view["params"])
    return view


# ---- alerts --------------------------------------------------------------------------------------


async def list_alerts(
    actor: Actor | None, states: list[str] | None, limit: int = 100
) -> list[dict[str, Any]]:
    require_supervisor(actor)
    if not 1 <= limit <= 500:
        raise BadInput("limit is 1 to 500", field="limit")
    return await fetch(
        f"SELECT {_ALERT_COLUMNS} FROM alerts a JOIN alert_rules r ON r.id = a.rule_id "
        "WHERE ($1::text[] IS NULL OR a.state = ANY($1::text[])) ORDER BY a.id DESC LIMIT $2",
        states,
        limit,
    )


async def transitions(alert_id: int) -> list[dict[str, Any]]:
    return await fetch(
        "SELECT from_state, to_state, value, actor_id, at FROM alert_transitions WHERE alert_id = $1 ORDER BY id",
        alert_id,
    )


async def _alert(conn: BaseDBAsyncClient, alert_id: int) -> dict[str, Any]:
    rows = await conn.execute_query_dict(
        f"SELECT {_ALERT_COLUMNS} FROM alerts a JOIN alert_rules r ON r.id = a.rule_id WHERE a.id = $1",
        [alert_id],
    )
    return dict(rows[0])


async def _transition(
    conn: BaseDBAsyncClient,
    alert_id: int,
    old: str | None,
    new: str,
    value: float | None,
    actor_id: int | None,
    now: datetime,
    event: str,
) -> dict[str, Any]:
    await conn.execute_query(
        "INSERT INTO alert_transitions (alert_id, from_state, to_state, value, actor_id, at) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        [alert_id, old, new, value, actor_id, now],
    )
    alert = await _alert(conn, alert_id)
    await emit(conn, ALERTS_STREAM, event, {"alert": alert})
    return alert


async def acknowledge(actor: Actor | None, alert_id: int, now: datetime | None = None) -> dict[str, Any]:
    """open → acknowledged (someone is on it; it stays until the condition clears). Acknowledging
    again is a no-op; a resolved alert cannot be acknowledged."""
    actor = require_supervisor(actor)
    now = now or datetime.now(UTC)
    async with in_transaction() as conn:
        rows = await conn.execute_query_dict("SELECT state FROM alerts WHERE id = $1 FOR UPDATE", [alert_id])
        if not rows:
            raise NotFound("no such alert", field="id")
        state = rows[0]["state"]
        if state == "resolved":
            raise BadInput("this alert has already resolved", field="id")
        if state == "acknowledged":
            return await _alert(conn, alert_id)
        await conn.execute_query(
            "UPDATE alerts SET state = 'acknowledged', acknowledged_at = $2, acknowledged_by_id = $3 WHERE id = $1",
            [alert_id, now, actor.user_id],
        )
        alert = await _transition(
            conn, alert_id, "open", "acknowledged", None, actor.user_id, now, "ALERT_ACKNOWLEDGED"
        )
    committed()
    return alert


# ---- evaluation ----------------------------------------------------------------------------------


def period_start(now: datetime, period_seconds: float) -> datetime:
    epoch = now.timestamp()
    return datetime.fromtimestamp(epoch - epoch % period_seconds, UTC)


async def evaluate(now: datetime | None = None, period_seconds: float = 60.0) -> dict[int, str]:
    """Evaluate every enabled rule for the period holding `now`; {rule id: outcome} for the rules
    this call evaluated (opened, deduplicated, resolved, cooling_down, quiet). A rule another
    worker already evaluated this period is left out."""
    now = now or datetime.now(UTC)
    period = period_start(now, period_seconds)
    outcomes: dict[int, str] = {}
    for rule in await fetch("SELECT * FROM alert_rules WHERE enabled ORDER BY id"):
        outcome = await _evaluate_rule(_rule_view(rule), now, period)
        if outcome is not None:
            outcomes[rule["id"]] = outcome
    if any(o in ("opened", "resolved") for o in outcomes.values()):
        committed()
    return outcomes


async def _evaluate_rule(rule: dict[str, Any], now: datetime, period: datetime) -> str | None:
    async with in_transaction() as conn:
        claimed = await conn.execute_query_dict(
            # A late job for a period older than the rule's latest evaluation changes nothing: the
            # state moves forward only.
            "INSERT INTO alert_evaluations (rule_id, period_start, evaluated_at) SELECT $1, $2, $3 "
            "WHERE NOT EXISTS (SELECT 1 FROM alert_evaluations WHERE rule_id = $1 AND period_start > $2) "
            "ON CONFLICT (rule_id, period_start) DO NOTHING RETURNING id",
            [rule["id"], period, now],
        )
        if not claimed:
            return None
        kind = conditions.KINDS.get(rule["kind"])
        value = await kind.measure(rule, now) if kind else None
        fires = conditions.firing(rule["condition"], value, rule["threshold"])
        await conn.execute_query(
            "UPDATE alert_evaluations SET value = $2, firing = $3 WHERE id = $1",
            [claimed[0]["id"], value, fires],
        )
        active = await conn.execute_query_dict(
            "SELECT id, state FROM alerts WHERE rule_id = $1 AND state <> 'resolved' FOR UPDATE", [rule["id"]]
        )
        if fires and active:
            await conn.execute_query(
                "UPDATE alerts SET value = $2, last_seen_at = $3 WHERE id = $1", [active[0]["id"], value, now]
            )
            return "deduplicated"
        if fires:
            last = await conn.execute_query_dict(
                "SELECT max(resolved_at) AS at FROM alerts WHERE rule_id = $1", [rule["id"]]
            )
            if last[0]["at"] and last[0]["at"] + timedelta(seconds=rule["cooldown_seconds"]) > now:
                return "cooling_down"
            rows = await conn.execute_query_dict(
                "INSERT INTO alerts (rule_id, state, severity, value, threshold, opened_at, last_seen_at) "
                "VALUES ($1, 'open', $2, $3, $4, $5, $5) RETURNING id",
                [rule["id"], rule["severity"], value, rule["threshold"], now],
            )
            await _transition(conn, rows[0]["id"], None, "open", value, None, now, "ALERT_OPENED")
            return "opened"
        if active:
            await conn.execute_query(
                "UPDATE alerts SET state = 'resolved', resolved_at = $2, value = $3 WHERE id = $1",
                [active[0]["id"], now, value],
            )
            await _transition(
                conn, active[0]["id"], active[0]["state"], "resolved", value, None, now, "ALERT_RESOLVED"
            )
            return "resolved"
        return "quiet"
