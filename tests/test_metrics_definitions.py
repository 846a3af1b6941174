"""Each metric's definition on hand-built timelines with known answers (resolvers/metrics_facts.py):
business hours across a weekend, a bot's hand-off, a reopening, a transfer, notes and failed sends."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import orjson

from resolvers import metrics_facts
from resolvers import metrics_histogram as histogram
from resolvers.metrics_facts import Checkpoint, business_seconds, facts_of, walk_facts
from resolvers.sla import BusinessHours

T0 = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)  # a Tuesday, 10:00 in São Paulo
CONVERSATION = {"id": 1, "platform": "whatsapp", "channel_id": 7, "team_id": 3, "labels": ["vip"]}
WEEKDAYS = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
SAO_PAULO = BusinessHours.of({"timezone": "America/Sao_Paulo", "business_hours": WEEKDAYS, "holidays": []})
_ids = count(1)


def at(minutes: float, base: datetime = T0) -> datetime:
    return base + timedelta(minutes=minutes)


def customer(when: datetime, platform_sent: datetime | None = None) -> dict[str, Any]:
    return _message("inbound", when, None, "received", sent_at=platform_sent)


def reply(when: datetime, agent: int, status: str = "sent", **extra: Any) -> dict[str, Any]:
    return _message("outbound", when, agent, status, **extra)


def bot(when: datetime) -> dict[str, Any]:
    return _message("outbound", when, None, "sent", metadata={"flow": {"id": 1}})


def note(when: datetime, agent: int) -> dict[str, Any]:
    return _message("note", when, agent, "posted")


def _message(direction: str, when: datetime, sender: int | None, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": next(_ids),
        "direction": direction,
        "created_at": when,
        "sender_id": sender,
        "status": status,
        "platform": "whatsapp",
        "channel_id": 7,
        "metadata": extra.pop("metadata", {}),
        "sent_at": None,
        "delivered_at": None,
        "read_at": None,
        **extra,
    }


def activity(when: datetime, kind: str, actor: int | None = None, **data: Any) -> dict[str, Any]:
    return {"id": next(_ids), "created_at": when, "type": kind, "actor_id": actor, "data": data}


def by_metric(facts):  # type: ignore[no-untyped-def]
    out = defaultdict(list)
    for fact in facts:
        out[fact.metric].append(fact)
    return out


def test_first_response_across_a_weekend_in_business_hours() -> None:
    friday_1730 = datetime(2026, 11, 27, 20, 30, tzinfo=UTC)
    monday_0930 = datetime(2026, 11, 30, 12, 30, tzinfo=UTC)
    facts = by_metric(
        facts_of(CONVERSATION, [customer(friday_1730), reply(monday_0930, agent=5)], [], SAO_PAULO)
    )
    (frt,) = facts["first_response_time"]
    assert frt.value == (monday_0930 - friday_1730).total_seconds() == 2 * 86400 + 16 * 3600
    assert frt.business == 3600  # 30 minutes on Friday, 30 on Monday
    assert (frt.agent_id, frt.team_id, frt.labels, frt.at) == (5, 3, ("vip",), monday_0930)
    # Without a calendar business time is wall-clock time.
    (plain,) = by_metric(facts_of(CONVERSATION, [customer(friday_1730), reply(monday_0930, 5)], []))[
        "first_response_time"
    ]
    assert plain.business == plain.value


def test_business_seconds_skip_nights_weekends_and_holidays() -> None:
    tuesday_9 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert business_seconds(SAO_PAULO, tuesday_9, tuesday_9 + timedelta(days=1)) == 9 * 3600
    assert business_seconds(SAO_PAULO, tuesday_9, tuesday_9 + timedelta(days=7)) == 5 * 9 * 3600
    holiday = BusinessHours.of(
        {"timezone": "America/Sao_Paulo", "business_hours": WEEKDAYS, "holidays": [tuesday_9.date()]}
    )
    assert business_seconds(holiday, tuesday_9, tuesday_9 + timedelta(days=7)) == 4 * 9 * 3600
    assert business_seconds(SAO_PAULO, tuesday_9, tuesday_9) == 0


def test_a_bots_time_is_not_held_against_the_agent() -> None:
    timeline = [customer(at(0)), bot(at(0.1)), customer(at(1)), bot(at(1.1)), reply(at(5), agent=9)]
    handed = [activity(at(2), "flow_handed_off", reason="keyword")]
    facts = by_metric(facts_of(CONVERSATION, timeline, handed))
    (frt,) = facts["first_response_time"]
    assert frt.value == 180  # from the hand-off (2 min), not the customer's first message (5 min)
    assert len(facts["messages_out"]) == 3 and len(facts["agent_replies"]) == 1
    assert "next_response_time" not in facts  # the customer's second message was answered by the bot's run
    # No bot spoke: a hand-off activity alone does not move the clock.
    quiet = by_metric(facts_of(CONVERSATION, [customer(at(0)), reply(at(5), 9)], handed))
    assert quiet["first_response_time"][0].value == 300


def test_notes_failed_and_automated_messages_never_respond() -> None:
    timeline = [
        customer(at(0)),
        note(at(1), agent=9),
        reply(at(2), agent=9, status="failed"),
        reply(at(3), agent=9, metadata={"automated": True}),
        reply(at(4), agent=9),
    ]
    facts = by_metric(facts_of(CONVERSATION, timeline, []))
    assert [f.value for f in facts["first_response_time"]] == [240]
    assert len(facts["sends_failed"]) == 1 and len(facts["agent_replies"]) == 1
    assert len(facts["messages_out"]) == 3  # the note is not a message out


def test_reopening_counts_each_care_cycle() -> None:
    timeline = [
        customer(at(0)),
        reply(at(1), agent=9),
        customer(at(3)),
        customer(at(4)),  # still the same wait
        reply(at(8), agent=9),
        customer(at(60)),
        reply(at(62), agent=9),
    ]
    activities = [
        activity(at(10), "status_changed", 9, to="resolved"),
        activity(at(60), "status_changed", None, **{"from": "resolved", "to": "open"}),
        activity(at(90), "status_changed", 9, to="resolved"),
        activity(at(95), "status_changed", 9, to="closed"),  # no cycle open: nothing more
    ]
    facts = by_metric(facts_of(CONVERSATION, timeline, activities))
    assert [f.value for f in facts["first_response_time"]] == [60, 120]
    assert [f.value for f in facts["next_response_time"]] == [300]
    assert [f.value for f in facts["resolution_time"]] == [600, 1800]
    assert len(facts["resolutions"]) == 2 and len(facts["reopenings"]) == 1
    assert len(facts["conversations_started"]) == 1 and len(facts["cycles_started"]) == 2
    assert "first_contact_resolutions" not in facts  # it came back


def test_transfer_reaction_times_and_first_contact_resolution() -> None:
    timeline = [customer(at(0)), reply(at(3), agent=1), customer(at(3.5)), reply(at(10), agent=2)]
    activities = [
        activity(at(1), "assigned", None, to_user_id=1, strategy="round_robin"),
        activity(at(4), "transferred", 1, to_user_id=2, from_user_id=1),
        activity(at(20), "status_changed", 2, to="resolved"),
    ]
    facts = by_metric(facts_of(CONVERSATION, timeline, activities))
    assert [(f.value, f.agent_id) for f in facts["reaction_time"]] == [(120, 1), (360, 2)]
    assert [(f.value, f.agent_id) for f in facts["first_response_time"]] == [(180, 1)]
    assert [(f.value, f.agent_id) for f in facts["next_response_time"]] == [(390, 2)]
    assert [(f.value, f.agent_id) for f in facts["resolution_time"]] == [(1200, 2)]
    assert len(facts["transfers"]) == 1 and "first_contact_resolutions" not in facts
    simple = by_metric(
        facts_of(
            CONVERSATION,
            [customer(at(0)), reply(at(1), 1)],
            [activity(at(2), "status_changed", 1, to="resolved")],
        )
    )
    assert [f.at for f in simple["first_contact_resolutions"]] == [at(2)]


def test_platform_latencies_count_in_the_hour_of_the_send() -> None:
    sent = reply(at(0), agent=1, sent_at=at(0.05), delivered_at=at(0.5), read_at=at(120))
    inbound = customer(at(1), platform_sent=at(1) - timedelta(seconds=2))
    facts = by_metric(facts_of(CONVERSATION, [sent, inbound], []))
    assert [f.value for f in facts["outbound_accept_latency"]] == [3]
    assert [f.value for f in facts["outbound_delivery_latency"]] == [30]
    assert [(f.value, f.at) for f in facts["outbound_read_latency"]] == [(7200, at(0))]
    assert [f.value for f in facts["inbound_latency"]] == [2]
    assert len(facts["sends_ok"]) == 1


def test_histogram_percentiles_land_in_the_exact_values_bin() -> None:
    values = [0.2, 1, 3, 60, 61, 300, 3600, 7200, 86400, 86400 * 3]
    counts = histogram.of_values(values)
    for name, fraction in histogram.PERCENTILES:
        exact = histogram.exact_rank(values, fraction)
        reported = histogram.percentiles(counts)[name]
        assert histogram.bin_of(reported) == histogram.bin_of(exact), name
        assert abs(reported - exact) <= 0.05 * exact + 0.5
    merged = histogram.from_bytes(histogram.to_bytes(histogram.of_values(values[:4]))) + histogram.of_values(
        values[4:]
    )
    assert (merged == counts).all()


def test_a_walk_resumed_at_any_checkpoint_gives_the_whole_walk_s_facts_from_there(monkeypatch) -> None:
    """The walk's checkpoints (each cycle's opening, and every CHECKPOINT_ROWS rows inside one) carry
    all it needs: resumed at any of them, with the rows from there on and the checkpoint's state
    read back from JSON, it gives exactly the whole walk's facts of those segments and later,
    tagged alike, and the same checkpoints."""
    monkeypatch.setattr(metrics_facts, "CHECKPOINT_ROWS", 4)
    rng = random.Random(7)
    messages: list[dict[str, Any]] = []
    activities: list[dict[str, Any]] = []
    for k in range(300):
        when, roll = at(k), rng.random()
        if roll < 0.3:
            messages.append(customer(when, when - timedelta(seconds=2)))
        elif roll < 0.5:
            metadata = {"response_template": {"id": 1, "version": 1}} if rng.random() < 0.3 else {}
            messages.append(
                reply(when, rng.choice([5, 6]), rng.choice(["sent", "failed"]), metadata=metadata)
            )
        elif roll < 0.55:
            messages.append(bot(when))
        elif roll < 0.6:
            messages.append(note(when, 5))
        elif roll < 0.7:
            activities.append(activity(when, "assigned", to_user_id=rng.choice([5, 6])))
        elif roll < 0.75:
            activities.append(activity(when, "transferred", 5, to_user_id=6))
        elif roll < 0.8:
            activities.append(activity(when, "flow_handed_off"))
        elif roll < 0.85:
            activities.append(activity(when, "escalated"))
        else:
            activities.append(activity(when, "status_changed", to=rng.choice(["resolved", "closed", "open"])))
    whole = walk_facts(CONVERSATION, messages, activities, SAO_PAULO)
    cycles = len(whole.cycles)
    assert len(whole.checkpoints) > 2 * cycles > 10  # most checkpoints are inside a cycle
    assert whole.reaches == []
    for checkpoint in whole.checkpoints:
        state = orjson.loads(orjson.dumps(checkpoint.state()))
        resume = Checkpoint.of(checkpoint.segment, checkpoint.opened_at, checkpoint.message_id, state)
        resumed = walk_facts(CONVERSATION, messages, activities, SAO_PAULO, resume)
        expected = Counter((s, f) for s, f in whole.facts if s >= checkpoint.segment)
        assert Counter(resumed.facts) == expected, checkpoint.segment
        assert resumed.checkpoints == [c for c in whole.checkpoints if c.segment >= checkpoint.segment]
        assert resumed.segment_of == {m: s for m, s in whole.segment_of.items() if s >= checkpoint.segment}
