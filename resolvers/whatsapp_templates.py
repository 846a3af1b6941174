"""WhatsApp's approved (HSM) templates: each WhatsApp channel's catalogue, synced from the Cloud
API (by supervisors with `syncWhatsappTemplates`, and hourly by the workers), its statuses kept
current by the template status webhooks, and the check a template send passes before it is
queued (resolvers/messages.py): the template exists, is approved, and is given exactly its
parameters (resolvers/whatsapp_template_parameters.py).

A channel never synced keeps sending templates it does not know (as before the catalogue existed):
there is nothing to check them against.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from connectors.base import Platform, SendError, TemplateStatusChange
from connectors.whatsapp import TEMPLATE_STATUSES, whatsapp
from core import http, tasks
from core.auth import Actor
from core.sql import fetch, fetchrow, in_transaction
from core.storable import storable
from models import Channel
from resolvers import audit
from resolvers import whatsapp_template_parameters as parameters
from resolvers.auth import require_supervisor, require_user
from resolvers.channels import credentials
from resolvers.errors import BadInput, DomainError, NotFound

log = logging.getLogger(__name__)

SYNC_EVERY = timedelta(hours=1)  # templates change by Meta's review, rarely; webhooks carry statuses
_COLUMNS = (
    "id, channel_id, platform_template_id, name, language, category, status, status_reason, "
    "status_changed_at, parameter_format, components, synced_at"
)


class PlatformUnavailable(DomainError):
    """WhatsApp refused the catalogue request or could not be reached."""

    code = "PLATFORM_ERROR"


async def _whatsapp_channel(channel_id: int) -> Channel:
    channel = await Channel.get_or_none(id=channel_id)
    if channel is None:
        raise NotFound(f"channel {channel_id} does not exist", field="channelId")
    if channel.platform != Platform.WHATSAPP.value:
        raise BadInput(f"channel {channel_id} is not a WhatsApp channel", field="channelId")
    return channel


def _view(row: dict[str, Any]) -> dict[str, Any]:
    components = row["components"]
    components = orjson.loads(components) if isinstance(components, str) else components
    return {**row, "components": components, "slots": parameters.slots(components)}


# ---- reading --------------------------------------------------------------------------------------


async def list_templates(
    actor: Actor | None, channel_id: int, *, status: str | None = None, language: str | None = None
) -> list[dict[str, Any]]:
    """The channel's catalogue (an agent filters APPROVED to pick one outside the 24-hour window)."""
    require_user(actor)
    await _whatsapp_channel(channel_id)
    if status is not None and status not in TEMPLATE_STATUSES:
        raise BadInput(f"unknown template status {status!r}", field="status")
    rows = await fetch(
        f"SELECT {_COLUMNS} FROM whatsapp_templates WHERE channel_id = $1 "
        "AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR language = $3) ORDER BY name, language",
        channel_id,
        status,
        language,
    )
    return [_view(r) for r in rows]


async def last_synced_at(channel_id: int) -> datetime | None:
    row = await fetchrow("SELECT synced_at FROM whatsapp_template_syncs WHERE channel_id = $1", channel_id)
    return row["synced_at"] if row else None


# ---- syncing ----------------------------------------------------------------------------------------


async def sync_templates(actor: Actor | None, channel_id: int) -> dict[str, Any]:
    """A supervisor asks for the catalogue now (after creating a template in Meta's manager)."""
    actor = require_supervisor(actor)
    return await sync_channel(channel_id, actor=actor)


async def sync_channel(channel_id: int, *, actor: Actor | None = None) -> dict[str, Any]:
    """Replace the channel's catalogue with what the Cloud API lists. Idempotent: the same listing
    gives the same rows. Raises PlatformUnavailable when WhatsApp does not answer with it."""
    channel = await _whatsapp_channel(channel_id)
    if not str(channel.config.get("waba_id") or "").isdigit():
        raise BadInput(
            "the channel has no business account ID: set its waba_id (updateChannel) first", field="channelId"
        )
    started = datetime.now(UTC)
    try:
        # NUL and lone surrogates cannot be stored (text or jsonb): cleaned as inbound text is.
        listed = storable(await whatsapp.fetch_templates(http.client(), credentials(channel)))
    except SendError as exc:
        await _record_attempt(channel_id, error=exc.reason)
        raise PlatformUnavailable(f"WhatsApp did not list the templates: {exc.reason}") from None
    async with in_transaction() as conn:
        # One sync per channel at a time: two would interleave their deletes and upserts.
        await conn.execute_query(
            "SELECT pg_advisory_xact_lock(hashtext('whatsapp_templates'), $1)", [channel_id]
        )
        for t in listed:
            await conn.execute_query(
                "INSERT INTO whatsapp_templates (channel_id, platform_template_id, name, language, category, "
                "status, status_reason, parameter_format, components, status_changed_at, synced_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, now(), now()) "
                "ON CONFLICT (channel_id, name, language) DO UPDATE SET "
                "platform_template_id = EXCLUDED.platform_template_id, category = EXCLUDED.category, "
                "parameter_format = EXCLUDED.parameter_format, components = EXCLUDED.components, "
                "synced_at = now(), "
                # A status webhook that landed after the listing was fetched is newer than it.
                "status = CASE WHEN whatsapp_templates.status_changed_at > $10 "
                "THEN whatsapp_templates.status ELSE EXCLUDED.status END, "
                "status_reason = CASE WHEN whatsapp_templates.status_changed_at > $10 "
                "THEN whatsapp_templates.status_reason ELSE EXCLUDED.status_reason END, "
                "status_changed_at = CASE WHEN whatsapp_templates.status IS DISTINCT FROM EXCLUDED.status "
                "AND whatsapp_templates.status_changed_at <= $10 THEN now() "
                "ELSE whatsapp_templates.status_changed_at END",
                [
                    channel_id,
                    t["platform_template_id"],
                    t["name"],
                    t["language"],
                    t["category"],
                    t["status"],
                    t["reason"],
                    t["parameter_format"],
                    orjson.dumps(t["components"]).decode(),
                    started,
                ],
            )
        removed = await conn.execute_query_dict(
            "WITH gone AS (DELETE FROM whatsapp_templates WHERE channel_id = $1 "
            "AND NOT (name || '/' || language = ANY($2::text[])) RETURNING 1) SELECT count(*) AS n FROM gone",
            [channel_id, [f"{t['name']}/{t['language']}" for t in listed]],
        )
        await conn.execute_query(
            "INSERT INTO whatsapp_template_syncs (channel_id, attempted_at, synced_at, last_error) "
            "VALUES ($1, now(), now(), NULL) ON CONFLICT (channel_id) DO UPDATE SET "
            "attempted_at = now(), synced_at = now(), last_error = NULL",
            [channel_id],
        )
        result = {
            "channel_id": channel_id,
            "count": len(listed),
            "removed": removed[0]["n"],
            "synced_at": None,
        }
        if actor is not None:
            await audit.record(
                conn,
                actor,
                "whatsapp_templates.sync",
                "Channel",
                channel_id,
                {k: result[k] for k in ("count", "removed")},
            )
    result["synced_at"] = await last_synced_at(channel_id)
    return result


async def _record_attempt(channel_id: int, *, error: str | None) -> None:
    await fetch(
        "INSERT INTO whatsapp_template_syncs (channel_id, attempted_at, last_error) VALUES ($1, now(), $2) "
        "ON CONFLICT (channel_id) DO UPDATE SET attempted_at = now(), last_error = $2",
        channel_id,
        error,
    )


async def sync_due_channels() -> list[int]:
    """The periodic sync: every WhatsApp channel with a waba_id not tried for SYNC_EVERY. Each is
    claimed (attempted_at moved forward) before it is fetched, so the upkeep every API process
    enqueues syncs a channel once, not once per process."""
    due = await fetch(
        "SELECT c.id FROM channels c LEFT JOIN whatsapp_template_syncs s ON s.channel_id = c.id "
        "WHERE c.platform = 'whatsapp' AND c.enabled AND c.config->>'waba_id' ~ '^[0-9]+$' "
        "AND (s.channel_id IS NULL OR s.attempted_at < $1) ORDER BY c.id LIMIT 100",
        datetime.now(UTC) - SYNC_EVERY,
    )
    synced = []
    for row in due:
        if await _claim(row["id"], before=datetime.now(UTC) - SYNC_EVERY) and await _sync_quietly(row["id"]):
            synced.append(row["id"])
    return synced


async def _sync_quietly(channel_id: int) -> bool:
    """A worker's sync: a refusal is recorded on the sync row (and logged), never raised."""
    try:
        await sync_channel(channel_id)
    except (PlatformUnavailable, BadInput, NotFound) as exc:
        log.warning("whatsapp template sync failed", extra={"channel_id": channel_id, "reason": exc.message})
        return False
    return True


async def sync_requested(channel_id: int, requested_at: datetime) -> bool:
    """A sync asked for by a status webhook about a template the catalogue does not hold yet. Skipped
    when a sync was tried since the request: a burst of such webhooks becomes one listing, not one
    each (Meta rate-limits the business account's calls)."""
    if not await _claim(channel_id, before=requested_at):
        return False
    return await _sync_quietly(channel_id)


async def _claim(channel_id: int, *, before: datetime) -> bool:
    """Move the channel's attempted_at to now unless someone tried it at `before` or later."""
    claimed = await fetch(
        "INSERT INTO whatsapp_template_syncs (channel_id, attempted_at) VALUES ($1, now()) "
        "ON CONFLICT (channel_id) DO UPDATE SET attempted_at = now() "
        "WHERE whatsapp_template_syncs.attempted_at < $2 RETURNING channel_id",
        channel_id,
        before,
    )
    return bool(claimed)


# ---- status webhooks ------------------------------------------------------------------------------


async def apply_status_changes(channel_id: int, changes: Sequence[TemplateStatusChange]) -> int:
    """Apply verified template status webhooks; returns how many catalogue rows changed. A template
    the catalogue does not hold yet (created since the last sync) asks for a sync instead."""
    changed, unknown = 0, False
    for change in storable(tuple(changes)):
        rows = await fetch(
            "UPDATE whatsapp_templates SET status = $4, status_reason = $5, status_changed_at = now(), "
            "platform_template_id = COALESCE(platform_template_id, $6) "
            "WHERE channel_id = $1 AND ((platform_template_id = $6) OR (name = $2 AND language = $3)) RETURNING id",
            channel_id,
            change.name,
            change.language,
            change.status,
            change.reason,
            change.platform_template_id,
        )
        changed += len(rows)
        unknown = unknown or not rows
    if unknown and await _has_business_account(channel_id):
        asked = await fetchrow("SELECT now()::text AS at")  # the database's clock, as attempted_at's
        assert asked is not None
        tasks.SYNC_WHATSAPP_TEMPLATES.send(channel_id, asked["at"])
    return changed


async def _has_business_account(channel_id: int) -> bool:
    row = await fetchrow("SELECT config->>'waba_id' AS waba_id FROM channels WHERE id = $1", channel_id)
    return bool(row and (row["waba_id"] or "").isdigit())


# ---- the send check ---------------------------------------------------------------------------------


async def check_template_send(channel_id: int, template: dict[str, Any]) -> str | None:
    """Before a template send is stored: BadInput unless the template is in the channel's catalogue,
    approved, and given exactly its parameters. Returns the text the customer will read (for the
    timeline), or None when the channel was never synced (nothing to check against)."""
    name, language = str(template.get("name") or ""), str(template.get("language") or "")
    row = await fetchrow(
        f"SELECT {_COLUMNS} FROM whatsapp_templates WHERE channel_id = $1 AND name = $2 AND language = $3",
        channel_id,
        name,
        language,
    )
    if row is None:
        if await last_synced_at(channel_id) is None:
            return None
        raise BadInput(
            f"template {name!r} in {language!r} is not in this channel's catalogue "
            "(see whatsappTemplates; sync it if it was created since)",
            field="template.name",
        )
    if row["status"] != "APPROVED":
        because = f" ({row['status_reason']})" if row["status_reason"] else ""
        raise BadInput(
            f"template {name!r} in {language!r} is {row['status']}{because}: only approved templates can be sent",
            field="template.name",
            status=row["status"],
        )
    view = _view(row)
    values = parameters.check(view["components"], row["parameter_format"], template.get("components"))
    return parameters.rendered_text(view["components"], values) or None
