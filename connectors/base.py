"""The one interface every messaging platform implements.

A connector is pure platform knowledge: how a webhook is verified and parsed, how a message is
sent, how the platform's statuses and errors map onto ours. It never touches the database or the
event bus; `resolvers/` does that with what a connector returns. Everything here is plain data so
that webhooks, Dramatiq jobs and tests can all call it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import httpx


class Platform(enum.StrEnum):
    WHATSAPP = "whatsapp"


class MessageKind(enum.StrEnum):
    TEXT = "text"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    DOCUMENT = "document"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACTS = "contacts"
    INTERACTIVE = "interactive"  # button / list replies
    REACTION = "reaction"
    TEMPLATE = "template"
    UNSUPPORTED = "unsupported"


class DeliveryStatus(enum.StrEnum):
    """Outbound lifecycle. Ranks only move forward; FAILED is terminal (see `advances`)."""

    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


_RANK = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.READ: 3,
    DeliveryStatus.FAILED: 4,
}


def advances(current: DeliveryStatus, new: DeliveryStatus) -> bool:
    """True when moving from `current` to `new` is progress (never backwards, nothing after failed)."""
    if current is DeliveryStatus.FAILED:
        return False
    return _RANK[new] > _RANK[current]


@dataclass(frozen=True)
class WebhookRequest:
    """What a connector sees of an HTTP request: the raw bytes, before anything parses them."""

    method: str
    url: str
    headers: Mapping[str, str]  # keys lower-case
    query: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class ChannelCredentials:
    """A channel's settings as the connector needs them. `secrets` are already decrypted."""

    channel_id: int
    config: Mapping[str, Any]  # public: phone_number_id, api_base, api_version, ...
    secrets: Mapping[str, str]  # write-only through the API: app_secret, access_token, verify_token


@dataclass(frozen=True)
class HandshakeReply:
    status: int
    body: str
    content_type: str = "text/plain"


@dataclass(frozen=True)
class Attachment:
    kind: MessageKind
    media_id: str | None = None
    url: str | None = None
    mime_type: str | None = None
    sha256: str | None = None
    filename: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class InboundMessage:
    platform_message_id: str  # dedupe key, unique per channel
    sender_id: str  # the customer's identity on this platform (wa_id / user_id)
    sent_at: datetime
    kind: MessageKind
    text: str | None = None  # body, caption, button title; never dropped
    sender_name: str | None = None
    sender_phone: str | None = None  # E.164 digits when the platform tells us
    reply_to_platform_id: str | None = None
    attachments: tuple[Attachment, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)  # location, contacts, interactive ids, ...


@dataclass(frozen=True)
class StatusUpdate:
    """A delivery report for one message, or, with `up_to` (Messenger's watermarks), for every
    message sent to `recipient_id` at or before that moment (`platform_message_id` is then unused)."""

    platform_message_id: str
    status: DeliveryStatus
    occurred_at: datetime
    recipient_id: str | None = None
    error_code: str | None = None
    error_title: str | None = None
    error_detail: str | None = None
    up_to: datetime | None = None


@dataclass(frozen=True)
class ParsedWebhook:
    messages: tuple[InboundMessage, ...] = ()
    statuses: tuple[StatusUpdate, ...] = ()


@dataclass(frozen=True)
class OutboundMessage:
    recipient_id: str  # platform identity to send to
    kind: MessageKind  # TEXT or TEMPLATE for now
    idempotency_key: str  # our message id; connectors pass it on where the platform supports it
    text: str | None = None
    reply_to_platform_id: str | None = None
    template: Mapping[str, Any] | None = None  # {name, language, components}


@dataclass(frozen=True)
class SendResult:
    platform_message_id: str


class MalformedPayload(ValueError):
    """The body is not what the platform sends (bad JSON, wrong envelope). Webhook answers 400."""


class SendError(Exception):
    """A send that did not go through.

    `retryable` separates transient trouble (429, 5xx, timeouts: retry with backoff, honouring
    `retry_after` seconds when the platform says) from permanent refusals (outside the 24-hour
    window, invalid number: mark the message failed with `code` and the human `reason`).
    """

    def __init__(self, code: str, reason: str, *, retryable: bool, retry_after: float | None = None):
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after


class Connector(Protocol):
    platform: Platform
    max_text_length: int

    def validate_config(self, config: Mapping[str, Any], secrets: Mapping[str, str]) -> list[str]:
        """Problems with a channel's settings, as human sentences; empty when fine."""
        ...

    def handshake(self, request: WebhookRequest, channel: ChannelCredentials) -> HandshakeReply | None:
        """Answer a platform's webhook verification request, or None when `request` is not one."""
        ...

    def verify(self, request: WebhookRequest, channel: ChannelCredentials) -> bool:
        """Is the request signed by the platform? Checked over the raw bytes, constant-time."""
        ...

    def parse(self, body: bytes, channel: ChannelCredentials) -> ParsedWebhook:
        """Messages and statuses in a verified body. Raises MalformedPayload."""
        ...

    async def send(
        self, http: httpx.AsyncClient, channel: ChannelCredentials, message: OutboundMessage
    ) -> SendResult:
        """Deliver one message to the platform. Raises SendError."""
        ...
