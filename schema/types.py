"""GraphQL object types. Built from the plain views in resolvers/views.py, whether those come
from a query or from a live event, so both look the same to clients."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from connectors.base import MessageKind as _MessageKind
from connectors.base import Platform as _Platform
from models import AssignmentStrategy as _AssignmentStrategy
from models import ConversationStatus as _ConversationStatus
from models import Direction as _Direction
from models import MessageStatus as _MessageStatus
from models import Presence as _Presence
from models import Priority as _Priority
from models import Role as _Role
from schema.relay import Node, PageInfo, to_global_id

Platform = strawberry.enum(_Platform, name="Platform")
MessageKind = strawberry.enum(_MessageKind, name="MessageKind")
ConversationStatus = strawberry.enum(_ConversationStatus, name="ConversationStatus")
MessageDirection = strawberry.enum(_Direction, name="MessageDirection")
MessageStatus = strawberry.enum(_MessageStatus, name="MessageStatus")
Role = strawberry.enum(_Role, name="Role")
Priority = strawberry.enum(_Priority, name="Priority")
AgentPresence = strawberry.enum(_Presence, name="AgentPresence")
AssignmentStrategy = strawberry.enum(_AssignmentStrategy, name="AssignmentStrategy")


@strawberry.enum
class InboxEventType(enum.Enum):
    CONVERSATION_CREATED = "CONVERSATION_CREATED"
    CONVERSATION_UPDATED = "CONVERSATION_UPDATED"


@strawberry.enum(description="A channel's connection health, from its last webhook and last error.")
class ChannelHealth(enum.Enum):
    OK = "OK"
    WAITING = "WAITING"  # enabled, nothing received yet
    ERROR = "ERROR"  # the latest news from the channel is a failure (see lastError)
    DISABLED = "DISABLED"


@strawberry.enum
class ConversationEventType(enum.Enum):
    MESSAGE_CREATED = "MESSAGE_CREATED"
    MESSAGE_UPDATED = "MESSAGE_UPDATED"
    ACTIVITY_ADDED = "ACTIVITY_ADDED"  # status, assignment, transfer, escalation, labels, priority


async def _then(awaitable: Awaitable[Any], build: Callable[[Any], Any]) -> Any:
    row = await awaitable
    return build(row) if row else None


def _dt(value: Any) -> datetime | None:
    """Views hold datetimes; event payloads hold ISO strings."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


@strawberry.type
class User(Node):
    id: strawberry.ID
    email: str
    name: str
    role: Role
    is_active: bool
    presence: AgentPresence | None = None
    capacity: int | None = None
    skills: list[str] | None = None

    @classmethod
    def from_view(cls, v: Any) -> User:
        return cls(
            id=to_global_id("User", v["id"]),
            email=v["email"],
            name=v["name"],
            role=_Role(v["role"]),
            is_active=v["is_active"],
            presence=_Presence(v["presence"]) if v.get("presence") else None,
            capacity=v.get("capacity"),
            skills=list(v["skills"]) if v.get("skills") is not None else None,
        )


@strawberry.type
class Team(Node):
    id: strawberry.ID
    name: str
    strategy: AssignmentStrategy
    sticky: bool
    offline_grace_seconds: int
    member_ids: list[strawberry.ID]

    @classmethod
    def from_view(cls, v: dict[str, Any]) -> Team:
        return cls(
            id=to_global_id("Team", v["id"]),
            name=v["name"],
            strategy=_AssignmentStrategy(v["strategy"]),
            sticky=v["sticky"],
            offline_grace_seconds=v["offline_grace_seconds"],
            member_ids=[to_global_id("User", m) for m in v["member_ids"]],
        )


@strawberry.type
class Channel(Node):
    id: strawberry.ID
    platform: Platform
    name: str
    enabled: bool
    webhook_url: str
    config: JSON
    secrets_set: list[str] = strawberry.field(
        description="Which secrets are set. Their values are write-only."
    )
    last_webhook_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    health: ChannelHealth
    created_at: datetime

    @classmethod
    def from_view(cls, v: dict[str, Any]) -> Channel:
        return cls(
            id=to_global_id("Channel", v["id"]),
            platform=_Platform(v["platform"]),
            name=v["name"],
            enabled=v["enabled"],
            webhook_url=v["webhook_url"],
            config=v["config"],
            secrets_set=v["secrets_set"],
            last_webhook_at=v["last_webhook_at"],
            last_error=v["last_error"],
            last_error_at=v["last_error_at"],
            health=ChannelHealth(v["health"]),
            created_at=v["created_at"],
        )


@strawberry.type
class RotatedSecrets:
    channel: Channel
    secrets: JSON = strawberry.field(
        description="The new generated secrets, shown this once (paste them into the platform's dashboard)."
    )


@strawberry.type
class Identity:
    id: strawberry.ID
    platform: Platform
    channel_id: strawberry.ID
    external_id: str
    display_name: str | None
    phone: str | None
    email: str | None
    last_inbound_at: datetime | None


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
class Customer(Node):
    id: strawberry.ID
    name: str | None
    phone: str | None
    email: str | None
    pk: strawberry.Private[int]

    @classmethod
    def from_view(cls, v: Any) -> Customer:
        return cls(
            id=to_global_id("Customer", v["id"]),
            pk=v["id"],
            name=v["name"],
            phone=v["phone"],
            email=v["email"],
        )

    @strawberry.field
    async def identities(self, info: strawberry.Info) -> list[Identity]:
        rows = await info.context.loaders.identities.load(self.pk)
        return [
            Identity(
                id=to_global_id("Identity", r["id"]),
                platform=_Platform(r["platform"]),
                channel_id=to_global_id("Channel", r["channel_id"]),
                external_id=r["external_id"],
                display_name=r["display_name"],
                phone=r["phone"],
                email=r["email"],
                last_inbound_at=r["last_inbound_at"],
            )
            for r in rows
        ]


@strawberry.type
class Attachment:
    kind: MessageKind
    url: str | None
    mime_type: str | None
    filename: str | None
    size: int | None
    media_id: str | None
    sha256: str | None


@strawberry.type
class Message(Node):
    id: strawberry.ID
    conversation_id: strawberry.ID
    platform: Platform = strawberry.field(description="The platform this message came or went through.")
    channel_id: strawberry.ID
    direction: MessageDirection
    kind: MessageKind
    text: str | None
    status: MessageStatus
    error_code: str | None
    error_reason: str | None
    platform_message_id: str | None
    client_message_id: str | None
    reply_to_platform_id: str | None
    metadata: JSON
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    edited_at: datetime | None = strawberry.field(description="When the customer last edited it.")
    deleted_at: datetime | None = strawberry.field(description="When the customer unsent it.")
    attachments: list[Attachment]
    sender_pk: strawberry.Private[int | None]

    @classmethod
    def from_view(cls, v: dict[str, Any]) -> Message:
        return cls(
            id=to_global_id("Message", v["id"]),
            conversation_id=to_global_id("Conversation", v["conversation_id"]),
            platform=_Platform(v["platform"]),
            channel_id=to_global_id("Channel", v["channel_id"]),
            direction=_Direction(v["direction"]),
            kind=_MessageKind(v["kind"]),
            text=v["text"],
            status=_MessageStatus(v["status"]),
            error_code=v["error_code"],
            error_reason=v["error_reason"],
            platform_message_id=v["platform_message_id"],
            client_message_id=v["client_message_id"],
            reply_to_platform_id=v["reply_to_platform_id"],
            metadata=v["metadata"],
            created_at=_dt(v["created_at"]),
            sent_at=_dt(v["sent_at"]),  # type: ignore[arg-type]
            delivered_at=_dt(v["delivered_at"]),
            read_at=_dt(v["read_at"]),
            edited_at=_dt(v.get("edited_at")),
            deleted_at=_dt(v.get("deleted_at")),
            attachments=[
                Attachment(
                    kind=_MessageKind(a["kind"]),
                    url=a.get("url"),
                    mime_type=a.get("mime_type"),
                    filename=a.get("filename"),
                    size=a.get("size"),
                    media_id=a.get("media_id"),
                    sha256=a.get("sha256"),
                )
                for a in v["attachments"]
            ],
            sender_pk=v["sender_id"],
        )

    @strawberry.field
    async def sender(self, info: strawberry.Info) -> User | None:
        if self.sender_pk is None:
            return None
        row = await info.context.loaders.users.load(self.sender_pk)
        return User.from_view(row) if row else None


@strawberry.type
class MessageEdge:
    cursor: str
    node: Message


@strawberry.type
class MessageConnection:
    edges: list[MessageEdge]
    page_info: PageInfo


@strawberry.type
class Activity:
    """One change in a conversation's life, for the timeline: who (null: the system), when, what."""

    id: strawberry.ID
    type: str = strawberry.field(
        description="status_changed, transferred, escalated, labels_changed, priority_changed"
    )
    data: JSON
    created_at: datetime
    actor_pk: strawberry.Private[int | None]

    @classmethod
    def from_view(cls, v: dict[str, Any]) -> Activity:
        return cls(
            id=to_global_id("Activity", v["id"]),
            type=v["type"],
            data=v["data"],
            created_at=_dt(v["created_at"]),  # type: ignore[arg-type]
            actor_pk=v["actor_id"],
        )

    @strawberry.field
    async def actor(self, info: strawberry.Info) -> User | None:
        if self.actor_pk is None:
            return None
        row = await info.context.loaders.users.load(self.actor_pk)
        return User.from_view(row) if row else None


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
            last_message_at=_dt(v["last_message_at"]),
            snoozed_until=_dt(v.get("snoozed_until")),
            priority=_Priority(v.get("priority") or "normal"),
            labels=list(v.get("labels") or ()),
            escalation_level=v.get("escalation_level") or 0,
            language=v.get("language"),
            team_id=to_global_id("Team", v["team_id"]) if v.get("team_id") else None,
            queued_at=_dt(v.get("queued_at")),
            created_at=_dt(v["created_at"]),  # type: ignore[arg-type]
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
        return _then(info.context.loaders.customers.load(self.view["customer_id"]), Customer.from_view)  # type: ignore[return-value]

    @strawberry.field
    def assignee(self, info: strawberry.Info) -> User | None:
        if self.view["assignee_id"] is None:
            return None
        if "assignee" in self.prefilled:
            row = self.prefilled["assignee"]
            return User.from_view(row) if row else None
        return _then(info.context.loaders.users.load(self.view["assignee_id"]), User.from_view)  # type: ignore[return-value]

    @strawberry.field
    def last_message(self, info: strawberry.Info) -> Message | None:
        if self.view["last_message_id"] is None:
            return None
        row = self.prefilled.get("last_message")
        if row is not None and row["id"] == self.view["last_message_id"]:
            return Message.from_view(row)
        return _then(info.context.loaders.messages.load(self.view["last_message_id"]), Message.from_view)  # type: ignore[return-value]

    @strawberry.field(description="SLA timers: targets, due times and outcomes.")
    async def sla_timers(self, info: strawberry.Info) -> list[SlaTimer]:
        from resolvers.sla import timers_of
        from schema.permissions import actor_of

        return [SlaTimer.from_view(t) for t in await timers_of(actor_of(info), self.pk)]

    @strawberry.field(description="Place in its team's assignment queue (1 = next); null when not waiting.")
    async def queue_position(self) -> int | None:
        if self.queued_at is None:
            return None
        from resolvers.assignment import queue_position

        return await queue_position(self.pk)

    @strawberry.field(description="The conversation's changes (status, transfers, ...), oldest first.")
    async def activities(self, info: strawberry.Info) -> list[Activity]:
        from resolvers.activities import list_activities
        from schema.permissions import actor_of

        return [Activity.from_view(a) for a in await list_activities(actor_of(info), self.pk)]

    @strawberry.field(description="Every channel a reply could go through, with why not where it cannot.")
    async def reply_targets(self) -> list[ReplyTarget]:
        from resolvers.targets import reply_targets

        return [ReplyTarget.from_target(t) for t in await reply_targets(self.pk)]

    @strawberry.field
    async def channel(self, info: strawberry.Info) -> Channel:
        from resolvers.channels import channel_view

        channel = await info.context.loaders.channels.load(self.view["channel_id"])
        return Channel.from_view(channel_view(channel))

    @strawberry.field
    async def messages(
        self,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> MessageConnection:
        from resolvers.conversations import list_messages

        page = await list_messages(self.pk, first=first, after=after, last=last, before=before)
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


@strawberry.type
class AuthPayload:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User


@strawberry.type
class InboxEvent:
    cursor: str
    type: InboxEventType
    conversation: Conversation


@strawberry.type
class ConversationEvent:
    cursor: str
    type: ConversationEventType
    message: Message | None = strawberry.field(description="Set for MESSAGE_* events.")
    activity: Activity | None = strawberry.field(default=None, description="Set for ACTIVITY_ADDED.")


@strawberry.type
class SlaTimer:
    id: strawberry.ID
    conversation_id: strawberry.ID
    kind: str = strawberry.field(description="first_response, next_response or resolution")
    started_at: datetime
    due_at: datetime
    warn_at: datetime
    met_at: datetime | None
    warned_at: datetime | None
    breached_at: datetime | None
    cancelled_at: datetime | None

    @classmethod
    def from_view(cls, v: dict[str, Any]) -> SlaTimer:
        return cls(
            id=to_global_id("SlaTimer", v["id"]),
            conversation_id=to_global_id("Conversation", v["conversation_id"]),
            kind=v["kind"],
            **{
                k: _dt(v[k])
                for k in (
                    "started_at",
                    "due_at",
                    "warn_at",
                    "met_at",
                    "warned_at",
                    "breached_at",
                    "cancelled_at",
                )
            },  # type: ignore[arg-type]
        )


@strawberry.type
class SlaEvent:
    cursor: str
    type: str = strawberry.field(description="SLA_WARNING or SLA_BREACHED")
    timer: SlaTimer


@strawberry.type
class SlaPolicy:
    id: strawberry.ID
    name: str
    position: int
    first_response_seconds: int | None
    next_response_seconds: int | None
    resolution_seconds: int | None
    warn_before_seconds: int
    timezone: str
    business_hours: JSON


@strawberry.enum
class SearchOrder(enum.Enum):
    RELEVANCE = "RELEVANCE"
    RECENCY = "RECENCY"


@strawberry.type
class SearchHit:
    cursor: str
    rank: float = strawberry.field(description="Text relevance; a match on the customer themself ranks 10.")
    node: Conversation
    matched_message_pk: strawberry.Private[int | None]

    @strawberry.field(description="The best matching message (null when the customer matched).")
    async def matched_message(self, info: strawberry.Info) -> Message | None:
        if self.matched_message_pk is None:
            return None
        row = await info.context.loaders.messages.load(self.matched_message_pk)
        return Message.from_view(row) if row else None


@strawberry.type
class SearchConnection:
    edges: list[SearchHit]
    page_info: PageInfo


@strawberry.type
class SavedView:
    id: strawberry.ID
    name: str
    query: str | None
    filter: JSON = strawberry.field(description="The saved filter (as stored).")
    filter_rule: strawberry.Private[Any]
    pk: strawberry.Private[int]

    @classmethod
    def from_view(cls, v: dict[str, Any]) -> SavedView:
        return cls(
            id=to_global_id("SavedView", v["id"]),
            name=v["name"],
            query=v["query"],
            filter=v["filter"],
            filter_rule=v["rule"],
            pk=v["id"],
        )

    @strawberry.field(description="Conversations in the view now (live: `savedViewCounts`).")
    async def count(self) -> int:
        from resolvers.search import count_conversations

        return await count_conversations(self.filter_rule, self.query)


@strawberry.type
class ViewCount:
    view_id: strawberry.ID
    count: int


@strawberry.type
class Viewer:
    user_id: strawberry.ID
    name: str
    typing: bool

    @classmethod
    def from_presence(cls, v: Any) -> Viewer:
        return cls(user_id=to_global_id("User", v.user_id), name=v.name, typing=v.typing)


@strawberry.type
class BulkError:
    conversation_id: strawberry.ID
    code: str
    message: str


@strawberry.type
class BulkUpdateResult:
    updated: list[Conversation]
    errors: list[BulkError]


@strawberry.type
class DemoChannel:
    channel_id: strawberry.ID
    name: str
    phone_number_id: str


@strawberry.type
class Demo:
    enabled: bool
    channels: list[DemoChannel]
