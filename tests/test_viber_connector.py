"""Viber: every sample parsed to concrete values (64-bit message tokens kept exact), signatures over
the raw bytes, sends against the fake REST Bot API over real HTTP with Viber's status codes,
set_webhook's live check, and end to end through the app with receipts and a button press."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
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
    SendError,
    WebhookRequest,
)
from connectors.fakes.server import serve_app
from connectors.viber import STATUS_CODES, viber
from tests.conftest import SAMPLES
from tests.fakes.viber import FakeViber, sign
from tests.helpers import connector_case

VIBER = SAMPLES / "viber"
USER = "01234567890A="  # the samples' sender
TOKEN = "445da6az1s345z78-dazcczb2542zv51a-e0vc5fva17480im9"
CHANNEL = ChannelCredentials(9, {"sender_name": "Acme Support"}, {"auth_token": TOKEN})
BIG = 5741311803571721088  # > 2^53: a double would make it ...1120


def _request(body: bytes, headers: dict[str, str] | None = None, query: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    return WebhookRequest("POST", "https://x/webhooks/viber/9", lowered, query or {}, body)


def parse_sample(name: str) -> ParsedWebhook:
    return viber.parse(_request((VIBER / name).read_bytes()), CHANNEL)


def parse_message(message: dict[str, Any], **extra: Any) -> Any:
    body = {
        "event": "message",
        "timestamp": 1750030069123,
        "message_token": BIG,
        "sender": {"id": USER, "name": "John McClane"},
        "message": message,
        **extra,
    }
    (parsed,) = viber.parse(_request(orjson.dumps(body)), CHANNEL).messages
    return parsed


# ---- samples ------------------------------------------------------------------------------------


def test_inbound_text_sample() -> None:
    parsed = parse_sample("inbound_text.json")
    assert parsed.statuses == () and parsed.reply is None
    (m,) = parsed.messages
    assert m.platform_message_id == "5741311803571721088"  # exact, not 5741311803571721000 or ...1120
    assert (m.kind, m.text, m.sender_id, m.sender_name) == (
        MessageKind.TEXT,
        "a message to the service",
        USER,
        "John McClane",
    )
    assert m.sent_at == datetime.fromtimestamp(1750030069.123, UTC)
    assert m.sender_phone is None and m.attachments == () and m.reply_address is None
    assert m.metadata == {
        "name": "John McClane",
        "language": "en",
        "country": "GB",
        "api_version": 10,
        "tracking_data": "tracking data",  # not ours: kept as it came
    }


def test_inbound_picture_sample() -> None:
    (m,) = parse_sample("inbound_picture.json").messages
    assert (m.platform_message_id, m.kind, m.text) == (
        "5741311803571721089",
        MessageKind.IMAGE,
        "Is this the blue one?",
    )
    (a,) = m.attachments
    assert (a.kind, a.filename) == (MessageKind.IMAGE, "photo.jpg")
    assert a.url == "https://dl-media.viber.com/1/share/2/long/vibes/icon/image/0x0/FAKE.jpg"


@pytest.mark.parametrize(
    ("sample", "status", "millis"),
    [
        ("status_delivered.json", DeliveryStatus.DELIVERED, 1750030072123),
        ("status_seen.json", DeliveryStatus.READ, 1750030095123),
        ("status_failed.json", DeliveryStatus.FAILED, 1750030071123),
    ],
)
def test_receipt_samples(sample: str, status: DeliveryStatus, millis: int) -> None:
    parsed = parse_sample(sample)
    assert parsed.messages == ()
    (s,) = parsed.statuses
    assert (s.platform_message_id, s.status, s.recipient_id) == ("5741311803571721090", status, USER)
    assert s.occurred_at == datetime.fromtimestamp(millis / 1000, UTC) and s.up_to is None
    if status is DeliveryStatus.FAILED:
        assert (s.error_code, s.error_detail) == ("failed", "failure description")
    else:
        assert s.error_code is None and s.error_detail is None


@pytest.mark.parametrize(
    "sample",
    ["webhook_setup_callback.json", "subscribed.json", "unsubscribed.json", "conversation_started.json"],
)
def test_callbacks_that_store_nothing(sample: str) -> None:
    assert parse_sample(sample) == ParsedWebhook()  # and the endpoint answers 200 ok


def test_every_sample_is_covered() -> None:
    names = {p.name for p in VIBER.glob("*.json") if not p.name.startswith(("_", "send_", "set_webhook"))}
    assert names == {
        "inbound_text.json",
        "inbound_picture.json",
        "status_delivered.json",
        "status_seen.json",
        "status_failed.json",
        "webhook_setup_callback.json",
        "subscribed.json",
        "unsubscribed.json",
        "conversation_started.json",
    }


# ---- other message types ------------------------------------------------------------------------


def test_tokens_stay_exact_at_the_edges() -> None:
    for token in (2**53 + 1, 2**63 - 1, 9007199254740993):
        assert parse_message({"type": "text", "text": "x"}, message_token=token).platform_message_id == str(
            token
        )
    assert parse_message(
        {"type": "text", "text": "x"}, message_token="9007199254740993"
    ).platform_message_id == ("9007199254740993")


def test_media_contact_url_location_and_unknown_types() -> None:
    video = parse_message({"type": "video", "media": "https://v/1.mp4", "size": 2048, "duration": 7})
    assert (video.kind, video.attachments[0].url, video.attachments[0].size) == (
        MessageKind.VIDEO,
        "https://v/1.mp4",
        2048,
    )
    assert video.metadata["duration"] == 7
    document = parse_message({"type": "file", "media": "https://f/a.pdf", "file_name": "a.pdf", "size": 99})
    assert (document.kind, document.attachments[0].filename, document.attachments[0].size) == (
        MessageKind.DOCUMENT,
        "a.pdf",
        99,
    )
    sticker = parse_message({"type": "sticker", "sticker_id": 46105, "media": "https://s/46105.png"})
    assert (sticker.kind, sticker.metadata["sticker_id"]) == (MessageKind.STICKER, 46105)
    contact = parse_message({"type": "contact", "contact": {"name": "Holly", "phone_number": "+15550100"}})
    assert (contact.kind, contact.text) == (MessageKind.CONTACTS, "Shared contact: Holly (+15550100)")
    assert contact.sender_phone is None  # someone else's number, not the sender's
    link = parse_message({"type": "url", "media": "https://shop.example/p/1"})
    assert (link.kind, link.text) == (MessageKind.TEXT, "https://shop.example/p/1")
    location = parse_message({"type": "location", "location": {"lat": 51.5, "lon": -0.12}})
    assert (location.kind, location.text) == (MessageKind.LOCATION, "Location: 51.5, -0.12")
    assert location.metadata["location"] == {"latitude": 51.5, "longitude": -0.12}
    rich = parse_message({"type": "rich_media", "rich_media": {}})
    assert (rich.kind, rich.metadata["raw_type"]) == (MessageKind.UNSUPPORTED, "rich_media")


def test_button_press_is_a_postback_through_tracking_data() -> None:
    ours = json.dumps({"pytake": "17", "buttons": [["track", "Track parcel"], ["agent", "Talk to us"]]})
    press = parse_message({"type": "text", "text": "Talk to us", "tracking_data": ours})
    assert (press.kind, press.text, press.metadata["payload"]) == (
        MessageKind.POSTBACK,
        "Talk to us",
        "agent",
    )
    assert "tracking_data" not in press.metadata
    typed = parse_message({"type": "text", "text": "something else", "tracking_data": ours})
    assert typed.kind is MessageKind.TEXT and "payload" not in typed.metadata
    foreign = parse_message({"type": "text", "text": "Talk to us", "tracking_data": "Talk to us"})
    assert foreign.kind is MessageKind.TEXT


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'{"timestamp": 1}',
        b'{"event": "message", "message_token": 1, "message": {"type": "text", "text": "x"}}',
        b'{"event": "message", "sender": {"id": "u"}, "message": {"type": "text", "text": "x"}}',
        b'{"event": "message", "message_token": 1, "sender": {"id": "u"}}',
        b'{"event": "delivered", "user_id": "u"}',
        b'{"event": "seen", "message_token": 1.5e18, "user_id": "u"}',
    ],
)
def test_malformed_bodies(body: bytes) -> None:
    with pytest.raises(MalformedPayload):
        viber.parse(_request(body), CHANNEL)


def test_unknown_events_store_nothing() -> None:
    assert viber.parse(_request(b'{"event": "client_status", "timestamp": 1}'), CHANNEL) == ParsedWebhook()
    assert viber.parse(_request(b'{"event": "something_new"}'), CHANNEL) == ParsedWebhook()


# ---- signatures -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "vector",
    [v for v in json.loads((SAMPLES / "signature_vectors.json").read_text()) if v["platform"] == "viber"],
    ids=lambda v: v["body_file"],
)
def test_signature_vectors(vector: dict[str, Any]) -> None:
    channel = ChannelCredentials(9, {}, {"auth_token": vector["secret"]})
    request = _request((SAMPLES / vector["body_file"]).read_bytes(), vector["headers"])
    assert viber.verify(request, channel, now=0) is vector["valid"]


def test_tampered_missing_and_wrong_signatures_are_refused() -> None:
    body = (VIBER / "inbound_text.json").read_bytes()
    good = sign(TOKEN, body)
    assert viber.verify(_request(body, {"X-Viber-Content-Signature": good}), CHANNEL, now=0)
    assert viber.verify(_request(body, {"X-Viber-Content-Signature": good.upper()}), CHANNEL, now=0)
    assert viber.verify(_request(body, query={"sig": good}), CHANNEL, now=0)  # Viber's ?sig= form
    tampered = body.replace(b"service", b"servicE")
    for request in (
        _request(tampered, {"X-Viber-Content-Signature": good}),
        _request(body),
        _request(body, {"X-Viber-Content-Signature": ""}),
        _request(body, {"X-Viber-Content-Signature": good[:-2]}),
        _request(body, {"X-Viber-Content-Signature": "sha256=" + good}),
        _request(body, {"X-Viber-Content-Signature": sign("another-token", body)}),
        _request(body, {"X-Hub-Signature-256": good}),
    ):
        assert not viber.verify(request, CHANNEL, now=0)
    assert not viber.verify(
        _request(body, {"X-Viber-Content-Signature": good}), ChannelCredentials(9, {}, {}), now=0
    )


def test_validate_config_and_capabilities() -> None:
    assert viber.validate_config({"sender_name": "Acme Support"}, {"auth_token": TOKEN}) == []
    assert (
        viber.validate_config(
            {
                "sender_name": "Acme",
                "sender_avatar": "https://acme.example/a.jpg",
                "api_base": "http://127.0.0.1:1",
            },
            {"auth_token": TOKEN},
        )
        == []
    )
    assert viber.validate_config({}, {}) == [
        "The bot's auth token (auth_token) is required; it is in the Viber admin panel.",
        "The sender name (sender_name) is required: the name customers see on replies.",
    ]
    assert viber.validate_config(
        {"sender_name": "A" * 29, "sender_avatar": "avatar.jpg", "api_base": "chatapi.viber.com"},
        {"auth_token": " "},
    ) == [
        "The bot's auth token (auth_token) is required; it is in the Viber admin panel.",
        "The sender name (sender_name) must be at most 28 characters.",
        "The optional sender avatar (sender_avatar) must be an http(s) URL of an image.",
        "The API base URL (api_base) must start with https:// or http://.",
    ]
    caps = viber.capabilities
    assert (caps.delivery_statuses, caps.read_statuses, caps.buttons, caps.can_initiate) == (
        True,
        True,
        True,
        False,
    )
    assert caps.reply_window is None and viber.max_text_length == 7000
    assert viber.secret_names == ("auth_token",) and viber.generated_secrets == ()
    assert viber.handshake(WebhookRequest("GET", "https://x", {}, {}, b""), CHANNEL) is None


# ---- sending against the fake ---------------------------------------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeViber, ChannelCredentials]]:
    api = FakeViber(TOKEN)
    api.subscribe(USER)
    api.webhook = "https://pytake.example/webhooks/viber/9"  # as if set_webhook had run
    async with api.serve() as base:
        config = {
            "sender_name": "Acme Support",
            "sender_avatar": "https://example.com/avatar.jpg",
            "api_base": base,
        }
        yield api, ChannelCredentials(9, config, {"auth_token": TOKEN})


def text(body: str = "Hello world!", key: str = "42", **kw: Any) -> OutboundMessage:
    return OutboundMessage(recipient_id=USER, kind=MessageKind.TEXT, idempotency_key=key, text=body, **kw)


def _body(sent: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in sent.items() if k != "_token"}


async def _error(http: httpx.AsyncClient, channel: ChannelCredentials, message: OutboundMessage) -> SendError:
    with pytest.raises(SendError) as info:
        await viber.send(http, channel, message)
    return info.value


async def test_text_matches_the_sample_and_the_token_is_exact(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    result = await viber.send(http, channel, text())
    (sent,) = api.sent
    expected = json.loads((VIBER / "send_text_request.json").read_text())
    assert _body(sent) == {**expected, "tracking_data": '{"pytake":"42"}'}
    assert result.platform_message_id == str(sent["_token"]) and sent["_token"] > 2**53


async def test_picture_link_and_buttons(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    picture = Attachment(kind=MessageKind.IMAGE, url="https://cdn.example/blue.jpg")
    await viber.send(http, channel, text("The blue one", attachments=(picture,)))
    assert {k: api.sent[-1][k] for k in ("type", "media", "text")} == {
        "type": "picture",
        "media": "https://cdn.example/blue.jpg",
        "text": "The blue one",
    }
    await viber.send(http, channel, text("", attachments=(picture,)))
    assert api.sent[-1]["text"] == ""  # Viber requires the field, empty is fine
    invoice = Attachment(
        kind=MessageKind.DOCUMENT, url="https://cdn.example/invoice.pdf", filename="invoice.pdf"
    )
    await viber.send(http, channel, text("Your invoice", attachments=(invoice,)))
    assert (api.sent[-1]["type"], api.sent[-1]["text"]) == (
        "text",
        "Your invoice\nhttps://cdn.example/invoice.pdf",
    )
    buttons = (Button("track", "Track parcel"), Button("site", "Our shop", url="https://shop.example"))
    await viber.send(http, channel, text("How can we help?", key="43", buttons=buttons))
    sent = api.sent[-1]
    assert sent["keyboard"] == {
        "Type": "keyboard",
        "DefaultHeight": False,
        "Buttons": [
            {
                "Columns": 6,
                "Rows": 1,
                "ActionType": "reply",
                "ActionBody": "Track parcel",
                "Text": "Track parcel",
            },
            {
                "Columns": 6,
                "Rows": 1,
                "ActionType": "open-url",
                "ActionBody": "https://shop.example",
                "Text": "Our shop",
            },
        ],
    }
    assert json.loads(sent["tracking_data"]) == {"pytake": "43", "buttons": [["track", "Track parcel"]]}
    # the customer taps the button: Viber sends its title as text, with our tracking_data back
    press = viber.parse(_request(orjson.dumps(api.message_body(USER, "Track parcel"))), channel).messages[0]
    assert (press.kind, press.text, press.metadata["payload"]) == (
        MessageKind.POSTBACK,
        "Track parcel",
        "track",
    )


async def test_status_codes_are_classified(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    api.unsubscribe("gone")
    unsubscribed = await _error(http, channel, OutboundMessage("gone", MessageKind.TEXT, "1", text="hi"))
    assert (unsubscribed.code, unsubscribed.retryable, unsubscribed.affects_channel) == (
        "notSubscribed",
        False,
        False,
    )
    assert unsubscribed.reason == (
        "The customer has not subscribed to this bot (or unsubscribed); Viber only allows messages to subscribers."
    )
    stranger = await _error(http, channel, OutboundMessage("nobody=", MessageKind.TEXT, "2", text="hi"))
    assert (stranger.code, stranger.retryable) == ("receiverNotRegistered", False)
    api.fail_next(12)
    throttled = await _error(http, channel, text(key="3"))
    assert (throttled.code, throttled.retryable, throttled.retry_after) == ("tooManyRequests", True, None)
    api.fail_next(12, headers={"Retry-After": "7"})
    assert (await _error(http, channel, text(key="4"))).retry_after == 7.0
    api.fail_next(0, http_status=429, headers={"Retry-After": "3"})
    limited = await _error(http, channel, text(key="5"))
    assert (limited.code, limited.retryable, limited.retry_after) == ("HTTP_429", True, 3.0)
    api.fail_next(0, http_status=503)
    assert (await _error(http, channel, text(key="6"))).retryable
    for code, name in ((23, "freeMessagesExceeded"), (24, "noBalance"), (7, "publicAccountBlocked")):
        api.fail_next(code)
        refused = await _error(http, channel, text(key=str(code)))
        assert (refused.code, refused.retryable, refused.affects_channel) == (name, False, True)
        assert refused.reason == STATUS_CODES[code][3]
    api.fail_next(99)
    unknown = await _error(http, channel, text(key="7"))
    assert (unknown.retryable, unknown.reason) == (False, "Viber refused the request (error).")
    bad_auth = ChannelCredentials(9, channel.config, {"auth_token": "not-the-token"})
    auth = await _error(http, bad_auth, text(key="8"))
    assert (auth.code, auth.retryable, auth.affects_channel) == ("invalidAuthToken", False, True)
    assert "auth token" in auth.reason
    api.webhook = None
    unset = await _error(http, channel, text(key="9"))
    assert (unset.code, unset.affects_channel) == ("webhookNotSet", True)
    assert len(api.sent) == 0 and api.requests == 12


async def test_refused_before_any_http_call(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    too_long = await _error(http, channel, text("x" * 7001))
    assert (too_long.code, too_long.retryable) == ("too_long", False)
    assert "7000" in too_long.reason
    picture = Attachment(kind=MessageKind.IMAGE, url="https://cdn.example/a.jpg")
    assert (await _error(http, channel, text("x" * 769, attachments=(picture,)))).code == "too_long"
    assert (await _error(http, channel, text("   "))).code == "empty"
    two = (picture, picture)
    assert (await _error(http, channel, text("x", attachments=two))).code == "too_many_attachments"
    template = OutboundMessage(USER, MessageKind.TEMPLATE, "1", template={"name": "x"})
    assert (await _error(http, channel, template)).code == "unsupported_kind"
    assert api.requests == 0
    await viber.send(http, channel, text("x" * 7000))  # the limit itself goes through
    assert api.requests == 1


async def test_transport_errors_are_retryable(http) -> None:  # type: ignore[no-untyped-def]
    closed = ChannelCredentials(
        9, {"sender_name": "A", "api_base": "http://127.0.0.1:9"}, {"auth_token": TOKEN}
    )
    error = await _error(http, closed, text())
    assert (error.code, error.retryable) == ("NETWORK_ERROR", True)


async def test_fake_is_strict(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    url = f"{channel.config['api_base']}/pa/send_message"
    auth = {"X-Viber-Auth-Token": TOKEN}
    good = json.loads((VIBER / "send_text_request.json").read_text())

    async def status_of(body: Any, headers: dict[str, str] = auth) -> tuple[int, str]:
        r = await http.post(
            url, content=body if isinstance(body, bytes) else orjson.dumps(body), headers=headers
        )
        assert r.status_code == 200  # Viber answers everything with 200
        return r.json()["status"], r.json()["status_message"]

    assert await status_of(good, {}) == (2, "invalidAuthToken")
    assert (await status_of(b"{oops"))[0] == 3
    assert (await status_of({**good, "receiver": ""}))[0] == 4
    assert (await status_of({**good, "sender": {}}))[0] == 4
    assert (await status_of({**good, "sender": {"name": "x" * 29}}))[0] == 3
    assert (await status_of({**good, "text": "x" * 7001}))[0] == 3
    assert (await status_of({**good, "type": "picture", "media": "https://a/b.jpg", "text": None}))[0] == 4
    assert (await status_of({**good, "type": "file", "media": "https://a/b.pdf"}))[0] == 4
    assert (await status_of({**good, "keyboard": {"Type": "keyboard", "Buttons": []}}))[0] == 3
    assert (
        await status_of({**good, "keyboard": {"Type": "keyboard", "Buttons": [{"ActionType": "reply"}]}})
    )[0] == 4
    assert (await status_of({**good, "tracking_data": "x" * 4097}))[0] == 3
    assert api.sent == []
    ok = await http.post(url, content=orjson.dumps(good), headers=auth)
    expected = json.loads((VIBER / "send_response.json").read_text())
    assert set(ok.json()) == set(expected) and ok.json()["status"] == 0


# ---- set_webhook and callbacks -------------------------------------------------------------------------


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[list[tuple[bool, bytes]], str, dict[str, int]]]:
    """A stand-in for PyTake's webhook endpoint: checks signatures with the connector."""
    received: list[tuple[bool, bytes]] = []
    answer = {"status": 200}

    async def hook(request: Request) -> PlainTextResponse:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        ok = viber.verify(WebhookRequest("POST", str(request.url), headers, {}, body), CHANNEL, now=0)
        received.append((ok, body))
        return PlainTextResponse("ok", status_code=answer["status"] if ok else 401)

    async with serve_app(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as base:
        yield received, f"{base}/hook", answer


async def test_register_webhook_needs_a_200_from_the_url(fake, receiver, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    received, url, answer = receiver
    api.webhook = None
    answer["status"] = 500
    refused = await _error_register(http, channel, url)
    assert (refused.code, refused.affects_channel) == ("invalidUrl", True) and api.webhook is None
    answer["status"] = 200
    assert await viber.register_webhook(http, channel, url) == [
        "delivered",
        "seen",
        "failed",
        "subscribed",
        "unsubscribed",
        "conversation_started",
    ]
    assert api.webhook == url and all(ok for ok, _ in received)
    check = orjson.loads(received[-1][1])
    assert check["event"] == "webhook" and viber.parse(_request(received[-1][1]), channel) == ParsedWebhook()
    api.require_https = True
    assert (await _error_register(http, channel, url)).code == "invalidUrl"
    wrong = ChannelCredentials(9, channel.config, {"auth_token": "nope"})
    assert (await _error_register(http, wrong, url)).code == "invalidAuthToken"


async def _error_register(http: httpx.AsyncClient, channel: ChannelCredentials, url: str) -> SendError:
    with pytest.raises(SendError) as info:
        await viber.register_webhook(http, channel, url)
    return info.value


async def test_callbacks_from_the_fake_are_signed_and_parse(fake, receiver, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    received, url, _ = receiver
    await viber.register_webhook(http, channel, url)
    api.auto_statuses = ["delivered", "seen"]
    result = await viber.send(http, channel, text())
    await api.wait_idle()
    statuses = [viber.parse(_request(body), channel).statuses[0] for _, body in received[-2:]]
    assert [(s.platform_message_id, s.status) for s in statuses] == [
        (result.platform_message_id, DeliveryStatus.DELIVERED),
        (result.platform_message_id, DeliveryStatus.READ),
    ]
    assert (
        await api.post_status("failed", int(result.platform_message_id), USER, "blocked")
    ).status_code == 200
    (failed,) = viber.parse(_request(received[-1][1]), channel).statuses
    assert (failed.status, failed.error_detail) == (DeliveryStatus.FAILED, "blocked")
    assert (await api.post_message(USER, "hi there")).status_code == 200
    (message,) = viber.parse(_request(received[-1][1]), channel).messages
    assert (message.text, message.sender_id, message.metadata["country"]) == ("hi there", USER, "GB")
    assert all(ok for ok, _ in received)


# ---- end to end through the real app -------------------------------------------------------------------


async def test_end_to_end(server, http) -> None:  # type: ignore[no-untyped-def]
    from models import Message
    from resolvers.channels import credentials

    token = uuid.uuid4().hex
    api = FakeViber(token)
    async with connector_case(server, api, "viber", {"sender_name": "Acme"}, {"auth_token": token}) as case:
        channel, url = case.channel, case.webhook
        # 1. set_webhook: Viber posts a signed `webhook` check to our endpoint, which answers 200
        await viber.register_webhook(http, credentials(channel), url)
        assert api.webhook == url and api.webhook_responses[-1].text == "ok"
        assert await Message.filter(channel_id=channel.id).count() == 0

        # 2. the customer writes; the redelivery stores nothing new; a forgery is refused
        user = uuid.uuid4().hex[:22] + "A="
        api.subscribe(user)
        body = orjson.dumps(api.message_body(user, "Where is my parcel?", name="Jane Roe"))
        assert (await api.post(body)).status_code == 200
        assert (await api.post(body)).status_code == 200
        forged = body.replace(b"parcel", b"refund")
        assert (await api.post(forged, signature=sign(token, body))).status_code == 401
        assert (await api.post(body, signature=sign("wrong-token", body))).status_code == 401
        (stored,) = await Message.filter(channel_id=channel.id)
        assert (stored.text, stored.direction, stored.platform_message_id) == (
            "Where is my parcel?",
            "inbound",
            str(orjson.loads(body)["message_token"]),
        )

        # 3. the agent replies with buttons; the worker sends exactly once; receipts arrive
        api.auto_statuses = ["delivered", "seen"]
        buttons = [{"id": "agent", "title": "Talk to a person"}]
        reply, client_id = await case.reply(
            stored.conversation_id, "It ships today. Anything else?", buttons=buttons
        )
        assert reply.get("errors") is None, reply
        outbound = await case.wait_for(client_id, "read")
        (sent,) = [s for s in api.sent if s["receiver"] == user]
        assert (sent["type"], sent["text"], sent["sender"]) == (
            "text",
            "It ships today. Anything else?",
            {"name": "Acme"},
        )
        assert sent["keyboard"]["Buttons"][0]["ActionBody"] == "Talk to a person"
        assert outbound.platform_message_id == str(sent["_token"])

        # 4. the customer taps the button: stored as a postback carrying the button's id
        assert (await api.post_message(user, "Talk to a person")).status_code == 200
        press = await Message.get(channel_id=channel.id, kind=MessageKind.POSTBACK)
        assert (press.text, press.metadata["payload"]) == ("Talk to a person", "agent")

        # 5. a failed receipt marks an outbound message failed, with Viber's description
        api.auto_statuses = []
        second, second_id = await case.reply(stored.conversation_id, "Still there?", buttons=[])
        assert second.get("errors") is None
        message = await case.wait_for(second_id)
        assert (
            await api.post_status("failed", int(message.platform_message_id), user, "blocked by user")
        ).status_code == 200
        failed = await Message.get(id=message.id)
        assert (failed.status, failed.error_code) == ("failed", "failed")
        assert "blocked by user" in (failed.error_reason or "")
