"""bench/flows: flow executions under load, in production mode (`pytake serve --workers 2` and
`pytake worker --processes 2`, sharing only PostgreSQL and Redis).

1. BENCH_RUNS concurrent runs of a three-step flow (the customer's keyword → the bot's question →
   the customer's answer → the bot's reply), each message a signed WhatsApp webhook. Measured: the
   time from posting a customer's webhook to the fake WhatsApp API accepting the bot's answer to
   it (p50/p99), and executed steps per second.
2. BENCH_WAITING runs parked on a 10-minute timer, and the worker processes' CPU while they wait
   (against the same window with nothing waiting): a waiting run is a row and a delayed message.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/0 make bench-flows
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg

from bench.common import (
    KeepAliveClient,
    api_processes,
    bench_database,
    percentile,
    require_production_env,
    stop_group,
)
from connectors.fakes.server import serve_app
from connectors.fakes.whatsapp import FakeWhatsApp, inbound_text_payload

RUNS = int(os.environ.get("BENCH_RUNS", "1000"))
WAITING = int(os.environ.get("BENCH_WAITING", "10000"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "64"))  # webhook connections
PHONE_NUMBER_ID = "106540352242933"
SECRET = "bench-app-secret"
ROOT = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")


class Arrivals:
    """In front of the fake WhatsApp API: when each bot message to each customer was accepted."""

    def __init__(self, fake: FakeWhatsApp):
        self.fake = fake
        self.waiters: dict[tuple[str, str], asyncio.Future[float]] = {}
        self.count = 0

    def expect(self, to: str, prefix: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiters[(to, prefix)] = future
        return future

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.fake.app(scope, receive, send)
        chunks = []
        while True:
            event = await receive()
            chunks.append(event.get("body", b""))
            if not event.get("more_body"):
                break
        body = b"".join(chunks)

        async def replay() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        status: list[int] = []

        async def watch(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await self.fake.app(scope, replay, watch)
        if status and status[0] == 200 and scope["path"].endswith("/messages"):
            self.count += 1
            sent = json.loads(body)
            text = (sent.get("text") or {}).get("body", "")
            for (to, prefix), future in list(self.waiters.items()):
                if to == sent.get("to") and text.startswith(prefix) and not future.done():
                    future.set_result(time.perf_counter())
                    del self.waiters[(to, prefix)]


def three_steps(keyword: str) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "trigger", "config": {"keywords": [keyword]}},
            {"id": "ask", "type": "ask", "config": {"text": "Qual o seu nome?", "variable": "nome"}},
            {"id": "reply", "type": "send_message", "config": {"text": "Obrigado, {{nome}}!"}},
        ],
        "edges": [{"from": "start", "to": "ask"}, {"from": "ask", "to": "reply"}],
    }


def parked(keyword: str) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "trigger", "config": {"keywords": [keyword]}},
            {"id": "later", "type": "wait", "config": {"seconds": 600}},
            {"id": "bye", "type": "send_message", "config": {"text": "Ainda aí?"}},
        ],
        "edges": [{"from": "start", "to": "later"}, {"from": "later", "to": "bye"}],
    }


def signed(wa_id: str, text: str, wamid: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        inbound_text_payload(PHONE_NUMBER_ID, wa_id=wa_id, name="Cliente", text=text, wamid=wamid)
    )
    raw = body.encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"Content-Type": "application/json", "X-Hub-Signature-256": signature}


@contextlib.contextmanager
def workers(db_url: str, namespace: str) -> Iterator[subprocess.Popen]:
    env = {**os.environ, "DATABASE_URL": db_url, "PYTAKE_NAMESPACE": namespace, "LOG_LEVEL": "WARNING"}
    cmd = [str(Path(sys.executable).parent / "pytake"), "worker", "--processes", "2", "--threads", "8"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    try:
        yield proc
    finally:
        stop_group(proc, timeout=20)


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU of every process in the group (the worker supervisor and its children)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the name: state, ppid, pgrp, …
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


class Lanes:
    def __init__(self, base: str, path: str):
        self.path = path
        self.free: asyncio.Queue[KeepAliveClient] = asyncio.Queue()
        for _ in range(CONCURRENCY):
            self.free.put_nowait(KeepAliveClient(base))

    async def post(self, body: bytes, headers: dict[str, str]) -> None:
        lane = await self.free.get()
        try:
            status, answer = await lane.post(self.path, body, headers)
            assert status == 200, (status, answer[:200])
        finally:
            self.free.put_nowait(lane)

    async def close(self) -> None:
        while not self.free.empty():
            await self.free.get_nowait().close()


async def save_and_publish(conn: asyncpg.Connection, definition: dict[str, Any]) -> int:
    from resolvers.flow_validation import clean_definition

    flow_id = await conn.fetchval(
        "INSERT INTO flows (name, version, published_version, published_at, created_at, updated_at) "
        "VALUES ($1, 1, 1, now(), now(), now()) RETURNING id",
        f"bench {uuid.uuid4().hex[:6]}",
    )
    await conn.execute(
        "INSERT INTO flow_versions (flow_id, version, definition, created_at) VALUES ($1, 1, $2::jsonb, now())",
        flow_id,
        json.dumps(clean_definition(definition)),
    )
    return flow_id


@contextlib.asynccontextmanager
async def stage(db_url: str, namespace: str) -> AsyncIterator[tuple[str, Arrivals, asyncpg.Connection]]:
    from core.crypto import encrypt_secrets
    from core.db import asyncpg_dsn

    fake = FakeWhatsApp()
    arrivals = Arrivals(fake)
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    async with serve_app(arrivals) as fake_base:
        fake.add_number(PHONE_NUMBER_ID, access_token="bench-token", app_secret=SECRET)
        fake.auto_statuses = []
        channel_id = await conn.fetchval(
            "INSERT INTO channels (platform, name, config, secrets_encrypted, enabled, created_at, updated_at) "
            "VALUES ('whatsapp', 'bench', $1::jsonb, $2, true, now(), now()) RETURNING id",
            json.dumps({"phone_number_id": PHONE_NUMBER_ID, "api_base": fake_base, "api_version": "v21.0"}),
            encrypt_secrets({"app_secret": SECRET, "access_token": "bench-token", "verify_token": "v"}),
        )
        async with api_processes(db_url, workers=2, namespace=namespace) as base:
            yield f"{base}|/webhooks/whatsapp/{channel_id}", arrivals, conn
    await conn.close()


async def conversations_phase(lanes: Lanes, arrivals: Arrivals, conn: asyncpg.Connection, pgid: int) -> None:
    keyword = f"bench{uuid.uuid4().hex[:4]}"
    await save_and_publish(conn, three_steps(keyword))
    latencies: list[float] = []

    async def customer(i: int) -> None:
        wa_id = f"55219{i:07d}"
        for text, expected in ((keyword, "Qual o seu nome?"), (f"Cliente {i}", "Obrigado, ")):
            answered = arrivals.expect(wa_id, expected)
            body, headers = signed(wa_id, text, f"wamid.{uuid.uuid4().hex}")
            posted = time.perf_counter()
            await lanes.post(body, headers)
            latencies.append(await asyncio.wait_for(answered, 300) - posted)

    started, cpu = time.perf_counter(), group_cpu_seconds(pgid)
    await asyncio.gather(*(customer(i) for i in range(RUNS)))
    seconds, cpu = time.perf_counter() - started, group_cpu_seconds(pgid) - cpu
    steps = await conn.fetchval("SELECT count(*) FROM flow_execution_steps WHERE action LIKE 'event:%'")
    done = await conn.fetchval("SELECT count(*) FROM flow_executions WHERE status = 'completed'")
    print(f"\nbench/flows  runs={RUNS} (3 steps: question, answer, reply) webhook connections={CONCURRENCY}")
    print(f"  completed runs: {done}/{RUNS}   bot messages accepted by the fake: {arrivals.count}")
    print(
        f"  webhook → bot reply accepted  p50 {percentile(latencies, 50) * 1000:.0f} ms"
        f"   p99 {percentile(latencies, 99) * 1000:.0f} ms"
    )
    print(f"  steps: {steps} in {seconds:.1f} s = {steps / seconds:.0f} steps/s with 2 worker processes")
    # On a shared, loaded machine the rate follows the neighbours' load; CPU per step much less.
    print(f"  worker CPU per step (sends included): {cpu / steps * 1000:.1f} ms")
    # Where the time goes: the customer's message stored → its step → the bot's message sent.
    split = await conn.fetchrow(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM o.created_at - m.created_at)) AS queued, "
        "percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM s.at - o.created_at)) AS step, "
        "percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM o.sent_at - s.at)) AS send "
        "FROM flow_execution_steps s JOIN flow_executions e ON e.id = s.execution_id "
        "JOIN messages m ON m.conversation_id = e.conversation_id AND m.direction = 'inbound' "
        "AND m.text = s.detail->>'text' "
        "JOIN messages o ON o.client_message_id = 'flow:' || e.id || ':' || s.step || ':0' "
        "WHERE s.action = 'event:message'"
    )
    print(
        f"  p50 split: customer message stored → its step begins {split['queued'] * 1000:.0f} ms,"
        f" the step {split['step'] * 1000:.0f} ms, step done → sent {split['send'] * 1000:.0f} ms"
    )


async def waiting_phase(lanes: Lanes, conn: asyncpg.Connection, pgid: int) -> None:
    window = 10.0
    before = group_cpu_seconds(pgid)
    await asyncio.sleep(window)
    idle = group_cpu_seconds(pgid) - before
    keyword = f"parar{uuid.uuid4().hex[:4]}"
    await save_and_publish(conn, parked(keyword))
    started = time.perf_counter()
    posts = [signed(f"55319{i:07d}", keyword, f"wamid.{uuid.uuid4().hex}") for i in range(WAITING)]
    await asyncio.gather(*(lanes.post(body, headers) for body, headers in posts))
    while (
        await conn.fetchval(
            "SELECT count(*) FROM flow_executions WHERE status = 'waiting' AND wake_at IS NOT NULL"
        )
        < WAITING
    ):
        await asyncio.sleep(0.5)
    parked_in = time.perf_counter() - started
    await asyncio.sleep(2)  # the workers take in the delayed messages
    before = group_cpu_seconds(pgid)
    await asyncio.sleep(window)
    waiting = group_cpu_seconds(pgid) - before
    print(f"  {WAITING} runs parked on a 10-minute timer in {parked_in:.1f} s (webhooks included)")
    print(
        f"  worker CPU over {window:.0f} s: nothing waiting {idle:.2f} s ({idle / window:.1%});"
        f" {WAITING} waiting {waiting:.2f} s ({waiting / window:.1%})"
    )


async def main() -> None:
    require_production_env()
    namespace = f"bench-flows-{uuid.uuid4().hex[:6]}"
    async with bench_database() as db_url, stage(db_url, namespace) as (target, arrivals, conn):
        base, path = target.split("|")
        lanes = Lanes(base, path)
        with workers(db_url, namespace) as proc:
            await asyncio.sleep(3)  # the worker processes boot
            await conversations_phase(lanes, arrivals, conn, proc.pid)
            await waiting_phase(lanes, conn, proc.pid)
        await lanes.close()


if __name__ == "__main__":
    asyncio.run(main())
