"""Search: words in any form and accent (Portuguese and English), customers by name/phone/e-mail
and platform identities, the inbox's filters, relevance and recency order with cursors, and saved
views with live counts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from connectors.base import InboundMessage, MessageKind, ParsedWebhook
from models import Conversation, Role
from resolvers import loaders
from resolvers.inbound import ingest
from schema.relay import to_global_id
from tests.helpers import Subscriber, gql, login, make_user, make_whatsapp_channel, record_statements

SEARCH = """query($q: String!, $f: ConversationFilter, $o: SearchOrder, $first: Int, $after: String) {
  search(query: $q, filter: $f, orderBy: $o, first: $first, after: $after) {
    edges { cursor rank node { id customer { name } } matchedMessage { text } } pageInfo { hasNextPage } } }"""
SAVE = """mutation($n: String!, $f: ConversationFilter, $q: String) { saveView(name: $n, filter: $f, query: $q) { id count } }"""
VIEWS = """query { savedViews { name count } }"""
COUNTS = """subscription { savedViewCounts { viewId count } }"""


async def _say(channel, sender: str, text: str, name: str = "Customer") -> Conversation:  # type: ignore[no-untyped-def]
    message = InboundMessage(
        platform_message_id=f"wamid.{uuid.uuid4().hex}",
        sender_id=sender,
        sender_name=name,
        sender_phone=sender,
        sent_at=datetime.now(UTC),
        kind=MessageKind.TEXT,
        text=text,
    )
    await ingest(channel.id, "whatsapp", ParsedWebhook(messages=(message,)))
    return await Conversation.filter(channel_id=channel.id).order_by("-last_message_at").first()  # type: ignore[return-value]


def _phone() -> str:
    return "5521" + str(uuid.uuid4().int)[:9]


def _ids(body: dict) -> list[str]:
    assert body.get("errors") is None, body
    return [e["node"]["id"] for e in body["data"]["search"]["edges"]]


async def test_words_accents_stems_and_people(server, monkeypatch):
    channel, _ = await make_whatsapp_channel("http://127.0.0.1:9")
    tag = uuid.uuid4().hex[:6]
    refund = await _say(
        channel, _phone(), f"Quero o reembolso do pedido {tag}, a entrega atrasou", "Joana Brandão"
    )
    shipping = await _say(channel, _phone(), f"My packages were shipped late, order {tag}", "Peter Pan")
    other = await _say(channel, _phone(), "Bom dia, tudo bem?", f"Zélia {tag}")
    token = await login(server, await make_user(Role.AGENT))

    def gid(c: Conversation) -> str:
        return to_global_id("Conversation", c.id)

    assert _ids(await gql(server, SEARCH, {"q": f"reembolso {tag}"}, token)) == [gid(refund)]
    assert _ids(await gql(server, SEARCH, {"q": f"REEMBÔLSO {tag}"}, token)) == [gid(refund)]  # case, accents
    assert _ids(await gql(server, SEARCH, {"q": f"entregas {tag}"}, token)) == [
        gid(refund)
    ]  # Portuguese stem
    assert _ids(await gql(server, SEARCH, {"q": f"package shipping {tag}"}, token)) == [
        gid(shipping)
    ]  # English
    assert _ids(await gql(server, SEARCH, {"q": "joana brandao"}, token)) == [
        gid(refund)
    ]  # a customer's name
    phone = (await Conversation.get(id=other.id).prefetch_related("customer")).customer.phone
    assert gid(other) in _ids(await gql(server, SEARCH, {"q": phone[-7:]}, token))  # part of a phone
    # A match on the person ranks above text matches; the matched message comes along.
    hits = (await gql(server, SEARCH, {"q": tag}, token))["data"]["search"]["edges"]
    assert hits[0]["node"]["id"] == gid(other) and hits[0]["matchedMessage"] is None
    assert {h["node"]["id"] for h in hits} == {gid(refund), gid(shipping), gid(other)}
    assert hits[1]["matchedMessage"]["text"]
    # Each hit's customer and matched message are the search statement's own rows: shown right,
    # with no statement of their own.
    loaded = record_statements(monkeypatch, loaders)
    hits = (await gql(server, SEARCH, {"q": f"reembolso {tag}"}, token))["data"]["search"]["edges"]
    assert [(h["node"]["customer"]["name"], h["matchedMessage"]["text"]) for h in hits] == [
        ("Joana Brandão", f"Quero o reembolso do pedido {tag}, a entrega atrasou")
    ]
    assert loaded == []


async def test_filters_order_and_cursors(server):
    channel, _ = await make_whatsapp_channel("http://127.0.0.1:9")
    tag = uuid.uuid4().hex[:6]
    conversations = [await _say(channel, _phone(), f"problema com boleto {tag} numero {i}") for i in range(5)]
    await Conversation.filter(id=conversations[0].id).update(status="resolved", labels=["billing"])
    token = await login(server, await make_user(Role.AGENT))
    channel_id = to_global_id("Channel", channel.id)
    newest_first = _ids(await gql(server, SEARCH, {"q": f"boleto {tag}", "o": "RECENCY"}, token))
    assert newest_first == [to_global_id("Conversation", c.id) for c in reversed(conversations)]

    seen, after = [], None
    while True:
        page = await gql(
            server, SEARCH, {"q": f"boleto {tag}", "first": 2, "after": after, "o": "RELEVANCE"}, token
        )
        seen += _ids(page)
        if not page["data"]["search"]["pageInfo"]["hasNextPage"]:
            break
        after = page["data"]["search"]["edges"][-1]["cursor"]
    assert sorted(seen) == sorted(newest_first) and len(seen) == 5

    only_resolved = {"status": ["RESOLVED"], "labels": ["billing"], "channelId": channel_id}
    assert _ids(await gql(server, SEARCH, {"q": f"boleto {tag}", "f": only_resolved}, token)) == [
        to_global_id("Conversation", conversations[0].id)
    ]
    unanswered = await gql(server, SEARCH, {"q": f"boleto {tag}", "f": {"unanswered": True}}, token)
    assert len(_ids(unanswered)) == 5
    empty = await gql(server, SEARCH, {"q": "   "}, token)
    assert empty["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    bad_cursor = await gql(server, SEARCH, {"q": "x", "after": "not-a-cursor"}, token)
    assert bad_cursor["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_one_customers_conversations(server):
    """The customer panel lists a customer's other conversations: filter customerId, also in search."""
    channel, _ = await make_whatsapp_channel("http://127.0.0.1:9")
    tag = uuid.uuid4().hex[:6]
    phone = _phone()
    first = await _say(channel, phone, f"pedido {tag}")
    await Conversation.filter(id=first.id).update(status="closed")  # the next message starts another
    second = await _say(channel, phone, f"outro pedido {tag}")
    stranger = await _say(channel, _phone(), f"pedido {tag}")
    assert second.id != first.id and second.customer_id == first.customer_id != stranger.customer_id  # type: ignore[attr-defined]
    token = await login(server, await make_user(Role.AGENT))
    mine = {"customerId": to_global_id("Customer", first.customer_id)}  # type: ignore[attr-defined]
    listed = await gql(
        server,
        """query($f: ConversationFilter) { conversations(filter: $f) { edges { node { id } } } }""",
        {"f": mine},
        token,
    )
    assert [e["node"]["id"] for e in listed["data"]["conversations"]["edges"]] == [
        to_global_id("Conversation", second.id),
        to_global_id("Conversation", first.id),
    ]
    assert sorted(_ids(await gql(server, SEARCH, {"q": f"pedido {tag}", "f": mine}, token))) == sorted(
        [to_global_id("Conversation", second.id), to_global_id("Conversation", first.id)]
    )
    wrong = await gql(server, SEARCH, {"q": "x", "f": {"customerId": to_global_id("User", 1)}}, token)
    assert wrong["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_saved_views_count_live(server):
    channel, _ = await make_whatsapp_channel("http://127.0.0.1:9")
    tag = uuid.uuid4().hex[:6]
    await _say(channel, _phone(), f"segunda via {tag}")
    token = await login(server, await make_user(Role.AGENT))
    saved = await gql(
        server,
        SAVE,
        {"n": "Boletos", "q": f"via {tag}", "f": {"channelId": to_global_id("Channel", channel.id)}},
        token,
    )
    assert saved["data"]["saveView"]["count"] == 1
    again = await gql(server, SAVE, {"n": "Boletos", "q": "x"}, token)
    assert again["errors"][0]["extensions"]["code"] == "CONFLICT"
    live = await Subscriber.open(server, token, COUNTS)
    first = await live.next()
    assert first["savedViewCounts"] == [{"viewId": saved["data"]["saveView"]["id"], "count": 1}]
    await _say(channel, _phone(), f"outra via {tag}")
    await live.next_where(lambda d: d["savedViewCounts"][0]["count"] == 2)
    await live.close()
    assert (await gql(server, VIEWS, {}, token))["data"]["savedViews"] == [{"name": "Boletos", "count": 2}]
