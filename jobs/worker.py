"""Entry module for worker processes: `pytake worker` runs `dramatiq jobs.worker`.

Each worker process gets its own event loop thread (Dramatiq's AsyncIO middleware) and, on that
loop, its own ORM pool, bus connection and event log: asyncpg pools belong to the loop that made
them (STACK-NOTES section 4). How the process stops (bounded, requeueing the job it was running)
is jobs/stopping.py. Each process also runs the stale-send sweep (one process at a time across
the deployment, jobs/outbound.py) and counts its jobs for Prometheus (`pytake worker` serves them,
core/worker_supervisor.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from dramatiq import Retry
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.middleware import AsyncIO, Middleware

from core import db, http, metrics
from core.broker import broker
from core.bus import EventBus
from core.events import EventLog
from core.logging import configure
from core.outage import Throttled
from core.settings import get_settings
from jobs.stopping import BoundedStop, requeue_orphans

log = logging.getLogger(__name__)
_sweep_failed = Throttled(log, every=30.0)


class PyTakeRuntime(Middleware):
    def __init__(self) -> None:
        self.bus: EventBus | None = None
        self.events: EventLog | None = None
        self.sweeper: asyncio.Task[None] | None = None
        self.modules: asyncio.Task[None] | None = None

    async def _start(self) -> None:
        settings = get_settings()
        await db.init_orm(await db.resolve_database_url(settings))
        self.bus = EventBus(settings.bus_url)
        await self.bus.connect()
        self.events = EventLog(self.bus, settings.namespace)
        await self.events.start()
        self.sweeper = asyncio.create_task(_sweep_forever(settings.send_sweep_interval))
        # Enabled modules' connectors and node types reach this process's registry within 5 s.
        from resolvers.modules import keep_in_step  # with the actors' imports, not before the broker

        self.modules = asyncio.create_task(keep_in_step())

    async def _stop(self) -> None:
        for task in (self.sweeper, self.modules):
            if task:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
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


async def _sweep_forever(interval: float) -> None:
    """Take back sends whose attempt died or whose job was lost, every `interval` seconds: seconds
    after a worker is killed rather than the minute Redis' dead-worker recovery may take."""
    from jobs.outbound import sweep_stale_sends, take_sweep_turn  # declared with the other actors

    while True:
        await asyncio.sleep(interval)
        try:
            if take_sweep_turn(interval):
                await sweep_stale_sends()
        except Exception as exc:  # Redis or PostgreSQL away: the next turn tries again
            _sweep_failed.warning("stale-send sweep failed", error=repr(exc))


class JobMetrics(Middleware):
    """Every job's outcome and duration, by actor (counted in this process, served summed)."""

    def __init__(self) -> None:
        self._started: dict[str, float] = {}

    def before_process_message(self, broker: Any, message: Any) -> None:
        self._started[message.message_id] = time.perf_counter()

    def after_process_message(
        self, broker: Any, message: Any, *, result: Any = None, exception: Any = None
    ) -> None:
        started = self._started.pop(message.message_id, None)
        if started is not None:
            metrics.WORKER_JOB_SECONDS.labels(message.actor_name).observe(time.perf_counter() - started)
        outcome = "ok" if exception is None else ("retry" if isinstance(exception, Retry) else "error")
        metrics.WORKER_JOBS.labels(message.actor_name, outcome).inc()

    def after_skip_message(self, broker: Any, message: Any) -> None:
        self._started.pop(message.message_id, None)
        metrics.WORKER_JOBS.labels(message.actor_name, "skipped").inc()


configure(get_settings().log_level)
stop = BoundedStop(get_settings().worker_stop_timeout)
stop.take_over_signals()  # imported by Dramatiq's worker process, in its main thread
broker.add_middleware(AsyncIO())
broker.add_middleware(PyTakeRuntime())
broker.add_middleware(stop)
broker.add_middleware(JobMetrics())

import jobs.actors  # noqa: E402, F401  (after the broker is set up: declares the actors)
