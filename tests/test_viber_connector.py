"""Viber: samples (with 64-bit message tokens kept exact), signatures, receipts, sends with Viber's
status codes, set_webhook's live check, and end to end with delivered and seen."""

from __future__ import annotations

import uuid

import httpx
import orjson
import pytest

from connectors.base import (
    ChannelCredentials,
    DeliveryStatus,
    MessageKind,
    OutboundMessage,
    SendError,
    WebhookRequest,
)
from connectors.fakes.viber import FakeViber
from connectors.viber import viber
from models import Message, Role
from schema.relay import to_global_id
from tests.conftest import SAMPLES
from tests.helpers import eventually, gql, login, make_channel, make_user

CHANNEL = ChannelCredentials(9, {"sender_name": "Acme"}, {"auth_token": "tok"})


def _parse(name: str):  # type: ignore[no-untyped-def]
    return viber.parse(
        WebhookRequest("POST", "https://x", {}, {}, (SAMPLES / "viber" / name).read_bytes()), CHANNEL
    )


def test_samples() -> None:
    (text,) = _parse("inbound_text.json").messages
    assert text.platform_message_id == "5741311803571721088"  # exact: more than 2^53
    assert (text.sender_id, text.sender_name, text.text) == (
        "01234567890A=",
        "John McClane",
        "a message to the service",
    )
    assert text.metadata["country"] == "GB"
    (picture,) = _parse("inbound_picture.json").messages
    assert (
        picture.kind is MessageKind.IMAGE
        and picture.text == "Is this the blue one?"
        and picture.attachments[0].url
    )
    assert [s.status for s in _parse("status_delivered.json").statuses] == [DeliveryStatus.DELIVERED]
    assert [s.status for s in _parse("status_seen.json").statuses] == [DeliveryStatus.READ]
    (failed,) = _parse("status_failed.json").statuses
    assert failed.status is DeliveryStatus.FAILED and failed.error_detail == "failure description"
    for quiet in (
        "webhook_setup_callback.json",
        "subscribed.json",
        "unsubscribed.json",
        "conversation_started.json",
    ):
        assert _parse(quiet) == type(_parse(quiet))()


async def test_sends_and_status_codes() -> None:
    fake = FakeViber("tok")
    fake.subscribers.add("u1")
    async with fake.serve() as base, httpx.AsyncClient() as http:
        creds = ChannelCredentials(9, {"sender_name": "Acme", "api_base": base}, {"auth_token": "tok"})
        result = await viber.send(http, creds, OutboundMessage("u1", MessageKind.TEXT, "7", text="hello"))
        assert (
            result.platform_message_id == str(fake.sent[-1]["_token"])
            and fake.sent[-1]["tracking_data"] == "7"
        )
        with pytest.raises(SendError) as unsubscribed:
            await viber.send(http, creds, OutboundMessage("stranger", MessageKind.TEXT, "8", text="hi"))
        assert not unsubscribed.value.retryable and "subscribed" in unsubscribed.value.reason
        fake.throttle_next = 1
        with pytest.raises(SendError) as throttled:
            await viber.send(http, creds, OutboundMessage("u1", MessageKind.TEXT, "9", text="hi"))
        assert throttled.value.retryable
        bad = ChannelCredentials(9, creds.config, {"auth_token": "nope"})
        with pytest.raises(SendError) as auth:
            await viber.send(http, bad, OutboundMessage("u1", MessageKind.TEXT, "10", text="hi"))
        assert auth.value.affects_channel


async def test_end_to_end_with_receipts(server) -> None:  # type: ignore[no-untyped-def]
    fake = FakeViber("e2e-token")
    async with fake.serve() as base:
        channel = await make_channel(
            "viber", {"sender_name": "Acme", "api_base": base}, {"auth_token": "e2e-token"}
        )
        url = f"{server}/webhooks/viber/{channel.id}"
        async with httpx.AsyncClient() as http:  # set_webhook: Viber calls our URL and wants a 200
            await viber.register_webhook(
                http, ChannelCredentials(channel.id, channel.config, {"auth_token": "e2e-token"}), url
            )
        assert fake.webhook == url
        user = uuid.uuid4().hex[:10] + "A="
        fake.subscribers.add(user)
        body = fake.message(user, "Hi Viber")
        assert (await fake.post(url, body)).status_code == 200
        assert (await fake.post(url, body)).status_code == 200
        assert (await fake.post(url, body, signature="0" * 64)).status_code == 401
        (stored,) = await Message.filter(channel_id=channel.id)
        token = await login(server, await make_user(Role.AGENT))
        reply = {
            "conversationId": to_global_id("Conversation", stored.conversation_id),
            "clientMessageId": str(uuid.uuid4()),
            "text": "Hello!",
        }
        assert (
            await gql(
                server,
                "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }",
                {"input": reply},
                token,
            )
        ).get("errors") is None
        sent = await eventually(
            lambda: Message.filter(channel_id=channel.id, text="Hello!", status="sent").first(), timeout=20
        )
        for event in ("delivered", "seen"):
            receipt = orjson.dumps(
                {
                    "event": event,
                    "timestamp": 1750030072123,
                    "message_token": int(sent.platform_message_id),
                    "user_id": user,
                }
            )
            assert (await fake.post(url, receipt)).status_code == 200
        assert (await Message.get(id=sent.id)).status == "read"
        channel.enabled = False
        await channel.save()
