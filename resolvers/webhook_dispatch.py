"""The fan-out: from the event log to one delivery per subscribed endpoint.

Each endpoint keeps a cursor, the last event-log `seq` it has looked at. Events get their seq after
commit, in commit order (core/events.py), so reading `seq > cursor` never skips an event that
commits later: what an endpoint receives is exactly what committed, once. The endpoint's row is
locked (`FOR UPDATE SKIP LOCKED`) while its deliveries are written and its cursor moved, in one
transaction, so several workers fan out at once without doubling anything (the unique index on
(endpoint, event) is the second belt).

Which log events become which outgoing events is `outgoing` below: the names integrators subscribe to.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from core.crypto import seal_body
from core.events import load_payload
from core.sql import fetch, in_transaction
from resolvers.webhook_delivery import clock

BATCH = 500

# Activity types (resolvers/activities.py) worth an outgoing event of their own.
_ACTIVITIES = {
    "assigned": "conversation.assigned",
    "transferred": "conversation.transferred",
    "escalated": "conversation.escalated",
    "status_changed": "conversation.status_changed",
}
# Written by features still being built (CSAT, flow executions): delivered as soon as they emit
# these log events, with `conversation_id` in the payload.
_PASSED_THROUGH = {"CSAT_RECEIVED": "csat.received", "FLOW_FINISHED": "flow.finished"}

EVENT_TYPES = (
    "message.created",
    "message.updated",
    "conversation.created",
    "conversation.assigned",
    "conversation.transferred",
    "conversation.escalated",
    "conversation.status_changed",
    "conversation.resolved",
    *_PASSED_THROUGH.values(),
)


def outgoing(
    log_type: str, payload: dict[str, Any]
) -> tuple[str, int | None, dict[str, Any], dict[str, Any]] | None:
    """(outgoing name, conversation id, data, {channel_id, platform} when the payload says) for a
    log event, or None for events integrators do not get (live-view chatter like presence)."""
    if log_type in ("MESSAGE_CREATED", "MESSAGE_UPDATED"):
        message = payload["message"]
        name = "message.created" if log_type == "MESSAGE_CREATED" else "message.updated"
        where = {"channel_id": message.get("channel_id"), "platform": message.get("platform")}
        return name, message.get("conversation_id"), {"message": message}, where
    if log_type == "CONVERSATION_CREATED":
        conversation = payload["conversation"]
        where = {"channel_id": conversation.get("channel_id"), "platform": conversation.get("platform")}
        data = {key: payload[key] for key in ("conversation", "customer", "last_message") if key in payload}
        return "conversation.created", conversation["id"], data, where
    if log_type == "ACTIVITY_ADDED":
        activity = payload["activity"]
        name = _ACTIVITIES.get(activity["type"])
        if name is None:
            return None
        if name == "conversation.status_changed" and (activity.get("data") or {}).get("to") == "resolved":
            name = "conversation.resolved"
        return name, activity["conversation_id"], {"activity": activity}, {}
    if log_type in _PASSED_THROUGH:
        # Their payloads carry channel_id/platform when they know them, so endpoint filters apply.
        where = {key: payload[key] for key in ("channel_id", "platform") if payload.get(key) is not None}
        return _PASSED_THROUGH[log_type], payload.get("conversation_id"), payload, where
    return None


def wanted(endpoint: dict[str, Any], name: str, where: dict[str, Any]) -> bool:
    events = endpoint["events"]
    if "*" not in events and name not in events:
        return False
    filters = endpoint["filters"] or {}
    if filters.get("channel_ids") and where.get("channel_id") not in filters["channel_ids"]:
        return False
    return not (filters.get("platforms") and where.get("platform") not in filters["platforms"])


async def dispatch() -> int:
    """Fan every enabled endpoint's new events out into deliveries; how many were made."""
    rows = await fetch(
        "SELECT id FROM webhook_endpoints WHERE enabled AND cursor < "
        "COALESCE((SELECT last_seq FROM stream_heads WHERE stream = '*'), 0) ORDER BY id"
    )
    made = 0
    for row in rows:
        while True:
            count, more = await _fan_out(row["id"])
            made += count
            if not more:
                break
    return made


async def _fan_out(endpoint_id: int) -> tuple[int, bool]:
    async with in_transaction() as conn:
        locked = await conn.execute_query_dict(
            "SELECT id, events, filters, cursor FROM webhook_endpoints WHERE id = $1 AND enabled "
            "FOR UPDATE SKIP LOCKED",
            [endpoint_id],
        )
        if not locked:
            return 0, False  # another worker has it, or it was just disabled
        endpoint = {k: _json(v) for k, v in locked[0].items()}
        events = await conn.execute_query_dict(
            "SELECT seq, type, payload::text AS payload, created_at FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
            [endpoint["cursor"], BATCH],
        )
        if not events:
            return 0, False
        picked = []
        for event in events:
            found = outgoing(event["type"], load_payload(event["payload"]))
            if found is not None:
                picked.append((event, *found))
        places = await _conversation_places(conn, {p[2] for p in picked if p[2] is not None})
        now = clock.now()
        made = 0
        for event, name, conversation_id, data, where in picked:
            where = {**places.get(conversation_id, {}), **{k: v for k, v in where.items() if v is not None}}
            if not wanted(endpoint, name, where):
                continue
            body = orjson.dumps(
                {
                    "event_id": str(event["seq"]),
                    "type": name,
                    "created_at": event["created_at"].isoformat(),
                    "conversation_id": conversation_id,
                    "data": data,
                }
            ).decode()
            inserted = await conn.execute_query_dict(
                "INSERT INTO webhook_deliveries (delivery_id, endpoint_id, event_seq, event_type, conversation_id, "
                "body, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) "
                "ON CONFLICT (endpoint_id, event_seq) WHERE replay_of_id IS NULL AND event_seq IS NOT NULL DO NOTHING RETURNING id",
                [uuid.uuid4(), endpoint_id, event["seq"], name, conversation_id, seal_body(body), now],
            )
            made += len(inserted)
        await conn.execute_query(
            "UPDATE webhook_endpoints SET cursor = $2 WHERE id = $1", [endpoint_id, events[-1]["seq"]]
        )
    return made, len(events) == BATCH


async def _conversation_places(conn: Any, ids: set[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    rows = await conn.execute_query_dict(
        "SELECT id, channel_id, platform FROM conversations WHERE id = ANY($1::bigint[])", [sorted(ids)]
    )
    return {r["id"]: {"channel_id": r["channel_id"], "platform": r["platform"]} for r in rows}


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str) and value[:1] in "[{" else value
