"""Live views. Each subscription replays what the client missed (after its cursor) from the
event log, then streams live events (core/events.py explains why nothing is lost).

Every subscription holds an AccessWatch (resolvers/access_watch.py): each event is checked against
the user's current scope (re-read when their teams, role or grant change), so nobody receives an
event of a conversation they cannot see; when the token expires or the account is deactivated the
WebSocket is closed (4401: refresh and reconnect; 4403: the account may no longer sign in)."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import functools
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, TypeVar

import strawberry
from starlette.websockets import WebSocket, WebSocketState

from core.auth import Actor
from core.events import INBOX, CursorExpired, EventLog, EventRecord, conversation_stream, parse_cursor
from core.outage import patiently
from core.viewers import ConversationViewers
from resolvers import auth as auth_rules
from resolvers import conversations as conv
from resolvers import metrics_presence
from resolvers.access_watch import AccessRevoked, AccessWatch, ConversationAccess, timer_visible
from resolvers.errors import BadInput, CursorExpiredError, NotFound
from resolvers.search import count_conversations, list_views
from resolvers.sla import SLA_STREAM
from resolvers.visibility import Scope
from schema.activities import Activity
from schema.conversations import Conversation
from schema.customers import Customer
from schema.fanout import REMOVED, join_shared
from schema.messages import Message
from schema.permissions import SIGNED_IN, SUPERVISORS, actor_of
from schema.presence_beats import inbox_open
from schema.relay import decode_id, to_global_id
from schema.sla import SlaTimer

log = logging.getLogger(__name__)
T = TypeVar("T")
TOKEN_EXPIRED = 4401  # graphql-ws clients reconnect, sending a fresh token in connection_init
ACCESS_REVOKED = 4403
CLOSE_GRACE = 10.0  # seconds to wait for the connection to go after closing it


@strawberry.enum
class InboxEventType(enum.Enum):
    CONVERSATION_CREATED = "CONVERSATION_CREATED"
    CONVERSATION_UPDATED = "CONVERSATION_UPDATED"
    CONVERSATION_REMOVED = "CONVERSATION_REMOVED"  # it left your sight (another team, unassigned, ...)


@strawberry.enum
class ConversationEventType(enum.Enum):
    MESSAGE_CREATED = "MESSAGE_CREATED"
    MESSAGE_UPDATED = "MESSAGE_UPDATED"
    ACTIVITY_ADDED = "ACTIVITY_ADDED"  # status, assignment, transfer, escalation, labels, priority
    # the conversation's customer changed: attributes set or removed, a merge or a split (read it again)
    CUSTOMER_UPDATED = "CUSTOMER_UPDATED"


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
    customer: Customer | None = strawberry.field(
        default=None,
        description="Set for CUSTOMER_UPDATED: the customer as it is now (its attributes and identities "
        "read when the event is delivered).",
    )


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


async def _view_counts(actor: Any, scope: Scope) -> list[tuple[int, int]]:
    views = await list_views(actor)
    return [(v["id"], await count_conversations(scope, v["rule"], v["query"])) for v in views]


@contextlib.asynccontextmanager
async def _watching(actor: Actor, event_log: EventLog) -> AsyncIterator[AccessWatch]:
    watch = AccessWatch(actor, event_log)
    await patiently(watch.start, "subscription access")
    try:
        yield watch
    finally:
        await watch.stop()


async def _guarded(info: strawberry.Info, watch: AccessWatch, source: AsyncIterator[T]) -> AsyncIterator[T]:
    """`source` until access is revoked; then the socket is closed for every subscription on it
    (they share its token), or, outside a WebSocket, the error ends this one."""
    try:
        async for item in watch.guard(source):
            yield item
    except AccessRevoked as revoked:
        socket = info.context.request
        if not isinstance(socket, WebSocket) or socket.application_state == WebSocketState.DISCONNECTED:
            raise
        code = TOKEN_EXPIRED if revoked.expired else ACCESS_REVOKED
        with contextlib.suppress(Exception):
            await socket.close(code, revoked.message[:120])
        await asyncio.sleep(CLOSE_GRACE)  # the closed connection cancels this operation first
        raise


async def _start(info: strawberry.Info, stream: str, after: str | None) -> int:
    """Where the stream starts for this subscriber: after its cursor, else at the head read now,
    before the access checks, so an event committed while they run is replayed, not missed."""
    cursor = _cursor(after)
    if cursor is not None:
        return cursor
    event_log = info.context.event_log
    return await patiently(lambda: event_log.head(stream), f"head of {stream}")


def _cursor(after: str | None) -> int | None:
    try:
        return parse_cursor(after)
    except ValueError as exc:
        raise BadInput(str(exc), field="after") from exc


def _inbox_event(event: EventRecord, type_: str) -> InboxEvent:
    payload = event.payload
    prefilled = {k: payload[k] for k in ("customer", "last_message") if k in payload}
    return InboxEvent(
        cursor=str(event.seq),
        type=InboxEventType(type_),
        conversation=Conversation.from_view(payload["conversation"], **prefilled),
    )


async def _inbox_follow(info: strawberry.Info, watch: AccessWatch, cursor: int) -> AsyncIterator[InboxEvent]:
    """One subscriber following the log on its own (outside the shared fan-out)."""
    placed: dict[int, dict[str, Any]] = {}  # each conversation's team and assignee at its last event
    async for event in info.context.event_log.follow(INBOX, cursor):
        conversation = event.payload["conversation"]
        before = placed.get(conversation["id"])
        placed[conversation["id"]] = {k: conversation.get(k) for k in ("team_id", "assignee_id")}
        scope = await watch.current()
        if scope.admits(conversation):
            type_ = event.type
        elif before is not None and scope.admits(before):
            type_ = REMOVED  # it left their sight with this event
        else:
            continue
        info.context.fresh_loaders()
        yield _inbox_event(event, type_)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Conversations created or changed, for the inbox list.", extensions=[SIGNED_IN]
    )
    async def inbox_events(
        self, info: strawberry.Info, after: str | None = None
    ) -> AsyncGenerator[InboxEvent, None]:
        actor = auth_rules.require_user(actor_of(info))
        cursor = await _start(info, INBOX, after)
        # An agent with the inbox open is online (one heartbeat per user per process).
        async with _watching(actor, info.context.event_log) as watch, inbox_open(actor.user_id):
            try:
                # Over graphql-transport-ws the process's shared fan-out sends the frames itself
                # (schema/fanout.py); elsewhere (in-process `schema.subscribe`) this follows the log.
                shared = join_shared(info, watch, cursor, _inbox_event)
                source = shared if shared is not None else _inbox_follow(info, watch, cursor)
                async for event in _guarded(info, watch, source):
                    yield event  # type: ignore[misc]
            except CursorExpired as exc:
                raise CursorExpiredError(str(exc)) from exc

    @strawberry.subscription(
        extensions=[SIGNED_IN],
        description="Your saved views' counts: now, then again whenever they change (at most once a second).",
    )
    async def saved_view_counts(self, info: strawberry.Info) -> AsyncGenerator[list[ViewCount], None]:
        actor = auth_rules.require_user(actor_of(info))
        changed = asyncio.Event()

        async def inbox_changes() -> None:
            async for _ in info.context.event_log.follow(INBOX, None):
                changed.set()

        async def recounts() -> AsyncIterator[list[tuple[int, int]]]:
            while True:
                scope = await access.current()  # counts of what the user may see now
                yield await patiently(functools.partial(_view_counts, actor, scope), "savedViewCounts")
                await changed.wait()  # something in the inbox changed
                await asyncio.sleep(1.0)  # a burst of changes costs one recount per second
                changed.clear()

        async with _watching(actor, info.context.event_log) as access:
            watcher = asyncio.create_task(inbox_changes())
            last: list[tuple[int, int]] | None = None
            try:
                async for counts in _guarded(info, access, recounts()):
                    if counts != last:
                        last = counts
                        yield [ViewCount(view_id=to_global_id("SavedView", i), count=n) for i, n in counts]
            finally:
                watcher.cancel()

    @strawberry.subscription(
        description="Supervisors: SLA warnings and breaches as they happen.", extensions=[SUPERVISORS]
    )
    async def sla_events(
        self, info: strawberry.Info, after: str | None = None
    ) -> AsyncGenerator[SlaEvent, None]:
        actor = auth_rules.require_supervisor(actor_of(info))
        cursor = await _start(info, SLA_STREAM, after)
        async with _watching(actor, info.context.event_log) as watch:
            try:
                async for event in _guarded(info, watch, info.context.event_log.follow(SLA_STREAM, cursor)):
                    timer = event.payload["timer"]
                    if not await timer_visible(watch, timer["conversation_id"]):
                        continue
                    yield SlaEvent(cursor=str(event.seq), type=event.type, timer=SlaTimer.from_view(timer))
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
        actor = auth_rules.require_user(actor_of(info))
        pk = decode_id(conversation_id, "Conversation", "conversationId")
        # Like the event streams: a (re)subscribe during a database outage waits for its answers.
        await patiently(lambda: conv.get_conversation(actor, pk), "conversationPresence access")
        me = await patiently(lambda: auth_rules.get_active_user(actor), "conversationPresence user")
        presence = ConversationViewers(info.context.event_log.bus, info.context.settings.namespace)
        # While they watch, the user has it open: a work session (handling time, metrics_presence).
        async with (
            _watching(actor, info.context.event_log) as watch,
            metrics_presence.work_session(pk, me.id),
        ):
            seen = ConversationAccess(pk)
            async for viewers in _guarded(info, watch, presence.watch(pk, me.id, me.name)):
                if not await seen.admits(watch):
                    raise NotFound(f"conversation {pk} does not exist")  # moved out of the user's sight
                yield [Viewer.from_presence(v) for v in viewers]

    @strawberry.subscription(
        extensions=[SIGNED_IN],
        description="One conversation live: messages created or changed (statuses, edits), its activities, "
        "and its customer changed (CUSTOMER_UPDATED).",
    )
    async def conversation_events(
        self, info: strawberry.Info, conversation_id: strawberry.ID, after: str | None = None
    ) -> AsyncGenerator[ConversationEvent, None]:
        actor = auth_rules.require_user(actor_of(info))
        pk = decode_id(conversation_id, "Conversation", "conversationId")
        # exists, and the actor may read it; a re-subscribe during an outage waits for the answer
        await patiently(lambda: conv.get_conversation(actor, pk), "conversationEvents access")
        cursor = await _start(info, conversation_stream(pk), after)
        async with _watching(actor, info.context.event_log) as watch:
            seen = ConversationAccess(pk)
            try:
                source = info.context.event_log.follow(conversation_stream(pk), cursor)
                async for event in _guarded(info, watch, source):
                    if event.type == "ACTIVITY_ADDED":
                        seen.stale()  # a transfer or (un)assignment may have moved it out of sight
                    if not await seen.admits(watch):
                        raise NotFound(f"conversation {pk} does not exist")
                    info.context.fresh_loaders()
                    payload = event.payload
                    yield ConversationEvent(
                        cursor=str(event.seq),
                        type=ConversationEventType(event.type),
                        message=Message.from_view(payload["message"]) if "message" in payload else None,
                        activity=Activity.from_view(payload["activity"]) if "activity" in payload else None,
                        customer=Customer.from_view(payload["customer"]) if "customer" in payload else None,
                    )
            except CursorExpired as exc:
                raise CursorExpiredError(str(exc)) from exc
