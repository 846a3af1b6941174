"""Who sees what: two agents in different teams each see their own team's conversations (and
those assigned to them) in the inbox, search, saved views' counts, node(id:), customers, sends
and every subscription, and never the other team's; a change of teams or an admin's "see all"
grant applies at once, to live subscriptions too."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest

from models import AssignmentStrategy, Conversation, Message, Role, SlaTimer, Team, TeamMember, User
from resolvers import sla
from schema.relay import to_global_id
from tests.helpers import (
    Subscriber,
    SubscriptionError,
    error_code,
    eventually,
    gql,
    login,
    make_user,
    post_webhook,
    wa_text_payload,
)
from tests.test_assignment import _arrive, _team

INBOX = "subscription { inboxEvents { cursor type conversation { id } } }"
CONVERSATION_EVENTS = (
    "subscription($id: ID!) { conversationEvents(conversationId: $id) { type message { text } } }"
)
LIST = "query($c: ID!) { conversations(first: 50, filter: {channelId: $c}) { edges { node { id } } } }"
SLA_POLICY = """mutation($name: String!, $team: ID, $first: Int) { createSlaPolicy(input: {name: $name,
  teamId: $team, timezone: "UTC", businessHours: {}, firstResponseSeconds: $first, warnBeforeSeconds: 30}) { id } }"""
SLA_EVENTS = "subscription { slaEvents { type timer { conversationId } } }"
UPDATE_USER = "mutation($u: ID!, $i: UpdateUserInput!) { updateUser(userId: $u, input: $i) { id } }"


@dataclass
class Side:
    """One team: its agent (who sees only their team's conversations), token and conversation."""

    team: Team
    agent: User
    token: str
    conversation: Conversation
    wa_id: str
    word: str  # said only in this side's conversation

    @property
    def gid(self) -> str:
        return to_global_id("Conversation", self.conversation.id)


async def _say(server: str, wa, side: Side, text: str) -> None:  # type: ignore[no-untyped-def]
    channel, secrets, _ = wa
    body = wa_text_payload(channel.config["phone_number_id"], side.wa_id, text)
    assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200


async def _side(server: str, wa, label: str) -> Side:  # type: ignore[no-untyped-def]
    channel, secrets, _ = wa
    team = await Team.create(name=f"team-{label}-{uuid.uuid4().hex[:8]}", strategy=AssignmentStrategy.MANUAL)
    agent = await make_user(Role.AGENT, name=f"Agent {label}", sees_all=False)
    await TeamMember.create(team_id=team.id, user_id=agent.id)
    wa_id = "5531" + str(uuid.uuid4().int)[:8]
    word = f"zq{uuid.uuid4().hex[:10]}"
    body = wa_text_payload(channel.config["phone_number_id"], wa_id, f"hello {word}")
    assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200
    conversation = await Conversation.filter(channel_id=channel.id, identity__external_id=wa_id).first()
    assert conversation is not None
    await Conversation.filter(id=conversation.id).update(team_id=team.id)
    conversation.team_id = team.id  # type: ignore[attr-defined]
    return Side(team, agent, await login(server, agent), conversation, wa_id, word)


@pytest.fixture
async def sides(server, wa):  # type: ignore[no-untyped-def]
    return await _side(server, wa, "A"), await _side(server, wa, "B")


def _ids(body: dict) -> set[str]:
    return {e["node"]["id"] for e in body["data"]["conversations"]["edges"]}


async def test_each_agent_reads_only_their_teams_conversations(server, wa, sides):
    a, b = sides
    channel = to_global_id("Channel", wa[0].id)
    admin = await login(server, await make_user(Role.ADMIN))
    assert {a.gid, b.gid} <= _ids(await gql(server, LIST, {"c": channel}, admin))
    assert _ids(await gql(server, LIST, {"c": channel}, a.token)) == {a.gid}
    assert _ids(await gql(server, LIST, {"c": channel}, b.token)) == {b.gid}

    # By id, through node, its messages and its customer: as if it did not exist.
    other = await gql(server, "query($id: ID!) { conversation(id: $id) { id } }", {"id": b.gid}, a.token)
    assert error_code(other) == "NOT_FOUND", other
    assert (
        error_code(await gql(server, "query($id: ID!) { node(id: $id) { id } }", {"id": b.gid}, a.token))
        == "NOT_FOUND"
    )
    message = await Message.filter(conversation_id=b.conversation.id).first()
    customer = to_global_id("Customer", b.conversation.customer_id)  # type: ignore[attr-defined]
    for gid in (to_global_id("Message", message.id), customer):  # type: ignore[union-attr]
        body = await gql(server, "query($id: ID!) { node(id: $id) { id } }", {"id": gid}, a.token)
        assert body["data"] == {"node": None}, body
        seen = await gql(server, "query($id: ID!) { node(id: $id) { id } }", {"id": gid}, b.token)
        assert seen["data"]["node"]["id"] == gid, seen

    # Search: the other team's words find nothing; one's own do.
    search = "query($q: String!) { search(query: $q) { edges { node { id } } } }"
    mine = await gql(server, search, {"q": a.word}, a.token)
    assert [e["node"]["id"] for e in mine["data"]["search"]["edges"]] == [a.gid]
    theirs = await gql(server, search, {"q": b.word}, a.token)
    assert theirs["data"]["search"]["edges"] == []
    by_customer = await gql(server, search, {"q": b.wa_id}, a.token)  # a match on the customer's phone
    assert by_customer["data"]["search"]["edges"] == []

    # Saved views count what their owner may see, live too.
    save = "mutation($n: String!, $c: ID!) { saveView(name: $n, filter: {channelId: $c}) { count } }"
    assert (await gql(server, save, {"n": "a", "c": channel}, a.token))["data"]["saveView"]["count"] == 1
    assert (await gql(server, save, {"n": "a", "c": channel}, admin))["data"]["saveView"]["count"] >= 2
    counts = await Subscriber.open(server, a.token, "subscription { savedViewCounts { count } }")
    assert (await counts.next())["savedViewCounts"] == [{"count": 1}]
    await counts.close()

    # Acting on it is refused the same way.
    send = "mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }"
    sent = await gql(
        server, send, {"i": {"conversationId": b.gid, "clientMessageId": "x1", "text": "hi"}}, a.token
    )
    assert error_code(sent) == "NOT_FOUND", sent
    status = "mutation($id: ID!) { setConversationStatus(conversationId: $id, status: PENDING) { id } }"
    assert error_code(await gql(server, status, {"id": b.gid}, a.token)) == "NOT_FOUND"
    typing = "mutation($id: ID!) { setTyping(conversationId: $id, typing: true) }"
    assert error_code(await gql(server, typing, {"id": b.gid}, a.token)) == "NOT_FOUND"
    render = "query($t: ID!, $c: ID!) { renderTemplate(id: $t, conversationId: $c) { text } }"
    rendered = await gql(server, render, {"t": to_global_id("ResponseTemplate", 1), "c": b.gid}, a.token)
    assert error_code(rendered) == "NOT_FOUND" and "conversation" in rendered["errors"][0]["message"], (
        rendered
    )
    merge = "mutation($s: ID!, $t: ID!) { mergeCustomers(sourceId: $s, targetId: $t) { id } }"
    mine_customer = to_global_id("Customer", a.conversation.customer_id)  # type: ignore[attr-defined]
    assert error_code(await gql(server, merge, {"s": customer, "t": mine_customer}, a.token)) == "NOT_FOUND"


async def test_assignment_and_the_see_all_grant_widen_it_at_once(server, wa, sides):
    a, b = sides
    channel = to_global_id("Channel", wa[0].id)
    admin = await login(server, await make_user(Role.ADMIN))
    assign = "mutation($c: ID!, $u: ID) { assignConversation(conversationId: $c, userId: $u) { id } }"
    body = await gql(server, assign, {"c": b.gid, "u": to_global_id("User", a.agent.id)}, admin)
    assert "errors" not in body, body
    assert _ids(await gql(server, LIST, {"c": channel}, a.token)) == {a.gid, b.gid}  # assigned to A
    await gql(server, assign, {"c": b.gid, "u": None}, admin)
    assert _ids(await gql(server, LIST, {"c": channel}, a.token)) == {a.gid}

    agent_a = to_global_id("User", a.agent.id)
    assert "errors" not in await gql(
        server, UPDATE_USER, {"u": agent_a, "i": {"seesAllConversations": True}}, admin
    )
    assert {a.gid, b.gid} <= _ids(await gql(server, LIST, {"c": channel}, a.token))  # the same token
    await gql(server, UPDATE_USER, {"u": agent_a, "i": {"seesAllConversations": False}}, admin)
    assert _ids(await gql(server, LIST, {"c": channel}, a.token)) == {a.gid}


async def test_agents_see_teammates_names_but_not_their_email_or_role(server, wa, sides):
    a, _ = sides
    supervisor = await make_user(Role.SUPERVISOR, name="Sam Supervisor")
    admin = await login(server, await make_user(Role.ADMIN))
    assign = "mutation($c: ID!, $u: ID) { assignConversation(conversationId: $c, userId: $u) { id } }"
    await gql(server, assign, {"c": a.gid, "u": to_global_id("User", supervisor.id)}, admin)
    query = "query($id: ID!) { conversation(id: $id) { assignee { name email role } } }"
    as_agent = await gql(server, query, {"id": a.gid}, a.token)
    assert as_agent["data"]["conversation"]["assignee"] == {
        "name": "Sam Supervisor",
        "email": None,
        "role": None,
    }
    assert supervisor.email not in str(as_agent)
    as_admin = await gql(server, query, {"id": a.gid}, admin)
    assert as_admin["data"]["conversation"]["assignee"] == {
        "name": "Sam Supervisor",
        "email": supervisor.email,
        "role": "SUPERVISOR",
    }
    me = await gql(server, "{ me { email role } }", None, a.token)
    assert me["data"]["me"] == {"email": a.agent.email, "role": "AGENT"}


async def _next_conversation(subscriber: Subscriber) -> str:
    return (await subscriber.next(timeout=20))["inboxEvents"]["conversation"]["id"]


async def test_subscriptions_never_carry_another_teams_events(server, wa, sides):
    a, b = sides
    admin = await login(server, await make_user(Role.ADMIN))
    inbox_a = await Subscriber.open(server, a.token, INBOX)
    inbox_b = await Subscriber.open(server, b.token, INBOX)
    presence = "subscription($id: ID!) { conversationPresence(conversationId: $id) { name } }"
    for document in (CONVERSATION_EVENTS, presence):
        refused = await Subscriber.open(server, a.token, document, {"id": b.gid})
        with pytest.raises(SubscriptionError) as denied:
            await refused.next()
        assert denied.value.code == "NOT_FOUND"
        await refused.close()
    events_a = await Subscriber.open(server, a.token, CONVERSATION_EVENTS, {"id": a.gid})
    await asyncio.sleep(0.5)  # subscribed (the replay-then-live handover is the event log's own test)
    try:
        # B's conversation changes first, then A's: had B's event leaked to A it would come first.
        await _say(server, wa, b, "for team B only")
        await _say(server, wa, a, "for team A")
        assert await _next_conversation(inbox_a) == a.gid
        assert await _next_conversation(inbox_b) == b.gid
        assert (await events_a.next(timeout=20))["conversationEvents"]["message"]["text"] == "for team A"

        # A joins B's team: the live subscription follows, with no reconnect.
        agent_a = to_global_id("User", a.agent.id)
        both = [to_global_id("Team", a.team.id), to_global_id("Team", b.team.id)]
        assert "errors" not in await gql(server, UPDATE_USER, {"u": agent_a, "i": {"teamIds": both}}, admin)
        await _say(server, wa, b, "now A sees this")
        assert await _next_conversation(inbox_a) == b.gid

        # And leaves it again: B's conversation is removed from A's inbox, and its events stop.
        only_a = [to_global_id("Team", a.team.id)]
        assert "errors" not in await gql(server, UPDATE_USER, {"u": agent_a, "i": {"teamIds": only_a}}, admin)
        removed = (await inbox_a.next(timeout=20))["inboxEvents"]
        assert (removed["conversation"]["id"], removed["type"]) == (b.gid, "CONVERSATION_REMOVED")
        await _say(server, wa, b, "hidden again")
        await _say(server, wa, a, "still mine")
        assert await _next_conversation(inbox_a) == a.gid
    finally:
        for subscriber in (inbox_a, inbox_b, events_a):
            await subscriber.close()


async def test_a_conversation_moved_to_another_team_ends_its_subscription(server, wa, sides):
    a, b = sides
    events_a = await Subscriber.open(server, a.token, CONVERSATION_EVENTS, {"id": a.gid})
    await asyncio.sleep(0.5)
    try:
        admin = await login(server, await make_user(Role.ADMIN))
        transfer = 'mutation($id: ID!, $t: ID!) { transferConversation(conversationId: $id, toTeamId: $t, reason: "x") { id } }'
        body = await gql(server, transfer, {"id": a.gid, "t": to_global_id("Team", b.team.id)}, admin)
        assert "errors" not in body, body
        with pytest.raises(SubscriptionError) as ended:
            await events_a.next_where(lambda _: False, timeout=20)
        assert ended.value.code == "NOT_FOUND"
    finally:
        await events_a.close()


async def test_sla_events_reach_only_supervisors_who_see_the_conversation(server):
    """Two supervisors, each of one team with its own channel and SLA policy: each breach reaches
    the supervisor of its team only."""
    supervisors, conversations = [], []
    for label, seconds in (("A", 3600), ("B", 60)):  # B's due long before A's
        supervisor = await make_user(Role.SUPERVISOR, name=f"Supervisor {label}", sees_all=False)
        team, channel = await _team("manual", [supervisor])
        policy = {
            "name": f"p-{uuid.uuid4().hex[:6]}",
            "team": to_global_id("Team", team.id),
            "first": seconds,
        }
        created = await gql(server, SLA_POLICY, policy, await login(server, await make_user(Role.ADMIN)))
        assert created.get("errors") is None, created
        supervisors.append(await login(server, supervisor))
        conversations.append(await _arrive(channel))
    live = [await Subscriber.open(server, token, SLA_EVENTS) for token in supervisors]
    await asyncio.sleep(0.5)
    try:
        for conversation in reversed(conversations):  # B's breach first: had it leaked, A would see it first
            (timer,) = await eventually(
                lambda c=conversation: SlaTimer.filter(conversation_id=c.id, kind="first_response"),
                timeout=15,
            )
            fired = await sla.check(now=timer.due_at + timedelta(seconds=1))
            assert "SLA_BREACHED" in [event for _, event in fired]
        for subscriber, conversation in zip(live, conversations, strict=True):
            event = await subscriber.next_where(
                lambda d: d["slaEvents"]["type"] == "SLA_BREACHED", timeout=20
            )
            assert event["slaEvents"]["timer"]["conversationId"] == to_global_id(
                "Conversation", conversation.id
            )
    finally:
        for subscriber in live:
            await subscriber.close()
