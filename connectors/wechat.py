"""WeChat Official Accounts (plaintext mode): the signature/timestamp/nonce check on every request,
XML messages and menu events in, Customer Service messages out.

Plaintext mode signs the token, timestamp and nonce, not the body (WeChat's "safe mode" encrypts
and signs the body with AES; not implemented here): the timestamp window limits replays.

The twelfth platform: a public bot API with real demand (over a billion users; the usual way
Chinese customers reach a business). The access token for sending is fetched with the app secret
and cached per channel until shortly before it expires; an expired/revoked token is refreshed once.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
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
    MessageKind,
    OutboundMessage,
    ParsedWebhook,
    Platform,
    SendError,
    SendResult,
    WebhookRequest,
)

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.weixin.qq.com"
# WeChat counts the text limit in bytes (2048); 600 CJK characters fill it, so we bound characters
# conservatively and let the byte check below speak for the rest.
MAX_TEXT_LENGTH = 2000
MAX_TEXT_BYTES = 2048
REPLAY_WINDOW = 300
SEND_TIMEOUT = 15.0
_TOKEN_MARGIN = 300  # refresh the access token five minutes before WeChat expires it
_tokens: dict[tuple[int, str], tuple[str, float]] = {}
_token_locks: dict[int, asyncio.Lock] = {}


class WeChatConnector:
    platform = Platform.WECHAT
    max_text_length = MAX_TEXT_LENGTH
    capabilities = Capabilities(
        reply_window=timedelta(hours=48), can_initiate=False, media=False, buttons=False
    )
    secret_names = ("token", "app_secret")
    generated_secrets = ("token",)  # ours: typed into the Official Account's server settings

    def validate_config(self, config: Mapping[str, Any], secrets: Mapping[str, str]) -> list[str]:
        problems = []
        if not str(config.get("app_id") or "").startswith("wx"):
            problems.append("The AppID (app_id, wx…) is required.")
        token = secrets.get("token") or ""
        if not 3 <= len(token) <= 32 or not token.isalnum():
            problems.append("The server token (token) is required: 3 to 32 letters or digits.")
        if not (secrets.get("app_secret") or "").strip():
            problems.append("The AppSecret (app_secret) is required.")
        api_base = config.get("api_base", DEFAULT_API_BASE)
        if not isinstance(api_base, str) or not api_base.startswith(("https://", "http://")):
            problems.append("The API base URL (api_base) must start with https:// or http://.")
        return problems

    def handshake(self, request: WebhookRequest, channel: ChannelCredentials) -> HandshakeReply | None:
        if request.method.upper() != "GET":
            return None
        if _signed(request, channel) and "echostr" in request.query:
            return HandshakeReply(200, request.query["echostr"])
        return HandshakeReply(403, "verification failed")

    def verify(self, request: WebhookRequest, channel: ChannelCredentials, *, now: float) -> bool:
        timestamp = request.query.get("timestamp") or ""
        if not timestamp.isdigit() or abs(now - int(timestamp)) > REPLAY_WINDOW:
            return False
        return _signed(request, channel)

    def parse(self, request: WebhookRequest, channel: ChannelCredentials) -> ParsedWebhook:
        body = request.body
        if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
            raise MalformedPayload("DTDs and entities are not accepted")  # no XML entity tricks
        try:
            root = ET.fromstring(body)
        except ET.ParseError as exc:
            raise MalformedPayload(f"body is not XML: {exc}") from None
        fields = {child.tag: (child.text or "") for child in root}
        sender, kind = fields.get("FromUserName"), fields.get("MsgType")
        if not sender or not kind:
            raise MalformedPayload("FromUserName and MsgType are required")
        ack = HandshakeReply(200, "success")  # WeChat retries anything else
        at = (
            datetime.fromtimestamp(int(fields["CreateTime"]), UTC)
            if fields.get("CreateTime", "").isdigit()
            else datetime.now(UTC)
        )
        message_id = fields.get("MsgId") or f"event:{sender}:{fields.get('CreateTime')}:{fields.get('Event')}"
        if kind == "event":
            if fields.get("Event") != "CLICK":
                return ParsedWebhook(reply=ack)  # follow/unfollow/scan/view: not messages
            message = InboundMessage(
                message_id,
                sender,
                at,
                MessageKind.POSTBACK,
                text=fields.get("EventKey"),
                metadata={"payload": fields.get("EventKey")},
            )
            return ParsedWebhook(messages=(message,), reply=ack)
        text: str | None = fields.get("Content")
        attachments: tuple[Attachment, ...] = ()
        metadata: dict[str, Any] = {}
        message_kind = MessageKind.TEXT
        if kind == "image":
            message_kind = MessageKind.IMAGE
            attachments = (
                Attachment(kind=MessageKind.IMAGE, media_id=fields.get("MediaId"), url=fields.get("PicUrl")),
            )
        elif kind in ("voice", "video", "shortvideo"):
            message_kind = MessageKind.AUDIO if kind == "voice" else MessageKind.VIDEO
            attachments = (
                Attachment(kind=message_kind, media_id=fields.get("MediaId"), mime_type=fields.get("Format")),
            )
            text = fields.get("Recognition") or None  # WeChat's speech recognition, when enabled
        elif kind == "location":
            message_kind = MessageKind.LOCATION
            text = fields.get("Label") or f"{fields.get('Location_X')}, {fields.get('Location_Y')}"
            metadata["location"] = {
                "latitude": fields.get("Location_X"),
                "longitude": fields.get("Location_Y"),
            }
        elif kind == "link":
            text = f"{fields.get('Title', '')} {fields.get('Url', '')}".strip()
        elif kind != "text":
            message_kind = MessageKind.UNSUPPORTED
        message = InboundMessage(
            message_id, sender, at, message_kind, text=text, attachments=attachments, metadata=metadata
        )
        return ParsedWebhook(messages=(message,), reply=ack)

    async def send(
        self, http: httpx.AsyncClient, channel: ChannelCredentials, message: OutboundMessage
    ) -> SendResult:
        text = message.text or ""
        if message.attachments:
            raise SendError(
                "media", "WeChat needs media uploaded to it first; send a link instead.", retryable=False
            )
        if not text.strip():
            raise SendError("empty", "The message has no text to send.", retryable=False)
        if len(text) > MAX_TEXT_LENGTH or len(text.encode()) > MAX_TEXT_BYTES:
            raise SendError(
                "too_long", f"WeChat messages are at most {MAX_TEXT_BYTES} bytes.", retryable=False
            )
        body = {"touser": message.recipient_id, "msgtype": "text", "text": {"content": text}}
        for attempt in (1, 2):
            token = await _access_token(http, channel, refresh=attempt == 2)
            data = await _post(http, channel, f"/cgi-bin/message/custom/send?access_token={token}", body)
            code = data.get("errcode", 0)
            if code == 0:
                # Customer Service messages get no id back: ours (stable across retries) stands in.
                return SendResult(platform_message_id=f"wechat:{message.idempotency_key}")
            if code in (40001, 40014, 42001) and attempt == 1:
                continue  # the token expired or was replaced: fetch a new one once
            raise _error(code, str(data.get("errmsg") or ""))
        raise AssertionError("unreachable")


def _signed(request: WebhookRequest, channel: ChannelCredentials) -> bool:
    token = channel.secrets.get("token") or ""
    timestamp, nonce = request.query.get("timestamp") or "", request.query.get("nonce") or ""
    given = request.query.get("signature") or ""
    if not token or not timestamp or not nonce or not given:
        return False
    expected = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    return hmac.compare_digest(given, expected)


async def _post(
    http: httpx.AsyncClient, channel: ChannelCredentials, path: str, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    api_base = str(channel.config.get("api_base") or DEFAULT_API_BASE).rstrip("/")
    try:
        if body is None:
            response = await http.get(api_base + path, timeout=SEND_TIMEOUT)
        else:
            response = await http.post(api_base + path, content=orjson.dumps(body), timeout=SEND_TIMEOUT)
    except httpx.TimeoutException:
        raise SendError("timeout", "WeChat did not answer in time.", retryable=True) from None
    except httpx.HTTPError as exc:
        raise SendError(
            "network", f"WeChat could not be reached ({type(exc).__name__}).", retryable=True
        ) from None
    if response.status_code >= 500:
        raise SendError(
            f"HTTP_{response.status_code}", "WeChat had a problem; it will be retried.", retryable=True
        )
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise SendError(
            "bad_response", "WeChat answered with something that is not JSON.", retryable=True
        ) from None


async def _access_token(http: httpx.AsyncClient, channel: ChannelCredentials, *, refresh: bool) -> str:
    app_id = str(channel.config.get("app_id") or "")
    key = (channel.channel_id, app_id)
    lock = _token_locks.setdefault(channel.channel_id, asyncio.Lock())
    async with lock:  # one fetch per channel at a time: each fetch invalidates the previous token
        cached = _tokens.get(key)
        if cached and not refresh and cached[1] > time.monotonic():
            return cached[0]
        secret = channel.secrets.get("app_secret", "")
        data = await _post(
            http, channel, f"/cgi-bin/token?grant_type=client_credential&appid={app_id}&secret={secret}"
        )
        if "access_token" not in data:
            raise _error(
                int(data.get("errcode") or -1), str(data.get("errmsg") or "no access token"), token=True
            )
        _tokens[key] = (
            data["access_token"],
            time.monotonic() + int(data.get("expires_in", 7200)) - _TOKEN_MARGIN,
        )
        return data["access_token"]


def _error(code: int, message: str, *, token: bool = False) -> SendError:
    if code == -1:
        return SendError("-1", "WeChat is busy; it will be retried.", retryable=True)
    if code == 45015:
        return SendError(
            "45015",
            "More than 48 hours have passed since the customer last wrote; WeChat allows no reply.",
            retryable=False,
        )
    if code == 45047:
        return SendError(
            "45047",
            "Too many messages were sent to this customer without an answer; WeChat refuses more.",
            retryable=False,
        )
    if code == 45009:
        return SendError(
            "45009",
            "The account reached WeChat's daily API limit; it will be retried.",
            retryable=True,
            retry_after=600,
        )
    if token or code in (40001, 40013, 40125, 41004, 40164):
        return SendError(
            str(code),
            f"WeChat refused the account's credentials ({message}); check AppID, AppSecret and the IP whitelist.",
            retryable=False,
            affects_channel=True,
        )
    if code == 40003:
        return SendError("40003", "WeChat does not know this follower (OpenID).", retryable=False)
    return SendError(str(code), f"WeChat refused the message: {message}", retryable=False)


wechat = WeChatConnector()
