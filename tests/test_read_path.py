"""The read path's fixed costs: each document parsed and validated once (with the limits refusing
the same documents with the same errors), and no reset query on every pooled connection's release
(with nothing setting session state that could leak to the next borrower)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
from pathlib import Path

import pytest

import schema.document_cache as document_cache
from core.sql import db, fetch
from models import Role
from schema.document_cache import DocumentCache
from tests.conftest import REDIS_URL, free_port, requires_redis
from tests.helpers import error_code, eventually, gql, login, make_user
from tests.test_production import _processes, _wait_healthy

INBOX = """query { conversations(first: 5) { edges { cursor node { id status unreadCount
  customer { name } assignee { name } lastMessage { text } } } pageInfo { hasNextPage } } }"""


@pytest.fixture
def validations(monkeypatch):
    """Counts the validations the cache lets through (the real ones still run)."""
    calls: list[str] = []
    real = document_cache.validate_document

    def counting(schema, document, rules):  # type: ignore[no-untyped-def]
        calls.append(document.loc.source.body if document.loc else "")
        return real(schema, document, rules)

    monkeypatch.setattr(document_cache, "validate_document", counting)
    return calls


async def test_a_document_is_validated_once_and_answers_the_same(server, validations):
    token = await login(server, await make_user(Role.AGENT))
    query = INBOX + " # validated once " + str(id(validations))  # a text no other test sent
    first = await gql(server, query, token=token)
    second = await gql(server, query, token=token)
    assert first["_status"] == second["_status"] == 200 and "errors" not in first
    assert first == second
    assert validations.count(query) == 1


async def test_the_limits_refuse_a_cached_document_again_with_the_same_errors(server, validations):
    aliases = "{ " + " ".join(f"cached{i}: __typename" for i in range(30)) + " }"
    answers = [await gql(server, aliases) for _ in range(3)]
    assert [a["_status"] for a in answers] == [400, 400, 400]
    assert all(error_code(a) == "QUERY_TOO_COMPLEX" for a in answers)
    assert answers[0]["errors"] == answers[1]["errors"] == answers[2]["errors"]
    assert "data" not in answers[2]
    assert validations.count(aliases) == 1
    unknown = "{ cachedNope }"
    again = [await gql(server, unknown) for _ in range(2)]
    assert [error_code(a) for a in again] == ["GRAPHQL_VALIDATION_FAILED"] * 2
    assert again[0]["errors"] == again[1]["errors"]


async def test_documents_that_do_not_parse_are_refused_each_time_and_not_kept(server):
    tokens = "{ " + " ".join("__typename" for _ in range(3000)) + " }"
    syntax = "{ conversations( }"
    for document, code in ((tokens, "GRAPHQL_PARSE_FAILED"), (syntax, "GRAPHQL_PARSE_FAILED")):
        answers = [await gql(server, document) for _ in range(2)]
        assert [(a["_status"], error_code(a)) for a in answers] == [(400, code)] * 2
        assert answers[0]["errors"] == answers[1]["errors"]


async def test_the_depth_limit_refuses_from_the_cache_too(database, validations):
    from schema import build_schema

    schema = build_schema(max_depth=4)
    deep = "{ conversations { edges { node { customer { identities { platform } } } } } }"
    for _ in range(2):
        result = await schema.execute(deep)
        assert result.errors and result.errors[0].extensions["code"] == "QUERY_TOO_COMPLEX"
        assert result.data is None
    assert validations.count(deep) == 1
    # Another schema with another limit has its own cache: the same text passes the depth rule there.
    roomy = await build_schema(max_depth=10).execute(deep)
    assert not any(e.extensions.get("code") == "QUERY_TOO_COMPLEX" for e in roomy.errors or [])


async def test_a_cached_mutation_still_runs_every_time(server, validations):
    """The cache keeps the document and its validation, never a result: each request executes."""
    user = await make_user(Role.AGENT)
    token = await login(server, user)
    save = "mutation($n: String!) { saveView(name: $n) { name } }"
    for name in ("first view", "second view"):
        body = await gql(server, save, {"n": name}, token)
        assert body["data"]["saveView"]["name"] == name
    stored = await fetch("SELECT name FROM saved_views WHERE user_id = $1 ORDER BY id", user.id)
    assert [row["name"] for row in stored] == ["first view", "second view"]
    assert validations.count(save) == 1
    refused = await gql(server, save, {"n": "\x00"}, token)  # arguments are still checked per request
    assert error_code(refused) == "BAD_USER_INPUT"
    assert len(await fetch("SELECT 1 FROM saved_views WHERE user_id = $1", user.id)) == 2


def test_the_cache_is_bounded_and_keeps_only_short_documents():
    from graphql import parse

    cache = DocumentCache(max_depth=10, max_aliases=15, maxsize=2)
    options = {"max_tokens": 100}
    keys = [cache.key(f"{{ a{i} }}", options) for i in range(3)]
    for key in keys:
        assert key is not None
        cache.put(key, parse(key[0]))
    assert len(cache) == 2 and cache.get(keys[0]) is None and cache.get(keys[2]) is not None
    assert cache.key("{ " + "a " * 10_000 + "}", options) is None  # parsed each time, never held
    assert cache.key("{ a0 }", {"max_tokens": 5}) != keys[0]  # another token limit, another entry


# --- the pool's release: no reset query, and no session state to reset -----------------------

MARKER = "SELECT 'read path: last statement before release'"


async def _last_statement_of(pid: int) -> str:
    """What the backend ran last, seen from another connection (pg_stat_activity)."""
    import asyncpg

    from core.db import asyncpg_dsn
    from core.settings import get_settings

    observer = await asyncpg.connect(asyncpg_dsn(get_settings().database_url or ""))
    try:
        return await observer.fetchval("SELECT query FROM pg_stat_activity WHERE pid = $1", pid)
    finally:
        await observer.close()


async def test_a_released_connection_gets_no_reset_query(server):
    pool = db()._pool
    seen = []
    for _ in range(10):  # the app's own tasks (the event sequencer) may take the connection next
        async with pool.acquire() as conn:
            pid = conn.get_server_pid()
            await conn.fetchval(MARKER)
        last = await _last_statement_of(pid)
        # asyncpg's default release would have sent "SELECT pg_advisory_unlock_all(); CLOSE ALL; …".
        assert "pg_advisory_unlock_all" not in last and "RESET ALL" not in last, last
        if last == MARKER:
            return
        seen.append(last)
    pytest.fail(f"another statement always ran on the connection before the check: {seen}")


async def test_a_reported_setting_changed_on_a_pooled_connection_does_not_leak(server):
    """Should anything ever SET what PostgreSQL reports back (time zone, role, date style…), the
    release notices without a round trip and runs the full reset."""
    pool = db()._pool
    seen = []
    for _ in range(10):  # the app's own tasks (the event sequencer) may take the connection next
        async with pool.acquire() as conn:
            pid = conn.get_server_pid()
            zone = await conn.fetchval("SHOW TimeZone")
            await conn.execute("SET TIME ZONE 'Asia/Tokyo'; SET application_name = 'leaky'")
        last = await _last_statement_of(pid)
        assert "SET TIME ZONE" not in last, "released without the reset"
        if "RESET ALL" in last:
            break
        seen.append(last)  # taken by another task after its reset: again (the state is checked below too)
    else:
        pytest.fail(f"another statement always ran on the connection before the check: {seen}")
    held = [await pool.acquire() for _ in range(pool.get_size())]  # the same backend among them
    try:
        same = [c for c in held if c.get_server_pid() == pid]
        assert same, "the connection was closed instead of reset"
        assert await same[0].fetchval("SHOW TimeZone") == zone
        assert await same[0].fetchval("SHOW application_name") != "leaky"
    finally:
        for conn in held:
            await pool.release(conn)


async def test_after_real_traffic_no_pooled_connection_carries_session_state(server, wa):
    """A webhook ingested (with the ingest function's transaction-level locks), the inbox read:
    then every connection in the pool looks as a fresh one does (no session settings, advisory locks, LISTEN, cursors, temp tables)."""
    from tests.helpers import post_webhook, wa_text_payload

    channel, secrets, _fake = wa
    user = await make_user(Role.SUPERVISOR)
    token = await login(server, user)
    payload = wa_text_payload(channel.config["phone_number_id"], "5511900000042", "does state leak?")
    assert (await post_webhook(server, channel, secrets["app_secret"], payload)).status_code == 200
    stored = await fetch("SELECT 1 FROM messages WHERE text = 'does state leak?'")
    assert len(stored) == 1
    assert "errors" not in await gql(server, INBOX, token=token)
    pool = db()._pool
    held = [await pool.acquire() for _ in range(pool.get_size())]
    try:
        for conn in held:
            state = await conn.fetchrow(SESSION_STATE)
            assert dict(state) == {"settings": [], "locks": 0, "listening": 0, "cursors": 0, "temp": 0}
            assert not conn.is_in_transaction()
    finally:
        for conn in held:
            await pool.release(conn)


SESSION_STATE = """SELECT
  array(SELECT name FROM pg_settings WHERE source = 'session' AND setting IS DISTINCT FROM reset_val
        ORDER BY name) AS settings,
  (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid())::int AS locks,
  (SELECT count(*) FROM pg_listening_channels())::int AS listening,
  (SELECT count(*) FROM pg_cursors WHERE name <> '')::int AS cursors,  -- '': this query's own
  (SELECT count(*) FROM pg_class WHERE relpersistence = 't' AND pg_table_is_visible(oid))::int AS temp"""

# Statements that leave state on the session (not the transaction) they run in. SQL keywords are
# upper case here (the code's convention), so prose in comments does not match; a bare SET is only
# looked for where a statement starts in Python strings, since in the .sql files SET mostly
# continues an UPDATE.
SESSION_STATEMENTS = re.compile(
    r"""(?x)
    set_config \s* \( [^)]* , \s* false \s* \)
    | pg_(try_)?advisory_lock(_shared)? \s* \(                    # session-level locks
    | (^|[;"'])\s* (UN)?LISTEN \s | add_listener
    | DECLARE \s+ \w+ \s+ [A-Z\s]* CURSOR \s+ WITH \s+ HOLD
    | CREATE \s+ (GLOBAL\s+|LOCAL\s+)? TEMP(ORARY)? \s
    | (^|[;"'])\s* PREPARE \s+ \w+ \s+ AS
    | (^|[;"'])\s* RESET \s
    """
)
SESSION_SET = re.compile(r"""[;"']\s*SET\s+(SESSION\s+)?(?!LOCAL\b|TRANSACTION\b|CONSTRAINTS\b)\w+""")


def _sets_session_state(line: str, sql_file: bool) -> bool:
    return bool(SESSION_STATEMENTS.search(line) or (not sql_file and SESSION_SET.search(line)))


# The Discord gateway holds its channels' leases as session locks on a connection of its own.
OWN_CONNECTION = {"ingress/discord_gateway_runner.py"}


def test_no_code_sets_session_state_on_a_pooled_connection():
    root = Path(__file__).resolve().parents[1]
    files = [
        *(
            p
            for d in ("core", "resolvers", "schema", "ingress", "jobs", "connectors", "models")
            for p in (root / d).rglob("*.py")
        ),
        root / "asgi.py",
        *(root / "migrations" / "functions").glob("*.sql"),
    ]
    found = []
    for path in files:
        name = path.relative_to(root).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _sets_session_state(line, path.suffix == ".sql") and name not in OWN_CONNECTION:
                found.append(f"{name}:{number}: {line.strip()}")
    assert not found, "session state on a pooled connection (the pool no longer resets it):\n" + "\n".join(
        found
    )
    gateway = (root / "ingress/discord_gateway_runner.py").read_text(encoding="utf-8")
    assert "asyncpg.connect(" in gateway  # its session lock is on its own connection, not the pool's


def test_the_pattern_catches_each_kind_of_session_statement():
    for statement in (
        '"SET statement_timeout = 0"',
        "'SET SESSION search_path TO x'",
        "SELECT 1; SET work_mem = '1GB'",
        "\"SET TIME ZONE 'UTC'\"",
        '"RESET ALL"',
        "SELECT set_config('app.user', '1', false)",
        "SELECT pg_advisory_lock(1)",
        "SELECT pg_try_advisory_lock(1)",
        '"LISTEN events"',
        "conn.add_listener('x', cb)",
        "DECLARE c CURSOR WITH HOLD FOR SELECT 1",
        "CREATE TEMP TABLE t (x int)",
        '"PREPARE q AS SELECT 1"',
    ):
        assert _sets_session_state(statement, sql_file=False), statement
    for harmless in (
        "\"UPDATE conversations SET status = 'open'\"",
        "# a comment: set it and reset it, listen to this",
        "INSERT … ON CONFLICT DO UPDATE SET value = EXCLUDED.value",
        '"SET LOCAL statement_timeout = 0"',
        "SELECT set_config('app.user', '1', true)",
        "SELECT pg_advisory_xact_lock(1)",
        "SELECT pg_try_advisory_xact_lock(1)",
    ):
        assert not _sets_session_state(harmless, sql_file=False), harmless


# --- connections spread over the API processes -----------------------------------------------


def _sockets_on(port: int, state: str) -> set[str]:
    """Inodes of this machine's IPv4 TCP sockets on a local port in a state (0A listen, 01 open)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == state:
            inodes.add(fields[9])
    return inodes


def _socket_inodes_of(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    return inodes


def _children_of(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(stat.parent.name))
    return children


@requires_redis
async def test_each_api_process_listens_on_its_own_socket_and_connections_spread(database):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "REDIS_URL": REDIS_URL or "",
        "PYTAKE_NAMESPACE": f"{os.environ['PYTAKE_NAMESPACE']}-spread",
        "PYTAKE_INPROCESS_WORKER": "0",
        "PUBLIC_URL": base,
    }
    serve = [str(Path(sys.executable).parent / "pytake"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    with _processes(env, [*serve, "--workers", "2"]) as (supervisor,):
        await _wait_healthy(base, supervisor)

        def listeners() -> dict[int, set[str]]:  # worker pid → its listening sockets
            listening = _sockets_on(port, "0A")
            return {w: _socket_inodes_of(w) & listening for w in _children_of(supervisor.pid)}

        async def both_listening() -> bool:  # the second worker may still be starting
            return len([w for w, inodes in listeners().items() if inodes]) == 2

        await eventually(both_listening, timeout=20, interval=0.1)
        # One socket per worker (uvicorn alone shares one), none in the supervisor.
        workers = [w for w, inodes in listeners().items() if inodes]
        assert sorted(len(inodes) for inodes in listeners().values() if inodes) == [1, 1]
        assert len(_sockets_on(port, "0A")) == 2
        assert not _socket_inodes_of(supervisor.pid) & _sockets_on(port, "0A")
        lanes = [await asyncio.open_connection("127.0.0.1", port) for _ in range(32)]
        try:
            for reader, writer in lanes:  # each answered, so each accepted by some worker
                writer.write(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
                assert (await reader.readline()).startswith(b"HTTP/1.1 200")
            accepted = _sockets_on(port, "01")
            per_worker = [len(_socket_inodes_of(w) & accepted) for w in workers]
            # The kernel's hash spreads 32 connections over both (all on one: 1 in 2^31).
            assert sum(per_worker) == 32 and min(per_worker) > 0, per_worker
        finally:
            for _, writer in lanes:
                writer.close()
