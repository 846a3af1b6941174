"""dashboardUpdates over a real WebSocket: a snapshot at once, a new one after a platform's
webhook lands a conversation in the viewer's team, bursts coalesced to about one a second, and
only what the viewer may see."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime

from core.auth import Actor
from models import Role, RoutingRule, Team, TeamMember
from resolvers import dashboard_live
from schema.relay import to_global_id
from tests.helpers import Subscriber, login, make_user, post_webhook, wa_text_payload

DASHBOARD = """subscription { dashboardUpdates { at slaBreaches alertsOpen teams { teamId open queued assigned } } }"""


def _team_row(data: dict, team_id: str) -> dict | None:
    return next((t for t in data["dashboardUpdates"]["teams"] if t["teamId"] == team_id), None)


async def test_dashboard_updates_after_a_webhook_coalesced_and_scoped(server, wa):
    channel, secrets, _fake = wa
    team = await Team.create(name=f"live-{uuid.uuid4().hex[:6]}", strategy="manual")
    await RoutingRule.create(team_id=team.id, channel_id=channel.id)
    supervisor = await make_user(Role.SUPERVISOR)
    await TeamMember.create(team_id=team.id, user_id=supervisor.id)
    outsider = await make_user(Role.AGENT, sees_all=False)
    team_gid = to_global_id("Team", team.id)

    live = await Subscriber.open(server, await login(server, supervisor), DASHBOARD)
    try:
        first = await live.next(timeout=20)
        assert _team_row(first, team_gid) is None  # nothing in the team yet
        assert first["dashboardUpdates"]["alertsOpen"] is not None  # a supervisor sees alert counts

        async def arrive() -> None:
            body = wa_text_payload(
                channel.config["phone_number_id"], "4420" + str(uuid.uuid4().int)[:8], "hello"
            )
            assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200

        await arrive()
        update = await live.next_where(lambda d: (_team_row(d, team_gid) or {}).get("open") == 1, timeout=30)
        assert _team_row(update, team_gid) == {"teamId": team_gid, "open": 1, "queued": 1, "assigned": 0}

        for _ in range(5):  # a burst: recounted at most about once a second, never lost
            await arrive()
        moments = [datetime.fromisoformat(update["dashboardUpdates"]["at"])]
        while True:
            data = await live.next(timeout=30)
            moments.append(datetime.fromisoformat(data["dashboardUpdates"]["at"]))
            if (_team_row(data, team_gid) or {}).get("open") == 6:
                break
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(moments)]
        assert all(gap >= 0.9 for gap in gaps), gaps
        assert len(gaps) <= 5
    finally:
        await live.close()
    hidden = await dashboard_live.snapshot(Actor(user_id=outsider.id, role=Role.AGENT))
    assert all(t["team_id"] != team.id for t in hidden["teams"]) and hidden["alerts_open"] is None
