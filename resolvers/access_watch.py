"""Access for the life of a subscription, which may outlast the user's teams, role, account or token.

An `AccessWatch` holds the scope read when the subscription started and follows the user's access
stream (resolvers/visibility.access_changed: teams, role, "see all", deactivation, revoked
tokens). When a change arrives the scope is read again at once, before any further event is let
through; a user who may no longer sign in (deactivated, token revoked, role changed) ends the
subscription with UNAUTHENTICATED, and so does the access token's expiry. Each event is then
checked against the current scope, so a user never receives an event of a conversation they
cannot see.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from core.auth import Actor
from core.events import EventLog
from core.outage import patiently
from core.sql import fetch
from resolvers.errors import Unauthenticated
from resolvers.visibility import RoleChanged, Scope, access_stream, is_key, read_scope

T = TypeVar("T")
NOTHING = Scope(user_id=None, everything=False, team_ids=frozenset(), role=None)


class AccessRevoked(Unauthenticated):
    """The subscription's user may no longer see anything: `expired` tells a token that ran out
    (sign in or refresh, and subscribe again) from an account that was disabled or revoked."""

    def __init__(self, message: str, *, expired: bool) -> None:
        super().__init__(message)
        self.expired = expired


class AccessWatch:
    def __init__(self, actor: Actor, event_log: EventLog) -> None:
        self.actor = actor
        self.scope: Scope | None = None
        self._event_log = event_log
        self._stale = False
        self._revoked: asyncio.Future[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._expiry: asyncio.TimerHandle | None = None
        # Told (old scope, new scope) when a change was re-read, e.g. to tell a live inbox which
        # conversations left the user's sight (schema/fanout.py).
        self.on_change: Callable[[Scope, Scope], None] | None = None

    async def start(self) -> Scope:
        """Read the scope and begin watching (raises UNAUTHENTICATED when already refused)."""
        # The stream's head before the scope: a change committed in between is replayed.
        cursor = None if is_key(self.actor) else await self._event_log.head(access_stream(self.actor.user_id))
        self.scope = await read_scope(self.actor)
        self._revoked = asyncio.get_running_loop().create_future()
        if self.actor.expires_at is not None:
            # A timer, not a task sleeping until then: thousands of idle subscriptions hold one each.
            delay = max(0.0, self.actor.expires_at - time.time())
            self._expiry = asyncio.get_running_loop().call_later(delay, self._expire)
        if cursor is not None:
            self._tasks.append(asyncio.create_task(self._follow(cursor)))
        return self.scope

    async def stop(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._revoked is not None and self._revoked.done():
            self._revoked.exception()  # retrieved: no "never retrieved" warning

    async def current(self) -> Scope:
        """The scope to check the next event against: re-read when a change was announced. Once
        access is revoked it admits nothing (and `guard` ends the stream at its next step)."""
        if self._revoked is not None and self._revoked.done():
            return NOTHING
        if self._stale or self.scope is None:
            try:
                self.scope = await self._reread()
            except AccessRevoked:
                return NOTHING
            self._stale = False
        return self.scope

    def settled(self) -> Scope | None:
        """The scope to check the next event against when that must not wait: None while a
        change is being re-read or once access is revoked (then `current()` says what holds)."""
        if self._stale or (self._revoked is not None and self._revoked.done()):
            return None
        return self.scope

    async def _reread(self) -> Scope:
        try:
            # A live view waits out a database outage rather than end (core/outage.py).
            return await patiently(lambda: read_scope(self.actor), "subscription access")
        except Unauthenticated as exc:
            # A new role is had by refreshing, like an expired token; anything else ends the login.
            revoked = AccessRevoked(str(exc), expired=isinstance(exc, RoleChanged))
            self._revoke(revoked)
            raise revoked from exc

    def _revoke(self, error: AccessRevoked) -> None:
        if self._revoked is not None and not self._revoked.done():
            self._revoked.set_exception(error)

    def _expire(self) -> None:
        self._revoke(AccessRevoked("your access token expired; refresh it and subscribe again", expired=True))

    async def _follow(self, cursor: int) -> None:
        async for _ in self._event_log.follow(access_stream(self.actor.user_id), cursor):
            await self._changed()

    async def _changed(self) -> None:
        before = self.scope
        self._stale = True
        # Read now rather than at the next event: a deactivated user's idle subscription closes.
        with contextlib.suppress(AccessRevoked):
            self.scope = await self._reread()
            self._stale = False
            if self.on_change is not None and before is not None and before != self.scope:
                self.on_change(before, self.scope)

    async def guard(self, source: AsyncIterator[T]) -> AsyncIterator[T]:
        """`source`'s items until it ends or access is revoked (then AccessRevoked is raised)."""
        assert self._revoked is not None, "start() first"
        step: asyncio.Future[T] | None = None
        try:
            while True:
                step = asyncio.ensure_future(anext(source))
                await asyncio.wait({step, self._revoked}, return_when=asyncio.FIRST_COMPLETED)
                if self._revoked.done():
                    self._revoked.result()  # raises AccessRevoked
                try:
                    item = step.result()
                except StopAsyncIteration:
                    return
                step = None
                yield item
        finally:
            if step is not None and not step.done():
                step.cancel()
                with contextlib.suppress(BaseException):
                    await step
            aclose = getattr(source, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()


class ConversationAccess:
    """Whether a watched user may see one conversation, for a subscription that follows it: its
    team and assignee are re-read when they may have changed (`stale()`, on its activities) and at
    least every REREAD seconds; the user's scope is the watch's current one."""

    REREAD = 30.0

    def __init__(self, conversation_id: int) -> None:
        self.conversation_id = conversation_id
        self._row: dict[str, Any] | None = None
        self._read_at = 0.0

    def stale(self) -> None:
        self._row = None

    async def admits(self, watch: AccessWatch) -> bool:
        scope = await watch.current()
        if scope.everything:
            return True
        now = time.monotonic()
        if self._row is None or now - self._read_at > self.REREAD:
            rows = await patiently(
                lambda: fetch(
                    "SELECT team_id, assignee_id FROM conversations WHERE id = $1", self.conversation_id
                ),
                "conversation access",
            )
            self._row, self._read_at = (dict(rows[0]) if rows else {}), now
        return bool(self._row) and scope.admits(self._row)


async def timer_visible(watch: AccessWatch, conversation_id: int) -> bool:
    """An SLA event is for those who may see its conversation."""
    return await ConversationAccess(conversation_id).admits(watch)
