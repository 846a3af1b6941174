"""bench/search: typical agent searches over 1,000,000 messages in 100,000 conversations, through
the GraphQL API (`search`), with p50/p95 per kind of search; baseline is the same SQL the server
runs, sent with raw asyncpg in the same run.

    DATABASE_URL=… REDIS_URL=… make bench-search   (BENCH_CONVERSATIONS, BENCH_MESSAGES_PER, BENCH_ROUNDS)

The messages are Portuguese and English support sentences built from a vocabulary with a skewed
(Zipf-like) word frequency, plus order numbers; customers have accented names and phone numbers.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
import uuid

import asyncpg

from bench.common import KeepAliveClient, api_processes, bench_database, percentile, require_production_env

CONVERSATIONS = int(os.environ.get("BENCH_CONVERSATIONS", "100000"))
MESSAGES_PER = int(os.environ.get("BENCH_MESSAGES_PER", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "40"))

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


async def seed(db_url: str) -> None:
    from core.auth import hash_password
    from core.db import asyncpg_dsn

    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    await conn.execute(
        "INSERT INTO users (email, name, password_hash, role, is_active, created_at, updated_at) "
        "VALUES ('bench@local', 'Bench', $1, 'agent', true, now(), now())",
        hash_password("bench-password"),
    )
    await conn.execute(
        "INSERT INTO channels (platform, name, enabled, config, secrets_encrypted, created_at, updated_at) "
        "VALUES ('whatsapp', 'bench', true, '{}', '', now(), now())"
    )
    n = CONVERSATIONS
    await conn.execute(
        "INSERT INTO customers (name, phone, email, created_at, updated_at) "
        "SELECT ($2::text[])[1 + g % array_length($2::text[], 1)] || ' ' || ($3::text[])[1 + (g / 7) % array_length($3::text[], 1)] "
        "|| ' ' || g, '55119' || lpad(g::text, 7, '0'), 'customer' || g || '@example.org', now(), now() "
        "FROM generate_series(1, $1) g",
        n,
        FIRST,
        LAST,
    )
    await conn.execute(
        "INSERT INTO customer_identities (customer_id, channel_id, platform, external_id, phone, created_at) "
        "SELECT g, 1, 'whatsapp', '55119' || lpad(g::text, 7, '0'), '55119' || lpad(g::text, 7, '0'), now() "
        "FROM generate_series(1, $1) g",
        n,
    )
    await conn.execute(
        "INSERT INTO conversations (channel_id, customer_id, identity_id, platform, status, unread_count, "
        "last_message_at, created_at, updated_at) SELECT 1, g, g, 'whatsapp', "
        "(ARRAY['open', 'open', 'pending', 'resolved', 'closed'])[1 + g % 5], 0, "
        "now() - (g || ' seconds')::interval, now(), now() FROM generate_series(1, $1) g",
        n,
    )
    # Words drawn with a skew (random()^3: a few words are everywhere, most are rarer); the
    # correlated series (k) makes PostgreSQL draw per row.
    started = time.perf_counter()
    await conn.execute(
        "INSERT INTO messages (conversation_id, channel_id, identity_id, platform, direction, kind, text, status, "
        "platform_message_id, attachments, metadata, created_at, send_attempts) "
        "SELECT c, 1, c, 'whatsapp', CASE WHEN k % 2 = 0 THEN 'inbound' ELSE 'outbound' END, 'text', "
        "(SELECT string_agg(($3::text[])[1 + floor(random() ^ 3 * array_length($3::text[], 1))::int], ' ') "
        " FROM generate_series(1, 5 + (k + c) % 7)) || ' ' || (c * 16 + k), "
        "CASE WHEN k % 2 = 0 THEN 'received' ELSE 'read' END, 'wamid.' || c || '.' || k, '[]', '{}', "
        "now() - ((c + ($2 - k)) || ' seconds')::interval, 0 FROM generate_series(1, $1) c, generate_series(1, $2) k",
        n,
        MESSAGES_PER,
        WORDS,
    )
    print(
        f"  seeded {n * MESSAGES_PER:,} messages in {time.perf_counter() - started:.0f} s (tsvector included)"
    )
    await conn.execute(
        "UPDATE conversations c SET last_message_id = x.id FROM "
        "(SELECT DISTINCT ON (conversation_id) conversation_id, id FROM messages ORDER BY conversation_id, id DESC) x "
        "WHERE x.conversation_id = c.id"
    )
    await conn.execute("VACUUM ANALYZE")
    await conn.close()


def searches(rng: random.Random) -> dict[str, list[dict]]:
    """Kinds of search an agent types, each with varying terms."""
    n = CONVERSATIONS
    return {
        "order number": [
            {"q": str(rng.randrange(1, n) * 16 + rng.randrange(1, MESSAGES_PER))} for _ in range(ROUNDS)
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


async def main() -> None:
    require_production_env()
    rng = random.Random(7)
    async with bench_database() as db_url:
        print(
            f"\nbench/search  conversations={CONVERSATIONS:,} messages={CONVERSATIONS * MESSAGES_PER:,} rounds={ROUNDS}"
        )
        await seed(db_url)
        kinds = searches(rng)
        from core.db import asyncpg_dsn, close_orm, init_orm
        from resolvers import search as search_rules
        from resolvers.conversations import ConversationFilter

        # Raw baseline: the server's SQL, captured by running the resolver once per case.
        await init_orm(db_url)
        captured: list[tuple[str, list]] = []
        from core import sql

        original = sql.fetch

        async def capture(query: str, *args, conn=None):  # type: ignore[no-untyped-def]
            captured.append((query, list(args)))
            return await original(query, *args, conn=conn)

        search_rules.fetch = capture  # type: ignore[assignment]
        raw_cases: dict[str, list[tuple[str, list]]] = {}
        from core.auth import Actor
        from models import ConversationStatus, Role

        actor = Actor(user_id=1, role=Role.AGENT)
        for kind, cases in kinds.items():
            raw_cases[kind] = []
            for case in cases:
                captured.clear()
                statuses = tuple(ConversationStatus(s.lower()) for s in case.get("f", {}).get("status", []))
                await search_rules.search(
                    actor,
                    case["q"],
                    filter=ConversationFilter(statuses=statuses),
                    by_recency=case.get("o") == "RECENCY",
                )
                raw_cases[kind].append(captured[-1])
        search_rules.fetch = original  # type: ignore[assignment]
        await close_orm()

        pool = await asyncpg.create_pool(asyncpg_dsn(db_url), min_size=1, max_size=2)
        raw: dict[str, list[float]] = {}
        for kind, cases in raw_cases.items():
            raw[kind] = []
            for query, args in cases:
                t0 = time.perf_counter()
                await pool.fetch(query, *args)
                raw[kind].append(time.perf_counter() - t0)
        await pool.close()

        api: dict[str, list[float]] = {}
        async with api_processes(db_url, workers=1, namespace=f"bench-{uuid.uuid4().hex[:6]}") as base:
            client = KeepAliveClient(base)
            status, body = await client.post(
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
            for kind, cases in kinds.items():
                api[kind] = []
                for case in cases:
                    variables = {"q": case["q"], "f": case.get("f"), "o": case.get("o", "RELEVANCE")}
                    payload = json.dumps({"query": QUERY, "variables": variables}).encode()
                    t0 = time.perf_counter()
                    status, body = await client.post("/graphql", payload, headers)
                    api[kind].append(time.perf_counter() - t0)
                    assert status == 200 and b'"errors"' not in body, body[:300]
            await client.close()

    print(f"  {'search':26} {'API p50':>9} {'API p95':>9} {'raw SQL p50':>12} {'raw p95':>9}  ratio p50")
    everything: list[float] = []
    for kind in kinds:
        everything += api[kind]
        a50, a95 = percentile(api[kind], 50) * 1000, percentile(api[kind], 95) * 1000
        r50, r95 = percentile(raw[kind], 50) * 1000, percentile(raw[kind], 95) * 1000
        print(f"  {kind:26} {a50:7.1f}ms {a95:7.1f}ms {r50:10.1f}ms {r95:7.1f}ms  {a50 / r50:6.1f}x")
    print(
        f"  all searches: p50 {percentile(everything, 50) * 1000:.1f} ms, p95 {percentile(everything, 95) * 1000:.1f} ms (target p95 < 50 ms)"
    )


if __name__ == "__main__":
    asyncio.run(main())
