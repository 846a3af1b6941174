"""WhatsApp's approved (HSM) templates through the real app: the catalogue synced page by page from
the fake Cloud API (by a supervisor's mutation and by the workers' periodic job), statuses changed by
signed template webhooks, and template sends checked against the catalogue before anything is
stored: right parameters reach the fake once; wrong ones, paused or unknown templates are refused
naming what is wrong, with nothing stored and nothing sent."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import connectors.whatsapp
from core import tasks
from core.crypto import encrypt_secrets
from core.sql import in_transaction
from models import (
    AuditLog,
    Channel,
    Conversation,
    CustomerIdentity,
    Message,
    Role,
    WhatsappTemplate,
    WhatsappTemplateSync,
)
from resolvers import whatsapp_templates
from schema.relay import to_global_id
from tests.helpers import SEND, eventually, gql, login, make_user, post_webhook, wa_text_payload

SYNC = "mutation($c: ID!) { syncWhatsappTemplates(channelId: $c) { channelId count removed syncedAt } }"
LIST = (
    "query($c: ID!, $s: WhatsappTemplateStatus, $l: String) { whatsappTemplates(channelId: $c, status: $s, "
    "language: $l) { name language category status statusReason parameters { part type name optional } } }"
)

ORDER_UPDATE = [
    {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["https://example.com/h.jpg"]}},
    {
        "type": "BODY",
        "text": "Hi {{1}}, your order {{2}} is on its way.",
        "example": {"body_text": [["Ana", "7"]]},
    },
    {"type": "FOOTER", "text": "Reply STOP to opt out"},
    {
        "type": "BUTTONS",
        "buttons": [
            {
                "type": "URL",
                "text": "Track",
                "url": "https://shop.example/t/{{1}}",
                "example": ["https://x/t/1"],
            },
            {"type": "QUICK_REPLY", "text": "Stop"},
        ],
    },
]


def _right_components() -> list[dict[str, Any]]:
    return [
        {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://cdn.example/p.jpg"}}]},
        {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "A-1023"}]},
        {
            "type": "button",
            "sub_type": "url",
            "index": "0",
            "parameters": [{"type": "text", "text": "A-1023"}],
        },
    ]


async def _catalogue_channel(server: str, fake: Any, base_url: str) -> tuple[Channel, dict[str, str], str]:
    """A WhatsApp channel with its own business account on the fake. Its sync row is written with
    it, so the workers' hourly sync leaves it alone while a test counts requests."""
    waba_id = str(7_000_000_000 + uuid.uuid4().int % 10**9)
    phone_number_id = str(8_000_000_000 + uuid.uuid4().int % 10**9)
    secrets = {
        "app_secret": uuid.uuid4().hex,
        "access_token": uuid.uuid4().hex,
        "verify_token": uuid.uuid4().hex,
    }
    config = {
        "phone_number_id": phone_number_id,
        "waba_id": waba_id,
        "api_base": base_url,
        "api_version": "v21.0",
    }
    async with in_transaction() as conn:
        channel = await Channel.create(
            platform="whatsapp",
            name="Catalogue WhatsApp",
            config=config,
            secrets_encrypted=encrypt_secrets(secrets),
            using_db=conn,
        )
        await WhatsappTemplateSync.create(channel=channel, using_db=conn)
    fake.add_number(
        phone_number_id,
        access_token=secrets["access_token"],
        app_secret=secrets["app_secret"],
        webhook_url=f"{server}/webhooks/whatsapp/{channel.id}",
        waba_id=waba_id,
    )
    return channel, secrets, waba_id


async def _outside_window(server: str, channel: Channel, secrets: dict[str, str]) -> tuple[str, str]:
    """A customer who wrote 30 hours ago: (their wa_id, the conversation's global id)."""
    wa_id = f"5511{uuid.uuid4().int % 10**9:09d}"
    body = wa_text_payload(channel.config["phone_number_id"], wa_id, "hello")
    assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200
    identity = await CustomerIdentity.get(channel_id=channel.id, external_id=wa_id)
    await CustomerIdentity.filter(id=identity.id).update(
        last_inbound_at=datetime.now(UTC) - timedelta(hours=30)
    )
    conversation = await Conversation.get(identity_id=identity.id)
    return wa_id, to_global_id("Conversation", conversation.id)


async def _send(
    server: str, token: str, conversation: str, template: dict[str, Any], client_id: str | None = None
):  # type: ignore[no-untyped-def]
    payload = {"conversationId": conversation, "clientMessageId": client_id or str(uuid.uuid4()), "text": ""}
    return await gql(server, SEND, {"input": {**payload, "template": template}}, token)


def _template_sends(fake: Any, wa_id: str) -> list[dict[str, Any]]:
    return [s for s in fake.sent if s.get("type") == "template" and s["to"].lstrip("+") == wa_id]


async def test_sync_follows_the_pages_and_the_catalogue_answers_by_status_and_language(
    server, fake_whatsapp, monkeypatch
):
    fake, base_url = fake_whatsapp
    monkeypatch.setattr(connectors.whatsapp, "TEMPLATE_PAGE_SIZE", 2)  # five templates: three pages
    channel, _, waba_id = await _catalogue_channel(server, fake, base_url)
    fake.add_template(waba_id, "order_update", components=ORDER_UPDATE)
    fake.add_template(waba_id, "order_update", language="pt_BR", components=ORDER_UPDATE)
    fake.add_template(waba_id, "welcome", status="PENDING")
    fake.add_template(waba_id, "promo", status="REJECTED", category="MARKETING")
    fake.add_template(waba_id, "code", category="AUTHENTICATION")
    supervisor = await login(server, await make_user(Role.SUPERVISOR))
    agent = await login(server, await make_user(Role.AGENT))
    cid = to_global_id("Channel", channel.id)

    refused = await gql(server, SYNC, {"c": cid}, agent)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert not [r for r in fake.template_requests if r["waba_id"] == waba_id]

    synced = await gql(server, SYNC, {"c": cid}, supervisor)
    assert synced.get("errors") is None, synced
    assert synced["data"]["syncWhatsappTemplates"]["count"] == 5
    asked = [r for r in fake.template_requests if r["waba_id"] == waba_id]
    assert len(asked) == 3
    assert "after" not in asked[0] and asked[1]["after"] != asked[2]["after"]
    assert all("components" in r["fields"].split(",") and r["limit"] == "2" for r in asked)
    assert await WhatsappTemplate.filter(channel_id=channel.id).count() == 5
    audit = await AuditLog.filter(action="whatsapp_templates.sync", target_id=str(channel.id)).all()
    assert len(audit) == 1 and audit[0].details == {"count": 5, "removed": 0}

    approved = await gql(server, LIST, {"c": cid, "s": "APPROVED"}, agent)
    rows = approved["data"]["whatsappTemplates"]
    assert [(r["name"], r["language"]) for r in rows] == [
        ("code", "en_US"),
        ("order_update", "en_US"),
        ("order_update", "pt_BR"),
    ]
    (order,) = [r for r in rows if r["name"] == "order_update" and r["language"] == "en_US"]
    assert order["parameters"] == [
        {"part": "header", "type": "image", "name": "media", "optional": False},
        {"part": "body", "type": "text", "name": "1", "optional": False},
        {"part": "body", "type": "text", "name": "2", "optional": False},
        {"part": "button 0", "type": "text", "name": "1", "optional": False},
        {"part": "button 1", "type": "payload", "name": "payload", "optional": True},
    ]
    portuguese = await gql(server, LIST, {"c": cid, "l": "pt_BR"}, agent)
    assert [r["name"] for r in portuguese["data"]["whatsappTemplates"]] == ["order_update"]

    # Meta no longer lists a deleted template: the next sync drops it; the same listing twice changes nothing.
    fake.templates[waba_id] = [t for t in fake.templates[waba_id] if t["name"] != "promo"]
    again = await gql(server, SYNC, {"c": cid}, supervisor)
    assert again["data"]["syncWhatsappTemplates"]["count"] == 4
    assert again["data"]["syncWhatsappTemplates"]["removed"] == 1
    before = sorted(
        (t.name, t.language, t.status) for t in await WhatsappTemplate.filter(channel_id=channel.id)
    )
    third = await gql(server, SYNC, {"c": cid}, supervisor)
    assert third["data"]["syncWhatsappTemplates"]["removed"] == 0
    after = sorted(
        (t.name, t.language, t.status) for t in await WhatsappTemplate.filter(channel_id=channel.id)
    )
    assert before == after and len(after) == 4


async def test_odd_listings_are_stored_cleaned_and_a_refused_sync_keeps_the_catalogue(server, fake_whatsapp):
    fake, base_url = fake_whatsapp
    channel, _, waba_id = await _catalogue_channel(server, fake, base_url)
    fake.add_template(waba_id, "order_update", components=ORDER_UPDATE)
    supervisor = await login(server, await make_user(Role.SUPERVISOR))
    cid = to_global_id("Channel", channel.id)
    assert (await gql(server, SYNC, {"c": cid}, supervisor)).get("errors") is None

    # What PostgreSQL cannot hold (NUL in text and jsonb) is cleaned as inbound text is; a name no
    # send could use (over Meta's 512 characters) is left out; neither fails the sync.
    fake.add_template(waba_id, "bad\x00name", components=[{"type": "BODY", "text": "Hi\x00 {{1}}"}])
    fake.add_template(waba_id, "x" * 600)
    hostile = await gql(server, SYNC, {"c": cid}, supervisor)
    assert hostile["data"]["syncWhatsappTemplates"]["count"] == 2, hostile
    cleaned = await WhatsappTemplate.get(channel_id=channel.id, name="badname")
    assert cleaned.components == [{"type": "BODY", "text": "Hi {{1}}"}]
    assert await WhatsappTemplate.filter(channel_id=channel.id).count() == 2
    phone = channel.config["phone_number_id"]
    response = await fake.set_template_status(phone, "order_update", "en_US", "REJECTED", reason="SCAM\x00")
    assert response.status_code == 200
    assert (await WhatsappTemplate.get(channel_id=channel.id, name="order_update")).status_reason == "SCAM"
    fake.templates[waba_id] = fake.templates[waba_id][:1]
    assert (await gql(server, SYNC, {"c": cid}, supervisor))["data"]["syncWhatsappTemplates"]["removed"] == 1

    fake.numbers[phone].access_token = "rotated-at-meta"
    refused = await gql(server, SYNC, {"c": cid}, supervisor)
    assert refused["errors"][0]["extensions"]["code"] == "PLATFORM_ERROR"
    assert "access token" in refused["errors"][0]["message"]
    assert await WhatsappTemplate.filter(channel_id=channel.id).count() == 1
    state = await WhatsappTemplateSync.get(channel_id=channel.id)
    assert state.synced_at is not None and "access token" in (state.last_error or "")

    # No business account ID, or not WhatsApp at all: a clear BAD_USER_INPUT, nothing fetched.
    bare = await Channel.create(
        platform="whatsapp",
        name="No WABA",
        config={"phone_number_id": "1"},
        secrets_encrypted=channel.secrets_encrypted,
    )
    no_waba = await gql(server, SYNC, {"c": to_global_id("Channel", bare.id)}, supervisor)
    assert no_waba["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "waba_id" in no_waba["errors"][0]["message"]
    telegram = await Channel.create(
        platform="telegram", name="T", config={}, secrets_encrypted=channel.secrets_encrypted
    )
    not_wa = await gql(server, LIST, {"c": to_global_id("Channel", telegram.id)}, supervisor)
    assert not_wa["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert not await WhatsappTemplateSync.filter(channel_id__in=[bare.id, telegram.id]).exists()


async def test_the_workers_sync_due_channels_once(server, fake_whatsapp):
    fake, base_url = fake_whatsapp
    channel, _, waba_id = await _catalogue_channel(server, fake, base_url)
    fake.add_template(waba_id, "order_update", components=ORDER_UPDATE)
    # Last tried two hours ago: due.
    await WhatsappTemplateSync.filter(channel_id=channel.id).update(
        attempted_at=datetime.now(UTC) - timedelta(hours=2)
    )

    tasks.SYNC_WHATSAPP_TEMPLATES.send()  # what every API process's upkeep timer enqueues

    async def synced():  # type: ignore[no-untyped-def]
        state = await WhatsappTemplateSync.get(channel_id=channel.id)
        return state.synced_at is not None and await WhatsappTemplate.filter(channel_id=channel.id).exists()

    await eventually(synced, timeout=20)
    asked = len([r for r in fake.template_requests if r["waba_id"] == waba_id])
    assert asked == 1
    # Enqueued again (another process's timer): the channel is not due, nothing is fetched.
    assert channel.id not in await whatsapp_templates.sync_due_channels()
    # A webhook's request made before that sync ran is answered by it: no second listing.
    assert not await whatsapp_templates.sync_requested(channel.id, datetime.now(UTC) - timedelta(seconds=30))
    assert len([r for r in fake.template_requests if r["waba_id"] == waba_id]) == asked


async def test_signed_status_webhooks_change_the_status_and_forged_ones_change_nothing(server, fake_whatsapp):
    fake, base_url = fake_whatsapp
    channel, secrets, waba_id = await _catalogue_channel(server, fake, base_url)
    fake.add_template(waba_id, "order_update", components=ORDER_UPDATE)
    supervisor = await login(server, await make_user(Role.SUPERVISOR))
    cid = to_global_id("Channel", channel.id)
    assert (await gql(server, SYNC, {"c": cid}, supervisor)).get("errors") is None
    phone = channel.config["phone_number_id"]

    response = await fake.set_template_status(phone, "order_update", "en_US", "PAUSED", reason="LOW_QUALITY")
    assert response.status_code == 200
    row = await WhatsappTemplate.get(channel_id=channel.id, name="order_update")
    assert (row.status, row.status_reason) == ("PAUSED", "LOW_QUALITY")
    listed = await gql(server, LIST, {"c": cid}, supervisor)
    assert listed["data"]["whatsappTemplates"][0]["status"] == "PAUSED"

    # A body claiming APPROVED under a wrong signature: 401, the template stays paused.
    forged = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": waba_id,
                "changes": [
                    {
                        "field": "message_template_status_update",
                        "value": {
                            "event": "APPROVED",
                            "message_template_id": 1,
                            "message_template_name": "order_update",
                            "message_template_language": "en_US",
                            "reason": "NONE",
                        },
                    }
                ],
            }
        ],
    }
    bad = await post_webhook(server, channel, "not-the-app-secret", json.dumps(forged).encode())
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "BAD_SIGNATURE"
    assert (await WhatsappTemplate.get(id=row.id)).status == "PAUSED"

    # The same body signed by the app but naming another business account: skipped.
    forged["entry"][0]["id"] = "999"
    other = await post_webhook(server, channel, secrets["app_secret"], json.dumps(forged).encode())
    assert other.status_code == 200
    assert (await WhatsappTemplate.get(id=row.id)).status == "PAUSED"

    response = await fake.set_template_status(
        phone, "order_update", "en_US", "REJECTED", reason="INVALID_FORMAT"
    )
    rejected = await WhatsappTemplate.get(id=row.id)
    assert response.status_code == 200 and (rejected.status, rejected.status_reason) == (
        "REJECTED",
        "INVALID_FORMAT",
    )
    await fake.set_template_status(phone, "order_update", "en_US", "APPROVED")
    approved = await WhatsappTemplate.get(id=row.id)
    assert (approved.status, approved.status_reason) == ("APPROVED", None)

    # A template created since the last sync: its approval brings a sync that adds it.
    fake.add_template(waba_id, "fresh", status="PENDING")
    listings = len([r for r in fake.template_requests if r["waba_id"] == waba_id])
    await fake.set_template_status(phone, "fresh", "en_US", "APPROVED")

    async def added():  # type: ignore[no-untyped-def]
        return await WhatsappTemplate.get_or_none(channel_id=channel.id, name="fresh", status="APPROVED")

    await eventually(added, timeout=20)
    assert len([r for r in fake.template_requests if r["waba_id"] == waba_id]) == listings + 1


async def test_outside_the_window_the_right_parameters_reach_whatsapp_once(server, fake_whatsapp):
    fake, base_url = fake_whatsapp
    channel, secrets, waba_id = await _catalogue_channel(server, fake, base_url)
    fake.add_template(waba_id, "order_update", components=ORDER_UPDATE)
    agent = await login(server, await make_user(Role.AGENT))
    supervisor = await login(server, await make_user(Role.SUPERVISOR))
    assert (await gql(server, SYNC, {"c": to_global_id("Channel", channel.id)}, supervisor)).get(
        "errors"
    ) is None
    wa_id, conversation = await _outside_window(server, channel, secrets)

    template = {"name": "order_update", "language": "en_US", "components": _right_components()}
    client_id = str(uuid.uuid4())
    sent = await _send(server, agent, conversation, template, client_id)
    assert sent.get("errors") is None, sent
    retried = await _send(server, agent, conversation, template, client_id)  # the client retries
    assert (
        retried.get("errors") is None
        and retried["data"]["sendMessage"]["id"] == sent["data"]["sendMessage"]["id"]
    )

    (request,) = await eventually(lambda: _async(_template_sends(fake, wa_id)), timeout=20)
    assert request["template"] == {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": template["components"],
    }
    stored = await Message.get(client_message_id=client_id)
    assert stored.metadata["template"]["text"] == (
        "Hi Ana, your order A-1023 is on its way.\n\nReply STOP to opt out"
    )
    await asyncio.sleep(0.5)  # a duplicate send would have gone by now
    assert len(_template_sends(fake, wa_id)) == 1


async def test_named_parameters_are_matched_by_name(server, fake_whatsapp):
    fake, base_url = fake_whatsapp
    channel, secrets, waba_id = await _catalogue_channel(server, fake, base_url)
    body = {"type": "BODY", "text": "Order {{order_id}} for {{first_name}} ships today."}
    fake.add_template(waba_id, "shipping", components=[body], parameter_format="NAMED")
    await whatsapp_templates.sync_channel(channel.id)
    agent = await login(server, await make_user(Role.AGENT))
    wa_id, conversation = await _outside_window(server, channel, secrets)

    def named(**values: str) -> dict[str, Any]:
        parameters = [{"type": "text", "parameter_name": k, "text": v} for k, v in values.items()]
        return {
            "name": "shipping",
            "language": "en_US",
            "components": [{"type": "body", "parameters": parameters}],
        }

    wrong = await _send(server, agent, conversation, named(order_id="A-7", name="Ana"))
    assert wrong["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "missing parameter {{first_name}}" in wrong["errors"][0]["message"]
    assert not await Message.filter(channel_id=channel.id, direction="outbound").exists()

    client_id = str(uuid.uuid4())
    sent = await _send(server, agent, conversation, named(first_name="Ana", order_id="A-7"), client_id)
    assert sent.get("errors") is None, sent
    await eventually(lambda: _async(_template_sends(fake, wa_id)), timeout=20)
    stored = await Message.get(client_message_id=client_id)
    assert stored.metadata["template"]["text"] == "Order A-7 for Ana ships today."


async def _async(value: Any) -> Any:
    return value


# (what the send gives, built from the right components; what the refusal must name)
WRONG = {
    "missing": (
        lambda c: [c[0], {"type": "body", "parameters": c[1]["parameters"][:1]}, c[2]],
        "{{2}} is missing",
    ),
    "extra": (
        lambda c: [
            c[0],
            {"type": "body", "parameters": [*c[1]["parameters"], {"type": "text", "text": "x"}]},
            c[2],
        ],
        "parameter 3 is extra",
    ),
    "header media type": (
        lambda c: [
            {"type": "header", "parameters": [{"type": "video", "video": {"link": "https://v/x.mp4"}}]},
            *c[1:],
        ],
        "takes a parameter of type image; got 'video'",
    ),
    "button missing": (lambda c: [c[0], c[1]], "button 0 needs 1 parameter(s) ({{1}})"),
    "header missing": (lambda c: [c[1], c[2]], "header needs 1 parameter(s) (image)"),
    "a part without parameters": (
        lambda c: [*c, {"type": "button", "sub_type": "url", "index": 2, "parameters": []}],
        "button 2 takes no parameters",
    ),
    "empty text": (
        lambda c: [c[0], {"type": "body", "parameters": [{"type": "text", "text": " "}] * 2}, c[2]],
        "body {{1}} needs a non-empty text",
    ),
    "no components": (lambda c: None, "header needs"),
}


async def test_wrong_parameters_are_refused_before_anything_is_stored(server, fake_whatsapp):
    fake, base_url = fake_whatsapp
    channel, secrets, waba_id = await _catalogue_channel(server, fake, base_url)
    fake.add_template(waba_id, "order_update", components=ORDER_UPDATE)
    await whatsapp_templates.sync_channel(channel.id)
    agent = await login(server, await make_user(Role.AGENT))
    wa_id, conversation = await _outside_window(server, channel, secrets)

    for case, (build, named) in WRONG.items():
        template = {"name": "order_update", "language": "en_US", "components": build(_right_components())}
        refused = await _send(server, agent, conversation, template)
        error = refused["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", (case, refused)
        assert error["extensions"]["field"] == "template.components", case
        assert named in error["message"], (case, error["message"])
    assert not await Message.filter(channel_id=channel.id, direction="outbound").exists()
    await asyncio.sleep(0.2)  # a send queued by mistake would have reached the fake by now
    assert _template_sends(fake, wa_id) == []


async def test_paused_unknown_and_never_synced(server, fake_whatsapp, wa):
    fake, base_url = fake_whatsapp
    channel, secrets, waba_id = await _catalogue_channel(server, fake, base_url)
    fake.add_template(waba_id, "order_update", components=ORDER_UPDATE)
    fake.add_template(waba_id, "winter_sale", status="PAUSED", category="MARKETING")
    await whatsapp_templates.sync_channel(channel.id)
    agent = await login(server, await make_user(Role.AGENT))
    wa_id, conversation = await _outside_window(server, channel, secrets)

    paused = await _send(server, agent, conversation, {"name": "winter_sale", "language": "en_US"})
    assert paused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert paused["errors"][0]["extensions"]["status"] == "PAUSED"
    assert "only approved templates" in paused["errors"][0]["message"]
    wrong_language = await _send(
        server,
        agent,
        conversation,
        {"name": "order_update", "language": "pt_BR", "components": _right_components()},
    )
    assert wrong_language["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "not in this channel's catalogue" in wrong_language["errors"][0]["message"]
    assert not await Message.filter(channel_id=channel.id, direction="outbound").exists()
    assert _template_sends(fake, wa_id) == []

    # A channel never synced has no catalogue to check against: any template goes, as before.
    legacy, legacy_secrets, _ = wa
    legacy_wa_id, legacy_conversation = await _outside_window(server, legacy, legacy_secrets)
    free = await _send(server, agent, legacy_conversation, {"name": "anything", "language": "en_US"})
    assert free.get("errors") is None, free
    await eventually(lambda: _async(_template_sends(fake, legacy_wa_id)), timeout=20)
