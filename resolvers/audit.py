"""The audit log: every action that changes configuration or access, or reveals or removes
personal data, written in the action's own transaction. Append-only: the database refuses to
change or delete a row (migration 17); admins read it with `list_entries`.

Rows name customers by id and never copy their personal data, so erasing a customer leaves the
log as it is. Configuration goes in as before/after with its secrets masked (`masked`)."""

from __future__ import annotations

import base64
import binascii
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient

from core.auth import Actor
from core.sql import fetch
from resolvers.errors import BadInput, Forbidden, Unauthenticated

# The address of the client whose request is running: set by the doors (schema/ for GraphQL, the
# download route) so that every rule called from a request records it without passing it along.
CLIENT_ADDRESS: ContextVar[str | None] = ContextVar("audit_client_address", default=None)

MASK = "***"
_SECRET_WORDS = ("token", "secret", "password", "key")
MAX_PAGE = 100


def masked(value: Any) -> Any:
    """`value` with what any key that names a secret (token, secret, password, key) holds replaced
    by "***", at any depth: configuration can go into the log without its secrets."""
    if isinstance(value, dict):
        return {
            k: MASK if any(w in str(k).lower() for w in _SECRET_WORDS) and v is not None else masked(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


def before_after(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The keys that changed, old and new, secrets masked."""
    keys = sorted(k for k in {*before, *after} if before.get(k) != after.get(k))
    return {
        "before": masked({k: before.get(k) for k in keys}),
        "after": masked({k: after.get(k) for k in keys}),
    }


async def record(
    conn: BaseDBAsyncClient,
    actor: Actor | None,
    action: str,
    target_type: str,
    target_id: object = None,
    details: dict[str, Any] | None = None,
    ip: str | None = None,
) -> None:
    await conn.execute_query(
        "INSERT INTO audit_log (actor_id, api_key_id, action, target_type, target_id, details, ip, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, now())",
        [
            actor.user_id if actor else None,
            actor.api_key_id if actor else None,  # an action by an API key is audited as that key
            action,
            target_type,
            None if target_id is None else str(target_id),
            orjson.dumps(details or {}).decode(),
            ip or CLIENT_ADDRESS.get(),
        ],
    )


@dataclass(frozen=True)
class AuditFilter:
    actor_user_id: int | None = None
    actor_api_key_id: int | None = None
    action: str | None = None  # exact, or a prefix ending in "." ("channel." for every channel action)
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None  # at or after
    until: datetime | None = None  # before


@dataclass(frozen=True)
class AuditPage:
    items: list[dict[str, Any]]
    cursors: list[str]
    has_next: bool


def _cursor(entry_id: int) -> str:
    return base64.urlsafe_b64encode(f"audit:{entry_id}".encode()).decode()


def _after_id(cursor: str) -> int:
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        kind, value = "", ""
    if kind != "audit" or not value.isascii() or not value.isdigit() or int(value) >= 2**63:
        raise BadInput("cursor is not one this API returned", field="after")
    return int(value)


async def list_entries(
    actor: Actor | None, *, filter: AuditFilter, first: int | None = None, after: str | None = None
) -> AuditPage:
    """Newest first, keyset on id (ids grow in insertion order, so a page never shifts)."""
    # resolvers/auth records here, so its require_admin cannot be imported back: the same check.
    if actor is None:
        raise Unauthenticated("sign in first: send `Authorization: Bearer <access token>`")
    if not actor.is_admin:
        raise Forbidden("only admins may do this")
    size = 50 if first is None else first
    if not 0 < size <= MAX_PAGE:
        raise BadInput(f"page size must be between 1 and {MAX_PAGE}", field="first")
    args: list[Any] = []

    def arg(value: object) -> str:
        args.append(value)
        return f"${len(args)}"

    where = ["TRUE"]
    if after:
        where.append(f"a.id < {arg(_after_id(after))}")
    if filter.actor_user_id is not None:
        where.append(f"a.actor_id = {arg(filter.actor_user_id)}")
    if filter.actor_api_key_id is not None:
        where.append(f"a.api_key_id = {arg(filter.actor_api_key_id)}")
    if filter.action:
        if filter.action.endswith("."):
            where.append(f"starts_with(a.action, {arg(filter.action)})")
        else:
            where.append(f"a.action = {arg(filter.action)}")
    if filter.target_type:
        where.append(f"a.target_type = {arg(filter.target_type)}")
    if filter.target_id is not None:
        where.append(f"a.target_id = {arg(filter.target_id)}")
    if filter.since is not None:
        where.append(f"a.created_at >= {arg(filter.since)}")
    if filter.until is not None:
        where.append(f"a.created_at < {arg(filter.until)}")
    rows = await fetch(
        "SELECT a.id, a.actor_id, a.api_key_id, a.action, "
        "a.target_type, a.target_id, a.details::text AS details, a.ip, a.created_at "
        f"FROM audit_log a WHERE {' AND '.join(where)} ORDER BY a.id DESC LIMIT {arg(size + 1)}",
        *args,
    )
    items = [{**r, "details": orjson.loads(r["details"])} for r in rows[:size]]
    return AuditPage(items=items, cursors=[_cursor(r["id"]) for r in items], has_next=len(rows) > size)
