"""Managing the people who answer: admins invite, deactivate and reactivate users and change their
role, teams and "see every conversation" grant; users change their own name and password, and
reset a forgotten one by e-mail; logout ends a login. Every action is audited (resolvers/audit.py).

Tokens sent by e-mail (invitations, resets) are single-use and expire; only their sha256 is stored.
A change to what a user may see is announced to their live subscriptions (visibility.access_changed);
one that must end their sessions (deactivation, a new password) also stamps `tokens_valid_after`,
so their access tokens are refused at the next request, and revokes their refresh tokens.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from connectors.mailer import Mail, MailNotSent, mailer
from core import auth
from core.auth import Actor
from core.events import committed
from core.settings import get_settings
from core.sql import in_transaction
from models import RefreshToken, Role, Team, TeamMember, User, UserToken
from resolvers import audit
from resolvers.auth import Session, _issue, require_admin, require_user
from resolvers.errors import BadInput, Conflict, Forbidden, NotFound, Unauthenticated
from resolvers.shapes import user_view
from resolvers.visibility import access_changed

log = logging.getLogger(__name__)
INVITE_TTL = timedelta(days=7)
RESET_TTL = timedelta(hours=1)
MIN_PASSWORD = 10


def _check_password(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD:
        raise BadInput(f"a password is at least {MIN_PASSWORD} characters", field=field)
    if len(password) > 1024:
        raise BadInput("a password is at most 1024 characters", field=field)


def _check_name(name: str) -> str:
    name = " ".join(name.split())
    if not 0 < len(name) <= 120:
        raise BadInput("a name is 1 to 120 characters", field="name")
    return name


async def _new_token(conn: BaseDBAsyncClient, user_id: int, purpose: str, ttl: timedelta) -> str:
    token = secrets.token_urlsafe(32)
    await UserToken.create(
        using_db=conn,
        user_id=user_id,
        purpose=purpose,
        token_hash=auth.hash_refresh_token(token),
        expires_at=datetime.now(UTC) + ttl,
    )
    return token


async def _use_token(conn: BaseDBAsyncClient, token: str, purpose: str) -> User:
    """The token's user; the token is spent (in the caller's transaction)."""
    row = (
        await UserToken.filter(token_hash=auth.hash_refresh_token(token), purpose=purpose)
        .using_db(conn)
        .select_for_update()
        .first()
    )
    now = datetime.now(UTC)
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise BadInput("this link is invalid, used or expired; ask for a new one", field="token")
    row.used_at = now
    await row.save(using_db=conn, update_fields=["used_at"])
    return await User.get(id=row.user_id, using_db=conn)  # type: ignore[attr-defined]


async def _end_sessions(conn: BaseDBAsyncClient, user: User) -> None:
    """Access tokens issued until now are refused; refresh tokens are revoked."""
    now = datetime.now(UTC)
    user.tokens_valid_after = now
    await user.save(using_db=conn, update_fields=["tokens_valid_after", "updated_at"])
    await RefreshToken.filter(user_id=user.id, revoked_at__isnull=True).using_db(conn).update(revoked_at=now)
    await access_changed(conn, [user.id], "sessions_ended")


async def _send(mail: Mail) -> None:
    try:
        await mailer().send(mail)
    except MailNotSent as exc:
        raise Conflict(f"{exc}; try again", field="email") from exc


def _link(path: str, token: str) -> str:
    return f"{get_settings().public_url}/{path}?token={token}"


async def _user(conn: BaseDBAsyncClient, user_id: int) -> User:
    user = await User.filter(id=user_id).using_db(conn).select_for_update().first()
    if user is None:
        raise NotFound(f"user {user_id} does not exist", field="userId")
    return user


async def _teams_of(conn: BaseDBAsyncClient, user_id: int) -> list[int]:
    return sorted(await TeamMember.filter(user_id=user_id).using_db(conn).values_list("team_id", flat=True))  # type: ignore[arg-type]


async def _set_teams(conn: BaseDBAsyncClient, user_id: int, team_ids: list[int]) -> None:
    team_ids = sorted(set(team_ids))
    if await Team.filter(id__in=team_ids).using_db(conn).count() != len(team_ids):
        raise NotFound("some teams do not exist", field="teamIds")
    await TeamMember.filter(user_id=user_id).using_db(conn).delete()
    for team_id in team_ids:
        await TeamMember.create(using_db=conn, team_id=team_id, user_id=user_id)


# ---- admins -------------------------------------------------------------------------------------


async def invite_user(
    actor: Actor | None, *, email: str, name: str, role: Role, team_ids: list[int], ip: str | None = None
) -> dict[str, Any]:
    """A user who sets their own password through the e-mailed link (valid INVITE_TTL, once)."""
    actor = require_admin(actor)
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise BadInput("email is not an e-mail address", field="email")
    name = _check_name(name)
    async with in_transaction() as conn:
        if await User.filter(email=email).using_db(conn).exists():
            raise Conflict("a user with this e-mail exists", field="email")
        # Nobody knows this password: the invitation sets the real one.
        user = await User.create(
            using_db=conn,
            email=email,
            name=name,
            role=role,
            password_hash=auth.hash_password(secrets.token_urlsafe(32)),
        )
        await _set_teams(conn, user.id, team_ids)
        token = await _new_token(conn, user.id, "invite", INVITE_TTL)
        await audit.record(
            conn,
            actor,
            "user.invite",
            "User",
            user.id,
            {"email": email, "role": role.value, "teams": sorted(set(team_ids))},
            ip,
        )
        # Sent inside the transaction: a refused mail leaves no half-invited user behind.
        await _send(
            Mail(
                to=email,
                subject="You are invited to PyTake",
                text=f"Hello {name},\n\nSet your password and sign in: {_link('accept-invitation', token)}\n\n"
                f"This link works once, for {INVITE_TTL.days} days.\n",
            )
        )
    return {
        **user_view(user),
        "team_ids": sorted(set(team_ids)),
        "invited_until": datetime.now(UTC) + INVITE_TTL,
    }


async def set_active(
    actor: Actor | None, user_id: int, active: bool, ip: str | None = None
) -> dict[str, Any]:
    """Deactivating refuses the user's tokens at once and closes their live subscriptions."""
    actor = require_admin(actor)
    if user_id == actor.user_id and not active:
        raise Forbidden("you cannot deactivate yourself")
    async with in_transaction() as conn:
        user = await _user(conn, user_id)
        if user.is_active != active:
            user.is_active = active
            await user.save(using_db=conn, update_fields=["is_active", "updated_at"])
            if not active:
                await _end_sessions(conn, user)
            await audit.record(
                conn, actor, "user.activate" if active else "user.deactivate", "User", user_id, {}, ip
            )
    committed()
    return user_view(user)


async def update_user(
    actor: Actor | None,
    user_id: int,
    *,
    role: Role | None = None,
    sees_all_conversations: bool | None = None,
    team_ids: list[int] | None = None,
    ip: str | None = None,
) -> dict[str, Any]:
    """Role, teams and the "see every conversation" grant. A new role refuses the user's tokens
    (the role is in them): they refresh and carry the new one."""
    actor = require_admin(actor)
    if user_id == actor.user_id and role is not None and role is not Role.ADMIN:
        raise Forbidden("you cannot take away your own admin role")
    async with in_transaction() as conn:
        user = await _user(conn, user_id)
        before = {
            "role": str(user.role.value if hasattr(user.role, "value") else user.role),
            "sees_all_conversations": user.sees_all_conversations,
            "teams": await _teams_of(conn, user_id),
        }
        if role is not None:
            user.role = role
        if sees_all_conversations is not None:
            user.sees_all_conversations = sees_all_conversations
        await user.save(using_db=conn, update_fields=["role", "sees_all_conversations", "updated_at"])
        if team_ids is not None:
            await _set_teams(conn, user_id, team_ids)
        after = {
            "role": str(user.role.value if hasattr(user.role, "value") else user.role),
            "sees_all_conversations": user.sees_all_conversations,
            "teams": await _teams_of(conn, user_id),
        }
        if after != before:
            await access_changed(conn, [user_id], "access_updated")
            await audit.record(
                conn, actor, "user.update", "User", user_id, {"before": before, "after": after}, ip
            )
    committed()
    return {**user_view(user), "team_ids": after["teams"]}


# ---- oneself ------------------------------------------------------------------------------------


async def update_profile(actor: Actor | None, *, name: str, ip: str | None = None) -> dict[str, Any]:
    actor = require_user(actor)
    name = _check_name(name)
    async with in_transaction() as conn:
        user = await _user(conn, actor.user_id)
        before = user.name
        user.name = name
        await user.save(using_db=conn, update_fields=["name", "updated_at"])
        await audit.record(conn, actor, "user.rename", "User", user.id, {"before": before, "after": name}, ip)
    return user_view(user)


async def change_password(actor: Actor | None, *, current: str, new: str, ip: str | None = None) -> Session:
    """Every other session ends; the caller gets a new one."""
    actor = require_user(actor)
    _check_password(new, "newPassword")
    async with in_transaction() as conn:
        user = await _user(conn, actor.user_id)
        if not auth.verify_password(user.password_hash, current):
            raise BadInput("the current password is wrong", field="currentPassword")
        user.password_hash = auth.hash_password(new)
        await user.save(using_db=conn, update_fields=["password_hash", "updated_at"])
        await _end_sessions(conn, user)
        await audit.record(conn, actor, "user.password_change", "User", user.id, {}, ip)
    committed()
    return await _issue(user, uuid.uuid4())


async def accept_invitation(token: str, *, password: str, ip: str | None = None) -> Session:
    _check_password(password)
    async with in_transaction() as conn:
        user = await _use_token(conn, token, "invite")
        if not user.is_active:
            raise Unauthenticated("this account is disabled")
        user.password_hash = auth.hash_password(password)
        await user.save(using_db=conn, update_fields=["password_hash", "updated_at"])
        await audit.record(
            conn, Actor(user.id, Role(user.role)), "user.accept_invitation", "User", user.id, {}, ip
        )
    return await _issue(user, uuid.uuid4())


async def request_password_reset(email: str, ip: str | None = None) -> None:
    """Mail a reset link if the e-mail is an active user's. The answer is the same either way, so
    it does not tell who has an account."""
    async with in_transaction() as conn:
        user = await User.get_or_none(email=email.strip().lower(), is_active=True, using_db=conn)
        if user is None:
            return
        token = await _new_token(conn, user.id, "reset", RESET_TTL)
        await audit.record(conn, None, "user.password_reset_request", "User", user.id, {}, ip)
    try:
        await mailer().send(
            Mail(
                to=user.email,
                subject="Reset your PyTake password",
                text=f"Hello {user.name},\n\nChoose a new password: {_link('reset-password', token)}\n\n"
                f"This link works once, for {int(RESET_TTL.total_seconds() // 60)} minutes. "
                "If you did not ask for it, ignore this message.\n",
            )
        )
    except MailNotSent as exc:  # the answer must not differ: the admin learns it from the log
        log.warning("password reset mail not sent", extra={"user_id": user.id, "error": str(exc)})


async def reset_password(token: str, *, password: str, ip: str | None = None) -> None:
    """Sets the password; every session of the user ends (the link may be the only one to trust)."""
    _check_password(password)
    async with in_transaction() as conn:
        user = await _use_token(conn, token, "reset")
        if not user.is_active:
            raise Unauthenticated("this account is disabled")
        user.password_hash = auth.hash_password(password)
        await user.save(using_db=conn, update_fields=["password_hash", "updated_at"])
        await _end_sessions(conn, user)
        await audit.record(
            conn, Actor(user.id, Role(user.role)), "user.password_reset", "User", user.id, {}, ip
        )
    committed()
