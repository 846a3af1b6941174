"""Entry module for worker processes: `pytake worker` runs `dramatiq jobs.worker`.

Each worker process gets its own event loop thread (Dramatiq's AsyncIO middleware) and, on that
loop, its own ORM pool, bus connection and event log: asyncpg pools belong to the loop that made
them (STACK-NOTES section 4). How the process stops (bounded, requeueing the job it was running)
is jobs/stopping.py.
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
from jobs.stopping import BoundedStop, requeue_orphans

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
        requeue_orphans(broker)  # a worker killed outright before this one started left them
        log.info("worker ready")

    def after_worker_shutdown(self, broker, worker) -> None:  # type: ignore[no-untyped-def]
        # After the jobs have finished or been interrupted, not before (before_worker_shutdown):
        # a job finishing during the stop's grace still needs its database and bus. After-hooks
        # run in reverse order, so this runs before AsyncIO's stops the loop.
        loop_thread = get_event_loop_thread()
        if loop_thread is not None:
            loop_thread.run_coroutine(self._stop())


configure(get_settings().log_level)
stop = BoundedStop(get_settings().worker_stop_timeout)
stop.take_over_signals()  # imported by Dramatiq's worker process, in its main thread
broker.add_middleware(AsyncIO())
broker.add_middleware(PyTakeRuntime())
broker.add_middleware(stop)

import jobs.actors  # noqa: E402, F401  (after the broker is set up: declares the actors)
