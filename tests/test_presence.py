"""'Agent X is viewing' and 'agent X is typing', live, so two agents don't answer one customer."""

from __future__ import annotations

from models import Role
from tests.helpers import Subscriber, gql, login, make_user
from tests.test_lifecycle import _conversation, _gid

PRESENCE = """subscription($id: ID!) { conversationPresence(conversationId: $id) { name typing } }"""
TYPING = """mutation($id: ID!, $t: Boolean!) { setTyping(conversationId: $id, typing: $t) }"""


def _names(data: dict) -> list[tuple[str, bool]]:
    return [(v["name"], v["typing"]) for v in data["conversationPresence"]]


async def test_viewers_and_typing_are_live(server, wa):
    conversation, _ = await _conversation(server, wa)
    cid = _gid(conversation)
    ana, ben = await make_user(Role.AGENT, name="Ana"), await make_user(Role.AGENT, name="Ben")
    ana_token, ben_token = await login(server, ana), await login(server, ben)

    ana_view = await Subscriber.open(server, ana_token, PRESENCE, {"id": cid})
    assert _names(await ana_view.next()) == [("Ana", False)]
    ben_view = await Subscriber.open(server, ben_token, PRESENCE, {"id": cid})
    # Ben learns Ana is there at once (she answers his hello); Ana sees Ben arrive.
    await ben_view.next_where(lambda d: _names(d) == [("Ana", False), ("Ben", False)])
    await ana_view.next_where(lambda d: _names(d) == [("Ana", False), ("Ben", False)])

    assert (await gql(server, TYPING, {"id": cid, "t": True}, ben_token))["data"]["setTyping"] is True
    await ana_view.next_where(lambda d: ("Ben", True) in _names(d))
    await gql(server, TYPING, {"id": cid, "t": False}, ben_token)
    await ana_view.next_where(lambda d: ("Ben", False) in _names(d))

    await ben_view.close()  # Ben closes the conversation: Ana sees him leave
    await ana_view.next_where(lambda d: _names(d) == [("Ana", False)])
    await ana_view.close()


async def test_presence_needs_a_user_and_a_real_conversation(server, wa):
    conversation, _ = await _conversation(server, wa)
    anonymous = await gql(server, TYPING, {"id": _gid(conversation), "t": True})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    token = await login(server, await make_user(Role.AGENT))
    missing = await gql(server, TYPING, {"id": "Q29udmVyc2F0aW9uOjk5OTk5OTk5", "t": True}, token)
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
