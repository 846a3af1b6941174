"""Discord: interactions (Ed25519) through the real webhook endpoint, sends against the fake REST
API, the Gateway client against the fake Gateway (identify, heartbeats, resume without losing or
doubling a message, op 7, op 9, fatal closes), and `run_gateways` end to end on the database:
messages pushed over the Gateway are stored once, and two runners never hold one channel."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from connectors.base import (
    Attachment,
    Button,
    ChannelCredentials,
    MalformedPayload,
    MessageKind,
    OutboundMessage,
    ParsedWebhook,
    SendError,
    WebhookRequest,
)
from connectors.discord import DEFAULT_INTENTS, MESSAGE_CONTENT, discord, parse_gateway_dispatch
from connectors.discord_gateway import GatewayClient, GatewayFatal, gateway_url_with_query
from connectors.fakes import signing
from core.db import asyncpg_dsn
from tests.conftest import DATABASE_URL, SAMPLES
from tests.fakes.discord import RATE_LIMITED, FakeDiscord, attachment_object, discord_error, message_data
from tests.helpers import ConnectorCase

DC = SAMPLES / "discord"
VECTORS = [
    v for v in json.loads((SAMPLES / "signature_vectors.json").read_text()) if v["platform"] == "discord"
]
PUBLIC_KEY = VECTORS[0]["public_key_hex"]
APP_ID = "1200000000000000001"  # the samples' application
USER = "80351110224678912"  # Jane, in the samples
CHANNEL_ID = "1100000000000000002"
CONFIG = {"application_id": APP_ID, "public_key": PUBLIC_KEY}
CREDS = ChannelCredentials(channel_id=7, config=CONFIG, secrets={"bot_token": "bot-token-1"})
FAST = {"reconnect_delay": (0.02, 0.2), "invalid_session_delay": (0.01, 0.05), "open_timeout": 5.0}


def sample(name: str) -> dict[str, Any]:
    return json.loads((DC / name).read_text())


def request(body: bytes, headers: dict[str, str] | None = None) -> WebhookRequest:
    return WebhookRequest("POST", "https://example.com/webhooks/discord/7", headers or {}, {}, body)


def vector_request(vector: dict[str, Any]) -> WebhookRequest:
    headers = {k.lower(): v for k, v in vector["headers"].items()}
    return request((SAMPLES / vector["body_file"]).read_bytes(), headers)


def signed(body: bytes, seed: str, now: float) -> WebhookRequest:
    return request(body, signing.discord(body, seed, now, "").headers)


def interaction_ts(name: str) -> float:
    return float(
        next(v for v in VECTORS if v["body_file"].endswith(name))["headers"]["X-Signature-Timestamp"]
    )


# ---- interactions: samples ---------------------------------------------------------------------


def test_ping_sample_is_answered_with_pong_and_stores_nothing() -> None:
    parsed = discord.parse(request((DC / "interaction_ping.json").read_bytes()), CREDS)
    assert parsed.messages == () and parsed.edits == () and parsed.statuses == ()
    assert parsed.reply is not None
    assert (parsed.reply.status, parsed.reply.content_type) == (200, "application/json")
    assert json.loads(parsed.reply.body) == sample("interaction_response_pong.json")


def test_application_command_sample() -> None:
    parsed = discord.parse(request((DC / "interaction_application_command.json").read_bytes()), CREDS)
    (m,) = parsed.messages
    assert m.platform_message_id == "1300000000000000002"
    assert (m.kind, m.text) == (MessageKind.TEXT, "/ask question: Does it come in blue?")
    assert (m.sender_id, m.sender_name, m.reply_address) == (USER, "Jane", CHANNEL_ID)
    assert m.metadata["command"] == "ask"
    assert m.metadata["command_id"] == "1200000000000000010"
    assert m.metadata["options"] == {"question": "Does it come in blue?"}
    assert m.metadata["guild_id"] == "1100000000000000001"
    # The interaction's time is in its snowflake: (id >> 22) ms after 2015-01-01.
    assert m.sent_at == datetime.fromtimestamp(((1300000000000000002 >> 22) + 1420070400000) / 1000, UTC)
    reply = json.loads(parsed.reply.body)  # type: ignore[union-attr]
    assert reply["type"] == 4 and reply["data"]["flags"] == 64  # shown to the user only
    assert reply["data"]["content"]
    custom = discord.parse(
        request((DC / "interaction_application_command.json").read_bytes()),
        ChannelCredentials(7, {**CONFIG, "command_reply": "We are on it."}, {}),
    )
    assert json.loads(custom.reply.body)["data"]["content"] == "We are on it."  # type: ignore[union-attr]


def test_subcommand_in_a_dm_has_the_user_outside_member() -> None:
    body = sample("interaction_application_command.json")
    user = body.pop("member")["user"]
    body.pop("guild_id")
    body["user"] = user
    body["data"]["options"] = [
        {"name": "order", "type": 1, "options": [{"name": "number", "type": 4, "value": 1234}]}
    ]
    (m,) = discord.parse(request(json.dumps(body).encode()), CREDS).messages
    assert (m.sender_id, m.text) == (USER, "/ask order number: 1234")
    assert m.metadata["command"] == "ask order" and "guild_id" not in m.metadata


def test_button_press_is_a_postback_with_its_label_and_a_deferred_update() -> None:
    body = sample("interaction_application_command.json")
    body.update(id="1300000000000000009", type=3)
    body["data"] = {"custom_id": "confirm_order", "component_type": 2}
    body["message"] = {
        "id": "1310000000000000004",
        "components": [
            {
                "type": 1,
                "components": [
                    {"type": 2, "style": 1, "label": "Confirm", "custom_id": "confirm_order"},
                    {"type": 2, "style": 4, "label": "Cancel", "custom_id": "cancel_order"},
                ],
            }
        ],
    }
    parsed = discord.parse(request(json.dumps(body).encode()), CREDS)
    (m,) = parsed.messages
    assert (m.kind, m.text, m.platform_message_id) == (MessageKind.POSTBACK, "Confirm", "1300000000000000009")
    assert m.metadata["payload"] == "confirm_order"
    assert m.reply_to_platform_id == "1310000000000000004"
    assert json.loads(parsed.reply.body) == {"type": 6}  # type: ignore[union-attr]


def test_malformed_interactions() -> None:
    for body in (b"not json", b"[]", b'{"type": "2"}', b'{"type": 99, "id": "1"}', b'{"type": 2, "id": "1"}'):
        with pytest.raises(MalformedPayload):
            discord.parse(request(body), CREDS)


# ---- signatures ----------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS, ids=[f"{v['body_file']}-{v['valid']}" for v in VECTORS])
def test_signature_vectors(vector: dict[str, Any]) -> None:
    channel = ChannelCredentials(7, {**CONFIG, "public_key": vector["public_key_hex"]}, {})
    now = float(vector["headers"]["X-Signature-Timestamp"])
    assert discord.verify(vector_request(vector), channel, now=now) is vector["valid"]


def test_tampered_missing_wrong_key_and_replayed_are_refused() -> None:
    good = vector_request(VECTORS[0])
    now = interaction_ts("interaction_ping.json")
    assert discord.verify(good, CREDS, now=now)
    tampered = request(good.body.replace(b'"type": 1', b'"type": 2'), dict(good.headers))
    assert not discord.verify(tampered, CREDS, now=now)
    for missing in ("x-signature-ed25519", "x-signature-timestamp"):
        headers = {k: v for k, v in good.headers.items() if k != missing}
        assert not discord.verify(request(good.body, headers), CREDS, now=now)
    other_key = signing.discord_public_key(b"another app")
    assert not discord.verify(good, ChannelCredentials(7, {**CONFIG, "public_key": other_key}, {}), now=now)
    assert not discord.verify(good, ChannelCredentials(7, {"public_key": "zz" * 32}, {}), now=now)
    assert not discord.verify(good, ChannelCredentials(7, {}, {}), now=now)
    # The signed timestamp must be within 5 minutes of now, either way.
    assert discord.verify(good, CREDS, now=now + 299)
    assert not discord.verify(good, CREDS, now=now + 301)
    assert not discord.verify(good, CREDS, now=now - 301)


def test_signing_round_trip_with_a_fresh_timestamp() -> None:
    seed = "round-trip"
    channel = ChannelCredentials(7, {**CONFIG, "public_key": signing.discord_public_key(seed.encode())}, {})
    body = (DC / "interaction_application_command.json").read_bytes()
    now = time.time()
    assert discord.verify(signed(body, seed, now), channel, now=now)
    assert not discord.verify(signed(body, seed, now - 600), channel, now=now)


# ---- configuration -------------------------------------------------------------------------------


def test_config_validation_messages() -> None:
    assert discord.validate_config(CONFIG, {"bot_token": "t"}) == []
    problems = discord.validate_config({}, {})
    assert problems == [
        "The application ID (application_id) is required.",
        "The application's public key (public_key) is required.",
        "The bot token (bot_token) is required.",
    ]
    bad = {
        "application_id": 1200000000000000001,
        "public_key": "abc",
        "api_base": "discord.com",
        "gateway_url": "https://gateway.discord.gg",
        "intents": DEFAULT_INTENTS & ~MESSAGE_CONTENT,
        "guild_channel_ids": [123],
    }
    problems = discord.validate_config(bad, {"bot_token": "  "})
    assert len(problems) == 7, problems
    assert any("MESSAGE_CONTENT" in p for p in problems)
    assert all(p.endswith(".") for p in problems)
    assert discord.validate_config({**CONFIG, "intents": "many"}, {"bot_token": "t"}) == [
        "The gateway intents (intents) must be a non-negative whole number."
    ]


def test_capabilities() -> None:
    caps = discord.capabilities
    assert (caps.can_initiate, caps.buttons, caps.edits, caps.delivery_statuses) == (False, True, True, False)
    assert discord.max_text_length == 2000 and discord.secret_names == ("bot_token",)
    assert discord.handshake(request(b"{}"), CREDS) is None


# ---- gateway dispatches: samples -------------------------------------------------------------------


def test_gateway_message_create_sample() -> None:
    (m,) = parse_gateway_dispatch(sample("gateway_message_create.json"), CREDS).messages
    assert m.platform_message_id == "1310000000000000001"
    assert (m.kind, m.text) == (MessageKind.TEXT, "Hello bot")
    assert (m.sender_id, m.sender_name, m.reply_address) == (USER, "Jane", CHANNEL_ID)
    assert m.sent_at == datetime(2026, 11, 25, 1, 2, 3, 456000, tzinfo=UTC)
    assert m.reply_to_platform_id is None and m.attachments == ()
    assert m.metadata == {"guild_id": "1100000000000000001"}


def test_gateway_attachment_sample() -> None:
    (m,) = parse_gateway_dispatch(sample("gateway_message_create_attachment.json"), CREDS).messages
    assert (m.kind, m.text, m.platform_message_id) == (
        MessageKind.IMAGE,
        "Is this the blue one?",
        "1310000000000000002",
    )
    (a,) = m.attachments
    assert (a.kind, a.media_id, a.mime_type, a.filename, a.size) == (
        MessageKind.IMAGE,
        "1310000000000000100",
        "image/jpeg",
        "photo.jpg",
        93847,
    )
    assert a.url is not None and a.url.startswith("https://cdn.discordapp.com/attachments/")


def test_gateway_update_sample_is_an_edit() -> None:
    parsed = parse_gateway_dispatch(sample("gateway_message_update.json"), CREDS)
    assert parsed.messages == ()
    (e,) = parsed.edits
    assert (e.platform_message_id, e.text, e.deleted) == ("1310000000000000001", "Hello bot (edited)", False)
    assert e.occurred_at == datetime(2026, 11, 25, 1, 3, tzinfo=UTC)
    unfurl = sample("gateway_message_update.json")
    unfurl["d"]["edited_timestamp"] = None  # a link preview arriving, not an edit
    assert parse_gateway_dispatch(unfurl, CREDS) == ParsedWebhook()


def test_gateway_reaction_sample() -> None:
    (m,) = parse_gateway_dispatch(sample("gateway_message_reaction_add.json"), CREDS).messages
    assert m.kind is MessageKind.REACTION
    assert m.metadata == {
        "emoji": "👍",
        "target_platform_id": "1310000000000000003",
        "guild_id": "1100000000000000001",
    }
    assert (m.sender_id, m.sender_name, m.reply_address) == (USER, "Jane", CHANNEL_ID)
    # No id of its own: a synthetic one, the same when a resumed session replays the event (same s).
    assert m.platform_message_id == f"1310000000000000003:reaction:{USER}:👍:add:45"
    again = parse_gateway_dispatch(sample("gateway_message_reaction_add.json"), CREDS).messages[0]
    assert again.platform_message_id == m.platform_message_id
    removed = sample("gateway_message_reaction_add.json")
    removed.update(t="MESSAGE_REACTION_REMOVE", s=46)
    del removed["d"]["member"]
    (r,) = parse_gateway_dispatch(removed, CREDS).messages
    assert r.metadata["emoji"] == "" and r.metadata["removed_emoji"] == "👍"
    assert r.platform_message_id != m.platform_message_id


def test_gateway_reply_delete_and_ignored_events() -> None:
    reply = sample("gateway_message_create.json")
    reply["d"].update(
        id="1310000000000000009", type=19, message_reference={"type": 0, "message_id": "1310000000000000004"}
    )
    (m,) = parse_gateway_dispatch(reply, CREDS).messages
    assert m.reply_to_platform_id == "1310000000000000004"
    deleted = parse_gateway_dispatch(
        {
            "op": 0,
            "t": "MESSAGE_DELETE",
            "s": 50,
            "d": {"id": "1310000000000000001", "channel_id": CHANNEL_ID},
        },
        CREDS,
    )
    (e,) = deleted.edits
    assert (e.platform_message_id, e.deleted, e.text) == ("1310000000000000001", True, None)
    # Bots, our own application, webhooks and system messages are never customers.
    for change in (
        {"author": {**reply["d"]["author"], "bot": True}},
        {"author": {**reply["d"]["author"], "id": APP_ID}},
        {"webhook_id": "1"},
        {"type": 7},  # "user joined the server"
    ):
        payload = sample("gateway_message_create.json")
        payload["d"].update(change)
        assert parse_gateway_dispatch(payload, CREDS) == ParsedWebhook(), change
    own_reaction = sample("gateway_message_reaction_add.json")
    own_reaction["d"]["user_id"] = APP_ID
    assert parse_gateway_dispatch(own_reaction, CREDS) == ParsedWebhook()
    for event in ("READY", "TYPING_START", "GUILD_CREATE"):
        assert parse_gateway_dispatch({"op": 0, "t": event, "s": 1, "d": {}}, CREDS) == ParsedWebhook()


def test_guild_channel_allow_list() -> None:
    only_other = ChannelCredentials(7, {**CONFIG, "guild_channel_ids": ["999"]}, {})
    assert parse_gateway_dispatch(sample("gateway_message_create.json"), only_other) == ParsedWebhook()
    dm = sample("gateway_message_create.json")
    del dm["d"]["guild_id"], dm["d"]["member"]
    assert len(parse_gateway_dispatch(dm, only_other).messages) == 1  # DMs always come through
    listed = ChannelCredentials(7, {**CONFIG, "guild_channel_ids": [CHANNEL_ID]}, {})
    assert len(parse_gateway_dispatch(sample("gateway_message_create.json"), listed).messages) == 1


def test_fake_speaks_the_samples_shapes() -> None:
    """What the fake sends and answers has the fields of the real payloads."""
    created = sample("gateway_message_create.json")["d"]
    built = message_data(
        channel_id=CHANNEL_ID, author=created["author"], content="x", guild_id=created["guild_id"]
    )
    assert set(built) == set(created)
    assert set(built["member"]) == set(created["member"])
    attachment = sample("gateway_message_create_attachment.json")["d"]["attachments"][0]
    assert set(attachment_object("a.jpg", "image/jpeg", CHANNEL_ID)) <= set(attachment)
    assert sample("send_error_429.json") == RATE_LIMITED
    assert sample("send_error_50007.json") == discord_error(50007, "Cannot send messages to this user")


# ---- sending against the fake REST API ---------------------------------------------------------


@pytest.fixture(scope="module")
async def fake_rest() -> AsyncIterator[tuple[FakeDiscord, str]]:
    fake = FakeDiscord(bot_token="rest-token")
    async with fake.serve() as base_url:
        yield fake, base_url


@pytest.fixture
async def rest(fake_rest: tuple[FakeDiscord, str]) -> AsyncIterator[tuple[FakeDiscord, ChannelCredentials]]:
    fake, base_url = fake_rest
    fake.sent.clear()
    fake.dm_opens.clear()
    fake._failures.clear()
    creds = ChannelCredentials(7, {**CONFIG, "api_base": base_url}, {"bot_token": "rest-token"})
    yield fake, creds


def out(recipient: str, text: str | None = "Hi Jane, how can we help?", **kw: Any) -> OutboundMessage:
    kw.setdefault("kind", MessageKind.TEXT)
    return OutboundMessage(
        recipient_id=recipient, text=text, idempotency_key=str(uuid.uuid4().int)[:12], **kw
    )


async def test_send_text_reply_like_the_sample(rest: tuple[FakeDiscord, ChannelCredentials]) -> None:
    fake, creds = rest
    channel_id = fake.add_channel()
    fake.channels[channel_id].messages.add("1310000000000000001")
    async with httpx.AsyncClient() as http:
        result = await discord.send(http, creds, out(channel_id, reply_to_platform_id="1310000000000000001"))
    (body,) = fake.sent
    expected = sample("send_text_request.json")
    assert body["content"] == expected["content"]
    assert body["allowed_mentions"] == expected["allowed_mentions"]
    assert body["message_reference"]["message_id"] == expected["message_reference"]["message_id"]
    assert result.platform_message_id == body["_fake"]["id"] and body["_fake"]["channel_id"] == channel_id


async def test_send_media_and_buttons(rest: tuple[FakeDiscord, ChannelCredentials]) -> None:
    fake, creds = rest
    channel_id = fake.add_channel()
    media = out(
        channel_id,
        "Here it is in blue",
        kind=MessageKind.IMAGE,
        attachments=(
            Attachment(MessageKind.IMAGE, url="https://cdn.example.com/blue.jpg"),
            Attachment(MessageKind.DOCUMENT, url="https://cdn.example.com/specs.pdf", filename="specs.pdf"),
        ),
    )
    buttons = out(
        channel_id,
        "Shall we ship it?",
        buttons=(
            Button("yes", "Yes, ship it"),
            Button("no", "No"),
            Button("faq", "FAQ", url="https://example.com"),
        ),
    )
    async with httpx.AsyncClient() as http:
        await discord.send(http, creds, media)
        await discord.send(http, creds, buttons)
    first, second = fake.sent
    assert first["content"] == "Here it is in blue"
    assert first["embeds"] == [
        {"image": {"url": "https://cdn.example.com/blue.jpg"}},
        {"title": "specs.pdf", "url": "https://cdn.example.com/specs.pdf"},
    ]
    (row,) = second["components"]
    assert row["type"] == 1
    assert [(b["label"], b["style"], b.get("custom_id"), b.get("url")) for b in row["components"]] == [
        ("Yes, ship it", 1, "yes", None),
        ("No", 1, "no", None),
        ("FAQ", 5, None, "https://example.com"),
    ]
    many = out(channel_id, "pick", buttons=tuple(Button(str(i), f"Option {i}") for i in range(7)))
    async with httpx.AsyncClient() as http:
        await discord.send(http, creds, many)
    assert [len(r["components"]) for r in fake.sent[-1]["components"]] == [5, 2]


async def test_same_idempotency_key_posts_once(rest: tuple[FakeDiscord, ChannelCredentials]) -> None:
    """A retry after a timeout carries the same nonce: Discord returns the first message."""
    fake, creds = rest
    channel_id = fake.add_channel()
    message = out(channel_id)
    async with httpx.AsyncClient() as http:
        first = await discord.send(http, creds, message)
        again = await discord.send(http, creds, message)
    assert first == again and len(fake.sent) == 1


async def test_send_to_a_user_opens_the_dm_channel(rest: tuple[FakeDiscord, ChannelCredentials]) -> None:
    fake, creds = rest
    async with httpx.AsyncClient() as http:
        await discord.send(http, creds, out(USER))
    assert fake.dm_opens == [USER]
    assert fake.sent[0]["_fake"]["channel_id"] == fake.dm_channel(USER)


async def test_send_errors(rest: tuple[FakeDiscord, ChannelCredentials]) -> None:
    fake, creds = rest
    channel_id = fake.add_channel()
    async with httpx.AsyncClient() as http:
        fake.fail_next(429)
        with pytest.raises(SendError) as rate:
            await discord.send(http, creds, out(channel_id))
        assert rate.value.retryable and rate.value.retry_after == pytest.approx(0.672)
        fake.fail_next(
            429, {"message": "You are being rate limited.", "global": True}, headers={"Retry-After": "3"}
        )
        with pytest.raises(SendError) as rate:
            await discord.send(http, creds, out(channel_id))
        assert rate.value.retryable and rate.value.retry_after == 3.0 and "whole bot" in rate.value.reason

        dm = fake.dm_channel("555000000000000001")
        fake.blocked_dms.add("555000000000000001")
        with pytest.raises(SendError) as blocked:
            await discord.send(http, creds, out(dm))
        assert (blocked.value.code, blocked.value.retryable) == ("50007", False)
        assert "direct messages" in blocked.value.reason

        fake.no_permission.add(channel_id)
        with pytest.raises(SendError) as perms:
            await discord.send(http, creds, out(channel_id))
        assert (perms.value.code, perms.value.retryable, perms.value.affects_channel) == (
            "50013",
            False,
            True,
        )
        assert "Send Messages" in perms.value.reason
        fake.no_permission.discard(channel_id)

        # Unknown channel, and no such user to open a DM with either: the channel's error stands.
        fake.fail_next(404, discord_error(10003, "Unknown Channel"))
        fake.fail_next(404, discord_error(10013, "Unknown User"))
        with pytest.raises(SendError) as unknown:
            await discord.send(http, creds, out("1100000000000000999"))
        assert (unknown.value.code, unknown.value.retryable) == ("10003", False)

        fake.fail_next(503)
        with pytest.raises(SendError) as down:
            await discord.send(http, creds, out(channel_id))
        assert down.value.retryable

        bad_token = ChannelCredentials(7, creds.config, {"bot_token": "wrong"})
        with pytest.raises(SendError) as auth:
            await discord.send(http, bad_token, out(channel_id))
        assert (auth.value.code, auth.value.retryable, auth.value.affects_channel) == ("401", False, True)
        assert "token" in auth.value.reason

        before = fake.requests
        with pytest.raises(SendError) as long:
            await discord.send(http, creds, out(channel_id, "x" * 2001))
        assert (long.value.code, long.value.retryable) == ("too_long", False)
        assert fake.requests == before  # refused before any request
        with pytest.raises(SendError) as no_url:
            await discord.send(
                http,
                creds,
                out(
                    channel_id,
                    None,
                    kind=MessageKind.IMAGE,
                    attachments=(Attachment(MessageKind.IMAGE, media_id="1"),),
                ),
            )
        assert not no_url.value.retryable
    assert fake.sent == []


async def test_fake_refuses_what_discord_refuses(rest: tuple[FakeDiscord, ChannelCredentials]) -> None:
    fake, creds = rest
    channel_id = fake.add_channel()
    url = f"{creds.config['api_base']}/api/v10/channels/{channel_id}/messages"
    auth = {"Authorization": "Bot rest-token"}
    async with httpx.AsyncClient() as http:
        too_long = await http.post(url, json={"content": "x" * 2001}, headers=auth)
        assert too_long.status_code == 400 and too_long.json()["code"] == 50035
        assert "content" in too_long.json()["errors"]
        empty = await http.post(url, json={"content": ""}, headers=auth)
        assert empty.json()["code"] == 50006
        bearer = await http.post(url, json={"content": "hi"}, headers={"Authorization": "Bearer rest-token"})
        assert bearer.status_code == 401
        button = {"type": 1, "components": [{"type": 2, "style": 1, "label": "no id"}]}
        assert (
            await http.post(url, json={"content": "hi", "components": [button]}, headers=auth)
        ).status_code == 400
    assert fake.sent == []


# ---- the Gateway client against the fake Gateway ------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, int | None, dict[str, Any]]] = []
        self.sessions: list[tuple[str | None, int | None, str | None]] = []
        self.fail_next = 0

    async def on_dispatch(self, event: str, data: dict[str, Any], seq: int | None) -> None:
        if self.fail_next and event == "MESSAGE_CREATE":
            self.fail_next -= 1
            raise RuntimeError("database unavailable")
        self.events.append((event, seq, data))

    async def on_session(self, session_id: str | None, seq: int | None, url: str | None) -> None:
        self.sessions.append((session_id, seq, url))

    def contents(self) -> list[str]:
        return [d["content"] for e, _, d in self.events if e == "MESSAGE_CREATE"]


async def until(check: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def gateway(
    token: str = "gw-token", **fake_kw: Any
) -> AsyncIterator[tuple[FakeDiscord, GatewayClient, Recorder, asyncio.Task[None], asyncio.Event]]:
    fake = FakeDiscord(
        bot_token=token, heartbeat_interval_ms=fake_kw.pop("heartbeat_interval_ms", 100), **fake_kw
    )
    recorder = Recorder()
    async with fake.serve_gateway() as url:
        client = GatewayClient(
            "gw-token",
            DEFAULT_INTENTS,
            url=url,
            on_dispatch=recorder.on_dispatch,
            on_session=recorder.on_session,
            **FAST,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(client.run(stop))
        try:
            yield fake, client, recorder, task, stop
        finally:
            stop.set()
            with contextlib.suppress(GatewayFatal):
                await asyncio.wait_for(task, 10)


def test_gateway_url_gets_version_and_encoding() -> None:
    assert (
        gateway_url_with_query("wss://gateway.discord.gg") == "wss://gateway.discord.gg/?v=10&encoding=json"
    )
    assert gateway_url_with_query("wss://g.example/?v=9&x=1") == "wss://g.example/?v=10&x=1&encoding=json"


async def test_identify_heartbeat_and_ready() -> None:
    async with gateway() as (fake, client, recorder, _task, _stop):
        await asyncio.wait_for(client.ready.wait(), 5)
        (identify,) = fake.identifies
        assert identify["token"] == "gw-token" and identify["intents"] == DEFAULT_INTENTS
        assert set(identify["properties"]) == {"os", "browser", "device"}
        assert client.session_id in fake.sessions and client.resume_url == fake.gateway_url
        assert recorder.sessions[0] == (client.session_id, 1, fake.gateway_url)
        await until(lambda: len(fake.heartbeats) >= 3)  # 100 ms interval
        assert fake.heartbeats[-1] == 1  # the last sequence seen
        data = await fake.message_create(user_id=USER, content="hello")
        await until(lambda: recorder.contents() == ["hello"])
        assert recorder.events[-1][1] == 2 and recorder.events[-1][2]["id"] == data["id"]
        await until(lambda: 2 in fake.heartbeats)
        assert recorder.sessions[-1] == (client.session_id, 2, fake.gateway_url)


async def test_resume_after_a_dropped_connection_loses_and_doubles_nothing() -> None:
    async with gateway() as (fake, client, recorder, _task, _stop):
        await asyncio.wait_for(client.ready.wait(), 5)
        session = client.session_id
        await fake.message_create(user_id=USER, content="before")
        await until(lambda: recorder.contents() == ["before"])
        await fake.drop()
        # Sent while the client is away: Discord keeps them for the session and replays them.
        for text in ("while away 1", "while away 2"):
            await fake.message_create(user_id=USER, content=text)
        await until(lambda: len(fake.resumes) == 1 and fake.live == 1)
        await fake.message_create(user_id=USER, content="after")
        await until(lambda: "after" in recorder.contents())
        assert recorder.contents() == ["before", "while away 1", "while away 2", "after"]
        assert fake.resumes[0]["session_id"] == session and fake.resumes[0]["seq"] == 2
        assert len(fake.identifies) == 1 and client.session_id == session
        seqs = [s for e, s, _ in recorder.events if e == "MESSAGE_CREATE"]
        assert seqs == [2, 3, 4, 5]


async def test_op7_reconnect_resumes() -> None:
    async with gateway() as (fake, client, recorder, _task, _stop):
        await asyncio.wait_for(client.ready.wait(), 5)
        await fake.message_create(user_id=USER, content="one")
        await until(lambda: recorder.contents() == ["one"])
        await fake.request_reconnect()
        await until(lambda: len(fake.resumes) == 1 and fake.live == 1)
        await fake.message_create(user_id=USER, content="two")
        await until(lambda: recorder.contents() == ["one", "two"])
        assert len(fake.identifies) == 1 and fake.connections == 2
        assert [e for e, _, _ in recorder.events].count("RESUMED") == 1


async def test_op9_not_resumable_identifies_again_and_resumable_resumes() -> None:
    async with gateway() as (fake, client, recorder, _task, _stop):
        await asyncio.wait_for(client.ready.wait(), 5)
        first = client.session_id
        await fake.invalidate_sessions(resumable=True)
        await until(lambda: len(fake.resumes) == 1 and fake.live == 1)
        assert len(fake.identifies) == 1
        await fake.invalidate_sessions(resumable=False)
        await until(lambda: len(fake.identifies) == 2 and client.ready.is_set())
        assert client.session_id != first and len(fake.resumes) == 1
        assert (None, None, None) in recorder.sessions  # the runner is told to forget the old one
        await fake.message_create(user_id=USER, content="new session")
        await until(lambda: recorder.contents() == ["new session"])


async def test_resume_of_an_unknown_session_falls_back_to_identify() -> None:
    fake = FakeDiscord(bot_token="gw-token", heartbeat_interval_ms=100)
    recorder = Recorder()
    async with fake.serve_gateway() as url:
        client = GatewayClient(
            "gw-token",
            DEFAULT_INTENTS,
            url=url,
            session_id="expired",
            seq=41,
            resume_url=url,
            on_dispatch=recorder.on_dispatch,
            on_session=recorder.on_session,
            **FAST,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(client.run(stop))
        await asyncio.wait_for(client.ready.wait(), 5)
        assert fake.resumes[0]["session_id"] == "expired" and len(fake.identifies) == 1
        stop.set()
        await asyncio.wait_for(task, 5)


async def test_missed_heartbeat_ack_reconnects_and_resumes() -> None:
    async with gateway() as (fake, client, recorder, _task, _stop):
        await asyncio.wait_for(client.ready.wait(), 5)
        fake.ack_heartbeats = False  # a zombie connection: open, but nobody answers
        await until(lambda: len(fake.resumes) >= 1)
        fake.ack_heartbeats = True
        await until(lambda: fake.live == 1 and client.ready.is_set())
        await fake.message_create(user_id=USER, content="still here")
        await until(lambda: recorder.contents() == ["still here"])
        assert len(fake.identifies) == 1


async def test_failed_dispatch_is_delivered_again() -> None:
    """A dispatch the consumer could not handle is not acknowledged: the resume replays it."""
    async with gateway() as (fake, client, recorder, _task, _stop):
        await asyncio.wait_for(client.ready.wait(), 5)
        recorder.fail_next = 1
        await fake.message_create(user_id=USER, content="important")
        await until(lambda: recorder.contents() == ["important"])
        assert len(fake.resumes) == 1 and fake.resumes[0]["seq"] == 1


@pytest.mark.parametrize(
    ("token", "privileged", "code"),
    [("wrong-token", None, 4004), ("gw-token", 0, 4014)],
    ids=["4004-auth-failed", "4014-disallowed-intents"],
)
async def test_fatal_close_codes_stop_the_client(token: str, privileged: int | None, code: int) -> None:
    kw = {} if privileged is None else {"privileged_intents": privileged}
    fake = FakeDiscord(bot_token="gw-token" if token == "gw-token" else "the-real-token", **kw)
    async with fake.serve_gateway() as url:
        client = GatewayClient(token, DEFAULT_INTENTS, url=url, on_dispatch=Recorder().on_dispatch, **FAST)
        with pytest.raises(GatewayFatal) as fatal:
            await asyncio.wait_for(client.run(asyncio.Event()), 10)
    assert fatal.value.code == code and fatal.value.reason
    assert fake.connections == 1  # no retry loop against a refusal


async def test_stop_closes_resumably() -> None:
    async with gateway() as (fake, client, _recorder, task, stop):
        await asyncio.wait_for(client.ready.wait(), 5)
        stop.set()
        await asyncio.wait_for(task, 5)
        await until(lambda: fake.live == 0)
        assert client.session_id in fake.sessions  # still resumable by the next holder


# ---- through the real app ------------------------------------------------------------------------


async def _discord_channel(
    fake: FakeDiscord, api_base: str, gateway_url: str, seed: str, token: str | None = None
) -> Any:
    from tests.helpers import make_channel

    config = {
        "application_id": fake.application_id,
        "public_key": signing.discord_public_key(seed.encode()),
        "api_base": api_base,
        "gateway_url": gateway_url,
    }
    return await make_channel("discord", config, {"bot_token": token or fake.bot_token}, name="Test Discord")


async def _reply(server: str, channel: Any, conversation_id: int, text: str) -> str:
    """An agent's reply through the shared arrangement; its clientMessageId once queued."""
    case = ConnectorCase(server, channel, None, channel.config["api_base"], {})
    body, client_id = await case.reply(conversation_id, text)
    assert body["data"]["sendMessage"]["status"] == "QUEUED", body
    return client_id


async def test_interactions_through_the_webhook_endpoint(server: str) -> None:
    from models import Channel, Message
    from tests.helpers import eventually

    seed = uuid.uuid4().hex
    fake = FakeDiscord(bot_token=uuid.uuid4().hex)
    async with fake.serve() as api_base:
        channel = await _discord_channel(fake, api_base, "ws://127.0.0.1:9", seed)
        try:
            url = f"{server}/webhooks/discord/{channel.id}"
            async with httpx.AsyncClient(timeout=20) as http:

                async def post(body: bytes, key_seed: str = seed) -> httpx.Response:
                    headers = signing.discord(body, key_seed, time.time(), url).headers
                    return await http.post(url, content=body, headers=headers)

                ping = (DC / "interaction_ping.json").read_bytes()
                pong = await post(ping)
                assert pong.status_code == 200 and pong.json() == {"type": 1}
                assert pong.headers["content-type"].startswith("application/json")
                forged = await post(ping, key_seed="not-the-app")  # Discord's own endpoint check
                assert forged.status_code == 401

                command = sample("interaction_application_command.json")
                command["id"] = interaction_id = str(int(time.time() * 1000 - 1420070400000) << 22)
                command["channel_id"] = dm = fake.dm_channel(USER)
                body = json.dumps(command).encode()
                first = await post(body)
                assert first.status_code == 200 and first.json()["type"] == 4
                assert (await post(body)).status_code == 200  # redelivered: stored once
                forged_command = await post(body.replace(b"blue", b"gold"), key_seed="not-the-app")
                assert forged_command.status_code == 401
            stored = await Message.filter(channel_id=channel.id, platform_message_id=interaction_id)
            assert len(stored) == 1 and stored[0].text == "/ask question: Does it come in blue?"
            assert await Message.filter(channel_id=channel.id, text__contains="gold").count() == 0

            client_id = await _reply(server, channel, stored[0].conversation_id, "Yes, it comes in blue.")
            sent = await eventually(
                lambda: Message.filter(client_message_id=client_id, status="sent").first(), timeout=20
            )
            (request_body,) = fake.sent
            assert request_body["content"] == "Yes, it comes in blue."
            assert request_body["_fake"]["channel_id"] == dm  # where the command was typed
            assert sent.platform_message_id == request_body["_fake"]["id"]
        finally:
            await Channel.filter(id=channel.id).update(enabled=False)


# ---- the gateway runner --------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def runner(poll: float = 0.05) -> AsyncIterator[asyncio.Event]:
    from ingress.discord_gateway_runner import run_gateways

    stop = asyncio.Event()
    task = asyncio.create_task(run_gateways(stop, poll_interval=poll, client_options=FAST))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


async def _lock_holder(channel_id: int) -> int | None:
    """The backend pid holding the channel's lease, if any (advisory bigint keys split in two)."""
    conn = await asyncpg.connect(asyncpg_dsn(DATABASE_URL))
    try:
        return await conn.fetchval(
            "SELECT l.pid FROM pg_locks l, (SELECT hashtextextended('gateway:' || $1::bigint, 0) AS k) key "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
            "AND l.classid::bigint = (key.k >> 32) & 4294967295 AND l.objid::bigint = key.k & 4294967295",
            channel_id,
        )
    finally:
        await conn.close()


async def test_run_gateways_stores_gateway_messages_once_and_resumes_after_restart(server: str) -> None:
    from models import Channel, ChannelCursor, CustomerIdentity, Message
    from tests.helpers import eventually

    fake = FakeDiscord(bot_token=uuid.uuid4().hex, heartbeat_interval_ms=200)
    user = str(90000000000000000 + uuid.uuid4().int % 10**15)
    async with fake.serve() as api_base, fake.serve_gateway() as gateway_url:
        channel = await _discord_channel(fake, api_base, gateway_url, uuid.uuid4().hex)
        try:
            async with runner():
                await until(lambda: fake.live == 1 and len(fake.identifies) == 1)
                data = await fake.message_create(
                    user_id=user, content="Hello over the gateway", global_name="Gus"
                )
                dm = data["channel_id"]

                async def stored() -> list[Message]:
                    return await Message.filter(channel_id=channel.id, platform_message_id=data["id"])

                (message,) = await eventually(stored)
                assert (message.text, message.direction, message.kind) == (
                    "Hello over the gateway",
                    "inbound",
                    "text",
                )
                identity = await CustomerIdentity.get(id=message.identity_id)
                assert (identity.external_id, identity.reply_address, identity.display_name) == (
                    user,
                    dm,
                    "Gus",
                )

                await fake.dispatch("MESSAGE_CREATE", data)  # a replay of the same message
                await fake.message_update(data, "Hello over the gateway (edited)")
                await eventually(
                    lambda: Message.filter(id=message.id, text="Hello over the gateway (edited)").exists()
                )
                await fake.reaction(data, user, "🎉")
                await eventually(lambda: Message.filter(channel_id=channel.id, kind="reaction").exists())
                assert len(await stored()) == 1
                assert (await Channel.get(id=channel.id)).last_webhook_at is not None

                client_id = await _reply(server, channel, message.conversation_id, "Hi Gus!")
                await eventually(
                    lambda: Message.filter(client_message_id=client_id, status="sent").exists(), 20
                )
                (reply,) = fake.sent
                assert reply["content"] == "Hi Gus!" and reply["_fake"]["channel_id"] == dm
            # Stopped: the session and the last sequence are kept for the next holder.
            cursor = await ChannelCursor.get(channel_id=channel.id, name="gateway")
            saved = json.loads(cursor.value)
            (session,) = fake.sessions.values()
            assert saved["session_id"] == session.id and saved["seq"] == session.seq
            assert saved["resume_url"] == gateway_url
            await until(lambda: fake.live == 0)

            later = await fake.message_create(user_id=user, content="Sent while nobody listened")
            async with runner():
                await eventually(
                    lambda: Message.filter(channel_id=channel.id, platform_message_id=later["id"]).exists()
                )
                assert len(fake.identifies) == 1 and fake.resumes[-1]["session_id"] == session.id
            assert await Message.filter(channel_id=channel.id, direction="inbound", kind="text").count() == 2
        finally:
            await Channel.filter(id=channel.id).update(enabled=False)


async def test_two_runners_never_hold_one_channel_and_take_over_from_each_other(server: str) -> None:
    from models import Channel, Message
    from tests.helpers import eventually

    fake = FakeDiscord(bot_token=uuid.uuid4().hex, heartbeat_interval_ms=200)
    user = str(91000000000000000 + uuid.uuid4().int % 10**15)
    async with fake.serve() as api_base, fake.serve_gateway() as gateway_url:
        channel = await _discord_channel(fake, api_base, gateway_url, uuid.uuid4().hex)
        try:
            async with runner() as first_stop:
                await until(lambda: fake.live == 1)
                first_pid = await _lock_holder(channel.id)
                assert first_pid is not None
                async with runner():
                    await asyncio.sleep(1.0)  # twenty polls of each runner
                    assert fake.max_live == 1 and fake.connections == 1 and len(fake.identifies) == 1
                    assert await _lock_holder(channel.id) == first_pid

                    # The first runner stops: the second takes the channel and resumes its session.
                    first_stop.set()
                    await until(lambda: len(fake.resumes) == 1 and fake.live == 1)
                    second_pid = await _lock_holder(channel.id)
                    assert second_pid not in (None, first_pid)
                    data = await fake.message_create(user_id=user, content="after the handover")
                    await eventually(
                        lambda: Message.filter(channel_id=channel.id, platform_message_id=data["id"]).exists()
                    )

                    # A process that dies loses its PostgreSQL session, and the lease with it.
                    async with runner():
                        conn = await asyncpg.connect(asyncpg_dsn(DATABASE_URL))
                        try:
                            assert await conn.fetchval("SELECT pg_terminate_backend($1)", second_pid)
                        finally:
                            await conn.close()
                        await until(lambda: len(fake.resumes) == 2 and fake.live == 1)
                        third_pid = await _lock_holder(channel.id)
                        assert third_pid not in (None, second_pid)
            assert fake.max_live == 1, "two runners held the channel at once"
            assert len(fake.identifies) == 1
        finally:
            await Channel.filter(id=channel.id).update(enabled=False)


async def test_run_gateways_reports_a_refused_token_and_does_not_retry(server: str) -> None:
    from models import Channel
    from tests.helpers import eventually

    fake = FakeDiscord(bot_token="the-real-token")
    async with fake.serve() as api_base, fake.serve_gateway() as gateway_url:
        channel = await _discord_channel(fake, api_base, gateway_url, uuid.uuid4().hex, token="revoked")
        try:
            async with runner():
                refreshed = await eventually(
                    lambda: Channel.filter(id=channel.id, last_error__contains="4004").first()
                )
                assert "token" in refreshed.last_error
                await asyncio.sleep(0.5)  # ten polls: the refusal is not retried with the same token
                assert fake.connections == 1
                assert await _lock_holder(channel.id) is None  # free for a process with better luck
        finally:
            await Channel.filter(id=channel.id).update(enabled=False)
