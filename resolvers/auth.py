"""Logging in, refresh-token rotation, role checks."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from core import auth
from core.auth import Actor
from core.settings import get_settings
from core.sql import db, fetch, in_transaction
from models import RefreshToken, Role, User
from resolvers import audit
from resolvers.errors import BadInput, Conflict, Forbidden, Unauthenticated
from resolvers.shapes import user_view


@dataclass(frozen=True)
class Session:
    access_token: str
    refresh_token: str
    expires_in: int
    user: dict[str, Any]


async def _issue(user: User, family: uuid.UUID) -> Session:
    access, ttl = auth.issue_access_token(user.id, Role(user.role))
    refresh, refresh_hash = auth.new_refresh_token()
    expires = datetime.now(UTC) + timedelta(seconds=get_settings().refresh_token_ttl)
    await RefreshToken.create(user_id=user.id, family=family, token_hash=refresh_hash, expires_at=expires)
    return Session(access, refresh, ttl, user_view(user))


async def login(email: str, password: str) -> Session:
    user = await User.get_or_none(email=email.strip().lower())
    if not auth.verify_password(user.password_hash if user else None, password) or user is None:
        await _audit_failed_login(email, user, "wrong e-mail or password")
        raise Unauthenticated("wrong e-mail or password")
    if not user.is_active:
        await _audit_failed_login(email, user, "account disabled")
        raise Unauthenticated("this account is disabled")
    session = await _issue(user, uuid.uuid4())
    await audit.record(db(), Actor(user.id, Role(user.role)), "user.login", "User", user.id)
    return session


async def _audit_failed_login(email: str, user: User | None, reason: str) -> None:
    # The e-mail as typed (cut short): who was tried matters even when no such user exists.
    details = {"email": email.strip().lower()[:254], "reason": reason}
    await audit.record(db(), None, "user.login_failed", "User", user.id if user else None, details)


async def refresh(token: str) -> Session:
    """Rotate: the presented token is used up and a new one of the same family issued. Presenting
    a used token again means it leaked: the whole family is revoked."""
    now = datetime.now(UTC)
    async with in_transaction():
        row = await RefreshToken.filter(token_hash=auth.hash_refresh_token(token)).select_for_update().first()
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise Unauthenticated("refresh token is invalid or expired")
        if row.used_at is not None:
            await RefreshToken.filter(family=row.family, revoked_at__isnull=True).update(revoked_at=now)
            reuse_detected = True
        else:
            row.used_at = now
            await row.save(update_fields=["used_at"])
            reuse_detected = False
    if reuse_detected:
        user_id = row.user_id  # type: ignore[attr-defined]
        await audit.record(db(), None, "user.refresh_reused", "User", user_id, {"family": str(row.family)})
        # Raised outside the transaction so the revocation commits.
        raise Unauthenticated("refresh token was already used; all sessions of this login are revoked")
    user = await User.get(id=row.user_id)  # type: ignore[attr-defined]
    if not user.is_active:
        raise Unauthenticated("this account is disabled")
    return await _issue(user, row.family)


async def logout(token: str) -> bool:
    row = await RefreshToken.get_or_none(token_hash=auth.hash_refresh_token(token))
    if row is None:
        return False
    await RefreshToken.filter(family=row.family, revoked_at__isnull=True).update(revoked_at=datetime.now(UTC))
    user = await User.get_or_none(id=row.user_id)  # type: ignore[attr-defined]
    if user is not None:
        await audit.record(db(), Actor(user.id, Role(user.role)), "user.logout", "User", user.id)
    return True


def require_user(actor: Actor | None) -> Actor:
    if actor is None:
        raise Unauthenticated("sign in first: send `Authorization: Bearer <access token>`")
    return actor


def require_admin(actor: Actor | None) -> Actor:
    actor = require_user(actor)
    if not actor.is_admin:
        raise Forbidden("only admins may do this")
    return actor


def require_supervisor(actor: Actor | None) -> Actor:
    actor = require_user(actor)
    if not actor.is_supervisor:
        raise Forbidden("only supervisors and admins may do this")
    return actor


async def create_user(
    actor: Actor | None, *, email: str, name: str, password: str, role: Role
) -> dict[str, Any]:
    actor = require_admin(actor)
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise BadInput("email is not an e-mail address", field="email")
    if len(password) < 10:
        raise BadInput("password must be at least 10 characters", field="password")
    async with in_transaction() as conn:
        if await User.filter(email=email).exists():
            raise Conflict("a user with this e-mail exists", field="email")
        user = await User.create(
            email=email, name=name.strip(), password_hash=auth.hash_password(password), role=role
        )
        await audit.record(conn, actor, "user.create", "User", user.id, {"email": email, "role": role.value})
    return user_view(user)


async def get_active_user(actor: Actor) -> User:
    user = await User.get_or_none(id=actor.user_id)
    if user is None or not user.is_active:
        raise Unauthenticated("this account no longer exists or is disabled")
    return user


# Each user with their teams, when a live subscription last saw them and, while an invitation
# is not yet accepted (no invite link of theirs used), when its newest link expires.
_USERS = """
SELECT u.id, u.email, u.name, u.role, u.is_active, u.presence, u.capacity, u.platform_capacity,
       u.skills, u.sees_all_conversations, u.last_seen_at,
       coalesce((SELECT array_agg(tm.team_id ORDER BY tm.team_id) FROM team_members tm
                 WHERE tm.user_id = u.id), '{}') AS team_ids,
       (SELECT max(t.expires_at) FROM user_tokens t WHERE t.user_id = u.id AND t.purpose = 'invite'
         HAVING bool_and(t.used_at IS NULL)) AS invited_until
FROM users u ORDER BY u.id
"""


async def list_users(actor: Actor | None) -> list[dict[str, Any]]:
    require_supervisor(actor)
    rows = await fetch(_USERS)
    return [
        {
            **user_view(r),
            "team_ids": list(r["team_ids"]),
            "last_seen_at": r["last_seen_at"],
            "invited_until": r["invited_until"],
            "platform_capacity": _json_object(r["platform_capacity"]),
        }
        for r in rows
    ]


def _json_object(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, dict) else {}


def may_see_user(actor: Actor | None, user_id: int) -> Actor:
    """Another user's e-mail and role are for supervisors (as `users` lists them); anyone may see
    themselves (as `me`). A look-up by id answers the same, so it cannot go round `users`."""
    actor = require_user(actor)
    if user_id != actor.user_id and not actor.is_supervisor:
        raise Forbidden("only supervisors and admins may look up other users")
    return actor
