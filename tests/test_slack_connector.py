"""The Slack connector: every sample parsed to concrete values, v0 signatures over raw bytes with
the 5-minute replay window, url_verification, threads, edits, reactions, slash commands and button
presses, bots ignored; sends against the fake Web API over real HTTP (errors as HTTP 200 ok:false,
429 with Retry-After); and end to end through the real app."""

from __future__ import annotations

import json
import urllib.parse
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors import slack_names
from connectors.base import (
    Attachment,
    Button,
    ChannelCredentials,
    HandshakeReply,
    MalformedPayload,
    MessageEdit,
    MessageKind,
    OutboundMessage,
    ParsedWebhook,
    Platform,
    SendError,
    WebhookRequest,
)
from connectors.registry import get_connector
from connectors.slack import slack
from tests.conftest import SAMPLES
from tests.fakes.slack import FakeSlack, sign
from tests.helpers import ConnectorCase, connector_case

SL = SAMPLES / "slack"
FIXTURES = Path(__file__).parent / "fixtures" / "slack"  # from Slack's Events API reference
TEAM = "T0FAKE001"
USER = "U0FAKEUSR1"
DM = "D0FAKE001"
SECRETS = {"signing_secret": "test-secret", "bot_token": "xoxb-test-token"}
CHANNEL = ChannelCredentials(channel_id=5, config={"team_id": TEAM}, secrets=SECRETS)
JSON = {"content-type": "application/json"}
FORM = {"content-type": "application/x-www-form-urlencoded"}


def _request(body: bytes, headers: dict[str, str] | None = None, method: str = "POST") -> WebhookRequest:
    lowered = {k.lower(): v for k, v in (headers if headers is not None else JSON).items()}
    return WebhookRequest(
        method=method, url="https://x/webhooks/slack/5", headers=lowered, query={}, body=body
    )


def parse_sample(name: str, channel: ChannelCredentials = CHANNEL, **headers: str) -> ParsedWebhook:
    content = FORM if name.endswith(".form") else JSON
    return slack.parse(_request((SL / name).read_bytes(), {**content, **headers}), channel)


def sample(name: str) -> dict[str, Any]:
    return json.loads((SL / name).read_text())


def parse_event(
    event: dict[str, Any], channel: ChannelCredentials = CHANNEL, **envelope: Any
) -> ParsedWebhook:
    """`event` in the envelope of inbound_text.json (its authorizations name our bot U0BOT0001)."""
    data = {**sample("inbound_text.json"), "event": event, **envelope}
    return slack.parse(_request(json.dumps(data).encode()), channel)


def text_event(**fields: Any) -> dict[str, Any]:
    base = {
        "type": "message",
        "user": USER,
        "text": "hi",
        "ts": "1750030200.000100",
        "channel": DM,
        "channel_type": "im",
        "event_ts": "1750030200.000100",
    }
    return {**base, **fields}


def ts(value: str) -> datetime:
    seconds, micro = value.split(".")
    return datetime.fromtimestamp(int(seconds), UTC).replace(microsecond=int(micro))


# ---- samples ------------------------------------------------------------------------------------


def test_inbound_text_sample() -> None:
    parsed = parse_sample("inbound_text.json")
    assert parsed.edits == () and parsed.statuses == () and parsed.reply is None
    (m,) = parsed.messages
    assert (m.platform_message_id, m.sender_id, m.reply_address) == (f"{DM}:1750030069.000200", USER, DM)
    assert (m.kind, m.text, m.reply_to_platform_id) == (MessageKind.TEXT, "Hello world", None)
    assert m.sent_at == ts("1750030069.000200") and m.sent_at.microsecond == 200
    assert m.metadata == {"channel_type": "im", "event_id": "Ev0FAKE0001"}
    assert (m.sender_phone, m.sender_email, m.attachments) == (None, None, ())


def test_app_mention_sample_and_its_message_twin_share_one_id() -> None:
    (mention,) = parse_sample("inbound_app_mention.json").messages
    assert mention.platform_message_id == "C0FAKECHN1:1750030070.000300"
    assert (mention.sender_id, mention.reply_address) == (USER, "C0FAKECHN1")
    # Without anyone asking Slack for a name, a mention reads as the raw id (enrich() names it).
    assert (mention.kind, mention.text) == (MessageKind.TEXT, "@U0BOT0001 can you help?")
    assert mention.metadata == {"event_id": "Ev0FAKE0002", "mentions": {"U0BOT0001": None}}
    assert mention.reply_to_platform_id is None
    # With message.channels subscribed, Slack sends the same message as a `message` event too.
    twin = sample("inbound_app_mention.json")["event"] | {"type": "message", "channel_type": "channel"}
    (message,) = parse_event(twin, event_id="Ev0FAKE0099").messages
    assert message.platform_message_id == mention.platform_message_id


def test_file_share_sample_keeps_text_and_file() -> None:
    (m,) = parse_sample("inbound_file_share.json").messages
    assert (m.platform_message_id, m.kind, m.text) == (
        f"{DM}:1750030071.000400",
        MessageKind.IMAGE,
        "Is this the blue one?",
    )
    (a,) = m.attachments
    assert (a.kind, a.media_id, a.mime_type, a.filename, a.size) == (
        MessageKind.IMAGE,
        "F0FAKEFILE1",
        "image/jpeg",
        "photo.jpg",
        93847,
    )
    assert a.url == "https://files.slack.com/files-pri/T0FAKE001-F0FAKEFILE1/photo.jpg"
    assert m.metadata == {"channel_type": "im", "subtype": "file_share", "event_id": "Ev0FAKE0003"}


def test_message_changed_sample_is_an_edit() -> None:
    parsed = parse_sample("message_changed.json")
    assert parsed.messages == ()
    (edit,) = parsed.edits
    assert (edit.platform_message_id, edit.text, edit.deleted) == (
        f"{DM}:1750030069.000200",
        "Hello world (edited)",
        False,
    )
    assert edit.occurred_at == ts("1750030120.000000")  # when it was edited, from message.edited


def test_reaction_added_sample() -> None:
    (r,) = parse_sample("reaction_added.json").messages
    assert (r.platform_message_id, r.kind, r.text, r.sender_id, r.reply_address) == (
        "reaction:Ev0FAKE0005",
        MessageKind.REACTION,
        ":thumbsup:",
        USER,
        DM,
    )
    assert r.metadata == {
        "emoji": ":thumbsup:",
        "target_platform_id": f"{DM}:1750030150.000600",
        "reaction": "thumbsup",
    }
    assert r.sent_at == ts("1750030160.000700")
    removed_event = sample("reaction_added.json")["event"] | {"type": "reaction_removed"}
    (removed,) = parse_event(removed_event, event_id="Ev0FAKE0006").messages
    assert removed.platform_message_id == "reaction:Ev0FAKE0006" and removed.text is None
    assert removed.metadata == {
        "emoji": "",
        "target_platform_id": f"{DM}:1750030150.000600",
        "reaction": "thumbsup",
        "removed": True,
    }


def test_url_verification_sample_answers_the_challenge() -> None:
    parsed = parse_sample("url_verification.json")
    assert parsed.messages == () and parsed.edits == ()
    assert parsed.reply == HandshakeReply(
        200, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "text/plain"
    )


def test_slash_command_sample() -> None:
    channel = ChannelCredentials(5, {"team_id": "T1DC2JH3J"}, SECRETS)
    parsed = parse_sample(
        "_official_doc_slash_command.form", channel, **{"X-Slack-Request-Timestamp": "1531420618"}
    )
    assert parsed.reply == HandshakeReply(200, "")  # acknowledged quietly
    (m,) = parsed.messages
    assert m.platform_message_id == "command:398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    assert (m.kind, m.text, m.sender_id, m.sender_name, m.reply_address) == (
        MessageKind.TEXT,
        "/webhook-collect",
        "U2CERLKJA",
        "roadrunner",
        "G8PSS9T3V",
    )
    assert m.metadata == {
        "command": "/webhook-collect",
        "arguments": "",
        "response_url": "https://hooks.slack.com/commands/T1DC2JH3J/397700885554/96rGlfmibIGlgcZRskXaIFfN",
    }
    assert m.sent_at == datetime.fromtimestamp(1531420618, UTC)
    # The same command from a workspace this channel is not for stores nothing, but is answered.
    other = parse_sample("_official_doc_slash_command.form")
    assert other == ParsedWebhook(reply=HandshakeReply(200, ""))


def test_every_sample_is_covered() -> None:
    expected = {
        "_official_doc_slash_command.form": (0, 0),  # other workspace than CHANNEL's: see above
        "inbound_app_mention.json": (1, 0),
        "inbound_file_share.json": (1, 0),
        "inbound_text.json": (1, 0),
        "message_changed.json": (0, 1),
        "reaction_added.json": (1, 0),
        "url_verification.json": (0, 0),
    }
    webhooks = sorted(p.name for p in SL.iterdir() if not p.name.startswith("send_"))
    assert webhooks == sorted(expected)
    for name, (messages, edits) in expected.items():
        parsed = parse_sample(name)
        assert (len(parsed.messages), len(parsed.edits), parsed.statuses) == (messages, edits, ()), name


# ---- the other events ---------------------------------------------------------------------------


def test_threads() -> None:
    (reply,) = parse_event(
        text_event(thread_ts="1750030100.000001", channel="C1", channel_type="channel")
    ).messages
    assert reply.reply_to_platform_id == "C1:1750030100.000001"
    assert reply.metadata["thread_ts"] == "1750030100.000001" and reply.reply_address == "C1"
    # The thread's first message carries thread_ts = its own ts: a thread, but a reply to nothing.
    (root,) = parse_event(text_event(thread_ts="1750030200.000100")).messages
    assert root.reply_to_platform_id is None and root.metadata["thread_ts"] == "1750030200.000100"
    (broadcast,) = parse_event(text_event(subtype="thread_broadcast", thread_ts="1750030100.000001")).messages
    assert broadcast.metadata["subtype"] == "thread_broadcast"


@pytest.mark.parametrize(
    "change",
    [
        {"bot_id": "B0FAKEBOT1"},
        {"subtype": "bot_message", "user": None, "username": "Acme"},
        {"user": "U0BOT0001"},  # our bot user, from the envelope's authorizations
        {"bot_profile": {"id": "B9", "name": "other app"}},
        {"subtype": "channel_join", "text": "<@U0FAKEUSR1> has joined the channel"},
        {"subtype": "message_replied"},
        {"user": None},
    ],
)
def test_bots_and_notices_store_nothing(change: dict[str, Any]) -> None:
    event = {k: v for k, v in (text_event() | change).items() if v is not None}
    assert parse_event(event) == ParsedWebhook()


def test_configured_bot_user_id_and_own_reactions_are_ignored() -> None:
    channel = ChannelCredentials(5, {"team_id": TEAM, "bot_user_id": "U0OURBOT1"}, SECRETS)
    assert parse_event(text_event(user="U0OURBOT1"), channel, authorizations=[]) == ParsedWebhook()
    own = sample("reaction_added.json")["event"] | {"user": "U0BOT0001"}
    assert parse_event(own) == ParsedWebhook()
    on_file = sample("reaction_added.json")["event"] | {"item": {"type": "file", "file": "F1"}}
    assert parse_event(on_file) == ParsedWebhook()


def test_me_message_escapes_and_user_profile() -> None:
    event = text_event(
        subtype="me_message",
        text="waves &amp; says &lt;hi&gt;",
        user_profile={"display_name": "", "real_name": "Sheena Nelson"},
    )
    (m,) = parse_event(event).messages
    assert (m.text, m.sender_name, m.metadata["subtype"]) == (
        "waves & says <hi>",
        "Sheena Nelson",
        "me_message",
    )


def test_files_of_each_kind_and_a_file_without_text() -> None:
    files = [
        {
            "id": "F1",
            "name": "a.pdf",
            "mimetype": "application/pdf",
            "size": 10,
            "url_private": "https://f/1",
        },
        {"id": "F2", "name": "v.mp4", "mimetype": "video/mp4", "url_private": "https://f/2"},
        {"id": "F3", "name": "s.m4a", "mimetype": "audio/mp4", "size": True},
        "not a file",
    ]
    (m,) = parse_event(text_event(subtype="file_share", text="", files=files)).messages
    assert (m.kind, m.text) == (MessageKind.DOCUMENT, None)
    assert [(a.kind, a.media_id, a.size, a.url) for a in m.attachments] == [
        (MessageKind.DOCUMENT, "F1", 10, "https://f/1"),
        (MessageKind.VIDEO, "F2", None, "https://f/2"),
        (MessageKind.AUDIO, "F3", None, None),
    ]
    (empty,) = parse_event(text_event(text="")).messages
    assert empty.kind is MessageKind.UNSUPPORTED and empty.text is None


def test_edits_deletes_and_changes_that_are_not_edits() -> None:
    changed = sample("message_changed.json")["event"]
    unfurled = changed | {"message": changed["message"] | {"text": "Hello world"}}
    assert parse_event(unfurled) == ParsedWebhook()  # only a link preview was added
    ours = changed | {"message": changed["message"] | {"bot_id": "B0FAKEBOT1"}}
    assert parse_event(ours) == ParsedWebhook()
    tombstone = changed | {
        "message": {"subtype": "tombstone", "ts": "1750030069.000200", "text": "This message was deleted."}
    }
    (gone,) = parse_event(tombstone).edits
    assert (gone.platform_message_id, gone.deleted, gone.text) == (f"{DM}:1750030069.000200", True, None)

    deleted = {
        "type": "message",
        "subtype": "message_deleted",
        "hidden": True,
        "channel": DM,
        "ts": "1750030300.000100",
        "deleted_ts": "1750030069.000200",
        "previous_message": {
            "type": "message",
            "user": USER,
            "text": "Hello world",
            "ts": "1750030069.000200",
        },
        "event_ts": "1750030300.000100",
        "channel_type": "im",
    }
    (edit,) = parse_event(deleted).edits
    assert (edit.platform_message_id, edit.deleted, edit.occurred_at) == (
        f"{DM}:1750030069.000200",
        True,
        ts("1750030300.000100"),
    )
    our_post = deleted | {"previous_message": deleted["previous_message"] | {"bot_id": "B0FAKEBOT1"}}
    assert parse_event(our_post) == ParsedWebhook()


def test_other_workspaces_and_enterprise_installs() -> None:
    assert (
        parse_event(text_event(), team_id="T0OTHER99", context_team_id="T0OTHER99", authorizations=[])
        == ParsedWebhook()
    )
    grid = ChannelCredentials(5, {"team_id": "E0GRID001"}, SECRETS)
    envelope = {"team_id": "T0FAKE001", "enterprise_id": "E0GRID001"}
    assert len(parse_event(text_event(), grid, **envelope).messages) == 1
    unconfigured = ChannelCredentials(5, {}, SECRETS)  # no team_id: nothing to compare with
    assert len(parse_event(text_event(), unconfigured, team_id="T0OTHER99").messages) == 1


def _interaction(payload: dict[str, Any]) -> ParsedWebhook:
    body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
    return slack.parse(_request(body, FORM), CHANNEL)


def test_button_presses_and_menu_choices_are_postbacks() -> None:
    payload = {
        "type": "block_actions",
        "user": {"id": USER, "username": "sheena", "name": "sheena", "team_id": TEAM},
        "team": {"id": TEAM, "domain": "acme"},
        "trigger_id": "123.456.abc",
        "container": {"type": "message", "message_ts": "1750030150.000600", "channel_id": DM},
        "channel": {"id": DM, "name": "directmessage"},
        "message": {
            "type": "message",
            "ts": "1750030150.000600",
            "thread_ts": "1750030069.000200",
            "bot_id": "B1",
        },
        "actions": [
            {
                "type": "button",
                "action_id": "pytake_0",
                "text": {"type": "plain_text", "text": "Blue"},
                "value": "colour_blue",
                "action_ts": "1750030170.000800",
            },
            {"type": "button", "action_id": "pytake_link_1", "text": {"type": "plain_text", "text": "Track"}},
            {
                "type": "static_select",
                "action_id": "size",
                "selected_option": {"text": {"type": "plain_text", "text": "Medium"}, "value": "m"},
                "action_ts": "1750030170.000900",
            },
        ],
    }
    parsed = _interaction(payload)
    assert parsed.reply == HandshakeReply(200, "")
    press, choice = parsed.messages
    assert (press.platform_message_id, press.kind, press.text, press.sender_id, press.sender_name) == (
        "action:123.456.abc:pytake_0",
        MessageKind.POSTBACK,
        "Blue",
        USER,
        "sheena",
    )
    assert press.metadata == {
        "payload": "colour_blue",
        "action_id": "pytake_0",
        "thread_ts": "1750030069.000200",
    }
    assert (press.reply_address, press.reply_to_platform_id) == (DM, f"{DM}:1750030150.000600")
    assert press.sent_at == ts("1750030170.000800")
    assert (choice.text, choice.metadata["payload"]) == ("Medium", "m")
    assert _interaction({"type": "view_submission", "user": {"id": USER}}) == ParsedWebhook(
        reply=HandshakeReply(200, "")
    )
    foreign = payload | {"team": {"id": "T0OTHER99"}, "user": payload["user"] | {"team_id": "T0OTHER99"}}
    assert _interaction(foreign).messages == ()


def test_envelopes_and_events_that_store_nothing() -> None:
    for data in (
        {"type": "app_rate_limited", "team_id": TEAM, "minute_rate_limited": 1518467820},
        {"type": "event_callback", "team_id": TEAM, "event": {"type": "member_joined_channel", "user": USER}},
        {"type": "event_callback", "team_id": TEAM, "event": {"type": "app_home_opened", "user": USER}},
    ):
        assert slack.parse(_request(json.dumps(data).encode()), CHANNEL) == ParsedWebhook()


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b"", JSON),
        (b"{not json", JSON),
        (b"[]", JSON),
        (b'"text"', JSON),
        (b'{"type": "url_verification"}', JSON),
        (b'{"type": "event_callback", "event": "message"}', JSON),
        (b"payload=%7Bnot+json", FORM),
        (b"payload=%5B%5D", FORM),
        (b"user_id=U1&text=hi", FORM),
        (b"command=%2Fhelp&user_id=U1", FORM),  # no trigger_id
        (b"payload=" + urllib.parse.quote(json.dumps({"type": "block_actions", "user": {}})).encode(), FORM),
        (b"\xff\xfe", FORM),
        (b"command=%2Fhelp", {}),  # no content type and not JSON: read as a form
    ],
)
def test_malformed_bodies(body: bytes, headers: dict[str, str]) -> None:
    with pytest.raises(MalformedPayload):
        slack.parse(_request(body, headers), CHANNEL)


# ---- signatures -----------------------------------------------------------------------------------

VECTORS = [
    v for v in json.loads((SAMPLES / "signature_vectors.json").read_text()) if v["platform"] == "slack"
]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: f"{v['body_file']}-{v['valid']}")
def test_signature_vectors(vector: dict[str, Any]) -> None:
    channel = ChannelCredentials(5, {"team_id": TEAM}, {"signing_secret": vector["secret"]})
    request = _request((SAMPLES / vector["body_file"]).read_bytes(), vector["headers"])
    stamp = int(vector["headers"]["X-Slack-Request-Timestamp"])
    assert slack.verify(request, channel, now=stamp) is vector["valid"]
    if vector["valid"]:
        # The replay window: 5 minutes either way, and not a second more.
        assert slack.verify(request, channel, now=stamp + 300)
        assert slack.verify(request, channel, now=stamp - 300)
        assert not slack.verify(request, channel, now=stamp + 301)
        assert not slack.verify(request, channel, now=stamp - 301)


def test_tampered_missing_and_wrong_signatures_are_refused() -> None:
    body = (SL / "inbound_text.json").read_bytes()
    now = 1750030069
    good = {**JSON, **sign("test-secret", body, now)}
    assert slack.verify(_request(body, good), CHANNEL, now=now)
    assert not slack.verify(_request(body.replace(b"Hello", b"Hellx"), good), CHANNEL, now=now)
    assert not slack.verify(_request(body + b"\n", good), CHANNEL, now=now)
    assert not slack.verify(_request(body, {**JSON, **sign("wrong-secret", body, now)}), CHANNEL, now=now)
    signature = good["X-Slack-Signature"]
    for headers in (
        {},
        {"X-Slack-Signature": signature},
        {"X-Slack-Request-Timestamp": str(now)},
        {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": signature.removeprefix("v0=")},
        {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": "v1=" + signature[3:]},
        {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": signature[:-1]},
        {"X-Slack-Request-Timestamp": f"{now}.0", "X-Slack-Signature": signature},
        {"X-Slack-Request-Timestamp": "", "X-Slack-Signature": signature},
        {
            "X-Slack-Request-Timestamp": "１７５００３００６９",
            "X-Slack-Signature": signature,
        },  # full-width digits
    ):
        assert not slack.verify(_request(body, headers), CHANNEL, now=now), headers
    # Slack sends lower-case hex; an upper-cased copy is the same signature.
    upper = {**good, "X-Slack-Signature": "v0=" + signature[3:].upper()}
    assert slack.verify(_request(body, upper), CHANNEL, now=now)
    no_secret = ChannelCredentials(5, {}, {"bot_token": "xoxb-1"})
    assert not slack.verify(_request(body, good), no_secret, now=now)


def test_handshake_only_answers_ssl_checks() -> None:
    body = (SL / "url_verification.json").read_bytes()
    assert slack.handshake(_request(body), CHANNEL) is None  # signed: answered after verify
    assert slack.handshake(_request(b"ssl_check=1&token=x", FORM), CHANNEL) == HandshakeReply(200, "")
    command = (SL / "_official_doc_slash_command.form").read_bytes()
    assert slack.handshake(_request(command, FORM), CHANNEL) is None
    assert slack.handshake(_request(b"", {}, method="GET"), CHANNEL) is None
    assert slack.handshake(_request(b"\xff\xfe", FORM), CHANNEL) is None  # not UTF-8: left to verify


# ---- configuration --------------------------------------------------------------------------------


def test_validate_config_capabilities_and_registry() -> None:
    assert slack.validate_config({"team_id": TEAM}, SECRETS) == []
    assert (
        slack.validate_config(
            {"team_id": "E0GRID001", "bot_user_id": "U0BOT0001", "api_base": "http://x"}, SECRETS
        )
        == []
    )
    problems = slack.validate_config({}, {})
    assert problems == [
        "The Slack workspace ID (team_id, starting with T) is required.",
        "The app's signing secret (signing_secret) is required.",
        "The bot token (bot_token) is required.",
    ]
    problems = slack.validate_config(
        {"team_id": "acme", "bot_user_id": "B1", "api_base": "ftp://x"},
        {"signing_secret": " ", "bot_token": "xoxp-user-token"},
    )
    text = " ".join(problems)
    assert len(problems) == 5
    for fragment in (
        "team_id) must look like T0123ABCD",
        "bot_user_id",
        "api_base",
        "signing_secret",
        "starts with xoxb-",
    ):
        assert fragment in text
    caps = slack.capabilities
    assert (caps.reply_window, caps.can_initiate, caps.buttons, caps.edits) == (None, False, True, True)
    assert (caps.delivery_statuses, caps.read_statuses, caps.templates) == (False, False, False)
    assert slack.secret_names == ("signing_secret", "bot_token") and slack.generated_secrets == ()
    assert get_connector(Platform.SLACK) is slack and get_connector("slack") is slack


# ---- sending over real HTTP to the fake -----------------------------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeSlack, ChannelCredentials]]:
    api = FakeSlack(bot_token=SECRETS["bot_token"], signing_secret=SECRETS["signing_secret"])
    api.add_conversation(DM)
    async with api.serve() as base_url:
        yield api, ChannelCredentials(5, {"team_id": TEAM, "api_base": base_url}, SECRETS)


def out(text: str | None = "Hi! How can we help?", to: str = DM, **kw: Any) -> OutboundMessage:
    return OutboundMessage(
        recipient_id=to, kind=kw.pop("kind", MessageKind.TEXT), idempotency_key="42", text=text, **kw
    )


async def _error(http: httpx.AsyncClient, channel: ChannelCredentials, message: OutboundMessage) -> SendError:
    with pytest.raises(SendError) as info:
        await slack.send(http, channel, message)
    return info.value


def _body(sent: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in sent.items() if k != "_ts"}


async def test_text_in_the_customers_thread_matches_the_sample(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    result = await slack.send(http, channel, out(metadata={"thread_ts": "1750030069.000200"}))
    (sent,) = api.sent
    assert _body(sent) == sample("send_text_request.json")
    assert result.platform_message_id == f"{DM}:{sent['_ts']}"
    (call,) = api.requests
    assert (call["method"], call["authorization"], call["content_type"]) == (
        "chat.postMessage",
        "Bearer xoxb-test-token",
        "application/json; charset=utf-8",
    )
    # Without a thread in the metadata, a reply to one of the customer's messages threads under it.
    await slack.send(http, channel, out("Sure", reply_to_platform_id=f"{DM}:1750030069.000300"))
    await slack.send(http, channel, out("Top level", reply_to_platform_id="C999:1750030069.000300"))
    await slack.send(http, channel, out("a < b & c > d"))
    assert api.sent[1]["thread_ts"] == "1750030069.000300" and "thread_ts" not in api.sent[2]
    assert api.sent[3]["text"] == "a &lt; b &amp; c &gt; d" and "blocks" not in api.sent[3]


async def test_buttons_as_block_kit_and_the_press_comes_back(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    buttons = (
        Button("colour_blue", "Blue"),
        Button("colour_green", "G" * 80),
        Button("track", "Track", url="https://t.example/1"),
    )
    result = await slack.send(http, channel, out("Which colour?", buttons=buttons))
    sent = api.sent[-1]
    assert sent["text"] == "Which colour?"
    assert sent["blocks"] == [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Which colour?"}},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Blue"},
                    "action_id": "pytake_0",
                    "value": "colour_blue",
                },
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "G" * 75},
                    "action_id": "pytake_1",
                    "value": "colour_green",
                },
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Track"},
                    "action_id": "pytake_link_2",
                    "url": "https://t.example/1",
                },
            ],
        },
    ]
    # The customer presses "Blue": Slack posts block_actions; it parses into the button's id.
    conversation, _, message_ts = result.platform_message_id.partition(":")
    fields = api.button_press(USER, conversation, message_ts, "pytake_0")
    body = urllib.parse.urlencode(fields).encode()
    (press,) = slack.parse(_request(body, FORM), CHANNEL).messages
    assert (press.kind, press.text, press.metadata["payload"]) == (
        MessageKind.POSTBACK,
        "Blue",
        "colour_blue",
    )
    assert press.reply_to_platform_id == result.platform_message_id
    link = urllib.parse.urlencode(api.button_press(USER, conversation, message_ts, "pytake_link_2")).encode()
    assert slack.parse(_request(link, FORM), CHANNEL).messages == ()


async def test_media_by_url(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    attachments = (
        Attachment(MessageKind.IMAGE, url="https://cdn.example/blue.jpg", filename="blue.jpg"),
        Attachment(MessageKind.DOCUMENT, url="https://cdn.example/inv.pdf?a=1|2", filename="Invoice <May>"),
    )
    await slack.send(http, channel, out("Here you go", attachments=attachments, kind=MessageKind.IMAGE))
    assert api.sent[-1]["blocks"] == [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Here you go"}},
        {"type": "image", "image_url": "https://cdn.example/blue.jpg", "alt_text": "blue.jpg"},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "<https://cdn.example/inv.pdf?a=1%7C2|Invoice &lt;May&gt;>"},
        },
    ]
    # No text: the notification text names the files, and the blocks carry them.
    await slack.send(http, channel, out("", attachments=attachments[:1], kind=MessageKind.IMAGE))
    assert api.sent[-1]["text"] == "blue.jpg" and [b["type"] for b in api.sent[-1]["blocks"]] == ["image"]


async def test_long_text_is_split_into_sections(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    text = "x" * 3500
    await slack.send(http, channel, out(text, buttons=(Button("ok", "OK"),)))
    sections = [b["text"]["text"] for b in api.sent[-1]["blocks"] if b["type"] == "section"]
    assert [len(s) for s in sections] == [3000, 500] and api.sent[-1]["text"] == text


async def test_a_user_id_opens_their_direct_message_first(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    dm = api.add_user("U0NEWUSER1")
    result = await slack.send(http, channel, out("Hello!", to="U0NEWUSER1"))
    assert [r["method"] for r in api.requests] == ["conversations.open", "chat.postMessage"]
    assert api.requests[0]["body"] == {"users": "U0NEWUSER1"}
    assert api.sent[-1]["channel"] == dm and result.platform_message_id == f"{dm}:{api.sent[-1]['_ts']}"
    missing = await _error(http, channel, out("Hello!", to="U0NOBODY01"))
    assert (missing.code, missing.retryable) == ("user_not_found", False)
    assert "no longer exists" in missing.reason and len(api.sent) == 1


async def test_rate_limits_and_slack_trouble_are_retryable(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    api.fail_next(429, headers={"Retry-After": "7"})
    api.fail_next(error="ratelimited")
    api.fail_next(503)
    api.fail_next(error="service_unavailable")
    limited = await _error(http, channel, out())
    assert (limited.code, limited.retryable, limited.retry_after) == ("ratelimited", True, 7.0)
    soft = await _error(http, channel, out())
    assert (soft.code, soft.retryable, soft.retry_after) == ("ratelimited", True, None)
    down = await _error(http, channel, out())
    assert (down.code, down.retryable) == ("HTTP_503", True)
    unavailable = await _error(http, channel, out())
    assert (unavailable.code, unavailable.retryable) == ("service_unavailable", True)
    assert api.sent == []
    assert (await slack.send(http, channel, out())).platform_message_id.startswith(f"{DM}:")


async def test_permanent_refusals_have_reasons_for_people(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    missing = await _error(http, channel, out(to="C0GONE0001"))
    assert (missing.code, missing.retryable, missing.affects_channel) == ("channel_not_found", False, False)
    assert missing.reason.startswith("Slack cannot find this conversation")
    api.add_conversation("C0NOTIN001", member=False)
    outside = await _error(http, channel, out(to="C0NOTIN001"))
    assert outside.code == "not_in_channel" and "invite it" in outside.reason
    api.add_conversation("C0OLD00001", archived=True)
    archived = await _error(http, channel, out(to="C0OLD00001"))
    assert archived.code == "is_archived" and "archived" in archived.reason
    api.fail_next(error="msg_too_long")
    too_long = await _error(http, channel, out())
    assert (too_long.code, too_long.retryable) == ("msg_too_long", False) and "too long" in too_long.reason
    api.fail_next(
        error="invalid_blocks",
        response_metadata={
            "messages": ["[ERROR] downloading image failed [json-pointer:/blocks/1/image_url]"]
        },
    )
    blocks = await _error(http, channel, out())
    assert blocks.code == "invalid_blocks" and "downloading image failed" in blocks.reason
    api.fail_next(error="missing_scope", needed="chat:write", provided="channels:history")
    scope = await _error(http, channel, out())
    assert scope.affects_channel and scope.reason.endswith("Slack says it needs: chat:write.")
    api.fail_next(error="brand_new_error")
    unknown = await _error(http, channel, out())
    assert (unknown.code, unknown.retryable, unknown.reason) == (
        "brand_new_error",
        False,
        "Slack refused the message (brand_new_error).",
    )
    assert api.sent == []


async def test_bad_auth(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    wrong = ChannelCredentials(5, channel.config, {**SECRETS, "bot_token": "xoxb-revoked"})
    error = await _error(http, wrong, out())
    assert (error.code, error.retryable, error.affects_channel) == ("invalid_auth", False, True)
    assert "bot token" in error.reason
    none = ChannelCredentials(5, channel.config, {"signing_secret": "s", "bot_token": " "})
    missing = await _error(http, none, out())  # refused before any call: nothing to authenticate with
    assert (missing.code, missing.retryable, missing.affects_channel) == ("not_authed", False, True)
    assert api.sent == [] and [r["authorization"] for r in api.requests] == ["Bearer xoxb-revoked"]
    anonymous = await http.post(
        f"{channel.config['api_base']}/api/chat.postMessage", json={"channel": DM, "text": "x"}
    )
    assert (anonymous.status_code, anonymous.json()) == (200, {"ok": False, "error": "not_authed"})


async def test_refused_before_any_http_call() -> None:
    def no_http(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"unexpected HTTP call to {request.url}")

    cases = [
        (out("a" * 4001), "too_long"),
        (out("   "), "no_text"),
        (out(None), "no_text"),
        (out("t", kind=MessageKind.TEMPLATE, template={"name": "x"}), "unsupported_kind"),
        (out("t", buttons=tuple(Button(str(i), str(i)) for i in range(26))), "buttons"),
        (out("t", buttons=(Button("x" * 2001, "Long"),)), "buttons"),
        (out("t", attachments=(Attachment(MessageKind.IMAGE, media_id="F1"),)), "media_url_missing"),
    ]
    async with httpx.AsyncClient(transport=httpx.MockTransport(no_http)) as client:
        for message, code in cases:
            error = await _error(client, CHANNEL, message)
            assert (error.code, error.retryable) == (code, False), code
    assert slack.max_text_length == 4000


@pytest.mark.parametrize(
    ("exc", "code"),
    [(httpx.ConnectError("refused"), "NETWORK_ERROR"), (httpx.ReadTimeout("slow"), "TIMEOUT")],
)
async def test_transport_errors_are_retryable(exc: Exception, code: str) -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise exc

    async with httpx.AsyncClient(transport=httpx.MockTransport(broken)) as client:
        error = await _error(client, CHANNEL, out())
    assert (error.code, error.retryable) == (code, True)


@pytest.mark.parametrize(
    ("response", "code"),
    [
        (httpx.Response(200, text="<html>proxy</html>"), "invalid_response"),
        (httpx.Response(200, json={"ok": True, "channel": DM}), "invalid_response"),
        (httpx.Response(404, json={"ok": False, "error": "unknown_method"}), "unknown_method"),
        (httpx.Response(403, text="forbidden"), "HTTP_403"),
    ],
)
async def test_odd_answers_are_permanent(response: httpx.Response, code: str) -> None:
    """An answer we cannot read may hide a posted message: retrying could post it twice."""
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda r: response)) as client:
        error = await _error(client, CHANNEL, out())
    assert (error.code, error.retryable) == (code, False)


async def test_update_edits_our_message(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    first = await slack.send(http, channel, out("Pick one", buttons=(Button("a", "A"),)))
    edited = await slack.update(http, channel, first.platform_message_id, out("Thanks, noted."))
    assert edited.platform_message_id == first.platform_message_id
    (update,) = api.updates
    conversation, _, message_ts = first.platform_message_id.partition(":")
    assert update == {"channel": conversation, "ts": message_ts, "text": "Thanks, noted.", "blocks": []}
    assert api.posted[(conversation, message_ts)]["text"] == "Thanks, noted."
    unknown = await _error_update(http, channel, f"{DM}:1.000001")
    assert (unknown.code, unknown.retryable) == ("message_not_found", False)
    malformed = await _error_update(http, channel, "not-an-id")
    assert malformed.code == "message_not_found" and len(api.updates) == 1


async def _error_update(http: httpx.AsyncClient, channel: ChannelCredentials, message_id: str) -> SendError:
    with pytest.raises(SendError) as info:
        await slack.update(http, channel, message_id, out("x"))
    return info.value


async def test_fake_is_strict(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    base = channel.config["api_base"]
    auth = {"Authorization": f"Bearer {SECRETS['bot_token']}"}

    async def call(method: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        return await http.post(f"{base}/api/{method}", json=body, headers={**auth, **(headers or {})})

    no_charset = await call("chat.postMessage", {"channel": DM, "text": "hi"})
    assert no_charset.status_code == 200 and no_charset.json()["warning"] == "missing_charset"
    assert no_charset.json()["ok"] is True and no_charset.json()["message"]["bot_id"] == "B0FAKEBOT1"
    cases = [
        ({"channel": DM}, "no_text"),
        ({"channel": DM, "text": "x" * 40_001}, "msg_too_long"),
        ({"text": "hi"}, "channel_not_found"),
        ({"channel": DM, "text": "hi", "thread_ts": "yesterday"}, "invalid_thread_ts"),
        ({"channel": DM, "blocks": [{"type": "hologram"}]}, "invalid_blocks"),
        (
            {"channel": DM, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]},
            "invalid_blocks",
        ),
        ({"channel": DM, "blocks": [{"type": "image", "image_url": "https://x/y.png"}]}, "invalid_blocks"),
    ]
    for body, error in cases:
        r = await call("chat.postMessage", body)
        assert (r.status_code, r.json()["ok"], r.json()["error"]) == (200, False, error), body
    duplicate = {"type": "button", "text": {"type": "plain_text", "text": "A"}, "action_id": "same"}
    r = await call(
        "chat.postMessage",
        {"channel": DM, "blocks": [{"type": "actions", "elements": [duplicate, duplicate]}]},
    )
    assert r.json()["response_metadata"]["messages"] == [
        "[ERROR] non-unique action_id [json-pointer:/blocks/0/elements/1/action_id]"
    ]
    as_form = await http.post(
        f"{base}/api/chat.postMessage", data={"channel": DM, "text": "hi"}, headers=auth
    )
    assert as_form.json()["error"] == "invalid_form_data"
    unknown = await call("chat.delete", {"channel": DM, "ts": "1.2"})
    assert (unknown.status_code, unknown.json()["error"]) == (404, "unknown_method")
    assert (await call("conversations.open", {"users": "U0BOT0001"})).json()["error"] == "cannot_dm_bot"
    assert (await call("conversations.open", {})).json()["error"] == "users_list_not_supplied"
    assert len(api.sent) == 1 and len(api.requests) == len(cases) + 6


async def test_fake_posts_signed_events_our_connector_accepts(fake) -> None:  # type: ignore[no-untyped-def]
    api, _ = fake
    received: list[tuple[bool, ParsedWebhook | None, dict[str, str]]] = []

    def hook(request: httpx.Request) -> httpx.Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        webhook = WebhookRequest("POST", str(request.url), headers, {}, request.content)
        ok = slack.verify(webhook, CHANNEL, now=int(headers["x-slack-request-timestamp"]))
        received.append((ok, slack.parse(webhook, CHANNEL) if ok else None, headers))
        return httpx.Response(200 if ok else 401)

    api._client = httpx.AsyncClient(transport=httpx.MockTransport(hook))
    api.webhook_url = "https://pytake.test/webhooks/slack/5"
    event = api.message_event(USER, DM, "Olá, é azul?", thread_ts="1750030069.000200")
    assert (await api.post_event(event, event_id="Ev1", retry_num=1)).status_code == 200
    assert (await api.post_event(event, signing_secret="wrong")).status_code == 401
    assert (
        await api.post_event(api.reaction_event(USER, DM, event["ts"], "tada"), event_id="Ev2")
    ).status_code == 200
    assert (await api.post_form(api.slash_command(USER, DM, "/order", "42"))).status_code == 200
    assert (
        await api.post_event({"type": "url_verification", "challenge": "c1", "token": "t"})
    ).status_code == 200
    assert [ok for ok, _, _ in received] == [True, False, True, True, True]
    message = received[0][1].messages[0]  # type: ignore[union-attr]
    assert (message.text, message.platform_message_id, message.reply_to_platform_id) == (
        "Olá, é azul?",
        f"{DM}:{event['ts']}",
        f"{DM}:1750030069.000200",
    )
    assert received[0][2]["x-slack-retry-num"] == "1"
    assert received[2][1].messages[0].metadata["emoji"] == ":tada:"  # type: ignore[union-attr]
    assert received[3][1].messages[0].text == "/order 42"  # type: ignore[union-attr]
    assert received[4][1].reply == HandshakeReply(200, "c1", "text/plain")  # type: ignore[union-attr]
    assert [r.status_code for r in api.webhook_responses] == [200, 401, 200, 200, 200]


# ---- end to end through the real app -------------------------------------------------------------


async def test_end_to_end(server) -> None:  # type: ignore[no-untyped-def]
    from models import Message

    secret, token = uuid.uuid4().hex, f"xoxb-{uuid.uuid4().hex}"
    api = FakeSlack(bot_token=token, signing_secret=secret)
    customer = "U" + uuid.uuid4().hex[:9].upper()
    dm = api.add_user(customer)

    def wire(case: ConnectorCase) -> None:
        api.webhook_url = case.webhook

    secrets = {"signing_secret": secret, "bot_token": token}
    async with connector_case(server, api, "slack", {"team_id": TEAM}, secrets, wire=wire) as case:
        channel = case.channel

        # 1. Slack checks the URL: the signed challenge is answered, nothing is stored
        challenge = await api.post_event({"type": "url_verification", "challenge": "ch-123", "token": "x"})
        assert (challenge.status_code, challenge.text) == (200, "ch-123")

        # 2. the customer writes in a thread; Slack's retry, a forgery and a replay store nothing more
        thread = "1750030069.000200"
        event = api.message_event(customer, dm, "Can I change my plan?", thread_ts=thread)
        first = await api.post_event(event, event_id="Ev0E2E0001")
        assert (first.status_code, first.text) == (200, "ok")
        assert (await api.post_event(event, event_id="Ev0E2E0001", retry_num=1)).status_code == 200
        assert (await api.post_event(event, signing_secret="forged")).status_code == 401
        stale = await api.post_event(event, timestamp=int(datetime.now(UTC).timestamp()) - 301)
        assert stale.status_code == 401
        original = json.dumps(api.envelope(event, event_id="Ev0E2E0001")).encode()
        altered = original.replace(b"change my plan", b"get a refund")
        assert altered != original
        tampered = await api.post_raw(altered, JSON, signed_body=original)
        assert tampered.status_code == 401
        (stored,) = await Message.filter(channel_id=channel.id)
        assert (stored.text, stored.direction, stored.platform_message_id) == (
            "Can I change my plan?",
            "inbound",
            f"{dm}:{event['ts']}",
        )
        assert stored.reply_to_platform_id == f"{dm}:{thread}" and stored.metadata["thread_ts"] == thread

        # 3. the agent replies with buttons: exactly one chat.postMessage, in the customer's thread
        buttons = [{"id": "plan_pro", "title": "Pro"}]
        reply, client_id = await case.reply(stored.conversation_id, "Sure! Which plan?", buttons=buttons)
        assert reply.get("errors") is None, reply
        outbound = await case.wait_for(client_id)
        (post,) = [s for s in api.sent if s["channel"] == dm]
        assert (post["text"], post["thread_ts"]) == ("Sure! Which plan?", thread)
        assert post["blocks"][-1]["elements"][0]["value"] == "plan_pro"
        assert outbound.platform_message_id == f"{dm}:{post['_ts']}"

        # 4. the customer presses the button, edits their message and reacts to our reply
        press = await api.post_form(api.button_press(customer, dm, post["_ts"], "pytake_0"))
        assert (press.status_code, press.text) == (200, "")
        postback = await Message.get(channel_id=channel.id, kind=MessageKind.POSTBACK)
        assert (postback.text, postback.metadata["payload"]) == ("Pro", "plan_pro")
        assert postback.reply_to_platform_id == outbound.platform_message_id
        changed = {
            "type": "message",
            "subtype": "message_changed",
            "hidden": True,
            "channel": dm,
            "message": {
                **event,
                "text": "Can I change my plan to Pro?",
                "edited": {"user": customer, "ts": event["ts"]},
            },
            "previous_message": event,
            "ts": event["ts"],
            "event_ts": event["ts"],
            "channel_type": "im",
        }
        assert (await api.post_event(changed)).status_code == 200
        edited = await Message.get(id=stored.id)
        assert edited.text == "Can I change my plan to Pro?" and edited.edited_at is not None
        reaction = api.reaction_event(customer, dm, post["_ts"], "thumbsup")
        assert (await api.post_event(reaction, event_id="Ev0E2E0002")).status_code == 200
        assert (await api.post_event(reaction, event_id="Ev0E2E0002", retry_num=2)).status_code == 200
        (stored_reaction,) = await Message.filter(channel_id=channel.id, kind=MessageKind.REACTION)
        assert stored_reaction.metadata["target_platform_id"] == outbound.platform_message_id

        # 5. our own post echoed back by Slack is never a customer message
        echo = api.message_event(customer, dm, "Sure! Which plan?", ts=post["_ts"]) | {"bot_id": api.bot_id}
        assert (await api.post_event(echo)).status_code == 200
        assert await Message.filter(channel_id=channel.id, direction="inbound").count() == 3
        assert len([s for s in api.sent if s["channel"] == dm]) == 1


# ---- Slack's text, and the names behind mentions ---------------------------------------------------

REF_CHANNEL = ChannelCredentials(channel_id=5, config={"team_id": "T123ABC456"}, secrets=SECRETS)
MENTIONS_TEXT = (
    "Hey @{a}, @{w} said to ask in #general & #C0EMPTY01: @here the order <#42> is late, see "
    "the tracking page (https://status.example.com/orders?id=42&x=1) or help@example.com. "
    "cc @support-team, due Feb 18, 2014"
)


def parse_fixture(name: str, channel: ChannelCredentials = REF_CHANNEL) -> ParsedWebhook:
    return slack.parse(_request((FIXTURES / name).read_bytes()), channel)


def test_mrkdwn_tokens_read_as_the_slack_app_shows_them() -> None:
    (m,) = parse_fixture("mentions.json").messages
    assert m.text == MENTIONS_TEXT.format(a="U0G9QF9C6", w="W0ABCDEF1")
    assert m.metadata["mentions"] == {"U0G9QF9C6": None, "W0ABCDEF1": None}
    # A legacy mention carrying its own label, and text that only looks like a token.
    (legacy,) = parse_event(text_event(text="<@U0LEGACY1|ana> &amp;lt;b&amp;gt; a&lt;b")).messages
    assert legacy.text == "@ana &lt;b&gt; a<b"


def test_thread_broadcast_me_message_and_file_share_from_the_reference() -> None:
    (broadcast,) = parse_fixture("thread_broadcast.json").messages
    assert (broadcast.text, broadcast.reply_to_platform_id, broadcast.metadata["subtype"]) == (
        "broadcasting this reply",
        "C123ABC456:1673464730.703009",
        "thread_broadcast",
    )
    (me,) = parse_fixture("me_message.json").messages
    assert (me.kind, me.text, me.metadata["subtype"]) == (
        MessageKind.TEXT,
        "is doing that thing",
        "me_message",
    )
    (shared,) = parse_fixture("file_share.json").messages
    assert (shared.kind, shared.text, shared.attachments[0].filename) == (
        MessageKind.IMAGE,
        "Here it is @U0G9QF9C6",
        "tedair.gif",
    )


@pytest.fixture
async def directory() -> AsyncIterator[tuple[FakeSlack, ChannelCredentials]]:
    """A fake Slack that knows two people; a channel id of its own, so the name cache is fresh."""
    api = FakeSlack(
        bot_token=SECRETS["bot_token"], signing_secret=SECRETS["signing_secret"], team_id="T123ABC456"
    )
    api.add_profile("U0G9QF9C6", "Ana Souza", display_name="ana")
    api.add_profile("W0ABCDEF1", "Bruno Lima")
    api.add_profile("U123ABC456", "Carla Dias")
    async with api.serve() as base_url:
        channel_id = uuid.uuid4().int % 10**9
        yield api, ChannelCredentials(channel_id, {"team_id": "T123ABC456", "api_base": base_url}, SECRETS)


async def test_enrich_names_mentions_and_the_sender_once_then_from_the_cache(directory, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = directory
    parsed = parse_fixture("mentions.json", channel)
    (m,) = (await slack.enrich(http, channel, parsed)).messages
    assert m.text == MENTIONS_TEXT.format(a="ana", w="Bruno Lima")
    assert m.metadata["mentions"] == {"U0G9QF9C6": "ana", "W0ABCDEF1": "Bruno Lima"}
    assert m.sender_name == "Carla Dias"  # the event had no user_profile
    lookups = [r for r in api.requests if r["method"] == "users.info"]
    assert sorted(r["body"]["user"] for r in lookups) == ["U0G9QF9C6", "U123ABC456", "W0ABCDEF1"]
    assert {r["authorization"] for r in lookups} == {f"Bearer {SECRETS['bot_token']}"}
    # The next message naming the same people asks Slack nothing.
    (again,) = (await slack.enrich(http, channel, parse_fixture("file_share.json", channel))).messages
    assert again.text == "Here it is @ana"
    assert len([r for r in api.requests if r["method"] == "users.info"]) == 3
    # An edit's text is named too.
    edited = ParsedWebhook(edits=(MessageEdit("C1:1.2", datetime.now(UTC), text="ping @W0ABCDEF1"),))
    assert (await slack.enrich(http, channel, edited)).edits[0].text == "ping @Bruno Lima"


async def test_a_slow_or_refusing_slack_keeps_the_raw_ids(directory, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = directory
    parsed = parse_fixture("mentions.json", channel)
    api.users_delay = slack_names.LOOKUP_BUDGET + 1
    started = datetime.now(UTC)
    (slow,) = (await slack.enrich(http, channel, parsed)).messages
    assert (datetime.now(UTC) - started).total_seconds() < slack_names.LOOKUP_BUDGET + 0.5
    assert slow == parsed.messages[0]  # unchanged: stored with the raw ids, never lost
    # Slack did not answer in time: the next webhooks do not wait for it again, nor ask it.
    asked = len([r for r in api.requests if r["method"] == "users.info"])
    started = datetime.now(UTC)
    (paused,) = (await slack.enrich(http, channel, parse_fixture("mentions.json", channel))).messages
    assert (datetime.now(UTC) - started).total_seconds() < 0.5
    assert paused == parsed.messages[0]
    assert len([r for r in api.requests if r["method"] == "users.info"]) == asked
    slack_names._paused_until.clear()  # the pause is over
    api.users_delay = 0
    stranger = parse_event(text_event(text="hi <@U0NOBODY1>", user="U0NOBODY2"))
    (refused,) = (await slack.enrich(http, channel, stranger)).messages
    assert (refused.text, refused.sender_name) == ("hi @U0NOBODY1", None)
    broken = ChannelCredentials(channel.channel_id + 1, {"api_base": "http://127.0.0.1:9"}, SECRETS)
    (unreachable,) = (await slack.enrich(http, broken, stranger)).messages
    assert unreachable.text == "hi @U0NOBODY1"


async def test_mentions_end_to_end_named_or_raw_when_slack_is_slow(server) -> None:  # type: ignore[no-untyped-def]
    """Through the real app: the stored message carries the names; when users.info is too slow
    the webhook is still answered 200 in time and the message stored with the raw ids."""
    from models import CustomerIdentity, Message

    secret, token = uuid.uuid4().hex, f"xoxb-{uuid.uuid4().hex}"
    api = FakeSlack(bot_token=token, signing_secret=secret)
    customer = "U" + uuid.uuid4().hex[:9].upper()
    api.add_profile(customer, "Carla Dias")
    api.add_profile("U0G9QF9C6", "Ana Souza", display_name="ana")
    dm = api.add_user(customer)

    def wire(case: ConnectorCase) -> None:
        api.webhook_url = case.webhook

    secrets = {"signing_secret": secret, "bot_token": token}
    async with connector_case(server, api, "slack", {"team_id": TEAM}, secrets, wire=wire) as case:
        named = api.message_event(customer, dm, "ask <@U0G9QF9C6> &amp; <!here>")
        assert (await api.post_event(named)).status_code == 200
        api.users_delay = slack_names.LOOKUP_BUDGET + 2
        raw = api.message_event(customer, dm, "and <@W0NOBODY1>?")
        started = datetime.now(UTC)
        answered = await api.post_event(raw)
        assert (answered.status_code, answered.text) == (200, "ok")
        assert (datetime.now(UTC) - started).total_seconds() < 3  # inside Slack's deadline
        stored = {m.platform_message_id: m for m in await Message.filter(channel_id=case.channel.id)}
        first, second = stored[f"{dm}:{named['ts']}"], stored[f"{dm}:{raw['ts']}"]
        assert (first.text, first.metadata["mentions"]) == ("ask @ana & @here", {"U0G9QF9C6": "ana"})
        assert (second.text, second.metadata["mentions"]) == ("and @W0NOBODY1?", {"W0NOBODY1": None})
        # The sender, who came without a profile in the event, is known by name too.
        identity = await CustomerIdentity.get(channel_id=case.channel.id, external_id=customer)
        assert identity.display_name == "Carla Dias"
