"""One customer across channels: automatic merge on a verified phone, one timeline, replies
through another channel within what the platform allows, merge and split by hand (audited)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from core.sql import fetch
from models import AuditLog, Conversation, Customer, CustomerIdentity, Message, Role
from schema.relay import to_global_id
from tests.helpers import (
    Subscriber,
    eventually,
    gql,
    login,
    make_user,
    make_whatsapp_channel,
    post_webhook,
    wa_text_payload,
)

TARGETS = """query($id: ID!) { node(id: $id) { ... on Conversation { replyTargets {
  channelId platform address available reason requiresTemplate isDefault identityId } } } }"""
SEND = (
    """mutation($input: SendMessageInput!) { sendMessage(input: $input) { id status platform channelId } }"""
)
MERGE = """mutation($s: ID!, $t: ID!) { mergeCustomers(sourceId: $s, targetId: $t) {
  id phone identities { id platform channelId externalId } } }"""
SPLIT = """mutation($i: ID!) { splitIdentity(identityId: $i) { id identities { id externalId } } }"""
TIMELINE = """query($id: ID!) { node(id: $id) { ... on Conversation { messages(first: 20) {
  edges { node { text platform channelId direction } } } } } }"""


def _wa_id() -> str:
    return "4477" + str(uuid.uuid4().int)[:8]


async def _merge(server: str, away: int, survivor: int, token: str) -> dict:
    """mergeCustomers: the customer `away` into `survivor` (primary keys)."""
    return await gql(
        server, MERGE, {"s": to_global_id("Customer", away), "t": to_global_id("Customer", survivor)}, token
    )


async def _second_channel(server: str, wa):  # type: ignore[no-untyped-def]
    first, _, fake = wa
    channel, secrets = await make_whatsapp_channel(first.config["api_base"])
    fake.add_number(
        channel.config["phone_number_id"],
        access_token=secrets["access_token"],
        app_secret=secrets["app_secret"],
        webhook_url=f"{server}/webhooks/whatsapp/{channel.id}",
    )
    return channel, secrets


async def _write(server: str, channel, secret: str, wa_id: str, text: str) -> None:  # type: ignore[no-untyped-def]
    response = await post_webhook(
        server, channel, secret, wa_text_payload(channel.config["phone_number_id"], wa_id, text)
    )
    assert response.status_code == 200, response.text


async def test_same_phone_on_two_channels_is_one_customer_with_one_timeline(server, wa):
    first, first_secrets, fake = wa
    second, second_secrets = await _second_channel(server, wa)
    wa_id = _wa_id()
    await _write(server, first, first_secrets["app_secret"], wa_id, "hello from the first number")
    await _write(server, second, second_secrets["app_secret"], wa_id, "and from the second")

    identities = await CustomerIdentity.filter(external_id=wa_id)
    assert len(identities) == 2
    assert identities[0].customer_id == identities[1].customer_id
    conversation = await Conversation.get(customer_id=identities[0].customer_id)
    messages = await Message.filter(conversation_id=conversation.id).order_by("id")
    assert [(m.text, m.channel_id) for m in messages] == [
        ("hello from the first number", first.id),
        ("and from the second", second.id),
    ]

    token = await login(server, await make_user(Role.AGENT))
    conv_id = to_global_id("Conversation", conversation.id)
    timeline = await gql(server, TIMELINE, {"id": conv_id}, token)
    nodes = [e["node"] for e in timeline["data"]["node"]["messages"]["edges"]]
    assert [n["channelId"] for n in nodes] == [
        to_global_id("Channel", first.id),
        to_global_id("Channel", second.id),
    ]
    assert {n["platform"] for n in nodes} == {"WHATSAPP"}

    targets = (await gql(server, TARGETS, {"id": conv_id}, token))["data"]["node"]["replyTargets"]
    mine = {
        t["channelId"]: t
        for t in targets
        if t["channelId"] in {to_global_id("Channel", c.id) for c in (first, second)}
    }
    default = mine[to_global_id("Channel", second.id)]
    assert default["isDefault"] and default["available"] and default["address"] == wa_id
    assert mine[to_global_id("Channel", first.id)]["available"]

    # Answer through the first number although the customer last wrote to the second.
    sent_before = len(fake.sent)
    reply = await gql(
        server,
        SEND,
        {
            "input": {
                "conversationId": conv_id,
                "clientMessageId": str(uuid.uuid4()),
                "text": "answering from number one",
                "channelId": to_global_id("Channel", first.id),
            }
        },
        token,
    )
    assert reply["data"]["sendMessage"]["channelId"] == to_global_id("Channel", first.id), reply

    async def delivered():  # type: ignore[no-untyped-def]
        return [
            s for s in fake.sent[sent_before:] if s.get("text", {}).get("body") == "answering from number one"
        ]

    (request,) = await eventually(delivered, timeout=20)
    assert request["_fake"]["phone_number_id"] == first.config["phone_number_id"]
    assert request["to"].lstrip("+") == wa_id


async def test_closed_window_refuses_free_text_with_the_reason(server, wa):
    channel, secrets, _ = wa
    wa_id = _wa_id()
    await _write(server, channel, secrets["app_secret"], wa_id, "hi")
    identity = await CustomerIdentity.get(channel_id=channel.id, external_id=wa_id)
    await CustomerIdentity.filter(id=identity.id).update(
        last_inbound_at=datetime.now(UTC) - timedelta(hours=25)
    )
    conversation = await Conversation.get(identity_id=identity.id)
    token = await login(server, await make_user(Role.AGENT))
    conv_id = to_global_id("Conversation", conversation.id)

    targets = (await gql(server, TARGETS, {"id": conv_id}, token))["data"]["node"]["replyTargets"]
    (target,) = [t for t in targets if t["channelId"] == to_global_id("Channel", channel.id)]
    assert not target["available"] and target["requiresTemplate"]
    assert "24 hours" in target["reason"]

    refused = await gql(
        server,
        SEND,
        {
            "input": {
                "conversationId": conv_id,
                "clientMessageId": str(uuid.uuid4()),
                "text": "too late",
                "channelId": to_global_id("Channel", channel.id),
            }
        },
        token,
    )
    error = refused["errors"][0]
    assert error["extensions"]["code"] == "REPLY_NOT_ALLOWED"
    assert error["extensions"]["requiresTemplate"] is True
    assert "template" in error["message"]
    assert not await Message.filter(conversation_id=conversation.id, text="too late").exists()


async def test_merge_by_hand_moves_everything_and_split_undoes_it(server, wa):
    first, first_secrets, _ = wa
    second, second_secrets = await _second_channel(server, wa)
    a, b = _wa_id(), _wa_id()
    await _write(server, first, first_secrets["app_secret"], a, "I am Ana on one number")
    await _write(server, second, second_secrets["app_secret"], b, "Ana again, other phone")
    ana_1 = await CustomerIdentity.get(channel_id=first.id, external_id=a)
    ana_2 = await CustomerIdentity.get(channel_id=second.id, external_id=b)
    assert ana_1.customer_id != ana_2.customer_id
    messages_before = await Message.filter(channel_id__in=[first.id, second.id]).count()

    agent = await make_user(Role.AGENT)
    token = await login(server, agent)
    merged = await _merge(server, ana_2.customer_id, ana_1.customer_id, token)
    assert merged.get("errors") is None, merged
    assert {i["externalId"] for i in merged["data"]["mergeCustomers"]["identities"]} == {a, b}
    assert await Conversation.filter(customer_id=ana_1.customer_id).count() == 2
    assert (await Customer.get(id=ana_2.customer_id)).merged_into_id == ana_1.customer_id
    assert await Message.filter(channel_id__in=[first.id, second.id]).count() == messages_before
    entry = await AuditLog.get(action="customer.merge", target_id=str(ana_1.customer_id))
    assert entry.actor_id == agent.id and entry.details["source_id"] == ana_2.customer_id

    again = await _merge(server, ana_2.customer_id, ana_1.customer_id, token)
    assert again["errors"][0]["extensions"]["code"] == "CONFLICT"

    # The next message on the second phone lands in the merged customer's timeline.
    await _write(server, second, second_secrets["app_secret"], b, "still me")
    latest = await Message.get(text="still me")
    assert (await Conversation.get(id=latest.conversation_id)).customer_id == ana_1.customer_id

    split = await gql(server, SPLIT, {"i": to_global_id("Identity", ana_2.id)}, token)
    assert split.get("errors") is None, split
    new_customer = split["data"]["splitIdentity"]
    assert [i["externalId"] for i in new_customer["identities"]] == [b]
    assert await AuditLog.filter(action="customer.split").exists()
    only = await gql(server, SPLIT, {"i": to_global_id("Identity", ana_2.id)}, token)
    assert only["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_merge_errors_are_named(server, wa):
    token = await login(server, await make_user(Role.AGENT))
    missing = await gql(
        server, MERGE, {"s": to_global_id("Customer", 10**8), "t": to_global_id("Customer", 10**8 + 1)}, token
    )
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    same = await gql(
        server, MERGE, {"s": to_global_id("Customer", 5), "t": to_global_id("Customer", 5)}, token
    )
    assert same["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    anonymous = await gql(server, MERGE, {"s": to_global_id("Customer", 1), "t": to_global_id("Customer", 2)})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_outside_the_window_a_template_goes_through(server, wa):
    channel, secrets, fake = wa
    wa_id = _wa_id()
    await _write(server, channel, secrets["app_secret"], wa_id, "hi")
    identity = await CustomerIdentity.get(channel_id=channel.id, external_id=wa_id)
    await CustomerIdentity.filter(id=identity.id).update(
        last_inbound_at=datetime.now(UTC) - timedelta(hours=30)
    )
    conversation = await Conversation.get(identity_id=identity.id)
    token = await login(server, await make_user(Role.AGENT))
    cid = to_global_id("Conversation", conversation.id)
    free = await gql(
        server,
        SEND,
        {"input": {"conversationId": cid, "clientMessageId": str(uuid.uuid4()), "text": "hello?"}},
        token,
    )
    assert free["errors"][0]["extensions"]["code"] == "REPLY_NOT_ALLOWED"
    template = {
        "name": "order_update",
        "language": "en_US",
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "42"}]}],
    }
    sent = await gql(
        server,
        SEND,
        {
            "input": {
                "conversationId": cid,
                "clientMessageId": str(uuid.uuid4()),
                "text": "",
                "template": template,
            }
        },
        token,
    )
    assert sent.get("errors") is None, sent

    async def delivered():  # type: ignore[no-untyped-def]
        return [s for s in fake.sent if s.get("type") == "template" and s["to"].lstrip("+") == wa_id]

    (request,) = await eventually(delivered, timeout=20)
    assert request["template"] == {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": template["components"],
    }
    stored = await Message.get(conversation_id=conversation.id, kind="template")
    assert stored.text == "[template order_update]"


ATTRIBUTES = (
    """query($id: ID!) { conversation(id: $id) { customer { attributes { name value updatedAt } } } }"""
)
ATTRIBUTES_BY_NODE = (
    """query($id: ID!) { node(id: $id) { ... on Conversation { customer { attributes { name value } } } } }"""
)


async def test_attributes_flows_set_show_on_the_customer(server, wa):
    """The customer panel shows what flows learnt (customer_attributes), the customer's own only."""
    first, first_secrets, _ = wa
    a, b = _wa_id(), _wa_id()
    await _write(server, first, first_secrets["app_secret"], a, "my plan is gold")
    await _write(server, first, first_secrets["app_secret"], b, "someone else")
    mine = await CustomerIdentity.get(channel_id=first.id, external_id=a)
    other = await CustomerIdentity.get(channel_id=first.id, external_id=b)
    conversation = await Conversation.get(customer_id=mine.customer_id)
    await fetch(
        "INSERT INTO customer_attributes (customer_id, name, value) VALUES ($1, 'plan', 'gold'), "
        "($1, 'city', 'Recife'), ($2, 'plan', 'bronze')",
        mine.customer_id,
        other.customer_id,
    )
    token = await login(server, await make_user(Role.AGENT))
    cid = to_global_id("Conversation", conversation.id)
    planned = await gql(server, ATTRIBUTES, {"id": cid}, token)
    assert planned.get("errors") is None, planned
    attributes = planned["data"]["conversation"]["customer"]["attributes"]
    assert [(x["name"], x["value"]) for x in attributes] == [("city", "Recife"), ("plan", "gold")]
    assert all(x["updatedAt"] for x in attributes)
    general = await gql(server, ATTRIBUTES_BY_NODE, {"id": cid}, token)
    assert general["data"]["node"]["customer"]["attributes"] == [
        {"name": "city", "value": "Recife"},
        {"name": "plan", "value": "gold"},
    ]


SET_ATTRIBUTE = """mutation($c: ID!, $n: String!, $v: String) { setCustomerAttribute(customerId: $c, name: $n, value: $v) {
  id attributes { name value } } }"""


async def test_attributes_are_set_and_removed_by_hand_by_whoever_sees_the_customer(server, wa):
    """The customer panel edits attributes: whoever sees one of the customer's conversations may
    set or remove one, names and sizes as flows use them, audited by name and never by value."""
    first, first_secrets, _ = wa
    wa_id = _wa_id()
    await _write(server, first, first_secrets["app_secret"], wa_id, "please note my plan")
    identity = await CustomerIdentity.get(channel_id=first.id, external_id=wa_id)
    customer = to_global_id("Customer", identity.customer_id)
    conversation = await Conversation.get(customer_id=identity.customer_id)
    agent = await make_user(Role.AGENT)
    token = await login(server, agent)

    first_set = await gql(server, SET_ATTRIBUTE, {"c": customer, "n": "plan", "v": "gold"}, token)
    assert first_set.get("errors") is None, first_set
    assert first_set["data"]["setCustomerAttribute"]["attributes"] == [{"name": "plan", "value": "gold"}]
    await gql(server, SET_ATTRIBUTE, {"c": customer, "n": "city", "v": "Recife"}, token)
    changed = await gql(server, SET_ATTRIBUTE, {"c": customer, "n": "plan", "v": "platinum"}, token)
    assert changed["data"]["setCustomerAttribute"]["attributes"] == [
        {"name": "city", "value": "Recife"},
        {"name": "plan", "value": "platinum"},
    ]
    read = await gql(server, ATTRIBUTES, {"id": to_global_id("Conversation", conversation.id)}, token)
    assert [a["value"] for a in read["data"]["conversation"]["customer"]["attributes"]] == [
        "Recife",
        "platinum",
    ]

    removed = await gql(server, SET_ATTRIBUTE, {"c": customer, "n": "city", "v": None}, token)
    assert removed["data"]["setCustomerAttribute"]["attributes"] == [{"name": "plan", "value": "platinum"}]
    again = await gql(server, SET_ATTRIBUTE, {"c": customer, "n": "city"}, token)
    assert again["errors"][0]["extensions"]["code"] == "NOT_FOUND"

    entries = await AuditLog.filter(target_type="Customer", target_id=str(identity.customer_id)).order_by(
        "id"
    )
    assert [(e.action, e.details, e.actor_id) for e in entries] == [
        ("customer.attribute_set", {"name": "plan"}, agent.id),
        ("customer.attribute_set", {"name": "city"}, agent.id),
        ("customer.attribute_set", {"name": "plan"}, agent.id),
        ("customer.attribute_remove", {"name": "city"}, agent.id),
    ]

    for name, value, field in (
        ("Plan", "x", "name"),
        ("1st", "x", "name"),
        ("a" * 41, "x", "name"),
        ("has space", "x", "name"),
        ("", "x", "name"),
        ("note", "   ", "value"),
        ("note", "x" * 4097, "value"),
    ):
        bad = await gql(server, SET_ATTRIBUTE, {"c": customer, "n": name, "v": value}, token)
        assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", (name, bad)
        assert bad["errors"][0]["extensions"]["field"] == field
    longest = await gql(server, SET_ATTRIBUTE, {"c": customer, "n": "a" * 40, "v": "x" * 4096}, token)
    assert longest.get("errors") is None, longest
    assert await AuditLog.filter(target_type="Customer", target_id=str(identity.customer_id)).count() == 5

    # Someone who sees none of the customer's conversations hears NOT_FOUND, as for no customer.
    outsider = await login(server, await make_user(Role.AGENT, sees_all=False))
    hidden = await gql(server, SET_ATTRIBUTE, {"c": customer, "n": "plan", "v": "bronze"}, outsider)
    assert hidden["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    missing = await gql(
        server, SET_ATTRIBUTE, {"c": to_global_id("Customer", 10**8), "n": "plan", "v": "x"}, token
    )
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (
        await fetch(
            "SELECT value FROM customer_attributes WHERE customer_id = $1 AND name = 'plan'",
            identity.customer_id,
        )
    )[0]["value"] == "platinum"
    anonymous = await gql(server, SET_ATTRIBUTE, {"c": customer, "n": "plan", "v": "x"})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_merge_carries_attributes_to_the_survivor_whose_own_values_win(server, wa):
    first, first_secrets, _ = wa
    a, b = _wa_id(), _wa_id()
    await _write(server, first, first_secrets["app_secret"], a, "Bia here")
    await _write(server, first, first_secrets["app_secret"], b, "Bia on another phone")
    survivor = (await CustomerIdentity.get(channel_id=first.id, external_id=a)).customer_id
    merged_away = (await CustomerIdentity.get(channel_id=first.id, external_id=b)).customer_id
    token = await login(server, await make_user(Role.AGENT))
    for customer, name, value in (
        (survivor, "plan", "gold"),
        (survivor, "city", "Recife"),
        (merged_away, "plan", "bronze"),
        (merged_away, "order", "A-1042"),
        (merged_away, "segment", "b2b"),
    ):
        done = await gql(
            server, SET_ATTRIBUTE, {"c": to_global_id("Customer", customer), "n": name, "v": value}, token
        )
        assert done.get("errors") is None, done

    merged = await _merge(server, merged_away, survivor, token)
    assert merged.get("errors") is None, merged
    conversation = await Conversation.filter(customer_id=survivor).order_by("id").first()
    assert conversation is not None
    read = await gql(server, ATTRIBUTES, {"id": to_global_id("Conversation", conversation.id)}, token)
    assert [(x["name"], x["value"]) for x in read["data"]["conversation"]["customer"]["attributes"]] == [
        ("city", "Recife"),
        ("order", "A-1042"),
        ("plan", "gold"),  # the survivor's own value wins the clash
        ("segment", "b2b"),
    ]
    # The losing value stays with the merged-away tombstone (its export, its erasure), not lost.
    left = await fetch("SELECT name, value FROM customer_attributes WHERE customer_id = $1", merged_away)
    assert [(r["name"], r["value"]) for r in left] == [("plan", "bronze")]
    entry = await AuditLog.get(action="customer.merge", target_id=str(survivor))
    assert entry.details["attributes"] == ["order", "segment"]

    # The tombstone takes no new attributes: it is the survivor's now.
    refused = await gql(
        server, SET_ATTRIBUTE, {"c": to_global_id("Customer", merged_away), "n": "plan", "v": "x"}, token
    )
    assert refused["errors"][0]["extensions"]["code"] == "CONFLICT", refused


LIVE_CUSTOMER = """subscription($id: ID!, $after: String) { conversationEvents(conversationId: $id, after: $after) {
  cursor type customer { id attributes { name value } identities { externalId } } } }"""


async def test_attribute_edits_and_merges_reach_the_open_conversations_live(server, wa):
    """Another agent with one of the customer's conversations open hears CUSTOMER_UPDATED on the
    conversation's own stream after each edit and after a merge, with the customer as it is now;
    the event log keeps no attribute value."""
    first, first_secrets, _ = wa
    a, b = _wa_id(), _wa_id()
    await _write(server, first, first_secrets["app_secret"], a, "Bia here")
    await _write(server, first, first_secrets["app_secret"], b, "Bia on another phone")
    survivor = (await CustomerIdentity.get(channel_id=first.id, external_id=a)).customer_id
    merged_away = (await CustomerIdentity.get(channel_id=first.id, external_id=b)).customer_id
    mine = await Conversation.get(customer_id=survivor)
    theirs = await Conversation.get(customer_id=merged_away)
    editor = await login(server, await make_user(Role.AGENT))
    viewer = await login(server, await make_user(Role.AGENT))
    events = await Subscriber.open(
        server, viewer, LIVE_CUSTOMER, {"id": to_global_id("Conversation", mine.id), "after": "0"}
    )

    def customer_updated(data: dict) -> bool:  # type: ignore[type-arg]
        return data["conversationEvents"]["type"] == "CUSTOMER_UPDATED"

    try:
        done = await gql(
            server, SET_ATTRIBUTE, {"c": to_global_id("Customer", survivor), "n": "plan", "v": "gold"}, editor
        )
        assert done.get("errors") is None, done
        seen = (await events.next_where(customer_updated))["conversationEvents"]
        assert seen["customer"] == {
            "id": to_global_id("Customer", survivor),
            "attributes": [{"name": "plan", "value": "gold"}],
            "identities": [{"externalId": a}],
        }

        other = await gql(
            server,
            SET_ATTRIBUTE,
            {"c": to_global_id("Customer", merged_away), "n": "order", "v": "A-1042"},
            editor,
        )
        assert other.get("errors") is None, other
        merged = await _merge(server, merged_away, survivor, editor)
        assert merged.get("errors") is None, merged
        after_merge = (await events.next_where(customer_updated))["conversationEvents"]
        assert after_merge["customer"]["attributes"] == [
            {"name": "order", "value": "A-1042"},  # carried over from the merged-away customer
            {"name": "plan", "value": "gold"},
        ]
        assert sorted(i["externalId"] for i in after_merge["customer"]["identities"]) == sorted([a, b])
        assert int(after_merge["cursor"]) > int(seen["cursor"])
    finally:
        await events.close()

    # One event per conversation per change: this conversation heard its customer's edit and the
    # merge, not the other customer's edit; the moved conversation heard both of its own.
    streams = [f"conversation:{mine.id}", f"conversation:{theirs.id}"]

    async def counted() -> list[int] | None:
        rows = await fetch(
            "SELECT stream, payload::text AS payload FROM events WHERE type = 'CUSTOMER_UPDATED' "
            "AND stream = ANY($1::text[])",
            streams,
        )
        counts = [sum(r["stream"] == s for r in rows) for s in streams]
        if counts != [2, 2]:
            return None
        assert not any("gold" in r["payload"] or "A-1042" in r["payload"] for r in rows)
        return counts

    assert await eventually(counted)
