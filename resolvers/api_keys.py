"""API keys for integrators: admins create them with scopes (the key is shown once, only its
sha256 is kept), list and revoke them. A request with `Authorization: Bearer pk_…` acts for the
admin who created the key, with that admin's current role, and only within the key's scopes
(which root field needs which scope: schema/permissions.py). A key stops working the moment it is
revoked or its creator is deactivated."""

from __future__ import annotations

import enum
import time
from datetime import UTC, datetime
from typing import Any

import orjson

from core import auth
from core.auth import Actor, Role
from core.sql import fetch, fetchrow, in_transaction
from models import ApiKey
from resolvers import audit
from resolvers.auth import require_admin
from resolvers.errors import BadInput, NotFound, Unauthenticated

LAST_USED_EVERY = 60.0  # seconds: last-used time and address are written at most this often per process
_last_used_written: dict[int, float] = {}


class Scope(enum.StrEnum):
    CONVERSATIONS_READ = "conversations:read"
    CONVERSATIONS_WRITE = "conversations:write"
    MESSAGES_SEND = "messages:send"
    CUSTOMERS_WRITE = "customers:write"
    TEMPLATES_READ = "templates:read"
    TEMPLATES_MANAGE = "templates:manage"
    FLOWS_READ = "flows:read"
    FLOWS_MANAGE = "flows:manage"
    CHANNELS_READ = "channels:read"
    CHANNELS_MANAGE = "channels:manage"
    TEAMS_READ = "teams:read"
    TEAMS_MANAGE = "teams:manage"
    USERS_READ = "users:read"
    METRICS_READ = "metrics:read"
    WEBHOOKS_MANAGE = "webhooks:manage"
    AUDIT_READ = "audit:read"
    PRIVACY_MANAGE = "privacy:manage"  # customer exports, erasure, retention (a DPO's tooling)


def key_view(row: Any) -> dict[str, Any]:
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    return {
        "id": get("id"),
        "name": get("name"),
        "prefix": get("prefix"),
        "scopes": sorted(get("scopes") or ()),
        "created_by_id": get("created_by_id"),
        "created_at": get("created_at"),
        "revoked_at": get("revoked_at"),
        "last_used_at": get("last_used_at"),
        "last_used_ip": get("last_used_ip"),
    }


async def create_key(
    actor: Actor | None, *, name: str, scopes: list[Scope], ip: str | None = None
) -> tuple[dict[str, Any], str]:
    """(the key's view, the key itself: shown this once)."""
    actor = require_admin(actor)
    name = name.strip()
    if not name or len(name) > 120:
        raise BadInput("name must be 1 to 120 characters", field="name")
    if not scopes:
        raise BadInput("give the key at least one scope", field="scopes")
    token, token_hash = auth.new_api_key()
    async with in_transaction() as conn:
        key = await ApiKey.create(
            name=name,
            prefix=token[:11],
            token_hash=token_hash,
            scopes=sorted({Scope(s).value for s in scopes}),
            created_by_id=actor.user_id,
        )
        await audit.record(
            conn, actor, "api_key.create", "ApiKey", key.id, {"name": name, "scopes": key.scopes}, ip
        )
    return key_view(key), token


async def list_keys(actor: Actor | None) -> list[dict[str, Any]]:
    require_admin(actor)
    return [key_view(k) for k in await ApiKey.all().order_by("-id")]


async def revoke_key(actor: Actor | None, key_id: int, ip: str | None = None) -> dict[str, Any]:
    actor = require_admin(actor)
    async with in_transaction() as conn:
        key = await ApiKey.filter(id=key_id).using_db(conn).select_for_update().first()
        if key is None:
            raise NotFound("no such API key", field="id")
        if key.revoked_at is None:
            key.revoked_at = datetime.now(UTC)
            key.revoked_by_id = actor.user_id  # type: ignore[attr-defined]
            await key.save(using_db=conn, update_fields=["revoked_at", "revoked_by_id"])
            await audit.record(conn, actor, "api_key.revoke", "ApiKey", key.id, {"name": key.name}, ip)
    return key_view(key)


_KEY_SQL = (
    "SELECT k.id, k.scopes, k.revoked_at, u.id AS user_id, u.role, u.is_active "
    "FROM api_keys k JOIN users u ON u.id = k.created_by_id WHERE {where}"
)


def _actor_of(row: dict[str, Any] | None) -> Actor:
    if row is None:
        raise Unauthenticated("unknown API key")
    if row["revoked_at"] is not None:
        raise Unauthenticated("this API key was revoked")
    if not row["is_active"]:
        raise Unauthenticated("the admin who created this API key is deactivated")
    return Actor(
        user_id=row["user_id"], role=Role(row["role"]), api_key_id=row["id"], scopes=frozenset(row["scopes"])
    )


async def actor_for_key(token: str, ip: str | None) -> Actor:
    """The actor a presented key acts as; Unauthenticated when it is unknown, revoked or its
    creator deactivated. Records the use (time, address) at most once a minute per process."""
    actor = _actor_of(await fetchrow(_KEY_SQL.format(where="k.token_hash = $1"), auth.hash_api_key(token)))
    assert actor.api_key_id is not None
    now = time.monotonic()
    if now - _last_used_written.get(actor.api_key_id, -LAST_USED_EVERY) >= LAST_USED_EVERY:
        _last_used_written[actor.api_key_id] = now
        await fetch(
            "UPDATE api_keys SET last_used_at = now(), last_used_ip = $2 WHERE id = $1", actor.api_key_id, ip
        )
    return actor


async def ensure_key_active(key_id: int) -> None:
    """For long-lived subscriptions: Unauthenticated once the key is revoked."""
    _actor_of(await fetchrow(_KEY_SQL.format(where="k.id = $1"), key_id))


async def record_use(actor: Actor, field: str, ok: bool, ip: str | None) -> None:
    """Every mutation a key runs is in the audit log as that key, whether or not the mutation
    audits itself."""
    async with in_transaction() as conn:
        await audit.record(conn, actor, "api_key.use", "Mutation", field, {"field": field, "ok": ok}, ip)


_reads_recorded: dict[tuple[int, str], int] = {}  # (key, operation) -> the minute this process recorded
_READS_REMEMBERED = 10_000


def read_label(operation: str | None, fields: list[str]) -> str:
    """What a read is audited under: its operation name, else its root fields (`{a,b}`)."""
    return (operation or "{" + ",".join(sorted(set(fields))) + "}")[:200]


async def record_read(
    actor: Actor, root: str, operation: str | None, fields: list[str], ip: str | None
) -> None:
    """Reads by a key are in the audit log as that key too, kept readable: one `api_key.read` entry
    per key, operation and minute (the minute's first call, with its root fields), however many
    calls and API processes. `api_key_reads` marks each (key, operation, minute) across processes;
    this process remembers what it marked, so a busy key costs one statement a minute per operation."""
    assert actor.api_key_id is not None
    label = read_label(operation, fields)
    minute = int(time.time() // 60)
    if _reads_recorded.get((actor.api_key_id, label)) == minute:
        return
    if len(_reads_recorded) >= _READS_REMEMBERED:
        _reads_recorded.clear()
    _reads_recorded[(actor.api_key_id, label)] = minute
    await fetch(
        "WITH mark AS (INSERT INTO api_key_reads (api_key_id, operation, minute) "
        "VALUES ($1, $2, date_trunc('minute', now())) ON CONFLICT DO NOTHING RETURNING 1) "
        "INSERT INTO audit_log (actor_id, api_key_id, action, target_type, target_id, details, ip, created_at) "
        "SELECT $3, $1, 'api_key.read', $7, $4, $5::jsonb, $6, now() FROM mark",
        actor.api_key_id,
        label,
        actor.user_id,
        label[:64],
        orjson.dumps({"operation": operation, "fields": sorted(set(fields))}).decode(),
        ip,
        root,
    )


async def prune_read_marks() -> int:
    """The marks only need to outlive their minute (the maintenance job drops older ones)."""
    rows = await fetch(
        "WITH gone AS (DELETE FROM api_key_reads WHERE minute < now() - interval '10 minutes' RETURNING 1) "
        "SELECT count(*) AS n FROM gone"
    )
    return rows[0]["n"]
