"""Who sees what: the one rule every read of a conversation goes through (schema fields, search,
saved views' counts, `node`, customers, presence, subscriptions and jobs alike).

- An admin, and an API key (installation-wide; its scopes are checked where it is admitted), see
  every conversation.
- Anyone else sees the conversations of their teams (a conversation's team is the one it was
  routed or transferred to: `conversations.team_id`) and those assigned to them; an admin may
  grant a user every conversation (`users.sees_all_conversations`).
- A conversation in no team and assigned to nobody is seen by admins and "see all" users only.

The rule is read from the database on each request, never from the token, so a change of teams
applies at once; and the standing of the token itself is checked with it: a deactivated user, a
token issued before `users.tokens_valid_after` (password changed, account deactivated) or one
whose role is no longer the user's is refused. Long subscriptions hold an `AccessWatch`
(resolvers/access_watch.py) that re-reads the rule whenever `access_changed` is announced.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from core.auth import Actor, Role
from core.events import emit
from core.sql import fetch
from resolvers.auth import require_user
from resolvers.errors import NotFound, Unauthenticated


class RoleChanged(Unauthenticated):
    """The token carries a role the user no longer has: a refresh brings the new one."""


@dataclass(frozen=True)
class Scope:
    """What one principal may see, as read from the database just now."""

    user_id: int | None
    everything: bool
    team_ids: frozenset[int]
    role: Role | None  # None: an API key

    @property
    def sees_people(self) -> bool:
        """Other users' e-mail and role: supervisors, admins and installation-wide keys."""
        return self.role is None or self.role in (Role.ADMIN, Role.SUPERVISOR)

    def admits(self, conversation: Mapping[str, Any]) -> bool:
        if self.everything:
            return True
        if conversation.get("team_id") in self.team_ids:
            return True
        return self.user_id is not None and conversation.get("assignee_id") == self.user_id

    def sql(self, args: list[Any], alias: str = "c") -> str | None:
        """A WHERE condition over `conversations AS alias` (None: no restriction), appending its
        arguments to `args`."""
        if self.everything:
            return None
        args.append(sorted(self.team_ids))
        teams = f"${len(args)}"
        args.append(self.user_id)
        return f"({alias}.team_id = ANY({teams}::int[]) OR {alias}.assignee_id = ${len(args)})"


def is_key(actor: Actor) -> bool:
    """An API key principal (core/auth.py gives those an `api_key_id`)."""
    return getattr(actor, "api_key_id", None) is not None


# The scope read by the Access gate for this HTTP request, so the fields it admits do not read it
# again; only for that very Actor object (one per request). Subscriptions never use it.
_request_scope: ContextVar[tuple[Actor, Scope] | None] = ContextVar("pytake_request_scope", default=None)


def remember_for_request(actor: Actor, scope: Scope) -> None:
    _request_scope.set((actor, scope))


async def scope_of(actor: Actor | None) -> Scope:
    """The actor's scope now (read once per HTTP request; see read_scope)."""
    remembered = _request_scope.get()
    if remembered is not None and remembered[0] is actor:
        return remembered[1]
    return await read_scope(actor)


async def read_scope(actor: Actor | None) -> Scope:
    """The actor's scope, read from the database; refuses a token whose user was deactivated,
    whose role changed or that was issued before the user's tokens were revoked."""
    actor = require_user(actor)
    # A key is installation-wide; an actor with no user is the system acting for a rule a
    # supervisor approved (a published flow: resolvers/flow_actions.bot_actor). Tokens always
    # carry a user, so no caller from outside can be either without a key.
    if is_key(actor) or actor.user_id is None:
        return Scope(user_id=None, everything=True, team_ids=frozenset(), role=None)
    rows = await fetch(
        "SELECT u.is_active, u.role, u.sees_all_conversations, "
        "extract(epoch FROM u.tokens_valid_after)::float8 AS valid_after, "
        "ARRAY(SELECT m.team_id FROM team_members m WHERE m.user_id = u.id) AS team_ids "
        "FROM users u WHERE u.id = $1",
        actor.user_id,
    )
    if not rows or not rows[0]["is_active"]:
        raise Unauthenticated("this account no longer exists or is disabled")
    row = rows[0]
    if row["valid_after"] is not None and (actor.issued_at or 0) < row["valid_after"]:
        raise Unauthenticated("this access token was revoked; sign in again")
    role = Role(row["role"])
    if role is not actor.role:
        raise RoleChanged("your role changed; refresh your token")
    return Scope(
        user_id=actor.user_id,
        everything=role is Role.ADMIN or row["sees_all_conversations"],
        team_ids=frozenset(row["team_ids"] or ()),
        role=role,
    )


async def check_standing(actor: Actor | None) -> Scope | None:
    """The token is still good (see read_scope); its scope, None without a token."""
    return None if actor is None else await read_scope(actor)


async def visible_conversation(
    actor: Actor | None, conversation: Mapping[str, Any] | None, pk: int, field: str | None = "conversationId"
) -> None:
    """NOT_FOUND, the same as for a conversation that does not exist, unless the actor may see
    it: an id of another team's conversation tells nothing about it."""
    if conversation is None or not (await scope_of(actor)).admits(conversation):
        raise NotFound(f"conversation {pk} does not exist", **({"field": field} if field else {}))


async def check_conversation(actor: Actor | None, pk: int, field: str | None = "conversationId") -> None:
    """visible_conversation for a caller that has not read the row."""
    rows = await fetch("SELECT team_id, assignee_id FROM conversations WHERE id = $1", pk)
    await visible_conversation(actor, rows[0] if rows else None, pk, field)


async def visible_customer(actor: Actor | None, customer_id: int) -> None:
    """A customer is seen by whoever may see one of their conversations."""
    scope = await scope_of(actor)
    if scope.everything:
        return
    args: list[Any] = [customer_id]
    condition = scope.sql(args, "c")
    rows = await fetch(
        f"SELECT EXISTS (SELECT 1 FROM conversations c WHERE c.customer_id = $1 AND {condition}) AS ok", *args
    )
    if not rows[0]["ok"]:
        raise NotFound(f"customer {customer_id} does not exist")


async def users_who_see(conn: BaseDBAsyncClient, conversation_id: int, user_ids: Iterable[int]) -> set[int]:
    """Of these users, the active ones who may see the conversation now: the rule above (admins,
    "see all" users, its team's members, its assignee), as one query for jobs that act for others
    (a note's @mentions are told only to those who may open it)."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return set()
    rows = await conn.execute_query_dict(
        "SELECT u.id FROM users u JOIN conversations c ON c.id = $1 WHERE u.id = ANY($2::int[]) AND u.is_active "
        "AND (u.role = 'admin' OR u.sees_all_conversations OR c.assignee_id = u.id "
        "OR EXISTS (SELECT 1 FROM team_members m WHERE m.user_id = u.id AND m.team_id = c.team_id))",
        [conversation_id, wanted],
    )
    return {r["id"] for r in rows}


def access_stream(user_id: int) -> str:
    """The event stream a user's live subscriptions watch for changes to what they may see."""
    return f"access:{user_id}"


async def access_changed(conn: BaseDBAsyncClient, user_ids: Iterable[int], reason: str) -> None:
    """Inside the change's transaction: the users' subscriptions re-read their scope (or close,
    when the account was deactivated) once it commits. The caller calls core.events.committed()."""
    for user_id in sorted(set(user_ids)):
        await emit(conn, access_stream(user_id), "ACCESS_CHANGED", {"user_id": user_id, "reason": reason})
