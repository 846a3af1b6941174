"""An execution's waits: timers, HTTP calls and modules' nodes.

A timer is a Dramatiq message delayed until `wake_at` (Redis keeps delayed messages across
restarts of every process) plus the sweep, which wakes any run whose `wake_at` has passed in case
that message was lost. An HTTP node's call is a job of its own, made outside any transaction,
whose answer is fed back as the next step; a call whose job was lost is made again by the sweep.
A worker killed during the call makes it again when the job comes back: HTTP nodes are at least
once, so each request carries an `Idempotency-Key` (execution and step) the other side can use.
A module's node (core/extensions.py `NodeType.run`) runs the same way, at least once, isolated: an
exception, a timeout or a disabled module is fed back as `module_error` (the node's `error` port,
else the run fails with the reason), never a crashed worker.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

from core import http, tasks
from core.extensions import registry
from core.sql import fetch, fetchrow
from resolvers import modules
from resolvers.flow_engine import Event
from resolvers.flow_executions import feed, finish
from resolvers.flow_triggers import run_schedules, run_silences

MAX_RESPONSE = 1024 * 1024  # bytes of an HTTP node's answer that are read
LOST_HTTP_AFTER = timedelta(minutes=2)  # longer than any node's timeout (30 s) and a retry
SWEEP_BATCH = 500
MODULE_NODE_TIMEOUT = 30.0  # seconds a module's node may take
log = logging.getLogger(__name__)


async def wake(execution_id: int, step_number: int) -> bool:
    row = await fetchrow("SELECT status, step, wake_at FROM flow_executions WHERE id = $1", execution_id)
    if row is None or row["status"] != "waiting" or row["step"] != step_number or row["wake_at"] is None:
        return False
    early = row["wake_at"] - datetime.now(UTC)
    if early > timedelta(0):  # a delayed message may come a little early: wait the rest
        tasks.FLOW_WAKE.send(execution_id, step_number, delay_ms=int(early.total_seconds() * 1000) + 1)
        return False
    timer = Event(kind="timer", at=datetime.now(UTC))
    return await feed(execution_id, timer, step_number=step_number, waiting_for=("timer", "reply_or_timer"))


async def call_http(execution_id: int, step_number: int) -> bool:
    row = await fetchrow(
        "SELECT status, step, waiting_for, pending FROM flow_executions WHERE id = $1", execution_id
    )
    if (
        row is None
        or row["status"] != "running"
        or row["step"] != step_number
        or row["waiting_for"] != "http"
    ):
        return False
    pending = row["pending"]
    request = orjson.loads(pending) if isinstance(pending, str) else pending
    answer = await _request(request, f"flow-{execution_id}-{step_number}")
    return await feed(execution_id, answer, step_number=step_number, waiting_for=("http",))


async def run_module_node(execution_id: int, step_number: int) -> bool:
    row = await fetchrow(
        "SELECT status, step, waiting_for, pending, state, conversation_id FROM flow_executions WHERE id = $1",
        execution_id,
    )
    if (
        row is None
        or row["status"] != "running"
        or row["step"] != step_number
        or row["waiting_for"] != "module"
    ):
        return False
    pending, state = (orjson.loads(v) if isinstance(v, str) else v for v in (row["pending"], row["state"]))
    context = {
        "execution_id": execution_id,
        "conversation_id": row["conversation_id"],
        "platform": state.get("platform"),
        "variables": dict(state.get("variables") or {}),
        "customer": dict(state.get("customer") or {}),
    }
    answer = await _run_module_node(pending["node_type"], pending.get("config") or {}, context)
    return await feed(execution_id, answer, step_number=step_number, waiting_for=("module",))


async def _run_module_node(node_type: str, config: dict[str, Any], context: dict[str, Any]) -> Event:
    await modules.sync()  # an admin may have enabled or disabled the module since this process looked
    found = registry.node_type(node_type)
    if found is None:
        return Event(
            kind="module_error", at=datetime.now(UTC), error=f"the module adding {node_type!r} is not enabled"
        )
    kind, entry = found
    try:
        result = await asyncio.wait_for(kind.run(config, context, entry.config), MODULE_NODE_TIMEOUT)
    except TimeoutError:
        return Event(
            kind="module_error",
            at=datetime.now(UTC),
            error=f"{node_type} took over {MODULE_NODE_TIMEOUT:.0f} s",
        )
    except Exception as exc:  # a module's bug must not take the worker (or the run's job) down
        log.warning("a module's flow node raised", extra={"node_type": node_type}, exc_info=True)
        return Event(
            kind="module_error", at=datetime.now(UTC), error=f"{node_type}: {type(exc).__name__}: {exc}"[:300]
        )
    try:
        port, variables = str(result.port), orjson.loads(orjson.dumps(dict(result.variables)))
    except (AttributeError, TypeError, orjson.JSONEncodeError) as exc:
        return Event(
            kind="module_error",
            at=datetime.now(UTC),
            error=f"{node_type} returned no NodeResult: {exc}"[:300],
        )
    return Event(kind="module_result", at=datetime.now(UTC), port=port, body=variables)


async def _request(request: dict[str, Any], idempotency_key: str) -> Event:
    body = request.get("body")
    try:
        response = await http.client().request(
            request["method"],
            request["url"],
            headers={**request.get("headers", {}), "Idempotency-Key": idempotency_key},
            content=None if body is None else orjson.dumps(body),
            timeout=float(request["timeout_seconds"]),
        )
    except httpx.TimeoutException:
        return Event(kind="http_error", at=datetime.now(UTC), error="TIMEOUT")
    except (httpx.HTTPError, ValueError) as exc:
        return Event(kind="http_error", at=datetime.now(UTC), error=f"NETWORK_ERROR: {type(exc).__name__}")
    content = response.content[:MAX_RESPONSE]
    try:
        decoded: Any = orjson.loads(content)
    except orjson.JSONDecodeError:
        decoded = content.decode(errors="replace")
    return Event(kind="http_response", at=datetime.now(UTC), status=response.status_code, body=decoded)


async def sweep() -> dict[str, int]:
    """The safety net every upkeep tick runs (any number of processes at once: each step is keyed
    and locked): due timers, lost HTTP calls, runs the customer abandoned, schedules, silences."""
    woken = 0
    for row in await fetch(
        "SELECT id, step FROM flow_executions WHERE status = 'waiting' AND wake_at <= now() "
        "ORDER BY wake_at LIMIT $1",
        SWEEP_BATCH,
    ):
        woken += await wake(row["id"], row["step"])
    lost = await fetch(
        "SELECT id, step, waiting_for FROM flow_executions WHERE status = 'running' "
        "AND waiting_for IN ('http', 'module') AND updated_at < now() - $1::interval ORDER BY updated_at LIMIT $2",
        LOST_HTTP_AFTER,
        SWEEP_BATCH,
    )
    for row in lost:
        (tasks.FLOW_HTTP if row["waiting_for"] == "http" else tasks.FLOW_MODULE).send(row["id"], row["step"])
    expired = 0
    for row in await fetch(
        "SELECT e.id FROM flow_executions e JOIN flows f ON f.id = e.flow_id WHERE e.status = 'waiting' "
        "AND e.waiting_for = 'reply' AND e.updated_at < now() - make_interval(secs => f.resume_within_seconds) "
        "LIMIT $1",
        SWEEP_BATCH,
    ):
        expired += await finish(
            row["id"], "cancelled", "expired: the customer did not answer in time", only=("waiting",)
        )
    return {
        "woken": woken,
        "http_requeued": len(lost),
        "expired": expired,
        "scheduled": await run_schedules(),
        "silences": await run_silences(),
    }
