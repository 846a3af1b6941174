"""`node(id:)`: any object by its global id (Relay), whichever domain it belongs to."""

from __future__ import annotations

import strawberry

from models import Channel as ChannelModel
from resolvers import auth as auth_rules
from resolvers import channels as channel_rules
from resolvers import conversations as conv
from resolvers.errors import NotFound
from schema.auth import User
from schema.channels import Channel
from schema.conversations import Conversation
from schema.customers import Customer
from schema.messages import Message
from schema.permissions import SIGNED_IN, actor_of
from schema.relay import Node, parse_global_id


@strawberry.type
class NodeQueries:
    @strawberry.field(extensions=[SIGNED_IN])
    async def node(self, info: strawberry.Info, id: strawberry.ID) -> Node | None:
        type_name, pk = parse_global_id(id)
        actor = auth_rules.require_user(actor_of(info))
        loaders = info.context.loaders
        if type_name == "Conversation":
            return Conversation.from_view(await conv.get_conversation(actor, pk))
        if type_name == "Message":
            row = await loaders.messages.load(pk)
            return Message.from_view(row) if row else None
        if type_name == "User":
            row = await loaders.users.load(pk)
            return User.from_view(row) if row else None
        if type_name == "Channel":
            channel = await ChannelModel.get_or_none(id=pk)
            return Channel.from_view(channel_rules.channel_view(channel)) if channel else None
        if type_name == "Customer":
            row = await loaders.customers.load(pk)
            return Customer.from_view(row) if row else None
        raise NotFound(f"no object type {type_name!r}")
