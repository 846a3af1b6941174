"""The LINE connector: every sample parsed to concrete values, x-line-signature over the raw bytes,
pushes against the fake LINE API over real HTTP (retry keys, 409s, the monthly limit), and the
whole path through the real app: the console's Verify stores nothing, a signed message is stored
once even when redelivered, an agent's reply is pushed exactly once, and an unsend deletes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from connectors.base import (
    Attachment,
    Button,
    ChannelCredentials,
    MalformedPayload,
    MessageEdit,
    MessageKind,
    OutboundMessage,
    ParsedWebhook,
    Platform,
    SendError,
    WebhookRequest,
)
from connectors.fakes.server import serve_app
from connectors.line import line, postback_data, retry_key
from connectors.registry import get_connector
from tests.conftest import SAMPLES
from tests.fakes.line import FakeLine, event_base
from tests.helpers import ConnectorCase, connector_case

LINE = SAMPLES / "line"
USER = "U4af4980629aaaaaaaaaaaaaaaaaaaaaa"
BOT = "U00000000000000000000000000000bot"
GROUP = "C" + "1" * 32
SECRETS = {"channel_secret": "test-secret", "channel_access_token": "token-1"}
CHANNEL = ChannelCredentials(channel_id=9, config={}, secrets=SECRETS)
CONTENT = "https://api-data.line.me/v2/bot/message/{}/content"


def _request(body: bytes, headers: dict[str, str] | None = None) -> WebhookRequest:
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    return WebhookRequest(
        method="POST", url="https://x/webhooks/line/9", headers=lowered, query={}, body=body
    )


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def parse_sample(name: str, channel: ChannelCredentials = CHANNEL) -> ParsedWebhook:
    return line.parse(_request((LINE / name).read_bytes()), channel)


def parse_events(*events: dict[str, Any], channel: ChannelCredentials = CHANNEL) -> ParsedWebhook:
    body = json.dumps({"destination": BOT, "events": list(events)}).encode()
    return line.parse(_request(body), channel)


def message_event(message: dict[str, Any], **source: str) -> dict[str, Any]:
    event = event_base("message", USER, event_id="01JDTEST")
    event["timestamp"] = 1750030069123
    if source:
        event["source"] = {"type": "group", **source}
    event["message"] = {"id": "100", **message}
    return event


def at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


# ---- samples ------------------------------------------------------------------------------------


def test_inbound_text_sample() -> None:
    parsed = parse_sample("inbound_text.json")
    assert parsed.statuses == () and parsed.edits == () and parsed.reply is None
    (m,) = parsed.messages
    assert m.platform_message_id == "468789577898262530"
    assert (m.kind, m.text, m.sender_id, m.reply_address) == (MessageKind.TEXT, "Hello, world", USER, None)
    assert m.sent_at == at(1750030069123)
    assert (m.sender_phone, m.sender_name, m.attachments) == (None, None, ())
    assert m.metadata == {
        "replyToken": "757913772c4646b784d4b7ce46d12671",
        "webhookEventId": "01JD000000000000000000TEXT",
        "quoteToken": "q3Plxr4AgKd9UkdOpMlWxcXyFAKEquoteTokenText0",
    }


def test_inbound_image_sample() -> None:
    (m,) = parse_sample("inbound_image.json").messages
    assert (m.platform_message_id, m.kind, m.text) == ("354718705033693859", MessageKind.IMAGE, None)
    (a,) = m.attachments
    assert a == Attachment(
        kind=MessageKind.IMAGE, media_id="354718705033693859", url=CONTENT.format("354718705033693859")
    )
    assert m.metadata["imageSet"] == {
        "id": "E005D41A7288F41B65593ED38FF6E9834B046AB36A37921A56BC236F13A91855",
        "index": 1,
        "total": 2,
    }
    assert m.metadata["replyToken"] == "8cf9239d56244f4197887e939187e19e"
    data_base = ChannelCredentials(9, {"api_data_base": "http://127.0.0.1:9/"}, SECRETS)
    (local,) = parse_sample("inbound_image.json", data_base).messages
    assert local.attachments[0].url == "http://127.0.0.1:9/v2/bot/message/354718705033693859/content"


def test_redelivered_sample_keeps_the_message_id() -> None:
    (m,) = parse_sample("inbound_text_redelivery.json").messages
    assert (m.platform_message_id, m.text) == ("468789577898262531", "Are you there?")
    assert m.metadata["redelivery"] is True and m.sent_at == at(1750030071123)
    # A redelivery of the first sample carries the same message id, so ingest dedupes it.
    original = json.loads((LINE / "inbound_text.json").read_text())
    original["events"][0]["deliveryContext"]["isRedelivery"] = True
    again = line.parse(_request(json.dumps(original).encode()), CHANNEL).messages[0]
    assert again.platform_message_id == parse_sample("inbound_text.json").messages[0].platform_message_id


def test_postback_sample() -> None:
    (m,) = parse_sample("postback.json").messages
    assert (m.platform_message_id, m.kind, m.sender_id) == (
        "01JD000000000000000000PBCK",
        MessageKind.POSTBACK,
        USER,
    )
    assert m.text == "action=confirm&order=12345"
    assert m.metadata == {
        "replyToken": "b60d432864f44d079f6d8efe86cf404b",
        "payload": "action=confirm&order=12345",
    }
    assert m.sent_at == at(1750030074123)


def test_unsend_sample() -> None:
    parsed = parse_sample("unsend.json")
    assert parsed.messages == () and parsed.statuses == ()
    assert parsed.edits == (
        MessageEdit(platform_message_id="468789577898262530", occurred_at=at(1750030072123), deleted=True),
    )


@pytest.mark.parametrize("name", ["follow.json", "verify_empty_events.json"])
def test_follow_and_console_verify_store_nothing(name: str) -> None:
    assert parse_sample(name) == ParsedWebhook()


def test_every_webhook_sample_is_accounted_for() -> None:
    names = sorted(p.name for p in LINE.glob("*.json") if not p.name.startswith(("send_", "_")))
    counts = {name: parse_sample(name) for name in names}
    assert {n: len(p.messages) + len(p.edits) for n, p in counts.items()} == {
        "follow.json": 0,
        "inbound_image.json": 1,
        "inbound_text.json": 1,
        "inbound_text_redelivery.json": 1,
        "postback.json": 1,
        "unsend.json": 1,
        "verify_empty_events.json": 0,
    }


# ---- the other message types and sources -------------------------------------------------------------


def test_text_with_emojis_mention_and_quote() -> None:
    emojis = [{"index": 0, "length": 6, "productId": "5ac1bfd5040ab15980c9b435", "emojiId": "001"}]
    mention = {"mentionees": [{"index": 7, "length": 4, "type": "user", "userId": "U" + "2" * 32}]}
    (m,) = parse_events(
        message_event(
            {
                "type": "text",
                "text": "$hello @Bob",
                "emojis": emojis,
                "mention": mention,
                "quotedMessageId": "99",
            },
            groupId=GROUP,
            userId=USER,
        )
    ).messages
    assert (m.sender_id, m.reply_address, m.reply_to_platform_id) == (USER, GROUP, "99")
    assert m.metadata["emojis"] == emojis and m.metadata["mention"] == mention
    assert m.metadata["chat_type"] == "group"


@pytest.mark.parametrize(
    ("message", "kind", "text", "extra"),
    [
        ({"type": "video", "duration": 60000}, MessageKind.VIDEO, None, {"duration_ms": 60000}),
        ({"type": "audio", "duration": 3000}, MessageKind.AUDIO, None, {"duration_ms": 3000}),
        (
            {"type": "file", "fileName": "invoice.pdf", "fileSize": 2138},
            MessageKind.DOCUMENT,
            "invoice.pdf",
            {},
        ),
    ],
)
def test_media_types(
    message: dict[str, Any], kind: MessageKind, text: str | None, extra: dict[str, Any]
) -> None:
    (m,) = parse_events(message_event({**message, "contentProvider": {"type": "line"}})).messages
    assert (m.kind, m.text) == (kind, text)
    (a,) = m.attachments
    assert (a.kind, a.media_id, a.url) == (kind, "100", CONTENT.format("100"))
    assert (a.filename, a.size) == (message.get("fileName"), message.get("fileSize"))
    for key, value in extra.items():
        assert m.metadata[key] == value


def test_external_content_location_sticker_and_unknown() -> None:
    provider = {
        "type": "external",
        "originalContentUrl": "https://ex.com/a.jpg",
        "previewImageUrl": "https://ex.com/p.jpg",
    }
    (img,) = parse_events(message_event({"type": "image", "contentProvider": provider})).messages
    assert (
        img.attachments[0].url == "https://ex.com/a.jpg"
        and img.metadata["preview_url"] == "https://ex.com/p.jpg"
    )

    loc = {
        "type": "location",
        "title": "Shop",
        "address": "1-1 Shibuya",
        "latitude": 35.65,
        "longitude": 139.7,
    }
    (where,) = parse_events(message_event(loc)).messages
    assert (where.kind, where.text) == (MessageKind.LOCATION, "Location: Shop, 1-1 Shibuya (35.65, 139.7)")
    assert where.metadata["location"] == {
        "latitude": 35.65,
        "longitude": 139.7,
        "name": "Shop",
        "address": "1-1 Shibuya",
    }

    sticker = {
        "type": "sticker",
        "packageId": "446",
        "stickerId": "1988",
        "stickerResourceType": "STATIC",
        "keywords": ["happy", "smile", "wow", "yay"],
    }
    (s,) = parse_events(message_event(sticker)).messages
    assert (s.kind, s.text) == (MessageKind.STICKER, "Sticker: happy, smile, wow")
    assert s.metadata["sticker"] == {k: v for k, v in sticker.items() if k != "type"}
    (worded,) = parse_events(
        message_event({"type": "sticker", "packageId": "1", "stickerId": "2", "text": "Thanks!"})
    ).messages
    assert worded.text == "Thanks!"

    (odd,) = parse_events(message_event({"type": "hologram", "depth": 3})).messages
    assert odd.kind is MessageKind.UNSUPPORTED and odd.metadata["raw_type"] == "hologram"


def test_group_member_without_user_id_and_rooms() -> None:
    (m,) = parse_events(message_event({"type": "text", "text": "hi"}, groupId=GROUP)).messages
    assert (m.sender_id, m.reply_address) == (GROUP, GROUP)
    room = message_event({"type": "text", "text": "hi"})
    room["source"] = {"type": "room", "roomId": "R" + "3" * 32, "userId": USER}
    (r,) = parse_events(room).messages
    assert (r.sender_id, r.reply_address, r.metadata["chat_type"]) == (USER, "R" + "3" * 32, "room")


def test_our_buttons_come_back_with_their_title() -> None:
    data = postback_data(Button(id="confirm_order", title="Confirm & pay"))
    event = event_base("postback", USER, event_id="01JDPOSTBACK")
    event["postback"] = {"data": data}
    (m,) = parse_events(event).messages
    assert (m.kind, m.text, m.metadata["payload"]) == (MessageKind.POSTBACK, "Confirm & pay", "confirm_order")
    picker = event_base("postback", USER, event_id="01JDPICKER")
    picker["postback"] = {"data": "action=date", "params": {"date": "2026-12-01"}}
    (p,) = parse_events(picker).messages
    assert p.metadata["params"] == {"date": "2026-12-01"} and p.metadata["payload"] == "action=date"
    long_title = postback_data(Button(id="x", title="é" * 400))
    assert len(long_title) <= 300


def test_odd_events_are_skipped_not_fatal() -> None:
    good = message_event({"type": "text", "text": "kept"})
    no_id = message_event({"type": "text", "text": "no id"})
    del no_id["message"]["id"]
    no_source = message_event({"type": "text", "text": "x", "id": "101"})
    no_source["source"] = {}
    join = event_base("join", USER)
    unknown = event_base("somethingNew", USER)
    parsed = parse_events(3, no_id, no_source, join, unknown, good, {"type": "unsend", "unsend": {}})
    assert [m.text for m in parsed.messages] == ["kept"] and parsed.edits == ()


def test_standby_mode_is_marked() -> None:
    event = message_event({"type": "text", "text": "hi"})
    event["mode"] = "standby"
    del event["replyToken"]
    (m,) = parse_events(event).messages
    assert m.metadata["mode"] == "standby" and "replyToken" not in m.metadata


def test_other_bots_webhooks_are_skipped() -> None:
    ours = ChannelCredentials(9, {"bot_user_id": BOT}, SECRETS)
    other = ChannelCredentials(9, {"bot_user_id": "U" + "f" * 32}, SECRETS)
    assert parse_sample("inbound_text.json", ours).messages
    assert parse_sample("inbound_text.json", other) == ParsedWebhook()


@pytest.mark.parametrize(
    "body",
    [b"", b"{oops", b"[]", b'"x"', b'{"destination": "U1"}', b'{"events": {}}'],
)
def test_malformed_bodies(body: bytes) -> None:
    with pytest.raises(MalformedPayload):
        line.parse(_request(body), CHANNEL)


# ---- signatures --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "vector",
    [v for v in json.loads((SAMPLES / "signature_vectors.json").read_text()) if v["platform"] == "line"],
    ids=lambda v: f"{v['body_file']}-{v['valid']}",
)
def test_signature_vectors(vector: dict[str, Any]) -> None:
    channel = ChannelCredentials(9, {}, {"channel_secret": vector["secret"]})
    request = _request((SAMPLES / vector["body_file"]).read_bytes(), vector["headers"])
    assert line.verify(request, channel, now=0) is vector["valid"]


def test_tampered_missing_and_wrong_signatures_are_refused() -> None:
    """LINE signs no timestamp, so there is no replay window to check; the body is everything."""
    body = (LINE / "inbound_text.json").read_bytes()
    good = sign("test-secret", body)
    assert line.verify(_request(body, {"X-Line-Signature": good}), CHANNEL, now=0)
    reserialised = json.dumps(json.loads(body)).encode()  # same JSON, other bytes
    for request in (
        _request(body.replace(b"Hello", b"Hellp"), {"x-line-signature": good}),
        _request(reserialised, {"x-line-signature": good}),
        _request(body, {}),
        _request(body, {"x-line-signature": ""}),
        _request(body, {"x-line-signature": "%%not-base64%%"}),
        _request(body, {"x-line-signature": sign("other-secret", body)}),
        _request(body, {"x-line-signature": base64.b64encode(hashlib.sha256(body).digest()).decode()}),
    ):
        assert not line.verify(request, CHANNEL, now=0)
    no_secret = ChannelCredentials(9, {}, {"channel_access_token": "t"})
    assert not line.verify(_request(body, {"x-line-signature": good}), no_secret, now=0)
    assert line.handshake(_request(body), CHANNEL) is None


def test_validate_config_capabilities_and_registry() -> None:
    assert line.validate_config({}, SECRETS) == []
    assert line.validate_config({"bot_user_id": BOT, "api_base": "https://api.line.me"}, SECRETS) == []
    assert line.validate_config({}, {}) == [
        "The LINE channel secret (channel_secret) is required.",
        "The LINE channel access token (channel_access_token) is required.",
    ]
    bad = line.validate_config({"api_base": "api.line.me", "api_data_base": 3, "bot_user_id": "bot"}, SECRETS)
    assert [p.split("(")[1].split(")")[0] for p in bad] == ["api_base", "api_data_base", "bot_user_id"]
    caps = line.capabilities
    assert (caps.can_initiate, caps.buttons, caps.delivery_statuses, caps.read_statuses) == (
        False,
        True,
        False,
        False,
    )
    assert caps.reply_window is None and line.max_text_length == 5000
    assert get_connector(Platform.LINE) is line and get_connector("line") is line


def test_retry_key_is_a_stable_uuid() -> None:
    key = retry_key("1234")
    assert uuid.UUID(key).version == 5 and key == retry_key("1234") and key != retry_key("1235")


# ---- sending over real HTTP to the fake --------------------------------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeLine, ChannelCredentials]]:
    api = FakeLine()
    api.add_channel(SECRETS["channel_access_token"], channel_secret=SECRETS["channel_secret"])
    async with api.serve() as base_url:
        yield api, ChannelCredentials(channel_id=9, config={"api_base": base_url}, secrets=SECRETS)


def text(body: str = "Your order has shipped.", key: str = "42", **kw: Any) -> OutboundMessage:
    return OutboundMessage(recipient_id=USER, kind=MessageKind.TEXT, idempotency_key=key, text=body, **kw)


async def _send_error(
    http: httpx.AsyncClient, channel: ChannelCredentials, message: OutboundMessage
) -> SendError:
    with pytest.raises(SendError) as info:
        await line.send(http, channel, message)
    return info.value


def _body(recorded: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in recorded.items() if k != "_fake"}


async def test_push_text_matches_the_sample(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    result = await line.send(http, channel, text())
    (recorded,) = api.sent
    assert _body(recorded) == json.loads((LINE / "send_push_request.json").read_text())
    assert recorded["_fake"]["retry_key"] == retry_key("42")
    assert result.platform_message_id == recorded["_fake"]["ids"][0] and result.platform_message_id.isdigit()


async def test_a_retried_job_never_sends_twice(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    first = await line.send(http, channel, text(key="77"))
    again = await line.send(http, channel, text(key="77"))  # e.g. the first response was lost
    assert again.platform_message_id == first.platform_message_id
    assert len(api.sent) == 1 and api.requests == 2
    other = await line.send(http, channel, text(key="78"))
    assert other.platform_message_id != first.platform_message_id and len(api.sent) == 2

    api.fail_next(409, json.loads((LINE / "send_error_409_retry_key_accepted.json").read_text()))
    assert (await line.send(http, channel, text(key="79"))).platform_message_id == "461230966842064897"
    api.fail_next(409, {"message": "The retry key is already accepted"})
    stand_in = await line.send(http, channel, text(key="80"))
    assert stand_in.platform_message_id == f"retry-key:{retry_key('80')}"


async def test_image_caption_and_file_links(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    photo = OutboundMessage(
        recipient_id=USER,
        kind=MessageKind.IMAGE,
        idempotency_key="50",
        text="The blue one",
        attachments=(
            Attachment(kind=MessageKind.IMAGE, url="https://cdn.example.com/a.jpg"),
            Attachment(kind=MessageKind.DOCUMENT, url="https://cdn.example.com/manual.pdf"),
        ),
    )
    await line.send(http, channel, photo)
    assert _body(api.sent[-1])["messages"] == [
        {
            "type": "image",
            "originalContentUrl": "https://cdn.example.com/a.jpg",
            "previewImageUrl": "https://cdn.example.com/a.jpg",
        },
        {"type": "text", "text": "The blue one\nhttps://cdn.example.com/manual.pdf"},
    ]
    bare = OutboundMessage(USER, MessageKind.IMAGE, "51", attachments=photo.attachments[:1])
    await line.send(http, channel, bare)
    assert [m["type"] for m in api.sent[-1]["messages"]] == ["image"]
    quoted = text("re", key="52", metadata={"quoteToken": "q3Plxr4AgKd9"})
    await line.send(http, channel, quoted)
    assert api.sent[-1]["messages"] == [{"type": "text", "text": "re", "quoteToken": "q3Plxr4AgKd9"}]


async def test_buttons_as_template_or_quick_reply(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    buttons = (
        Button("confirm", "Confirm"),
        Button("cancel", "Cancel"),
        Button("web", "Track it", url="https://ex.com/t"),
    )
    await line.send(http, channel, text("Ship today?", key="60", buttons=buttons))
    (template,) = api.sent[-1]["messages"]
    assert template == {
        "type": "template",
        "altText": "Ship today?",
        "template": {
            "type": "buttons",
            "text": "Ship today?",
            "actions": [
                {
                    "type": "postback",
                    "label": "Confirm",
                    "data": "id=confirm&title=Confirm",
                    "displayText": "Confirm",
                },
                {
                    "type": "postback",
                    "label": "Cancel",
                    "data": "id=cancel&title=Cancel",
                    "displayText": "Cancel",
                },
                {"type": "uri", "label": "Track it", "uri": "https://ex.com/t"},
            ],
        },
    }
    many = tuple(Button(f"size_{i}", f"Size {i} with a long label") for i in range(6))
    await line.send(http, channel, text("Which size?", key="61", buttons=many))
    (quick,) = api.sent[-1]["messages"]
    assert quick["type"] == "text" and quick["text"] == "Which size?"
    items = quick["quickReply"]["items"]
    assert len(items) == 6 and items[0]["action"]["label"] == "Size 0 with a long l"  # 20 characters
    assert items[0]["action"]["displayText"] == "Size 0 with a long label"
    # The press comes back as a postback carrying the full title.
    event = event_base("postback", USER, event_id="01JDPRESS")
    event["postback"] = {"data": items[0]["action"]["data"]}
    (press,) = parse_events(event).messages
    assert (press.text, press.metadata["payload"]) == ("Size 0 with a long label", "size_0")
    too_many = tuple(Button(str(i), str(i)) for i in range(14))
    assert (await _send_error(http, channel, text("x", buttons=too_many))).code == "TOO_MANY_BUTTONS"


async def test_monthly_limit_is_permanent_rate_limit_is_retried(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    api.quota = 1
    await line.send(http, channel, text(key="70"))
    monthly = await _send_error(http, channel, text(key="71"))
    assert (monthly.code, monthly.retryable, monthly.affects_channel) == ("MONTHLY_LIMIT", False, True)
    assert "quota" in monthly.reason
    api.quota = None
    api.fail_next(429, json.loads((LINE / "send_error_429_monthly_limit.json").read_text()))
    assert (await _send_error(http, channel, text(key="72"))).code == "MONTHLY_LIMIT"
    api.fail_next(429, headers={"Retry-After": "3"})
    rate = await _send_error(http, channel, text(key="73"))
    assert (rate.code, rate.retryable, rate.retry_after) == ("RATE_LIMITED", True, 3.0)
    api.fail_next(500)
    server = await _send_error(http, channel, text(key="74"))
    assert (server.code, server.retryable) == ("HTTP_500", True)
    assert len(api.sent) == 1


async def test_bad_requests_and_auth_are_permanent(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    api.fail_next(400, json.loads((LINE / "send_error_400.json").read_text()))
    sample = await _send_error(http, channel, text())
    assert (sample.code, sample.retryable) == ("HTTP_400", False)
    assert (
        sample.reason
        == "LINE refused the message: The request body has 1 error(s); messages[0].text: May not be empty"
    )
    invalid = await _send_error(
        http, channel, OutboundMessage("not-a-user", MessageKind.TEXT, "1", text="hi")
    )
    assert (invalid.code, invalid.retryable) == ("HTTP_400", False) and "'to'" in invalid.reason
    wrong = ChannelCredentials(9, channel.config, {**SECRETS, "channel_access_token": "revoked"})
    auth = await _send_error(http, wrong, text())
    assert (auth.code, auth.retryable, auth.affects_channel) == ("UNAUTHORIZED", False, True)
    api.fail_next(403, {"message": "Access to this API is not available for your account"})
    forbidden = await _send_error(http, channel, text())
    assert (forbidden.code, forbidden.retryable) == (
        "FORBIDDEN",
        False,
    ) and "not available" in forbidden.reason
    assert api.sent == []


async def test_refused_before_any_http_call() -> None:
    def no_http(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"unexpected HTTP call to {request.url}")

    images = tuple(Attachment(MessageKind.IMAGE, url=f"https://x/{i}.jpg") for i in range(6))
    cases = [
        (text("a" * 5001), "too_long"),
        (text("  "), "EMPTY_TEXT"),
        (OutboundMessage(USER, MessageKind.TEMPLATE, "1"), "UNSUPPORTED_KIND"),
        (OutboundMessage(USER, MessageKind.IMAGE, "1", attachments=images), "TOO_MANY_PARTS"),
        (
            OutboundMessage(
                USER,
                MessageKind.IMAGE,
                "1",
                attachments=(Attachment(MessageKind.IMAGE, url="http://x/a.jpg"),),
            ),
            "MEDIA_NOT_HTTPS",
        ),
        (
            OutboundMessage(
                USER, MessageKind.IMAGE, "1", attachments=(Attachment(MessageKind.IMAGE, media_id="m"),)
            ),
            "MEDIA_WITHOUT_URL",
        ),
        (OutboundMessage(USER, MessageKind.TEXT, "1", buttons=(Button("a", "A"),)), "EMPTY_TEXT"),
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


async def test_fake_is_strict(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    url = f"{channel.config['api_base']}/v2/bot/message/push"
    auth = {"Authorization": f"Bearer {SECRETS['channel_access_token']}"}
    good = json.loads((LINE / "send_push_request.json").read_text())
    one = good["messages"][0]
    cases = [
        ({**good, "to": ""}, "to"),
        ({**good, "messages": []}, "messages"),
        ({**good, "messages": [one] * 6}, "messages"),
        ({**good, "messages": [{"type": "text", "text": "a" * 5001}]}, "messages[0].text"),
        ({**good, "messages": [{"type": "text", "text": ""}]}, "messages[0].text"),
        (
            {**good, "messages": [{"type": "image", "originalContentUrl": "http://x"}]},
            "messages[0].originalContentUrl",
        ),
        (
            {
                **good,
                "messages": [
                    {
                        "type": "template",
                        "altText": "a",
                        "template": {
                            "type": "buttons",
                            "text": "t",
                            "actions": [{"type": "uri", "label": "x" * 21, "uri": "https://x"}],
                        },
                    }
                ],
            },
            "messages[0].template.actions[0].label",
        ),
    ]
    for body, prop in cases:
        r = await http.post(url, json=body, headers=auth)
        assert r.status_code == 400, body
        assert r.json()["details"][0]["property"] == prop, r.json()
    assert (await http.post(url, json=good)).status_code == 401
    assert (
        (await http.post(url, json=good, headers={"Authorization": "Bearer nope"}))
        .json()["message"]
        .startswith("Authentication failed")
    )
    bad_key = await http.post(url, json=good, headers={**auth, "X-Line-Retry-Key": "not-a-uuid"})
    assert bad_key.status_code == 400
    assert api.sent == []
    ok = await http.post(url, json=good, headers=auth)
    assert set(ok.json()) == set(json.loads((LINE / "send_response.json").read_text()))


# ---- webhooks from the fake ---------------------------------------------------------------------------


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[list[tuple[bool, bytes]], str]]:
    received: list[tuple[bool, bytes]] = []

    async def hook(request: Request) -> PlainTextResponse:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        ok = line.verify(WebhookRequest("POST", str(request.url), headers, {}, body), CHANNEL, now=0)
        received.append((ok, body))
        return PlainTextResponse("ok" if ok else "bad signature", status_code=200 if ok else 401)

    async with serve_app(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as base_url:
        yield received, f"{base_url}/hook"


async def test_webhooks_from_the_fake_are_signed_and_parse(fake, receiver) -> None:  # type: ignore[no-untyped-def]
    api, _ = fake
    received, url = receiver
    token = SECRETS["channel_access_token"]
    api.add_channel(token, channel_secret=SECRETS["channel_secret"], webhook_url=url)
    assert (await api.post_text(token, user_id=USER, text="こんにちは", message_id="555")).status_code == 200
    ok, body = received[-1]
    assert ok and "こんにちは".encode() in body  # UTF-8 on the wire, signed as sent
    posted = json.loads(body)["events"][0]
    sample = json.loads((LINE / "inbound_text.json").read_text())["events"][0]
    assert list(posted) == list(sample) and list(posted["message"]) == list(sample["message"])
    (m,) = line.parse(_request(body), CHANNEL).messages
    assert (m.platform_message_id, m.text, m.sender_id) == ("555", "こんにちは", USER)
    assert (await api.post_verify(token)).status_code == 200
    assert line.parse(_request(received[-1][1]), CHANNEL) == ParsedWebhook()
    await api.post_postback(token, user_id=USER, data="id=a&title=A")
    assert line.parse(_request(received[-1][1]), CHANNEL).messages[0].text == "A"
    await api.post_unsend(token, user_id=USER, message_id="555")
    assert line.parse(_request(received[-1][1]), CHANNEL).edits[0].platform_message_id == "555"
    assert all(ok for ok, _ in received)


# ---- end to end through the real app -----------------------------------------------------------------


@pytest.fixture
async def line_case(server: str) -> AsyncIterator[ConnectorCase]:
    secret, token = uuid.uuid4().hex, uuid.uuid4().hex

    def wire(case: ConnectorCase) -> None:
        case.fake.add_channel(token, channel_secret=secret, webhook_url=case.webhook)

    secrets = {"channel_secret": secret, "channel_access_token": token}
    async with connector_case(
        server, FakeLine(), "line", {}, secrets, wire=wire, agent_name="Lin Agent"
    ) as case:
        yield case


async def test_end_to_end(server, line_case) -> None:  # type: ignore[no-untyped-def]
    from models import Message

    case = line_case
    channel, api, webhook = case.channel, case.fake, case.webhook
    token = case.secrets["channel_access_token"]
    user_id = "U" + uuid.uuid4().hex
    message_id = str(uuid.uuid4().int % 10**18)

    # 1. the console's Verify button: 200, nothing stored
    verify = await api.post_verify(token)
    assert (verify.status_code, verify.text) == (200, "ok")
    assert await Message.filter(channel_id=channel.id).count() == 0

    # 2. the customer writes; a redelivery of the same event stores nothing new
    assert (
        await api.post_text(token, user_id=user_id, text="Where is my parcel?", message_id=message_id)
    ).status_code == 200
    again = await api.post_text(
        token, user_id=user_id, text="Where is my parcel?", message_id=message_id, redelivery=True
    )
    assert again.status_code == 200
    stored = await Message.filter(channel_id=channel.id, platform_message_id=message_id)
    assert len(stored) == 1 and stored[0].text == "Where is my parcel?" and stored[0].direction == "inbound"
    assert stored[0].metadata["quoteToken"].startswith("q3Plxr4AgKd9")

    # 3. a forgery is refused and stores nothing
    forged = json.dumps(
        api.envelope(
            token, {**event_base("message", user_id), "message": {"type": "text", "id": "1", "text": "x"}}
        )
    ).encode()
    async with httpx.AsyncClient() as client:
        refused = await client.post(
            webhook,
            content=forged,
            headers={"x-line-signature": sign("wrong-secret", forged), "content-type": "application/json"},
        )
    assert refused.status_code == 401
    assert await Message.filter(channel_id=channel.id, platform_message_id="1").count() == 0

    # 4. the agent replies; the worker pushes exactly once, with the message's retry key
    reply, client_id = await case.reply(stored[0].conversation_id, "It arrives tomorrow.")
    assert reply["data"]["sendMessage"]["status"] == "QUEUED", reply
    outbound = await case.wait_for(client_id)
    pushes = [s for s in api.sent if s["to"] == user_id]
    assert len(pushes) == 1
    assert _body(pushes[0]) == {"to": user_id, "messages": [{"type": "text", "text": "It arrives tomorrow."}]}
    assert pushes[0]["_fake"]["retry_key"] == retry_key(str(outbound.id))
    assert outbound.platform_message_id == pushes[0]["_fake"]["ids"][0]

    # 5. a button press is stored as a postback; an unsend deletes the customer's message
    assert (
        await api.post_postback(token, user_id=user_id, data="id=track&title=Track parcel")
    ).status_code == 200
    press = await Message.get(channel_id=channel.id, kind=MessageKind.POSTBACK)
    assert (press.text, press.metadata["payload"]) == ("Track parcel", "track")
    assert (await api.post_unsend(token, user_id=user_id, message_id=message_id)).status_code == 200
    deleted = await Message.get(channel_id=channel.id, platform_message_id=message_id)
    assert deleted.deleted_at is not None
