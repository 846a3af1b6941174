"""Jobs inside the API process (embedded mode and tests): a Dramatiq worker on the app's loop.

Production runs `pytake worker` processes instead (jobs/worker.py)."""

from __future__ import annotations

import asyncio
import logging

from dramatiq.asyncio import EventLoopThread, set_event_loop_thread
from dramatiq.worker import Worker

import jobs.actors  # noqa: F401  (declares every actor on the broker this worker consumes)
from core.broker import broker

log = logging.getLogger(__name__)


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
    set_event_loop_thread(_SharedLoop(loop))
    worker = Worker(broker, worker_threads=threads, worker_timeout=100)
    worker.start()
    return worker


def stop_inprocess_worker(worker: Worker) -> None:
    worker.stop(timeout=5000)
    set_event_loop_thread(None)
