"""Live fan-out that costs once per event, not once per subscriber (`inboxEvents` over
graphql-transport-ws).

Before, every subscriber followed the event log on its own, and every event was decoded, checked,
executed through GraphQL, JSON-encoded and sent once per subscriber, on the event loop that also
answers webhooks. Here one process-wide follower (`InboxFanout`, one per event log) reads the inbox
stream, and for each event:

- each subscriber is admitted or not by its own current scope (resolvers/visibility.py via its
  AccessWatch, resolvers/access_watch.py; a scope being re-read sends that subscriber through the
  careful path below, never past a stale scope);
- the event's selection is executed once per *execution key* among the admitted subscribers:
  the operation (the parsed document, shared by schema/document_cache.py), the variables its
  selection uses (not `after`, which only says where a subscriber starts), the viewer's role (or
  the API key and its scopes), their visibility scope (`everything`, teams), and, when the
  selection reads something that depends on the viewer themselves (`viewer_dependence`), the
  viewer. So agents of the same teams, or all admins, share one execution;
- the result is encoded once; each subscriber gets the same `next` frame with its own operation id
  spliced in (`{"id":` + id + the pre-encoded rest), queued on its connection's `Outbox` (one
  writer per connection, only while there is something to write). Nothing here awaits a socket,
  and the loop is yielded every SLICE subscribers, so neither webhooks nor other subscribers wait
  for a slow client.

A subscriber whose connection holds LAG_LIMIT unsent frames stops being fed; once its connection
has written them it is caught up from the event log after its cursor (the same replay a
reconnecting client gets) and rejoins the live fan-out. Joining works the same way: replay from
the subscriber's cursor until it reaches the follower's position, then live.

A conversation that leaves a subscriber's sight (transferred to another team, unassigned, …) is
sent to them once more as CONVERSATION_REMOVED instead of silence, so a list drops it: the follower
remembers where each conversation was (team, assignee) before each event, and a subscriber who
could see it there but not now gets the removal. Nobody is told about a conversation they never
could see.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import os
import re
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import (
    FieldNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_abstract_type,
    is_object_type,
    visit,
)
from graphql.language import Visitor
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

from core import timeline
from core.auth import Actor
from core.events import INBOX, EventLog, EventRecord
from core.outage import patiently
from core.sql import fetch
from resolvers import api_keys as key_rules
from resolvers.access_watch import AccessWatch
from resolvers.shapes import CONVERSATION_COLUMNS, conversation_view
from resolvers.visibility import Scope, is_key
from schema.context import Loaders
from schema.errors import ErrorCodes
from schema.execution import current_executor

log = logging.getLogger(__name__)
_OPEN = State.OPEN

# PYTAKE_SHARED_FANOUT=0 serves every subscriber on its own as before (bench/fanout measures both).
SHARED = os.environ.get("PYTAKE_SHARED_FANOUT", "1") != "0"
LAG_LIMIT = 256  # unsent frames a subscriber may have queued before it is caught up from the log
SLICE = 64  # subscribers served between two turns of the event loop
PIPELINE = 64  # events whose executions may run at once while earlier ones are delivered
PLACEMENTS = 50_000  # conversations whose (team, assignee) the follower remembers, newest first
REMOVED = "CONVERSATION_REMOVED"
RECENT = 1024  # events kept with their encoded bodies, to catch subscribers up without the database
SCOPE_REMOVALS = 500  # at most this many removals (most recently changed first) when a scope narrows


# -- where a subscription runs ------------------------------------------------------------------
@dataclass(frozen=True)
class Origin:
    """The graphql-transport-ws connection and operation id a subscription's resolver runs for."""

    handler: Any  # schema/graphql_ws.CheckedTransportWSHandler
    operation_id: str


CURRENT_OPERATION: ContextVar[Origin | None] = ContextVar("pytake_ws_operation", default=None)


# -- which viewer traits a selection's result depends on ------------------------------------------
PURE, SELF, PRINCIPAL = 0, 1, 2

# Resolvers that take `info` only for the DataLoaders (so their result does not depend on who
# asks), and those whose result depends on whether the viewer is the user shown (schema/auth.py).
# Any other resolver that takes `info` may read the viewer: its subscribers share nothing but
# their own principal's execution.
_LOADERS_ONLY = frozenset(
    {
        ("Conversation", "customer"),
        ("Conversation", "assignee"),
        ("Conversation", "lastMessage"),
        ("Conversation", "channel"),
        ("Customer", "identities"),
        ("Message", "sender"),
        ("Activity", "actor"),
        # Takes `info` for the DataLoader and to require a signed-in viewer; every
        # subscriber is one. The web app's inbox selects it, so without this entry each of its
        # subscribers was executed on its own (1.7 ms a delivery instead of tens of µs).
        ("Conversation", "slaTimers"),
    }
)
_SELF = frozenset({("User", "email"), ("User", "role"), ("User", "seesAllConversations")})


def _field_dependence(parent: str, name: str, definition: Any) -> int:
    if (parent, name) in _SELF:
        return SELF
    if (parent, name) in _LOADERS_ONLY:
        return PURE
    strawberry_field = definition.extensions.get("strawberry-definition") if definition else None
    resolver = getattr(strawberry_field, "base_resolver", None)
    if resolver is None:
        return PURE  # a plain attribute of the object
    return PRINCIPAL if resolver.info_parameter is not None else PURE


def viewer_dependence(schema: Any, operation: OperationDefinitionNode, fragments: dict[str, Any]) -> int:
    """PURE, SELF or PRINCIPAL: what besides role, key scopes and visibility scope the result of
    the subscription's selection depends on."""
    root_type = schema.subscription_type
    worst = PURE
    seen_fragments: set[str] = set()

    def walk(selection_set: SelectionSetNode | None, parent: Any) -> None:
        nonlocal worst
        if selection_set is None:
            return
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                name = node.name.value
                if name.startswith("__"):
                    continue
                if not is_object_type(parent):
                    worst = PRINCIPAL  # an interface or union field: not analysed, not shared
                    continue
                definition = parent.fields.get(name)
                if definition is None:
                    worst = PRINCIPAL
                    continue
                if parent is not root_type:
                    worst = max(worst, _field_dependence(parent.name, name, definition))
                walk(node.selection_set, get_named_type(definition.type))
            elif isinstance(node, InlineFragmentNode):
                target = schema.get_type(node.type_condition.name.value) if node.type_condition else parent
                walk(node.selection_set, target)
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                fragment = fragments.get(name)
                if fragment is None or name in seen_fragments:
                    continue
                seen_fragments.add(name)
                walk(fragment.selection_set, schema.get_type(fragment.type_condition.name.value))
        if is_abstract_type(parent):
            worst = PRINCIPAL

    walk(operation.selection_set, root_type)
    return worst


def selection_variables(operation: OperationDefinitionNode, fragments: dict[str, Any]) -> tuple[str, ...]:
    """The variables used below the root field (its own arguments, e.g. `after`, only say where
    one subscriber starts)."""
    names: set[str] = set()

    class Collect(Visitor):
        def enter_variable(self, node: VariableNode, *_: Any) -> None:
            names.add(node.name.value)

    for root in operation.selection_set.selections:
        if isinstance(root, FieldNode) and root.selection_set is not None:
            visit(root.selection_set, Collect())
    for fragment in fragments.values():
        visit(fragment, Collect())
    return tuple(sorted(names))


@dataclass(frozen=True)
class _Plan:
    dependence: int
    variables: tuple[str, ...]


_plans: weakref.WeakKeyDictionary[Any, _Plan] = weakref.WeakKeyDictionary()


def _plan(executor: Any) -> _Plan:
    operation = executor.operation
    plan = _plans.get(operation)
    if plan is None:
        fragments = executor.fragment_definitions
        plan = _Plan(
            viewer_dependence(executor.schema, operation, fragments),
            selection_variables(operation, fragments),
        )
        _plans[operation] = plan
    return plan


def execution_key(executor: Any, actor: Actor, scope: Scope) -> tuple[Any, ...]:
    """What the result of one event's execution depends on, for this subscriber."""
    plan = _plan(executor)
    values = getattr(executor.variable_values, "coerced", executor.variable_values)
    variables = orjson.dumps(
        {name: values.get(name) for name in plan.variables}, option=orjson.OPT_SORT_KEYS, default=str
    )
    key_id = getattr(actor, "api_key_id", None)
    who: Any = None
    if plan.dependence == PRINCIPAL:
        who = (actor.user_id, key_id)
    elif plan.dependence == SELF and not (actor.is_supervisor or is_key(actor)):
        who = actor.user_id
    role = ("key", tuple(sorted(getattr(actor, "scopes", None) or ()))) if key_id is not None else actor.role
    return (id(executor.operation), variables, role, scope.everything, scope.team_ids, who)


# -- one connection's writer ---------------------------------------------------------------------
# Where the server's own `send` for a WebSocket is kept in its scope (`ExposeSocket`, asgi.py):
# under uvicorn's websockets-sansio protocol the fan-out writes its frames to the transport itself.
SOCKET_SEND = "pytake.socket_send"


class ExposeSocket:
    """ASGI wrapper (outermost): a WebSocket's scope keeps the server's own `send`, before any
    middleware wraps it, so `Outbox` can find uvicorn's protocol behind it. Everything else (e.g.
    `app.state`) is the wrapped app's."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            scope[SOCKET_SEND] = send
        await self.app(scope, receive, send)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)


def raw_socket(scope: dict[str, Any]) -> Any:
    """uvicorn's websockets-sansio protocol of this WebSocket, or None (another server or
    implementation: frames then go through ASGI `send`)."""
    protocol = getattr(scope.get(SOCKET_SEND), "__self__", None)
    return protocol if isinstance(protocol, WebSocketsSansIOProtocol) else None


def text_frame(payload: bytes) -> bytes:
    """A server-to-client WebSocket text frame (final, unmasked, uncompressed: `pytake serve`
    offers no permessage-deflate) around `payload`, UTF-8 JSON."""
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 65536:
        return b"\x81\x7e" + n.to_bytes(2, "big") + payload
    return b"\x81\x7f" + n.to_bytes(8, "big") + payload


def _frame_text(frame: bytes) -> str:
    """The text of a frame made by `text_frame` (for the ASGI path)."""
    n = frame[1] & 0x7F
    return frame[2 if n < 126 else 4 if n == 126 else 10 :].decode()


_WRITABLE, _FULL, _GONE = 0, 1, 2


def _raw_state(protocol: Any) -> int:
    if protocol.disconnected or protocol.close_sent or protocol.conn.state is not _OPEN:
        return _GONE  # the connection is gone or closing: its operations end with it
    if protocol.transport.is_closing():
        return _GONE
    return _WRITABLE if protocol.writable.is_set() else _FULL


class Outbox:
    """The frames waiting to be written on one WebSocket, in order. A writer task exists only
    while there is something to write.

    Under uvicorn's websockets-sansio protocol (`raw`) a frame is written to the transport
    directly, whole, in this turn of the loop, while the transport takes more (uvicorn's own
    flow control: its `writable` event); ping, pong and strawberry's messages go through the same
    protocol, a whole frame each, so frames never interleave. Otherwise through ASGI `send`."""

    __slots__ = ("_frames", "_idle", "_raw", "_send", "_task")

    def __init__(self, send: Callable[[str], Any], raw: Any = None) -> None:
        self._send = send
        self._raw = raw
        self._frames: deque[tuple[Subscriber | None, bytes]] = deque()
        self._task: asyncio.Task[None] | None = None
        self._idle: asyncio.Event | None = None

    def push(self, sub: Subscriber | None, frame: bytes) -> None:
        """Queue `frame` (from `text_frame`), written now when the socket takes it."""
        if self._task is None:
            raw = self._raw
            started: Any = None
            if raw is not None:
                state = _raw_state(raw)
                if state == _WRITABLE:
                    raw.transport.write(frame)
                    return
                if state == _GONE:
                    return
            else:
                # Nothing waiting: write now, in this turn of the loop and without a task (the
                # socket takes it at once); only a write that has to wait gets a writer.
                send = self._send(_frame_text(frame))
                try:
                    started = (send, send.send(None))
                except StopIteration:
                    return
                except Exception:
                    return  # the connection is gone: its operations end with it
            if sub is not None:
                sub.pending += 1
            self._task = asyncio.get_running_loop().create_task(self._write(sub, frame, started))
            return
        self._frames.append((sub, frame))
        if sub is not None:
            sub.pending += 1

    async def _write(self, sub: Subscriber | None, frame: bytes, started: Any) -> None:
        frames = self._frames
        try:
            while True:
                if not await self._one(frame, started):
                    self._failed(sub)
                    return
                started = None
                if sub is not None:
                    sub.pending -= 1
                    if sub.pending == 0 and sub.lagging:
                        sub.hub.resume(sub)
                while frames and frames[0][0] is not None and frames[0][0].closed:
                    frames.popleft()[0].pending -= 1  # type: ignore[union-attr]
                if not frames:
                    return
                sub, frame = frames.popleft()
        finally:
            self._task = None
            if self._idle is not None:
                self._idle.set()

    async def _one(self, frame: bytes, started: Any) -> bool:
        """Write one frame, waiting for the socket as long as it takes. False: it failed."""
        raw = self._raw
        if raw is not None:
            while True:
                state = _raw_state(raw)
                if state == _WRITABLE:
                    raw.transport.write(frame)
                    return True
                if state == _GONE:
                    return False
                await raw.writable.wait()  # set again when the transport drains, or is lost
        if started is None:
            started = (self._send(_frame_text(frame)), None)
        return await _finish(*started)

    def _failed(self, sub: Subscriber | None) -> None:
        """The connection is gone: its operations end with it; nothing more is written."""
        for other, _ in self._frames:
            if other is not None:
                other.pending = 0
        self._frames.clear()
        if sub is not None:
            sub.pending = 0

    async def drain(self) -> None:
        """Until everything queued so far is written (or the connection failed)."""
        while self._task is not None:
            if self._idle is None or self._idle.is_set():
                self._idle = asyncio.Event()
            await self._idle.wait()


def _wake(waiter: asyncio.Future[None], _: object) -> None:
    if not waiter.done():
        waiter.set_result(None)


async def _finish(send: Any, waiting: Any) -> bool:
    """Run the send coroutine `send` to its end, from where it stopped waiting on `waiting` (None:
    not started). False when it failed (the connection is gone)."""
    try:
        while True:
            if waiting is not None and not waiting.done():
                # What the send waits for (the socket draining). Not awaited itself: a future
                # already yielded by the send cannot be awaited again; its outcome reaches the
                # send when resumed.
                woken = asyncio.get_running_loop().create_future()
                waiting.add_done_callback(functools.partial(_wake, woken))
                try:
                    await woken
                except asyncio.CancelledError:
                    send.close()
                    raise
            waiting = send.send(None)
    except StopIteration:
        return True
    except Exception:
        return False


# -- subscribers and the follower ---------------------------------------------------------------
class Subscriber:
    __slots__ = (
        "actor",
        "catching",
        "check",
        "closed",
        "cursor",
        "done",
        "executor",
        "hub",
        "key",
        "lagging",
        "make_event",
        "outbox",
        "pending",
        "prefix",
        "scope",
        "task",
        "watch",
    )

    def __init__(
        self,
        hub: InboxFanout,
        origin: Origin,
        outbox: Outbox,
        watch: AccessWatch,
        executor: Any,
        cursor: int,
        make_event: Callable[[EventRecord, str], Any],
    ) -> None:
        self.hub = hub
        self.outbox = outbox
        self.watch = watch
        self.actor = watch.actor
        self.executor = executor
        self.cursor = cursor
        self.make_event = make_event
        self.prefix = b'{"id":' + orjson.dumps(origin.operation_id) + b',"type":"next","payload":'
        self.pending = 0
        self.lagging = False
        self.catching = True
        self.closed = False
        self.scope: Scope | None = None
        self.key: tuple[Any, ...] | None = None
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.task: asyncio.Task[None] | None = None  # catching up, when it is
        # Checked before each event is sent (an API key still active): such a subscriber is served
        # one at a time, never from the shared loop (keys hold few subscriptions).
        key_id = getattr(self.actor, "api_key_id", None)
        self.check = functools.partial(key_rules.ensure_key_active, key_id) if key_id is not None else None

    def keyed(self, scope: Scope) -> tuple[Any, ...]:
        if scope is not self.scope or self.key is None:
            self.scope, self.key = scope, execution_key(self.executor, self.actor, scope)
        return self.key

    def fail(self, exc: BaseException) -> None:
        if not self.done.done():
            self.done.set_exception(exc)


Placement = tuple[int, Any, Any]  # (seq it holds from, team_id, assignee_id)


def _placed(seq: int, conversation: dict[str, Any]) -> Placement:
    return (seq, conversation.get("team_id"), conversation.get("assignee_id"))


def _as_view(placement: Placement) -> dict[str, Any]:
    return {"team_id": placement[1], "assignee_id": placement[2]}


Rendered = dict[tuple[Any, ...], bytes | Exception]  # an event's encoded bodies by execution key


class _Kept:
    """One of the follower's latest events: where its conversation was before it, and its bodies
    as executed so far (the follower's executions, while `rendering`, and any a catch-up added)."""

    __slots__ = ("before", "record", "rendered", "rendering")

    def __init__(self, record: EventRecord, before: Placement | None) -> None:
        self.record = record
        self.before = before
        self.rendered: Rendered = {}
        self.rendering: asyncio.Future[None] | None = None


@dataclass
class _Prepared:
    """One event on its way: who gets which execution, and those executions."""

    kept: _Kept
    groups: dict[tuple[Any, ...], list[Subscriber]]
    rendering: asyncio.Future[None]
    taken: float = 0.0  # when the follower took it (timeline)


_hubs: weakref.WeakKeyDictionary[EventLog, InboxFanout] = weakref.WeakKeyDictionary()


class InboxFanout:
    """The process's follower of the inbox stream and its subscribers (one per event log)."""

    @classmethod
    def of(cls, event_log: EventLog) -> InboxFanout:
        hub = _hubs.get(event_log)
        if hub is None:
            hub = _hubs[event_log] = cls(event_log)
        return hub

    def __init__(self, event_log: EventLog) -> None:
        self.log = event_log
        self.subscribers: set[Subscriber] = set()
        self.live: set[Subscriber] = set()
        self.position: int | None = None  # the last event the follower took
        self.placements: dict[int, Placement] = {}
        self._tail: asyncio.Task[None] | None = None
        self._started: asyncio.Future[None] | None = None
        # The latest events of the stream, contiguous, with the bodies rendered for them by key:
        # subscribers catching up (joining, or after lagging) whose cursor is within are served
        # from here together, sharing the executions already done.
        self.recent: deque[_Kept] = deque(maxlen=RECENT)
        self._tick: asyncio.Future[None] | None = None  # done when the follower takes an event
        self._background: set[asyncio.Task[None]] = set()
        # Subscribers waiting to be caught up from `recent` together, and the task doing it.
        self._rejoining: set[Subscriber] = set()
        self._regroup: asyncio.Task[None] | None = None
        self.executions = 0  # selections executed (for tests and benchmarks)
        self.deliveries = 0  # frames queued

    # -- joining and leaving --------------------------------------------------------------------
    async def stream(
        self,
        origin: Origin,
        watch: AccessWatch,
        executor: Any,
        cursor: int,
        make_event: Callable[[EventRecord, str], Any],
    ) -> AsyncIterator[None]:
        """Serve one subscription until it ends; it yields nothing (frames go straight to the
        connection), and raises what ends the subscription (CursorExpired, BusClosed)."""
        handler = origin.handler
        outbox = getattr(handler, "fanout_outbox", None)
        if outbox is None:
            ws = handler.websocket.ws
            outbox = handler.fanout_outbox = Outbox(ws.send_text, raw_socket(ws.scope))
        sub = Subscriber(self, origin, outbox, watch, executor, cursor, make_event)
        self.subscribers.add(sub)
        watch.on_change = lambda old, new: self._narrowed(sub, old, new)
        sub.task = asyncio.create_task(self._catch_up(sub, first=True))
        try:
            await sub.done
        finally:
            sub.closed = True
            if sub.task is not None:
                sub.task.cancel()
            self.subscribers.discard(sub)
            self.live.discard(sub)
            self._rejoining.discard(sub)
            if not self.subscribers:
                await self._stop()
        return
        yield  # an async generator, for AccessWatch.guard

    def resume(self, sub: Subscriber) -> None:
        """A lagging subscriber's connection wrote everything: catch it up and let it rejoin."""
        if sub.closed or not sub.lagging:
            return
        sub.lagging = False
        sub.catching = True
        self._rejoin(sub)

    def _within_recent(self, cursor: int) -> bool:
        """Every event after `cursor` is in `recent` (or there is none yet)."""
        if self.position is None:
            return False
        if cursor >= self.position:
            return True
        recent = self.recent
        return bool(recent) and (recent[0].record.prev_seq or 0) <= cursor

    def _rejoin(self, sub: Subscriber) -> None:
        """Catch `sub` up: from `recent` together with the others catching up when it can (its
        scope settled, no key to check before each event), else on its own (the log)."""
        if sub.check is None and self._within_recent(sub.cursor) and sub.watch.settled() is not None:
            self._rejoining.add(sub)
            if self._regroup is None:
                self._regroup = asyncio.get_running_loop().create_task(
                    self._catch_up_together(), name="inbox-fanout-catch-up"
                )
            return
        sub.task = asyncio.get_running_loop().create_task(self._catch_up(sub, first=False))

    def _narrowed(self, sub: Subscriber, old: Scope, new: Scope) -> None:
        if not sub.closed:
            task = asyncio.get_running_loop().create_task(self._left_sight(sub, old, new))
            self._background.add(task)  # held until done (the loop keeps only weak references)
            task.add_done_callback(self._background.discard)

    async def _left_sight(self, sub: Subscriber, old: Scope, new: Scope) -> None:
        """The user's scope changed (teams, grant): the conversations it took out of their sight
        are sent as removed, as they are now, after the events they already had."""
        gone: list[int] = []
        for pk, placement in reversed(self.placements.items()):
            view = _as_view(placement)
            if old.admits(view) and not new.admits(view):
                gone.append(pk)
                if len(gone) >= SCOPE_REMOVALS:
                    break
        if not gone:
            return
        try:
            rows = await patiently(
                lambda: fetch(
                    f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = ANY($1::bigint[])", gone
                ),
                "inbox removals",
            )
            for row in rows:
                view = conversation_view(row)
                if sub.closed or sub.watch.settled() is not new:
                    return  # ended, or changed again (that change brings its own removals)
                if new.admits(view):
                    continue  # back in sight since
                record = EventRecord(sub.cursor, None, INBOX, REMOVED, {"conversation": view})
                body = await self._render(sub, record, REMOVED)
                sub.outbox.push(sub, text_frame(sub.prefix + body + b"}"))
                self.deliveries += 1
        except Exception:
            log.warning("could not send the inbox removals of a narrowed scope", exc_info=True)

    def _lag(self, sub: Subscriber) -> None:
        self.live.discard(sub)
        sub.lagging = True
        if sub.pending == 0:
            self.resume(sub)

    # -- the follower ---------------------------------------------------------------------------
    async def _ensure_tail(self) -> None:
        if self._started is None:
            self._started = asyncio.get_running_loop().create_future()
            self._tail = asyncio.create_task(self._follow(), name="inbox-fanout")
        await asyncio.shield(self._started)

    async def _stop(self) -> None:
        tail, self._tail, self._started = self._tail, None, None
        regroup, self._regroup = self._regroup, None
        self.position = None
        self.placements = {}
        self.recent.clear()
        self._rejoining.clear()
        for task in (tail, regroup):
            if task is not None:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task

    async def _follow(self) -> None:
        started = self._started
        assert started is not None
        try:
            # One snapshot: where the stream is, and where its conversations are.
            rows = await patiently(
                lambda: fetch(
                    "SELECT COALESCE((SELECT last_seq FROM stream_heads WHERE stream = $1), 0) AS head, "
                    "ARRAY(SELECT ARRAY[id, COALESCE(team_id, 0), COALESCE(assignee_id, 0)] FROM conversations "
                    "ORDER BY id DESC LIMIT $2) AS placed",
                    INBOX,
                    PLACEMENTS,
                ),
                "inbox fan-out start",
            )
            head = rows[0]["head"]
            placed = reversed(rows[0]["placed"])  # oldest first, like the placements that follow
            self.placements = {pk: (head, team or None, who or None) for pk, team, who in placed}
            self.position = head
            started.set_result(None)
            timeline.start_monitors()
            # Two stages: events are admitted and their executions started in order as they come
            # (several at once when the database is slow), and delivered in order as each is ready.
            ready: asyncio.Queue[_Prepared] = asyncio.Queue(maxsize=PIPELINE)
            deliverer = asyncio.create_task(self._deliver_all(ready), name="inbox-fanout-delivery")
            try:
                async for record in self.log.follow(INBOX, head):
                    if deliverer.done():
                        deliverer.result()  # raises what ended it
                    prepared = self._prepare(record)
                    if prepared is not None:
                        await ready.put(prepared)
            finally:
                deliverer.cancel()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("inbox fan-out follower ended: %r", exc)
            if not started.done():
                started.set_exception(exc)
            for sub in list(self.subscribers):
                sub.fail(exc)
            self._tail, self._started, self.position = None, None, None

    def _remember(self, record: EventRecord) -> Placement | None:
        """Where the event's conversation was before it, and remember where it is now."""
        conversation = record.payload["conversation"]
        pk = conversation["id"]
        before = self.placements.pop(pk, None)
        self.placements[pk] = _placed(record.seq, conversation)  # newest last
        if len(self.placements) > PLACEMENTS:
            del self.placements[next(iter(self.placements))]
        return before

    def _prepare(self, record: EventRecord) -> _Prepared | None:
        """Take an event: who gets it under which execution key, and those executions started."""
        taken = time.time() if timeline.PATH else 0.0
        self.position = record.seq  # a subscriber catching up from now on replays this one itself
        kept = _Kept(record, self._remember(record))
        conversation = record.payload["conversation"]
        self.recent.append(kept)
        tick, self._tick = self._tick, None
        if tick is not None and not tick.done():
            tick.set_result(None)  # subscribers served one at a time take it from `recent`
        groups: dict[tuple[Any, ...], list[Subscriber]] = {}
        for sub in list(self.live):
            if sub.closed or record.seq <= sub.cursor:
                continue
            if sub.pending >= LAG_LIMIT:
                self._lag(sub)  # caught up once its connection has written
                continue
            scope = sub.watch.settled()
            if scope is None:  # its access is being re-read (or was revoked): the careful path
                self._lag(sub)
                continue
            kind = record.type if scope.everything else _kind(scope, record, conversation, kept.before)
            if kind is None:
                continue
            key = (sub.keyed(scope), kind)
            members = groups.get(key)
            if members is None:
                groups[key] = [sub]
            else:
                members.append(sub)
        if not groups:
            return None
        kept.rendering = asyncio.ensure_future(self._render_all(record, groups, kept.rendered))
        if taken:
            timeline.mark(record.seq, "admitted")
        return _Prepared(kept, groups, kept.rendering, taken)

    async def _render_all(
        self, record: EventRecord, groups: dict[tuple[Any, ...], list[Subscriber]], rendered: Rendered
    ) -> None:
        """Every execution key at once, with one set of DataLoaders (rows, not what a viewer may
        see of them): an event costs one round trip per loader, not one per key."""
        loaders = Loaders()
        keys = list(groups)
        results = await asyncio.gather(
            *(self._render(groups[key][0], record, key[1], loaders) for key in keys), return_exceptions=True
        )
        for key, result in zip(keys, results, strict=True):
            if isinstance(result, BaseException):
                log.error("inbox event %s could not be rendered", record.seq, exc_info=result)
                result = result if isinstance(result, Exception) else RuntimeError(repr(result))
            rendered.setdefault(key, result)

    async def _deliver_all(self, ready: asyncio.Queue[_Prepared]) -> None:
        while True:
            prepared = await ready.get()
            await prepared.rendering
            # One turn first: what this turn woke (a webhook's answer, say) goes before the frames.
            await asyncio.sleep(0)
            rendered = time.time() if timeline.PATH else 0.0
            await self._deliver(prepared.kept.record, prepared.groups, prepared.kept.rendered, self.live)
            if timeline.PATH:
                timeline.mark(prepared.kept.record.seq, "taken", prepared.taken)
                timeline.mark(prepared.kept.record.seq, "rendered", rendered)
                timeline.done(prepared.kept.record.seq, marker=_marker(prepared.kept.record))

    async def _deliver(
        self,
        record: EventRecord,
        groups: dict[tuple[Any, ...], list[Subscriber]],
        rendered: Rendered,
        among: set[Subscriber] | None,
    ) -> None:
        """Each group's body to its members (those still `among` the subscribers being served,
        and still before this event), the same frame bytes to all with the same operation id."""
        seq = record.seq
        served = 0
        first = 0.0
        for key, members in groups.items():
            body = rendered[key]
            if isinstance(body, Exception):
                for sub in members:
                    if not sub.closed and (among is None or sub in among) and seq > sub.cursor:
                        sub.fail(body)
                continue
            frames: dict[bytes, bytes] = {}
            for sub in members:
                if sub.closed or (among is not None and sub not in among) or seq <= sub.cursor:
                    continue  # left, or fell behind (and is caught up on its own), meanwhile
                frame = frames.get(sub.prefix)
                if frame is None:
                    frame = frames[sub.prefix] = text_frame(sub.prefix + body + b"}")
                sub.cursor = seq
                sub.outbox.push(sub, frame)
                served += 1
                if served == 1 and timeline.PATH:
                    first = time.time()
                if served % SLICE == 0:
                    await asyncio.sleep(0)  # webhooks and other work get their turn
        self.deliveries += served
        if timeline.PATH and among is self.live and served:
            timeline.mark(seq, "first", first)
            timeline.mark(seq, "last")
            timeline.mark(seq, "served", served)

    async def _render(
        self, sub: Subscriber, record: EventRecord, kind: str, loaders: Loaders | None = None
    ) -> bytes:
        """Execute the subscription's selection for one event, as strawberry would, and encode it."""
        self.executions += 1
        executor = sub.executor.build_per_event_executor(sub.make_event(record, kind))
        executor.context_value = dataclasses.replace(executor.context_value, loaders=loaders or Loaders())
        result = executor.execute_operation(False)
        if executor.is_awaitable(result):
            result = await result
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            errors = ErrorCodes()._process_errors(list(result.errors))
            payload["errors"] = [error.formatted for error in errors]
        return orjson.dumps(payload, default=str)

    # -- catching up together, from `recent` ----------------------------------------------------
    async def _catch_up_together(self) -> None:
        """Serve the subscribers waiting in `_rejoining` from `recent`, event by event, all at
        once: per event, one execution per execution key among them (none when the follower
        already ran it), the same frame to each. One that reaches the follower's position rejoins
        the live fan-out; one that falls behind again waits for its connection; one whose
        cursor leaves `recent` (the follower ran 1,024 events ahead) or whose scope is being
        re-read goes on its own (`_catch_up`)."""
        members: set[Subscriber] = set()
        try:
            while True:
                members |= self._rejoining
                self._rejoining.clear()
                assert self.position is not None
                for sub in list(members):
                    if sub.closed or sub.lagging:
                        members.discard(sub)
                    elif sub.cursor >= self.position:
                        members.discard(sub)
                        sub.catching = False
                        self.live.add(sub)  # no await since the check: nothing slips between
                    elif not self._within_recent(sub.cursor):
                        members.discard(sub)
                        sub.task = asyncio.get_running_loop().create_task(self._catch_up(sub, first=False))
                if not members:
                    if self._rejoining:
                        continue
                    return
                await self._serve_kept(self._kept_after(min(sub.cursor for sub in members)), members)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # not expected: none of them is left waiting for good
            log.exception("inbox fan-out catch-up failed")
            for sub in members | self._rejoining:
                sub.fail(exc)
        finally:
            if self._regroup is asyncio.current_task():
                self._regroup = None

    def _kept_after(self, cursor: int) -> _Kept:
        """The kept event right after `cursor` (`_within_recent(cursor)`, below the position)."""
        recent = self.recent
        at = recent[-1].record.seq - cursor  # at least how many are after it: search from the end
        index = max(0, len(recent) - at)
        while index > 0 and recent[index - 1].record.seq > cursor:
            index -= 1
        while recent[index].record.seq <= cursor:
            index += 1
        return recent[index]

    async def _serve_kept(self, kept: _Kept, members: set[Subscriber]) -> None:
        record = kept.record
        if kept.rendering is not None and not kept.rendering.done():
            await asyncio.shield(kept.rendering)  # the follower's executions: not run twice
        conversation = record.payload["conversation"]
        groups: dict[tuple[Any, ...], list[Subscriber]] = {}
        for sub in list(members):
            if sub.closed or sub.cursor >= record.seq:
                continue
            scope = sub.watch.settled()
            if scope is None:  # its access is being re-read: on its own, the careful way
                members.discard(sub)
                sub.task = asyncio.get_running_loop().create_task(self._catch_up(sub, first=False))
                continue
            kind = _kind(scope, record, conversation, kept.before)
            if kind is None:
                sub.cursor = record.seq
                continue
            key = (sub.keyed(scope), kind)
            same = groups.get(key)
            if same is None:
                groups[key] = [sub]
            else:
                same.append(sub)
        missing = {key: subs for key, subs in groups.items() if key not in kept.rendered}
        if missing:
            await self._render_all(record, missing, kept.rendered)
        await self._deliver(record, groups, kept.rendered, members)
        for sub in list(members):
            if sub.pending >= LAG_LIMIT:  # behind again: rejoins once its connection has written
                members.discard(sub)
                sub.lagging = True
        await asyncio.sleep(0)  # one event a turn, whatever it took

    # -- one subscriber on its own: from the log, and API keys ----------------------------------
    async def _catch_up(self, sub: Subscriber, *, first: bool) -> None:
        try:
            if first:
                await patiently(lambda: self.log.check_retained(INBOX, sub.cursor), "cursor on inbox")
            await self._ensure_tail()
            seen: dict[int, Placement] = {}
            while not sub.closed:
                assert self.position is not None
                if sub.cursor >= self.position:
                    if sub.check is None:
                        break
                    if self._tick is None:
                        self._tick = asyncio.get_running_loop().create_future()
                    await asyncio.shield(self._tick)  # the next event, one at a time
                    continue
                if sub.check is None and self._within_recent(sub.cursor) and sub.watch.settled() is not None:
                    self._rejoin(sub)  # the rest together with the others, from `recent`
                    return
                kept = self._recent_after(sub.cursor)
                if kept is not None:
                    batch = [(entry.record, entry) for entry in kept]
                else:
                    records = await patiently(
                        functools.partial(self.log.replay, INBOX, sub.cursor), "replay of inbox"
                    )
                    batch = [(record, None) for record in records]
                if not batch:
                    break
                for record, entry in batch:
                    await self._deliver_one(sub, record, seen, entry)
                    if sub.closed:
                        return
                    if sub.pending >= LAG_LIMIT:
                        await sub.outbox.drain()
            if not sub.closed:
                sub.catching = False
                self.live.add(sub)  # no await since the check above: nothing slips between
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            sub.fail(exc)

    def _recent_after(self, cursor: int) -> list[_Kept] | None:
        """The kept events after `cursor` (at most 500), or None when some are no longer kept."""
        if not self._within_recent(cursor) or cursor >= (self.position or 0):
            return None
        return [kept for kept in self.recent if kept.record.seq > cursor][:500]

    async def _deliver_one(
        self, sub: Subscriber, record: EventRecord, seen: dict[int, Placement], kept: _Kept | None
    ) -> None:
        conversation = record.payload["conversation"]
        pk = conversation["id"]
        if kept is not None:
            before = kept.before
        else:
            before = seen.get(pk)
            if before is None:
                known = self.placements.get(pk)
                before = known if known is not None and known[0] < record.seq else None
        seen[pk] = _placed(record.seq, conversation)
        scope = await sub.watch.current()
        kind = _kind(scope, record, conversation, before)
        if kind is not None and not sub.closed:
            key = (sub.keyed(scope), kind)
            if kept is not None and kept.rendering is not None and not kept.rendering.done():
                await asyncio.shield(kept.rendering)
            body = kept.rendered.get(key) if kept is not None else None
            if body is None:
                body = await self._render(sub, record, kind)
                if kept is not None:
                    kept.rendered.setdefault(key, body)
            if isinstance(body, Exception):
                raise body
            if sub.check is not None:
                await sub.check()
            sub.outbox.push(sub, text_frame(sub.prefix + body + b"}"))
            self.deliveries += 1
        sub.cursor = record.seq


def _marker(record: EventRecord) -> str | None:
    """bench/fanout's marker in the event's last message (`fo<i>t<time>`), for the timeline."""
    found = _MARK.search(orjson.dumps(record.payload))
    return found.group(0).decode() if found else None


_MARK = re.compile(rb"fo\d+t\d+\.\d+")


def _kind(
    scope: Scope, record: EventRecord, conversation: dict[str, Any], before: Placement | None
) -> str | None:
    if scope.admits(conversation):
        return record.type
    if before is not None and scope.admits(_as_view(before)):
        return REMOVED  # it was in their sight until this event
    return None


def join_shared(
    info: Any, watch: AccessWatch, cursor: int, make_event: Callable[[EventRecord, str], Any]
) -> AsyncIterator[None] | None:
    """The shared fan-out for a subscription running on our graphql-transport-ws handler (None
    elsewhere, e.g. `schema.subscribe` in-process: the caller follows the log itself)."""
    if not SHARED:
        return None
    origin = CURRENT_OPERATION.get()
    executor = current_executor()
    if origin is None or executor is None or executor.context_value is not info.context:
        return None
    return InboxFanout.of(info.context.event_log).stream(origin, watch, executor, cursor, make_event)
