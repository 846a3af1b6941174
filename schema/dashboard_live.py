"""`dashboardUpdates`: the dashboard's KPIs pushed when they change (resolvers/dashboard_live.py):
the live counts and the metrics service's KPIs, recounted when the inbox, SLA, alert, roll-up or
CSAT streams move."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from typing import Any

import strawberry

from core.outage import patiently
from resolvers import dashboard_live
from resolvers.auth import require_user
from schema.permissions import SIGNED_IN, actor_of
from schema.relay import to_global_id

COALESCE_SECONDS = 1.0  # a burst of changes costs one recount (and at most one push) per second


@strawberry.type
class TeamLoad:
    team_id: strawberry.ID | None = strawberry.field(description="null: conversations in no team")
    team_name: str | None
    open: int = strawberry.field(description="open or pending conversations")
    queued: int = strawberry.field(description="waiting in the team's queue for an agent")
    assigned: int


@strawberry.type
class DurationKpi:
    count: int
    avg: float | None = strawberry.field(description="Seconds, wall clock.")
    median: float | None
    p90: float | None
    p95: float | None


@strawberry.type
class DashboardKpis:
    since: datetime = strawberry.field(description="The first whole hour counted (the last 7 days).")
    first_response_time: DurationKpi
    resolution_time: DurationKpi
    resolutions: int
    resolution_rate: float | None = strawberry.field(description="Resolutions / care cycles started.")
    messages_in: int
    messages_out: int
    conversations_started: int
    csat_responses: int
    csat_average: float | None = strawberry.field(description="Mean score, 1 to 5.")
    csat_satisfied_share: float | None = strawberry.field(description="Share of 4s and 5s.")

    @classmethod
    def of(cls, k: dict[str, Any]) -> DashboardKpis:
        return cls(
            since=k["since"],
            first_response_time=DurationKpi(**k["first_response_time"]),
            resolution_time=DurationKpi(**k["resolution_time"]),
            resolutions=k["resolutions"],
            resolution_rate=k["resolution_rate"],
            messages_in=k["messages_in"],
            messages_out=k["messages_out"],
            conversations_started=k["conversations_started"],
            csat_responses=k["csat_responses"],
            csat_average=k["csat_average"],
            csat_satisfied_share=k["csat_satisfaction"],
        )


@strawberry.type
class DashboardUpdate:
    at: datetime
    teams: list[TeamLoad]
    sla_breaches: int = strawberry.field(description="breached SLA timers on open conversations, not yet met")
    alerts_open: int | None = strawberry.field(description="open or acknowledged alerts (supervisors only)")
    kpis: DashboardKpis = strawberry.field(
        description="The metrics service's KPIs over the last 7 days, over what you may see (agents: "
        "their own numbers; supervisors: their teams'), from the roll-ups."
    )

    @classmethod
    def from_snapshot(cls, s: dict[str, Any]) -> DashboardUpdate:
        teams = [
            TeamLoad(
                team_id=to_global_id("Team", t["team_id"]) if t["team_id"] else None,
                team_name=t["team_name"],
                open=t["open"],
                queued=t["queued"],
                assigned=t["assigned"],
            )
            for t in s["teams"]
        ]
        return cls(
            at=datetime.now(UTC),
            teams=teams,
            sla_breaches=s["sla_breaches"],
            alerts_open=s["alerts_open"],
            kpis=DashboardKpis.of(s["kpis"]),
        )


@strawberry.type
class DashboardSubscriptions:
    @strawberry.subscription(
        extensions=[SIGNED_IN],
        description="The dashboard's KPIs over what you may see: now, then whenever they change "
        "(at most about once a second).",
    )
    async def dashboard_updates(self, info: strawberry.Info) -> AsyncGenerator[DashboardUpdate, None]:
        actor = require_user(actor_of(info))
        changed = asyncio.Event()

        async def watch(stream: str) -> None:
            async for _ in info.context.event_log.follow(stream, None):
                changed.set()

        watchers = [asyncio.create_task(watch(s)) for s in dashboard_live.WATCHED_STREAMS]
        last: dict[str, Any] | None = None
        try:
            while True:
                snapshot = await patiently(lambda: dashboard_live.snapshot(actor), "dashboardUpdates")
                if snapshot != last:
                    last = snapshot
                    yield DashboardUpdate.from_snapshot(snapshot)
                await changed.wait()
                await asyncio.sleep(COALESCE_SECONDS)
                changed.clear()
        finally:
            for watcher in watchers:
                watcher.cancel()
            for watcher in watchers:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await watcher
