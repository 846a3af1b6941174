"""The fault suite's own deployment: a private PostgreSQL and Redis (random ports, temporary data
folders), `pytake serve` and `pytake worker` processes, each of which a scenario may kill with
SIGKILL (or stop in immediate mode) and start again on the same port."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[2]
PYTAKE = str(Path(sys.executable).parent / "pytake")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_bin() -> Path:
    """The pgserver wheel's binaries (what `make run` uses), else the machine's."""
    with contextlib.suppress(ImportError):
        from pgserver._commands import POSTGRES_BIN_PATH

        if (POSTGRES_BIN_PATH / "pg_ctl").exists():
            return POSTGRES_BIN_PATH
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not found:
        raise RuntimeError("no PostgreSQL binaries (pgserver wheel or /usr/lib/postgresql)")
    return found[-1].parent


class PrivatePostgres:
    """initdb + pg_ctl in a temporary folder. PostgreSQL refuses to run as root, so under root it
    runs as the `postgres` system user (or pgserver's own `pgserver` user)."""

    def __init__(self, root: Path):
        self.bin = postgres_bin()
        self.data = root / "pgdata"
        self.log = root / "postgres.log"
        self.port = free_port()
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = "postgres" if _user_exists("postgres") else "pgserver"
            if not _user_exists(self.user):
                subprocess.run(["useradd", "-s", "/bin/sh", self.user], check=True)
            entry = pwd.getpwnam(self.user)
            self.data.mkdir(mode=0o700)
            os.chown(self.data, entry.pw_uid, entry.pw_gid)
            self.log.touch()
            os.chown(self.log, entry.pw_uid, entry.pw_gid)
            os.chmod(root, 0o755)
            _let_traverse(self.bin)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            list(args), check=check, user=self.user, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def init(self) -> None:
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "utf8"
        )

    def start(self) -> None:
        # fsync off: an immediate stop is a crash of PostgreSQL, not of the machine, so nothing is
        # lost without it, and the suite is not timing the disk.
        options = (
            f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=300 -c full_page_writes=off"
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            "60",
            "-o",
            options,
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", check=False)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _let_traverse(path: Path) -> None:
    for part in [path, *path.parents]:
        with contextlib.suppress(PermissionError):
            part.chmod(part.stat().st_mode | 0o055)
    lib = path.parent / "lib"
    if lib.exists():
        for child in [lib, *lib.rglob("*")]:
            with contextlib.suppress(PermissionError):
                child.chmod(child.stat().st_mode | (0o055 if child.is_dir() else 0o044))


class PrivateRedis:
    """redis-server without persistence: a SIGKILL loses every queued job, the harshest case."""

    def __init__(self, root: Path):
        self.binary = shutil.which("redis-server")
        self.dir = root / "redis"
        self.dir.mkdir()
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert self.binary
        cmd = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        cmd += ["--dir", str(self.dir), "--logfile", str(self.dir / "redis.log")]
        self.proc = subprocess.Popen(cmd, start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None


@dataclass
class Service:
    """One `pytake` process group (its children die with it), restartable with the same command."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = field(default=0)

    def start(self) -> None:
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [PYTAKE, *self.args], cwd=ROOT, env=self.env, start_new_session=True, stdout=out, stderr=out
        )
        out.close()

    def kill(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
            self.proc = None

    def restart(self) -> None:
        self.kill()
        self.restarts += 1
        self.start()

    def stop(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.kill()
        self.proc = None

    def pids(self) -> list[int]:
        """The group's processes (a worker's children too), for RSS sampling."""
        if self.proc is None:
            return []
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, IndexError):
                    stat = (entry / "stat").read_text()
                    if int(stat.rsplit(")", 1)[1].split()[3]) == self.proc.pid:  # its process group
                        found.append(int(entry.name))
        return found


@dataclass
class Cluster:
    root: Path
    postgres: PrivatePostgres
    redis: PrivateRedis
    db_url: str
    apis: list[Service]
    workers: list[Service]
    bases: list[str]

    async def wait_ready(self, timeout: float = 90) -> None:
        """Every API answers /readyz 200 (database and broker reachable)."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as client:
            for base, api in zip(self.bases, self.apis, strict=True):
                while True:
                    with contextlib.suppress(httpx.HTTPError):
                        ready = await client.get(f"{base}/readyz")
                        if ready.status_code == 200 and all(ready.json()["checks"].values()):
                            break
                    if api.proc is not None and api.proc.poll() is not None:
                        raise RuntimeError(f"{api.name} exited: {api.log.read_text()[-3000:]}")
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{api.name} not ready: {api.log.read_text()[-3000:]}")
                    await asyncio.sleep(0.1)

    async def sql(self, query: str, *args: object) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.db_url.replace("postgres://", "postgresql://", 1))
        try:
            return await conn.fetch(query, *args)
        finally:
            await conn.close()

    def stop(self) -> None:
        for service in [*self.apis, *self.workers]:
            service.stop()
        self.redis.kill()
        self.postgres.stop("fast")

    def logs(self) -> str:
        return "".join(
            s.log.read_text(errors="replace") for s in [*self.apis, *self.workers] if s.log.exists()
        )


def api_and_worker_services(
    root: Path, env: dict[str, str], ports: list[int], workers: int = 2
) -> tuple[list[Service], list[Service]]:
    """The deployment the fault suite and the soak run: one `pytake serve` per port (one process
    each, so a SIGKILL takes down exactly one) and `workers` `pytake worker` processes."""
    apis = [
        Service(
            f"api{i}",
            ["serve", "--host", "127.0.0.1", "--port", str(p), "--workers", "1"],
            env,
            root / f"api{i}.log",
        )
        for i, p in enumerate(ports)
    ]
    worker_services = [
        Service(f"worker{i}", ["worker", "--processes", "1", "--threads", "8"], env, root / f"worker{i}.log")
        for i in range(workers)
    ]
    return apis, worker_services


def make_root() -> Path:
    return Path(tempfile.mkdtemp(prefix="pytake-faults-"))
