"""Telegram Bot API: the secret-token header, Update parsing, sends with the Bot API's errors.

Telegram's message ids are unique only within a chat, so every id we store is `chat_id:message_id`
(inbound, the ids our sends get back, and replies-to), which keeps one bot's chats apart.
"""

from __future__ import annotations

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
)

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.telegram.org"
MAX_TEXT_LENGTH = 4096
MAX_CAPTION = 1024
SEND_TIMEOUT = 15.0
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
_MEDIA = {
    "document": MessageKind.DOCUMENT,
    "video": MessageKind.VIDEO,
    "audio": MessageKind.AUDIO,
    "voice": MessageKind.AUDIO,
    "video_note": MessageKind.VIDEO,
    "sticker": MessageKind.STICKER,
    "animation": MessageKind.VIDEO,
}
_SEND_METHOD = {
    MessageKind.IMAGE: ("sendPhoto", "photo"),
    MessageKind.DOCUMENT: ("sendDocument", "document"),
    MessageKind.VIDEO: ("sendVideo", "video"),
    MessageKind.AUDIO: ("sendAudio", "audio"),
    MessageKind.STICKER: ("sendSticker", "sticker"),
}


class TelegramConnector:
    platform = Platform.TELEGRAM
    max_text_length = MAX_TEXT_LENGTH
    capabilities = Capabilities(
        reply_window=None,  # a bot may write to anyone who started it, until they block it
        can_initiate=False,  # ...but never first
        media=True,
        max_attachments=1,
        buttons=True,
        edits=True,
    )
    secret_names = ("bot_token", "secret_token")
    generated_secrets = ("secret_token",)  # ours: handed to Telegram by setWebhook

    def validate_config(self, config: Mapping[str, Any], secrets: Mapping[str, str]) -> list[str]:
        problems = []
        if not _TOKEN_RE.match(secrets.get("bot_token") or ""):
            problems.append("The bot token (bot_token) from @BotFather is required, like 123456:ABC-DEF….")
        if not _SECRET_RE.match(secrets.get("secret_token") or ""):
            problems.append(
                "The webhook secret (secret_token) is required: 1 to 256 of A-Z, a-z, 0-9, _ and -."
            )
        api_base = config.get("api_base", DEFAULT_API_BASE)
        if not isinstance(api_base, str) or not api_base.startswith(("https://", "http://")):
            problems.append("The API base URL (api_base) must start with https:// or http://.")
        return problems

    def handshake(self, request: WebhookRequest, channel: ChannelCredentials) -> HandshakeReply | None:
        return None  # Telegram has no verification request: setWebhook is the handshake

    def verify(self, request: WebhookRequest, channel: ChannelCredentials, *, now: float) -> bool:
        expected = channel.secrets.get("secret_token") or ""
        given = request.headers.get("x-telegram-bot-api-secret-token") or ""
        return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())

    def parse(self, request: WebhookRequest, channel: ChannelCredentials) -> ParsedWebhook:
        try:
            update = orjson.loads(request.body)
        except orjson.JSONDecodeError as exc:
            raise MalformedPayload(f"body is not JSON: {exc}") from None
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            raise MalformedPayload("an Update needs an integer update_id")
        if isinstance(update.get("message"), dict):
            message = _message(update["message"])
            return ParsedWebhook(messages=(message,) if message else ())
        if isinstance(update.get("edited_message"), dict):
            edited = update["edited_message"]
            text = edited.get("text") if edited.get("text") is not None else edited.get("caption")
            edit = MessageEdit(
                platform_message_id=_id(edited["chat"]["id"], edited["message_id"]),
                occurred_at=_ts(edited.get("edit_date") or edited.get("date")),
                text=text,
            )
            return ParsedWebhook(edits=(edit,))
        if isinstance(update.get("callback_query"), dict):
            return ParsedWebhook(messages=(_callback(update["callback_query"]),))
        if isinstance(update.get("message_reaction"), dict):
            reaction = _reaction(update["message_reaction"], update["update_id"])
            return ParsedWebhook(messages=(reaction,) if reaction else ())
        log.info("telegram update ignored", extra={"keys": sorted(k for k in update if k != "update_id")})
        return ParsedWebhook()

    async def send(
        self, http: httpx.AsyncClient, channel: ChannelCredentials, message: OutboundMessage
    ) -> SendResult:
        text = message.text or ""
        body: dict[str, Any] = {"chat_id": message.recipient_id}
        if message.attachments:
            attachment = message.attachments[0]
            method, field = _SEND_METHOD.get(attachment.kind, ("sendDocument", "document"))
            body[field] = attachment.url
            if text.strip():
                if attachment.kind is MessageKind.STICKER:
                    raise SendError(
                        "caption_not_allowed", "Telegram stickers carry no caption.", retryable=False
                    )
                if len(text) > MAX_CAPTION:
                    raise SendError(
                        "too_long",
                        f"Telegram captions are at most {MAX_CAPTION} characters.",
                        retryable=False,
                    )
                body["caption"] = text
        else:
            if not text.strip():
                raise SendError("empty", "The message has no text to send.", retryable=False)
            if len(text) > MAX_TEXT_LENGTH:
                raise SendError(
                    "too_long",
                    f"The text is {len(text)} characters; Telegram allows {MAX_TEXT_LENGTH}.",
                    retryable=False,
                )
            method, body["text"] = "sendMessage", text
        if message.buttons:
            body["reply_markup"] = {
                "inline_keyboard": [
                    [
                        {"text": b.title, "url": b.url}
                        if b.url
                        else {"text": b.title, "callback_data": b.id[:64]}
                    ]
                    for b in message.buttons
                ]
            }
        if message.reply_to_platform_id and ":" in message.reply_to_platform_id:
            chat, _, reply_id = message.reply_to_platform_id.rpartition(":")
            if chat == str(message.recipient_id) and reply_id.isdigit():
                body["reply_parameters"] = {"message_id": int(reply_id), "allow_sending_without_reply": True}
        result = await _call(http, channel, method, body)
        return SendResult(platform_message_id=_id(result["chat"]["id"], result["message_id"]))

    async def register_webhook(self, http: httpx.AsyncClient, channel: ChannelCredentials, url: str) -> None:
        await _call(
            http,
            channel,
            "setWebhook",
            {
                "url": url,
                "secret_token": channel.secrets.get("secret_token"),
                "allowed_updates": ["message", "edited_message", "callback_query", "message_reaction"],
            },
        )


async def _call(
    http: httpx.AsyncClient, channel: ChannelCredentials, method: str, body: dict[str, Any]
) -> Any:
    api_base = str(channel.config.get("api_base") or DEFAULT_API_BASE).rstrip("/")
    token = channel.secrets.get("bot_token") or ""
    try:
        response = await http.post(f"{api_base}/bot{token}/{method}", json=body, timeout=SEND_TIMEOUT)
    except httpx.TimeoutException:
        raise SendError("timeout", "Telegram did not answer in time.", retryable=True) from None
    except httpx.HTTPError as exc:
        raise SendError(
            "network", f"Telegram could not be reached ({type(exc).__name__}).", retryable=True
        ) from None
    try:
        data = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        data = {}
    if response.status_code == 200 and isinstance(data, dict) and data.get("ok"):
        return data["result"]
    raise _error(response.status_code, data if isinstance(data, dict) else {})


def _error(status: int, data: dict[str, Any]) -> SendError:
    code = data.get("error_code") if isinstance(data.get("error_code"), int) else status
    description = str(data.get("description") or f"HTTP {status}")
    parameters = data.get("parameters") if isinstance(data.get("parameters"), dict) else {}
    if code == 429:
        retry_after = parameters.get("retry_after")
        return SendError(
            "429",
            "Telegram is limiting how fast this bot sends; it will be retried.",
            retryable=True,
            retry_after=float(retry_after) if isinstance(retry_after, int | float) else None,
        )
    if code >= 500:
        return SendError(
            str(code), f"Telegram had a problem ({description}); it will be retried.", retryable=True
        )
    if code == 401 or code == 404:
        return SendError(
            str(code),
            "The bot token was refused by Telegram; check the channel's settings.",
            retryable=False,
            affects_channel=True,
        )
    if code == 403:
        reason = {
            "bot was blocked by the user": "The customer has blocked this bot; Telegram will not deliver to them.",
            "user is deactivated": "The customer's Telegram account is deactivated.",
        }
        human = next((v for k, v in reason.items() if k in description), f"Telegram refused: {description}")
        return SendError("403", human, retryable=False)
    if "chat not found" in description:
        return SendError(
            "400",
            "Telegram does not know this chat (the customer may never have started the bot).",
            retryable=False,
        )
    if "too long" in description:
        return SendError("400", "The message is too long for Telegram.", retryable=False)
    return SendError(str(code), f"Telegram refused the message: {description}", retryable=False)


def _id(chat_id: Any, message_id: Any) -> str:
    return f"{chat_id}:{message_id}"


def _ts(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value), UTC) if isinstance(value, int | float) else datetime.now(UTC)


def _name(user: dict[str, Any]) -> str | None:
    parts = [user.get("first_name"), user.get("last_name")]
    return " ".join(p for p in parts if p) or user.get("username")


def _message(raw: dict[str, Any]) -> InboundMessage | None:
    sender, chat = raw.get("from") or {}, raw.get("chat") or {}
    if sender.get("is_bot") or "id" not in chat or "message_id" not in raw:
        return None  # our own bot's (or another bot's) messages are not the customer's
    kind, text, attachments, metadata = _content(raw)
    reply = raw.get("reply_to_message")
    return InboundMessage(
        platform_message_id=_id(chat["id"], raw["message_id"]),
        sender_id=str(sender.get("id", chat["id"])),
        sender_name=_name(sender or chat),
        sent_at=_ts(raw.get("date")),
        kind=kind,
        text=text,
        reply_address=str(chat["id"]) if str(chat["id"]) != str(sender.get("id")) else None,
        reply_to_platform_id=_id(chat["id"], reply["message_id"]) if isinstance(reply, dict) else None,
        attachments=attachments,
        metadata={
            **metadata,
            **({"username": sender["username"]} if sender.get("username") else {}),
            **({"language": sender["language_code"]} if sender.get("language_code") else {}),
            **({"chat_type": chat.get("type")} if chat.get("type") != "private" else {}),
        },
    )


def _content(raw: dict[str, Any]) -> tuple[MessageKind, str | None, tuple[Attachment, ...], dict[str, Any]]:
    caption = raw.get("caption")
    if raw.get("text") is not None:
        text = raw["text"]
        command = re.match(r"^/([A-Za-z0-9_]+)", text)
        return MessageKind.TEXT, text, (), {"command": command.group(1)} if command else {}
    if isinstance(raw.get("photo"), list) and raw["photo"]:
        largest = raw["photo"][-1]  # sizes come smallest first
        attachment = Attachment(
            kind=MessageKind.IMAGE, media_id=largest.get("file_id"), size=largest.get("file_size")
        )
        return MessageKind.IMAGE, caption, (attachment,), {}
    for key, kind in _MEDIA.items():
        media = raw.get(key)
        if isinstance(media, dict):
            attachment = Attachment(
                kind=kind,
                media_id=media.get("file_id"),
                mime_type=media.get("mime_type"),
                filename=media.get("file_name"),
                size=media.get("file_size"),
            )
            text = caption if caption is not None else (media.get("emoji") if key == "sticker" else None)
            return kind, text, (attachment,), {"telegram_type": key}
    if isinstance(raw.get("location"), dict):
        location = raw["location"]
        return (
            MessageKind.LOCATION,
            f"{location.get('latitude')}, {location.get('longitude')}",
            (),
            {"location": location},
        )
    if isinstance(raw.get("contact"), dict):
        contact = raw["contact"]
        name = " ".join(p for p in (contact.get("first_name"), contact.get("last_name")) if p)
        return (
            MessageKind.CONTACTS,
            f"{name} {contact.get('phone_number', '')}".strip(),
            (),
            {"contact": contact},
        )
    return (
        MessageKind.UNSUPPORTED,
        caption,
        (),
        {"keys": sorted(k for k in raw if k not in ("from", "chat", "date"))},
    )


def _callback(query: dict[str, Any]) -> InboundMessage:
    user, message = query.get("from") or {}, query.get("message") or {}
    data = query.get("data")
    title = data
    for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
        for button in row:
            if button.get("callback_data") == data:
                title = button.get("text")
    chat_id = (message.get("chat") or {}).get("id", user.get("id"))
    return InboundMessage(
        platform_message_id=f"callback:{query['id']}",
        sender_id=str(user.get("id")),
        sender_name=_name(user),
        sent_at=datetime.now(UTC),  # callback queries carry no time
        kind=MessageKind.POSTBACK,
        text=title,
        reply_address=str(chat_id) if str(chat_id) != str(user.get("id")) else None,
        reply_to_platform_id=_id(chat_id, message["message_id"]) if "message_id" in message else None,
        metadata={"payload": data},
    )


def _reaction(raw: dict[str, Any], update_id: int) -> InboundMessage | None:
    user, chat = raw.get("user") or {}, raw.get("chat") or {}
    if not user or "id" not in chat:
        return None  # anonymous reactions in channels have no person to file them under
    emojis = [r.get("emoji") or r.get("custom_emoji_id") for r in raw.get("new_reaction") or []]
    return InboundMessage(
        platform_message_id=f"reaction:{update_id}",
        sender_id=str(user["id"]),
        sender_name=_name(user),
        sent_at=_ts(raw.get("date")),
        kind=MessageKind.REACTION,
        text=" ".join(e for e in emojis if e) or None,
        reply_address=str(chat["id"]) if str(chat["id"]) != str(user["id"]) else None,
        metadata={
            "emoji": "".join(e for e in emojis if e),
            "target_platform_id": _id(chat["id"], raw["message_id"]),
        },
    )


telegram = TelegramConnector()
