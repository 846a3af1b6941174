"""Personal data jobs: building a customer's export, and the periodic retention run (rules in
resolvers/privacy.py and resolvers/retention.py)."""

from __future__ import annotations

import logging
from datetime import timedelta

from core import tasks
from core.settings import get_settings
from resolvers import privacy, retention

log = logging.getLogger(__name__)


@tasks.BUILD_CUSTOMER_EXPORT.actor(max_retries=5, min_backoff=1000, max_backoff=60_000)
async def build_customer_export(export_id: int) -> None:
    await privacy.build_export(export_id)


@tasks.PRIVACY_UPKEEP.actor(max_retries=0)
async def privacy_upkeep() -> None:
    """Enqueued by every API process every 30 s; runs once per PRIVACY_UPKEEP_INTERVAL."""
    settings = get_settings()
    done = await retention.privacy_upkeep(
        timedelta(seconds=settings.privacy_upkeep_interval), settings.export_retention_days
    )
    if done:
        log.info("privacy upkeep", extra=done)
