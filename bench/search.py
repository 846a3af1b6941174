"""bench/search: typical agent searches through the GraphQL API (`search`), p50/p95 per kind of
search, against the very statements the server runs for each search (all of them, in order), sent
with raw asyncpg in the same run, the two alternated case by case.

    DATABASE_URL=… REDIS_URL=… make bench-search
    BENCH_MESSAGES (1,000,000; 10,000,000 for the large run), BENCH_CONVERSATIONS (messages / 10),
    BENCH_ROUNDS (40 searches of each kind), BENCH_DB (a database name to seed once and keep between
    runs, e.g. bench_search_10m; without it a throwaway database is created and dropped),
    BENCH_SEED_ONLY (seed the BENCH_DB database and stop)

The data is built with numpy and loaded with COPY (secondary indexes dropped during the load and
rebuilt after, foreign keys checked by construction), so ten million messages load in minutes.
The search vectors (`messages.search_tsv`) are written by PostgreSQL's trigger from the text
exactly as for every ingested message (the load skips the other triggers and foreign key checks). Message ids follow time, as they do in production: the
conversations overlap in time (each starts at a random moment of the last 180 days and its messages
follow minutes apart), so a conversation's messages are spread over the table.

The messages are Portuguese and English support sentences built from a vocabulary with a skewed
(Zipf-like) word frequency, plus order numbers; customers have accented names and phone numbers.
The searching user is an agent who sees every conversation (`seesAllConversations`): every match
counts, the costliest case for the filters.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import random
import time
import uuid
from collections.abc import AsyncIterator

import asyncpg
import numpy as np

from bench.common import KeepAliveClient, api_processes, bench_database, percentile, require_production_env

MESSAGES = int(os.environ.get("BENCH_MESSAGES", "1000000"))
CONVERSATIONS = int(os.environ.get("BENCH_CONVERSATIONS", str(max(1, MESSAGES // 10))))
MESSAGES_PER = max(1, MESSAGES // CONVERSATIONS)
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "40"))
KEEP_DB = os.environ.get("BENCH_DB", "")
LIVE = int(os.environ.get("BENCH_LIVE", "5000"))  # messages ingested after the load, before searching
SPAN_DAYS = 180
CHUNK = 500_000  # messages built and copied per batch

WORDS = (
    "olá bom dia pedido entrega atrasada reembolso boleto segunda via troca produto defeito cancelar assinatura "
    "cartão cobrança indevida senha conta acesso aplicativo endereço frete prazo nota fiscal garantia devolução "
    "hello order delivery late refund invoice password account login app address shipping warranty return "
    "broken charged twice subscription cancel tracking number package damaged wrong size color blue obrigado thanks"
).split()
FIRST = (
    "Maria José Ana João Conceição Luís Beatriz Sérgio Fátima Ângela Peter Mary John Linda Chloé Zoë".split()
)
LAST = "Silva Santos Oliveira Souza Lima Gonçalves Araújo Ribeiro Brandão Smith Jones García Müller".split()
STATUSES = ("open", "open", "pending", "resolved", "closed")


# ---- data ---------------------------------------------------------------------------------------


def _timeline(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per message (conversation-major: conversation c's k-th message at c * per + k): its time in
    seconds before now, and its id (ids follow time); and the order of ids."""
    span = SPAN_DAYS * 86400.0
    starts = np.sort(rng.random(CONVERSATIONS) * span)  # conversation ids follow their start
    gaps = rng.exponential(180.0, size=(CONVERSATIONS, MESSAGES_PER))  # minutes apart
    times = starts[:, None] + np.cumsum(gaps, axis=1)  # seconds since the start of the span
    flat = times.ravel()
    by_time = np.argsort(flat, kind="stable")  # position in id order -> conversation-major index
    ids = np.empty(flat.size, dtype=np.int64)
    ids[by_time] = np.arange(1, flat.size + 1)
    ago = flat.max() + 60.0 - flat  # the newest message a minute ago
    return ago, ids, by_time


def _message_texts(rng: np.random.Generator, conv: np.ndarray, k: np.ndarray) -> list[str]:
    """5 to 11 words drawn with a skew (u^3: a few words are everywhere, most are rarer), then the
    order number conversation * 16 + k (unique per message)."""
    n = conv.size
    picks = np.floor(rng.random((n, 11)) ** 3 * len(WORDS)).astype(np.int16)
    lengths = 5 + (k + conv) % 7
    words = WORDS
    return [
        " ".join([words[w] for w in row[:length]]) + f" {order}"
        for row, length, order in zip(picks.tolist(), lengths.tolist(), (conv * 16 + k).tolist(), strict=True)
    ]


def _stamp(now: np.datetime64, ago: np.ndarray) -> np.ndarray:
    moments = now - (ago * 1e6).astype("timedelta64[us]")
    return np.char.add(np.datetime_as_string(moments, unit="us"), "+00")


@contextlib.asynccontextmanager
async def _without_secondary_indexes(
    conn: asyncpg.Connection, dsn: str, tables: list[str]
) -> AsyncIterator[None]:
    """Drop the tables' indexes that back no constraint, load, then build them again (exactly the
    definitions the migrations made), with memory enough to sort in one pass."""
    rows = await conn.fetch(
        "SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition "
        "FROM pg_index i WHERE i.indrelid = ANY($1::regclass[]) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
        tables,
    )
    for row in rows:
        await conn.execute(f"DROP INDEX {row['name']}")
    yield
    started = time.perf_counter()
    definitions = [row["definition"] for row in rows]
    # Largest first: the message search index takes longest.
    definitions.sort(key=lambda d: ("search_tsv" not in d, "messages" not in d))
    queue = list(definitions)

    async def builder(c: asyncpg.Connection) -> None:
        await c.execute("SET maintenance_work_mem = '1GB'")
        while queue:
            await c.execute(queue.pop(0))

    other = await asyncpg.connect(dsn)  # a second session: two indexes build at once
    try:
        await asyncio.gather(builder(conn), builder(other))
    finally:
        await other.close()
    print(f"  built {len(definitions)} indexes in {time.perf_counter() - started:.0f} s")


async def seed(db_url: str) -> None:
    from core.auth import hash_password
    from core.db import asyncpg_dsn

    dsn = asyncpg_dsn(db_url)
    conn = await asyncpg.connect(dsn)
    if await conn.fetchval("SELECT count(*) FROM users WHERE email = 'bench@local'"):
        seeded = await conn.fetchval("SELECT reltuples::bigint FROM pg_class WHERE relname = 'messages'")
        print(f"  reusing the seeded database (~{seeded:,} messages)")
        if not await conn.fetchval(
            "SELECT search_tsv <> ''::tsvector FROM messages ORDER BY id DESC LIMIT 1"
        ):
            raise RuntimeError(f"{KEEP_DB} was seeded without search vectors: drop it and seed again")
        await conn.close()
        return
    started = time.perf_counter()
    await conn.execute(
        "INSERT INTO users (email, name, password_hash, role, is_active, sees_all_conversations, created_at, updated_at) "
        "VALUES ('bench@local', 'Bench', $1, 'agent', true, true, now(), now())",
        hash_password("bench-password"),
    )
    channel = await conn.fetchval(
        "INSERT INTO channels (platform, name, enabled, config, secrets_encrypted, created_at, updated_at) "
        "VALUES ('whatsapp', 'bench', true, '{}', '', now(), now()) RETURNING id"
    )
    n = CONVERSATIONS
    tables = ["messages", "conversations", "customers", "customer_identities"]
    # The rows are consistent by construction: no need to check each foreign key (or fire
    # anything) row by row while loading.
    await conn.execute("SET session_replication_role = replica")
    # ...except the trigger that writes each message's search vector from its text (migration 28):
    # it fires for the load as for any ingested message.
    await conn.execute("ALTER TABLE messages ENABLE ALWAYS TRIGGER messages_words")
    async with _without_secondary_indexes(conn, dsn, tables):
        await conn.execute(
            "INSERT INTO customers (id, name, phone, email, created_at, updated_at) "
            "SELECT g, ($2::text[])[1 + g % array_length($2::text[], 1)] || ' ' "
            "|| ($3::text[])[1 + (g / 7) % array_length($3::text[], 1)] "
            "|| ' ' || g, '55119' || lpad(g::text, 7, '0'), 'customer' || g || '@example.org', now(), now() "
            "FROM generate_series(1, $1) g",
            n,
            FIRST,
            LAST,
        )
        await conn.execute(
            "INSERT INTO customer_identities (id, customer_id, channel_id, platform, external_id, phone, created_at) "
            "SELECT g, g, $2, 'whatsapp', '55119' || lpad(g::text, 7, '0'), '55119' || lpad(g::text, 7, '0'), now() "
            "FROM generate_series(1, $1) g",
            n,
            channel,
        )
        rng = np.random.default_rng(7)
        ago, ids, by_time = _timeline(rng)
        now = np.datetime64(int(time.time() * 1e6), "us")
        last = np.arange(n) * MESSAGES_PER + MESSAGES_PER - 1  # each conversation's last message
        conv_ids = np.arange(1, n + 1)
        statuses = np.array(STATUSES)[rng.integers(0, len(STATUSES), n)]
        last_at = _stamp(now, ago[last])
        created = _stamp(now, ago[last - (MESSAGES_PER - 1)])
        lines = "".join(
            f"{c}\t{channel}\t{c}\t{c}\twhatsapp\t{s}\t0\t{ids[i]}\t{at}\t{made}\t{at}\n"
            for c, s, i, at, made in zip(
                conv_ids.tolist(),
                statuses.tolist(),
                last.tolist(),
                last_at.tolist(),
                created.tolist(),
                strict=True,
            )
        )
        await conn.copy_to_table(
            "conversations",
            source=io.BytesIO(lines.encode()),
            columns=[
                "id",
                "channel_id",
                "customer_id",
                "identity_id",
                "platform",
                "status",
                "unread_count",
                "last_message_id",
                "last_message_at",
                "created_at",
                "updated_at",
            ],
        )
        print(f"  {n:,} customers, identities and conversations in {time.perf_counter() - started:.0f} s")

        # Messages in id order (as they arrived), built in batches while the previous batch copies.
        columns = [
            "id",
            "conversation_id",
            "channel_id",
            "identity_id",
            "platform",
            "direction",
            "kind",
            "text",
            "status",
            "platform_message_id",
            "attachments",
            "metadata",
            "created_at",
            "send_attempts",
        ]
        total = ago.size

        def build(lo: int, hi: int) -> bytes:
            positions = by_time[lo:hi]  # conversation-major indexes of ids lo+1 .. hi
            conv = positions // MESSAGES_PER + 1
            k = positions % MESSAGES_PER + 1
            texts = _message_texts(np.random.default_rng(lo), conv, k)
            stamps = _stamp(now, ago[positions]).tolist()
            return "".join(
                f"{lo + j + 1}\t{c}\t{channel}\t{c}\twhatsapp\t"
                + ("inbound\ttext\t" if kk % 2 else "outbound\ttext\t")
                + f"{t}\t"
                + ("received" if kk % 2 else "read")
                + f"\twamid.{c}.{kk}\t[]\t{{}}\t{at}\t0\n"
                for j, (c, kk, t, at) in enumerate(zip(conv.tolist(), k.tolist(), texts, stamps, strict=True))
            ).encode()

        copier = await asyncpg.connect(dsn)
        await copier.execute("SET session_replication_role = replica")
        copied = time.perf_counter()
        pending: list[asyncio.Task[str]] = []
        lanes = [conn, copier]
        next_batch = asyncio.create_task(asyncio.to_thread(build, 0, min(CHUNK, total)))
        for index, lo in enumerate(range(0, total, CHUNK)):
            data = await next_batch
            if lo + CHUNK < total:
                next_batch = asyncio.create_task(
                    asyncio.to_thread(build, lo + CHUNK, min(lo + 2 * CHUNK, total))
                )
            lane = lanes[index % 2]
            if len(pending) >= 2:
                await pending.pop(0)
            pending.append(
                asyncio.create_task(lane.copy_to_table("messages", source=io.BytesIO(data), columns=columns))
            )
        for task in pending:
            await task
        await copier.close()
        print(
            f"  {total:,} messages copied in {time.perf_counter() - copied:.0f} s (search vectors included)"
        )
    await conn.execute("RESET session_replication_role")
    await conn.execute("ALTER TABLE messages ENABLE TRIGGER messages_words")
    if not await conn.fetchval("SELECT search_tsv <> ''::tsvector FROM messages ORDER BY id DESC LIMIT 1"):
        raise RuntimeError("the messages were loaded without their search vectors")
    for table in ("customers", "customer_identities", "conversations", "messages"):
        await conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
        )
    vacuumed = time.perf_counter()
    await conn.execute("VACUUM ANALYZE")
    print(
        f"  vacuum analyze {time.perf_counter() - vacuumed:.0f} s; seeded in {time.perf_counter() - started:.0f} s"
    )
    await conn.close()


async def live_ingest(db_url: str) -> None:
    """LIVE messages arriving after the load into the newest conversations, inserted as ingest
    inserts them (the trigger writes their search vectors; the GIN index takes them as it takes
    any insert: with fastupdate, into its pending list, which every search then reads until the
    list is merged). A freshly built index has no pending list; a production one does."""
    from core.db import asyncpg_dsn

    if not LIVE:
        return
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        started = time.perf_counter()
        newest = await conn.fetch(
            "SELECT id, channel_id, identity_id FROM conversations ORDER BY last_message_at DESC, id DESC LIMIT 2000"
        )
        rng = np.random.default_rng()
        for lo in range(0, LIVE, 100):
            size = min(100, LIVE - lo)
            chosen = [newest[i] for i in rng.integers(0, len(newest), size).tolist()]
            conv = np.array([r["id"] for r in chosen])
            texts = _message_texts(rng, conv, np.full(size, MESSAGES_PER + 1 + lo // 100 % 5))
            async with conn.transaction():
                rows = await conn.fetch(
                    "INSERT INTO messages (conversation_id, channel_id, identity_id, platform, direction, kind, "
                    "text, status, platform_message_id, attachments, metadata, created_at, send_attempts) "
                    "SELECT c, ch, i, 'whatsapp', 'inbound', 'text', t, 'received', 'wamid.live.' || gen_random_uuid(), "
                    "'[]', '{}', clock_timestamp(), 0 FROM unnest($1::int[], $2::int[], $3::int[], $4::text[]) AS u(c, ch, i, t) "
                    "RETURNING id, conversation_id, created_at",
                    conv.tolist(),
                    [r["channel_id"] for r in chosen],
                    [r["identity_id"] for r in chosen],
                    texts,
                )
                await conn.execute(
                    "UPDATE conversations c SET last_message_id = u.id, last_message_at = u.made, updated_at = u.made "
                    "FROM (SELECT DISTINCT ON (c) c, id, made FROM unnest($1::int[], $2::bigint[], $3::timestamptz[]) "
                    "AS x(c, id, made) ORDER BY c, id DESC) u WHERE c.id = u.c",
                    [r["conversation_id"] for r in rows],
                    [r["id"] for r in rows],
                    [r["created_at"] for r in rows],
                )
        print(f"  {LIVE:,} messages ingested after the load in {time.perf_counter() - started:.1f} s")
    finally:
        await conn.close()


# ---- the searches -------------------------------------------------------------------------------


def searches(rng: random.Random) -> dict[str, list[dict]]:
    """Kinds of search an agent types, each with varying terms."""
    n = CONVERSATIONS
    return {
        "order number": [
            {"q": str(rng.randrange(1, n) * 16 + rng.randrange(1, MESSAGES_PER + 1))} for _ in range(ROUNDS)
        ],
        "customer name": [
            {"q": f"{rng.choice(FIRST)} {rng.choice(LAST)} {rng.randrange(1, n)}"} for _ in range(ROUNDS)
        ],
        "phone digits": [{"q": f"{rng.randrange(1, n):07d}"[-6:]} for _ in range(ROUNDS)],
        "rare words": [{"q": f"{rng.choice(WORDS[-20:])} {rng.choice(WORDS[-20:])}"} for _ in range(ROUNDS)],
        "common word, open only": [
            {"q": rng.choice(WORDS[:8]), "f": {"status": ["OPEN"]}} for _ in range(ROUNDS)
        ],
        "common word, newest": [{"q": rng.choice(WORDS[:8]), "o": "RECENCY"} for _ in range(ROUNDS)],
    }


QUERY = """query($q: String!, $f: ConversationFilter, $o: SearchOrder) { search(query: $q, filter: $f, orderBy: $o, first: 20) {
  edges { rank node { id status customer { name } } matchedMessage { text } } } }"""


async def capture_statements(
    db_url: str, kinds: dict[str, list[dict]]
) -> dict[str, list[list[tuple[str, list]]]]:
    """Every statement the server's search runs for each case (all of them, in order), captured by
    running the resolver once per case; and how many conversations it found."""
    from core import sql
    from core.auth import Actor
    from core.db import close_orm, init_orm
    from models import ConversationStatus, Role
    from resolvers import search as search_rules
    from resolvers.conversations import ConversationFilter

    await init_orm(db_url)
    captured: list[tuple[str, list]] = []
    original = sql.fetch

    async def capture(query: str, *args, conn=None):  # type: ignore[no-untyped-def]
        captured.append((query, list(args)))
        return await original(query, *args, conn=conn)

    search_rules.fetch = capture  # type: ignore[assignment]
    cases: dict[str, list[list[tuple[str, list]]]] = {}
    actor = Actor(user_id=1, role=Role.AGENT)
    try:
        for kind, items in kinds.items():
            cases[kind] = []
            found = 0
            for case in items:
                captured.clear()
                statuses = tuple(ConversationStatus(s.lower()) for s in case.get("f", {}).get("status", []))
                page = await search_rules.search(
                    actor,
                    case["q"],
                    filter=ConversationFilter(statuses=statuses),
                    by_recency=case.get("o") == "RECENCY",
                )
                found += len(page.items)
                cases[kind].append(list(captured))
            print(
                f"  {kind:26} {found / len(items):5.1f} conversations found per search (of 20 asked), "
                f"{sum(len(c) for c in cases[kind]) / len(items):.1f} statements"
            )
    finally:
        search_rules.fetch = original  # type: ignore[assignment]
        await close_orm()
    return cases


@contextlib.asynccontextmanager
async def kept_database(name: str) -> AsyncIterator[str]:
    from core import db

    server = db._normalise(os.environ["DATABASE_URL"])
    await db.ensure_database(server, name)
    url = db.with_database(server, name)
    await db.migrate(url)
    yield url


async def main() -> None:
    require_production_env()
    rng = random.Random(7)
    database = kept_database(KEEP_DB) if KEEP_DB else bench_database()
    async with database as db_url:
        print(
            f"\nbench/search  conversations={CONVERSATIONS:,} messages={CONVERSATIONS * MESSAGES_PER:,} "
            f"rounds={ROUNDS}{' database=' + KEEP_DB if KEEP_DB else ''}"
        )
        await seed(db_url)
        if os.environ.get("BENCH_SEED_ONLY"):
            return
        await live_ingest(db_url)
        kinds = searches(rng)
        raw_cases = await capture_statements(db_url, kinds)
        from core.db import SESSION_SETTINGS, asyncpg_dsn

        pool = await asyncpg.create_pool(
            asyncpg_dsn(db_url), min_size=1, max_size=1, server_settings=dict(SESSION_SETTINGS)
        )

        async def raw_once(statements: list[tuple[str, list]]) -> float:
            t0 = time.perf_counter()
            async with pool.acquire() as conn:
                for query, args in statements:
                    await conn.fetch(query, *args)
            return time.perf_counter() - t0

        api: dict[str, list[float]] = {kind: [] for kind in kinds}
        raw: dict[str, list[float]] = {kind: [] for kind in kinds}
        async with api_processes(db_url, workers=1, namespace=f"bench-{uuid.uuid4().hex[:6]}") as base:
            client = KeepAliveClient(base)
            _, body = await client.post(
                "/graphql",
                json.dumps(
                    {
                        "query": 'mutation { login(email: "bench@local", password: "bench-password") { accessToken } }'
                    }
                ).encode(),
                {"Content-Type": "application/json"},
            )
            token = json.loads(body)["data"]["login"]["accessToken"]
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}

            async def api_once(case: dict) -> float:
                variables = {"q": case["q"], "f": case.get("f"), "o": case.get("o", "RELEVANCE")}
                payload = json.dumps({"query": QUERY, "variables": variables}).encode()
                t0 = time.perf_counter()
                status, body = await client.post("/graphql", payload, headers)
                elapsed = time.perf_counter() - t0
                assert status == 200 and b'"errors"' not in body, body[:300]
                return elapsed

            # One untimed pass of each (pages in memory, plans cached), then the same case raw and
            # through the API back to back, the order alternating.
            for kind, cases in kinds.items():
                for case, statements in zip(cases, raw_cases[kind], strict=True):
                    await raw_once(statements)
                    await api_once(case)
            for kind, cases in kinds.items():
                for i, (case, statements) in enumerate(zip(cases, raw_cases[kind], strict=True)):
                    if i % 2:
                        raw[kind].append(await raw_once(statements))
                        api[kind].append(await api_once(case))
                    else:
                        api[kind].append(await api_once(case))
                        raw[kind].append(await raw_once(statements))
            await client.close()
        await pool.close()

    print(
        f"  {'search':26} {'API p50':>9} {'API p95':>9} {'raw SQL p50':>12} {'raw p95':>9}  ratio p50  ratio p95"
    )
    everything: list[float] = []
    everything_raw: list[float] = []
    for kind in kinds:
        everything += api[kind]
        everything_raw += raw[kind]
        a50, a95 = percentile(api[kind], 50) * 1000, percentile(api[kind], 95) * 1000
        r50, r95 = percentile(raw[kind], 50) * 1000, percentile(raw[kind], 95) * 1000
        print(
            f"  {kind:26} {a50:7.1f}ms {a95:7.1f}ms {r50:10.1f}ms {r95:7.1f}ms  {a50 / r50:7.1f}x {a95 / r95:8.1f}x"
        )
    goal = 50 if CONVERSATIONS * MESSAGES_PER > 5_000_000 else 25
    a95, r95 = percentile(everything, 95) * 1000, percentile(everything_raw, 95) * 1000
    print(
        f"  all searches: API p50 {percentile(everything, 50) * 1000:.1f} ms, p95 {a95:.1f} ms "
        f"(goal < {goal} ms); raw SQL p95 {r95:.1f} ms; ratio p95 {a95 / r95:.2f}x"
    )


if __name__ == "__main__":
    asyncio.run(main())
