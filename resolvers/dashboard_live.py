"""The live dashboard's KPIs, for `dashboardUpdates`: open, queued and assigned conversations per
team, SLA breaches still standing, and alerts open, each counted over what the viewer may see.

Small indexed counts, run again when the inbox, the SLA feed or the alerts change (the schema
coalesces bursts to one recount a second per subscriber). The metrics service's `dashboard`
KPIs can be added to the snapshot the same way.

Who sees what: admins everything; anyone else the conversations of their teams and those
assigned to them, or everything for those an admin granted it (resolvers/visibility.py).
Alerts are counted for supervisors and admins only (agents cannot list them).
"""

from __future__ import annotations

from typing import Any

from core.auth import Actor
from core.events import INBOX
from core.sql import fetch, fetchrow
from resolvers import visibility
from resolvers.alerts import ALERTS_STREAM
from resolvers.auth import require_user
from resolvers.sla import SLA_STREAM

# The streams whose events may change a KPI: the subscription recounts after any of them.
WATCHED_STREAMS = (INBOX, SLA_STREAM, ALERTS_STREAM)
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
    }
