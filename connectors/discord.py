"""Discord: Interactions over HTTP (Ed25519), Gateway dispatches, sending over REST.

Users' messages do not arrive by webhook: they come over the Gateway WebSocket, which
`ingress/discord_gateway_runner.py` keeps open (with `connectors/discord_gateway.py`) and feeds through
`parse_gateway_dispatch`. Only interactions (slash commands, button presses) are POSTed to the
webhook endpoint; Discord checks the endpoint with a PING and with deliberately forged signatures,
so `verify` must refuse anything not signed by the application's key.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

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
    load_json,
    nonempty_str,
)
from connectors.http import Reply, call, sent_id

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://discord.com"
DEFAULT_GATEWAY_URL = "wss://gateway.discord.gg"
API_VERSION = "v10"
MAX_TEXT_LENGTH = 2000
REPLAY_WINDOW = 300  # seconds between X-Signature-Timestamp and now, either way
DISCORD_EPOCH_MS = 1420070400000

# Gateway intents (https://discord.com/developers/docs/events/gateway#gateway-intents).
GUILD_MESSAGES = 1 << 9
GUILD_MESSAGE_REACTIONS = 1 << 10
DIRECT_MESSAGES = 1 << 12
DIRECT_MESSAGE_REACTIONS = 1 << 13
MESSAGE_CONTENT = 1 << 15  # privileged: without it `content` arrives empty
DEFAULT_INTENTS = (
    GUILD_MESSAGES | DIRECT_MESSAGES | MESSAGE_CONTENT | GUILD_MESSAGE_REACTIONS | DIRECT_MESSAGE_REACTIONS
)

# The acknowledgement a slash command gets within Discord's 3 s, shown only to its author
# (flags 64 = ephemeral); the agent's answer follows later as an ordinary message.
DEFAULT_COMMAND_REPLY = "Thanks, we got your message. Someone from our team will answer here shortly."
EPHEMERAL = 64

_SNOWFLAKE_RE = re.compile(r"^\d{15,21}$")
_HEX_KEY_RE = re.compile(r"^[0-9a-fA-F]{64}$")
_SIGNATURE_RE = re.compile(r"^[0-9a-fA-F]{128}$")

# Interaction types.
_PING, _COMMAND, _COMPONENT, _AUTOCOMPLETE, _MODAL = 1, 2, 3, 4, 5
# Interaction response types.
_PONG, _MESSAGE, _DEFERRED_UPDATE, _AUTOCOMPLETE_RESULT = 1, 4, 6, 8
# Message types that carry something a person wrote: DEFAULT and REPLY (joins, pins, boosts... do not).
_USER_MESSAGE_TYPES = frozenset({0, 19})

REASONS: dict[int, str] = {
    50007: "Discord does not let the bot message this person: they may have closed direct messages from server members, blocked the bot, or no longer share a server with it.",
    50001: "The bot has no access to this Discord channel: it may have been removed from the server, or cannot see the channel.",
    50013: "The bot lacks permission to send messages in this Discord channel; a server admin must grant it Send Messages.",
    10003: "This Discord channel no longer exists, or the bot cannot see it.",
    10013: "This Discord user does not exist.",
    40005: "The message is too large for Discord.",
    50006: "Discord refuses to send an empty message.",
    20016: "The Discord channel is in slow mode; the message will be retried.",
    20028: "The Discord channel is being written to too fast; the message will be retried.",
}
_RETRYABLE_CODES = frozenset({20016, 20028})
# Trouble with the bot or its server membership rather than with one conversation.
_CHANNEL_CODES = frozenset({50001, 50013})


class DiscordConnector:
    platform = Platform.DISCORD
    max_text_length = MAX_TEXT_LENGTH
    capabilities = Capabilities(
        reply_window=None,
        can_initiate=False,  # bots may only answer people who wrote to them
        media=True,
        buttons=True,
        delivery_statuses=False,
        read_statuses=False,
        edits=True,
    )
    secret_names = ("bot_token",)
    generated_secrets = ()  # Discord issues the bot token and the key pair

    # ---- configuration ----------------------------------------------------------------------

    def validate_config(self, config: Mapping[str, Any], secrets: Mapping[str, str]) -> list[str]:
        problems: list[str] = []
        application_id = config.get("application_id")
        if not application_id:
            problems.append("The application ID (application_id) is required.")
        elif not isinstance(application_id, str) or not _SNOWFLAKE_RE.match(application_id):
            problems.append(
                "The application ID (application_id) must be the numeric ID shown in the Discord "
                "Developer Portal, given as a string of digits."
            )
        public_key = config.get("public_key")
        if not public_key:
            problems.append("The application's public key (public_key) is required.")
        elif not isinstance(public_key, str) or not _HEX_KEY_RE.match(public_key):
            problems.append(
                "The public key (public_key) must be the 64 hexadecimal characters shown in the "
                "Discord Developer Portal."
            )
        api_base = config.get("api_base", DEFAULT_API_BASE)
        if not isinstance(api_base, str) or not api_base.startswith(("https://", "http://")):
            problems.append("The API base URL (api_base) must start with https:// or http://.")
        gateway_url = config.get("gateway_url", DEFAULT_GATEWAY_URL)
        if not isinstance(gateway_url, str) or not gateway_url.startswith(("wss://", "ws://")):
            problems.append("The gateway URL (gateway_url) must start with wss:// or ws://.")
        intents = config.get("intents", DEFAULT_INTENTS)
        if isinstance(intents, bool) or not isinstance(intents, int) or intents < 0:
            problems.append("The gateway intents (intents) must be a non-negative whole number.")
        elif not intents & MESSAGE_CONTENT:
            problems.append(
                "The gateway intents (intents) must include MESSAGE_CONTENT (32768), or messages "
                "arrive without their text."
            )
        channels = config.get("guild_channel_ids")
        if channels is not None and not (
            isinstance(channels, list) and all(isinstance(c, str) and c.isdigit() for c in channels)
        ):
            problems.append(
                "The optional guild_channel_ids must be a list of channel IDs (strings of digits)."
            )
        reply = config.get("command_reply")
        if reply is not None and not (isinstance(reply, str) and 0 < len(reply) <= MAX_TEXT_LENGTH):
            problems.append(
                f"The optional command reply (command_reply) must be text of 1 to {MAX_TEXT_LENGTH} characters."
            )
        if not (secrets.get("bot_token") or "").strip():
            problems.append("The bot token (bot_token) is required.")
        return problems

    # ---- interactions (HTTP) ----------------------------------------------------------------

    def handshake(self, request: WebhookRequest, channel: ChannelCredentials) -> HandshakeReply | None:
        # Discord's endpoint check is a *signed* PING: it goes through verify and parse like the rest.
        return None

    def verify(self, request: WebhookRequest, channel: ChannelCredentials, *, now: float) -> bool:
        key = _public_key(str(channel.config.get("public_key") or ""))
        signature = request.header("x-signature-ed25519") or ""
        timestamp = request.header("x-signature-timestamp") or ""
        if key is None or not _SIGNATURE_RE.match(signature) or not timestamp.isdigit():
            return False
        if abs(now - int(timestamp)) > REPLAY_WINDOW:
            return False  # a captured request replayed later
        try:
            key.verify(bytes.fromhex(signature), timestamp.encode() + request.body)
        except InvalidSignature:
            return False
        return True

    def parse(self, request: WebhookRequest, channel: ChannelCredentials) -> ParsedWebhook:
        data = load_json(request.body)
        if (
            not isinstance(data, dict)
            or isinstance(data.get("type"), bool)
            or not isinstance(data.get("type"), int)
        ):
            raise MalformedPayload("an interaction must be a JSON object with an integer type")
        kind = data["type"]
        if kind == _PING:
            return ParsedWebhook(reply=_json_reply({"type": _PONG}))
        if kind == _AUTOCOMPLETE:
            # We offer no suggestions; answering keeps the user's client from showing an error.
            return ParsedWebhook(reply=_json_reply({"type": _AUTOCOMPLETE_RESULT, "data": {"choices": []}}))
        if kind not in (_COMMAND, _COMPONENT, _MODAL):
            raise MalformedPayload(f"unknown interaction type {kind}")
        interaction_id = nonempty_str(data.get("id"))
        user = _interaction_user(data)
        body = data.get("data") if isinstance(data.get("data"), dict) else None
        if interaction_id is None or user is None or body is None:
            raise MalformedPayload("an interaction needs an id, a user and data")
        channel_info = data.get("channel") if isinstance(data.get("channel"), dict) else {}
        base: dict[str, Any] = {
            "platform_message_id": interaction_id,  # snowflakes are unique across Discord
            "sender_id": user["id"],
            "sender_name": _display_name(user),
            "sent_at": _snowflake_time(interaction_id) or datetime.now(UTC),
            "reply_address": nonempty_str(data.get("channel_id")) or nonempty_str(channel_info.get("id")),
        }
        guild = {"guild_id": data["guild_id"]} if nonempty_str(data.get("guild_id")) else {}
        if kind == _COMPONENT:
            message = _component_message(data, body, base, guild)
            # Acknowledge without changing the message the button is on.
            return ParsedWebhook(messages=(message,), reply=_json_reply({"type": _DEFERRED_UPDATE}))
        message = (
            _command_message(body, base, guild) if kind == _COMMAND else _modal_message(body, base, guild)
        )
        reply = str(channel.config.get("command_reply") or DEFAULT_COMMAND_REPLY)
        ack = _json_reply({"type": _MESSAGE, "data": {"content": reply, "flags": EPHEMERAL}})
        return ParsedWebhook(messages=(message,), reply=ack)

    # ---- sending ------------------------------------------------------------------------------

    async def send(
        self, http: httpx.AsyncClient, channel: ChannelCredentials, message: OutboundMessage
    ) -> SendResult:
        payload = _send_body(message)
        api = f"{_api_base(channel)}/api/{API_VERSION}"
        auth = {"Authorization": f"Bot {channel.secrets.get('bot_token', '')}"}

        async def post(path: str, body: dict[str, Any]) -> Reply:
            return await call(http, "Discord", f"{api}{path}", json=body, headers=auth)

        reply = await post(f"/channels/{message.recipient_id}/messages", payload)
        if _error_code(reply) == 10003 and _SNOWFLAKE_RE.match(message.recipient_id):
            # The address may be a user rather than a channel (an identity known before its DM
            # channel was): open the DM channel and send there.
            dm = await post("/users/@me/channels", {"recipient_id": message.recipient_id})
            dm_id = dm.body.get("id") if dm.ok else None
            if isinstance(dm_id, str) and dm_id:
                reply = await post(f"/channels/{dm_id}/messages", payload)
        if not reply.ok:
            raise _send_error(reply, channel.channel_id)
        return SendResult(platform_message_id=sent_id(reply.body.get("id"), "Discord", accepted="message"))


# ---- the Gateway --------------------------------------------------------------------------------


def parse_gateway_dispatch(payload: Mapping[str, Any], channel: ChannelCredentials) -> ParsedWebhook:
    """One Gateway dispatch (`{op: 0, t, s, d}`) as messages and edits. Events that carry nothing
    for the inbox (READY, typing, guild updates, bots' and our own messages) give an empty result."""
    event = payload.get("t")
    data = payload.get("d")
    if not isinstance(event, str) or not isinstance(data, dict):
        return ParsedWebhook()
    if not _in_scope(data, channel):
        return ParsedWebhook()
    if event == "MESSAGE_CREATE":
        message = _gateway_message(data, channel)
        return ParsedWebhook(messages=(message,)) if message else ParsedWebhook()
    if event == "MESSAGE_UPDATE":
        return _gateway_edit(data, channel)
    if event == "MESSAGE_DELETE":
        message_id = nonempty_str(data.get("id"))
        if message_id is None:
            return ParsedWebhook()
        # Only inbound messages are ever marked deleted (resolvers.inbound.apply_edit), so the
        # deletion of one of our own messages changes nothing.
        return ParsedWebhook(
            edits=(MessageEdit(platform_message_id=message_id, occurred_at=datetime.now(UTC), deleted=True),)
        )
    if event in ("MESSAGE_REACTION_ADD", "MESSAGE_REACTION_REMOVE"):
        reaction = _gateway_reaction(event, data, payload.get("s"), channel)
        return ParsedWebhook(messages=(reaction,)) if reaction else ParsedWebhook()
    return ParsedWebhook()


def gateway_intents(channel: ChannelCredentials) -> int:
    intents = channel.config.get("intents", DEFAULT_INTENTS)
    return intents if isinstance(intents, int) and not isinstance(intents, bool) else DEFAULT_INTENTS


def gateway_url(channel: ChannelCredentials) -> str:
    return str(channel.config.get("gateway_url") or DEFAULT_GATEWAY_URL)


def _in_scope(data: Mapping[str, Any], channel: ChannelCredentials) -> bool:
    """Direct messages always; guild messages only from the listed channels, when a list is set
    (a bot in a busy server would otherwise file every chat line as a customer message)."""
    allowed = channel.config.get("guild_channel_ids")
    if not allowed or not nonempty_str(data.get("guild_id")):
        return True
    return str(data.get("channel_id")) in {str(c) for c in allowed}


def _is_ours_or_bot(author: Mapping[str, Any] | None, channel: ChannelCredentials) -> bool:
    if not isinstance(author, Mapping):
        return True
    own = str(channel.config.get("application_id") or "")
    return bool(author.get("bot")) or bool(author.get("system")) or (bool(own) and author.get("id") == own)


def _gateway_message(data: dict[str, Any], channel: ChannelCredentials) -> InboundMessage | None:
    author = data.get("author")
    message_id = nonempty_str(data.get("id"))
    if _is_ours_or_bot(author, channel) or data.get("webhook_id") or message_id is None:
        return None
    assert isinstance(author, Mapping)
    sender_id = nonempty_str(author.get("id"))
    if sender_id is None or data.get("type", 0) not in _USER_MESSAGE_TYPES:
        return None
    text = data.get("content") if isinstance(data.get("content"), str) and data.get("content") else None
    attachments = tuple(_attachment(a) for a in data.get("attachments") or [] if isinstance(a, dict))
    metadata: dict[str, Any] = {}
    if nonempty_str(data.get("guild_id")):
        metadata["guild_id"] = data["guild_id"]
    reference = data.get("message_reference") if isinstance(data.get("message_reference"), dict) else {}
    reply_to = None
    if reference.get("type", 0) == 1:  # FORWARD: the content lives in the snapshot
        metadata["forwarded"] = True
        snapshots = data.get("message_snapshots") or []
        snapshot = snapshots[0].get("message") if snapshots and isinstance(snapshots[0], dict) else None
        if isinstance(snapshot, dict):
            text = text or nonempty_str(snapshot.get("content"))
            attachments += tuple(
                _attachment(a) for a in snapshot.get("attachments") or [] if isinstance(a, dict)
            )
    else:
        reply_to = nonempty_str(reference.get("message_id"))
    stickers = [s for s in data.get("sticker_items") or [] if isinstance(s, dict)]
    if attachments:
        kind = attachments[0].kind
    elif stickers:
        kind = MessageKind.STICKER
        metadata["stickers"] = [{"id": s.get("id"), "name": s.get("name")} for s in stickers]
        text = text or f"Sticker: {stickers[0].get('name') or 'sticker'}"
    elif text is not None:
        kind = MessageKind.TEXT
    else:
        kind = MessageKind.UNSUPPORTED  # an embed-only or poll message: keep that it happened
        metadata["raw_type"] = data.get("type")
    return InboundMessage(
        platform_message_id=message_id,
        sender_id=sender_id,
        sender_name=_display_name(author),
        sent_at=_iso(data.get("timestamp")) or _snowflake_time(message_id) or datetime.now(UTC),
        kind=kind,
        text=text,
        reply_address=nonempty_str(data.get("channel_id")),
        reply_to_platform_id=reply_to,
        attachments=attachments,
        metadata=metadata,
    )


def _gateway_edit(data: dict[str, Any], channel: ChannelCredentials) -> ParsedWebhook:
    message_id = nonempty_str(data.get("id"))
    # Discord also sends MESSAGE_UPDATE when a link preview unfurls: no edited_timestamp, no edit.
    edited = _iso(data.get("edited_timestamp"))
    if message_id is None or edited is None or not isinstance(data.get("content"), str):
        return ParsedWebhook()
    if "author" in data and _is_ours_or_bot(data.get("author"), channel):
        return ParsedWebhook()
    return ParsedWebhook(
        edits=(MessageEdit(platform_message_id=message_id, occurred_at=edited, text=data["content"]),)
    )


def _gateway_reaction(
    event: str, data: dict[str, Any], seq: Any, channel: ChannelCredentials
) -> InboundMessage | None:
    user_id = nonempty_str(data.get("user_id"))
    target = nonempty_str(data.get("message_id"))
    member = data.get("member") if isinstance(data.get("member"), dict) else {}
    user = member.get("user") if isinstance(member.get("user"), dict) else {"id": user_id}
    own = str(channel.config.get("application_id") or "")
    if user_id is None or target is None or user.get("bot") or user_id == own:
        return None
    emoji = _emoji(data.get("emoji"))
    if emoji is None:
        return None
    added = event == "MESSAGE_REACTION_ADD"
    action = "add" if added else "remove"
    # Reactions have no id of their own. The sequence number is the same when a resumed session
    # replays the event (so the replay dedupes) and differs for a later add after a removal.
    synthetic = f"{target}:reaction:{user_id}:{emoji}:{action}" + (f":{seq}" if isinstance(seq, int) else "")
    metadata: dict[str, Any] = {"emoji": emoji if added else "", "target_platform_id": target}
    if not added:
        metadata["removed_emoji"] = emoji
    if nonempty_str(data.get("guild_id")):
        metadata["guild_id"] = data["guild_id"]
    return InboundMessage(
        platform_message_id=synthetic,
        sender_id=user_id,
        sender_name=_display_name(user),
        sent_at=datetime.now(UTC),  # the event carries no time: it is happening now
        kind=MessageKind.REACTION,
        text=emoji if added else None,
        reply_address=nonempty_str(data.get("channel_id")),
        reply_to_platform_id=target,
        metadata=metadata,
    )


# ---- parsing helpers ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _public_key(hex_key: str) -> Ed25519PublicKey | None:
    if not _HEX_KEY_RE.match(hex_key):
        return None
    try:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(hex_key))
    except ValueError:
        return None


def _json_reply(body: dict[str, Any]) -> HandshakeReply:
    return HandshakeReply(200, orjson.dumps(body).decode(), "application/json")


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _snowflake_time(snowflake: str | None) -> datetime | None:
    """Snowflakes carry their creation time in milliseconds since Discord's epoch (2015)."""
    if not snowflake or not snowflake.isdigit():
        return None
    return datetime.fromtimestamp(((int(snowflake) >> 22) + DISCORD_EPOCH_MS) / 1000, tz=UTC)


def _display_name(user: Mapping[str, Any]) -> str | None:
    return nonempty_str(user.get("global_name")) or nonempty_str(user.get("username"))


def _interaction_user(data: dict[str, Any]) -> dict[str, Any] | None:
    """In a server the user is inside `member`; in a DM it is `user`."""
    member = data.get("member") if isinstance(data.get("member"), dict) else {}
    user = member.get("user") if isinstance(member.get("user"), dict) else data.get("user")
    return user if isinstance(user, dict) and nonempty_str(user.get("id")) else None


def _command_message(body: dict[str, Any], base: dict[str, Any], guild: dict[str, Any]) -> InboundMessage:
    """A slash command, as the user typed it: "/ask question: Does it come in blue?"."""
    name = nonempty_str(body.get("name")) or "command"
    options = _flatten_options(body.get("options"))
    path = " ".join([name, *options["path"]])
    text = "/" + path + "".join(f" {k}: {v}" for k, v in options["values"].items())
    metadata = {
        "interaction": "application_command",
        "command": path,
        "command_id": body.get("id"),
        "options": options["values"],
        **guild,
    }
    return InboundMessage(kind=MessageKind.TEXT, text=text, metadata=metadata, **base)


def _component_message(
    data: dict[str, Any], body: dict[str, Any], base: dict[str, Any], guild: dict[str, Any]
) -> InboundMessage:
    """A button press (text = its label) or a select menu choice (text = the values)."""
    custom_id = nonempty_str(body.get("custom_id"))
    if custom_id is None:
        raise MalformedPayload("a component interaction needs data.custom_id")
    source = data.get("message") if isinstance(data.get("message"), dict) else {}
    values = [str(v) for v in body.get("values") or [] if isinstance(v, str | int)]
    title = ", ".join(values) if values else _button_label(source, custom_id) or custom_id
    metadata: dict[str, Any] = {"interaction": "message_component", "payload": custom_id, **guild}
    if values:
        metadata["values"] = values
    return InboundMessage(
        kind=MessageKind.POSTBACK,
        text=title,
        reply_to_platform_id=nonempty_str(source.get("id")),
        metadata=metadata,
        **base,
    )


def _modal_message(body: dict[str, Any], base: dict[str, Any], guild: dict[str, Any]) -> InboundMessage:
    """A submitted form. We open no modals ourselves, but if one arrives its text is kept."""
    fields = _modal_fields(body.get("components"))
    text = (
        "\n".join(f"{k}: {v}" for k, v in fields.items())
        or nonempty_str(body.get("custom_id"))
        or "Form submitted"
    )
    metadata = {"interaction": "modal_submit", "payload": body.get("custom_id"), "fields": fields, **guild}
    return InboundMessage(kind=MessageKind.TEXT, text=text, metadata=metadata, **base)


def _flatten_options(options: Any) -> dict[str, Any]:
    """Subcommand (group) names, and the option values by name, of a slash command."""
    path: list[str] = []
    values: dict[str, Any] = {}
    while isinstance(options, list) and options:
        nested = None
        for option in options:
            if not isinstance(option, dict) or not nonempty_str(option.get("name")):
                continue
            if option.get("type") in (1, 2):  # SUB_COMMAND, SUB_COMMAND_GROUP
                path.append(option["name"])
                nested = option.get("options")
            elif "value" in option:
                values[option["name"]] = option["value"]
        options = nested
    return {"path": path, "values": values}


def _button_label(message: Mapping[str, Any], custom_id: str) -> str | None:
    """The label of the pressed button, found on the message it belongs to."""
    for row in message.get("components") or []:
        for component in (row.get("components") or []) if isinstance(row, dict) else []:
            if isinstance(component, dict) and component.get("custom_id") == custom_id:
                return nonempty_str(component.get("label"))
    return None


def _modal_fields(rows: Any) -> dict[str, str]:
    fields: dict[str, str] = {}
    for row in rows if isinstance(rows, list) else []:
        inner = row.get("components") if isinstance(row, dict) else None
        items = inner if isinstance(inner, list) else [row.get("component")] if isinstance(row, dict) else []
        for item in items:
            if (
                isinstance(item, dict)
                and nonempty_str(item.get("custom_id"))
                and isinstance(item.get("value"), str)
            ):
                fields[item["custom_id"]] = item["value"]
    return fields


def _attachment(raw: dict[str, Any]) -> Attachment:
    mime = nonempty_str(raw.get("content_type"))
    major = (mime or "").split("/", 1)[0]
    kind = {"image": MessageKind.IMAGE, "video": MessageKind.VIDEO, "audio": MessageKind.AUDIO}.get(
        major, MessageKind.DOCUMENT
    )
    size = raw.get("size")
    return Attachment(
        kind=kind,
        media_id=nonempty_str(raw.get("id")),
        url=nonempty_str(raw.get("url")),
        mime_type=mime,
        filename=nonempty_str(raw.get("filename")),
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
    )


def _emoji(raw: Any) -> str | None:
    """A Unicode emoji as itself; a custom one in Discord's own markup, <:name:id>."""
    if not isinstance(raw, dict):
        return None
    name, emoji_id = nonempty_str(raw.get("name")), nonempty_str(raw.get("id"))
    if emoji_id:
        return f"<{'a' if raw.get('animated') else ''}:{name or 'emoji'}:{emoji_id}>"
    return name


# ---- sending helpers ------------------------------------------------------------------------------


def _api_base(channel: ChannelCredentials) -> str:
    return str(channel.config.get("api_base") or DEFAULT_API_BASE).rstrip("/")


def _nonce(key: str) -> str:
    """Discord drops a second message with the same nonce (enforce_nonce) for a few minutes, so a
    retry after a timeout cannot post twice. Nonces are at most 25 characters."""
    return key if 0 < len(key) <= 25 else hashlib.sha256(key.encode()).hexdigest()[:25]


def _send_body(message: OutboundMessage) -> dict[str, Any]:
    text = message.text or ""
    if len(text) > MAX_TEXT_LENGTH:
        raise SendError(
            "too_long",
            f"The text is {len(text)} characters long; Discord allows at most {MAX_TEXT_LENGTH}.",
            retryable=False,
        )
    body: dict[str, Any] = {
        "allowed_mentions": {"parse": []},  # an agent's "@everyone" must not ping a whole server
        "nonce": _nonce(message.idempotency_key),
        "enforce_nonce": True,
    }
    if message.kind is MessageKind.TEXT:
        if not text.strip():
            raise SendError("EMPTY_TEXT", "The message has no text to send.", retryable=False)
    elif message.kind in (MessageKind.IMAGE, MessageKind.VIDEO, MessageKind.AUDIO, MessageKind.DOCUMENT):
        body["embeds"] = _embeds(message)
    else:
        raise SendError(
            "UNSUPPORTED_KIND",
            f"Sending {message.kind.value} messages to Discord is not supported.",
            retryable=False,
        )
    if text:
        body["content"] = text
    if message.buttons:
        body["components"] = _components(message.buttons)
    if message.reply_to_platform_id:
        # A reply to a message deleted since must still go out, as a plain message.
        body["message_reference"] = {"message_id": message.reply_to_platform_id, "fail_if_not_exists": False}
    return body


def _embeds(message: OutboundMessage) -> list[dict[str, Any]]:
    if not message.attachments:
        raise SendError("MEDIA_MISSING", "The media message has no attachment to send.", retryable=False)
    if len(message.attachments) > 10:
        raise SendError(
            "TOO_MANY_ATTACHMENTS", "Discord allows at most 10 attachments per message.", retryable=False
        )
    embeds = []
    for attachment in message.attachments:
        if not attachment.url:
            raise SendError(
                "MEDIA_URL_REQUIRED", "Discord can only send media given by a public URL.", retryable=False
            )
        if attachment.kind is MessageKind.IMAGE:
            embeds.append({"image": {"url": attachment.url}})
        else:  # Discord embeds only show images; other files become a link to open
            title = attachment.filename or attachment.kind.value.capitalize()
            embeds.append({"title": title[:256], "url": attachment.url})
    return embeds


def _components(buttons: tuple[Button, ...]) -> list[dict[str, Any]]:
    if len(buttons) > 25:
        raise SendError(
            "TOO_MANY_BUTTONS", "Discord allows at most 25 buttons on a message.", retryable=False
        )
    rendered = []
    for button in buttons:
        item: dict[str, Any] = {"type": 2, "label": button.title[:80]}
        if button.url:
            item.update(style=5, url=button.url)  # LINK buttons open the URL and send us nothing
        else:
            item.update(style=1, custom_id=button.id[:100])
        rendered.append(item)
    # Five buttons to an action row, at most five rows.
    return [{"type": 1, "components": rendered[i : i + 5]} for i in range(0, len(rendered), 5)]


def _error_code(reply: Reply) -> int | None:
    if reply.ok:
        return None
    code = reply.body.get("code")
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def _retry_after(reply: Reply) -> float | None:
    """Discord's JSON `retry_after` (float seconds) is more precise than the header; either will do."""
    value = reply.body.get("retry_after")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return max(0.0, float(value))
    return reply.retry_after()


def _send_error(reply: Reply, channel_id: int) -> SendError:
    status, data = reply.status, reply.body
    code = _error_code(reply)
    message = nonempty_str(data.get("message"))
    log.warning(
        "discord send failed",
        extra={"channel_id": channel_id, "http_status": status, "code": code, "details": message},
    )
    if status == 429:
        scope = "the whole bot" if data.get("global") else "this channel"
        return SendError(
            "429",
            f"Discord is rate limiting {scope}; the message will be retried.",
            retryable=True,
            retry_after=_retry_after(reply),
            throttled=True,
        )
    if status == 401:
        return SendError(
            "401",
            "Discord refused the bot token: it is wrong or was reset. Paste the current token into the channel settings.",
            retryable=False,
            affects_channel=True,
        )
    retryable = code in _RETRYABLE_CODES or status >= 500
    reason = REASONS.get(code) if code is not None else None
    if reason is None:
        reason = (
            f"Discord refused the message: {message}."
            if message
            else f"Discord refused the message (HTTP {status})."
        )
        if code == 50035 and isinstance(data.get("errors"), dict):
            reason = f"Discord refused the message as invalid: {_form_errors(data['errors'])}."
    return SendError(
        str(code) if code is not None else f"HTTP_{status}",
        reason,
        retryable=retryable,
        retry_after=_retry_after(reply) if retryable else None,
        affects_channel=code in _CHANNEL_CODES,
    )


def _form_errors(errors: dict[str, Any], path: str = "") -> str:
    """Discord's nested `errors` of a 50035 as "field: message" pairs."""
    found: list[str] = []
    for key, value in errors.items():
        if key == "_errors" and isinstance(value, list):
            found += [f"{path or 'body'}: {e.get('message')}" for e in value if isinstance(e, dict)]
        elif isinstance(value, dict):
            found.append(_form_errors(value, f"{path}.{key}" if path else key))
    return "; ".join(f for f in found if f)


discord = DiscordConnector()
