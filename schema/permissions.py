"""Who is asking, and who may call each root field. The rules of who may do what live in
resolvers/ (require_user/admin/...); this turns the transport's credentials into an Actor, or a
named error, and declares on every Query, Mutation and Subscription field which of those rules
admits the caller (build_schema refuses a root field that declares none)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import strawberry
from strawberry.extensions import FieldExtension

from core.auth import Actor, InvalidToken, bearer_token, decode_access_token
from resolvers import audit
from resolvers import auth as auth_rules
from resolvers.errors import Unauthenticated


def authenticate(authorization: str | None) -> tuple[Actor | None, str | None]:
    """(actor, problem). No header → anonymous; a bad one → a problem to report when used."""
    token = bearer_token(authorization)
    if authorization and token is None:
        return None, "Authorization must be `Bearer <access token>`"
    if token is None:
        return None, None
    try:
        return decode_access_token(token), None
    except InvalidToken as exc:
        return None, f"access token rejected ({exc}); refresh it or sign in again"


def actor_of(info: strawberry.Info) -> Actor | None:
    ctx = info.context
    if ctx.auth_problem:
        raise Unauthenticated(ctx.auth_problem)
    return ctx.actor


class Access(FieldExtension):
    """Who may call a root field, decided before its resolver runs, so before it decodes an id or
    reads any argument: an anonymous caller hears UNAUTHENTICATED and an agent on a supervisors'
    field FORBIDDEN whatever they sent, and a malformed argument cannot tell them more. The rules
    in resolvers/ check again (jobs call them too) and keep the checks that depend on the data
    (an agent may assign a conversation to themselves only)."""

    def __init__(self, name: str, rule: Callable[[Actor | None], object] | None) -> None:
        self.name = name
        self.rule = rule

    def _admit(self, info: strawberry.Info) -> None:
        # Every root field passes here first: the audit log learns the caller's address once.
        audit.CLIENT_ADDRESS.set(info.context.ip)
        if self.rule is not None:
            self.rule(actor_of(info))

    def resolve(self, next_: Callable[..., Any], source: Any, info: strawberry.Info, **kwargs: Any) -> Any:
        self._admit(info)
        return next_(source, info, **kwargs)

    async def resolve_async(
        self, next_: Callable[..., Any], source: Any, info: strawberry.Info, **kwargs: Any
    ) -> Any:
        self._admit(info)
        result = next_(source, info, **kwargs)
        # A subscription's resolver is an async generator: hand it on, do not await it.
        return result if inspect.isasyncgen(result) else await result

    def __repr__(self) -> str:
        return f"Access({self.name})"


# Anyone: signing in and refreshing (a stale Authorization header must not stop a new login).
ANYONE = Access("anyone", None)
SIGNED_IN = Access("signed in", auth_rules.require_user)
SUPERVISORS = Access("supervisors", auth_rules.require_supervisor)
ADMINS = Access("admins", auth_rules.require_admin)


def access_of(field: Any) -> Access | None:
    return next((e for e in field.extensions if isinstance(e, Access)), None)
