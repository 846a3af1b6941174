"""Modules: discovering the installed ones (entry points, group `pytake.modules`), enabling,
disabling and configuring them (admins, audited), keeping this process's registry
(core/extensions.py) in step with the database, and giving their event handlers the events.

One failing module cannot take the app down: a module that fails to import, declares nothing
usable, or whose handler raises or hangs is logged, marked failed (`failed_reason`) and left out of
the registry until an admin enables it again; everything else goes on.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
from collections.abc import Mapping
from typing import Any

import jsonschema
import orjson

from core import tasks
from core.auth import Actor
from core.events import load_payload
from core.extensions import Active, Module, registry
from core.sql import fetch, fetchrow, in_transaction
from core.vocabulary import Platform
from resolvers import audit
from resolvers.auth import require_admin, require_user
from resolvers.errors import BadInput, NotFound
from resolvers.webhook_dispatch import outgoing

log = logging.getLogger(__name__)

GROUP = "pytake.modules"
HANDLER_TIMEOUT = 30.0  # seconds one handler call may take before it counts as failed
EVENT_BATCH = 200
MASK = "***"

_loaded: dict[str, Module | str] = {}  # name -> the module, or why it could not be loaded
_synced_version: tuple[Any, ...] | None = None


def entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=GROUP)}


def load(name: str) -> Module | str:
    """The module behind an entry point, loaded once per process; a string says why it failed."""
    if name in _loaded:
        return _loaded[name]
    found = entry_points().get(name)
    if found is None:
        return "not installed"
    try:
        module = found.load()
        if not isinstance(module, Module):
            raise TypeError(f"the entry point gives a {type(module).__name__}, not a core.extensions.Module")
        if module.name != name:
            raise ValueError(f"the module calls itself {module.name!r}, its entry point {name!r}")
        for schema in (module.config_schema, *(n.config_schema for n in module.node_types)):
            jsonschema.validators.validator_for(schema).check_schema(schema)
        for platform, connector in module.connectors.items():
            if getattr(connector, "platform", None) != Platform(platform):  # a name of the vocabulary
                raise ValueError(f"its connector for {platform!r} says it speaks for {connector.platform!r}")
        _loaded[name] = module
    except Exception as exc:  # a broken package must not break the app: report it instead
        log.exception("module failed to load", extra={"module_name": name})
        _loaded[name] = f"failed to load: {type(exc).__name__}: {exc}"[:500]
    return _loaded[name]


def config_problems(module: Module, config: Mapping[str, Any]) -> list[str]:
    validator = jsonschema.validators.validator_for(module.config_schema)(module.config_schema)
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(config)'}: {error.message}"
        for error in sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    ]


def masked(module: Module | None, config: Mapping[str, Any]) -> dict[str, Any]:
    """The config with values the schema marks `writeOnly` (a Slack webhook URL, a token) hidden."""
    properties = (module.config_schema.get("properties") if module else None) or {}
    return {k: MASK if (properties.get(k) or {}).get("writeOnly") else v for k, v in config.items()}


async def _rows() -> dict[str, dict[str, Any]]:
    rows = await fetch(
        "SELECT m.name, m.enabled, m.failed_reason, m.updated_at, c.config::text AS config FROM modules m "
        "LEFT JOIN module_configurations c ON c.module_id = m.name"
    )
    return {r["name"]: {**r, "config": orjson.loads(r["config"]) if r["config"] else {}} for r in rows}


async def sync(force: bool = False) -> None:
    """Make this process's registry match the database (cheap when nothing changed)."""
    global _synced_version
    version_row = await fetchrow("SELECT count(*) AS n, max(updated_at) AS at FROM modules")
    version = (version_row["n"], version_row["at"]) if version_row else (0, None)
    if version == _synced_version and not force:
        return
    active: dict[str, Active] = {}
    for name, row in (await _rows()).items():
        if not row["enabled"] or row["failed_reason"]:
            continue
        module = load(name)
        if isinstance(module, Module):
            active[name] = Active(module, row["config"])
    registry.replace(active)
    _synced_version = version


async def keep_in_step(every: float = 5.0) -> None:
    """Each API process runs this: a module enabled, configured or failed in another process
    reaches this one's registry (and its flow validation) within `every` seconds, and a process
    that just started has the enabled modules before its first request needs them."""
    while True:
        try:
            await sync()
        except asyncio.CancelledError:
            raise
        except Exception:  # the database is down, say: keep what we have and try again
            log.warning("modules: could not read their state", exc_info=True)
        await asyncio.sleep(every)


async def list_modules(actor: Actor | None) -> list[dict[str, Any]]:
    require_admin(actor)
    await sync()
    rows = await _rows()
    views = []
    for name in sorted(set(entry_points()) | set(rows)):
        module = load(name)
        row = rows.get(name) or {"enabled": False, "failed_reason": None, "config": {}}
        loaded = isinstance(module, Module)
        failed = row["failed_reason"] or (None if loaded else module)
        views.append(
            {
                "name": name,
                "title": module.title if loaded else name,
                "description": module.description if loaded else "",
                "version": module.version if loaded else None,
                "enabled": row["enabled"] and not failed,
                "status": "FAILED" if failed else "ENABLED" if row["enabled"] else "DISABLED",
                "failed_reason": failed,
                "config_schema": dict(module.config_schema) if loaded else None,
                "config": masked(module if loaded else None, row["config"]),
                "node_types": [n.name for n in module.node_types] if loaded else [],
                "event_types": sorted({e for h in module.event_handlers for e in h.events}) if loaded else [],
            }
        )
    return views


async def flow_node_types(actor: Actor | None) -> list[dict[str, Any]]:
    """What the enabled modules add to flows, for anyone who reads flows (the builder's palette):
    each node type with its module, the JSON Schema of its config and the ports it leaves by (as
    it gives them for an empty config; the saved config decides, flow validation checks edges)."""
    require_user(actor)
    await sync()
    views = []
    for entry in registry.active().values():
        for node_type in entry.module.node_types:
            try:
                ports = sorted(node_type.ports({}), key=lambda p: (p != "next", p))
            except Exception:  # a type whose ports need a config: its default port
                ports = ["next"]
            views.append(
                {
                    "name": node_type.name,
                    "module": entry.module.name,
                    "module_title": entry.module.title,
                    "description": node_type.description,
                    "config_schema": dict(node_type.config_schema),
                    "ports": ports,
                }
            )
    return sorted(views, key=lambda v: (v["module"], v["name"]))


def _loaded_or_refuse(name: str) -> Module:
    module = load(name)
    if module == "not installed":
        raise NotFound(f"no module {name!r} is installed", field="name")
    if not isinstance(module, Module):
        raise BadInput(f"module {name!r} cannot be used: {module}", field="name")
    return module


async def enable(actor: Actor | None, name: str) -> list[dict[str, Any]]:
    """Enable (or re-enable after a failure) with its stored configuration, which must be valid.
    Its event handlers start from events after now."""
    actor = require_admin(actor)
    module = _loaded_or_refuse(name)
    rows = await _rows()
    config = (rows.get(name) or {}).get("config") or {}
    problems = config_problems(module, config)
    if problems:
        raise BadInput(
            f"configure {name} first (configureModule): {'; '.join(problems)}",
            field="name",
            problems=problems,
        )
    async with in_transaction() as conn:
        await conn.execute_query(
            "INSERT INTO modules (name, enabled, failed_reason, cursor, updated_at) VALUES ($1, TRUE, NULL, "
            "COALESCE((SELECT last_seq FROM stream_heads WHERE stream = '*'), 0), clock_timestamp()) "
            "ON CONFLICT (name) DO UPDATE SET enabled = TRUE, failed_reason = NULL, updated_at = clock_timestamp(), "
            "cursor = CASE WHEN modules.enabled THEN modules.cursor ELSE EXCLUDED.cursor END",
            [name],
        )
        await audit.record(conn, actor, "module.enable", "module", name, {})
    await sync(force=True)
    tasks.WEBHOOKS_TICK.send()  # the tick that hands the event log to handlers (and webhooks)
    return await list_modules(actor)


async def disable(actor: Actor | None, name: str) -> list[dict[str, Any]]:
    actor = require_admin(actor)
    async with in_transaction() as conn:
        rows = await conn.execute_query_dict(
            "UPDATE modules SET enabled = FALSE, updated_at = clock_timestamp() WHERE name = $1 RETURNING name",
            [name],
        )
        if not rows and name not in entry_points():
            raise NotFound(f"no module {name!r} is installed", field="name")
        await audit.record(conn, actor, "module.disable", "module", name, {})
    await sync(force=True)
    return await list_modules(actor)


async def configure(actor: Actor | None, name: str, config: Any) -> list[dict[str, Any]]:
    """Store a configuration, refused with every problem when it does not match the module's schema."""
    actor = require_admin(actor)
    module = _loaded_or_refuse(name)
    if not isinstance(config, dict):
        raise BadInput("config is a JSON object", field="config")
    problems = config_problems(module, config)
    if problems:
        raise BadInput(
            f"the configuration does not match {name}'s schema: {'; '.join(problems)}",
            field="config",
            problems=problems,
        )
    before = (await _rows()).get(name, {}).get("config")
    async with in_transaction() as conn:
        await conn.execute_query(
            "INSERT INTO modules (name, enabled, updated_at) VALUES ($1, FALSE, clock_timestamp()) "
            "ON CONFLICT (name) DO UPDATE SET updated_at = clock_timestamp()",
            [name],
        )
        await conn.execute_query(
            "INSERT INTO module_configurations (module_id, config, updated_by_id, updated_at) "
            "VALUES ($1, $2::jsonb, $3, now()) ON CONFLICT (module_id) DO UPDATE SET config = EXCLUDED.config, "
            "updated_by_id = EXCLUDED.updated_by_id, updated_at = now()",
            [name, orjson.dumps(config).decode(), actor.user_id],
        )
        await audit.record(
            conn,
            actor,
            "module.configure",
            "module",
            name,
            {"before": None if before is None else masked(module, before), "after": masked(module, config)},
        )
    await sync(force=True)
    return await list_modules(actor)


async def mark_failed(name: str, reason: str) -> None:
    log.error(
        "module failed; disabled until an admin enables it again",
        extra={"module_name": name, "reason": reason},
    )
    await fetch(
        "UPDATE modules SET failed_reason = $2, updated_at = clock_timestamp() WHERE name = $1",
        name,
        reason[:500],
    )
    await sync(force=True)


async def any_handlers_enabled() -> bool:
    await sync()
    return bool(registry.handlers())


async def dispatch_events() -> int:
    """Give each enabled module's handlers the events after its cursor; how many calls were made.
    A module's row is locked while it runs, so two workers never give it the same event."""
    await sync()
    calls = 0
    for name in {entry.module.name for _, entry in registry.handlers()}:
        try:
            calls += await _dispatch_one(name)
        except Exception:  # the database itself, say: the next tick tries again
            log.exception("module event dispatch failed", extra={"module_name": name})
    return calls


async def _dispatch_one(name: str) -> int:
    entry = registry.active().get(name)
    if entry is None:
        return 0
    calls = 0
    async with in_transaction() as conn:
        locked = await conn.execute_query_dict(
            "SELECT cursor FROM modules WHERE name = $1 AND enabled AND failed_reason IS NULL FOR UPDATE SKIP LOCKED",
            [name],
        )
        if not locked:
            return 0
        cursor = locked[0]["cursor"]
        events = await conn.execute_query_dict(
            "SELECT seq, type, payload::text AS payload, created_at FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
            [cursor, EVENT_BATCH],
        )
        failure = None
        for event in events:
            given, failure = await _give(entry, event)
            calls += given
            if failure:
                break  # the cursor stays before it: re-enabling the module tries this event again
            cursor = event["seq"]
        await conn.execute_query("UPDATE modules SET cursor = $2 WHERE name = $1", [name, cursor])
    if failure:
        await mark_failed(name, failure)
    return calls


async def _give(entry: Active, event: dict[str, Any]) -> tuple[int, str | None]:
    """Hand one log event to the module's handlers that want it: (calls made, why it failed)."""
    found = outgoing(event["type"], load_payload(event["payload"]))
    if found is None:
        return 0, None
    kind, conversation_id, data, _ = found
    payload = {
        "event_id": str(event["seq"]),
        "type": kind,
        "created_at": event["created_at"].isoformat(),
        "conversation_id": conversation_id,
        "data": data,
    }
    calls = 0
    for handler in entry.module.event_handlers:
        if kind not in handler.events and "*" not in handler.events:
            continue
        try:
            await asyncio.wait_for(handler.handle(payload, entry.config), HANDLER_TIMEOUT)
        except Exception as exc:  # isolated: this module is marked failed, nothing else is touched
            log.exception(
                "module handler failed", extra={"module_name": entry.module.name, "event": event["seq"]}
            )
            return calls, f"handler failed on event {event['seq']} ({kind}): {type(exc).__name__}: {exc}"
        calls += 1
    return calls, None
