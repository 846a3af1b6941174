"""Roll-ups equal a direct computation over the raw rows: a random scenario (two platforms, three
agents, a team, labels, bots, transfers, resolutions, reopenings, failed and late statuses) folded
in by two catch-up jobs at once, then changed (late statuses, new messages, relabelling, a team
change) and folded again; every answer of `compute` is compared with the facts derived from the
raw rows, aggregated here independently."""

from __future__ import annotations

import asyncio
import math
import os
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.auth import Actor
from core.sql import fetch, in_transaction
from models import Role
from resolvers import metrics, rollups
from resolvers import metrics_histogram as histogram
from tests.helpers import make_channel, make_user
from tests.test_metrics import World, announce, settle

BASE = datetime(2026, 10, 5, 6, 0, tzinfo=UTC)


async def _random_conversation(world: World, rng: random.Random, channel: Any, agents: list[Any]) -> int:
    conversation = await world.conversation(
        labels=tuple(rng.sample(["a", "b", "c"], rng.randint(0, 2))), team=rng.random() < 0.7, channel=channel
    )
    at = BASE + timedelta(minutes=rng.randint(0, 3 * 24 * 60))
    assignee = None
    for _ in range(rng.randint(1, 12)):
        at += timedelta(seconds=rng.choice([5, 40, 300, 1800, 4 * 3600, 20 * 3600]) * rng.random())
        roll = rng.random()
        if roll < 0.35:
            await world.message(
                conversation, "inbound", at, sent_at=at - timedelta(seconds=rng.randint(0, 30))
            )
        elif roll < 0.6:
            agent = assignee or rng.choice(agents)
            status = rng.choice(["sent", "sent", "delivered", "read", "failed"])
            await world.message(
                conversation,
                "outbound",
                at,
                agent,
                status=status,
                delivered_at=at + timedelta(seconds=rng.randint(1, 600))
                if status in ("delivered", "read")
                else None,
                read_at=at + timedelta(seconds=rng.randint(600, 9000)) if status == "read" else None,
            )
        elif roll < 0.67:
            await world.message(conversation, "outbound", at, None, metadata={"flow": {"id": 1}})
        elif roll < 0.72:
            await world.activity(conversation, at, "flow_handed_off")
        elif roll < 0.8:
            assignee = rng.choice(agents)
            await world.activity(conversation, at, "assigned", None, to_user_id=assignee.id)
        elif roll < 0.85:
            assignee = rng.choice(agents)
            await world.activity(conversation, at, "transferred", None, to_user_id=assignee.id)
        elif roll < 0.88:
            await world.activity(conversation, at, "escalated", None, level=1)
        else:
            await world.activity(
                conversation, at, "status_changed", None, to=rng.choice(["resolved", "closed"])
            )
    return conversation


def _bucket(hour: datetime, bucket: str | None, zone: ZoneInfo) -> Any:
    local = hour.astimezone(zone)
    if bucket is None:
        return None
    if bucket == "hour":
        return hour
    if bucket == "hour_of_day":
        return local.hour
    day = datetime(local.year, local.month, local.day, tzinfo=zone)
    return day - timedelta(days=day.weekday()) if bucket == "week" else day


_FIELD = {"platform": "platform", "channel": "channel_id", "team": "team_id", "agent": "agent_id"}


async def _direct(
    ids: list[int],
    names: list[str],
    start: datetime,
    end: datetime,
    group_by: list[str],
    bucket: str | None,
    tz: str,
    label: str | None,
) -> dict[tuple, dict[str, Any]]:
    async with in_transaction() as conn:
        facts = [f for fs in (await rollups.current_facts(conn, ids)).values() for f in fs]
    zone = ZoneInfo(tz)
    groups: dict[tuple, list] = defaultdict(list)
    for fact in facts:
        hour = fact.at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        if not start <= hour < end or (label and label not in fact.labels):
            continue
        labels = fact.labels if "label" in group_by else (None,)
        for each in labels:
            dims = tuple(each if g == "label" else getattr(fact, _FIELD[g]) for g in group_by)
            groups[(fact.metric, _bucket(hour, bucket, zone), *dims)].append(fact)
    out = {}
    for key, members in groups.items():
        if key[0] not in names:
            continue
        n = sum(f.n for f in members)
        row: dict[str, Any] = {"count": n}
        if members[0].value is not None:
            values = [f.value for f in members]
            business = [f.business for f in members]
            row["avg"] = sum(values) / n
            row["business_avg"] = sum(business) / n
            for name, fraction in histogram.PERCENTILES:
                row[name] = histogram.bin_of(histogram.exact_rank(values, fraction))
                row["business_" + name] = histogram.bin_of(histogram.exact_rank(business, fraction))
        out[key] = row
    return out


def _from_rollups(rows: list[dict[str, Any]], group_by: list[str]) -> dict[tuple, dict[str, Any]]:
    out = {}
    for r in rows:
        row: dict[str, Any] = {"count": r["count"]}
        if "avg" in r:
            row["avg"] = r["avg"]
            row["business_avg"] = r["business"]["avg"]
            for name, _ in histogram.PERCENTILES:
                row[name] = histogram.bin_of(r[name])
                row["business_" + name] = histogram.bin_of(r["business"][name])
        out[(r["metric"], r["bucket"], *(r["group"][g] for g in group_by))] = row
    return out


def _same(direct: dict, rolled: dict, context: str) -> None:
    assert direct.keys() == rolled.keys(), f"{context}: groups differ: {set(direct) ^ set(rolled)}"
    for key, want in direct.items():
        got = rolled[key]
        for name, value in want.items():
            if isinstance(value, float):
                assert math.isclose(got[name], value, rel_tol=1e-9, abs_tol=1e-6), (
                    context,
                    key,
                    name,
                    got,
                    want,
                )
            else:
                assert got[name] == value, (context, key, name, got, want)


QUESTIONS = [
    ([], None, "UTC", None),  # whole UTC days from the daily rows, the edges from the hourly ones
    (["platform"], "day", "America/Sao_Paulo", None),
    (["agent", "label"], "hour", "UTC", None),
    (["team"], "week", "America/Sao_Paulo", "a"),
    (["channel"], "hour_of_day", "America/Sao_Paulo", None),
    ([], "day", "UTC", "b"),
]


async def _compare(ids: list[int], channels: list[int], context: str, admin: Actor) -> int:
    names = [n for n in metrics.REGISTRY if metrics.REGISTRY[n].kind != "ratio"]
    start, end = BASE + timedelta(hours=5), BASE + timedelta(days=5, hours=7)
    checked = 0
    for group_by, bucket, tz, label in QUESTIONS:
        rows = await metrics.compute(
            admin,
            names,
            (start, end),
            metrics.MetricFilter(channel_ids=channels, label=label),
            group_by,
            bucket,
            tz,
        )
        direct = await _direct(ids, names, start, end, group_by, bucket, tz, label)
        _same(direct, _from_rollups(rows, group_by), f"{context} {group_by} {bucket} {tz} {label}")
        checked += len(direct)
    return checked


async def test_rollups_equal_the_direct_computation(server):
    seed = int(os.environ.get("METRICS_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    world = await World().setup()
    second = await make_channel("telegram", {}, {}, name="metrics telegram")
    agents = [await world.agent() for _ in range(3)]
    admin = Actor(user_id=(await make_user(Role.ADMIN)).id, role=Role.ADMIN)
    ids = [
        await _random_conversation(world, rng, rng.choice([world.channel, second]), agents) for _ in range(40)
    ]
    await announce(*ids)
    await asyncio.gather(rollups.catch_up(batch=7), rollups.catch_up(batch=7))  # two workers at once
    await settle()
    channels = [world.channel.id, second.id]
    assert await _compare(ids, channels, f"seed {seed}", admin) > 50

    # Hours later: statuses arrive, customers write again, labels and teams change.
    changed = rng.sample(ids, 15)
    for conversation in changed:
        await fetch(
            "UPDATE messages SET delivered_at = created_at + interval '5 hours' "
            "WHERE conversation_id = $1 AND direction = 'outbound' AND delivered_at IS NULL AND status <> 'failed'",
            conversation,
        )
        if rng.random() < 0.5:
            await world.message(
                conversation, "inbound", BASE + timedelta(days=3, minutes=rng.randint(0, 600))
            )
        if rng.random() < 0.3:
            await fetch(
                "UPDATE conversations SET labels = ARRAY['a', 'c'], team_id = NULL WHERE id = $1",
                conversation,
            )
    await announce(*changed, type_="MESSAGE_UPDATED")
    await settle()
    assert await _compare(ids, channels, f"seed {seed}, after changes", admin) > 50
    stored = await fetch("SELECT count(*) AS n FROM metric_rollups WHERE n < 0")
    assert stored[0]["n"] == 0
