"""Flow executions: runs of published flows whose state lives in PostgreSQL.

A step is one transaction: lock the execution row (FOR UPDATE), feed the event (a customer
message, a timer, an HTTP answer, a trigger's start) to the pure engine (resolvers/flow_engine.py),
carry out its actions (resolvers/flow_actions.py), store the new state and a history row per event
and action. A worker killed mid-step rolls all of it back and the job runs again; a step that did
commit is not taken again (the event no longer matches the state, or the job names an older step
number), and its messages carry client ids derived from (execution, step, action), so nothing is
sent twice. What goes out after the commit (the send jobs, the HTTP call, the timer) is in
flow_actions.Effects; a crash between the commit and those enqueues is caught by the sweeps
(stale queued messages, jobs/flows.py's sweep for timers and HTTP calls).

An execution keeps the flow version it started on; a newer published version starts new runs only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from connectors.base import Platform
from connectors.registry import get_connector
from core.events import conversation_stream, emit
from core.sql import db, fetch, fetchrow, in_transaction, retry_on_deadlock
from resolvers.flow_actions import Context, Effects, perform
from resolvers.flow_engine import Event, advance, initial_state

EXECUTION_COLUMNS = (
    "id, flow_id, flow_version, conversation_id, status, node, waiting_for, state, variables, pending, "
    "wake_at, step, trigger, trigger_key, reason, handed_off_at, started_at, updated_at, finished_at"
)
UNFINISHED = ("running", "waiting", "paused")
MAX_DETAIL = 2000  # characters of an action's details kept in the history
# Versions never change (resolvers/flows.py), so each process keeps the ones it has run.
_definitions: dict[tuple[int, int], dict[str, Any]] = {}


@dataclass(frozen=True)
class FlowInfo:
    id: int
    name: str
    version: int
    author_id: int | None
    resume_within: timedelta


async def definition_of(flow_id: int, version: int) -> dict[str, Any]:
    key = (flow_id, version)
    if key not in _definitions:
        row = await fetchrow(
            "SELECT definition FROM flow_versions WHERE flow_id = $1 AND version = $2", flow_id, version
        )
        assert row is not None, f"flow {flow_id} has no version {version}"
        found = row["definition"]
        _definitions[key] = orjson.loads(found) if isinstance(found, str) else found
    return _definitions[key]


async def published_flows() -> list[FlowInfo]:
    rows = await fetch(
        "SELECT id, name, published_version, created_by_id, resume_within_seconds FROM flows "
        "WHERE published_version IS NOT NULL ORDER BY id"
    )
    return [_flow_info(r, r["published_version"]) for r in rows]


async def flow_info(flow_id: int, version: int) -> FlowInfo:
    row = await fetchrow(
        "SELECT id, name, created_by_id, resume_within_seconds FROM flows WHERE id = $1", flow_id
    )
    assert row is not None
    return _flow_info(row, version)


def _flow_info(row: dict[str, Any], version: int) -> FlowInfo:
    return FlowInfo(
        row["id"], row["name"], version, row["created_by_id"], timedelta(seconds=row["resume_within_seconds"])
    )


def execution_view(row: dict[str, Any]) -> dict[str, Any]:
    view = dict(row)
    for key in ("state", "variables", "pending"):
        if isinstance(view.get(key), str):
            view[key] = orjson.loads(view[key])
    return view


# ---- starting and stepping (inside the caller's transaction) -------------------------------------


async def start(
    flow: FlowInfo, conversation_id: int, trigger: str, trigger_key: str, event: Event, effects: Effects
) -> int | None:
    """A new run of `flow` in the conversation, stepped with its first event. None when the key was
    used already (the same trigger fired twice) or the flow has an unfinished run there."""
    state = await _initial_state(conversation_id)
    rows = await fetch(
        "INSERT INTO flow_executions (flow_id, flow_version, conversation_id, status, state, variables, "
        "step, trigger, trigger_key, started_at, updated_at) "
        "VALUES ($1, $2, $3, 'running', $4::jsonb, '{}'::jsonb, 0, $5, $6, now(), now()) "
        f"ON CONFLICT DO NOTHING RETURNING {EXECUTION_COLUMNS}",
        flow.id,
        flow.version,
        conversation_id,
        orjson.dumps(state).decode(),
        trigger,
        trigger_key[:200],
    )
    if not rows:
        return None
    execution = execution_view(rows[0])
    if not await step(execution, flow, event, effects):
        await finish(execution["id"], "cancelled", "the trigger's event did not start the flow")
    return execution["id"]


async def step(execution: dict[str, Any], flow: FlowInfo, event: Event, effects: Effects) -> bool:
    """Feed `event` to a locked execution; False when the engine had nothing to do with it."""
    outcome = advance(await definition_of(flow.id, execution["flow_version"]), execution["state"], event)
    if outcome.state is execution["state"]:
        return False
    number = execution["step"] + 1
    context = Context(
        execution["id"],
        flow.id,
        flow.name,
        execution["flow_version"],
        flow.author_id,
        execution["conversation_id"],
        number,
        effects,
    )
    history = [_entry(number, execution["node"], f"event:{event.kind}", "received", _event_detail(event))]
    pending, wake_at = None, None
    for index, action in enumerate(outcome.actions):
        result = await perform(context, index, action)
        details = {k: v for k, v in action.items() if k not in ("type", "node")}
        history.append(_entry(number, action["node"], action["type"], result, details))
        if action["type"] == "http_request":
            pending = details
            effects.http.append((execution["id"], number))
        elif action["type"] == "module_node":
            pending = details
            effects.modules.append((execution["id"], number))
        elif action["type"] == "schedule_wake":
            wake_at = datetime.now(UTC) + timedelta(seconds=action["seconds"])
            effects.wakes.append((execution["id"], number, action["seconds"] * 1000))
    state = outcome.state
    status = {"ended": "completed", "failed": "failed"}.get(state["status"], "waiting")
    if status == "waiting" and state["waiting_for"] in ("http", "module"):
        status = "running"  # working on its own: not waiting for the customer
    await fetch(
        "UPDATE flow_executions SET state = $2::jsonb, variables = $3::jsonb, status = $4, node = $5, "
        "waiting_for = $6, pending = $7::jsonb, wake_at = $8, step = $9, reason = $10, updated_at = now(), "
        "finished_at = CASE WHEN $4::varchar IN ('completed', 'failed') THEN now() END WHERE id = $1",
        execution["id"],
        orjson.dumps(state).decode(),
        orjson.dumps(state["variables"]).decode(),
        status,
        state["node"],
        state["waiting_for"],
        None if pending is None else orjson.dumps(pending).decode(),
        wake_at,
        number,
        state["reason"],
    )
    await _record(execution["id"], history)
    if status in ("completed", "failed"):
        await _finished(execution, status, state["reason"])
        effects.emitted = True
    return True


async def finish(execution_id: int, status: str, reason: str, *, only: tuple[str, ...] = UNFINISHED) -> bool:
    """Cancel (or fail) a run that is not finished yet, saying why in its history."""
    rows = await fetch(
        "UPDATE flow_executions SET status = $2, reason = $3, wake_at = NULL, finished_at = now(), "
        "updated_at = now() WHERE id = $1 AND status = ANY($4::text[]) "
        "RETURNING id, step, node, flow_id, flow_version, conversation_id",
        execution_id,
        status,
        reason,
        list(only),
    )
    if rows:
        await _record(execution_id, [_entry(rows[0]["step"], rows[0]["node"], status, reason[:200], {})])
        await _finished(rows[0], status, reason)
    return bool(rows)


async def _finished(execution: dict[str, Any], status: str, reason: str | None) -> None:
    """FLOW_FINISHED in the run's conversation stream, in the transaction that finished it: what
    outgoing webhooks deliver as `flow.finished` (resolvers/webhook_dispatch.py). No variables: an
    integrator reads those through the API, with its scopes."""
    where = await fetchrow(
        "SELECT channel_id, platform FROM conversations WHERE id = $1", execution["conversation_id"]
    )
    await emit(
        db(),
        conversation_stream(execution["conversation_id"]),
        "FLOW_FINISHED",
        {
            "conversation_id": execution["conversation_id"],
            **(where or {}),
            "execution_id": execution["id"],
            "flow_id": execution["flow_id"],
            "flow_version": execution["flow_version"],
            "status": status,
            "reason": reason,
        },
    )


async def _initial_state(conversation_id: int) -> dict[str, Any]:
    row = await fetchrow(
        "SELECT c.platform, c.labels, c.customer_id, cu.name, cu.phone, cu.email FROM conversations c "
        "JOIN customers cu ON cu.id = c.customer_id WHERE c.id = $1",
        conversation_id,
    )
    assert row is not None
    attributes = await fetch(
        "SELECT name, value FROM customer_attributes WHERE customer_id = $1", row["customer_id"]
    )
    customer = {k: row[k] for k in ("name", "phone", "email") if row[k]}
    customer.update({a["name"]: a["value"] for a in attributes})
    return initial_state(
        platform=row["platform"],
        buttons=get_connector(Platform(row["platform"])).capabilities.buttons,
        customer=customer,
        labels=list(row["labels"] or ()),
    )


def _entry(step: int, node: str | None, action: str, outcome: str, detail: dict[str, Any]) -> dict[str, Any]:
    shown = orjson.dumps(detail).decode()
    if len(shown) > MAX_DETAIL:
        detail = {"truncated": shown[:MAX_DETAIL]}
    return {"step": step, "node": node, "action": action[:32], "outcome": outcome[:200], "detail": detail}


def _event_detail(event: Event) -> dict[str, Any]:
    if event.kind == "message":
        return {"text": event.text}
    if event.kind == "http_response":
        return {"status": event.status}
    if event.kind == "http_error":
        return {"error": event.error}
    if event.kind in ("module_result", "module_error"):
        return {"port": event.port, "error": event.error}
    return {}


async def _record(execution_id: int, entries: list[dict[str, Any]]) -> None:
    await fetch(
        "INSERT INTO flow_execution_steps (execution_id, step, node, action, outcome, detail, at) "
        "SELECT $1, x.step, x.node, x.action, x.outcome, x.detail, clock_timestamp() "
        "FROM jsonb_to_recordset($2::jsonb) AS x(step int, node text, action text, outcome text, detail jsonb)",
        execution_id,
        orjson.dumps(entries).decode(),
    )


# ---- stepping from a job (its own transaction) ----------------------------------------------------


async def feed(execution_id: int, event: Event, *, step_number: int, waiting_for: tuple[str, ...]) -> bool:
    """A timer or an HTTP answer for the step that asked for it. A job for an older step, or one
    for a run that moved on, been paused or cancelled meanwhile, changes nothing."""

    async def attempt() -> tuple[bool, Effects]:
        effects = Effects()
        async with in_transaction():
            rows = await fetch(
                f"SELECT {EXECUTION_COLUMNS} FROM flow_executions WHERE id = $1 FOR UPDATE", execution_id
            )
            if not rows:
                return False, effects
            execution = execution_view(rows[0])
            if (
                execution["status"] not in ("running", "waiting")
                or execution["step"] != step_number
                or execution["waiting_for"] not in waiting_for
            ):
                return False, effects
            flow = await flow_info(execution["flow_id"], execution["flow_version"])
            return await step(execution, flow, event, effects), effects

    done, effects = await retry_on_deadlock(attempt)
    await effects.run()
    return done
