"""bench/metrics: dashboard queries through the GraphQL API on roll-ups of 1,000,000 and
10,000,000 messages (30 days), p50/p95 per query and the 10M/1M ratio; then the roll-up job's cost
per ingested message against the raw insert of the same messages.

    DATABASE_URL=… REDIS_URL=… make bench-metrics   (BENCH_SIZES, BENCH_ROUNDS, BENCH_ROLLUP_MESSAGES)

The roll-up rows are what the job would write for the synthetic facts (the same keys as
resolvers/rollups.keys_of: full rows per channel, agent, team and label, marginal rows per single
dimension, hourly and daily), aggregated here with numpy and loaded with COPY; building them
message by message through the job for 10M messages would take hours on this machine, and the
job's own cost is measured separately (part 2). CSAT by team reads the CSAT roll-ups (a rated
conversation in three, scores skewed high), like every other metric.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import numpy as np

from bench.common import KeepAliveClient, api_processes, bench_database, percentile, require_production_env
from bench.inbox import api_pids, cpu_seconds
from resolvers import metrics_histogram as histogram

SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "1000000,10000000").split(",")]
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "40"))
ROLLUP_MESSAGES = int(os.environ.get("BENCH_ROLLUP_MESSAGES", "20000"))
PLATFORMS = ["whatsapp", "telegram", "instagram", "sms"]
AGENTS, TEAMS, LABELS = 10, 4, ["vip", "billing"]
HOURS = 30 * 24
END = datetime(2026, 12, 1, tzinfo=UTC)
START = END - timedelta(hours=HOURS)
ANY = -1


async def seed_people(conn: asyncpg.Connection) -> tuple[list[int], list[int], list[int]]:
    from core.auth import hash_password

    password = hash_password("bench-password")
    await conn.execute(
        "INSERT INTO users (email, name, password_hash, role, is_active, created_at, updated_at) "
        "VALUES ('bench@local', 'Bench', $1, 'admin', true, now(), now())",
        password,
    )
    agents = [
        await conn.fetchval(
            "INSERT INTO users (email, name, password_hash, role, is_active, created_at, updated_at) "
            "VALUES ($1, $1, $2, 'agent', true, now(), now()) RETURNING id",
            f"agent{i}@local",
            password,
        )
        for i in range(AGENTS)
    ]
    teams = [
        await conn.fetchval(
            "INSERT INTO teams (name, strategy, sticky, offline_grace_seconds, created_at) "
            "VALUES ($1, 'round_robin', true, 300, now()) RETURNING id",
            f"team{i}",
        )
        for i in range(TEAMS)
    ]
    channels = [
        await conn.fetchval(
            "INSERT INTO channels (platform, name, enabled, config, secrets_encrypted, created_at, updated_at) "
            "VALUES ($1, $1, true, '{}', '', now(), now()) RETURNING id",
            p,
        )
        for p in PLATFORMS
    ]
    return agents, teams, channels


def synthetic(n_messages: int, rng: np.random.Generator) -> dict[str, dict[str, np.ndarray]]:
    """Facts for n messages: half in, half out (agent replies); a conversation per 10 messages with
    a first response, a resolution and its time. Busier by day than by night."""
    daily = 0.3 + np.sin(np.linspace(0, np.pi, 24)) ** 2
    weights = np.tile(daily, HOURS // 24)
    weights /= weights.sum()

    def facts(n: int, value: tuple[float, float] | None = None) -> dict[str, np.ndarray]:
        out = {
            "hour": rng.choice(HOURS, size=n, p=weights),
            "channel": rng.integers(0, len(PLATFORMS), n),
            "agent": rng.integers(0, AGENTS, n),
            "label": rng.choice(3, size=n, p=[0.7, 0.2, 0.1]),  # 0: none
        }
        if value is not None:
            out["value"] = rng.lognormal(np.log(value[0]), value[1], n)
        return out

    conversations = n_messages // 10
    rated = facts(conversations // 3)
    scores = rng.choice([1, 2, 3, 4, 5], size=len(rated["hour"]), p=[0.05, 0.05, 0.15, 0.35, 0.4])
    return {
        "csat_responses": rated,
        "csat_points": {**rated, "n": scores},  # n: the score (points / responses is the mean)
        "csat_satisfied": {k: v[scores >= 4] for k, v in rated.items()},
        "messages_in": facts(n_messages // 2),
        "messages_out": facts(n_messages - n_messages // 2),
        "agent_replies": facts(n_messages // 2),
        "cycles_started": facts(conversations),
        "resolutions": facts(conversations),
        "first_response_time": facts(conversations, (120.0, 1.2)),
        "resolution_time": facts(conversations, (3600.0, 1.0)),
    }


def rollup_rows(metric: str, f: dict[str, np.ndarray], ids: tuple[list[int], list[int], list[int]]):  # type: ignore[no-untyped-def]
    """The roll-up rows of these facts, keyed like resolvers/rollups.keys_of."""
    agents, teams, channels = ids
    team = f["agent"] % TEAMS
    labelled = f["label"] > 0
    every = np.ones(len(f["hour"]), dtype=bool)
    none = np.full(len(f["hour"]), ANY)
    # (which facts, platform/channel code, team, agent, label) per kind of row
    levels = [
        (every, f["channel"], f["channel"], team, f["agent"], none),
        (labelled, f["channel"], f["channel"], team, f["agent"], f["label"]),
        (every, none, none, none, none, none),
        (every, f["channel"], none, none, none, none),
        (every, none, f["channel"], none, none, none),
        (every, none, none, team, none, none),
        (every, none, none, none, f["agent"], none),
        (labelled, none, none, none, none, f["label"]),
    ]
    bins = np.array([histogram.bin_of(v) for v in f["value"]]) if "value" in f else None
    for grain, bucket in (("h", f["hour"]), ("d", f["hour"] // 24)):
        for mask, p, c, t, a, lab in levels:
            code = (
                (((bucket[mask] * 8 + p[mask] + 1) * 8 + c[mask] + 1) * 8 + t[mask] + 1) * 16 + a[mask] + 1
            ) * 4
            code = code + lab[mask] + 1
            keys, inverse = np.unique(code, return_inverse=True)
            n = (
                np.bincount(inverse, weights=f["n"][mask]).astype(np.int64)
                if "n" in f
                else np.bincount(inverse)
            )
            total = (
                np.bincount(inverse, weights=f["value"][mask]) if bins is not None else np.zeros(len(keys))
            )
            hists: list[bytes | None] = [None] * len(keys)
            if bins is not None:
                pair_keys, counts = np.unique(inverse * histogram.BINS + bins[mask], return_counts=True)
                owner = pair_keys // histogram.BINS
                bounds = np.searchsorted(owner, np.arange(len(keys) + 1))
                pairs = np.empty(len(pair_keys), dtype=[("bin", "<u2"), ("count", "<i8")])
                pairs["bin"], pairs["count"] = pair_keys % histogram.BINS, counts
                hists = [pairs[bounds[i] : bounds[i + 1]].tobytes() for i in range(len(keys))]
            rest = keys
            lab_k = rest % 4 - 1
            rest //= 4
            a_k = rest % 16 - 1
            rest //= 16
            t_k = rest % 8 - 1
            rest //= 8
            c_k = rest % 8 - 1
            rest //= 8
            p_k = rest % 8 - 1
            b_k = rest // 8
            step = timedelta(hours=1) if grain == "h" else timedelta(days=1)
            for i in range(len(keys)):
                yield (
                    metric,
                    grain,
                    START + int(b_k[i]) * step,
                    "*" if p_k[i] == ANY else PLATFORMS[p_k[i]],
                    ANY if c_k[i] == ANY else channels[c_k[i]],
                    ANY if t_k[i] == ANY else teams[t_k[i]],
                    ANY if a_k[i] == ANY else agents[a_k[i]],
                    "" if lab_k[i] == ANY else LABELS[lab_k[i] - 1],
                    int(n[i]),
                    float(total[i]),
                    float(total[i]),
                    hists[i],
                    hists[i],
                )


COLUMNS = [
    "metric",
    "grain",
    "bucket",
    "platform",
    "channel_id",
    "team_id",
    "agent_id",
    "label",
    "n",
    "total",
    "total_business",
    "hist",
    "hist_business",
]

QUERIES = {
    "FRT percentiles by platform, 30 days": (
        'query($r: MetricRange!) { metrics(names: ["first_response_time"], range: $r, groupBy: [PLATFORM]) '
        "{ group { platform } count avg median p90 p95 business { p95 } } }"
    ),
    "volume by hour of day, 30 days": (
        'query($r: MetricRange!) { metrics(names: ["messages_in", "messages_out"], range: $r, '
        'bucket: HOUR_OF_DAY, timeZone: "America/Sao_Paulo") { metric hourOfDay count } }'
    ),
    "volume by hour, last 7 days": (
        'query($w: MetricRange!) { metrics(names: ["messages_in", "messages_out"], range: $w, bucket: HOUR) '
        "{ metric bucket count } }"
    ),
    "agent productivity, 30 days": (
        'query($r: MetricRange!) { metrics(names: ["agent_replies", "resolutions", "resolution_time"], '
        "range: $r, groupBy: [AGENT]) { metric group { agentId } count avg } }"
    ),
    "dashboard KPIs, 30 days": "query($r: MetricRange!) { dashboard(range: $r) { metric count avg value } }",
    "CSAT by team, 30 days": (
        'query($r: MetricRange!) { metrics(names: ["csat_average", "csat_satisfaction"], range: $r, '
        "groupBy: [TEAM]) { metric group { teamId } count value } }"
    ),
}


async def dashboards(
    db_url: str, size: int, ids: tuple[list[int], list[int], list[int]]
) -> dict[str, tuple[float, float]]:
    from core.db import asyncpg_dsn

    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    await conn.execute("TRUNCATE metric_rollups")
    t0 = time.perf_counter()
    rows = 0
    for metric, facts in synthetic(size, np.random.default_rng(size)).items():
        batch = list(rollup_rows(metric, facts, ids))
        rows += len(batch)
        await conn.copy_records_to_table("metric_rollups", records=batch, columns=COLUMNS)
    await conn.execute("ANALYZE metric_rollups")
    await conn.close()
    print(
        f"  {size:,} messages → {rows:,} roll-up rows, built and copied in {time.perf_counter() - t0:.0f} s"
    )
    results = {}
    async with api_processes(db_url, workers=1, namespace=f"bench-{uuid.uuid4().hex[:6]}") as base:
        client = KeepAliveClient(base)
        login = {
            "query": 'mutation { login(email: "bench@local", password: "bench-password") { accessToken } }'
        }
        _, body = await client.post(
            "/graphql", json.dumps(login).encode(), {"Content-Type": "application/json"}
        )
        headers = {
            "Content-Type": "application/json",
            "Authorization": "Bearer " + json.loads(body)["data"]["login"]["accessToken"],
        }
        week = {"from": (END - timedelta(days=7)).isoformat(), "to": END.isoformat()}
        variables = {"r": {"from": START.isoformat(), "to": END.isoformat()}, "w": week}
        pids = api_pids(int(base.rsplit(":", 1)[1]))
        for name, query in QUERIES.items():
            used = {k: v for k, v in variables.items() if f"${k}:" in query}
            payload = json.dumps({"query": query, "variables": used}).encode()
            latencies = []
            for _ in range(3):  # warm-up
                await client.post("/graphql", payload, headers)
            cpu_before = sum(cpu_seconds(pids).values())
            for _ in range(ROUNDS):
                t = time.perf_counter()
                status, answer = await client.post("/graphql", payload, headers)
                latencies.append((time.perf_counter() - t) * 1000)
                assert status == 200 and b'"errors"' not in answer, answer[:300]
            cpu = (sum(cpu_seconds(pids).values()) - cpu_before) / ROUNDS * 1000
            results[name] = (percentile(latencies, 50), percentile(latencies, 95))
            print(
                f"  {name:<40} p50 {results[name][0]:6.1f} ms   p95 {results[name][1]:6.1f} ms   "
                f"API CPU {cpu:5.1f} ms/request"
            )
        await client.close()
    return results


async def rollup_cost(db_url: str, ids: tuple[list[int], list[int], list[int]]) -> None:
    """The job's work per message (read the events, re-derive the conversations, write the facts
    and roll-ups) against inserting the same messages raw."""
    from core.db import asyncpg_dsn, close_orm, init_orm
    from resolvers import rollups

    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    await conn.execute("TRUNCATE metric_rollups")
    agents, teams, channels = ids
    n_conv = max(1, ROLLUP_MESSAGES // 10)
    await conn.execute(
        "INSERT INTO customers (name, created_at, updated_at) SELECT 'c' || g, now(), now() FROM generate_series(1, $1) g",
        n_conv,
    )
    await conn.execute(
        "INSERT INTO customer_identities (customer_id, channel_id, platform, external_id, created_at) "
        "SELECT id, $1, 'whatsapp', 'x' || id, now() FROM customers",
        channels[0],
    )
    await conn.execute(
        "INSERT INTO conversations (channel_id, customer_id, identity_id, platform, status, unread_count, priority, "
        "labels, escalation_level, team_id, assignee_id, created_at, updated_at) SELECT $1, customer_id, id, 'whatsapp', "
        "'open', 0, 'normal', '{}', 0, $2, $3, now(), now() FROM customer_identities",
        channels[0],
        teams[0],
        agents[0],
    )
    rng = np.random.default_rng(7)
    conv_ids = [r["id"] for r in await conn.fetch("SELECT id FROM conversations ORDER BY id")]
    base = END - timedelta(days=2)
    records = []
    for i in range(ROLLUP_MESSAGES):
        conversation = conv_ids[i % n_conv]
        at = base + timedelta(seconds=int(i // n_conv) * 90 + int(rng.integers(0, 60)))
        inbound = (i // n_conv) % 2 == 0
        records.append(
            (
                conversation,
                channels[0],
                "whatsapp",
                "inbound" if inbound else "outbound",
                "text",
                "received" if inbound else "sent",
                None if inbound else agents[0],
                "[]",
                "{}",
                at,
                at if not inbound else None,
                0,
            )
        )
    t0 = time.perf_counter()
    await conn.copy_records_to_table(
        "messages",
        records=records,
        columns=[
            "conversation_id",
            "channel_id",
            "platform",
            "direction",
            "kind",
            "status",
            "sender_id",
            "attachments",
            "metadata",
            "created_at",
            "sent_at",
            "send_attempts",
        ],
    )
    raw = time.perf_counter() - t0
    # One event per message on its conversation's stream, as ingest writes them.
    await conn.execute(
        "INSERT INTO events (seq, stream, prev_seq, type, payload, created_at) SELECT row_number() OVER (ORDER BY id), "
        "'conversation:' || conversation_id, NULL, 'MESSAGE_CREATED', '{}', now() FROM messages"
    )
    await conn.close()
    await init_orm(db_url)
    t0 = time.perf_counter()
    folded = await rollups.catch_up(batch=500)
    spent = time.perf_counter() - t0
    await close_orm()
    print(
        f"  roll-up job: {folded:,} events ({ROLLUP_MESSAGES:,} messages in {n_conv:,} conversations) in {spent:.1f} s: "
        f"{spent / ROLLUP_MESSAGES * 1e6:.0f} µs per message"
    )
    print(
        f"  raw insert of the same messages (COPY): {raw / ROLLUP_MESSAGES * 1e6:.0f} µs per message; "
        f"the job costs {spent / raw:.1f}× the raw insert (off the ingest path: a worker, batched)"
    )


async def main() -> None:
    require_production_env()
    print("bench/metrics: dashboard queries on the roll-ups (API, 1 process)")
    found: dict[int, dict[str, tuple[float, float]]] = {}
    async with bench_database() as db_url:  # one database (the ORM initialises once per process)
        from core.db import asyncpg_dsn

        conn = await asyncpg.connect(asyncpg_dsn(db_url))
        ids = await seed_people(conn)
        await conn.close()
        for size in SIZES:
            found[size] = await dashboards(db_url, size, ids)
        if len(SIZES) >= 2:
            small, large = SIZES[0], SIZES[-1]
            for name in QUERIES:
                ratio = found[large][name][1] / found[small][name][1]
                print(f"  p95 {large:,}/{small:,} messages, {name:<40} {ratio:.2f}")
        print("bench/metrics: the roll-up job's cost")
        await rollup_cost(db_url, ids)


if __name__ == "__main__":
    asyncio.run(main())
