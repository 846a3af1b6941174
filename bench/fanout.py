"""bench/fanout: live fan-out of `inboxEvents` to many graphql-transport-ws subscribers on ONE API
process, while signed WhatsApp webhooks arrive at a steady rate.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/0 make bench-fanout

For each size in BENCH_SUBSCRIBERS (250,1000,2000): that many subscribers (the web app's inbox
document, one connection each, spread over BENCH_CLIENT_PROCESSES processes) of mixed roles and
teams, and BENCH_RATE (20) webhooks a second for BENCH_SECONDS (60). Printed: events received per
subscriber (all of them, or how many fell short), webhook→event p50/p99 over every delivery,
webhook p50/p99 under fan-out against the same webhooks with no subscriber (the baseline, measured
first in the same run), API CPU per event, and the API's RSS idle (subscribed, before the load)
and loaded. Then BENCH_IDLE (10,000) idle subscriptions in the one process: RSS and per
subscription (goal: under 1 GiB in all).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import uuid
from array import array
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    KeepAliveClient,
    bench_database,
    checkout_pythonpath,
    free_port,
    percentile,
    require_production_env,
    stop_group,
    web_app_operations,
)
from bench.wsclients import Subscription, client_process
from connectors.fakes.whatsapp import inbound_text_payload

os.environ.setdefault("ACCESS_TOKEN_TTL", "3600")  # the tokens minted here outlive the run

# BENCH_SUBSCRIBERS=0 (with BENCH_COMPARE_SUBSCRIBERS=0): only the idle subscriptions, no load.
SIZES = [
    n
    for n in (int(x) for x in os.environ.get("BENCH_SUBSCRIBERS", "250,1000,2000").split(",") if x.strip())
    if n
]
SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
RATE = float(os.environ.get("BENCH_RATE", "20"))
IDLE = int(os.environ.get("BENCH_IDLE", "10000"))
CLIENT_PROCESSES = int(os.environ.get("BENCH_CLIENT_PROCESSES", "2"))
BASELINE_SECONDS = float(os.environ.get("BENCH_BASELINE_SECONDS", str(min(SECONDS, 20.0))))
TRACEMALLOC = os.environ.get("BENCH_TRACEMALLOC")  # a folder: where the idle subscriptions' memory goes
# The same load on a process serving each subscriber on its own (before the shared fan-out): the
# baseline for CPU per delivery. 0 skips it.
COMPARE = int(os.environ.get("BENCH_COMPARE_SUBSCRIBERS", "250"))
# BENCH_TRACE=1: the timeline of each event, webhook to last subscriber (core/timeline.py in the
# API, first and last arrival per event in the subscriber processes), and both sides' stalls.
TRACE = bool(os.environ.get("BENCH_TRACE"))
CUSTOMERS = 200
TEAMS = 4
PHONE_NUMBER_ID = "106540352242923"
ROOT = Path(__file__).resolve().parents[1]
TRACE_DIR = tempfile.mkdtemp(prefix="bench-fanout-") if TRACE else ""


def inbox_document() -> str:
    """The web app's own live inbox document (frontend/src/api/operations.ts)."""
    fields = web_app_operations()["CONVERSATION_FIELDS"]
    return (
        "subscription($after: String) { inboxEvents(after: $after) { cursor type conversation { "
        + " ".join(fields.split())
        + " } } }"
    )


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.asynccontextmanager
async def one_api_process(
    db_url: str, namespace: str, extra: dict[str, str] | None = None
) -> AsyncIterator[tuple[str, int]]:
    """`pytake serve` with one worker (uvicorn runs in the process we start: its pid is the API's)."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "PYTAKE_NAMESPACE": namespace,
        "PYTAKE_INPROCESS_WORKER": "0",
        "PYTAKE_DEMO": "0",
        "LOG_LEVEL": "WARNING",
        "GRAPHQL_RATE_PER_MINUTE": "100000000",  # the load generator is one address
        "USER_RATE_PER_MINUTE": "100000000",
        "WEBHOOK_RATE_PER_MINUTE": "100000000",
        "ACCESS_TOKEN_TTL": "3600",
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        # This checkout's code, whichever checkout the venv's editable install points at.
        "PYTHONPATH": checkout_pythonpath(),
        **(extra or {}),
    }
    if TRACE:
        env["PYTAKE_FANOUT_TRACE"] = str(Path(TRACE_DIR) / "timeline-{pid}.jsonl")
    if TRACEMALLOC:  # bench/memtrace/sitecustomize.py snapshots the API every few seconds
        os.makedirs(TRACEMALLOC, exist_ok=True)
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(ROOT / "bench" / "memtrace"), env.get("PYTHONPATH")])
        )
        env.update(SOAK_TRACEMALLOC_DIR=TRACEMALLOC, SOAK_TRACEMALLOC_DELAY="1", SOAK_TRACEMALLOC_EVERY="5")
        env["SOAK_TRACEMALLOC_FRAMES"] = "1"  # the allocating line is enough, and cheap
    cmd = [str(Path(sys.executable).parent / "pytake"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(1200):  # a busy machine (or tracemalloc) makes start-up slow
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{base}/readyz")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("API did not become ready")
        yield base, proc.pid
    finally:
        stop_group(proc)


async def seed(db_url: str, users: int) -> tuple[int, str, list[str]]:
    """A WhatsApp channel and `users` subscribers: admins, supervisors and agents granted every
    conversation, over TEAMS teams, so they see every event and fall into a few execution groups."""
    from core.auth import hash_password, issue_access_token
    from core.crypto import encrypt_secrets
    from core.db import close_orm, init_orm
    from models import AssignmentStrategy, Channel, Role, Team, TeamMember, User

    secret = "bench-app-secret"
    await init_orm(db_url)
    try:
        channel = await Channel.create(
            platform="whatsapp",
            name="bench-fanout",
            config={"phone_number_id": PHONE_NUMBER_ID, "api_base": "http://127.0.0.1:9"},
            secrets_encrypted=encrypt_secrets(
                {"app_secret": secret, "access_token": "x", "verify_token": "y"}
            ),
        )
        teams = [
            await Team.create(name=f"bench-team-{t}", strategy=AssignmentStrategy.MANUAL)
            for t in range(TEAMS)
        ]
        password = hash_password("bench-password")
        roles = [
            Role.ADMIN if i % 20 == 0 else Role.SUPERVISOR if i % 10 == 0 else Role.AGENT
            for i in range(users)
        ]
        await User.bulk_create(
            [
                User(
                    email=f"fan{i}@bench.local",
                    name=f"Agent {i}",
                    role=roles[i],
                    password_hash=password,
                    sees_all_conversations=True,
                )
                for i in range(users)
            ],
            batch_size=1000,
        )
        created = await User.filter(email__endswith="@bench.local").order_by("id").values_list("id", "role")
        await TeamMember.bulk_create(
            [TeamMember(team_id=teams[i % TEAMS].id, user_id=uid) for i, (uid, _) in enumerate(created)],
            batch_size=1000,
        )
        tokens = [issue_access_token(uid, Role(role))[0] for uid, role in created]
    finally:
        await close_orm()
    return channel.id, secret, tokens


class Webhooks:
    """Signed WhatsApp text webhooks, each a new message carrying its index and send time."""

    def __init__(self, base: str, channel_id: int, secret: str) -> None:
        self.base, self.path, self.secret = base, f"/webhooks/whatsapp/{channel_id}", secret.encode()
        self.next = 0
        self.run = uuid.uuid4().hex[:6]

    def body(self, i: int) -> tuple[bytes, str]:
        customer = i % CUSTOMERS
        payload = inbound_text_payload(
            PHONE_NUMBER_ID,
            wa_id=f"55219{customer:07d}",
            name=f"Customer {customer}",
            text=f"fo{i}t{time.time():.6f}",
            wamid=f"wamid.fan.{self.run}.{i}",
        )
        body = json.dumps(payload).encode()
        return body, "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()

    async def steady(self, seconds: float, *, first: int | None = None) -> tuple[list[float], int, int]:
        """RATE a second, open loop (each at its planned time whatever the answers): (latencies,
        first index, failures)."""
        start_index = self.next if first is None else first
        count = int(seconds * RATE)
        self.next = start_index + count
        lanes = [KeepAliveClient(self.base) for _ in range(16)]
        free = list(lanes)
        latencies: list[float] = []
        failures = 0
        loop = asyncio.get_running_loop()
        t0 = loop.time()

        async def one(i: int) -> None:
            nonlocal failures
            lane = free.pop() if free else KeepAliveClient(self.base)
            body, signature = self.body(i)
            started = time.perf_counter()
            try:
                status, _ = await lane.post(
                    self.path, body, {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
                )
            except Exception:
                status = 0
            latencies.append(time.perf_counter() - started)
            if status != 200:
                failures += 1
            free.append(lane)

        tasks = []
        for n in range(count):
            await asyncio.sleep(max(0.0, t0 + n / RATE - loop.time()))
            tasks.append(asyncio.create_task(one(start_index + n)))
        await asyncio.gather(*tasks)
        for lane in free:
            await lane.close()
        return latencies, start_index, failures


class Clients:
    """Subscriber processes (bench/wsclients.py)."""

    def __init__(self, base: str, tokens: list[str], subscription: Subscription) -> None:
        host, port = base.removeprefix("http://").split(":")
        ctx = multiprocessing.get_context("spawn")
        self.results: Any = ctx.Queue()
        self.controls: list[Any] = []
        self.procs: list[Any] = []
        per = max(1, -(-len(tokens) // CLIENT_PROCESSES))
        for chunk in (tokens[i : i + per] for i in range(0, len(tokens), per)):
            control = ctx.Queue()
            proc = ctx.Process(
                target=client_process,
                args=(host, int(port), chunk, subscription, control, self.results),
            )
            proc.start()
            self.controls.append(control)
            self.procs.append(proc)

    async def _get(self, timeout: float) -> Any:
        message = await asyncio.to_thread(self.results.get, True, timeout)
        if message[0] == "failed":
            raise RuntimeError(f"a subscriber process failed: {message[1]}")
        return message

    async def ready(self) -> int:
        opened = 0
        for _ in self.procs:
            opened += (await self._get(600))[1]
        return opened

    async def counts(self) -> list[int]:
        for control in self.controls:
            control.put("report")
        out: list[int] = []
        for _ in self.procs:
            out += (await self._get(60))[1]
        return out

    async def finish(self) -> tuple[list[int], array, Counter[str], float]:
        for control in self.controls:
            control.put("stop")
        counts: list[int] = []
        latencies = array("d")
        errors: Counter[str] = Counter()  # each failed subscriber's first error, by text
        cpu = 0.0
        self.arrivals: dict[int, list[float]] = {}  # event index → [first, last] receive, all processes
        self.lags = array("d")
        self.silent: Counter[str] = Counter()
        for _ in self.procs:
            _, c, raw, e, seconds, arrivals, lags, silent = await self._get(120)
            self.silent.update(silent)
            counts += c
            latencies.frombytes(raw)
            errors.update(e)
            cpu += seconds
            for i, (first, last) in arrivals.items():
                seen = self.arrivals.setdefault(i, [first, last])
                seen[0], seen[1] = min(seen[0], first), max(seen[1], last)
            self.lags.frombytes(lags)
        for proc in self.procs:
            proc.join(10)
        return counts, latencies, errors, cpu


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


async def main() -> None:
    require_production_env()
    document = inbox_document()
    users = max([*SIZES, IDLE, 1])
    async with bench_database() as db_url:
        channel_id, secret, tokens = await seed(db_url, users)
        results: dict[int, float] = {}  # subscribers → API CPU seconds per delivery
        async with one_api_process(db_url, f"bench-fan-{uuid.uuid4().hex[:6]}") as (base, pid):
            print(f"  API process pid {pid}")
            hooks = Webhooks(base, channel_id, secret)
            await hooks.steady(2.0)  # warm-up: customers and conversations exist
            print(f"\nbench/fanout  rate={RATE:g}/s seconds={SECONDS:g} client_processes={CLIENT_PROCESSES}")
            print(f"  API RSS, no subscriber: {rss_mb(pid):.0f} MB")
            base_lat, _, base_fail = await hooks.steady(BASELINE_SECONDS if SIZES or COMPARE else 0)
            base_p50, base_p99 = percentile(base_lat, 50), percentile(base_lat, 99)
            print(
                f"  baseline, no subscriber: webhook p50 {ms(base_p50)} p99 {ms(base_p99)}"
                f" ({len(base_lat)} webhooks, {base_fail} failed)"
            )
            for n in SIZES:
                results[n] = await run_size(n, base, pid, hooks, tokens[:n], document, base_p99)
            await run_idle(IDLE, base, pid, hooks, tokens[:IDLE], document, db_url)
        if COMPARE:
            extra = {"PYTAKE_SHARED_FANOUT": "0"}
            async with one_api_process(db_url, f"bench-fan-{uuid.uuid4().hex[:6]}", extra) as (base, pid):
                hooks = Webhooks(base, channel_id, secret)
                await hooks.steady(2.0)
                print(f"  per-subscriber execution (before; PYTAKE_SHARED_FANOUT=0), {COMPARE} subscribers:")
                before = await run_size(COMPARE, base, pid, hooks, tokens[:COMPARE], document, base_p99)
            if COMPARE in results:
                shared = results[COMPARE]
                print(
                    f"  shared / per-subscriber at {COMPARE}: API CPU per delivery "
                    f"{shared / before:.2f} ({shared * 1e6:.0f} vs {before * 1e6:.0f} µs)"
                )


async def run_size(
    n: int, base: str, pid: int, hooks: Webhooks, tokens: list[str], document: str, base_p99: float
) -> float:
    """One load at `n` subscribers, printed; returns the API's CPU seconds per delivery."""
    count = int(SECONDS * RATE)
    first = hooks.next
    clients = Clients(base, tokens, Subscription(document, first + count))
    try:
        opened = await clients.ready()
        await asyncio.sleep(1.0)
        idle_rss = rss_mb(pid)
        cpu0 = cpu_seconds(pid)
        peak = [idle_rss]

        async def sample() -> None:
            while True:
                await asyncio.sleep(1.0)
                peak.append(rss_mb(pid))

        sampler = asyncio.create_task(sample())
        latencies, first, failures = await hooks.steady(SECONDS)
        expected = count
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:  # let the last events arrive
            got = await clients.counts()
            if got and min(got) >= expected:
                break
            await asyncio.sleep(1.0)
        sampler.cancel()
        api_cpu = cpu_seconds(pid) - cpu0
        counts, delivered, errors, client_cpu = await clients.finish()
    finally:
        for proc in clients.procs:
            if proc.is_alive():
                proc.kill()
    complete = sum(1 for c in counts if c >= expected)
    p50, p99 = percentile(delivered.tolist(), 50), percentile(delivered.tolist(), 99)
    w50, w99 = percentile(latencies, 50), percentile(latencies, 99)
    print(f"  {n} subscribers ({opened} opened, {errors.total()} errors):")
    _print_errors(errors)
    print(
        f"    events per subscriber: min {min(counts) if counts else 0} / {expected}; "
        f"{complete}/{len(counts)} got every event"
    )
    print(
        f"    webhook→event p50 {ms(p50)} p99 {ms(p99)} over {len(delivered)} deliveries (goal p99 < 100 ms)"
    )
    print(
        f"    webhook under fan-out p50 {ms(w50)} p99 {ms(w99)} ({failures} failed); "
        f"p99 / no-subscriber p99 = {w99 / base_p99:.2f}"
    )
    print(
        f"    API CPU {api_cpu:.1f} s for {expected} events = {api_cpu / expected * 1000:.1f} ms per event "
        f"({api_cpu / max(1, len(delivered)) * 1e6:.0f} µs per delivery); subscribers' CPU {client_cpu:.1f} s"
    )
    print(f"    API RSS idle (subscribed) {idle_rss:.0f} MB, loaded peak {max(peak):.0f} MB")
    if TRACE:
        timeline(pid, clients, first, count, client_cpu, len(delivered))
    return api_cpu / max(1, len(delivered))


def timeline(pid: int, clients: Clients, first: int, count: int, client_cpu: float, delivered: int) -> None:
    """Where the time from webhook to last subscriber went (BENCH_TRACE): per stage, p50 / p99 /
    max over the run's events, then the stalls of the API process and of the subscribers'."""
    path = Path(TRACE_DIR) / f"timeline-{pid}.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    events, gcs, lags = [], [], []
    for line in lines:
        if "gc" in line:
            gcs.append(line)
        elif "lag" in line:
            lags.append(line)
        elif line.get("marker"):
            index, sent = line["marker"][2:].split("t")
            if first <= int(index) < first + count and "commit" in line:
                events.append((float(sent), line, clients.arrivals.get(int(index))))
    if not events:
        print("    timeline: no traced event")
        return
    stages = [
        ("webhook sent → committed", lambda s, e, a: e["commit"] - s),
        ("committed → sequenced", lambda s, e, a: e["sequenced"] - e["commit"]),
        ("sequenced → published", lambda s, e, a: e["published"] - e["sequenced"]),
        ("published → follower took it", lambda s, e, a: e["taken"] - e["published"]),
        ("took → admitted (who gets it)", lambda s, e, a: e["admitted"] - e["taken"]),
        ("admitted → executed, its turn", lambda s, e, a: e["rendered"] - e["admitted"]),
        (
            "rendered → first frame written",
            lambda s, e, a: e["first"] - e["rendered"] if "first" in e else None,
        ),
        ("first → last frame written", lambda s, e, a: e["last"] - e["first"] if "first" in e else None),
        ("last written → last received", lambda s, e, a: a[1] - e["last"] if a and "last" in e else None),
        ("webhook sent → first received", lambda s, e, a: a[0] - s if a else None),
        ("webhook sent → last received", lambda s, e, a: a[1] - s if a else None),
    ]
    print(f"    timeline of {len(events)} events (ms: p50 / p99 / max):")
    for name, stage in stages:
        values = [v for v in (stage(*event) for event in events) if v is not None]
        if values:
            print(
                f"      {name:32} {percentile(values, 50) * 1000:7.1f} {percentile(values, 99) * 1000:7.1f}"
                f" {max(values) * 1000:7.1f}"
            )
    start = min(s for s, _, _ in events)
    end = max(e.get("last", e["rendered"]) for _, e, _ in events)
    gcs = [g for g in gcs if start <= g["at"] <= end + 1]
    lags = [g for g in lags if start <= g["at"] <= end + 1]
    print(
        f"      API GC pauses ≥ 5 ms: {len(gcs)}"
        + (
            f" (generation 2: {sum(g['gc'] == 2 for g in gcs)}; max {max(g['s'] for g in gcs) * 1000:.0f} ms,"
            f" {max(g['cpu'] for g in gcs) * 1000:.0f} ms of CPU)"
            if gcs
            else ""
        )
        + f"; API loop late ≥ 5 ms: {len(lags)}"
        + (f" (max {max(g['lag'] for g in lags) * 1000:.0f} ms)" if lags else "")
    )
    client_lags = clients.lags.tolist()
    print(
        f"      subscriber processes: {client_cpu / max(1, delivered) * 1e6:.1f} µs CPU per frame received;"
        f" loop late ≥ 5 ms: {len(client_lags)}"
        + (
            f" (p99 {percentile(client_lags, 99) * 1000:.0f} ms, max {max(client_lags) * 1000:.0f} ms)"
            if client_lags
            else ""
        )
    )


async def run_idle(
    n: int, base: str, pid: int, hooks: Webhooks, tokens: list[str], document: str, db_url: str
) -> None:
    """`n` idle subscriptions: the API's RSS once they are open, then one webhook, whose event
    every one of them must receive (they subscribe after the log's head, so a late `subscribe` still gets it)."""
    if n <= 0:
        return
    before = rss_mb(pid)
    snapshot_before = _latest_snapshot(pid)
    started = time.monotonic()
    # Each subscribes after the log's head, as the web app resumes after its last cursor: a
    # subscription without a cursor is live from when the server takes its `subscribe`, which for
    # the last of 10,000 can come after the check event (an acknowledgement precedes it).
    import asyncpg

    from core.db import asyncpg_dsn

    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        head = await conn.fetchval("SELECT coalesce(max(seq), 0) FROM events")
    finally:
        await conn.close()
    clients = Clients(base, tokens, Subscription(document, hooks.next + 1, {"after": str(head)}))
    try:
        opened = await clients.ready()
        opening = time.monotonic() - started
        await asyncio.sleep(12.0 if TRACEMALLOC else 2.0)
        after = rss_mb(pid)
        if TRACEMALLOC and snapshot_before is not None:
            _where_it_went(snapshot_before, _latest_snapshot(pid), opened)
        await hooks.steady(1.0 / RATE)  # one event
        reached, deadline = 0, time.monotonic() + 60
        while time.monotonic() < deadline:
            reached = sum(1 for c in await clients.counts() if c)
            if reached == n:
                break
            await asyncio.sleep(1.0)
        _, _, errors, _ = await clients.finish()
    finally:
        for proc in clients.procs:
            if proc.is_alive():
                proc.kill()
    print(
        f"  {n} idle subscriptions ({opened} opened, {errors.total()} errors, {reached} got the event sent"
        f" after): API RSS {after:.0f} MB (from {before:.0f} MB: {(after - before) * 1024 / max(1, opened):.1f}"
        f" KB each; goal < 1024 MB); opened in {opening:.0f} s"
    )
    _print_errors(errors)
    if reached < opened:
        print("    subscribers that got no event, by the last message they got:")
        _print_errors(clients.silent)


def _print_errors(errors: Counter[str]) -> None:
    for text, count in errors.most_common(10):
        print(f"    {count:6} × {text}")


def _latest_snapshot(pid: int) -> Path | None:
    if not TRACEMALLOC:
        return None
    snaps = sorted(Path(TRACEMALLOC).glob(f"serve-{pid}-*.snap"))
    return snaps[-1] if snaps else None


def _where_it_went(before: Path, after: Path | None, subscriptions: int) -> None:
    """The allocation sites that grew with the idle subscriptions, per subscription."""
    import tracemalloc

    if after is None or after == before:
        print("    (no tracemalloc snapshot after the subscriptions opened)")
        return
    old, new = tracemalloc.Snapshot.load(str(before)), tracemalloc.Snapshot.load(str(after))
    stats = new.compare_to(old, "lineno")
    total = sum(s.size_diff for s in stats)
    print(f"    traced Python allocations: +{total / 1024 / max(1, subscriptions):.1f} KB per subscription")
    for stat in stats[:25]:
        frame = stat.traceback[0]
        print(
            f"      {stat.size_diff / max(1, subscriptions):8.0f} B  {stat.count_diff / max(1, subscriptions):6.2f} blocks"
            f"  {frame.filename.rsplit('site-packages/', 1)[-1]}:{frame.lineno}"
        )


if __name__ == "__main__":
    asyncio.run(main())
