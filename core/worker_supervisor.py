"""`pytake worker`: Dramatiq worker processes that are replaced when one dies, and their /metrics.

Dramatiq's parent process stops everything when one of its worker processes exits unexpectedly
(SIGKILL, the OOM killer), so a single death used to take the whole `pytake worker` down until
something outside restarted it. Here each worker process runs in a slot of its own (a Dramatiq
parent with `--processes 1`), and a slot whose process tree ends without being told to is started
again: at once the first time, then backing off (RESTART_MIN doubling to RESTART_MAX) while it keeps
dying young, so a broken configuration does not spin.

A slot whose processes hold more than `max_rss` bytes (WORKER_MAX_RSS_MB) is renewed: a
replacement starts at once and the old process gets TERM, finishing or requeueing its jobs as on
any stop. Worker processes run on jemalloc where it is installed (WORKER_ALLOCATOR,
core/memory.allocator_env), which gives freed heap back; this is the guard for memory a worker
cannot give back, so a pod's limit is never reached by slow growth.

TERM or INT stops every slot the way jobs/stopping.py describes (bounded by the stop timeout), and
this process exits when they have; slots still alive STOP_MARGIN seconds after their own deadline
are killed. The slots stay in this process group, so a process manager's group signal reaches them.

Metrics: every worker process writes its counters to files in a private folder (prometheus_client's
multiprocess mode, PROMETHEUS_MULTIPROC_DIR), and this process serves their sum on
WORKER_METRICS_PORT at /metrics, with the length of every queue read from Redis at scrape time.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core import memory

log = logging.getLogger("pytake.worker")

RESTART_MIN = 0.5
RESTART_MAX = 30.0
LIVED_LONG = 30.0  # a slot that ran this long before dying restarts without backoff
STOP_MARGIN = 5.0
POLL = 0.1
RSS_CHECK_EVERY = 5.0  # seconds between two reads of the slots' memory
RSS_GRACE = LIVED_LONG  # a process this young is not renewed: a limit below its start must not spin


@dataclass
class Slot:
    number: int
    command: list[str]
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    backoff: float = RESTART_MIN
    restart_at: float | None = field(default=None)
    restarts: int = 0

    def start(self) -> None:
        self.proc = subprocess.Popen(self.command, env=self.env)
        self.started_at = time.monotonic()
        self.restart_at = None
        log.info("worker slot started", extra={"slot": self.number, "pid": self.proc.pid})


class Supervisor:
    def __init__(
        self,
        processes: int,
        threads: int,
        stop_timeout: float,
        metrics_port: int,
        max_rss_mb: int = 0,
        allocator: str = "jemalloc",
    ) -> None:
        self.stop_timeout = stop_timeout
        self.metrics_port = metrics_port
        self.max_rss = max_rss_mb * 1024 * 1024  # 0: no limit
        self.retiring: list[tuple[subprocess.Popen[bytes], float]] = []  # renewed, stopping; deadline
        self.renewed = 0
        self._next_rss_check = 0.0
        self.metrics_dir = Path(tempfile.mkdtemp(prefix="pytake-worker-metrics-"))
        env = {
            "OTEL_SERVICE_NAME": "pytake-worker",  # names this process type's spans, unless set
            **os.environ,
            # jemalloc when installed, else glibc with two arenas: what keeps a worker's heap from
            # creeping up under the roll-ups' large transient reads (core/memory.allocator_env).
            **memory.allocator_env(allocator, dict(os.environ)),
            "WORKER_STOP_TIMEOUT": str(stop_timeout),  # what jobs/stopping.py enforces
            "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir),
        }
        command = [
            sys.executable,
            "-m",
            "dramatiq",
            "jobs.worker",
            "--processes",
            "1",
            "--threads",
            str(threads),
            # Dramatiq's own wait for jobs (10 minutes by default) must not outlast ours.
            "--worker-shutdown-timeout",
            str(int(stop_timeout * 1000)),
        ]
        self.slots = [Slot(n, command, env) for n in range(processes)]
        self.stopping_since: float | None = None

    # ---- running ------------------------------------------------------------------------------

    def run(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_stop_signal)
        try:
            if self.metrics_port:
                serve_metrics(self.metrics_port, self.metrics_dir, SlotMemory(self))
            for slot in self.slots:
                slot.start()
            while self.stopping_since is None:
                self._tend()
                time.sleep(POLL)
            return self._wait_for_stop()
        finally:
            shutil.rmtree(self.metrics_dir, ignore_errors=True)

    def _tend(self) -> None:
        now = time.monotonic()
        for slot in self.slots:
            if slot.proc is not None and slot.proc.poll() is not None:
                lived = now - slot.started_at
                slot.backoff = RESTART_MIN if lived >= LIVED_LONG else min(slot.backoff * 2, RESTART_MAX)
                delay = 0.0 if lived >= LIVED_LONG or slot.restarts == 0 else slot.backoff
                log.error(
                    "worker process died; replacing it",
                    extra={"slot": slot.number, "exit_code": slot.proc.returncode, "restart_in": delay},
                )
                slot.proc = None
                slot.restart_at = now + delay
            if slot.proc is None and slot.restart_at is not None and now >= slot.restart_at:
                slot.restarts += 1
                slot.start()
        self._guard_memory(now)
        self._reap_retiring(now)

    def slot_rss(self, slot: Slot) -> int:
        """Bytes resident in the slot's process tree (the Dramatiq parent and its worker)."""
        if slot.proc is None:
            return 0
        return sum(memory.rss_bytes(pid) or 0 for pid in [slot.proc.pid, *_descendants(slot.proc.pid)])

    def _guard_memory(self, now: float) -> None:
        if not self.max_rss or now < self._next_rss_check:
            return
        self._next_rss_check = now + RSS_CHECK_EVERY
        for slot in self.slots:
            if slot.proc is None or slot.proc.poll() is not None or now - slot.started_at < RSS_GRACE:
                continue
            rss = self.slot_rss(slot)
            if rss <= self.max_rss:
                continue
            log.warning(
                "worker process over its memory limit; renewing it",
                extra={
                    "slot": slot.number,
                    "pid": slot.proc.pid,
                    "rss_mb": rss // 2**20,
                    "limit_mb": self.max_rss // 2**20,
                },
            )
            old = slot.proc
            old.send_signal(signal.SIGTERM)  # finishes or requeues its jobs (jobs/stopping.py)
            self.retiring.append((old, now + self.stop_timeout + STOP_MARGIN))
            self.renewed += 1
            slot.start()  # takes jobs while the old process finishes its own

    def _reap_retiring(self, now: float) -> None:
        alive = []
        for proc, deadline in self.retiring:
            if proc.poll() is not None:
                continue
            if now >= deadline:
                log.error("renewed worker process outlived its stop; killing it", extra={"pid": proc.pid})
                _kill_tree(proc)
                continue
            alive.append((proc, deadline))
        self.retiring = alive

    def _on_stop_signal(self, signum: int, frame: Any) -> None:
        if self.stopping_since is not None:
            return  # a group signal reaches the slots directly; relaying it again adds nothing
        self.stopping_since = time.monotonic()
        log.info("worker stopping", extra={"signal": signal.Signals(signum).name})
        for slot in self.slots:
            if slot.proc is not None and slot.proc.poll() is None:
                slot.proc.send_signal(signal.SIGTERM)

    def _wait_for_stop(self) -> int:
        assert self.stopping_since is not None
        deadline = self.stopping_since + self.stop_timeout + STOP_MARGIN
        running = [s.proc for s in self.slots if s.proc is not None] + [p for p, _ in self.retiring]
        while any(p.poll() is None for p in running) and time.monotonic() < deadline:
            time.sleep(POLL)
        codes = []
        for proc in running:
            if proc.poll() is None:
                log.error("worker slot outlived its stop; killing it", extra={"pid": proc.pid})
                _kill_tree(proc)
            codes.append(proc.returncode)
        # Dramatiq's codes as they are; a slot ended by a signal (a negative code) counts as 1.
        return next((code if code > 0 else 1 for code in codes if code != 0), 0)


def _descendants(pid: int) -> Iterator[int]:
    """Every process below `pid` (Linux /proc), children first."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    todo = list(parents.get(pid, []))
    while todo:
        child = todo.pop()
        yield child
        todo.extend(parents.get(child, []))


def _kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL `proc` and every process below it, children first, and reap it."""
    for pid in [*_descendants(proc.pid), proc.pid]:
        _kill(pid)
    proc.wait()


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class SlotMemory:
    """Each slot's resident memory and how many processes were renewed for passing the limit."""

    def __init__(self, supervisor: Supervisor) -> None:
        self.supervisor = supervisor

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        rss = GaugeMetricFamily(
            "pytake_worker_rss_bytes", "Resident memory of each worker slot's processes", labels=["slot"]
        )
        for slot in self.supervisor.slots:
            rss.add_metric([str(slot.number)], self.supervisor.slot_rss(slot))
        yield rss
        yield CounterMetricFamily(
            "pytake_worker_renewed",
            "Worker processes replaced for holding more than WORKER_MAX_RSS_MB",
            value=self.supervisor.renewed,
        )


def serve_metrics(port: int, metrics_dir: Path, *collectors: Any) -> None:
    """/metrics on `port` in a background thread: every worker process's metrics summed, the
    queues' lengths, and `collectors`."""
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(metrics_dir))
    registry.register(QueueLengths())
    for collector in collectors:
        registry.register(collector)
    try:
        start_http_server(port, registry=registry)
    except OSError as exc:  # the port is taken: the workers matter more than their metrics
        log.error("worker metrics not served", extra={"port": port, "error": repr(exc)})
        return
    log.info("worker metrics served", extra={"port": port})


class QueueLengths:
    """Jobs per queue and state (ready, delayed, dead), read from the broker's Redis keys."""

    def collect(self) -> Iterator[Any]:
        import redis
        from prometheus_client.core import GaugeMetricFamily

        from core import tasks
        from core.settings import get_settings

        settings = get_settings()
        family = GaugeMetricFamily(
            "pytake_queue_jobs", "Jobs in each Dramatiq queue", labels=["queue", "state"]
        )
        queues = sorted({t.queue for t in vars(tasks).values() if isinstance(t, tasks.Task)})
        client = redis.Redis.from_url(settings.redis_url or "", socket_connect_timeout=1, socket_timeout=1)
        try:
            pipe = client.pipeline(transaction=False)
            for queue in queues:
                key = f"{settings.namespace}:{queue}"
                pipe.llen(key)
                pipe.llen(f"{key}.DQ")
                pipe.zcard(f"{key}.XQ")
            counts = pipe.execute()
        except redis.RedisError as exc:
            log.warning("queue lengths unavailable", extra={"error": repr(exc)})
            return
        finally:
            client.close()
        for i, queue in enumerate(queues):
            for j, state in enumerate(("ready", "delayed", "dead")):
                family.add_metric([queue, state], counts[i * 3 + j])
        yield family
