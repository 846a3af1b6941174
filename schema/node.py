"""`node(id:)`: any object by its global id (Relay), whichever domain it belongs to, answered
under the same rule as the typed field that returns that object: a User is another's only for
supervisors (as `users`), a Team or Channel for anyone signed in (as `teams`, `channels`), a
Conversation by `conversation(id:)`'s rule (its Messages and Customer with it), a ResponseTemplate
by `template(id:)`'s (archived or another team's only where that field shows it). Who sees which
conversation, and so which message and customer, is resolvers/visibility.py's rule."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry

from core.auth import Actor
from resolvers import auth as auth_rules
from resolvers import channels as channel_rules
from resolvers import conversations as conv
from resolvers import teams as team_rules
from resolvers import templates as template_rules
from resolvers import visibility
from resolvers.errors import NotFound
from schema.auth import User
from schema.channels import Channel
from schema.conversations import Conversation
from schema.customers import Customer
from schema.messages import Message
from schema.permissions import SIGNED_IN, actor_of
from schema.relay import Node, parse_global_id
from schema.teams import Team
from schema.templates import ResponseTemplate

Lookup = Callable[[strawberry.Info, Actor, int], Awaitable[Node | None]]


async def _conversation(info: strawberry.Info, actor: Actor, pk: int) -> Node | None:
    return Conversation.from_view(await conv.get_conversation(actor, pk))


async def _message(info: strawberry.Info, actor: Actor, pk: int) -> Node | None:
    row = await info.context.loaders.messages.load(pk)
    if row is None:
        return None
    try:  # seen with its conversation; one not seen is answered as one that does not exist
        await conv.get_conversation(actor, row["conversation_id"])
    except NotFound:
        return None
    return Message.from_view(row)


async def _user(info: strawberry.Info, actor: Actor, pk: int) -> Node | None:
    auth_rules.may_see_user(actor, pk)
    row = await info.context.loaders.users.load(pk)
    return User.from_view(row) if row else None


async def _channel(info: strawberry.Info, actor: Actor, pk: int) -> Node | None:
    channel = await info.context.loaders.channels.load(pk)
    return Channel.from_view(channel_rules.channel_view(channel)) if channel else None


async def _customer(info: strawberry.Info, actor: Actor, pk: int) -> Node | None:
    row = await info.context.loaders.customers.load(pk)
    if row is None:
        return None
    try:  # seen with one of their conversations; otherwise as one that does not exist
        await visibility.visible_customer(actor, pk)
    except NotFound:
        return None
    return Customer.from_view(row)


async def _team(info: strawberry.Info, actor: Actor, pk: int) -> Node | None:
    view: dict[str, Any] | None = next((t for t in await team_rules.list_teams(actor) if t["id"] == pk), None)
    return Team.from_view(view) if view else None


async def _template(info: strawberry.Info, actor: Actor, pk: int) -> Node | None:
    return ResponseTemplate.from_view(await template_rules.get_template(actor, pk))


# One entry per type implementing Node (tests/test_node_permissions.py walks them from the schema).
LOOKUPS: dict[str, Lookup] = {
    "Conversation": _conversation,
    "Message": _message,
    "User": _user,
    "Channel": _channel,
    "Customer": _customer,
    "Team": _team,
    "ResponseTemplate": _template,
}


@strawberry.type
class NodeQueries:
    @strawberry.field(extensions=[SIGNED_IN])
    async def node(self, info: strawberry.Info, id: strawberry.ID) -> Node | None:
        type_name, pk = parse_global_id(id)
        lookup = LOOKUPS.get(type_name)
        if lookup is None:
            raise NotFound(f"no object type {type_name!r}")
        return await lookup(info, auth_rules.require_user(actor_of(info)), pk)
