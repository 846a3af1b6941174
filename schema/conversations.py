"""Conversations: the Conversation type and what hangs off it (customer, messages, timeline, SLA
timers, reply targets), the inbox filter, listing and reading conversations, assigning one, and
announcing typing (rules in resolvers/conversations.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from connectors.base import Platform as _Platform
from core.viewers import ConversationViewers
from models import ConversationStatus as _ConversationStatus
from models import Priority as _Priority
from resolvers import assignment as assignment_rules
from resolvers import auth as auth_rules
from resolvers import channels as channel_rules
from resolvers import conversations as conv
from resolvers import metrics_presence
from resolvers import targets as target_rules
from resolvers.activities import list_activities
from resolvers.conversations import ConversationFilter
from schema.activities import Activity
from schema.auth import User
from schema.channels import Channel
from schema.common import ConversationStatus, Platform, Priority, build_when_loaded, view_datetime
from schema.customers import Customer
from schema.messages import Message, MessageConnection, MessageEdge
from schema.permissions import SIGNED_IN, actor_of
from schema.relay import Node, PageInfo, decode_id, decode_optional_id, to_global_id
from schema.sla import SlaTimer


@strawberry.type
class ReplyTarget:
    channel_id: strawberry.ID
    channel_name: str
    platform: Platform
    identity_id: strawberry.ID | None = strawberry.field(
        description="The customer's identity there; null when the reply would be the first contact."
    )
    address: str | None
    available: bool
    reason: str | None = strawberry.field(description="Why this channel cannot be used right now.")
    requires_template: bool
    last_inbound_at: datetime | None
    is_default: bool = strawberry.field(description="Where a reply goes when no channel is chosen.")

    @classmethod
    def from_target(cls, t: Any) -> ReplyTarget:
        return cls(
            channel_id=to_global_id("Channel", t.channel_id),
            channel_name=t.channel_name,
            platform=_Platform(t.platform),
            identity_id=to_global_id("Identity", t.identity_id) if t.identity_id else None,
            address=t.address,
            available=t.available,
            reason=t.reason,
            requires_template=t.requires_template,
            last_inbound_at=t.last_inbound_at,
            is_default=t.is_default,
        )


@strawberry.type
class Conversation(Node):
    id: strawberry.ID
    status: ConversationStatus
    platform: Platform
    unread_count: int
    last_message_at: datetime | None
    snoozed_until: datetime | None
    priority: Priority
    labels: list[str]
    escalation_level: int
    language: str | None
    team_id: strawberry.ID | None
    queued_at: datetime | None = strawberry.field(
        description="Waiting for an agent since (null: not queued)."
    )
    created_at: datetime
    pk: strawberry.Private[int]
    view: strawberry.Private[dict[str, Any]]
    prefilled: strawberry.Private[dict[str, Any]]  # views an event already carries (no query needed)

    @classmethod
    def from_view(cls, v: dict[str, Any], **prefilled: Any) -> Conversation:
        return cls(
            id=to_global_id("Conversation", v["id"]),
            pk=v["id"],
            status=_ConversationStatus(v["status"]),
            platform=_Platform(v["platform"]),
            unread_count=v["unread_count"],
            last_message_at=view_datetime(v["last_message_at"]),
            snoozed_until=view_datetime(v.get("snoozed_until")),
            priority=_Priority(v.get("priority") or "normal"),
            labels=list(v.get("labels") or ()),
            escalation_level=v.get("escalation_level") or 0,
            language=v.get("language"),
            team_id=to_global_id("Team", v["team_id"]) if v.get("team_id") else None,
            queued_at=view_datetime(v.get("queued_at")),
            created_at=view_datetime(v["created_at"]),  # type: ignore[arg-type]
            view=v,
            prefilled=prefilled,
        )

    # These three resolve without awaiting when the view came prefilled (the inbox list loads
    # them in three batch queries up front; events carry them): on a 50-row inbox, skipping
    # 150 awaits is a good part of the request's CPU. Otherwise they return the DataLoader's
    # awaitable, which GraphQL execution awaits.
    @strawberry.field
    def customer(self, info: strawberry.Info) -> Customer:
        row = self.prefilled.get("customer")
        if row is not None:
            return Customer.from_view(row)
        return build_when_loaded(
            info.context.loaders.customers.load(self.view["customer_id"]), Customer.from_view
        )  # type: ignore[return-value]

    @strawberry.field
    def assignee(self, info: strawberry.Info) -> User | None:
        if self.view["assignee_id"] is None:
            return None
        if "assignee" in self.prefilled:
            row = self.prefilled["assignee"]
            return User.from_view(row) if row else None
        return build_when_loaded(info.context.loaders.users.load(self.view["assignee_id"]), User.from_view)  # type: ignore[return-value]

    @strawberry.field
    def last_message(self, info: strawberry.Info) -> Message | None:
        if self.view["last_message_id"] is None:
            return None
        row = self.prefilled.get("last_message")
        if row is not None and row["id"] == self.view["last_message_id"]:
            return Message.from_view(row)
        return build_when_loaded(
            info.context.loaders.messages.load(self.view["last_message_id"]), Message.from_view
        )  # type: ignore[return-value]

    @strawberry.field(description="SLA timers: targets, due times and outcomes.")
    async def sla_timers(self, info: strawberry.Info) -> list[SlaTimer]:
        # For signed-in people; batched: a page of the inbox reads every row's timers at once.
        auth_rules.require_user(actor_of(info))
        return [SlaTimer.from_view(t) for t in await info.context.loaders.sla_timers.load(self.pk)]

    @strawberry.field(description="Place in its team's assignment queue (1 = next); null when not waiting.")
    async def queue_position(self) -> int | None:
        if self.queued_at is None:
            return None
        return await assignment_rules.queue_position(self.pk)

    @strawberry.field(description="The conversation's changes (status, transfers, ...), oldest first.")
    async def activities(self, info: strawberry.Info) -> list[Activity]:
        return [Activity.from_view(a) for a in await list_activities(actor_of(info), self.pk)]

    @strawberry.field(description="Every channel a reply could go through, with why not where it cannot.")
    async def reply_targets(self) -> list[ReplyTarget]:
        return [ReplyTarget.from_target(t) for t in await target_rules.reply_targets(self.pk)]

    @strawberry.field
    async def channel(self, info: strawberry.Info) -> Channel:
        channel = await info.context.loaders.channels.load(self.view["channel_id"])
        return Channel.from_view(channel_rules.channel_view(channel))

    @strawberry.field
    async def messages(
        self,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> MessageConnection:
        page = await conv.list_messages(self.pk, first=first, after=after, last=last, before=before)
        return MessageConnection(
            edges=[
                MessageEdge(cursor=c, node=Message.from_view(m))
                for m, c in zip(page.items, page.cursors, strict=True)
            ],
            page_info=PageInfo.of(page.cursors, has_next=page.has_next, has_previous=page.has_previous),
        )


@strawberry.type
class ConversationEdge:
    cursor: str
    node: Conversation


@strawberry.type
class ConversationConnection:
    edges: list[ConversationEdge]
    page_info: PageInfo


@strawberry.input(name="ConversationFilter")
class ConversationFilterInput:
    status: list[ConversationStatus] | None = None
    assignee_id: strawberry.ID | None = None
    unassigned: bool = False
    channel_id: strawberry.ID | None = None
    platform: Platform | None = None
    labels: list[str] | None = strawberry.field(
        default=None, description="Conversations carrying all of these labels."
    )
    priority: list[Priority] | None = None
    escalated: bool | None = strawberry.field(default=None, description="Escalated at least once (or never).")
    team_id: strawberry.ID | None = None
    since: datetime | None = strawberry.field(default=None, description="Last activity at or after.")
    until: datetime | None = strawberry.field(default=None, description="Last activity before.")
    unanswered: bool | None = strawberry.field(
        default=None, description="The last message is the customer's (waiting for an answer)."
    )
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="One customer's conversations (after a merge: the merged customer's too)."
    )

    def to_rule(self) -> ConversationFilter:
        return ConversationFilter(
            statuses=tuple(self.status or ()),
            assignee_id=decode_optional_id(self.assignee_id, "User", "assigneeId"),
            unassigned=self.unassigned,
            channel_id=decode_optional_id(self.channel_id, "Channel", "channelId"),
            platform=self.platform.value if self.platform else None,
            labels=tuple(self.labels or ()),
            priorities=tuple(p.value for p in self.priority or ()),
            escalated=self.escalated,
            team_id=decode_optional_id(self.team_id, "Team", "teamId"),
            since=self.since,
            until=self.until,
            unanswered=self.unanswered,
            customer_id=decode_optional_id(self.customer_id, "Customer", "customerId"),
        )


def conversation_pk(conversation_id: strawberry.ID) -> int:
    """The database id behind a `conversationId` argument."""
    return decode_id(conversation_id, "Conversation", "conversationId")


@strawberry.type
class ConversationQueries:
    @strawberry.field(extensions=[SIGNED_IN])
    async def conversations(
        self,
        info: strawberry.Info,
        first: int | None = 50,
        after: str | None = None,
        filter: ConversationFilterInput | None = None,
    ) -> ConversationConnection:
        page = await conv.list_conversations(
            actor_of(info),
            first=first,
            after=after,
            filter=(filter or ConversationFilterInput()).to_rule(),
            with_related=True,
        )
        # The page came with each row's customer, assignee and last message (one statement); the
        # DataLoaders learn them too, so the rest of the document finds them there. Every row
        # then resolves without awaiting.
        related = page.related
        assert related is not None
        loaders = info.context.loaders
        for loader, rows in (
            (loaders.customers, related["customer"]),
            (loaders.users, related["assignee"]),
            (loaders.messages, related["last_message"]),
        ):
            for key, row in rows.items():
                loader.prime(key, row)
        customers = [related["customer"].get(v["customer_id"]) for v in page.items]
        users = {k: u for k, u in related["assignee"].items() if u}
        messages = {k: m for k, m in related["last_message"].items() if m}
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

    @strawberry.field(extensions=[SIGNED_IN])
    async def conversation(self, info: strawberry.Info, id: strawberry.ID) -> Conversation:
        return Conversation.from_view(
            await conv.get_conversation(actor_of(info), decode_id(id, "Conversation"))
        )


@strawberry.type
class ConversationMutations:
    @strawberry.mutation(extensions=[SIGNED_IN])
    async def assign_conversation(
        self, info: strawberry.Info, conversation_id: strawberry.ID, user_id: strawberry.ID | None = None
    ) -> Conversation:
        view = await conv.assign(
            actor_of(info),
            decode_id(conversation_id, "Conversation", "conversationId"),
            decode_optional_id(user_id, "User", "userId"),
        )
        return Conversation.from_view(view)

    @strawberry.mutation(extensions=[SIGNED_IN])
    async def mark_conversation_read(
        self, info: strawberry.Info, conversation_id: strawberry.ID
    ) -> Conversation:
        view = await conv.mark_read(
            actor_of(info), decode_id(conversation_id, "Conversation", "conversationId")
        )
        return Conversation.from_view(view)

    @strawberry.mutation(
        description="Tell the conversation's other viewers you are (or stopped) typing.",
        extensions=[SIGNED_IN],
    )
    async def set_typing(self, info: strawberry.Info, conversation_id: strawberry.ID, typing: bool) -> bool:
        actor = actor_of(info)
        pk = conversation_pk(conversation_id)
        await conv.get_conversation(actor, pk)
        me = await auth_rules.get_active_user(auth_rules.require_user(actor))
        presence = ConversationViewers(info.context.event_log.bus, info.context.settings.namespace)
        await presence.signal(pk, me.id, me.name, "typing" if typing else "stopped_typing")
        if typing:
            await metrics_presence.typed(pk, me.id)  # coalesced: a row at most every 30 s
        return True
