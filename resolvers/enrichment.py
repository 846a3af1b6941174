"""What only the platform's API knows, added to a parsed webhook before it is stored.

A connector may have `enrich(http, channel, parsed)` (Slack: the names behind `<@U…>` mentions).
It runs inside the webhook request, after the signature and before the transaction, so it must
never cost the customer their message: any failure keeps the webhook as parsed.
"""

from __future__ import annotations

import logging
from typing import Any

from connectors.base import ChannelCredentials, ParsedWebhook
from core import http

log = logging.getLogger(__name__)


async def enrich(connector: Any, channel: ChannelCredentials, parsed: ParsedWebhook) -> ParsedWebhook:
    step = getattr(connector, "enrich", None)  # only platforms whose payloads need it have it
    if step is None or not (parsed.messages or parsed.edits):
        return parsed
    try:
        return await step(http.client(), channel, parsed)
    except Exception:  # decoration only: a bug or an odd answer here must not lose the message
        log.exception(
            "webhook enrichment failed; storing as parsed", extra={"channel_id": channel.channel_id}
        )
        return parsed
