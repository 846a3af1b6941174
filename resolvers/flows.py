"""Flows: automation graphs supervisors build, version, publish and test.

Every save writes an immutable version (validated first: resolvers/flow_validation.py); publishing
points the flow at one version, which is what triggers will run. `simulate` is the builder's test
button: it runs a version (or an unsaved definition) through the step engine
(resolvers/flow_engine.py) against scripted customer messages, answering HTTP nodes from the
script and sending nothing. Supervisors and admins change flows (audited); agents read them.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient

from connectors.base import Platform
from connectors.registry import get_connector
from core.auth import Actor
from core.sql import fetch, fetchrow, in_transaction
from resolvers import audit
from resolvers.auth import require_supervisor, require_user
from resolvers.errors import BadInput, NotFound
from resolvers.flow_engine import Event, advance, initial_state
from resolvers.flow_validation import clean_definition

FLOW_COLUMNS = (
    "id, name, version, published_version, published_at, resume_within_seconds, created_at, updated_at"
)
VERSION_COLUMNS = "version, definition, note, created_by_id, created_at"
MAX_SCRIPT = 50
DEFAULT_RESUME = 24 * 3600  # a customer who went quiet may carry on within a day
MIN_RESUME, MAX_RESUME = 60, 30 * 24 * 3600
MAX_HTTP_ANSWERS = 50
MAX_SCRIPT_MESSAGE = 4096
# Duration waits pass at once in a simulation: a loop through one must still stop.
MAX_SIMULATED_EVENTS = 500
# Where an id in a node's config points, checked on save so a published flow cannot name nothing.
_CONFIG_IDS = {
    "team_id": ("Team", "teams"),
    "agent_id": ("User", "users"),
    "template": ("ResponseTemplate", "response_templates"),
}


# ---- changing flows (supervisors, audited) --------------------------------------------------------


async def save_flow(
    actor: Actor | None,
    *,
    flow_id: int | None,
    name: str,
    definition: dict[str, Any],
    note: str | None = None,
    resume_within_seconds: int | None = None,
) -> dict[str, Any]:
    """Create a flow (flow_id None) or save a new version of it; the graph is validated first.
    `resume_within_seconds`: how long an unfinished run waits for a customer who went quiet."""
    actor = require_supervisor(actor)
    name = " ".join(name.split())
    if not 1 <= len(name) <= 120:
        raise BadInput("a flow's name is 1 to 120 characters", field="name")
    if resume_within_seconds is not None and not MIN_RESUME <= resume_within_seconds <= MAX_RESUME:
        raise BadInput(
            f"resumeWithinMinutes is {MIN_RESUME // 60} to {MAX_RESUME // 60}", field="resumeWithinMinutes"
        )
    cleaned = clean_definition(definition)
    await _config_ids_exist(cleaned)
    async with in_transaction() as conn:
        if flow_id is None:
            rows = await conn.execute_query_dict(
                "INSERT INTO flows (name, version, created_by_id, resume_within_seconds, created_at, updated_at) "
                f"VALUES ($1, 1, $2, COALESCE($3, {DEFAULT_RESUME}), now(), now()) RETURNING {FLOW_COLUMNS}",
                [name, actor.user_id, resume_within_seconds],
            )
        else:
            # The row lock orders concurrent saves: each gets the next version number, none is lost.
            rows = await conn.execute_query_dict(
                "UPDATE flows SET name = $1, version = version + 1, updated_at = now(), "
                "resume_within_seconds = COALESCE($3, resume_within_seconds) "
                f"WHERE id = $2 RETURNING {FLOW_COLUMNS}",
                [name, flow_id, resume_within_seconds],
            )
            if not rows:
                raise NotFound(f"flow {flow_id} does not exist", field="id")
        row = rows[0]
        await conn.execute_query(
            "INSERT INTO flow_versions (flow_id, version, definition, note, created_by_id, created_at) "
            "VALUES ($1, $2, $3::jsonb, $4, $5, now())",
            [
                row["id"],
                row["version"],
                orjson.dumps(cleaned).decode(),
                (note or "").strip()[:200] or None,
                actor.user_id,
            ],
        )
        action = "flow.create" if flow_id is None else "flow.update"
        await audit.record(conn, actor, action, "Flow", row["id"], {"version": row["version"], "name": name})
    return row


async def _config_ids_exist(definition: dict[str, Any]) -> None:
    for node in definition["nodes"]:
        for key, (type_name, table) in _CONFIG_IDS.items():
            value = node["config"].get(key)
            global_id = value["id"] if isinstance(value, dict) else value
            if global_id is None:
                continue
            pk = pk_of(global_id, type_name)
            found = pk is not None and await fetchrow(f"SELECT 1 AS one FROM {table} WHERE id = $1", pk)
            if not found:
                raise BadInput(
                    f"{node['id']}: config.{key} {global_id!r} is not a {type_name} id",
                    field="definition",
                    node=node["id"],
                    problems=[
                        {
                            "node": node["id"],
                            "code": "ID_NOT_FOUND",
                            "message": f"config.{key} names no {type_name}",
                            "params": {"key": key, "type": type_name, "id": global_id},
                        }
                    ],
                )


def pk_of(global_id: str, type_name: str) -> int | None:
    """The database id inside one of the API's global ids of `type_name`, else None."""
    try:
        kind, _, pk = base64.b64decode(global_id.encode(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeError, ValueError):
        return None
    ok = kind == type_name and pk.isascii() and pk.isdigit() and 0 < int(pk) < 2**31
    return int(pk) if ok else None


async def publish_flow(actor: Actor | None, flow_id: int, version: int | None) -> dict[str, Any]:
    """Triggers will run `version` (the latest when None) from now on."""
    actor = require_supervisor(actor)
    async with in_transaction() as conn:
        flow = await _locked(conn, flow_id)
        version = flow["version"] if version is None else version
        exists = await conn.execute_query_dict(
            "SELECT 1 FROM flow_versions WHERE flow_id = $1 AND version = $2", [flow_id, version]
        )
        if not exists:
            raise NotFound(f"flow {flow_id} has no version {version}", field="version")
        rows = await conn.execute_query_dict(
            "UPDATE flows SET published_version = $1, published_at = now(), updated_at = now() "
            f"WHERE id = $2 RETURNING {FLOW_COLUMNS}",
            [version, flow_id],
        )
        await audit.record(conn, actor, "flow.publish", "Flow", flow_id, {"version": version})
    return rows[0]


async def unpublish_flow(actor: Actor | None, flow_id: int) -> dict[str, Any]:
    actor = require_supervisor(actor)
    async with in_transaction() as conn:
        flow = await _locked(conn, flow_id)
        rows = await conn.execute_query_dict(
            "UPDATE flows SET published_version = NULL, published_at = NULL, updated_at = now() "
            f"WHERE id = $1 RETURNING {FLOW_COLUMNS}",
            [flow_id],
        )
        await audit.record(conn, actor, "flow.unpublish", "Flow", flow_id, {"was": flow["published_version"]})
    return rows[0]


async def _locked(conn: BaseDBAsyncClient, flow_id: int) -> dict[str, Any]:
    rows = await conn.execute_query_dict(
        f"SELECT {FLOW_COLUMNS} FROM flows WHERE id = $1 FOR UPDATE", [flow_id]
    )
    if not rows:
        raise NotFound(f"flow {flow_id} does not exist", field="id")
    return rows[0]


# ---- reading flows (anyone signed in) ------------------------------------------------------------------


async def list_flows(actor: Actor | None, *, published_only: bool = False) -> list[dict[str, Any]]:
    require_user(actor)
    where = "WHERE published_version IS NOT NULL" if published_only else ""
    return await fetch(f"SELECT {FLOW_COLUMNS} FROM flows {where} ORDER BY lower(name), id")


async def get_flow(actor: Actor | None, flow_id: int) -> dict[str, Any]:
    require_user(actor)
    row = await fetchrow(f"SELECT {FLOW_COLUMNS} FROM flows WHERE id = $1", flow_id)
    if row is None:
        raise NotFound(f"flow {flow_id} does not exist", field="id")
    return row


async def list_versions(actor: Actor | None, flow_id: int) -> list[dict[str, Any]]:
    require_user(actor)
    rows = await fetch(
        f"SELECT {VERSION_COLUMNS} FROM flow_versions WHERE flow_id = $1 ORDER BY version DESC", flow_id
    )
    return [_version_view(r) for r in rows]


async def get_version(actor: Actor | None, flow_id: int, version: int | None = None) -> dict[str, Any]:
    flow = await get_flow(actor, flow_id)
    wanted = flow["version"] if version is None else version
    row = await fetchrow(
        f"SELECT {VERSION_COLUMNS} FROM flow_versions WHERE flow_id = $1 AND version = $2", flow_id, wanted
    )
    if row is None:
        raise NotFound(f"flow {flow_id} has no version {wanted}", field="version")
    return _version_view(row)


def _version_view(row: dict[str, Any]) -> dict[str, Any]:
    definition = row["definition"]
    return {**row, "definition": orjson.loads(definition) if isinstance(definition, str) else definition}


# ---- simulation (the builder's test button) --------------------------------------------------------------


@dataclass
class SimulationStep:
    event: dict[str, Any]  # what was fed in: {"type": "message", "text"} / http_response / timer
    actions: list[dict[str, Any]]
    node: str | None
    status: str
    variables: dict[str, Any]


@dataclass
class Simulation:
    steps: list[SimulationStep] = field(default_factory=list)
    transcript: list[dict[str, Any]] = field(default_factory=list)  # {"from": customer|bot|system, ...}
    state: dict[str, Any] = field(default_factory=dict)
    unused_messages: int = 0


async def simulate(
    actor: Actor | None,
    *,
    flow_id: int | None,
    version: int | None,
    definition: dict[str, Any] | None,
    script: list[str],
    http_answers: list[dict[str, Any]],
    platform: str,
    customer: dict[str, Any],
    labels: list[str],
    at: datetime,
) -> Simulation:
    """Run the flow against the script in memory. HTTP nodes take the next scripted answer
    ({status, body} or {error}); a duration wait passes at once; a wait for a reply that the
    script never sends times out when the script ends. Nothing is stored or sent."""
    require_supervisor(actor)
    if (flow_id is None) == (definition is None):
        raise BadInput("simulate a saved flow (flowId) or an unsaved definition, one of them", field="flowId")
    if not script or len(script) > MAX_SCRIPT or any(len(m) > MAX_SCRIPT_MESSAGE for m in script):
        raise BadInput(
            f"script is 1 to {MAX_SCRIPT} customer messages of at most {MAX_SCRIPT_MESSAGE} characters",
            field="script",
        )
    if len(http_answers) > MAX_HTTP_ANSWERS:
        raise BadInput(f"at most {MAX_HTTP_ANSWERS} scripted HTTP answers", field="httpAnswers")
    try:
        buttons = get_connector(Platform(platform)).capabilities.buttons
    except (ValueError, LookupError):
        raise BadInput(f"{platform!r} is not a platform", field="platform") from None
    if definition is None:
        assert flow_id is not None
        definition = (await get_version(actor, flow_id, version))["definition"]
    else:
        definition = clean_definition(definition)
    return _run_script(
        definition,
        initial_state(platform=platform, buttons=buttons, customer=customer, labels=labels),
        script,
        [_http_event(a, at) for a in http_answers],
        at,
    )


def _http_event(answer: dict[str, Any], at: datetime) -> Event:
    if answer.get("error"):
        return Event(kind="http_error", at=at, error=str(answer["error"]))
    status = answer.get("status", 200)
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise BadInput("an HTTP answer's status is 100 to 599", field="httpAnswers")
    return Event(kind="http_response", at=at, status=status, body=answer.get("body"))


def _run_script(
    definition: dict[str, Any], state: dict[str, Any], script: list[str], http: list[Event], at: datetime
) -> Simulation:
    simulation = Simulation(state=state)
    messages = list(script)
    for _ in range(MAX_SIMULATED_EVENTS):
        waiting_for = simulation.state["waiting_for"]
        if simulation.state["status"] in ("ended", "failed"):
            break
        if waiting_for == "http":
            event = http.pop(0) if http else Event(kind="http_error", at=at, error="no scripted answer left")
        elif waiting_for == "module":  # a module's node is not run: it takes its default port
            event = Event(kind="module_result", at=at, port="next")
        elif waiting_for == "timer" or (waiting_for == "reply_or_timer" and not messages):
            event = Event(kind="timer", at=at)
        elif messages:
            event = Event(kind="message", at=at, text=messages.pop(0))
        else:
            break
        _feed(simulation, definition, event)
    else:
        simulation.transcript.append({"from": "system", "type": "stopped", "events": MAX_SIMULATED_EVENTS})
    simulation.unused_messages = len(messages)
    return simulation


def _feed(simulation: Simulation, definition: dict[str, Any], event: Event) -> None:
    described = _describe(event)
    if event.kind == "message":
        simulation.transcript.append({"from": "customer", "text": event.text})
    elif event.kind != "timer":
        simulation.transcript.append({"from": "system", **described})
    outcome = advance(definition, simulation.state, event)
    for action in outcome.actions:
        if action["type"] in ("send_text", "send_buttons"):
            simulation.transcript.append({"from": "bot", **action})
        else:
            simulation.transcript.append({"from": "system", **action})
    simulation.state = outcome.state
    simulation.steps.append(
        SimulationStep(
            event=described,
            actions=outcome.actions,
            node=outcome.state["node"],
            status=outcome.state["status"],
            variables=dict(outcome.state["variables"]),
        )
    )


def _describe(event: Event) -> dict[str, Any]:
    if event.kind == "message":
        return {"type": "message", "text": event.text}
    if event.kind == "http_response":
        return {"type": "http_response", "status": event.status, "body": event.body}
    if event.kind == "http_error":
        return {"type": "http_error", "error": event.error}
    if event.kind in ("module_result", "module_error"):
        return {"type": event.kind, "port": event.port, "error": event.error}
    return {"type": "timer"}
