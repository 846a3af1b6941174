"""Managing users: invitations, deactivation, roles, teams and the "see every conversation" grant
(admins); one's own name and password; password resets by e-mail (rules in resolvers/users.py)."""

from __future__ import annotations

import strawberry

from models import Role as _Role
from resolvers import users as user_rules
from resolvers.errors import RateLimited
from schema.auth import AuthPayload, User, _session
from schema.common import Role
from schema.permissions import ADMINS, ANYONE, SIGNED_IN, actor_of
from schema.relay import decode_id


@strawberry.input
class InviteUserInput:
    email: str
    name: str
    role: Role
    team_ids: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.input
class UpdateUserInput:
    role: Role | None = None
    sees_all_conversations: bool | None = strawberry.field(
        default=None, description="See every conversation, not only their teams' and their own."
    )
    team_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Replaces the user's teams (what they see follows at once)."
    )


def _team_pks(ids: list[strawberry.ID]) -> list[int]:
    return [decode_id(i, "Team", "teamIds") for i in ids]


async def _limit(info: strawberry.Info, key: str) -> None:
    """E-mailed links and their tokens are guessable only by brute force: as slow as logins."""
    limit = info.context.settings.login_rate_per_minute
    if not await info.context.rate_limiter.hit(f"{key}:{info.context.ip}", limit=limit, per=60):
        raise RateLimited("too many attempts; wait a minute", retry_after=60)


@strawberry.type
class UserMutations:
    @strawberry.mutation(
        extensions=[ADMINS],
        description="Admins: add a user who sets their own password through an e-mailed link (audited).",
    )
    async def invite_user(self, info: strawberry.Info, input: InviteUserInput) -> User:
        view = await user_rules.invite_user(
            actor_of(info),
            email=input.email,
            name=input.name,
            role=_Role(input.role.value),
            team_ids=_team_pks(input.team_ids),
            ip=info.context.ip,
        )
        return User.from_view(view)

    @strawberry.mutation(
        extensions=[ADMINS],
        description="Admins: a deactivated user's tokens are refused at once and their live "
        "subscriptions closed (audited).",
    )
    async def deactivate_user(self, info: strawberry.Info, user_id: strawberry.ID) -> User:
        pk = decode_id(user_id, "User", "userId")
        return User.from_view(await user_rules.set_active(actor_of(info), pk, False, ip=info.context.ip))

    @strawberry.mutation(
        extensions=[ADMINS], description="Admins: let a deactivated user sign in again (audited)."
    )
    async def reactivate_user(self, info: strawberry.Info, user_id: strawberry.ID) -> User:
        pk = decode_id(user_id, "User", "userId")
        return User.from_view(await user_rules.set_active(actor_of(info), pk, True, ip=info.context.ip))

    @strawberry.mutation(
        extensions=[ADMINS],
        description="Admins: change a user's role, teams or grant to see every conversation (audited).",
    )
    async def update_user(
        self, info: strawberry.Info, user_id: strawberry.ID, input: UpdateUserInput
    ) -> User:
        view = await user_rules.update_user(
            actor_of(info),
            decode_id(user_id, "User", "userId"),
            role=_Role(input.role.value) if input.role is not None else None,
            sees_all_conversations=input.sees_all_conversations,
            team_ids=_team_pks(input.team_ids) if input.team_ids is not None else None,
            ip=info.context.ip,
        )
        return User.from_view(view)

    @strawberry.mutation(extensions=[SIGNED_IN], description="Change your own name (audited).")
    async def update_my_profile(self, info: strawberry.Info, name: str) -> User:
        return User.from_view(await user_rules.update_profile(actor_of(info), name=name, ip=info.context.ip))

    @strawberry.mutation(
        extensions=[SIGNED_IN],
        description="Change your password: every other session ends; this answer is your new one (audited).",
    )
    async def change_my_password(
        self, info: strawberry.Info, current_password: str, new_password: str
    ) -> AuthPayload:
        session = await user_rules.change_password(
            actor_of(info), current=current_password, new=new_password, ip=info.context.ip
        )
        return _session(session)

    @strawberry.mutation(
        extensions=[ANYONE],
        description="Set your password with the invitation's token (once) and sign in.",
    )
    async def accept_invitation(self, info: strawberry.Info, token: str, password: str) -> AuthPayload:
        await _limit(info, "invitation")
        return _session(await user_rules.accept_invitation(token, password=password, ip=info.context.ip))

    @strawberry.mutation(
        extensions=[ANYONE],
        description="E-mail a password reset link, if the address is an active user's. Always true: "
        "the answer does not tell who has an account.",
    )
    async def request_password_reset(self, info: strawberry.Info, email: str) -> bool:
        await _limit(info, "reset-request")
        await user_rules.request_password_reset(email, ip=info.context.ip)
        return True

    @strawberry.mutation(
        extensions=[ANYONE],
        description="Set a new password with the e-mailed token (once, within an hour); every "
        "session of the account ends.",
    )
    async def reset_password(self, info: strawberry.Info, token: str, password: str) -> bool:
        await _limit(info, "reset")
        await user_rules.reset_password(token, password=password, ip=info.context.ip)
        return True
