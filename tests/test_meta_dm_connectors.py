"""Messenger and Instagram Direct: every sample parsed field by field, receipts (watermarks for
Messenger, per message for Instagram), echoes ignored, sends against a strict fake Graph API, and
end to end through the app with the read watermark coming back."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from connectors.base import (
    ChannelCredentials,
    DeliveryStatus,
    MessageKind,
    OutboundMessage,
    SendError,
    WebhookRequest,
)
from connectors.fakes.meta_dm import FakeMetaDm, graph_error
from connectors.instagram import instagram
from connectors.messenger import messenger
from models import Message, Role
from schema.relay import to_global_id
from tests.conftest import SAMPLES
from tests.helpers import eventually, gql, login, make_channel, make_user

PAGE = "108517771987654"
IG = "17841405309211844"
M_CHANNEL = ChannelCredentials(
    1, {"page_id": PAGE}, {"app_secret": "s", "page_access_token": "t", "verify_token": "v"}
)
I_CHANNEL = ChannelCredentials(
    2, {"ig_account_id": IG}, {"app_secret": "s", "access_token": "t", "verify_token": "v"}
)


def _parse(connector, channel, name: str):  # type: ignore[no-untyped-def]
    folder = "messenger" if connector is messenger else "instagram"
    body = (SAMPLES / folder / name).read_bytes()
    return connector.parse(WebhookRequest("POST", "https://x", {}, {}, body), channel)


def test_messenger_samples() -> None:
    (text,) = _parse(messenger, M_CHANNEL, "inbound_text.json").messages
    assert (text.sender_id, text.text, text.kind) == ("7041234567890123", "hello, world!", MessageKind.TEXT)
    assert text.platform_message_id.startswith("m_AG5") and text.sent_at == datetime.fromtimestamp(
        1750030069.876, UTC
    )
    (image,) = _parse(messenger, M_CHANNEL, "inbound_image.json").messages
    assert image.kind is MessageKind.IMAGE and image.attachments[0].url.startswith("https://scontent")
    (quick,) = _parse(messenger, M_CHANNEL, "inbound_quick_reply.json").messages
    assert quick.kind is MessageKind.POSTBACK and (quick.text, quick.metadata["payload"]) == (
        "Red",
        "PICK_RED",
    )
    (postback,) = _parse(messenger, M_CHANNEL, "postback.json").messages
    assert (postback.kind, postback.text, postback.metadata["payload"]) == (
        MessageKind.POSTBACK,
        "Get Started",
        "GET_STARTED",
    )
    (reaction,) = _parse(messenger, M_CHANNEL, "inbound_reaction.json").messages
    assert reaction.kind is MessageKind.REACTION and reaction.metadata["emoji"] == "❤️"
    assert _parse(messenger, M_CHANNEL, "inbound_echo.json").messages == ()
    delivered = _parse(messenger, M_CHANNEL, "status_delivered.json").statuses
    assert [s.status for s in delivered] == [DeliveryStatus.DELIVERED, DeliveryStatus.DELIVERED]
    assert delivered[0].platform_message_id.startswith("m_AG8") and delivered[
        1
    ].up_to == datetime.fromtimestamp(1750030072, UTC)
    (read,) = _parse(messenger, M_CHANNEL, "status_read.json").statuses
    assert read.status is DeliveryStatus.READ and read.recipient_id == "7041234567890123"
    assert read.up_to == datetime.fromtimestamp(1750030072, UTC)
    other_page = ChannelCredentials(1, {"page_id": "999"}, M_CHANNEL.secrets)
    assert _parse(messenger, other_page, "inbound_text.json").messages == ()


def test_instagram_samples() -> None:
    (text,) = _parse(instagram, I_CHANNEL, "inbound_text.json").messages
    assert text.sender_id == "1234567890123456" and text.text
    (story,) = _parse(instagram, I_CHANNEL, "inbound_story_reply.json").messages
    assert story.text == "Love this!" and story.metadata["story"]["url"].startswith("https://")
    (image,) = _parse(instagram, I_CHANNEL, "inbound_image.json").messages
    assert image.kind is MessageKind.IMAGE
    (unsend,) = _parse(instagram, I_CHANNEL, "inbound_unsend.json").edits
    assert unsend.deleted and unsend.platform_message_id.startswith("aWdfZAG1")
    (read,) = _parse(instagram, I_CHANNEL, "status_read.json").statuses
    assert (
        read.status is DeliveryStatus.READ
        and read.up_to is None
        and read.platform_message_id.startswith("aWdfZAG4")
    )
    assert _parse(instagram, I_CHANNEL, "inbound_echo.json").messages == ()
    (reaction,) = _parse(instagram, I_CHANNEL, "inbound_reaction.json").messages
    assert reaction.metadata["target_platform_id"].startswith("aWdfZAG4")


def test_handshake_and_config() -> None:
    ok = WebhookRequest(
        "GET", "https://x", {}, {"hub.mode": "subscribe", "hub.verify_token": "v", "hub.challenge": "42"}, b""
    )
    assert messenger.handshake(ok, M_CHANNEL).body == "42"
    bad = WebhookRequest(
        "GET", "https://x", {}, {"hub.mode": "subscribe", "hub.verify_token": "x", "hub.challenge": "42"}, b""
    )
    assert messenger.handshake(bad, M_CHANNEL).status == 403
    assert messenger.validate_config({"page_id": PAGE}, M_CHANNEL.secrets) == []
    assert len(instagram.validate_config({}, {})) == 4


async def test_sends_and_errors() -> None:
    fake = FakeMetaDm("page-token", token_in_query=True, max_text=2000)
    fake.known.add("psid-1")
    async with fake.serve() as base, httpx.AsyncClient() as http:
        creds = ChannelCredentials(
            1, {"page_id": PAGE, "api_base": base}, {**M_CHANNEL.secrets, "page_access_token": "page-token"}
        )
        out = OutboundMessage(recipient_id="psid-1", kind=MessageKind.TEXT, idempotency_key="1", text="hi")
        result = await messenger.send(http, creds, out)
        assert (
            result.platform_message_id == fake.sent[-1]["_message_id"]
            and fake.sent[-1]["messaging_type"] == "RESPONSE"
        )
        fake.window_closed.add("psid-1")
        with pytest.raises(SendError) as closed:
            await messenger.send(http, creds, out)
        assert not closed.value.retryable and "24 hours" in closed.value.reason
        tagged = OutboundMessage(
            recipient_id="psid-1",
            kind=MessageKind.TEXT,
            idempotency_key="2",
            text="hi",
            metadata={"tag": "HUMAN_AGENT"},
        )
        await messenger.send(http, creds, tagged)
        assert fake.sent[-1]["tag"] == "HUMAN_AGENT"
        fake.fail_next(graph_error(613, "(#613) Calls to this api have exceeded the rate limit."))
        with pytest.raises(SendError) as limited:
            await messenger.send(http, creds, tagged)
        assert limited.value.retryable
        wrong = ChannelCredentials(1, creds.config, {**creds.secrets, "page_access_token": "nope"})
        with pytest.raises(SendError) as token:
            await messenger.send(http, wrong, tagged)
        assert token.value.affects_channel
        with pytest.raises(SendError) as long:
            await messenger.send(
                http, creds, OutboundMessage("psid-1", MessageKind.TEXT, "3", text="x" * 2001)
            )
        assert long.value.code == "too_long"


def _sign(secret: str, body: bytes) -> dict[str, str]:
    return {"X-Hub-Signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


async def test_messenger_end_to_end_with_the_read_watermark(server) -> None:  # type: ignore[no-untyped-def]
    fake = FakeMetaDm("page-token", token_in_query=True, max_text=2000)
    psid = str(uuid.uuid4().int)[:16]
    fake.known.add(psid)
    async with fake.serve() as base:
        channel = await make_channel(
            "messenger",
            {"page_id": PAGE, "api_base": base},
            {"app_secret": "app-s", "page_access_token": "page-token", "verify_token": "v"},
        )
        url = f"{server}/webhooks/messenger/{channel.id}"
        sample = json.loads((SAMPLES / "messenger" / "inbound_text.json").read_text())
        event = sample["entry"][0]["messaging"][0]
        event["sender"]["id"] = psid
        event["message"]["mid"] = f"m_{uuid.uuid4().hex}"
        event["timestamp"] = int(datetime.now(UTC).timestamp() * 1000)  # inside the 24-hour window
        body = json.dumps(sample).encode()
        async with httpx.AsyncClient() as client:
            assert (await client.post(url, content=body, headers=_sign("app-s", body))).status_code == 200
            assert (await client.post(url, content=body, headers=_sign("app-s", body))).status_code == 200
            assert (await client.post(url, content=body, headers=_sign("wrong", body))).status_code == 401
        inbound = await Message.filter(channel_id=channel.id)
        assert len(inbound) == 1
        token = await login(server, await make_user(Role.AGENT))
        reply = {
            "conversationId": to_global_id("Conversation", inbound[0].conversation_id),
            "clientMessageId": str(uuid.uuid4()),
            "text": "Hi there",
        }
        sent = await gql(
            server,
            "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }",
            {"input": reply},
            token,
        )
        assert sent.get("errors") is None, sent
        outbound = await eventually(
            lambda: Message.filter(channel_id=channel.id, text="Hi there", status="sent").first(), timeout=20
        )
        assert fake.sent[-1]["recipient"] == {"id": psid} and fake.sent[-1]["message"] == {"text": "Hi there"}
        read = json.loads((SAMPLES / "messenger" / "status_read.json").read_text())
        read["entry"][0]["messaging"][0]["sender"]["id"] = psid
        read["entry"][0]["messaging"][0]["read"]["watermark"] = (
            int(datetime.now(UTC).timestamp() * 1000) + 1000
        )
        body = json.dumps(read).encode()
        async with httpx.AsyncClient() as client:
            assert (await client.post(url, content=body, headers=_sign("app-s", body))).status_code == 200
        refreshed = await Message.get(id=outbound.id)
        assert refreshed.status == "read"
        channel.enabled = False
        await channel.save()
