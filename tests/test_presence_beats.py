"""Open inboxes keep their agents online with one heartbeat per user per process, in one
statement for everyone, however many subscriptions each has (schema/presence_beats.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models import Role, User
from resolvers import assignment
from schema import presence_beats
from tests.helpers import Subscriber, eventually, login, make_user

INBOX = "subscription { inboxEvents { type } }"


async def test_an_open_inbox_brings_its_agent_online_and_many_tabs_beat_as_one(server, monkeypatch):
    beats: list[list[int]] = []
    real = assignment.seen_many

    async def counted(user_ids: list[int]) -> bool:
        beats.append(list(user_ids))
        return await real(user_ids)

    monkeypatch.setattr(presence_beats, "seen_many", counted)
    monkeypatch.setattr(presence_beats, "HEARTBEAT", 0.3)
    agent, other = await make_user(Role.AGENT), await make_user(Role.AGENT)
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    await User.filter(id__in=[agent.id, other.id]).update(presence="offline", last_seen_at=long_ago)
    token, other_token = await login(server, agent), await login(server, other)

    tabs = [await Subscriber.open(server, token, INBOX) for _ in range(3)]
    second = await Subscriber.open(server, other_token, INBOX)
    try:

        async def both_online() -> bool:
            rows = await User.filter(id__in=[agent.id, other.id]).values_list("presence", flat=True)
            return set(rows) == {"online"}

        await eventually(both_online, timeout=10)
        assert presence_beats._open[agent.id] == 3 and presence_beats._open[other.id] == 1
        beats.clear()

        async def a_shared_beat() -> bool:
            return any(agent.id in b and other.id in b for b in beats)

        await eventually(a_shared_beat, timeout=5)
        # Three tabs of one agent and another agent's tab: one statement per beat for both, each
        # user once in it (other tests' users may be in it too: the process is shared).
        assert all(b.count(agent.id) <= 1 and b.count(other.id) <= 1 for b in beats)
        seen_before = (await User.get(id=agent.id)).last_seen_at
        beats.clear()

        async def beat_again() -> bool:
            return bool(beats)

        await eventually(beat_again, timeout=5)
        assert (await User.get(id=agent.id)).last_seen_at >= seen_before
    finally:
        for tab in tabs:
            await tab.close()
        await second.close()

    async def gone() -> bool:
        return agent.id not in presence_beats._open and other.id not in presence_beats._open

    await eventually(gone, timeout=10)  # closed tabs stop counting
