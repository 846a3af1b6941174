"""The Instagram Direct connector: every sample parsed to concrete values (story replies, unsends,
per-message reads, echoes), Instagram's other attachments and ISO timestamps, signatures, the
handshake, config sentences, sends against the fake Graph API with a Bearer token and the 1000-byte
limit, and end to end through the app: signed webhook → stored once → agent reply → one Send API
call → read receipt → unsend."""

from __future__ import annotations

import json
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
from connectors.instagram import InstagramConnector, instagram
from connectors.meta_common import sign_body
from connectors.registry import get_connector
from tests.conftest import SAMPLES
from tests.fakes.messenger import FakeMetaGraph, envelope, graph_error, serialise, text_event
from tests.helpers import ConnectorCase, connector_case

IG = SAMPLES / "instagram"
FIXTURES = Path(__file__).parent / "fixtures" / "instagram"  # beyond the samples, from Meta's reference
ACCOUNT = "17841405309211844"  # the samples' Instagram professional account
IGSID = "1234567890123456"  # the samples' customer
MID_1 = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1MzA5MjExODQ0OjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI1OTY2NzI5MTkxMjEyMTM0OTozMTk1MzM4NjQ2NjQwMDAwMDAwMDAwMDAwMDAwMDAwMAZDZD"
OUR_MID = MID_1.replace("aWdfZAG1", "aWdfZAG4")  # the account's message, in reactions and reads
SECRETS = {"app_secret": "test-secret", "access_token": "ig-token-1", "verify_token": "verify-1"}
CHANNEL = ChannelCredentials(channel_id=9, config={"ig_account_id": ACCOUNT}, secrets=SECRETS)


def _request(
    body: bytes,
    headers: dict[str, str] | None = None,
    method: str = "POST",
    query: dict[str, str] | None = None,
) -> WebhookRequest:
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    return WebhookRequest(
        method=method, url="https://x/webhooks/instagram/9", headers=lowered, query=query or {}, body=body
    )


def parse_sample(name: str) -> ParsedWebhook:
    return instagram.parse(_request((IG / name).read_bytes()), CHANNEL)


def parse_events(*events: dict[str, Any]) -> ParsedWebhook:
    return instagram.parse(
        _request(json.dumps(envelope("instagram", ACCOUNT, list(events))).encode()), CHANNEL
    )


def event(**kind: Any) -> dict[str, Any]:
    return {"sender": {"id": IGSID}, "recipient": {"id": ACCOUNT}, "timestamp": 1750030069876, **kind}


def ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


# ---- the samples ------------------------------------------------------------------------------------


def test_inbound_text_sample() -> None:
    parsed = parse_sample("inbound_text.json")
    assert parsed.statuses == () and parsed.edits == ()
    (m,) = parsed.messages
    assert m.platform_message_id == MID_1
    assert (m.kind, m.text, m.sender_id) == (MessageKind.TEXT, "Hi! Is this still available?", IGSID)
    assert m.sent_at == ms(1750030069876)
    assert (m.reply_to_platform_id, m.attachments, dict(m.metadata)) == (None, (), {})


def test_inbound_image_sample() -> None:
    (m,) = parse_sample("inbound_image.json").messages
    assert m.platform_message_id.startswith("aWdfZAG2") and (m.kind, m.text) == (MessageKind.IMAGE, None)
    (a,) = m.attachments
    assert a.kind is MessageKind.IMAGE
    assert a.url == "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=17999999999999999&signature=FAKE"


def test_story_reply_sample_keeps_the_story() -> None:
    (m,) = parse_sample("inbound_story_reply.json").messages
    assert m.platform_message_id.startswith("aWdfZAG3") and (m.kind, m.text) == (
        MessageKind.TEXT,
        "Love this!",
    )
    assert m.metadata == {
        "story": {
            "id": "18000000000000000",
            "url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=18000000000000000&signature=FAKE",
        }
    }
    assert m.reply_to_platform_id is None


def test_reaction_sample() -> None:
    (m,) = parse_sample("inbound_reaction.json").messages
    assert (m.kind, m.text, m.sent_at) == (MessageKind.REACTION, "❤️", ms(1750030099000))
    assert m.platform_message_id == f"reaction:{OUR_MID}:{IGSID}:react:❤️:1750030099000"
    assert m.metadata == {"emoji": "❤️", "target_platform_id": OUR_MID, "reaction": "love"}


def test_unsend_sample_is_a_deletion() -> None:
    parsed = parse_sample("inbound_unsend.json")
    assert parsed.messages == () and parsed.statuses == ()
    (edit,) = parsed.edits
    assert (edit.platform_message_id, edit.deleted, edit.text) == (MID_1, True, None)
    assert edit.occurred_at == ms(1750030069876)


def test_read_sample_names_the_message() -> None:
    (read,) = parse_sample("status_read.json").statuses
    assert (read.platform_message_id, read.status, read.recipient_id, read.up_to) == (
        OUR_MID,
        DeliveryStatus.READ,
        IGSID,
        None,
    )
    assert read.occurred_at == ms(1750030095000)


def test_echo_sample_is_ignored() -> None:
    assert parse_sample("inbound_echo.json") == ParsedWebhook()


def test_every_webhook_sample_is_accounted_for() -> None:
    expected = {
        "inbound_text.json": (1, 0, 0),
        "inbound_image.json": (1, 0, 0),
        "inbound_reaction.json": (1, 0, 0),
        "inbound_story_reply.json": (1, 0, 0),
        "inbound_unsend.json": (0, 0, 1),
        "inbound_echo.json": (0, 0, 0),
        "status_read.json": (0, 1, 0),
    }
    webhooks = sorted(p.name for p in IG.glob("*.json") if not p.name.startswith(("send_", "_")))
    assert webhooks == sorted(expected)
    for name, counts in expected.items():
        parsed = parse_sample(name)
        assert (len(parsed.messages), len(parsed.statuses), len(parsed.edits)) == counts, name


# ---- Instagram's other shapes ---------------------------------------------------------------------------


def parse_fixture(name: str) -> ParsedWebhook:
    return instagram.parse(_request((FIXTURES / name).read_bytes()), CHANNEL)


def test_story_mention_is_the_story_image_marked_as_a_mention() -> None:
    (m,) = parse_fixture("story_mention.json").messages
    cdn = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=17895695668004550&signature=AbFAKE"
    assert (m.kind, m.text, m.sender_id) == (MessageKind.IMAGE, "Mentioned you in their story", IGSID)
    (a,) = m.attachments
    assert (a.kind, a.url, a.filename) == (MessageKind.IMAGE, cdn, None)
    assert m.metadata == {"attachment_types": ["story_mention"], "story_mention": True}
    # A story that is a video shows as a video when its URL says so.
    video = {"type": "story_mention", "payload": {"url": "https://x.cdninstagram.com/v/story.mp4?x=1"}}
    (v,) = parse_events(event(message={"mid": "ig_v", "attachments": [video]})).messages
    assert (v.kind, v.metadata["story_mention"]) == (MessageKind.VIDEO, True)


def test_share_and_reel_from_the_reference() -> None:
    share, reel = parse_fixture("share_and_reel.json").messages
    assert (share.kind, share.text) == (MessageKind.DOCUMENT, "Shared a post")
    assert share.metadata["link"]["url"].startswith("https://lookaside.fbsbx.com/")
    assert (reel.kind, reel.text, reel.metadata["title"]) == (
        MessageKind.VIDEO,
        "Shared a reel",
        "Our summer drop",
    )
    assert reel.attachments[0].media_id == "17962735411801566"


def test_shares_story_mentions_reels_and_unsupported() -> None:
    share = {"type": "share", "payload": {"url": "https://www.instagram.com/p/FAKE/"}}
    mention = {
        "type": "story_mention",
        "payload": {"url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1"},
    }
    reel = {
        "type": "ig_reel",
        "payload": {"url": "https://x/reel.mp4", "title": "Summer drop", "reel_video_id": "42"},
    }
    audio = {"type": "audio", "payload": {"url": "https://x/voice.mp4"}}
    parsed = parse_events(
        event(message={"mid": "ig_1", "attachments": [share]}),
        event(message={"mid": "ig_2", "attachments": [mention]}),
        event(message={"mid": "ig_3", "attachments": [reel]}),
        event(message={"mid": "ig_4", "attachments": [audio]}),
        event(message={"mid": "ig_5", "is_unsupported": True}),
        event(message={"mid": "ig_6", "text": "that one", "reply_to": {"mid": OUR_MID}}),
        event(message={"mid": "ig_7", "text": "Size M", "quick_reply": {"payload": "SIZE_M"}}),
        event(postback={"mid": "ig_8", "title": "Talk to a person", "payload": "HUMAN"}),
    )
    got = {m.platform_message_id: m for m in parsed.messages}
    assert (got["ig_1"].kind, got["ig_1"].text) == (MessageKind.DOCUMENT, "Shared a post")
    assert got["ig_1"].attachments[0].url == "https://www.instagram.com/p/FAKE/"
    assert got["ig_1"].metadata == {
        "attachment_types": ["share"],
        "link": {"url": "https://www.instagram.com/p/FAKE/"},
    }
    assert (got["ig_2"].kind, got["ig_2"].text, got["ig_2"].attachments[0].url) == (
        MessageKind.IMAGE,
        "Mentioned you in their story",
        "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1",
    )
    assert (got["ig_3"].kind, got["ig_3"].text, got["ig_3"].metadata["title"]) == (
        MessageKind.VIDEO,
        "Shared a reel",
        "Summer drop",
    )
    assert got["ig_3"].attachments[0].media_id == "42"
    assert got["ig_4"].kind is MessageKind.AUDIO and got["ig_4"].attachments[0].url == "https://x/voice.mp4"
    assert (got["ig_5"].kind, got["ig_5"].text) == (MessageKind.UNSUPPORTED, None)
    assert got["ig_6"].reply_to_platform_id == OUR_MID
    assert (got["ig_7"].kind, got["ig_7"].text, got["ig_7"].metadata["payload"]) == (
        MessageKind.POSTBACK,
        "Size M",
        "SIZE_M",
    )
    assert (got["ig_8"].kind, got["ig_8"].text, got["ig_8"].metadata["payload"]) == (
        MessageKind.POSTBACK,
        "Talk to a person",
        "HUMAN",
    )
    assert len(parsed.messages) == 8


def test_iso_timestamps_edits_and_the_account_itself() -> None:
    parsed = parse_events(
        event(message={"mid": "ig_iso", "text": "hi"}, timestamp="2025-06-15T23:27:49.876Z"),
        event(message={"mid": "ig_naive", "text": "hi"}, timestamp="2025-06-15T23:27:49"),
        event(message_edit={"mid": "ig_iso", "text": "hi there", "num_edit": 1}),
        {"sender": {"id": ACCOUNT}, "recipient": {"id": IGSID}, "timestamp": 1, "read": {"mid": "ig_iso"}},
        {"sender": {"id": ACCOUNT}, "recipient": {"id": IGSID}, "reaction": {"mid": "ig_iso", "emoji": "👍"}},
    )
    iso, naive = parsed.messages
    assert iso.sent_at == datetime(2025, 6, 15, 23, 27, 49, 876000, tzinfo=UTC)
    assert naive.sent_at == datetime(2025, 6, 15, 23, 27, 49, tzinfo=UTC)
    (edit,) = parsed.edits
    assert (edit.platform_message_id, edit.text, edit.deleted) == ("ig_iso", "hi there", False)
    assert parsed.statuses == ()  # the account reading its customer's message is no receipt of ours


def test_entries_for_another_account_are_skipped() -> None:
    other = ChannelCredentials(9, {"ig_account_id": "17840000000000000"}, SECRETS)
    assert instagram.parse(_request((IG / "inbound_text.json").read_bytes()), other) == ParsedWebhook()


@pytest.mark.parametrize(
    "body",
    [b"", b"nope", b"{}", b'{"object": "page", "entry": []}', b'{"object": "instagram", "entry": "x"}'],
)
def test_malformed_bodies(body: bytes) -> None:
    with pytest.raises(MalformedPayload):
        instagram.parse(_request(body), CHANNEL)


# ---- signatures, handshake, config ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "vector",
    [v for v in json.loads((SAMPLES / "signature_vectors.json").read_text()) if v["platform"] == "instagram"],
    ids=lambda v: v["body_file"],
)
def test_signature_vectors(vector: dict[str, Any]) -> None:
    channel = ChannelCredentials(9, {"ig_account_id": ACCOUNT}, {"app_secret": vector["secret"]})
    request = _request((SAMPLES / vector["body_file"]).read_bytes(), vector["headers"])
    assert instagram.verify(request, channel, now=time.time()) is vector["valid"]


def test_bad_signatures_are_refused() -> None:
    body = (IG / "inbound_text.json").read_bytes()
    good = sign_body(SECRETS["app_secret"], body)
    assert instagram.verify(_request(body, {"X-Hub-Signature-256": good}), CHANNEL, now=0)
    for request in (
        _request(body.replace(b"available", b"Available"), {"X-Hub-Signature-256": good}),
        _request(body, {}),
        _request(body, {"X-Hub-Signature-256": "sha256="}),
        _request(body, {"X-Hub-Signature-256": "sha1=" + good[7:47]}),
        _request(body, {"X-Hub-Signature-256": sign_body("another-app", body)}),
    ):
        assert not instagram.verify(request, CHANNEL, now=0)
    assert not instagram.verify(
        _request(body, {"X-Hub-Signature-256": good}), ChannelCredentials(9, {}, {}), now=0
    )


def test_handshake() -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": "verify-1", "hub.challenge": "ch-77"}
    ok = instagram.handshake(_request(b"", method="GET", query=query), CHANNEL)
    assert ok is not None and (ok.status, ok.body) == (200, "ch-77")
    bad = instagram.handshake(_request(b"", method="GET", query={**query, "hub.verify_token": "x"}), CHANNEL)
    assert bad is not None and bad.status == 403
    assert instagram.handshake(_request(b"{}"), CHANNEL) is None


def test_validate_config_interface_and_registry() -> None:
    assert instagram.validate_config({"ig_account_id": ACCOUNT}, SECRETS) == []
    assert instagram.validate_config({}, {}) == [
        "The Instagram professional account ID (ig_account_id) is required.",
        "The app secret (app_secret) is required.",
        "The access token (access_token) is required.",
        "The verify token (verify_token) is required.",
    ]
    assert instagram.validate_config({"ig_account_id": "me", "api_version": "latest"}, SECRETS) == [
        "The Instagram professional account ID (ig_account_id) must be Meta's numeric ID, given as a string of digits.",
        'The API version (api_version) must look like "v21.0".',
    ]
    assert get_connector(Platform.INSTAGRAM) is instagram and isinstance(instagram, InstagramConnector)
    assert instagram.secret_names == ("app_secret", "access_token", "verify_token")
    caps = instagram.capabilities
    assert caps.reply_window is not None and caps.reply_window.total_seconds() == 24 * 3600
    assert (caps.can_initiate, caps.buttons, caps.delivery_statuses, caps.read_statuses, caps.edits) == (
        False,
        True,
        False,
        True,
        True,
    )
    assert instagram.max_text_length == 1000


# ---- sending over real HTTP to the fake ------------------------------------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeMetaGraph, ChannelCredentials]]:
    api = FakeMetaGraph()
    api.add_instagram_account(ACCOUNT, access_token=SECRETS["access_token"], app_secret=SECRETS["app_secret"])
    api.add_user(ACCOUNT, IGSID)
    async with api.serve() as base_url:
        yield api, ChannelCredentials(9, {"ig_account_id": ACCOUNT, "api_base": base_url}, SECRETS)


def text(body: str = "Yes, it is still available.", **kw: Any) -> OutboundMessage:
    return OutboundMessage(recipient_id=IGSID, kind=MessageKind.TEXT, idempotency_key="7", text=body, **kw)


async def _error(http: httpx.AsyncClient, channel: ChannelCredentials, message: OutboundMessage) -> SendError:
    with pytest.raises(SendError) as info:
        await instagram.send(http, channel, message)
    return info.value


def _bodies(api: FakeMetaGraph) -> list[dict[str, Any]]:
    return [{k: v for k, v in sent.items() if k != "_fake"} for sent in api.sent]


async def test_text_body_matches_the_sample_with_a_bearer_token(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    result = await instagram.send(http, channel, text())
    assert _bodies(api) == [json.loads((IG / "send_text_request.json").read_text())]
    assert result.platform_message_id == api.sent[0]["_fake"]["message_id"]
    assert (
        api.sent[0]["_fake"]["platform"] == "instagram"
        and api.sent[0]["_fake"]["path"] == "/v21.0/me/messages"
    )


async def test_the_limit_is_utf8_bytes(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    await instagram.send(http, channel, text("é" * 500))  # 1000 bytes: the limit itself
    before = api.requests
    error = await _error(http, channel, text("é" * 501))  # 501 characters, 1002 bytes
    assert (error.code, error.retryable) == ("too_long", False)
    assert error.reason == "The text is 1002 bytes (UTF-8) long; Instagram allows at most 1000."
    assert api.requests == before
    raw = await http.post(
        f"{channel.config['api_base']}/v21.0/me/messages",
        json={"recipient": {"id": IGSID}, "message": {"text": "😀" * 251}},
        headers={"Authorization": f"Bearer {SECRETS['access_token']}"},
    )
    assert raw.status_code == 400 and "less than or equal to 1000" in raw.json()["error"]["message"]


async def test_window_human_agent_and_tags(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    api.age_window(ACCOUNT, IGSID, hours=48)
    closed = await _error(http, channel, text())
    assert (closed.code, closed.retryable) == ("10/2018278", False) and "24 hours" in closed.reason
    await instagram.send(http, channel, text(metadata={"tag": "HUMAN_AGENT"}))
    assert _bodies(api) == [
        {
            "recipient": {"id": IGSID},
            "messaging_type": "MESSAGE_TAG",
            "tag": "HUMAN_AGENT",
            "message": {"text": "Yes, it is still available."},
        }
    ]
    before = api.requests
    wrong_tag = await _error(http, channel, text(metadata={"tag": "POST_PURCHASE_UPDATE"}))
    assert (wrong_tag.code, wrong_tag.retryable) == (
        "INVALID_TAG",
        False,
    ) and "HUMAN_AGENT" in wrong_tag.reason
    assert api.requests == before


async def test_media_quick_replies_and_links(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    video = Attachment(kind=MessageKind.VIDEO, url="https://cdn.example.com/how-to.mp4")
    await instagram.send(http, channel, OutboundMessage(IGSID, MessageKind.VIDEO, "1", attachments=(video,)))
    assert _bodies(api)[-1] == {
        "recipient": {"id": IGSID},
        "message": {
            "attachment": {
                "type": "video",
                "payload": {"url": "https://cdn.example.com/how-to.mp4", "is_reusable": False},
            }
        },
    }
    buttons = (Button("YES", "Yes"), Button("guide", "Size guide", url="https://shop.example.com/sizes"))
    await instagram.send(http, channel, text("Want it in M?", buttons=buttons))
    assert _bodies(api)[-1]["message"] == {
        "text": "Want it in M?\nSize guide: https://shop.example.com/sizes",
        "quick_replies": [{"content_type": "text", "title": "Yes", "payload": "YES"}],
    }
    await instagram.send(http, channel, text("Our sizes", buttons=(buttons[1],)))
    assert _bodies(api)[-1]["message"] == {"text": "Our sizes\nSize guide: https://shop.example.com/sizes"}
    # the link lines count toward the byte limit
    assert (await _error(http, channel, text("x" * 990, buttons=(buttons[1],)))).code == "too_long"


async def test_errors(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    api.rate_limit_next(ACCOUNT, minutes=5)
    limited = await _error(http, channel, text())
    assert (limited.code, limited.retryable, limited.retry_after) == ("613", True, 300.0)
    api.fail_next(500)
    assert (await _error(http, channel, text())).retryable is True
    stranger = await _error(
        http, channel, OutboundMessage("9990001112223334", MessageKind.TEXT, "1", text="hi")
    )
    assert (stranger.code, stranger.retryable) == ("100/2018001", False)
    assert stranger.reason.startswith("Instagram knows no such person")
    wrong = ChannelCredentials(9, channel.config, {**SECRETS, "access_token": "expired"})
    token = await _error(http, wrong, text())
    assert (token.code, token.retryable, token.affects_channel) == ("190", False, True)
    assert token.reason == (
        "The channel's Instagram access token is invalid or has expired; update it in the channel settings."
    )
    # a page-style token in the query is not how Instagram Login authenticates
    as_query = await http.post(
        f"{channel.config['api_base']}/v21.0/me/messages",
        params={"access_token": SECRETS["access_token"]},
        json={"recipient": {"id": IGSID}, "message": {"text": "hi"}},
    )
    assert as_query.status_code == 400 and as_query.json()["error"]["code"] == 190
    api.fail_next(400, graph_error(10, "(#10) This person isn't receiving messages", subcode=2018108))
    blocked = await _error(http, channel, text())
    assert (blocked.retryable, blocked.affects_channel) == (False, False)
    assert blocked.reason == "This person isn't receiving messages from this account on Instagram right now."
    assert api.sent == []


# ---- end to end through the app --------------------------------------------------------------------------


@pytest.fixture
async def instagram_case(server: str) -> AsyncIterator[ConnectorCase]:
    account = "1784" + str(uuid.uuid4().int)[:13]
    secrets = {
        "app_secret": uuid.uuid4().hex,
        "access_token": uuid.uuid4().hex,
        "verify_token": uuid.uuid4().hex,
    }

    def wire(case: ConnectorCase) -> None:
        case.fake.add_instagram_account(
            account,
            access_token=secrets["access_token"],
            app_secret=secrets["app_secret"],
            webhook_url=case.webhook,
        )

    async with connector_case(
        server, FakeMetaGraph(), "instagram", {"ig_account_id": account}, secrets, wire=wire
    ) as case:
        yield case


async def test_end_to_end(server, instagram_case) -> None:  # type: ignore[no-untyped-def]
    from models import Message
    from tests.helpers import eventually

    case = instagram_case
    channel, api, secrets, url = case.channel, case.fake, case.secrets, case.webhook
    account = channel.config["ig_account_id"]
    igsid = str(uuid.uuid4().int)[:16]
    mid = "aWdfZAG" + uuid.uuid4().hex
    assert (await api.post_inbound_text(account, igsid, "Is the green one back?", mid=mid)).status_code == 200
    assert (await api.post_inbound_text(account, igsid, "Is the green one back?", mid=mid)).status_code == 200
    stored = await Message.filter(channel_id=channel.id)
    assert [(m.platform_message_id, m.text) for m in stored] == [(mid, "Is the green one back?")]

    forged = serialise(
        envelope("instagram", account, [text_event(account, igsid, "forged", mid="aWdfZAGforged")])
    )
    async with httpx.AsyncClient(timeout=20) as client:
        refused = await client.post(
            url, content=forged, headers={"X-Hub-Signature-256": sign_body("guess", forged)}
        )
        query = {"hub.mode": "subscribe", "hub.verify_token": secrets["verify_token"], "hub.challenge": "531"}
        handshake = await client.get(url, params=query)
    assert refused.status_code == 401
    assert (handshake.status_code, handshake.text) == (200, "531")
    assert await Message.filter(channel_id=channel.id).count() == 1

    sent, client_id = await case.reply(stored[0].conversation_id, "It is, since this morning!")
    assert sent.get("errors") is None, sent
    outbound = await case.wait_for(client_id)
    assert outbound.channel_id == channel.id and outbound.direction == "outbound"
    assert _bodies(api) == [{"recipient": {"id": igsid}, "message": {"text": "It is, since this morning!"}}]
    assert outbound.platform_message_id == api.sent[0]["_fake"]["message_id"]

    # Instagram's read receipt names our message
    assert (await api.post_read(account, igsid, mid=outbound.platform_message_id)).status_code == 200
    await eventually(lambda: Message.filter(id=outbound.id, status="read").exists(), timeout=10)

    # the customer unsends their message
    unsend = envelope(
        "instagram",
        account,
        [
            {
                "sender": {"id": igsid},
                "recipient": {"id": account},
                "timestamp": int(time.time() * 1000),
                "message": {"mid": mid, "is_deleted": True},
            }
        ],
    )
    assert (await api.post_webhook(account, unsend)).status_code == 200
    gone = await eventually(
        lambda: Message.filter(id=stored[0].id, deleted_at__not_isnull=True).first(), timeout=10
    )
    assert gone.deleted_at is not None
    assert len(api.sent) == 1
