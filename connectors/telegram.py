"""Telegram Bot API: the secret-token header, Update parsing, sends with the Bot API's errors, setWebhook.

Telegram's message ids are unique only within a chat, so every id we store is `chat_id:message_id`
(inbound messages, the ids our sends get back, replies-to and reaction targets), which keeps one
bot's chats apart.

A non-2xx answer makes Telegram redeliver the update and hold every later update of the bot behind
it for up to a day, so only bodies that cannot come from Telegram at all are refused (400); odd
content inside a real Update is logged and skipped.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets as _secrets
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

DEFAULT_API_BASE = "https://api.telegram.org"
MAX_TEXT_LENGTH = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64  # bytes of UTF-8
MAX_BUTTONS = 100
SECRET_HEADER = "x-telegram-bot-api-secret-token"
ALLOWED_UPDATES = ("message", "edited_message", "callback_query", "message_reaction")

_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{10,}$")
# Bot usernames are 5-32 characters and must end in "bot" (BotFather enforces it).
_BOT_USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{1,29}[Bb][Oo][Tt]$")
_CHAT_ID_RE = re.compile(r"^-?\d{1,20}$")
_COMMAND_RE = re.compile(r"^/([A-Za-z0-9_]{1,64})(?:@([A-Za-z0-9_]+))?(?:\s+(.*))?$", re.DOTALL)

# Telegram's own service account: posts of a linked channel, auto-forwarded into its discussion group.
_TELEGRAM_SERVICE_USER = 777000

# Media keys of a Message in the order to test them: an animation also carries `document`.
_MEDIA: tuple[tuple[str, MessageKind], ...] = (
    ("animation", MessageKind.VIDEO),
    ("video_note", MessageKind.VIDEO),
    ("video", MessageKind.VIDEO),
    ("voice", MessageKind.AUDIO),
    ("audio", MessageKind.AUDIO),
    ("document", MessageKind.DOCUMENT),
    ("sticker", MessageKind.STICKER),
)
# Service messages (members joining, pins, group upgrades): nothing the customer wrote.
_SERVICE_KEYS = frozenset(
    {
        "new_chat_members",
        "left_chat_member",
        "new_chat_title",
        "new_chat_photo",
        "delete_chat_photo",
        "group_chat_created",
        "supergroup_chat_created",
        "channel_chat_created",
        "message_auto_delete_timer_changed",
        "migrate_to_chat_id",
        "migrate_from_chat_id",
        "pinned_message",
        "successful_payment",
        "users_shared",
        "chat_shared",
        "connected_website",
        "write_access_allowed",
        "proximity_alert_triggered",
        "boost_added",
        "chat_background_set",
        "forum_topic_created",
        "forum_topic_edited",
        "forum_topic_closed",
        "forum_topic_reopened",
        "general_forum_topic_hidden",
        "general_forum_topic_unhidden",
        "video_chat_scheduled",
        "video_chat_started",
        "video_chat_ended",
        "video_chat_participants_invited",
        "web_app_data",
    }
)
# Keys every kind of message may carry: none of them says what the message is.
_ENVELOPE_KEYS = frozenset(
    {
        "message_id",
        "message_thread_id",
        "from",
        "sender_chat",
        "sender_boost_count",
        "chat",
        "date",
        "edit_date",
        "caption",
        "caption_entities",
        "entities",
        "reply_to_message",
        "external_reply",
        "quote",
        "reply_to_story",
        "forward_origin",
        "forward_from",
        "forward_from_chat",
        "forward_from_message_id",
        "forward_signature",
        "forward_sender_name",
        "forward_date",
        "is_from_offline",
        "business_connection_id",
        "sender_business_bot",
        "paid_star_count",
        "is_topic_message",
        "is_automatic_forward",
        "has_protected_content",
        "has_media_spoiler",
        "show_caption_above_media",
        "media_group_id",
        "author_signature",
        "via_bot",
        "link_preview_options",
        "reply_markup",
        "effect_id",
    }
)
_SEND_METHODS = {
    MessageKind.IMAGE: ("sendPhoto", "photo"),
    MessageKind.DOCUMENT: ("sendDocument", "document"),
    MessageKind.VIDEO: ("sendVideo", "video"),
    MessageKind.AUDIO: ("sendAudio", "audio"),
    MessageKind.STICKER: ("sendSticker", "sticker"),
}

# 403 descriptions, as Telegram words them, and what they mean for the agent.
_FORBIDDEN_REASONS = (
    ("bot was blocked by the user", "The customer has blocked this bot; Telegram will not deliver to them."),
    ("user is deactivated", "The customer's Telegram account has been deleted."),
    ("bot was kicked", "The bot was removed from this group, so it cannot post there any more."),
    ("bot is not a member", "The bot is not a member of this group or channel any more."),
    (
        "bot can't initiate conversation",
        "A Telegram bot cannot write first: the customer has to start the bot before it can answer.",
    ),
    ("bot can't send messages to bots", "Telegram bots cannot write to other bots."),
    (
        "not enough rights",
        "The bot is not allowed to post in this group; a group admin has to give it the right.",
    ),
)
# 400 descriptions (matched case-insensitively) with a human reason.
_BAD_REQUEST_REASONS = (
    (
        "chat not found",
        "Telegram does not know this chat: the customer may never have started the bot, or the chat was deleted.",
    ),
    ("message is too long", "The message is longer than Telegram allows (4096 characters)."),
    ("caption is too long", "The caption is longer than Telegram allows (1024 characters)."),
    ("message text is empty", "The message has no text to send."),
    ("can't parse entities", "Telegram could not read the message's formatting."),
    (
        "wrong file identifier/http url",
        "Telegram could not use the attachment's URL; it must be a public http(s) link to the file.",
    ),
    (
        "failed to get http url content",
        "Telegram could not download the attachment from its URL; check that the link is public.",
    ),
    (
        "wrong type of the web page content",
        "The attachment's URL does not point to a file of the right type.",
    ),
    ("button_data_invalid", "A button's payload was refused by Telegram (at most 64 bytes)."),
    ("button_url_invalid", "A link button's URL was refused by Telegram."),
    ("user not found", "Telegram does not know this customer any more."),
    ("peer_id_invalid", "Telegram does not know this chat (the customer may never have started the bot)."),
    (
        "have no rights to send a message",
        "The bot is not allowed to post in this group; a group admin has to give it the right.",
    ),
    (
        "not enough rights",
        "The bot is not allowed to post in this group; a group admin has to give it the right.",
    ),
)


class TelegramConnector:
    platform = Platform.TELEGRAM
    max_text_length = MAX_TEXT_LENGTH
    capabilities = Capabilities(
        reply_window=None,  # a bot may answer anyone who started it, for as long as they do not block it
        can_initiate=False,  # ...but it can never write first
        media=True,
        max_attachments=1,  # sendPhoto/sendDocument/... carry one file each
        buttons=True,
        templates=False,
        delivery_statuses=False,  # bots get no delivered/read receipts
        read_statuses=False,
        edits=True,
    )
    secret_names = ("bot_token", "secret_token")
    generated_secrets = ("secret_token",)  # ours: handed to Telegram by setWebhook

    # ---- configuration ----------------------------------------------------------------------

    def prepare_new_channel(
        self, config: Mapping[str, Any], secrets: Mapping[str, str]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """The secret_token is ours to choose and only Telegram needs it (setWebhook hands it
        over), so a new channel gets one unless the admin gave one."""
        config, secrets = dict(config), dict(secrets)
        if not secrets.get("secret_token"):
            secrets["secret_token"] = _secrets.token_urlsafe(32)  # A-Z a-z 0-9 _ -: what Telegram allows
        return config, secrets

    def validate_config(self, config: Mapping[str, Any], secrets: Mapping[str, str]) -> list[str]:
        problems: list[str] = []
        token = secrets.get("bot_token") or ""
        if not token.strip():
            problems.append("The bot token (bot_token) from @BotFather is required.")
        elif not _TOKEN_RE.match(token.strip()):
            problems.append(
                'The bot token (bot_token) does not look like one from @BotFather ("123456789:AAH…", '
                "digits, a colon, then letters, digits, _ and -)."
            )
        secret = secrets.get("secret_token") or ""
        if not secret:
            problems.append("The webhook secret (secret_token) is required.")
        elif not _SECRET_RE.match(secret):
            problems.append(
                "The webhook secret (secret_token) must be 1 to 256 characters, using only "
                "A-Z, a-z, 0-9, _ and -."
            )
        api_base = config.get("api_base", DEFAULT_API_BASE)
        if not isinstance(api_base, str) or not api_base.startswith(("https://", "http://")):
            problems.append("The API base URL (api_base) must start with https:// or http://.")
        username = config.get("bot_username")
        if username is not None and (
            not isinstance(username, str) or not _BOT_USERNAME_RE.match(username.removeprefix("@"))
        ):
            problems.append(
                'The bot username (bot_username) must be the bot\'s Telegram username, like "acme_support_bot": '
                '5 to 32 letters, digits or _, ending in "bot".'
            )
        return problems

    # ---- webhooks -----------------------------------------------------------------------------

    def handshake(self, request: WebhookRequest, channel: ChannelCredentials) -> HandshakeReply | None:
        return None  # Telegram sends no verification request: setWebhook is the handshake

    def verify(self, request: WebhookRequest, channel: ChannelCredentials, *, now: float) -> bool:
        expected = channel.secrets.get("secret_token") or ""
        given = request.header(SECRET_HEADER)
        if not expected or given is None:
            return False
        # A plain shared secret, not an HMAC: compared in constant time over the bytes.
        return hmac.compare_digest(given.encode(), expected.encode())

    def parse(self, request: WebhookRequest, channel: ChannelCredentials) -> ParsedWebhook:
        update = request.json_object("a JSON object (a Telegram Update)")
        update_id = update.get("update_id")
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            raise MalformedPayload("a Telegram Update needs an integer update_id")
        bot_username = _bot_username(channel.config)
        context = {"channel_id": channel.channel_id, "update_id": update_id}
        if isinstance(update.get("message"), dict):
            message = _message(update["message"], update_id, bot_username)
            return ParsedWebhook(messages=(message,) if message else ())
        if isinstance(update.get("edited_message"), dict):
            edit = _edit(update["edited_message"])
            if edit is None:
                log.info("telegram edit without new text skipped", extra=context)
            return ParsedWebhook(edits=(edit,) if edit else ())
        if isinstance(update.get("callback_query"), dict):
            query = update["callback_query"]
            press = _callback(query, update_id)
            if press is None:
                log.info("telegram callback query without data skipped", extra=context)
                return ParsedWebhook()
            if not nonempty_str(query.get("id")):
                return ParsedWebhook(messages=(press,))
            # Answering in the webhook response stops the spinner on the customer's button
            # without a separate answerCallbackQuery call.
            answer = {"method": "answerCallbackQuery", "callback_query_id": query["id"]}
            reply = HandshakeReply(200, orjson.dumps(answer).decode(), "application/json")
            return ParsedWebhook(messages=(press,), reply=reply)
        if isinstance(update.get("message_reaction"), dict):
            reaction = _reaction(update["message_reaction"], update_id)
            if reaction is None:
                log.info("telegram anonymous reaction skipped", extra=context)
            return ParsedWebhook(messages=(reaction,) if reaction else ())
        # channel_post, my_chat_member, business_message, ...: not a customer writing to us
        log.info(
            "telegram update ignored",
            extra={**context, "keys": sorted(k for k in update if k != "update_id")},
        )
        return ParsedWebhook()

    # ---- sending ------------------------------------------------------------------------------

    async def send(
        self, http: httpx.AsyncClient, channel: ChannelCredentials, message: OutboundMessage
    ) -> SendResult:
        chat_id = _chat_id(message.recipient_id)
        method, body = _send_body(message, chat_id)
        try:
            result = await _call(http, channel, method, body)
        except _Migrated as moved:
            # The group became a supergroup with a new id; Telegram says which. Message ids differ
            # in the new chat, so the reply reference is dropped.
            log.info(
                "telegram group migrated; sending to the supergroup",
                extra={"channel_id": channel.channel_id, "from": chat_id, "to": moved.chat_id},
            )
            body = {**body, "chat_id": moved.chat_id}
            body.pop("reply_parameters", None)
            result = await _call(http, channel, method, body)  # moved again: fails with its reason
        chat = result.get("chat") if isinstance(result, dict) else None
        message_id = result.get("message_id") if isinstance(result, dict) else None
        if not isinstance(chat, dict) or chat.get("id") is None or not isinstance(message_id, int):
            # Accepted but unreadable: retrying could send the message twice.
            raise SendError(
                "INVALID_RESPONSE",
                "Telegram accepted the message but returned no message id.",
                retryable=False,
            )
        return SendResult(platform_message_id=_id(chat["id"], message_id))

    async def register_webhook(self, http: httpx.AsyncClient, channel: ChannelCredentials, url: str) -> None:
        """Point the bot's webhook at `url` with our secret_token (called when a channel is created
        and when its secret is rotated). With `bot_username` configured, the token is first
        checked to belong to that bot, so a pasted token of another bot cannot take its webhook."""
        secret = channel.secrets.get("secret_token") or ""
        if not _SECRET_RE.match(secret):
            raise SendError(
                "secret_token",
                "The channel's webhook secret (secret_token) is missing or not 1-256 of A-Z, a-z, 0-9, _ and -.",
                retryable=False,
                affects_channel=True,
            )
        expected = _bot_username(channel.config)
        if expected:
            me = await _call(http, channel, "getMe", {})
            actual = str(me.get("username") or "") if isinstance(me, dict) else ""
            if actual.lower() != expected:
                raise SendError(
                    "wrong_bot",
                    f"The bot token belongs to @{actual or '?'}, but this channel is set up for @{expected}.",
                    retryable=False,
                    affects_channel=True,
                )
        body = {
            "url": url,
            "secret_token": secret,
            "allowed_updates": list(ALLOWED_UPDATES),
            # Updates queued while the webhook moves are customers' messages: keep them.
            "drop_pending_updates": False,
        }
        await _call(http, channel, "setWebhook", body)


# ---- parsing helpers ------------------------------------------------------------------------------


def _bot_username(config: Mapping[str, Any]) -> str | None:
    value = config.get("bot_username")
    return value.removeprefix("@").lower() if isinstance(value, str) and value else None


def _id(chat_id: Any, message_id: Any) -> str:
    return f"{chat_id}:{message_id}"


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _ts(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), UTC) if _int(value) is not None else None
    except (OverflowError, OSError, ValueError):
        return None


def _name(user: Mapping[str, Any]) -> str | None:
    parts = [nonempty_str(user.get("first_name")), nonempty_str(user.get("last_name"))]
    return (
        " ".join(p for p in parts if p)
        or nonempty_str(user.get("username"))
        or nonempty_str(user.get("title"))
    )


def _person(user: Any) -> dict[str, Any] | None:
    """The sender when it is a person: bots (ours, others, the anonymous-admin stand-in) and
    Telegram's service account are not customers."""
    if not isinstance(user, dict) or _int(user.get("id")) is None:
        return None
    if user.get("is_bot") or user["id"] == _TELEGRAM_SERVICE_USER:
        return None
    return user


def _user_metadata(user: Mapping[str, Any], chat: Mapping[str, Any]) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    if nonempty_str(user.get("username")):
        metadata["username"] = user["username"]
    if nonempty_str(user.get("language_code")):
        metadata["language"] = user["language_code"]
    if user.get("is_premium"):
        metadata["premium"] = True
    chat_type = chat.get("type")
    if chat_type and chat_type != "private":
        metadata["chat_type"] = chat_type
        if nonempty_str(chat.get("title")):
            metadata["chat_title"] = chat["title"]
    return metadata


def _reply_address(chat_id: Any, user_id: Any) -> str | None:
    """Where replies go when it is not the person's own chat with the bot (a group)."""
    return str(chat_id) if str(chat_id) != str(user_id) else None


def _message(raw: dict[str, Any], update_id: int, bot_username: str | None) -> InboundMessage | None:
    chat = raw.get("chat") if isinstance(raw.get("chat"), dict) else {}
    message_id = _int(raw.get("message_id"))
    user = _person(raw.get("from"))
    if user is None or _int(chat.get("id")) is None or message_id is None:
        return None  # bots (incl. our own), channel posts signed by a chat, or a broken message
    if _SERVICE_KEYS.intersection(raw):
        return None
    kind, text, attachments, metadata = _content(raw, user, bot_username)
    sent_at = _ts(raw.get("date"))
    if sent_at is None:
        log.warning("telegram message with bad date; using now", extra={"update_id": update_id})
        sent_at = datetime.now(UTC)
    reply = raw.get("reply_to_message")
    reply_id = _int(reply.get("message_id")) if isinstance(reply, dict) else None
    if isinstance(reply, dict) and "forum_topic_created" in reply:
        reply_id = None  # in a forum topic every message "replies" to the topic's opening service message
    if raw.get("forward_origin") is not None or raw.get("forward_date") is not None:
        metadata["forwarded"] = True
        origin = _forward_origin(raw)
        if origin:
            metadata["forwarded_from"] = origin
    if nonempty_str(raw.get("media_group_id")):
        metadata["media_group_id"] = raw["media_group_id"]  # an album arrives as one message per item
    if _int(raw.get("message_thread_id")) is not None and raw.get("is_topic_message"):
        metadata["topic_id"] = raw["message_thread_id"]
    sender_phone = _own_phone(raw, user)
    return InboundMessage(
        platform_message_id=_id(chat["id"], message_id),
        sender_id=str(user["id"]),
        sent_at=sent_at,
        kind=kind,
        text=text,
        sender_name=_name(user),
        sender_phone=sender_phone,
        reply_address=_reply_address(chat["id"], user["id"]),
        reply_to_platform_id=_id(chat["id"], reply_id) if reply_id is not None else None,
        attachments=attachments,
        metadata={**_user_metadata(user, chat), **metadata},
    )


def _forward_origin(raw: dict[str, Any]) -> dict[str, Any]:
    """Whom a forwarded message came from, with a name an agent can read: Bot API 7.0's
    `forward_origin` (user, hidden_user, chat, channel), else the fields it replaced."""
    origin = raw.get("forward_origin")
    if isinstance(origin, dict):
        kind = origin.get("type")
        user = origin.get("sender_user")
        chat = origin.get("sender_chat") if kind == "chat" else origin.get("chat")
        found: dict[str, Any] = {"type": kind} if nonempty_str(kind) else {}
        if kind == "user" and isinstance(user, dict):
            found.update(_origin_party(user))
        elif kind == "hidden_user":
            # The person hides their account: Telegram gives only the name they go by.
            found["name"] = nonempty_str(origin.get("sender_user_name"))
        elif kind in ("chat", "channel") and isinstance(chat, dict):
            found.update(_origin_party(chat))
            if _int(origin.get("message_id")) is not None:
                found["message_id"] = origin["message_id"]
        found["signature"] = nonempty_str(origin.get("author_signature"))
        found["date"] = _iso(origin.get("date"))
    elif isinstance(raw.get("forward_from"), dict):
        found = {"type": "user", **_origin_party(raw["forward_from"]), "date": _iso(raw.get("forward_date"))}
    elif isinstance(raw.get("forward_from_chat"), dict):
        chat = raw["forward_from_chat"]
        found = {
            "type": "channel" if chat.get("type") == "channel" else "chat",
            **_origin_party(chat),
            "message_id": _int(raw.get("forward_from_message_id")),
            "signature": nonempty_str(raw.get("forward_signature")),
            "date": _iso(raw.get("forward_date")),
        }
    else:
        found = {
            "type": "hidden_user",
            "name": nonempty_str(raw.get("forward_sender_name")),
            "date": _iso(raw.get("forward_date")),
        }
    return {k: v for k, v in found.items() if v is not None}


def _origin_party(party: Mapping[str, Any]) -> dict[str, Any]:
    """A forward's author (a User or a Chat): its id, @username and a readable name."""
    return {
        "id": party.get("id") if _int(party.get("id")) is not None else None,
        "name": _display_name(party),
        "username": nonempty_str(party.get("username")),
    }


def _display_name(party: Mapping[str, Any]) -> str | None:
    """A chat's title, a person's full name, else their @username."""
    parts = [nonempty_str(party.get(k)) for k in ("first_name", "last_name")]
    username = nonempty_str(party.get("username"))
    return (
        nonempty_str(party.get("title"))
        or " ".join(p for p in parts if p)
        or (f"@{username}" if username else None)
    )


def _iso(value: Any) -> str | None:
    moment = _ts(value)
    return moment.isoformat() if moment else None


def _own_phone(raw: dict[str, Any], user: Mapping[str, Any]) -> str | None:
    """A contact whose user_id is the sender's own id is the sender's account number, shared
    through a "share my phone number" button: Telegram vouches for it. Any other contact is
    just a card the customer typed or forwarded."""
    contact = raw.get("contact")
    if not isinstance(contact, dict) or _int(contact.get("user_id")) != user["id"]:
        return None
    digits = re.sub(r"\D", "", str(contact.get("phone_number") or ""))
    return digits if 7 <= len(digits) <= 15 else None


Content = tuple[MessageKind, str | None, tuple[Attachment, ...], dict[str, Any]]


def _content(raw: dict[str, Any], user: Mapping[str, Any], bot_username: str | None) -> Content:
    """(kind, text, attachments, metadata) of one message, by what it carries."""
    caption = nonempty_str(raw.get("caption"))
    if isinstance(raw.get("text"), str):
        return MessageKind.TEXT, raw["text"], (), _text_metadata(raw, bot_username)
    photo = raw.get("photo")
    if isinstance(photo, list) and photo:
        largest = _largest(photo)
        if largest is not None:
            attachment = Attachment(
                kind=MessageKind.IMAGE,
                media_id=nonempty_str(largest.get("file_id")),
                mime_type="image/jpeg",  # Telegram re-encodes every photo as JPEG
                size=_int(largest.get("file_size")),
            )
            metadata = {"width": largest.get("width"), "height": largest.get("height")}
            return MessageKind.IMAGE, caption, (attachment,), metadata
    for key, kind in _MEDIA:
        media = raw.get(key)
        if isinstance(media, dict):
            return _media(key, kind, media, caption)
    if isinstance(raw.get("venue"), dict):
        venue = raw["venue"]
        where = venue.get("location") if isinstance(venue.get("location"), dict) else {}
        location = {
            "latitude": where.get("latitude"),
            "longitude": where.get("longitude"),
            "name": venue.get("title"),
            "address": venue.get("address"),
        }
        return MessageKind.LOCATION, _location_text(location), (), {"location": location}
    if isinstance(raw.get("location"), dict):
        where = raw["location"]
        location = {"latitude": where.get("latitude"), "longitude": where.get("longitude")}
        metadata: dict[str, Any] = {"location": location}
        if where.get("live_period"):
            metadata["live_period"] = where["live_period"]
        return MessageKind.LOCATION, _location_text(location), (), metadata
    if isinstance(raw.get("contact"), dict):
        contact = raw["contact"]
        name = " ".join(
            p for p in (nonempty_str(contact.get("first_name")), nonempty_str(contact.get("last_name"))) if p
        )
        phone = nonempty_str(contact.get("phone_number"))
        label = name or "Unnamed contact"
        text = f"Shared contact: {label} ({phone})" if phone else f"Shared contact: {label}"
        card = {k: contact[k] for k in ("first_name", "last_name", "phone_number", "user_id") if k in contact}
        metadata = {"contact": card}
        if _int(contact.get("user_id")) == user["id"]:
            metadata["own_contact"] = True
        return MessageKind.CONTACTS, text, (), metadata
    if isinstance(raw.get("dice"), dict):
        dice = raw["dice"]
        emoji, value = nonempty_str(dice.get("emoji")), _int(dice.get("value"))
        text = f"{emoji} {value}" if emoji and value is not None else emoji
        return MessageKind.UNSUPPORTED, text, (), {"raw_type": "dice", "raw": dice}
    if isinstance(raw.get("poll"), dict):
        return MessageKind.UNSUPPORTED, _poll_text(raw["poll"]), (), {"raw_type": "poll"}
    for key, describe in _DESCRIBED.items():
        if isinstance(raw.get(key), dict):
            line = describe(raw[key])
            text = f"{line}\n{caption}" if caption else line
            return MessageKind.UNSUPPORTED, text, (), {"raw_type": key}
    raw_type = next((k for k in raw if k not in _ENVELOPE_KEYS), None)
    return MessageKind.UNSUPPORTED, caption, (), {"raw_type": raw_type}


def _poll_text(poll: Mapping[str, Any]) -> str | None:
    question = nonempty_str(poll.get("question"))
    options = poll.get("options") if isinstance(poll.get("options"), list) else []
    lines = [f"- {o['text']}" for o in options if isinstance(o, dict) and nonempty_str(o.get("text"))]
    if question is None:
        return None
    return "\n".join([f"Poll: {question}", *lines])


def _chat_label(chat: Any) -> str:
    return (_display_name(chat) if isinstance(chat, dict) else None) or "a chat"


def _story_text(story: Mapping[str, Any]) -> str:
    return f"Shared a story from {_chat_label(story.get('chat'))}"


def _giveaway_text(giveaway: Mapping[str, Any]) -> str:
    chats = giveaway.get("chats") if isinstance(giveaway.get("chats"), list) else []
    names = ", ".join(_chat_label(c) for c in chats) or "a channel"
    prize = nonempty_str(giveaway.get("prize_description"))
    return f"Giveaway by {names}" + (f": {prize}" if prize else "")


def _giveaway_winners_text(winners: Mapping[str, Any]) -> str:
    people = winners.get("winners") if isinstance(winners.get("winners"), list) else []
    names = ", ".join(n for n in (_display_name(p) for p in people if isinstance(p, dict)) if n)
    return f"Giveaway winners in {_chat_label(winners.get('chat'))}" + (f": {names}" if names else "")


def _paid_media_text(paid: Mapping[str, Any]) -> str:
    items = paid.get("paid_media") if isinstance(paid.get("paid_media"), list) else []
    stars = _int(paid.get("star_count"))
    return f"Paid media ({len(items)} item{'s' if len(items) != 1 else ''}" + (
        f", {stars} Telegram Stars)" if stars is not None else ")"
    )


# Content the bot cannot show but the agent should read about (Bot API 7.0+): a line each.
_DESCRIBED = {
    "story": _story_text,
    "giveaway": _giveaway_text,
    "giveaway_winners": _giveaway_winners_text,
    "paid_media": _paid_media_text,
}


def _text_metadata(raw: dict[str, Any], bot_username: str | None) -> dict[str, Any]:
    text: str = raw["text"]
    metadata: dict[str, Any] = {}
    entities = raw.get("entities") if isinstance(raw.get("entities"), list) else []
    # A command is a bot_command entity at offset 0 (offsets count UTF-16 units; a command is
    # ASCII, so at offset 0 they match Python's); without entities, the text's own shape.
    is_command = any(
        isinstance(e, dict) and e.get("type") == "bot_command" and e.get("offset") == 0 for e in entities
    ) or (not entities and text.startswith("/"))
    match = _COMMAND_RE.match(text) if is_command else None
    if match:
        metadata["command"] = match.group(1).lower()
        if match.group(2):
            metadata["command_bot"] = match.group(2)
        if match.group(3) and match.group(3).strip():
            metadata["command_args"] = match.group(3).strip()  # /start's deep-link payload
    if bot_username and f"@{bot_username}" in text.lower():
        metadata["mentioned"] = True
    return metadata


def _largest(sizes: list[Any]) -> dict[str, Any] | None:
    """The biggest PhotoSize: by pixels, then bytes (Telegram lists them smallest first, but
    nothing promises it)."""
    candidates = [s for s in sizes if isinstance(s, dict) and nonempty_str(s.get("file_id"))]
    if not candidates:
        return None
    return max(
        candidates,
        key=lambda s: (
            (_int(s.get("width")) or 0) * (_int(s.get("height")) or 0),
            _int(s.get("file_size")) or 0,
        ),
    )


def _media(key: str, kind: MessageKind, media: dict[str, Any], caption: str | None) -> Content:
    mime = nonempty_str(media.get("mime_type"))
    if key == "sticker":
        mime = (
            "application/x-tgsticker"
            if media.get("is_animated")
            else "video/webm"
            if media.get("is_video")
            else "image/webp"
        )
    attachment = Attachment(
        kind=kind,
        media_id=nonempty_str(media.get("file_id")),
        mime_type=mime,
        filename=nonempty_str(media.get("file_name")),
        size=_int(media.get("file_size")),
    )
    metadata: dict[str, Any] = {"telegram_type": key}
    if key == "voice":
        metadata["voice"] = True
    if _int(media.get("duration")) is not None:
        metadata["duration"] = media["duration"]
    text = caption
    if key == "sticker" and text is None:
        text = nonempty_str(media.get("emoji"))  # a sticker's emoji is the closest thing it has to text
    return kind, text, (attachment,), metadata


def _location_text(location: Mapping[str, Any]) -> str:
    place = ", ".join(str(location[k]) for k in ("name", "address") if location.get(k))
    coords = f"{location.get('latitude')}, {location.get('longitude')}"
    return f"Location: {place} ({coords})" if place else f"Location: {coords}"


def _edit(raw: dict[str, Any]) -> MessageEdit | None:
    chat = raw.get("chat") if isinstance(raw.get("chat"), dict) else {}
    message_id = _int(raw.get("message_id"))
    if _int(chat.get("id")) is None or message_id is None or _person(raw.get("from")) is None:
        return None
    if isinstance(raw.get("location"), dict):
        return None  # a live location moving: not a change of what the customer wrote
    text = raw["text"] if isinstance(raw.get("text"), str) else nonempty_str(raw.get("caption"))
    occurred_at = _ts(raw.get("edit_date")) or _ts(raw.get("date")) or datetime.now(UTC)
    return MessageEdit(platform_message_id=_id(chat["id"], message_id), occurred_at=occurred_at, text=text)


def _callback(query: dict[str, Any], update_id: int) -> InboundMessage | None:
    user = _person(query.get("from"))
    data = query.get("data")
    if user is None or not isinstance(data, str):
        return None  # a game button (game_short_name) has no payload for us
    message = query.get("message") if isinstance(query.get("message"), dict) else {}
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    chat_id = chat.get("id") if _int(chat.get("id")) is not None else user["id"]
    message_id = _int(message.get("message_id"))
    title = _button_title(message, data)
    query_id = nonempty_str(query.get("id"))
    return InboundMessage(
        platform_message_id=f"callback:{query_id}" if query_id else f"update:{update_id}",
        sender_id=str(user["id"]),
        # A callback query carries no time of its own; it is delivered as it happens.
        sent_at=datetime.now(UTC),
        kind=MessageKind.POSTBACK,
        text=title if title is not None else data,
        sender_name=_name(user),
        reply_address=_reply_address(chat_id, user["id"]),
        reply_to_platform_id=_id(chat_id, message_id) if message_id is not None else None,
        metadata={**_user_metadata(user, chat), "payload": data},
    )


def _button_title(message: Mapping[str, Any], data: str) -> str | None:
    markup = message.get("reply_markup")
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    for row in rows if isinstance(rows, list) else []:
        for button in row if isinstance(row, list) else []:
            if (
                isinstance(button, dict)
                and button.get("callback_data") == data
                and nonempty_str(button.get("text"))
            ):
                return button["text"]
    return None


def _reaction_emoji(reaction: Any) -> str | None:
    if not isinstance(reaction, dict):
        return None
    if reaction.get("type") == "custom_emoji" and nonempty_str(reaction.get("custom_emoji_id")):
        return f"custom_emoji:{reaction['custom_emoji_id']}"
    if reaction.get("type") == "paid":
        return "⭐"  # a paid (Telegram Stars) reaction
    return nonempty_str(reaction.get("emoji"))


def _reaction(raw: dict[str, Any], update_id: int) -> InboundMessage | None:
    user = _person(raw.get("user"))
    chat = raw.get("chat") if isinstance(raw.get("chat"), dict) else {}
    message_id = _int(raw.get("message_id"))
    if user is None or _int(chat.get("id")) is None or message_id is None:
        return None  # anonymous (actor_chat) reactions have no person to file them under
    new = [e for e in (_reaction_emoji(r) for r in raw.get("new_reaction") or []) if e]
    old = [e for e in (_reaction_emoji(r) for r in raw.get("old_reaction") or []) if e]
    added = [e for e in new if e not in old]
    # Telegram sends the whole new set; the emoji shown is the one just added, else what is left.
    emoji = added[-1] if added else (new[-1] if new else "")
    date = _int(raw.get("date"))
    if date is None:
        key = f"update:{update_id}"  # no time to make the id from: the update's own id is stable
    else:
        digest = hashlib.sha256(orjson.dumps(new)).hexdigest()[:16]
        key = f"reaction:{chat['id']}:{message_id}:{user['id']}:{date}:{digest}"
    metadata: dict[str, Any] = {
        **_user_metadata(user, chat),
        "emoji": emoji,
        "target_platform_id": _id(chat["id"], message_id),
    }
    if len(new) > 1:
        metadata["emojis"] = new
    return InboundMessage(
        platform_message_id=key,
        sender_id=str(user["id"]),
        sent_at=_ts(date) or datetime.now(UTC),
        kind=MessageKind.REACTION,
        text=emoji or None,
        sender_name=_name(user),
        reply_address=_reply_address(chat["id"], user["id"]),
        reply_to_platform_id=_id(chat["id"], message_id),
        metadata=metadata,
    )


# ---- sending helpers ------------------------------------------------------------------------------


def _chat_id(recipient: str) -> int | str:
    recipient = str(recipient).strip()
    if _CHAT_ID_RE.match(recipient):
        return int(recipient)
    if re.match(r"^@[A-Za-z][A-Za-z0-9_]{4,31}$", recipient):
        return recipient  # a public channel or group by its @username
    raise SendError(
        "bad_recipient",
        f"{recipient!r} is not a Telegram chat id; the customer has to write to the bot first.",
        retryable=False,
    )


def _send_body(message: OutboundMessage, chat_id: int | str) -> tuple[str, dict[str, Any]]:
    text = message.text or ""
    # No parse_mode: the agent's text goes out literally, so "<" or "*" can never be refused
    # as broken formatting ("can't parse entities").
    body: dict[str, Any] = {"chat_id": chat_id}
    if message.attachments:
        if len(message.attachments) > 1:
            raise SendError(
                "too_many_attachments", "Telegram sends one attachment per message.", retryable=False
            )
        attachment = message.attachments[0]
        if attachment.kind not in _SEND_METHODS:
            raise SendError(
                "unsupported_kind",
                f"Telegram cannot send {attachment.kind.value} attachments by URL.",
                retryable=False,
            )
        if not attachment.url or not attachment.url.startswith(("https://", "http://")):
            raise SendError(
                "attachment_url",
                "The attachment has no public http(s) URL for Telegram to fetch.",
                retryable=False,
            )
        method, field = _SEND_METHODS[attachment.kind]
        body[field] = attachment.url
        if text.strip():
            if attachment.kind is MessageKind.STICKER:
                raise SendError("caption_not_allowed", "Telegram stickers carry no caption.", retryable=False)
            if len(text) > MAX_CAPTION:
                raise SendError(
                    "too_long",
                    f"The caption is {len(text)} characters long; Telegram allows at most {MAX_CAPTION} "
                    "with an attachment. Send the text as a message of its own.",
                    retryable=False,
                )
            body["caption"] = text
    elif message.kind is MessageKind.TEXT:
        if not text.strip():
            raise SendError("empty", "The message has no text to send.", retryable=False)
        if len(text) > MAX_TEXT_LENGTH:
            raise SendError(
                "too_long",
                f"The text is {len(text)} characters long; Telegram allows at most {MAX_TEXT_LENGTH}.",
                retryable=False,
            )
        method = "sendMessage"
        body["text"] = text
    else:
        raise SendError(
            "unsupported_kind",
            f"Sending {message.kind.value} messages to Telegram is not supported.",
            retryable=False,
        )
    if message.buttons:
        body["reply_markup"] = {"inline_keyboard": _keyboard(message.buttons)}
    reply_to = _reply_to(message.reply_to_platform_id, chat_id)
    if reply_to is not None:
        # If the message was deleted meanwhile, send anyway rather than fail the answer.
        body["reply_parameters"] = {"message_id": reply_to, "allow_sending_without_reply": True}
    return method, body


def _reply_to(platform_id: str | None, chat_id: int | str) -> int | None:
    """The message id to quote, when `platform_id` (chat:message) is in the chat we send to."""
    if not platform_id or ":" not in platform_id:
        return None
    chat, _, message_id = platform_id.rpartition(":")
    if chat != str(chat_id) or not message_id.isdigit():
        return None
    return int(message_id)


def _keyboard(buttons: tuple[Button, ...]) -> list[list[dict[str, str]]]:
    """One button per row: titles stay readable on a phone. Reply buttons return their id as
    callback_data (at most 64 bytes, refused rather than cut, since a cut id matches nothing)."""
    if len(buttons) > MAX_BUTTONS:
        raise SendError("buttons", f"Telegram keyboards hold at most {MAX_BUTTONS} buttons.", retryable=False)
    rows = []
    for button in buttons:
        if not button.title.strip():
            raise SendError("buttons", "Every Telegram button needs a title.", retryable=False)
        if button.url:
            if not button.url.startswith(("https://", "http://", "tg://")):
                raise SendError(
                    "buttons",
                    f"The link button {button.title!r} needs an http(s) or tg:// URL.",
                    retryable=False,
                )
            rows.append([{"text": button.title, "url": button.url}])
            continue
        if not button.id or len(button.id.encode()) > MAX_CALLBACK_DATA:
            raise SendError(
                "buttons",
                f"The button {button.title!r} has an id of {len(button.id.encode())} bytes; Telegram "
                f"allows 1 to {MAX_CALLBACK_DATA}.",
                retryable=False,
            )
        rows.append([{"text": button.title, "callback_data": button.id}])
    return rows


class _Migrated(SendError):
    """400 with parameters.migrate_to_chat_id: the group now lives under another id. `send`
    follows it; anywhere else it is a permanent error like any other."""

    def __init__(self, chat_id: int):
        super().__init__(
            "400",
            f"The group was upgraded to a supergroup and now has the id {chat_id}.",
            retryable=False,
        )
        self.chat_id = chat_id


async def _call(
    http: httpx.AsyncClient, channel: ChannelCredentials, method: str, body: dict[str, Any]
) -> Any:
    """POST one Bot API method; its `result`, or SendError mapped from Telegram's error."""
    api_base = str(channel.config.get("api_base") or DEFAULT_API_BASE).rstrip("/")
    token = (channel.secrets.get("bot_token") or "").strip()
    if not token:
        raise SendError(
            "401",
            "The channel has no bot token; add the one from @BotFather in the channel settings.",
            retryable=False,
            affects_channel=True,
        )
    # The token is in the URL: `call` keeps URLs out of its reasons and logs.
    reply = await call(http, "Telegram", f"{api_base}/bot{token}/{method}", json=body)
    data = reply.body
    if reply.ok and data.get("ok") is True and "result" in data:
        return data["result"]
    error = _error(reply)
    log.warning(
        "telegram call failed",
        extra={
            "channel_id": channel.channel_id,
            "method": method,
            "http_status": reply.status,
            "error_code": data.get("error_code"),
            "description": data.get("description"),
        },
    )
    raise error


def _error(reply: Reply) -> Exception:
    status, data = reply.status, reply.body
    code = _int(data.get("error_code")) or status
    description = nonempty_str(data.get("description")) or f"HTTP {status}"
    lowered = description.lower()
    parameters = data.get("parameters") if isinstance(data.get("parameters"), dict) else {}
    if code == 429 or status == 429:
        retry_after = parameters.get("retry_after")
        if not isinstance(retry_after, int | float) or isinstance(retry_after, bool):
            retry_after = reply.retry_after()
        wait = f" for {int(retry_after)} seconds" if retry_after is not None else ""
        return SendError(
            "429",
            f"Telegram is limiting how fast this bot sends{wait}; it will be retried.",
            retryable=True,
            retry_after=float(retry_after) if retry_after is not None else None,
            throttled=True,
        )
    if code >= 500 or status >= 500:
        return SendError(
            str(code), f"Telegram had a problem ({description}); it will be retried.", retryable=True
        )
    if code == 400 and _int(parameters.get("migrate_to_chat_id")) is not None:
        return _Migrated(parameters["migrate_to_chat_id"])
    if code in (401, 404):
        # 401 for a revoked token; 404 when the token is malformed (the path names no bot).
        return SendError(
            str(code),
            "Telegram refused the bot token: it may have been revoked in @BotFather. Update it in the channel settings.",
            retryable=False,
            affects_channel=True,
        )
    if code == 403:
        reason = next((human for key, human in _FORBIDDEN_REASONS if key in lowered), None)
        return SendError("403", reason or f"Telegram refused to deliver: {description}", retryable=False)
    if code == 409:
        return SendError(
            "409",
            f"Telegram reported a conflict with another use of this bot: {description}",
            retryable=False,
            affects_channel=True,
        )
    reason = next((human for key, human in _BAD_REQUEST_REASONS if key in lowered), None)
    return SendError(str(code), reason or f"Telegram refused the message: {description}", retryable=False)


telegram = TelegramConnector()
