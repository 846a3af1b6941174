"""The SMS (Twilio) connector: every sample parsed to concrete values, URL signatures (both auth
tokens during rotation), sends against the fake Twilio over real HTTP with errors classified the
way the retry logic needs, and the whole path through the real app: a signed inbound SMS is stored
once and answered with empty TwiML, an agent's reply reaches the fake once, and the status
callbacks it posts come back as delivered."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.base import (
    Attachment,
    Button,
    ChannelCredentials,
    DeliveryStatus,
    MalformedPayload,
    MessageKind,
    OutboundMessage,
    ParsedWebhook,
    Platform,
    SendError,
    WebhookRequest,
)
from connectors.fakes.server import serve_app
from connectors.fakes.signing import twilio as twilio_sign
from connectors.registry import get_connector
from connectors.sms import EMPTY_TWIML, REASONS, sms
from tests.conftest import SAMPLES
from tests.fakes.twilio import FakeTwilio, inbound_fields, twilio_error
from tests.helpers import ConnectorCase, connector_case

SMS = SAMPLES / "sms"
ACCOUNT = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"  # the samples' account
OUR_NUMBER = "+15557122661"
CUSTOMER = "+15558675310"
SERVICE = "MGeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
SENT_SID = "SMdddddddddddddddddddddddddddddddd"
URL = "https://support.example.com/webhooks/sms/7"
SECRETS = {"auth_token": "test-secret"}
CONFIG = {"account_sid": ACCOUNT, "from_number": OUR_NUMBER}
CHANNEL = ChannelCredentials(channel_id=7, config=CONFIG, secrets=SECRETS)


def _request(body: bytes, headers: dict[str, str] | None = None, url: str = URL) -> WebhookRequest:
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    return WebhookRequest(method="POST", url=url, headers=lowered, query=query, body=body)


def parse_sample(name: str, channel: ChannelCredentials = CHANNEL) -> ParsedWebhook:
    return sms.parse(_request((SMS / name).read_bytes()), channel)


def parse_fields(fields: dict[str, str] | list[tuple[str, str]]) -> ParsedWebhook:
    pairs = list(fields.items()) if isinstance(fields, dict) else fields
    return sms.parse(_request(urllib.parse.urlencode(pairs).encode()), CHANNEL)


def signed(body: bytes, token: str = "test-secret", url: str = URL) -> WebhookRequest:
    return _request(body, twilio_sign(body, token, 0, url).headers, url)


# ---- samples ------------------------------------------------------------------------------------


def test_inbound_text_sample() -> None:
    before = datetime.now(UTC)
    parsed = parse_sample("inbound_text.form")
    assert parsed.statuses == () and parsed.edits == ()
    (m,) = parsed.messages
    assert m.platform_message_id == "SMbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
    assert (m.kind, m.text) == (MessageKind.TEXT, "Hello there")
    assert (m.sender_id, m.sender_phone, m.sender_name) == (CUSTOMER, "15558675310", None)
    assert m.reply_address is None and m.attachments == ()
    assert before <= m.sent_at <= datetime.now(UTC)  # Twilio sends no time: the arrival is used
    assert m.metadata == {
        "to": OUR_NUMBER,
        "messaging_service_sid": SERVICE,
        "num_segments": 1,
        "from_geo": {"city": "SAN FRANCISCO", "state": "CA", "zip": "94105", "country": "US"},
    }
    assert parsed.reply is not None
    assert (parsed.reply.status, parsed.reply.body, parsed.reply.content_type) == (
        200,
        '<?xml version="1.0" encoding="UTF-8"?><Response/>',
        "text/xml",
    )


def test_the_reply_is_the_same_document_as_the_sample_ack() -> None:
    ours = ET.fromstring(EMPTY_TWIML.encode())
    sample = ET.fromstring((SMS / "ack_empty_twiml.xml").read_bytes())
    assert ours.tag == sample.tag == "Response"
    assert list(ours) == list(sample) == [] and not (ours.text or "").strip()
    assert not (sample.text or "").strip()


def test_inbound_mms_sample() -> None:
    (m,) = parse_sample("inbound_mms_image.form").messages
    assert m.platform_message_id == "MMcccccccccccccccccccccccccccccccc"
    assert (m.kind, m.text, m.sender_id, m.sender_phone) == (
        MessageKind.IMAGE,
        "Is this the blue one?",
        CUSTOMER,
        "15558675310",
    )
    (a,) = m.attachments
    assert a == Attachment(
        kind=MessageKind.IMAGE,
        media_id="MEffffffffffffffffffffffffffffffff",
        url=f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages/"
        "MMcccccccccccccccccccccccccccccccc/Media/MEffffffffffffffffffffffffffffffff",
        mime_type="image/jpeg",
    )
    assert "messaging_service_sid" not in m.metadata


@pytest.mark.parametrize(
    ("sample", "status", "code"),
    [
        ("status_sent.form", DeliveryStatus.SENT, None),
        ("status_delivered.form", DeliveryStatus.DELIVERED, None),
        ("status_undelivered.form", DeliveryStatus.FAILED, "30003"),
        ("status_failed.form", DeliveryStatus.FAILED, "30008"),
    ],
)
def test_status_samples(sample: str, status: DeliveryStatus, code: str | None) -> None:
    parsed = parse_sample(sample)
    assert parsed.messages == () and parsed.reply is None  # callbacks get a plain 200
    (s,) = parsed.statuses
    assert (s.platform_message_id, s.status, s.recipient_id, s.error_code) == (
        SENT_SID,
        status,
        CUSTOMER,
        code,
    )
    assert s.occurred_at.tzinfo is not None and s.up_to is None
    if code is None:
        assert s.error_title is None
    else:
        assert s.error_title == REASONS[int(code)]
    if code == "30003":
        assert s.error_title is not None and "unreachable" in s.error_title


def test_json_twins_parse_like_the_form_bodies() -> None:
    forms = sorted(SMS.glob("*.form"))
    names = [p.stem for p in forms if not p.name.startswith("_") and not p.name.startswith("send_")]
    assert len(names) == 6
    for stem in names:
        from_form = parse_sample(f"{stem}.form")
        from_json = parse_fields(json.loads((SMS / f"{stem}.json").read_text()))
        strip = [
            (m.platform_message_id, m.kind, m.text, m.attachments, m.metadata) for m in from_form.messages
        ]
        assert strip == [
            (m.platform_message_id, m.kind, m.text, m.attachments, m.metadata) for m in from_json.messages
        ], stem
        assert [(s.platform_message_id, s.status, s.error_code) for s in from_form.statuses] == [
            (s.platform_message_id, s.status, s.error_code) for s in from_json.statuses
        ], stem
        assert len(from_form.messages) + len(from_form.statuses) == 1, stem


# ---- the other shapes --------------------------------------------------------------------------


def _status_fields(status: str, **extra: str) -> dict[str, str]:
    return {"MessageSid": SENT_SID, "MessageStatus": status, "To": CUSTOMER, "AccountSid": ACCOUNT, **extra}


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("queued", DeliveryStatus.QUEUED),
        ("sending", DeliveryStatus.QUEUED),
        ("accepted", DeliveryStatus.QUEUED),
        ("sent", DeliveryStatus.SENT),
        ("delivered", DeliveryStatus.DELIVERED),
        ("read", DeliveryStatus.READ),
        ("undelivered", DeliveryStatus.FAILED),
        ("failed", DeliveryStatus.FAILED),
        ("canceled", DeliveryStatus.FAILED),
    ],
)
def test_every_status_maps(name: str, status: DeliveryStatus) -> None:
    (s,) = parse_fields(_status_fields(name)).statuses
    assert (s.platform_message_id, s.status) == (SENT_SID, status)
    if status is DeliveryStatus.FAILED:
        assert s.error_code is None and s.error_title  # a reason even without ErrorCode
    else:
        assert s.error_title is None


@pytest.mark.parametrize("code", [21610, 30003, 30004, 30005, 30006, 30007, 30008, 30034, 21211, 21614])
def test_failed_statuses_carry_a_human_reason(code: int) -> None:
    (s,) = parse_fields(
        _status_fields("undelivered", ErrorCode=str(code), ErrorMessage="Carrier says no")
    ).statuses
    assert (s.status, s.error_code) == (DeliveryStatus.FAILED, str(code))
    assert s.error_title == REASONS[code] and s.error_title.endswith(".") and " " in s.error_title
    assert s.error_detail == "Carrier says no"
    unknown = parse_fields(_status_fields("failed", ErrorCode="39999")).statuses[0]
    assert unknown.error_title == "Twilio could not deliver the message (error 39999)."


def test_unknown_status_is_skipped() -> None:
    assert parse_fields(_status_fields("partially_delivered")) == ParsedWebhook()


def test_media_kinds_and_missing_media_fields() -> None:
    fields = {
        "MessageSid": "MM1",
        "From": CUSTOMER,
        "To": OUR_NUMBER,
        "Body": "",
        "NumMedia": "4",
        "MediaUrl0": "https://api.twilio.com/x/Media/ME0",
        "MediaContentType0": "video/mp4",
        "MediaUrl1": "https://api.twilio.com/x/Media/ME1",
        "MediaContentType1": "audio/amr",
        "MediaUrl2": "https://api.twilio.com/x/Media/ME2",
        "MediaContentType2": "text/vcard",
        # MediaUrl3 missing although NumMedia says 4: skipped, not invented
    }
    (m,) = parse_fields(fields).messages
    assert (m.kind, m.text) == (MessageKind.VIDEO, None)
    assert [(a.kind, a.media_id, a.mime_type) for a in m.attachments] == [
        (MessageKind.VIDEO, "ME0", "video/mp4"),
        (MessageKind.AUDIO, "ME1", "audio/amr"),
        (MessageKind.DOCUMENT, "ME2", "text/vcard"),
    ]
    empty = parse_fields({"MessageSid": "SM1", "From": CUSTOMER, "Body": ""}).messages[0]
    assert (empty.kind, empty.text) == (MessageKind.UNSUPPORTED, None)


def test_whatsapp_through_twilio_and_short_codes() -> None:
    fields = {
        "MessageSid": "SM2",
        "From": "whatsapp:+14155238886",
        "To": f"whatsapp:{OUR_NUMBER}",
        "Body": "hola",
        "ProfileName": "Ana",
        "WaId": "14155238886",
    }
    (m,) = parse_fields(fields).messages
    assert (m.sender_id, m.sender_phone, m.sender_name) == ("whatsapp:+14155238886", "14155238886", "Ana")
    assert m.metadata["channel"] == "whatsapp"
    short = parse_fields({"MessageSid": "SM3", "From": "89361", "Body": "x"}).messages[0]
    assert (short.sender_id, short.sender_phone) == ("89361", None)  # not a phone Twilio vouches for


def test_another_accounts_webhook_is_skipped() -> None:
    other = ChannelCredentials(
        channel_id=8, config={**CONFIG, "account_sid": "AC" + "1" * 32}, secrets=SECRETS
    )
    parsed = parse_sample("inbound_text.form", other)
    assert parsed.messages == () and parsed.reply is not None and parsed.reply.body == EMPTY_TWIML
    assert parse_sample("status_sent.form", other) == ParsedWebhook()
    # No account_sid configured (or matching): accepted.
    assert parse_sample("inbound_text.form", ChannelCredentials(7, {}, SECRETS)).messages


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\xff\xfe",
        b"Body=hi&From=%2B15558675310",  # no MessageSid
        b"MessageSid=SM1&Body=hi",  # no From
        b"CallSid=CA1&From=%2B15558675310&CallStatus=ringing",  # a voice webhook
        b'{"MessageSid": "SM1"}',
    ],
)
def test_malformed_bodies(body: bytes) -> None:
    with pytest.raises(MalformedPayload):
        sms.parse(_request(body), CHANNEL)


# ---- signatures -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "vector",
    [v for v in json.loads((SAMPLES / "signature_vectors.json").read_text()) if v["platform"] == "sms"],
    ids=lambda v: f"{v['body_file']}-{v['url']}-{v['valid']}",
)
def test_signature_vectors(vector: dict[str, Any]) -> None:
    channel = ChannelCredentials(channel_id=7, config={}, secrets={"auth_token": vector["secret"]})
    request = _request((SAMPLES / vector["body_file"]).read_bytes(), vector["headers"], vector["url"])
    assert sms.verify(request, channel, now=0) is vector["valid"]


def test_official_vector_recomputed_by_hand() -> None:
    """Twilio's documented example, built from the algorithm rather than the stored header."""
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = dict(urllib.parse.parse_qsl((SMS / "_official_doc_params.form").read_text()))
    payload = url + "".join(k + params[k] for k in sorted(params))
    digest = base64.b64encode(hmac.new(b"12345", payload.encode(), hashlib.sha1).digest()).decode()
    assert digest == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_tampering_and_missing_signatures_are_refused() -> None:
    body = (SMS / "inbound_text.form").read_bytes()
    good = signed(body)
    assert sms.verify(good, CHANNEL, now=0)
    tampered = body.replace(b"Hello+there", b"Hello+thera")
    assert not sms.verify(_request(tampered, dict(good.headers)), CHANNEL, now=0)
    added = body + b"&Extra=1"
    assert not sms.verify(_request(added, dict(good.headers)), CHANNEL, now=0)
    assert not sms.verify(_request(body, dict(good.headers), URL + "?x=1"), CHANNEL, now=0)
    assert not sms.verify(_request(body, dict(good.headers), URL.replace("https", "http")), CHANNEL, now=0)
    for headers in ({}, {"X-Twilio-Signature": ""}, {"X-Twilio-Signature": "not base64!"}):
        assert not sms.verify(_request(body, headers), CHANNEL, now=0), headers
    assert not sms.verify(signed(body, "other-token"), CHANNEL, now=0)
    assert not sms.verify(good, ChannelCredentials(7, CONFIG, {}), now=0)


def test_both_tokens_verify_during_rotation() -> None:
    body = (SMS / "status_delivered.form").read_bytes()
    rotating = ChannelCredentials(7, CONFIG, {"auth_token": "new-token", "secondary_auth_token": "old-token"})
    assert sms.verify(signed(body, "new-token"), rotating, now=0)
    assert sms.verify(signed(body, "old-token"), rotating, now=0)
    assert not sms.verify(signed(body, "third-token"), rotating, now=0)
    assert not sms.verify(
        signed(body, "old-token"), ChannelCredentials(7, CONFIG, {"auth_token": "new-token"}), now=0
    )


def test_default_port_variants_and_json_bodies() -> None:
    body = (SMS / "inbound_text.form").read_bytes()
    with_port = "https://support.example.com:443/webhooks/sms/7"
    assert sms.verify(_request(body, dict(signed(body, url=with_port).headers), URL), CHANNEL, now=0)
    assert sms.verify(_request(body, dict(signed(body).headers), with_port), CHANNEL, now=0)
    odd_port = "https://support.example.com:8443/webhooks/sms/7"
    assert not sms.verify(_request(body, dict(signed(body).headers), odd_port), CHANNEL, now=0)

    # JSON bodies: the URL (with bodySHA256) is signed, the body is checked by its hash.
    json_body = b'{"MessageSid":"SM1"}'
    url = f"{URL}?bodySHA256={hashlib.sha256(json_body).hexdigest()}"
    signature = base64.b64encode(hmac.new(b"test-secret", url.encode(), hashlib.sha1).digest()).decode()
    assert sms.verify(_request(json_body, {"X-Twilio-Signature": signature}, url), CHANNEL, now=0)
    assert not sms.verify(
        _request(b'{"MessageSid":"SM2"}', {"X-Twilio-Signature": signature}, url), CHANNEL, now=0
    )


def test_no_handshake() -> None:
    assert sms.handshake(WebhookRequest("GET", URL, {}, {}, b""), CHANNEL) is None


# ---- configuration ----------------------------------------------------------------------------------


def test_validate_config_capabilities_and_registry() -> None:
    assert sms.validate_config(CONFIG, SECRETS) == []
    assert sms.validate_config({"account_sid": ACCOUNT, "messaging_service_sid": SERVICE}, SECRETS) == []
    problems = sms.validate_config({}, {})
    assert problems == [
        "The Twilio Account SID (account_sid) is required.",
        "Either the sending number (from_number) or a Messaging Service SID (messaging_service_sid) is required.",
        "The Twilio Auth Token (auth_token) is required.",
    ]
    bad = sms.validate_config(
        {
            "account_sid": "SK123",
            "from_number": "5557122661",
            "messaging_service_sid": "MG1",
            "api_base": "ftp://x",
            "status_callback_url": "example.com/cb",
        },
        {"auth_token": " "},
    )
    text = " ".join(bad)
    for key in (
        "account_sid",
        "from_number",
        "messaging_service_sid",
        "api_base",
        "status_callback_url",
        "auth_token",
    ):
        assert key in text, key
    assert all(p.endswith(".") for p in bad)
    caps = sms.capabilities
    assert (caps.can_initiate, caps.address_kind, caps.address_format) == (True, "phone", "+{}")
    assert (caps.delivery_statuses, caps.read_statuses, caps.media, caps.buttons) == (
        True,
        False,
        True,
        False,
    )
    assert caps.reply_window is None and sms.max_text_length == 1600
    assert get_connector(Platform.SMS) is sms and get_connector("sms") is sms


# ---- sending over real HTTP to the fake ------------------------------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeTwilio, ChannelCredentials]]:
    api = FakeTwilio()
    api.add_account(
        ACCOUNT, auth_token=SECRETS["auth_token"], numbers=[OUR_NUMBER], messaging_service_sids=[SERVICE]
    )
    async with api.serve() as base_url:
        config = {
            **CONFIG,
            "api_base": base_url,
            "status_callback_url": "https://example.com/webhooks/twilio/status",
        }
        yield api, ChannelCredentials(channel_id=7, config=config, secrets=SECRETS)


def text(body: str = "Hi! How can we help?", to: str = CUSTOMER, **kw: Any) -> OutboundMessage:
    return OutboundMessage(recipient_id=to, kind=MessageKind.TEXT, idempotency_key="42", text=body, **kw)


async def _send_error(
    http: httpx.AsyncClient, channel: ChannelCredentials, message: OutboundMessage
) -> SendError:
    with pytest.raises(SendError) as info:
        await sms.send(http, channel, message)
    return info.value


async def test_send_text_matches_the_sample_bytes(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    result = await sms.send(http, channel, text())
    assert result.platform_message_id.startswith("SM") and len(result.platform_message_id) == 34
    (recorded,) = api.sent
    assert recorded["_fake"]["raw"] == (SMS / "send_text_request.form").read_text()
    assert recorded["_fake"]["sid"] == result.platform_message_id
    assert (recorded["To"], recorded["From"], recorded["Body"]) == (
        CUSTOMER,
        OUR_NUMBER,
        "Hi! How can we help?",
    )


async def test_status_callback_defaults_to_our_webhook_url(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    config = {k: v for k, v in channel.config.items() if k != "status_callback_url"}
    own = ChannelCredentials(
        7, {**config, "webhook_url": "https://support.example.com/webhooks/sms/7"}, SECRETS
    )
    await sms.send(http, own, text())
    assert api.sent[-1]["StatusCallback"] == "https://support.example.com/webhooks/sms/7"
    explicit = ChannelCredentials(
        7, {**own.config, "status_callback_url": "https://cb.example.com/s"}, SECRETS
    )
    await sms.send(http, explicit, text())
    assert api.sent[-1]["StatusCallback"] == "https://cb.example.com/s"
    await sms.send(http, ChannelCredentials(7, config, SECRETS), text())
    assert "StatusCallback" not in api.sent[-1]


async def test_send_with_messaging_service_and_media(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    config = {k: v for k, v in channel.config.items() if k != "from_number"}
    service = ChannelCredentials(7, {**config, "messaging_service_sid": SERVICE}, SECRETS)
    media = (
        Attachment(kind=MessageKind.IMAGE, url="https://cdn.example.com/a.jpg"),
        Attachment(kind=MessageKind.IMAGE, url="https://cdn.example.com/b.jpg"),
    )
    photo = OutboundMessage(
        recipient_id=CUSTOMER, kind=MessageKind.IMAGE, idempotency_key="43", text="Here", attachments=media
    )
    result = await sms.send(http, service, photo)
    assert result.platform_message_id.startswith("MM")
    recorded = api.sent[-1]
    assert "From" not in recorded and recorded["MessagingServiceSid"] == SERVICE
    assert recorded["MediaUrl"] == ["https://cdn.example.com/a.jpg", "https://cdn.example.com/b.jpg"]
    assert recorded["Body"] == "Here"
    captionless = OutboundMessage(
        recipient_id=CUSTOMER, kind=MessageKind.IMAGE, idempotency_key="44", attachments=media[:1]
    )
    await sms.send(http, channel, captionless)
    assert "Body" not in api.sent[-1] and api.sent[-1]["MediaUrl"] == ["https://cdn.example.com/a.jpg"]


async def test_rate_limits_and_server_errors_are_retryable(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    api.fail_next(429, json.loads((SMS / "send_error_20429.json").read_text()), headers={"Retry-After": "7"})
    api.fail_next(429, {"message": "slow down"})
    api.fail_next(503, {})
    rate = await _send_error(http, channel, text())
    assert (rate.code, rate.retryable, rate.retry_after) == ("20429", True, 7.0)
    assert "too many requests" in rate.reason
    bare = await _send_error(http, channel, text())
    assert (bare.code, bare.retryable, bare.retry_after) == ("HTTP_429", True, None)
    server = await _send_error(http, channel, text())
    assert (server.code, server.retryable) == ("HTTP_503", True)
    assert api.sent == []
    assert (await sms.send(http, channel, text())).platform_message_id.startswith("SM")


async def test_permanent_refusals_have_human_reasons(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    api.reply_stop(CUSTOMER)
    stop = await _send_error(http, channel, text())
    assert (stop.code, stop.retryable, stop.affects_channel) == ("21610", False, False)
    assert "replying STOP" in stop.reason
    api.reply_start(CUSTOMER)

    invalid = await _send_error(http, channel, text(to="555-867-5310"))
    assert (invalid.code, invalid.retryable) == ("21211", False)
    assert invalid.reason.startswith("The recipient's phone number is not a valid phone number.")

    api.landlines.add("+15550001111")
    landline = await _send_error(http, channel, text(to="+15550001111"))
    assert (landline.code, landline.retryable) == (
        "21614",
        False,
    ) and "not a mobile number" in landline.reason

    api.fail_next(400, twilio_error(21408, 400, to="+8613800000000"))
    region = await _send_error(http, channel, text(to="+8613800000000"))
    assert (region.code, region.retryable) == ("21408", False) and "Geo Permissions" in region.reason

    api.fail_next(400, json.loads((SMS / "send_error_21211.json").read_text()))
    sample = await _send_error(http, channel, text())
    assert "Invalid 'To' Phone Number" in sample.reason

    api.fail_next(400, {"code": 21999, "message": "Something odd", "status": 400})
    odd = await _send_error(http, channel, text())
    assert (odd.code, odd.retryable, odd.reason) == (
        "21999",
        False,
        "Twilio refused the message: Something odd",
    )
    assert api.sent == []


async def test_bad_credentials_affect_the_channel(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    wrong = ChannelCredentials(7, channel.config, {"auth_token": "nope"})
    error = await _send_error(http, wrong, text())
    assert (error.code, error.retryable, error.affects_channel) == ("20003", False, True)
    assert "Auth Token" in error.reason
    unknown = ChannelCredentials(7, {**channel.config, "account_sid": "AC" + "0" * 32}, SECRETS)
    assert (await _send_error(http, unknown, text())).code == "20003"
    not_ours = ChannelCredentials(7, {**channel.config, "from_number": "+15550009999"}, SECRETS)
    from_error = await _send_error(http, not_ours, text())
    assert (from_error.code, from_error.affects_channel) == ("21606", True)
    assert api.sent == []


async def test_refused_before_any_http_call() -> None:
    def no_http(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"unexpected HTTP call to {request.url}")

    cases = [
        (text("a" * 1601), "too_long"),
        (text("   "), "EMPTY_TEXT"),
        (text("pick", buttons=(Button("a", "A"),)), "UNSUPPORTED_BUTTONS"),
        (
            OutboundMessage(recipient_id=CUSTOMER, kind=MessageKind.TEMPLATE, idempotency_key="1"),
            "UNSUPPORTED_KIND",
        ),
        (
            OutboundMessage(
                CUSTOMER,
                MessageKind.IMAGE,
                "1",
                attachments=(Attachment(kind=MessageKind.IMAGE, media_id="x"),),
            ),
            "MEDIA_WITHOUT_URL",
        ),
        (
            OutboundMessage(
                CUSTOMER,
                MessageKind.IMAGE,
                "1",
                attachments=tuple(Attachment(MessageKind.IMAGE, url=f"https://x/{i}") for i in range(11)),
            ),
            "TOO_MANY_MEDIA",
        ),
    ]
    async with httpx.AsyncClient(transport=httpx.MockTransport(no_http)) as http:
        for message, code in cases:
            error = await _send_error(http, CHANNEL, message)
            assert (error.code, error.retryable) == (code, False), code


@pytest.mark.parametrize(
    ("exc", "code"),
    [(httpx.ConnectError("refused"), "NETWORK_ERROR"), (httpx.ReadTimeout("slow"), "TIMEOUT")],
)
async def test_transport_errors_are_retryable(exc: Exception, code: str) -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise exc

    async with httpx.AsyncClient(transport=httpx.MockTransport(broken)) as http:
        error = await _send_error(http, CHANNEL, text())
    assert (error.code, error.retryable) == (code, True)


async def test_accepted_without_sid_is_not_retried() -> None:
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(lambda r: httpx.Response(201, json={}))
    ) as http:
        error = await _send_error(http, CHANNEL, text())
    assert (error.code, error.retryable) == ("INVALID_RESPONSE", False)


async def test_fake_is_strict(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    url = f"{channel.config['api_base']}/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    auth = (ACCOUNT, SECRETS["auth_token"])
    good = {"To": CUSTOMER, "From": OUR_NUMBER, "Body": "hi"}
    cases = [
        ({k: v for k, v in good.items() if k != "To"}, 21604),
        ({**good, "To": "5558675310"}, 21211),
        ({k: v for k, v in good.items() if k != "From"}, 21603),
        ({**good, "From": "+15550000000"}, 21606),
        ({"To": CUSTOMER, "MessagingServiceSid": "MG" + "1" * 32, "Body": "x"}, 21701),
        ({**good, "Body": ""}, 21602),
        ({**good, "Body": "a" * 1601}, 21617),
        ({**good, "StatusCallback": "not a url"}, 21609),
    ]
    expected_keys = set(json.loads((SMS / "send_error_21211.json").read_text()))
    for form, code in cases:
        r = await http.post(url, data=form, auth=auth)
        assert (r.status_code, r.json()["code"]) == (400, code), form
        assert set(r.json()) == expected_keys and r.json()["status"] == 400
    assert (await http.post(url, data=good)).json()["code"] == 20003
    assert (await http.post(url, data=good, auth=(ACCOUNT, "x"))).status_code == 401
    assert (await http.post(url, json=good, auth=auth)).status_code == 400
    assert api.sent == []
    ok = await http.post(url, data=good, auth=auth)
    assert ok.status_code == 201
    assert set(ok.json()) == set(json.loads((SMS / "send_response.json").read_text()))
    assert ok.json()["status"] == "queued" and ok.json()["from"] == OUR_NUMBER


# ---- webhooks from the fake ---------------------------------------------------------------------------


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[list[tuple[bool, WebhookRequest]], str]]:
    """A stand-in for PyTake's webhook endpoint that checks signatures with the connector."""
    received: list[tuple[bool, WebhookRequest]] = []

    async def hook(request: Request) -> Response:
        body = await request.body()
        hook_request = WebhookRequest(
            "POST", str(request.url), {k.lower(): v for k, v in request.headers.items()}, {}, body
        )
        ok = sms.verify(hook_request, CHANNEL, now=0)
        received.append((ok, hook_request))
        if not ok:
            return Response("bad signature", status_code=401)
        reply = sms.parse(hook_request, CHANNEL).reply
        return Response(reply.body, media_type=reply.content_type) if reply else Response("ok")

    async with serve_app(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as base_url:
        yield received, f"{base_url}/hook?channel=7"  # a query string: signed too


async def test_inbound_from_the_fake_is_signed_and_shaped_like_the_sample(fake, receiver) -> None:  # type: ignore[no-untyped-def]
    api, _ = fake
    received, url = receiver
    api.add_account(ACCOUNT, auth_token=SECRETS["auth_token"], numbers=[OUR_NUMBER], sms_url=url)
    response = await api.post_inbound(ACCOUNT, from_=CUSTOMER, to=OUR_NUMBER, body="Olá, é azul?")
    assert response.status_code == 200 and response.text == EMPTY_TWIML
    assert response.headers["content-type"].startswith("text/xml")
    ok, request = received[-1]
    assert ok and request.url == url
    sample_keys = [k for k, _ in urllib.parse.parse_qsl((SMS / "inbound_text.form").read_text())]
    posted = urllib.parse.parse_qsl(request.body.decode())
    assert [k for k, _ in posted] == [k for k in sample_keys if k != "MessagingServiceSid"]
    (m,) = sms.parse(request, CHANNEL).messages
    assert (m.text, m.sender_id, m.kind) == ("Olá, é azul?", CUSTOMER, MessageKind.TEXT)

    media = [("https://api.twilio.com/x/Media/ME1", "image/png")]
    await api.post_inbound(ACCOUNT, from_=CUSTOMER, to=OUR_NUMBER, media=media, sid="MM" + "1" * 32)
    ok, request = received[-1]
    (mms,) = sms.parse(request, CHANNEL).messages
    assert ok and mms.platform_message_id == "MM" + "1" * 32 and mms.attachments[0].mime_type == "image/png"

    forged = await api.post_form(
        url, inbound_fields(ACCOUNT, from_=CUSTOMER, to=OUR_NUMBER, body="x"), "wrong"
    )
    assert forged.status_code == 401 and received[-1][0] is False


async def test_auto_status_callbacks_follow_a_send(fake, receiver, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    received, url = receiver
    api.auto_statuses = ["sent", "delivered"]
    with_callback = ChannelCredentials(7, {**channel.config, "status_callback_url": url}, SECRETS)
    result = await sms.send(http, with_callback, text())
    await api.wait_idle()
    assert [ok for ok, _ in received] == [True, True]
    updates = [sms.parse(r, CHANNEL).statuses[0] for _, r in received]
    assert [(u.platform_message_id, u.status, u.recipient_id) for u in updates] == [
        (result.platform_message_id, DeliveryStatus.SENT, CUSTOMER),
        (result.platform_message_id, DeliveryStatus.DELIVERED, CUSTOMER),
    ]
    sample_keys = [k for k, _ in urllib.parse.parse_qsl((SMS / "status_sent.form").read_text())]
    assert [k for k, _ in urllib.parse.parse_qsl(received[0][1].body.decode())] == [
        k for k in sample_keys if k != "MessagingServiceSid"
    ]
    failed = await api.post_status(result.platform_message_id, "undelivered", error_code=30007)
    assert failed.status_code == 200
    (status,) = sms.parse(received[-1][1], CHANNEL).statuses
    assert (status.status, status.error_code, status.error_title) == (
        DeliveryStatus.FAILED,
        "30007",
        REASONS[30007],
    )


# ---- end to end through the real app -----------------------------------------------------------------


def _random_number() -> str:
    return "+1555" + str(uuid.uuid4().int % 10**7).zfill(7)


@pytest.fixture
async def sms_case(server: str) -> AsyncIterator[ConnectorCase]:
    account_sid, token, number = "AC" + uuid.uuid4().hex, uuid.uuid4().hex, _random_number()

    async def wire(case: ConnectorCase) -> None:
        case.channel.config = {**case.channel.config, "status_callback_url": case.webhook}
        await case.channel.save()
        case.fake.add_account(account_sid, auth_token=token, numbers=[number], sms_url=case.webhook)

    config = {"account_sid": account_sid, "from_number": number}
    async with connector_case(
        server, FakeTwilio(), "sms", config, {"auth_token": token}, wire=wire, agent_name="Sam SMS"
    ) as case:
        yield case


async def test_end_to_end(server, sms_case) -> None:  # type: ignore[no-untyped-def]
    from models import Message

    case = sms_case
    channel, api, webhook = case.channel, case.fake, case.webhook
    account_sid, number = channel.config["account_sid"], channel.config["from_number"]
    customer = _random_number()
    sid = "SM" + uuid.uuid4().hex

    # 1. the customer texts: stored once, answered with empty TwiML
    first = await api.post_inbound(account_sid, from_=customer, to=number, body="Is the store open?", sid=sid)
    assert first.status_code == 200 and first.text == EMPTY_TWIML
    assert first.headers["content-type"].startswith("text/xml")
    stored = await Message.get(channel_id=channel.id, platform_message_id=sid)
    assert (stored.text, stored.direction, stored.kind) == ("Is the store open?", "inbound", MessageKind.TEXT)

    # 2. Twilio (or a proxy) repeats it: nothing new
    again = await api.post_inbound(account_sid, from_=customer, to=number, body="Is the store open?", sid=sid)
    assert again.status_code == 200
    assert await Message.filter(channel_id=channel.id, platform_message_id=sid).count() == 1

    # 3. a forgery (wrong token) and a replay to another URL are refused, nothing stored
    forged_sid = "SM" + uuid.uuid4().hex
    fields = inbound_fields(account_sid, from_=customer, to=number, body="forged", sid=forged_sid)
    assert (await api.post_form(webhook, fields, "not-the-token")).status_code == 401
    body = urllib.parse.urlencode(fields).encode()
    elsewhere = twilio_sign(body, api.accounts[account_sid].auth_token, 0, "https://evil.example.com/hook")
    async with httpx.AsyncClient() as client:
        replayed = await client.post(webhook, content=body, headers=elsewhere.headers)
    assert replayed.status_code == 401
    assert await Message.filter(channel_id=channel.id, platform_message_id=forged_sid).count() == 0

    # 4. the agent replies; the worker sends exactly one request; callbacks mark it delivered
    api.auto_statuses = ["sent", "delivered"]
    reply, client_id = await case.reply(stored.conversation_id, "Yes, until 8 pm!")
    assert reply["data"]["sendMessage"]["status"] == "QUEUED", reply
    outbound = await case.wait_for(client_id, "delivered")
    assert outbound.delivered_at is not None
    sends = [s for s in api.sent if s["To"] == customer]
    assert len(sends) == 1
    assert (sends[0]["From"], sends[0]["Body"], sends[0]["StatusCallback"]) == (
        number,
        "Yes, until 8 pm!",
        webhook,
    )
    assert outbound.platform_message_id == sends[0]["_fake"]["sid"]
    assert outbound.status == "delivered" and outbound.sent_at is not None

    # 5. the customer texted STOP: the next reply fails with a reason the agent can read
    api.reply_stop(customer)
    stopped, stopped_id = await case.reply(stored.conversation_id, "One more thing")
    assert stopped["data"]["sendMessage"]["status"] == "QUEUED"
    refused = await case.wait_for(stopped_id, "failed")
    assert refused.error_code == "21610" and "STOP" in (refused.error_reason or "")
    assert len([s for s in api.sent if s["To"] == customer]) == 1
