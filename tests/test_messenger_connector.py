"""The Messenger connector: every sample parsed to concrete values, the other event shapes Meta
sends, signatures over raw bytes, the hub handshake, config sentences, sends against the fake Graph
API over real HTTP (bodies equal to the samples, Graph errors classified for the retry logic), and
end to end through the app: signed webhook → stored once → agent reply → one Send API call →
delivery and read watermarks."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

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
from connectors.messenger import MessengerConnector, messenger
from connectors.meta_common import sign_body
from connectors.registry import get_connector
from tests.conftest import SAMPLES
from tests.fakes.messenger import FakeMetaGraph, envelope, graph_error, serialise, text_event
from tests.helpers import ConnectorCase, connector_case

MS = SAMPLES / "messenger"
FIXTURES = Path(__file__).parent / "fixtures" / "messenger"  # beyond the samples, from Meta's reference
PAGE = "108517771987654"  # the samples' page
PSID = "7041234567890123"  # the samples' customer
OUR_MID = "m_AG8Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P"
SECRETS = {"app_secret": "test-secret", "page_access_token": "page-token-1", "verify_token": "verify-1"}
CHANNEL = ChannelCredentials(channel_id=7, config={"page_id": PAGE}, secrets=SECRETS)


def _request(
    body: bytes,
    headers: dict[str, str] | None = None,
    method: str = "POST",
    query: dict[str, str] | None = None,
) -> WebhookRequest:
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    return WebhookRequest(
        method=method, url="https://x/webhooks/messenger/7", headers=lowered, query=query or {}, body=body
    )


def parse_sample(name: str, channel: ChannelCredentials = CHANNEL) -> ParsedWebhook:
    return messenger.parse(_request((MS / name).read_bytes()), channel)


def parse_events(*events: dict[str, Any], channel: ChannelCredentials = CHANNEL) -> ParsedWebhook:
    return messenger.parse(_request(json.dumps(envelope("page", PAGE, list(events))).encode()), channel)


def event(**kind: Any) -> dict[str, Any]:
    return {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 1750030069876, **kind}


def ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


# ---- the samples ------------------------------------------------------------------------------------


def test_inbound_text_sample() -> None:
    parsed = parse_sample("inbound_text.json")
    assert parsed.statuses == () and parsed.edits == ()
    (m,) = parsed.messages
    assert m.platform_message_id == (
        "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P"
    )
    assert (m.kind, m.text, m.sender_id) == (MessageKind.TEXT, "hello, world!", PSID)
    assert m.sent_at == ms(1750030069876) and m.sent_at.tzinfo is not None
    assert (m.reply_address, m.sender_phone, m.sender_email, m.reply_to_platform_id) == (
        None,
        None,
        None,
        None,
    )
    assert m.attachments == () and dict(m.metadata) == {}


def test_inbound_image_sample() -> None:
    (m,) = parse_sample("inbound_image.json").messages
    assert m.platform_message_id.startswith("m_AG6") and (m.kind, m.text) == (MessageKind.IMAGE, None)
    (a,) = m.attachments
    assert a.kind is MessageKind.IMAGE
    assert a.url == "https://scontent.xx.fbcdn.net/v/t1.15752-9/FAKE_IMAGE.jpg?_nc_cat=1&oh=FAKE&oe=FAKE"
    assert m.metadata == {"attachment_types": ["image"]}


def test_quick_reply_sample_is_a_postback_with_its_payload() -> None:
    (m,) = parse_sample("inbound_quick_reply.json").messages
    assert m.platform_message_id.startswith("m_AG7")
    assert (m.kind, m.text) == (MessageKind.POSTBACK, "Red")
    assert m.metadata == {"payload": "PICK_RED", "source": "quick_reply"}


def test_postback_sample() -> None:
    (m,) = parse_sample("postback.json").messages
    assert m.platform_message_id.startswith("m_AG9")
    assert (m.kind, m.text, m.sender_id) == (MessageKind.POSTBACK, "Get Started", PSID)
    assert m.metadata == {"payload": "GET_STARTED", "source": "postback"}
    assert m.sent_at == ms(1750030099000)


def test_reaction_sample() -> None:
    (m,) = parse_sample("inbound_reaction.json").messages
    assert m.kind is MessageKind.REACTION and m.text == "❤️"
    assert m.platform_message_id == f"reaction:{OUR_MID}:{PSID}:react:❤️:1750030099000"
    assert m.metadata == {"emoji": "❤️", "target_platform_id": OUR_MID, "reaction": "love"}
    assert m.sent_at == ms(1750030099000)


def test_echo_sample_is_ignored() -> None:
    assert parse_sample("inbound_echo.json") == ParsedWebhook()


def test_delivery_sample_gives_each_mid_and_the_watermark() -> None:
    parsed = parse_sample("status_delivered.json")
    assert parsed.messages == ()
    one, watermark = parsed.statuses
    assert (one.platform_message_id, one.status, one.recipient_id, one.up_to) == (
        OUR_MID,
        DeliveryStatus.DELIVERED,
        PSID,
        None,
    )
    assert one.occurred_at == ms(1750030072000)  # no event timestamp: the watermark is when
    assert (watermark.status, watermark.recipient_id) == (DeliveryStatus.DELIVERED, PSID)
    assert watermark.up_to == ms(1750030072000) and watermark.occurred_at == ms(1750030072000)


def test_read_sample_is_a_watermark() -> None:
    (read,) = parse_sample("status_read.json").statuses
    assert (read.status, read.recipient_id) == (DeliveryStatus.READ, PSID)
    assert read.up_to == ms(1750030072000) and read.occurred_at == ms(1750030095000)


def test_every_webhook_sample_is_accounted_for() -> None:
    expected = {
        "inbound_text.json": (1, 0),
        "inbound_image.json": (1, 0),
        "inbound_quick_reply.json": (1, 0),
        "inbound_reaction.json": (1, 0),
        "inbound_echo.json": (0, 0),
        "postback.json": (1, 0),
        "status_delivered.json": (0, 2),
        "status_read.json": (0, 1),
    }
    webhooks = sorted(p.name for p in MS.glob("*.json") if not p.name.startswith(("send_", "_")))
    assert webhooks == sorted(expected)
    for name, (messages, statuses) in expected.items():
        parsed = parse_sample(name)
        assert (len(parsed.messages), len(parsed.statuses), len(parsed.edits)) == (messages, statuses, 0), (
            name
        )


# ---- the other shapes Meta sends ---------------------------------------------------------------------


def test_replies_stickers_locations_links_and_referrals() -> None:
    parsed = parse_events(
        event(message={"mid": "m_1", "text": "this one", "reply_to": {"mid": OUR_MID}}),
        event(
            message={
                "mid": "m_2",
                "attachments": [
                    {"type": "image", "payload": {"url": "https://x/s.png", "sticker_id": 369239263222822}}
                ],
            }
        ),
        event(
            message={
                "mid": "m_3",
                "attachments": [
                    {"type": "location", "payload": {"coordinates": {"lat": 1.5, "long": -2.25}}}
                ],
            }
        ),
        event(
            message={
                "mid": "m_4",
                "text": "look https://example.com",
                "attachments": [
                    {"type": "fallback", "payload": {"url": "https://example.com", "title": "Example"}}
                ],
            }
        ),
        event(
            message={"mid": "m_5", "attachments": [{"type": "file", "payload": {"url": "https://x/a.pdf"}}]}
        ),
        event(message={"mid": "m_6", "text": "hi", "referral": {"ref": "summer", "source": "ADS"}}),
    )
    reply, sticker, location, link, document, referral = parsed.messages
    assert (reply.reply_to_platform_id, reply.text) == (OUR_MID, "this one")
    assert sticker.kind is MessageKind.STICKER and sticker.metadata["sticker_id"] == 369239263222822
    assert sticker.attachments[0].url == "https://x/s.png"
    assert (location.kind, location.text) == (MessageKind.LOCATION, "Location: 1.5, -2.25")
    assert (
        location.metadata["location"] == {"latitude": 1.5, "longitude": -2.25} and location.attachments == ()
    )
    assert (link.kind, link.text) == (MessageKind.TEXT, "look https://example.com")
    assert link.attachments[0].url == "https://example.com" and link.metadata["attachment_types"] == [
        "fallback"
    ]
    assert document.kind is MessageKind.DOCUMENT and document.attachments[0].url == "https://x/a.pdf"
    assert referral.metadata["referral"] == {"ref": "summer", "source": "ADS"}


def parse_fixture(name: str) -> ParsedWebhook:
    return messenger.parse(_request((FIXTURES / name).read_bytes()), CHANNEL)


STICKER_URL = "https://scontent.xx.fbcdn.net/v/t39.1997-6/851557_369239266556155_759568595_n.png"


@pytest.mark.parametrize("name", ["sticker_transition.json", "sticker.json"])
def test_a_sticker_is_one_sticker_with_its_id_during_and_after_the_transition(name: str) -> None:
    (m,) = parse_fixture(name).messages  # image + sticker twins are one message, not two
    assert (m.kind, m.text, m.metadata["sticker_id"]) == (MessageKind.STICKER, None, 369239263222822)
    (a,) = m.attachments
    assert (a.kind, a.media_id, a.url) == (MessageKind.STICKER, "369239263222822", STICKER_URL)


def test_a_shared_link_keeps_its_title_and_url_in_either_shape() -> None:
    (on_attachment,) = parse_fixture("fallback_link.json").messages
    title = "Dyon Enter 32 Pro 80 cm (31,5 Zoll) Fernseher"
    url = "https://l.facebook.com/l.php?u=https%3A%2F%2Fwww.amazon.de%2Fdp%2FB01BDR9Q6W&h=AT0"
    assert (on_attachment.kind, on_attachment.text) == (MessageKind.DOCUMENT, f"Shared a link: {title}")
    assert on_attachment.metadata["link"] == {"url": url, "title": title}
    (a,) = on_attachment.attachments
    assert (a.url, a.filename) == (url, title)
    in_payload = {"type": "fallback", "payload": {"url": "https://example.com/x", "title": "Example"}}
    (old,) = parse_events(event(message={"mid": "m_old", "attachments": [in_payload]})).messages
    assert old.text == "Shared a link: Example"
    assert old.metadata["link"] == {"url": "https://example.com/x", "title": "Example"}


def test_product_template_and_unknown_attachments_are_stored() -> None:
    (product,) = parse_fixture("product_template.json").messages
    assert (product.kind, product.text) == (MessageKind.DOCUMENT, "Shared content: Blue sneakers")
    (unknown,) = parse_fixture("unknown_attachment.json").messages
    assert (unknown.kind, unknown.attachments[0].kind) == (MessageKind.UNSUPPORTED, MessageKind.UNSUPPORTED)
    assert unknown.metadata["attachment_types"] == ["appointment_booking"]
    assert unknown.metadata["link"] == {"title": "Haircut, Friday 10:00"}


def test_unreact_postback_without_mid_and_edits() -> None:
    parsed = parse_events(
        event(
            reaction={"mid": OUR_MID, "action": "unreact", "reaction": "love", "emoji": "❤️"},
            timestamp=5000000000000,
        ),
        event(postback={"title": "Menu", "payload": "MENU"}, timestamp=1750030000000),
        event(message_edit={"mid": "m_1", "text": "fixed typo", "num_edit": 1}),
    )
    unreact, postback = parsed.messages
    assert unreact.metadata["emoji"] == "" and unreact.text is None
    assert unreact.platform_message_id == f"reaction:{OUR_MID}:{PSID}:unreact::5000000000000"
    assert postback.platform_message_id == f"postback:{PSID}:1750030000000:MENU"
    assert (postback.kind, postback.text, postback.metadata["payload"]) == (
        MessageKind.POSTBACK,
        "Menu",
        "MENU",
    )
    (edit,) = parsed.edits
    assert (edit.platform_message_id, edit.text, edit.deleted) == ("m_1", "fixed typo", False)
    # the same reaction twice is one record (a redelivery); react again later is another
    again = parse_events(event(reaction={"mid": OUR_MID, "action": "react", "emoji": "❤️"}, timestamp=1))
    twice = parse_events(event(reaction={"mid": OUR_MID, "action": "react", "emoji": "❤️"}, timestamp=1))
    later = parse_events(event(reaction={"mid": OUR_MID, "action": "react", "emoji": "❤️"}, timestamp=2))
    assert again.messages[0].platform_message_id == twice.messages[0].platform_message_id
    assert again.messages[0].platform_message_id != later.messages[0].platform_message_id


def test_delivery_without_mids_is_only_the_watermark() -> None:
    (status,) = parse_events(
        {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "delivery": {"watermark": 1750030072000}}
    ).statuses
    assert (status.up_to, status.recipient_id, status.status) == (
        ms(1750030072000),
        PSID,
        DeliveryStatus.DELIVERED,
    )


def test_standby_other_pages_the_page_itself_and_odd_events(caplog: pytest.LogCaptureFixture) -> None:
    own = event(message={"mid": "m_ok", "text": "kept"})
    body = envelope("page", PAGE, [own, "junk", {"recipient": {"id": PAGE}, "message": {"mid": "m_x"}}])
    body["entry"][0]["standby"] = [event(message={"mid": "m_standby", "text": "another app's thread"})]
    body["entry"].append(
        envelope("page", "999", [event(message={"mid": "m_other", "text": "x"})])["entry"][0]
    )
    body["entry"].append(
        {
            "id": PAGE,
            "messaging": [
                {
                    "sender": {"id": PAGE},
                    "recipient": {"id": PSID},
                    "reaction": {"mid": "m_ok", "emoji": "👍"},
                },
                event(message={"text": "no mid"}),
                event(optin={"ref": "x"}),
            ],
        }
    )
    body["entry"].append({"id": PAGE, "time": 1, "changes": [{"field": "feed"}]})
    with caplog.at_level(logging.INFO, logger="connectors.meta_common"):
        parsed = messenger.parse(_request(json.dumps(body).encode()), CHANNEL)
    assert [m.platform_message_id for m in parsed.messages] == ["m_ok"]
    assert parsed.statuses == () and parsed.edits == ()
    assert "standby" in caplog.text
    # without a configured page, the entry's own id still tells the page's events apart
    bare = ChannelCredentials(7, {}, SECRETS)
    assert [
        m.platform_message_id for m in messenger.parse(_request(json.dumps(body).encode()), bare).messages
    ] == [
        "m_ok",
        "m_other",
    ]


def test_timestamps_in_seconds_strings_and_garbage() -> None:
    a, b = parse_events(
        event(message={"mid": "m_a", "text": "x"}, timestamp="1750030069876"),
        event(message={"mid": "m_b", "text": "y"}, timestamp=1750030069),
    ).messages
    assert a.sent_at == ms(1750030069876) and b.sent_at == datetime.fromtimestamp(1750030069, UTC)
    (c,) = parse_events(event(message={"mid": "m_c", "text": "z"}, timestamp="soon")).messages
    assert abs((c.sent_at - datetime.now(UTC)).total_seconds()) < 5


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{oops",
        b"[]",
        b'{"object": "instagram", "entry": []}',
        b'{"object": "page"}',
        b'{"object": "page", "entry": {}}',
        b'{"object": "page", "entry": [1]}',
        b'{"object": "page", "entry": [{"id": "108517771987654", "messaging": {}}]}',
    ],
)
def test_malformed_bodies(body: bytes) -> None:
    with pytest.raises(MalformedPayload):
        messenger.parse(_request(body), CHANNEL)


# ---- signatures, handshake, config ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "vector",
    [v for v in json.loads((SAMPLES / "signature_vectors.json").read_text()) if v["platform"] == "messenger"],
    ids=lambda v: v["body_file"],
)
def test_signature_vectors(vector: dict[str, Any]) -> None:
    channel = ChannelCredentials(7, {"page_id": PAGE}, {"app_secret": vector["secret"]})
    request = _request((SAMPLES / vector["body_file"]).read_bytes(), vector["headers"])
    assert messenger.verify(request, channel, now=time.time()) is vector["valid"]


def test_bad_signatures_are_refused() -> None:
    body = (MS / "inbound_text.json").read_bytes()
    good = sign_body(SECRETS["app_secret"], body)
    assert messenger.verify(_request(body, {"X-Hub-Signature-256": good}), CHANNEL, now=0)
    assert messenger.verify(
        _request(body, {"X-Hub-Signature-256": good.upper().replace("SHA256=", "sha256=")}), CHANNEL, now=0
    )
    # no timestamp is signed: Meta has no replay window, so an old delivery still verifies
    assert messenger.verify(_request(body, {"X-Hub-Signature-256": good}), CHANNEL, now=time.time() + 10**7)
    tampered = body.replace(b"hello", b"hellO")
    for request in (
        _request(tampered, {"X-Hub-Signature-256": good}),
        _request(body, {}),
        _request(body, {"X-Hub-Signature-256": ""}),
        _request(body, {"X-Hub-Signature-256": good.removeprefix("sha256=")}),
        _request(body, {"X-Hub-Signature-256": good[:-2]}),
        _request(body, {"X-Hub-Signature": "sha1=" + "0" * 40}),
        _request(body, {"X-Hub-Signature-256": sign_body("other-secret", body)}),
    ):
        assert not messenger.verify(request, CHANNEL, now=0)
    no_secret = ChannelCredentials(7, {"page_id": PAGE}, {})
    assert not messenger.verify(_request(body, {"X-Hub-Signature-256": good}), no_secret, now=0)


def test_the_fakes_bytes_verify_only_as_sent() -> None:
    """Meta escapes slashes and non-ASCII: re-serialising the JSON would change the signed bytes."""
    payload = envelope("page", PAGE, [text_event(PAGE, PSID, "olá https://x.y/z")])
    body = serialise(payload)
    assert b"\\/" in body and b"\\u00e1" in body
    signed = _request(body, {"X-Hub-Signature-256": sign_body("s", body)})
    channel = ChannelCredentials(7, {"page_id": PAGE}, {"app_secret": "s"})
    assert messenger.verify(signed, channel, now=0)
    (m,) = messenger.parse(signed, channel).messages
    assert m.text == "olá https://x.y/z"
    reserialised = json.dumps(json.loads(body)).encode()
    assert not messenger.verify(
        _request(reserialised, {"X-Hub-Signature-256": sign_body("s", body)}), channel, now=0
    )


def test_handshake() -> None:
    def hs(method: str = "GET", **query: str):  # type: ignore[no-untyped-def]
        return messenger.handshake(_request(b"", method=method, query=query), CHANNEL)

    ok = hs(**{"hub.mode": "subscribe", "hub.verify_token": "verify-1", "hub.challenge": "1158201444"})
    assert ok is not None and (ok.status, ok.body, ok.content_type) == (200, "1158201444", "text/plain")
    for query in (
        {"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "verify-1", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.verify_token": "verify-1"},
        {},
    ):
        reply = hs(**query)
        assert reply is not None and reply.status == 403
    assert (
        hs("POST", **{"hub.mode": "subscribe", "hub.verify_token": "verify-1", "hub.challenge": "1"}) is None
    )
    empty = ChannelCredentials(7, {}, {"verify_token": ""})
    reply = messenger.handshake(
        _request(
            b"", method="GET", query={"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}
        ),
        empty,
    )
    assert reply is not None and reply.status == 403


def test_validate_config_interface_and_registry() -> None:
    assert messenger.validate_config({"page_id": PAGE}, SECRETS) == []
    assert (
        messenger.validate_config(
            {"page_id": PAGE, "api_base": "http://127.0.0.1:9", "api_version": "v19.0"}, SECRETS
        )
        == []
    )
    assert messenger.validate_config({}, {}) == [
        "The Facebook Page ID (page_id) is required.",
        "The app secret (app_secret) is required.",
        "The access token (page_access_token) is required.",
        "The verify token (verify_token) is required.",
    ]
    problems = messenger.validate_config(
        {"page_id": 108517771987654, "api_base": "ftp://x", "api_version": "21"},
        {**SECRETS, "app_secret": " "},
    )
    assert problems == [
        "The Facebook Page ID (page_id) must be Meta's numeric ID, given as a string of digits.",
        "The API base URL (api_base) must start with https:// or http://.",
        'The API version (api_version) must look like "v21.0".',
        "The app secret (app_secret) is required.",
    ]
    assert get_connector(Platform.MESSENGER) is messenger and isinstance(messenger, MessengerConnector)
    assert messenger.secret_names == ("app_secret", "page_access_token", "verify_token")
    assert messenger.generated_secrets == ("verify_token",)
    caps = messenger.capabilities
    assert caps.reply_window is not None and caps.reply_window.total_seconds() == 24 * 3600
    assert (caps.can_initiate, caps.buttons, caps.delivery_statuses, caps.read_statuses) == (
        False,
        True,
        True,
        True,
    )
    assert (caps.templates, caps.max_attachments, messenger.max_text_length) == (False, 1, 2000)


# ---- sending over real HTTP to the fake ------------------------------------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeMetaGraph, ChannelCredentials]]:
    api = FakeMetaGraph()
    api.add_page(PAGE, access_token=SECRETS["page_access_token"], app_secret=SECRETS["app_secret"])
    api.add_user(PAGE, PSID)
    async with api.serve() as base_url:
        yield api, ChannelCredentials(7, {"page_id": PAGE, "api_base": base_url}, SECRETS)


def text(body: str = "hello, world!", **kw: Any) -> OutboundMessage:
    return OutboundMessage(recipient_id=PSID, kind=MessageKind.TEXT, idempotency_key="42", text=body, **kw)


async def _error(http: httpx.AsyncClient, channel: ChannelCredentials, message: OutboundMessage) -> SendError:
    with pytest.raises(SendError) as info:
        await messenger.send(http, channel, message)
    return info.value


def _bodies(api: FakeMetaGraph) -> list[dict[str, Any]]:
    return [{k: v for k, v in sent.items() if k != "_fake"} for sent in api.sent]


async def test_text_and_tagged_bodies_match_the_samples(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    result = await messenger.send(http, channel, text())
    assert _bodies(api) == [json.loads((MS / "send_text_request.json").read_text())]
    assert result.platform_message_id == api.sent[0]["_fake"]["message_id"]
    assert result.platform_message_id.startswith("m_")
    assert api.sent[0]["_fake"]["path"] == "/v21.0/me/messages" and api.sent[0]["_fake"]["platform"] == "page"

    api.age_window(PAGE, PSID, hours=30)  # past 24 hours: only a tag goes through
    error = await _error(http, channel, text("Following up on your question from yesterday."))
    assert (error.code, error.retryable, error.affects_channel) == ("10/2018278", False, False)
    assert error.reason.startswith("More than 24 hours have passed since the customer last wrote")
    tagged = text("Following up on your question from yesterday.", metadata={"tag": "HUMAN_AGENT"})
    await messenger.send(http, channel, tagged)
    assert _bodies(api)[-1] == json.loads((MS / "send_tagged_request.json").read_text())

    api.age_window(PAGE, PSID, hours=8 * 24)  # HUMAN_AGENT covers 7 days, not 8
    assert (await _error(http, channel, tagged)).code == "10/2018278"
    await messenger.send(http, channel, text("Your order shipped", metadata={"tag": "POST_PURCHASE_UPDATE"}))
    assert _bodies(api)[-1]["tag"] == "POST_PURCHASE_UPDATE"
    assert len(api.sent) == 3


async def test_media_by_url_and_media_with_text(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    photo = Attachment(kind=MessageKind.IMAGE, url="https://cdn.example.com/p.jpg")
    alone = OutboundMessage(PSID, MessageKind.IMAGE, "1", attachments=(photo,))
    result = await messenger.send(http, channel, alone)
    assert _bodies(api)[-1]["message"] == {
        "attachment": {
            "type": "image",
            "payload": {"url": "https://cdn.example.com/p.jpg", "is_reusable": False},
        }
    }
    assert result.platform_message_id == api.sent[-1]["_fake"]["message_id"]

    pdf = Attachment(
        kind=MessageKind.DOCUMENT, url="https://cdn.example.com/invoice.pdf", filename="invoice.pdf"
    )
    both = OutboundMessage(PSID, MessageKind.DOCUMENT, "2", text="Your invoice", attachments=(pdf,))
    result = await messenger.send(http, channel, both)
    attachment, caption = _bodies(api)[-2:]
    assert attachment["message"]["attachment"]["type"] == "file" and caption["message"] == {
        "text": "Your invoice"
    }
    assert attachment["messaging_type"] == caption["messaging_type"] == "RESPONSE"
    assert result.platform_message_id == api.sent[-1]["_fake"]["message_id"]  # the last part's id

    before = api.requests
    for bad, code in (
        (OutboundMessage(PSID, MessageKind.IMAGE, "3", attachments=(photo, photo)), "TOO_MANY_ATTACHMENTS"),
        (
            OutboundMessage(PSID, MessageKind.IMAGE, "4", attachments=(Attachment(kind=MessageKind.IMAGE),)),
            "NO_MEDIA_URL",
        ),
        (
            OutboundMessage(
                PSID,
                MessageKind.LOCATION,
                "5",
                attachments=(Attachment(MessageKind.LOCATION, url="https://x"),),
            ),
            "UNSUPPORTED_KIND",
        ),
        (OutboundMessage(PSID, MessageKind.TEMPLATE, "6", template={"name": "x"}), "UNSUPPORTED_KIND"),
        (text("   "), "EMPTY_TEXT"),
        (text("x" * 2001), "too_long"),
        (text("hi", metadata={"tag": "PROMOTION"}), "INVALID_TAG"),
    ):
        error = await _error(http, channel, bad)
        assert (error.code, error.retryable) == (code, False), code
    assert api.requests == before  # refused before any HTTP call
    await messenger.send(http, channel, text("x" * 2000))  # the limit itself is fine


async def test_partial_delivery_is_never_retried(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    photo = Attachment(kind=MessageKind.IMAGE, url="https://cdn.example.com/p.jpg")
    message = OutboundMessage(PSID, MessageKind.IMAGE, "1", text="caption", attachments=(photo,))
    # the photo goes through, then the text meets a 500: a retry would send the photo twice
    api.fail_next(500, after=1)
    error = await _error(http, channel, message)
    assert (error.code, error.retryable) == ("2", False)
    assert error.reason.startswith("Only part of the message reached the customer")
    assert [body["message"].get("attachment", {}).get("type") for body in _bodies(api)] == ["image"]


async def test_buttons_quick_replies_or_a_button_template(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    replies = (Button("SIZE_S", "Small"), Button("SIZE_M", "Medium, the most popular size"))
    await messenger.send(http, channel, text("Which size?", buttons=replies))
    assert _bodies(api)[-1]["message"] == {
        "text": "Which size?",
        "quick_replies": [
            {"content_type": "text", "title": "Small", "payload": "SIZE_S"},
            {"content_type": "text", "title": "Medium, the most pop", "payload": "SIZE_M"},
        ],
    }
    mixed = (Button("TRACK", "Track it"), Button("site", "Open the shop", url="https://shop.example.com"))
    await messenger.send(http, channel, text("Shipped!", buttons=mixed))
    assert _bodies(api)[-1]["message"] == {
        "attachment": {
            "type": "template",
            "payload": {
                "template_type": "button",
                "text": "Shipped!",
                "buttons": [
                    {"type": "postback", "title": "Track it", "payload": "TRACK"},
                    {"type": "web_url", "url": "https://shop.example.com", "title": "Open the shop"},
                ],
            },
        }
    }
    before = api.requests
    too_many_links = tuple(Button(f"b{i}", f"B{i}", url=f"https://x/{i}") for i in range(4))
    assert (await _error(http, channel, text("x", buttons=too_many_links))).code == "BUTTONS"
    assert (
        await _error(http, channel, text("x", buttons=tuple(Button(f"b{i}", "B") for i in range(14))))
    ).code == "BUTTONS"
    assert (await _error(http, channel, text("x" * 641, buttons=mixed))).code == "too_long"
    assert api.requests == before


async def test_rate_limits_and_server_errors_are_retryable(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    api.rate_limit_next(PAGE, minutes=2)
    api.fail_next(429, graph_error(4, "(#4) Application request limit reached"), headers={"Retry-After": "7"})
    api.fail_next(503)
    api.fail_next(502, {})
    api.fail_next(400, graph_error(1200, "Temporary send message failure. Please try again later"))
    limited = await _error(http, channel, text())
    assert (limited.code, limited.retryable, limited.retry_after) == ("613", True, 120.0)
    assert "limiting how fast" in limited.reason
    app_limit = await _error(http, channel, text())
    assert (app_limit.code, app_limit.retryable, app_limit.retry_after) == ("4", True, 7.0)
    unavailable = await _error(http, channel, text())
    assert (unavailable.code, unavailable.retryable, unavailable.retry_after) == ("2", True, None)
    bare = await _error(http, channel, text())
    assert (bare.code, bare.retryable) == ("HTTP_502", True)
    temporary = await _error(http, channel, text())
    assert (temporary.code, temporary.retryable) == ("1200", True)
    assert api.sent == []
    await messenger.send(http, channel, text())  # and then it goes through
    assert len(api.sent) == 1


async def test_permanent_refusals_and_bad_auth(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    stranger = await _error(
        http, channel, OutboundMessage("5550001112223334", MessageKind.TEXT, "1", text="hi")
    )
    assert (stranger.code, stranger.retryable, stranger.affects_channel) == ("100/2018001", False, False)
    assert stranger.reason == "Messenger knows no such person for this account (they may have deleted it)."
    api.fail_next(400, graph_error(551, "This person isn't available right now.", subcode=1545041))
    away = await _error(http, channel, text())
    assert (away.code, away.retryable, away.reason) == (
        "551/1545041",
        False,
        "This person isn't available on Messenger right now.",
    )
    api.fail_next(400, graph_error(100, "(#100) Param message[text] must be a UTF-8 encoded string"))
    param = await _error(http, channel, text())
    assert param.retryable is False and param.reason.endswith(
        "Param message[text] must be a UTF-8 encoded string"
    )
    wrong = ChannelCredentials(7, channel.config, {**SECRETS, "page_access_token": "revoked"})
    token = await _error(http, wrong, text())
    assert (token.code, token.retryable, token.affects_channel) == ("190", False, True)
    assert "access token is invalid or has expired" in token.reason
    api.fail_next(400, graph_error(2500, "An active access token must be used to query information."))
    no_token = await _error(http, channel, text())
    assert (no_token.code, no_token.retryable, no_token.affects_channel) == ("2500", False, True)
    api.fail_next(200, {"recipient_id": PSID})
    odd = await _error(http, channel, text())
    assert (odd.code, odd.retryable) == ("INVALID_RESPONSE", False)
    assert api.sent == []


@pytest.mark.parametrize(
    ("exc", "code"),
    [(httpx.ReadTimeout("slow"), "TIMEOUT"), (httpx.ConnectError("refused"), "NETWORK_ERROR")],
)
async def test_transport_errors_are_retryable(exc: Exception, code: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(SendError) as info:
            await messenger.send(client, CHANNEL, text())
    assert (info.value.code, info.value.retryable) == (code, True)


async def test_the_fake_is_as_strict_as_the_send_api(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    base = channel.config["api_base"]
    url = f"{base}/v21.0/me/messages"
    token = {"access_token": SECRETS["page_access_token"]}
    ok = {"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": "hi"}}

    async def post(body: Any, *, params: Any = token, headers: Any = None, to: str = url) -> httpx.Response:
        return await http.post(to, json=body, params=params, headers=headers)

    assert (await post(ok)).status_code == 200
    assert (await post(ok, to=f"{base}/v21.0/{PAGE}/messages")).status_code == 200
    refused = [
        (await post(ok, params={}, headers={"Authorization": f"Bearer {SECRETS['page_access_token']}"}), 190),
        (await post(ok, params={"access_token": "x"}), 190),
        (await post(ok, to=f"{base}/v21.0/555/messages"), 100),
        (await post({**ok, "messaging_type": None}), 100),
        (await post({k: v for k, v in ok.items() if k != "messaging_type"}), 100),
        (await post({**ok, "tag": "HUMAN_AGENT"}), 100),
        (await post({**ok, "messaging_type": "MESSAGE_TAG"}), 100),
        (await post({**ok, "messaging_type": "MESSAGE_TAG", "tag": "PROMO"}), 100),
        (await post({**ok, "message": {"text": "x" * 2001}}), 100),
        (
            await post(
                {
                    **ok,
                    "message": {
                        "text": "hi",
                        "attachment": {"type": "image", "payload": {"url": "https://x"}},
                    },
                }
            ),
            100,
        ),
        (await post({**ok, "message": {}}), 100),
        (
            await post({**ok, "message": {"attachment": {"type": "image", "payload": {"url": "ftp://x"}}}}),
            100,
        ),
        (
            await post(
                {
                    **ok,
                    "message": {
                        "text": "hi",
                        "quick_replies": [{"content_type": "text", "title": "x" * 21, "payload": "p"}],
                    },
                }
            ),
            100,
        ),
        (await post({**ok, "recipient": {"phone_number": "+1555"}}), 100),
        (await post({**ok, "extra": 1}), 100),
        (await post(ok, to=f"{base}/21/me/messages"), 2500),
    ]
    for response, code in refused:
        assert response.status_code == 400 and response.json()["error"]["code"] == code, response.text
    assert len(api.sent) == 2


# ---- end to end through the app --------------------------------------------------------------------------


@pytest.fixture
async def messenger_case(server: str) -> AsyncIterator[ConnectorCase]:
    page_id = str(uuid.uuid4().int)[:15]
    secrets = {
        "app_secret": uuid.uuid4().hex,
        "page_access_token": uuid.uuid4().hex,
        "verify_token": uuid.uuid4().hex,
    }

    def wire(case: ConnectorCase) -> None:
        case.fake.add_page(
            page_id,
            access_token=secrets["page_access_token"],
            app_secret=secrets["app_secret"],
            webhook_url=case.webhook,
        )

    async with connector_case(
        server, FakeMetaGraph(), "messenger", {"page_id": page_id}, secrets, wire=wire
    ) as case:
        yield case


async def test_end_to_end(server, messenger_case) -> None:  # type: ignore[no-untyped-def]
    from models import Message
    from tests.helpers import eventually

    case = messenger_case
    channel, api, secrets, url = case.channel, case.fake, case.secrets, case.webhook
    page_id = channel.config["page_id"]
    psid = str(uuid.uuid4().int)[:16]
    async with httpx.AsyncClient(timeout=20) as client:
        challenge = {
            "hub.mode": "subscribe",
            "hub.verify_token": secrets["verify_token"],
            "hub.challenge": "8472",
        }
        answered = await client.get(url, params=challenge)
        assert (answered.status_code, answered.text) == (200, "8472")
        wrong = await client.get(url, params={**challenge, "hub.verify_token": "guess"})
        assert wrong.status_code == 403

        # the customer writes (signed by the fake, as Meta would); a redelivery stores nothing new
        mid = f"m_{uuid.uuid4().hex}"
        assert (
            await api.post_inbound_text(page_id, psid, "Do you ship to Porto?", mid=mid)
        ).status_code == 200
        assert (
            await api.post_inbound_text(page_id, psid, "Do you ship to Porto?", mid=mid)
        ).status_code == 200
        stored = await Message.filter(channel_id=channel.id)
        assert [(m.platform_message_id, m.text, m.direction) for m in stored] == [
            (mid, "Do you ship to Porto?", "inbound")
        ]

        # a forged webhook is refused and stores nothing
        forged_body = serialise(
            envelope("page", page_id, [text_event(page_id, psid, "forged", mid="m_forged")])
        )
        forged = await client.post(
            url,
            content=forged_body,
            headers={"X-Hub-Signature-256": sign_body("not-the-secret", forged_body)},
        )
        assert forged.status_code == 401
        unsigned = await client.post(url, content=forged_body)
        assert unsigned.status_code == 401
        assert await Message.filter(channel_id=channel.id).count() == 1

    # the agent replies; the in-process worker sends exactly one Send API request
    sent, client_id = await case.reply(stored[0].conversation_id, "Yes, in 2 days.")
    assert sent.get("errors") is None, sent
    outbound = await case.wait_for(client_id)
    assert outbound.channel_id == channel.id and outbound.direction == "outbound"
    assert _bodies(api) == [
        {"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": {"text": "Yes, in 2 days."}}
    ]
    assert api.sent[0]["_fake"]["account_id"] == page_id
    assert outbound.platform_message_id == api.sent[0]["_fake"]["message_id"]

    # Meta's receipts come back: delivery names the message, read is a watermark
    assert (await api.post_delivery(page_id, [outbound.platform_message_id])).status_code == 200
    await eventually(lambda: Message.filter(id=outbound.id, status="delivered").exists(), timeout=10)
    assert (await api.post_read(page_id, psid, watermark=int(time.time() * 1000) + 1000)).status_code == 200
    read = await eventually(lambda: Message.filter(id=outbound.id, status="read").first(), timeout=10)
    assert read.read_at is not None and read.delivered_at is not None
    assert len(api.sent) == 1  # statuses sent nothing more


async def test_reference_payloads_end_to_end(server, messenger_case) -> None:  # type: ignore[no-untyped-def]
    """The sticker pair and the shared link, posted signed to the real app: each is answered 200
    and stored as one message with what the agent needs (the sticker's id, the link's URL)."""
    from models import Message

    case = messenger_case
    page_id, psid = case.channel.config["page_id"], str(uuid.uuid4().int)[:16]
    stored_ids = {}
    for name in ("sticker_transition.json", "fallback_link.json", "unknown_attachment.json"):
        body = (FIXTURES / name).read_text().replace(PAGE, page_id).replace(PSID, psid)
        mid = f"m_{uuid.uuid4().hex}"
        body = body.replace('"mid": "', f'"mid": "{mid}', 1)
        response = await case.fake.post_webhook(page_id, body.encode())
        assert (response.status_code, response.text) == (200, "ok"), name
        stored_ids[name] = mid
    rows = {m.platform_message_id: m for m in await Message.filter(channel_id=case.channel.id)}
    assert len(rows) == 3  # the image + sticker twins are one message
    sticker = rows[next(k for k in rows if k.startswith(stored_ids["sticker_transition.json"]))]
    assert (sticker.kind, sticker.metadata["sticker_id"]) == (MessageKind.STICKER, 369239263222822)
    assert [a["kind"] for a in sticker.attachments] == ["sticker"]
    link = rows[next(k for k in rows if k.startswith(stored_ids["fallback_link.json"]))]
    assert link.text == "Shared a link: Dyon Enter 32 Pro 80 cm (31,5 Zoll) Fernseher"
    assert link.metadata["link"]["url"].startswith("https://l.facebook.com/l.php?u=")
    unknown = rows[next(k for k in rows if k.startswith(stored_ids["unknown_attachment.json"]))]
    assert unknown.kind is MessageKind.UNSUPPORTED
