"""A process's memory: what it holds (RSS from /proc), and the cyclic collector's thresholds.

`rss_bytes` is what core/worker_supervisor.py reads to renew a worker process that holds more than
WORKER_MAX_RSS_MB. Giving freed heap back (glibc `malloc_trim`, every 15 s) and PYTHONMALLOC=malloc
were both tried against the soak's worker growth and changed nothing measurable (README "Soak"),
so neither is here.
"""

from __future__ import annotations

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


def tune_collector(spec: str | None = None) -> tuple[int, int, int]:
    """Set the cyclic collector's thresholds from PYTAKE_GC_THRESHOLDS ("gen0,gen1,gen2"), after
    start-up's objects were frozen (asgi.py); returns the thresholds in force."""
    spec = os.environ.get("PYTAKE_GC_THRESHOLDS", "") if spec is None else spec
    if spec:
        gen0, gen1, gen2 = (int(part) for part in spec.split(","))
        gc.set_threshold(gen0, gen1, gen2)
    return gc.get_threshold()
