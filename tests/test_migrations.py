"""Migrations: the versioned ones run once; the database functions in migrations/functions are
applied on every migrate, so running `pytake migrate` again on a migrated database must change
nothing, rebuild nothing (pytake_fold feeds stored columns and indexes), and leave ingest working."""

from __future__ import annotations

import asyncio
import os
import random
import sys
import uuid
from typing import Any

from core.db import function_files
from core.settings import ROOT
from core.sql import fetch
from models import Message
from tests.helpers import post_webhook, wa_text_payload

# Tables and indexes whose storage a rebuild would replace (new relfilenode).
_STORAGE = (
    "messages",
    "customers",
    "customer_identities",
    "idx_messages_search",
    "idx_customers_search_trgm",
    "idx_identities_search_trgm",
)


async def _state() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    functions = await fetch(
        "SELECT oid::int AS oid, proname, pg_get_functiondef(oid) AS definition FROM pg_proc "
        "WHERE proname LIKE 'pytake\\_%' ORDER BY proname, oid"
    )
    storage = await fetch(
        "SELECT relname, relfilenode::int AS relfilenode FROM pg_class WHERE relname = ANY($1::text[]) ORDER BY relname",
        list(_STORAGE),
    )
    return functions, storage


async def _version(function: str) -> str:
    """The row version of the function's catalogue entry: CREATE OR REPLACE writes a new one."""
    rows = await fetch("SELECT xmin::text AS version FROM pg_proc WHERE proname = $1", function)
    return rows[0]["version"]


async def _pytake_migrate() -> str:
    """The real entry point, in its own process (migrate re-initialises the ORM)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "core.cli",
        "migrate",
        cwd=ROOT,
        env=os.environ.copy(),  # DATABASE_URL: this run's database, migrated by conftest
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    return out.decode()


def test_every_function_file_redefines_rather_than_creates() -> None:
    files = function_files()
    assert files and all(f.name[:2].isdigit() for f in files)  # the order is explicit
    for path in files:
        sql = path.read_text(encoding="utf-8")
        assert "CREATE OR REPLACE FUNCTION" in sql, path.name
        assert "CREATE FUNCTION" not in sql and "CREATE TABLE" not in sql, path.name  # safe to re-run


async def test_migrating_again_changes_nothing_and_rebuilds_nothing(server, wa):
    before = await _state()
    names = {f["proname"] for f in before[0]}
    assert {"pytake_ingest_message", "pytake_ingest_group", "pytake_sequence_events", "pytake_fold"} <= names
    assert {
        "pytake_ingest_one",
        "pytake_log_events",
        "pytake_message_json",
        "pytake_conversation_json",
    } <= names
    ingest = next(f["definition"] for f in before[0] if f["proname"] == "pytake_ingest_one")
    assert "pytake_message_json(v_message)" in ingest  # the current body, from migrations/functions

    version = await _version("pytake_ingest_message")
    assert "none pending" in await _pytake_migrate()
    assert "none pending" in await _pytake_migrate()
    assert await _state() == before  # same functions (same oids, same bodies), same storage
    assert await _version("pytake_ingest_message") != version  # and yet they were applied again

    channel, secrets, _ = wa  # and ingest still works on the re-applied functions
    wamid = f"wamid.{uuid.uuid4().hex}"
    body = wa_text_payload(
        channel.config["phone_number_id"], f"1651{random.randrange(10**7):07d}", "hi", wamid=wamid
    )
    assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200
    assert await Message.filter(channel_id=channel.id, platform_message_id=wamid).count() == 1
