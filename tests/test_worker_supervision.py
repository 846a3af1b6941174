"""Workers never die for good and never hang: `pytake worker` replaces a worker process that was
killed, and serves every process's metrics; the broker gives up on a Redis that does not answer
within its socket timeouts."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import dramatiq
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from redis.exceptions import RedisError

from core import memory
from core.broker import CONNECT_TIMEOUT, SOCKET_TIMEOUT, redis_broker
from core.tasks import SEND_MESSAGE
from tests.conftest import REDIS_URL, free_port, requires_redis
from tests.helpers import eventually
from tests.test_send_safety import _held_back_reply
from tests.test_worker_signals import exited_within, read, signal_group, started

# A read that times out is not retried; one second of slack for a loaded machine. (redis-py's own
# default would be 5 s per command, and a client built without timeouts would wait forever.)
GIVE_UP_BOUND = CONNECT_TIMEOUT + SOCKET_TIMEOUT + 1.0


@contextlib.asynccontextmanager
async def silent_redis() -> AsyncIterator[str]:
    """A TCP server that accepts connections and never answers: a Redis hung or behind a dead
    link, which a socket without timeouts waits on forever."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        for writer in held:
            writer.close()
        server.close()


async def _gives_up(call) -> float:  # type: ignore[no-untyped-def]
    """Seconds until `call` (blocking) raised a Redis error; fails if it hangs past the bound."""
    started = time.monotonic()
    with pytest.raises((RedisError, dramatiq.errors.BrokerConnectionError)):
        await asyncio.wait_for(asyncio.to_thread(call), GIVE_UP_BOUND + 5)
    return time.monotonic() - started


async def test_an_enqueue_to_a_silent_redis_fails_in_bounded_time() -> None:
    async with silent_redis() as url:
        broker = redis_broker(url, "silent-test", heartbeat_timeout=60)
        message = dramatiq.Message(queue_name="q", actor_name="a", args=(), kwargs={}, options={})
        took = await _gives_up(lambda: broker.enqueue(message))
        broker.close()
    assert took < GIVE_UP_BOUND


async def test_a_workers_fetch_from_a_silent_redis_fails_in_bounded_time() -> None:
    async with silent_redis() as url:
        broker = redis_broker(url, "silent-test", heartbeat_timeout=60)
        consumer = broker.consume("q", prefetch=1, timeout=100)
        took = await _gives_up(lambda: next(consumer))
        broker.close()
    assert took < GIVE_UP_BOUND


# ---- a real `pytake worker`: its process killed, replaced, still sending; its /metrics -------------


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _worker_processes(supervisor: int) -> list[int]:
    """The Dramatiq worker processes under `pytake worker`: its slots' children."""
    return [child for slot in _children(supervisor) for child in _children(slot)]


async def _scrape(port: int) -> str:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"http://127.0.0.1:{port}/metrics")
    assert response.status_code == 200
    return response.text


def _sample(text: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return None


@requires_redis
async def test_a_killed_worker_process_is_replaced_and_the_new_one_sends_and_is_counted(
    server, wa, monkeypatch
) -> None:
    message = await _held_back_reply(
        server, wa, monkeypatch, f"sent by the replacement {uuid.uuid4().hex[:6]}"
    )
    namespace = f"{os.environ['PYTAKE_NAMESPACE']}-supervised"
    metrics_port = free_port()
    env = {
        **os.environ,
        "REDIS_URL": REDIS_URL or "",
        "PYTAKE_NAMESPACE": namespace,
        "PYTAKE_INPROCESS_WORKER": "0",
        "LOG_LEVEL": "INFO",
        "WORKER_METRICS_PORT": str(metrics_port),
    }
    with started(env, "worker", "--processes", "1", "--threads", "2") as (supervisor, log):

        async def one_worker_ready() -> list[int]:
            return _worker_processes(supervisor.pid) if read(log).count("worker ready") == 1 else []

        (first,) = await eventually(one_worker_ready, timeout=60, interval=0.1)
        os.kill(first, signal.SIGKILL)

        async def replaced() -> list[int]:
            workers = _worker_processes(supervisor.pid)
            return workers if read(log).count("worker ready") == 2 and first not in workers else []

        (second,) = await eventually(replaced, timeout=60, interval=0.1)
        assert supervisor.poll() is None, read(log)[-3000:]
        assert "worker process died; replacing it" in read(log)

        broker = redis_broker(REDIS_URL or "", namespace, heartbeat_timeout=60)
        broker.enqueue(
            dramatiq.Message(
                queue_name=SEND_MESSAGE.queue,
                actor_name=SEND_MESSAGE.name,
                args=(message.id,),
                kwargs={},
                options={},
            )
        )
        broker.close()

        async def sent() -> bool:
            await message.refresh_from_db()
            return message.status == "sent"

        await eventually(sent, timeout=30)
        text = await _scrape(metrics_port)
        # Counted by the replacement process (the only one that ran the job), served by `pytake worker`.
        assert _sample(text, "pytake_sends_total", platform="whatsapp", outcome="sent") == 1
        assert (_sample(text, "pytake_worker_jobs_total", actor="send_message", outcome="ok") or 0) >= 1
        assert _sample(text, "pytake_queue_jobs", queue="outbound", state="ready") == 0
        assert second in _worker_processes(supervisor.pid)

        since = await signal_group(supervisor)
        await exited_within(supervisor, since, 20)
    assert supervisor.returncode == 0


def _slot_env(monkeypatch, allocator: str, **env: str) -> dict[str, str]:
    import shutil

    from core.worker_supervisor import Supervisor

    for name in ("MALLOC_ARENA_MAX", "LD_PRELOAD"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    supervisor = Supervisor(processes=1, threads=2, stop_timeout=5, metrics_port=0, allocator=allocator)
    shutil.rmtree(supervisor.metrics_dir, ignore_errors=True)
    return supervisor.slots[0].env


def test_worker_processes_run_on_jemalloc_when_it_is_installed(monkeypatch):
    """Under glibc the soak's workers grew 2-3 MB a minute with no Python object held; jemalloc,
    preloaded into each worker process, about halves that (README "Soak")."""
    monkeypatch.setattr(memory, "jemalloc_path", lambda: "/opt/lib/libjemalloc.so.2")
    plain = _slot_env(monkeypatch, "jemalloc")
    assert plain["LD_PRELOAD"] == "/opt/lib/libjemalloc.so.2" and "MALLOC_ARENA_MAX" not in plain
    # An operator's own preload is kept, after ours (the allocator must come first).
    theirs = _slot_env(monkeypatch, "jemalloc", LD_PRELOAD="/opt/lib/libtrace.so")
    assert theirs["LD_PRELOAD"] == "/opt/lib/libjemalloc.so.2:/opt/lib/libtrace.so"


def test_without_jemalloc_or_when_told_glibc_workers_get_two_malloc_arenas(monkeypatch):
    """Without the cap each Dramatiq thread's glibc arena kept its own high-water mark and the
    soak's workers grew 136 → 286 MB in 30 minutes."""
    monkeypatch.setattr(memory, "jemalloc_path", lambda: None)
    missing = _slot_env(monkeypatch, "jemalloc")
    assert missing["MALLOC_ARENA_MAX"] == "2" and "LD_PRELOAD" not in missing
    monkeypatch.setattr(memory, "jemalloc_path", lambda: "/opt/lib/libjemalloc.so.2")
    told = _slot_env(monkeypatch, "glibc")
    assert told["MALLOC_ARENA_MAX"] == "2" and "LD_PRELOAD" not in told
    assert _slot_env(monkeypatch, "glibc", MALLOC_ARENA_MAX="4")["MALLOC_ARENA_MAX"] == "4"


def test_an_unknown_allocator_stops_the_process_with_its_name(monkeypatch):
    from core.settings import load_settings

    monkeypatch.setenv("WORKER_ALLOCATOR", "tcmalloc")
    with pytest.raises(SystemExit, match="WORKER_ALLOCATOR must be one of jemalloc, glibc"):
        load_settings()


@pytest.mark.skipif(not memory.jemalloc_path(), reason="libjemalloc2 is not installed")
def test_a_worker_slot_really_loads_jemalloc():
    """The preload reaches the process: the library is mapped into a child started with the slot's env."""
    env = {**os.environ, **memory.allocator_env("jemalloc", dict(os.environ))}
    maps = subprocess.run(
        [sys.executable, "-c", "print(open('/proc/self/maps').read())"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "libjemalloc" in maps


_HOG = """
import signal, sys, time
held = bytearray(int(sys.argv[1]) * 2**20)  # resident: bytearray writes its zeros
def stop(*_):
    open(sys.argv[2], "w").write("stopped")
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
print("ready", flush=True)
time.sleep(120)
"""


def test_a_slot_over_its_memory_limit_is_renewed_and_its_old_process_stopped_gently(tmp_path):
    """A process holding more than WORKER_MAX_RSS_MB gets a replacement at once and TERM (it
    finishes or requeues its jobs), is not killed; the replacement, young, is left alone; the
    slots' memory and the renewals are served with the metrics."""
    import shutil
    import sys

    from core import worker_supervisor as ws

    supervisor = ws.Supervisor(processes=1, threads=1, stop_timeout=5, metrics_port=0, max_rss_mb=100)
    shutil.rmtree(supervisor.metrics_dir, ignore_errors=True)
    marker = tmp_path / "stopped"
    (slot,) = supervisor.slots
    slot.command = [sys.executable, "-c", _HOG, "160", str(marker)]
    slot.start = lambda: _start_piped(slot)  # type: ignore[method-assign]
    try:
        slot.start()
        old = slot.proc
        assert old is not None and old.stdout is not None
        assert old.stdout.readline() == b"ready\n"
        assert supervisor.slot_rss(slot) > 150 * 2**20
        now = time.monotonic()
        supervisor._guard_memory(now)
        assert slot.proc is old  # young: a limit below a fresh process's size must not spin
        slot.started_at = now - ws.RSS_GRACE - 1
        supervisor._guard_memory(now + ws.RSS_CHECK_EVERY)
        assert slot.proc is not old and slot.proc is not None and slot.proc.poll() is None
        assert [proc for proc, _ in supervisor.retiring] == [old]
        assert old.wait(10) == 0 and marker.read_text() == "stopped"  # its own TERM handler ran
        supervisor._guard_memory(now + 2 * ws.RSS_CHECK_EVERY)
        assert supervisor.renewed == 1  # the replacement is young
        supervisor._reap_retiring(time.monotonic())
        assert supervisor.retiring == []
        assert slot.proc.stdout is not None and slot.proc.stdout.readline() == b"ready\n"
        families = {f.name: f for f in ws.SlotMemory(supervisor).collect()}
        assert families["pytake_worker_renewed"].samples[0].value == 1
        assert families["pytake_worker_rss_bytes"].samples[0].value > 100 * 2**20
    finally:
        for proc in [slot.proc, *(p for p, _ in supervisor.retiring)]:
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()

    under = ws.Supervisor(processes=1, threads=1, stop_timeout=5, metrics_port=0, max_rss_mb=400)
    shutil.rmtree(under.metrics_dir, ignore_errors=True)
    (slot,) = under.slots
    slot.command = [sys.executable, "-c", _HOG, "40", str(marker)]
    slot.start = lambda: _start_piped(slot)  # type: ignore[method-assign]
    try:
        slot.start()
        assert slot.proc is not None and slot.proc.stdout is not None
        assert slot.proc.stdout.readline() == b"ready\n"
        slot.started_at -= ws.RSS_GRACE + 1
        first = slot.proc
        under._guard_memory(time.monotonic())
        assert slot.proc is first and under.renewed == 0
    finally:
        if slot.proc is not None:
            slot.proc.kill()
            slot.proc.wait()


def _start_piped(slot) -> None:  # type: ignore[no-untyped-def]
    import subprocess

    slot.proc = subprocess.Popen(slot.command, env=slot.env, stdout=subprocess.PIPE)
    slot.started_at = time.monotonic()
