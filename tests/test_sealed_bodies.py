"""Message bodies encrypted at rest (ENCRYPT_MESSAGE_BODIES): what the tables and the event log
hold is not the text, while the API, live views, search, platform sends and outgoing webhooks see
the plaintext; key rotation re-encrypts old rows; off, bodies are stored as before."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet

from connectors.base import InboundMessage, MessageEdit, MessageKind, ParsedWebhook
from core import crypto
from core.settings import get_settings
from core.sql import fetch
from models import Conversation, Role
from resolvers.inbound import ingest
from resolvers.sealed import rotate_sealed
from resolvers.shapes import message_view
from schema.relay import to_global_id
from tests.helpers import (
    Subscriber,
    eventually,
    gql,
    login,
    make_channel,
    make_user,
    post_webhook,
    wa_text_payload,
)
from tests.test_sending import _reply

MESSAGES = """query($id: ID!) { conversation(id: $id) { messages(first: 20) { edges { node { text direction } } } } }"""
SEARCH = (
    """query($q: String!) { search(query: $q, first: 5) { edges { node { id } matchedMessage { text } } } }"""
)
LIVE = """subscription($id: ID!, $after: String) {
  conversationEvents(conversationId: $id, after: $after) { type message { text } } }"""


@pytest.fixture
def sealing(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Sealing on for this test only (the server and worker run in this process)."""
    settings = {"value": replace(get_settings(), encrypt_message_bodies=True)}
    monkeypatch.setattr(crypto, "get_settings", lambda: settings["value"])
    return settings


async def _inbound(server: str, wa, wa_id: str, text: str) -> Conversation:  # type: ignore[no-untyped-def]
    channel, secrets, _ = wa
    body = wa_text_payload(channel.config["phone_number_id"], wa_id, text)
    assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200
    return await Conversation.filter(channel_id=channel.id).order_by("-id").first()  # type: ignore[return-value]


async def _stored(conversation_id: int) -> list[str]:
    rows = await fetch("SELECT text FROM messages WHERE conversation_id = $1 ORDER BY id", conversation_id)
    return [r["text"] for r in rows]


async def _log_mentions(word: str) -> int:
    rows = await fetch(
        "SELECT count(*) AS n FROM (SELECT payload::text AS p FROM events UNION ALL "
        "SELECT payload::text FROM event_outbox) e WHERE strpos(p, $1) > 0",
        word,
    )
    return rows[0]["n"]


async def test_sealed_bodies_are_not_plaintext_at_rest_yet_read_search_and_send_as_text(server, wa, sealing):
    _, _, fake = wa
    word = f"zebrafish{uuid.uuid4().hex[:8]}"
    text = f"Olá, meu pedido {word} não chegou"
    conversation = await _inbound(server, wa, "55119" + str(uuid.uuid4().int)[:8], text)
    gid = to_global_id("Conversation", conversation.id)
    token = await login(server, await make_user(Role.AGENT))

    stored = await _stored(conversation.id)
    assert len(stored) == 1 and stored[0].startswith(crypto.SEALED), stored
    assert word not in stored[0] and crypto.CUT not in stored[0]
    assert await _log_mentions(word) == 0  # the event log holds the sealed form too

    body = await gql(server, MESSAGES, {"id": gid}, token)
    assert [e["node"]["text"] for e in body["data"]["conversation"]["messages"]["edges"]] == [text], body
    found = await gql(server, SEARCH, {"q": word}, token)  # the words were indexed from the plaintext
    assert [e["node"]["id"] for e in found["data"]["search"]["edges"]] == [gid], found
    assert found["data"]["search"]["edges"][0]["matchedMessage"]["text"] == text
    assert (await gql(server, SEARCH, {"q": "chegou " + word}, token))["data"]["search"]["edges"]

    live = await Subscriber.open(server, token, LIVE, {"id": gid, "after": "0"})  # replayed from the log
    try:
        reply_word = f"answer{uuid.uuid4().hex[:8]}"
        sent_before = len(fake.sent)
        await _reply(server, token, conversation, f"Vamos verificar {reply_word}")
        first = await live.next_where(lambda d: d["conversationEvents"]["message"] is not None)
        assert first["conversationEvents"]["message"]["text"] == text  # sealed in the log, read as text
        await live.next_where(
            lambda d: (
                (d["conversationEvents"]["message"] or {}).get("text") == f"Vamos verificar {reply_word}"
            )
        )

        # The platform gets the plaintext; the table and the log never held it.
        async def sent() -> list:
            return [s for s in fake.sent[sent_before:] if reply_word in s.get("text", {}).get("body", "")]

        await eventually(sent, timeout=20)
        stored = await _stored(conversation.id)
        assert all(s.startswith(crypto.SEALED) and reply_word not in s for s in stored)
        assert await _log_mentions(reply_word) == 0
        assert (await gql(server, SEARCH, {"q": reply_word}, token))["data"]["search"]["edges"]
    finally:
        await live.close()


async def test_rotation_reseals_old_rows_with_the_newest_key_and_search_still_finds(server, wa, sealing):
    word = f"okapi{uuid.uuid4().hex[:8]}"
    conversation = await _inbound(server, wa, "55119" + str(uuid.uuid4().int)[:8], f"sealed before {word}")
    old_keys = sealing["value"].encryption_keys
    before = await _stored(conversation.id)
    assert crypto.primary_key_opens(before[0])

    new_key = Fernet.generate_key().decode()
    sealing["value"] = replace(sealing["value"], encryption_keys=(new_key, *old_keys))
    try:
        assert not crypto.primary_key_opens(before[0])  # sealed with what is now the older key
        assert await rotate_sealed() >= 1
        after = await _stored(conversation.id)
        assert after != before and crypto.primary_key_opens(after[0])
        token = after[0][len(crypto.SEALED) :].encode()
        assert Fernet(new_key.encode()).decrypt(token).decode() == f"sealed before {word}"

        # The old keys can go now: everything reads with the new one alone; the words stayed indexed.
        sealing["value"] = replace(sealing["value"], encryption_keys=(new_key,))
        user = await login(server, await make_user(Role.AGENT))
        gid = to_global_id("Conversation", conversation.id)
        body = await gql(server, MESSAGES, {"id": gid}, user)
        assert body["data"]["conversation"]["messages"]["edges"][0]["node"]["text"] == f"sealed before {word}"
        found = await gql(server, SEARCH, {"q": word}, user)
        assert [e["node"]["id"] for e in found["data"]["search"]["edges"]] == [gid]
        assert await rotate_sealed() == 0  # a second walk for the same key has nothing left to do
    finally:  # back under the run's own key, so the shared database stays readable after this test
        sealing["value"] = replace(sealing["value"], encryption_keys=(*old_keys, new_key))
        await rotate_sealed()


async def test_turning_sealing_on_seals_the_plaintext_rows_written_before(server, wa, sealing):
    sealing["value"] = replace(sealing["value"], encrypt_message_bodies=False)
    word = f"quokka{uuid.uuid4().hex[:8]}"
    conversation = await _inbound(
        server, wa, "55119" + str(uuid.uuid4().int)[:8], f"written in the clear {word}"
    )
    assert await _stored(conversation.id) == [f"written in the clear {word}"]
    sealing["value"] = replace(sealing["value"], encrypt_message_bodies=True)
    await rotate_sealed()
    stored = await _stored(conversation.id)
    assert stored[0].startswith(crypto.SEALED) and word not in stored[0]
    token = await login(server, await make_user(Role.AGENT))
    found = await gql(server, SEARCH, {"q": word}, token)
    assert found["data"]["search"]["edges"][0]["matchedMessage"]["text"] == f"written in the clear {word}"


async def test_off_bodies_are_stored_as_written_and_a_lookalike_cannot_pass_for_sealed(server, wa):
    assert not get_settings().encrypt_message_bodies
    word = f"wombat{uuid.uuid4().hex[:8]}"
    conversation = await _inbound(server, wa, "55119" + str(uuid.uuid4().int)[:8], f"hello {word}")
    assert await _stored(conversation.id) == [f"hello {word}"]
    token = await login(server, await make_user(Role.AGENT))
    found = await gql(server, SEARCH, {"q": word}, token)
    assert found["data"]["search"]["edges"][0]["matchedMessage"]["text"] == f"hello {word}"

    # A customer's text that looks like a sealed body is sealed (so it cannot be taken for one and
    # read as something else), and reads back exactly as written.
    lookalike = f"{crypto.SEALED}gAAAAA-not-a-token{crypto.CUT}{word}-hidden"
    conversation = await _inbound(server, wa, "55119" + str(uuid.uuid4().int)[:8], lookalike)
    stored = await _stored(conversation.id)
    assert crypto.CUT not in stored[0] and "hidden" not in stored[0]
    body = await gql(server, MESSAGES, {"id": to_global_id("Conversation", conversation.id)}, token)
    assert body["data"]["conversation"]["messages"]["edges"][0]["node"]["text"] == lookalike


async def test_an_edit_of_a_sealed_body_is_sealed_indexed_and_a_redelivery_changes_nothing(server, sealing):
    channel = await make_channel("telegram", {}, {})
    word, new_word = f"tapir{uuid.uuid4().hex[:8]}", f"ibis{uuid.uuid4().hex[:8]}"
    pmid = f"tg-{uuid.uuid4().hex}"
    first = InboundMessage(
        platform_message_id=pmid,
        sender_id=f"tg-user-{uuid.uuid4().hex[:8]}",
        sent_at=datetime.now(UTC),
        kind=MessageKind.TEXT,
        text=f"first {word}",
    )
    await ingest(channel.id, "telegram", ParsedWebhook(messages=(first,)))
    edit = MessageEdit(platform_message_id=pmid, occurred_at=datetime.now(UTC), text=f"second {new_word}")
    assert (await ingest(channel.id, "telegram", ParsedWebhook(edits=(edit,)))).edits == 1
    assert (
        await ingest(channel.id, "telegram", ParsedWebhook(edits=(edit,)))
    ).edits == 0  # the same text again

    rows = await fetch(
        "SELECT conversation_id, text, metadata::text AS m FROM messages WHERE channel_id = $1", channel.id
    )
    assert (
        rows[0]["text"].startswith(crypto.SEALED)
        and word not in rows[0]["m"]
        and new_word not in rows[0]["text"]
    )
    token = await login(server, await make_user(Role.AGENT))
    gid = to_global_id("Conversation", rows[0]["conversation_id"])
    body = await gql(server, MESSAGES, {"id": gid}, token)
    assert body["data"]["conversation"]["messages"]["edges"][0]["node"]["text"] == f"second {new_word}"
    edits = message_view(dict((await fetch("SELECT * FROM messages WHERE channel_id = $1", channel.id))[0]))
    assert [e["text"] for e in edits["metadata"]["edits"]] == [f"first {word}"]  # the earlier text, opened
    assert (await gql(server, SEARCH, {"q": new_word}, token))["data"]["search"]["edges"]
    assert not (await gql(server, SEARCH, {"q": word}, token))["data"]["search"][
        "edges"
    ]  # words follow the edit
