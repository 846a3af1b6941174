"""LINE Messaging API: x-line-signature, webhook events, push messages with retry keys.

A webhook body batches events. One odd event is skipped with a warning rather than failing the
whole body, since LINE either drops a failed delivery or (with redelivery on) sends it again.
Sends use the push API with `X-Line-Retry-Key` derived from our message id, so a job that retries
after a timeout can never deliver the same reply twice: LINE answers the repeat with 409 and the
ids of what it already sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import urllib.parse
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from connectors.base import (
    Attachment,
    Button,
    Capabilities,
    ChannelCredentials,
    HandshakeReply,
    InboundMessage,
    MalformedPayload,
    MessageEdit,
    MessageKind,
    OutboundMessage,
    ParsedWebhook,
    Platform,
    SendError,
    SendResult,
    WebhookRequest,
    nonempty_str,
)
from connectors.http import Reply, call

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.line.me"
DEFAULT_API_DATA_BASE = "https://api-data.line.me"
MAX_TEXT_LENGTH = 5000
MAX_MESSAGES = 5
# Template "buttons": at most 4 actions and 160 characters of text; quick replies: 13 items.
MAX_TEMPLATE_ACTIONS = 4
MAX_TEMPLATE_TEXT = 160
MAX_QUICK_REPLIES = 13
MAX_LABEL = 20
MAX_ALT_TEXT = 400
MAX_POSTBACK_DATA = 300
# Fixed namespace: the retry key for a message must be the same in every process, forever.
RETRY_KEY_NAMESPACE = uuid.UUID("6f0c3b1e-2a57-5c8e-9d41-8b7f3e2a9c10")
MONTHLY_LIMIT_MESSAGE = "You have reached your monthly limit."

_MEDIA_KINDS = {
    "image": MessageKind.IMAGE,
    "video": MessageKind.VIDEO,
    "audio": MessageKind.AUDIO,
    "file": MessageKind.DOCUMENT,
}
# Events that carry no conversation content: logged, never stored.
_IGNORED_EVENTS = frozenset(
    {
        "follow",
        "unfollow",
        "join",
        "leave",
        "memberJoined",
        "memberLeft",
        "accountLink",
        "things",
        "videoPlayComplete",
        "beacon",
        "membership",
        "module",
        "activated",
        "deactivated",
        "botSuspended",
        "botResumed",
    }
)


def retry_key(idempotency_key: str) -> str:
    """The X-Line-Retry-Key for one of our messages: a UUID that every retry of it repeats."""
    return str(uuid.uuid5(RETRY_KEY_NAMESPACE, idempotency_key))


def postback_data(button: Button) -> str:
    """What a postback button carries: LINE's customary query-string form, with the title too,
    because the postback event LINE sends back holds nothing but this data."""
    title = button.title
    data = urllib.parse.urlencode({"id": button.id, "title": title})
    while len(data) > MAX_POSTBACK_DATA and title:
        title = title[:-1]
        data = urllib.parse.urlencode({"id": button.id, "title": title})
    return data


class LineConnector:
    platform = Platform.LINE
    max_text_length = MAX_TEXT_LENGTH
    capabilities = Capabilities(
        reply_window=None,  # push messages reach friends at any time (they count against the quota)
        can_initiate=False,  # only people who added the bot as a friend can be messaged
        media=True,
        buttons=True,
        delivery_statuses=False,  # LINE reports neither delivery nor reads to bots
        read_statuses=False,
    )
    secret_names = ("channel_secret", "channel_access_token")
    generated_secrets = ()

    # ---- configuration ----------------------------------------------------------------------

    def validate_config(self, config: Mapping[str, Any], secrets: Mapping[str, str]) -> list[str]:
        problems: list[str] = []
        for key, label in (("api_base", "API base URL"), ("api_data_base", "content API base URL")):
            value = config.get(key)
            if value is not None and not (
                isinstance(value, str) and value.startswith(("https://", "http://"))
            ):
                problems.append(f"The {label} ({key}) must start with https:// or http://.")
        bot_user_id = config.get("bot_user_id")
        if bot_user_id is not None and not (
            isinstance(bot_user_id, str) and bot_user_id.startswith("U") and len(bot_user_id) == 33
        ):
            problems.append(
                'The bot user ID (bot_user_id) must be the 33-character ID starting with "U" shown in the LINE console.'
            )
        labels = {"channel_secret": "channel secret", "channel_access_token": "channel access token"}
        for key, label in labels.items():
            if not (secrets.get(key) or "").strip():
                problems.append(f"The LINE {label} ({key}) is required.")
        return problems

    # ---- webhooks -----------------------------------------------------------------------------

    def handshake(self, request: WebhookRequest, channel: ChannelCredentials) -> HandshakeReply | None:
        # The console's Verify button is a signed POST with no events: parse() answers it.
        return None

    def verify(self, request: WebhookRequest, channel: ChannelCredentials, *, now: float) -> bool:
        secret = channel.secrets.get("channel_secret") or ""
        header = request.header("x-line-signature")
        if not secret or not header:
            return False
        try:
            given = base64.b64decode(header.strip(), validate=True)
        except ValueError:
            return False
        expected = hmac.new(secret.encode(), request.body, hashlib.sha256).digest()
        return hmac.compare_digest(given, expected)

    def parse(self, request: WebhookRequest, channel: ChannelCredentials) -> ParsedWebhook:
        data = request.json_object()
        events = data.get("events")
        if not isinstance(events, list):
            raise MalformedPayload("events must be a list")
        bot_user_id = channel.config.get("bot_user_id")
        destination = data.get("destination")
        if bot_user_id and destination and destination != bot_user_id:
            log.warning(
                "line webhook for another bot skipped",
                extra={"channel_id": channel.channel_id, "destination": destination},
            )
            return ParsedWebhook()
        data_base = str(channel.config.get("api_data_base") or DEFAULT_API_DATA_BASE).rstrip("/")
        messages: list[InboundMessage] = []
        edits: list[MessageEdit] = []
        for event in events:
            if not isinstance(event, dict):
                log.warning(
                    "line event that is not an object skipped", extra={"channel_id": channel.channel_id}
                )
                continue
            kind = event.get("type")
            if kind == "message":
                message = _message(event, data_base)
                if message is not None:
                    messages.append(message)
                    continue
            elif kind == "postback":
                postback = _postback(event)
                if postback is not None:
                    messages.append(postback)
                    continue
            elif kind == "unsend":
                edit = _unsend(event)
                if edit is not None:
                    edits.append(edit)
                    continue
            elif kind in _IGNORED_EVENTS:
                log.info(
                    "line event ignored",
                    extra={
                        "channel_id": channel.channel_id,
                        "event_type": kind,
                        "source": event.get("source"),
                    },
                )
                continue
            log.warning(
                "line event skipped",
                extra={
                    "channel_id": channel.channel_id,
                    "event_type": kind,
                    "webhook_event_id": event.get("webhookEventId"),
                },
            )
        return ParsedWebhook(messages=tuple(messages), edits=tuple(edits))

    # ---- sending ------------------------------------------------------------------------------

    async def send(
        self, http: httpx.AsyncClient, channel: ChannelCredentials, message: OutboundMessage
    ) -> SendResult:
        payload = {"to": message.recipient_id, "messages": _line_messages(message)}
        api_base = str(channel.config.get("api_base") or DEFAULT_API_BASE).rstrip("/")
        key = retry_key(message.idempotency_key)
        headers = {
            "Authorization": f"Bearer {channel.secrets.get('channel_access_token', '')}",
            "X-Line-Retry-Key": key,
        }
        # A timeout is safe to retry: the retry key turns a repeat of an accepted push into a 409.
        reply = await call(http, "LINE", f"{api_base}/v2/bot/message/push", json=payload, headers=headers)
        data = reply.body
        if reply.ok or reply.status == 409:
            sent = data.get("sentMessages")
            first = sent[0] if isinstance(sent, list) and sent and isinstance(sent[0], dict) else {}
            message_id = first.get("id")
            if isinstance(message_id, str | int) and str(message_id):
                return SendResult(platform_message_id=str(message_id))
            if reply.status == 409:
                # The earlier attempt was accepted (LINE says so) but its ids are not given back:
                # the message went out; a stable stand-in id keeps it from being sent again.
                log.warning("line 409 without sentMessages", extra={"channel_id": channel.channel_id})
                return SendResult(platform_message_id=f"retry-key:{key}")
            raise SendError(
                "INVALID_RESPONSE", "LINE accepted the message but returned no message id.", retryable=False
            )
        raise _send_error(reply, channel.channel_id)


# ---- parsing helpers ------------------------------------------------------------------------------


def _id(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return nonempty_str(value)


def _time(event: dict[str, Any]) -> datetime:
    try:
        return datetime.fromtimestamp(int(event["timestamp"]) / 1000, tz=UTC)
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        return datetime.now(UTC)


def _source(event: dict[str, Any]) -> tuple[str | None, str | None]:
    """(sender_id, reply_address): the user, and the group/room replies go to when not a 1:1 chat."""
    source = event.get("source") if isinstance(event.get("source"), dict) else {}
    user_id = nonempty_str(source.get("userId"))
    chat_id = nonempty_str(source.get("groupId")) or nonempty_str(source.get("roomId"))
    # In a group, a member who has not consented has no userId: the group is all we know.
    return user_id or chat_id, chat_id


def _event_metadata(event: dict[str, Any]) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    if nonempty_str(event.get("replyToken")):
        metadata["replyToken"] = event["replyToken"]
    if nonempty_str(event.get("webhookEventId")):
        metadata["webhookEventId"] = event["webhookEventId"]
    context = event.get("deliveryContext")
    if isinstance(context, dict) and context.get("isRedelivery") is True:
        metadata["redelivery"] = True
    if event.get("mode") == "standby":  # another module handles the chat; we only observe
        metadata["mode"] = "standby"
    source = event.get("source") if isinstance(event.get("source"), dict) else {}
    if source.get("type") in ("group", "room"):
        metadata["chat_type"] = source["type"]
    return metadata


def _message(event: dict[str, Any], data_base: str) -> InboundMessage | None:
    body = event.get("message") if isinstance(event.get("message"), dict) else {}
    message_id = _id(body.get("id"))
    sender_id, reply_address = _source(event)
    if message_id is None or sender_id is None:
        return None
    metadata = _event_metadata(event)
    if nonempty_str(body.get("quoteToken")):
        metadata["quoteToken"] = body["quoteToken"]
    kind, text, attachments = _content(body, message_id, data_base, metadata)
    return InboundMessage(
        # LINE message ids are unique across the platform, and replies and unsends name them.
        platform_message_id=message_id,
        sender_id=sender_id,
        sent_at=_time(event),
        kind=kind,
        text=text,
        reply_address=reply_address,
        reply_to_platform_id=_id(body.get("quotedMessageId")),
        attachments=attachments,
        metadata=metadata,
    )


def _content(
    body: dict[str, Any], message_id: str, data_base: str, metadata: dict[str, Any]
) -> tuple[MessageKind, str | None, tuple[Attachment, ...]]:
    kind = body.get("type")
    if kind == "text":
        for key in ("emojis", "mention"):
            if body.get(key):
                metadata[key] = body[key]
        return MessageKind.TEXT, nonempty_str(body.get("text")), ()
    if kind in _MEDIA_KINDS:
        provider = body.get("contentProvider") if isinstance(body.get("contentProvider"), dict) else {}
        if provider.get("type") == "external":  # sent from another app: LINE only holds a link
            url = nonempty_str(provider.get("originalContentUrl"))
            if nonempty_str(provider.get("previewImageUrl")):
                metadata["preview_url"] = provider["previewImageUrl"]
        else:  # fetched with the channel access token; content expires after a while
            url = f"{data_base}/v2/bot/message/{message_id}/content"
        if isinstance(body.get("imageSet"), dict):
            metadata["imageSet"] = body["imageSet"]  # one of several images sent together
        if isinstance(body.get("duration"), int):
            metadata["duration_ms"] = body["duration"]
        size = body.get("fileSize")
        attachment = Attachment(
            kind=_MEDIA_KINDS[kind],
            media_id=message_id,
            url=url,
            filename=nonempty_str(body.get("fileName")),
            size=size if isinstance(size, int) else None,
        )
        text = nonempty_str(body.get("fileName")) if kind == "file" else None
        return _MEDIA_KINDS[kind], text, (attachment,)
    if kind == "location" and "latitude" in body and "longitude" in body:
        location = {"latitude": body["latitude"], "longitude": body["longitude"]}
        for source, target in (("title", "name"), ("address", "address")):
            if nonempty_str(body.get(source)):
                location[target] = body[source]
        metadata["location"] = location
        place = ", ".join(str(location[k]) for k in ("name", "address") if k in location)
        coords = f"{location['latitude']}, {location['longitude']}"
        return MessageKind.LOCATION, f"Location: {place} ({coords})" if place else f"Location: {coords}", ()
    if kind == "sticker":
        sticker = {
            k: body[k] for k in ("packageId", "stickerId", "stickerResourceType", "keywords") if k in body
        }
        metadata["sticker"] = sticker
        # Message stickers carry their own words; otherwise the keywords say what it shows.
        keywords = body.get("keywords") if isinstance(body.get("keywords"), list) else []
        text = nonempty_str(body.get("text")) or (
            f"Sticker: {', '.join(map(str, keywords[:3]))}" if keywords else None
        )
        return MessageKind.STICKER, text, ()
    metadata["raw_type"] = kind if isinstance(kind, str) else None
    metadata["raw"] = body
    return MessageKind.UNSUPPORTED, None, ()


def _postback(event: dict[str, Any]) -> InboundMessage | None:
    postback = event.get("postback") if isinstance(event.get("postback"), dict) else {}
    event_id = nonempty_str(event.get("webhookEventId"))
    sender_id, reply_address = _source(event)
    data = postback.get("data")
    if event_id is None or sender_id is None or not isinstance(data, str):
        return None
    metadata = _event_metadata(event)
    metadata.pop("webhookEventId", None)  # it is the platform id already
    payload, title = data, None
    fields = urllib.parse.parse_qs(data, keep_blank_values=True)
    if set(fields) == {"id", "title"} and len(fields["id"]) == len(fields["title"]) == 1:
        payload, title = fields["id"][0], fields["title"][0]  # one of our buttons (postback_data)
    metadata["payload"] = payload
    if isinstance(postback.get("params"), dict):  # datetime pickers, rich menu switches
        metadata["params"] = postback["params"]
    return InboundMessage(
        # A press has no message id; webhookEventId is stable across redeliveries.
        platform_message_id=event_id,
        sender_id=sender_id,
        sent_at=_time(event),
        kind=MessageKind.POSTBACK,
        text=title or data,
        reply_address=reply_address,
        metadata=metadata,
    )


def _unsend(event: dict[str, Any]) -> MessageEdit | None:
    unsend = event.get("unsend") if isinstance(event.get("unsend"), dict) else {}
    message_id = _id(unsend.get("messageId"))
    if message_id is None:
        return None
    return MessageEdit(platform_message_id=message_id, occurred_at=_time(event), deleted=True)


# ---- sending helpers ------------------------------------------------------------------------------


def _line_messages(message: OutboundMessage) -> list[dict[str, Any]]:
    """The push's message objects: text, images by URL, buttons as a template or quick reply."""
    text = message.text or ""
    if len(text) > MAX_TEXT_LENGTH:
        raise SendError(
            "too_long",
            f"The text is {len(text)} characters long; LINE allows at most {MAX_TEXT_LENGTH}.",
            retryable=False,
        )
    if message.kind is MessageKind.TEMPLATE:
        raise SendError(
            "UNSUPPORTED_KIND", "LINE has no approved message templates; send text.", retryable=False
        )
    result: list[dict[str, Any]] = []
    links: list[str] = []
    for attachment in message.attachments:
        if not attachment.url:
            raise SendError("MEDIA_WITHOUT_URL", "Every attachment needs a public URL.", retryable=False)
        if not attachment.url.startswith("https://"):
            raise SendError("MEDIA_NOT_HTTPS", "LINE only fetches media from https:// URLs.", retryable=False)
        if attachment.kind is MessageKind.IMAGE:
            result.append(
                {"type": "image", "originalContentUrl": attachment.url, "previewImageUrl": attachment.url}
            )
        else:
            # Bots cannot push files, and video/audio need a preview image and duration we do not
            # have: the customer gets the link instead.
            links.append(attachment.url)
    body = "\n".join([text, *links]) if text and links else text or "\n".join(links)
    if len(body) > MAX_TEXT_LENGTH:
        raise SendError(
            "too_long",
            f"The text with its links exceeds LINE's {MAX_TEXT_LENGTH} characters.",
            retryable=False,
        )
    if body.strip() or message.buttons:
        if message.buttons:
            result.append(_with_buttons(body, message.buttons))
        else:
            text_message: dict[str, Any] = {"type": "text", "text": body}
            quote = message.metadata.get("quoteToken")
            if isinstance(quote, str) and quote:
                text_message["quoteToken"] = quote
            result.append(text_message)
    if not result:
        raise SendError("EMPTY_TEXT", "The message has no text or media to send.", retryable=False)
    if len(result) > MAX_MESSAGES:
        raise SendError(
            "TOO_MANY_PARTS",
            f"LINE sends at most {MAX_MESSAGES} messages at once (text plus images).",
            retryable=False,
        )
    return result


def _action(button: Button) -> dict[str, Any]:
    label = button.title[:MAX_LABEL]
    if button.url:
        return {"type": "uri", "label": label, "uri": button.url}
    # displayText shows the press in the chat as if the customer had typed the title.
    return {
        "type": "postback",
        "label": label,
        "data": postback_data(button),
        "displayText": button.title[:300],
    }


def _with_buttons(text: str, buttons: tuple[Button, ...]) -> dict[str, Any]:
    if not text.strip():
        raise SendError("EMPTY_TEXT", "Buttons need a text to go with them on LINE.", retryable=False)
    if len(buttons) <= MAX_TEMPLATE_ACTIONS and len(text) <= MAX_TEMPLATE_TEXT:
        return {
            "type": "template",
            "altText": text[:MAX_ALT_TEXT],  # what notifications and old clients show
            "template": {"type": "buttons", "text": text, "actions": [_action(b) for b in buttons]},
        }
    if len(buttons) > MAX_QUICK_REPLIES:
        raise SendError(
            "TOO_MANY_BUTTONS",
            f"LINE shows at most {MAX_QUICK_REPLIES} quick-reply buttons.",
            retryable=False,
        )
    # Longer texts or more buttons: a plain text with quick-reply chips under it.
    items = [{"type": "action", "action": _action(b)} for b in buttons]
    return {"type": "text", "text": text, "quickReply": {"items": items}}


def _send_error(reply: Reply, channel_id: int) -> SendError:
    status, data = reply.status, reply.body
    message = nonempty_str(data.get("message"))
    details = [
        f"{d.get('property')}: {d.get('message')}" if d.get("property") else str(d.get("message"))
        for d in data.get("details") or []
        if isinstance(d, dict) and d.get("message")
    ]
    said = "; ".join([message or f"HTTP {status}", *details])
    log.warning(
        "line send failed", extra={"channel_id": channel_id, "http_status": status, "line_message": said}
    )
    if status == 429 and message == MONTHLY_LIMIT_MESSAGE:
        return SendError(
            "MONTHLY_LIMIT",
            "The LINE channel has used up this month's message quota; raise the plan's limit or wait until next month.",
            retryable=False,
            affects_channel=True,
        )
    if status == 429:
        return SendError(
            "RATE_LIMITED",
            "LINE is limiting how fast this channel sends; it will be retried shortly.",
            retryable=True,
            retry_after=reply.retry_after(),
            throttled=True,
        )
    if status >= 500:
        return SendError(f"HTTP_{status}", f"LINE had an error ({said}); it will be retried.", retryable=True)
    if status == 401:
        return SendError(
            "UNAUTHORIZED",
            "LINE refused the channel access token; it may have been revoked or expired. Update it in the channel settings.",
            retryable=False,
            affects_channel=True,
        )
    if status == 403:
        return SendError(
            "FORBIDDEN",
            f"The LINE channel is not allowed to send this message ({said}).",
            retryable=False,
            affects_channel=True,
        )
    return SendError(f"HTTP_{status}", f"LINE refused the message: {said}", retryable=False)


line = LineConnector()
