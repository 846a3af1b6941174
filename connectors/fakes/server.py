"""What every fake platform API shares: serving its ASGI app on a loopback port, one outgoing HTTP
client for the webhooks it posts, and the background posts (delayed statuses) a test can wait for.

The demo's fake WhatsApp (`make run`) builds on it, so it ships with the product; the tests' fakes
(tests/fakes/) build on it too, and the product never imports them.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import deque
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx
import uvicorn
from starlette.responses import JSONResponse


@contextlib.asynccontextmanager
async def serve_app(app: Any, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Run an ASGI app under uvicorn in this event loop; yields its base URL."""
    # proto=IPPROTO_TCP: asyncio only sets TCP_NODELAY on accepted sockets when it is explicit.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))  # bound here, so port=0 needs no guess-a-free-port race
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False, ws="none")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()  # surfaces the startup error
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.01)
        yield f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(task, 10)
        finally:
            sock.close()


@dataclass
class Failure:
    """One queued answer in the platform's own error shape, given instead of the real work."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str]


class FakeServer:
    """A fake platform API: subclasses build `self.app` (a Starlette app) after `super().__init__()`
    and say how the platform's own webhook client looks (timeout, User-Agent)."""

    app: Any
    client_timeout: ClassVar[float] = 10
    client_headers: ClassVar[dict[str, str]] = {}

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None
        self._failures: deque[Failure] = deque()

    def queue_failures(
        self, status: int, body: dict[str, Any], times: int = 1, headers: dict[str, str] | None = None
    ) -> None:
        """The next `times` calls of the failing endpoint answer `status` with `body`, in order."""
        for _ in range(times):
            self._failures.append(Failure(status, body, dict(headers or {})))

    def next_failure(self) -> JSONResponse | None:
        """The queued failure to answer with now, if any (the endpoint then does nothing else)."""
        if not self._failures:
            return None
        failure = self._failures.popleft()
        return JSONResponse(failure.body, status_code=failure.status, headers=failure.headers)

    @contextlib.asynccontextmanager
    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
        """Serve the fake over real HTTP on loopback; yields its base URL (the channel's api_base)."""
        try:
            async with serve_app(self.app, host, port) as base_url:
                yield base_url
        finally:
            await self.aclose()

    async def wait_idle(self, timeout: float = 10) -> None:
        """Wait until every background post (statuses after a send) has finished."""
        if self._tasks:
            await asyncio.wait_for(asyncio.gather(*list(self._tasks), return_exceptions=True), timeout)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _http(self) -> httpx.AsyncClient:
        """The client the platform posts its webhooks with, made on first use."""
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.client_timeout, headers=self.client_headers)
        return self._client

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)  # keeps a reference: the loop holds tasks only weakly
        task.add_done_callback(self._tasks.discard)
