"""E-mail: inbound parse webhooks (Mailgun routes, SendGrid Inbound Parse), Mailgun delivery
events, plain mailboxes over IMAP (ingress/mailbox_poller.py feeds `parse_raw_message`), and sending over SMTP.

Every inbound path ends in the same `Mail` → `InboundMessage` step, so a message threads the same
way whether a provider posted it or the poller fetched it: the platform id is the Message-ID, the
customer is the From address, replies thread on In-Reply-To/References (connectors/email_threading.py).

Mailgun signs `timestamp + token` (not the body) with the webhook signing key; requests older than
five minutes are refused, and a token carries one body only (`replay_nonce`). A multipart post cut
before its closing boundary is refused (400), never stored in part. SendGrid's Inbound Parse is unsigned, so its URL carries a secret
(`?key=`), compared in constant time.
"""

from __future__ import annotations

import codecs
import hashlib
import hmac
import logging
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.parser import BytesParser, HeaderParser
from email.policy import default as default_policy
from email.utils import format_datetime, getaddresses, parseaddr, parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any

import aiosmtplib
import httpx
import orjson
from python_multipart.multipart import MultipartParser, parse_options_header

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
    ReplayNonce,
    SendError,
    SendResult,
    StatusUpdate,
    WebhookRequest,
    nonempty_str,
)
from connectors.email_threading import (
    bounce_details,
    is_auto_reply,
    is_bounce,
    normalise_message_id,
    our_message_key,
    outbound_message_id,
    references_header,
    reply_subject,
    strip_reply,
    thread_refs,
)
from connectors.http import NETWORK_ERROR, TIMEOUT

log = logging.getLogger(__name__)

MAX_TEXT_LENGTH = 100_000
FULL_TEXT_CAP = 10_000  # the unstripped body kept in metadata, for the agent who needs the quote
REPLAY_WINDOW = 300.0  # seconds: Mailgun's timestamp must be this fresh
SEND_TIMEOUT = 30.0
DEFAULT_SMTP_PORT = 587
PROVIDERS = ("mailgun", "sendgrid")

_ADDRESS_RE = re.compile(
    r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)
_DOMAIN_RE = re.compile(
    r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_HEX_RE = re.compile(r"^[0-9a-fA-F]{64}$")
_FILE_FIELD_RE = re.compile(r"^attachment-?\d+$")

# Mailgun's `reason` of a failed event, for the agent.
_FAILURE_TITLES = {
    "bounce": "The recipient's mail server refused the message",
    "suppress-bounce": "Not sent: this address bounced before and is on the provider's bounce list",
    "suppress-unsubscribe": "Not sent: the recipient unsubscribed from this sender",
    "suppress-complaint": "Not sent: the recipient reported earlier mail from this sender as spam",
    "old": "The provider gave up delivering the message after retrying for hours",
    "espblock": "The provider blocked the message",
    "generic": "The message could not be delivered",
}


class EmailConnector:
    platform = Platform.EMAIL
    max_text_length = MAX_TEXT_LENGTH
    # Inbound-parse posts carry the attachments (Mailgun allows 25 MB messages): above the
    # general webhook limit, or Mailgun would retry a 413 for hours.
    max_webhook_body = 30 * 1024 * 1024
    capabilities = Capabilities(
        reply_window=None,  # e-mail can always be answered
        can_initiate=True,  # to any address
        address_kind="email",
        media=True,  # attachments go out as links in the body (we never fetch remote files)
        max_attachments=10,
        buttons=False,
        delivery_statuses=True,  # Mailgun delivered/failed events
        # Mailgun's "opened" is mapped to READ, but it is unreliable (image proxies open every
        # message, blocked images open none), so the product must not promise read receipts.
        read_statuses=False,
        edits=False,
    )
    secret_names = ("mailgun_signing_key", "inbound_key", "smtp_password", "imap_password")
    # The inbound URL's key is ours to choose; Mailgun issues its signing key, mail hosts the passwords.
    generated_secrets = ("inbound_key",)

    # ---- configuration ----------------------------------------------------------------------

    def validate_config(self, config: Mapping[str, Any], secrets: Mapping[str, str]) -> list[str]:
        problems: list[str] = []
        address = config.get("address")
        if not address:
            problems.append("The support address (address) is required: replies are sent from it.")
        elif not isinstance(address, str) or not _ADDRESS_RE.match(address):
            problems.append(
                "The support address (address) must be an e-mail address like support@example.com."
            )
        display_name = config.get("display_name")
        if display_name is not None and not isinstance(display_name, str):
            problems.append("The display name (display_name) must be text.")
        domain = config.get("domain")
        if domain is not None and not (isinstance(domain, str) and _DOMAIN_RE.match(domain)):
            problems.append("The domain (domain) must be a host name like mail.example.com.")
        provider = config.get("provider")
        imap_host = config.get("imap_host")
        if provider is not None and provider not in PROVIDERS:
            problems.append('The inbound provider (provider) must be "mailgun" or "sendgrid".')
        if provider is None and not imap_host:
            problems.append(
                "Choose how e-mail arrives: an inbound provider (provider: mailgun or sendgrid) "
                "or a mailbox to poll (imap_host)."
            )
        if provider == "mailgun" and not _secret(secrets, "mailgun_signing_key"):
            problems.append("The Mailgun HTTP webhook signing key (mailgun_signing_key) is required.")
        if provider == "sendgrid" and not _secret(secrets, "inbound_key"):
            problems.append(
                "The inbound URL key (inbound_key) is required to protect SendGrid's Inbound Parse URL."
            )
        smtp_host = config.get("smtp_host")
        if not smtp_host:
            problems.append("The SMTP server (smtp_host) is required to send replies.")
        elif not isinstance(smtp_host, str) or any(c.isspace() for c in smtp_host):
            problems.append("The SMTP server (smtp_host) must be a host name.")
        problems.extend(_port_problem(config, "smtp_port", "SMTP"))
        for key in ("smtp_starttls", "smtp_ssl", "imap_ssl"):
            if key in config and not isinstance(config[key], bool):
                problems.append(f"The setting {key} must be true or false.")
        if config.get("smtp_starttls") is True and config.get("smtp_ssl") is True:
            problems.append("Use either implicit TLS (smtp_ssl) or STARTTLS (smtp_starttls), not both.")
        if config.get("smtp_username") and not _secret(secrets, "smtp_password"):
            problems.append("The SMTP password (smtp_password) is required with an SMTP username.")
        if imap_host is not None:
            if not isinstance(imap_host, str) or not imap_host or any(c.isspace() for c in imap_host):
                problems.append("The IMAP server (imap_host) must be a host name.")
            if not config.get("imap_username"):
                problems.append("The IMAP username (imap_username) is required to read the mailbox.")
            if not _secret(secrets, "imap_password"):
                problems.append("The IMAP password (imap_password) is required to read the mailbox.")
            problems.extend(_port_problem(config, "imap_port", "IMAP"))
            folder = config.get("imap_folder")
            if folder is not None and not (isinstance(folder, str) and folder.strip()):
                problems.append("The IMAP folder (imap_folder) must be a folder name such as INBOX.")
        return problems

    # ---- webhooks -----------------------------------------------------------------------------

    def handshake(self, request: WebhookRequest, channel: ChannelCredentials) -> HandshakeReply | None:
        return None  # neither Mailgun nor SendGrid verifies the URL with a GET

    def verify(self, request: WebhookRequest, channel: ChannelCredentials, *, now: float) -> bool:
        provider = channel.config.get("provider")
        if provider == "sendgrid":
            expected = _secret(channel.secrets, "inbound_key")
            given = request.query.get("key") or ""
            return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())
        if provider != "mailgun":
            return False  # a mailbox-only channel takes no webhooks
        key = _secret(channel.secrets, "mailgun_signing_key")
        if not key:
            return False
        fields = _signature_fields(request)  # MalformedPayload: a body cut short is a 400, not a 401
        if fields is None:
            return False
        timestamp, token, signature = fields
        if not timestamp.isdigit() or abs(now - int(timestamp)) > REPLAY_WINDOW:
            return False
        if not _HEX_RE.match(signature) or not token:
            return False
        expected = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
        # The signature covers timestamp and token only (Mailgun's scheme), not the body: see
        # replay_nonce for what keeps a captured triple from carrying another e-mail.
        return hmac.compare_digest(signature.lower(), expected)

    def replay_nonce(self, request: WebhookRequest, channel: ChannelCredentials) -> ReplayNonce | None:
        """Mailgun's token, single-use (its documentation says to cache tokens against replay),
        remembered for the whole span in which its timestamp passes `verify`."""
        if channel.config.get("provider") != "mailgun":
            return None  # SendGrid's URL key is the same on every post: there is no nonce
        fields = _signature_fields(request)
        return ReplayNonce(key=fields[1], window=2 * REPLAY_WINDOW) if fields else None

    def parse(self, request: WebhookRequest, channel: ChannelCredentials) -> ParsedWebhook:
        content_type = _content_type(request)
        if content_type == "application/json":
            return ParsedWebhook(statuses=tuple(_mailgun_event(request.json_object())))
        form = _parse_form(request.body, request.header("content-type") or "")
        if "event-data" in form.fields:  # an event posted as a form: its JSON in one field
            try:
                data = orjson.loads(form.text("event-data"))
            except orjson.JSONDecodeError:
                raise MalformedPayload("event-data is not JSON") from None
            return ParsedWebhook(statuses=tuple(_mailgun_event({"event-data": data})))
        raw = form.fields.get("body-mime") or form.fields.get("email")
        if raw:  # Mailgun's forward-to-".../mime" routes, SendGrid's "Send Raw" mode
            source = "mailgun" if "body-mime" in form.fields else "sendgrid"
            return _parsed(_mail_from_raw(raw), channel, source)
        if "message-headers" in form.fields or "body-plain" in form.fields:
            return _parsed(_mail_from_mailgun(form), channel, "mailgun")
        if "headers" in form.fields and ("from" in form.fields or "text" in form.fields):
            return _parsed(_mail_from_sendgrid(form), channel, "sendgrid")
        raise MalformedPayload(
            "the body is neither a Mailgun route, a Mailgun event nor a SendGrid Inbound Parse post"
        )

    # ---- sending ------------------------------------------------------------------------------

    async def send(
        self, http: httpx.AsyncClient, channel: ChannelCredentials, message: OutboundMessage
    ) -> SendResult:
        config = channel.config
        outgoing = build_message(channel, message)
        message_id = str(outgoing["Message-ID"])
        host = str(config.get("smtp_host") or "")
        if not host:
            raise SendError(
                "NOT_CONFIGURED",
                "The channel has no SMTP server (smtp_host) to send from.",
                retryable=False,
                affects_channel=True,
            )
        use_tls = bool(config.get("smtp_ssl", False))
        port = int(config.get("smtp_port") or (465 if use_tls else DEFAULT_SMTP_PORT))
        username = config.get("smtp_username") or None
        try:
            await aiosmtplib.send(
                outgoing,
                hostname=host,
                port=port,
                username=username,
                password=channel.secrets.get("smtp_password") if username else None,
                use_tls=use_tls,
                # STARTTLS is required unless the admin turned it off (a local relay, tests).
                start_tls=False if use_tls else bool(config.get("smtp_starttls", True)),
                timeout=SEND_TIMEOUT,
            )
        except aiosmtplib.SMTPException as exc:
            raise _smtp_error(exc, channel.channel_id) from exc
        except OSError as exc:  # refused, unreachable, TLS handshake failures
            raise SendError(
                TIMEOUT if isinstance(exc, TimeoutError) else NETWORK_ERROR,
                f"Could not reach the SMTP server {host}:{port} ({exc!r}).",
                retryable=True,
            ) from exc
        return SendResult(platform_message_id=message_id)


# ---- building outbound mail -------------------------------------------------------------------------


def build_message(channel: ChannelCredentials, message: OutboundMessage) -> EmailMessage:
    """The e-mail for an outbound message. Raises SendError for what can never be sent."""
    config = channel.config
    recipient = (message.recipient_id or "").strip()
    if not _ADDRESS_RE.match(recipient):
        raise SendError("INVALID_ADDRESS", f"{recipient!r} is not an e-mail address.", retryable=False)
    if message.kind is MessageKind.TEMPLATE:
        raise SendError("UNSUPPORTED_KIND", "E-mail has no message templates; send text.", retryable=False)
    text = message.text or ""
    if len(text) > MAX_TEXT_LENGTH:
        raise SendError(
            "too_long",
            f"The text is {len(text)} characters long; e-mails from here are at most {MAX_TEXT_LENGTH}.",
            retryable=False,
        )
    body = _body(text, message)
    if not body.strip():
        raise SendError("EMPTY_TEXT", "The message has no text to send.", retryable=False)
    address = str(config.get("address") or "")
    if not _ADDRESS_RE.match(address):
        raise SendError(
            "NOT_CONFIGURED",
            "The channel's support address (address) is not set up.",
            retryable=False,
            affects_channel=True,
        )
    domain = str(config.get("domain") or address.rsplit("@", 1)[1])
    metadata = message.metadata or {}
    in_reply_to = normalise_message_id(
        nonempty_str(metadata.get("in_reply_to")) or message.reply_to_platform_id
    )
    references = metadata.get("references")
    references = [r for r in references if isinstance(r, str)] if isinstance(references, list | tuple) else []
    subject = nonempty_str(metadata.get("subject"))
    if in_reply_to:
        subject = reply_subject(subject) or "Re: your message"
    elif not subject:
        subject = f"A message from {nonempty_str(config.get('display_name')) or address}"

    outgoing = EmailMessage()
    local, _, host = address.partition("@")
    outgoing["From"] = Address(
        display_name=nonempty_str(config.get("display_name")) or "", username=local, domain=host
    )
    outgoing["To"] = recipient
    outgoing["Subject"] = " ".join(subject.split())
    outgoing["Date"] = format_datetime(datetime.now(UTC))
    outgoing["Message-ID"] = outbound_message_id(message.idempotency_key, domain, channel.channel_id)
    if in_reply_to:
        outgoing["In-Reply-To"] = in_reply_to
        outgoing["References"] = " ".join(references_header(references, in_reply_to))
    outgoing.set_content(body)
    return outgoing


def _body(text: str, message: OutboundMessage) -> str:
    """The text, then attachments and link buttons as links: remote files are not fetched, so a
    link is the honest way to hand them over."""
    lines = []
    for attachment in message.attachments:
        if attachment.url:
            label = attachment.filename or attachment.kind.value.capitalize()
            lines.append(f"- {label}: {attachment.url}")
    links = [f"- {b.title}: {b.url}" for b in message.buttons if b.url]
    parts = [text.rstrip()] if text.strip() else []
    if lines:
        parts.append("Attachments:\n" + "\n".join(lines))
    if links:
        parts.append("Links:\n" + "\n".join(links))
    return "\n\n".join(parts) + "\n" if parts else ""


def _smtp_error(exc: aiosmtplib.SMTPException, channel_id: int) -> SendError:
    log.warning("smtp send failed", extra={"channel_id": channel_id, "error": repr(exc)})
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return SendError(
            "SMTP_AUTH",
            "SMTP login failed: the server refused the channel's SMTP username or password; "
            f"update them in the channel settings. The server said: {exc.code} {exc.message}",
            retryable=False,
            affects_channel=True,
        )
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        refused = exc.recipients[0]
        return _coded_error(refused.code, refused.message, "The recipient's address was refused")
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        error = _coded_error(exc.code, exc.message, "The SMTP server refused the channel's From address")
        error.affects_channel = not error.retryable
        return error
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return _coded_error(exc.code, exc.message, "The SMTP server refused the message")
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return SendError(
            "SMTP_NOT_SUPPORTED",
            f"The SMTP server does not support what the channel settings ask for ({exc}); "
            "check the STARTTLS/TLS settings and the port.",
            retryable=False,
            affects_channel=True,
        )
    # Timeouts, disconnects, connection failures: the same message can go through later. They
    # carry the transport codes every HTTP connector uses, although SMTP is not HTTP.
    return SendError(
        TIMEOUT if isinstance(exc, aiosmtplib.SMTPTimeoutError) else NETWORK_ERROR,
        f"The SMTP server could not be reached or hung up ({exc}).",
        retryable=True,
    )


def _coded_error(code: int, text: str, what: str) -> SendError:
    server_text = " ".join(str(text or "").split())
    if 400 <= code < 500:
        return SendError(
            f"SMTP_{code}",
            f"{what} for now ({code} {server_text}); it will be retried.",
            retryable=True,
        )
    return SendError(f"SMTP_{code}", f"{what}: {code} {server_text}".rstrip(), retryable=False)


# ---- inbound: the common model ------------------------------------------------------------------------


@dataclass
class Mail:
    """One received e-mail, whichever way it came in."""

    message_id: str | None = None
    from_header: str | None = None
    envelope_sender: str | None = None
    subject: str | None = None
    date: str | None = None
    in_reply_to: str | None = None
    references: str | None = None
    reply_to: str | None = None
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # lower-case name → first value
    content_type: str | None = None
    body: str = ""  # the whole plain-text body (from HTML when there is no plain part)
    stripped: str | None = None  # the provider's own reply stripping, when it did it
    attachments: list[Attachment] = field(default_factory=list)
    bounced_id: str | None = None  # a DSN: the Message-ID of the message that bounced
    bounce_reason: str | None = None


class NoSender(MalformedPayload):
    """An e-mail without a usable From address: there is nobody to file it under."""


def parse_raw_message(raw: bytes, channel: ChannelCredentials, source: str = "imap") -> ParsedWebhook:
    """A raw RFC 5322 message (an IMAP fetch) as messages/statuses. Raises NoSender."""
    return _parsed(_mail_from_raw(raw), channel, source)


def _parsed(mail: Mail, channel: ChannelCredentials, source: str) -> ParsedWebhook:
    from_name, from_address = parseaddr(mail.from_header or "")
    if not _ADDRESS_RE.match(from_address or ""):
        from_address = parseaddr(mail.envelope_sender or "")[1]
    from_address = (from_address or "").strip().lower()
    if not _ADDRESS_RE.match(from_address):
        raise NoSender("the e-mail has no From address")
    message_id = normalise_message_id(mail.message_id)
    own = str(channel.config.get("address") or "").lower()
    if from_address == own or _is_ours(message_id, channel):
        # Our own mail coming back (a copy in the mailbox, a BCC to ourselves): never a customer's.
        log.info("email from our own address ignored", extra={"channel_id": channel.channel_id})
        return ParsedWebhook()
    headers = mail.headers
    auto_reply = is_auto_reply(headers)
    bounce = is_bounce(mail.content_type, headers)
    full = mail.body.replace("\r\n", "\n").replace("\r", "\n").strip()
    text = mail.stripped.strip() if mail.stripped and mail.stripped.strip() else strip_reply(full)
    subject = " ".join((mail.subject or "").split()) or None
    metadata: dict[str, Any] = {"subject": subject, "source": source}
    if full and full != text:
        metadata["full_text"] = full[:FULL_TEXT_CAP]
        if len(full) > FULL_TEXT_CAP:
            metadata["full_text_truncated"] = True
    if len(text) > MAX_TEXT_LENGTH:
        text = text[:MAX_TEXT_LENGTH]
        metadata["text_truncated"] = True
    if mail.to:
        metadata["to"] = mail.to
    if mail.cc:
        metadata["cc"] = mail.cc
    reply_to = parseaddr(mail.reply_to or "")[1].lower()
    if reply_to and reply_to != from_address:
        metadata["reply_to"] = reply_to  # shown to the agent; replies still go to From
    if auto_reply:
        metadata["auto_reply"] = True
    if bounce:
        metadata["bounce"] = True
    attachments = tuple(mail.attachments)
    kind = MessageKind.TEXT
    if not text:
        if attachments:
            kind = attachments[0].kind
        text = subject or ""
    refs = thread_refs(mail.in_reply_to, mail.references)
    inbound = InboundMessage(
        platform_message_id=message_id or _synthetic_id(from_address, mail),
        sender_id=from_address,
        sent_at=_sent_at(mail.date),
        kind=kind,
        text=text or None,
        sender_name=from_name.strip() or None,
        sender_email=from_address,
        reply_to_platform_id=normalise_message_id(mail.in_reply_to),
        thread_refs=refs,
        new_thread=not refs,
        attachments=attachments,
        metadata=metadata,
    )
    statuses: list[StatusUpdate] = []
    if bounce and mail.bounced_id and _is_ours(mail.bounced_id, channel):
        # A DSN for one of our messages (mailboxes without provider events): mark it failed.
        statuses.append(
            StatusUpdate(
                platform_message_id=mail.bounced_id,
                status=DeliveryStatus.FAILED,
                occurred_at=inbound.sent_at,
                error_code="bounce",
                error_title="The message bounced",
                error_detail=mail.bounce_reason,
            )
        )
    return ParsedWebhook(messages=(inbound,), statuses=tuple(statuses))


def _is_ours(message_id: str | None, channel: ChannelCredentials) -> bool:
    key = our_message_key(message_id)
    if key is None or message_id is None:
        return False
    domain = message_id.rsplit("@", 1)[1].rstrip(">")
    return outbound_message_id(key, domain, channel.channel_id) == message_id


def _synthetic_id(sender: str, mail: Mail) -> str:
    """A stable id for mail without a Message-ID, so a redelivery still dedupes."""
    seed = "\n".join([sender, mail.date or "", mail.subject or "", mail.body])
    return (
        f"<sha256.{hashlib.sha256(seed.encode('utf-8', 'replace')).hexdigest()[:40]}@no-message-id.invalid>"
    )


def _sent_at(value: str | None) -> datetime:
    if value:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.now(UTC)


# ---- inbound: raw RFC 5322 ------------------------------------------------------------------------------


def _mail_from_raw(raw: bytes) -> Mail:
    message = BytesParser(policy=default_policy).parsebytes(raw)
    return _mail_from_message(message)


def _mail_from_message(message: Message) -> Mail:
    headers = _headers(message)
    mail = Mail(
        message_id=headers.get("message-id"),
        from_header=headers.get("from"),
        envelope_sender=headers.get("return-path"),
        subject=headers.get("subject"),
        date=headers.get("date"),
        in_reply_to=headers.get("in-reply-to"),
        references=headers.get("references"),
        reply_to=headers.get("reply-to"),
        to=_addresses(message, "to"),
        cc=_addresses(message, "cc"),
        headers=headers,
        content_type=headers.get("content-type") or message.get_content_type(),
    )
    plain, html, attachments = _walk(message)
    mail.body = plain if plain.strip() else _html_to_text(html)
    mail.attachments = attachments
    if is_bounce(mail.content_type, headers):
        mail.bounced_id, mail.bounce_reason = bounce_details(message)
    return mail


def _headers(message: Message) -> dict[str, str]:
    result: dict[str, str] = {}
    for name in message.keys():
        key = name.lower()
        if key in result:
            continue
        try:
            value = str(message.get(name))
        except Exception:  # a header the modern parser cannot decode: keep its raw form
            value = str(message.get_all(name, [""])[0])
        result[key] = " ".join(value.split())
    return result


def _addresses(message: Message, name: str) -> list[str]:
    try:
        values = [str(v) for v in message.get_all(name, [])]
    except Exception:
        return []
    return [a.lower() for _, a in getaddresses(values) if a]


_NOT_ATTACHMENTS = {"message/delivery-status", "text/rfc822-headers", "message/rfc822-headers"}


def _walk(message: Message) -> tuple[str, str, list[Attachment]]:
    """(plain body, html body, attachments) of a MIME tree: the first plain and html parts that
    are not attachments are the body; files are described, not kept (only name, type and size
    are stored; the content is dropped here)."""
    plain: str | None = None
    html: str | None = None
    attachments: list[Attachment] = []
    report = message.get_content_type() == "multipart/report"

    def visit(part: Message) -> None:
        nonlocal plain, html
        ctype = part.get_content_type()
        if part.is_multipart() and not ctype.startswith("message/"):
            for sub in part.get_payload():
                if isinstance(sub, Message):
                    visit(sub)
            return
        filename = part.get_filename()
        disposition = (part.get_content_disposition() or "").lower()
        is_file = disposition == "attachment" or filename is not None
        if ctype.startswith("message/") or ctype in _NOT_ATTACHMENTS:
            if report or ctype in _NOT_ATTACHMENTS:
                return  # a DSN's machine parts: read by bounce_details, not files for the agent
            is_file = True
            filename = filename or "message.eml"
        if not is_file and ctype == "text/plain" and plain is None:
            plain = _decode_text(part)
            return
        if not is_file and ctype == "text/html" and html is None:
            html = _decode_text(part)
            return
        if not is_file and ctype.startswith("text/"):
            return  # further inline text parts (rare): the first one is the message
        attachments.append(_attachment_of(part, ctype, filename))

    visit(message)
    return plain or "", html or "", attachments


def _decode_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        payload = str(part.get_payload() or "").encode("utf-8", "surrogateescape")
    return _decode_bytes(payload, part.get_content_charset())


def _decode_bytes(data: bytes, charset: str | None) -> str:
    try:
        codec = codecs.lookup(charset or "utf-8").name
    except LookupError:
        codec = "utf-8"
    return data.decode(codec, errors="replace")


def _attachment_of(part: Message, ctype: str, filename: str | None) -> Attachment:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):  # message/rfc822: the serialised inner message
        payload = part.as_bytes() if hasattr(part, "as_bytes") else b""
    return Attachment(
        kind=_kind_of(ctype),
        mime_type=ctype,
        filename=filename,
        size=len(payload),
        sha256=hashlib.sha256(payload).hexdigest(),
    )


def _kind_of(mime_type: str | None) -> MessageKind:
    main = (mime_type or "").split("/", 1)[0].lower()
    return {"image": MessageKind.IMAGE, "audio": MessageKind.AUDIO, "video": MessageKind.VIDEO}.get(
        main, MessageKind.DOCUMENT
    )


class _TextExtractor(HTMLParser):
    """Readable text of an HTML body. Blockquoted history (Gmail's, Outlook's) comes out as
    "> " lines, so strip_reply treats it like a plain-text quote."""

    _BLOCKS = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._quote = 0

    def _newline(self) -> None:
        self.parts.append("\n" + "> " * self._quote)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head"):
            self._skip += 1
            return
        if tag == "blockquote":
            self._quote += 1
        if tag in self._BLOCKS:
            self._newline()

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head"):
            self._skip = max(0, self._skip - 1)
            return
        if tag == "blockquote":
            self._quote = max(0, self._quote - 1)
        if tag in self._BLOCKS:
            self._newline()

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._quote:
            data = data.replace("\n", "\n" + "> " * self._quote)
        self.parts.append(data)


def _html_to_text(html: str) -> str:
    if not html.strip():
        return ""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    lines = [" ".join(line.split()) for line in "".join(extractor.parts).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# ---- inbound: form posts (Mailgun routes, SendGrid Inbound Parse) ---------------------------------------


@dataclass
class _File:
    name: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class _Form:
    fields: dict[str, bytes] = field(default_factory=dict)
    files: list[_File] = field(default_factory=list)
    charsets: dict[str, str] = field(default_factory=dict)  # field → charset (SendGrid's `charsets`)
    part_charsets: dict[str, str] = field(default_factory=dict)

    def text(self, name: str) -> str:
        raw = self.fields.get(name)
        if raw is None:
            return ""
        return _decode_bytes(raw, self.charsets.get(name) or self.part_charsets.get(name))

    def get(self, *names: str) -> str | None:
        for name in names:
            if name in self.fields:
                value = self.text(name)
                if value:
                    return value
        return None


def _parse_form(body: bytes, content_type_header: str) -> _Form:
    mime, options = parse_options_header(content_type_header)
    form = _Form()
    if mime == b"multipart/form-data":
        boundary = options.get(b"boundary")
        if not boundary:
            raise MalformedPayload("multipart body without a boundary")
        _parse_multipart(body, boundary, form)
    elif mime == b"application/x-www-form-urlencoded":
        try:
            text = body.decode("ascii")
        except UnicodeDecodeError:
            text = body.decode("utf-8", errors="replace")  # lenient senders forget to escape
        for name, value in urllib.parse.parse_qsl(text, keep_blank_values=True, encoding="latin-1"):
            # latin-1 round-trips every percent-escaped byte; the real charset is applied on read.
            form.fields.setdefault(name.encode("latin-1").decode("utf-8", "replace"), value.encode("latin-1"))
    else:
        raise MalformedPayload(f"unexpected content type {mime.decode('latin-1')!r}")
    charsets = form.fields.get("charsets")
    if charsets:
        try:
            data = orjson.loads(charsets)
        except orjson.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            form.charsets = {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}
    return form


def _parse_multipart(body: bytes, boundary: bytes, form: _Form) -> None:
    state: dict[str, Any] = {"headers": {}, "field": b"", "value": b"", "data": [], "closed": False}

    def on_part_begin() -> None:
        state["headers"], state["data"] = {}, []

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][state["field"].decode("latin-1").lower()] = state["value"].decode("utf-8", "replace")
        state["field"], state["value"] = b"", b""

    def on_part_data(data: bytes, start: int, end: int) -> None:
        state["data"].append(data[start:end])

    def on_part_end() -> None:
        headers = state["headers"]
        _, disposition = parse_options_header(headers.get("content-disposition", ""))
        name = disposition.get(b"name", b"").decode("utf-8", "replace")
        filename = disposition.get(b"filename")
        data = b"".join(state["data"])
        ctype, ctype_options = parse_options_header(headers.get("content-type", ""))
        if filename is not None:
            form.files.append(
                _File(
                    name, filename.decode("utf-8", "replace") or None, ctype.decode("latin-1") or None, data
                )
            )
        elif name:
            form.fields.setdefault(name, data)
            if ctype_options.get(b"charset"):
                form.part_charsets[name] = ctype_options[b"charset"].decode("latin-1")

    def on_end() -> None:
        state["closed"] = True

    parser = MultipartParser(
        boundary,
        {
            "on_end": on_end,
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
        max_header_count=32,
    )
    try:
        parser.write(body)
        parser.finalize()
    except Exception as exc:  # python-multipart raises its own parse errors
        raise MalformedPayload(f"the multipart body is malformed: {exc}") from None
    if not state["closed"]:
        # python-multipart's finalize() does not check this: a post cut short (a proxy, a
        # timeout) would silently lose its last parts, and with them the text or the Message-Id.
        raise MalformedPayload("the multipart body ends before its closing boundary: it was cut short")


def _files_as_attachments(form: _Form, info: Mapping[str, Any] | None = None) -> list[Attachment]:
    """Uploaded files as attachments (name, type, size, hash; the bytes are not kept)."""
    result = []
    for upload in form.files:
        if not _FILE_FIELD_RE.match(upload.name):
            continue
        described = info.get(upload.name) if info else None
        described = described if isinstance(described, dict) else {}
        mime = upload.content_type or nonempty_str(described.get("type")) or "application/octet-stream"
        result.append(
            Attachment(
                kind=_kind_of(mime),
                mime_type=mime,
                filename=upload.filename or nonempty_str(described.get("filename")),
                size=len(upload.data),
                sha256=hashlib.sha256(upload.data).hexdigest(),
            )
        )
    return result


def _mail_from_mailgun(form: _Form) -> Mail:
    headers: dict[str, str] = {}
    raw_headers = form.text("message-headers")
    if raw_headers:
        try:
            pairs = orjson.loads(raw_headers)
        except orjson.JSONDecodeError:
            pairs = None
        if isinstance(pairs, list):
            for pair in pairs:
                if isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair):
                    headers.setdefault(pair[0].lower(), " ".join(pair[1].split()))
    # Routes also post the main headers as top-level fields ("Message-Id", "In-Reply-To", ...).
    for name in (
        "Message-Id",
        "In-Reply-To",
        "References",
        "Content-Type",
        "Date",
        "Auto-Submitted",
        "Precedence",
        "X-Autoreply",
        "X-Autorespond",
        "Reply-To",
        "Cc",
    ):
        value = form.get(name)
        if value:
            headers.setdefault(name.lower(), " ".join(value.split()))
    stripped = form.text("stripped-text")
    return Mail(
        message_id=headers.get("message-id"),
        from_header=form.get("from", "From") or headers.get("from"),
        envelope_sender=form.get("sender"),
        subject=form.get("subject", "Subject") or headers.get("subject"),
        date=headers.get("date"),
        in_reply_to=headers.get("in-reply-to"),
        references=headers.get("references"),
        reply_to=headers.get("reply-to"),
        to=[
            a.lower()
            for _, a in getaddresses([form.get("To") or headers.get("to") or form.get("recipient") or ""])
            if a
        ],
        cc=[a.lower() for _, a in getaddresses([headers.get("cc") or ""]) if a],
        headers=headers,
        content_type=headers.get("content-type"),
        body=form.text("body-plain") or _html_to_text(form.text("body-html")),
        stripped=stripped or None,
        attachments=_files_as_attachments(form),
    )


def _mail_from_sendgrid(form: _Form) -> Mail:
    header_block = form.text("headers")
    parsed = HeaderParser(policy=default_policy).parsestr(header_block) if header_block else Message()
    headers = _headers(parsed)
    info = None
    raw_info = form.text("attachment-info")
    if raw_info:
        try:
            info = orjson.loads(raw_info)
        except orjson.JSONDecodeError:
            info = None
    envelope_sender = None
    raw_envelope = form.text("envelope")
    if raw_envelope:
        try:
            envelope = orjson.loads(raw_envelope)
        except orjson.JSONDecodeError:
            envelope = None
        if isinstance(envelope, dict):
            envelope_sender = nonempty_str(envelope.get("from"))
    return Mail(
        message_id=headers.get("message-id"),
        from_header=form.get("from") or headers.get("from"),
        envelope_sender=envelope_sender,
        subject=form.get("subject") or headers.get("subject"),
        date=headers.get("date"),
        in_reply_to=headers.get("in-reply-to"),
        references=headers.get("references"),
        reply_to=headers.get("reply-to"),
        to=[a.lower() for _, a in getaddresses([form.get("to") or ""]) if a],
        cc=[a.lower() for _, a in getaddresses([form.get("cc") or ""]) if a],
        headers=headers,
        content_type=headers.get("content-type"),
        body=form.text("text") or _html_to_text(form.text("html")),
        attachments=_files_as_attachments(form, info if isinstance(info, dict) else None),
    )


# ---- Mailgun events ---------------------------------------------------------------------------------------


def _signature_fields(request: WebhookRequest) -> tuple[str, str, str] | None:
    """(timestamp, token, signature) of a Mailgun request: form fields (routes) or the JSON
    body's `signature` object (event webhooks)."""
    content_type = _content_type(request)
    if content_type == "application/json":
        data = request.json_object()
        signature = data.get("signature")
        if not isinstance(signature, dict):
            return None
        values = (signature.get("timestamp"), signature.get("token"), signature.get("signature"))
    elif content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = _parse_form(request.body, request.header("content-type") or "")
        values = (form.text("timestamp"), form.text("token"), form.text("signature"))
    else:
        return None  # no content type: nothing says how to read the fields
    if isinstance(values[0], int | float) and not isinstance(values[0], bool):
        values = (str(int(values[0])), values[1], values[2])
    if not all(isinstance(v, str) and v for v in values):
        return None
    return values  # type: ignore[return-value]


def _mailgun_event(data: Mapping[str, Any]) -> list[StatusUpdate]:
    event = data.get("event-data")
    if not isinstance(event, dict):
        raise MalformedPayload("a Mailgun event webhook carries an event-data object")
    name = event.get("event")
    message = event.get("message") if isinstance(event.get("message"), dict) else {}
    headers = message.get("headers") if isinstance(message.get("headers"), dict) else {}
    message_id = normalise_message_id(nonempty_str(headers.get("message-id")))
    if message_id is None:
        log.warning("mailgun event without a message-id skipped", extra={"event": name})
        return []
    occurred_at = _event_time(event.get("timestamp"))
    recipient = nonempty_str(event.get("recipient"))
    if name == "delivered":
        status = DeliveryStatus.DELIVERED
    elif name == "opened":
        status = DeliveryStatus.READ  # unreliable (see Capabilities.read_statuses)
    elif name == "failed":
        if event.get("severity") == "temporary":
            # Mailgun keeps retrying a temporary failure for hours and reports a permanent one
            # when it gives up; FAILED is terminal here, so a later "delivered" would be lost.
            log.info("mailgun temporary failure: delivery is being retried", extra={"message_id": message_id})
            return []
        status = DeliveryStatus.FAILED
    else:
        return []  # accepted, clicked, complained, unsubscribed, stored: not delivery states
    if status is not DeliveryStatus.FAILED:
        return [StatusUpdate(message_id, status, occurred_at, recipient_id=recipient)]
    delivery = event.get("delivery-status") if isinstance(event.get("delivery-status"), dict) else {}
    reason = nonempty_str(event.get("reason")) or "generic"
    code = delivery.get("code")
    detail = nonempty_str(delivery.get("message")) or nonempty_str(delivery.get("description"))
    return [
        StatusUpdate(
            message_id,
            DeliveryStatus.FAILED,
            occurred_at,
            recipient_id=recipient,
            error_code=str(code) if isinstance(code, int) and code else reason,
            error_title=_FAILURE_TITLES.get(reason, _FAILURE_TITLES["generic"]),
            error_detail=" ".join(detail.split()) if detail else None,
        )
    ]


def _event_time(value: Any) -> datetime:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(float(value), tz=UTC)
        except (OverflowError, OSError, ValueError):
            pass
    return datetime.now(UTC)


# ---- small helpers ----------------------------------------------------------------------------------------


def _secret(secrets: Mapping[str, str], name: str) -> str:
    value = secrets.get(name)
    return value.strip() if isinstance(value, str) else ""


def _content_type(request: WebhookRequest) -> str:
    return (request.header("content-type") or "").split(";")[0].strip().lower()


def _port_problem(config: Mapping[str, Any], key: str, label: str) -> list[str]:
    value = config.get(key)
    if value is None:
        return []
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        return [f"The {label} port ({key}) must be a number between 1 and 65535."]
    return []


__all__ = ["EmailConnector", "Mail", "NoSender", "build_message", "email", "parse_raw_message"]

email = EmailConnector()
