"""The webhook door: the handshake, signatures over raw bytes, bad input refused with nothing
stored, redeliveries stored once, and every WhatsApp sample understood."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from models import Message, OrphanStatus
from tests.conftest import SAMPLES
from tests.helpers import post_webhook, sign, wa_text_payload


async def _count(channel) -> int:  # type: ignore[no-untyped-def]
    return await Message.filter(channel_id=channel.id).count()


async def test_verification_handshake(server, wa):
    channel, secrets, _ = wa
    url = f"{server}/webhooks/whatsapp/{channel.id}"
    async with httpx.AsyncClient() as client:
        ok = await client.get(
            url,
            params={
                "hub.mode": "subscribe",
                "hub.verify_token": secrets["verify_token"],
                "hub.challenge": "1158201444",
            },
        )
        bad = await client.get(
            url, params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1158201444"}
        )
    assert (ok.status_code, ok.text) == (200, "1158201444")
    assert bad.status_code == 403


async def test_bad_or_missing_signature_is_refused_and_nothing_stored(server, wa):
    channel, secrets, _ = wa
    body = wa_text_payload(channel.config["phone_number_id"], "16505550100", "hello")
    url = f"{server}/webhooks/whatsapp/{channel.id}"
    async with httpx.AsyncClient() as client:
        missing = await client.post(url, content=body, headers={"Content-Type": "application/json"})
        forged = await client.post(
            url, content=body, headers={"X-Hub-Signature-256": sign("wrong-secret", body)}
        )
        tampered = await client.post(
            url,
            content=body.replace(b"hello", b"hellO"),
            headers={"X-Hub-Signature-256": sign(secrets["app_secret"], body)},
        )
    assert [r.status_code for r in (missing, forged, tampered)] == [401, 401, 401]
    assert missing.json()["error"]["code"] == "BAD_SIGNATURE"
    assert await _count(channel) == 0


async def test_malformed_unknown_channel_and_oversized(server, wa):
    channel, secrets, _ = wa
    garbage = b'{"object": "whatsapp_business_account", "entry": [ oops'
    malformed = await post_webhook(server, channel, secrets["app_secret"], garbage)
    assert malformed.status_code == 400
    assert malformed.json()["error"]["code"] == "MALFORMED_PAYLOAD"
    async with httpx.AsyncClient() as client:
        unknown = await client.post(f"{server}/webhooks/whatsapp/999999999", content=b"{}")
        not_a_number = await client.post(f"{server}/webhooks/whatsapp/abc", content=b"{}")
        unknown_platform = await client.post(f"{server}/webhooks/myspace/{channel.id}", content=b"{}")
        huge = b'{"x":"' + b"a" * (3 * 1024 * 1024) + b'"}'
        oversized = await client.post(
            f"{server}/webhooks/whatsapp/{channel.id}",
            content=huge,
            headers={"X-Hub-Signature-256": sign(secrets["app_secret"], huge)},
        )
    assert (unknown.status_code, not_a_number.status_code, unknown_platform.status_code) == (404, 404, 404)
    assert oversized.status_code == 413
    assert await _count(channel) == 0


async def test_redelivered_webhook_stores_nothing_new(server, wa):
    channel, secrets, _ = wa
    wamid = f"wamid.{uuid.uuid4().hex}"
    body = wa_text_payload(channel.config["phone_number_id"], "16505550101", "once only", wamid=wamid)
    first = await post_webhook(server, channel, secrets["app_secret"], body)
    again = await post_webhook(server, channel, secrets["app_secret"], body)
    assert (first.status_code, again.status_code) == (200, 200)
    assert await Message.filter(channel_id=channel.id, platform_message_id=wamid).count() == 1


async def test_concurrent_duplicates_and_same_customer_race(server, wa):
    """Meta retries while the first delivery is still being processed; and one customer sends
    several messages at once: one copy each, all in one conversation."""
    import asyncio

    channel, secrets, _ = wa
    pn = channel.config["phone_number_id"]
    wamid = f"wamid.{uuid.uuid4().hex}"
    dup = wa_text_payload(pn, "16505550102", "dup", wamid=wamid)
    burst = [wa_text_payload(pn, "16505550102", f"burst {i}") for i in range(8)]
    results = await asyncio.gather(
        *[post_webhook(server, channel, secrets["app_secret"], b) for b in [dup] * 5 + burst]
    )
    assert all(r.status_code == 200 for r in results)
    messages = await Message.filter(channel_id=channel.id)
    assert len(messages) == 9
    assert len({m.conversation_id for m in messages}) == 1


def _sample(name: str, phone_number_id: str) -> bytes:
    data = json.loads((SAMPLES / "whatsapp" / name).read_text())
    for entry in data["entry"]:
        for change in entry["changes"]:
            change["value"]["metadata"]["phone_number_id"] = phone_number_id
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    ("sample", "kind", "text"),
    [
        ("inbound_text.json", "text", "Does it come in another color?"),
        ("inbound_image.json", "image", "Is this the blue one?"),
        ("inbound_button_reply.json", "interactive", "Confirm"),
        ("inbound_reaction.json", "reaction", None),
        ("inbound_reply_with_context.json", "text", "Yes please, size M"),
    ],
)
async def test_every_inbound_sample_is_stored(server, wa, sample, kind, text):
    channel, secrets, _ = wa
    response = await post_webhook(
        server, channel, secrets["app_secret"], _sample(sample, channel.config["phone_number_id"])
    )
    assert response.status_code == 200
    stored = await Message.get(channel_id=channel.id)
    assert stored.kind == kind
    assert stored.direction == "inbound"
    if text:
        assert stored.text == text
    if kind == "image":
        assert stored.attachments[0]["media_id"] == "1003383421387256"
        assert stored.attachments[0]["mime_type"] == "image/jpeg"
    if sample == "inbound_reply_with_context.json":
        assert stored.reply_to_platform_id == "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA"
    if kind == "reaction":
        assert stored.metadata["emoji"] == "\U0001f44d"


async def test_status_sample_for_unknown_message_is_kept_for_later(server, wa):
    channel, secrets, _ = wa
    response = await post_webhook(
        server,
        channel,
        secrets["app_secret"],
        _sample("status_failed.json", channel.config["phone_number_id"]),
    )
    assert response.status_code == 200
    orphan = await OrphanStatus.get(channel_id=channel.id)
    assert (orphan.status, orphan.error_code) == ("failed", "131047")
