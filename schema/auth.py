"""Who works here and how they sign in: the User type, `me` and `users`, login, token refresh,
logout and `createUser` (rules in resolvers/auth.py)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from models import Presence as _Presence
from models import Role as _Role
from resolvers import auth as auth_rules
from resolvers import login_limits
from resolvers.errors import RateLimited, Unauthenticated
from resolvers.visibility import is_key
from schema.common import AgentPresence, Role
from schema.permissions import ADMINS, ANYONE, SIGNED_IN, SUPERVISORS, actor_of
from schema.relay import Node, to_global_id


@strawberry.type
class User(Node):
    id: strawberry.ID
    name: str
    is_active: bool
    presence: AgentPresence | None = None
    capacity: int | None = None
    skills: list[str] | None = None
    pk: strawberry.Private[int] = 0
    private_email: strawberry.Private[str] = ""
    private_role: strawberry.Private[str] = ""
    private_sees_all: strawberry.Private[bool | None] = None
    own: strawberry.Private[bool] = False  # the session's own user (login, refresh): always shown
    private_team_ids: strawberry.Private[list[int] | None] = None
    private_last_seen_at: strawberry.Private[datetime | None] = None
    private_invited_until: strawberry.Private[datetime | None] = None
    private_platform_capacity: strawberry.Private[dict[str, Any] | None] = None

    @classmethod
    def from_view(cls, v: Any) -> User:
        return cls(
            id=to_global_id("User", v["id"]),
            pk=v["id"],
            private_email=v["email"],
            private_role=v["role"],
            private_sees_all=v.get("sees_all_conversations"),
            name=v["name"],
            is_active=v["is_active"],
            presence=_Presence(v["presence"]) if v.get("presence") else None,
            capacity=v.get("capacity"),
            skills=list(v["skills"]) if v.get("skills") is not None else None,
            private_team_ids=v.get("team_ids"),
            private_last_seen_at=v.get("last_seen_at"),
            private_invited_until=v.get("invited_until"),
            private_platform_capacity=v.get("platform_capacity"),
        )

    def _shown(self, info: strawberry.Info) -> bool:
        """Another user's e-mail and role are for supervisors and admins (an agent sees a
        teammate's name and presence on assignees, senders and activities)."""
        actor = info.context.actor
        if self.own:
            return True
        return actor is not None and (actor.user_id == self.pk or actor.is_supervisor or is_key(actor))

    @strawberry.field(description="Yourself, or anyone for supervisors and admins; else null.")
    def email(self, info: strawberry.Info) -> str | None:
        return self.private_email if self._shown(info) else None

    @strawberry.field(description="Yourself, or anyone for supervisors and admins; else null.")
    def role(self, info: strawberry.Info) -> Role | None:
        return _Role(self.private_role) if self._shown(info) else None

    @strawberry.field(
        description="Sees every conversation, not only their teams' and their own (an admin's grant)."
    )
    def sees_all_conversations(self, info: strawberry.Info) -> bool | None:
        return self.private_sees_all if self._shown(info) else None

    @strawberry.field(description="The user's teams (as `users` and `inviteUser` answer; else null).")
    def team_ids(self, info: strawberry.Info) -> list[strawberry.ID] | None:
        if self.private_team_ids is None or not self._shown(info):
            return None
        return [strawberry.ID(to_global_id("Team", t)) for t in self.private_team_ids]

    @strawberry.field(description="When a live connection of theirs was last seen (as `users` answers).")
    def last_seen_at(self, info: strawberry.Info) -> datetime | None:
        return self.private_last_seen_at if self._shown(info) else None

    @strawberry.field(
        description="Invited and not yet signed up: when the newest invitation link expires (in "
        "the past: expired, invite again); null once accepted (as `users` and `inviteUser` answer)."
    )
    def invited_until(self, info: strawberry.Info) -> datetime | None:
        return self.private_invited_until if self._shown(info) else None

    @strawberry.field(description='Per-platform capacities, e.g. {"whatsapp": 3} (as `users` answers).')
    def platform_capacity(self, info: strawberry.Info) -> JSON | None:
        return self.private_platform_capacity if self._shown(info) else None  # type: ignore[return-value]


@strawberry.type
class AuthPayload:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User


@strawberry.input
class CreateUserInput:
    email: str
    name: str
    password: str
    role: Role


def _session(session: auth_rules.Session) -> AuthPayload:
    return AuthPayload(
        access_token=session.access_token,
        refresh_token=session.refresh_token,
        expires_in=session.expires_in,
        user=dataclasses.replace(User.from_view(session.user), own=True),
    )


@strawberry.type
class AuthQueries:
    @strawberry.field(description="The signed-in user.", extensions=[SIGNED_IN])
    async def me(self, info: strawberry.Info) -> User:
        actor = auth_rules.require_user(actor_of(info))
        return User.from_view(await info.context.loaders.users.load(actor.user_id))

    @strawberry.field(extensions=[SUPERVISORS])
    async def users(self, info: strawberry.Info) -> list[User]:
        return [User.from_view(v) for v in await auth_rules.list_users(actor_of(info))]


@strawberry.type
class AuthMutations:
    @strawberry.mutation(
        description="Sign in: a short-lived access token and a rotating refresh token.", extensions=[ANYONE]
    )
    async def login(self, info: strawberry.Info, email: str, password: str) -> AuthPayload:
        settings, limiter, ip = info.context.settings, info.context.rate_limiter, info.context.ip
        wait = await limiter.take(f"login:{ip}:{email.lower()}", limit=settings.login_rate_per_minute, per=60)
        if wait:
            raise RateLimited("too many sign-in attempts; wait a minute", retryAfter=wait)
        await login_limits.ensure_not_locked(limiter, email, ip)
        try:
            session = await auth_rules.login(email, password)
        except Unauthenticated:
            await login_limits.failed(limiter, settings, email, ip)
            raise
        await login_limits.succeeded(limiter, email)
        return _session(session)

    @strawberry.mutation(
        description="Trade a refresh token for a new pair. Each refresh token works once.",
        extensions=[ANYONE],
    )
    async def refresh_token(self, refresh_token: str) -> AuthPayload:
        return _session(await auth_rules.refresh(refresh_token))

    @strawberry.mutation(extensions=[ANYONE])
    async def logout(self, refresh_token: str) -> bool:
        return await auth_rules.logout(refresh_token)

    @strawberry.mutation(description="Admins: add an agent, supervisor or admin.", extensions=[ADMINS])
    async def create_user(self, info: strawberry.Info, input: CreateUserInput) -> User:
        view = await auth_rules.create_user(
            actor_of(info), email=input.email, name=input.name, password=input.password, role=input.role
        )
        return User.from_view(view)
