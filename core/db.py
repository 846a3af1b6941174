"""Database start-up: which PostgreSQL, the Tortoise config, migrations.

Embedded mode starts a real PostgreSQL from the `pgserver` wheel with its data under the project's
data folder (it survives restarts). Production gets DATABASE_URL. Either way the schema comes from
aerich migrations in ./migrations/models, applied by `pytake migrate` (and by `make run`), followed
by the database functions in ./migrations/functions, whose files hold their current bodies.
"""

from __future__ import annotations

import logging
import os
import weakref
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.transactions import in_transaction

from core.settings import ROOT, Settings

log = logging.getLogger(__name__)

MODELS_MODULES = ["models", "aerich.models"]
MIGRATIONS_DIR = ROOT / "migrations"
FUNCTIONS_DIR = MIGRATIONS_DIR / "functions"
_FUNCTIONS_LOCK = 7265021  # advisory lock key: one process (re)defines the functions at a time
EMBEDDED_DB_NAME = "pytake"
_embedded_server: Any = None


def _with_pool(db_url: str) -> str:
    """Tortoise's asyncpg pool defaults to 5 connections: too few for a webhook flood."""
    if "maxsize=" in db_url:
        return db_url
    size = os.environ.get("DB_POOL_SIZE", "20")
    return f"{db_url}{'&' if '?' in db_url else '?'}minsize=2&maxsize={size}"


def tortoise_config(db_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": _with_pool(db_url)},
        "apps": {"models": {"models": MODELS_MODULES, "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


# What PostgreSQL reports to the client whenever it changes (ParameterStatus), so a change is seen
# on release without a round trip.
REPORTED_SETTINGS = (
    "TimeZone",
    "DateStyle",
    "IntervalStyle",
    "application_name",
    "client_encoding",
    "session_authorization",
    "is_superuser",
    "default_transaction_read_only",
    "standard_conforming_strings",
)
_settings_at_connect: weakref.WeakKeyDictionary[asyncpg.Connection, tuple[object, ...]] = (
    weakref.WeakKeyDictionary()
)


def _reported(conn: asyncpg.Connection) -> tuple[object, ...]:
    settings = conn.get_settings()
    return tuple(getattr(settings, name, None) for name in REPORTED_SETTINGS)


async def _remember_settings(conn: asyncpg.Connection) -> None:
    _settings_at_connect[conn] = _reported(conn)


async def _reset_only_if_changed(conn: asyncpg.Connection) -> None:
    """The pool's release step. asyncpg's default sends its reset query (advisory unlock all, close
    all cursors, unlisten all, reset all settings) on every release, after every statement run
    outside a transaction: a round trip and 13 % of ingest's samples, for state this code never leaves behind (no session SET or
    set_config, no session advisory lock, LISTEN, cursor or temporary table on a pooled
    connection: tests/test_read_path.py checks the code for each; the Discord gateway's session
    lock is on its own connection). An open transaction is still rolled back by asyncpg before
    this runs. A reported setting that did change (SET TIME ZONE, SET ROLE…) still gets the full
    reset, so the next borrower never inherits it."""
    if _settings_at_connect.get(conn) != _reported(conn):
        await conn.execute(conn.get_reset_query())


# The app's sessions run short statements, many at once on few cores: JIT compilation (tens of ms,
# from a cost estimate over 100,000, which a 10M-row table's estimates reach) and parallel workers
# (a process started per worker) cost more than they save. bench/search at 10M messages: a rare
# search's generic plan compiled 18 functions (26 ms) and waited 100 ms for its workers under load.
SESSION_SETTINGS = {"jit": "off", "max_parallel_workers_per_gather": "0"}


def _pooled(db_url: str) -> dict[str, Any]:
    """The app's connection: the URL's pool, released without the per-statement reset query."""
    connection = expand_db_url(_with_pool(db_url))
    connection["credentials"].update(
        init=_remember_settings, reset=_reset_only_if_changed, server_settings=dict(SESSION_SETTINGS)
    )
    return connection


def _normalise(url: str) -> str:
    # asyncpg accepts postgresql://; Tortoise wants postgres://
    return "postgres://" + url.split("://", 1)[1] if url.startswith("postgresql://") else url


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def asyncpg_dsn(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or reuse) the project-local PostgreSQL; returns the server URL (postgres database)."""
    global _embedded_server
    if _embedded_server is None:
        import pgserver  # imported here: production never needs the wheel's binaries

        pg_dir = data_dir / "pgdata"
        pg_dir.mkdir(parents=True, exist_ok=True)
        _embedded_server = pgserver.get_server(str(pg_dir), cleanup_mode="stop")
        log.info("embedded PostgreSQL running", extra={"data_dir": str(pg_dir)})
    return _normalise(_embedded_server.get_uri())


async def ensure_database(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(with_database(server_url, "postgres")))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def drop_database(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(with_database(server_url, "postgres")))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def resolve_database_url(settings: Settings) -> str:
    """The URL the app uses: DATABASE_URL, or the embedded server's `pytake` database (created once)."""
    if settings.database_url:
        return _normalise(settings.database_url)
    server = start_embedded_postgres(settings.data_dir)
    await ensure_database(server, EMBEDDED_DB_NAME)
    return with_database(server, EMBEDDED_DB_NAME)


async def init_orm(db_url: str) -> None:
    config = tortoise_config(db_url)
    config["connections"]["default"] = _pooled(db_url)  # migrations keep aerich's URL form
    # Global fallback: the ORM must be visible from uvicorn's request tasks and Dramatiq's
    # loop (Tortoise 1.x keeps it in a ContextVar otherwise; STACK-NOTES section 3).
    await Tortoise.init(config=config, _enable_global_fallback=True)


async def close_orm() -> None:
    await Tortoise.close_connections()


async def migrate(db_url: str) -> list[str]:
    """Apply pending aerich migrations, then (re)define every database function; returns the names
    of the migrations applied."""
    from aerich import Command

    command = Command(tortoise_config=tortoise_config(db_url), app="models", location=str(MIGRATIONS_DIR))
    await command.init()
    try:
        applied = await command.upgrade(run_in_transaction=True)
        await apply_functions()
        return applied
    finally:
        await Tortoise.close_connections()


def function_files() -> list[Path]:
    return sorted(FUNCTIONS_DIR.glob("*.sql"))


async def apply_functions() -> None:
    """Run every migrations/functions/*.sql in file-name order, in one transaction. Each file is
    CREATE OR REPLACE of a current body, so running them on every migrate is idempotent; a
    function a generated column or index depends on keeps its signature, so nothing is rebuilt."""
    async with in_transaction("default") as conn:
        # Concurrent CREATE OR REPLACE of one function fails ("tuple concurrently updated").
        await conn.execute_query("SELECT pg_advisory_xact_lock($1)", [_FUNCTIONS_LOCK])
        for path in function_files():
            await conn.execute_script(path.read_text(encoding="utf-8"))
