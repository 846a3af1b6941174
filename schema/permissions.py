"""Who is asking, and who may call each root field. The rules of who may do what live in
resolvers/ (require_user/admin/...); this turns the transport's credentials into an Actor, or a
named error, and declares on every Query, Mutation and Subscription field which of those rules
admits the caller (build_schema refuses a root field that declares none)."""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator, Callable
from typing import Any

import strawberry
from graphql import FieldNode, OperationType
from starlette.websockets import WebSocket
from strawberry.extensions import FieldExtension

from core.auth import Actor, InvalidToken, bearer_token, decode_access_token, is_api_key
from core.outage import patiently
from resolvers import api_keys as key_rules
from resolvers import audit, visibility
from resolvers import auth as auth_rules
from resolvers.errors import Forbidden, Unauthenticated
from schema.key_scopes import NO_KEYS, scope_for


async def authenticate(authorization: str | None, ip: str | None = None) -> tuple[Actor | None, str | None]:
    """(actor, problem). No header → anonymous; a bad one → a problem to report when used.
    `Bearer pk_…` is an API key (looked up in the database); anything else an access token."""
    token = bearer_token(authorization)
    if authorization and token is None:
        return None, "Authorization must be `Bearer <access token>` or `Bearer <API key>`"
    if token is None:
        return None, None
    if is_api_key(token):
        try:
            return await key_rules.actor_for_key(token, ip), None
        except Unauthenticated as exc:
            return None, f"API key rejected: {exc.message}"
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
        actor = info.context.actor
        if actor is not None and actor.is_api_key:
            _admit_key(actor, info.path.typename, info.field_name)

    def resolve(self, next_: Callable[..., Any], source: Any, info: strawberry.Info, **kwargs: Any) -> Any:
        self._admit(info)
        return next_(source, info, **kwargs)

    async def admit_async(self, info: strawberry.Info) -> None:
        """Everything that happens before an async root field runs, in the general executor and in
        the read path planner alike: standing, the rule, the key's scope, the key's read audit."""
        if self.rule is not None and info.context.actor is not None:
            await _check_standing(info)  # first: a token with an outdated role is told to refresh
        self._admit(info)
        actor = info.context.actor
        root = info.path.typename
        if actor is not None and actor.api_key_id is not None and root != "Mutation":
            # A key's reads are audited too: once a minute each.
            operation = info.operation.name.value if info.operation.name else None
            await key_rules.record_read(actor, root, operation, _root_fields(info), info.context.ip)

    async def resolve_async(
        self, next_: Callable[..., Any], source: Any, info: strawberry.Info, **kwargs: Any
    ) -> Any:
        await self.admit_async(info)
        actor = info.context.actor
        key_id = actor.api_key_id if actor is not None else None
        root = info.path.typename
        result = next_(source, info, **kwargs)
        # A subscription's resolver is an async generator (or a coroutine giving one): hand it on.
        if key_id is None:
            return result if inspect.isasyncgen(result) else await result
        if root == "Subscription":
            events = result if inspect.isasyncgen(result) else await result
            return _while_key_active(events, key_id) if inspect.isasyncgen(events) else events
        if root != "Mutation":
            return await result
        try:
            value = await result
        except Exception:
            await key_rules.record_use(actor, info.field_name, False, info.context.ip)  # type: ignore[arg-type]
            raise
        await key_rules.record_use(actor, info.field_name, True, info.context.ip)  # type: ignore[arg-type]
        return value

    def __repr__(self) -> str:
        return f"Access({self.name})"


async def _check_standing(info: strawberry.Info) -> None:
    """Once per HTTP request, and for each operation on a WebSocket (whose context lives as long as
    the socket): the token's user is still active, its role still theirs and the token not
    revoked (resolvers/visibility.py), so a deactivation refuses the very next request."""
    ctx = info.context
    if info.operation.operation is OperationType.SUBSCRIPTION:
        return  # checked by its AccessWatch, after the stream's head is read (schema/subscriptions.py)
    if isinstance(ctx.request, WebSocket):  # a query over the socket waits out an outage, as replays do
        await patiently(lambda: visibility.check_standing(ctx.actor), "subscription access")
    elif not ctx.standing_checked:
        scope = await visibility.check_standing(ctx.actor)
        if scope is not None:
            ctx.standing_checked = True
            visibility.remember_for_request(ctx.actor, scope)


def _root_fields(info: strawberry.Info) -> list[str]:
    return [s.name.value for s in info.operation.selection_set.selections if isinstance(s, FieldNode)]


def _admit_key(actor: Actor, root: str, field: str) -> None:
    scope = scope_for(root, field)
    if scope is NO_KEYS:
        raise Forbidden(f"API keys cannot call {root}.{field}; sign in as a user", field=field)
    if scope not in actor.scopes:
        raise Forbidden(f"this API key lacks the `{scope}` scope that {field} needs", scope=scope)


async def _while_key_active(events: AsyncGenerator[Any, None], key_id: int) -> AsyncGenerator[Any, None]:
    """A subscription opened with a key ends with UNAUTHENTICATED at the first event after the
    key is revoked (one primary-key look-up per event; keys hold few subscriptions)."""
    try:
        async for event in events:
            await key_rules.ensure_key_active(key_id)
            yield event
    finally:
        await events.aclose()


# Anyone: signing in and refreshing (a stale Authorization header must not stop a new login).
ANYONE = Access("anyone", None)
SIGNED_IN = Access("signed in", auth_rules.require_user)
SUPERVISORS = Access("supervisors", auth_rules.require_supervisor)
ADMINS = Access("admins", auth_rules.require_admin)


def access_of(field: Any) -> Access | None:
    return next((e for e in field.extensions if isinstance(e, Access)), None)
