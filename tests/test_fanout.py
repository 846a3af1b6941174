"""The shared inbox fan-out (schema/fanout.py) over real WebSockets: one execution per event for
subscribers that share an execution key, the same frame with each one's id spliced in, a slow
client caught up from the log without delaying the others, and a conversation leaving a
subscriber's sight sent as CONVERSATION_REMOVED (a transfer, and a change of the user's teams)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from typing import Any

import pytest
from graphql import parse
from websockets.asyncio.client import ClientConnection, connect

from core.auth import issue_access_token
from models import Role
from schema import build_schema, fanout
from schema.relay import to_global_id
from tests.helpers import Subscriber, eventually, gql, login, make_user, post_webhook, wa_text_payload
from tests.test_access import Side, _say, _side
from tests.test_frontend_contract import _documents

INBOX = "subscription { inboxEvents { cursor type conversation { id teamId lastMessage { text } } } }"
UPDATE_USER = "mutation($u: ID!, $i: UpdateUserInput!) { updateUser(userId: $u, input: $i) { id } }"
BURST = 300
TRANSFER = 'mutation($id: ID!, $t: ID!) { transferConversation(conversationId: $id, toTeamId: $t, reason: "x") { id } }'


def _hub() -> fanout.InboxFanout:
    from asgi import app

    return fanout.InboxFanout.of(app.state.event_log)


async def _idle_hub() -> None:
    """Earlier subscriptions have left (the follower restarts and reads placements afresh)."""

    async def check() -> bool:
        return not _hub().subscribers

    await eventually(check, timeout=15)


async def _raw(server: str, token: str, op_id: str, query: str = INBOX) -> ClientConnection:
    ws = await connect(server.replace("http", "ws", 1) + "/graphql", subprotocols=["graphql-transport-ws"])
    await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
    assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
    await ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": {"query": query}}))
    return ws


async def _frame(ws: ClientConnection, text: str, timeout: float = 20, seen: set[str] | None = None) -> str:
    """The raw `next` frame whose last message says `text` (the cursors of all go into `seen`)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        raw = await asyncio.wait_for(ws.recv(), max(0.1, deadline - loop.time()))
        message = json.loads(raw)
        if message["type"] == "ping":
            await ws.send(json.dumps({"type": "pong"}))
            continue
        assert message["type"] == "next", message
        if seen is not None:
            seen.add(message["payload"]["data"]["inboxEvents"]["cursor"])
        last = (message["payload"]["data"]["inboxEvents"]["conversation"]["lastMessage"] or {}).get("text")
        if last == text:
            return str(raw)


async def _subscribed(count: int) -> None:
    async def check() -> bool:
        return len(_hub().live) >= count

    await eventually(check, timeout=15)


async def test_one_execution_per_event_and_one_frame_with_each_id(server, wa):
    channel, secrets, _ = wa
    await _idle_hub()
    admins = [await login(server, await make_user(Role.ADMIN)) for _ in range(3)]
    ids = ["a", 'b"\\2', "c-3"]  # ids JSON must escape are spliced escaped
    sockets = [await _raw(server, token, op_id) for token, op_id in zip(admins, ids, strict=True)]
    try:
        await _subscribed(3)
        hub = _hub()
        before = hub.executions
        text = f"shared {uuid.uuid4().hex[:8]}"
        body = wa_text_payload(channel.config["phone_number_id"], "5531" + str(uuid.uuid4().int)[:8], text)
        assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200
        got: set[str] = set()
        frames = [await _frame(ws, text, seen=got if ws is sockets[0] else None) for ws in sockets]
        assert len({json.loads(f)["payload"]["data"]["inboxEvents"]["cursor"] for f in frames}) == 1
        # The same bytes but for the id.
        payloads = {f.split(',"type":"next","payload":', 1)[1] for f in frames}
        assert len(payloads) == 1
        assert [json.loads(f)["id"] for f in frames] == ids
        # Three admins of one role and scope share one execution per event, not three: count
        # every event the first one got (something else, e.g. an assignment, may have moved too).
        await asyncio.sleep(1.0)
        with contextlib.suppress(TimeoutError):
            while True:
                extra = json.loads(await asyncio.wait_for(sockets[0].recv(), 0.5))
                if extra["type"] == "next":
                    got.add(extra["payload"]["data"]["inboxEvents"]["cursor"])
        assert hub.executions - before == len(got)
    finally:
        for ws in sockets:
            await ws.close()


async def test_a_burst_of_subscribes_from_many_users_is_every_one_served(server, wa):
    """Hundreds of users subscribing at once (an API process restarted under its clients): each
    is acknowledged, joins the live fan-out and gets the next event; none is left silent."""
    channel, secrets, _ = wa
    await _idle_hub()
    users = [await make_user(Role.AGENT) for _ in range(BURST)]
    tokens = [issue_access_token(user.id, Role.AGENT)[0] for user in users]
    sockets = await asyncio.gather(*(_raw(server, token, "1") for token in tokens))
    try:
        await _subscribed(BURST)
        text = f"burst {uuid.uuid4().hex[:8]}"
        body = wa_text_payload(channel.config["phone_number_id"], "5531" + str(uuid.uuid4().int)[:8], text)
        assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200
        frames = await asyncio.gather(*(_frame(ws, text, timeout=30) for ws in sockets))
        assert len(frames) == BURST
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets))


async def test_a_slow_client_is_caught_up_from_the_log_and_delays_no_one(server, wa, monkeypatch):
    channel, secrets, _ = wa
    await _idle_hub()
    monkeypatch.setattr(fanout, "LAG_LIMIT", 2)
    slow_user, fast_user = await make_user(Role.ADMIN), await make_user(Role.ADMIN)
    slow = await _raw(server, await login(server, slow_user), "slow")
    fast = await _raw(server, await login(server, fast_user), "fast")
    try:
        await _subscribed(2)
        hub = _hub()
        (stuck,) = [s for s in hub.live if s.actor.user_id == slow_user.id]
        gate = asyncio.Event()
        send = stuck.outbox._send

        async def held(frame: str) -> None:
            await gate.wait()
            await send(frame)

        stuck.outbox._raw = None  # through ASGI send (any server), held
        stuck.outbox._send = held
        wa_id = "5531" + str(uuid.uuid4().int)[:8]
        texts = [f"burst {i} {uuid.uuid4().hex[:6]}" for i in range(6)]
        for text in texts:
            body = wa_text_payload(channel.config["phone_number_id"], wa_id, text)
            assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200
        for text in texts:  # the fast one gets everything while the slow one's writes hang
            await _frame(fast, text)
        assert stuck.lagging and stuck not in hub.live
        gate.set()
        received = []
        for text in texts:
            received.append(json.loads(await _frame(slow, text))["payload"]["data"]["inboxEvents"]["cursor"])
        assert received == sorted(received, key=int) and len(set(received)) == len(texts)

        async def rejoined() -> bool:
            return stuck in hub.live

        await eventually(rejoined)
    finally:
        for ws in (slow, fast):
            await ws.close()


async def _cursors_until(ws: ClientConnection, text: str, timeout: float = 20) -> list[int]:
    """The cursors of every `next` frame up to the one whose last message says `text`."""
    cursors: list[int] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, deadline - loop.time())))
        if message["type"] == "ping":
            await ws.send(json.dumps({"type": "pong"}))
            continue
        assert message["type"] == "next", message
        event = message["payload"]["data"]["inboxEvents"]
        cursors.append(int(event["cursor"]))
        if (event["conversation"]["lastMessage"] or {}).get("text") == text:
            return cursors


async def test_slow_subscribers_are_caught_up_together_one_execution_per_event_and_key(
    server, wa, monkeypatch
):
    channel, secrets, _ = wa
    await _idle_hub()
    monkeypatch.setattr(fanout, "LAG_LIMIT", 2)
    fast_user = await make_user(Role.ADMIN)
    # Two execution keys that no live subscriber has: supervisors, and agents (who see everything).
    slow_users = [await make_user(Role.SUPERVISOR) for _ in range(3)] + [
        await make_user(Role.AGENT) for _ in range(2)
    ]
    # SLA timers are read from the database: executions wait, so catch-ups would run side by side.
    query = INBOX.replace("teamId", "teamId slaTimers { kind }")
    fast = await _raw(server, await login(server, fast_user), "fast", query)
    slow = [
        await _raw(server, await login(server, user), f"slow-{i}", query) for i, user in enumerate(slow_users)
    ]
    try:
        await _subscribed(1 + len(slow))
        hub = _hub()
        stuck = [s for s in hub.live if s.actor.user_id != fast_user.id]
        assert len(stuck) == len(slow) and all(s.outbox._raw is not None for s in stuck)
        for sub in stuck:  # their sockets take nothing more, as when a client's buffer is full
            sub.outbox._raw.writable.clear()
        before = hub.executions
        wa_id = "5531" + str(uuid.uuid4().int)[:8]
        texts = [f"together {i} {uuid.uuid4().hex[:6]}" for i in range(8)]
        for text in texts:
            body = wa_text_payload(channel.config["phone_number_id"], wa_id, text)
            assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200
        got = await _cursors_until(fast, texts[-1])
        assert all(s.lagging and s not in hub.live for s in stuck)
        for sub in stuck:
            sub.outbox._raw.writable.set()  # drained: each is caught up from `recent`
        for ws in slow:
            assert await _cursors_until(ws, texts[-1]) == got  # every event once, in order

        async def rejoined() -> bool:
            return all(s in hub.live and not s.catching for s in stuck)

        await eventually(rejoined)
        assert got == sorted(set(got))
        await asyncio.sleep(1.0)  # anything after the burst (e.g. an assignment) is counted too
        with contextlib.suppress(TimeoutError):
            while True:
                extra = json.loads(await asyncio.wait_for(fast.recv(), 0.5))
                if extra["type"] == "next":
                    got.append(int(extra["payload"]["data"]["inboxEvents"]["cursor"]))
        # One execution per event for each of the three keys (admins, supervisors, agents),
        # whether the follower ran it while they were live or their catch-up did.
        assert hub.executions - before == 3 * len(got)
    finally:
        for ws in (fast, *slow):
            await ws.close()


async def _next_event(subscriber: Subscriber, gid: str) -> dict[str, Any]:
    data = await subscriber.next_where(lambda d: d["inboxEvents"]["conversation"]["id"] == gid, timeout=20)
    return data["inboxEvents"]


@pytest.fixture
async def sides(server, wa):  # type: ignore[no-untyped-def]
    return await _side(server, wa, "A"), await _side(server, wa, "B")


async def test_a_conversation_transferred_away_is_removed_from_the_inbox(server, wa, sides):
    a, b = sides
    await _idle_hub()
    admin = await login(server, await make_user(Role.ADMIN))
    inbox_a = await Subscriber.open(server, a.token, INBOX)
    inbox_b = await Subscriber.open(server, b.token, INBOX)
    try:
        await _subscribed(2)
        await _say(server, wa, a, "before the transfer")
        assert (await _next_event(inbox_a, a.gid))["type"] == "CONVERSATION_UPDATED"

        body = await gql(server, TRANSFER, {"id": a.gid, "t": to_global_id("Team", b.team.id)}, admin)
        assert "errors" not in body, body
        removed = await _next_event(inbox_a, a.gid)
        assert removed["type"] == "CONVERSATION_REMOVED"
        arrived = await _next_event(inbox_b, a.gid)
        assert arrived["type"] == "CONVERSATION_UPDATED"
        assert arrived["conversation"]["teamId"] == to_global_id("Team", b.team.id)

        # Out of A's sight now: a message there reaches B only; back in A's team, A hears again.
        await _say(server, wa, a, "while away")
        await inbox_b.next_where(
            lambda d: (d["inboxEvents"]["conversation"]["lastMessage"] or {}).get("text") == "while away",
            timeout=20,
        )
        body = await gql(server, TRANSFER, {"id": a.gid, "t": to_global_id("Team", a.team.id)}, admin)
        assert "errors" not in body, body
        back = await _next_event(inbox_a, a.gid)
        assert back["type"] == "CONVERSATION_UPDATED" and back["conversation"]["teamId"] == to_global_id(
            "Team", a.team.id
        )
        assert (await _next_event(inbox_b, a.gid))["type"] == "CONVERSATION_REMOVED"
        # B never saw A's conversation before it came to B's team: no removal was sent for it then.
    finally:
        await inbox_a.close()
        await inbox_b.close()


async def test_leaving_a_team_removes_its_conversations_from_a_live_inbox(server, wa, sides):
    a, b = sides
    await _idle_hub()
    admin = await login(server, await make_user(Role.ADMIN))
    agent_a = to_global_id("User", a.agent.id)
    both = [to_global_id("Team", a.team.id), to_global_id("Team", b.team.id)]
    assert "errors" not in await gql(server, UPDATE_USER, {"u": agent_a, "i": {"teamIds": both}}, admin)
    inbox_a = await Subscriber.open(server, a.token, INBOX)
    outsider: Side | None = None
    try:
        await _subscribed(1)
        await _say(server, wa, b, "A sees this for now")
        assert (await _next_event(inbox_a, b.gid))["type"] == "CONVERSATION_UPDATED"
        only_a = [to_global_id("Team", a.team.id)]
        assert "errors" not in await gql(server, UPDATE_USER, {"u": agent_a, "i": {"teamIds": only_a}}, admin)
        removed = await _next_event(inbox_a, b.gid)
        assert removed["type"] == "CONVERSATION_REMOVED"
        # Nothing about a conversation A never could see: a third team's, moving between teams.
        outsider = await _side(server, wa, "C")
        await gql(server, TRANSFER, {"id": outsider.gid, "t": to_global_id("Team", b.team.id)}, admin)
        await _say(server, wa, a, "still mine")
        event = await inbox_a.next(timeout=20)
        assert event["inboxEvents"]["conversation"]["id"] == a.gid, event
    finally:
        await inbox_a.close()


def test_what_a_selection_depends_on_beyond_role_and_scope():
    schema = build_schema()._schema

    def dependence(document: str) -> int:
        operation = parse(document).definitions[0]
        return fanout.viewer_dependence(schema, operation, {})  # type: ignore[arg-type]

    web_app = (
        "subscription { inboxEvents { cursor type conversation { id status customer { id name phone } "
        "assignee { id name } lastMessage { id text createdAt } } } }"
    )
    assert dependence(web_app) == fanout.PURE
    assert dependence("subscription { inboxEvents { conversation { assignee { email } } } }") == fanout.SELF
    # Resolvers that read the viewer are never shared between viewers.
    assert (
        dependence("subscription { inboxEvents { conversation { activities { type } } } }")
        == fanout.PRINCIPAL
    )
    # slaTimers takes `info` only to require a signed-in viewer: shared.
    assert dependence("subscription { inboxEvents { conversation { slaTimers { kind } } } }") == fanout.PURE
    # The web app's own live inbox document is executed once per event for every viewer of a role
    # and scope (when it selected slaTimers as viewer-dependent, each subscriber ran on its own).
    assert dependence(_documents()["INBOX_EVENTS"]) == fanout.PURE
