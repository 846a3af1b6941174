"""The read path planner (schema/planner/): which documents it plans and which it leaves to the
general executor, its cache, the statements it runs, and, property-based over real HTTP on a
seeded database, byte-identical answers from the planner and from the general executor for random
selections, arguments, fragments and callers (agents of a team, agents of none, a supervisor, an
admin, API keys with and without the scope, nobody)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import schema.planner.execution as planner
from models import (
    Conversation,
    ConversationActivity,
    Customer,
    CustomerIdentity,
    Message,
    Role,
    SlaPolicy,
    SlaTimer,
    Team,
    TeamMember,
)
from schema.planner.compile import Plan, Unplannable, compile_plan
from schema.planner.execution import PlanCache
from schema.relay import to_global_id
from tests.helpers import gql, login, make_channel, make_user
from tests.test_frontend_contract import _documents

# The server runs in this process, and its other threads (the in-process worker) use `random`
# while hypothesis draws: hypothesis takes that for randomness in the strategies, which have none.
pytestmark = pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")

# --- what is planned, what falls back ----------------------------------------------------------


@pytest.fixture(scope="module")
def graphql_schema():  # type: ignore[no-untyped-def]
    from schema import build_schema

    return build_schema()._schema


def _compile(graphql_schema, document: str, name: str | None = None) -> Plan:  # type: ignore[no-untyped-def]
    parsed = parse(document)
    operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    operation = next(o for o in operations if name is None or (o.name and o.name.value == name))
    fragments = {d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)}
    return compile_plan(graphql_schema, operation, fragments)


PLANNED = [
    "{ conversations { edges { cursor node { id status customer { name } assignee { name email role } "
    "lastMessage { text sender { name } attachments { kind url } } channel { name health } } } "
    "pageInfo { hasNextPage endCursor } } }",
    "query Q($id: ID!) { conversation(id: $id) { id messages(last: 5) { edges { cursor node { id text } } "
    "pageInfo { hasPreviousPage } } activities { type actor { name } } slaTimers { kind dueAt } "
    "queuePosition replyTargets { channelName available } } }",
    '{ search(query: "x") { edges { cursor rank node { id } matchedMessage { text } } pageInfo { endCursor } } }',
    "{ me { id name email role } users { id skills } channels { id name health secretsSet } }",
    "{ __typename a: conversations(first: 3) { edges { node { ...C ... on Conversation { labels } ... { id } } } } } "
    "fragment C on Conversation { customer { phone identities { platform externalId } } }",
]

UNPLANNED = [
    ('mutation { markConversationRead(conversationId: "x") { id } }', "not a query"),
    ("subscription { inboxEvents { cursor } }", "not a query"),
    ('{ node(id: "x") { id } }', "root field node"),
    ("{ teams { id } }", "root field teams"),
    ("{ conversations { edges { node { id @include(if: true) } } } }", "directive"),
    ("query @x { conversations { edges { node { id } } } }", "directive"),
    # A statement per row: messages, activities and SLA timers of every conversation of a page.
    ("{ conversations { edges { node { messages { edges { node { id } } } } } } }", "in a list"),
    ("{ conversations { edges { node { activities { type } } } } }", "in a list"),
    ('{ search(query: "x") { edges { node { queuePosition } } } }', "in a list"),
    ("{ conversations { edges { node { queuePosition } } } }", "in a list"),
    ("{ conversations { __schema { types { name } } } }", "field"),
]


@pytest.mark.parametrize("document", PLANNED)
def test_documents_over_the_hot_types_are_planned(graphql_schema, document):
    plan = _compile(graphql_schema, document)
    assert plan.root.type_name == "Query" and plan.root.fields


@pytest.mark.parametrize(("document", "why"), UNPLANNED)
def test_what_the_planner_leaves_to_the_general_executor(graphql_schema, document, why):
    with pytest.raises(Unplannable, match=why):
        _compile(graphql_schema, document)


def test_fields_merge_across_fragments_in_the_order_execution_gives_them(graphql_schema):
    plan = _compile(
        graphql_schema,
        "{ conversation(id: 1) { status ...F customer { name } id c: customer { phone } } } "
        "fragment F on Conversation { id customer { email } priority }",
    )
    (root,) = plan.root.fields
    conversation = root.out.selection
    assert [f.key for f in conversation.fields] == ["status", "id", "customer", "priority", "c"]
    customer = conversation.fields[2].out.selection
    assert [f.key for f in customer.fields] == ["email", "name"]


def test_a_fragment_on_another_type_is_not_planned(graphql_schema):
    with pytest.raises(Unplannable, match="another type"):
        _compile(graphql_schema, "{ conversation(id: 1) { ... on Customer { name } } }")
    with pytest.raises(Unplannable, match="another type"):
        _compile(graphql_schema, "{ conversation(id: 1) { ...F } } fragment F on Message { id }")


def test_the_plan_cache_keeps_one_entry_per_document_and_operation_and_is_bounded(graphql_schema):
    from types import SimpleNamespace

    cache = PlanCache(maxsize=2)

    def executor(document: str, name: str | None = None) -> Any:
        parsed = parse(document)
        operation = next(
            d
            for d in parsed.definitions
            if isinstance(d, OperationDefinitionNode) and (name is None or d.name.value == name)
        )
        return SimpleNamespace(schema=graphql_schema, operation=operation, fragment_definitions={})

    two = "query A { conversations { edges { cursor } } } query B { teams { id } }"
    first = cache.plan(executor(two, "A"))
    assert isinstance(first, Plan)
    assert cache.plan(executor(two, "A")) is first  # the same text: the same plan, parsed anew or not
    assert cache.plan(executor(two, "B")) == "root field teams"  # the reason is kept too
    assert len(cache) == 2
    cache.plan(executor("{ conversations { edges { cursor } } }"))
    assert len(cache) == 2 and cache.plan(executor(two, "A")) is not first  # the oldest went


# --- the statements it runs ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("node", "expected", "in_sql"),
    [
        # The standing check, the page with each row's customer, assignee and last message, and
        # the page's SLA timers (an assignee's e-mail keeps it off the one-statement plan).
        ("customer { name } assignee { name email } lastMessage { text } slaTimers { kind dueAt }", 3, False),
        # The standing check, and the page whose rows carry everything (schema/planner/sql_json.py).
        ("customer { name } assignee { name } lastMessage { text } slaTimers { kind dueAt }", 2, True),
    ],
)
async def test_the_number_of_statements_does_not_grow_with_the_page(
    server, monkeypatch, arena, node, expected, in_sql
):
    from core.sql import db

    client_class = type(db())
    real = client_class.execute_query_dict
    statements: list[str] = []

    async def counting(self, query, *args, **kwargs):  # type: ignore[no-untyped-def]
        # The request's own statements, not the upkeep tasks' running in the same process.
        if any(
            mark in query for mark in ("= ANY($1", "FROM users u WHERE u.id = $1", "ORDER BY last_message_at")
        ):
            statements.append(query)
        return await real(self, query, *args, **kwargs)

    monkeypatch.setattr(client_class, "execute_query_dict", counting)
    monkeypatch.setattr(planner, "FORCED", True)
    document = (
        "query($n: Int, $f: ConversationFilter) { conversations(first: $n, filter: $f) { edges { node { id "
        f"{node} }} }} }} }}"
    )
    counts = []
    for size in (1, 6):  # the newest six all have an assignee: the same loads at either size
        statements.clear()
        before = planner.STATS["planned"], planner.STATS["sql"]
        body = await gql(
            server, document, {"n": size, "f": {"channelId": arena["channel"]}}, arena["tokens"]["admin"]
        )
        assert "data" in body, body
        assert len(body["data"]["conversations"]["edges"]) == size
        assert (planner.STATS["planned"], planner.STATS["sql"]) == (before[0] + 1, before[1] + in_sql)
        counts.append(len(statements))
    assert counts[0] == counts[1] == expected, counts


# --- byte-identical answers, planner or not ----------------------------------------------------

TOKEN = f"zq{uuid.uuid4().hex[:8]}"  # a word only this module's messages hold (search)


@pytest_asyncio.fixture(scope="module")
async def arena(server) -> dict[str, Any]:
    """Two teams, their people, keys, eight conversations of one channel with messages, attachments,
    senders and activities, the values that format differently (whole seconds, nulls) included."""
    channel = await make_channel("telegram", {"bot_username": "planner"}, {"bot_token": "x"}, name="planner")
    other_channel = await make_channel(
        "telegram", {"bot_username": "planner2"}, {"bot_token": "y"}, name="other"
    )
    suffix = uuid.uuid4().hex[:6]
    team_a = await Team.create(name=f"planner-a-{suffix}")
    team_b = await Team.create(name=f"planner-b-{suffix}")
    agent_a = await make_user(Role.AGENT, sees_all=False)
    agent_none = await make_user(Role.AGENT, sees_all=False)
    supervisor = await make_user(Role.SUPERVISOR, sees_all=False)
    admin = await make_user(Role.ADMIN)
    await TeamMember.create(team=team_a, user=agent_a)
    await TeamMember.create(team=team_b, user=supervisor)
    # Away, not offline: the upkeep job re-queues offline agents' conversations (data moving
    # between the two answers compared), and nobody online takes the queued ones.
    for user in (agent_a, agent_none, supervisor, admin):
        user.presence = "away"
        await user.save()
    agent_a.capacity, agent_a.skills = 3, ["billing", "pt"]
    await agent_a.save()
    now = datetime.now(UTC)
    whole = now.replace(microsecond=0)
    conversations = []
    for i in range(8):
        customer = await Customer.create(
            name=None if i == 3 else f"Customer {i} {TOKEN}" if i % 2 else f"Customer {i}",
            phone=None if i % 3 == 0 else f"5511{i:07d}",
            email=f"c{i}@example.com" if i % 2 else None,
        )
        identity = await CustomerIdentity.create(
            customer=customer,
            channel=channel,
            platform="telegram",
            external_id=f"{suffix}-{i}",
            display_name=None if i == 2 else f"display {i}",
            last_inbound_at=None if i == 1 else now - timedelta(minutes=i),
        )
        conversation = await Conversation.create(
            channel=channel if i != 7 else other_channel,
            customer=customer,
            identity=identity,
            platform="telegram",
            status=["open", "pending", "snoozed", "resolved", "open", "open", "closed", "open"][i],
            assignee=[agent_a, None, agent_none, None, supervisor, agent_a, None, admin][i],
            team=[team_a, team_a, None, team_b, team_b, None, team_a, None][i],
            unread_count=i % 3,
            priority=["normal", "high", "low", "urgent", "normal", "normal", "high", "low"][i],
            labels=[[], ["vip"], ["vip", "billing"], [], ["billing"], [], ["vip"], []][i],
            escalation_level=i % 2,
            language=None if i % 2 else "pt",
            queued_at=now - timedelta(seconds=30) if i in (1, 3) else None,
            snoozed_until=now + timedelta(hours=1) if i == 2 else None,
        )
        last = None
        for k in range(i % 4 + 1):
            outbound = k % 2 == 1
            last = await Message.create(
                conversation=conversation,
                channel=channel,
                identity=None if outbound else identity,
                platform="telegram",
                direction="outbound" if outbound else "inbound",
                kind="image" if k == 2 else "text",
                text=None if k == 2 else f"message {k} of {i} {TOKEN if k == 0 else ''}".strip(),
                status="read" if outbound else "received",
                sender=[agent_a, supervisor, admin][i % 3] if outbound else None,
                attachments=[{"kind": "image", "url": "https://example.com/a.png", "size": 10}]
                if k == 2
                else [],
                metadata={"k": k, "nested": {"i": i}} if k else {},
                sent_at=whole if outbound else None,
                platform_message_id=f"{suffix}-{i}-{k}",
            )
        conversation.last_message_id = last.id  # type: ignore[union-attr]
        conversation.last_message_at = (whole if i == 4 else now) - timedelta(minutes=i)
        await conversation.save()
        await ConversationActivity.create(
            conversation=conversation, actor=None if i % 2 else agent_a, type="labels_changed", data={"i": i}
        )
        conversations.append(conversation)
    # SLA timers on three of them (read in one statement for a page): the policy on a team of its
    # own, so it takes no other test's conversations; every moment far ahead, so the upkeep job
    # changes nothing between the two answers compared.
    policy = await SlaPolicy.create(
        name=f"planner-{suffix}",
        team=await Team.create(name=f"planner-sla-{suffix}"),
        first_response_seconds=60,
    )
    later = whole + timedelta(days=30)
    for i, kind, met in ((0, "first_response", None), (0, "resolution", later), (4, "first_response", None)):
        await SlaTimer.create(
            conversation=conversations[i], policy=policy, kind=kind, started_at=now,
            due_at=later, warn_at=later - timedelta(minutes=5), met_at=met,
        )  # fmt: skip
    tokens: dict[str, str | None] = {
        "agent_a": await login(server, agent_a),
        "agent_none": await login(server, agent_none),
        "supervisor": await login(server, supervisor),
        "admin": await login(server, admin),
        "nobody": None,
    }
    create = "mutation($n: String!, $s: [ApiKeyScope!]!) { createApiKey(name: $n, scopes: $s) { token } }"
    for label, scope in (("key", "CONVERSATIONS_READ"), ("key_without_scope", "TEMPLATES_READ")):
        body = await gql(server, create, {"n": f"planner-{label}-{suffix}", "s": [scope]}, tokens["admin"])
        tokens[label] = body["data"]["createApiKey"]["token"]
    listing = await gql(
        server,
        "query($f: ConversationFilter) { conversations(first: 8, filter: $f) { edges { cursor } } }",
        {"f": {"channelId": to_global_id("Channel", channel.id)}},
        tokens["admin"],
    )
    cursors = [e["cursor"] for e in listing["data"]["conversations"]["edges"]]
    return {
        "server": server,
        "tokens": tokens,
        "channel": to_global_id("Channel", channel.id),
        "conversations": [to_global_id("Conversation", c.id) for c in conversations],
        "teams": [to_global_id("Team", team_a.id), to_global_id("Team", team_b.id)],
        "users": [to_global_id("User", u.id) for u in (agent_a, agent_none, supervisor)],
        "cursors": cursors,
    }


USER = ["id", "name", "isActive", "presence", "capacity", "skills", "email", "role", "seesAllConversations"]
MESSAGE = [
    "id",
    "conversationId",
    "platform",
    "channelId",
    "direction",
    "kind",
    "text",
    "status",
    "errorCode",
    "errorReason",
    "platformMessageId",
    "clientMessageId",
    "replyToPlatformId",
    "metadata",
    "createdAt",
    "sentAt",
    "deliveredAt",
    "readAt",
    "editedAt",
    "deletedAt",
]
ATTACHMENT = ["kind", "url", "mimeType", "filename", "size", "mediaId", "sha256"]
CUSTOMER = ["id", "name", "phone", "email"]
IDENTITY = ["id", "platform", "channelId", "externalId", "displayName", "phone", "email", "lastInboundAt"]
CHANNEL = [
    "id",
    "platform",
    "name",
    "enabled",
    "webhookUrl",
    "config",
    "secretsSet",
    "lastWebhookAt",
    "lastError",
]
CHANNEL += ["lastErrorAt", "health", "createdAt"]
CONVERSATION = [
    "id",
    "status",
    "platform",
    "unreadCount",
    "lastMessageAt",
    "snoozedUntil",
    "priority",
    "labels",
]
CONVERSATION += ["escalationLevel", "language", "teamId", "queuedAt", "createdAt"]
PAGE_INFO = ["hasNextPage", "hasPreviousPage", "startCursor", "endCursor"]
ACTIVITY = ["id", "type", "data", "createdAt"]
SLA = ["id", "kind", "startedAt", "dueAt", "metAt"]
TARGET = ["channelId", "channelName", "platform", "identityId", "address", "available", "reason"]
TARGET += ["requiresTemplate", "lastInboundAt", "isDefault"]


@st.composite
def _fields(draw, type_name: str, leaves: list[str], objects: dict[str, Any]) -> str:  # type: ignore[no-untyped-def]
    """A selection of `type_name`: leaves, nested objects, `__typename`, aliases, repeats and
    fragments (inline, with and without the type), each drawn at random."""
    choices = [*leaves, "__typename", *objects]
    picked = draw(st.lists(st.sampled_from(choices), min_size=1, max_size=7))
    parts = []
    for name in picked:
        alias = draw(st.sampled_from(["", f"x{name} : "]))
        if name in objects:
            inner = draw(objects[name]()) if callable(objects[name]) else draw(objects[name])
            parts.append(f"{alias}{inner}")
        else:
            parts.append(f"{alias}{name}")
    body = " ".join(parts)
    wrap = draw(st.sampled_from(["plain", "plain", "inline", "typed"]))
    if wrap == "inline":
        body = f"... {{ {body} }}"
    elif wrap == "typed":
        body = f"... on {type_name} {{ {body} }}"
    return body


def _user(field: str) -> Any:
    return _fields("User", USER, {}).map(lambda s: f"{field} {{ {s} }}")


def _message(single: bool) -> Any:
    return _fields(
        "Message",
        MESSAGE,
        {
            "attachments": _fields("Attachment", ATTACHMENT, {}).map(lambda s: f"attachments {{ {s} }}"),
            "sender": _user("sender"),
        },
    )


def _conversation(single: bool) -> Any:
    objects: dict[str, Any] = {
        "customer": _fields(
            "Customer",
            CUSTOMER,
            {"identities": _fields("Identity", IDENTITY, {}).map(lambda s: f"identities {{ {s} }}")},
        ).map(lambda s: f"customer {{ {s} }}"),
        "assignee": _user("assignee"),
        "lastMessage": _message(single).map(lambda s: f"lastMessage {{ {s} }}"),
        "channel": _fields("Channel", CHANNEL, {}).map(lambda s: f"channel {{ {s} }}"),
        "slaTimers": _fields("SlaTimer", SLA, {}).map(lambda s: f"slaTimers {{ {s} }}"),
    }
    if single:  # per-conversation reads: planned only outside a list
        objects["messages"] = st.tuples(
            st.sampled_from(
                ["", "(first: 2)", "(last: 2)", "(first: 0)", "(first: 1, last: 1)", '(after: "bm9wZQ==")']
            ),
            _fields("MessageEdge", ["cursor"], {"node": _message(True).map(lambda s: f"node {{ {s} }}")}),
            _fields("PageInfo", PAGE_INFO, {}),
        ).map(lambda t: f"messages{t[0]} {{ edges {{ {t[1]} }} pageInfo {{ {t[2]} }} }}")
        objects["activities"] = _fields("Activity", ACTIVITY, {"actor": _user("actor")}).map(
            lambda s: f"activities {{ {s} }}"
        )
        objects["replyTargets"] = _fields("ReplyTarget", TARGET, {}).map(lambda s: f"replyTargets {{ {s} }}")
    return _fields("Conversation", [*CONVERSATION, *(["queuePosition"] if single else [])], objects)


def _filter(arena: dict[str, Any]) -> Any:
    """A ConversationFilter within the module's channel (other tests' conversations change under way)."""
    return st.fixed_dictionaries(
        {"channelId": st.just(arena["channel"])},
        optional={
            "status": st.lists(
                st.sampled_from(["OPEN", "PENDING", "SNOOZED", "RESOLVED", "CLOSED"]), max_size=2
            ),
            "assigneeId": st.sampled_from(arena["users"] + ["bm9wZQ=="]),
            "unassigned": st.booleans(),
            "labels": st.lists(st.sampled_from(["vip", "billing"]), max_size=2),
            "priority": st.lists(st.sampled_from(["LOW", "NORMAL", "HIGH", "URGENT"]), max_size=2),
            "escalated": st.booleans(),
            "teamId": st.sampled_from(arena["teams"]),
            "unanswered": st.booleans(),
            "since": st.sampled_from(["2020-01-01T00:00:00+00:00", "2999-01-01T00:00:00+00:00"]),
        },
    )


@st.composite
def _request(draw, arena: dict[str, Any]) -> tuple[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    root = draw(
        st.sampled_from(["conversations", "conversations", "conversation", "search", "people", "other"])
    )
    if root == "conversations":
        edge = draw(
            _fields(
                "ConversationEdge",
                ["cursor"],
                {"node": _conversation(False).map(lambda s: f"node {{ {s} }}")},
            )
        )
        page = draw(_fields("PageInfo", PAGE_INFO, {}))
        first = draw(st.one_of(st.none(), st.integers(-1, 12), st.just(101)))
        after = draw(st.one_of(st.none(), st.sampled_from(arena["cursors"]), st.just("garbage")))
        variables = {"f": draw(_filter(arena)), "n": first, "a": after}
        document = (
            "query($f: ConversationFilter, $n: Int, $a: String) { conversations(first: $n, after: $a, filter: $f) "
            f"{{ edges {{ {edge} }} pageInfo {{ {page} }} }} }}"
        )
        if first is None and draw(st.booleans()):  # the argument's default, not a null
            document = document.replace("first: $n, ", "")
        return document, variables
    if root == "conversation":
        selection = draw(_conversation(True))
        target = draw(st.sampled_from([*arena["conversations"], arena["users"][0], "garbage"]))
        return f"query($id: ID!) {{ c: conversation(id: $id) {{ {selection} }} }}", {"id": target}
    if root == "search":
        node = draw(_conversation(False))
        hit = draw(
            _fields(
                "SearchHit",
                ["cursor", "rank"],
                {
                    "node": st.just(f"node {{ {node} }}"),
                    "matchedMessage": _message(False).map(lambda s: f"matchedMessage {{ {s} }}"),
                },
            )
        )
        words = draw(st.sampled_from([TOKEN, "message", "nothing-at-all"]))
        order = draw(st.sampled_from(["RELEVANCE", "RECENCY"]))
        first = draw(st.integers(0, 10))
        return (
            "query($q: String!, $f: ConversationFilter, $n: Int!) { search(query: $q, filter: $f, first: $n, "
            f"orderBy: {order}) {{ edges {{ {hit} }} pageInfo {{ endCursor hasNextPage }} }} }}",
            {"q": words, "f": {"channelId": arena["channel"]}, "n": first},
        )
    if root == "people":  # presence left out: other tests' users' presence is not ours to hold still
        stable = [f for f in USER if f != "presence"]
        return draw(
            st.one_of(
                _fields("User", USER, {}).map(lambda s: f"{{ me {{ {s} }} }}"),
                _fields("User", stable, {}).map(lambda s: f"{{ users {{ {s} }} }}"),
                _fields("Channel", CHANNEL, {}).map(lambda s: f"{{ channels {{ {s} }} }}"),
            )
        ), {}
    # Beside the planned ones, documents it leaves to the general executor: both must agree too.
    return draw(
        st.sampled_from(
            [
                ("{ teams { id name } conversations(first: 1) { edges { cursor } } }", {}),
                (
                    "query($id: ID!) { node(id: $id) { id ... on Conversation { status } } }",
                    {"id": arena["conversations"][0]},
                ),
                ("{ conversations(first: 2) { edges { node { id @skip(if: true) status } } } }", {}),
            ]
        )
    )


async def _answer(
    arena: dict[str, Any], token: str | None, document: str, variables: dict[str, Any], planned: bool
):
    planner.FORCED = planned
    headers = {"Accept": "application/graphql-response+json", "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps({"query": document, "variables": variables}).encode()
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(f"{arena['server']}/graphql", content=body, headers=headers)
    return response.status_code, response.content


@pytest.fixture
def planner_setting():  # type: ignore[no-untyped-def]
    yield
    planner.FORCED = None


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_the_planner_answers_byte_for_byte_as_the_general_executor(arena, planner_setting, data):
    caller = data.draw(st.sampled_from(sorted(arena["tokens"])), label="caller")
    document, variables = data.draw(_request(arena), label="request")
    before = dict(planner.STATS)
    fast = await _answer(arena, arena["tokens"][caller], document, variables, planned=True)
    general = await _answer(arena, arena["tokens"][caller], document, variables, planned=False)
    assert fast == general, (caller, document, variables, fast, general)
    assert fast[0] < 500
    for error in json.loads(fast[1]).get("errors") or []:
        assert error["extensions"]["code"] != "INTERNAL", fast
    _SEEN["requests"] += 1
    _SEEN["planned"] += planner.STATS["planned"] - before.get("planned", 0)
    _SEEN["sql"] += planner.STATS["sql"] - before.get("sql", 0)


_SEEN = {"requests": 0, "planned": 0, "sql": 0}


def test_the_property_run_was_mostly_answered_by_the_planner():
    """Ran after the property test (same module, in order): a planner that fell back on everything
    would pass the comparison above and prove nothing."""
    if _SEEN["requests"] == 0:
        pytest.skip("the property test did not run")
    # The share the planner takes depends on the documents drawn: 27 of 120 (22 %) in one run, so
    # a quarter was too tight a bound; one in ten still tells a planner from one that plans nothing.
    assert _SEEN["planned"] >= _SEEN["requests"] * 0.10, (_SEEN, dict(planner.STATS))
    # Some of them by the one-statement plan (schema/planner/sql_json.py): a third of the documents are
    # inboxes, and one in three or so selects only what it builds.
    assert _SEEN["sql"] >= 1, (_SEEN, dict(planner.STATS))


async def test_the_inbox_postgresql_builds_opens_sealed_bodies_and_answers_as_the_executor(
    server, arena, planner_setting
):
    from core.crypto import SEALED, body_for_write, seal_body

    channel = await make_channel(
        "telegram", {"bot_username": "sealedinbox"}, {"bot_token": "z"}, name="sealed"
    )
    customer = await Customer.create(name="Sealed customer")
    identity = await CustomerIdentity.create(
        customer=customer, channel=channel, platform="telegram", external_id=uuid.uuid4().hex
    )
    conversation = await Conversation.create(
        channel=channel,
        customer=customer,
        identity=identity,
        platform="telegram",
        status="open",
        unread_count=1,
    )
    # A body beginning with SEALED is sealed whatever the setting (core/crypto.py), and so is an
    # earlier body of an edit: the table holds tokens, the answer the plaintext.
    message = await Message.create(
        conversation=conversation,
        channel=channel,
        identity=identity,
        platform="telegram",
        direction="inbound",
        kind="text",
        text=body_for_write(SEALED + "now"),
        status="received",
        metadata={"edits": [{"text": seal_body(SEALED + "before"), "at": "2026-01-01T00:00:00+00:00"}]},
    )
    conversation.last_message_id = message.id
    conversation.last_message_at = datetime.now(UTC)
    await conversation.save()
    stored = await Message.get(id=message.id)
    assert stored.text.startswith(SEALED) and "now" not in stored.text
    document = (
        "query($f: ConversationFilter) { conversations(first: 3, filter: $f) { __typename edges { cursor "
        "node { id status priority labels lastMessageAt customer { name } assignee { name } "
        "lastMessage { id text metadata createdAt direction } } } pageInfo { hasNextPage endCursor } } }"
    )
    variables = {"f": {"channelId": to_global_id("Channel", channel.id)}}
    before = planner.STATS["sql"]
    fast = await _answer(arena, arena["tokens"]["admin"], document, variables, planned=True)
    assert planner.STATS["sql"] == before + 1
    general = await _answer(arena, arena["tokens"]["admin"], document, variables, planned=False)
    assert fast == general
    (edge,) = json.loads(fast[1])["data"]["conversations"]["edges"]
    last = edge["node"]["lastMessage"]
    assert last["text"] == SEALED + "now"
    assert last["metadata"]["edits"][0]["text"] == SEALED + "before"
    assert edge["node"]["assignee"] is None and edge["node"]["labels"] == []


@pytest.mark.parametrize("caller", ["agent_a", "supervisor", "admin", "key"])
async def test_the_web_apps_inbox_is_built_by_postgresql_as_the_executor_builds_it(
    arena, planner_setting, caller
):
    """Its timers, channel, customer, assignee and last message included, for each kind of caller
    with the inbox's visibility rule applied."""
    variables = {"filter": {"channelId": arena["channel"]}}
    before = planner.STATS["sql"]
    inbox = _documents()["INBOX"]  # the web app's (frontend/src/api/operations.ts), fields spliced in
    fast = await _answer(arena, arena["tokens"][caller], inbox, variables, planned=True)
    general = await _answer(arena, arena["tokens"][caller], inbox, variables, planned=False)
    assert fast == general
    body = json.loads(fast[1])
    assert planner.STATS["sql"] == before + 1
    nodes = [e["node"] for e in body["data"]["conversations"]["edges"]]
    assert nodes and all(n["channel"]["id"] == arena["channel"] for n in nodes)
    timers = {arena["conversations"][0]: 2, arena["conversations"][4]: 1}  # the arena's
    assert all(len(n["slaTimers"]) == timers.get(n["id"], 0) for n in nodes)
    if caller in ("admin", "key"):  # see every one
        assert sum(len(n["slaTimers"]) for n in nodes) == 3
