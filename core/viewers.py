"""Who is looking at a conversation and who is typing, so two agents don't answer one customer.

(Not an agent's own presence, online/away/offline: that is `models.Presence`.) Nothing is stored.
Each viewer's live subscription announces itself on the bus (`viewing`), repeats that every
HEARTBEAT seconds, and says `left` when it ends; typing is a signal that lapses after TYPING_TTL unless repeated. A viewer that vanishes without a word (a
killed process) drops out after EXPIRY. A newcomer asks (`hello`) and everyone answers at once,
so the list is right from the first moment. The bus spans processes (Redis) in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import orjson

from core.bus import RESYNC, EventBus

HEARTBEAT = 10.0
EXPIRY = 25.0
TYPING_TTL = 6.0


@dataclass(frozen=True)
class Viewer:
    user_id: int
    name: str
    typing: bool


class ConversationViewers:
    def __init__(self, bus: EventBus, namespace: str):
        self.bus = bus
        self._prefix = f"{namespace}:presence:conversation:"

    async def signal(self, conversation_id: int, user_id: int, name: str, state: str) -> None:
        """`viewing`, `typing`, `stopped_typing`, `left` or `hello`."""
        message = orjson.dumps({"u": user_id, "n": name, "s": state, "t": time.time()}).decode()
        await self.bus.publish(self._prefix + str(conversation_id), message)

    async def watch(self, conversation_id: int, user_id: int, name: str) -> AsyncIterator[list[Viewer]]:
        """Announce `user_id` as viewing for as long as the caller iterates; yields the viewers
        (the caller included) whenever the list changes."""
        seen: dict[int, tuple[str, float]] = {}  # user → (name, last heard)
        typing_until: dict[int, float] = {}
        channel = self._prefix + str(conversation_id)
        async with self.bus.subscribe(channel) as live:
            await self.signal(conversation_id, user_id, name, "hello")
            await self.signal(conversation_id, user_id, name, "viewing")
            beat = asyncio.create_task(self._heartbeat(conversation_id, user_id, name))
            last: list[Viewer] | None = None
            messages = aiter(live)
            try:
                while True:
                    try:
                        raw = await asyncio.wait_for(anext(messages), 1.0)
                    except TimeoutError:
                        raw = None
                    except StopAsyncIteration:
                        return
                    now = time.time()
                    if raw is not None and raw != RESYNC:
                        signal = orjson.loads(raw)
                        who, state = signal["u"], signal["s"]
                        if state == "hello" and who != user_id:
                            await self.signal(conversation_id, user_id, name, "viewing")
                        if state == "left":
                            seen.pop(who, None)
                            typing_until.pop(who, None)
                        elif state in ("viewing", "typing", "stopped_typing", "hello"):
                            seen[who] = (signal["n"], now)
                            if state == "typing":
                                typing_until[who] = now + TYPING_TTL
                            elif state == "stopped_typing":
                                typing_until.pop(who, None)
                    for who in [w for w, (_, heard) in seen.items() if now - heard > EXPIRY]:
                        seen.pop(who)
                    viewers = sorted(
                        (Viewer(w, n, typing_until.get(w, 0) > now) for w, (n, _) in seen.items()),
                        key=lambda v: v.user_id,
                    )
                    if viewers != last:
                        last = viewers
                        yield viewers
            finally:
                beat.cancel()
                with contextlib.suppress(Exception):
                    await self.signal(conversation_id, user_id, name, "left")

    async def _heartbeat(self, conversation_id: int, user_id: int, name: str) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT)
            with contextlib.suppress(Exception):
                await self.signal(conversation_id, user_id, name, "viewing")
