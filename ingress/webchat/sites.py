"""Which web chat a request is for: the channel named by the public key in the URL (from the embed
snippet), with its credentials and the origins allowed to use it."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from connectors.base import ChannelCredentials
from connectors.webchat import normalise_origin, widget_config
from core.crypto import SecretsUnreadable
from ingress.webchat.errors import WebchatError
from resolvers.channels import channel_for_webhook, previous_credentials
from resolvers.errors import NotFound
from resolvers.webchat_visitors import webchat_channel_id

log = logging.getLogger("pytake.webchat")

_KEY_TTL = 5.0  # seconds a key → channel lookup is reused: every widget request names its key
_key_cache: dict[str, tuple[float, int | None]] = {}


@dataclass(frozen=True)
class Site:
    channel_id: int
    creds: ChannelCredentials
    origins: frozenset[str]
    # The credentials with the rotated-out visitor token key, while its grace lasts (None after).
    previous: ChannelCredentials | None = None

    @property
    def title(self) -> str:
        return widget_config(self.creds.config)["title"]


async def find_site(public_key: str) -> Site:
    """The enabled webchat channel with this key, or a 404 (503 when its secrets are unreadable)."""
    now = time.monotonic()
    hit = _key_cache.get(public_key)
    if hit and now - hit[0] < _KEY_TTL:
        channel_id = hit[1]
    else:
        channel_id = await webchat_channel_id(public_key)
        if len(_key_cache) > 10_000:  # bounded, even under a flood of made-up keys
            _key_cache.clear()
        _key_cache[public_key] = (now, channel_id)
    if channel_id is None:
        raise WebchatError(404, "UNKNOWN_WIDGET", "no chat widget has this key")
    try:
        channel, creds = await channel_for_webhook(channel_id)
    except NotFound:
        raise WebchatError(404, "UNKNOWN_WIDGET", "no chat widget has this key") from None
    except SecretsUnreadable:
        log.error("webchat channel secrets unreadable", extra={"channel_id": channel_id})
        raise WebchatError(503, "CHANNEL_MISCONFIGURED", "the chat is not available right now") from None
    if (
        str(channel.platform) != "webchat"
        or not channel.enabled
        or creds.config.get("public_key") != public_key
    ):
        raise WebchatError(404, "UNKNOWN_WIDGET", "no chat widget has this key")
    origins = frozenset(
        o for o in (normalise_origin(x) for x in creds.config.get("allowed_origins") or ()) if o is not None
    )
    return Site(channel_id, creds, origins, previous_credentials(channel, creds))
