"""Webchat: our own channel, a chat widget embedded in the customer's website.

There is no third-party platform. Visitors talk to `ingress/webchat/` (`/webchat/...`) with a
visitor token we sign ourselves; agent replies reach them through the conversation's own event
stream (Server-Sent Events). So this connector is small: it refuses the generic webhook route,
"sends" by acknowledging, and validates the widget's settings.

Channel settings
- config `public_key`: the widget's key (`wc_…`, in the embed snippet; public by design: it only
  names the channel). Generated when the channel is created (`prepare_new_channel`).
- config `allowed_origins`: the sites allowed to embed the widget, e.g. ["https://shop.example.com"].
- config `title`, `greeting`, `color`: what the widget shows.
- secret `visitor_token_secret`: HMAC key of visitor tokens (generated; after a rotation the old
  key's tokens stay good for WEBHOOK_SECRET_GRACE_HOURS, unless endWebhookSecretGrace, and a
  visitor resuming meanwhile gets a token under the new key; after that they start a new session).
- secret `identity_secret` (optional): the site's own key for vouching who a signed-in visitor is
  (an `identity_token` JWT with their e-mail); only then is the e-mail trusted for merging.
"""

from __future__ import annotations

import re
import secrets as _secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from connectors.base import (
    Capabilities,
    ChannelCredentials,
    HandshakeReply,
    MalformedPayload,
    OutboundMessage,
    ParsedWebhook,
    Platform,
    SendError,
    SendResult,
    WebhookRequest,
)

MAX_TEXT_LENGTH = 4096
PUBLIC_KEY_PREFIX = "wc_"
MIN_SECRET_LENGTH = 32
DEFAULT_TITLE = "Chat with us"
DEFAULT_COLOR = "#2563eb"

_PUBLIC_KEY_RE = re.compile(r"^wc_[A-Za-z0-9_-]{16,64}$")
_COLOR_RE = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_HOST_RE = re.compile(
    r"^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*)$"
)


def new_public_key() -> str:
    return PUBLIC_KEY_PREFIX + _secrets.token_urlsafe(24)


def normalise_origin(origin: str) -> str | None:
    """`scheme://host[:port]` in the form browsers send in `Origin` (lower-case, no default port,
    no path); None when `origin` is not such a string."""
    if not isinstance(origin, str) or origin != origin.strip() or not origin:
        return None
    try:
        parts = urlsplit(origin)
        port = parts.port  # raises on a non-numeric port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if (
        scheme not in ("http", "https")
        or not host
        or not _HOST_RE.match(host if ":" not in host else f"[{host}]")
    ):
        return None
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        return None
    if origin.endswith(("/", ":")):
        return None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[scheme]
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != default else "")


def widget_config(config: Mapping[str, Any]) -> dict[str, str]:
    """What the visitor's widget may know of the channel's settings."""
    return {
        "title": str(config.get("title") or DEFAULT_TITLE),
        "greeting": str(config.get("greeting") or ""),
        "color": str(config.get("color") or DEFAULT_COLOR),
    }


class WebchatConnector:
    platform = Platform.WEBCHAT
    max_text_length = MAX_TEXT_LENGTH
    capabilities = Capabilities(
        reply_window=None,  # the conversation stays reachable whenever the visitor comes back
        can_initiate=False,  # a visitor is known only once they open the widget and write
        media=True,
        max_attachments=10,
        buttons=True,
        delivery_statuses=True,  # the widget reports what it received …
        read_statuses=True,  # … and what was on screen with the panel open
    )
    secret_names = ("visitor_token_secret", "identity_secret")
    # The token key is ours alone; the identity secret is shared with the site, so the admin sets it.
    generated_secrets = ("visitor_token_secret",)

    # ---- configuration ----------------------------------------------------------------------

    def prepare_new_channel(
        self, config: Mapping[str, Any], secrets: Mapping[str, str]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """Fill in what we generate ourselves when a channel is created: the widget's public key
        and the visitor token key. Values the admin gave are kept."""
        config, secrets = dict(config), dict(secrets)
        if not config.get("public_key"):
            config["public_key"] = new_public_key()
        if not secrets.get("visitor_token_secret"):
            secrets["visitor_token_secret"] = _secrets.token_urlsafe(32)
        return config, secrets

    def validate_config(self, config: Mapping[str, Any], secrets: Mapping[str, str]) -> list[str]:
        problems: list[str] = []
        key = config.get("public_key")
        if not key:
            problems.append(
                "The widget's public key (public_key) is missing; it is generated when the channel is created."
            )
        elif not isinstance(key, str) or not _PUBLIC_KEY_RE.match(key):
            problems.append(
                'The widget\'s public key (public_key) must look like "wc_" followed by 16 to 64 letters, digits, "-" or "_".'
            )
        origins = config.get("allowed_origins")
        if not isinstance(origins, list) or not origins:
            problems.append(
                'List the websites allowed to show the widget (allowed_origins), e.g. ["https://shop.example.com"].'
            )
        else:
            bad = [o for o in origins if normalise_origin(o) is None]
            if bad:
                shown = ", ".join(repr(o) for o in bad[:3])
                problems.append(
                    f"These allowed origins are not of the form scheme://host[:port] (no path, no trailing slash): {shown}."
                )
        for field_name, limit in (("title", 80), ("greeting", 500)):
            value = config.get(field_name)
            if value is not None and (not isinstance(value, str) or len(value) > limit):
                problems.append(f"The widget's {field_name} must be text of at most {limit} characters.")
        color = config.get("color")
        if color is not None and (not isinstance(color, str) or not _COLOR_RE.match(color)):
            problems.append('The widget\'s color must be a hex colour such as "#2563eb".')
        token_key = secrets.get("visitor_token_secret") or ""
        if not token_key.strip():
            problems.append(
                "The visitor token key (visitor_token_secret) is missing; it is generated when the channel is created."
            )
        elif len(token_key) < MIN_SECRET_LENGTH:
            problems.append(
                f"The visitor token key (visitor_token_secret) must be at least {MIN_SECRET_LENGTH} characters."
            )
        identity = secrets.get("identity_secret")
        if identity is not None and identity != "" and len(identity) < MIN_SECRET_LENGTH:
            problems.append(
                f"The site's identity secret (identity_secret), when set, must be at least {MIN_SECRET_LENGTH} characters."
            )
        return problems

    # ---- webhooks: none ---------------------------------------------------------------------

    def handshake(self, request: WebhookRequest, channel: ChannelCredentials) -> HandshakeReply | None:
        """Webchat has no platform calling `/webhooks/webchat/...`: there is nothing to verify.
        None lets the generic route go on to `verify`, which refuses."""
        return None

    def verify(self, request: WebhookRequest, channel: ChannelCredentials, *, now: float) -> bool:
        """Always False. Visitors do not sign requests (they cannot hold a secret: the widget runs
        in their browser); they post to `/webchat/{public_key}/...` with a visitor token, checked
        there together with the origin and rate limits. Accepting anything on the generic webhook
        route would let anyone write into conversations unauthenticated."""
        return False

    def parse(self, request: WebhookRequest, channel: ChannelCredentials) -> ParsedWebhook:
        # Unreachable through the app (verify refuses first); explicit for any other caller.
        raise MalformedPayload("webchat visitors post to /webchat/{public_key}/messages, not to webhooks")

    # ---- sending ----------------------------------------------------------------------------

    async def send(
        self, http: httpx.AsyncClient, channel: ChannelCredentials, message: OutboundMessage
    ) -> SendResult:
        """Nothing goes over the network: the reply is already a row in the database and an event
        on the conversation's stream, which the visitor's widget follows (`/webchat/.../events`).
        Once this returns, the send job marks the message `sent`, and that update is what makes it
        visible to the visitor (queued replies are not shown, so a reply the agent sees as failed
        never reached the visitor either). The id has the `webchat:` form so the widget's read
        receipts (`/webchat/.../read`) find the message by it."""
        text = message.text or ""
        if len(text) > MAX_TEXT_LENGTH:
            raise SendError(
                "too_long",
                f"The message is {len(text)} characters long; the chat widget shows at most {MAX_TEXT_LENGTH}.",
                retryable=False,
            )
        if not text.strip() and not message.attachments:
            raise SendError("empty", "The message has neither text nor attachments.", retryable=False)
        return SendResult(platform_message_id=f"webchat:{message.idempotency_key}")


webchat = WebchatConnector()
