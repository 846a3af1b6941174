"""The timeline of live events through one process, for bench/fanout: `PYTAKE_FANOUT_TRACE=<file>`
(`{pid}` in it is the process id). Off by default, and then every call here does nothing.

Each inbox event gets wall-clock marks as it passes: the commit that emitted it (the event log
woken), sequenced, published, taken by the fan-out's follower, rendered, first and last frame
written. Written as one JSON line per event when its delivery ends, with the process's own stalls
beside them: garbage collections and event-loop lag over a threshold. bench/fanout reads the file
and prints where the time between a webhook and its last subscriber went.
"""

from __future__ import annotations

import asyncio
import gc
import os
import time
from typing import Any, TextIO

import orjson

PATH = (os.environ.get("PYTAKE_FANOUT_TRACE") or "").replace("{pid}", str(os.getpid())) or None
STALL = 0.005  # seconds: GC pauses and loop lag longer than this are written
LAG_EVERY = 0.01  # seconds between two loop-lag probes

_marks: dict[int, dict[str, Any]] = {}
_commits: list[float] = []  # commits since the last flush took its batch
_out: TextIO | None = None
_monitor: asyncio.Task[None] | None = None
_gc_started = (0.0, 0.0)  # wall and CPU time the running collection started at


def _write(line: dict[str, Any]) -> None:
    global _out
    if _out is None:
        _out = open(PATH, "a", encoding="utf-8")  # held for the process's life
    _out.write(orjson.dumps(line).decode() + "\n")
    _out.flush()


def committed() -> None:
    """A transaction with events committed (the event log is woken)."""
    if PATH:
        _commits.append(time.time())


def sequenced(seqs: list[int], at: float) -> None:
    """A flush sequenced these events (`at`: when the round trip returned)."""
    if not PATH:
        return
    first = _commits[0] if _commits else at
    _commits.clear()
    for seq in seqs:
        _marks[seq] = {"commit": first, "sequenced": at}
    if len(_marks) > 10_000:  # events no follower took (another stream)
        for seq in sorted(_marks)[:5_000]:
            del _marks[seq]


def mark(seq: int, stage: str, at: float | None = None) -> None:
    if PATH:
        _marks.setdefault(seq, {})[stage] = time.time() if at is None else at


def done(seq: int, **extra: Any) -> None:
    """The event's delivery ended: write its line."""
    if PATH:
        _write({"seq": seq, **_marks.pop(seq, {}), **extra})


def _gc_callback(phase: str, info: dict[str, Any]) -> None:
    global _gc_started
    if phase == "start":
        _gc_started = (time.perf_counter(), time.thread_time())
        return
    took = time.perf_counter() - _gc_started[0]
    if took >= STALL:  # wall time (a busy machine stretches it) and this thread's CPU time
        cpu = time.thread_time() - _gc_started[1]
        _write({"gc": info.get("generation"), "at": time.time(), "s": took, "cpu": cpu})


async def _lag_probe() -> None:
    loop = asyncio.get_running_loop()
    while True:
        planned = loop.time() + LAG_EVERY
        await asyncio.sleep(LAG_EVERY)
        late = loop.time() - planned
        if late >= STALL:
            _write({"lag": late, "at": time.time()})


def start_monitors() -> None:
    """GC pauses and loop lag of this process (once; from its event loop)."""
    global _monitor
    if not PATH or _monitor is not None:
        return
    gc.callbacks.append(_gc_callback)
    _monitor = asyncio.get_running_loop().create_task(_lag_probe(), name="timeline-lag-probe")
