"""Where does a soak's memory go? Not imported by PyTake: only a process started with this folder
on PYTHONPATH loads it (Python imports `sitecustomize` at start-up), and only with
SOAK_TRACEMALLOC_DIR set, and only in `pytake serve` and in the Dramatiq processes `pytake worker`
starts (`serve-<pid>-<n>.snap`, `worker-<pid>-<n>.snap`; a forked worker child traces itself):

    PYTHONPATH=bench/memtrace SOAK_TRACEMALLOC_DIR=/tmp/tm SOAK_MINUTES=6 make soak

After SOAK_TRACEMALLOC_DELAY seconds (150: start-up and warm-up are not traced, and tracing from
the start slows a busy machine past the soak's 90 s readiness wait) it starts tracemalloc with
SOAK_TRACEMALLOC_FRAMES (4) frames, then every SOAK_TRACEMALLOC_EVERY seconds (60) dumps a
snapshot to `serve-<pid>-<n>.snap`. Compare two with `tracemalloc.Snapshot.load(...)` and
`compare_to(earlier, "traceback")`.

With SOAK_TYPECOUNTS set, every snapshot is paired with `<role>-<pid>-<n>.types.json`: how many
objects of each type the collector tracks (C code's allocations, such as asyncpg's records made
in its protocol, show in tracemalloc only as their Python caller; their types show here).
"""

import collections
import gc
import json
import os
import sys
import threading
import time
import tracemalloc

_DIR = os.environ.get("SOAK_TRACEMALLOC_DIR")


def _dump_forever(folder: str, role: str) -> None:
    time.sleep(float(os.environ.get("SOAK_TRACEMALLOC_DELAY", "150")))
    tracemalloc.start(int(os.environ.get("SOAK_TRACEMALLOC_FRAMES", "4")))
    n = 0
    while True:
        time.sleep(float(os.environ.get("SOAK_TRACEMALLOC_EVERY", "60")))
        n += 1
        tracemalloc.take_snapshot().dump(os.path.join(folder, f"{role}-{os.getpid()}-{n:03d}.snap"))
        if os.environ.get("SOAK_TYPECOUNTS"):
            counts = collections.Counter(
                f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.get_objects()
            )
            with open(os.path.join(folder, f"{role}-{os.getpid()}-{n:03d}.types.json"), "w") as out:
                json.dump(counts.most_common(300), out)


def _start(folder: str, role: str) -> None:
    threading.Thread(target=_dump_forever, args=(folder, role), daemon=True, name="tracemalloc-dump").start()


def _role() -> str | None:
    if "serve" in sys.argv[1:2]:
        return "serve"
    # `python -m dramatiq jobs.worker` (argv[0] is still "-m" here); spawned children inherit the
    # mark through the environment, forked ones through the fork hook below.
    if os.environ.get("_MEMTRACE_ROLE") == "worker" or "dramatiq" in sys.orig_argv:
        os.environ["_MEMTRACE_ROLE"] = "worker"
        return "worker"
    return None


if _DIR and (_ROLE := _role()):
    _start(_DIR, _ROLE)
    os.register_at_fork(after_in_child=lambda: _start(_DIR, _ROLE))
