"""Database start-up: which PostgreSQL, the Tortoise config, migrations.

Embedded mode starts a real PostgreSQL from the `pgserver` wheel with its data under the project's
data folder (it survives restarts). Production gets DATABASE_URL. Either way the schema comes from
aerich migrations in ./migrations, applied by `pytake migrate` (and by `make run`).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from tortoise import Tortoise

from core.settings import ROOT, Settings

log = logging.getLogger(__name__)

MODELS_MODULES = ["models", "aerich.models"]
MIGRATIONS_DIR = ROOT / "migrations"
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


def stop_embedded_postgres() -> None:
    global _embedded_server
    if _embedded_server is not None:
        _embedded_server.cleanup()
        _embedded_server = None


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
    # Global fallback: the ORM must be visible from uvicorn's request tasks and Dramatiq's
    # loop (Tortoise 1.x keeps it in a ContextVar otherwise; STACK-NOTES section 3).
    await Tortoise.init(config=tortoise_config(db_url), _enable_global_fallback=True)


async def close_orm() -> None:
    await Tortoise.close_connections()


async def migrate(db_url: str) -> list[str]:
    """Apply pending aerich migrations; returns the names applied."""
    from aerich import Command

    command = Command(tortoise_config=tortoise_config(db_url), app="models", location=str(MIGRATIONS_DIR))
    await command.init()
    try:
        return await command.upgrade(run_in_transaction=True)
    finally:
        await Tortoise.close_connections()
