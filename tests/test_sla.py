"""SLA policies: business-hours arithmetic, timers that follow the conversation, warnings and
breaches at the right moments (the clock is a parameter) reaching supervisors live."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from core.sql import fetch
from models import Role, SlaTimer
from resolvers import sla
from schema.relay import to_global_id
from tests.helpers import Subscriber, eventually, gql, login, make_user
from tests.test_assignment import _agent, _arrive, _team

POLICY = """mutation($name: String!, $team: ID, $tz: String!, $hours: JSON, $first: Int, $next: Int, $res: Int) {
  createSlaPolicy(input: {name: $name, teamId: $team, timezone: $tz, businessHours: $hours, firstResponseSeconds: $first,
  nextResponseSeconds: $next, resolutionSeconds: $res, warnBeforeSeconds: 300}) { id timezone } }"""
EVENTS = """subscription { slaEvents { type timer { kind conversationId breachedAt warnedAt } } }"""
SEND = """mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }"""
STATUS = """mutation($id: ID!, $s: ConversationStatus!) { setConversationStatus(conversationId: $id, status: $s) { status } }"""

SAO_PAULO_HOURS = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def _policy(**overrides):  # type: ignore[no-untyped-def]
    return {"timezone": "America/Sao_Paulo", "business_hours": SAO_PAULO_HOURS, "holidays": [], **overrides}


def test_business_hours_skip_nights_weekends_and_holidays() -> None:
    hours = sla.BusinessHours.of(_policy())
    friday_late = datetime(2026, 11, 27, 20, 30, tzinfo=UTC)  # 17:30 in São Paulo (UTC-3)
    assert hours.add(friday_late, 3600) == datetime(2026, 11, 30, 12, 30, tzinfo=UTC)  # Monday 09:30 local
    saturday = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
    assert hours.add(saturday, 60) == datetime(2026, 11, 30, 12, 1, tzinfo=UTC)
    with_holiday = sla.BusinessHours.of(_policy(holidays=[date(2026, 11, 30)]))
    assert with_holiday.add(friday_late, 3600) == datetime(2026, 12, 1, 12, 30, tzinfo=UTC)  # Tuesday
    two_days = hours.add(datetime(2026, 11, 24, 12, 0, tzinfo=UTC), 2 * 9 * 3600)  # Tuesday 09:00 + 18 h
    assert two_days == datetime(2026, 11, 25, 21, 0, tzinfo=UTC)  # Wednesday 18:00 local, closing time
    around_the_clock = sla.BusinessHours.of(_policy(business_hours={}))
    assert around_the_clock.add(saturday, 60) == saturday + timedelta(seconds=60)


async def test_bad_policies_get_named_errors(server):
    token = await login(server, await make_user(Role.SUPERVISOR))
    base = {"name": "x", "tz": "UTC", "hours": {}, "first": 60, "next": None, "res": None, "team": None}
    zone = await gql(server, POLICY, {**base, "tz": "Mars/Olympus"}, token)
    assert zone["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    hours = await gql(server, POLICY, {**base, "hours": {"mon": [["18:00", "09:00"]]}}, token)
    assert hours["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    none = await gql(server, POLICY, {**base, "first": None}, token)
    assert none["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    agent_token = await login(server, await make_user(Role.AGENT))
    assert (await gql(server, POLICY, base, agent_token))["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def _timers(conversation_id: int, kind: str) -> list[SlaTimer]:
    return await SlaTimer.filter(conversation_id=conversation_id, kind=kind).order_by("id")


async def test_timers_warn_breach_and_are_met(server):
    agent = await _agent()
    team, channel = await _team("manual", [agent])
    supervisor = await make_user(Role.SUPERVISOR)
    boss = await login(server, supervisor)
    created = await gql(
        server,
        POLICY,
        {
            "name": f"gold-{uuid.uuid4().hex[:6]}",
            "team": to_global_id("Team", team.id),
            "tz": "UTC",
            "hours": {},
            "first": 3600,
            "next": 600,
            "res": 7200,
        },
        boss,
    )
    assert created.get("errors") is None, created
    live = await Subscriber.open(server, boss, EVENTS)

    customer = "4430" + str(uuid.uuid4().int)[:8]
    conversation = await _arrive(channel, customer)
    (first,) = await eventually(lambda: _timers(conversation.id, "first_response"), timeout=15)
    t0 = first.started_at
    assert first.due_at == t0 + timedelta(hours=1) and first.warn_at == t0 + timedelta(minutes=55)
    assert len(await _timers(conversation.id, "resolution")) == 1

    # The clock is a parameter: jump to the warning, then past the deadline.
    assert await sla.check(now=t0 + timedelta(minutes=54)) == []
    assert [event for _, event in await sla.check(now=t0 + timedelta(minutes=56))] == ["SLA_WARNING"]
    fired = await sla.check(now=t0 + timedelta(minutes=61))
    assert [event for _, event in fired] == ["SLA_BREACHED"]
    assert await sla.check(now=t0 + timedelta(minutes=62)) == []  # once each
    seen = []
    await live.next_where(lambda d: seen.append(d["slaEvents"]["type"]) or len(seen) == 2)
    assert seen == ["SLA_WARNING", "SLA_BREACHED"]

    # The agent answers: first response met (late); the customer writes again: next response runs.
    token = await login(server, agent)
    cid = to_global_id("Conversation", conversation.id)
    reply = {"conversationId": cid, "clientMessageId": str(uuid.uuid4()), "text": "sorry for the wait"}
    assert (await gql(server, SEND, {"input": reply}, token)).get("errors") is None

    async def met():  # type: ignore[no-untyped-def]
        (timer,) = await _timers(conversation.id, "first_response")
        return timer if timer.met_at else None

    timer = await eventually(met, timeout=15)
    assert timer.breached_at is not None  # late answers stay breached, for metrics
    await _arrive(channel, customer)
    (waiting,) = await eventually(lambda: _timers(conversation.id, "next_response"), timeout=15)
    assert waiting.due_at == waiting.started_at + timedelta(minutes=10)

    # Resolving meets the resolution target and the waiting next response is no longer wanted.
    assert (await gql(server, STATUS, {"id": cid, "s": "RESOLVED"}, token))["data"]

    async def resolved():  # type: ignore[no-untyped-def]
        (timer,) = await _timers(conversation.id, "resolution")
        return timer if timer.met_at else None

    await eventually(resolved, timeout=15)
    await live.close()


async def test_a_cancelled_timer_starts_again_as_a_new_run(server):
    """Closing a conversation cancels its running timers; reopened, the same timers (same kind and
    start) are wanted again and start a new run beside the cancelled one, which stays as it was."""
    team, channel = await _team("manual", [await _agent()])
    boss = await login(server, await make_user(Role.SUPERVISOR))
    policy = {"name": f"rerun-{uuid.uuid4().hex[:6]}", "team": to_global_id("Team", team.id), "tz": "UTC"}
    created = await gql(
        server, POLICY, {**policy, "hours": {}, "first": 3600, "next": None, "res": 7200}, boss
    )
    assert created.get("errors") is None, created
    conversation = await _arrive(channel, "4431" + str(uuid.uuid4().int)[:8])
    (first,) = await eventually(lambda: _timers(conversation.id, "first_response"), timeout=15)

    await fetch("UPDATE conversations SET status = 'closed' WHERE id = $1", conversation.id)
    await sla.sync(conversation.id)
    for kind in ("first_response", "resolution"):
        (cancelled,) = await _timers(conversation.id, kind)
        assert cancelled.cancelled_at is not None

    await fetch("UPDATE conversations SET status = 'open' WHERE id = $1", conversation.id)
    moments = await sla.sync(conversation.id)
    for kind in ("first_response", "resolution"):
        old, new = await _timers(conversation.id, kind)
        assert old.cancelled_at is not None and new.cancelled_at is None  # a new run; the old one kept
        assert new.started_at == old.started_at and new.due_at == old.due_at
        assert new.met_at is None and new.breached_at is None
    assert first.due_at in moments  # its check is scheduled again
    await sla.sync(conversation.id)  # idempotent: one running run per start
    assert len(await _timers(conversation.id, "first_response")) == 2

    # The new run is checked like any timer: past its deadline it breaches; the cancelled one never does.
    fired = dict(await sla.check(now=first.due_at + timedelta(minutes=1)))
    old, new = await _timers(conversation.id, "first_response")
    assert fired.get(new.id) == "SLA_BREACHED" and new.breached_at is not None
    assert old.id not in fired and old.breached_at is None
