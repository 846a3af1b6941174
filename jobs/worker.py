"""Entry module for worker processes: `pytake worker` runs `dramatiq jobs.worker`.

Each worker process gets its own event loop thread (Dramatiq's AsyncIO middleware) and, on that
loop, its own ORM pool, bus connection and event log: asyncpg pools belong to the loop that made
them (STACK-NOTES section 4).
"""

from __future__ import annotations

import logging

from dramatiq.asyncio import get_event_loop_thread
from dramatiq.middleware import AsyncIO, Middleware

from core import db, http
from core.broker import broker
from core.bus import EventBus
from core.events import EventLog
from core.logging import configure
from core.settings import get_settings

log = logging.getLogger(__name__)


class PyTakeRuntime(Middleware):
    def __init__(self) -> None:
        self.bus: EventBus | None = None
        self.events: EventLog | None = None

    async def _start(self) -> None:
        settings = get_settings()
        await db.init_orm(await db.resolve_database_url(settings))
        self.bus = EventBus(settings.bus_url)
        await self.bus.connect()
        self.events = EventLog(self.bus, settings.namespace)
        await self.events.start()

    async def _stop(self) -> None:
        if self.events:
            await self.events.stop()
        if self.bus:
            await self.bus.disconnect()
        await http.close()
        await db.close_orm()

    def before_worker_boot(self, broker, worker) -> None:  # type: ignore[no-untyped-def]
        loop_thread = get_event_loop_thread()
        assert loop_thread is not None, "AsyncIO middleware must run before PyTakeRuntime"
        loop_thread.run_coroutine(self._start())
        log.info("worker ready")

    def before_worker_shutdown(self, broker, worker) -> None:  # type: ignore[no-untyped-def]
        loop_thread = get_event_loop_thread()
        if loop_thread is not None:
            loop_thread.run_coroutine(self._stop())


configure(get_settings().log_level)
broker.add_middleware(AsyncIO())
broker.add_middleware(PyTakeRuntime())

import jobs.actors  # noqa: E402, F401  (after the broker is set up: declares the actors)
