"""Smart assignment: routing to teams, each strategy, capacity and the queue, sticky customers,
offline agents re-queued, and — with several real processes draining at once — nobody over
capacity and no conversation assigned twice."""

from __future__ import annotations

import asyncio
import multiprocessing
import uuid
from datetime import UTC, datetime, timedelta

from connectors.base import InboundMessage, MessageKind, ParsedWebhook
from models import Conversation, ConversationActivity, Role, RoutingRule, Team, TeamMember, User
from resolvers import assignment
from resolvers.inbound import ingest
from schema.relay import to_global_id
from tests.conftest import DATABASE_URL
from tests.helpers import eventually, gql, login, make_user, make_whatsapp_channel

QUEUE = (
    """query($id: ID!) { node(id: $id) { ... on Conversation { queuePosition assignee { id } teamId } } }"""
)
STATUS = """mutation($id: ID!, $s: ConversationStatus!) { setConversationStatus(conversationId: $id, status: $s) { status } }"""
PRESENCE = """mutation($p: AgentPresence!) { setMyPresence(presence: $p) }"""
SAVE_TEAM = """mutation($name: String!, $members: [ID!]!, $strategy: AssignmentStrategy!) {
  saveTeam(name: $name, memberIds: $members, strategy: $strategy) { id name strategy memberIds } }"""
RULE = """mutation($team: ID!, $channel: ID) { addRoutingRule(teamId: $team, channelId: $channel) }"""


async def _team(
    strategy: str, agents: list[User], *, sticky: bool = True, grace: int = 300
) -> tuple[Team, object]:
    """A team with its own channel and a routing rule for that channel only (other tests' traffic
    never reaches it)."""
    team = await Team.create(
        name=f"team-{uuid.uuid4().hex[:8]}", strategy=strategy, sticky=sticky, offline_grace_seconds=grace
    )
    for agent in agents:
        await TeamMember.create(team_id=team.id, user_id=agent.id)
    channel, _ = await make_whatsapp_channel("http://127.0.0.1:9")
    await RoutingRule.create(team_id=team.id, channel_id=channel.id)
    return team, channel


async def _agent(capacity: int = 10, *, online: bool = True, skills: list[str] | None = None) -> User:
    user = await make_user(Role.AGENT)
    user.capacity = capacity
    user.skills = skills or []
    user.presence = "online" if online else "offline"
    user.last_seen_at = datetime.now(UTC)
    await user.save()
    return user


async def _arrive(channel, sender: str | None = None, language: str | None = None) -> Conversation:  # type: ignore[no-untyped-def]
    sender = sender or "4420" + str(uuid.uuid4().int)[:8]
    message = InboundMessage(
        platform_message_id=f"wamid.{uuid.uuid4().hex}",
        sender_id=sender,
        sent_at=datetime.now(UTC),
        kind=MessageKind.TEXT,
        text="hi",
        metadata={"language": language} if language else {},
    )
    result = await ingest(channel.id, "whatsapp", ParsedWebhook(messages=(message,)))
    assert result.stored == 1
    return await Conversation.filter(channel_id=channel.id).order_by("-id").first()  # type: ignore[return-value]


async def _assignee(conversation: Conversation) -> int | None:
    return (await Conversation.get(id=conversation.id)).assignee_id


async def _settle(conversations: list[Conversation], assigned: int) -> list[int | None]:
    """Drain here and wait: every arrival also requests a drain in the server's own worker, and
    whichever gets to a conversation first assigns it (the other skips it)."""
    await assignment.drain_queue()

    async def done() -> list[int | None] | None:
        owners = [await _assignee(c) for c in conversations]
        return owners if sum(o is not None for o in owners) == assigned else None

    return await eventually(done, timeout=15)


async def test_least_loaded_within_capacity_then_the_queue(server):
    light, roomy = await _agent(capacity=1), await _agent(capacity=2)
    team, channel = await _team("least_loaded", [light, roomy])
    conversations = [await _arrive(channel) for _ in range(4)]
    owners = await _settle(conversations, 3)
    assert sorted(o for o in owners if o) == sorted([light.id, roomy.id, roomy.id])
    waiting = conversations[owners.index(None)]
    assert (await Conversation.get(id=waiting.id)).team_id == team.id

    token = await login(server, roomy)
    body = await gql(server, QUEUE, {"id": to_global_id("Conversation", waiting.id)}, token)
    assert body["data"]["node"]["queuePosition"] == 1 and body["data"]["node"]["assignee"] is None

    # Roomy resolves one: the queued conversation goes to whoever now has room, at once.
    done = next(c for c, o in zip(conversations, owners, strict=True) if o == roomy.id)
    assert (await gql(server, STATUS, {"id": to_global_id("Conversation", done.id), "s": "RESOLVED"}, token))[
        "data"
    ]
    assert await eventually(lambda: _assignee(waiting), timeout=15) == roomy.id
    activity = await ConversationActivity.get(conversation_id=waiting.id, type="assigned")
    assert activity.actor_id is None and activity.data["strategy"] == "least_loaded"


async def test_round_robin_takes_turns(server):
    agents = [await _agent() for _ in range(3)]
    _, channel = await _team("round_robin", agents, sticky=False)
    owners = []
    for _ in range(6):
        conversation = await _arrive(channel)
        owners += await _settle([conversation], 1)
    assert owners[:3] == [a.id for a in agents] and owners[3:] == owners[:3]


async def test_sticky_customer_returns_to_their_agent(server):
    first, second = await _agent(), await _agent()
    _, channel = await _team("round_robin", [first, second])
    customer = "4421" + str(uuid.uuid4().int)[:8]
    conversation = await _arrive(channel, customer)
    (owner,) = await _settle([conversation], 1)
    await Conversation.filter(id=conversation.id).update(status="closed")
    again = await _arrive(channel, customer)
    assert again.id != conversation.id
    assert await _settle([again], 1) == [owner]
    assert (await ConversationActivity.get(conversation_id=again.id, type="assigned")).data[
        "strategy"
    ] == "sticky"


async def test_a_row_referencing_the_agent_being_written_does_not_lose_stickiness(server):
    """Another transaction inserting a row that refers to the agent (a status log entry, an
    activity, a conversation: PostgreSQL's foreign-key check takes KEY SHARE on the user's row)
    does not make the agent look busy to the drainers: the customer still returns to them."""
    import asyncpg

    from core.db import asyncpg_dsn

    first, second = await _agent(), await _agent()
    _, channel = await _team("round_robin", [first, second])
    customer = "4422" + str(uuid.uuid4().int)[:8]
    conversation = await _arrive(channel, customer)
    (owner,) = await _settle([conversation], 1)
    await Conversation.filter(id=conversation.id).update(status="closed")
    holder = await asyncpg.connect(asyncpg_dsn(DATABASE_URL))
    try:
        async with holder.transaction():
            await holder.execute("SELECT 1 FROM users WHERE id = $1 FOR KEY SHARE", owner)
            again = await _arrive(channel, customer)
            assert await _settle([again], 1) == [owner]
    finally:
        await holder.close()


async def test_manual_team_and_unrouted_conversations_wait(server):
    agent = await _agent()
    _, channel = await _team("manual", [agent])
    conversation = await _arrive(channel)
    await assignment.drain_queue()
    assert await _assignee(conversation) is None
    unrouted_channel, _ = await make_whatsapp_channel("http://127.0.0.1:9")
    unrouted = await _arrive(unrouted_channel)
    assert (await Conversation.get(id=unrouted.id)).queued_at is None  # no rule: taken by hand


async def test_language_needs_the_skill(server):
    english, portuguese = await _agent(skills=["en"]), await _agent(skills=["pt", "en"])
    _, channel = await _team("least_loaded", [english, portuguese])
    conversation = await _arrive(channel, language="pt")
    assert await _settle([conversation], 1) == [portuguese.id]


async def test_offline_agents_conversations_are_requeued_after_the_grace(server):
    leaving, staying = await _agent(), await _agent(online=False)
    _, channel = await _team("least_loaded", [leaving, staying], sticky=False, grace=0)
    conversation = await _arrive(channel)
    assert await _settle([conversation], 1) == [leaving.id]

    leaving_token, staying_token = await login(server, leaving), await login(server, staying)
    assert (await gql(server, PRESENCE, {"p": "OFFLINE"}, leaving_token))["data"][
        "setMyPresence"
    ] == "OFFLINE"
    await User.filter(id=leaving.id).update(presence_changed_at=datetime.now(UTC) - timedelta(seconds=5))
    assert (await gql(server, PRESENCE, {"p": "ONLINE"}, staying_token))["data"]["setMyPresence"] == "ONLINE"
    assert conversation.id in await assignment.requeue_offline_agents()
    assert await _settle([conversation], 1) == [staying.id]
    kinds = [
        a.type for a in await ConversationActivity.filter(conversation_id=conversation.id).order_by("id")
    ]
    assert kinds == ["assigned", "requeued", "assigned"]


async def test_teams_and_rules_through_the_api_are_audited(server):
    from models import AuditLog

    supervisor = await make_user(Role.SUPERVISOR)
    agent = await _agent()
    token = await login(server, supervisor)
    body = await gql(
        server,
        SAVE_TEAM,
        {
            "name": f"billing-{uuid.uuid4().hex[:6]}",
            "members": [to_global_id("User", agent.id)],
            "strategy": "ROUND_ROBIN",
        },
        token,
    )
    team = body["data"]["saveTeam"]
    assert team["strategy"] == "ROUND_ROBIN" and team["memberIds"] == [to_global_id("User", agent.id)]
    channel, _ = await make_whatsapp_channel("http://127.0.0.1:9")
    rule = await gql(
        server, RULE, {"team": team["id"], "channel": to_global_id("Channel", channel.id)}, token
    )
    assert rule.get("errors") is None, rule
    assert (
        await AuditLog.filter(
            action__in=["team.create", "routing_rule.create"], actor_id=supervisor.id
        ).count()
        == 2
    )
    agent_token = await login(server, agent)
    refused = await gql(server, SAVE_TEAM, {"name": "nope", "members": [], "strategy": "MANUAL"}, agent_token)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


UPDATE_AGENT = """mutation($user: ID!, $capacity: Int, $platforms: JSON) {
  updateAgent(userId: $user, capacity: $capacity, platformCapacity: $platforms) { id capacity platformCapacity } }"""


async def test_per_platform_capacity_through_the_api_limits_assignment(server):
    """Settings → Users sets an agent's per-platform capacity with updateAgent: supervisors only,
    audited, the answer carries it, unknown platforms and non-numbers are refused, and the
    assignment then gives the agent no more of that platform's conversations than it says."""
    from models import AuditLog

    agent = await _agent(capacity=10)
    supervisor = await login(server, await make_user(Role.SUPERVISOR))
    user_id = to_global_id("User", agent.id)
    for bad in ({"whatsap": 1}, {"whatsapp": "2"}, {"whatsapp": 1001}, {"whatsapp": True}):
        refused = await gql(server, UPDATE_AGENT, {"user": user_id, "platforms": bad}, supervisor)
        assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", (bad, refused)
        assert refused["errors"][0]["extensions"]["field"] == "platformCapacity"
    own = await gql(
        server, UPDATE_AGENT, {"user": user_id, "platforms": {"whatsapp": 1}}, await login(server, agent)
    )
    assert own["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await User.get(id=agent.id)).platform_capacity == {}

    body = await gql(
        server, UPDATE_AGENT, {"user": user_id, "platforms": {"whatsapp": 1, "sms": 0}}, supervisor
    )
    assert body.get("errors") is None, body
    assert body["data"]["updateAgent"]["platformCapacity"] == {"whatsapp": 1, "sms": 0}
    assert body["data"]["updateAgent"]["capacity"] == 10
    entry = await AuditLog.filter(action="agent.update", target_id=str(agent.id)).order_by("-id").first()
    assert entry is not None and entry.details["platform_capacity"] == {"whatsapp": 1, "sms": 0}

    _, channel = await _team("least_loaded", [agent])
    conversations = [await _arrive(channel) for _ in range(2)]
    owners = await _settle(conversations, 1)  # the overall capacity (10) has room; WhatsApp's (1) not
    assert sorted(owners, key=lambda o: o is None) == [agent.id, None]

    # Raised: the waiting one is taken at once (the change asks for a drain).
    raised = await gql(server, UPDATE_AGENT, {"user": user_id, "platforms": {"whatsapp": 2}}, supervisor)
    assert raised.get("errors") is None, raised
    assert await eventually(lambda: _assignee(conversations[owners.index(None)]), timeout=15) == agent.id


# ---- concurrency: real processes draining one queue at once ---------------------------------------


def _drain_in_process(database_url: str, rounds: int) -> None:
    async def go() -> None:
        from core.db import close_orm, init_orm

        await init_orm(database_url)
        try:
            for _ in range(rounds):
                await assignment.drain_queue()
                await asyncio.sleep(0)
        finally:
            await close_orm()

    asyncio.run(go())


async def test_concurrent_processes_never_exceed_capacity_or_assign_twice(server):
    # Agents come online only once the whole queue is there (straight in the database, so no
    # drain is requested): then four processes race for it at the same moment.
    agents = [await _agent(capacity=3, online=False) for _ in range(5)]
    _, channel = await _team("least_loaded", agents, sticky=False)
    conversations = [await _arrive(channel) for _ in range(40)]
    await User.filter(id__in=[a.id for a in agents]).update(presence="online", last_seen_at=datetime.now(UTC))
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_drain_in_process, args=(DATABASE_URL, 3)) for _ in range(4)]
    for worker in workers:
        worker.start()
    await asyncio.to_thread(lambda: [w.join(120) for w in workers])
    assert all(w.exitcode == 0 for w in workers)
    assert await assignment.drain_queue() == []  # the racers took all there was room for

    loads = {a.id: await Conversation.filter(assignee_id=a.id, status="open").count() for a in agents}
    assert loads == {a.id: 3 for a in agents}, loads
    ids = [c.id for c in conversations]
    assert await Conversation.filter(id__in=ids, assignee_id__isnull=False).count() == 15
    assert (
        await Conversation.filter(id__in=ids, assignee_id__isnull=True, queued_at__isnull=False).count() == 25
    )
    assigned = await ConversationActivity.filter(conversation_id__in=ids, type="assigned").values_list(
        "conversation_id", flat=True
    )
    assert len(assigned) == len(set(assigned)) == 15


TRANSFER_TEAM = """mutation($id: ID!, $team: ID!, $r: String!) {
  transferConversation(conversationId: $id, toTeamId: $team, reason: $r) { teamId assignee { id } } }"""
LABEL = """mutation($id: ID!, $add: [String!]) { changeConversationLabels(conversationId: $id, add: $add) { labels teamId } }"""
ASSIGN = """mutation($id: ID!, $u: ID) { assignConversation(conversationId: $id, userId: $u) { id } }"""


async def test_transfer_to_a_team_and_topic_routing(server):
    first_line = await _agent()
    billing_agent = await _agent()
    _, channel = await _team("least_loaded", [first_line], sticky=False)
    billing = await Team.create(name=f"billing-{uuid.uuid4().hex[:6]}", strategy="least_loaded", sticky=False)
    await TeamMember.create(team_id=billing.id, user_id=billing_agent.id)
    topic = f"invoice-{uuid.uuid4().hex[:6]}"
    await RoutingRule.create(team_id=billing.id, topic=topic)

    conversation = await _arrive(channel)
    assert await _settle([conversation], 1) == [first_line.id]
    token = await login(server, first_line)
    cid = to_global_id("Conversation", conversation.id)
    moved = await gql(
        server,
        TRANSFER_TEAM,
        {"id": cid, "team": to_global_id("Team", billing.id), "r": "a billing question"},
        token,
    )
    assert moved["data"]["transferConversation"] == {
        "teamId": to_global_id("Team", billing.id),
        "assignee": None,
    }
    assert await _settle([conversation], 1) == [billing_agent.id]  # the team's strategy picked

    # An unassigned conversation labelled with a topic goes to the team that routes that topic.
    unrouted_channel, _ = await make_whatsapp_channel("http://127.0.0.1:9")
    other = await _arrive(unrouted_channel)
    assert (await Conversation.get(id=other.id)).team_id is None
    labelled = await gql(server, LABEL, {"id": to_global_id("Conversation", other.id), "add": [topic]}, token)
    assert labelled["data"]["changeConversationLabels"]["teamId"] == to_global_id("Team", billing.id)
    assert await _settle([other], 1) == [billing_agent.id]
    kinds = [a.type for a in await ConversationActivity.filter(conversation_id=other.id).order_by("id")]
    assert kinds == ["labels_changed", "routed", "assigned"]


async def test_taking_a_conversation_by_hand_is_in_the_timeline(server):
    agent = await _agent()
    channel, _ = await make_whatsapp_channel("http://127.0.0.1:9")
    conversation = await _arrive(channel)
    token = await login(server, agent)
    cid = to_global_id("Conversation", conversation.id)
    assert (await gql(server, ASSIGN, {"id": cid, "u": to_global_id("User", agent.id)}, token)).get(
        "errors"
    ) is None
    assert (await gql(server, ASSIGN, {"id": cid, "u": None}, token)).get("errors") is None
    activities = await ConversationActivity.filter(conversation_id=conversation.id).order_by("id")
    assert [(a.type, a.actor_id) for a in activities] == [("assigned", agent.id), ("unassigned", agent.id)]
