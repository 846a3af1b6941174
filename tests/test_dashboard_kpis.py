"""dashboardUpdates carries the metrics service's KPIs: a platform's webhook lands a conversation
in the supervisor's team, the roll-up job is woken by the published events (core/wake.py), folds
it in and announces the change, and the subscriber gets the new volume within seconds, nobody
polling and no upkeep waited for (it runs every 30 s). Scoped to the viewer: an agent's KPIs are
their own numbers."""

from __future__ import annotations

import time
import uuid

from core.auth import Actor
from models import Role, RoutingRule, Team, TeamMember
from resolvers import dashboard_live
from tests.helpers import Subscriber, login, make_user, post_webhook, wa_text_payload

DASHBOARD = """subscription { dashboardUpdates { at kpis { since messagesIn messagesOut conversationsStarted
  resolutions resolutionRate firstResponseTime { count avg p95 } csatResponses csatAverage } } }"""


async def test_a_webhook_moves_the_kpis_of_the_teams_supervisor(server, wa):
    channel, secrets, _fake = wa
    team = await Team.create(name=f"kpis-{uuid.uuid4().hex[:6]}", strategy="manual")
    await RoutingRule.create(team_id=team.id, channel_id=channel.id)
    supervisor = await make_user(Role.SUPERVISOR, sees_all=False)
    await TeamMember.create(team_id=team.id, user_id=supervisor.id)
    agent = await make_user(Role.AGENT, sees_all=False)
    await TeamMember.create(team_id=team.id, user_id=agent.id)

    live = await Subscriber.open(server, await login(server, supervisor), DASHBOARD)
    try:
        first = (await live.next(timeout=20))["dashboardUpdates"]["kpis"]
        assert (first["messagesIn"], first["conversationsStarted"]) == (0, 0)  # a new team: nothing yet
        assert first["firstResponseTime"] == {"count": 0, "avg": None, "p95": None}

        # Twice, one after the other: the upkeep (every 30 s) might happen to fold one in, never both.
        waits = []
        for count in (1, 2):
            body = wa_text_payload(
                channel.config["phone_number_id"], "4420" + str(uuid.uuid4().int)[:8], "hi"
            )
            sent = time.monotonic()
            assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200
            update = await live.next_where(
                lambda d, n=count: d["dashboardUpdates"]["kpis"]["messagesIn"] == n, timeout=40
            )
            waits.append(time.monotonic() - sent)
        kpis = update["dashboardUpdates"]["kpis"]
        assert (kpis["messagesIn"], kpis["conversationsStarted"], kpis["resolutions"]) == (2, 2, 0)
        assert kpis["resolutionRate"] == 0.0
        assert all(w < 10 for w in waits), waits  # woken at once, not by the 30 s upkeep
    finally:
        await live.close()
    # Scoped: the team's agent sees their own numbers (nothing was theirs), not the team's.
    own = await dashboard_live.kpis(Actor(user_id=agent.id, role=Role.AGENT))
    assert (own["messages_in"], own["conversations_started"]) == (0, 0)
    team_view = await dashboard_live.kpis(Actor(user_id=supervisor.id, role=Role.SUPERVISOR))
    assert (team_view["messages_in"], team_view["conversations_started"]) == (2, 2)
