"""Metrics over GraphQL: `metrics(names, range, filter, groupBy, bucket, timeZone)`, `dashboard`
and `metricDefinitions` (rules and definitions in resolvers/metrics.py; roll-ups in
resolvers/rollups.py)."""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta
from typing import Any

import strawberry

from resolvers import metrics as metric_rules
from schema.common import Platform
from schema.permissions import SIGNED_IN, actor_of
from schema.relay import decode_id, to_global_id


@strawberry.enum
class MetricDimension(enum.Enum):
    PLATFORM = "platform"
    CHANNEL = "channel"
    TEAM = "team"
    AGENT = "agent"
    LABEL = "label"
    TEMPLATE = "template"
    ARM = "arm"
    FLOW = "flow"
    NODE = "node"


@strawberry.enum
class MetricBucket(enum.Enum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    HOUR_OF_DAY = "hour_of_day"


@strawberry.input
class MetricRange:
    from_: datetime = strawberry.field(
        name="from", description="Counted from the first hour starting at or after."
    )
    to: datetime = strawberry.field(description="Up to the hours starting before this.")


@strawberry.input
class MetricFilter:
    platforms: list[Platform] | None = None
    channel_ids: list[strawberry.ID] | None = None
    team_ids: list[strawberry.ID] | None = None
    agent_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="User ids.")
    label: str | None = None

    def to_rule(self) -> metric_rules.MetricFilter:
        def ids(values: list[strawberry.ID] | None, kind: str, name: str) -> list[int]:
            return [decode_id(v, kind, f"filter.{name}") for v in values or ()]

        return metric_rules.MetricFilter(
            platforms=[p.value for p in self.platforms or ()],
            channel_ids=ids(self.channel_ids, "Channel", "channelIds"),
            team_ids=ids(self.team_ids, "Team", "teamIds"),
            agent_ids=ids(self.agent_ids, "User", "agentIds"),
            label=self.label,
        )


@strawberry.type
class MetricGroup:
    platform: str | None = None
    channel_id: strawberry.ID | None = None
    team_id: strawberry.ID | None = strawberry.field(default=None, description="Null: in no team.")
    agent_id: strawberry.ID | None = strawberry.field(default=None, description="Null: nobody (a User id).")
    label: str | None = None
    template: str | None = strawberry.field(
        default=None, description='Template metrics: "<template id>@<version>" (database ids).'
    )
    arm: str | None = strawberry.field(
        default=None, description='Template metrics: "<experiment id>:<arm name>" (A/B experiments).'
    )
    flow: str | None = strawberry.field(default=None, description='Flow metrics: "<flow id>@<version>".')
    node: str | None = strawberry.field(
        default=None, description='flow_runs_dropped: "<flow id>@<version>:<node id>", where runs stopped.'
    )


@strawberry.type
class DurationStats:
    avg: float | None
    median: float | None
    p90: float | None
    p95: float | None


@strawberry.type
class MetricRow:
    metric: str
    bucket: datetime | None = strawberry.field(description="The bucket's start (hour, day or week).")
    hour_of_day: int | None = strawberry.field(description="0-23 in the time zone, for bucket HOUR_OF_DAY.")
    group: MetricGroup
    count: int = strawberry.field(
        description="Durations: how many; counts: the count; ratios: the denominator."
    )
    avg: float | None = strawberry.field(default=None, description="Seconds, wall clock.")
    median: float | None = None
    p90: float | None = None
    p95: float | None = None
    business: DurationStats | None = strawberry.field(default=None, description="Seconds in business hours.")
    value: float | None = strawberry.field(
        default=None, description="Ratios: numerator / denominator; sums: the seconds."
    )
    numerator: int | None = None

    @classmethod
    def of(cls, row: dict[str, Any]) -> MetricRow:
        bucket = row["bucket"]
        group = row["group"]

        def gid(kind: str, key: str) -> str | None:
            value = group.get(key)
            return to_global_id(kind, value) if value else None

        business = row.get("business")
        return cls(
            metric=row["metric"],
            bucket=bucket if isinstance(bucket, datetime) else None,
            hour_of_day=bucket if isinstance(bucket, int) else None,
            group=MetricGroup(
                platform=group.get("platform"),
                channel_id=gid("Channel", "channel"),
                team_id=gid("Team", "team"),
                agent_id=gid("User", "agent"),
                label=group.get("label"),
                template=group.get("template"),
                arm=group.get("arm"),
                flow=group.get("flow"),
                node=group.get("node"),
            ),
            count=row["count"],
            avg=row.get("avg"),
            median=row.get("median"),
            p90=row.get("p90"),
            p95=row.get("p95"),
            business=DurationStats(**business) if business else None,
            value=row.get("value"),
            numerator=row.get("numerator"),
        )


@strawberry.type
class MetricDefinition:
    name: str
    kind: str = strawberry.field(description="duration, count, ratio, sum (seconds, in value) or now")
    description: str


@strawberry.type
class MetricQueries:
    @strawberry.field(
        extensions=[SIGNED_IN],
        description="Any metric over a range, filtered, grouped and bucketed, read from the roll-ups. Agents "
        "see their own numbers, supervisors their teams', admins everything. See metricDefinitions.",
    )
    async def metrics(
        self,
        info: strawberry.Info,
        names: list[str],
        range: MetricRange,
        filter: MetricFilter | None = None,
        group_by: list[MetricDimension] | None = None,
        bucket: MetricBucket | None = None,
        time_zone: str = "UTC",
    ) -> list[MetricRow]:
        rows = await metric_rules.compute(
            actor_of(info),
            names,
            (range.from_, range.to),
            (filter or MetricFilter()).to_rule(),
            [g.value for g in group_by or ()],
            bucket.value if bucket else None,
            time_zone,
        )
        return [MetricRow.of(r) for r in rows]

    @strawberry.field(
        extensions=[SIGNED_IN],
        description="The fixed KPI set (first response and resolution times, volume, resolution, first-contact "
        "resolution, transfer rate, send availability) over the range; the last 7 days by default.",
    )
    async def dashboard(
        self, info: strawberry.Info, range: MetricRange | None = None, time_zone: str = "UTC"
    ) -> list[MetricRow]:
        end = datetime.now(UTC)
        span = (range.from_, range.to) if range else (end - timedelta(days=7), end)
        return [MetricRow.of(r) for r in await metric_rules.dashboard(actor_of(info), span, time_zone)]

    @strawberry.field(
        extensions=[SIGNED_IN], description="Every metric `metrics` knows, with its definition."
    )
    async def metric_definitions(self) -> list[MetricDefinition]:
        return [
            MetricDefinition(name=d.name, kind=d.kind, description=d.description)
            for d in metric_rules.REGISTRY.values()
        ]
