"""MetricsService: the metric registry and `compute`, which answers any metric over a time range,
filtered, grouped and bucketed, from the roll-ups only (resolvers/rollups.py), never the messages.

Other modules (CSAT, alerts, reports, the dashboard) call `compute` with the same arguments the
GraphQL field takes:

    rows = await compute(actor, ["first_response_time"], (start, end), MetricFilter(platforms=["whatsapp"]),
                         group_by=["agent"], bucket="day", tz="America/Sao_Paulo")

Each row: {"metric", "bucket" (aware datetime or None; an int 0-23 for hour_of_day), "group"
(dimension → value), "count", and for durations "avg", "median", "p90", "p95" in wall-clock seconds
and "business" with the same in business seconds; for ratios "value", "numerator", "denominator"}.
Roll-ups are hourly: a range counts the hours that start within `[start, end)`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from core.auth import Actor, Role
from core.sql import fetch
from resolvers import metrics_content as content
from resolvers import metrics_histogram as histogram
from resolvers import metrics_presence
from resolvers.errors import BadInput, Forbidden
from resolvers.metrics_facts import COUNTS, DURATIONS
from resolvers.rollups import ANY_ID, ANY_PLATFORM
from resolvers.visibility import scope_of

DIMENSIONS = ("platform", "channel", "team", "agent", "label")
BUCKETS = ("hour", "day", "week", "hour_of_day")
MAX_RANGE_DAYS = 400
MAX_HOURLY_RANGE_DAYS = 31  # bucket "hour" / "hour_of_day"
MAX_GROUP_BY = 2
MAX_NAMES = 20
MAX_ROWS = 10_000
_NO_TEAM = -2  # a supervisor in no team: a team id no row has


@dataclass(frozen=True)
class MetricDefinition:
    name: str
    kind: str  # duration, count, ratio, sum (seconds: the total is the value)
    description: str
    numerator: str | None = None
    denominator: tuple[str, ...] = ()
    # Ratios of recorded time (resolvers/metrics_presence.py): what each side adds up, "n" (the
    # count) or "total" (the summed seconds); COVERED is the seconds of the bucket within the range.
    numerator_of: str = "n"
    denominator_of: str = "n"
    scale: float = 1.0


def _d(
    name: str, kind: str, description: str, numerator: str | None = None, *denominator: str
) -> MetricDefinition:
    return MetricDefinition(name, kind, description, numerator, tuple(denominator))


REGISTRY: dict[str, MetricDefinition] = {
    m.name: m
    for m in (
        _d(
            "first_response_time",
            "duration",
            "cycle start (or the bot's hand-off) → first public agent reply",
        ),
        _d("next_response_time", "duration", "each later customer wait → the agent reply that ends it"),
        _d("reaction_time", "duration", "assignment → the assignee's first reply"),
        _d("resolution_time", "duration", "care cycle start → resolved or closed"),
        _d("inbound_latency", "duration", "the platform's timestamp of an inbound message → stored"),
        _d("outbound_accept_latency", "duration", "reply queued → accepted by the platform"),
        _d("outbound_delivery_latency", "duration", "reply queued → delivered"),
        _d("outbound_read_latency", "duration", "reply queued → read"),
        _d("messages_in", "count", "inbound messages"),
        _d("messages_out", "count", "outbound messages (agents, bots, automated)"),
        _d("agent_replies", "count", "public replies agents wrote"),
        _d("conversations_started", "count", "first care cycles started"),
        _d("cycles_started", "count", "care cycles started (first ones and reopenings)"),
        _d("reopenings", "count", "care cycles after the first"),
        _d("resolutions", "count", "care cycles resolved or closed"),
        _d(
            "first_contact_resolutions",
            "count",
            "first cycles resolved without a transfer and never reopened",
        ),
        _d("transfers", "count", "transfers to an agent or a team"),
        _d("escalations", "count", "escalations"),
        _d("sends_ok", "count", "outbound messages the platform accepted"),
        _d("sends_failed", "count", "outbound messages that failed"),
        _d("resolution_rate", "ratio", "resolutions / cycles started", "resolutions", "cycles_started"),
        _d(
            "first_contact_resolution_rate",
            "ratio",
            "first-contact resolutions / resolutions",
            "first_contact_resolutions",
            "resolutions",
        ),
        _d("transfer_rate", "ratio", "transfers / cycles started", "transfers", "cycles_started"),
        _d("escalation_rate", "ratio", "escalations / cycles started", "escalations", "cycles_started"),
        _d(
            "send_availability", "ratio", "accepted sends / all sends", "sends_ok", "sends_ok", "sends_failed"
        ),
    )
}
# Platform availability on the inbound side (resolvers/webhook_availability.py) and template and
# flow performance (resolvers/metrics_content.py).
for _m in (
    _d("webhooks_accepted", "count", "webhooks verified and stored"),
    _d("webhooks_refused", "count", "webhooks refused: bad or replayed signature, malformed, too large"),
    _d(
        "webhooks_failed",
        "count",
        "webhooks verified but not stored (an error of ours; the platform retries)",
    ),
    _d(
        "webhook_availability",
        "ratio",
        "accepted webhooks / all webhooks to a known channel",
        "webhooks_accepted",
        "webhooks_accepted",
        "webhooks_refused",
        "webhooks_failed",
    ),
    _d("template_uses", "count", "sends from a response template that did not fail"),
    _d("template_replies", "count", "template uses the customer wrote after"),
    _d("template_resolutions", "count", "template uses the conversation was resolved after"),
    _d("template_reply_rate", "ratio", "template replies / uses", "template_replies", "template_uses"),
    _d(
        "template_resolution_rate",
        "ratio",
        "template resolutions / uses",
        "template_resolutions",
        "template_uses",
    ),
    _d("flow_runs_started", "count", "flow runs started"),
    _d("flow_runs_completed", "count", "flow runs that reached the end of the flow"),
    _d("flow_runs_handed_off", "count", "flow runs handed to an agent"),
    _d(
        "flow_runs_dropped",
        "count",
        "flow runs cancelled or failed without a hand-off (group by node: where)",
    ),
    _d("flow_completion_rate", "ratio", "completed / started", "flow_runs_completed", "flow_runs_started"),
    _d("flow_handoff_rate", "ratio", "handed off / started", "flow_runs_handed_off", "flow_runs_started"),
    _d("flow_drop_rate", "ratio", "dropped / started", "flow_runs_dropped", "flow_runs_started"),
    _d("csat_responses", "count", "CSAT surveys answered (the counted score)"),
    _d("csat_points", "count", "the sum of the counted CSAT scores (1-5)"),
    _d("csat_satisfied", "count", "CSAT answers of 4 or 5"),
    _d("csat_average", "ratio", "mean CSAT score: points / responses", "csat_points", "csat_responses"),
    _d(
        "csat_satisfaction",
        "ratio",
        "share of 4s and 5s: satisfied / responses",
        "csat_satisfied",
        "csat_responses",
    ),
):
    REGISTRY[_m.name] = _m
assert set(DURATIONS) | set(COUNTS) | set(content.COUNTS) <= set(REGISTRY)

COVERED = "@covered"  # a ratio's denominator: the seconds of the bucket within the range


def _h(name: str, description: str) -> MetricDefinition:
    return MetricDefinition(name, "duration", description)


def _per(
    name: str, description: str, top: str, of: str, bottom: tuple[str, ...], under: str, scale: float = 1.0
) -> MetricDefinition:
    return MetricDefinition(name, "ratio", description, top, bottom, of, under, scale)


# Handling time, productivity, load and queue wait, from recorded history (resolvers/metrics_presence.py).
REGISTRY.update(
    (m.name, m)
    for m in (
        _h("handling_time", "an agent's active time on an ended care cycle (open and typing or replying)"),
        _h("handling_time_short", "handling time of cycles with at most 5 messages and no transfer"),
        _h("handling_time_medium", "handling time of cycles with 6 to 20 messages and no transfer"),
        _h("handling_time_long", "handling time of cycles with more than 20 messages and no transfer"),
        _h("handling_time_transferred", "handling time of cycles with a transfer"),
        _h("queue_wait_time", "entering a team's queue → assigned to an agent"),
        MetricDefinition("open_seconds", "sum", "seconds conversations were open or pending"),
        MetricDefinition("queued_seconds", "sum", "seconds conversations waited in a queue"),
        MetricDefinition("assigned_seconds", "sum", "seconds conversations were open and assigned"),
        MetricDefinition("online_seconds", "sum", "seconds agents were online"),
        MetricDefinition("away_seconds", "sum", "seconds agents were away"),
        MetricDefinition("capacity_seconds", "sum", "capacity × seconds agents were online or away"),
        _per(
            "load_open", "open conversations at a time, on average", "open_seconds", "total", (COVERED,), "n"
        ),
        _per(
            "load_queued",
            "queued conversations at a time, on average",
            "queued_seconds",
            "total",
            (COVERED,),
            "n",
        ),
        _per(
            "load_assigned",
            "assigned conversations at a time, on average",
            "assigned_seconds",
            "total",
            (COVERED,),
            "n",
        ),
        _per(
            "utilisation",
            "assigned conversation-seconds / capacity × connected seconds",
            "assigned_seconds",
            "total",
            ("capacity_seconds",),
            "total",
        ),
        _per(
            "messages_per_active_hour",
            "agent replies / hours online or away",
            "agent_replies",
            "n",
            ("online_seconds", "away_seconds"),
            "total",
            3600.0,
        ),
        MetricDefinition("open_now", "now", "open or pending conversations now"),
        MetricDefinition("queued_now", "now", "conversations in a team's queue now"),
        MetricDefinition("assigned_now", "now", "open or pending conversations with an assignee now"),
        _per(
            "resolutions_per_day",
            "resolutions / days in the bucket",
            "resolutions",
            "n",
            (COVERED,),
            "n",
            86400.0,
        ),
    )
)
assert set(metrics_presence.DURATIONS) | set(metrics_presence.SUMS) <= set(REGISTRY)

DASHBOARD = (
    "first_response_time",
    "resolution_time",
    "messages_in",
    "messages_out",
    "resolutions",
    "resolution_rate",
    "first_contact_resolution_rate",
    "transfer_rate",
    "send_availability",
)


@dataclass(frozen=True)
class MetricFilter:
    platforms: Sequence[str] = ()
    channel_ids: Sequence[int] = ()
    team_ids: Sequence[int] = ()
    agent_ids: Sequence[int] = ()
    label: str | None = None

    def dimensions(self) -> set[str]:
        given = {
            "platform": self.platforms,
            "channel": self.channel_ids,
            "team": self.team_ids,
            "agent": self.agent_ids,
            "label": self.label,
        }
        return {d for d, v in given.items() if v}


_COLUMN = {
    "platform": "platform",
    "channel": "channel_id",
    "team": "team_id",
    "agent": "agent_id",
    "label": "label",
    **dict.fromkeys(content.DIMENSIONS, "label"),
}
_ANY = {"platform": ANY_PLATFORM, "channel": ANY_ID, "team": ANY_ID, "agent": ANY_ID}


# ---- who sees what ------------------------------------------------------------------------------


async def scoped(actor: Actor | None, wanted: MetricFilter) -> MetricFilter:
    """Agents see their own numbers, supervisors their teams', admins (and API keys and users
    granted every conversation: resolvers/visibility.py) everything."""
    scope = await scope_of(actor)
    if scope.everything:
        return wanted
    if scope.role is Role.SUPERVISOR:
        mine = set(scope.team_ids)
        if wanted.team_ids and not set(wanted.team_ids) <= mine:
            raise Forbidden("supervisors see the numbers of their own teams only", field="filter.teamIds")
        return _replace(wanted, team_ids=sorted(wanted.team_ids or mine) or [_NO_TEAM])
    if wanted.agent_ids and set(wanted.agent_ids) != {scope.user_id}:
        raise Forbidden("agents see their own numbers only", field="filter.agentIds")
    return _replace(wanted, agent_ids=[scope.user_id])


def _replace(f: MetricFilter, **changes: Any) -> MetricFilter:
    return MetricFilter(**{**f.__dict__, **changes})


# ---- checking the question ----------------------------------------------------------------------


@dataclass
class _Plan:
    names: list[str]
    start: datetime
    end: datetime
    group_by: list[str]
    bucket: str | None
    zone: ZoneInfo
    base: list[str] = field(default_factory=list)


def _plan(
    names: Sequence[str],
    range_: tuple[datetime, datetime],
    group_by: Sequence[str],
    bucket: str | None,
    tz: str,
) -> _Plan:
    if not names:
        raise BadInput("name at least one metric", field="names")
    if len(names) > MAX_NAMES:
        raise BadInput(f"at most {MAX_NAMES} metrics at once", field="names")
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise BadInput(f"unknown metric {unknown[0]!r}; known: {', '.join(REGISTRY)}", field="names")
    bad = [g for g in group_by if g not in DIMENSIONS and g not in content.DIMENSIONS]
    if bad:
        known = ", ".join((*DIMENSIONS, *content.DIMENSIONS))
        raise BadInput(f"cannot group by {bad[0]!r}; dimensions: {known}", field="groupBy")
    if any(g in content.DIMENSIONS for g in group_by) and any(REGISTRY[n].kind == "now" for n in names):
        raise BadInput(
            "metrics counted now cannot be grouped by template, arm, flow or node", field="groupBy"
        )
    if len({g for g in group_by if g in content.DIMENSIONS} | ({"label"} & set(group_by))) > 1:
        raise BadInput(
            f"group by at most one of label, {', '.join(content.DIMENSIONS)} (they share a column)",
            field="groupBy",
        )
    if len(set(group_by)) > MAX_GROUP_BY:
        raise BadInput(f"group by at most {MAX_GROUP_BY} dimensions", field="groupBy")
    if bucket is not None and bucket not in BUCKETS:
        raise BadInput(f"bucket is one of {', '.join(BUCKETS)}", field="bucket")
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadInput(f"unknown time zone {tz!r}", field="timeZone") from None
    start, end = (t if t.tzinfo else t.replace(tzinfo=UTC) for t in range_)
    if end <= start:
        raise BadInput("the range's end must be after its start", field="range")
    days = (end - start).total_seconds() / 86400
    if days > MAX_RANGE_DAYS:
        raise BadInput(f"the range is at most {MAX_RANGE_DAYS} days", field="range")
    if bucket in ("hour", "hour_of_day") and days > MAX_HOURLY_RANGE_DAYS:
        raise BadInput(f"hourly buckets cover at most {MAX_HOURLY_RANGE_DAYS} days", field="range")
    base: list[str] = []
    for name in names:
        d = REGISTRY[name]
        for b in (name,) if d.kind != "ratio" else (d.numerator, *d.denominator):
            if b not in base and b != COVERED and d.kind != "now":
                base.append(b)  # type: ignore[arg-type]
    hour = timedelta(hours=1)
    floor = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    start = floor if floor == start else floor + hour  # hours that *start* within the range
    end = end.astimezone(UTC)
    return _Plan(list(dict.fromkeys(names)), start, end, list(dict.fromkeys(group_by)), bucket, zone, base)


# ---- reading the roll-ups -----------------------------------------------------------------------


def _where(plan: _Plan, wanted: MetricFilter, args: list[Any]) -> list[str]:
    """Conditions choosing the rows: marginal rows when at most one dimension is asked about
    (filtered or grouped), else the full rows."""
    asked = wanted.dimensions() | set(plan.group_by)
    values = {
        "platform": list(wanted.platforms),
        "channel": list(wanted.channel_ids),
        "team": list(wanted.team_ids),
        "agent": list(wanted.agent_ids),
    }
    conds = []
    marginal = len(asked) <= 1
    for dim in ("platform", "channel", "team", "agent"):
        col = _COLUMN[dim]
        if values[dim]:
            args.append(values[dim])
            conds.append(f"{col} = ANY(${len(args)}::{'text' if dim == 'platform' else 'int'}[])")
        elif marginal and dim not in asked:
            args.append(_ANY[dim])
            conds.append(f"{col} = ${len(args)}")
        elif not marginal or dim in asked:
            args.append(_ANY[dim])
            conds.append(f"{col} <> ${len(args)}")
    marked = [g for g in plan.group_by if g in content.DIMENSIONS]
    if marked and wanted.label:
        raise BadInput(
            f"grouping by {marked[0]} cannot be combined with a label filter", field="filter.label"
        )
    if marked:  # template, arm, flow or node: labels under their mark (resolvers/metrics_content.py)
        args.append(content.prefix_of(marked[0]) + "%")
        conds.append(f"label LIKE ${len(args)}")
    elif wanted.label:
        args.append(wanted.label)
        conds.append(f"label = ${len(args)}")
    elif "label" in plan.group_by:
        args.append(content.LABEL_MARK)
        conds.append(f"label <> '' AND left(label, 1) <> ${len(args)}")
    else:
        conds.append("label = ''")
    return conds


def _spans(plan: _Plan) -> list[tuple[str, datetime, datetime]]:
    """Which grain reads which part of the range: whole UTC days from the daily rows when the
    answer does not need hours, hours elsewhere."""
    daily_ok = plan.bucket is None or (
        plan.bucket in ("day", "week")
        and plan.zone.utcoffset(plan.start) == timedelta(0)
        and _fixed_utc(plan.zone)
    )
    if not daily_ok:
        return [("h", plan.start, plan.end)]
    first_day = plan.start.replace(hour=0)
    if first_day < plan.start:
        first_day += timedelta(days=1)
    last_day = plan.end.replace(hour=0, minute=0, second=0, microsecond=0)
    if last_day <= first_day:
        return [("h", plan.start, plan.end)]
    spans = [("d", first_day, last_day)]
    if plan.start < first_day:
        spans.append(("h", plan.start, first_day))
    if last_day < plan.end:
        spans.append(("h", last_day, plan.end))
    return spans


def _fixed_utc(zone: ZoneInfo) -> bool:
    return zone.key in ("UTC", "Etc/UTC", "Etc/GMT", "GMT", "Universal", "Zulu")


def _bucket_sql(plan: _Plan, args: list[Any]) -> str:
    """The bucket of a roll-up row, computed by PostgreSQL so that only groups travel back."""
    if plan.bucket is None:
        return "NULL::int"
    if plan.bucket == "hour":
        return "bucket"
    args.append(plan.zone.key)
    zone = f"${len(args)}::text"
    if plan.bucket == "hour_of_day":
        return f"extract(hour FROM bucket AT TIME ZONE {zone})::int"
    unit = "day" if plan.bucket == "day" else "week"  # weeks start on Monday, as ISO's
    return f"date_trunc('{unit}', bucket AT TIME ZONE {zone}) AT TIME ZONE {zone}"


def _shown(plan: _Plan, bucket: Any) -> Any:
    return bucket.astimezone(plan.zone) if isinstance(bucket, datetime) else bucket


async def _read(plan: _Plan, wanted: MetricFilter) -> dict[tuple, dict[str, Any]]:
    sums: dict[tuple, dict[str, Any]] = {}
    hists: dict[tuple, list[bytes]] = defaultdict(list)
    hists_b: dict[tuple, list[bytes]] = defaultdict(list)
    group_cols = [_COLUMN[g] for g in plan.group_by]
    for grain, start, end in _spans(plan):
        args: list[Any] = [plan.base, grain, start, end]
        conds = [
            "metric = ANY($1::text[])",
            "grain = $2",
            "bucket >= $3",
            "bucket < $4",
            *_where(plan, wanted, args),
        ]
        bucket = _bucket_sql(plan, args)
        positions = ", ".join(str(i) for i in range(1, 3 + len(group_cols)))
        rows = await fetch(
            f"SELECT metric, {bucket} AS b, {''.join(c + ', ' for c in group_cols)}sum(n)::bigint AS n, "
            "sum(total) AS total, sum(total_business) AS business, "
            "array_agg(hist) FILTER (WHERE hist IS NOT NULL) AS hists, "
            "array_agg(hist_business) FILTER (WHERE hist IS NOT NULL) AS hists_b "
            f"FROM metric_rollups WHERE {' AND '.join(conds)} GROUP BY {positions}",
            *args,
        )
        for row in rows:
            key = (row["metric"], _shown(plan, row["b"]), *(row[c] for c in group_cols))
            acc = sums.setdefault(key, {"n": 0, "total": 0.0, "business": 0.0})
            acc["n"] += row["n"]
            acc["total"] += row["total"]
            acc["business"] += row["business"]
            if row["hists"]:
                hists[key].extend(row["hists"])
                hists_b[key].extend(row["hists_b"])
        if len(sums) > MAX_ROWS * len(plan.base):
            raise BadInput(
                f"the answer would exceed {MAX_ROWS} rows; narrow the range or the grouping", field="groupBy"
            )
    for key, acc in sums.items():
        acc["hist"] = _merge(hists.get(key))
        acc["hist_business"] = _merge(hists_b.get(key))
    return sums


def _merge(parts: list[bytes] | None) -> np.ndarray | None:
    if not parts:
        return None
    return histogram.merge(parts)


def _duration_row(acc: dict[str, Any]) -> dict[str, Any]:
    n = acc["n"]
    out: dict[str, Any] = {"count": n, "avg": acc["total"] / n if n else None}
    hist = acc.get("hist")
    out.update(histogram.percentiles(hist) if hist is not None else dict.fromkeys(("median", "p90", "p95")))
    business: dict[str, Any] = {"avg": acc["business"] / n if n else None}
    hb = acc.get("hist_business")
    business.update(histogram.percentiles(hb) if hb is not None else dict.fromkeys(("median", "p90", "p95")))
    out["business"] = business
    return out


async def compute(
    actor: Actor | None,
    names: Sequence[str],
    range_: tuple[datetime, datetime],
    filter_: MetricFilter | None = None,
    group_by: Sequence[str] = (),
    bucket: str | None = None,
    tz: str = "UTC",
) -> list[dict[str, Any]]:
    plan = _plan(names, range_, group_by, bucket, tz)
    wanted = await scoped(actor, filter_ or MetricFilter())
    sums = await _read(plan, wanted)
    covered = _covered(plan) if any(COVERED in REGISTRY[n].denominator for n in plan.names) else {}
    groups = sorted({k[1:] for k in sums}, key=lambda k: tuple((x is None, str(x)) for x in k))
    rows = []
    for name in plan.names:
        definition = REGISTRY[name]
        for group in groups:
            row = {
                "metric": name,
                "bucket": group[0],
                "group": {
                    g: content.value_of(g, v) if g in content.DIMENSIONS else v
                    for g, v in zip(plan.group_by, group[1:], strict=True)
                },
            }
            if definition.kind == "ratio" and COVERED in definition.denominator:
                if (definition.numerator, *group) not in sums:
                    continue
                row.update(_per_time(definition, sums, group, covered))
            elif definition.kind == "ratio" and "total" in (
                definition.numerator_of,
                definition.denominator_of,
            ):
                top = sums.get((definition.numerator, *group), {}).get(definition.numerator_of, 0)
                bottom = sum(
                    sums.get((d, *group), {}).get(definition.denominator_of, 0)
                    for d in definition.denominator
                )
                if not bottom and not top:
                    continue
                value = top / bottom * definition.scale if bottom else None
                row.update(count=round(bottom), numerator=round(top), denominator=bottom, value=value)
            elif definition.kind == "ratio":
                top = sums.get((definition.numerator, *group), {}).get("n", 0)
                bottom = sum(sums.get((d, *group), {}).get("n", 0) for d in definition.denominator)
                if not bottom and not top:
                    continue
                row.update(
                    count=bottom, numerator=top, denominator=bottom, value=top / bottom if bottom else None
                )
            elif definition.kind == "sum":
                acc = sums.get((name, *group))
                if acc is None or acc["n"] == 0:
                    continue
                row.update(count=acc["n"], value=acc["total"])
            else:
                acc = sums.get((name, *group))
                if acc is None or acc["n"] == 0:
                    continue
                row.update(_duration_row(acc) if definition.kind == "duration" else {"count": acc["n"]})
            rows.append(row)
    now = [n for n in plan.names if REGISTRY[n].kind == "now"]
    if now:  # counted in the conversations now, whatever the range and bucket
        for name, key, n in await metrics_presence.load_now(
            now,
            wanted.platforms,
            wanted.channel_ids,
            wanted.team_ids,
            wanted.agent_ids,
            wanted.label,
            plan.group_by,
        ):
            rows.append(
                {
                    "metric": name,
                    "bucket": None,
                    "group": dict(zip(plan.group_by, key, strict=True)),
                    "count": n,
                }
            )
    if len(rows) > MAX_ROWS:
        raise BadInput(
            f"the answer would exceed {MAX_ROWS} rows; narrow the range or the grouping", field="groupBy"
        )
    return rows


def _covered(plan: _Plan) -> dict[Any, float]:
    """Seconds of each bucket within the range (the hours starting in it), keyed as `_read` keys
    the buckets: the denominator of averages over time and of rates per day."""
    out: dict[Any, float] = defaultdict(float)
    hour = plan.start
    while hour < plan.end:
        local = hour.astimezone(plan.zone)
        if plan.bucket is None:
            key: Any = None
        elif plan.bucket == "hour":
            key = hour.astimezone(plan.zone)
        elif plan.bucket == "hour_of_day":
            key = local.hour
        else:
            day = local.date() if plan.bucket == "day" else local.date() - timedelta(days=local.weekday())
            key = datetime(day.year, day.month, day.day, tzinfo=plan.zone)
        out[key] += 3600.0
        hour += timedelta(hours=1)
    return out


def _per_time(
    definition: MetricDefinition, sums: dict[tuple, dict[str, Any]], group: tuple, covered: dict[Any, float]
) -> dict[str, Any]:
    """A quantity per second of the bucket (an average level), scaled (e.g. per day)."""
    top = sums[(definition.numerator, *group)][definition.numerator_of]
    seconds = covered.get(group[0], 0.0)
    value = top / seconds * definition.scale if seconds else None
    return {"count": round(seconds), "numerator": round(top), "denominator": seconds, "value": value}


async def dashboard(
    actor: Actor | None, range_: tuple[datetime, datetime], tz: str = "UTC"
) -> list[dict[str, Any]]:
    """The fixed KPI set, over the range, within what the viewer may see."""
    return await compute(actor, DASHBOARD, range_, None, (), None, tz)
