"""Handling time, load, queue wait and agents' time online on hand-built histories with known
answers (resolvers/metrics_presence.py): the idle cap, sessions never closed, signs outside an open
conversation, care cycles and complexity, business hours, hour pieces and the horizon."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from resolvers import metrics_presence as mp
from tests.test_metrics_definitions import (
    CONVERSATION,
    SAO_PAULO,
    activity,
    at,
    by_metric,
    customer,
    note,
    reply,
)

_ids = count(10_000)
ANA, BEN = 5, 6


def work(kind: str, when: datetime, user: int = ANA, session: int | None = None) -> dict[str, Any]:
    return {"id": next(_ids), "user_id": user, "kind": kind, "session_id": session, "at": when}


def session(
    opened: datetime, closed: datetime | None, user: int = ANA, typing: tuple[datetime, ...] = ()
) -> list[dict[str, Any]]:
    start = work("open", opened, user)
    rows = [start] + [work("typing", t, user) for t in typing]
    if closed is not None:
        rows.append(work("close", closed, user, start["id"]))
    return rows


def seconds(spans: list[tuple[datetime, datetime]]) -> float:
    return sum((b - a).total_seconds() for a, b in spans)


def test_idle_gaps_are_capped_and_the_close_ends_the_last_one() -> None:
    # Opened at 0, typing recorded at 30 s and 60 s, a reply at 90 s, then nothing for 5 minutes,
    # a note at 400 s, closed at 500 s.
    rows = session(at(0), at(500 / 60), typing=(at(0.5), at(1)))
    messages = [customer(at(-1)), reply(at(1.5), ANA), note(at(400 / 60), ANA)]
    spans = mp.active_spans(rows, messages, ANA)
    assert spans == [(at(0), at(3.5)), (at(400 / 60), at(500 / 60))]  # 0–210 s and 400–500 s
    assert seconds(spans) == 310
    resolved = [activity(at(10), "status_changed", ANA, to="resolved")]
    facts = by_metric(mp.handling_facts(CONVERSATION, messages, resolved, rows, SAO_PAULO))
    (handling,) = facts["handling_time"]
    assert (handling.value, handling.business, handling.at, handling.agent_id) == (310, 310, at(10), ANA)
    assert (handling.team_id, handling.platform, handling.labels) == (3, "whatsapp", ("vip",))
    assert [f.value for f in facts["handling_time_short"]] == [310]  # 2 messages, no transfer


def test_signs_outside_an_open_conversation_count_nothing_and_unclosed_sessions_end_by_the_cap() -> None:
    messages = [customer(at(0)), reply(at(2), ANA), reply(at(30), ANA)]  # the first reply: not open
    rows = session(at(20), None, typing=(at(29),))  # a killed process: never closed
    spans = mp.active_spans(rows, messages, ANA)
    assert spans == [(at(20), at(22)), (at(29), at(32))]  # open + 120 s; typing at 29, reply at 30 + 120 s
    assert mp.active_spans(rows, messages, BEN) == []  # Ben never opened it
    # A supervisor who only looks (opens it, neither types nor writes) handles nothing.
    looked = rows + session(at(25), at(40), user=BEN)
    resolved = [activity(at(60), "status_changed", ANA, to="resolved")]
    facts = mp.handling_facts(CONVERSATION, messages, resolved, looked)
    assert {(x.metric, x.agent_id, x.value) for x in facts} == {
        ("handling_time", ANA, 300),
        ("handling_time_short", ANA, 300),
    }
    # Two tabs: the conversation stays open until the last one closes.
    tabs = session(at(0), at(1)) + session(at(0.5), at(10))
    assert mp.active_spans(tabs, [reply(at(1.5), ANA)], ANA) == [(at(0), at(3.5))]


def test_each_ended_cycle_counts_per_agent_with_its_complexity_and_business_time() -> None:
    friday_1755 = datetime(2026, 11, 27, 20, 55, tzinfo=UTC)  # 17:55 in São Paulo; hours end at 18:00
    f = lambda minutes: friday_1755 + timedelta(minutes=minutes)  # noqa: E731
    messages = [customer(f(0)), reply(f(1), ANA), customer(f(2)), reply(f(8), BEN)]
    messages += [customer(f(100))]  # a second cycle, never resolved: no handling fact for it
    rows = session(f(0), f(3)) + session(f(6), f(9), user=BEN)
    activities = [
        activity(f(4), "transferred", ANA, to_user_id=BEN, from_user_id=ANA),
        activity(f(10), "status_changed", BEN, to="resolved"),
    ]
    facts = by_metric(mp.handling_facts(CONVERSATION, messages, activities, rows, SAO_PAULO))
    got = {(x.agent_id, x.value, x.business) for x in facts["handling_time"]}
    # Ana: open at 0 until the close at 3 min, signs at 0 and 1 min: 180 s, all of it before 18:00.
    # Ben: open at 6 min, reply at 8, closed at 9: 180 s, all after 18:00 (no business time).
    assert got == {(ANA, 180, 180), (BEN, 180, 0)}
    assert len(facts["handling_time_transferred"]) == 2 and "handling_time_short" not in facts
    assert all(x.at == f(10) for x in facts["handling_time"])


def test_complexity_buckets() -> None:
    assert mp.complexity(5, 0) == "handling_time_short"
    assert mp.complexity(6, 0) == "handling_time_medium"
    assert mp.complexity(20, 0) == "handling_time_medium"
    assert mp.complexity(21, 0) == "handling_time_long"
    assert mp.complexity(2, 1) == "handling_time_transferred"


def state(
    when: datetime,
    status: str = "open",
    team: int | None = 3,
    assignee: int | None = None,
    queued: bool = False,
):  # type: ignore[no-untyped-def]
    return {
        "id": next(_ids),
        "at": when,
        "status": status,
        "team_id": team,
        "assignee_id": assignee,
        "queued": queued,
    }


H10 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def h(hours: float) -> datetime:
    return H10 + timedelta(hours=hours)


def test_load_per_hour_and_queue_wait_from_the_state_history() -> None:
    states = [
        state(h(0.5), queued=True),  # 10:30 into team 3's queue
        state(h(50 / 60), assignee=ANA),  # 10:50 assigned to Ana: waited 20 minutes
        state(h(2.25), "resolved", assignee=ANA),  # 12:15
        state(h(3), assignee=ANA),  # 13:00 the customer wrote again
    ]
    facts = by_metric(mp.load_facts(CONVERSATION, states, h(4), SAO_PAULO))
    (wait,) = facts["queue_wait_time"]
    assert (wait.value, wait.at, wait.agent_id, wait.team_id) == (1200, h(50 / 60), ANA, 3)
    assert wait.business == 0  # 07:30–07:50 in São Paulo, before the hours open
    pieces = {
        (x.metric, x.at.hour, x.agent_id): x.value
        for m in facts.values()
        for x in m
        if x.metric.endswith("seconds")
    }
    assert pieces == {
        ("open_seconds", 10, 0): 1200,
        ("open_seconds", 10, ANA): 600,
        ("open_seconds", 11, ANA): 3600,
        ("open_seconds", 12, ANA): 900,
        ("open_seconds", 13, ANA): 3600,  # still open: counted up to the horizon (14:00)
        ("queued_seconds", 10, 0): 1200,
        ("assigned_seconds", 10, ANA): 600,
        ("assigned_seconds", 11, ANA): 3600,
        ("assigned_seconds", 12, ANA): 900,
        ("assigned_seconds", 13, ANA): 3600,
    }
    # No horizon yet: the running state counts nothing; the ended ones count whole.
    early = by_metric(mp.load_facts(CONVERSATION, states, None))
    assert sum(x.value for x in early["open_seconds"]) == 1200 + 600 + 3600 + 900
    # A horizon before the last change: still, the ended states count whole.
    assert by_metric(mp.load_facts(CONVERSATION, states, h(1)))["open_seconds"] == early["open_seconds"]


def test_leaving_the_queue_without_an_assignee_is_no_wait() -> None:
    states = [
        state(h(0), queued=True),
        state(h(1), "resolved"),
        state(h(2), queued=True),
        state(h(2.5), team=4, queued=True),
    ]
    states.append(state(h(3), team=4, assignee=BEN))
    facts = by_metric(mp.load_facts(CONVERSATION, states, None))
    # Only the second stay counts: 12:00 → 13:00, moved to team 4's queue on the way.
    assert [(x.value, x.team_id, x.agent_id) for x in facts["queue_wait_time"]] == [(3600, 4, BEN)]
    assert {(x.at.hour, x.team_id): x.value for x in facts["queued_seconds"]} == {
        (10, 3): 3600,
        (12, 3): 1800,
        (12, 4): 1800,
    }


def test_time_online_away_and_capacity_per_hour() -> None:
    statuses = [
        {"id": 1, "at": h(-0.5), "presence": "online", "capacity": 4},  # 09:30
        {"id": 2, "at": h(0.25), "presence": "away", "capacity": 4},  # 10:15
        {"id": 3, "at": h(0.75), "presence": "online", "capacity": 4},  # 10:45
        {"id": 4, "at": h(0.75), "presence": "online", "capacity": 6},  # the same instant: capacity 6
        {"id": 5, "at": h(1.5), "presence": "offline", "capacity": 6},  # 11:30
        {"id": 6, "at": h(3), "presence": "online", "capacity": 6},  # 13:00, still online
    ]
    facts = mp.agent_facts(ANA, 3, statuses, h(4))
    got = {(x.metric, x.at.hour): x.value for x in facts}
    assert got == {
        ("online_seconds", 9): 1800,
        ("online_seconds", 10): 900 + 900,
        ("online_seconds", 11): 1800,
        ("away_seconds", 10): 1800,
        ("capacity_seconds", 9): 1800 * 4,
        ("capacity_seconds", 10): 900 * 4 + 1800 * 4 + 900 * 6,
        ("capacity_seconds", 11): 1800 * 6,
        ("online_seconds", 13): 3600,  # still online: counted up to the horizon
        ("capacity_seconds", 13): 3600 * 6,
    }
    assert {(x.platform, x.channel_id, x.team_id, x.agent_id, x.labels) for x in facts} == {
        ("", 0, 3, ANA, ())
    }
