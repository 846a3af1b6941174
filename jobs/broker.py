"""The Dramatiq broker: Redis in production, in-memory (StubBroker) in embedded mode.

Set at import, before any actor module is imported, because `@dramatiq.actor` binds to the
global broker when the module loads. Workers: `pytake worker` (processes, production) or
`start_inprocess_worker` (embedded mode and tests).
"""

from __future__ import annotations

import asyncio
import logging

import dramatiq
from dramatiq.asyncio import EventLoopThread, set_event_loop_thread
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.worker import Worker

from core.settings import get_settings

log = logging.getLogger(__name__)


def _build() -> dramatiq.Broker:
    settings = get_settings()
    if settings.redis_url:
        # The namespace keeps separate deployments (and test runs) on one Redis apart.
        return RedisBroker(url=settings.redis_url, namespace=settings.namespace)
    return StubBroker()


broker = _build()
dramatiq.set_broker(broker)


class _SharedLoop(EventLoopThread):
    """Runs async actors on an existing loop (the app's) instead of a private one: embedded mode
    then shares one Tortoise connection pool between the API and the jobs (asyncpg pools are bound
    to the loop that made them)."""

    def __init__(self, loop: asyncio.AbstractEventLoop):  # no thread of its own to start
        self.loop = loop
        self.logger = log
        self.interrupt_check_ival = 0.1

    def stop(self) -> None:
        pass


def start_inprocess_worker(loop: asyncio.AbstractEventLoop, threads: int = 8) -> Worker:
    import jobs.actors  # noqa: F401  (declares the actors on this broker)

    set_event_loop_thread(_SharedLoop(loop))
    worker = Worker(broker, worker_threads=threads, worker_timeout=100)
    worker.start()
    return worker


def stop_inprocess_worker(worker: Worker) -> None:
    worker.stop(timeout=5000)
    set_event_loop_thread(None)
