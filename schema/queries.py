from __future__ import annotations

import asyncio

import strawberry

from models import Channel as ChannelModel
from resolvers import auth as auth_rules
from resolvers import channels as channel_rules
from resolvers import conversations as conv
from resolvers import search as search_rules
from resolvers import teams as team_rules
from resolvers.errors import NotFound
from schema.inputs import ConversationFilterInput
from schema.permissions import actor_of
from schema.relay import Node, PageInfo, decode_id, parse_global_id
from schema.types import (
    Channel,
    Conversation,
    ConversationConnection,
    ConversationEdge,
    Demo,
    DemoChannel,
    Message,
    SavedView,
    SearchConnection,
    SearchHit,
    SearchOrder,
    Team,
    User,
)


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in user.")
    async def me(self, info: strawberry.Info) -> User:
        actor = auth_rules.require_user(actor_of(info))
        return User.from_view(await info.context.loaders.users.load(actor.user_id))

    @strawberry.field
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
            from schema.types import Customer

            row = await loaders.customers.load(pk)
            return Customer.from_view(row) if row else None
        raise NotFound(f"no object type {type_name!r}")

    @strawberry.field(description="The inbox: newest activity first.")
    async def search(
        self,
        info: strawberry.Info,
        query: str,
        filter: ConversationFilterInput | None = None,
        order_by: SearchOrder = SearchOrder.RELEVANCE,
        first: int = 20,
        after: str | None = None,
    ) -> SearchConnection:
        """Conversations whose messages, customer (name, phone, e-mail) or identities match."""
        page = await search_rules.search(
            actor_of(info),
            query,
            filter=(filter or ConversationFilterInput()).to_rule(),
            by_recency=order_by is SearchOrder.RECENCY,
            first=first,
            after=after,
        )
        return SearchConnection(
            edges=[
                SearchHit(
                    cursor=c,
                    rank=v["rank"],
                    node=Conversation.from_view(v),
                    matched_message_pk=v["message_id"],
                )
                for v, c in zip(page.items, page.cursors, strict=True)
            ],
            page_info=PageInfo.of(page.cursors, has_next=page.has_next, has_previous=bool(after)),
        )

    @strawberry.field(description="Your saved views, each with its live count.")
    async def saved_views(self, info: strawberry.Info) -> list[SavedView]:
        return [SavedView.from_view(v) for v in await search_rules.list_views(actor_of(info))]

    @strawberry.field
    async def conversations(
        self,
        info: strawberry.Info,
        first: int | None = 50,
        after: str | None = None,
        filter: ConversationFilterInput | None = None,
    ) -> ConversationConnection:
        page = await conv.list_conversations(
            actor_of(info), first=first, after=after, filter=(filter or ConversationFilterInput()).to_rule()
        )
        # Three batch queries for the whole page, then every row resolves without awaiting.
        loaders = info.context.loaders
        customers, assignees, last_messages = await asyncio.gather(
            loaders.customers.load_many([v["customer_id"] for v in page.items]),
            loaders.users.load_many([v["assignee_id"] for v in page.items if v["assignee_id"] is not None]),
            loaders.messages.load_many(
                [v["last_message_id"] for v in page.items if v["last_message_id"] is not None]
            ),
        )
        users = {u["id"]: u for u in assignees if u}
        messages = {m["id"]: m for m in last_messages if m}
        edges = []
        for view, cursor, customer in zip(page.items, page.cursors, customers, strict=True):
            prefilled: dict[str, object] = {"customer": customer}
            if view["assignee_id"] is not None:
                prefilled["assignee"] = users.get(view["assignee_id"])
            if view["last_message_id"] in messages:
                prefilled["last_message"] = messages[view["last_message_id"]]
            edges.append(ConversationEdge(cursor=cursor, node=Conversation.from_view(view, **prefilled)))
        return ConversationConnection(
            edges=edges,
            page_info=PageInfo.of(page.cursors, has_next=page.has_next, has_previous=page.has_previous),
        )

    @strawberry.field
    async def conversation(self, info: strawberry.Info, id: strawberry.ID) -> Conversation:
        return Conversation.from_view(
            await conv.get_conversation(actor_of(info), decode_id(id, "Conversation"))
        )

    @strawberry.field
    async def teams(self, info: strawberry.Info) -> list[Team]:
        return [Team.from_view(v) for v in await team_rules.list_teams(actor_of(info))]

    @strawberry.field
    async def channels(self, info: strawberry.Info) -> list[Channel]:
        return [Channel.from_view(v) for v in await channel_rules.list_channels(actor_of(info))]

    @strawberry.field
    async def users(self, info: strawberry.Info) -> list[User]:
        return [User.from_view(v) for v in await auth_rules.list_users(actor_of(info))]

    @strawberry.field(description="Demo mode: the fake WhatsApp numbers a person can play the customer on.")
    async def demo(self, info: strawberry.Info) -> Demo:
        from core import demo

        auth_rules.require_user(actor_of(info))
        channels = await demo.demo_channels()
        return Demo(
            enabled=demo.enabled(),
            channels=[
                DemoChannel(
                    channel_id=Channel.from_view(c).id,
                    name=c["name"],
                    phone_number_id=c["config"]["phone_number_id"],
                )
                for c in channels
            ],
        )
