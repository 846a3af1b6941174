"""Many graphql-transport-ws subscribers in one process, cheaply (bench/fanout).

A minimal WebSocket client over asyncio protocols (RFC 6455 framing by hand, no compression, as a
browser without permessage-deflate would be): the `websockets` client spends more CPU per message
than the server under test spends per delivery, and on a 2-core machine the load generator's CPU is
taken from the server. Each message is scanned for the webhook's marker (`fo<i>t<unix time>`) with
a regular expression instead of being parsed as JSON.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import resource
import struct
import time
from array import array
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

MARK = re.compile(rb"fo(\d+)t(\d+\.\d+)")


def _frame(text: str) -> bytes:
    """A masked client text frame."""
    data = text.encode()
    mask = os.urandom(4)
    n = len(data)
    if n < 126:
        head = struct.pack("!BB", 0x81, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x81, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    return head + mask + masked


def _control(opcode: int, payload: bytes = b"") -> bytes:
    mask = os.urandom(4)
    return (
        struct.pack("!BB", 0x80 | opcode, 0x80 | len(payload))
        + mask
        + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    )


@dataclass(frozen=True)
class Subscription:
    """What every subscriber of a run subscribes to, and how many marked events it counts."""

    document: str
    events: int  # the marks 0 … events - 1
    variables: dict[str, Any] = field(default_factory=dict)


class Subscriber(asyncio.Protocol):
    def __init__(
        self,
        index: int,
        token: str,
        subscription: Subscription,
        latencies: array,
        arrivals: dict[int, list[float]] | None = None,
    ) -> None:
        self.index = index
        self.subscription = subscription
        self.arrivals = arrivals  # event index → [first, last] receive time in this process (BENCH_TRACE)
        self.token = token
        self.seen = bytearray(subscription.events)  # 1 where event i arrived
        self.latencies = latencies
        self.buffer = bytearray()
        self.upgraded = False
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.failure: str | None = None  # the first thing that went wrong, if anything did
        self.last = b""  # the start of the last text message (what a silent subscriber last heard)

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        host, port = transport.get_extra_info("peername")[:2]
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            (
                f"GET /graphql HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                "Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
            ).encode()
        )

    def send(self, message: dict[str, Any]) -> None:
        assert self.transport is not None
        self.transport.write(_frame(json.dumps(message)))

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buf[:end]).split(b"\r\n", 1)[0]
            del buf[: end + 4]
            if b" 101 " not in status:
                self._fail(f"handshake refused: {status!r}")
                return
            self.upgraded = True
            self.send({"type": "connection_init", "payload": {"authorization": f"Bearer {self.token}"}})
        while len(buf) >= 2:
            b0, b1 = buf[0], buf[1]
            n = b1 & 0x7F
            at = 2
            if n == 126:
                if len(buf) < 4:
                    return
                n = struct.unpack_from("!H", buf, 2)[0]
                at = 4
            elif n == 127:
                if len(buf) < 10:
                    return
                n = struct.unpack_from("!Q", buf, 2)[0]
                at = 10
            if len(buf) < at + n:
                return
            payload = bytes(buf[at : at + n])
            del buf[: at + n]
            self._message(b0 & 0x0F, payload)

    def _message(self, opcode: int, payload: bytes) -> None:
        if opcode == 0x9:  # ping
            assert self.transport is not None
            self.transport.write(_control(0xA, payload))
            return
        if opcode == 0x8:
            self._fail("closed by the server: " + payload[2:].decode(errors="replace"))
            return
        if opcode != 0x1:
            return
        self.last = payload[:80]
        if b'"next"' in payload:
            now = time.time()
            for match in MARK.finditer(payload):
                i = int(match.group(1))
                if i < len(self.seen) and not self.seen[i]:
                    self.seen[i] = 1
                    self.latencies.append(now - float(match.group(2)))
                    if self.arrivals is not None:
                        seen = self.arrivals.get(i)
                        if seen is None:
                            self.arrivals[i] = [now, now]
                        else:
                            seen[1] = now
                break  # the conversation's last message: one marker per event
            return
        if b'"connection_ack"' in payload:
            self.send(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {
                        "query": self.subscription.document,
                        "variables": self.subscription.variables,
                    },
                }
            )
            if not self.ready.done():
                self.ready.set_result(None)
        elif b'"error"' in payload or b'"complete"' in payload:
            self._fail(payload.decode(errors="replace")[:200])

    def _fail(self, why: str) -> None:
        if not self.ready.done():
            self.ready.set_exception(RuntimeError(why))
        if not self.closed.done():
            self.closed.set_result(None)
        if self.failure is None:
            self.failure = why

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(f"connection lost: {exc!r}")


async def run_clients(
    host: str,
    port: int,
    tokens: list[str],
    subscription: Subscription,
    control: Any,
    results: Any,
) -> None:
    """Open one connection and subscription per token, say `ready`, then wait for `stop` on
    `control` and report (per-subscriber counts, latencies, each failed subscriber's first error
    text and how many had it, CPU seconds)."""
    loop = asyncio.get_running_loop()
    latencies = array("d")
    subs: list[Subscriber] = []
    opening = asyncio.Semaphore(64)
    trace = bool(os.environ.get("BENCH_TRACE"))
    arrivals: dict[int, list[float]] | None = {} if trace else None
    lags = array("d")  # how late a 10 ms timer fired, over 5 ms (this process busy: BENCH_TRACE)

    async def probe() -> None:
        while True:
            planned = loop.time() + 0.01
            await asyncio.sleep(0.01)
            late = loop.time() - planned
            if late >= 0.005:
                lags.append(late)

    unopened: Counter[str] = Counter()  # connections that never got that far, by why

    async def open_one(i: int, token: str) -> None:
        async with opening:
            try:
                _, sub = await loop.create_connection(
                    lambda: Subscriber(i, token, subscription, latencies, arrivals), host, port
                )
            except OSError as exc:
                unopened[f"connect: {exc!r}"[:200]] += 1
                return
            subs.append(sub)
            try:
                await asyncio.wait_for(sub.ready, 60)
            except Exception as exc:  # the reason is the subscriber's failure (or the timeout)
                if sub.failure is None:
                    sub.failure = f"no connection_ack: {exc!r}"[:200]

    await asyncio.gather(*(open_one(i, t) for i, t in enumerate(tokens)))
    await asyncio.sleep(0.5)  # the subscribe messages reach the server
    results.put(("ready", sum(1 for s in subs if s.failure is None)))
    prober = asyncio.create_task(probe()) if trace else None
    while True:
        command = await loop.run_in_executor(None, control.get)
        if command == "stop":
            break
        if command == "report":
            results.put(("counts", [sum(s.seen) for s in subs]))
    if prober is not None:
        prober.cancel()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    results.put(
        (
            "done",
            [sum(s.seen) for s in subs],
            latencies.tobytes(),
            dict(unopened + Counter(s.failure for s in subs if s.failure is not None)),
            usage.ru_utime + usage.ru_stime,
            arrivals or {},
            lags.tobytes(),
            # Subscribers that received no event, by the last message they did receive.
            dict(
                Counter(
                    s.last.decode(errors="replace") for s in subs if not any(s.seen) and s.failure is None
                )
            ),
        )
    )
    for sub in subs:
        if sub.transport is not None:
            sub.transport.close()


def client_process(
    host: str,
    port: int,
    tokens: list[str],
    subscription: Subscription,
    control: Any,
    results: Any,
) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover
        pass
    try:
        asyncio.run(run_clients(host, port, tokens, subscription, control, results))
    except Exception as exc:  # the parent reports it instead of waiting forever
        results.put(("failed", repr(exc)))
