"""A process's memory: what it holds (RSS from /proc) and giving freed heap back to the system.

Why a worker needs both: a job that reads a large batch (a roll-up's facts, a backlog of events)
allocates tens of MB for a moment. CPython frees those objects, but glibc keeps the freed pages
inside its heap unless they happen to sit at its top, so the process's RSS keeps the high-water
mark of the largest batch it ever served, per malloc arena. `malloc_trim(0)` hands every whole
free page back (madvise), wherever it lies; core/worker_supervisor.py replaces a worker process
whose RSS still passes its limit, the guard for whatever trimming cannot return.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import time
from pathlib import Path

log = logging.getLogger(__name__)

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes(pid: int) -> int | None:
    """Resident memory of `pid` (Linux /proc), None when it is gone or unreadable."""
    try:
        fields = Path(f"/proc/{pid}/statm").read_text().split()
    except OSError:
        return None
    return int(fields[1]) * _PAGE


def _load_trim():  # type: ignore[no-untyped-def]
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_malloc_trim = _load_trim()


def trim_heap() -> float | None:
    """Give the heap's free pages back to the system; the seconds it took, None without glibc."""
    if _malloc_trim is None:
        return None
    started = time.perf_counter()
    _malloc_trim(0)
    return time.perf_counter() - started
