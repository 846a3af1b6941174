"""WeChat Official Accounts: every fixture parsed to concrete values, the GET handshake, query
signatures with the replay window, Customer Service sends against the fake over real HTTP (the
cached access token, refreshed once when WeChat refuses it), WeChat's errors, and end to end."""

from __future__ import annotations

import asyncio
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
    ChannelCredentials,
    MalformedPayload,
    MessageKind,
    OutboundMessage,
    ParsedWebhook,
    SendError,
    WebhookRequest,
)
from connectors.wechat import ERRORS, wechat
from tests.fakes.wechat import FakeWeChat, signature, xml_body
from tests.helpers import connector_case

FIXTURES = Path(__file__).parent / "fixtures" / "wechat"
OPENID = "oABCD1234efgh5678ijkl9012mno"  # the fixtures' follower
APP_ID = "wx1234567890abcdef"
SERVER_TOKEN = "tok3nFromServerSettings"
CHANNEL = ChannelCredentials(11, {"app_id": APP_ID}, {"token": SERVER_TOKEN, "app_secret": "s"})
_channel_ids = iter(range(10_000_000 + uuid.uuid4().int % 10**6 * 100, 10**9))


def _request(body: bytes, query: dict[str, str] | None = None, method: str = "POST") -> WebhookRequest:
    return WebhookRequest(
        method, "https://x/webhooks/wechat/11", {"content-type": "text/xml"}, query or {}, body
    )


def parse_fixture(name: str) -> ParsedWebhook:
    return wechat.parse(_request((FIXTURES / name).read_bytes()), CHANNEL)


def signed_query(now: int, token: str = SERVER_TOKEN, nonce: str = "1405217261") -> dict[str, str]:
    return {"signature": signature(token, str(now), nonce), "timestamp": str(now), "nonce": nonce}


# ---- fixtures -------------------------------------------------------------------------------------


def test_text() -> None:
    parsed = parse_fixture("text.xml")
    assert parsed.reply is not None and (parsed.reply.status, parsed.reply.body) == (200, "success")
    (m,) = parsed.messages
    assert (m.platform_message_id, m.sender_id, m.kind, m.text) == (
        "24594010285737985",
        OPENID,
        MessageKind.TEXT,
        "你好, is the blue one in stock?",
    )
    assert m.sent_at == datetime.fromtimestamp(1750030069, UTC)
    assert m.sender_name is None and m.sender_phone is None and m.attachments == () and m.metadata == {}


def test_image() -> None:
    (m,) = parse_fixture("image.xml").messages
    assert (m.platform_message_id, m.kind, m.text) == ("24594010285737986", MessageKind.IMAGE, None)
    (a,) = m.attachments
    assert (a.kind, a.media_id) == (MessageKind.IMAGE, "MEDIA_ID_FAKE_IMAGE_0001")
    assert a.url == "http://mmbiz.qpic.cn/mmbiz_jpg/FAKEq0xL2nCib4Qy1Fake0AbCdEfGhIjKlMn/0"


def test_voice_with_recognition() -> None:
    (m,) = parse_fixture("voice.xml").messages
    assert (m.platform_message_id, m.kind, m.text) == (
        "24594010285737987",
        MessageKind.AUDIO,
        "我的订单到哪里了",
    )
    assert m.attachments[0].media_id == "MEDIA_ID_FAKE_VOICE_0001" and m.metadata == {"format": "amr"}


def test_location() -> None:
    (m,) = parse_fixture("location.xml").messages
    assert (m.platform_message_id, m.kind) == ("24594010285737988", MessageKind.LOCATION)
    assert m.text == "Location: 上海市黄浦区人民广场 (31.230416, 121.473701)"
    assert m.metadata["location"] == {
        "latitude": 31.230416,
        "longitude": 121.473701,
        "name": "上海市黄浦区人民广场",
        "scale": 15,
    }


@pytest.mark.parametrize("name", ["event_subscribe.xml", "event_unsubscribe.xml"])
def test_follow_events_store_nothing_but_are_acknowledged(name: str) -> None:
    parsed = parse_fixture(name)
    assert parsed.messages == () and parsed.statuses == () and parsed.reply is not None
    assert parsed.reply.body == "success"


def test_menu_click_is_a_postback() -> None:
    (m,) = parse_fixture("event_click.xml").messages
    assert (m.kind, m.text, m.metadata["payload"]) == (MessageKind.POSTBACK, "TALK_TO_AGENT", "TALK_TO_AGENT")
    assert m.platform_message_id == f"event:{OPENID}:1750030080:CLICK"  # stable: redeliveries dedupe
    assert m.sent_at == datetime.fromtimestamp(1750030080, UTC)


def test_every_fixture_is_covered_and_documented() -> None:
    names = sorted(p.name for p in FIXTURES.glob("*.xml"))
    assert names == [
        "event_click.xml",
        "event_subscribe.xml",
        "event_unsubscribe.xml",
        "image.xml",
        "location.xml",
        "text.xml",
        "voice.xml",
    ]
    readme = (FIXTURES / "README.md").read_text()
    assert readme.startswith("<!--") and all(name in readme.split("-->")[0] for name in names)


def test_other_message_types() -> None:
    def one(msg_type: str, fields: dict[str, str | int]) -> Any:
        (m,) = wechat.parse(_request(xml_body(OPENID, msg_type, {**fields, "MsgId": 7})), CHANNEL).messages
        return m

    video = one("shortvideo", {"MediaId": "V1", "ThumbMediaId": "T1"})
    assert (video.kind, video.attachments[0].media_id, video.metadata) == (
        MessageKind.VIDEO,
        "V1",
        {"thumb_media_id": "T1"},
    )
    link = one("link", {"Title": "Order 42", "Description": "d", "Url": "https://shop.example/42"})
    assert (link.kind, link.text) == (MessageKind.TEXT, "Order 42\nhttps://shop.example/42")
    silent_voice = one("voice", {"MediaId": "A1", "Format": "speex"})
    assert (silent_voice.kind, silent_voice.text) == (MessageKind.AUDIO, None)
    mini = one("miniprogrampage", {"Title": "x"})
    assert (mini.kind, mini.metadata) == (MessageKind.UNSUPPORTED, {"raw_type": "miniprogrampage"})
    assert one("text", {"Content": "<b>&amp;</b>"}).text == "<b>&amp;</b>"  # CDATA kept as written
    for event in ("VIEW", "SCAN", "LOCATION", "TEMPLATESENDJOBFINISH"):
        body = xml_body(OPENID, "event", {"Event": event, "EventKey": "k"})
        assert wechat.parse(_request(body), CHANNEL).messages == ()


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not xml",
        b"<xml><FromUserName>o1</FromUserName>",
        b"<root><FromUserName>o1</FromUserName><MsgType>text</MsgType></root>",
        b"<xml><MsgType>text</MsgType><MsgId>1</MsgId></xml>",
        b"<xml><FromUserName>o1</FromUserName><MsgType>text</MsgType><Content>hi</Content></xml>",
        b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaa">]><xml><FromUserName>&a;</FromUserName></xml>',
        b'<!doctype xml SYSTEM "file:///etc/passwd"><xml/>',
        b"<xml><ToUserName>gh</ToUserName><Encrypt><![CDATA[c2VjcmV0]]></Encrypt></xml>",
    ],
)
def test_malformed_bodies(body: bytes) -> None:
    with pytest.raises(MalformedPayload):
        wechat.parse(_request(body), CHANNEL)


def test_encrypted_bodies_say_how_to_fix_it() -> None:
    body = b"<xml><ToUserName>gh</ToUserName><Encrypt><![CDATA[c2VjcmV0]]></Encrypt></xml>"
    with pytest.raises(MalformedPayload, match="plaintext"):
        wechat.parse(_request(body), CHANNEL)


# ---- handshake and signatures ----------------------------------------------------------------------


def test_handshake() -> None:
    now = int(time.time())
    query = {**signed_query(now), "echostr": "5837397520665436492"}
    ok = wechat.handshake(_request(b"", query, "GET"), CHANNEL)
    assert ok is not None and (ok.status, ok.body, ok.content_type) == (
        200,
        "5837397520665436492",
        "text/plain",
    )
    for bad in (
        {**query, "nonce": "other"},
        {**query, "signature": "0" * 40},
        {**signed_query(now, token="wrong-token"), "echostr": "1"},
        {k: v for k, v in query.items() if k != "echostr"},
        {"echostr": "1"},
    ):
        reply = wechat.handshake(_request(b"", bad, "GET"), CHANNEL)
        assert reply is not None and reply.status == 403, bad
    assert wechat.handshake(_request(b"<xml/>", query), CHANNEL) is None  # POSTs are verified, not echoed


def test_signatures_and_the_replay_window() -> None:
    body = (FIXTURES / "text.xml").read_bytes()
    now = int(time.time())
    good = _request(body, signed_query(now))
    assert wechat.verify(good, CHANNEL, now=now)
    assert wechat.verify(good, CHANNEL, now=now + 300) and wechat.verify(good, CHANNEL, now=now - 300)
    assert not wechat.verify(good, CHANNEL, now=now + 301)  # replayed more than 5 minutes later
    assert not wechat.verify(good, CHANNEL, now=now - 301)  # or from too far in the future
    upper = _request(body, {**signed_query(now), "signature": signed_query(now)["signature"].upper()})
    assert wechat.verify(upper, CHANNEL, now=now)
    for query in (
        {},
        {k: v for k, v in signed_query(now).items() if k != "signature"},
        {k: v for k, v in signed_query(now).items() if k != "nonce"},
        {**signed_query(now), "timestamp": str(now + 1)},
        {**signed_query(now), "timestamp": "abc"},
        signed_query(now, token="another-token"),
    ):
        assert not wechat.verify(_request(body, query), CHANNEL, now=now), query
    no_token = ChannelCredentials(11, {"app_id": APP_ID}, {"app_secret": "s"})
    assert not wechat.verify(good, no_token, now=now)


def test_validate_config_and_capabilities() -> None:
    secrets = {"token": SERVER_TOKEN, "app_secret": "0123456789abcdef0123456789abcdef"}
    assert wechat.validate_config({"app_id": APP_ID}, secrets) == []
    assert wechat.validate_config({}, {}) == [
        "The AppID (app_id) is required; it is under Settings and Development > Basic settings.",
        "The server token (token) is required: 3 to 32 letters or digits, the same as in WeChat's server settings.",
        "The AppSecret (app_secret) is required to send messages.",
    ]
    assert wechat.validate_config(
        {"app_id": "gh_123", "api_base": "api.weixin.qq.com"}, {"token": "has-dash", "app_secret": "x"}
    ) == [
        'The AppID (app_id) must look like "wx" followed by 16 letters or digits.',
        "The server token (token) is required: 3 to 32 letters or digits, the same as in WeChat's server settings.",
        "The API base URL (api_base) must start with https:// or http://.",
    ]
    caps = wechat.capabilities
    assert caps.reply_window is not None and caps.reply_window.total_seconds() == 48 * 3600
    assert (caps.can_initiate, caps.buttons, caps.delivery_statuses, caps.read_statuses) == (
        False,
        False,
        False,
        False,
    )
    assert caps.max_attachments == 1 and wechat.max_text_length == 2000
    assert wechat.secret_names == ("token", "app_secret") and wechat.generated_secrets == ()


# ---- sending against the fake ---------------------------------------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeWeChat, ChannelCredentials]]:
    api = FakeWeChat(APP_ID, "app-secret-1", SERVER_TOKEN)
    api.follow(OPENID, wrote_at=time.time() - 3600)
    async with api.serve() as base:
        # a channel id of its own: the token cache is per channel and per process
        yield (
            api,
            ChannelCredentials(
                next(_channel_ids),
                {"app_id": APP_ID, "api_base": base},
                {"token": SERVER_TOKEN, "app_secret": "app-secret-1"},
            ),
        )


def text(body: str = "您好! Your parcel ships today.", key: str = "42", **kw: Any) -> OutboundMessage:
    return OutboundMessage(recipient_id=OPENID, kind=MessageKind.TEXT, idempotency_key=key, text=body, **kw)


async def _error(http: httpx.AsyncClient, channel: ChannelCredentials, message: OutboundMessage) -> SendError:
    with pytest.raises(SendError) as info:
        await wechat.send(http, channel, message)
    return info.value


async def test_text_and_the_cached_token(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    result = await wechat.send(http, channel, text())
    assert result.platform_message_id == "out:42"
    assert api.sent == [
        {"touser": OPENID, "msgtype": "text", "text": {"content": "您好! Your parcel ships today."}}
    ]
    await wechat.send(http, channel, text(key="43"))
    assert api.token_fetches == 1  # cached, not fetched per send
    # concurrent sends on a cold cache fetch once, not once each
    cold = ChannelCredentials(next(_channel_ids), channel.config, channel.secrets)
    await asyncio.gather(*(wechat.send(http, cold, text(key=str(i))) for i in range(5)))
    assert api.token_fetches == 2 and len(api.sent) == 7


async def test_expired_or_replaced_tokens_are_refreshed_once(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    await wechat.send(http, channel, text(key="1"))
    api.expire_tokens()  # 42001
    await wechat.send(http, channel, text(key="2"))
    assert api.token_fetches == 2
    api.revoke_tokens()  # 40001: another server fetched a token
    await wechat.send(http, channel, text(key="3"))
    assert api.token_fetches == 3 and len(api.sent) == 3
    api.fail_next_send(40001, times=2)  # refused even after the refresh: retried later, not looped
    stale = await _error(http, channel, text(key="4"))
    assert (stale.code, stale.retryable) == ("40001", True)
    assert api.token_fetches == 4 and len(api.sent) == 3


async def test_tokens_are_refreshed_before_they_expire(http) -> None:  # type: ignore[no-untyped-def]
    api = FakeWeChat(APP_ID, "s", SERVER_TOKEN, token_ttl=2)  # refreshed after ttl/2 = 1 s
    api.follow(OPENID, wrote_at=time.time())
    async with api.serve() as base:
        channel = ChannelCredentials(
            next(_channel_ids), {"app_id": APP_ID, "api_base": base}, {"app_secret": "s"}
        )
        await wechat.send(http, channel, text(key="1"))
        await wechat.send(http, channel, text(key="2"))
        assert api.token_fetches == 1
        await asyncio.sleep(1.1)
        await wechat.send(http, channel, text(key="3"))
        assert api.token_fetches == 2 and len(api.sent) == 3


async def test_media_goes_as_a_link_card(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    picture = Attachment(kind=MessageKind.IMAGE, url="https://cdn.example/blue.jpg")
    await wechat.send(http, channel, text("The blue one", attachments=(picture,)))
    assert api.sent[-1] == {
        "touser": OPENID,
        "msgtype": "news",
        "news": {
            "articles": [
                {
                    "title": "Picture",
                    "description": "The blue one",
                    "url": "https://cdn.example/blue.jpg",
                    "picurl": "https://cdn.example/blue.jpg",
                }
            ]
        },
    }
    invoice = Attachment(kind=MessageKind.DOCUMENT, url="https://cdn.example/i.pdf", filename="invoice.pdf")
    await wechat.send(http, channel, text("", attachments=(invoice,)))
    assert api.sent[-1]["news"]["articles"] == [
        {"title": "invoice.pdf", "description": "", "url": "https://cdn.example/i.pdf"}
    ]
    no_url = await _error(
        http, channel, text("x", attachments=(Attachment(kind=MessageKind.IMAGE, media_id="m"),))
    )
    assert (no_url.code, no_url.retryable) == ("no_media_url", False) and "uploaded" in no_url.reason


async def test_wechat_errors_are_classified(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    api.follow("o-late", wrote_at=time.time() - 49 * 3600)
    late = await _error(http, channel, OutboundMessage("o-late", MessageKind.TEXT, "1", text="hi"))
    assert (late.code, late.retryable, late.affects_channel) == ("45015", False, False)
    assert "48 hours" in late.reason
    api.fail_next_send(-1)
    busy = await _error(http, channel, text(key="2"))
    assert (busy.code, busy.retryable) == ("-1", True)
    api.fail_next_send(45011)
    minute = await _error(http, channel, text(key="3"))
    assert (minute.retryable, minute.retry_after) == (True, 60.0)
    api.max_replies = 1
    api.follow("o-chatty", wrote_at=time.time())
    await wechat.send(http, channel, OutboundMessage("o-chatty", MessageKind.TEXT, "4", text="one"))
    too_many = await _error(http, channel, OutboundMessage("o-chatty", MessageKind.TEXT, "5", text="two"))
    assert (too_many.code, too_many.retryable, too_many.reason) == ("45047", False, ERRORS[45047][2])
    api.unfollow(OPENID)
    gone = await _error(http, channel, text(key="6"))
    assert (gone.code, gone.retryable) == ("43004", False)
    stranger = await _error(http, channel, OutboundMessage("o-nobody", MessageKind.TEXT, "7", text="hi"))
    assert stranger.code == "40003"
    api.follow(OPENID, wrote_at=time.time())
    api.max_content_bytes = 2048
    big = await _error(http, channel, text("字" * 700, key="8"))  # 2100 bytes: within 2000 characters
    assert (big.code, big.retryable) == ("45002", False)
    api.fail_next_send(48001)
    unauthorized = await _error(http, channel, text(key="9"))
    assert (unauthorized.affects_channel, unauthorized.retryable) == (True, False)
    api.fail_next_send(99999)
    unknown = await _error(http, channel, text(key="10"))
    assert unknown.reason == "WeChat refused the message: error."  # rid stripped


async def test_credential_errors_affect_the_channel(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    wrong_secret = ChannelCredentials(next(_channel_ids), channel.config, {"app_secret": "nope"})
    secret = await _error(http, wrong_secret, text())
    assert (secret.code, secret.retryable, secret.affects_channel) == ("40125", False, True)
    assert "AppSecret" in secret.reason
    wrong_app = ChannelCredentials(
        next(_channel_ids), {**channel.config, "app_id": "wx0000000000000000"}, channel.secrets
    )
    assert (await _error(http, wrong_app, text())).code == "40013"
    api.fail_next_token(40164)
    ip = await _error(http, ChannelCredentials(next(_channel_ids), channel.config, channel.secrets), text())
    assert ip.affects_channel and "whitelist" in ip.reason
    api.fail_next_token(-1)
    busy = await _error(http, ChannelCredentials(next(_channel_ids), channel.config, channel.secrets), text())
    assert busy.retryable
    assert api.requests == 0  # none of these reached the send endpoint


async def test_refused_before_any_http_call(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    long = await _error(http, channel, text("x" * 2001))
    assert (long.code, long.retryable) == ("too_long", False) and "2000" in long.reason
    assert (await _error(http, channel, text("  "))).code == "empty"
    picture = Attachment(kind=MessageKind.IMAGE, url="https://cdn.example/a.jpg")
    assert (
        await _error(http, channel, text("x", attachments=(picture, picture)))
    ).code == "too_many_attachments"
    template = OutboundMessage(OPENID, MessageKind.TEMPLATE, "1", template={"name": "x"})
    assert (await _error(http, channel, template)).code == "unsupported_kind"
    assert api.token_fetches == 0 and api.requests == 0
    await wechat.send(http, channel, text("x" * 2000))
    assert len(api.sent) == 1


async def test_transport_errors_are_retryable(http) -> None:  # type: ignore[no-untyped-def]
    closed = ChannelCredentials(
        next(_channel_ids), {"app_id": APP_ID, "api_base": "http://127.0.0.1:9"}, {"app_secret": "s"}
    )
    error = await _error(http, closed, text())
    assert (error.code, error.retryable) == ("NETWORK_ERROR", True) and "127.0.0.1" not in error.reason


async def test_fake_is_strict(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    base = channel.config["api_base"]
    token = (
        await http.get(
            f"{base}/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": APP_ID, "secret": "app-secret-1"},
        )
    ).json()
    assert token["expires_in"] == 7200

    async def errcode(body: Any, access_token: str | None = token["access_token"]) -> int:
        params = {"access_token": access_token} if access_token else {}
        r = await http.post(f"{base}/cgi-bin/message/custom/send", params=params, json=body)
        assert r.status_code == 200  # WeChat answers errors with 200 too
        return r.json()["errcode"]

    good = {"touser": OPENID, "msgtype": "text", "text": {"content": "hi"}}
    assert await errcode(good, None) == 41001
    assert await errcode(good, "made-up") == 40001
    assert await errcode({**good, "msgtype": "voice"}) == 40008
    assert await errcode({**good, "text": {"content": " "}}) == 44004
    two = [{"title": "a", "url": "https://a"}, {"title": "b", "url": "https://b"}]
    assert await errcode({"touser": OPENID, "msgtype": "news", "news": {"articles": two}}) == 45008
    assert (
        await errcode({"touser": OPENID, "msgtype": "news", "news": {"articles": [{"url": "https://a"}]}})
        == 47001
    )
    assert api.sent == []
    assert await errcode(good) == 0
    # a new token leaves the old one valid only for the overlap
    api.overlap = 0
    await http.get(
        f"{base}/cgi-bin/token",
        params={"grant_type": "client_credential", "appid": APP_ID, "secret": "app-secret-1"},
    )
    assert await errcode(good) == 42001


# ---- end to end through the real app -------------------------------------------------------------------


async def test_end_to_end(server) -> None:  # type: ignore[no-untyped-def]
    from models import Message

    server_token = uuid.uuid4().hex
    api = FakeWeChat(APP_ID, "e2e-secret", server_token)
    openid = "o" + uuid.uuid4().hex[:27]
    secrets = {"token": server_token, "app_secret": "e2e-secret"}
    async with connector_case(server, api, "wechat", {"app_id": APP_ID}, secrets) as case:
        channel, url = case.channel, case.webhook
        # 1. saving the server settings: WeChat's signed GET must get its echostr back
        assert await api.check_server(url)
        assert not await api.check_server(url, token="not-the-token")
        assert api.webhook_responses[-1].status_code == 403

        # 2. the customer writes: "success", stored once however often WeChat retries
        body = api.text_body(openid, "你好, where is my order?")
        first = await api.post(url, body)
        assert (first.status_code, first.text) == (200, "success")
        assert (await api.post(url, body)).text == "success"
        (stored,) = await Message.filter(channel_id=channel.id)
        assert (stored.text, stored.direction) == ("你好, where is my order?", "inbound")

        # 3. forged (wrong token) and replayed (an hour old) posts are refused, nothing stored
        other = api.text_body(openid, "forged")
        assert (await api.post(url, other, token="not-the-token")).status_code == 401
        assert (await api.post(url, other, timestamp=int(time.time()) - 3600)).status_code == 401
        follow = await api.post(url, api.event_body(openid, "subscribe"))
        assert (follow.status_code, follow.text) == (200, "success")
        assert await Message.filter(channel_id=channel.id).count() == 1

        # 4. the agent replies: exactly one Customer Service request, with a fetched token
        reply, client_id = await case.reply(stored.conversation_id, "您好! It ships today.")
        assert reply.get("errors") is None
        outbound = await case.wait_for(client_id)
        assert api.sent == [
            {"touser": openid, "msgtype": "text", "text": {"content": "您好! It ships today."}}
        ]
        assert api.token_fetches == 1 and outbound.platform_message_id == f"out:{outbound.id}"

        # 5. a menu click is stored as a postback
        assert (await api.post(url, api.click_body(openid, "TALK_TO_AGENT"))).text == "success"
        click = await Message.get(channel_id=channel.id, kind=MessageKind.POSTBACK)
        assert (click.text, click.metadata["payload"]) == ("TALK_TO_AGENT", "TALK_TO_AGENT")

        # 6. outside the 48-hour window the send fails with WeChat's reason, once
        api.last_inbound[openid] = time.time() - 49 * 3600
        _, late_id = await case.reply(stored.conversation_id, "Still there?")
        late = await case.wait_for(late_id, "failed")
        assert late.error_code == "45015" and "48 hours" in (late.error_reason or "")
        assert len(api.sent) == 1
