"""py-spy on the API processes during a benchmark's load, and the samples summed by function.

    BENCH_PYSPY=<folder> make bench-ingest      # one raw file per API worker, then a summary
    python -m bench.pyspy <folder or raw files>  # the summary again (BENCH_PYSPY_TOP rows)

Each raw line is `frame;frame;...;frame count`, outermost first. A function's *self* share is the
samples where it is the innermost frame; its *total* share, the samples where it appears at all
(once per sample, however deep the recursion). Idle samples (the event loop waiting) are left out
by py-spy itself, so the shares are of CPU time, not of wall time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

PY_SPY = Path(sys.executable).parent / "py-spy"


class Recorder:
    """`py-spy record` on each pid from `start()` until `stop()`; the raw files land in `folder`."""

    def __init__(self, folder: str, pids: list[int], rate: int = 250):
        self.folder = Path(folder)
        self.pids = pids
        self.rate = rate
        self._procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for pid in self.pids:
            out = self.folder / f"api-{pid}.raw"
            cmd = [str(PY_SPY), "record", "-p", str(pid), "-f", "raw", "-o", str(out), "-r", str(self.rate)]
            self._procs.append(
                subprocess.Popen(
                    [*cmd, "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
            )

    def stop(self) -> list[Path]:
        for proc in self._procs:
            proc.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        for proc in self._procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        return sorted(self.folder.glob("api-*.raw"))


def _function(frame: str) -> str:
    # "name (path/file.py:123)" -> "name (path/file.py)": lines of one function summed
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit(':', 1)[0]})" if where else name


def summarise(files: list[Path], top: int = 40) -> str:
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for path in files:
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count_txt = line.rpartition(" ")
            if not stack or not count_txt.isdigit():
                continue
            count = int(count_txt)
            frames = [_function(f) for f in stack.split(";") if f and not f.startswith("process ")]
            if not frames:
                continue
            samples += count
            own[frames[-1]] += count
            for name in set(frames):
                total[name] += count
    if not samples:
        return "no samples"
    lines = [f"{samples} samples; self % | total % | function"]
    for name, count in total.most_common(top):
        lines.append(f"{own[name] / samples:6.1%} {count / samples:7.1%}  {name}")
    lines.append("-- by self time --")
    for name, count in own.most_common(top):
        lines.append(f"{count / samples:6.1%} {total[name] / samples:7.1%}  {name}")
    return "\n".join(lines)


if __name__ == "__main__":
    paths: list[Path] = []
    for arg in sys.argv[1:]:
        p = Path(arg)
        paths.extend(sorted(p.glob("*.raw")) if p.is_dir() else [p])
    print(summarise(paths, int(os.environ.get("BENCH_PYSPY_TOP", "40"))))
