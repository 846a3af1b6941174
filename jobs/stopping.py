"""How a `pytake worker` process stops: in bounded time, and without losing the job it was running.

Dramatiq's worker process treats a second SIGTERM as "kill": it raises SystemExit in the main
thread, wherever the stop has got to, and the interpreter then waits forever on the asyncio
middleware's event-loop thread, which nobody stops any more (it is not a daemon thread). A second
TERM is common, not an operator's impatience: a TERM to the process group (systemd's default stop,
`docker stop` behind some inits, `kill -- -PGID`) reaches each worker process once directly and once
more relayed by Dramatiq's parent. So here every TERM after the first only logs, and the stop has a
deadline of its own:

- jobs in progress get `stop_timeout - CLEANUP_ALLOWANCE` seconds to finish;
- a job still running then is interrupted (its coroutine is cancelled, so it can release what it
  holds, e.g. a send lease) and its message goes straight back on its queue, unchanged, for the
  next worker: not left to Redis' dead-worker recovery, which waits out the heartbeat timeout;
- whatever still runs at `stop_timeout` (a job that ignores the interrupt, a broker that does not
  answer), the process exits anyway, saying so.

A worker killed outright (SIGKILL, OOM) cannot requeue anything: `requeue_orphans` is Dramatiq's
dead-worker recovery made prompt, run when a worker boots and, by chance, often while it runs.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from typing import Any

from dramatiq.brokers.redis import MAINTENANCE_SCALE, RedisBroker
from dramatiq.middleware import Middleware, SkipMessage
from dramatiq.threading import Interrupt, raise_thread_exception

log = logging.getLogger(__name__)

# Time kept, after interrupting jobs, for their cleanup (Dramatiq gives a cancelled coroutine 1 s),
# requeueing, and closing the database, bus and broker connections.
CLEANUP_ALLOWANCE = 3.0
EXIT_CODE_OVERDUE = 1  # Dramatiq's own code for a worker process it had to kill

# Share of broker commands that also run Redis' dead-worker recovery on their queue. Dramatiq's
# default (1 in 1,000) means minutes to hours between sweeps of a given queue on an idle worker;
# 1 in 20 sweeps each queue within about 20 s of polling. A sweep with nobody dead is two range
# reads of small sorted sets.
MAINTENANCE_CHANCE = MAINTENANCE_SCALE // 20


class JobInterrupted(Interrupt, SkipMessage):
    """Raised in a worker thread whose job outlived the stop's grace. As an Interrupt, Dramatiq's
    run_coroutine cancels the job's coroutine and waits for its cleanup; as a SkipMessage, the job
    is not counted as a failure or a retry (BoundedStop has put the message back on its queue)."""


class BoundedStop(Middleware):
    def __init__(self, stop_timeout: float) -> None:
        self.stop_timeout = stop_timeout
        self.grace = max(0.0, stop_timeout - CLEANUP_ALLOWANCE)
        self._lock = threading.Lock()
        self._running: dict[int, Any] = {}  # worker thread id → the message it is processing
        self._interrupted: set[str] = set()  # message ids
        self._worker: Any = None
        self._stopping_since: float | None = None

    # ---- signals ----------------------------------------------------------------------------

    def take_over_signals(self) -> None:
        """Wrap Dramatiq's TERM/HUP handler in this process: the first signal starts its graceful
        stop; the later ones must not reach it (it would exit mid-stop and hang, see above)."""
        for sig in (signal.SIGTERM, signal.SIGHUP):
            dramatiq_handler = signal.getsignal(sig)
            if callable(dramatiq_handler):
                signal.signal(sig, self._signal_handler(dramatiq_handler))

    def _signal_handler(self, dramatiq_handler: Any) -> Any:
        def handle(signum: int, frame: Any) -> None:
            name = signal.Signals(signum).name
            if self._stopping_since is None:
                self._stopping_since = time.monotonic()
                log.info(
                    "worker stopping",
                    extra={"signal": name, "grace_s": self.grace, "stop_timeout_s": self.stop_timeout},
                )
                dramatiq_handler(signum, frame)
                return
            left = self.stop_timeout - (time.monotonic() - self._stopping_since)
            log.warning(
                "worker already stopping; it exits within the stop timeout",
                extra={"signal": name, "exits_within_s": round(max(left, 0.0), 1)},
            )

        return handle

    # ---- which thread runs which job --------------------------------------------------------

    def before_worker_boot(self, broker: Any, worker: Any) -> None:
        self._worker = worker

    def before_process_message(self, broker: Any, message: Any) -> None:
        with self._lock:
            self._running[threading.get_ident()] = message

    def after_process_message(self, broker: Any, message: Any, *, result=None, exception=None) -> None:  # type: ignore[no-untyped-def]
        with self._lock:
            self._running.pop(threading.get_ident(), None)

    def after_skip_message(self, broker: Any, message: Any) -> None:
        with self._lock:
            self._running.pop(threading.get_ident(), None)
            interrupted = message.message_id in self._interrupted
        if interrupted:
            # Before Dramatiq acks it: the requeue takes the message out of this worker's unacked
            # set and back onto its queue, so the ack that follows finds nothing to delete.
            self._worker.consumers[message.queue_name].requeue_messages([message])
            log.warning(
                "job interrupted by the stop, requeued",
                extra={"actor": message.actor_name, "message_id": message.message_id},
            )

    # ---- the deadline -----------------------------------------------------------------------

    def before_worker_shutdown(self, broker: Any, worker: Any) -> None:
        if self._stopping_since is None:  # stopped without a signal (e.g. the parent died)
            self._stopping_since = time.monotonic()
        threading.Thread(target=self._enforce_deadline, name="stop-deadline", daemon=True).start()

    def after_worker_shutdown(self, broker: Any, worker: Any) -> None:
        log.info(
            "worker stopped",
            extra={"seconds": round(time.monotonic() - (self._stopping_since or time.monotonic()), 2)},
        )

    def _enforce_deadline(self) -> None:
        started = self._stopping_since or time.monotonic()
        time.sleep(max(0.0, started + self.grace - time.monotonic()))
        with self._lock:
            overdue = dict(self._running)
            self._interrupted.update(m.message_id for m in overdue.values())
        for thread_id, message in overdue.items():
            log.warning(
                "job still running at the end of the stop's grace; interrupting it",
                extra={"actor": message.actor_name, "message_id": message.message_id, "grace_s": self.grace},
            )
            raise_thread_exception(thread_id, JobInterrupted)
        time.sleep(max(0.0, started + self.stop_timeout - time.monotonic()))
        # Daemon thread: reaching this line means the process outlived its stop timeout. Unacked
        # messages left behind come back through requeue_orphans once the heartbeat times out.
        log.error(
            "worker did not stop within its stop timeout; exiting now",
            extra={"stop_timeout_s": self.stop_timeout},
        )
        logging.shutdown()
        os._exit(EXIT_CODE_OVERDUE)


def requeue_orphans(broker: Any) -> None:
    """Put back on their queues the messages held by workers that stopped heartbeating (killed
    outright): Dramatiq's maintenance pass, forced once on every queue this worker consumes."""
    if not isinstance(broker, RedisBroker):
        return
    queues = broker.get_declared_queues() | broker.get_declared_delay_queues()
    usual = max(broker.maintenance_chance, MAINTENANCE_CHANCE)
    broker.maintenance_chance = MAINTENANCE_SCALE  # each call below runs the maintenance pass
    try:
        for queue in sorted(queues):
            broker.do_qsize(queue)  # the cheapest command; its maintenance pass is the point
    finally:
        broker.maintenance_chance = usual
