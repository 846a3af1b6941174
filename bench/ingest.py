"""bench/ingest: signed WhatsApp webhooks at full speed against production mode, versus a raw
baseline measured in the same run (asyncpg INSERT … ON CONFLICT + Redis PUBLISH of the same rows).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/0 make bench-ingest
    (BENCH_N, BENCH_CONCURRENCY, BENCH_CUSTOMERS, BENCH_API_WORKERS to change the shape)
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import multiprocessing
import os
import queue
import resource
import time
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import redis.asyncio as redis
from websockets.asyncio.client import connect

from bench.common import (
    KeepAliveClient,
    api_processes,
    bench_database,
    module_server,
    percentile,
    require_production_env,
    run_load,
)
from bench.inbox import api_pids, children_of, cpu_seconds
from bench.pyspy import Recorder, summarise
from connectors.fakes.whatsapp import inbound_text_payload

N = int(os.environ.get("BENCH_N", "5000"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "64"))
CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "1000"))
API_WORKERS = int(os.environ.get("BENCH_API_WORKERS", "2"))
PYSPY = os.environ.get("BENCH_PYSPY", "")
PG_FUNCTIONS = os.environ.get("BENCH_PG_FUNCTIONS") == "1"
PHONE_NUMBER_ID = "106540352242922"


def webhook_body(i: int, run: str) -> bytes:
    customer = i % CUSTOMERS
    payload = inbound_text_payload(
        PHONE_NUMBER_ID,
        wa_id=f"55119{customer:07d}",
        name=f"Customer {customer}",
        text=f"t={time.time():.6f} message {i}",
        wamid=f"wamid.{run}.{i}",
    )
    return json.dumps(payload).encode()


async def raw_baseline(db_url: str, redis_url: str, bodies: list[bytes]) -> tuple[float, dict[str, float]]:
    """The floor: store each row and publish it, with nothing else."""
    from core.db import asyncpg_dsn

    pool = await asyncpg.create_pool(asyncpg_dsn(db_url), min_size=10, max_size=20)
    r = redis.from_url(redis_url)
    await pool.execute("CREATE TABLE bench_raw (id text PRIMARY KEY, body jsonb NOT NULL)")

    async def one(i: int) -> None:
        await pool.execute(
            "INSERT INTO bench_raw (id, body) VALUES ($1, $2::jsonb) ON CONFLICT DO NOTHING",
            f"raw{i}",
            bodies[i].decode(),
        )
        await r.publish("bench:raw", bodies[i])

    meter = CpuMeter(db_url, redis_url, [], None)
    await meter.start()
    seconds, _ = await run_load(len(bodies), CONCURRENCY, one)
    spent = await meter.stop()
    await pool.close()
    await r.aclose()
    return len(bodies) / seconds, spent


class SignedPoster:
    """The load: CONCURRENCY keep-alive connections posting body i with its signature to `path`,
    each request on a free connection; answers other than 200 are counted."""

    def __init__(
        self,
        base: str,
        path: str,
        bodies: list[bytes],
        signatures: list[str],
        on_send: Callable[[int], None] | None = None,
    ):
        self.path, self.bodies, self.signatures, self.on_send = path, bodies, signatures, on_send
        self.lanes = [KeepAliveClient(base) for _ in range(CONCURRENCY)]
        self.free = list(self.lanes)
        self.failures = 0

    async def post(self, i: int) -> None:
        lane = self.free.pop()
        if self.on_send is not None:
            self.on_send(i)
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": self.signatures[i]}
        status, _ = await lane.post(self.path, self.bodies[i], headers)
        self.free.append(lane)
        if status != 200:
            self.failures += 1

    async def close(self) -> None:
        for lane in self.lanes:
            await lane.close()


async def http_floor(
    db_url: str, redis_url: str, bodies: list[bytes], signatures: list[str], mode: str, channel_id: int
) -> tuple[float, dict[str, float]]:
    """A bare ASGI app on the same server and process count as PyTake, loaded by the same client
    (bench/http_floor.py): the raw baseline's work one webhook at a time (`single`) or in groups
    (`grouped`), the least any webhook costs here; or PyTake's own statement in groups (`rule`)."""
    from core.db import asyncpg_dsn

    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    await conn.execute("DROP TABLE IF EXISTS bench_floor")  # each floor stores every row anew
    await conn.execute("CREATE TABLE bench_floor (id text PRIMARY KEY, body jsonb NOT NULL)")
    await conn.close()
    env = {
        "BENCH_FLOOR_DB": asyncpg_dsn(db_url),
        "BENCH_FLOOR_REDIS": redis_url,
        "BENCH_FLOOR_MODE": mode,
        "BENCH_FLOOR_CHANNEL": str(channel_id),
    }
    async with module_server("bench.http_floor", str(API_WORKERS), env=env) as (base, proc):
        poster = SignedPoster(base, "/", bodies, signatures)
        meter = CpuMeter(db_url, redis_url, [proc.pid, *children_of(proc.pid)], None)
        await meter.start()
        seconds, _ = await run_load(len(bodies), CONCURRENCY, poster.post)
        spent = await meter.stop()
        await poster.close()
        if poster.failures:
            raise RuntimeError(f"the HTTP floor failed {poster.failures} requests")
    return len(bodies) / seconds, spent


async def _subscribe(base: str, token: str, expected: int, out: Any, stop: Any) -> None:
    received: dict[str, float] = {}
    async with connect(
        base.replace("http", "ws", 1) + "/graphql", subprotocols=["graphql-transport-ws"], max_queue=None
    ) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        )
        await ws.recv()
        query = "subscription { inboxEvents { conversation { lastMessage { text } } } }"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        out.put("ready")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 600
        while len(received) < expected and loop.time() < deadline:
            try:
                raw = await asyncio.wait_for(ws.recv(), 1.0)
            except TimeoutError:
                if stop.is_set():  # the load is over and the parent gave up waiting
                    break
                continue
            msg = json.loads(raw)
            if msg.get("type") == "next":
                text = msg["payload"]["data"]["inboxEvents"]["conversation"]["lastMessage"]["text"]
                received.setdefault(text, time.time())
    out.put(received)


class CpuMeter:
    """CPU seconds spent during the load by each party: the API processes, the PostgreSQL backends
    of the bench database, Redis, the load generator (this process) and the live subscriber."""

    def __init__(self, db_url: str, redis_url: str, api: list[int], subscriber: int | None):
        self.db_url, self.redis_url, self.api, self.subscriber = db_url, redis_url, api, subscriber
        self._before: dict[str, float] = {}
        self._backends: list[int] = []
        self._redis: list[int] = []
        self._conn: asyncpg.Connection | None = None

    async def _pids(self) -> tuple[list[int], list[int]]:
        from core.db import asyncpg_dsn

        # One connection from start to stop: on a shared server a new one at the end of the load
        # can be refused (max_connections), which lost a whole run's figures.
        if self._conn is None:
            self._conn = await asyncpg.connect(asyncpg_dsn(self.db_url))
        rows = await self._conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        r = redis.from_url(self.redis_url)
        try:
            server = [int((await r.info("server"))["process_id"])]
        except Exception:
            server = []
        finally:
            await r.aclose()
        return [row["pid"] for row in rows], server

    def _read(self, backends: list[int], redis_pid: list[int]) -> dict[str, float]:
        own = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "API": sum(cpu_seconds(self.api).values()),
            "PostgreSQL": sum(cpu_seconds(backends).values()),
            "Redis": sum(cpu_seconds(redis_pid).values()),
            "load generator": own.ru_utime + own.ru_stime,
            "subscriber": sum(cpu_seconds([self.subscriber] if self.subscriber else []).values()),
        }

    async def start(self) -> None:
        self._backends, self._redis = await self._pids()
        self._before = self._read(self._backends, self._redis)

    async def stop(self) -> dict[str, float]:
        backends, _ = await self._pids()
        # Backends opened during the load spent all their CPU in it; closed ones are not counted.
        after = self._read(sorted(set(backends) | set(self._backends)), self._redis)
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
        return {k: after[k] - self._before[k] for k in after}

    @staticmethod
    def describe(spent: dict[str, float], n: int) -> str:
        total = sum(spent.values())
        parts = "  ".join(f"{k} {v / n * 1000:.3f}" for k, v in spent.items())
        return (
            f"{parts}  total {total / n * 1000:.3f} (= {n / total if total else 0:.0f} msgs per CPU second)"
        )


async def table_stats(db_url: str, track_functions: bool) -> str:
    """What the load did to the tables ingest writes: rows inserted, updated, how many of the
    updates were HOT (no index touched), and, with BENCH_PG_FUNCTIONS=1, each database function's
    own time (pg_stat_user_functions, `track_functions` on for the bench database only)."""
    from core.db import asyncpg_dsn

    await asyncio.sleep(1.5)  # backends report their counts at most once a second
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        rows = await conn.fetch(
            "SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del, "
            "(SELECT count(*) FROM pg_index i WHERE i.indrelid = s.relid) AS indexes "
            "FROM pg_stat_user_tables s WHERE n_tup_ins + n_tup_upd + n_tup_del > 0 ORDER BY relname"
        )
        lines = ["  table: inserted / updated (HOT) / deleted, indexes"]
        lines += [
            f"    {r['relname']}: {r['n_tup_ins']} / {r['n_tup_upd']} ({r['n_tup_hot_upd']}) / {r['n_tup_del']}, {r['indexes']}"
            for r in rows
        ]
        if track_functions:
            funcs = await conn.fetch(
                "SELECT funcname, calls, self_time, total_time FROM pg_stat_user_functions ORDER BY self_time DESC"
            )
            lines.append("  database functions: calls, self ms, total ms")
            lines += [
                f"    {f['funcname']}: {f['calls']}, {f['self_time']:.0f}, {f['total_time']:.0f}"
                for f in funcs
            ]
        return "\n".join(lines)
    finally:
        await conn.close()


def subscriber_process(base: str, token: str, expected: int, out: Any, stop: Any) -> None:
    """The agent's live view, in its own process: the load generator must not delay it."""
    asyncio.run(_subscribe(base, token, expected, out, stop))


async def main() -> None:
    _, redis_url = require_production_env()
    run = uuid.uuid4().hex[:6]
    async with bench_database() as db_url:
        from core.auth import hash_password
        from core.crypto import encrypt_secrets
        from core.db import close_orm, init_orm
        from models import Channel, Role, User

        secret = "bench-app-secret"
        await init_orm(db_url)
        channel = await Channel.create(
            platform="whatsapp",
            name="bench",
            config={"phone_number_id": PHONE_NUMBER_ID, "api_base": "http://127.0.0.1:9"},
            secrets_encrypted=encrypt_secrets(
                {"app_secret": secret, "access_token": "x", "verify_token": "y"}
            ),
        )
        await User.create(
            email="bench@local", name="Bench", role=Role.ADMIN, password_hash=hash_password("bench-password")
        )
        await close_orm()
        if PG_FUNCTIONS:
            from core.db import asyncpg_dsn

            conn = await asyncpg.connect(asyncpg_dsn(db_url))
            name = db_url.rsplit("/", 1)[1].split("?")[0]
            await conn.execute(f"ALTER DATABASE \"{name}\" SET track_functions = 'all'")
            await conn.close()

        bodies = [webhook_body(i, run) for i in range(N)]
        signatures = ["sha256=" + hmac.new(secret.encode(), b, hashlib.sha256).hexdigest() for b in bodies]
        raw_rate, raw_spent = await raw_baseline(db_url, redis_url, bodies)
        floors = {
            mode: await http_floor(db_url, redis_url, bodies, signatures, mode, channel.id)
            for mode in ("single", "grouped", "rule")
        }
        (floor_rate, floor_spent), (grouped_rate, grouped_spent) = floors["single"], floors["grouped"]
        rule_rate, rule_spent = floors["rule"]

        async with api_processes(db_url, workers=API_WORKERS, namespace=f"bench-{run}") as base:
            async with httpx.AsyncClient(limits=httpx.Limits(max_connections=CONCURRENCY)) as client:
                login = await client.post(
                    f"{base}/graphql",
                    json={
                        "query": 'mutation { login(email: "bench@local", password: "bench-password") { accessToken } }'
                    },
                )
                token = login.json()["data"]["login"]["accessToken"]
                sent_at: dict[str, float] = {}
                results: Any = multiprocessing.Queue()
                stop = multiprocessing.Event()
                sub = multiprocessing.Process(
                    target=subscriber_process, args=(base, token, N, results, stop), daemon=True
                )
                sub.start()
                assert await asyncio.to_thread(results.get, True, 30) == "ready"
                await asyncio.sleep(0.3)
                texts = [
                    json.loads(b)["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"]
                    for b in bodies
                ]

                def sending(i: int) -> None:  # webhook→subscriber latency counts from here
                    sent_at[texts[i]] = time.time()

                poster = SignedPoster(base, f"/webhooks/whatsapp/{channel.id}", bodies, signatures, sending)

                pids = api_pids(int(base.rsplit(":", 1)[1]))
                # BENCH_PYSPY=<folder>: py-spy on each API worker during the load (bench/pyspy.py)
                profiler = Recorder(PYSPY, pids[1:]) if PYSPY else None
                if profiler:
                    profiler.start()
                    await asyncio.sleep(1.0)  # py-spy attached before the first request
                cpu = CpuMeter(db_url, redis_url, pids, sub.pid)
                await cpu.start()
                seconds, latencies = await run_load(N, CONCURRENCY, poster.post)
                spent = await cpu.stop()
                profiles = profiler.stop() if profiler else []
                try:
                    stats = await table_stats(db_url, PG_FUNCTIONS)
                except asyncpg.PostgresError as exc:  # a shared server out of connections
                    stats = f"  table statistics unavailable: {exc}"
                await poster.close()
                failures = poster.failures
                try:
                    received: dict[str, float] = await asyncio.to_thread(results.get, True, 60)
                except queue.Empty:  # still behind a minute after the load: report what it saw
                    stop.set()
                    received = await asyncio.to_thread(results.get, True, 30)
                sub.join(10)
        e2e = [received[k] - sent_at[k] for k in received if k in sent_at]
        rate = N / seconds
        print(
            f"\nbench/ingest  N={N} concurrency={CONCURRENCY} customers={CUSTOMERS} api_workers={API_WORKERS}"
        )
        print(f"  raw baseline (asyncpg INSERT ON CONFLICT + Redis PUBLISH): {raw_rate:8.0f} msgs/s")
        print("  raw baseline CPU per message (ms): " + CpuMeter.describe(raw_spent, N))
        print(
            f"  HTTP floor (the raw work behind a bare ASGI app, {API_WORKERS} uvicorn processes): {floor_rate:8.0f} msgs/s"
            f"  = {floor_rate / raw_rate:.0%} of raw"
        )
        print("  HTTP floor CPU per message (ms): " + CpuMeter.describe(floor_spent, N))
        print(
            f"  grouped HTTP floor (the same work in groups, as PyTake's ingest):  {grouped_rate:8.0f} msgs/s"
            f"  = {grouped_rate / raw_rate:.0%} of raw"
        )
        print("  grouped HTTP floor CPU per message (ms): " + CpuMeter.describe(grouped_spent, N))
        print(
            f"  PyTake's statement behind the bare app, in groups (no PyTake Python): {rule_rate:8.0f} msgs/s"
            f"  = {rule_rate / raw_rate:.0%} of raw"
        )
        print("  its CPU per message (ms): " + CpuMeter.describe(rule_spent, N))
        print(f"  PyTake webhooks (signed, stored, sequenced, published):     {rate:8.0f} msgs/s")
        print(
            f"  ratio PyTake / raw: {rate / raw_rate:.0%}   PyTake / HTTP floor: {rate / floor_rate:.0%}"
            f"   PyTake / grouped HTTP floor: {rate / grouped_rate:.0%}"
            f"   PyTake / its statement behind the bare app: {rate / rule_rate:.0%}   failures: {failures}"
        )
        print(
            f"  webhook latency p50 {percentile(latencies, 50) * 1000:.1f} ms   p99 {percentile(latencies, 99) * 1000:.1f} ms"
        )
        print(
            f"  webhook→subscriber p50 {percentile(e2e, 50) * 1000:.1f} ms   p99 {percentile(e2e, 99) * 1000:.1f} ms"
            f"   ({len(received)}/{N} seen live)"
        )
        print("  CPU per message (ms), all on the same cores: " + CpuMeter.describe(spent, N))
        print(stats)
        if profiles:
            print(f"  py-spy of the API workers during the load ({PYSPY}):")
            print(summarise(profiles, int(os.environ.get("BENCH_PYSPY_TOP", "40"))))


if __name__ == "__main__":
    asyncio.run(main())
