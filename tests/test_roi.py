"""Platform ROI on a scripted scenario whose answers are worked out by hand: prices per platform
and message kind (per message, or once per conversation for WhatsApp's marketing category),
conversions by the mutation and by a label, cost per conversation and per conversion."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from models import Conversation, Customer, CustomerIdentity, Message, Role, WhatsappTemplate
from resolvers import roi
from schema.relay import to_global_id
from tests.helpers import error_code, gql, login, make_channel, make_user

PRICES = """mutation($p: [PlatformPriceInput!]!) { savePlatformPrices(prices: $p) { platform kind unit price currency } }"""
LABELS = (
    """mutation($l: [ConversionLabelInput!]!) { saveConversionLabels(labels: $l) { label value currency } }"""
)
CONVERT = """mutation($c: ID!, $v: String!, $cur: String!, $s: String!) {
  recordConversion(conversationId: $c, value: $v, currency: $cur, source: $s) { value currency source } }"""
LABEL = """mutation($c: ID!, $add: [String!], $remove: [String!]) {
  changeConversationLabels(conversationId: $c, add: $add, remove: $remove) { labels } }"""
COSTS = """query($r: DateRange!, $f: PlatformCostFilter) { platformCosts(range: $r, filter: $f) {
  platform currency messages unpricedMessages conversations cost conversions
  conversionValues { currency value } costPerConversation costPerConversion } }"""


async def _conversation(channel: Any, platform: str) -> Conversation:
    customer = await Customer.create(name="Scripted")
    identity = await CustomerIdentity.create(
        customer=customer, channel=channel, platform=platform, external_id=uuid.uuid4().hex
    )
    # Inboxes list conversations by their last message: a scripted one has one, like a real one.
    return await Conversation.create(
        channel=channel,
        customer=customer,
        identity=identity,
        platform=platform,
        last_message_at=datetime.now(UTC),
        status="resolved",
    )


async def _messages(conversation: Conversation, *specs: tuple[str, str, str, dict | None]) -> None:
    """(direction, status, kind, template) each."""
    for direction, status, kind, template in specs:
        await Message.create(
            conversation=conversation,
            channel_id=conversation.channel_id,  # type: ignore[attr-defined]
            identity_id=conversation.identity_id,  # type: ignore[attr-defined]
            platform=conversation.platform,
            direction=direction,
            kind=kind,
            text="x",
            status=status,
            metadata={"template": template} if template else {},
        )


async def test_cost_per_conversation_and_per_conversion_by_platform(server) -> None:
    admin = await login(server, await make_user(Role.ADMIN))
    supervisor = await login(server, await make_user(Role.SUPERVISOR))
    agent = await login(server, await make_user(Role.AGENT))
    prices = [
        {"platform": "WHATSAPP", "kind": "service", "unit": "message", "price": "0.01", "currency": "USD"},
        {
            "platform": "WHATSAPP",
            "kind": "marketing",
            "unit": "conversation",
            "price": "0.05",
            "currency": "USD",
        },
        {"platform": "WHATSAPP", "kind": "inbound", "unit": "message", "price": "0", "currency": "USD"},
        {"platform": "SMS", "kind": "service", "unit": "message", "price": "0.0079", "currency": "USD"},
        {"platform": "SMS", "kind": "inbound", "unit": "message", "price": "0.0079", "currency": "USD"},
    ]
    saved = await gql(server, PRICES, {"p": prices}, admin)
    assert len(saved["data"]["savePlatformPrices"]) == 5, saved
    labels = await gql(
        server, LABELS, {"l": [{"label": "Purchased", "value": "50", "currency": "USD"}]}, admin
    )
    assert labels["data"]["saveConversionLabels"] == [
        {"label": "purchased", "value": "50.00", "currency": "USD"}
    ]

    wa = await make_channel("whatsapp", {"phone_number_id": uuid.uuid4().hex[:12]}, {})
    text = await make_channel("sms", {"account_sid": "AC" + uuid.uuid4().hex}, {})
    await WhatsappTemplate.create(
        channel=wa, name="promo", language="en_US", category="MARKETING", status="APPROVED"
    )
    await WhatsappTemplate.create(
        channel=wa, name="receipt", language="en_US", category="UTILITY", status="APPROVED"
    )
    promo = {"name": "promo", "language": "en_US"}
    a, b = await _conversation(wa, "whatsapp"), await _conversation(wa, "whatsapp")
    await _messages(
        a,
        ("inbound", "received", "text", None),
        ("inbound", "received", "text", None),
        ("outbound", "sent", "text", None),
        ("outbound", "delivered", "text", None),
        ("outbound", "read", "text", None),
        ("outbound", "failed", "text", None),  # the platform refused it: free
        ("outbound", "queued", "text", None),  # not sent yet: free
        ("outbound", "read", "template", promo),
        ("outbound", "read", "template", promo),  # marketing is priced once per conversation
        ("outbound", "read", "template", {"name": "receipt", "language": "en_US"}),  # utility: no price
    )
    await _messages(
        b,
        ("inbound", "received", "text", None),
        ("outbound", "sent", "text", None),
        ("outbound", "sent", "template", promo),
    )
    await _messages(b, ("outbound", "sent", "text", None))
    old = await Message.filter(conversation_id=b.id).order_by("-id").first()
    assert old is not None
    await Message.filter(id=old.id).update(
        created_at=datetime.now(UTC) - timedelta(days=3)
    )  # outside the range
    c = await _conversation(text, "sms")
    await _messages(
        c,
        ("inbound", "received", "text", None),
        ("inbound", "received", "text", None),
        ("outbound", "delivered", "text", None),
        ("outbound", "sent", "text", None),
    )

    # Conversions: one recorded by the mutation, one by the label (added twice: counted once).
    cid = to_global_id("Conversation", a.id)
    converted = await gql(server, CONVERT, {"c": cid, "v": "100", "cur": "USD", "s": "checkout"}, agent)
    assert converted["data"]["recordConversion"] == {
        "value": "100.00",
        "currency": "USD",
        "source": "checkout",
    }
    bid = to_global_id("Conversation", b.id)
    for change in ({"add": ["Purchased"]}, {"remove": ["purchased"]}, {"add": ["purchased"]}):
        assert (await gql(server, LABEL, {"c": bid, **change}, agent)).get("errors") is None

    now = datetime.now(UTC)
    span = {"from": (now - timedelta(hours=1)).isoformat(), "to": (now + timedelta(hours=1)).isoformat()}

    async def costs(channel_id: int) -> dict[str, Any]:
        body = await gql(
            server, COSTS, {"r": span, "f": {"channelId": to_global_id("Channel", channel_id)}}, supervisor
        )
        (row,) = body["data"]["platformCosts"]
        return row

    # WhatsApp: 4 service messages x 0.01 + 2 conversations with marketing x 0.05 + 3 inbound x 0 = 0.14
    assert await costs(wa.id) == {
        "platform": "WHATSAPP",
        "currency": "USD",
        "messages": 11,  # 3 inbound, 4 service, 4 templates (failed, queued and the old one left out)
        "unpricedMessages": 1,  # the utility template
        "conversations": 2,
        "cost": "0.140000",
        "conversions": 2,
        "conversionValues": [{"currency": "USD", "value": "150.00"}],
        "costPerConversation": "0.070000",
        "costPerConversion": "0.070000",
    }
    # SMS: 4 messages x 0.0079, one conversation, nothing converted.
    assert await costs(text.id) == {
        "platform": "SMS",
        "currency": "USD",
        "messages": 4,
        "unpricedMessages": 0,
        "conversations": 1,
        "cost": "0.031600",
        "conversions": 0,
        "conversionValues": [],
        "costPerConversation": "0.031600",
        "costPerConversion": None,
    }
    # A flow step's conversion counts once however often the step runs.
    for _ in range(2):
        await roi.record_conversion(None, c.id, "20", "USD", source="flow", dedupe_key=f"flow:{c.id}:step-7")
    assert (await costs(text.id))["costPerConversion"] == "0.031600"


async def test_refusals(server) -> None:
    admin = await login(server, await make_user(Role.ADMIN))
    agent = await login(server, await make_user(Role.AGENT))
    one = {"platform": "SMS", "kind": "service", "unit": "message", "price": "0.01", "currency": "USD"}
    assert error_code(await gql(server, PRICES, {"p": [one]}, agent)) == "FORBIDDEN"
    for bad in (
        [one, {**one, "kind": "inbound", "currency": "EUR"}],  # two currencies
        [one, one],  # the same price twice
        [{**one, "price": "-1"}],
        [{**one, "price": "lots"}],
        [{**one, "unit": "day"}],
        [{**one, "kind": "Not A Kind"}],
    ):
        assert error_code(await gql(server, PRICES, {"p": bad}, admin)) == "BAD_USER_INPUT", bad
    year = {"from": "2030-01-01T00:00:00+00:00", "to": "2031-06-01T00:00:00+00:00"}
    too_long = await gql(server, COSTS, {"r": year}, admin)
    assert error_code(too_long) == "BAD_USER_INPUT" and "366" in too_long["errors"][0]["message"]
    assert error_code(await gql(server, COSTS, {"r": year}, agent)) == "FORBIDDEN"
    nowhere = to_global_id("Conversation", 2_000_000_000)
    missing = await gql(server, CONVERT, {"c": nowhere, "v": "1", "cur": "USD", "s": "x"}, agent)
    assert error_code(missing) == "NOT_FOUND"
