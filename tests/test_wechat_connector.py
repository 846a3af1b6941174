"""WeChat Official Accounts: the GET handshake, signed XML with a replay window, messages and menu
clicks, Customer Service sends with a cached access token refreshed once when WeChat rejects it,
the 48-hour window, and end to end."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest

from connectors.base import ChannelCredentials, MessageKind, OutboundMessage, SendError, WebhookRequest
from connectors.fakes.wechat import FakeWeChat, signature
from connectors.wechat import wechat
from models import Message, Role
from schema.relay import to_global_id
from tests.helpers import eventually, gql, login, make_channel, make_user

FIXTURES = Path(__file__).parent / "fixtures" / "wechat"
CHANNEL = ChannelCredentials(11, {"app_id": "wx123"}, {"token": "tok3n", "app_secret": "s"})


def _parse(name: str):  # type: ignore[no-untyped-def]
    return wechat.parse(WebhookRequest("POST", "https://x", {}, {}, (FIXTURES / name).read_bytes()), CHANNEL)


def test_fixtures() -> None:
    text = _parse("text.xml")
    (message,) = text.messages
    assert (message.platform_message_id, message.sender_id, message.text) == (
        "24594010285737985",
        "oABCD1234efgh5678ijkl9012mnop",
        "你好, is the blue one in stock?",
    )
    assert text.reply.body == "success"
    (image,) = _parse("image.xml").messages
    assert image.kind is MessageKind.IMAGE and image.attachments[0].media_id == "MEDIA_ID_FAKE_IMAGE_0001"
    (voice,) = _parse("voice.xml").messages
    assert voice.kind is MessageKind.AUDIO and voice.text == "where is my order"
    (location,) = _parse("location.xml").messages
    assert location.kind is MessageKind.LOCATION and location.metadata["location"]["latitude"] == "31.230416"
    assert _parse("event_subscribe.xml").messages == ()
    (click,) = _parse("event_click.xml").messages
    assert click.kind is MessageKind.POSTBACK and click.metadata["payload"] == "TALK_TO_AGENT"
    with pytest.raises(Exception, match="DTD"):
        wechat.parse(
            WebhookRequest("POST", "https://x", {}, {}, b'<!DOCTYPE x [<!ENTITY a "b">]><xml/>'), CHANNEL
        )


def test_handshake_and_replay_window() -> None:
    now = int(time.time())
    query = {
        "signature": signature("tok3n", str(now), "n1"),
        "timestamp": str(now),
        "nonce": "n1",
        "echostr": "hello",
    }
    assert wechat.handshake(WebhookRequest("GET", "https://x", {}, query, b""), CHANNEL).body == "hello"
    assert (
        wechat.handshake(
            WebhookRequest("GET", "https://x", {}, {**query, "nonce": "n2"}, b""), CHANNEL
        ).status
        == 403
    )
    post = WebhookRequest("POST", "https://x", {}, query, b"<xml/>")
    assert wechat.verify(post, CHANNEL, now=now)
    assert not wechat.verify(post, CHANNEL, now=now + 301)


async def test_sends_refresh_the_token_once() -> None:
    fake = FakeWeChat("wx123", "secret-1")
    fake.followers.add("o1")
    async with fake.serve() as base, httpx.AsyncClient() as http:
        creds = ChannelCredentials(
            1100 + uuid.uuid4().int % 1000,
            {"app_id": "wx123", "api_base": base},
            {"token": "t0k", "app_secret": "secret-1"},
        )
        out = OutboundMessage("o1", MessageKind.TEXT, "42", text="hello")
        assert (await wechat.send(http, creds, out)).platform_message_id == "wechat:42"
        await wechat.send(http, creds, out)
        assert fake.token_fetches == 1  # cached
        fake.expire_token()
        await wechat.send(http, creds, out)
        assert fake.token_fetches == 2 and len(fake.sent) == 3
        fake.window_closed.add("o1")
        with pytest.raises(SendError) as late:
            await wechat.send(http, creds, out)
        assert not late.value.retryable and "48 hours" in late.value.reason
        wrong = ChannelCredentials(creds.channel_id + 1, creds.config, {"token": "t0k", "app_secret": "nope"})
        with pytest.raises(SendError) as auth:
            await wechat.send(http, wrong, out)
        assert auth.value.affects_channel


async def test_end_to_end(server) -> None:  # type: ignore[no-untyped-def]
    fake = FakeWeChat("wxe2e", "e2e-secret")
    openid = "o" + uuid.uuid4().hex[:27]
    fake.followers.add(openid)
    async with fake.serve() as base:
        channel = await make_channel(
            "wechat", {"app_id": "wxe2e", "api_base": base}, {"token": "e2etoken", "app_secret": "e2e-secret"}
        )
        url = f"{server}/webhooks/wechat/{channel.id}"
        body = FakeWeChat.text_xml(openid, "你好")
        first = await FakeWeChat.post(url, body, "e2etoken")
        assert first.status_code == 200 and first.text == "success"
        assert (await FakeWeChat.post(url, body, "e2etoken")).status_code == 200
        assert (await FakeWeChat.post(url, body, "wrong")).status_code == 401
        assert (
            await FakeWeChat.post(url, body, "e2etoken", timestamp=int(time.time()) - 3600)
        ).status_code == 401
        (stored,) = await Message.filter(channel_id=channel.id)
        token = await login(server, await make_user(Role.AGENT))
        reply = {
            "conversationId": to_global_id("Conversation", stored.conversation_id),
            "clientMessageId": str(uuid.uuid4()),
            "text": "您好!",
        }
        assert (
            await gql(
                server,
                "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }",
                {"input": reply},
                token,
            )
        ).get("errors") is None
        await eventually(
            lambda: Message.filter(channel_id=channel.id, text="您好!", status="sent").first(), timeout=20
        )
        assert fake.sent[-1] == {"touser": openid, "msgtype": "text", "text": {"content": "您好!"}}
        channel.enabled = False
        await channel.save()
