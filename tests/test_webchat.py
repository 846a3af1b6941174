"""Webchat end to end through the real app: a visitor's widget starts a session, writes (stored
once however often it retries), sees the agent's reply live over Server-Sent Events, resumes
exactly after a disconnect, reports reads; other sites, other visitors and floods are refused."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest

from connectors.base import ChannelCredentials, MessageKind, OutboundMessage, Platform, WebhookRequest
from connectors.registry import get_connector
from connectors.webchat import WebchatConnector, normalise_origin
from ingress.webchat import errors as webchat_errors
from ingress.webchat import routes as webchat_api
from ingress.webchat import sites as webchat_sites
from ingress.webchat import stream as webchat_stream
from ingress.webchat import tokens as webchat_tokens
from models import Channel, Customer, Message, Role
from schema.relay import to_global_id
from tests.helpers import eventually, gql, login, make_channel, make_user

ORIGIN = "https://shop.example.com"
SEND = """mutation($input: SendMessageInput!) { sendMessage(input: $input) { id status } }"""
NOTE = """mutation($c: ID!, $k: String!, $t: String!) { addNote(conversationId: $c, clientMessageId: $k, text: $t) { id } }"""


# ---- set-up -------------------------------------------------------------------------------------


@pytest.fixture
async def web(server: str) -> str:
    """The app's base URL with /webchat mounted. asgi.py mounts it (one line, added by the lead);
    until then it is mounted here on the running app, before the web app's catch-all route."""
    from starlette.routing import Mount

    from asgi import app

    if not any(getattr(r, "path", None) == "/webchat" for r in app.router.routes):
        app.router.routes.insert(0, Mount("/webchat", routes=webchat_api.webchat_routes))
    return server


async def make_webchat(enabled: bool = True, **config: Any) -> tuple[Channel, str]:
    config, secrets = WebchatConnector().prepare_new_channel(
        {"allowed_origins": [ORIGIN, "http://localhost:8080"], "title": "Shop help", **config}, {}
    )
    assert not get_connector(Platform.WEBCHAT).validate_config(config, secrets)
    channel = await make_channel("webchat", config, secrets)
    if not enabled:
        await Channel.filter(id=channel.id).update(enabled=False)
    return channel, config["public_key"]


def client(**kw: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=20, headers={"Origin": ORIGIN, **kw.pop("headers", {})}, **kw)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def start_session(base: str, key: str, **body: Any) -> dict[str, Any]:
    async with client() as c:
        r = await c.post(f"{base}/webchat/{key}/sessions", json=body)
    assert r.status_code == 200, r.text
    return r.json()


async def post_message(
    base: str, key: str, token: str, text: str, client_id: str | None = None
) -> httpx.Response:
    async with client() as c:
        return await c.post(
            f"{base}/webchat/{key}/messages",
            json={"client_message_id": client_id or uuid.uuid4().hex, "text": text},
            headers=bearer(token),
        )


async def agent_reply(base: str, token: str, conversation_id: int, text: str) -> str:
    body = await gql(
        base,
        SEND,
        {
            "input": {
                "conversationId": to_global_id("Conversation", conversation_id),
                "clientMessageId": uuid.uuid4().hex,
                "text": text,
            }
        },
        token,
    )
    assert not body.get("errors"), body
    return body["data"]["sendMessage"]["id"]


class EventStream:
    """A visitor's SSE connection, read the way the widget reads it. Lines are read by a task of
    its own, so waiting for an event with a timeout never breaks the connection."""

    def __init__(self, response: httpx.Response):
        self.events: asyncio.Queue[tuple[str | None, dict[str, Any]]] = asyncio.Queue()
        self.reader = asyncio.create_task(self._read(response))
        self.last_id: str | None = None

    async def _read(self, response: httpx.Response) -> None:
        event_id: str | None = None
        data: list[str] = []
        async for line in response.aiter_lines():
            if line.startswith("id:"):
                event_id = line[3:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
            elif line == "":
                if data:
                    await self.events.put((event_id, json.loads("".join(data))))
                event_id, data = None, []

    async def next(self, timeout: float = 10) -> dict[str, Any]:
        """The next event with data (comments and `retry:` skipped); `last_id` follows `id:`."""
        event_id, event = await asyncio.wait_for(self.events.get(), timeout)
        if event_id is not None:
            self.last_id = event_id
        return event

    async def next_message(self, timeout: float = 10) -> dict[str, Any]:
        while True:
            event = await self.next(timeout)
            if event["type"] == "message":
                return event["message"]

    async def close(self) -> None:
        self.reader.cancel()
        with contextlib.suppress(BaseException):
            await self.reader


@contextlib.asynccontextmanager
async def events(
    base: str, key: str, token: str, after: str | None = None, last_event_id: str | None = None
) -> AsyncIterator[EventStream]:
    headers = bearer(token)
    if last_event_id:
        headers["Last-Event-ID"] = last_event_id
    params = {"after": after} if after else {}
    async with (
        client() as c,
        c.stream("GET", f"{base}/webchat/{key}/events", headers=headers, params=params) as response,
    ):
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = EventStream(response)
        try:
            ready = await stream.next()
            assert ready["type"] == "ready"
            yield stream
        finally:
            await stream.close()


async def visitor_with_conversation(base: str, key: str, text: str = "Hello?") -> tuple[dict[str, Any], int]:
    session = await start_session(base, key, name="Vera Visitor")
    r = await post_message(base, key, session["visitor_token"], text)
    assert r.status_code == 201, r.text
    return session, r.json()["conversation_id"]


# ---- sessions ---------------------------------------------------------------------------------


async def test_session_and_returning_visitor(web: str) -> None:
    channel, key = await make_webchat(greeting="Hi! How can we help?", color="#112233")
    first = await start_session(web, key, name="Vera", email="Vera@Example.com")
    assert first["visitor_id"].startswith("v_")
    assert first["conversation_id"] is None
    assert first["config"] == {"title": "Shop help", "greeting": "Hi! How can we help?", "color": "#112233"}
    claims = jwt.decode(
        first["visitor_token"],
        options={"verify_signature": False},
    )
    assert (
        claims["aud"] == "pytake-webchat"
        and claims["ch"] == channel.id
        and claims["sub"] == first["visitor_id"]
    )
    assert 29 * 86400 < claims["exp"] - time.time() <= 30 * 86400

    # The returning visitor presents their token: same identity, and now their conversation.
    r = await post_message(web, key, first["visitor_token"], "Where is my order?")
    conversation_id = r.json()["conversation_id"]
    async with client() as c:
        again = (
            await c.post(f"{web}/webchat/{key}/sessions", json={}, headers=bearer(first["visitor_token"]))
        ).json()
        # A visitor id alone proves nothing: whoever sends it gets an identity of their own.
        stranger = (
            await c.post(f"{web}/webchat/{key}/sessions", json={"visitor_id": first["visitor_id"]})
        ).json()
        mismatch = await c.post(
            f"{web}/webchat/{key}/sessions",
            json={"visitor_id": "v_someoneelse"},
            headers=bearer(first["visitor_token"]),
        )
    assert again["visitor_id"] == first["visitor_id"]
    assert again["conversation_id"] == conversation_id
    assert stranger["visitor_id"] != first["visitor_id"] and stranger["conversation_id"] is None
    assert mismatch.status_code == 401 and mismatch.json()["error"]["code"] == "TOKEN_MISMATCH"

    # The e-mail the visitor typed is for the agent to read, not trusted for merging customers.
    stored = await Message.get(channel_id=channel.id, text="Where is my order?")
    assert stored.metadata["visitor_email"] == "vera@example.com"
    conversation = await stored.conversation
    customer = await Customer.get(id=conversation.customer_id)
    assert customer.email is None and customer.name == "Vera"


ROTATE = (
    "mutation($id: ID!) { rotateWebhookSecret(channelId: $id) { channel { previousSecretAcceptedUntil } } }"
)
END_GRACE = "mutation($id: ID!) { endWebhookSecretGrace(channelId: $id) { previousSecretAcceptedUntil } }"


async def test_a_rotated_token_key_keeps_its_visitors_for_the_grace(web: str) -> None:
    """rotateWebhookSecret on a web chat keeps the old visitor token key for the grace, like a
    webhook secret: old tokens still work, a resuming widget gets one under the new key, and
    endWebhookSecretGrace (or the end of the grace) refuses the old ones."""
    from datetime import UTC, datetime, timedelta

    from resolvers.webhook_delivery import clock

    channel, key = await make_webchat()
    gid = to_global_id("Channel", channel.id)
    admin = await login(web, await make_user(Role.ADMIN))
    returning, _ = await visitor_with_conversation(web, key, "before the rotation")
    away = await start_session(web, key, name="Away")
    old_key = (await Channel.get(id=channel.id)).secrets_encrypted

    rotated = await gql(web, ROTATE, {"id": gid}, admin)
    assert rotated.get("errors") is None, rotated
    until = rotated["data"]["rotateWebhookSecret"]["channel"]["previousSecretAcceptedUntil"]
    assert until is not None and datetime.fromisoformat(until) > datetime.now(UTC)
    assert (await Channel.get(id=channel.id)).secrets_encrypted != old_key

    # Within the grace: a token under the old key still writes; a forged one never does.
    ok = await post_message(web, key, returning["visitor_token"], "old token, in the grace")
    assert ok.status_code == 201, ok.text
    forged = jwt.encode(
        {**jwt.decode(returning["visitor_token"], options={"verify_signature": False})},
        "x" * 40,
        algorithm="HS256",
    )
    assert (await post_message(web, key, forged, "forged")).status_code == 401
    # The widget resumes (every page load): same visitor, same conversation, a token under the new key.
    async with client() as c:
        resumed = await c.post(
            f"{web}/webchat/{key}/sessions",
            json={"visitor_id": returning["visitor_id"]},
            headers=bearer(returning["visitor_token"]),
        )
    assert resumed.status_code == 200, resumed.text
    fresh = resumed.json()
    assert fresh["visitor_id"] == returning["visitor_id"] and fresh["conversation_id"] is not None
    assert fresh["visitor_token"] != returning["visitor_token"]

    # The admin ends the grace (the old key leaked): old tokens are refused, the resumed one works.
    ended = await gql(web, END_GRACE, {"id": gid}, admin)
    assert ended["data"]["endWebhookSecretGrace"]["previousSecretAcceptedUntil"] is None, ended
    refused = await post_message(web, key, away["visitor_token"], "old token, grace ended")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "BAD_TOKEN"
    assert (await post_message(web, key, returning["visitor_token"], "old token again")).status_code == 401
    assert (await post_message(web, key, fresh["visitor_token"], "new token")).status_code == 201
    texts = [m.text for m in await Message.filter(channel_id=channel.id).order_by("id")]
    assert texts == ["before the rotation", "old token, in the grace", "new token"]

    # A grace also ends by time.
    again = await gql(web, ROTATE, {"id": gid}, admin)
    until = datetime.fromisoformat(
        again["data"]["rotateWebhookSecret"]["channel"]["previousSecretAcceptedUntil"]
    )
    assert (await post_message(web, key, fresh["visitor_token"], "in the second grace")).status_code == 201
    try:
        clock.offset = until - datetime.now(UTC) + timedelta(seconds=1)
        late = await post_message(web, key, fresh["visitor_token"], "grace over")
        assert late.status_code == 401, late.text
    finally:
        clock.offset = timedelta(0)


async def test_site_can_vouch_for_a_signed_in_visitors_email(web: str) -> None:
    identity_secret = "s" * 40
    config, secrets = WebchatConnector().prepare_new_channel({"allowed_origins": [ORIGIN]}, {})
    channel = await make_channel("webchat", config, {**secrets, "identity_secret": identity_secret})
    key = config["public_key"]
    email = f"buyer-{uuid.uuid4().hex[:6]}@example.com"
    identity = jwt.encode(
        {"aud": "pytake-webchat-identity", "exp": int(time.time()) + 300, "email": email, "sub": "user-42"},
        identity_secret,
        algorithm="HS256",
    )
    one = await start_session(web, key, identity_token=identity)
    other_device = await start_session(web, key, identity_token=identity)
    assert one["visitor_id"] == other_device["visitor_id"]  # the site's user is one visitor
    r = await post_message(web, key, one["visitor_token"], "Signed in and asking")
    assert r.status_code == 201
    stored = await Message.get(channel_id=channel.id, text="Signed in and asking")
    customer = await Customer.get(id=(await stored.conversation).customer_id)
    assert customer.email == email
    # Signed out on a shared computer: the stored token no longer opens their conversation.
    async with client() as c:
        after_logout = await c.post(
            f"{web}/webchat/{key}/sessions", json={}, headers=bearer(one["visitor_token"])
        )
    assert after_logout.json()["visitor_id"] != one["visitor_id"]
    assert after_logout.json()["conversation_id"] is None
    forged = jwt.encode(
        {"aud": "pytake-webchat-identity", "exp": int(time.time()) + 300, "email": email}, "x" * 40
    )
    async with client() as c:
        refused = await c.post(f"{web}/webchat/{key}/sessions", json={"identity_token": forged})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "BAD_IDENTITY_TOKEN"


# ---- messages ---------------------------------------------------------------------------------


async def test_message_is_stored_once_however_often_it_is_retried(web: str) -> None:
    channel, key = await make_webchat()
    session = await start_session(web, key, name="Rita Retry")
    token, visitor_id = session["visitor_token"], session["visitor_id"]
    client_id = uuid.uuid4().hex
    # The widget retries after a network error; the retries race the first attempt.
    responses = await asyncio.gather(
        *(post_message(web, key, token, "Is it in stock?", client_id) for _ in range(4))
    )
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 201]
    bodies = [r.json() for r in responses]
    assert len({b["message"]["id"] for b in bodies}) == 1
    assert [b["duplicate"] for b in bodies].count(False) == 1
    message = bodies[0]["message"]
    assert message["text"] == "Is it in stock?"
    assert message["direction"] == "inbound" and message["status"] == "received"
    assert message["client_message_id"] == client_id and message["sender_name"] == "Rita Retry"
    assert "metadata" not in message
    rows = await Message.filter(channel_id=channel.id, text="Is it in stock?")
    assert len(rows) == 1
    assert rows[0].platform_message_id == f"{visitor_id}:{client_id}"
    # Later, another retry: still the same message, nothing new.
    late = await post_message(web, key, token, "Is it in stock?", client_id)
    assert late.status_code == 200 and late.json()["message"]["id"] == message["id"]
    assert await Message.filter(channel_id=channel.id).count() == 1


async def test_history_shows_own_messages_and_sent_replies_but_no_notes(web: str) -> None:
    channel, key = await make_webchat()
    session, conversation_id = await visitor_with_conversation(web, key, "First question")
    agent = await make_user(Role.AGENT, name="Alex Agent")
    token = await login(web, agent)
    note = await gql(
        web,
        NOTE,
        {"c": to_global_id("Conversation", conversation_id), "k": uuid.uuid4().hex, "t": "VIP, be nice"},
        token,
    )
    assert not note.get("errors"), note
    await agent_reply(web, token, conversation_id, "Happy to help")
    await eventually(
        lambda: Message.filter(channel_id=channel.id, text="Happy to help", status="sent").exists()
    )
    async with client() as c:
        r = await c.get(f"{web}/webchat/{key}/messages", headers=bearer(session["visitor_token"]))
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == ORIGIN
    body = r.json()
    assert [(m["direction"], m["text"]) for m in body["messages"]] == [
        ("inbound", "First question"),
        ("outbound", "Happy to help"),
    ]
    reply = body["messages"][1]
    assert reply["sender_name"] == "Alex Agent" and reply["status"] == "sent"
    assert agent.email not in r.text and "metadata" not in reply
    assert body["cursor"].startswith("s")


# ---- live -------------------------------------------------------------------------------------


async def test_agent_reply_reaches_the_visitor_live_and_reads_come_back(web: str) -> None:
    _channel, key = await make_webchat()
    session, conversation_id = await visitor_with_conversation(web, key, "Can someone help?")
    agent = await make_user(Role.AGENT, name="Alex Agent")
    token = await login(web, agent)
    async with events(web, key, session["visitor_token"]) as stream:
        # An internal note on the same conversation never reaches the visitor.
        await gql(
            web,
            NOTE,
            {"c": to_global_id("Conversation", conversation_id), "k": uuid.uuid4().hex, "t": "internal only"},
            token,
        )
        await agent_reply(web, token, conversation_id, "Yes, how can I help?")
        live = await stream.next_message(timeout=15)
        assert not await _no_followers()
    # The in-process worker "sent" it; only then did the visitor see it.
    assert live["text"] == "Yes, how can I help?"
    assert live["direction"] == "outbound" and live["status"] == "sent"
    assert live["sender_name"] == "Alex Agent"
    assert set(live) >= {"id", "text", "direction", "created_at", "status", "sender_name"}
    assert "metadata" not in live and "email" not in json.dumps(live)
    stored = await Message.get(id=live["id"])
    assert stored.platform_message_id == f"webchat:{stored.id}"
    # The visitor went away: the stream's followers went with them.
    await eventually(lambda: _no_followers())

    # The widget with the panel open reports it read; the agent sees the tick.
    async with client() as c:
        r = await c.post(
            f"{web}/webchat/{key}/read",
            json={"up_to_message_id": live["id"]},
            headers=bearer(session["visitor_token"]),
        )
        assert r.status_code == 200 and r.json() == {"updated": 1}
        again = await c.post(
            f"{web}/webchat/{key}/read",
            json={"up_to_message_id": live["id"]},
            headers=bearer(session["visitor_token"]),
        )
        assert again.json() == {"updated": 0}
    stored = await Message.get(id=live["id"])
    assert str(stored.status) == "read" and stored.read_at is not None and stored.delivered_at is not None


async def test_reconnect_with_last_event_id_replays_exactly_what_was_missed(web: str) -> None:
    channel, key = await make_webchat()
    session, conversation_id = await visitor_with_conversation(web, key, "Anyone there?")
    agent = await make_user(Role.AGENT, name="Sam Support")
    token = await login(web, agent)
    visitor_token = session["visitor_token"]
    async with events(web, key, visitor_token) as stream:
        await agent_reply(web, token, conversation_id, "Reply one")
        seen = await stream.next_message(timeout=15)
        assert seen["text"] == "Reply one"
        cursor = stream.last_id
    assert cursor is not None

    # While the visitor is away: two replies, and the visitor's own message from another tab.
    await agent_reply(web, token, conversation_id, "Reply two")
    await agent_reply(web, token, conversation_id, "Reply three")
    await post_message(web, key, visitor_token, "Back again")
    await eventually(lambda: _count_sent(channel.id, 3))

    async with events(web, key, visitor_token, last_event_id=cursor) as stream:
        replayed = [await stream.next_message() for _ in range(3)]
        # In the order they happened (a reply shows once the worker has sent it, so the visitor's
        # own message may come between); each exactly once, nothing from before the cursor.
        assert sorted(m["text"] for m in replayed) == ["Back again", "Reply three", "Reply two"]
        # Nothing further is pending: the next event would be a keepalive, not a message.
        with pytest.raises(TimeoutError):
            await stream.next_message(timeout=1.0)
        # And it is live again.
        await agent_reply(web, token, conversation_id, "Reply four")
        assert (await stream.next_message(timeout=15))["text"] == "Reply four"

    # `?after=` works the same for clients that cannot set headers; polling too.
    async with client() as c:
        polled = await c.get(
            f"{web}/webchat/{key}/messages", params={"after": cursor}, headers=bearer(visitor_token)
        )
    assert [m["text"] for m in polled.json()["messages"]] == [
        "Reply two",
        "Reply three",
        "Back again",
        "Reply four",
    ]  # polling answers in message order
    assert polled.json()["complete"] is True


async def _no_followers() -> bool:
    return not [t for t in asyncio.all_tasks() if t.get_name().startswith("webchat-follow-")]


async def _count_sent(channel_id: int, n: int) -> bool:
    return await Message.filter(channel_id=channel_id, direction="outbound", status="sent").count() >= n


# ---- who may do what --------------------------------------------------------------------------


async def test_cors_allows_only_the_channels_origins(web: str) -> None:
    _channel, key = await make_webchat()
    url = f"{web}/webchat/{key}/sessions"
    async with httpx.AsyncClient(timeout=20) as c:
        preflight = await c.options(
            f"{web}/webchat/{key}/messages",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == ORIGIN
        assert "Origin" in preflight.headers["vary"]
        assert "Authorization" in preflight.headers["access-control-allow-headers"]
        assert "POST" in preflight.headers["access-control-allow-methods"]

        other = await c.options(
            url, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
        )
        assert other.status_code == 403 and "access-control-allow-origin" not in other.headers

        local = await c.post(url, json={}, headers={"Origin": "http://localhost:8080"})
        assert (
            local.status_code == 200
            and local.headers["access-control-allow-origin"] == "http://localhost:8080"
        )

        refused = await c.post(url, json={}, headers={"Origin": "https://evil.example"})
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "ORIGIN_NOT_ALLOWED"
        assert "access-control-allow-origin" not in refused.headers
        # A sandboxed page (Origin: null) or a look-alike subdomain is another origin.
        for origin in ("null", "https://shop.example.com.evil.example", "http://shop.example.com"):
            assert (await c.post(url, json={}, headers={"Origin": origin})).status_code == 403


async def test_errors_404_401_413_400(web: str) -> None:
    channel, key = await make_webchat()
    _disabled, disabled_key = await make_webchat(enabled=False)
    session = await start_session(web, key)
    token = session["visitor_token"]
    async with client() as c:
        unknown = await c.post(f"{web}/webchat/wc_{'x' * 32}/sessions", json={})
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "UNKNOWN_WIDGET"
        assert (await c.post(f"{web}/webchat/{disabled_key}/sessions", json={})).status_code == 404

        missing = await c.post(f"{web}/webchat/{key}/messages", json={"client_message_id": "a", "text": "hi"})
        assert missing.status_code == 401 and missing.json()["error"]["code"] == "MISSING_TOKEN"
        forged = jwt.encode(
            {
                "aud": "pytake-webchat",
                "iss": "pytake",
                "sub": "v_x",
                "ch": channel.id,
                "exp": int(time.time()) + 60,
            },
            "not-the-channel-secret-not-the-channel-secret",
        )
        bad = await c.get(f"{web}/webchat/{key}/messages", headers=bearer(forged))
        assert bad.status_code == 401 and bad.json()["error"]["code"] == "BAD_TOKEN"
        site = await webchat_sites.find_site(key)
        old, _ = webchat_tokens.issue_visitor_token(
            site, webchat_tokens.Visitor("v_old", None, None, None), now=int(time.time()) - 31 * 86400
        )
        expired = await c.get(f"{web}/webchat/{key}/events", headers=bearer(old))
        assert expired.status_code == 401 and expired.json()["error"]["code"] == "TOKEN_EXPIRED"
        # A token for one channel is worth nothing on another.
        _, other_key = await make_webchat()
        elsewhere = await c.get(f"{web}/webchat/{other_key}/messages", headers=bearer(token))
        assert elsewhere.status_code == 401

        big = await c.post(
            f"{web}/webchat/{key}/messages",
            json={"client_message_id": "big", "text": "x" * 17_000},
            headers=bearer(token),
        )
        assert big.status_code == 413 and big.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
        assert big.headers["access-control-allow-origin"] == ORIGIN  # the widget can read why

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit still holds
            for _ in range(20):
                yield b"x" * 1024

        streamed = await c.post(f"{web}/webchat/{key}/messages", content=chunks(), headers=bearer(token))
        assert streamed.status_code == 413

        broken = await c.post(
            f"{web}/webchat/{key}/messages",
            content=b'{"client_message_id": ',
            headers={**bearer(token), "Content-Type": "application/json"},
        )
        assert broken.status_code == 400 and broken.json()["error"]["code"] == "BAD_JSON"
        for body in (
            {"text": "no id"},
            {"client_message_id": "a:b", "text": "colon"},
            {"client_message_id": "e"},
        ):
            r = await c.post(f"{web}/webchat/{key}/messages", json=body, headers=bearer(token))
            assert r.status_code == 400 and r.json()["error"]["code"] == "BAD_USER_INPUT", body
        bad_cursor = await c.get(
            f"{web}/webchat/{key}/messages", params={"after": "42"}, headers=bearer(token)
        )
        assert bad_cursor.status_code == 400
    assert await Message.filter(channel_id=channel.id).count() == 0


async def test_rate_limits_per_visitor_and_per_ip(web: str, monkeypatch: pytest.MonkeyPatch) -> None:
    channel, key = await make_webchat()
    session = await start_session(web, key)
    monkeypatch.setattr(webchat_api, "LIMITS", webchat_api.Limits(visitor_messages=3))
    # 8 tries against 3 a minute: refused at least twice even if the minute turns over meanwhile.
    responses = [await post_message(web, key, session["visitor_token"], f"spam {i}") for i in range(8)]
    limited = [r for r in responses if r.status_code == 429]
    assert len(limited) >= 2 and {r.status_code for r in responses} == {201, 429}
    assert 1 <= int(limited[0].headers["retry-after"]) <= 60
    assert limited[0].json()["error"]["code"] == "RATE_LIMITED"
    assert limited[0].headers["access-control-allow-origin"] == ORIGIN  # the widget can read Retry-After
    assert "Retry-After" in limited[0].headers["access-control-expose-headers"]
    assert await Message.filter(channel_id=channel.id).count() == 8 - len(limited)  # refused: not stored
    # Another visitor is not held back by the first one's flood.
    other = await start_session(web, key)
    assert (await post_message(web, key, other["visitor_token"], "hello")).status_code == 201

    # Per address (X-Forwarded-For from the loopback proxy): 12 requests against 5 a minute.
    monkeypatch.setattr(webchat_api, "LIMITS", webchat_api.Limits(ip_requests=5))
    address = f"203.0.113.{uuid.uuid4().int % 250 + 1}"
    async with client(headers={"X-Forwarded-For": address}) as c:
        statuses = [
            (
                await c.get(f"{web}/webchat/{key}/messages", headers=bearer(session["visitor_token"]))
            ).status_code
            for _ in range(12)
        ]
    assert statuses[0] == 200 and statuses.count(429) >= 2
    async with client(headers={"X-Forwarded-For": "198.51.100.9"}) as c:
        r = await c.get(f"{web}/webchat/{key}/messages", headers=bearer(session["visitor_token"]))
        assert r.status_code == 200  # another address is unaffected


async def test_a_visitor_cannot_read_another_visitors_conversation(web: str) -> None:
    channel, key = await make_webchat()
    alice, alice_conversation = await visitor_with_conversation(web, key, "Alice's secret order 1234")
    agent = await make_user(Role.AGENT, name="Alex Agent")
    token = await login(web, agent)
    await agent_reply(web, token, alice_conversation, "Alice, your order ships today")
    await eventually(lambda: _count_sent(channel.id, 1))
    bob = await start_session(web, key, visitor_id=alice["visitor_id"])  # knowing her id is not enough
    assert bob["visitor_id"] != alice["visitor_id"]
    bob_token = bob["visitor_token"]
    async with client() as c:
        history = await c.get(f"{web}/webchat/{key}/messages", headers=bearer(bob_token))
        assert history.json()["messages"] == []
        # A cursor naming her conversation replays nothing of it.
        forged = await c.get(
            f"{web}/webchat/{key}/messages",
            params={"after": f"s{alice_conversation}.0"},
            headers=bearer(bob_token),
        )
        assert forged.json()["messages"] == [] and "Alice" not in forged.text
        reply_id = (await Message.get(channel_id=channel.id, direction="outbound")).id
        read = await c.post(
            f"{web}/webchat/{key}/read", json={"up_to_message_id": reply_id}, headers=bearer(bob_token)
        )
        assert read.json() == {"updated": 0}
    async with events(web, key, bob_token, after=f"s{alice_conversation}.0") as stream:
        with pytest.raises(TimeoutError):
            await stream.next_message(timeout=1.5)
    # Bob writing opens his own conversation, not Alice's.
    r = await post_message(web, key, bob_token, "Bob here")
    assert r.json()["conversation_id"] != alice_conversation
    assert str((await Message.get(id=reply_id)).status) == "sent"


async def test_the_generic_webhook_route_refuses_webchat(web: str) -> None:
    channel, _key = await make_webchat()
    async with httpx.AsyncClient(timeout=20) as c:
        body = {"client_message_id": "x", "text": "sneaky"}
        r = await c.post(f"{web}/webhooks/webchat/{channel.id}", json=body)
    assert r.status_code == 401
    assert await Message.filter(channel_id=channel.id).count() == 0


# ---- the widget script ------------------------------------------------------------------------


async def test_widget_script_is_served_cacheable(web: str) -> None:
    async with httpx.AsyncClient(timeout=20) as c:
        r = await c.get(f"{web}/webchat/widget.js")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/javascript")
        assert len(r.content) < 15_000
        script = r.text
        for path in (
            '"/sessions"',
            '"/messages"',
            '"/events"',
            '"/read"',
            "Last-Event-ID",
            "client_message_id",
        ):
            assert path in script, path
        assert "attachShadow" in script and "data-key" in script
        etag = r.headers["etag"]
        assert "max-age" in r.headers["cache-control"]
        cached = await c.get(f"{web}/webchat/widget.js", headers={"If-None-Match": etag})
        assert cached.status_code == 304 and cached.content == b""
        missing = await c.get(f"{web}/webchat/nothing-here")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"


# ---- the connector ----------------------------------------------------------------------------


def test_connector_config_and_generic_route() -> None:
    connector = get_connector(Platform.WEBCHAT)
    assert connector.capabilities.reply_window is None and not connector.capabilities.can_initiate
    assert connector.capabilities.buttons and connector.capabilities.read_statuses
    config, secrets = connector.prepare_new_channel({"allowed_origins": [ORIGIN]}, {})  # type: ignore[attr-defined]
    assert config["public_key"].startswith("wc_") and len(secrets["visitor_token_secret"]) >= 32
    kept, _ = connector.prepare_new_channel({"public_key": config["public_key"]}, secrets)  # type: ignore[attr-defined]
    assert kept["public_key"] == config["public_key"]
    assert connector.validate_config(config, secrets) == []
    problems = connector.validate_config(
        {**config, "allowed_origins": ["https://shop.example.com/", "shop.example.com", "ftp://x.example"]},
        secrets,
    )
    assert problems == [
        "These allowed origins are not of the form scheme://host[:port] (no path, no trailing slash): "
        "'https://shop.example.com/', 'shop.example.com', 'ftp://x.example'."
    ]
    problems = connector.validate_config(
        {"public_key": "nope", "color": "blue"}, {"visitor_token_secret": "short"}
    )
    assert len(problems) == 4
    assert any("allowed_origins" in p for p in problems) and any("#2563eb" in p for p in problems)
    assert normalise_origin("HTTPS://Shop.Example.com:443") == "https://shop.example.com"
    assert normalise_origin("http://localhost:8080") == "http://localhost:8080"
    assert normalise_origin("http://[::1]:3000") == "http://[::1]:3000"
    for bad in ("null", "https://", "https://a.example/path", "https://a.example:x", " https://a.example"):
        assert normalise_origin(bad) is None, bad

    creds = ChannelCredentials(channel_id=1, config=config, secrets=secrets)
    request = WebhookRequest("POST", "https://x/webhooks/webchat/1", {}, {}, b"{}")
    assert connector.handshake(request, creds) is None
    assert connector.verify(request, creds, now=time.time()) is False


async def test_connector_send_acknowledges_with_the_webchat_id() -> None:
    connector = get_connector(Platform.WEBCHAT)
    creds = ChannelCredentials(channel_id=1, config={}, secrets={})
    async with httpx.AsyncClient() as http:
        result = await connector.send(
            http,
            creds,
            OutboundMessage(recipient_id="v_1", kind=MessageKind.TEXT, idempotency_key="77", text="hi"),
        )
        assert result.platform_message_id == "webchat:77"
        from connectors.base import SendError

        with pytest.raises(SendError) as too_long:
            await connector.send(
                http,
                creds,
                OutboundMessage(
                    recipient_id="v_1", kind=MessageKind.TEXT, idempotency_key="78", text="x" * 5000
                ),
            )
        assert too_long.value.code == "too_long" and not too_long.value.retryable


def test_cursor_round_trip() -> None:
    assert webchat_stream.encode_cursor({}) == "s"
    assert webchat_stream.decode_cursor("s") == {}
    assert webchat_stream.decode_cursor(webchat_stream.encode_cursor({19: 400, 12: 345})) == {
        12: 345,
        19: 400,
    }
    assert webchat_stream.decode_cursor(None) is None
    for bad in ("12", "s12", "s12.x", "sx.1"):
        with pytest.raises(webchat_errors.WebchatError):
            webchat_stream.decode_cursor(bad)
