"""Metrics end to end: rows with controlled timestamps → events → the roll-up job → `metrics` over
GraphQL, with known answers; a status arriving hours later corrects its bucket; who sees what; the
limits. (Definitions alone: test_metrics_definitions.py; roll-ups against the raw rows:
test_metrics_rollups.py.)"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from core.events import committed, conversation_stream, emit
from core.sql import fetch, in_transaction
from models import Customer, CustomerIdentity, Role, SlaPolicy, Team, TeamMember
from resolvers import metrics_histogram as histogram
from resolvers import rollups
from schema.relay import to_global_id
from tests.helpers import error_code, eventually, gql, login, make_channel, make_user

METRICS = """query($names: [String!]!, $range: MetricRange!, $filter: MetricFilter, $groupBy: [MetricDimension!],
  $bucket: MetricBucket, $tz: String! = "UTC") {
  metrics(names: $names, range: $range, filter: $filter, groupBy: $groupBy, bucket: $bucket, timeZone: $tz) {
    metric bucket hourOfDay count avg median p90 p95 value numerator
    business { avg median p90 p95 } group { platform channelId teamId agentId label } } }"""
DASHBOARD = """query($range: MetricRange) { dashboard(range: $range) { metric count avg value } }"""


class World:
    """Channels, a team and its agents, and conversations written row by row at given instants."""

    async def setup(self, platform: str = "whatsapp") -> World:
        self.channel = await make_channel(platform, {}, {}, name=f"metrics {uuid.uuid4().hex[:6]}")
        self.team = await Team.create(name=f"metrics-{uuid.uuid4().hex[:8]}")
        return self

    async def agent(self, role: Role = Role.AGENT) -> Any:
        user = await make_user(role, sees_all=False)  # scoped like a real agent or supervisor
        await TeamMember.create(team=self.team, user=user)
        return user

    async def conversation(self, labels: tuple[str, ...] = (), team: bool = True, channel: Any = None) -> int:
        channel = channel or self.channel
        customer = await Customer.create(name="Cliente")
        identity = await CustomerIdentity.create(
            customer=customer, channel=channel, platform=channel.platform, external_id=uuid.uuid4().hex
        )
        rows = await fetch(
            "INSERT INTO conversations (channel_id, customer_id, identity_id, platform, status, unread_count, priority, "
            "labels, escalation_level, team_id, last_message_at, created_at, updated_at) VALUES ($1, $2, $3, $4, 'open', 0, 'normal', "
            "$5::text[], 0, $6, now(), now(), now()) RETURNING id",  # listed like any inbox row
            channel.id,
            customer.id,
            identity.id,
            channel.platform,
            list(labels),
            self.team.id if team else None,
        )
        return rows[0]["id"]

    async def message(
        self, conversation: int, direction: str, at: datetime, sender: Any = None, **extra: Any
    ) -> int:
        status = extra.pop("status", "received" if direction == "inbound" else "sent")
        metadata = orjson.dumps(extra.pop("metadata", {})).decode()
        rows = await fetch(
            "INSERT INTO messages (conversation_id, channel_id, platform, direction, kind, status, sender_id, "
            "attachments, metadata, created_at, sent_at, delivered_at, read_at, send_attempts) "
            "SELECT id, channel_id, platform, $2, 'text', $3, $4, '[]', $5::jsonb, $6, $7, $8, $9, 0 "
            "FROM conversations WHERE id = $1 RETURNING id",
            conversation,
            direction,
            status,
            getattr(sender, "id", sender),
            metadata,
            at,
            extra.get("sent_at", at if direction == "outbound" else None),
            extra.get("delivered_at"),
            extra.get("read_at"),
        )
        return rows[0]["id"]

    async def activity(
        self, conversation: int, at: datetime, kind: str, actor: Any = None, **data: Any
    ) -> None:
        await fetch(
            "INSERT INTO conversation_activities (conversation_id, actor_id, type, data, created_at) "
            "VALUES ($1, $2, $3, $4::jsonb, $5)",
            conversation,
            getattr(actor, "id", actor),
            kind,
            orjson.dumps(data).decode(),
            at,
        )


async def announce(*conversations: int, type_: str = "MESSAGE_CREATED") -> None:
    """What the real rules do after writing: an event on each conversation's stream."""
    async with in_transaction() as conn:
        for conversation in conversations:
            await emit(conn, conversation_stream(conversation), type_, {"conversation_id": conversation})
    committed()


async def settle() -> None:
    """Until every committed event is sequenced and folded into the roll-ups (by us or a worker)."""

    async def folded() -> bool:
        await rollups.catch_up()
        waiting = await fetch("SELECT count(*) AS n FROM event_outbox")
        head = await fetch("SELECT COALESCE(max(seq), 0) AS seq FROM events")
        cursor = await fetch("SELECT last_seq FROM metric_cursors WHERE name = $1", rollups.CURSOR)
        return waiting[0]["n"] == 0 and bool(cursor) and cursor[0]["last_seq"] >= head[0]["seq"]

    await eventually(folded, timeout=60, interval=0.1)


def window(start: datetime, days: float = 10) -> dict[str, str]:
    return {"from": (start - timedelta(days=1)).isoformat(), "to": (start + timedelta(days=days)).isoformat()}


def only(rows: list[dict[str, Any]], metric: str) -> dict[str, Any]:
    (row,) = [r for r in rows if r["metric"] == metric]
    return row


FRIDAY_1730 = datetime(2026, 11, 27, 20, 30, tzinfo=UTC)  # São Paulo is UTC-3
MONDAY_0930 = datetime(2026, 11, 30, 12, 30, tzinfo=UTC)
WEEKDAYS = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


async def test_known_answers_through_the_api(server):
    world = await World().setup()
    ana, bruno = await world.agent(), await world.agent()
    await SlaPolicy.create(
        name="metrics",
        position=-1000,  # before any catch-all policy another test created
        team=world.team,
        first_response_seconds=3600,
        timezone="America/Sao_Paulo",
        business_hours=WEEKDAYS,
    )
    # Over a weekend: 2 days 16 h on the wall clock, one business hour.
    weekend = await world.conversation(labels=("billing",))
    await world.message(weekend, "inbound", FRIDAY_1730)
    await world.activity(weekend, FRIDAY_1730 + timedelta(minutes=1), "assigned", None, to_user_id=ana.id)
    await world.message(weekend, "outbound", MONDAY_0930, ana)
    await world.activity(weekend, MONDAY_0930 + timedelta(minutes=30), "status_changed", ana, to="resolved")
    # A transfer, then a reopening.
    tuesday = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
    moved = await world.conversation()
    await world.message(moved, "inbound", tuesday)
    await world.activity(moved, tuesday + timedelta(minutes=1), "assigned", None, to_user_id=ana.id)
    await world.message(moved, "note", tuesday + timedelta(minutes=2), ana)  # a note never responds
    await world.message(moved, "outbound", tuesday + timedelta(minutes=3), ana)
    await world.activity(moved, tuesday + timedelta(minutes=4), "transferred", ana, to_user_id=bruno.id)
    await world.message(moved, "outbound", tuesday + timedelta(minutes=10), bruno)
    await world.activity(moved, tuesday + timedelta(minutes=20), "status_changed", bruno, to="resolved")
    await world.message(moved, "inbound", tuesday + timedelta(hours=1))
    await world.message(moved, "outbound", tuesday + timedelta(hours=1, minutes=2), bruno)
    await announce(weekend, moved)
    await settle()

    token = await login(server, await make_user(Role.ADMIN))
    mine = {"channelIds": [to_global_id("Channel", world.channel.id)]}
    names = [
        "first_response_time",
        "resolution_time",
        "reaction_time",
        "transfers",
        "reopenings",
        "resolution_rate",
        "first_contact_resolution_rate",
        "messages_in",
        "agent_replies",
    ]
    body = await gql(server, METRICS, {"names": names, "range": window(FRIDAY_1730), "filter": mine}, token)
    rows = body["data"]["metrics"]
    frt = only(rows, "first_response_time")
    weekend_wall = (MONDAY_0930 - FRIDAY_1730).total_seconds()
    assert frt["count"] == 3  # weekend, the transferred one's first cycle, its reopened cycle
    assert frt["avg"] == (weekend_wall + 180 + 120) / 3
    assert frt["business"]["avg"] == (3600 + 180 + 120) / 3  # Tuesday 10:00 local is inside the hours
    assert histogram.bin_of(frt["p95"]) == histogram.bin_of(weekend_wall)
    assert histogram.bin_of(frt["median"]) == histogram.bin_of(180)
    resolution = only(rows, "resolution_time")
    assert (resolution["count"], resolution["avg"]) == (2, (weekend_wall + 1800 + 1200) / 2)
    reaction = only(rows, "reaction_time")
    assert (reaction["count"], reaction["avg"]) == (3, (weekend_wall - 60 + 120 + 360) / 3)
    assert only(rows, "transfers")["count"] == 1 and only(rows, "reopenings")["count"] == 1
    rate = only(rows, "resolution_rate")
    assert (rate["numerator"], rate["count"], rate["value"]) == (2, 3, 2 / 3)
    assert only(rows, "first_contact_resolution_rate")["value"] == 1 / 2  # the weekend one only
    assert only(rows, "messages_in")["count"] == 3 and only(rows, "agent_replies")["count"] == 4

    # Grouped by agent, by day in São Paulo: each reply is the replying agent's.
    body = await gql(
        server,
        METRICS,
        {
            "names": ["first_response_time"],
            "range": window(FRIDAY_1730),
            "filter": mine,
            "groupBy": ["AGENT"],
            "bucket": "DAY",
            "tz": "America/Sao_Paulo",
        },
        token,
    )
    got = {(r["group"]["agentId"], r["bucket"][:10], r["count"]) for r in body["data"]["metrics"]}
    assert got == {
        (to_global_id("User", ana.id), "2026-11-30", 1),
        (to_global_id("User", ana.id), "2026-12-01", 1),
        (to_global_id("User", bruno.id), "2026-12-01", 1),
    }
    # A label filter and the label grouping read the same facts.
    body = await gql(
        server,
        METRICS,
        {"names": ["messages_in"], "range": window(FRIDAY_1730), "filter": {**mine, "label": "billing"}},
        token,
    )
    assert [r["count"] for r in body["data"]["metrics"]] == [1]

    # Agents see their own numbers only; supervisors their teams'.
    ana_token = await login(server, ana)
    own = await gql(server, METRICS, {"names": ["agent_replies"], "range": window(FRIDAY_1730)}, ana_token)
    assert [r["count"] for r in own["data"]["metrics"]] == [2]
    other = {"agentIds": [to_global_id("User", bruno.id)]}
    refused = await gql(
        server,
        METRICS,
        {"names": ["agent_replies"], "range": window(FRIDAY_1730), "filter": other},
        ana_token,
    )
    assert error_code(refused) == "FORBIDDEN"
    outsider = await login(server, await make_user(Role.SUPERVISOR, sees_all=False))
    nothing = await gql(
        server, METRICS, {"names": ["agent_replies"], "range": window(FRIDAY_1730), "filter": mine}, outsider
    )
    assert nothing["data"]["metrics"] == []
    boss = await world.agent(Role.SUPERVISOR)
    team_view = await gql(
        server, METRICS, {"names": ["agent_replies"], "range": window(FRIDAY_1730)}, await login(server, boss)
    )
    assert [r["count"] for r in team_view["data"]["metrics"]] == [4]
    dash = await gql(server, DASHBOARD, {"range": window(FRIDAY_1730)}, await login(server, ana))
    assert only(dash["data"]["dashboard"], "resolution_time")["count"] == 1  # ana resolved the weekend one


async def test_a_late_status_corrects_its_bucket(server):
    world = await World().setup()
    ana = await world.agent()
    sent_at = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    conversation = await world.conversation()
    await world.message(conversation, "inbound", sent_at - timedelta(minutes=5))
    message = await world.message(
        conversation, "outbound", sent_at, ana, sent_at=sent_at + timedelta(seconds=1)
    )
    await announce(conversation)
    await settle()
    token = await login(server, await make_user(Role.ADMIN))
    variables = {
        "names": ["outbound_delivery_latency", "outbound_accept_latency"],
        "range": window(sent_at, 2),
        "filter": {"channelIds": [to_global_id("Channel", world.channel.id)]},
        "bucket": "HOUR",
    }
    before = (await gql(server, METRICS, variables, token))["data"]["metrics"]
    assert [(r["metric"], r["bucket"], r["count"]) for r in before] == [
        ("outbound_accept_latency", "2026-12-02T10:00:00+00:00", 1)
    ]
    # Three hours later the platform says it was delivered: the 10:00 bucket changes, no other.
    await fetch(
        "UPDATE messages SET delivered_at = $2, status = 'delivered' WHERE id = $1",
        message,
        sent_at + timedelta(hours=3),
    )
    await announce(conversation, type_="MESSAGE_UPDATED")
    await settle()
    after = (await gql(server, METRICS, variables, token))["data"]["metrics"]
    delivery = only(after, "outbound_delivery_latency")
    assert (delivery["bucket"], delivery["count"], delivery["avg"]) == ("2026-12-02T10:00:00+00:00", 1, 10800)
    # And a correction the other way (the status undone by a backfill) takes it out again.
    await fetch("UPDATE messages SET delivered_at = NULL WHERE id = $1", message)
    await rollups.rebuild([conversation])
    again = (await gql(server, METRICS, variables, token))["data"]["metrics"]
    assert [r["metric"] for r in again] == ["outbound_accept_latency"]


async def test_questions_too_large_or_malformed_are_refused_by_name(server):
    token = await login(server, await make_user(Role.ADMIN))
    start = datetime(2026, 1, 1, tzinfo=UTC)

    async def ask(**variables: Any) -> dict[str, Any]:
        base = {
            "names": ["messages_in"],
            "range": {"from": start.isoformat(), "to": (start + timedelta(days=7)).isoformat()},
        }
        return await gql(server, METRICS, {**base, **variables}, token)

    year = {"from": start.isoformat(), "to": (start + timedelta(days=500)).isoformat()}
    too_long = await ask(range=year)
    assert error_code(too_long) == "BAD_USER_INPUT" and "400 days" in too_long["errors"][0]["message"]
    hourly = await ask(
        range={"from": start.isoformat(), "to": (start + timedelta(days=40)).isoformat()}, bucket="HOUR"
    )
    assert error_code(hourly) == "BAD_USER_INPUT" and "31 days" in hourly["errors"][0]["message"]
    grouped = await ask(groupBy=["PLATFORM", "AGENT", "TEAM"])
    assert error_code(grouped) == "BAD_USER_INPUT" and "at most 2" in grouped["errors"][0]["message"]
    assert error_code(await ask(names=["made_up"])) == "BAD_USER_INPUT"
    assert error_code(await ask(tz="Mars/Olympus")) == "BAD_USER_INPUT"
    backwards = {"from": start.isoformat(), "to": (start - timedelta(days=1)).isoformat()}
    assert error_code(await ask(range=backwards)) == "BAD_USER_INPUT"
    assert (
        error_code(await gql(server, METRICS, {"names": ["messages_in"], "range": year})) == "UNAUTHENTICATED"
    )
