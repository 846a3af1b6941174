"""The conversation lifecycle through the API: statuses and their rules, snooze timers, the
customer reopening, priority, labels, notes, transfer, escalation, bulk changes; every change
in the timeline and live."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from core.events import EventLog, conversation_stream
from models import Conversation, ConversationActivity, Message, Role
from schema.relay import to_global_id
from tests.helpers import Subscriber, eventually, gql, login, make_user, post_webhook, wa_text_payload

STATUS = """mutation($id: ID!, $s: ConversationStatus!, $until: DateTime, $reason: String) {
  setConversationStatus(conversationId: $id, status: $s, snoozedUntil: $until, reason: $reason) {
  status snoozedUntil } }"""
LABELS = """mutation($id: ID!, $add: [String!], $remove: [String!]) {
  changeConversationLabels(conversationId: $id, add: $add, remove: $remove) { labels } }"""
PRIORITY = """mutation($id: ID!, $p: Priority!) { setConversationPriority(conversationId: $id, priority: $p) { priority } }"""
NOTE = """mutation($id: ID!, $c: String!, $t: String!) { addNote(conversationId: $id, clientMessageId: $c, text: $t) {
  id direction status text } }"""
TRANSFER = """mutation($id: ID!, $to: ID!, $r: String!) { transferConversation(conversationId: $id, toUserId: $to, reason: $r) {
  assignee { id } } }"""
ESCALATE = """mutation($id: ID!, $r: String!, $to: ID) { escalateConversation(conversationId: $id, reason: $r, toUserId: $to) {
  escalationLevel priority assignee { id } } }"""
BULK = """mutation($input: BulkUpdateInput!) { bulkUpdateConversations(input: $input) {
  updated { id status labels } errors { conversationId code message } } }"""
LIST = """query($f: ConversationFilter) { conversations(first: 100, filter: $f) { edges { node { id } } } }"""
TIMELINE = (
    """query($id: ID!) { node(id: $id) { ... on Conversation { activities { type data actor { id } } } } }"""
)
EVENTS = """subscription($id: ID!, $after: String) { conversationEvents(conversationId: $id, after: $after) {
  type message { text direction } activity { type data } } }"""


async def _conversation(server: str, wa) -> tuple[Conversation, str]:  # type: ignore[no-untyped-def]
    channel, secrets, _ = wa
    wa_id = "3311" + str(uuid.uuid4().int)[:8]
    body = wa_text_payload(channel.config["phone_number_id"], wa_id, "hello")
    assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200
    identity_conv = await Conversation.filter(channel_id=channel.id).order_by("-id").first()
    assert identity_conv is not None
    return identity_conv, wa_id


def _gid(conversation: Conversation) -> str:
    return to_global_id("Conversation", conversation.id)


async def test_status_rules_and_the_customer_reopening(server, wa):
    conversation, wa_id = await _conversation(server, wa)
    token = await login(server, await make_user(Role.AGENT))
    cid = _gid(conversation)
    for status in ("PENDING", "RESOLVED"):
        body = await gql(server, STATUS, {"id": cid, "s": status}, token)
        assert body["data"]["setConversationStatus"]["status"] == status, body

    channel, secrets, _ = wa
    body = wa_text_payload(channel.config["phone_number_id"], wa_id, "one more thing")
    assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200
    assert (await Conversation.get(id=conversation.id)).status == "open"
    reopened = await ConversationActivity.filter(conversation_id=conversation.id).order_by("-id").first()
    assert reopened is not None and reopened.actor_id is None
    assert reopened.data == {"from": "resolved", "to": "open", "reason": "customer_wrote"}

    closed = await gql(server, STATUS, {"id": cid, "s": "CLOSED", "reason": "done"}, token)
    assert closed["data"]["setConversationStatus"]["status"] == "CLOSED"
    again = await gql(server, STATUS, {"id": cid, "s": "OPEN"}, token)
    assert again["errors"][0]["extensions"]["code"] == "INVALID_TRANSITION"
    no_time = await gql(server, STATUS, {"id": cid, "s": "SNOOZED"}, token)
    assert no_time["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    unknown = await gql(server, STATUS, {"id": cid, "s": "ASLEEP"}, token)
    assert unknown["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"  # variable coercion names it

    # A closed conversation stays closed: the customer's next message starts a new one.
    body = wa_text_payload(channel.config["phone_number_id"], wa_id, "new question")
    assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200
    latest = await Message.get(text="new question")
    assert latest.conversation_id != conversation.id

    timeline = await gql(server, TIMELINE, {"id": cid}, token)
    steps = [(a["data"]["from"], a["data"]["to"]) for a in timeline["data"]["node"]["activities"]]
    assert steps == [("open", "pending"), ("pending", "resolved"), ("resolved", "open"), ("open", "closed")]


async def test_snooze_wakes_up_by_itself_and_live(server, wa):
    conversation, _ = await _conversation(server, wa)
    token = await login(server, await make_user(Role.AGENT))
    cid = _gid(conversation)
    # From the stream's head read now: the server may start the subscription after the snooze
    # below has been published, and without a cursor it would start after it.
    head = await EventLog.head(conversation_stream(conversation.id))
    events = await Subscriber.open(server, token, EVENTS, {"id": cid, "after": str(head)})
    until = (datetime.now(UTC) + timedelta(seconds=1.5)).isoformat()
    body = await gql(server, STATUS, {"id": cid, "s": "SNOOZED", "until": until}, token)
    assert body["data"]["setConversationStatus"]["status"] == "SNOOZED", body

    async def awake():  # type: ignore[no-untyped-def]
        return (await Conversation.get(id=conversation.id)).status == "open"

    await eventually(awake, timeout=20)
    changes = []

    def woke(data: dict) -> bool:
        activity = data["conversationEvents"]["activity"]
        if activity:
            changes.append(activity["data"])
        return bool(activity and activity["data"].get("reason") == "snooze_ended")

    await events.next_where(woke)
    assert changes[0]["to"] == "snoozed" and changes[-1] == {
        "from": "snoozed",
        "to": "open",
        "reason": "snooze_ended",
    }
    await events.close()


async def test_labels_priority_notes_and_filters(server, wa):
    conversation, _ = await _conversation(server, wa)
    _, _, fake = wa
    token = await login(server, await make_user(Role.AGENT))
    cid = _gid(conversation)
    labels = await gql(server, LABELS, {"id": cid, "add": ["Billing", "vip", "billing "]}, token)
    assert labels["data"]["changeConversationLabels"]["labels"] == ["Billing", "vip"]
    labels = await gql(server, LABELS, {"id": cid, "remove": ["VIP"], "add": ["refund"]}, token)
    assert labels["data"]["changeConversationLabels"]["labels"] == ["Billing", "refund"]
    too_long = await gql(server, LABELS, {"id": cid, "add": ["x" * 51]}, token)
    assert too_long["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

    assert (await gql(server, PRIORITY, {"id": cid, "p": "URGENT"}, token))["data"][
        "setConversationPriority"
    ] == {"priority": "URGENT"}
    found = await gql(server, LIST, {"f": {"labels": ["Billing", "refund"], "priority": ["URGENT"]}}, token)
    assert [e["node"]["id"] for e in found["data"]["conversations"]["edges"]] == [cid]
    none = await gql(server, LIST, {"f": {"labels": ["Billing", "nope"]}}, token)
    assert none["data"]["conversations"]["edges"] == []

    sent_before = len(fake.sent)
    client_id = str(uuid.uuid4())
    note = await gql(server, NOTE, {"id": cid, "c": client_id, "t": "customer is a reseller"}, token)
    assert note["data"]["addNote"]["direction"] == "NOTE" and note["data"]["addNote"]["status"] == "POSTED"
    retry = await gql(server, NOTE, {"id": cid, "c": client_id, "t": "customer is a reseller"}, token)
    assert retry["data"]["addNote"]["id"] == note["data"]["addNote"]["id"]
    assert await Message.filter(conversation_id=conversation.id, direction="note").count() == 1
    assert len(fake.sent) == sent_before  # never sent to the customer


async def test_transfer_and_escalation(server, wa):
    conversation, _ = await _conversation(server, wa)
    alice, bob = await make_user(Role.AGENT), await make_user(Role.AGENT)
    boss = await make_user(Role.SUPERVISOR)
    alice_token, bob_token = await login(server, alice), await login(server, bob)
    cid = _gid(conversation)
    to_bob = {"id": cid, "to": to_global_id("User", bob.id), "r": "Bob speaks German"}
    moved = await gql(server, TRANSFER, to_bob, alice_token)
    assert moved["data"]["transferConversation"]["assignee"]["id"] == to_global_id("User", bob.id)
    back = await gql(server, TRANSFER, {**to_bob, "to": to_global_id("User", alice.id)}, alice_token)
    assert back["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # not Alice's any more
    no_reason = await gql(
        server, TRANSFER, {**to_bob, "to": to_global_id("User", alice.id), "r": " "}, bob_token
    )
    assert no_reason["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

    not_a_boss = await gql(
        server, ESCALATE, {"id": cid, "r": "angry", "to": to_global_id("User", alice.id)}, bob_token
    )
    assert not_a_boss["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    up = await gql(
        server,
        ESCALATE,
        {"id": cid, "r": "asks for a refund over the limit", "to": to_global_id("User", boss.id)},
        bob_token,
    )
    assert up["data"]["escalateConversation"] == {
        "escalationLevel": 1,
        "priority": "HIGH",
        "assignee": {"id": to_global_id("User", boss.id)},
    }
    escalated = await gql(server, LIST, {"f": {"escalated": True}}, bob_token)
    assert cid in [e["node"]["id"] for e in escalated["data"]["conversations"]["edges"]]
    timeline = await gql(server, TIMELINE, {"id": cid}, bob_token)
    kinds = [(a["type"], a["actor"]["id"]) for a in timeline["data"]["node"]["activities"]]
    assert kinds == [
        ("transferred", to_global_id("User", alice.id)),
        ("escalated", to_global_id("User", bob.id)),
    ]
    assert timeline["data"]["node"]["activities"][0]["data"]["reason"] == "Bob speaks German"


async def test_bulk_changes_report_what_could_not_change(server, wa):
    conversations = [(await _conversation(server, wa))[0] for _ in range(3)]
    token = await login(server, await make_user(Role.SUPERVISOR))
    await Conversation.filter(id=conversations[2].id).update(status="closed")
    ids = [_gid(c) for c in conversations]
    result = await gql(
        server,
        BULK,
        {"input": {"conversationIds": ids, "status": "RESOLVED", "addLabels": ["spring-sale"]}},
        token,
    )
    data = result["data"]["bulkUpdateConversations"]
    assert {c["id"] for c in data["updated"]} == set(ids[:2])
    assert all(c["status"] == "RESOLVED" and c["labels"] == ["spring-sale"] for c in data["updated"])
    assert [(e["conversationId"], e["code"]) for e in data["errors"]] == [(ids[2], "INVALID_TRANSITION")]
    empty = await gql(server, BULK, {"input": {"conversationIds": ids}}, token)
    assert empty["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
