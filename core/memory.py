"""A process's memory: what it holds (RSS from /proc), the allocator worker processes run on,
and the cyclic collector's thresholds.

`rss_bytes` is what core/worker_supervisor.py reads to renew a worker process that holds more than
WORKER_MAX_RSS_MB. Giving freed heap back (glibc `malloc_trim`, every 15 s) made no measurable
difference to the soak's worker growth, and PYTHONMALLOC=malloc made it worse (README "Soak"), so
neither is here; jemalloc halved it (`allocator_env`).
"""

from __future__ import annotations

import ctypes.util
import gc
import os
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes(pid: int) -> int | None:
    """Resident memory of `pid` (Linux /proc), None when it is gone or unreadable."""
    try:
        fields = Path(f"/proc/{pid}/statm").read_text().split()
    except OSError:
        return None
    return int(fields[1]) * _PAGE


# Where Debian/Ubuntu (package libjemalloc2) and Alpine put it; find_library covers the rest.
_JEMALLOC_PATHS = (
    "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2",
    "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2",
    "/usr/lib/libjemalloc.so.2",
)


def jemalloc_path() -> str | None:
    """The jemalloc shared library on this machine, or None."""
    for path in _JEMALLOC_PATHS:
        if Path(path).is_file():
            return path
    found = ctypes.util.find_library("jemalloc")
    return found if found and Path(found).is_absolute() else None


def allocator_env(choice: str, inherited: dict[str, str]) -> dict[str, str]:
    """Environment for a worker process to run on `choice` ("jemalloc", "glibc"; WORKER_ALLOCATOR).

    Under glibc's malloc (two arenas, MALLOC_ARENA_MAX=2; trimming did nothing) the soak's workers
    grew 130 -> 163 MB in 13 minutes while the objects Python tracks stayed flat: the roll-up job's
    large transient reads, from several threads, leave a heap glibc cannot give back. jemalloc,
    preloaded, returns freed pages on its own: 122 -> 129 MB in the first 12 minutes of the same
    soak, 122 -> 167 MB in 30; what still grew followed the open care cycles the roll-ups re-read,
    and with checkpoints inside cycles it is 123 -> 138 MB in 30 (README "Soak"). Without the library (or with
    "glibc") the workers keep glibc with two arenas."""
    env: dict[str, str] = {}
    path = jemalloc_path() if choice == "jemalloc" else None
    if path:
        preload = inherited.get("LD_PRELOAD", "")
        if path not in preload.split(":"):
            env["LD_PRELOAD"] = f"{path}:{preload}" if preload else path
    else:
        env["MALLOC_ARENA_MAX"] = inherited.get("MALLOC_ARENA_MAX", "2")
    return env


# The API process's collector: a full collection scans every object made since start-up (~370 per
# live subscription: tasks, coroutines, async generators), about 0.25-0.3 s with 1,000 of them, on
# the loop that delivers events and answers webhooks. Python's (700, 10, 10) ran two in a minute
# of bench/fanout (1,000 subscribers, 20 webhooks/s): webhook→event p99 233 ms. Fewer, larger young
# collections promote fewer short-lived objects and make full ones rare: p99 34 ms, no full
# collection in that minute (README "Live fan-out"). Cyclic garbage that reached the old
# generation waits longer for its collection.
DEFAULT_GC_THRESHOLDS = "50000,20,100"


def tune_collector(spec: str | None = None) -> tuple[int, int, int]:
    """Set the cyclic collector's thresholds from PYTAKE_GC_THRESHOLDS ("gen0,gen1,gen2"; "" keeps
    Python's), after start-up's objects were frozen (asgi.py); returns the thresholds in force."""
    spec = os.environ.get("PYTAKE_GC_THRESHOLDS", DEFAULT_GC_THRESHOLDS) if spec is None else spec
    if spec:
        gen0, gen1, gen2 = (int(part) for part in spec.split(","))
        gc.set_threshold(gen0, gen1, gen2)
    return gc.get_threshold()
