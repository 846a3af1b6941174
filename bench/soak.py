"""bench/soak (not in CI): a steady load for SOAK_MINUTES (30) on the fault suite's deployment
(private PostgreSQL and Redis, two `pytake serve`, two `pytake worker`): SOAK_RATE (200) signed
WhatsApp webhooks a second from SOAK_CUSTOMERS (1000) customers, an agent reply to one message in
SOAK_REPLY_EVERY (5; every SOAK_RESOLVE_EVERY-th reply, 0 by default, also resolves its
conversation), the fake platform's delivered + read statuses for every reply, and
SOAK_SUBSCRIBERS (200) live views (each agent follows one conversation; SOAK_INBOX_VIEWS of them
(4) follow the whole inbox). Every SOAK_SAMPLE_SECONDS (60) it samples each process's RSS and
PostgreSQL's table and index sizes, and prints the table. A process whose RSS grows steadily
through the second half of the run fails the soak (exit status 1); PostgreSQL is judged by its
private memory, not its shared buffer pool (see NOT_JUDGED).

    make soak          (SOAK_MINUTES=5 make soak for a short look)
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import secrets
import shutil
import signal
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

MINUTES = float(os.environ.get("SOAK_MINUTES", "30"))
RATE = float(os.environ.get("SOAK_RATE", "200"))
CUSTOMERS = int(os.environ.get("SOAK_CUSTOMERS", "1000"))
REPLY_EVERY = int(os.environ.get("SOAK_REPLY_EVERY", "5"))
# Every Nth reply also resolves its conversation (0: never, every care cycle stays open the whole run).
RESOLVE_EVERY = int(os.environ.get("SOAK_RESOLVE_EVERY", "0"))
SUBSCRIBERS = int(os.environ.get("SOAK_SUBSCRIBERS", "200"))
INBOX_VIEWS = int(os.environ.get("SOAK_INBOX_VIEWS", "4"))
SAMPLE_SECONDS = float(os.environ.get("SOAK_SAMPLE_SECONDS", "60"))
PASSWORD = "soak password"
TABLES = (
    "messages",
    "conversations",
    "events",
    "event_outbox",
    "task_outbox",
    "message_status_changes",
    "customers",
)

os.environ.update(
    {
        "PYTAKE_DEMO": "0",
        "PYTAKE_INPROCESS_WORKER": "0",
        "LOG_LEVEL": "WARNING",
        "JWT_SECRET": secrets.token_urlsafe(32),
        "ENCRYPTION_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }
)
for name in ("DATABASE_URL", "REDIS_URL"):
    os.environ.pop(name, None)

from tests.faults.cluster import (  # noqa: E402
    Cluster,
    PrivatePostgres,
    PrivateRedis,
    api_and_worker_services,
    free_port,
    make_root,
)


def rss_kib(pids: list[int], fields: tuple[str, ...] = ("Pss:",)) -> int:
    """Resident memory of a group of processes, as PSS: PostgreSQL's backends share its buffers,
    which plain RSS would count once per backend. With `fields` ("Private_Clean:",
    "Private_Dirty:"), only the pages no other process maps."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith(fields):
                    total += int(line.split()[1])
    return total


PRIVATE = ("Private_Clean:", "Private_Dirty:")
# PostgreSQL's PSS includes the shared buffer pool, a fixed-size cache (`shared_buffers`) whose
# pages count once touched: it rises while the growing tables warm it and stops at its size. The
# verdict judges PostgreSQL by its processes' private memory (caches, sorts, per backend) instead;
# the table prints both.
NOT_JUDGED = ("soak (load)", "postgres")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time a group of processes has used so far (with their waited-for children,
    so a uvicorn or Dramatiq worker that was replaced still counts)."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            # Fields after the command name (which may hold spaces): utime, stime, cutime, cstime are 14-17.
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += sum(int(f) for f in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # steal included, guest already counted in user
    hz = os.sysconf("SC_CLK_TCK")
    return (total - idle) / hz, total / hz


def postgres_pids(data_dir: Path) -> list[int]:
    """The postmaster (first line of postmaster.pid) and its children."""
    with contextlib.suppress(OSError, ValueError):
        master = int((data_dir / "postmaster.pid").read_text().split()[0])
        children = [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
        return [master, *children]
    return []


def growing(series: list[int]) -> bool:
    """Steady growth through the second half: at least 80 % of its samples above the one before
    and the last more than 10 % over the half's start (a warm-up plateau or a sawtooth passes)."""
    half = series[len(series) // 2 :]
    if len(half) < 3:
        return False
    rises = sum(b > a for a, b in itertools.pairwise(half))
    return rises >= 0.8 * (len(half) - 1) and half[-1] > half[0] * 1.10


class Load:
    def __init__(self, cluster: Cluster, channel: Any, secret: str, run: str):
        self.cluster = cluster
        self.channel = channel
        self.secret = secret
        self.run = run
        self.counts: Counter[str] = Counter()
        self.conversations: dict[int, str] = {}  # customer → conversation global id
        self.lag = 0.0

    def webhook(self, i: int, customer: int) -> tuple[str, bytes, dict[str, str]]:
        from connectors.fakes.whatsapp import inbound_text_payload, sign

        payload = inbound_text_payload(
            self.channel.config["phone_number_id"],
            wa_id=f"5511{customer:08d}",
            name=f"Soak {customer}",
            text=f"soak {self.run} {i}",
            wamid=f"wamid.soak.{self.run}.{i}",
        )
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(self.secret, body)}
        return f"/webhooks/whatsapp/{self.channel.id}", body, headers

    async def post(self, client: Any, i: int, customer: int) -> None:
        path, body, headers = self.webhook(i, customer)
        for attempt in range(8):
            try:
                r = await client.post(self.cluster.bases[i % 2] + path, content=body, headers=headers)
                self.counts[f"webhook {r.status_code}"] += 1
                if r.status_code == 200:
                    return
            except Exception as exc:
                self.counts[f"webhook {type(exc).__name__}"] += 1
            await asyncio.sleep(0.25 * 2**attempt)

    async def reply(self, client: Any, token: str, customer: int, i: int) -> None:
        conversation = self.conversations.get(customer)
        if conversation is None:
            return
        query = "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }"
        variables = {
            "input": {"conversationId": conversation, "clientMessageId": f"{self.run}-{i}", "text": f"re {i}"}
        }
        try:
            r = await client.post(
                self.cluster.bases[(i + 1) % 2] + "/graphql",
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {token}"},
            )
            self.counts[
                "reply ok" if r.status_code == 200 and "errors" not in r.json() else "reply error"
            ] += 1
            if RESOLVE_EVERY and i % RESOLVE_EVERY == 0:
                resolve = "mutation($id: ID!) { setConversationStatus(conversationId: $id, status: RESOLVED) { id } }"
                r = await client.post(
                    self.cluster.bases[i % 2] + "/graphql",
                    json={"query": resolve, "variables": {"id": conversation}},
                    headers={"Authorization": f"Bearer {token}"},
                )
                self.counts[
                    "resolve ok" if r.status_code == 200 and "errors" not in r.json() else "resolve error"
                ] += 1
        except Exception as exc:
            self.counts[f"reply {type(exc).__name__}"] += 1

    async def steady(self, token: str, until: float) -> None:
        """RATE webhooks a second (a reply every REPLY_EVERY), paced by the clock, not by answers."""
        import httpx

        limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            tasks: set[asyncio.Task[None]] = set()
            # At most this many requests in flight: a server that cannot keep up shows as lag
            # (the generator falls behind the clock), not as an ever-growing pile of requests.
            in_flight = asyncio.Semaphore(256)

            def spawn(work: Any) -> None:
                async def bounded() -> None:
                    try:
                        await work
                    finally:
                        in_flight.release()

                job = asyncio.create_task(bounded())
                tasks.add(job)
                job.add_done_callback(tasks.discard)

            started = time.monotonic()
            i = 0
            while time.monotonic() < until:
                due = started + i / RATE
                now = time.monotonic()
                if due > now:
                    await asyncio.sleep(due - now)
                else:
                    self.lag = now - due
                customer = i % CUSTOMERS
                await in_flight.acquire()
                spawn(self.post(client, i, customer))
                if REPLY_EVERY and i % REPLY_EVERY == 0:
                    await in_flight.acquire()
                    spawn(self.reply(client, token, customer, i))
                i += 1
            await asyncio.gather(*tasks, return_exceptions=True)
            self.counts["webhooks sent"] += i


async def follow(
    base: str, token: str, query: str, variables: dict[str, Any], seen: Counter[str], stop: asyncio.Event
) -> None:
    from websockets.asyncio.client import connect

    while not stop.is_set():
        with contextlib.suppress(Exception):
            async with connect(
                base.replace("http", "ws", 1) + "/graphql",
                subprotocols=["graphql-transport-ws"],
                max_queue=None,
            ) as ws:
                await ws.send(
                    json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
                )
                await ws.recv()
                await ws.send(
                    json.dumps(
                        {"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}}
                    )
                )
                async for raw in ws:
                    kind = json.loads(raw).get("type")
                    if kind == "ping":
                        await ws.send(json.dumps({"type": "pong"}))
                    seen[kind] += 1
                    if stop.is_set():
                        return
        seen["reconnect"] += 1
        await asyncio.sleep(1)


async def main() -> int:
    if shutil.which("redis-server") is None:
        print("soak needs redis-server")
        return 2
    from connectors.fakes.whatsapp import FakeWhatsApp
    from core import db as core_db
    from models import Role
    from schema.relay import to_global_id
    from tests.faults.load import login
    from tests.helpers import make_channel, make_user

    root = make_root()
    os.environ["PYTAKE_DATA_DIR"] = str(root / "data")
    postgres, redis = PrivatePostgres(root), PrivateRedis(root)
    postgres.init()
    postgres.start()
    redis.start()
    db_url = core_db.with_database(postgres.url, "pytake_soak")
    await core_db.ensure_database(postgres.url, "pytake_soak")
    await core_db.migrate(db_url)
    ports = [free_port(), free_port()]
    bases = [f"http://127.0.0.1:{p}" for p in ports]
    fake = FakeWhatsApp()
    async with fake.serve() as fake_base:
        # uvicorn (serving the fake) took SIGTERM/SIGINT over; a stopped soak must still clean up.
        main_task = asyncio.current_task()
        assert main_task is not None
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, main_task.cancel)
        await core_db.init_orm(db_url)
        secret, access = uuid.uuid4().hex, uuid.uuid4().hex
        channel = await make_channel(
            "whatsapp",
            {"phone_number_id": "1065400001", "api_base": fake_base, "api_version": "v21.0"},
            {"app_secret": secret, "access_token": access, "verify_token": "v"},
        )
        import tests.helpers as helpers

        helpers.PASSWORD = PASSWORD
        agents = [await make_user(Role.ADMIN)] + [await make_user(Role.AGENT) for _ in range(9)]
        await core_db.close_orm()
        fake.add_number(
            "1065400001",
            access_token=access,
            app_secret=secret,
            webhook_url=f"{bases[0]}/webhooks/whatsapp/{channel.id}",
        )
        fake.auto_statuses = ["delivered", "read"]
        env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "REDIS_URL": redis.url,
            "PYTAKE_NAMESPACE": "soak",
            "PUBLIC_URL": bases[0],
            "GRAPHQL_RATE_PER_MINUTE": "100000000",
            "LOGIN_RATE_PER_MINUTE": "100000",
            # The load generators are one address, one agent and one channel at hundreds a second.
            "USER_RATE_PER_MINUTE": "100000000",
            "WEBHOOK_RATE_PER_MINUTE": "100000000",
            "GRAPHQL_COST_PER_MINUTE": "1000000000",
            "ACCESS_TOKEN_TTL": str(int(MINUTES * 60 + 3600)),  # the agents stay signed in throughout
        }
        apis, workers = api_and_worker_services(root, env, ports)
        cluster = Cluster(root, postgres, redis, db_url, apis, workers, bases)
        stop = asyncio.Event()
        try:
            for service in [*apis, *workers]:
                service.start()
            await cluster.wait_ready()
            tokens = [await login(bases, a.email, PASSWORD) for a in agents]
            run = uuid.uuid4().hex[:6]
            load = Load(cluster, channel, secret, run)
            # Warm-up: every customer writes once, so replies and live views have conversations.
            await load.steady(tokens[0], time.monotonic() + CUSTOMERS / RATE + 1)
            rows = await cluster.sql(
                "SELECT DISTINCT ON (i.external_id) i.external_id, c.id FROM conversations c "
                "JOIN customer_identities i ON i.id = c.identity_id ORDER BY i.external_id, c.id DESC"
            )
            for r in rows:
                with contextlib.suppress(ValueError):
                    load.conversations[int(r["external_id"][4:])] = to_global_id("Conversation", r["id"])
            seen: Counter[str] = Counter()
            views = []
            for n in range(SUBSCRIBERS):
                token = tokens[n % len(tokens)]
                if n < INBOX_VIEWS:
                    q, v = "subscription { inboxEvents { cursor } }", {}
                else:
                    q = "subscription($id: ID!) { conversationEvents(conversationId: $id) { cursor } }"
                    v = {
                        "id": load.conversations.get(n % CUSTOMERS) or next(iter(load.conversations.values()))
                    }
                views.append(asyncio.create_task(follow(bases[n % 2], token, q, v, seen, stop)))
            samples: list[dict[str, int]] = []
            cpu: list[dict[str, float]] = []  # CPU share of one core per process group, per interval
            groups = {
                **{s.name: s.pids for s in [*apis, *workers]},
                "postgres": lambda: postgres_pids(postgres.data),
                "redis": lambda: [redis.proc.pid] if redis.proc else [],
                "soak (load)": lambda: [os.getpid()],
            }
            last_cpu = {name: cpu_seconds(pids()) for name, pids in groups.items()}
            last_machine, last_at = machine_busy(), time.monotonic()
            sizes: list[dict[str, tuple[int, int, int]]] = []
            until = time.monotonic() + MINUTES * 60
            steady = asyncio.create_task(load.steady(tokens[0], until))
            started = time.monotonic()
            while not steady.done():
                await asyncio.wait([steady], timeout=SAMPLE_SECONDS)
                sample = {s.name: rss_kib(s.pids()) for s in [*apis, *workers]}
                sample["postgres"] = rss_kib(postgres_pids(postgres.data))
                sample["pg private"] = rss_kib(postgres_pids(postgres.data), PRIVATE)
                sample["redis"] = rss_kib([redis.proc.pid] if redis.proc else [])
                sample["soak (load)"] = rss_kib([os.getpid()])
                samples.append(sample)
                now_cpu = {name: cpu_seconds(pids()) for name, pids in groups.items()}
                now_machine, now_at = machine_busy(), time.monotonic()
                interval = now_at - last_at
                share = {n: (now_cpu[n] - last_cpu[n]) / interval for n in groups}
                busy, total = (now_machine[i] - last_machine[i] for i in (0, 1))
                share["machine busy"] = busy / total * (os.cpu_count() or 1) if total else 0.0
                cpu.append(share)
                last_cpu, last_machine, last_at = now_cpu, now_machine, now_at
                table = await cluster.sql(
                    "SELECT c.relname AS name, pg_relation_size(c.oid) AS heap, pg_indexes_size(c.oid) AS idx, "
                    "COALESCE(s.n_dead_tup, 0) AS dead FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
                    "WHERE c.relname = ANY($1::text[]) AND c.relkind = 'r'",
                    list(TABLES),
                )
                sizes.append({r["name"]: (r["heap"], r["idx"], r["dead"]) for r in table})
                minute = (time.monotonic() - started) / 60
                print(
                    f"[{minute:5.1f} min] lag {load.lag:5.2f}s "
                    + " ".join(f"{k}={v // 1024}MB" for k, v in sample.items())
                    + f" | {dict(load.counts)} | live {dict(seen)}",
                    flush=True,
                )
            stop.set()
            for view in views:
                view.cancel()
            await asyncio.gather(*views, return_exceptions=True)
            return report(samples, sizes, cpu, load, seen, time.monotonic() - started)
        finally:
            cluster.stop()
            if not os.environ.get("SOAK_KEEP"):
                shutil.rmtree(root, ignore_errors=True)


def report(
    samples: list[dict[str, int]],
    sizes: list[dict[str, tuple[int, int, int]]],
    cpu: list[dict[str, float]],
    load: Load,
    seen: Counter[str],
    seconds: float,
) -> int:
    names = list(samples[0]) if samples else []
    print(
        f"\nbench/soak  {MINUTES:g} min, target {RATE:g} webhooks/s, a reply every {REPLY_EVERY}, {SUBSCRIBERS} live views"
    )
    print(
        f"  achieved: {load.counts['webhook 200'] / seconds:.0f} webhooks/s, {load.counts['reply ok'] / seconds:.0f} replies/s; {dict(load.counts)}"
    )
    print(f"  live views: {dict(seen)}")
    print("\n  RSS (MB) per minute\n  min  " + " ".join(f"{n:>12}" for n in names))
    for minute, sample in enumerate(samples, 1):
        print(f"  {minute:3d}  " + " ".join(f"{sample[n] / 1024:12.0f}" for n in names))
    cores = os.cpu_count() or 1
    print(
        f"\n  CPU (cores used, of {cores}) per minute: where the time went, and whether the machine was the limit"
        "\n  min  " + " ".join(f"{n:>12}" for n in (cpu[0] if cpu else {}))
    )
    for minute, share in enumerate(cpu, 1):
        print(f"  {minute:3d}  " + " ".join(f"{v:12.2f}" for v in share.values()))
    print(capacity(cpu, load.counts["webhook 200"] / seconds, cores))
    print("\n  PostgreSQL heap / indexes (MB), dead tuples\n  min  " + " ".join(f"{t:>24}" for t in TABLES))
    for minute, size in enumerate(sizes, 1):
        cells = (
            f"{size.get(t, (0, 0, 0))[0] / 2**20:7.1f}/{size.get(t, (0, 0, 0))[1] / 2**20:6.1f} {size.get(t, (0, 0, 0))[2]:8d}"
            for t in TABLES
        )
        print(f"  {minute:3d}  " + " ".join(f"{c:>24}" for c in cells))
    failed = [n for n in names if n not in NOT_JUDGED and growing([s[n] for s in samples])]
    print(f"\n  steadily growing RSS: {', '.join(failed) if failed else 'none'}")
    return 1 if failed else 0


def capacity(cpu: list[dict[str, float]], achieved: float, cores: int) -> str:
    """Whether the target rate fits this machine: the CPU the run spent per webhook (its replies,
    statuses and live deliveries included), PyTake's parties apart from the load generator, scaled
    to RATE. When the machine was the limit, this is the measurement that says so."""
    if not cpu or achieved <= 0:
        return "\n  capacity: no samples"
    mean = {name: sum(share[name] for share in cpu) / len(cpu) for name in cpu[0]}
    generator = mean.pop("soak (load)", 0.0)
    busy = mean.pop("machine busy", 0.0)
    pytake = sum(mean.values())
    per_webhook = pytake / achieved * 1000
    return (
        f"\n  capacity: at {achieved:.0f} webhooks/s the machine was {busy:.2f} of {cores} cores busy; "
        f"PyTake (API, workers, PostgreSQL, Redis) spent {per_webhook:.1f} ms of CPU per webhook with its share of "
        f"replies, statuses and live deliveries, the load generator {generator / achieved * 1000:.1f} ms. "
        f"{RATE:g}/s would need {pytake / achieved * RATE:.2f} cores for PyTake alone "
        f"and {(pytake + generator) / achieved * RATE:.2f} with the generator."
    )


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
