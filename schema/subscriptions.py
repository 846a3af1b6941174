"""Live views. Each subscription replays what the client missed (after its cursor) from the
event log, then streams live events (core/events.py explains why nothing is lost)."""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import AsyncGenerator
from typing import Any

import strawberry

from core.events import INBOX, CursorExpired, conversation_stream, parse_cursor
from core.outage import patiently, unavailable
from core.viewers import ConversationViewers
from resolvers import auth as auth_rules
from resolvers import conversations as conv
from resolvers.assignment import request_drain, seen
from resolvers.errors import BadInput, CursorExpiredError
from resolvers.search import count_conversations, list_views
from resolvers.sla import SLA_STREAM
from schema.activities import Activity
from schema.conversations import Conversation
from schema.messages import Message
from schema.permissions import SIGNED_IN, SUPERVISORS, actor_of
from schema.relay import decode_id, to_global_id
from schema.sla import SlaTimer

log = logging.getLogger(__name__)
HEARTBEAT = 30.0  # well inside jobs/assignment.PRESENCE_SILENCE


@strawberry.enum
class InboxEventType(enum.Enum):
    CONVERSATION_CREATED = "CONVERSATION_CREATED"
    CONVERSATION_UPDATED = "CONVERSATION_UPDATED"


@strawberry.enum
class ConversationEventType(enum.Enum):
    MESSAGE_CREATED = "MESSAGE_CREATED"
    MESSAGE_UPDATED = "MESSAGE_UPDATED"
    ACTIVITY_ADDED = "ACTIVITY_ADDED"  # status, assignment, transfer, escalation, labels, priority


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
class SlaEvent:
    cursor: str
    type: str = strawberry.field(description="SLA_WARNING or SLA_BREACHED")
    timer: SlaTimer


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


async def _presence_heartbeat(user_id: int) -> None:
    """While the inbox is open the agent counts as connected (offline → online, which may let
    them take queued conversations); silence makes them offline (jobs/assignment.py)."""
    first = True
    while True:
        try:
            came_online = await seen(user_id)
            if came_online or first:
                request_drain()
            first = False
        except Exception as exc:
            # An outage is one line per beat, not a traceback per subscriber every 30 s.
            down = unavailable(exc)
            log.warning("presence heartbeat failed", exc_info=down is None, extra={"unavailable": down})
        await asyncio.sleep(HEARTBEAT)


async def _view_counts(actor: Any) -> list[tuple[int, int]]:
    views = await list_views(actor)
    return [(v["id"], await count_conversations(v["rule"], v["query"])) for v in views]


def _cursor(after: str | None) -> int | None:
    try:
        return parse_cursor(after)
    except ValueError as exc:
        raise BadInput(str(exc), field="after") from exc


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Conversations created or changed, for the inbox list.", extensions=[SIGNED_IN]
    )
    async def inbox_events(
        self, info: strawberry.Info, after: str | None = None
    ) -> AsyncGenerator[InboxEvent, None]:
        actor = auth_rules.require_user(actor_of(info))
        cursor = _cursor(after)
        beat = asyncio.create_task(
            _presence_heartbeat(actor.user_id)
        )  # an agent with the inbox open is online
        try:
            async for event in info.context.event_log.follow(INBOX, cursor):
                info.context.fresh_loaders()
                payload = event.payload
                prefilled = {k: payload[k] for k in ("customer", "last_message") if k in payload}
                yield InboxEvent(
                    cursor=str(event.seq),
                    type=InboxEventType(event.type),
                    conversation=Conversation.from_view(payload["conversation"], **prefilled),
                )
        except CursorExpired as exc:
            raise CursorExpiredError(str(exc)) from exc
        finally:
            beat.cancel()

    @strawberry.subscription(
        extensions=[SIGNED_IN],
        description="Your saved views' counts: now, then again whenever they change (at most once a second).",
    )
    async def saved_view_counts(self, info: strawberry.Info) -> AsyncGenerator[list[ViewCount], None]:
        actor = auth_rules.require_user(actor_of(info))
        changed = asyncio.Event()

        async def watch() -> None:
            async for _ in info.context.event_log.follow(INBOX, None):
                changed.set()

        watcher = asyncio.create_task(watch())
        last: list[tuple[int, int]] | None = None
        try:
            while True:
                counts = await patiently(lambda: _view_counts(actor), "savedViewCounts")
                if counts != last:
                    last = counts
                    yield [ViewCount(view_id=to_global_id("SavedView", i), count=n) for i, n in counts]
                await changed.wait()  # something in the inbox changed
                await asyncio.sleep(1.0)  # a burst of changes costs one recount per second
                changed.clear()
        finally:
            watcher.cancel()

    @strawberry.subscription(
        description="Supervisors: SLA warnings and breaches as they happen.", extensions=[SUPERVISORS]
    )
    async def sla_events(
        self, info: strawberry.Info, after: str | None = None
    ) -> AsyncGenerator[SlaEvent, None]:
        auth_rules.require_supervisor(actor_of(info))
        cursor = _cursor(after)
        try:
            async for event in info.context.event_log.follow(SLA_STREAM, cursor):
                yield SlaEvent(
                    cursor=str(event.seq), type=event.type, timer=SlaTimer.from_view(event.payload["timer"])
                )
        except CursorExpired as exc:
            raise CursorExpiredError(str(exc)) from exc

    @strawberry.subscription(
        extensions=[SIGNED_IN],
        description="Who else has this conversation open, and who is typing (you are announced as "
        "viewing for as long as you subscribe).",
    )
    async def conversation_presence(
        self, info: strawberry.Info, conversation_id: strawberry.ID
    ) -> AsyncGenerator[list[Viewer], None]:
        actor = actor_of(info)
        pk = decode_id(conversation_id, "Conversation", "conversationId")
        # Like the event streams: a (re)subscribe during a database outage waits for its answers.
        await patiently(lambda: conv.get_conversation(actor, pk), "conversationPresence access")
        user = auth_rules.require_user(actor)
        me = await patiently(lambda: auth_rules.get_active_user(user), "conversationPresence user")
        presence = ConversationViewers(info.context.event_log.bus, info.context.settings.namespace)
        async for viewers in presence.watch(pk, me.id, me.name):
            yield [Viewer.from_presence(v) for v in viewers]

    @strawberry.subscription(
        extensions=[SIGNED_IN],
        description="One conversation live: messages created or changed (statuses, edits) and its activities.",
    )
    async def conversation_events(
        self, info: strawberry.Info, conversation_id: strawberry.ID, after: str | None = None
    ) -> AsyncGenerator[ConversationEvent, None]:
        actor = actor_of(info)
        pk = decode_id(conversation_id, "Conversation", "conversationId")
        # exists, and the actor may read it; a re-subscribe during an outage waits for the answer
        await patiently(lambda: conv.get_conversation(actor, pk), "conversationEvents access")
        cursor = _cursor(after)
        try:
            async for event in info.context.event_log.follow(conversation_stream(pk), cursor):
                info.context.fresh_loaders()
                payload = event.payload
                yield ConversationEvent(
                    cursor=str(event.seq),
                    type=ConversationEventType(event.type),
                    message=Message.from_view(payload["message"]) if "message" in payload else None,
                    activity=Activity.from_view(payload["activity"]) if "activity" in payload else None,
                )
        except CursorExpired as exc:
            raise CursorExpiredError(str(exc)) from exc
