"""WeChat Official Accounts (plaintext mode): the signed GET handshake, signed XML posts with a
replay window, messages and menu clicks in; Customer Service messages out.

- Plaintext mode signs sha1(sorted([token, timestamp, nonce])) in the query string, not the body
  (WeChat's "safe mode" encrypts the body with AES instead; not supported here, see `parse`). The
  5-minute timestamp window limits how long a captured signature lasts, and within it each nonce
  carries one body only (`replay_nonce`, checked by ingress/webhooks.py).
- Bodies are XML, parsed with ElementTree. It never resolves external entities, and bodies with a
  DTD are refused outright, so entity tricks (billion laughs) never reach the parser.
- We always answer `success`: anything else (or silence for 5 s) makes WeChat retry 3 times and
  show the customer "this account is temporarily unavailable".
- Sending uses the Customer Service message API with an access token fetched with the AppSecret.
  Tokens live 2 hours and every fetch may invalidate the previous one, so each process caches one
  per channel until 5 minutes before it expires, fetches under a lock (one fetch at a time), and
  refreshes once when WeChat says the token is invalid or expired (40001/42001/40014).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import time
import weakref
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from connectors.base import (
    Attachment,
    Capabilities,
    ChannelCredentials,
    HandshakeReply,
    InboundMessage,
    MalformedPayload,
    MessageKind,
    OutboundMessage,
    ParsedWebhook,
    Platform,
    ReplayNonce,
    SendError,
    SendResult,
    WebhookRequest,
)
from connectors.http import call, overloaded

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.weixin.qq.com"
# WeChat documents "at most 2048 bytes" only for passive replies (the XML answered to a webhook);
# the Customer Service API states no limit. We bound texts at 2000 characters, which sendMessage
# refuses before queueing (it counts characters, not bytes); should WeChat find a long CJK text too
# big after all, its 45002 comes back as a clear "too long" reason.
MAX_TEXT_LENGTH = 2000
REPLAY_WINDOW = 300  # seconds between WeChat's timestamp and our clock
TOKEN_MARGIN = 300  # refresh the access token five minutes before WeChat expires it
ACK = HandshakeReply(200, "success")

_SERVER_TOKEN_RE = re.compile(r"^[A-Za-z0-9]{3,32}$")  # WeChat's rule for the server-config token
_APP_ID_RE = re.compile(r"^wx[0-9A-Za-z]{16}$")
_STALE_TOKEN = frozenset({40001, 40014, 42001})  # invalid / not the latest / expired access token
_ATTACHMENT_TITLES = {
    MessageKind.IMAGE: "Picture",
    MessageKind.VIDEO: "Video",
    MessageKind.AUDIO: "Audio",
    MessageKind.DOCUMENT: "Document",
    MessageKind.STICKER: "Sticker",
}

# errcode → (retryable, affects the channel, reason for humans)
ERRORS: dict[int, tuple[bool, bool, str]] = {
    -1: (True, False, "WeChat is busy; it will be retried."),
    45015: (
        False,
        False,
        "More than 48 hours have passed since the customer last wrote (or they unfollowed the "
        "account); WeChat allows no customer-service message until they write again.",
    ),
    45047: (
        False,
        False,
        "WeChat allows only a few customer-service messages after each message from the customer; "
        "wait until they write again.",
    ),
    45002: (False, False, "WeChat says the message is too long; shorten it and send it again."),
    43004: (False, False, "The customer no longer follows this account; WeChat only delivers to followers."),
    43019: (False, False, "The customer is on this account's blacklist; remove them from it to reply."),
    40003: (
        False,
        False,
        "WeChat does not know this customer's OpenID for this account (it may belong to another Official Account).",
    ),
    45011: (True, False, "The account is calling WeChat too often this minute; it will be retried."),
    45009: (
        False,
        True,
        "The account reached WeChat's daily API quota; sending resumes tomorrow, or after an admin clears the quota.",
    ),
    48001: (
        False,
        True,
        "This Official Account may not use WeChat's customer-service messages (it must be a verified service account).",
    ),
    40013: (False, True, "WeChat does not know this AppID (app_id); check it in the channel settings."),
    40125: (
        False,
        True,
        "WeChat refused the AppSecret (app_secret); paste the current one into the channel settings.",
    ),
    41004: (False, True, "The AppSecret (app_secret) is missing from the channel settings."),
    40243: (
        False,
        True,
        "WeChat has frozen this AppSecret; reset it in the Official Account and paste the new one.",
    ),
    40164: (
        False,
        True,
        "WeChat refused this server's IP address: add it to the IP whitelist in the Official Account's settings.",
    ),
    89503: (
        False,
        True,
        "WeChat wants an admin to confirm this server's IP address in the Official Account before it may call the API.",
    ),
}


class WeChatConnector:
    platform = Platform.WECHAT
    max_text_length = MAX_TEXT_LENGTH
    capabilities = Capabilities(
        reply_window=timedelta(hours=48),  # Customer Service messages: 48 h after the customer's last message
        can_initiate=False,  # followers who wrote, only within the window
        media=True,  # as a link card (news article): media must otherwise be uploaded to WeChat first
        max_attachments=1,
        buttons=False,  # menus belong to the account, not to a message
    )
    secret_names = ("token", "app_secret")
    # The server token is chosen by the admin and typed both here and into WeChat's server settings:
    # WeChat only takes 3 to 32 letters and digits, which the generic rotation (token_urlsafe) does
    # not produce, so it is changed by pasting a new one rather than by rotateWebhookSecret.
    generated_secrets = ()

    # ---- configuration ----------------------------------------------------------------------

    def validate_config(self, config: Mapping[str, Any], secrets: Mapping[str, str]) -> list[str]:
        problems: list[str] = []
        app_id = config.get("app_id")
        if not app_id:
            problems.append(
                "The AppID (app_id) is required; it is under Settings and Development > Basic settings."
            )
        elif not isinstance(app_id, str) or not _APP_ID_RE.match(app_id):
            problems.append('The AppID (app_id) must look like "wx" followed by 16 letters or digits.')
        token = secrets.get("token") or ""
        if not _SERVER_TOKEN_RE.match(token):
            problems.append(
                "The server token (token) is required: 3 to 32 letters or digits, the same as in WeChat's server settings."
            )
        if not (secrets.get("app_secret") or "").strip():
            problems.append("The AppSecret (app_secret) is required to send messages.")
        api_base = config.get("api_base", DEFAULT_API_BASE)
        if not isinstance(api_base, str) or not api_base.startswith(("https://", "http://")):
            problems.append("The API base URL (api_base) must start with https:// or http://.")
        return problems

    # ---- webhooks -----------------------------------------------------------------------------

    def handshake(self, request: WebhookRequest, channel: ChannelCredentials) -> HandshakeReply | None:
        """Saving the server settings makes WeChat GET our URL with `echostr`: echo it when signed."""
        if request.method.upper() != "GET":
            return None
        echostr = request.query.get("echostr")
        if echostr is not None and _signed(request, channel):
            return HandshakeReply(200, echostr)
        return HandshakeReply(403, "verification failed: signature does not match the server token")

    def verify(self, request: WebhookRequest, channel: ChannelCredentials, *, now: float) -> bool:
        timestamp = request.query.get("timestamp") or ""
        if not timestamp.isdigit() or abs(now - int(timestamp)) > REPLAY_WINDOW:
            return False
        return _signed(request, channel)

    def replay_nonce(self, request: WebhookRequest, channel: ChannelCredentials) -> ReplayNonce | None:
        """Plaintext mode signs token, timestamp and nonce, not the body: the (timestamp, nonce)
        pair is single-use, remembered for the whole span in which the timestamp passes."""
        timestamp, nonce = request.query.get("timestamp") or "", request.query.get("nonce") or ""
        return ReplayNonce(key=f"{timestamp}:{nonce}", window=2 * REPLAY_WINDOW) if nonce else None

    def parse(self, request: WebhookRequest, channel: ChannelCredentials) -> ParsedWebhook:
        fields = _fields(request.body)
        sender, msg_type = fields.get("FromUserName"), fields.get("MsgType")
        if not msg_type and fields.get("Encrypt"):
            raise MalformedPayload(
                "the body is encrypted (WeChat's safe mode); set the message encryption mode to plaintext"
            )
        if not sender or not msg_type:
            raise MalformedPayload("a WeChat message needs FromUserName and MsgType")
        sent_at = _time(fields.get("CreateTime"))
        if msg_type == "event":
            return ParsedWebhook(messages=_event(fields, sender, sent_at, channel), reply=ACK)
        message_id = fields.get("MsgId")
        if not message_id:
            raise MalformedPayload("a WeChat message needs its MsgId")
        kind, text, attachments, metadata = _content(msg_type, fields)
        message = InboundMessage(
            platform_message_id=message_id,
            sender_id=sender,
            sent_at=sent_at,
            kind=kind,
            text=text,
            attachments=attachments,
            metadata=metadata,
        )
        return ParsedWebhook(messages=(message,), reply=ACK)

    # ---- sending ------------------------------------------------------------------------------

    async def send(
        self, http: httpx.AsyncClient, channel: ChannelCredentials, message: OutboundMessage
    ) -> SendResult:
        body = _send_body(message)
        token = await access_token(http, channel)
        data = await _send_with(http, channel, token, body)
        if data.get("errcode") in _STALE_TOKEN:
            # Expired early, or replaced by a fetch elsewhere: fetch a new one once and retry.
            token = await access_token(http, channel, stale=token)
            data = await _send_with(http, channel, token, body)
        code = _errcode(data)
        if code == 0:
            msgid = data.get("msgid")  # Customer Service sends answer no id today; use it if one comes
            return SendResult(platform_message_id=str(msgid) if msgid else f"out:{message.idempotency_key}")
        if code in _STALE_TOKEN:
            raise SendError(
                str(code),
                "WeChat refused a freshly fetched access token (another server using the same AppSecret "
                "may be fetching tokens too); it will be retried.",
                retryable=True,
            )
        raise _error(code, data, channel)


# ---- the signature --------------------------------------------------------------------------------


def signature(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()


def _signed(request: WebhookRequest, channel: ChannelCredentials) -> bool:
    token = channel.secrets.get("token") or ""
    timestamp, nonce = request.query.get("timestamp") or "", request.query.get("nonce") or ""
    given = (request.query.get("signature") or "").lower()
    if not token or not timestamp or not nonce or len(given) != 40:
        return False
    return hmac.compare_digest(given.encode(), signature(token, timestamp, nonce).encode())


# ---- parsing helpers ------------------------------------------------------------------------------


def _fields(body: bytes) -> dict[str, str]:
    """The children of <xml> as {tag: text}. DTDs and entities are refused before parsing."""
    head = body.upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise MalformedPayload("XML with a DTD or entities is not accepted")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise MalformedPayload(f"body is not XML: {exc}") from None
    if root.tag != "xml":
        raise MalformedPayload(f"a WeChat body is an <xml> element, not <{root.tag}>")
    return {child.tag: (child.text or "").strip() for child in root}


def _time(value: str | None) -> datetime:
    if value and value.isdigit():
        try:
            return datetime.fromtimestamp(int(value), UTC)
        except (OverflowError, OSError, ValueError):
            pass
    return datetime.now(UTC)


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _event(
    fields: dict[str, str], sender: str, sent_at: datetime, channel: ChannelCredentials
) -> tuple[InboundMessage, ...]:
    event = fields.get("Event") or ""
    if event != "CLICK":
        # subscribe / unsubscribe / SCAN / VIEW / LOCATION reports / template-send results:
        # account activity, not something the customer said.
        log.info("wechat event stores nothing", extra={"channel_id": channel.channel_id, "event": event})
        return ()
    key = fields.get("EventKey") or ""
    # Events carry no MsgId; WeChat's own advice is to dedupe them on FromUserName + CreateTime.
    message = InboundMessage(
        platform_message_id=f"event:{sender}:{fields.get('CreateTime')}:{event}",
        sender_id=sender,
        sent_at=sent_at,
        kind=MessageKind.POSTBACK,
        text=key,  # the menu's title is not in the event: its key is what we have
        metadata={"payload": key, "event": event},
    )
    return (message,)


Content = tuple[MessageKind, str | None, tuple[Attachment, ...], dict[str, Any]]


def _content(msg_type: str, fields: dict[str, str]) -> Content:
    media_id = fields.get("MediaId") or None
    if msg_type == "text":
        metadata = {k: fields[k] for k in ("MsgDataId", "Idx") if fields.get(k)}  # a reply to an article
        return MessageKind.TEXT, fields.get("Content") or "", (), metadata
    if msg_type == "image":
        picture = Attachment(kind=MessageKind.IMAGE, media_id=media_id, url=fields.get("PicUrl") or None)
        return MessageKind.IMAGE, None, (picture,), {}
    if msg_type == "voice":
        voice = Attachment(kind=MessageKind.AUDIO, media_id=media_id)
        metadata = {"format": fields["Format"]} if fields.get("Format") else {}
        # With speech recognition on, WeChat adds what was said; it is the message's text.
        return MessageKind.AUDIO, fields.get("Recognition") or None, (voice,), metadata
    if msg_type in ("video", "shortvideo"):
        video = Attachment(kind=MessageKind.VIDEO, media_id=media_id)
        metadata = {"thumb_media_id": fields["ThumbMediaId"]} if fields.get("ThumbMediaId") else {}
        return MessageKind.VIDEO, None, (video,), metadata
    if msg_type == "location":
        latitude, longitude = _float(fields.get("Location_X")), _float(fields.get("Location_Y"))
        if latitude is not None and longitude is not None:
            label = fields.get("Label") or ""
            location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
            if label:
                location["name"] = label
            if fields.get("Scale", "").isdigit():
                location["scale"] = int(fields["Scale"])
            coords = f"{latitude}, {longitude}"
            text = f"Location: {label} ({coords})" if label else f"Location: {coords}"
            return MessageKind.LOCATION, text, (), {"location": location}
    if msg_type == "link":
        link = {
            "title": fields.get("Title", ""),
            "description": fields.get("Description", ""),
            "url": fields.get("Url", ""),
        }
        text = "\n".join(part for part in (link["title"], link["url"]) if part)
        return MessageKind.TEXT, text, (), {"link": link}
    return MessageKind.UNSUPPORTED, None, (), {"raw_type": msg_type}


# ---- sending helpers ------------------------------------------------------------------------------


def _send_body(message: OutboundMessage) -> dict[str, Any]:
    text = message.text or ""
    if len(message.attachments) > 1:
        raise SendError("too_many_attachments", "WeChat sends one attachment per message.", retryable=False)
    if len(text) > MAX_TEXT_LENGTH:
        raise SendError(
            "too_long",
            f"The text is {len(text)} characters long; we send at most {MAX_TEXT_LENGTH} to WeChat.",
            retryable=False,
        )
    if message.attachments:
        # Pictures and files sent as such must be uploaded to WeChat first (a media_id); sending
        # by URL is only possible as a link card, which opens the file when tapped.
        attachment = message.attachments[0]
        if not attachment.url:
            raise SendError(
                "no_media_url",
                "WeChat cannot send this attachment: it has no URL to put in a link card, and files must "
                "otherwise be uploaded to WeChat first.",
                retryable=False,
            )
        article: dict[str, Any] = {
            "title": attachment.filename or _ATTACHMENT_TITLES.get(attachment.kind, "Attachment"),
            "description": text,
            "url": attachment.url,
        }
        if attachment.kind is MessageKind.IMAGE:
            article["picurl"] = attachment.url
        return {"touser": message.recipient_id, "msgtype": "news", "news": {"articles": [article]}}
    if message.kind is not MessageKind.TEXT:
        raise SendError(
            "unsupported_kind",
            f"Sending {message.kind.value} messages to WeChat is not supported.",
            retryable=False,
        )
    if not text.strip():
        raise SendError("empty", "The message has no text to send.", retryable=False)
    return {"touser": message.recipient_id, "msgtype": "text", "text": {"content": text}}


def _api_base(channel: ChannelCredentials) -> str:
    return str(channel.config.get("api_base") or DEFAULT_API_BASE).rstrip("/")


async def _request(http: httpx.AsyncClient, url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """One call to WeChat's API (a POST of `body`, or a GET without one); its JSON answer. The URL
    holds the secret or the access token: `call` keeps it out of every reason."""
    reply = await call(http, "WeChat", url, method="GET" if body is None else "POST", json=body)
    if reply.transient:
        raise overloaded(reply, "WeChat")
    if not isinstance(reply.data, dict):
        raise SendError(
            f"HTTP_{reply.status}",
            f"WeChat answered with something that is not its JSON reply (HTTP {reply.status}).",
            retryable=False,
        )
    return reply.data


async def _send_with(
    http: httpx.AsyncClient, channel: ChannelCredentials, token: str, body: dict[str, Any]
) -> dict[str, Any]:
    url = f"{_api_base(channel)}/cgi-bin/message/custom/send?{urlencode({'access_token': token})}"
    # `call` encodes with orjson, which keeps non-ASCII as it is: WeChat shows \uXXXX escapes
    # literally in some clients.
    return await _request(http, url, body)


def _errcode(data: dict[str, Any]) -> int:
    code = data.get("errcode", 0)
    return code if isinstance(code, int) and not isinstance(code, bool) else -1


def _error(code: int, data: dict[str, Any], channel: ChannelCredentials) -> SendError:
    errmsg = str(data.get("errmsg") or "").split(" rid:")[0].split(" hint:")[0]
    retryable, affects, reason = ERRORS.get(
        code, (False, False, f"WeChat refused the message: {errmsg or code}.")
    )
    log.warning(
        "wechat call refused",
        extra={"channel_id": channel.channel_id, "errcode": code, "errmsg": data.get("errmsg")},
    )
    return SendError(
        str(code),
        reason,
        retryable=retryable,
        retry_after=60.0 if code == 45011 else None,
        affects_channel=affects,
    )


# ---- the access token ------------------------------------------------------------------------------


@dataclass
class _Token:
    value: str
    refresh_at: float  # time.monotonic()


# Per process: channel → token. The key includes the AppID and a digest of the AppSecret, so new
# credentials never reuse a token fetched with the old ones.
_tokens: dict[tuple[int, str, str], _Token] = {}
# One lock per channel and event loop (an asyncio.Lock belongs to the loop that first waits on it).
_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[int, str, str], asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _token_key(channel: ChannelCredentials) -> tuple[int, str, str]:
    secret = channel.secrets.get("app_secret") or ""
    digest = hashlib.sha256(secret.encode()).hexdigest()[:16]
    return channel.channel_id, str(channel.config.get("app_id") or ""), digest


def _lock(key: tuple[int, str, str]) -> asyncio.Lock:
    per_loop = _locks.setdefault(asyncio.get_running_loop(), {})
    return per_loop.setdefault(key, asyncio.Lock())


async def access_token(
    http: httpx.AsyncClient, channel: ChannelCredentials, *, stale: str | None = None
) -> str:
    """The channel's access token, fetched when missing, close to expiry, or equal to `stale` (the
    one WeChat just refused). Concurrent callers wait for one fetch instead of each fetching (and
    invalidating each other's tokens)."""
    key = _token_key(channel)
    async with _lock(key):
        cached = _tokens.get(key)
        if cached is not None and cached.value != stale and cached.refresh_at > time.monotonic():
            return cached.value
        query = urlencode(
            {
                "grant_type": "client_credential",
                "appid": channel.config.get("app_id") or "",
                "secret": channel.secrets.get("app_secret") or "",
            }
        )
        data = await _request(http, f"{_api_base(channel)}/cgi-bin/token?{query}")
        value, expires_in = data.get("access_token"), data.get("expires_in", 7200)
        if not isinstance(value, str) or not value:
            code = _errcode(data)
            if code == 40001:  # from the token endpoint, 40001 means the AppSecret is wrong
                code = 40125
            if code == 0:
                code = -1  # no token and no error: treat as WeChat being busy
            raise _error(code, data, channel)
        ttl = float(expires_in) if isinstance(expires_in, int | float) and expires_in > 0 else 7200.0
        _tokens[key] = _Token(value, time.monotonic() + max(ttl - TOKEN_MARGIN, ttl / 2))
        return value


wechat = WeChatConnector()
