"""SMS/MMS through Twilio Programmable Messaging: URL signatures, form webhooks, sending.

Twilio posts `application/x-www-form-urlencoded` bodies for both inbound messages and status
callbacks, signed over the full public URL plus the sorted POST parameters (X-Twilio-Signature).
Inbound messages are answered with an empty TwiML document, so Twilio sends no auto-reply.
Outbound messages carry a `StatusCallback` pointing back at our webhook, which is how delivery
receipts arrive.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import urllib.parse
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

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
from connectors.http import Reply, call, refusal, sent_id

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.twilio.com"
API_VERSION = "2010-04-01"
MAX_TEXT_LENGTH = 1600
MAX_MEDIA = 10
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'

_ACCOUNT_SID_RE = re.compile(r"^AC[0-9a-fA-F]{32}$")
_SERVICE_SID_RE = re.compile(r"^MG[0-9a-fA-F]{32}$")
_E164_RE = re.compile(r"^\+[1-9]\d{1,14}$")
# Twilio's WhatsApp/RCS channels reuse the SMS webhook with a prefixed address ("whatsapp:+1…").
_ADDRESS_RE = re.compile(r"^(?:(whatsapp|rcs|messenger):)?(\+[1-9]\d{1,14})$")

_STATUSES = {
    "accepted": DeliveryStatus.QUEUED,
    "scheduled": DeliveryStatus.QUEUED,
    "queued": DeliveryStatus.QUEUED,
    "sending": DeliveryStatus.QUEUED,
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "undelivered": DeliveryStatus.FAILED,
    "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}

# Delivery errors (status callbacks) and API refusals (send), written for the agent.
REASONS: dict[int, str] = {
    20003: "Twilio refused the channel's credentials; check the Account SID and Auth Token in the channel settings.",
    20404: "Twilio does not know this account or resource; check the Account SID in the channel settings.",
    20429: "Twilio is receiving too many requests from this account; try again shortly.",
    21211: "The recipient's phone number is not a valid phone number.",
    21408: "Sending SMS to this country or region is not enabled on the Twilio account (Geo Permissions).",
    21602: "The message has no text and no media to send.",
    21606: "The channel's sending number cannot send SMS from this Twilio account; check from_number.",
    21610: "The customer has unsubscribed from this number by replying STOP; they must text START before they can receive messages again.",
    21612: "Twilio cannot send from this number to the recipient's number (the route is not supported).",
    21614: "The recipient's number is not a mobile number, so it cannot receive SMS.",
    21617: "The message is longer than Twilio's limit of 1600 characters.",
    30001: "Twilio's queue for this sender overflowed; too many messages were sent at once.",
    30002: "The Twilio account is suspended.",
    30003: "The recipient's phone is unreachable (switched off or out of coverage).",
    30004: "The message was blocked: the recipient may have blocked this number or their carrier rejected it.",
    30005: "The destination number is unknown or no longer exists.",
    30006: "The recipient's number is a landline or its carrier cannot receive SMS.",
    30007: "The carrier filtered the message as spam or unwanted content.",
    30008: "The message could not be delivered for an unknown reason reported by the carrier.",
    30032: "The toll-free sending number is not verified, so carriers block its messages.",
    30034: "The sending number is not registered for US A2P 10DLC messaging, so carriers block its messages.",
    63016: "More than 24 hours have passed since the customer last wrote on WhatsApp; only an approved template can be sent.",
}
_RETRYABLE_CODES = frozenset({20429, 30001})
_PERMANENT_CODES = frozenset(
    {20003, 20404, 21211, 21408, 21602, 21606, 21610, 21612, 21614, 21617, 30002, 30032, 30034, 63016}
)
# Trouble with the channel's account or number rather than with one recipient.
_CHANNEL_CODES = frozenset({20003, 20404, 21606, 30002, 30032, 30034})

_MEDIA_KINDS = {
    "image": MessageKind.IMAGE,
    "video": MessageKind.VIDEO,
    "audio": MessageKind.AUDIO,
}


class SmsConnector:
    platform = Platform.SMS
    max_text_length = MAX_TEXT_LENGTH
    capabilities = Capabilities(
        reply_window=None,  # SMS has no conversation window
        can_initiate=True,
        address_kind="phone",
        address_format="+{}",  # Twilio keys people on E.164 with the plus
        media=True,  # MMS (where the carrier supports it)
        buttons=False,
        delivery_statuses=True,
        read_statuses=False,
    )
    # The secondary token lets both tokens verify webhooks while the account rotates them.
    secret_names = ("auth_token", "secondary_auth_token")
    generated_secrets = ()

    # ---- configuration ----------------------------------------------------------------------

    def validate_config(self, config: Mapping[str, Any], secrets: Mapping[str, str]) -> list[str]:
        problems: list[str] = []
        account_sid = config.get("account_sid")
        if not account_sid:
            problems.append("The Twilio Account SID (account_sid) is required.")
        elif not isinstance(account_sid, str) or not _ACCOUNT_SID_RE.match(account_sid):
            problems.append(
                'The Account SID (account_sid) must look like "AC" followed by 32 hexadecimal characters.'
            )
        from_number = config.get("from_number")
        service_sid = config.get("messaging_service_sid")
        if not from_number and not service_sid:
            problems.append(
                "Either the sending number (from_number) or a Messaging Service SID (messaging_service_sid) is required."
            )
        if from_number and not (isinstance(from_number, str) and _E164_RE.match(from_number)):
            problems.append('The sending number (from_number) must be in E.164 format, like "+15557122661".')
        if service_sid and not (isinstance(service_sid, str) and _SERVICE_SID_RE.match(service_sid)):
            problems.append(
                'The Messaging Service SID (messaging_service_sid) must look like "MG" followed by 32 hexadecimal characters.'
            )
        for key, label in (("api_base", "API base URL"), ("status_callback_url", "status callback URL")):
            value = config.get(key)
            if key == "api_base" and value is None:
                continue
            if value is not None and not (
                isinstance(value, str) and value.startswith(("https://", "http://"))
            ):
                problems.append(f"The {label} ({key}) must start with https:// or http://.")
        if not (secrets.get("auth_token") or "").strip():
            problems.append("The Twilio Auth Token (auth_token) is required.")
        return problems

    # ---- webhooks -----------------------------------------------------------------------------

    def handshake(self, request: WebhookRequest, channel: ChannelCredentials) -> HandshakeReply | None:
        return None  # Twilio has no verification handshake

    def verify(self, request: WebhookRequest, channel: ChannelCredentials, *, now: float) -> bool:
        header = request.header("x-twilio-signature")
        tokens = [
            t for t in (channel.secrets.get("auth_token"), channel.secrets.get("secondary_auth_token")) if t
        ]
        if not header or not tokens:
            return False
        try:
            given = base64.b64decode(header.strip(), validate=True)
        except ValueError:
            return False
        payload = _signed_payload(request)
        if payload is None:
            return False
        ok = False
        for token in tokens:
            for url in _url_variants(request.url):
                expected = hmac.new(token.encode(), url.encode() + payload, hashlib.sha1).digest()
                # No early exit: every candidate is compared, so timing says nothing about which.
                ok |= hmac.compare_digest(given, expected)
        return ok

    def parse(self, request: WebhookRequest, channel: ChannelCredentials) -> ParsedWebhook:
        params = _form(request.body)
        account_sid = channel.config.get("account_sid")
        if account_sid and params.get("AccountSid") and params["AccountSid"] != account_sid:
            log.warning(
                "twilio webhook for another account skipped",
                extra={"channel_id": channel.channel_id, "account_sid": params["AccountSid"]},
            )
            return ParsedWebhook(reply=_empty_twiml() if "MessageStatus" not in params else None)
        if "MessageStatus" in params:
            status = _status(params, channel.channel_id)
            return ParsedWebhook(statuses=(status,) if status else ())
        if "CallSid" in params and "MessageSid" not in params:
            raise MalformedPayload("this is a voice call webhook; point the number's messaging URL here")
        return ParsedWebhook(messages=(_inbound(params),), reply=_empty_twiml())

    # ---- sending ------------------------------------------------------------------------------

    async def send(
        self, http: httpx.AsyncClient, channel: ChannelCredentials, message: OutboundMessage
    ) -> SendResult:
        config = channel.config
        account_sid = str(config.get("account_sid") or "")
        form = _send_form(message, config)
        api_base = str(config.get("api_base") or DEFAULT_API_BASE).rstrip("/")
        url = f"{api_base}/{API_VERSION}/Accounts/{account_sid}/Messages.json"
        token = channel.secrets.get("auth_token", "")
        credentials = base64.b64encode(f"{account_sid}:{token}".encode()).decode()
        headers = {
            "Authorization": f"Basic {credentials}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        # Twilio has no idempotency key for Messages: a timeout after Twilio accepted the request
        # can lead to a second copy on retry. Rare, and better than losing the reply.
        reply = await call(
            http, "Twilio", url, content=urllib.parse.urlencode(form).encode(), headers=headers
        )
        if not reply.ok:
            raise _send_error(reply, channel.channel_id)
        return SendResult(platform_message_id=sent_id(reply.body.get("sid"), "Twilio", missing="message SID"))


# ---- webhook helpers ------------------------------------------------------------------------------


def _signed_payload(request: WebhookRequest) -> bytes | None:
    """What follows the URL in the signed string: the sorted form params, or nothing for JSON
    bodies, which Twilio signs by URL only with the body's SHA-256 in `bodySHA256`."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(request.url).query)
    body_hash = (query.get("bodySHA256") or [None])[0]
    if body_hash is not None:
        actual = hashlib.sha256(request.body).hexdigest()
        return b"" if hmac.compare_digest(body_hash.lower().encode(), actual.encode()) else None
    try:
        pairs = urllib.parse.parse_qsl(request.body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return None
    return "".join(k + v for k, v in sorted(pairs)).encode()


def _url_variants(url: str) -> list[str]:
    """The URL as given, and with the scheme's default port added or removed: Twilio's SDKs accept
    either, because proxies differ on whether the port survives."""
    parts = urllib.parse.urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    if default is None or not parts.hostname:
        return [url]
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    userinfo = parts.netloc.rpartition("@")[0]
    prefix = f"{userinfo}@" if userinfo else ""
    if parts.port is None:
        other = parts._replace(netloc=f"{prefix}{host}:{default}")
    elif parts.port == default:
        other = parts._replace(netloc=f"{prefix}{host}")
    else:
        return [url]
    return [url, urllib.parse.urlunsplit(other)]


def _form(body: bytes) -> dict[str, str]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedPayload("body is not UTF-8 form data") from None
    try:
        pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, errors="strict")
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedPayload(f"body is not form data: {exc}") from None
    params: dict[str, str] = {}
    for key, value in pairs:
        params.setdefault(key, value)  # Twilio never repeats a field; first one wins if it does
    if not params:
        raise MalformedPayload("body is empty: Twilio always posts form fields")
    return params


def _empty_twiml() -> HandshakeReply:
    return HandshakeReply(200, EMPTY_TWIML, "text/xml")


def _address(value: str | None) -> tuple[str, str] | None:
    """(channel prefix or "", E.164) of a Twilio address, or None when it is not a phone address."""
    match = _ADDRESS_RE.match(value or "")
    return (match.group(1) or "", match.group(2)) if match else None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _inbound(params: dict[str, str]) -> InboundMessage:
    sid = params.get("MessageSid") or params.get("SmsMessageSid") or params.get("SmsSid")
    sender = params.get("From")
    if not sid:
        raise MalformedPayload("MessageSid is missing: this is not a Twilio messaging webhook")
    if not sender:
        raise MalformedPayload("From is missing")
    address = _address(sender)
    attachments = _attachments(params)
    text = params.get("Body") or None
    if attachments:
        kind = attachments[0].kind
    elif text is not None:
        kind = MessageKind.TEXT
    else:
        kind = MessageKind.UNSUPPORTED  # an empty SMS: kept, so the conversation shows it
    metadata: dict[str, Any] = {"to": params.get("To")}
    for key, name in (
        ("MessagingServiceSid", "messaging_service_sid"),
        ("NumSegments", "num_segments"),
        ("ProfileName", "profile_name"),
    ):
        if params.get(key):
            metadata[name] = _int(params[key]) if key == "NumSegments" else params[key]
    geo = {
        name: params[key]
        for key, name in (
            ("FromCity", "city"),
            ("FromState", "state"),
            ("FromZip", "zip"),
            ("FromCountry", "country"),
        )
        if params.get(key)
    }
    if geo:
        metadata["from_geo"] = geo  # the number's registration area, not where the customer is
    if address and address[0]:
        metadata["channel"] = address[0]  # whatsapp:/rcs: traffic through the same number
    phone = address[1].lstrip("+") if address else None
    return InboundMessage(
        platform_message_id=sid,
        sender_id=sender,
        sent_at=datetime.now(UTC),  # Twilio gives no timestamp for inbound messages
        kind=kind,
        text=text,
        sender_name=params.get("ProfileName") or None,
        sender_phone=phone,
        reply_to_platform_id=params.get("OriginalRepliedMessageSid") or None,
        attachments=attachments,
        metadata=metadata,
    )


def _attachments(params: dict[str, str]) -> tuple[Attachment, ...]:
    count = _int(params.get("NumMedia")) or 0
    result = []
    # NumMedia is authoritative, but never trust it past what is actually present.
    for index in range(max(count, 0)):
        url = params.get(f"MediaUrl{index}")
        if not url:
            continue
        mime = params.get(f"MediaContentType{index}") or None
        major = (mime or "").split("/", 1)[0]
        kind = _MEDIA_KINDS.get(major, MessageKind.DOCUMENT)
        media_id = urllib.parse.urlsplit(url).path.rstrip("/").rpartition("/")[2] or None
        result.append(Attachment(kind=kind, media_id=media_id, url=url, mime_type=mime))
    return tuple(result)


def _status(params: dict[str, str], channel_id: int) -> StatusUpdate | None:
    name = params.get("MessageStatus", "").lower()
    status = _STATUSES.get(name)
    sid = params.get("MessageSid") or params.get("SmsSid")
    if status is None or not sid:
        log.warning("twilio status skipped", extra={"channel_id": channel_id, "status": name, "sid": sid})
        return None
    error_code = params.get("ErrorCode") or None
    title = detail = None
    if status is DeliveryStatus.FAILED:
        code = _int(error_code)
        if name == "canceled":
            title = "The message was canceled before Twilio sent it."
        elif code is not None and code in REASONS:
            title = REASONS[code]
        elif error_code:
            title = f"Twilio could not deliver the message (error {error_code})."
        else:
            title = f"Twilio reported the message as {name}."
        detail = params.get("ErrorMessage") or None
    return StatusUpdate(
        platform_message_id=sid,
        status=status,
        # RawDlrDoneDate is the carrier's minute-precision time in an unstated zone: the time the
        # callback arrives is more trustworthy for ordering.
        occurred_at=datetime.now(UTC),
        recipient_id=params.get("To") or None,
        error_code=error_code,
        error_title=title,
        error_detail=detail,
    )


# ---- sending helpers ------------------------------------------------------------------------------


def _send_form(message: OutboundMessage, config: Mapping[str, Any]) -> list[tuple[str, str]]:
    text = message.text or ""
    if len(text) > MAX_TEXT_LENGTH:
        raise SendError(
            "too_long",
            f"The text is {len(text)} characters long; SMS through Twilio allows at most {MAX_TEXT_LENGTH}.",
            retryable=False,
        )
    if message.kind is MessageKind.TEMPLATE:
        raise SendError("UNSUPPORTED_KIND", "SMS has no message templates; send plain text.", retryable=False)
    if message.buttons:
        raise SendError("UNSUPPORTED_BUTTONS", "SMS cannot show buttons.", retryable=False)
    media = [a.url for a in message.attachments if a.url]
    if len(media) != len(message.attachments):
        raise SendError("MEDIA_WITHOUT_URL", "Every attachment needs a public URL for MMS.", retryable=False)
    if len(media) > MAX_MEDIA:
        raise SendError(
            "TOO_MANY_MEDIA", f"An MMS can carry at most {MAX_MEDIA} media files.", retryable=False
        )
    if not text.strip() and not media:
        raise SendError("EMPTY_TEXT", "The message has no text or media to send.", retryable=False)
    to = message.recipient_id
    form: list[tuple[str, str]] = [("To", to)]
    from_number = config.get("from_number")
    prefix = (_address(to) or ("", ""))[0]
    if from_number:
        # A WhatsApp customer on the same Twilio number is answered from the same channel.
        form.append(("From", f"{prefix}:{from_number}" if prefix else str(from_number)))
    if config.get("messaging_service_sid"):
        form.append(("MessagingServiceSid", str(config["messaging_service_sid"])))
    if text:
        form.append(("Body", text))
    form.extend(("MediaUrl", url) for url in media)
    callback = config.get("status_callback_url") or config.get("webhook_url")
    if callback:
        form.append(("StatusCallback", str(callback)))
    return form


def _send_error(reply: Reply, channel_id: int) -> SendError:
    status = reply.status
    data = reply.body
    code = data.get("code") if isinstance(data.get("code"), int) else None
    message = data.get("message") if isinstance(data.get("message"), str) else None
    if code in _PERMANENT_CODES:
        retryable = False
    else:
        retryable = code in _RETRYABLE_CODES or reply.transient
    reason = REASONS.get(code) if code is not None else None
    if reason is None:
        reason = (
            f"Twilio refused the message: {message}"
            if message
            else f"Twilio refused the message (HTTP {status})."
        )
    elif code == 21211 and message:
        reason = f"{reason} Twilio says: {message}"
    log.warning(
        "twilio send failed",
        extra={
            "channel_id": channel_id,
            "http_status": status,
            "code": code,
            "twilio_message": message,
            "more_info": data.get("more_info"),
        },
    )
    return refusal(
        reply,
        code,
        reason,
        retryable=retryable,
        affects_channel=code in _CHANNEL_CODES or status == 401,
        throttled=code == 20429,
    )


sms = SmsConnector()
