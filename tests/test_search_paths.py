"""Search's ways to its candidates (resolvers/search.py), each checked against what the definition
asks for, on small data with the bounds made small:

- relevance, a word in many of the newest messages: the newest matching messages walked newest
  first, or, when the filters admit few of them, the newest conversations the filters admit;
- relevance, any other text: through the index in id ranges, newest first, stopping once it has
  the candidates;
- newest first, a common word: the conversations walked newest first, or every match when the
  walk's window holds too few; any other text: every match.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.base import InboundMessage, MessageKind, ParsedWebhook
from models import Conversation, Role
from resolvers import search as search_rules
from resolvers.inbound import ingest
from schema.relay import to_global_id
from tests.helpers import gql, login, make_user, make_whatsapp_channel, record_statements

SEARCH = """query($q: String!, $f: ConversationFilter, $o: SearchOrder, $first: Int, $after: String) {
  search(query: $q, filter: $f, orderBy: $o, first: $first, after: $after) {
    edges { cursor rank node { id } matchedMessage { text } } pageInfo { hasNextPage } } }"""


async def _conversations(channel: Any, texts: list[str]) -> list[Conversation]:
    """One new customer per text, each saying it; oldest first."""
    made = []
    for text in texts:
        sender = "5531" + str(uuid.uuid4().int)[:9]
        message = InboundMessage(
            platform_message_id=f"wamid.{uuid.uuid4().hex}",
            sender_id=sender,
            sender_name="Cliente",
            sender_phone=sender,
            sent_at=datetime.now(UTC),
            kind=MessageKind.TEXT,
            text=text,
        )
        await ingest(channel.id, "whatsapp", ParsedWebhook(messages=(message,)))
        made.append(await Conversation.filter(channel_id=channel.id).order_by("-last_message_at").first())
    return made  # type: ignore[return-value]


def _gid(c: Conversation) -> str:
    return to_global_id("Conversation", c.id)


def _ids(body: dict) -> list[str]:
    assert body.get("errors") is None, body
    return [e["node"]["id"] for e in body["data"]["search"]["edges"]]


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL each search sends, to tell which way it went."""
    return record_statements(monkeypatch, search_rules)


def _went(statements: list[str], marker: str) -> bool:
    """Did the last search (its probe, candidates and final statement) go that way?"""
    last = max(i for i, sql in enumerate(statements) if "/* probe */" in sql)
    return any(marker in sql for sql in statements[last:])


async def _all_pages(server: str, token: str, variables: dict, first: int) -> list[str]:
    seen, after = [], None
    while True:
        page = await gql(server, SEARCH, {**variables, "first": first, "after": after}, token)
        seen += _ids(page)
        if not page["data"]["search"]["pageInfo"]["hasNextPage"]:
            return seen
        after = page["data"]["search"]["edges"][-1]["cursor"]


async def test_common_word_walked_newest_first(server, statements, monkeypatch):
    channel, _ = await make_whatsapp_channel("http://127.0.0.1:9")
    word = f"w{uuid.uuid4().hex[:8]}"
    said = await _conversations(
        channel, [f"{word} {word} {word} muito importante"] + [f"{word} pedido {i}" for i in range(1, 24)]
    )
    await Conversation.filter(id__in=[c.id for c in said[1:6]]).update(status="resolved")
    token = await login(server, await make_user(Role.AGENT))
    everyone = {_gid(c) for c in said}

    # 24 of the newest messages say it: a common word. With fewer than MIN_WALK_HITS found by the
    # walk, the newest conversations are searched instead, and hold them all.
    monkeypatch.setattr(search_rules, "MIN_WALK_HITS", 50)
    found = _ids(await gql(server, SEARCH, {"q": word, "first": 50}, token))
    assert _went(statements, "/* newest conversations */") and set(found) == everyone
    assert found[0] == _gid(said[0])  # three times the word: the best rank

    monkeypatch.setattr(search_rules, "MIN_WALK_HITS", 5)  # the walk itself now suffices
    found = _ids(await gql(server, SEARCH, {"q": word, "first": 50}, token))
    assert _went(statements, "/* newest matches walked */") and not _went(
        statements, "/* newest conversations */"
    )
    assert set(found) == everyone and found[0] == _gid(said[0])
    assert set(await _all_pages(server, token, {"q": word}, first=7)) == everyone

    open_only = _ids(await gql(server, SEARCH, {"q": word, "first": 50, "f": {"status": ["OPEN"]}}, token))
    assert set(open_only) == everyone - {_gid(c) for c in said[1:6]}

    # Only the newest CANDIDATES matching messages are ranked.
    monkeypatch.setattr(search_rules, "CANDIDATES", 10)
    found = _ids(await gql(server, SEARCH, {"q": word, "first": 50}, token))
    assert set(found) == {_gid(c) for c in said[-10:]}


async def test_rare_text_through_the_index_newest_ranges_first(server, statements, monkeypatch):
    channel, _ = await make_whatsapp_channel("http://127.0.0.1:9")
    word = f"r{uuid.uuid4().hex[:8]}"
    said = await _conversations(channel, [f"{word} nota fiscal {i}" for i in range(12)])
    await Conversation.filter(id=said[-2].id).update(status="closed")
    token = await login(server, await make_user(Role.AGENT))

    # Without word statistics (ANALYZE's most common words of messages.search_tsv), ranges.
    monkeypatch.setattr(search_rules, "_stats", (float("inf"), {}, 0.0))
    found = _ids(await gql(server, SEARCH, {"q": word, "first": 50}, token))
    assert _went(statements, "/* id ranges */") and set(found) == {_gid(c) for c in said}
    assert "m.id >" in statements[-2]

    # With them: a word outside the common ones has few matches, all read in one range.
    monkeypatch.setattr(search_rules, "_stats", (float("inf"), {"fiscal": 0.5, "nota": 0.5}, 1000.0))
    monkeypatch.setattr(search_rules, "TRENDING", 50)  # (12 of the newest messages say it)
    for size in (5, 12):
        monkeypatch.setattr(search_rules, "CANDIDATES", size)
        found = _ids(await gql(server, SEARCH, {"q": word, "first": 50}, token))
        assert _went(statements, "/* id ranges */") and "m.id >" not in statements[-2]
        assert set(found) == {_gid(c) for c in said[-size:]}, size
    monkeypatch.setattr(search_rules, "_stats", (float("inf"), {}, 0.0))

    # Small ranges (not widened for how common the text is): the 12 matches are spread over all
    # four; the newest 5 and 8 cross their bounds.
    monkeypatch.setattr(search_rules, "LADDER", (3, 7, 10))
    monkeypatch.setattr(search_rules, "LADDER_SLACK", 0)
    for size in (5, 8, 12):
        monkeypatch.setattr(search_rules, "CANDIDATES", size)
        found = _ids(await gql(server, SEARCH, {"q": word, "first": 50}, token))
        assert set(found) == {_gid(c) for c in said[-size:]}, size
    # Common words, a rare text: the text decides, not its words: by id range, not walked.
    monkeypatch.setattr(search_rules, "COMMON_HITS", 5)
    monkeypatch.setattr(search_rules, "CANDIDATES", 12)
    found = _ids(await gql(server, SEARCH, {"q": f"{word} fiscal 3", "first": 50}, token))
    assert found == [_gid(said[3])]
    assert _went(statements, "/* id ranges */") and not _went(statements, "/* newest matches walked */")
    monkeypatch.setattr(search_rules, "COMMON_HITS", 20)
    # Ranges widened for a text seen often among the newest messages still give its newest matches.
    monkeypatch.setattr(search_rules, "LADDER_SLACK", 1.5)
    monkeypatch.setattr(search_rules, "CANDIDATES", 5)
    found = _ids(await gql(server, SEARCH, {"q": word, "first": 50}, token))
    assert set(found) == {_gid(c) for c in said[-5:]}

    monkeypatch.setattr(search_rules, "CANDIDATES", 5)
    open_only = _ids(await gql(server, SEARCH, {"q": word, "first": 50, "f": {"status": ["OPEN"]}}, token))
    assert set(open_only) == {_gid(c) for c in said[-6:] if c.id != said[-2].id}


@pytest.mark.parametrize("walk_window", [2000, 3])
async def test_newest_first_is_exact_either_way(server, statements, monkeypatch, walk_window):
    channel, _ = await make_whatsapp_channel("http://127.0.0.1:9")
    word = f"n{uuid.uuid4().hex[:8]}"
    await _conversations(channel, ["outra coisa", "mais uma coisa"])  # older, without the word
    said = await _conversations(channel, [f"{word} entrega {i}" for i in range(22)])
    token = await login(server, await make_user(Role.AGENT))
    monkeypatch.setattr(search_rules, "RECENT_CONVERSATIONS", walk_window)
    newest_first = [_gid(c) for c in reversed(said)]
    this_channel = {"channelId": to_global_id("Channel", channel.id)}

    # The last page's walk runs out of matches: it saw every conversation of the channel (and is
    # exact) unless its window is smaller than what is left, when every match is looked at.
    variables = {"q": word, "o": "RECENCY", "f": this_channel}
    assert await _all_pages(server, token, variables, first=5) == newest_first
    assert _went(statements, "/* conversations walked */")
    assert _went(statements, "/* every match */") == (walk_window == 3)
    page = await gql(server, SEARCH, {"q": word, "o": "RECENCY", "first": 3}, token)
    assert _ids(page) == newest_first[:3]
    assert all(e["matchedMessage"]["text"].startswith(word) for e in page["data"]["search"]["edges"])

    rare = _ids(await gql(server, SEARCH, {"q": f"{word} entrega 7", "o": "RECENCY"}, token))
    assert rare == [_gid(said[7])] and not _went(statements, "/* conversations walked */")


async def test_people_pattern_with_quotes_and_escapes(server):
    """The people pattern is written into the statement: quotes and backslashes stay text."""
    channel, _ = await make_whatsapp_channel("http://127.0.0.1:9")
    name = f"D'Ávila \\ {uuid.uuid4().hex[:6]}"
    said = await _conversations(channel, ["bom dia"])
    await said[0].fetch_related("customer")
    said[0].customer.name = name
    await said[0].customer.save()
    token = await login(server, await make_user(Role.AGENT))
    assert _ids(await gql(server, SEARCH, {"q": name}, token)) == [_gid(said[0])]
    assert _ids(await gql(server, SEARCH, {"q": "x'; DROP TABLE messages; --"}, token)) == []
