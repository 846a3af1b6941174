"""The e-mail connector: every sample parsed to concrete values (the Mailgun route as a real
multipart and urlencoded post, SendGrid Inbound Parse behind its URL key, the raw .eml through the
IMAP poller), Mailgun's signature vectors and replay window, threading and automatic-mail flags,
SMTP sends against a real SMTP server (headers, threading, a deterministic Message-ID, errors
classified for retries), the IMAP poller against a real IMAP server (cursor, UIDVALIDITY, lock),
and the whole path through the real app: a signed route post is stored once, an agent's reply
leaves over SMTP in the customer's thread, and Mailgun's delivered event comes back."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from connectors.base import (
    Attachment,
    Button,
    ChannelCredentials,
    DeliveryStatus,
    MalformedPayload,
    MessageKind,
    OutboundMessage,
    Platform,
    SendError,
    WebhookRequest,
)
from connectors.email import FULL_TEXT_CAP, MAX_TEXT_LENGTH, NoSender, build_message, email, parse_raw_message
from connectors.email_threading import (
    normalise_message_id,
    outbound_message_id,
    reply_subject,
    strip_reply,
    thread_refs,
)
from connectors.registry import get_connector
from tests.conftest import DATABASE_URL, SAMPLES
from tests.fakes.email import (
    FakeIMAP,
    FakeSMTP,
    event_payload,
    mailgun_signature,
    make_mail,
    multipart_form,
    post_event,
    post_route,
    post_sendgrid,
    route_fields_from_mail,
    signed_event_request,
    signed_route_request,
)
from tests.helpers import ConnectorCase, connector_case

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

EMAIL = SAMPLES / "email"
VECTORS = [
    v
    for v in json.loads((SAMPLES / "signature_vectors.json").read_text())
    if v["platform"] == "email-mailgun"
]
KEY = "test-secret"
URL = "https://support.example.com/webhooks/email/7"
ROUTE = json.loads((EMAIL / "mailgun_route_inbound.json").read_text())
ROUTE_NOW = float(ROUTE["timestamp"])
SAMPLE_ID = "<CAFAKE1234567890abcdef@mail.example.org>"
EARLIER_ID = "<conversation/0f1e2d3c-4b5a-6978-8899-aabbccddeeff/messages/42@example.com>"
CONFIG = {"provider": "mailgun", "address": "support@example.com", "display_name": "Acme Support"}
CHANNEL = ChannelCredentials(channel_id=7, config=CONFIG, secrets={"mailgun_signing_key": KEY})
SENDGRID = ChannelCredentials(
    channel_id=8,
    config={"provider": "sendgrid", "address": "support@parse.example.com"},
    secrets={"inbound_key": "url-key-123"},
)


def _request(body: bytes, content_type: str | None, query: dict[str, str] | None = None) -> WebhookRequest:
    headers = {"content-type": content_type} if content_type else {}
    query = query or {}
    url = URL + ("?" + urllib.parse.urlencode(query) if query else "")
    return WebhookRequest(method="POST", url=url, headers=headers, query=query, body=body)


def _route_multipart(
    fields: dict[str, str], files: list[tuple[str, str, str, bytes]] | None = None
) -> WebhookRequest:
    body, content_type = multipart_form(fields, files or [])
    return _request(body, content_type)


def _route_urlencoded(fields: dict[str, str]) -> WebhookRequest:
    return _request(urllib.parse.urlencode(fields).encode(), "application/x-www-form-urlencoded")


def _event(name: str) -> WebhookRequest:
    return _request((EMAIL / name).read_bytes(), "application/json")


# ---- samples ------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["multipart", "urlencoded"])
def test_mailgun_route_sample_as_a_real_form_post(encoding: str) -> None:
    request = _route_multipart(ROUTE) if encoding == "multipart" else _route_urlencoded(ROUTE)
    assert email.verify(request, CHANNEL, now=ROUTE_NOW)
    parsed = email.parse(request, CHANNEL)
    assert not parsed.statuses and not parsed.edits
    (message,) = parsed.messages
    assert message.platform_message_id == SAMPLE_ID
    assert message.sender_id == "jane@example.org"
    assert message.sender_email == "jane@example.org"
    assert message.sender_name == "Jane Doe"
    assert message.kind is MessageKind.TEXT
    assert message.text == "Hi, does it come in blue?"  # Mailgun's stripped-text, no quote
    assert message.sent_at == datetime(2026, 11, 25, 1, 2, 0, tzinfo=UTC)
    assert message.reply_to_platform_id == EARLIER_ID
    assert message.thread_refs == (EARLIER_ID,)
    assert message.new_thread is False
    assert message.metadata["subject"] == "Does it come in another color?"
    assert message.metadata["source"] == "mailgun"
    assert message.metadata["full_text"].startswith("Hi, does it come in blue?\n\nOn Tue, Nov 24, 2026")
    assert "> Thanks for your order!" in message.metadata["full_text"]
    assert message.metadata["to"] == ["support@example.com"]
    assert "auto_reply" not in message.metadata and "bounce" not in message.metadata
    assert message.attachments == ()


def test_mailgun_route_with_attachments_describes_the_files() -> None:
    fields = {k: v for k, v in ROUTE.items() if k not in ("timestamp", "token", "signature")}
    fields["attachment-count"] = "2"
    pdf = b"%PDF-1.4 fake invoice" * 10
    request = _route_multipart(
        {**fields, **mailgun_signature(KEY, ROUTE_NOW)},
        [
            ("attachment-1", "invoice.pdf", "application/pdf", pdf),
            ("attachment-2", "photo.png", "image/png", b"\x89PNG\r\n\x1a\n" + bytes(range(256))),
        ],
    )
    assert email.verify(request, CHANNEL, now=ROUTE_NOW)
    (message,) = email.parse(request, CHANNEL).messages
    first, second = message.attachments
    assert (first.kind, first.filename, first.mime_type, first.size) == (
        MessageKind.DOCUMENT,
        "invoice.pdf",
        "application/pdf",
        len(pdf),
    )
    assert (second.kind, second.filename, second.mime_type, second.size) == (
        MessageKind.IMAGE,
        "photo.png",
        "image/png",
        8 + 256,
    )
    assert first.url is None and first.media_id is None  # described, not kept
    assert message.text == "Hi, does it come in blue?"


@pytest.mark.parametrize("name", ["mailgun_status_delivered.json", "mailgun_status_failed.json"])
def test_event_samples_verify_with_their_own_signatures(name: str) -> None:
    data = json.loads((EMAIL / name).read_text())
    assert email.verify(_event(name), CHANNEL, now=float(data["signature"]["timestamp"]))


def test_delivered_event_sample() -> None:
    (status,) = email.parse(_event("mailgun_status_delivered.json"), CHANNEL).statuses
    assert status.platform_message_id == "<20261125010203.1.FAKE@mg.example.com>"
    assert status.status is DeliveryStatus.DELIVERED
    assert status.recipient_id == "jane@example.org"
    assert status.occurred_at == datetime.fromtimestamp(1750030100.521003, tz=UTC)
    assert status.error_code is None


def test_failed_event_sample_carries_the_reason() -> None:
    (status,) = email.parse(_event("mailgun_status_failed.json"), CHANNEL).statuses
    assert status.platform_message_id == "<20261125010203.2.FAKE@mg.example.com>"
    assert status.status is DeliveryStatus.FAILED
    assert status.recipient_id == "nobody@example.org"
    assert status.error_code == "550"
    assert status.error_title == "The recipient's mail server refused the message"
    assert status.error_detail == "550 5.1.1 The email account that you tried to reach does not exist."


def test_other_events() -> None:
    def parse(payload: dict[str, Any]) -> Any:
        body, _ = signed_event_request(payload, KEY)
        return email.parse(_request(body, "application/json"), CHANNEL).statuses

    (opened,) = parse(event_payload("opened", "<x@mg.example.com>", "a@example.org"))
    assert opened.status is DeliveryStatus.READ and opened.platform_message_id == "<x@mg.example.com>"
    # A temporary failure is retried by Mailgun for hours: FAILED (terminal) would be premature.
    assert parse(event_payload("failed", "<x@mg.example.com>", "a@example.org", severity="temporary")) == ()
    (suppressed,) = parse(
        event_payload(
            "failed", "<y@mg>", "a@example.org", reason="suppress-bounce", code=605, message="Not delivering"
        )
    )
    assert suppressed.status is DeliveryStatus.FAILED
    assert suppressed.error_title.startswith("Not sent: this address bounced before")
    assert parse(event_payload("clicked", "<x@mg>", "a@example.org")) == ()
    no_id = event_payload("delivered", "<x@mg>", "a@example.org")
    no_id["event-data"]["message"]["headers"].pop("message-id")
    assert parse(no_id) == ()
    with pytest.raises(MalformedPayload):
        email.parse(_request(b'{"signature": {}}', "application/json"), CHANNEL)
    with pytest.raises(MalformedPayload):
        email.parse(_request(b"not json", "application/json"), CHANNEL)


def test_sendgrid_inbound_parse_sample_behind_its_url_key() -> None:
    fields = json.loads((EMAIL / "sendgrid_inbound_parse.json").read_text())
    body, content_type = multipart_form(fields)
    good = _request(body, content_type, {"key": "url-key-123"})
    assert email.verify(good, SENDGRID, now=time.time())
    assert not email.verify(_request(body, content_type, {"key": "url-key-124"}), SENDGRID, now=time.time())
    assert not email.verify(_request(body, content_type), SENDGRID, now=time.time())
    no_key = ChannelCredentials(8, SENDGRID.config, {})
    assert not email.verify(_request(body, content_type, {"key": ""}), no_key, now=time.time())
    (message,) = email.parse(good, SENDGRID).messages
    assert message.platform_message_id == SAMPLE_ID
    assert message.sender_id == message.sender_email == "jane@example.org"
    assert message.sender_name == "Jane Doe"
    assert message.text == "Hi, does it come in blue?"
    assert message.sent_at == datetime(2026, 11, 25, 1, 2, 0, tzinfo=UTC)
    assert message.new_thread is True and message.thread_refs == ()
    assert message.metadata["subject"] == "Does it come in another color?"
    assert message.metadata["source"] == "sendgrid"
    assert message.metadata["to"] == ["support@parse.example.com"]
    # The same post, urlencoded, parses the same way.
    assert email.parse(_route_urlencoded(fields), SENDGRID).messages[0] == message


def test_sendgrid_raw_mode_and_attachment_info() -> None:
    raw = make_mail(
        sender="raw@example.org",
        to="support@parse.example.com",
        subject="Raw mode",
        text="Sent raw",
        message_id="<raw-1@example.org>",
    )
    (message,) = email.parse(_route_multipart({"email": raw.decode(), "to": "x"}), SENDGRID).messages
    assert (message.platform_message_id, message.text, message.sender_id) == (
        "<raw-1@example.org>",
        "Sent raw",
        "raw@example.org",
    )
    fields = json.loads((EMAIL / "sendgrid_inbound_parse.json").read_text())
    fields["attachments"] = "1"
    fields["attachment-info"] = json.dumps({"attachment1": {"filename": "scan.jpg", "type": "image/jpeg"}})
    (message,) = email.parse(
        _route_multipart(fields, [("attachment1", "scan.jpg", "image/jpeg", b"\xff\xd8\xff" * 100)]), SENDGRID
    ).messages
    (attachment,) = message.attachments
    assert (attachment.kind, attachment.filename, attachment.size) == (MessageKind.IMAGE, "scan.jpg", 300)


def test_eml_sample_parses_like_the_route() -> None:
    parsed = parse_raw_message((EMAIL / "inbound_reply.eml").read_bytes(), CHANNEL)
    (message,) = parsed.messages
    assert message.platform_message_id == SAMPLE_ID
    assert message.sender_id == "jane@example.org" and message.sender_name == "Jane Doe"
    assert message.text == "Hi, does it come in blue?"  # our own stripping of the Gmail quote
    assert message.thread_refs == (EARLIER_ID,)
    assert message.reply_to_platform_id == EARLIER_ID
    assert message.metadata["source"] == "imap"
    assert message.metadata["subject"] == "Does it come in another color?"
    assert message.attachments == ()  # the HTML alternative is not an attachment


# ---- signatures ------------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS, ids=[f"{v['body_file']}-{v['valid']}" for v in VECTORS])
def test_signature_vectors(vector: dict[str, Any]) -> None:
    data = json.loads((SAMPLES / vector["body_file"]).read_text())
    now = float(vector["signature_fields"]["timestamp"])
    if "event-data" in data:
        body = json.dumps({**data, "signature": vector["signature_fields"]}).encode()
        requests = [_request(body, "application/json")]
    else:
        fields = {**data, **vector["signature_fields"]}
        requests = [_route_urlencoded(fields), _route_multipart(fields)]
    for request in requests:
        assert email.verify(request, CHANNEL, now=now) is vector["valid"]
        wrong_key = ChannelCredentials(7, CONFIG, {"mailgun_signing_key": "other-secret"})
        assert not email.verify(request, wrong_key, now=now)


def test_replays_outside_five_minutes_are_refused() -> None:
    request = _route_urlencoded(ROUTE)
    assert email.verify(request, CHANNEL, now=ROUTE_NOW + 299)
    assert not email.verify(request, CHANNEL, now=ROUTE_NOW + 301)
    assert not email.verify(request, CHANNEL, now=ROUTE_NOW - 301)  # from the future
    assert not email.verify(request, CHANNEL, now=time.time())  # the sample is from 2025


def test_forged_or_incomplete_signatures_are_refused() -> None:
    now = time.time()
    fields = {k: v for k, v in ROUTE.items() if k not in ("timestamp", "token", "signature")}
    good = {**fields, **mailgun_signature(KEY, now)}
    assert email.verify(_route_urlencoded(good), CHANNEL, now=now)
    flipped = good["token"][:-1] + ("1" if good["token"].endswith("0") else "0")
    assert not email.verify(_route_urlencoded({**good, "token": flipped}), CHANNEL, now=now)
    assert not email.verify(_route_urlencoded({**good, "signature": "0" * 64}), CHANNEL, now=now)
    assert not email.verify(_route_urlencoded({**good, "signature": "nothex"}), CHANNEL, now=now)
    assert not email.verify(_route_urlencoded(fields), CHANNEL, now=now)  # unsigned
    body = urllib.parse.urlencode(good).encode()
    assert not email.verify(_request(body, None), CHANNEL, now=now)  # no content type
    with pytest.raises(MalformedPayload):  # no signature can be read from it: a 400, not a 401
        email.verify(_request(b"\x00garbage", "multipart/form-data"), CHANNEL, now=now)
    no_key = ChannelCredentials(7, CONFIG, {})
    assert not email.verify(_route_urlencoded(good), no_key, now=now)
    # A Mailgun signature means nothing to a SendGrid or mailbox-only channel, and vice versa.
    assert not email.verify(_route_urlencoded(good), SENDGRID, now=now)
    imap_only = ChannelCredentials(
        7, {"address": "a@b.example", "imap_host": "imap.example.com"}, CHANNEL.secrets
    )
    assert not email.verify(_route_urlencoded(good), imap_only, now=now)
    event_body, headers = signed_event_request(
        event_payload("delivered", "<x@y>", "a@b.example"), KEY, now=now
    )
    assert email.verify(_request(event_body, headers["Content-Type"]), CHANNEL, now=now)
    tampered = json.loads(event_body)
    tampered["signature"]["timestamp"] = str(int(now) - 1)
    assert not email.verify(_request(json.dumps(tampered).encode(), "application/json"), CHANNEL, now=now)


def test_malformed_bodies() -> None:
    with pytest.raises(MalformedPayload):
        email.parse(_request(b"a=b", "text/plain"), CHANNEL)
    with pytest.raises(MalformedPayload):
        email.parse(_route_urlencoded({"unrelated": "x"}), CHANNEL)
    with pytest.raises(MalformedPayload):
        email.parse(_request(b"--x\r\nbroken", "multipart/form-data"), CHANNEL)
    with pytest.raises(NoSender):
        email.parse(_route_urlencoded({"body-plain": "hello", "from": "not an address"}), CHANNEL)


# ---- threading and automatic mail ------------------------------------------------------------------


def _raw(**kw: Any) -> bytes:
    defaults: dict[str, Any] = {
        "sender": "kim@example.org",
        "to": "support@example.com",
        "subject": "Order 1234",
        "text": "Hello",
    }
    return make_mail(**{**defaults, **kw})


def test_a_reply_carries_its_thread() -> None:
    first = parse_raw_message(_raw(message_id="<m1@example.org>"), CHANNEL).messages[0]
    assert first.new_thread is True and first.thread_refs == () and first.reply_to_platform_id is None
    reply = parse_raw_message(
        _raw(
            message_id="<m3@example.org>",
            in_reply_to="<m2@example.com>",
            references=["<m1@example.org>", "<m2@example.com>"],
            text="Thanks!\n\nOn Mon, 1 Dec 2026, Acme <support@example.com>\nwrote:\n> Your order shipped",
        ),
        CHANNEL,
    ).messages[0]
    assert reply.reply_to_platform_id == "<m2@example.com>"
    assert reply.thread_refs == ("<m2@example.com>", "<m1@example.org>")  # In-Reply-To, then newest first
    assert reply.new_thread is False
    assert reply.text == "Thanks!"
    assert "Your order shipped" in reply.metadata["full_text"]


def test_threading_helpers() -> None:
    assert normalise_message_id("  abc@host ") == "<abc@host>"
    assert normalise_message_id("<abc@host> (comment)") == "<abc@host>"
    assert normalise_message_id("") is None and normalise_message_id(None) is None
    long_id = normalise_message_id("<" + "x" * 400 + "@h>")
    assert long_id is not None and len(long_id) <= 255 and long_id == normalise_message_id("x" * 400 + "@h")
    assert thread_refs("<b@h>", "<a@h> <b@h>\r\n <c@h>") == ("<b@h>", "<c@h>", "<a@h>")
    assert reply_subject("Order 1234") == "Re: Order 1234"
    assert reply_subject("RE: Order 1234") == "RE: Order 1234"
    assert reply_subject("AW: Bestellung") == "AW: Bestellung"
    assert reply_subject("  ") is None
    one = outbound_message_id("42", "example.com", 7)
    assert one == outbound_message_id("42", "example.com", 7)
    assert one.startswith("<pytake.42.") and one.endswith("@example.com>")
    assert one != outbound_message_id("43", "example.com", 7) != outbound_message_id("42", "example.com", 8)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Short answer.\n\n-----Original Message-----\nFrom: Acme\nOld text", "Short answer."),
        (
            "Yes please.\n\nFrom: Acme Support <support@example.com>\nSent: Monday\nTo: me\nSubject: x\n\nold",
            "Yes please.",
        ),
        ("Danke!\n\nAm 01.12.2026 um 10:00 schrieb Acme <support@example.com>:\n> alt", "Danke!"),
        ("Line one\n> quoted in the middle\nLine two", "Line one\n> quoted in the middle\nLine two"),
        ("See below\n-- \nKim\nCEO, Example", "See below"),
        ("Sent from a phone\n\nSent from my iPhone", "Sent from a phone"),
        ("> only a quote", "> only a quote"),  # nothing new: better whole than empty
    ],
)
def test_quoted_replies_and_signatures_are_stripped(text: str, expected: str) -> None:
    assert strip_reply(text) == expected


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Auto-Submitted": "auto-generated; owner-email=x@y"},
        {"X-Autoreply": "yes"},
        {"Precedence": "auto_reply"},
        {"Precedence": "bulk"},
        {"Precedence": "junk"},
    ],
)
def test_auto_replies_are_stored_with_a_flag(headers: dict[str, str]) -> None:
    (message,) = parse_raw_message(_raw(headers=headers, text="I am out of office"), CHANNEL).messages
    assert message.metadata["auto_reply"] is True
    assert message.text == "I am out of office"


def test_auto_submitted_no_is_a_person() -> None:
    (message,) = parse_raw_message(_raw(headers={"Auto-Submitted": "no"}), CHANNEL).messages
    assert "auto_reply" not in message.metadata


def _dsn(original_id: str) -> bytes:
    boundary = "dsnboundary"
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n"
        "To: support@example.com\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Date: Tue, 01 Dec 2026 10:00:00 +0000\r\n"
        "Message-ID: <dsn-1@mx.example.org>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
        "MIME-Version: 1.0\r\n\r\n"
        f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.org\r\n\r\n"
        "Final-Recipient: rfc822; gone@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <gone@example.org>: Recipient address rejected\r\n"
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: support@example.com\r\nTo: gone@example.org\r\nMessage-ID: {original_id}\r\n"
        f"--{boundary}--\r\n"
    ).encode()


def test_a_bounce_is_stored_flagged_and_fails_our_message() -> None:
    ours = outbound_message_id("991", "example.com", CHANNEL.channel_id)
    parsed = parse_raw_message(_dsn(ours), CHANNEL)
    (message,) = parsed.messages
    assert message.metadata["bounce"] is True and message.metadata["auto_reply"] is True
    assert message.sender_id == "mailer-daemon@mx.example.org"
    assert message.text == "Your message could not be delivered."
    assert message.attachments == ()  # the report's machine parts are not files
    (status,) = parsed.statuses
    assert status.platform_message_id == ours and status.status is DeliveryStatus.FAILED
    assert status.error_detail == "550 5.1.1 <gone@example.org>: Recipient address rejected"
    # A bounce about someone else's message id changes nothing of ours.
    assert parse_raw_message(_dsn("<other@elsewhere>"), CHANNEL).statuses == ()


def test_our_own_mail_coming_back_is_ignored() -> None:
    assert parse_raw_message(_raw(sender="Support@Example.com"), CHANNEL).messages == ()
    ours = outbound_message_id("5", "example.com", CHANNEL.channel_id)
    assert parse_raw_message(_raw(message_id=ours), CHANNEL).messages == ()
    # Looks like ours, but not signed by this channel's id: a customer's message.
    assert parse_raw_message(_raw(message_id=outbound_message_id("5", "example.com", 999)), CHANNEL).messages


def test_html_only_long_and_id_less_mail() -> None:
    raw = (
        b"From: Lee <lee@example.org>\r\nTo: support@example.com\r\nSubject: HTML\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n\r\n"
        b"<html><head><style>p{}</style></head><body><p>Hello <b>there</b></p>"
        b"<blockquote>old stuff</blockquote></body></html>"
    )
    (message,) = parse_raw_message(raw, CHANNEL).messages
    assert message.text == "Hello there"
    assert message.platform_message_id.endswith("@no-message-id.invalid>")
    assert parse_raw_message(raw, CHANNEL).messages[0].platform_message_id == message.platform_message_id
    outlook = raw.replace(
        b"<blockquote>old stuff</blockquote>",
        b"<blockquote><p>old line one</p><p>old line two</p><blockquote>older</blockquote></blockquote>",
    )
    (nested,) = parse_raw_message(outlook, CHANNEL).messages
    assert nested.text == "Hello there"
    assert "> old line two" in nested.metadata["full_text"] and "> > older" in nested.metadata["full_text"]
    huge = "x" * (MAX_TEXT_LENGTH + 10)
    (big,) = parse_raw_message(_raw(text=huge), CHANNEL).messages
    assert len(big.text or "") == MAX_TEXT_LENGTH and big.metadata["text_truncated"] is True
    (quoted,) = parse_raw_message(
        _raw(text="New\n\nOn Mon, Kim wrote:\n" + "> old\n" * 5000), CHANNEL
    ).messages
    assert quoted.text == "New"
    assert len(quoted.metadata["full_text"]) == FULL_TEXT_CAP and quoted.metadata["full_text_truncated"]
    (empty,) = parse_raw_message(
        _raw(text="", attachments=[("a.pdf", "application/pdf", b"%PDF")], subject="Scan"), CHANNEL
    ).messages
    assert empty.kind is MessageKind.DOCUMENT and empty.text == "Scan"
    with pytest.raises(NoSender):
        parse_raw_message(b"Subject: nobody\r\n\r\nhi", CHANNEL)


# ---- configuration ---------------------------------------------------------------------------------------


def test_config_validation() -> None:
    assert get_connector(Platform.EMAIL) is email
    problems = email.validate_config({}, {})
    assert "The support address (address) is required: replies are sent from it." in problems
    assert "The SMTP server (smtp_host) is required to send replies." in problems
    assert any("Choose how e-mail arrives" in p for p in problems)
    good = {"address": "support@example.com", "provider": "mailgun", "smtp_host": "smtp.mailgun.org"}
    assert email.validate_config(good, {"mailgun_signing_key": "k"}) == []
    assert email.validate_config(good, {}) == [
        "The Mailgun HTTP webhook signing key (mailgun_signing_key) is required."
    ]
    sendgrid = {**good, "provider": "sendgrid"}
    assert "inbound_key" in email.validate_config(sendgrid, {})[0]
    imap = {
        "address": "help@example.com",
        "smtp_host": "smtp.example.com",
        "smtp_port": 465,
        "smtp_ssl": True,
        "smtp_username": "help",
        "imap_host": "imap.example.com",
    }
    assert email.validate_config(imap, {}) == [
        "The SMTP password (smtp_password) is required with an SMTP username.",
        "The IMAP username (imap_username) is required to read the mailbox.",
        "The IMAP password (imap_password) is required to read the mailbox.",
    ]
    bad = {
        **good,
        "address": "not-an-address",
        "provider": "postmark",
        "smtp_port": 70000,
        "smtp_starttls": "yes",
        "domain": "bad domain",
    }
    problems = email.validate_config(bad, {"mailgun_signing_key": "k"})
    assert "The support address (address) must be an e-mail address like support@example.com." in problems
    assert 'The inbound provider (provider) must be "mailgun" or "sendgrid".' in problems
    assert "The SMTP port (smtp_port) must be a number between 1 and 65535." in problems
    assert "The setting smtp_starttls must be true or false." in problems
    assert "The domain (domain) must be a host name like mail.example.com." in problems
    assert email.capabilities.can_initiate and email.capabilities.address_kind == "email"
    assert email.capabilities.delivery_statuses and not email.capabilities.read_statuses
    assert not email.capabilities.buttons and not email.capabilities.edits
    assert email.max_text_length == 100_000
    assert set(email.generated_secrets) <= set(email.secret_names)


# ---- sending over SMTP ----------------------------------------------------------------------------------


@pytest.fixture
async def smtp() -> AsyncIterator[FakeSMTP]:
    fake = FakeSMTP()
    async with fake.serve():
        yield fake


def _smtp_channel(smtp: FakeSMTP, password: str | None = None, **config: Any) -> ChannelCredentials:
    return ChannelCredentials(
        channel_id=7,
        config={**CONFIG, "domain": "mail.example.com", **smtp.config(), **config},
        secrets={"smtp_password": smtp.password if password is None else password},
    )


def _reply(text: str = "Yes, it comes in blue.", key: str = "1001", **kw: Any) -> OutboundMessage:
    defaults: dict[str, Any] = {
        "recipient_id": "jane@example.org",
        "kind": MessageKind.TEXT,
        "idempotency_key": key,
        "text": text,
        "metadata": {
            "subject": "Does it come in another color?",
            "in_reply_to": SAMPLE_ID,
            "references": ["<older@mail.example.org>", SAMPLE_ID],
        },
    }
    return OutboundMessage(**{**defaults, **kw})


async def test_send_a_threaded_reply(smtp: FakeSMTP) -> None:
    channel = _smtp_channel(smtp)
    result = await email.send(None, channel, _reply())  # type: ignore[arg-type]
    (received,) = smtp.received
    assert received.login == smtp.username
    assert received.rcpt_tos == ["jane@example.org"] and received.mail_from == "support@example.com"
    mail = received.message
    assert mail["From"] == "Acme Support <support@example.com>"
    assert mail["To"] == "jane@example.org"
    assert mail["Subject"] == "Re: Does it come in another color?"
    assert mail["In-Reply-To"] == SAMPLE_ID
    assert mail["References"] == f"<older@mail.example.org> {SAMPLE_ID}"
    assert mail["Message-ID"] == result.platform_message_id
    assert result.platform_message_id == outbound_message_id("1001", "mail.example.com", 7)
    assert mail.get_content().strip() == "Yes, it comes in blue."
    # A retried job sends the same Message-ID: the second copy is recognisably the same mail.
    again = await email.send(None, channel, _reply())  # type: ignore[arg-type]
    assert again == result and smtp.received[1].message["Message-ID"] == result.platform_message_id
    other = await email.send(None, channel, _reply(key="1002"))  # type: ignore[arg-type]
    assert other.platform_message_id != result.platform_message_id


async def test_send_first_contact_and_links(smtp: FakeSMTP) -> None:
    channel = _smtp_channel(smtp)
    message = OutboundMessage(
        recipient_id="new@example.org",
        kind=MessageKind.TEXT,
        idempotency_key="2001",
        text="Your invoice is ready — merci.",
        attachments=(
            Attachment(
                kind=MessageKind.DOCUMENT, url="https://files.example.com/i.pdf", filename="invoice.pdf"
            ),
            Attachment(kind=MessageKind.IMAGE, url="https://files.example.com/p.png"),
        ),
        buttons=(
            Button(id="b1", title="Pay now", url="https://pay.example.com/1"),
            Button(id="b2", title="No link"),
        ),
    )
    await email.send(None, channel, message)  # type: ignore[arg-type]
    mail = smtp.received[-1].message
    assert mail["Subject"] == "A message from Acme Support"
    assert mail["In-Reply-To"] is None and mail["References"] is None
    body = mail.get_content()
    assert "Your invoice is ready — merci." in body
    assert "- invoice.pdf: https://files.example.com/i.pdf" in body
    assert "- Image: https://files.example.com/p.png" in body
    assert "- Pay now: https://pay.example.com/1" in body and "No link" not in body
    assert not mail.is_multipart()  # nothing was fetched or attached


async def test_send_refusals_before_talking_to_the_server(smtp: FakeSMTP) -> None:
    channel = _smtp_channel(smtp)
    with pytest.raises(SendError) as too_long:
        await email.send(None, channel, _reply("x" * (MAX_TEXT_LENGTH + 1)))  # type: ignore[arg-type]
    assert too_long.value.code == "too_long" and not too_long.value.retryable
    with pytest.raises(SendError) as bad_address:
        await email.send(None, channel, _reply(recipient_id="jane"))  # type: ignore[arg-type]
    assert bad_address.value.code == "INVALID_ADDRESS" and not bad_address.value.retryable
    with pytest.raises(SendError) as empty:
        await email.send(None, channel, _reply("   "))  # type: ignore[arg-type]
    assert empty.value.code == "EMPTY_TEXT"
    with pytest.raises(SendError) as template:
        await email.send(None, channel, _reply(kind=MessageKind.TEMPLATE, template={"name": "x"}))  # type: ignore[arg-type]
    assert template.value.code == "UNSUPPORTED_KIND"
    assert smtp.received == []


async def test_send_errors_are_classified(smtp: FakeSMTP) -> None:
    channel = _smtp_channel(smtp)
    smtp.refuse_next("451 4.3.0 Mailbox temporarily unavailable")
    with pytest.raises(SendError) as temporary:
        await email.send(None, channel, _reply())  # type: ignore[arg-type]
    assert temporary.value.retryable and temporary.value.code == "SMTP_451"
    smtp.refuse_next("550 5.1.1 <jane@example.org>: Recipient address rejected: User unknown", stage="RCPT")
    with pytest.raises(SendError) as unknown:
        await email.send(None, channel, _reply())  # type: ignore[arg-type]
    assert not unknown.value.retryable and unknown.value.code == "SMTP_550"
    assert unknown.value.reason == (
        "The recipient's address was refused: 550 5.1.1 <jane@example.org>: Recipient address rejected: User unknown"
    )
    assert not unknown.value.affects_channel
    smtp.refuse_next("554 5.7.1 Message rejected as spam")
    with pytest.raises(SendError) as spam:
        await email.send(None, channel, _reply())  # type: ignore[arg-type]
    assert not spam.value.retryable and "554 5.7.1 Message rejected as spam" in spam.value.reason
    with pytest.raises(SendError) as auth:
        await email.send(None, _smtp_channel(smtp, password="wrong"), _reply())  # type: ignore[arg-type]
    assert not auth.value.retryable and auth.value.affects_channel
    assert auth.value.reason.startswith("SMTP login failed")
    assert smtp.failed_logins >= 1  # aiosmtplib tries each offered mechanism
    assert smtp.received == []
    await email.send(None, channel, _reply())  # type: ignore[arg-type]
    assert len(smtp.received) == 1


async def test_unreachable_smtp_server_is_retryable() -> None:
    closed = FakeSMTP()
    async with closed.serve():
        channel = _smtp_channel(closed)
    with pytest.raises(SendError) as unreachable:
        await email.send(None, channel, _reply())  # type: ignore[arg-type]
    assert unreachable.value.retryable


def test_build_message_threading_details() -> None:
    channel = ChannelCredentials(3, {"address": "help@example.com"}, {})
    refs = [f"<r{i}@h>" for i in range(30)]
    built = build_message(
        channel, _reply(metadata={"subject": "Re: Hello", "in_reply_to": "r29@h", "references": refs})
    )
    assert built["Subject"] == "Re: Hello"
    assert built["From"] == "help@example.com"
    assert built["Message-ID"] == outbound_message_id("1001", "example.com", 3)
    references = str(built["References"]).split()
    assert len(references) == 20 and references[0] == "<r0@h>" and references[-1] == "<r29@h>"
    fallback = build_message(channel, _reply(metadata={}, reply_to_platform_id="<x@h>"))
    assert fallback["In-Reply-To"] == "<x@h>" and fallback["Subject"] == "Re: your message"


# ---- the IMAP poller (real database, real IMAP server) ---------------------------------------------------


@pytest.fixture
async def imap() -> AsyncIterator[FakeIMAP]:
    fake = FakeIMAP(username=f"support-{uuid.uuid4().hex[:6]}@example.com")
    async with fake.serve():
        yield fake


async def _mailbox_channel(imap: FakeIMAP, *, enabled: bool = False, password: str | None = None) -> Any:
    from tests.helpers import make_channel

    channel = await make_channel(
        "email",
        {"address": "helpdesk@example.com", "smtp_host": "127.0.0.1", **imap.config()},
        {"imap_password": imap.password if password is None else password},
    )
    if not enabled:
        # The app's maintenance job polls enabled mailboxes every 30 s; these tests drive the
        # poller themselves, so their counts must not race with it.
        channel.enabled = False
        await channel.save()
    return channel


def _customer_mail(n: int, tag: str, **kw: Any) -> bytes:
    return _raw(
        sender=f"buyer{n}-{tag}@example.org",
        subject=f"Question {n}",
        text=f"Question number {n}",
        message_id=f"<q{n}-{tag}@example.org>",
        **kw,
    )


async def _cursor(channel_id: int, name: str) -> str | None:
    from models import ChannelCursor

    cursor = await ChannelCursor.get_or_none(channel_id=channel_id, name=name)
    return cursor.value if cursor else None


async def test_poller_reads_each_message_once(server: str, imap: FakeIMAP) -> None:
    from ingress.mailbox_poller import poll_mailbox
    from models import Message

    tag = uuid.uuid4().hex[:8]
    channel = await _mailbox_channel(imap)
    eml = (EMAIL / "inbound_reply.eml").read_bytes().replace(b"support@example.com", imap.username.encode())
    imap.append(_customer_mail(1, tag))
    imap.append(eml)
    imap.append(_customer_mail(2, tag, attachments=[("photo.jpg", "image/jpeg", b"\xff\xd8" * 50)]))
    assert await poll_mailbox(channel) == 3
    stored = {m.platform_message_id: m for m in await Message.filter(channel_id=channel.id)}
    assert set(stored) == {f"<q1-{tag}@example.org>", SAMPLE_ID, f"<q2-{tag}@example.org>"}
    jane = stored[SAMPLE_ID]
    assert jane.text == "Hi, does it come in blue?" and jane.direction == "inbound"
    assert jane.metadata["subject"] == "Does it come in another color?" and jane.metadata["source"] == "imap"
    assert jane.reply_to_platform_id == EARLIER_ID
    photo = stored[f"<q2-{tag}@example.org>"].attachments
    assert photo == [
        {
            "kind": "image",
            "media_id": None,
            "url": None,
            "mime_type": "image/jpeg",
            "sha256": photo[0]["sha256"],
            "filename": "photo.jpg",
            "size": 100,
        }
    ]
    assert await _cursor(channel.id, "imap_uid") == "3"
    assert await _cursor(channel.id, "imap_uidvalidity") == str(imap.uidvalidity)

    fetched_before = list(imap.fetched)
    assert await poll_mailbox(channel) == 0
    assert imap.fetched == fetched_before  # nothing fetched again, not just deduplicated

    imap.append(_customer_mail(3, tag))
    assert await poll_mailbox(channel) == 1
    assert await Message.filter(channel_id=channel.id).count() == 4
    assert await _cursor(channel.id, "imap_uid") == "4"
    assert imap.fetched[len(fetched_before) :] == [4]


async def test_poller_survives_a_uidvalidity_change(server: str, imap: FakeIMAP, caplog: Any) -> None:
    from ingress.mailbox_poller import poll_mailbox
    from models import Message

    tag = uuid.uuid4().hex[:8]
    channel = await _mailbox_channel(imap)
    for n in range(3):
        imap.append(_customer_mail(n, tag))
    assert await poll_mailbox(channel) == 3
    old_validity = imap.uidvalidity
    imap.rebuild()  # same messages, new UIDs (100, 101, 102) under a new UIDVALIDITY
    imap.append(_customer_mail(9, tag))  # and one new one (103)
    with caplog.at_level("WARNING", logger="pytake.imap"):
        assert await poll_mailbox(channel) == 1  # the old three are recognised by Message-ID
    assert "UIDVALIDITY changed" in caplog.text
    assert await Message.filter(channel_id=channel.id).count() == 4
    assert await _cursor(channel.id, "imap_uidvalidity") == str(old_validity + 1)
    assert await _cursor(channel.id, "imap_uid") == "103"
    assert await poll_mailbox(channel) == 0


async def test_one_mailbox_is_polled_by_one_process_at_a_time(server: str, imap: FakeIMAP) -> None:
    from ingress.mailbox_poller import poll_mailbox

    channel = await _mailbox_channel(imap)
    imap.append(_customer_mail(1, uuid.uuid4().hex[:8]))
    other = await asyncpg.connect("postgresql://" + DATABASE_URL.split("://", 1)[1])
    try:
        async with other.transaction():
            held = await other.fetchval(
                "SELECT pg_try_advisory_xact_lock(hashtextextended('imap:' || $1::bigint, 0))", channel.id
            )
            assert held
            assert await poll_mailbox(channel) == 0
            assert imap.commands == []  # did not even connect
    finally:
        await other.close()
    assert await poll_mailbox(channel) == 1  # the lock went with the other transaction


async def test_poller_reports_a_refused_login(server: str, imap: FakeIMAP) -> None:
    from ingress.mailbox_poller import MailboxError, poll_mailbox
    from models import Channel

    channel = await _mailbox_channel(imap, password="wrong")
    with pytest.raises(MailboxError, match="IMAP login failed"):
        await poll_mailbox(channel)
    refreshed = await Channel.get(id=channel.id)
    assert refreshed.last_error is not None and refreshed.last_error.startswith("IMAP: IMAP login failed")
    assert imap.failed_logins == 1
    # Fixed password: the next good poll clears the channel's error.
    from core.crypto import encrypt_secrets

    refreshed.secrets_encrypted = encrypt_secrets({"imap_password": imap.password})
    await refreshed.save()
    assert await poll_mailbox(refreshed) == 0
    assert (await Channel.get(id=channel.id)).last_error is None


async def test_run_mailboxes_polls_enabled_mailboxes_until_stopped(server: str, imap: FakeIMAP) -> None:
    from ingress.mailbox_poller import run_mailboxes
    from models import Message
    from tests.helpers import eventually

    tag = uuid.uuid4().hex[:8]
    channel = await _mailbox_channel(imap, enabled=True)
    imap.append(_customer_mail(1, tag))
    stop = asyncio.Event()
    task = asyncio.create_task(run_mailboxes(stop, interval=0.1))
    try:

        async def stored() -> bool:
            return await Message.filter(channel_id=channel.id).count() == 1

        await eventually(stored)
        imap.append(_customer_mail(2, tag))

        async def both() -> bool:
            return await Message.filter(channel_id=channel.id).count() == 2

        await eventually(both)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        channel.enabled = False
        await channel.save()


# ---- end to end through the real app ---------------------------------------------------------------------


@pytest.fixture
async def email_case(server: str, smtp: FakeSMTP) -> AsyncIterator[ConnectorCase]:
    """An e-mail channel on Mailgun routes that sends through the fake SMTP server."""
    config = {**CONFIG, "domain": "mail.example.com", **smtp.config()}
    secrets = {"mailgun_signing_key": uuid.uuid4().hex, "smtp_password": smtp.password}
    async with connector_case(server, None, "email", config, secrets) as case:
        yield case


async def test_end_to_end_route_reply_and_delivery(smtp: FakeSMTP, email_case: ConnectorCase) -> None:
    from models import Conversation, Message, MessageStatus
    from tests.helpers import eventually

    channel, url, key = email_case.channel, email_case.webhook, email_case.secrets["mailgun_signing_key"]
    customer = f"jane-{uuid.uuid4().hex[:8]}@example.org"
    message_id = f"<{uuid.uuid4().hex}@mail.example.org>"
    fields = {k: v for k, v in ROUTE.items() if k not in ("timestamp", "token", "signature")}
    for name in ("from", "From"):
        fields[name] = f"Jane Doe <{customer}>"
    fields["sender"] = customer
    fields["Message-Id"] = message_id
    fields["message-headers"] = (
        fields["message-headers"].replace("jane@example.org", customer).replace(SAMPLE_ID, message_id)
    )

    # 1. Mailgun posts the route (multipart, signed now): stored once, however often it is sent.
    assert (await post_route(url, fields, key)).status_code == 200
    assert (await post_route(url, fields, key)).status_code == 200
    assert (await post_route(url, fields, key, multipart=False)).status_code == 200
    stored = await Message.filter(channel_id=channel.id)
    assert len(stored) == 1
    inbound = stored[0]
    assert (inbound.platform_message_id, inbound.text) == (message_id, "Hi, does it come in blue?")
    conversation = await Conversation.get(id=inbound.conversation_id)
    customer_row = await conversation.customer
    assert customer_row.email == customer and customer_row.name == "Jane Doe"

    # 2. Forged and replayed posts are refused and store nothing.
    forged = {**fields, "Message-Id": "<forged@x>", "message-headers": "[]"}
    assert (await post_route(url, forged, "not-the-key")).status_code == 401
    assert (await post_route(url, forged, key, now=time.time() - 600)).status_code == 401
    assert await Message.filter(channel_id=channel.id).count() == 1

    # 3. An agent replies over GraphQL; the worker sends it over SMTP, in the customer's thread.
    reply, client_id = await email_case.reply(conversation.id, "Yes, it comes in navy blue.")
    assert reply["data"]["sendMessage"]["status"] == "QUEUED", reply

    async def sent() -> list[Any]:
        return [r for r in smtp.received if customer in r.rcpt_tos]

    (received,) = await eventually(sent, timeout=20)
    mail = received.message
    assert mail["To"] == customer
    assert mail["From"] == "Acme Support <support@example.com>"
    assert mail["In-Reply-To"] == message_id
    assert message_id in str(mail["References"])
    assert mail["Subject"] == "Re: Does it come in another color?"
    assert mail.get_content().strip() == "Yes, it comes in navy blue."
    outbound = await Message.get(client_message_id=client_id)

    async def marked_sent() -> bool:
        await outbound.refresh_from_db()
        return outbound.status == MessageStatus.SENT

    await eventually(marked_sent)
    assert outbound.platform_message_id == mail["Message-ID"]
    assert outbound.platform_message_id.endswith("@mail.example.com>")

    # 4. Mailgun reports delivery of that Message-ID (it reports ids without angle brackets).
    delivered = event_payload("delivered", outbound.platform_message_id, customer)
    assert (await post_event(url, delivered, key)).status_code == 200
    await outbound.refresh_from_db()
    assert outbound.status == MessageStatus.DELIVERED and outbound.delivered_at is not None
    assert (await post_event(url, delivered, "wrong-key")).status_code == 401

    # 5. The customer answers our mail: the reply threads into the same conversation.
    answer = route_fields_from_mail(
        make_mail(
            sender=customer,
            sender_name="Jane Doe",
            to="support@example.com",
            subject="Re: Does it come in another color?",
            text="Great, I'll take two.\n\nOn Wed, Acme Support wrote:\n> Yes, it comes in navy blue.",
            in_reply_to=outbound.platform_message_id,
            references=[message_id, outbound.platform_message_id],
        ),
        "support@example.com",
    )
    assert (await post_route(url, answer, key)).status_code == 200
    latest = await Message.filter(channel_id=channel.id, direction="inbound").order_by("-id").first()
    assert latest is not None and latest.text == "Great, I'll take two."
    assert latest.conversation_id == conversation.id


async def test_end_to_end_sendgrid_url_key(server: str) -> None:
    from models import Message
    from tests.helpers import make_channel

    channel = await make_channel(
        "email",
        {"provider": "sendgrid", "address": "support@parse.example.com", "smtp_host": "127.0.0.1"},
        {"inbound_key": "k-" + uuid.uuid4().hex},
    )
    from core.crypto import decrypt_secrets

    inbound_key = decrypt_secrets(channel.secrets_encrypted)["inbound_key"]
    url = f"{server}/webhooks/email/{channel.id}"
    fields = json.loads((EMAIL / "sendgrid_inbound_parse.json").read_text())
    customer = f"sg-{uuid.uuid4().hex[:8]}@example.org"
    fields["from"] = f"Jane Doe <{customer}>"
    fields["headers"] = fields["headers"].replace("jane@example.org", customer)
    assert (await post_sendgrid(url, "wrong", fields)).status_code == 401
    assert await Message.filter(channel_id=channel.id).count() == 0
    assert (await post_sendgrid(url, inbound_key, fields)).status_code == 200
    assert (await post_sendgrid(url, inbound_key, fields)).status_code == 200
    (message,) = await Message.filter(channel_id=channel.id)
    assert message.platform_message_id == SAMPLE_ID and message.text == "Hi, does it come in blue?"


def test_signed_route_request_helper_matches_verify() -> None:
    now = time.time()
    body, headers = signed_route_request({"from": "a@b.example", "body-plain": "hi"}, KEY, now=now)
    request = _request(body, headers["Content-Type"])
    assert email.verify(request, CHANNEL, now=now)
    assert email.parse(request, CHANNEL).messages[0].text == "hi"


async def test_poller_opens_the_configured_folder(server: str) -> None:
    from ingress.mailbox_poller import MailboxError, poll_mailbox
    from tests.helpers import make_channel

    fake = FakeIMAP(username=f"Support Team {uuid.uuid4().hex[:4]}", folder="Support Queue")
    async with fake.serve():
        fake.append(_customer_mail(1, uuid.uuid4().hex[:8]))
        channel = await _mailbox_channel(fake)  # a user name and a folder with spaces: quoted
        assert await poll_mailbox(channel) == 1
        missing = await make_channel(
            "email",
            {"address": "x@example.com", **fake.config(), "imap_folder": "Archive"},
            {"imap_password": fake.password},
        )
        missing.enabled = False
        await missing.save()
        with pytest.raises(MailboxError, match="cannot be opened"):
            await poll_mailbox(missing)
