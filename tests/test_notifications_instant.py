"""Notifications come when the event happens, not at the next upkeep (30 s): publishing the events
wakes the notifier (core/wake.py). Measured three times (an assignment, a mention, a customer's
reply), each within a few seconds, with nobody running the notifier by hand; and a note's @mention
tells only the people who may see the conversation (resolvers/visibility.py)."""

from __future__ import annotations

import time
import uuid

from models import Notification, Role, TeamMember, User
from resolvers import notifications
from schema.relay import to_global_id
from tests.helpers import eventually, gql, login, make_user
from tests.test_assignment import _agent, _arrive, _team

ASSIGN = """mutation($c: ID!, $u: ID) { assignConversation(conversationId: $c, userId: $u) { id } }"""
NOTE = """mutation($c: ID!, $id: String!, $t: String!) { addNote(conversationId: $c, clientMessageId: $id, text: $t) { id } }"""
# Seconds. The upkeep runs the notifier every 30 s: it might happen to serve one of the three
# (measured one after the other), never all of them.
INSTANT = 10.0


async def _arrives(user: User, kind: str, count: int, since: float) -> float:
    """Seconds from `since` until `user` has `count` notifications of `kind` (never runs the
    notifier itself)."""

    async def found() -> bool:
        return await Notification.filter(user_id=user.id, kind=kind).count() >= count

    await eventually(found, timeout=40, interval=0.05)
    return time.monotonic() - since


async def test_assignment_mention_and_reply_notify_at_once(server):
    suffix = uuid.uuid4().hex[:6]
    agent = await _agent()
    colleague = await make_user(Role.AGENT, name=f"colleague{suffix}")
    boss = await login(server, await make_user(Role.SUPERVISOR))
    _, channel = await _team("manual", [agent])
    sender = "4420" + str(uuid.uuid4().int)[:8]
    conversation = await _arrive(channel, sender=sender)
    cid = to_global_id("Conversation", conversation.id)

    started = time.monotonic()
    body = await gql(server, ASSIGN, {"c": cid, "u": to_global_id("User", agent.id)}, boss)
    assert body.get("errors") is None, body
    waits = [await _arrives(agent, "assignment", 1, started)]

    started = time.monotonic()
    note = {"c": cid, "id": uuid.uuid4().hex, "t": f"@colleague{suffix} have a look"}
    assert (await gql(server, NOTE, note, await login(server, agent))).get("errors") is None
    waits.append(await _arrives(colleague, "mention", 1, started))

    started = time.monotonic()
    await _arrive(channel, sender=sender)  # the customer writes again, to the assignee
    waits.append(await _arrives(agent, "customer_reply", 1, started))
    assert all(w < INSTANT for w in waits), waits


async def test_a_mention_tells_only_who_may_see_the_conversation(server):
    suffix = uuid.uuid4().hex[:6]
    member = await make_user(Role.AGENT, name=f"member{suffix}", sees_all=False)
    outsider = await make_user(Role.AGENT, name=f"outsider{suffix}", sees_all=False)
    admin = await make_user(Role.ADMIN, name=f"admin{suffix}", sees_all=False)
    granted = await make_user(Role.AGENT, name=f"granted{suffix}", sees_all=True)
    writer = await make_user(Role.SUPERVISOR, name=f"writer{suffix}", sees_all=False)
    team, channel = await _team("manual", [member])
    await TeamMember.create(team_id=team.id, user_id=writer.id)
    conversation = await _arrive(channel)
    note = {
        "c": to_global_id("Conversation", conversation.id),
        "id": uuid.uuid4().hex,
        "t": f"@member{suffix} @outsider{suffix} @admin{suffix} @granted{suffix}: see this",
    }
    assert (await gql(server, NOTE, note, await login(server, writer))).get("errors") is None
    for user in (member, admin, granted):
        await _arrives(user, "mention", 1, time.monotonic())
    await notifications.notify_from_events(wait=True)  # the notifier is past the note for sure
    assert await Notification.filter(user_id=outsider.id).count() == 0
