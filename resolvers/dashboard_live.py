"""The live dashboard's KPIs, for `dashboardUpdates`: open, queued and assigned conversations per
team, SLA breaches still standing, and alerts open, each counted over what the viewer may see.

Small indexed counts, run again when the inbox, the SLA feed or the alerts change (the schema
coalesces bursts to one recount a second per subscriber). With them, the metrics service's KPIs
over the last KPI_WINDOW (first response time percentiles, resolutions and resolution time and
rate, volume, CSAT; resolvers/metrics.py, read from the roll-ups, so their cost does not grow with
the data): the roll-up job announces each change on its stream (resolvers/rollups.METRICS_STREAM),
so a webhook that moves a KPI reaches the dashboard without polling.

Who sees what: admins everything; anyone else the conversations of their teams and those
assigned to them, or everything for those an admin granted it (resolvers/visibility.py).
Alerts are counted for supervisors and admins only (agents cannot list them).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core.auth import Actor
from core.events import INBOX
from core.sql import fetch, fetchrow
from resolvers import metrics, visibility
from resolvers.alerts import ALERTS_STREAM
from resolvers.auth import require_user
from resolvers.rollups import METRICS_STREAM
from resolvers.sla import SLA_STREAM

# The streams whose events may change a KPI: the subscription recounts after any of them.
WATCHED_STREAMS = (INBOX, SLA_STREAM, ALERTS_STREAM, METRICS_STREAM)
KPI_WINDOW = timedelta(days=7)  # the `dashboard` query's default range
KPI_DURATIONS = ("first_response_time", "resolution_time")
KPI_COUNTS = ("messages_in", "messages_out", "conversations_started", "resolutions", "csat_responses")
KPI_RATIOS = ("resolution_rate", "csat_average", "csat_satisfaction")
_OPEN = "('open', 'pending')"


async def snapshot(actor: Actor | None) -> dict[str, Any]:
    actor = require_user(actor)
    args: list[Any] = []
    # The one rule of who sees what (teams, assignment, an admin's "see all"), as SQL.
    visible = (await visibility.scope_of(actor)).sql(args, "c") or "TRUE"
    teams = await fetch(
        "SELECT c.team_id, t.name AS team_name, count(*) AS open, "
        "count(*) FILTER (WHERE c.queued_at IS NOT NULL AND c.assignee_id IS NULL) AS queued, "
        "count(*) FILTER (WHERE c.assignee_id IS NOT NULL) AS assigned "
        f"FROM conversations c LEFT JOIN teams t ON t.id = c.team_id WHERE c.status IN {_OPEN} AND {visible} "
        "GROUP BY c.team_id, t.name ORDER BY c.team_id NULLS LAST",
        *args,
    )
    breaches = await fetchrow(
        "SELECT count(*) AS n FROM sla_timers s JOIN conversations c ON c.id = s.conversation_id "
        "WHERE s.breached_at IS NOT NULL AND s.met_at IS NULL AND s.cancelled_at IS NULL "
        f"AND c.status IN {_OPEN} AND {visible}",
        *args,
    )
    alerts_open = None
    if actor.is_supervisor:
        row = await fetchrow("SELECT count(*) AS n FROM alerts WHERE state <> 'resolved'")
        alerts_open = row["n"] if row else 0
    return {
        "teams": [dict(t) for t in teams],
        "sla_breaches": breaches["n"] if breaches else 0,
        "alerts_open": alerts_open,
        "kpis": await kpis(actor),
    }


async def kpis(actor: Actor, now: datetime | None = None) -> dict[str, Any]:
    """The KPIs over the whole hours of the last KPI_WINDOW (the hour under way included), within
    what the viewer may see: agents their own numbers, supervisors their teams', admins all
    (metrics.compute applies that rule)."""
    now = now or datetime.now(UTC)
    hour = (now - KPI_WINDOW).replace(minute=0, second=0, microsecond=0)
    since = hour if hour == now - KPI_WINDOW else hour + timedelta(hours=1)
    rows = await metrics.compute(actor, (*KPI_DURATIONS, *KPI_COUNTS, *KPI_RATIOS), (since, now))
    found = {r["metric"]: r for r in rows}
    out: dict[str, Any] = {"since": since}
    for name in KPI_DURATIONS:
        row = found.get(name, {})
        out[name] = {k: row.get(k) for k in ("avg", "median", "p90", "p95")} | {"count": row.get("count", 0)}
    for name in KPI_COUNTS:
        out[name] = found.get(name, {}).get("count", 0)
    for name in KPI_RATIOS:
        out[name] = found.get(name, {}).get("value")
    return out
