"""Who is asking. The rules of who may do what live in resolvers/ (require_user/admin/...);
this only turns the transport's credentials into an Actor, or a named error."""

from __future__ import annotations

import strawberry

from core.auth import Actor, InvalidToken, bearer_token, decode_access_token
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
