"""Outgoing webhooks, the admins' side: endpoints (URL, events, filters, secret), rotation, replay,
the delivery log; and the tick that keeps deliveries moving (the fan-out is webhook_dispatch.py,
the sending webhook_delivery.py). Every change is audited; secrets are encrypted at rest and shown
once, when made."""

from __future__ import annotations

import secrets as random_secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from connectors.base import Platform
from core import tasks
from core.auth import Actor
from core.crypto import decrypt_secrets, encrypt_secrets, open_body, rotate
from core.sql import fetch, fetchrow, in_transaction
from resolvers import audit, modules, ssrf
from resolvers.auth import require_admin
from resolvers.errors import BadInput, NotFound
from resolvers.webhook_delivery import clock, deliver_next, endpoints_with_due_deliveries
from resolvers.webhook_dispatch import EVENT_TYPES, dispatch

TICK_EVERY = timedelta(seconds=1)
MAX_ROTATION_OVERLAP = 7 * 86400
MAX_REPLAY = 10_000
DELIVER_BUDGET = 50  # deliveries one job sends before leaving the rest to the next
_COLUMNS = (
    "id, url, description, events, filters, previous_expires_at, allow_private_network, enabled, "
    "disabled_reason, disabled_at, failing_since, created_by_id, created_at, updated_at"
)


def endpoint_view(row: dict[str, Any]) -> dict[str, Any]:
    view = dict(row)
    for key in ("events", "filters"):
        if isinstance(view[key], str):
            view[key] = orjson.loads(view[key])
    expires = view.pop("previous_expires_at")
    view["previous_secret_valid_until"] = expires if expires and expires > clock.now() else None
    return view


def new_secret() -> str:
    return "whsec_" + random_secrets.token_urlsafe(32)


async def list_endpoints(actor: Actor | None) -> list[dict[str, Any]]:
    require_admin(actor)
    return [endpoint_view(r) for r in await fetch(f"SELECT {_COLUMNS} FROM webhook_endpoints ORDER BY id")]


async def _clean(
    url: str,
    description: str,
    events: list[str],
    channel_ids: list[int],
    platforms: list[str],
    allow_private: bool,
) -> dict[str, Any]:
    if not events:
        raise BadInput('subscribe to at least one event, or ["*"] for all', field="events")
    unknown = sorted(set(events) - {*EVENT_TYPES, "*"})
    if unknown:
        raise BadInput(f"unknown events {unknown}; known: {', '.join(EVENT_TYPES)}", field="events")
    known_platforms = {p.value for p in Platform}
    if set(platforms) - known_platforms:
        raise BadInput(f"unknown platforms {sorted(set(platforms) - known_platforms)}", field="platforms")
    if channel_ids:
        found = await fetch("SELECT id FROM channels WHERE id = ANY($1::int[])", sorted(set(channel_ids)))
        missing = sorted(set(channel_ids) - {r["id"] for r in found})
        if missing:
            raise NotFound(f"no channels {missing}", field="channelIds")
    if len(description) > 200:
        raise BadInput("the description is at most 200 characters", field="description")
    await ssrf.check(url, allow_private=allow_private)
    filters: dict[str, Any] = {}
    if channel_ids:
        filters["channel_ids"] = sorted(set(channel_ids))
    if platforms:
        filters["platforms"] = sorted(set(platforms))
    return {
        "url": url.strip(),
        "description": description.strip(),
        "events": sorted(set(events)),
        "filters": filters,
    }


async def save_endpoint(
    actor: Actor | None,
    *,
    endpoint_id: int | None,
    url: str,
    description: str = "",
    events: list[str],
    channel_ids: list[int] | None = None,
    platforms: list[str] | None = None,
    enabled: bool = True,
    allow_private_network: bool = False,
) -> tuple[dict[str, Any], str | None]:
    """Create (returns the new secret, shown this once) or replace an endpoint's settings.
    Re-enabling a disabled endpoint forgets its failures and resumes from where its cursor stopped."""
    actor = require_admin(actor)
    fields = await _clean(url, description, events, channel_ids or [], platforms or [], allow_private_network)
    now = clock.now()
    secret = None
    async with in_transaction() as conn:
        if endpoint_id is None:
            secret = new_secret()
            rows = await conn.execute_query_dict(
                "INSERT INTO webhook_endpoints (url, description, events, filters, secrets_encrypted, "
                "allow_private_network, enabled, cursor, created_by_id, created_at, updated_at) "
                "VALUES ($1, $2, $3::jsonb, $4::jsonb, $5, $6, $7, "
                "COALESCE((SELECT last_seq FROM stream_heads WHERE stream = '*'), 0), $8, $9, $9) "
                f"RETURNING {_COLUMNS}",
                [
                    fields["url"],
                    fields["description"],
                    orjson.dumps(fields["events"]).decode(),
                    orjson.dumps(fields["filters"]).decode(),
                    encrypt_secrets({"current": secret}),
                    allow_private_network,
                    enabled,
                    actor.user_id,
                    now,
                ],
            )
            before = None
        else:
            old = await conn.execute_query_dict(
                f"SELECT {_COLUMNS} FROM webhook_endpoints WHERE id = $1 FOR UPDATE", [endpoint_id]
            )
            if not old:
                raise NotFound(f"webhook endpoint {endpoint_id} does not exist", field="id")
            before = endpoint_view(old[0])
            rows = await conn.execute_query_dict(
                "UPDATE webhook_endpoints SET url = $2, description = $3, events = $4::jsonb, filters = $5::jsonb, "
                "allow_private_network = $6, enabled = $7, updated_at = $8, "
                "disabled_reason = CASE WHEN $7 THEN NULL ELSE disabled_reason END, "
                "disabled_at = CASE WHEN $7 THEN NULL ELSE disabled_at END, "
                "failing_since = CASE WHEN $7 AND NOT enabled THEN NULL ELSE failing_since END "
                f"WHERE id = $1 RETURNING {_COLUMNS}",
                [
                    endpoint_id,
                    fields["url"],
                    fields["description"],
                    orjson.dumps(fields["events"]).decode(),
                    orjson.dumps(fields["filters"]).decode(),
                    allow_private_network,
                    enabled,
                    now,
                ],
            )
        view = endpoint_view(rows[0])
        await audit.record(
            conn,
            actor,
            "webhook_endpoint.create" if before is None else "webhook_endpoint.update",
            "webhook_endpoint",
            view["id"],
            {"before": _audited(before), "after": _audited(view)},
        )
    tasks.WEBHOOKS_TICK.send()
    return view, secret


def _audited(view: dict[str, Any] | None) -> dict[str, Any] | None:
    if view is None:
        return None
    keys = ("url", "description", "events", "filters", "enabled", "allow_private_network")
    return {k: view[k] for k in keys}


async def delete_endpoint(actor: Actor | None, endpoint_id: int) -> bool:
    actor = require_admin(actor)
    async with in_transaction() as conn:
        rows = await conn.execute_query_dict(
            f"DELETE FROM webhook_endpoints WHERE id = $1 RETURNING {_COLUMNS}", [endpoint_id]
        )
        if not rows:
            raise NotFound(f"webhook endpoint {endpoint_id} does not exist", field="id")
        await audit.record(
            conn,
            actor,
            "webhook_endpoint.delete",
            "webhook_endpoint",
            endpoint_id,
            {"before": _audited(endpoint_view(rows[0]))},
        )
    return True


async def rotate_secret(
    actor: Actor | None, endpoint_id: int, previous_valid_seconds: int = 86400
) -> tuple[dict[str, Any], str]:
    """A new signing secret; the old one keeps signing too (a second `v1`) for
    `previous_valid_seconds`, so receivers can switch without dropping a delivery."""
    actor = require_admin(actor)
    if not 0 <= previous_valid_seconds <= MAX_ROTATION_OVERLAP:
        raise BadInput(
            f"previousValidSeconds is 0 to {MAX_ROTATION_OVERLAP} (7 days)", field="previousValidSeconds"
        )
    secret = new_secret()
    now = clock.now()
    async with in_transaction() as conn:
        old = await conn.execute_query_dict(
            "SELECT secrets_encrypted FROM webhook_endpoints WHERE id = $1 FOR UPDATE", [endpoint_id]
        )
        if not old:
            raise NotFound(f"webhook endpoint {endpoint_id} does not exist", field="id")
        current = decrypt_secrets(old[0]["secrets_encrypted"])["current"]
        rows = await conn.execute_query_dict(
            "UPDATE webhook_endpoints SET secrets_encrypted = $2, previous_expires_at = $3, updated_at = $4 "
            f"WHERE id = $1 RETURNING {_COLUMNS}",
            [
                endpoint_id,
                encrypt_secrets({"current": secret, "previous": current}),
                now + timedelta(seconds=previous_valid_seconds),
                now,
            ],
        )
        await audit.record(
            conn,
            actor,
            "webhook_endpoint.rotate_secret",
            "webhook_endpoint",
            endpoint_id,
            {"previous_valid_seconds": previous_valid_seconds, "secret": "***"},
        )
    return endpoint_view(rows[0]), secret


async def replay(
    actor: Actor | None,
    *,
    delivery_id: uuid.UUID | None = None,
    endpoint_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Send again one delivery, or every original delivery of an endpoint made in [since, until):
    new deliveries (new delivery ids, same `event_id` and body), after what is already queued."""
    actor = require_admin(actor)
    if (delivery_id is None) == (endpoint_id is None):
        raise BadInput("give either deliveryId, or endpointId with since and until", field="deliveryId")
    if delivery_id is None and (since is None or until is None or since >= until):
        raise BadInput("a replay by time gives since < until", field="since")
    if delivery_id is not None:
        where, args = "d.delivery_id = $1", [delivery_id]
    else:
        where, args = (
            "d.endpoint_id = $1 AND d.replay_of_id IS NULL AND d.created_at >= $2 AND d.created_at < $3",
            [
                endpoint_id,
                since,
                until,
            ],
        )
    async with in_transaction() as conn:
        rows = await conn.execute_query_dict(
            "INSERT INTO webhook_deliveries (delivery_id, endpoint_id, event_seq, event_type, conversation_id, body, "
            "next_attempt_at, created_at, replay_of_id) "
            f"SELECT gen_random_uuid(), d.endpoint_id, d.event_seq, d.event_type, d.conversation_id, d.body, "
            f"${len(args) + 1}, ${len(args) + 1}, d.id FROM webhook_deliveries d WHERE {where} "
            f"ORDER BY d.id LIMIT {MAX_REPLAY} RETURNING endpoint_id",
            [*args, clock.now()],
        )
        if delivery_id is not None and not rows:
            raise NotFound(f"webhook delivery {delivery_id} does not exist", field="deliveryId")
        await audit.record(
            conn,
            actor,
            "webhook_delivery.replay",
            "webhook_endpoint",
            rows[0]["endpoint_id"] if rows else endpoint_id,
            {
                "delivery_id": str(delivery_id) if delivery_id else None,
                "since": since,
                "until": until,
                "count": len(rows),
            },
        )
    for endpoint in {r["endpoint_id"] for r in rows}:
        tasks.DELIVER_WEBHOOKS.send(endpoint)
    return len(rows)


async def list_deliveries(
    actor: Actor | None,
    endpoint_id: int,
    *,
    status: str | None = None,
    before: int | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Newest first, with every attempt; `before` is the previous page's last internal id."""
    require_admin(actor)
    limit = max(1, min(limit, 200))
    rows = await fetch(
        "SELECT d.id, d.delivery_id, d.endpoint_id, d.event_seq, d.event_type, d.conversation_id, d.body, "
        "d.status, d.attempts, d.next_attempt_at, d.last_status_code, d.last_error, d.created_at, d.delivered_at, "
        "r.delivery_id AS replay_of FROM webhook_deliveries d LEFT JOIN webhook_deliveries r ON r.id = d.replay_of_id "
        "WHERE d.endpoint_id = $1 AND ($2::text IS NULL OR d.status = $2) AND ($3::bigint IS NULL OR d.id < $3) "
        "ORDER BY d.id DESC LIMIT $4",
        endpoint_id,
        status,
        before,
        limit,
    )
    attempts = await fetch(
        "SELECT delivery_id, started_at, duration_ms, status_code, error, succeeded FROM webhook_attempts "
        "WHERE delivery_id = ANY($1::bigint[]) ORDER BY id",
        [r["id"] for r in rows],
    )
    by_delivery: dict[int, list[dict[str, Any]]] = {}
    for attempt in attempts:
        by_delivery.setdefault(attempt["delivery_id"], []).append(attempt)
    return [
        {**r, "body": open_body(r["body"]) or "", "attempt_log": by_delivery.get(r["id"], [])} for r in rows
    ]


async def reencrypt_all_secrets() -> int:
    """`pytake rotate-secrets`: every endpoint's signing secrets under the first ENCRYPTION_KEYS key."""
    rows = await fetch("SELECT id, secrets_encrypted FROM webhook_endpoints")
    for row in rows:
        await fetch(
            "UPDATE webhook_endpoints SET secrets_encrypted = $2 WHERE id = $1 AND secrets_encrypted = $3",
            row["id"],
            rotate(row["secrets_encrypted"]),
            row["secrets_encrypted"],
        )
    return len(rows)


# ---- keeping deliveries moving (called by jobs/outgoing_webhooks.py) --------------------------------


async def tick(token: str | None = None) -> None:
    """Fan out new events (to webhook endpoints and to modules' event handlers), start the sends
    that are due, and schedule the next tick: one chain across every process
    (`webhook_dispatcher.armed_until` is the chain's token; the upkeep sweep starts a new chain
    when the last one was lost). It runs while an endpoint or a module is enabled."""
    await dispatch()
    await modules.dispatch_events()  # the same log, for the enabled modules' event handlers
    for endpoint_id in await endpoints_with_due_deliveries():
        tasks.DELIVER_WEBHOOKS.send(endpoint_id)
    now = datetime.now(UTC)  # wall time, not `clock`: this paces real messages
    armed = now + TICK_EVERY * 5
    # A chain that finds nothing enabled ends and says so (-infinity), so the next save starts a
    # new one at once instead of waiting for the upkeep sweep.
    row = await fetchrow(
        "UPDATE webhook_dispatcher SET armed_until = CASE WHEN EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled) "
        "OR EXISTS (SELECT 1 FROM modules WHERE enabled AND failed_reason IS NULL) "
        "THEN $1::timestamptz ELSE '-infinity'::timestamptz END "
        "WHERE id = 1 AND (armed_until <= $2 OR armed_until = $3) RETURNING armed_until",
        armed,
        now,
        datetime.fromisoformat(token) if token else None,
    )
    if row is not None and row["armed_until"] == armed:
        tasks.WEBHOOKS_TICK.send(armed.isoformat(), delay_ms=int(TICK_EVERY.total_seconds() * 1000))


async def deliver(endpoint_id: int) -> int:
    """Send the endpoint's due deliveries (up to a budget; the next tick sends the rest)."""
    sent = 0
    while sent < DELIVER_BUDGET and await deliver_next(endpoint_id):
        sent += 1
    return sent
