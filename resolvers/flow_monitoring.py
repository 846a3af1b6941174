"""Supervisors watching flows run: `flowExecutions` (by flow, conversation, status; with state,
current node, variables and the step history) and `cancelFlowExecution` (audited)."""

from __future__ import annotations

from typing import Any

import orjson

from core.auth import Actor
from core.events import committed
from core.sql import fetch, in_transaction
from resolvers import audit
from resolvers.auth import require_supervisor
from resolvers.errors import BadInput, Conflict, NotFound
from resolvers.flow_executions import EXECUTION_COLUMNS, UNFINISHED, execution_view, finish

STATUSES = ("running", "waiting", "paused", "completed", "cancelled", "failed")
MAX_LIST = 200


async def list_executions(
    actor: Actor | None,
    *,
    flow_id: int | None = None,
    conversation_id: int | None = None,
    status: str | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Newest first."""
    require_supervisor(actor)
    if status is not None and status not in STATUSES:
        raise BadInput(f"status is one of {', '.join(STATUSES)}", field="status")
    if not 1 <= limit <= MAX_LIST:
        raise BadInput(f"first is 1 to {MAX_LIST}", field="first")
    rows = await fetch(
        f"SELECT {EXECUTION_COLUMNS} FROM flow_executions WHERE ($1::int IS NULL OR flow_id = $1) "
        "AND ($2::int IS NULL OR conversation_id = $2) AND ($3::text IS NULL OR status = $3) "
        "ORDER BY id DESC LIMIT $4",
        flow_id,
        conversation_id,
        status,
        limit,
    )
    return [execution_view(r) for r in rows]


async def get_execution(actor: Actor | None, execution_id: int) -> dict[str, Any]:
    require_supervisor(actor)
    rows = await fetch(f"SELECT {EXECUTION_COLUMNS} FROM flow_executions WHERE id = $1", execution_id)
    if not rows:
        raise NotFound(f"flow execution {execution_id} does not exist", field="id")
    return execution_view(rows[0])


async def history(execution_id: int) -> list[dict[str, Any]]:
    rows = await fetch(
        "SELECT step, node, action, outcome, detail, at FROM flow_execution_steps WHERE execution_id = $1 "
        "ORDER BY id",
        execution_id,
    )
    return [
        {**r, "detail": orjson.loads(r["detail"]) if isinstance(r["detail"], str) else r["detail"]}
        for r in rows
    ]


async def cancel_execution(actor: Actor | None, execution_id: int) -> dict[str, Any]:
    actor = require_supervisor(actor)
    async with in_transaction() as conn:
        rows = await fetch(
            f"SELECT {EXECUTION_COLUMNS} FROM flow_executions WHERE id = $1 FOR UPDATE", execution_id
        )
        if not rows:
            raise NotFound(f"flow execution {execution_id} does not exist", field="id")
        if rows[0]["status"] not in UNFINISHED:
            raise Conflict(f"the execution is {rows[0]['status']} already", field="id")
        await finish(execution_id, "cancelled", f"cancelled by user {actor.user_id}")
        await audit.record(
            conn,
            actor,
            "flow_execution.cancel",
            "FlowExecution",
            execution_id,
            {
                "flow_id": rows[0]["flow_id"],
                "conversation_id": rows[0]["conversation_id"],
                "was": rows[0]["status"],
            },
        )
        updated = await fetch(f"SELECT {EXECUTION_COLUMNS} FROM flow_executions WHERE id = $1", execution_id)
    committed()  # FLOW_FINISHED was written: publish it now
    return execution_view(updated[0])
