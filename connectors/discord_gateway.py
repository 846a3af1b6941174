"""A Discord Gateway client: the WebSocket over which Discord delivers users' messages to a bot.

Pure protocol (https://discord.com/developers/docs/events/gateway): HELLO → heartbeats → IDENTIFY
or RESUME → dispatches. It knows nothing of the database: every dispatch goes to `on_dispatch`,
and the session (id, last sequence, resume URL) to `on_session`, so a runner can persist it and a
restarted process can resume where this one stopped.

Delivery is at least once: the sequence number only advances once `on_dispatch` has returned, so
when it raises (the database is down) the connection is dropped and the resumed session replays
that event. Consumers dedupe on the message id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import sys
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

log = logging.getLogger(__name__)

API_VERSION = "10"
# Opcodes.
DISPATCH, HEARTBEAT, IDENTIFY, RESUME, RECONNECT, INVALID_SESSION, HELLO, HEARTBEAT_ACK = (
    0,
    1,
    2,
    6,
    7,
    9,
    10,
    11,
)

# Close codes after which reconnecting cannot help: the settings must change first.
FATAL_CLOSE_CODES: dict[int, str] = {
    4004: "Discord refused the bot token (authentication failed); paste the current token into the channel settings.",
    4010: "Discord refused the shard settings (invalid shard).",
    4011: "The bot is in too many servers to connect without sharding.",
    4012: "Discord refused the gateway API version.",
    4013: "Discord refused the gateway intents as invalid; check the channel's intents.",
    4014: "The bot is not allowed the intents it asked for: enable the Message Content intent (and any other privileged intent) in the Discord Developer Portal.",
}
# The session is gone (bad sequence, timed out): identify afresh rather than resume.
_SESSION_LOST_CODES = frozenset({4007, 4009})
# Closing with 1000/1001 ends the session on Discord's side; any other code keeps it resumable.
RESUMABLE_CLOSE = 4000

OnDispatch = Callable[[str, dict[str, Any], int | None], Awaitable[None]]
OnSession = Callable[[str | None, int | None, str | None], Awaitable[None]]


class GatewayFatal(Exception):
    """Discord closed with a code that no retry can fix (bad token, disallowed intents)."""

    def __init__(self, code: int, reason: str):
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


class _Reconnect(Exception):
    """Drop this connection and connect again (resume when `resume`, else identify)."""

    def __init__(self, why: str, *, resume: bool = True, delay: float | None = None, healthy: bool = False):
        super().__init__(why)
        self.resume = resume
        self.delay = delay
        self.healthy = healthy


def gateway_url_with_query(url: str) -> str:
    """`url` with ?v=10&encoding=json (resume URLs from READY come without them)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(v=API_VERSION, encoding="json")
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", urlencode(query), ""))


class GatewayClient:
    def __init__(
        self,
        token: str,
        intents: int,
        *,
        on_dispatch: OnDispatch,
        on_session: OnSession | None = None,
        url: str = "wss://gateway.discord.gg",
        session_id: str | None = None,
        seq: int | None = None,
        resume_url: str | None = None,
        reconnect_delay: tuple[float, float] = (1.0, 60.0),
        invalid_session_delay: tuple[float, float] = (1.0, 5.0),
        open_timeout: float = 10.0,
        name: str = "discord",
    ):
        self.token = token
        self.intents = intents
        self.url = url
        self.on_dispatch = on_dispatch
        self.on_session = on_session
        self.session_id = session_id
        self.seq = seq
        self.resume_url = resume_url
        self.reconnect_delay = reconnect_delay
        self.invalid_session_delay = invalid_session_delay
        self.open_timeout = open_timeout
        self.name = name
        self.connections = 0  # connections opened, for tests and logs
        self.ready = asyncio.Event()  # set once a session is live (READY or RESUMED)
        self._acked = True
        self._closing: str | None = None  # why we closed the connection ourselves

    @property
    def can_resume(self) -> bool:
        return bool(self.session_id) and self.seq is not None

    # ---- the connection loop ---------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Stay connected until `stop` is set. Raises GatewayFatal when Discord refuses for good."""
        failures = 0
        while not stop.is_set():
            delay: float
            try:
                await self._connect_once(stop)
                return  # only returns once `stop` is set
            except _Reconnect as again:
                if not again.resume:
                    await self._forget_session()
                failures = 0 if again.healthy else failures + 1
                low, high = self.reconnect_delay
                if failures:  # exponential backoff while connections keep failing
                    backoff = min(high, low * 2 ** (failures - 1)) * random.uniform(0.5, 1.0)
                else:  # after a working session: soon, with jitter so many bots do not stampede
                    backoff = random.uniform(0, low)
                delay = again.delay if again.delay is not None else backoff
                log.info(
                    "discord gateway reconnecting",
                    extra={
                        "gateway": self.name,
                        "why": str(again),
                        "resume": self.can_resume,
                        "delay": delay,
                    },
                )
            self.ready.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)

    async def _connect_once(self, stop: asyncio.Event) -> None:
        resuming = self.can_resume
        url = gateway_url_with_query((self.resume_url if resuming and self.resume_url else None) or self.url)
        try:
            ws = await connect(
                url,
                open_timeout=self.open_timeout,
                ping_interval=None,  # Discord's own heartbeat does this job
                close_timeout=5,
                max_size=2**25,  # READY and GUILD_CREATE can be large
                compression=None,
            )
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            raise _Reconnect(f"connect failed: {exc!r}") from exc
        self.connections += 1
        self._closing = None
        watcher = asyncio.create_task(self._close_on(stop, ws))
        heartbeat: asyncio.Task[None] | None = None
        try:
            hello = await self._recv(ws, timeout=self.open_timeout)
            if hello.get("op") != HELLO or not isinstance(hello.get("d"), dict):
                raise _Reconnect(f"expected HELLO, got op {hello.get('op')!r}")
            interval = float(hello["d"].get("heartbeat_interval", 41250)) / 1000
            self._acked = True
            heartbeat = asyncio.create_task(self._heartbeat(ws, interval))
            if resuming:
                await self._send(
                    ws, RESUME, {"token": self.token, "session_id": self.session_id, "seq": self.seq}
                )
            else:
                await self._send(ws, IDENTIFY, self._identify())
            while True:
                await self._handle(ws, await self._recv(ws, timeout=None))
        except ConnectionClosed as exc:
            if stop.is_set():
                return
            raise self._after_close(exc) from None
        finally:
            watcher.cancel()
            if heartbeat is not None:
                heartbeat.cancel()
            with contextlib.suppress(Exception):
                await ws.close(RESUMABLE_CLOSE, self._closing or "reconnecting")

    def _after_close(self, exc: ConnectionClosed) -> _Reconnect | GatewayFatal:
        healthy = self.ready.is_set()
        if self._closing is not None:  # we closed it: the reason decides, not the echoed code
            return _Reconnect(self._closing, healthy=healthy)
        code = exc.rcvd.code if exc.rcvd is not None else None
        reason = exc.rcvd.reason if exc.rcvd is not None else ""
        if code in FATAL_CLOSE_CODES:
            log.error("discord gateway refused", extra={"gateway": self.name, "code": code, "reason": reason})
            return GatewayFatal(code, FATAL_CLOSE_CODES[code])
        if code in _SESSION_LOST_CODES:
            return _Reconnect(f"session lost (close {code} {reason})", resume=False, healthy=healthy)
        return _Reconnect(f"connection closed ({code} {reason})".strip(), healthy=healthy)

    async def _close_on(self, stop: asyncio.Event, ws: ClientConnection) -> None:
        await stop.wait()
        self._closing = "stopping"
        # Not 1000: the session stays resumable, for whichever process holds the channel next.
        await ws.close(RESUMABLE_CLOSE, "stopping")

    # ---- one connection ---------------------------------------------------------------------------

    async def _handle(self, ws: ClientConnection, frame: dict[str, Any]) -> None:
        op = frame.get("op")
        if op == DISPATCH:
            await self._dispatch(ws, frame)
        elif op == HEARTBEAT:  # Discord asks for one now
            await self._send(ws, HEARTBEAT, self.seq)
        elif op == HEARTBEAT_ACK:
            self._acked = True
        elif op == RECONNECT:
            raise _Reconnect("Discord asked to reconnect (op 7)", healthy=True)
        elif op == INVALID_SESSION:
            if frame.get("d") is True:
                raise _Reconnect("session invalidated, resumable (op 9)", healthy=True)
            low, high = self.invalid_session_delay
            # Identify again after a random 1-5 s, as Discord asks (so that identifies spread out).
            raise _Reconnect(
                "session invalidated (op 9)", resume=False, delay=random.uniform(low, high), healthy=True
            )

    async def _dispatch(self, ws: ClientConnection, frame: dict[str, Any]) -> None:
        event, data, seq = frame.get("t"), frame.get("d"), frame.get("s")
        seq = seq if isinstance(seq, int) and not isinstance(seq, bool) else None
        if not isinstance(event, str):
            return
        data = data if isinstance(data, dict) else {}
        if event == "READY":
            self.session_id = data.get("session_id") if isinstance(data.get("session_id"), str) else None
            resume_url = data.get("resume_gateway_url")
            self.resume_url = resume_url if isinstance(resume_url, str) and resume_url else None
            log.info("discord gateway ready", extra={"gateway": self.name, "session_id": self.session_id})
        try:
            await self.on_dispatch(event, data, seq)
        except Exception as exc:
            # Not acknowledged: the sequence stays put, so the resumed session delivers it again.
            log.exception("discord dispatch failed; resuming to get it again", extra={"gateway": self.name})
            raise _Reconnect(f"handling {event} failed: {exc!r}") from exc
        if seq is not None:
            self.seq = seq
        if event in ("READY", "RESUMED"):
            self.ready.set()
        await self._report_session()

    def _identify(self) -> dict[str, Any]:
        return {
            "token": self.token,
            "intents": self.intents,
            "properties": {"os": sys.platform, "browser": "pytake", "device": "pytake"},
        }

    async def _heartbeat(self, ws: ClientConnection, interval: float) -> None:
        # The first beat comes after a random part of the interval, so that many clients
        # reconnecting together do not beat in step.
        await asyncio.sleep(interval * random.random())
        while True:
            if not self._acked:
                log.warning("discord heartbeat not acknowledged; reconnecting", extra={"gateway": self.name})
                self._closing = "heartbeat not acknowledged"
                await ws.close(RESUMABLE_CLOSE, self._closing)
                return
            self._acked = False
            try:
                await self._send(ws, HEARTBEAT, self.seq)
            except ConnectionClosed:
                return  # the receiving side sees the close and reconnects
            await asyncio.sleep(interval)

    async def _forget_session(self) -> None:
        self.session_id = self.seq = self.resume_url = None
        await self._report_session()

    async def _report_session(self) -> None:
        if self.on_session is not None:
            await self.on_session(self.session_id, self.seq, self.resume_url)

    @staticmethod
    async def _send(ws: ClientConnection, op: int, data: Any) -> None:
        await ws.send(json.dumps({"op": op, "d": data}))

    @staticmethod
    async def _recv(ws: ClientConnection, timeout: float | None) -> dict[str, Any]:
        try:
            raw = await asyncio.wait_for(ws.recv(), timeout)
        except TimeoutError:
            raise _Reconnect("Discord sent nothing in time") from None
        try:
            frame = json.loads(raw)
        except ValueError:
            raise _Reconnect("Discord sent something that is not JSON") from None
        if not isinstance(frame, dict):
            raise _Reconnect("Discord sent a frame that is not an object")
        return frame
