"""bench/inbox: the agent's inbox query (50 conversations with customer, assignee and last message)
on 10,000 conversations × 20 messages, at 4 and 50 concurrent connections; baseline is the same
data fetched with raw asyncpg in the same run (the SQL the server runs, without GraphQL). The API
runs twice, with the general executor (GRAPHQL_PLANNER=0) and with the read path planner
(schema/planner/), each beside its own raw baseline; both must answer the inbox byte for byte alike.

    DATABASE_URL=… REDIS_URL=… make bench-inbox   (BENCH_CONVERSATIONS, BENCH_MESSAGES, BENCH_SECONDS)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

from bench.common import KeepAliveClient, api_processes, bench_database, percentile, require_production_env

CONVERSATIONS = int(os.environ.get("BENCH_CONVERSATIONS", "10000"))
MESSAGES = int(os.environ.get("BENCH_MESSAGES", "20"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
INBOX = """query { conversations(first: 50) { edges { cursor node { id status unreadCount lastMessageAt
  customer { name phone } assignee { name } lastMessage { text status direction createdAt } } }
  pageInfo { hasNextPage endCursor } } }"""


async def seed(db_url: str) -> None:
    """Bulk rows straight into the tables (the ingest path is bench/ingest's business)."""
    from core.auth import hash_password
    from core.db import asyncpg_dsn

    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    pw = hash_password("bench-password")
    await conn.execute(
        "INSERT INTO users (email, name, password_hash, role, is_active, created_at, updated_at) "
        "SELECT 'agent' || g || '@bench', 'Agent ' || g, $1, 'agent', true, now(), now() FROM generate_series(1, 20) g",
        pw,
    )
    await conn.execute(
        "INSERT INTO channels (platform, name, enabled, config, secrets_encrypted, created_at, updated_at) "
        "VALUES ('whatsapp', 'bench', true, '{\"phone_number_id\": \"1\"}', '', now(), now())"
    )
    n, m = CONVERSATIONS, MESSAGES
    await conn.execute(
        "INSERT INTO customers (name, phone, created_at, updated_at) "
        "SELECT 'Customer ' || g, '55119' || lpad(g::text, 7, '0'), now(), now() FROM generate_series(1, $1) g",
        n,
    )
    await conn.execute(
        "INSERT INTO customer_identities (customer_id, channel_id, platform, external_id, created_at) "
        "SELECT g, 1, 'whatsapp', '55119' || lpad(g::text, 7, '0'), now() FROM generate_series(1, $1) g",
        n,
    )
    await conn.execute(
        "INSERT INTO conversations (channel_id, customer_id, identity_id, platform, status, assignee_id, unread_count, "
        "last_message_at, created_at, updated_at) SELECT 1, g, g, 'whatsapp', 'open', "
        "CASE WHEN g % 3 = 0 THEN NULL ELSE 1 + g % 20 END, g % 4, now() - (g || ' seconds')::interval, now(), now() "
        "FROM generate_series(1, $1) g",
        n,
    )
    await conn.execute(
        "INSERT INTO messages (conversation_id, channel_id, identity_id, platform, direction, kind, text, status, "
        "platform_message_id, attachments, metadata, created_at, send_attempts) SELECT c, 1, c, 'whatsapp', "
        "CASE WHEN k % 2 = 0 THEN 'inbound' ELSE 'outbound' END, 'text', 'message ' || k || ' of conversation ' || c, "
        "CASE WHEN k % 2 = 0 THEN 'received' ELSE 'read' END, 'wamid.' || c || '.' || k, '[]', '{}', "
        "now() - ((c + (20 - k)) || ' seconds')::interval, 0 FROM generate_series(1, $1) c, generate_series(1, $2) k",
        n,
        m,
    )
    await conn.execute(
        "UPDATE conversations c SET last_message_id = x.id FROM "
        "(SELECT DISTINCT ON (conversation_id) conversation_id, id FROM messages ORDER BY conversation_id, id DESC) x "
        "WHERE x.conversation_id = c.id"
    )
    await conn.execute("ANALYZE")
    await conn.close()


def _raw_sql() -> str:
    """The statement the server runs for the inbox page (resolvers/conversations.py: the page with
    each row's customer, assignee and last message joined), without the visibility condition."""
    from resolvers.conversations import _RELATED_JOINS, _RELATED_SELECT
    from resolvers.shapes import CONVERSATION_COLUMNS

    page = f"SELECT {CONVERSATION_COLUMNS} FROM conversations ORDER BY last_message_at DESC, id DESC LIMIT 51"
    return f"{_RELATED_SELECT} FROM ({page}) c {_RELATED_JOINS}"


TICKS = os.sysconf("SC_CLK_TCK")


def api_pids(port: int) -> list[int]:
    """The `pytake serve` on this port and its workers, found in /proc (bench/common starts them)."""
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in argv and b"--port" in argv and argv[argv.index(b"--port") + 1] == str(port).encode():
            return [int(proc.name), *children_of(int(proc.name))]
    return []


def children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid`, found in /proc."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            if int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(proc.name))
    return found


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU of each process so far."""
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    return used


async def measure(label: str, concurrency: int, one, pids: list[int] = ()) -> tuple[float, float]:  # type: ignore[no-untyped-def,assignment]
    cpu_before = cpu_seconds(list(pids))
    latencies: list[float] = []
    stop = time.perf_counter() + SECONDS

    async def lane() -> None:
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            await one()
            latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    rps = len(latencies) / (time.perf_counter() - t0)
    p99 = percentile(latencies, 99) * 1000
    print(
        f"  {label:38} c={concurrency:<3} {rps:8.0f} req/s   p50 {percentile(latencies, 50) * 1000:6.1f} ms   p99 {p99:6.1f} ms"
    )
    if pids:
        # Per process, so a load that lands on one of the two shows (the machine's other load does not).
        used = {pid: cpu_seconds([pid]).get(pid, 0.0) - before for pid, before in cpu_before.items()}
        share = " / ".join(f"{seconds:.1f}" for seconds in used.values())
        print(
            f"  {'  API CPU per request, CPU s per process':38}       "
            f"{sum(used.values()) / len(latencies) * 1000:8.1f} ms   ({share})"
        )
    return rps, p99


async def _serve_and_measure(db_url: str, planner: str, raw) -> dict[int, tuple[float, float]]:  # type: ignore[no-untyped-def]
    """One pair of API processes with GRAPHQL_PLANNER=`planner`: req/s and the raw baseline's req/s
    measured just before, at 4 and 50 connections."""
    os.environ["GRAPHQL_PLANNER"] = planner  # api_processes hands the environment on
    # One user sends every request: its per-user limit and cost budget would refuse most of them.
    os.environ.setdefault("USER_RATE_PER_MINUTE", "100000000")
    os.environ.setdefault("GRAPHQL_COST_PER_MINUTE", "1000000000")
    label = "planner" if planner == "1" else "general executor"
    found: dict[int, tuple[float, float]] = {}
    async with api_processes(db_url, workers=2, namespace=f"bench-{uuid.uuid4().hex[:6]}") as base:
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=64), timeout=30) as client:
            login = await client.post(
                f"{base}/graphql",
                json={
                    "query": 'mutation { login(email: "agent1@bench", password: "bench-password") { accessToken } }'
                },
            )
            token = login.json()["data"]["login"]["accessToken"]
            headers = {"Authorization": f"Bearer {token}"}
            check = await client.post(f"{base}/graphql", json={"query": INBOX}, headers=headers)
            assert len(check.json()["data"]["conversations"]["edges"]) == 50, check.text[:500]
            _ANSWERS[planner] = check.content

            body = json.dumps({"query": INBOX}).encode()
            wire_headers = {**headers, "Content-Type": "application/json"}
            idle: list[KeepAliveClient] = []

            async def inbox() -> None:
                lane = idle.pop() if idle else KeepAliveClient(base)  # one connection per concurrent lane
                status, answer = await lane.post("/graphql", body, wire_headers)
                idle.append(lane)
                assert status == 200, (status, answer[:300])

            pids = api_pids(int(base.rsplit(":", 1)[1]))
            for c in (4, 50):
                raw_rps, _ = await measure("raw asyncpg (the same statement)", c, raw)
                gql_rps, _ = await measure(f"GraphQL inbox, {label}", c, inbox, pids)
                print(f"  {'ratio GraphQL / raw':38} c={c:<3} {gql_rps / raw_rps:8.0%}")
                found[c] = (gql_rps, raw_rps)
    return found


_ANSWERS: dict[str, bytes] = {}


async def main() -> None:
    require_production_env()
    async with bench_database() as db_url:
        await seed(db_url)
        from core.db import asyncpg_dsn

        pool = await asyncpg.create_pool(asyncpg_dsn(db_url), min_size=4, max_size=20)

        raw_sql = _raw_sql()

        async def raw() -> None:
            async with pool.acquire() as c:
                await c.fetch(raw_sql)

        print(f"\nbench/inbox  {CONVERSATIONS} conversations × {MESSAGES} messages, {SECONDS:.0f} s per row")
        # The same inbox with the general executor (GRAPHQL_PLANNER=0) and with the read path
        # planner, one after the other against the same database, each beside its raw baseline.
        general = await _serve_and_measure(db_url, "0", raw)
        planned = await _serve_and_measure(db_url, "1", raw)
        assert _ANSWERS["0"] == _ANSWERS["1"], "the planner answered the inbox differently"
        for c in (4, 50):
            print(
                f"  {'planner / general executor':38} c={c:<3} {planned[c][0] / general[c][0]:8.2f}x"
                f"   (raw baselines {general[c][1]:.0f} / {planned[c][1]:.0f} req/s)"
            )
        await pool.close()


if __name__ == "__main__":
    asyncio.run(main())
