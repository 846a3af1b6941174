"""Telegram: every sample, the secret-token header, sends against a fake Bot API as strict as the
real one, and end to end through the app — including the cross-platform story: a customer who wrote
on WhatsApp and on Telegram is merged, and the agent answers on Telegram."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest

from connectors.base import (
    Button,
    ChannelCredentials,
    MessageKind,
    OutboundMessage,
    SendError,
    WebhookRequest,
)
from connectors.fakes.telegram import FakeTelegram, _error
from connectors.telegram import telegram
from models import Conversation, Message, Role
from schema.relay import to_global_id
from tests.conftest import SAMPLES
from tests.helpers import eventually, gql, login, make_channel, make_user, post_webhook, wa_text_payload

TG = SAMPLES / "telegram"
TOKEN = "7000000001:AAfakeTokenForTests"
CHANNEL = ChannelCredentials(channel_id=3, config={}, secrets={"bot_token": TOKEN, "secret_token": "s3cret"})


def _parse(name: str):  # type: ignore[no-untyped-def]
    body = (TG / name).read_bytes()
    return telegram.parse(WebhookRequest("POST", "https://x/webhooks/telegram/3", {}, {}, body), CHANNEL)


def test_text_photo_document_command_and_group() -> None:
    (text,) = _parse("inbound_text.json").messages
    assert (text.platform_message_id, text.sender_id, text.text, text.sender_name) == (
        "123456789:4521",
        "123456789",
        "Hello bot",
        "Jane Doe",
    )
    assert text.reply_address is None and text.sent_at == datetime.fromtimestamp(1750030069, UTC)
    (photo,) = _parse("inbound_photo.json").messages
    assert photo.kind is MessageKind.IMAGE and photo.attachments[0].size == 93847  # the largest size
    assert photo.attachments[0].media_id.startswith("AgACAgIAAxkBAAIBXmZfakeFileIdLarge")
    (document,) = _parse("inbound_document.json").messages
    assert document.kind is MessageKind.DOCUMENT and document.attachments[0].filename
    (command,) = _parse("inbound_command.json").messages
    assert command.metadata["command"] == "start"
    (group,) = _parse("inbound_group_text.json").messages
    assert group.reply_address is not None and group.reply_address.startswith("-")
    assert group.platform_message_id.startswith(group.reply_address + ":")


def test_edits_buttons_and_reactions() -> None:
    (edit,) = _parse("edited_message.json").edits
    assert edit.platform_message_id.startswith("123456789:") and edit.text
    (press,) = _parse("callback_query.json").messages
    assert (
        press.kind is MessageKind.POSTBACK
        and press.text == "Yes"
        and press.metadata["payload"] == "confirm:12345"
    )
    assert press.platform_message_id == "callback:4382bfdwdsb323b2d9"
    (reaction,) = _parse("message_reaction.json").messages
    assert reaction.kind is MessageKind.REACTION and reaction.metadata == {
        "emoji": "👍",
        "target_platform_id": "123456789:4530",
    }


def test_secret_token_header() -> None:
    body = (TG / "inbound_text.json").read_bytes()

    def request(headers: dict[str, str]) -> WebhookRequest:
        return WebhookRequest("POST", "https://x", headers, {}, body)

    assert telegram.verify(request({"x-telegram-bot-api-secret-token": "s3cret"}), CHANNEL, now=0)
    assert not telegram.verify(request({"x-telegram-bot-api-secret-token": "s3cret-not"}), CHANNEL, now=0)
    assert not telegram.verify(request({}), CHANNEL, now=0)
    assert not telegram.verify(
        request({"x-telegram-bot-api-secret-token": ""}), ChannelCredentials(3, {}, {}), now=0
    )


def test_config_problems_are_sentences() -> None:
    assert telegram.validate_config({}, {"bot_token": TOKEN, "secret_token": "ok_-1"}) == []
    problems = telegram.validate_config(
        {"api_base": "ftp://x"}, {"bot_token": "nope", "secret_token": "bad token!"}
    )
    assert len(problems) == 3 and all(p.endswith(".") for p in problems)


@pytest.fixture
async def bot_api():  # type: ignore[no-untyped-def]
    fake = FakeTelegram()
    fake.add_bot(TOKEN)
    async with fake.serve() as base:
        yield fake, ChannelCredentials(channel_id=3, config={"api_base": base}, secrets=dict(CHANNEL.secrets))


def _out(to: int | str, text: str = "hello", **kw) -> OutboundMessage:  # type: ignore[no-untyped-def]
    return OutboundMessage(recipient_id=str(to), kind=MessageKind.TEXT, idempotency_key="1", text=text, **kw)


async def test_sends_text_media_and_buttons(bot_api) -> None:  # type: ignore[no-untyped-def]
    fake, creds = bot_api
    fake.start_chat(42)
    async with httpx.AsyncClient() as http:
        result = await telegram.send(http, creds, _out(42, "hi", reply_to_platform_id="42:7"))
        assert result.platform_message_id == f"42:{fake.sent[-1]['_message_id']}"
        assert fake.sent[-1]["reply_parameters"]["message_id"] == 7
        from connectors.base import Attachment

        photo = OutboundMessage(
            recipient_id="42",
            kind=MessageKind.IMAGE,
            idempotency_key="2",
            text="look",
            attachments=(Attachment(kind=MessageKind.IMAGE, url="https://cdn.example.com/a.jpg"),),
        )
        await telegram.send(http, creds, photo)
        assert fake.sent[-1]["_method"] == "sendPhoto" and fake.sent[-1]["caption"] == "look"
        await telegram.send(
            http,
            creds,
            _out(42, "pick", buttons=(Button("a", "A"), Button("site", "Site", "https://x.example"))),
        )
        keyboard = fake.sent[-1]["reply_markup"]["inline_keyboard"]
        assert keyboard == [
            [{"text": "A", "callback_data": "a"}],
            [{"text": "Site", "url": "https://x.example"}],
        ]


async def test_send_errors_are_classified(bot_api) -> None:  # type: ignore[no-untyped-def]
    fake, creds = bot_api
    fake.start_chat(42)
    async with httpx.AsyncClient() as http:
        fake.fail_next(_error(429, "Too Many Requests: retry after 35", retry_after=35))
        with pytest.raises(SendError) as limited:
            await telegram.send(http, creds, _out(42))
        assert limited.value.retryable and limited.value.retry_after == 35
        fake.blocked.add(42)
        with pytest.raises(SendError) as blocked:
            await telegram.send(http, creds, _out(42))
        assert not blocked.value.retryable and "blocked" in blocked.value.reason
        with pytest.raises(SendError) as unknown:
            await telegram.send(http, creds, _out(99))
        assert not unknown.value.retryable and "started the bot" in unknown.value.reason
        bad = ChannelCredentials(3, creds.config, {"bot_token": "1:wrong", "secret_token": "s"})
        with pytest.raises(SendError) as token:
            await telegram.send(http, bad, _out(42))
        assert token.value.affects_channel and not token.value.retryable
        with pytest.raises(SendError) as long:
            await telegram.send(http, creds, _out(42, "x" * 4097))
        assert long.value.code == "too_long"
        await telegram.register_webhook(http, creds, "https://pytake.example/webhooks/telegram/3")
        assert (
            fake.sent[-1]["secret_token"] == "s3cret"
            and "message_reaction" in fake.sent[-1]["allowed_updates"]
        )


# ---- end to end ---------------------------------------------------------------------------------

SEND = """mutation($input: SendMessageInput!) { sendMessage(input: $input) { id status platform } }"""
MERGE = """mutation($s: ID!, $t: ID!) { mergeCustomers(sourceId: $s, targetId: $t) { id } }"""
TARGETS = """query($id: ID!) { node(id: $id) { ... on Conversation { replyTargets { channelId available reason } } } }"""


async def test_webhook_reply_and_cross_platform_answer(server, wa, bot_api) -> None:  # type: ignore[no-untyped-def]
    fake, creds = bot_api
    channel = await make_channel("telegram", {"api_base": creds.config["api_base"]}, dict(creds.secrets))
    url = f"{server}/webhooks/telegram/{channel.id}"
    user_id = 10_000_000 + uuid.uuid4().int % 10_000_000
    fake.start_chat(user_id)

    update = fake.text_update(user_id, "Hi from Telegram")
    assert (await fake.post_update(url, update, "s3cret")).status_code == 200
    assert (await fake.post_update(url, update, "s3cret")).status_code == 200  # Telegram retried
    stored = await Message.filter(channel_id=channel.id, text="Hi from Telegram")
    assert len(stored) == 1
    forged = fake.text_update(user_id, "forged")
    assert (await fake.post_update(url, forged, "wrong")).status_code == 401
    assert not await Message.filter(text="forged").exists()

    # The same person wrote on WhatsApp; Telegram does not vouch for a phone, so an agent merges.
    whatsapp, secrets, _ = wa
    phone = "4479" + str(uuid.uuid4().int)[:8]
    body = wa_text_payload(whatsapp.config["phone_number_id"], phone, "Same person, on WhatsApp")
    assert (await post_webhook(server, whatsapp, secrets["app_secret"], body)).status_code == 200
    wa_message = await Message.get(text="Same person, on WhatsApp")
    wa_conversation = await Conversation.get(id=wa_message.conversation_id)
    tg_conversation = await Conversation.get(id=stored[0].conversation_id)
    token = await login(server, await make_user(Role.AGENT))
    cid = to_global_id("Conversation", wa_conversation.id)

    targets = {
        t["channelId"]: t
        for t in (await gql(server, TARGETS, {"id": cid}, token))["data"]["node"]["replyTargets"]
    }
    assert not targets[to_global_id("Channel", channel.id)]["available"]  # not this customer's, yet
    merged = await gql(
        server,
        MERGE,
        {
            "s": to_global_id("Customer", tg_conversation.customer_id),
            "t": to_global_id("Customer", wa_conversation.customer_id),
        },
        token,
    )
    assert merged.get("errors") is None, merged
    targets = {
        t["channelId"]: t
        for t in (await gql(server, TARGETS, {"id": cid}, token))["data"]["node"]["replyTargets"]
    }
    assert targets[to_global_id("Channel", channel.id)]["available"]

    reply = {
        "conversationId": cid,
        "clientMessageId": str(uuid.uuid4()),
        "text": "Answering you on Telegram",
        "channelId": to_global_id("Channel", channel.id),
    }
    sent = await gql(server, SEND, {"input": reply}, token)
    assert sent["data"]["sendMessage"]["platform"] == "TELEGRAM", sent

    async def received():  # type: ignore[no-untyped-def]
        return [s for s in fake.sent if s.get("text") == "Answering you on Telegram"]

    (request,) = await eventually(received, timeout=20)
    assert request["chat_id"] == str(user_id) and request["_method"] == "sendMessage"
    outbound = await eventually(
        lambda: Message.filter(
            conversation_id=wa_conversation.id, status="sent", text="Answering you on Telegram"
        ).first()
    )
    assert outbound.platform_message_id == f"{user_id}:{request['_message_id']}"
    timeline = [m.platform for m in await Message.filter(conversation_id=wa_conversation.id).order_by("id")]
    assert timeline == ["whatsapp", "telegram"]
    channel.enabled = False  # keep other tests' reply targets short
    await channel.save()
