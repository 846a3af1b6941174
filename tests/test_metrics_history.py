"""Handling time, productivity, load and queue wait end to end: what the API records (work sessions
from `conversationPresence`, typing coalesced, presence and state changes by trigger), then known
answers through `metrics` from histories written at controlled instants, scoped like every metric.
(Definitions alone: test_metrics_presence.py; roll-ups against the raw rows: test_metrics_rollups.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core.sql import fetch
from models import Role
from resolvers import rollups
from schema.relay import to_global_id
from tests.helpers import Subscriber, error_code, eventually, gql, login, make_user
from tests.test_lifecycle import _conversation, _gid
from tests.test_metrics import METRICS, World, announce, only, settle

PRESENCE = """subscription($id: ID!) { conversationPresence(conversationId: $id) { name typing } }"""
TYPING = """mutation($id: ID!, $t: Boolean!) { setTyping(conversationId: $id, typing: $t) }"""
MY_PRESENCE = """mutation($p: AgentPresence!) { setMyPresence(presence: $p) }"""
STATUS = """mutation($id: ID!, $s: ConversationStatus!) { setConversationStatus(conversationId: $id, status: $s) { status } }"""
ASSIGN = """mutation($id: ID!, $u: ID) { assignConversation(conversationId: $id, userId: $u) { id } }"""


async def settle_history() -> None:
    """settle(), and every recorded history row folded (by us or the server's job)."""
    await settle()

    async def folded() -> bool:
        await rollups.catch_up()
        rows = await fetch(
            "SELECT (SELECT count(*) FROM conversation_work_log WHERE NOT folded) + "
            "(SELECT count(*) FROM agent_status_log WHERE NOT folded) AS n"
        )
        return rows[0]["n"] == 0

    await eventually(folded, timeout=60, interval=0.1)


async def test_the_api_records_sessions_typing_presence_and_states(server, wa):
    conversation, _ = await _conversation(server, wa)
    cid = _gid(conversation)
    agent = await make_user(Role.AGENT, name="Carla")
    token = await login(server, agent)
    states = await fetch(
        "SELECT status, team_id, assignee_id, queued FROM conversation_state_log WHERE conversation_id = $1",
        conversation.id,
    )
    assert [r["status"] for r in states] == ["open"]  # the ingest's insert, by the trigger

    started = datetime.now(UTC)
    view = await Subscriber.open(server, token, PRESENCE, {"id": cid})
    await view.next()

    async def work() -> list[dict[str, Any]]:
        return await fetch(
            "SELECT id, kind, session_id FROM conversation_work_log WHERE conversation_id = $1 AND user_id = $2 "
            "ORDER BY id",
            conversation.id,
            agent.id,
        )

    await eventually(work)
    for _ in range(4):  # the web app pings every 3 s while typing: one row for all of them
        assert (await gql(server, TYPING, {"id": cid, "t": True}, token))["data"]["setTyping"] is True
    await gql(server, TYPING, {"id": cid, "t": False}, token)
    assert (await gql(server, ASSIGN, {"id": cid, "u": to_global_id("User", agent.id)}, token)).get(
        "errors"
    ) is None
    await view.close()
    rows = await eventually(lambda: _closed(work))
    assert [r["kind"] for r in rows] == ["open", "typing", "close"]
    assert rows[2]["session_id"] == rows[0]["id"]

    # Presence changes are one row each; the same presence again writes nothing.
    for presence in ("ONLINE", "ONLINE", "AWAY", "OFFLINE"):
        assert (await gql(server, MY_PRESENCE, {"p": presence}, token))["data"]["setMyPresence"] == presence
    statuses = await fetch(
        "SELECT presence FROM agent_status_log WHERE user_id = $1 ORDER BY at, id", agent.id
    )
    assert [r["presence"] for r in statuses] == ["offline", "online", "away", "offline"]

    body = await gql(server, STATUS, {"id": cid, "s": "RESOLVED"}, token)
    assert body["data"]["setConversationStatus"]["status"] == "RESOLVED"
    states = await fetch(
        "SELECT status, assignee_id FROM conversation_state_log WHERE conversation_id = $1 ORDER BY at, id",
        conversation.id,
    )
    assert [(r["status"], r["assignee_id"]) for r in states][-2:] == [
        ("open", agent.id),
        ("resolved", agent.id),
    ]
    await settle_history()
    elapsed = (datetime.now(UTC) - started).total_seconds()
    admin = await login(server, await make_user(Role.ADMIN))
    window = {
        "from": (started - timedelta(hours=1)).isoformat(),
        "to": (started + timedelta(hours=2)).isoformat(),
    }
    mine = {"agentIds": [to_global_id("User", agent.id)]}
    rows = (await gql(server, METRICS, {"names": ["handling_time"], "range": window, "filter": mine}, admin))[
        "data"
    ]["metrics"]
    handling = only(rows, "handling_time")
    assert handling["count"] == 1 and 0 < handling["avg"] <= elapsed  # the session, however long it took


async def _closed(work: Any) -> list[dict[str, Any]] | None:
    rows = await work()
    return rows if rows and rows[-1]["kind"] == "close" else None


TUESDAY = datetime(2026, 11, 24, tzinfo=UTC)


def t(minutes: int) -> datetime:
    """Minutes after Tuesday's midnight (UTC): t(10 * 60 + 30) is 10:30."""
    return TUESDAY + timedelta(minutes=minutes)


async def write_states(conversation: int, *states: tuple[int, str, int | None, int | None, bool]) -> None:
    """The conversation's state history, replacing what the trigger wrote when the test made it."""
    await fetch("DELETE FROM conversation_state_log WHERE conversation_id = $1", conversation)
    for minutes, status, team, assignee, queued in states:
        await fetch(
            "INSERT INTO conversation_state_log (conversation_id, at, status, team_id, assignee_id, queued) "
            "VALUES ($1, $2, $3, $4, $5, $6)",
            conversation,
            t(minutes),
            status,
            team,
            assignee,
            queued,
        )


async def write_presence(user: int, *rows: tuple[int, str, int]) -> None:
    await fetch("DELETE FROM agent_status_log WHERE user_id = $1", user)
    for minutes, presence, capacity in rows:
        await fetch(
            "INSERT INTO agent_status_log (user_id, at, presence, capacity) VALUES ($1, $2, $3, $4)",
            user,
            t(minutes),
            presence,
            capacity,
        )


async def write_session(
    conversation: int, user: int, opened: int, closed: int, typing: tuple[int, ...] = ()
) -> None:
    rows = await fetch(
        "INSERT INTO conversation_work_log (conversation_id, user_id, kind, at) VALUES ($1, $2, 'open', $3) RETURNING id",
        conversation,
        user,
        t(opened),
    )
    for moment in typing:
        await fetch(
            "INSERT INTO conversation_work_log (conversation_id, user_id, kind, at) VALUES ($1, $2, 'typing', $3)",
            conversation,
            user,
            t(moment),
        )
    await fetch(
        "INSERT INTO conversation_work_log (conversation_id, user_id, kind, session_id, at) VALUES ($1, $2, 'close', $3, $4)",
        conversation,
        user,
        rows[0]["id"],
        t(closed),
    )


async def test_known_answers_through_the_api(server):
    world = await World().setup()
    ana, bruno = await world.agent(), await world.agent()
    team = world.team.id
    # 10:30 the customer writes and waits in the team's queue; 10:50 Ana is assigned; she opens it
    # at 10:49, types at 10:51, replies at 10:52 and closes it at 10:53; resolved at 12:15.
    first = await world.conversation()
    await world.message(first, "inbound", t(630))
    await world.message(first, "outbound", t(652), ana)
    await world.activity(first, t(735), "status_changed", ana, to="resolved")
    await write_states(
        first,
        (630, "open", team, None, True),
        (650, "open", team, ana.id, False),
        (735, "resolved", team, ana.id, False),
    )
    await write_session(first, ana.id, 649, 653, typing=(651,))
    # 11:00 a second one, assigned to Ana at once, open until 11:30 (no session: no handling time).
    second = await world.conversation()
    await world.message(second, "inbound", t(660))
    await write_states(second, (660, "open", team, ana.id, False), (690, "closed", team, ana.id, False))
    # Ana is online 10:00–12:00 with capacity 2; Bruno online 10:00–11:00 with capacity 4.
    await write_presence(ana.id, (600, "online", 2), (720, "offline", 2))
    await write_presence(bruno.id, (600, "online", 4), (630, "away", 4), (660, "offline", 4))
    await announce(first, second)
    await settle_history()

    admin = await login(server, await make_user(Role.ADMIN))
    day = {"from": t(0).isoformat(), "to": t(24 * 60).isoformat()}
    channel = {"channelIds": [to_global_id("Channel", world.channel.id)]}

    async def ask(token: str, names: list[str], **variables: Any) -> list[dict[str, Any]]:
        body = await gql(server, METRICS, {"names": names, "range": day, **variables}, token)
        assert "errors" not in body, body
        return body["data"]["metrics"]

    rows = await ask(
        admin,
        ["handling_time", "handling_time_short", "queue_wait_time", "resolutions_per_day"],
        filter=channel,
    )
    handling = only(rows, "handling_time")
    # Open 10:49 → +2 min; typing 10:51 → the close at 10:53: 4 minutes, no calendar (wall = business).
    assert (handling["count"], handling["avg"], handling["business"]["avg"]) == (1, 240, 240)
    assert only(rows, "handling_time_short")["avg"] == 240  # 2 messages, no transfer
    wait = only(rows, "queue_wait_time")
    assert (wait["count"], wait["avg"]) == (1, 1200)
    assert only(rows, "resolutions_per_day")["value"] == 1.0  # one resolution over one day

    # Load per hour: the average number of conversations at a time.
    rows = await ask(admin, ["load_open", "load_queued", "load_assigned"], filter=channel, bucket="HOUR")
    got = {(r["metric"], r["bucket"][11:13]): r["value"] for r in rows}
    assert got == {
        ("load_open", "10"): (1200 + 600) / 3600,
        ("load_open", "11"): (3600 + 1800) / 3600,
        ("load_open", "12"): 900 / 3600,
        ("load_queued", "10"): 1200 / 3600,
        ("load_assigned", "10"): 600 / 3600,
        ("load_assigned", "11"): (3600 + 1800) / 3600,
        ("load_assigned", "12"): 900 / 3600,
    }
    # Over the whole day: conversation-seconds / the day's seconds.
    (whole,) = await ask(admin, ["load_open"], filter=channel)
    assert whole["value"] == (1800 + 5400 + 900) / 86400

    # Productivity per agent: time online, replies per connected hour, utilisation of capacity.
    agents = {"agentIds": [to_global_id("User", ana.id), to_global_id("User", bruno.id)]}
    names = ["online_seconds", "away_seconds", "messages_per_active_hour", "utilisation", "agent_replies"]
    rows = await ask(admin, names, filter=agents, groupBy=["AGENT"])
    by = {(r["metric"], r["group"]["agentId"]): r for r in rows}
    a, b = to_global_id("User", ana.id), to_global_id("User", bruno.id)
    assert by[("online_seconds", a)]["value"] == 7200 and by[("online_seconds", b)]["value"] == 1800
    assert by[("away_seconds", b)]["value"] == 1800 and ("away_seconds", a) not in by
    assert by[("messages_per_active_hour", a)]["value"] == 0.5  # 1 reply in 2 hours
    # Ana held 600 + 3600 + 900 (first) + 1800 (second) conversation-seconds against 2 × 7200.
    assert by[("utilisation", a)]["value"] == (600 + 3600 + 900 + 1800) / (2 * 7200)
    assert by[("utilisation", b)]["value"] == 0.0  # connected, nothing assigned

    # Load now: counted in the conversations as they are, whatever the range.
    await fetch("UPDATE conversations SET assignee_id = $2 WHERE id = $1", first, ana.id)
    await fetch("UPDATE conversations SET queued_at = now() WHERE id = $1", second)
    rows = await ask(admin, ["open_now", "queued_now", "assigned_now"], filter=channel, groupBy=["AGENT"])
    got = {(r["metric"], r["group"]["agentId"]): r["count"] for r in rows}
    assert got == {("open_now", a): 1, ("open_now", None): 1, ("queued_now", None): 1, ("assigned_now", a): 1}

    # Agents see their own numbers only; supervisors their teams' (an agent's team is their first).
    ana_token = await login(server, ana)
    own = await ask(ana_token, ["online_seconds", "assigned_now"])
    assert [(r["metric"], r.get("value") or r["count"]) for r in own] == [
        ("online_seconds", 7200),
        ("assigned_now", 1),
    ]
    refused = await gql(
        server, METRICS, {"names": ["online_seconds"], "range": day, "filter": {"agentIds": [b]}}, ana_token
    )
    assert error_code(refused) == "FORBIDDEN"
    boss = await world.agent(Role.SUPERVISOR)
    team_rows = await ask(await login(server, boss), ["online_seconds", "queue_wait_time"], filter={})
    assert only(team_rows, "online_seconds")["value"] == 7200 + 1800
    assert only(team_rows, "queue_wait_time")["count"] == 1
    assert only(await ask(await login(server, boss), ["open_now"]), "open_now")["count"] == 2
    outsider = await login(server, await make_user(Role.SUPERVISOR, sees_all=False))
    assert await ask(outsider, ["online_seconds", "load_open"]) == []


async def test_a_running_state_counts_up_to_the_hour_the_job_last_ticked(server):
    world = await World().setup()
    ana = await world.agent()
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    conversation = await world.conversation()
    await fetch("DELETE FROM conversation_state_log WHERE conversation_id = $1", conversation)
    await fetch(
        "INSERT INTO conversation_state_log (conversation_id, at, status, team_id, assignee_id, queued) "
        "VALUES ($1, $2, 'open', $3, $4, false)",
        conversation,
        hour - timedelta(hours=3, minutes=30),
        world.team.id,
        ana.id,
    )
    await announce(conversation)
    await settle_history()
    admin = await login(server, await make_user(Role.ADMIN))
    window = {"from": (hour - timedelta(hours=5)).isoformat(), "to": (hour + timedelta(hours=2)).isoformat()}
    channel = {"channelIds": [to_global_id("Channel", world.channel.id)]}

    async def horizon() -> datetime:
        rows = await fetch("SELECT last_seq FROM metric_cursors WHERE name = 'hourly_tick'")
        return datetime.fromtimestamp(rows[0]["last_seq"], UTC)

    for _attempt in range(3):  # should an hour begin meanwhile, the job moves the horizon: ask again
        before = await horizon()
        body = await gql(
            server, METRICS, {"names": ["assigned_seconds"], "range": window, "filter": channel}, admin
        )
        if await horizon() == before:
            break
        await settle_history()
    (row,) = body["data"]["metrics"]
    # Still open: 3.5 hours up to the start of this hour, the horizon the job set on its first run in it.
    assert before >= hour
    assert row["value"] == (before - hour).total_seconds() + 3.5 * 3600
