"""Arbitrary Unicode, NUL and lone surrogates included, into GraphQL string arguments over real
HTTP: never a 5xx, never INTERNAL; text that can be stored is stored and read back as sent (a
view's name trimmed); text that cannot is BAD_USER_INPUT naming the argument, and nothing is stored."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.sql import fetch
from models import Conversation, Message, Role
from schema.relay import parse_global_id, to_global_id
from tests.helpers import login, make_user, make_whatsapp_channel, post_webhook, wa_text_payload

# Hypothesis' default text leaves out surrogates; mix them (and NUL) in on purpose.
HOSTILE = st.sampled_from(["\x00", "\ud800", "\udbff", "\udc00", "\udfff", "\ufeff", "\u202e"])
TEXT = st.text(st.one_of(st.characters(), HOSTILE), max_size=40)


def _storable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


@pytest_asyncio.fixture(scope="module")
async def arena(server, fake_whatsapp) -> dict[str, Any]:
    fake, base_url = fake_whatsapp
    channel, secrets = await make_whatsapp_channel(base_url)
    fake.add_number(  # type: ignore[attr-defined]
        channel.config["phone_number_id"],
        access_token=secrets["access_token"],
        app_secret=secrets["app_secret"],
        webhook_url=f"{server}/webhooks/whatsapp/{channel.id}",
    )
    body = wa_text_payload(channel.config["phone_number_id"], "5531" + str(uuid.uuid4().int)[:8], "hello")
    assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200
    conversation = await Conversation.filter(channel_id=channel.id).order_by("-id").first()
    user = await make_user(Role.AGENT)
    return {
        "server": server,
        "user": user,
        "token": await login(server, user),
        "conversation": to_global_id("Conversation", conversation.id),  # type: ignore[union-attr]
    }


async def _post(arena: dict[str, Any], document: str, variables: dict[str, Any]) -> dict[str, Any]:
    # ensure_ascii: a lone surrogate travels as the JSON escape "\ud800", as a client sends it.
    content = json.dumps({"query": document, "variables": variables}, ensure_ascii=True).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {arena['token']}"}
    async with httpx.AsyncClient(timeout=20) as client:
        response = await client.post(f"{arena['server']}/graphql", content=content, headers=headers)
    assert response.status_code < 500, response.text
    body = response.json()
    for error in body.get("errors") or []:
        assert error["extensions"]["code"] != "INTERNAL", body
    return body


async def _save_view(arena: dict[str, Any], text: str) -> tuple[dict[str, Any], list[str]]:
    body = await _post(arena, "mutation($n: String!) { saveView(name: $n) { id name } }", {"n": text})
    stored = await fetch("SELECT id, name FROM saved_views WHERE user_id = $1", arena["user"].id)
    await fetch("DELETE FROM saved_views WHERE user_id = $1", arena["user"].id)  # the limit is per user
    return body, [r["name"] for r in stored]


async def _add_note(arena: dict[str, Any], text: str) -> tuple[dict[str, Any], list[str]]:
    client_id = f"p-{uuid.uuid4()}"
    document = "mutation($c: ID!, $m: String!, $t: String!) { addNote(conversationId: $c, clientMessageId: $m, text: $t) { id } }"
    body = await _post(arena, document, {"c": arena["conversation"], "m": client_id, "t": text})
    return body, [m.text for m in await Message.filter(client_message_id=client_id)]


async def _send_message(arena: dict[str, Any], text: str) -> tuple[dict[str, Any], list[str]]:
    client_id = f"p-{uuid.uuid4()}"
    document = "mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }"
    variables = {"i": {"conversationId": arena["conversation"], "clientMessageId": client_id, "text": text}}
    body = await _post(arena, document, variables)
    return body, [m.text for m in await Message.filter(client_message_id=client_id)]


TARGETS = {
    "saveView": (_save_view, "name"),
    "addNote": (_add_note, "text"),
    "sendMessage": (_send_message, "input.text"),
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT, target=st.sampled_from(sorted(TARGETS)))
async def test_arbitrary_unicode_into_string_arguments(arena, text, target):
    call, field = TARGETS[target]
    body, stored = await call(arena, text)
    if body.get("errors"):
        error = body["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", body
        assert error["extensions"]["field"] in (field, field.split(".")[-1]), body
        assert stored == [], "a refused argument stored something"
        # Only unstorable text, or text the rule refuses (blank), is refused.
        assert not _storable(text) or not text.strip(), body
    else:
        assert _storable(text), f"{text!r} was accepted"
        assert stored in ([text], [text.strip()]), (text, stored)
        if target != "saveView":
            parse_global_id(next(iter(body["data"].values()))["id"])
