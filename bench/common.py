"""Shared bench plumbing: a throwaway database, production-mode API processes, a load loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]


def web_app_operations() -> dict[str, str]:
    """The web app's GraphQL text constants (frontend/src/api/operations.ts), each `${NAME}` in them
    replaced by that constant: the documents (INBOX, …) and the field lists (CONVERSATION_FIELDS, …)."""
    source = (ROOT / "frontend" / "src" / "api" / "operations.ts").read_text(encoding="utf-8")
    constants = dict(re.findall(r"(?:export )?const (\w+) = `([^`]*)`;", source, flags=re.S))
    return {
        name: re.sub(r"\$\{(\w+)\}", lambda m: constants[m.group(1)], text)
        for name, text in constants.items()
    }


def require_production_env() -> tuple[str, str]:
    db, redis = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if not db or not redis:
        sys.exit("benchmarks run in production mode: set DATABASE_URL (server) and REDIS_URL")
    return db, redis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@contextlib.asynccontextmanager
async def bench_database() -> AsyncIterator[str]:
    from core import db

    server = db._normalise(os.environ["DATABASE_URL"])
    name = f"pytake_bench_{uuid.uuid4().hex[:8]}"
    await db.ensure_database(server, name)
    url = db.with_database(server, name)
    try:
        await db.migrate(url)
        yield url
    finally:
        await db.drop_database(server, name)


async def bench_channel() -> Any:
    """A WhatsApp channel with no credentials, for benches that store messages without webhooks
    (the ORM initialised on the bench database)."""
    from core.crypto import encrypt_secrets
    from models import Channel

    return await Channel.create(
        platform="whatsapp", name="bench", config={}, secrets_encrypted=encrypt_secrets({})
    )


def text_message(run: str, label: str, i: int, *, customers: int, text: str | None = None) -> Any:
    """Inbound text `i` of a bench run, from one of `customers` senders (the same sender every
    `customers` messages: their conversation grows)."""
    from datetime import UTC, datetime

    from connectors.base import InboundMessage, MessageKind

    return InboundMessage(
        platform_message_id=f"wamid.{run}.{label}.{i}",
        sender_id=f"55119{i % customers:07d}",
        sent_at=datetime.now(UTC),
        kind=MessageKind.TEXT,
        text=text if text is not None else f"{label} {i}",
        sender_name=f"Customer {i % customers}",
    )


@contextlib.asynccontextmanager
async def module_server(
    module: str, *args: str, env: dict[str, str] | None = None
) -> AsyncIterator[tuple[str, subprocess.Popen[bytes]]]:
    """`python -m module PORT *args` from this checkout on a free port, its own process group;
    yields (base URL, the process) once it accepts connections and its worker processes have had
    a second to listen too, and stops the group after."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", module, str(port), *args],
        cwd=ROOT,
        env={**os.environ, **(env or {}), "PYTHONPATH": checkout_pythonpath()},
        start_new_session=True,
    )
    try:
        for _ in range(300):
            if proc.poll() is not None:
                raise RuntimeError(f"{module} exited")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            writer.close()
            break
        else:
            raise RuntimeError(f"{module} did not listen")
        await asyncio.sleep(1.0)  # every worker listening, not only the first
        yield f"http://127.0.0.1:{port}", proc
    finally:
        stop_group(proc, timeout=10)


def checkout_pythonpath() -> str:
    """PYTHONPATH for a process a bench starts, with this checkout first: its `pytake` console
    script and `python -m` resolve imports through the shared venv's editable install, which
    points at the main checkout, whatever the cwd."""
    return os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))


def stop_group(proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """TERM to the process group a bench started (start_new_session=True), KILL after `timeout`."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextlib.asynccontextmanager
async def api_processes(
    db_url: str, *, workers: int, namespace: str, env: dict[str, str] | None = None
) -> AsyncIterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "PYTAKE_NAMESPACE": namespace,
        "PYTAKE_INPROCESS_WORKER": "0",
        "PYTAKE_DEMO": "0",
        "LOG_LEVEL": "WARNING",
        # The load generator is one address, one user and one channel: the limits are still
        # counted on every request (their cost is measured), never reached.
        "GRAPHQL_RATE_PER_MINUTE": "100000000",
        "USER_RATE_PER_MINUTE": "100000000",
        "GRAPHQL_COST_PER_MINUTE": "100000000000",
        "WEBHOOK_RATE_PER_MINUTE": "100000000",
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "PYTHONPATH": checkout_pythonpath(),  # the server runs this checkout's code
        **(env or {}),
    }
    cmd = [
        str(Path(sys.executable).parent / "pytake"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(300):
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{base}/readyz")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("API did not become ready")
        yield base
    finally:
        stop_group(proc)


async def run_load(
    n: int, concurrency: int, one: Callable[[int], Awaitable[None]]
) -> tuple[float, list[float]]:
    """Run `one(i)` for i in range(n) with `concurrency` in flight; (seconds, per-call latencies)."""
    latencies: list[float] = []
    counter = iter(range(n))

    async def lane() -> None:
        for i in counter:
            t0 = time.perf_counter()
            await one(i)
            latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies


class KeepAliveClient:
    """A minimal HTTP/1.1 keep-alive client for load generation. httpx spends more CPU per request
    than the server under test does, which would make the benchmark measure the client."""

    def __init__(self, base: str):
        host_port = base.removeprefix("http://")
        self.host, port = host_port.split(":")
        self.port = int(port)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        try:
            return await self._post(path, body, headers)
        except (ConnectionError, IndexError, asyncio.IncompleteReadError):
            # The server closed an idle keep-alive connection: reconnect once.
            await self.close()
            self._writer = None
            return await self._post(path, body, headers)

    async def _post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        head = f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        self._writer.write(head.encode() + body)
        assert self._reader is not None
        status_line = await self._reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while (line := await self._reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return status, await self._reader.readexactly(length)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
