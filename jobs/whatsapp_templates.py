"""Keeping WhatsApp's approved-template catalogues current (rules in resolvers/whatsapp_templates.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from core import tasks
from resolvers import whatsapp_templates


@tasks.SYNC_WHATSAPP_TEMPLATES.actor(max_retries=0)
async def sync_whatsapp_templates(channel_id: int | None = None, requested_at: str | None = None) -> None:
    """Without a channel: the periodic sync of every channel due (the upkeep timer of every API
    process enqueues it; a claimed channel is synced once). With one: a status webhook named a
    template the catalogue does not hold yet. Both are idempotent, so a duplicate job is harmless."""
    if channel_id is None:
        await whatsapp_templates.sync_due_channels()
    else:
        asked = datetime.fromisoformat(requested_at) if requested_at else datetime.now(UTC)
        await whatsapp_templates.sync_requested(channel_id, asked)
