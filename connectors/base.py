"""The one interface every messaging platform implements.

A connector is pure platform knowledge: how a webhook is verified and parsed, how a message is
sent, how the platform's statuses and errors map onto ours. It never touches the database or the
event bus; `resolvers/` does that with what a connector returns. Everything here is plain data so
that webhooks, Dramatiq jobs and tests can all call it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpx
import orjson

from core.storable import loads_lenient
from core.vocabulary import DeliveryStatus, MessageKind, Platform  # re-exported for connectors


def load_json(body: bytes | str) -> Any:
    """A webhook body (or a JSON field in one) as JSON. Raises MalformedPayload (the webhook
    answers 400), also for nesting orjson refuses (deeper than 1024).

    A signed body whose text orjson refuses (invalid UTF-8, a lone surrogate escape) still carries
    the customer's message: it is read leniently, with the replacements of core/storable.py,
    rather than refused and lost."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        first = exc
    try:
        return loads_lenient(body)
    except ValueError:
        raise MalformedPayload(f"body is not JSON: {first}") from None


@dataclass(frozen=True)
class WebhookRequest:
    """What a connector sees of an HTTP request: the raw bytes, before anything parses them."""

    method: str
    url: str
    headers: Mapping[str, str]  # keys lower-case: ingress/webhooks.py lower-cases them
    query: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        """The header `name` (any case), or None."""
        return self.headers.get(name.lower())

    def json_object(self, what: str = "a JSON object") -> dict[str, Any]:
        """The body as a JSON object. Raises MalformedPayload (the webhook answers 400)."""
        data = load_json(self.body)
        if not isinstance(data, dict):
            raise MalformedPayload(f"body is not {what}")
        return data


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
class ReplayNonce:
    """What makes a signed request single-use where the signature covers a nonce but not the body
    (Mailgun's token, WeChat's nonce): captured once, such a signature would pass on any body for
    the whole window. ingress/webhooks.py refuses `key` seen with a different body within `window`
    seconds; the same body again is the platform's own retry, which ingest dedupes."""

    key: str
    window: float  # seconds the signature stays acceptable: how long the key must be remembered


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
    sender_phone: str | None = None  # E.164 digits (no '+') when the platform vouches for it
    sender_email: str | None = None  # lower-case, when the platform vouches for it (e-mail)
    # Where replies go when it is not `sender_id` itself: a Telegram group's chat id, a Slack DM
    # channel (D…), a Discord DM channel. Kept on the customer's identity for outbound sends.
    reply_address: str | None = None
    reply_to_platform_id: str | None = None
    # Threading (e-mail): platform ids of earlier messages in the same thread (In-Reply-To first,
    # then References). Ingest files the message into the conversation holding any of them;
    # `new_thread` says "this starts a thread of its own" (an e-mail with no references).
    thread_refs: tuple[str, ...] = ()
    new_thread: bool = False
    attachments: tuple[Attachment, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)  # location, contacts, interactive ids, ...


@dataclass(frozen=True)
class MessageEdit:
    """The customer edited or deleted (unsent) a message they sent earlier."""

    platform_message_id: str  # the edited message's id (as stored when it arrived)
    occurred_at: datetime
    text: str | None = None  # the new text; None when deleted
    deleted: bool = False


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
    # The OutboundMessage.idempotency_key the message was sent with, where the platform echoes a
    # tag of ours (WhatsApp's biz_opaque_callback_data): it names our message even when the send's
    # own commit (which records platform_message_id) was lost.
    idempotency_key: str | None = None


@dataclass(frozen=True)
class TemplateStatusChange:
    """The platform's review changed an approved-template's status (WhatsApp's
    message_template_status_update): APPROVED, REJECTED, PAUSED, DISABLED, ... with its reason."""

    name: str
    language: str
    status: str
    platform_template_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class ParsedWebhook:
    messages: tuple[InboundMessage, ...] = ()
    statuses: tuple[StatusUpdate, ...] = ()
    edits: tuple[MessageEdit, ...] = ()
    template_statuses: tuple[TemplateStatusChange, ...] = ()
    # What to answer once everything is committed, when the platform expects more than "200 ok":
    # Slack's url_verification challenge, Discord's PONG, Twilio's empty TwiML, ...
    reply: HandshakeReply | None = None


@dataclass(frozen=True)
class Button:
    """A reply button (id comes back as the postback payload) or, with `url`, a link button."""

    id: str
    title: str
    url: str | None = None


@dataclass(frozen=True)
class OutboundMessage:
    recipient_id: str  # the identity's reply address (or external id) on the platform
    kind: MessageKind  # TEXT, TEMPLATE, or a media kind with `attachments`
    idempotency_key: str  # our message id; connectors pass it on where the platform supports it
    text: str | None = None  # body, or the caption of media
    reply_to_platform_id: str | None = None
    template: Mapping[str, Any] | None = None  # {name, language, components}
    attachments: tuple[Attachment, ...] = ()  # sent by `url` (the platform fetches it)
    buttons: tuple[Button, ...] = ()
    # Per-platform extras: e-mail {subject, in_reply_to, references}; Messenger {tag}; ...
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SendResult:
    platform_message_id: str


@dataclass(frozen=True)
class Capabilities:
    """What a platform allows, for `replyTargets` and for refusing sends before they are queued."""

    # Free-form replies are allowed this long after the customer's last message (None: always).
    reply_window: timedelta | None = None
    # Outside the window a template still goes through (WhatsApp); otherwise nothing does.
    template_outside_window: bool = False
    # Meta's HUMAN_AGENT tag: a human may still answer this long after the customer's last
    # message (the page needs the Human Agent permission); such replies carry the tag.
    tagged_reply_window: timedelta | None = None
    # We may write first to someone who never wrote to this channel, given their address
    # (SMS to a phone, e-mail to an address). Bots on Telegram/Messenger/... may not.
    can_initiate: bool = False
    # How `can_initiate` addresses people: "phone" or "email" (None: only known identities), and
    # how such an address becomes this platform's id for the person ("{}" is E.164 digits or the
    # lower-case e-mail): WhatsApp keys people on bare digits, Twilio on "+digits".
    address_kind: str | None = None
    address_format: str = "{}"
    media: bool = True
    max_attachments: int = 10  # per message
    buttons: bool = False
    templates: bool = False
    delivery_statuses: bool = False
    read_statuses: bool = False
    edits: bool = False


def nonempty_str(value: Any) -> str | None:
    """`value` when it is a non-empty string, else None: payload fields are not to be trusted."""
    return value if isinstance(value, str) and value else None


def retry_after_header(response: httpx.Response) -> float | None:
    """Seconds a `Retry-After` header asks us to wait (delta-seconds or an HTTP date), if any."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


class MalformedPayload(ValueError):
    """The body is not what the platform sends (bad JSON, wrong envelope). Webhook answers 400."""


class SendError(Exception):
    """A send that did not go through.

    `retryable` separates transient trouble (429, 5xx, timeouts: retry with backoff, honouring
    `retry_after` seconds when the platform says) from permanent refusals (outside the 24-hour
    window, invalid number: mark the message failed with `code` and the human `reason`).

    `affects_channel` marks trouble with the channel itself (revoked token, suspended account), as
    opposed to this one recipient: it shows on the channel's health for admins.

    `throttled` marks the platform limiting our pace (HTTP 429): the message is fine, only early, so
    it does not spend the attempts a failing message is given (resolvers/messages.py).
    """

    def __init__(
        self,
        code: str,
        reason: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        affects_channel: bool = False,
        throttled: bool = False,
    ):
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after
        self.affects_channel = affects_channel
        self.throttled = throttled


class Connector(Protocol):
    platform: Platform
    max_text_length: int
    capabilities: Capabilities
    # Names of the channel's write-only secrets this platform needs, e.g. ("app_secret", ...).
    secret_names: tuple[str, ...]
    # The secrets we choose ourselves and hand to the platform (a verify token, Telegram's
    # secret_token): `rotateWebhookSecret` regenerates these. Secrets the platform issues (a
    # signing secret) are replaced by pasting the new one into updateChannel.
    generated_secrets: tuple[str, ...]

    def validate_config(self, config: Mapping[str, Any], secrets: Mapping[str, str]) -> list[str]:
        """Problems with a channel's settings, as human sentences; empty when fine."""
        ...

    def handshake(self, request: WebhookRequest, channel: ChannelCredentials) -> HandshakeReply | None:
        """Answer a platform's webhook verification request, or None when `request` is not one."""
        ...

    def verify(self, request: WebhookRequest, channel: ChannelCredentials, *, now: float) -> bool:
        """Is the request signed by the platform? Checked over the raw bytes, constant-time.
        `now` (unix seconds) is for replay windows (Slack's 5 minutes, Discord's timestamp).
        Where the signature travels inside the body (Mailgun's form fields), a body that does not
        parse raises MalformedPayload (400): there is no signature to check.

        Connectors whose signature leaves the body out also define
        `replay_nonce(request, channel) -> ReplayNonce | None` (see ReplayNonce)."""
        ...

    def parse(self, request: WebhookRequest, channel: ChannelCredentials) -> ParsedWebhook:
        """Messages, statuses and edits in a verified request. Raises MalformedPayload."""
        ...

    async def send(
        self, http: httpx.AsyncClient, channel: ChannelCredentials, message: OutboundMessage
    ) -> SendResult:
        """Deliver one message to the platform. Raises SendError."""
        ...
