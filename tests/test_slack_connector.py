"""Slack: every sample, v0 signatures with the 5-minute window, url_verification, bot loops
avoided, slash commands and buttons, sends against a fake Web API (errors as 200 ok:false, 429 with
Retry-After), and end to end in a thread."""

from __future__ import annotations

import time
import uuid

import httpx
import orjson
import pytest
from starlette.responses import JSONResponse, Response

from connectors.base import (
    Button,
    ChannelCredentials,
    MessageKind,
    OutboundMessage,
    SendError,
    WebhookRequest,
)
from connectors.fakes.slack import FakeSlack
from connectors.slack import slack
from models import Message, Role
from schema.relay import to_global_id
from tests.conftest import SAMPLES
from tests.helpers import eventually, gql, login, make_channel, make_user

CHANNEL = ChannelCredentials(5, {"team_id": "T0FAKE001"}, {"signing_secret": "sig", "bot_token": "xoxb-1"})


def _parse(name: str, content_type: str = "application/json"):  # type: ignore[no-untyped-def]
    body = (SAMPLES / "slack" / name).read_bytes()
    return slack.parse(WebhookRequest("POST", "https://x", {"content-type": content_type}, {}, body), CHANNEL)


def test_samples() -> None:
    (text,) = _parse("inbound_text.json").messages
    assert (text.platform_message_id, text.sender_id, text.reply_address, text.text) == (
        "D0FAKE001:1750030069.000200",
        "U0FAKEUSR1",
        "D0FAKE001",
        "Hello world",
    )
    (mention,) = _parse("inbound_app_mention.json").messages
    assert (
        mention.platform_message_id == "C0FAKECHN1:1750030070.000300"
        and mention.reply_address == "C0FAKECHN1"
    )
    (shared,) = _parse("inbound_file_share.json").messages
    assert shared.text == "Is this the blue one?" and shared.attachments[0].filename == "photo.jpg"
    assert shared.attachments[0].size == 93847 and shared.attachments[0].kind is MessageKind.IMAGE
    (edit,) = _parse("message_changed.json").edits
    assert (edit.platform_message_id, edit.text) == ("D0FAKE001:1750030069.000200", "Hello world (edited)")
    (reaction,) = _parse("reaction_added.json").messages
    assert reaction.kind is MessageKind.REACTION and reaction.metadata["emoji"] == ":thumbsup:"
    assert (
        _parse("url_verification.json").reply.body == "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    )
    (command,) = _parse("_official_doc_slash_command.form", "application/x-www-form-urlencoded").messages
    assert command.text == "/webhook-collect" and command.reply_address == "G8PSS9T3V"


def test_bot_messages_are_not_customers() -> None:
    event = orjson.loads((SAMPLES / "slack" / "inbound_text.json").read_bytes())
    event["event"]["bot_id"] = "B1"
    parsed = slack.parse(WebhookRequest("POST", "https://x", {}, {}, orjson.dumps(event)), CHANNEL)
    assert parsed.messages == ()
    event["event"].pop("bot_id")
    event["event"]["user"] = "U0BOT0001"  # our own bot user, from the authorizations
    assert (
        slack.parse(WebhookRequest("POST", "https://x", {}, {}, orjson.dumps(event)), CHANNEL).messages == ()
    )


def test_replay_window() -> None:
    body = (SAMPLES / "slack" / "inbound_text.json").read_bytes()
    now = int(time.time())
    headers = {k.lower(): v for k, v in FakeSlack.signed(body, "sig", now).items()}
    request = WebhookRequest("POST", "https://x", headers, {}, body)
    assert slack.verify(request, CHANNEL, now=now)
    assert slack.verify(request, CHANNEL, now=now + 299)
    assert not slack.verify(request, CHANNEL, now=now + 301)
    assert not slack.verify(request, CHANNEL, now=now - 301)


async def test_sends_and_errors() -> None:
    fake = FakeSlack("xoxb-good")
    fake.channels.add("D1")
    async with fake.serve() as base, httpx.AsyncClient() as http:
        creds = ChannelCredentials(
            5, {"team_id": "T1", "api_base": base}, {"signing_secret": "s", "bot_token": "xoxb-good"}
        )
        out = OutboundMessage(
            "D1",
            MessageKind.TEXT,
            "1",
            text="Which one?",
            buttons=(Button("a", "Blue"),),
            metadata={"thread_ts": "1.2"},
        )
        result = await slack.send(http, creds, out)
        sent = fake.sent[-1]
        assert result.platform_message_id == f"D1:{sent['_ts']}" and sent["thread_ts"] == "1.2"
        assert sent["blocks"][-1]["elements"][0]["value"] == "a"
        fake.fail_next(Response(status_code=429, headers={"Retry-After": "7"}))
        with pytest.raises(SendError) as limited:
            await slack.send(http, creds, OutboundMessage("D1", MessageKind.TEXT, "2", text="x"))
        assert limited.value.retryable and limited.value.retry_after == 7
        fake.fail_next(JSONResponse({"ok": False, "error": "ratelimited"}))
        with pytest.raises(SendError) as soft:
            await slack.send(http, creds, OutboundMessage("D1", MessageKind.TEXT, "3", text="x"))
        assert soft.value.retryable
        with pytest.raises(SendError) as missing:
            await slack.send(http, creds, OutboundMessage("D404", MessageKind.TEXT, "4", text="x"))
        assert missing.value.code == "channel_not_found" and not missing.value.retryable
        bad = ChannelCredentials(5, creds.config, {"signing_secret": "s", "bot_token": "xoxb-bad"})
        with pytest.raises(SendError) as auth:
            await slack.send(http, bad, OutboundMessage("D1", MessageKind.TEXT, "5", text="x"))
        assert auth.value.affects_channel


async def test_end_to_end_in_a_thread(server) -> None:  # type: ignore[no-untyped-def]
    fake = FakeSlack("xoxb-e2e")
    dm = "D" + uuid.uuid4().hex[:8].upper()
    fake.channels.add(dm)
    async with fake.serve() as base:
        channel = await make_channel(
            "slack",
            {"team_id": "T0FAKE001", "api_base": base},
            {"signing_secret": "ss", "bot_token": "xoxb-e2e"},
        )
        url = f"{server}/webhooks/slack/{channel.id}"
        event = FakeSlack.message_event("U" + uuid.uuid4().hex[:8].upper(), dm, "Can I change my plan?")
        event["event"]["thread_ts"] = "1750000000.000100"
        assert (await fake.post_event(url, event, "ss")).status_code == 200
        assert (await fake.post_event(url, event, "ss", **{"X-Slack-Retry-Num": "1"})).status_code == 200
        assert (await fake.post_event(url, event, "wrong")).status_code == 401
        stale = orjson.dumps(event)
        async with httpx.AsyncClient() as client:
            replayed = await client.post(
                url, content=stale, headers=FakeSlack.signed(stale, "ss", int(time.time()) - 600)
            )
        assert replayed.status_code == 401
        (stored,) = await Message.filter(channel_id=channel.id)
        challenge = await fake.post_event(
            url, {"type": "url_verification", "challenge": "abc", "token": "x"}, "ss"
        )
        assert challenge.text == "abc"

        token = await login(server, await make_user(Role.AGENT))
        reply = {
            "conversationId": to_global_id("Conversation", stored.conversation_id),
            "clientMessageId": str(uuid.uuid4()),
            "text": "Sure!",
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
            lambda: Message.filter(channel_id=channel.id, text="Sure!", status="sent").first(), timeout=20
        )
        assert fake.sent[-1]["channel"] == dm and fake.sent[-1]["thread_ts"] == "1750000000.000100"
        channel.enabled = False
        await channel.save()
