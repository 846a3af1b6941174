"""What the processes do while PostgreSQL or Redis is unreachable: answer a named error (503 with
Retry-After over HTTP, SERVICE_UNAVAILABLE in GraphQL) in one log line instead of a 500 and a
traceback, and let long-lived readers (subscriptions) wait and retry rather than end.

`unavailable` decides, in one place, which exceptions mean "PostgreSQL (or Redis) cannot be
reached" as opposed to a bug: a refused or reset connection, a server shutting down or starting
up. Where Redis has a fallback (rate limits, the task outbox) it is used before it comes to this;
what remains (e.g. the single-use nonces of Mailgun and WeChat) is a 503 the platform retries.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
import orjson
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tortoise.exceptions import BaseORMException, DBConnectionError

log = logging.getLogger("pytake.outage")

RETRY_AFTER_SECONDS = 5  # what a platform (or client) is told to wait before trying again
RETRY_FIRST = 0.1
RETRY_MAX = 2.0

_UNREACHABLE = (
    asyncpg.PostgresConnectionError,  # closed in the middle of an operation, cannot connect
    asyncpg.CannotConnectNowError,  # 57P03: starting up, shutting down, in recovery
    asyncpg.OperatorInterventionError,  # 57P01 admin shutdown (stopped in immediate/fast mode)
    asyncpg.InterfaceError,  # "connection is closed" / "pool is closing" from the client side
    asyncpg.TooManyConnectionsError,  # 53300: the server's connection slots are full, for now
    DBConnectionError,
)

T = TypeVar("T")


def unavailable(exc: BaseException) -> str | None:
    """Which server this error says cannot be reached right now ("database", "Redis"), or None
    when it is not an outage (a bug stays a bug)."""
    if isinstance(exc, (RedisConnectionError, RedisTimeoutError)):
        return "Redis"
    return "database" if database_unavailable(exc) else None


def database_unavailable(exc: BaseException) -> bool:
    """Does this error mean PostgreSQL cannot be reached right now (rather than a bug)?"""
    if isinstance(exc, BaseORMException) and exc.__cause__ is not None:
        exc = exc.__cause__  # Tortoise re-raises the driver's error with it as the cause
    if isinstance(exc, _UNREACHABLE):
        return True
    # A refused or reset TCP connection reaches us raw from asyncpg's connect. A TimeoutError is
    # an OSError too, but one from our own wait_for is not evidence of an outage.
    return isinstance(exc, OSError) and not isinstance(exc, TimeoutError)


class Throttled:
    """Log a recurring condition at most once per `every` seconds (an outage hits every request)."""

    def __init__(self, logger: logging.Logger, every: float = 30.0):
        self._log = logger
        self._every = every
        self._last = float("-inf")

    def warning(self, message: str, **extra: object) -> None:
        now = time.monotonic()
        if now - self._last >= self._every:
            self._last = now
            self._log.warning(message, extra=extra)


async def patiently(read: Callable[[], Awaitable[T]], what: str) -> T:
    """Run `read` until the database answers: a live view waits out an outage rather than end.
    Errors that are not an outage (a bug, a refused cursor) go to the caller at once."""
    delay = RETRY_FIRST
    warned = False
    while True:
        try:
            return await read()
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            if not warned:
                log.warning(
                    "database unavailable; waiting to retry", extra={"what": what, "error": repr(exc)}
                )
                warned = True
        await asyncio.sleep(delay)
        delay = min(delay * 2, RETRY_MAX)


_http_outage = Throttled(log, every=5.0)


class _OutageWithoutTraceback(logging.Filter):
    """asyncpg's pool logs a full traceback each time it fails to reconnect its minimum of
    connections, so an outage floods the log: keep one line per 30 s, without the traceback."""

    def __init__(self) -> None:
        super().__init__()
        self._last = float("-inf")

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None or not database_unavailable(exc):
            return True
        now = time.monotonic()
        if now - self._last < 30.0:
            return False
        self._last = now
        record.msg = f"{record.msg} ({exc!r})"
        record.exc_info = None
        record.exc_text = None
        return True


logging.getLogger("asyncpg.pool").addFilter(_OutageWithoutTraceback())


class ServiceUnavailable:
    """Every HTTP route: a request that fails because PostgreSQL or Redis is unreachable is answered 503
    with Retry-After (platforms retry that; a 500 they may not) and one log line, not a traceback."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            down = unavailable(exc)
            if started or down is None:
                raise  # a response already begun cannot be replaced; a bug stays a bug
            _http_outage.warning(f"{down} unavailable: answered 503", path=scope["path"], error=repr(exc))
            await _answer_503(send, down)


async def _answer_503(send: Send, down: str) -> None:
    message = f"{down} is unavailable; retry shortly"
    body = orjson.dumps({"error": {"code": "SERVICE_UNAVAILABLE", "message": message}})
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
