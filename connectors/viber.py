"""Viber REST Bot API: X-Viber-Content-Signature, message and receipt callbacks, send_message.

`message_token` is a 64-bit integer beyond 2^53: it is read exactly (orjson gives Python ints)
and stored as its decimal string, never through a float.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from connectors.base import (
    Attachment,
    Capabilities,
    ChannelCredentials,
    DeliveryStatus,
    HandshakeReply,
    InboundMessage,
    MalformedPayload,
    MessageKind,
    OutboundMessage,
    ParsedWebhook,
    Platform,
    SendError,
    SendResult,
    StatusUpdate,
    WebhookRequest,
)

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://chatapi.viber.com"
MAX_TEXT_LENGTH = 7000
SEND_TIMEOUT = 15.0
_KINDS = {
    "text": MessageKind.TEXT,
    "picture": MessageKind.IMAGE,
    "video": MessageKind.VIDEO,
    "file": MessageKind.DOCUMENT,
    "sticker": MessageKind.STICKER,
    "contact": MessageKind.CONTACTS,
    "location": MessageKind.LOCATION,
    "url": MessageKind.TEXT,
}
_STATUSES = {
    "delivered": DeliveryStatus.DELIVERED,
    "seen": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
}
_IGNORED = {"webhook", "subscribed", "unsubscribed", "conversation_started", "client_status"}
# send_message `status` → (retryable, affects channel, reason)
_STATUS_CODES: dict[int, tuple[bool, bool, str]] = {
    2: (False, True, "Viber refused the bot's auth token; update it in the channel settings."),
    3: (False, False, "Viber rejected the message as malformed."),
    4: (False, False, "Viber says a required field is missing."),
    5: (False, False, "The customer is not registered on Viber."),
    6: (
        False,
        False,
        "The customer has not subscribed to this bot (or unsubscribed); Viber only allows messages to subscribers.",
    ),
    7: (False, True, "This Viber bot is blocked."),
    8: (False, True, "Viber cannot find this bot account."),
    9: (False, True, "This Viber bot is suspended."),
    10: (False, True, "The bot's webhook is not set on Viber."),
    11: (False, False, "The customer has no device that can receive this message."),
    12: (True, False, "Viber is limiting how fast this bot sends; it will be retried."),
    13: (False, False, "The customer's Viber app is too old for this message."),
    23: (False, True, "The bot used up its free Viber messages."),
    24: (False, True, "The bot's Viber account has no balance left."),
}


class ViberConnector:
    platform = Platform.VIBER
    max_text_length = MAX_TEXT_LENGTH
    capabilities = Capabilities(
        reply_window=None,
        can_initiate=False,  # subscribers only
        media=True,
        max_attachments=1,
        buttons=True,
        delivery_statuses=True,
        read_statuses=True,
    )
    secret_names = ("auth_token",)
    generated_secrets = ()  # Viber issues the token

    def validate_config(self, config: Mapping[str, Any], secrets: Mapping[str, str]) -> list[str]:
        problems = []
        if not (secrets.get("auth_token") or "").strip():
            problems.append("The bot's auth token (auth_token) is required.")
        name = config.get("sender_name")
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= 28:
            problems.append("The sender name (sender_name) is required, at most 28 characters.")
        api_base = config.get("api_base", DEFAULT_API_BASE)
        if not isinstance(api_base, str) or not api_base.startswith(("https://", "http://")):
            problems.append("The API base URL (api_base) must start with https:// or http://.")
        return problems

    def handshake(self, request: WebhookRequest, channel: ChannelCredentials) -> HandshakeReply | None:
        return None  # the `webhook` callback is signed: parse() answers it after verify()

    def verify(self, request: WebhookRequest, channel: ChannelCredentials, *, now: float) -> bool:
        token = channel.secrets.get("auth_token") or ""
        given = request.headers.get("x-viber-content-signature") or request.query.get("sig") or ""
        if not token or not given:
            return False
        expected = hmac.new(token.encode(), request.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(given.lower(), expected)

    def parse(self, request: WebhookRequest, channel: ChannelCredentials) -> ParsedWebhook:
        try:
            data = orjson.loads(request.body)
        except orjson.JSONDecodeError as exc:
            raise MalformedPayload(f"body is not JSON: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("event"), str):
            raise MalformedPayload("a Viber callback has an event")
        event = data["event"]
        at = _time(data.get("timestamp"))
        token = data.get("message_token")
        if event == "message":
            return ParsedWebhook(messages=(_message(data, at),))
        if event in _STATUSES:
            if token is None:
                raise MalformedPayload("a receipt needs its message_token")
            status = StatusUpdate(
                platform_message_id=str(token),
                status=_STATUSES[event],
                occurred_at=at,
                recipient_id=data.get("user_id"),
                error_code="viber_failed" if event == "failed" else None,
                error_detail=data.get("desc"),
            )
            return ParsedWebhook(statuses=(status,))
        if event not in _IGNORED:
            log.info("viber event ignored", extra={"event": event})
        return ParsedWebhook()

    async def send(
        self, http: httpx.AsyncClient, channel: ChannelCredentials, message: OutboundMessage
    ) -> SendResult:
        text = message.text or ""
        body: dict[str, Any] = {
            "receiver": message.recipient_id,
            "min_api_version": 1,
            "sender": {"name": str(channel.config.get("sender_name") or "Support")[:28]},
            "tracking_data": message.idempotency_key,
        }
        if channel.config.get("sender_avatar"):
            body["sender"]["avatar"] = channel.config["sender_avatar"]
        if message.attachments:
            attachment = message.attachments[0]
            if attachment.kind is MessageKind.IMAGE:
                body.update(type="picture", media=attachment.url, text=text[:768])
            else:
                body.update(
                    type="file",
                    media=attachment.url,
                    file_name=attachment.filename or "file",
                    size=attachment.size or 1,
                )
        else:
            if not text.strip():
                raise SendError("empty", "The message has no text to send.", retryable=False)
            if len(text) > MAX_TEXT_LENGTH:
                raise SendError(
                    "too_long", f"Viber allows at most {MAX_TEXT_LENGTH} characters.", retryable=False
                )
            body.update(type="text", text=text)
        if message.buttons:
            body["keyboard"] = {
                "Type": "keyboard",
                "Buttons": [
                    {"ActionType": "open-url", "ActionBody": b.url, "Text": b.title}
                    if b.url
                    else {"ActionType": "reply", "ActionBody": b.id, "Text": b.title}
                    for b in message.buttons
                ],
            }
        data = await _call(http, channel, "send_message", body)
        return SendResult(platform_message_id=str(data["message_token"]))

    async def register_webhook(self, http: httpx.AsyncClient, channel: ChannelCredentials, url: str) -> None:
        await _call(
            http,
            channel,
            "set_webhook",
            {
                "url": url,
                "event_types": [
                    "delivered",
                    "seen",
                    "failed",
                    "subscribed",
                    "unsubscribed",
                    "conversation_started",
                ],
                "send_name": True,
            },
        )


async def _call(
    http: httpx.AsyncClient, channel: ChannelCredentials, method: str, body: dict[str, Any]
) -> dict[str, Any]:
    api_base = str(channel.config.get("api_base") or DEFAULT_API_BASE).rstrip("/")
    headers = {"X-Viber-Auth-Token": channel.secrets.get("auth_token", "")}
    try:
        response = await http.post(
            f"{api_base}/pa/{method}", json=body, headers=headers, timeout=SEND_TIMEOUT
        )
    except httpx.TimeoutException:
        raise SendError("timeout", "Viber did not answer in time.", retryable=True) from None
    except httpx.HTTPError as exc:
        raise SendError(
            "network", f"Viber could not be reached ({type(exc).__name__}).", retryable=True
        ) from None
    if response.status_code >= 500 or response.status_code == 429:
        raise SendError(
            f"HTTP_{response.status_code}", "Viber had a problem; it will be retried.", retryable=True
        )
    try:
        data = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise SendError(
            "bad_response", "Viber answered with something that is not JSON.", retryable=True
        ) from None
    status = data.get("status")
    if status == 0:
        return data
    retryable, affects, reason = _STATUS_CODES.get(
        status, (False, False, f"Viber refused the message ({data.get('status_message') or status}).")
    )
    raise SendError(
        str(data.get("status_message") or status), reason, retryable=retryable, affects_channel=affects
    )


def _time(value: Any) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC) if isinstance(value, int | float) else datetime.now(UTC)


def _message(data: dict[str, Any], at: datetime) -> InboundMessage:
    sender = data.get("sender") or {}
    body = data.get("message") or {}
    if "message_token" not in data or not sender.get("id"):
        raise MalformedPayload("a message needs its message_token and sender")
    kind = _KINDS.get(body.get("type"), MessageKind.UNSUPPORTED)
    attachments: tuple[Attachment, ...] = ()
    text = body.get("text")
    metadata: dict[str, Any] = {k: sender[k] for k in ("language", "country") if sender.get(k)}
    if body.get("media") and body.get("type") in ("picture", "video", "file", "sticker"):
        attachments = (
            Attachment(
                kind=kind, url=body.get("media"), filename=body.get("file_name"), size=body.get("size")
            ),
        )
    if body.get("type") == "url":
        text = body.get("media") or text
    if body.get("type") == "location" and isinstance(body.get("location"), dict):
        location = body["location"]
        text, metadata["location"] = f"{location.get('lat')}, {location.get('lon')}", location
    if body.get("type") == "contact" and isinstance(body.get("contact"), dict):
        contact = body["contact"]
        text, metadata["contact"] = (
            f"{contact.get('name', '')} {contact.get('phone_number', '')}".strip(),
            contact,
        )
    if body.get("tracking_data"):
        metadata["tracking_data"] = body["tracking_data"]
    return InboundMessage(
        platform_message_id=str(data["message_token"]),
        sender_id=str(sender["id"]),
        sender_name=sender.get("name"),
        sent_at=at,
        kind=kind,
        text=text,
        attachments=attachments,
        metadata=metadata,
    )


viber = ViberConnector()
