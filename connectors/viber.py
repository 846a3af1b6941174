"""Viber REST Bot API: X-Viber-Content-Signature, message and receipt callbacks, send_message,
set_webhook.

- `message_token` is a 64-bit integer beyond 2^53. orjson reads it as an exact Python int and we
  keep its decimal string; it never passes through a float (a JavaScript double would round it).
- Every send_message answer is HTTP 200: success and failure live in the JSON `status`.
- Buttons are a Viber keyboard. A "reply" button makes the customer send its ActionBody as an
  ordinary text message, so we put the button's title there (what the customer sees in the chat)
  and carry title → id in `tracking_data`, which Viber hands back with the customer's next message:
  that is how a press becomes a POSTBACK with the button's id as payload.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from connectors.base import (
    Attachment,
    Button,
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
    load_json,
    nonempty_str,
)
from connectors.http import call, overloaded, refusal

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://chatapi.viber.com"
MAX_TEXT_LENGTH = 7000
MAX_CAPTION = 768  # a picture's `text`
MAX_SENDER_NAME = 28
MAX_TRACKING_DATA = 4096
# Callbacks we ask set_webhook for; `message`, `subscribed` and `conversation_started` always come.
EVENT_TYPES = ("delivered", "seen", "failed", "subscribed", "unsubscribed", "conversation_started")

_SIGNATURE_RE = re.compile(r"^[0-9a-fA-F]{64}$")
_KINDS = {
    "text": MessageKind.TEXT,
    "picture": MessageKind.IMAGE,
    "video": MessageKind.VIDEO,
    "file": MessageKind.DOCUMENT,
    "sticker": MessageKind.STICKER,
    "contact": MessageKind.CONTACTS,
    "location": MessageKind.LOCATION,
    "url": MessageKind.TEXT,  # a shared link: its URL is the text
}
_MEDIA_TYPES = frozenset({"picture", "video", "file", "sticker"})
_STATUSES = {
    "delivered": DeliveryStatus.DELIVERED,
    "seen": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
}
# Callbacks that carry no message: the set_webhook check, follows, and the customer opening the
# chat (we could answer conversation_started with a welcome message; we do not send one).
_QUIET = frozenset({"webhook", "subscribed", "unsubscribed", "conversation_started", "client_status"})

# send_message / set_webhook `status` → (name, retryable, affects the channel, reason for humans).
STATUS_CODES: dict[int, tuple[str, bool, bool, str]] = {
    1: (
        "invalidUrl",
        False,
        True,
        "Viber could not use the webhook URL: it must be public HTTPS and answer Viber's check with 200.",
    ),
    2: (
        "invalidAuthToken",
        False,
        True,
        "Viber refused the bot's auth token; paste the current token from the Viber admin panel into the channel settings.",
    ),
    3: ("badData", False, False, "Viber rejected the message as malformed."),
    4: ("missingData", False, False, "Viber says a required field of the message is missing."),
    5: ("receiverNotRegistered", False, False, "The customer is no longer registered on Viber."),
    6: (
        "notSubscribed",
        False,
        False,
        "The customer has not subscribed to this bot (or unsubscribed); Viber only allows messages to subscribers.",
    ),
    7: ("publicAccountBlocked", False, True, "This Viber bot is blocked."),
    8: ("publicAccountNotFound", False, True, "Viber cannot find this bot account."),
    9: ("publicAccountSuspended", False, True, "This Viber bot is suspended."),
    10: (
        "webhookNotSet",
        False,
        True,
        "The bot's webhook is not set on Viber, so it cannot send; save the channel again to register it.",
    ),
    11: (
        "receiverNoSuitableDevice",
        False,
        False,
        "The customer has no device that can receive this message.",
    ),
    12: ("tooManyRequests", True, False, "Viber is limiting how fast this bot sends; it will be retried."),
    13: (
        "apiVersionNotSupported",
        False,
        False,
        "The customer's Viber app is too old for this message.",
    ),
    14: (
        "incompatibleWithVersion",
        False,
        False,
        "The customer's Viber app cannot show this kind of message.",
    ),
    15: ("publicAccountNotAuthorized", False, True, "This Viber bot is not authorized to send."),
    16: ("inchatReplyMessageNotAllowed", False, False, "Viber does not allow this in-chat reply."),
    17: ("publicAccountIsNotInline", False, True, "This Viber bot is not an inline bot."),
    18: ("noPublicChat", False, True, "This Viber bot has no public chat."),
    19: ("cannotSendBroadcast", False, False, "Viber refused to broadcast this message."),
    20: ("broadcastNotAllowed", False, True, "This Viber bot may not broadcast."),
    21: (
        "unsupportedCountry",
        False,
        False,
        "Viber bots cannot message customers in the customer's country.",
    ),
    22: ("paymentUnsupported", False, True, "Viber does not support payments for this bot."),
    23: (
        "freeMessagesExceeded",
        False,
        True,
        "The bot has used up its free Viber messages; the account needs a paid plan to send more.",
    ),
    24: (
        "noBalance",
        False,
        True,
        "The bot's Viber account has no balance left; top it up to send more.",
    ),
}


class ViberConnector:
    platform = Platform.VIBER
    max_text_length = MAX_TEXT_LENGTH
    capabilities = Capabilities(
        reply_window=None,  # Viber enforces its own rule (subscribers only); we keep no window
        can_initiate=False,  # only people who subscribed to the bot can be written to
        media=True,
        max_attachments=1,
        buttons=True,
        delivery_statuses=True,
        read_statuses=True,
    )
    secret_names = ("auth_token",)
    generated_secrets = ()  # Viber issues the token; a new one is pasted in

    # ---- configuration ----------------------------------------------------------------------

    def validate_config(self, config: Mapping[str, Any], secrets: Mapping[str, str]) -> list[str]:
        problems: list[str] = []
        if not (secrets.get("auth_token") or "").strip():
            problems.append("The bot's auth token (auth_token) is required; it is in the Viber admin panel.")
        name = config.get("sender_name")
        if not isinstance(name, str) or not name.strip():
            problems.append("The sender name (sender_name) is required: the name customers see on replies.")
        elif len(name) > MAX_SENDER_NAME:
            problems.append(f"The sender name (sender_name) must be at most {MAX_SENDER_NAME} characters.")
        avatar = config.get("sender_avatar")
        if avatar is not None and not (
            isinstance(avatar, str) and avatar.startswith(("https://", "http://"))
        ):
            problems.append("The optional sender avatar (sender_avatar) must be an http(s) URL of an image.")
        api_base = config.get("api_base", DEFAULT_API_BASE)
        if not isinstance(api_base, str) or not api_base.startswith(("https://", "http://")):
            problems.append("The API base URL (api_base) must start with https:// or http://.")
        return problems

    # ---- webhooks -----------------------------------------------------------------------------

    def handshake(self, request: WebhookRequest, channel: ChannelCredentials) -> HandshakeReply | None:
        return None  # set_webhook's check is a signed POST (`webhook`): verify() and parse() answer it

    def verify(self, request: WebhookRequest, channel: ChannelCredentials, *, now: float) -> bool:
        token = channel.secrets.get("auth_token") or ""
        # The header is the documented place; Viber also appends `?sig=` to the URL it calls.
        given = (request.header("x-viber-content-signature") or request.query.get("sig") or "").strip()
        if not token or not _SIGNATURE_RE.match(given):
            return False
        expected = hmac.new(token.encode(), request.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(given.lower(), expected)

    def parse(self, request: WebhookRequest, channel: ChannelCredentials) -> ParsedWebhook:
        data = load_json(request.body)  # exact ints: message_token survives beyond 2^53
        if not isinstance(data, dict) or not isinstance(data.get("event"), str):
            raise MalformedPayload("a Viber callback is a JSON object with an event")
        event = data["event"]
        at = _time(data.get("timestamp"))
        if event == "message":
            return ParsedWebhook(messages=(_message(data, at),))
        if event in _STATUSES:
            status = StatusUpdate(
                platform_message_id=_token(data.get("message_token")),
                status=_STATUSES[event],
                occurred_at=at,
                recipient_id=nonempty_str(data.get("user_id")),
                error_code="failed" if event == "failed" else None,
                error_title="Viber could not deliver the message" if event == "failed" else None,
                error_detail=nonempty_str(data.get("desc")) if event == "failed" else None,
            )
            return ParsedWebhook(statuses=(status,))
        user = data.get("user") if isinstance(data.get("user"), dict) else {}
        log.info(
            "viber callback stores nothing" if event in _QUIET else "unknown viber event ignored",
            extra={
                "channel_id": channel.channel_id,
                "event": event,
                "user_id": nonempty_str(user.get("id")) or nonempty_str(data.get("user_id")),
            },
        )
        return ParsedWebhook()

    # ---- sending ------------------------------------------------------------------------------

    async def send(
        self, http: httpx.AsyncClient, channel: ChannelCredentials, message: OutboundMessage
    ) -> SendResult:
        body = _send_body(channel.config, message)
        data = await _call(http, channel, "send_message", body)
        token = data.get("message_token")
        if isinstance(token, bool) or not isinstance(token, int | str) or not str(token).isdigit():
            # Accepted but unreadable: retrying could deliver the message twice.
            raise SendError(
                "bad_response", "Viber accepted the message but returned no message token.", retryable=False
            )
        return SendResult(platform_message_id=str(token))

    async def register_webhook(
        self, http: httpx.AsyncClient, channel: ChannelCredentials, url: str
    ) -> list[str]:
        """set_webhook: Viber at once POSTs a signed `webhook` callback to `url` and only
        accepts it if that answers 200. Returns the event types Viber will send."""
        data = await _call(
            http,
            channel,
            "set_webhook",
            {"url": url, "event_types": list(EVENT_TYPES), "send_name": True, "send_photo": True},
        )
        types = data.get("event_types")
        return [t for t in types if isinstance(t, str)] if isinstance(types, list) else []


# ---- parsing helpers ------------------------------------------------------------------------------


def _time(value: Any) -> datetime:
    """Viber's timestamps are epoch milliseconds."""
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            pass
    return datetime.now(UTC)


def _token(value: Any) -> str:
    """A message_token as its exact decimal string (int from orjson, or already a string)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.isdigit():
        return value
    raise MalformedPayload("the callback has no message_token")


def _message(data: dict[str, Any], at: datetime) -> InboundMessage:
    sender = data.get("sender") if isinstance(data.get("sender"), dict) else {}
    body = data.get("message") if isinstance(data.get("message"), dict) else None
    sender_id = nonempty_str(sender.get("id"))
    if sender_id is None or body is None:
        raise MalformedPayload("a message callback needs a sender id and a message")
    token = _token(data.get("message_token"))
    kind_name = body.get("type")
    kind = (
        _KINDS.get(kind_name, MessageKind.UNSUPPORTED)
        if isinstance(kind_name, str)
        else MessageKind.UNSUPPORTED
    )
    text = nonempty_str(body.get("text"))
    metadata: dict[str, Any] = {
        key: sender[key] for key in ("name", "language", "country", "api_version") if sender.get(key)
    }
    attachments: tuple[Attachment, ...] = ()
    if kind_name in _MEDIA_TYPES:
        size = body.get("size")
        attachments = (
            Attachment(
                kind=kind,
                url=nonempty_str(body.get("media")),
                filename=nonempty_str(body.get("file_name")),
                size=size if isinstance(size, int) and not isinstance(size, bool) else None,
            ),
        )
        if kind_name == "sticker" and body.get("sticker_id") is not None:
            metadata["sticker_id"] = body["sticker_id"]
        if kind_name == "video" and isinstance(body.get("duration"), int):
            metadata["duration"] = body["duration"]
    elif kind_name == "url":
        text = nonempty_str(body.get("media")) or text
    elif kind_name == "location":
        location = body.get("location") if isinstance(body.get("location"), dict) else {}
        lat, lon = location.get("lat"), location.get("lon")
        if lat is None or lon is None:
            kind = MessageKind.UNSUPPORTED
        else:
            place = {"latitude": lat, "longitude": lon}
            if nonempty_str(location.get("address")):
                place["address"] = location["address"]
            metadata["location"] = place
            text = f"Location: {lat}, {lon}"
    elif kind_name == "contact":
        contact = body.get("contact") if isinstance(body.get("contact"), dict) else {}
        metadata["contact"] = contact
        label = nonempty_str(contact.get("name")) or "Unnamed contact"
        phone = nonempty_str(contact.get("phone_number"))
        text = f"Shared contact: {label} ({phone})" if phone else f"Shared contact: {label}"
    elif kind is MessageKind.UNSUPPORTED:
        metadata["raw_type"] = kind_name if isinstance(kind_name, str) else None
    ours = _our_tracking(body.get("tracking_data"))
    if ours is None and nonempty_str(body.get("tracking_data")):
        metadata["tracking_data"] = body["tracking_data"]
    if kind_name == "text" and text is not None and ours is not None:
        payload = _pressed(ours, text)
        if payload is not None:
            kind, metadata["payload"] = MessageKind.POSTBACK, payload
    return InboundMessage(
        platform_message_id=token,
        sender_id=sender_id,
        sender_name=nonempty_str(sender.get("name")),
        sent_at=at,
        kind=kind,
        text=text,
        attachments=attachments,
        metadata=metadata,
    )


def _our_tracking(value: Any) -> dict[str, Any] | None:
    """The tracking_data we attached to our last message, when this is it."""
    if not isinstance(value, str) or not value.startswith('{"pytake"'):
        return None
    try:
        data = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def _pressed(tracking: dict[str, Any], text: str) -> str | None:
    """The id of the reply button whose title the customer sent, if our last message had one."""
    for pair in tracking.get("buttons") or ():
        if isinstance(pair, list) and len(pair) == 2 and pair[1] == text and isinstance(pair[0], str):
            return pair[0]
    return None


# ---- sending helpers ------------------------------------------------------------------------------


def _send_body(config: Mapping[str, Any], message: OutboundMessage) -> dict[str, Any]:
    text = message.text or ""
    sender: dict[str, Any] = {"name": str(config.get("sender_name") or "")[:MAX_SENDER_NAME]}
    if nonempty_str(config.get("sender_avatar")):
        sender["avatar"] = config["sender_avatar"]
    body: dict[str, Any] = {"receiver": message.recipient_id, "min_api_version": 1, "sender": sender}
    if len(message.attachments) > 1:
        raise SendError("too_many_attachments", "Viber sends one attachment per message.", retryable=False)
    if message.attachments:
        attachment = message.attachments[0]
        if not nonempty_str(attachment.url):
            raise SendError(
                "no_media_url", "Viber fetches media by URL; this attachment has none.", retryable=False
            )
        if attachment.kind is MessageKind.IMAGE:
            if len(text) > MAX_CAPTION:
                raise SendError(
                    "too_long",
                    f"A Viber picture caption is at most {MAX_CAPTION} characters; this one has {len(text)}.",
                    retryable=False,
                )
            body.update(type="picture", media=attachment.url, text=text)
        else:
            # Viber's video and file messages need the exact size in bytes (and a video its
            # duration), which we do not know for a URL: the link goes as text instead, and
            # Viber shows it with a preview the customer taps to open.
            body.update(type="text", text=f"{text}\n{attachment.url}" if text.strip() else attachment.url)
    else:
        if message.kind is not MessageKind.TEXT:
            raise SendError(
                "unsupported_kind",
                f"Sending {message.kind.value} messages to Viber is not supported.",
                retryable=False,
            )
        if not text.strip():
            raise SendError("empty", "The message has no text to send.", retryable=False)
        body.update(type="text", text=text)
    if len(body.get("text") or "") > MAX_TEXT_LENGTH:
        raise SendError(
            "too_long",
            f"The text is {len(body['text'])} characters long; Viber allows at most {MAX_TEXT_LENGTH}.",
            retryable=False,
        )
    tracking: dict[str, Any] = {"pytake": message.idempotency_key}
    if message.buttons:
        body["keyboard"] = _keyboard(message.buttons)
        tracking["buttons"] = [[b.id, b.title] for b in message.buttons if not b.url]
    body["tracking_data"] = orjson.dumps(tracking).decode()
    if len(body["tracking_data"]) > MAX_TRACKING_DATA:  # Viber's limit: keep the message, drop the map
        body["tracking_data"] = orjson.dumps({"pytake": message.idempotency_key}).decode()
    return body


def _keyboard(buttons: tuple[Button, ...]) -> dict[str, Any]:
    """One full-width row per button: reply buttons send their title back, link buttons open it."""
    rows = []
    for button in buttons:
        if button.url:
            rows.append(
                {
                    "Columns": 6,
                    "Rows": 1,
                    "ActionType": "open-url",
                    "ActionBody": button.url,
                    "Text": button.title,
                }
            )
        else:
            rows.append(
                {
                    "Columns": 6,
                    "Rows": 1,
                    "ActionType": "reply",
                    "ActionBody": button.title,
                    "Text": button.title,
                }
            )
    return {"Type": "keyboard", "DefaultHeight": False, "Buttons": rows}


async def _call(
    http: httpx.AsyncClient, channel: ChannelCredentials, method: str, body: dict[str, Any]
) -> dict[str, Any]:
    api_base = str(channel.config.get("api_base") or DEFAULT_API_BASE).rstrip("/")
    auth = {"X-Viber-Auth-Token": channel.secrets.get("auth_token", "")}
    reply = await call(http, "Viber", f"{api_base}/pa/{method}", json=body, headers=auth)
    if reply.transient:
        raise overloaded(reply, "Viber")
    data = reply.body
    if not isinstance(data.get("status"), int) or isinstance(data.get("status"), bool):
        raise SendError(
            f"HTTP_{reply.status}",
            f"Viber answered {method} with something that is not its JSON reply (HTTP {reply.status}).",
            retryable=False,
        )
    status = data["status"]
    if status == 0:
        return data
    message = nonempty_str(data.get("status_message"))
    name, retryable, affects, reason = STATUS_CODES.get(
        status, (message or str(status), False, False, f"Viber refused the request ({message or status}).")
    )
    log.warning(
        "viber %s refused",
        method,
        extra={"channel_id": channel.channel_id, "status": status, "status_message": message},
    )
    raise refusal(reply, name, reason, retryable=retryable, affects_channel=affects)


viber = ViberConnector()
