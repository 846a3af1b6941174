"""Telegram: every sample parsed to concrete values, the secret-token header, sends and setWebhook
against a fake Bot API over real HTTP with Telegram's errors, and end to end through the app
(webhook registered by the connector, updates posted by the fake with the registered secret, an
agent's reply, a button press, an edit and a reaction; a WhatsApp customer merged and answered on
Telegram)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from connectors.base import (
    Attachment,
    Button,
    ChannelCredentials,
    MalformedPayload,
    MessageEdit,
    MessageKind,
    OutboundMessage,
    ParsedWebhook,
    SendError,
    WebhookRequest,
)
from connectors.fakes.server import serve_app
from connectors.telegram import ALLOWED_UPDATES, telegram
from resolvers.channels import credentials
from tests.conftest import SAMPLES
from tests.fakes.telegram import FakeTelegram, error_body
from tests.helpers import ConnectorCase, connector_case

TG = SAMPLES / "telegram"
FIXTURES = Path(__file__).parent / "fixtures" / "telegram"  # built from the Bot API reference
VECTORS = [
    v for v in json.loads((SAMPLES / "signature_vectors.json").read_text()) if v["platform"] == "telegram"
]
TOKEN = "7000000001:AAfakeTokenForTests_0123456789"
SECRET = "s3cret_-Token"
CHANNEL = ChannelCredentials(
    3, {"bot_username": "acme_support_bot"}, {"bot_token": TOKEN, "secret_token": SECRET}
)
JANE = 123456789
JANE_META = {"username": "janedoe", "language": "en"}


def _request(body: bytes, headers: dict[str, str] | None = None) -> WebhookRequest:
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    return WebhookRequest("POST", "https://x/webhooks/telegram/3", lowered, {}, body)


def parse_sample(name: str, channel: ChannelCredentials = CHANNEL) -> ParsedWebhook:
    return telegram.parse(_request((TG / name).read_bytes()), channel)


def parse_update(update: dict[str, Any], channel: ChannelCredentials = CHANNEL) -> ParsedWebhook:
    return telegram.parse(_request(orjson.dumps(update)), channel)


def _jane(**extra: Any) -> dict[str, Any]:
    return {
        "id": JANE,
        "is_bot": False,
        "first_name": "Jane",
        "last_name": "Doe",
        "username": "janedoe",
        **extra,
    }


def message(content: dict[str, Any], chat: dict[str, Any] | None = None, **extra: Any) -> Any:
    """Parse one `message` Update from Jane (in her private chat unless `chat`); None when skipped."""
    raw = {
        "message_id": 77,
        "from": _jane(),
        "chat": chat or {"id": JANE, "type": "private", "first_name": "Jane"},
        "date": 1750030200,
        **content,
        **extra,
    }
    parsed = parse_update({"update_id": 1, "message": raw})
    assert parsed.statuses == () and parsed.edits == ()
    return parsed.messages[0] if parsed.messages else None


# ---- samples ------------------------------------------------------------------------------------


def test_inbound_text_sample() -> None:
    parsed = parse_sample("inbound_text.json")
    assert parsed.reply is None and parsed.edits == ()
    (m,) = parsed.messages
    assert (m.platform_message_id, m.sender_id, m.kind, m.text, m.sender_name) == (
        "123456789:4521",
        "123456789",
        MessageKind.TEXT,
        "Hello bot",
        "Jane Doe",
    )
    assert m.sent_at == datetime.fromtimestamp(1750030069, UTC)
    assert (m.reply_address, m.reply_to_platform_id, m.sender_phone, m.attachments) == (None, None, None, ())
    assert m.metadata == JANE_META


def test_inbound_photo_sample_takes_the_largest_size() -> None:
    (m,) = parse_sample("inbound_photo.json").messages
    assert (m.platform_message_id, m.kind, m.text) == (
        "123456789:4523",
        MessageKind.IMAGE,
        "Is this the blue one?",
    )
    (a,) = m.attachments
    assert a.media_id == "AgACAgIAAxkBAAIBXmZfakeFileIdLarge00000000000000AAQFAAMCAAN5AAM1BA"
    assert (a.kind, a.size, a.mime_type, a.url) == (MessageKind.IMAGE, 93847, "image/jpeg", None)
    assert m.metadata == {**JANE_META, "width": 1280, "height": 960}


def test_largest_photo_is_chosen_by_pixels_not_position() -> None:
    sizes = [
        {"file_id": "big", "width": 1280, "height": 960},  # file_size is optional
        {"file_id": "small", "file_size": 1500, "width": 90, "height": 67},
        {"file_unique_id": "no-file-id", "width": 4000, "height": 3000},
    ]
    m = message({"photo": sizes})
    assert (m.attachments[0].media_id, m.text) == ("big", None)


def test_inbound_document_sample() -> None:
    (m,) = parse_sample("inbound_document.json").messages
    assert (m.platform_message_id, m.kind, m.text) == ("123456789:4524", MessageKind.DOCUMENT, None)
    assert m.attachments == (
        Attachment(
            kind=MessageKind.DOCUMENT,
            media_id="BQACAgIAAxkBAAIBX2ZfakeDocFileId000000000000000AAQ1BA",
            mime_type="application/pdf",
            filename="invoice.pdf",
            size=48213,
        ),
    )
    assert m.metadata == {**JANE_META, "telegram_type": "document"}


def test_inbound_command_sample() -> None:
    (m,) = parse_sample("inbound_command.json").messages
    assert (m.platform_message_id, m.kind, m.text) == ("123456789:4522", MessageKind.TEXT, "/start ref_abc")
    assert m.metadata == {**JANE_META, "command": "start", "command_args": "ref_abc"}


def test_inbound_group_text_sample() -> None:
    (m,) = parse_sample("inbound_group_text.json").messages
    assert (m.platform_message_id, m.sender_id, m.reply_address) == (
        "-1001234567890:88",
        "123456789",
        "-1001234567890",
    )
    assert (m.text, m.sender_name) == ("@acme_support_bot help", "Jane Doe")
    assert m.metadata == {
        **JANE_META,
        "chat_type": "supergroup",
        "chat_title": "Acme Customers",
        "mentioned": True,  # the channel's bot_username
    }
    other_bot = ChannelCredentials(3, {"bot_username": "other_bot"}, CHANNEL.secrets)
    (m,) = parse_sample("inbound_group_text.json", other_bot).messages
    assert "mentioned" not in m.metadata


def test_edited_message_sample() -> None:
    parsed = parse_sample("edited_message.json")
    assert parsed.messages == ()
    assert parsed.edits == (
        MessageEdit(
            platform_message_id="123456789:4521",  # the id inbound_text.json was stored under
            occurred_at=datetime.fromtimestamp(1750030120, UTC),
            text="Hello bot (edited)",
        ),
    )


def test_callback_query_sample() -> None:
    parsed = parse_sample("callback_query.json")
    (m,) = parsed.messages
    assert (m.platform_message_id, m.kind, m.text, m.sender_id) == (
        "callback:4382bfdwdsb323b2d9",
        MessageKind.POSTBACK,
        "Yes",  # the button's title, from the message's inline keyboard
        "123456789",
    )
    assert (m.reply_address, m.reply_to_platform_id) == (None, "123456789:4530")
    assert m.metadata == {**JANE_META, "payload": "confirm:12345"}
    # The webhook's answer stops the loading spinner on the customer's button.
    assert parsed.reply is not None and parsed.reply.status == 200
    assert parsed.reply.content_type == "application/json"
    assert json.loads(parsed.reply.body) == {
        "method": "answerCallbackQuery",
        "callback_query_id": "4382bfdwdsb323b2d9",
    }


def test_message_reaction_sample() -> None:
    (m,) = parse_sample("message_reaction.json").messages
    assert (m.kind, m.text, m.sender_id, m.sender_name) == (
        MessageKind.REACTION,
        "👍",
        "123456789",
        "Jane Doe",
    )
    assert m.metadata == {**JANE_META, "emoji": "👍", "target_platform_id": "123456789:4530"}
    assert m.reply_to_platform_id == "123456789:4530"
    assert m.sent_at == datetime.fromtimestamp(1750030130, UTC)
    assert m.platform_message_id.startswith("reaction:123456789:4530:123456789:1750030130:")
    # Stable: a redelivery gets the same id, so it is stored once.
    assert parse_sample("message_reaction.json").messages[0].platform_message_id == m.platform_message_id


async def test_send_text_request_sample_matches_our_body() -> None:
    sample = json.loads((TG / "send_text_request.json").read_text())
    captured: list[dict[str, Any]] = []
    response = json.loads((TG / "send_response.json").read_text())

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == f"/bot{TOKEN}/sendMessage"
        captured.append(json.loads(request.content))
        return httpx.Response(200, json=response)

    result = await _run_mock(
        handler,
        OutboundMessage(
            recipient_id=str(sample["chat_id"]),
            kind=MessageKind.TEXT,
            idempotency_key="k",
            text=sample["text"],
            reply_to_platform_id=f"{sample['chat_id']}:{sample['reply_parameters']['message_id']}",
        ),
    )
    # The sample's parse_mode is left out on purpose: agents' text goes out literally.
    assert captured == [
        {
            "chat_id": sample["chat_id"],
            "text": sample["text"],
            "reply_parameters": {**sample["reply_parameters"], "allow_sending_without_reply": True},
        }
    ]
    assert result == "123456789:4531"  # send_response.json's chat:message_id


@pytest.mark.parametrize(
    ("sample", "status", "retryable", "retry_after", "reason"),
    [
        ("send_error_429.json", 429, True, 35.0, "limiting how fast this bot sends for 35 seconds"),
        ("send_error_403_blocked.json", 403, False, None, "The customer has blocked this bot"),
        ("send_error_400_chat_not_found.json", 400, False, None, "Telegram does not know this chat"),
    ],
)
async def test_send_error_samples_are_classified(
    sample: str, status: int, retryable: bool, retry_after: float | None, reason: str
) -> None:
    body = json.loads((TG / sample).read_text())
    with pytest.raises(SendError) as caught:
        await _run_mock(lambda _: httpx.Response(status, json=body), _text(JANE))
    error = caught.value
    assert (error.code, error.retryable, error.retry_after) == (str(status), retryable, retry_after)
    assert reason in error.reason and not error.affects_channel
    # The fake answers with exactly these bodies.
    parameters = body.get("parameters", {})
    assert error_body(status, body["description"], **parameters) == body


async def test_set_webhook_request_sample_matches_register_webhook() -> None:
    sample = json.loads((TG / "set_webhook_request.json").read_text())
    captured: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == f"/bot{TOKEN}/setWebhook"
        captured.append(json.loads(request.content))
        return httpx.Response(200, json={"ok": True, "result": True, "description": "Webhook was set"})

    channel = ChannelCredentials(
        3, {"api_base": "https://api.test"}, {"bot_token": TOKEN, "secret_token": sample["secret_token"]}
    )

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        await telegram.register_webhook(http, channel, sample["url"])
    # max_connections is left at Telegram's default (40, as in the sample).
    assert captured == [{k: v for k, v in sample.items() if k != "max_connections"}]
    assert tuple(sample["allowed_updates"]) == ALLOWED_UPDATES


def test_every_sample_is_covered() -> None:
    covered = {
        "inbound_text.json",
        "inbound_photo.json",
        "inbound_document.json",
        "inbound_command.json",
        "inbound_group_text.json",
        "edited_message.json",
        "callback_query.json",
        "message_reaction.json",
        "send_text_request.json",
        "send_response.json",
        "send_error_429.json",
        "send_error_403_blocked.json",
        "send_error_400_chat_not_found.json",
        "set_webhook_request.json",
    }
    assert {p.name for p in TG.iterdir()} == covered


# ---- more shapes ----------------------------------------------------------------------------------


def test_media_kinds_and_captions() -> None:
    voice = message(
        {"voice": {"file_id": "AwAC-voice", "mime_type": "audio/ogg", "duration": 4, "file_size": 9000}}
    )
    assert (voice.kind, voice.text, voice.attachments[0].mime_type) == (MessageKind.AUDIO, None, "audio/ogg")
    assert voice.metadata["voice"] is True and voice.metadata["duration"] == 4
    video = message({"video": {"file_id": "BAAC-video", "mime_type": "video/mp4"}, "caption": "unboxing"})
    assert (video.kind, video.text, video.attachments[0].media_id) == (
        MessageKind.VIDEO,
        "unboxing",
        "BAAC-video",
    )
    audio = message({"audio": {"file_id": "CQAC-song", "file_name": "song.mp3", "mime_type": "audio/mpeg"}})
    assert (audio.kind, audio.attachments[0].filename) == (MessageKind.AUDIO, "song.mp3")
    # A GIF carries both `animation` and `document`: it is a video, not a file.
    gif = message(
        {"animation": {"file_id": "CgAC-gif", "mime_type": "video/mp4"}, "document": {"file_id": "CgAC-gif"}}
    )
    assert (gif.kind, gif.metadata["telegram_type"]) == (MessageKind.VIDEO, "animation")
    sticker = message(
        {"sticker": {"file_id": "CAAC-st", "emoji": "😀", "is_animated": True, "is_video": False}}
    )
    assert (sticker.kind, sticker.text, sticker.attachments[0].mime_type) == (
        MessageKind.STICKER,
        "😀",
        "application/x-tgsticker",
    )


def test_location_venue_and_contacts() -> None:
    here = message({"location": {"latitude": 51.5, "longitude": -0.12}})
    assert (here.kind, here.text) == (MessageKind.LOCATION, "Location: 51.5, -0.12")
    assert here.metadata["location"] == {"latitude": 51.5, "longitude": -0.12}
    venue = message(
        {
            "location": {"latitude": 51.5, "longitude": -0.12},
            "venue": {
                "location": {"latitude": 51.5, "longitude": -0.12},
                "title": "Acme Store",
                "address": "1 High St",
            },
        }
    )
    assert venue.text == "Location: Acme Store, 1 High St (51.5, -0.12)"
    other = message({"contact": {"phone_number": "+44 7911 123456", "first_name": "Bob", "user_id": 555}})
    assert (other.kind, other.text, other.sender_phone) == (
        MessageKind.CONTACTS,
        "Shared contact: Bob (+44 7911 123456)",
        None,  # someone else's card: Telegram vouches for nothing about the sender
    )
    own = message({"contact": {"phone_number": "447911123456", "first_name": "Jane", "user_id": JANE}})
    assert (own.sender_phone, own.metadata["own_contact"]) == ("447911123456", True)


def test_replies_forwards_and_forum_topics() -> None:
    reply = message({"text": "this one", "reply_to_message": {"message_id": 4531, "chat": {"id": JANE}}})
    assert reply.reply_to_platform_id == "123456789:4531"
    forwarded = message({"text": "fwd", "forward_origin": {"type": "user", "date": 1}})
    assert forwarded.metadata["forwarded"] is True
    group = {"id": -1001, "type": "supergroup", "title": "Help", "is_forum": True}
    topic = message(
        {"text": "in a topic", "message_thread_id": 5, "is_topic_message": True},
        chat=group,
        reply_to_message={"message_id": 5, "forum_topic_created": {"name": "Orders"}},
    )
    assert topic.reply_to_platform_id is None and topic.metadata["topic_id"] == 5


def test_commands_addressed_to_a_bot_and_without_entities() -> None:
    m = message(
        {
            "text": "/Help@acme_support_bot now",
            "entities": [{"offset": 0, "length": 22, "type": "bot_command"}],
        }
    )
    assert (m.metadata["command"], m.metadata["command_bot"], m.metadata["command_args"]) == (
        "help",
        "acme_support_bot",
        "now",
    )
    assert "command" not in message({"text": "a /path in text"}).metadata
    assert message({"text": "/stop"}).metadata["command"] == "stop"


def test_what_is_not_a_customer_message_is_skipped() -> None:
    assert message({"text": "from a bot"}, **{"from": {"id": 1, "is_bot": True, "first_name": "B"}}) is None
    assert (
        message(
            {"text": "channel post copy"},
            **{"from": {"id": 777000, "is_bot": False, "first_name": "Telegram"}},
        )
        is None
    )
    assert message({"new_chat_members": [_jane()]}) is None
    assert message({"migrate_to_chat_id": -1009}) is None
    for key in ("channel_post", "my_chat_member", "business_message", "inline_query"):
        assert parse_update({"update_id": 5, key: {"anything": 1}}) == ParsedWebhook()


def test_unknown_content_is_kept_as_unsupported() -> None:
    poll = message({"poll": {"id": "1", "question": "Pizza?", "options": []}})
    assert (poll.kind, poll.text) == (MessageKind.UNSUPPORTED, "Poll: Pizza?")
    story = message(
        {"entities": [], "forward_origin": {"type": "hidden_user"}, "story": {"chat": {"id": 1}, "id": 3}}
    )
    assert (story.kind, story.metadata["raw_type"]) == (MessageKind.UNSUPPORTED, "story")
    assert story.text == "Shared a story from a chat"


def fixture_updates(name: str) -> list[dict[str, Any]]:
    return json.loads((FIXTURES / name).read_text())


def test_forwards_keep_whom_they_came_from() -> None:
    got = [parse_update(u).messages[0] for u in fixture_updates("forwards.json")]
    assert all(m.metadata["forwarded"] is True for m in got)
    assert [m.metadata["forwarded_from"] for m in got] == [
        {
            "type": "user",
            "id": 555000111,
            "name": "Bob Stone",
            "username": "bobstone",
            "date": "2025-06-15T15:06:40+00:00",
        },
        {"type": "hidden_user", "name": "Carla M.", "date": "2025-06-15T15:06:40+00:00"},
        {
            "type": "chat",
            "id": -1009876543210,
            "name": "Acme Fans",
            "signature": "Admin",
            "date": "2025-06-15T15:06:40+00:00",
        },
        {
            "type": "channel",
            "id": -1001234567890,
            "name": "Acme News",
            "username": "acmenews",
            "message_id": 77,
            "signature": "Marketing",
            "date": "2025-06-15T15:06:40+00:00",
        },
        {  # the fields Bot API 7.0 replaced, alone
            "type": "channel",
            "id": -1001234567890,
            "name": "Acme News",
            "username": "acmenews",
            "message_id": 76,
            "signature": "Marketing",
            "date": "2025-06-15T12:20:00+00:00",
        },
    ]
    assert got[0].text == "Is this still on sale?"
    hidden_legacy = message({"text": "x", "forward_sender_name": "Carla M.", "forward_date": 1})
    assert hidden_legacy.metadata["forwarded_from"]["name"] == "Carla M."


def test_other_kinds_from_the_reference_are_stored_readably() -> None:
    got = {m.platform_message_id: m for u in fixture_updates("kinds.json") for m in parse_update(u).messages}
    by_mid = {int(k.split(":")[1]): m for k, m in got.items()}
    assert len(by_mid) == 10  # every kind is stored, none dropped
    expected = {
        201: (MessageKind.UNSUPPORTED, "Shared a story from Acme News"),
        202: (MessageKind.UNSUPPORTED, "Giveaway by Acme News: A year of free shipping"),
        203: (MessageKind.UNSUPPORTED, "Giveaway winners in Acme News: Bob Stone"),
        204: (MessageKind.UNSUPPORTED, "Paid media (1 item, 50 Telegram Stars)\nBehind the scenes"),
        205: (MessageKind.UNSUPPORTED, "🎲 5"),
        206: (MessageKind.UNSUPPORTED, "Poll: Which colour?\n- Blue\n- Red"),
        207: (MessageKind.LOCATION, "Location: 38.722252, -9.139337"),
        208: (MessageKind.LOCATION, "Location: Acme Store, Rua Augusta 1, Lisboa (38.7139, -9.1394)"),
        209: (MessageKind.CONTACTS, "Shared contact: Bob Stone (+351912345678)"),
        210: (MessageKind.UNSUPPORTED, None),
    }
    assert {mid: (m.kind, m.text) for mid, m in by_mid.items()} == expected
    assert by_mid[201].metadata["forwarded_from"]["name"] == "Acme News"
    assert by_mid[207].metadata["live_period"] == 900
    assert [by_mid[mid].metadata["raw_type"] for mid in (201, 202, 203, 204, 210)] == [
        "story",
        "giveaway",
        "giveaway_winners",
        "paid_media",
        "checklist",
    ]


def test_edits_without_text_and_live_locations() -> None:
    base = {
        "message_id": 9,
        "from": _jane(),
        "chat": {"id": JANE, "type": "private"},
        "date": 1,
        "edit_date": 2,
    }
    (caption,) = parse_update({"update_id": 2, "edited_message": {**base, "caption": "new caption"}}).edits
    assert (caption.platform_message_id, caption.text) == ("123456789:9", "new caption")
    live = {**base, "location": {"latitude": 1.0, "longitude": 2.0, "live_period": 900}}
    assert parse_update({"update_id": 3, "edited_message": live}) == ParsedWebhook()


def _callback(**query: Any) -> ParsedWebhook:
    return parse_update({"update_id": 7, "callback_query": {"id": "77", "from": _jane(), **query}})


def test_callbacks_in_groups_without_titles_and_without_data() -> None:
    group = {"message_id": 3, "chat": {"id": -100555, "type": "group", "title": "T"}, "date": 1, "text": "?"}
    (m,) = _callback(message=group, data="ok").messages
    assert (m.text, m.reply_address, m.reply_to_platform_id, m.metadata["payload"]) == (
        "ok",  # no keyboard to find the title in: the payload stands in
        "-100555",
        "-100555:3",
        "ok",
    )
    (inline,) = _callback(inline_message_id="AAA", data="x").messages  # sent in inline mode: no chat
    assert (inline.reply_address, inline.reply_to_platform_id) == (None, None)
    no_id = parse_update({"update_id": 8, "callback_query": {"from": _jane(), "data": "x"}})
    assert no_id.messages[0].platform_message_id == "update:8" and no_id.reply is None
    game = _callback(game_short_name="tetris")
    assert game.messages == () and game.reply is None


def _reaction(new: list[dict[str, Any]], old: list[dict[str, Any]] | None = None, **extra: Any) -> Any:
    raw = {
        "chat": {"id": JANE, "type": "private"},
        "message_id": 4530,
        "user": _jane(),
        "date": 1750030130,
        "old_reaction": old or [],
        "new_reaction": new,
        **extra,
    }
    messages = parse_update({"update_id": 42, "message_reaction": raw}).messages
    return messages[0] if messages else None


def test_reactions_removed_changed_custom_and_anonymous() -> None:
    thumbs = {"type": "emoji", "emoji": "👍"}
    heart = {"type": "emoji", "emoji": "❤"}
    removed = _reaction([], [thumbs])
    assert (removed.metadata["emoji"], removed.text) == ("", None)
    added = _reaction([heart, thumbs], [thumbs])  # the whole new set, the new one not last
    assert (added.metadata["emoji"], added.metadata["emojis"]) == ("❤", ["❤", "👍"])
    assert _reaction([heart], [thumbs]).platform_message_id != _reaction([thumbs]).platform_message_id
    custom = _reaction([{"type": "custom_emoji", "custom_emoji_id": "5368324170671202286"}])
    assert custom.metadata["emoji"] == "custom_emoji:5368324170671202286"
    assert _reaction([thumbs], user=None, actor_chat={"id": -100, "type": "channel"}) is None
    undated = _reaction([thumbs], date=None)
    assert undated.platform_message_id == "update:42"  # the update's own id, stable across redeliveries


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"message": {}}', b'{"update_id": "1"}', b'{"update_id": true}'],
)
def test_malformed_bodies(body: bytes) -> None:
    with pytest.raises(MalformedPayload):
        telegram.parse(_request(body), CHANNEL)


def test_odd_content_in_a_real_update_is_skipped_not_refused() -> None:
    # A 400 would make Telegram hold every later update behind this one.
    for odd in ({"message": {"text": "no ids"}}, {"message": "x"}, {"edited_message": {"text": "?"}}):
        assert parse_update({"update_id": 9, **odd}) == ParsedWebhook()


# ---- the secret-token header ------------------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: "valid" if v["valid"] else "invalid")
def test_signature_vectors(vector: dict[str, Any]) -> None:
    channel = ChannelCredentials(3, {}, {"bot_token": TOKEN, "secret_token": vector["secret"]})
    request = _request((SAMPLES / vector["body_file"]).read_bytes(), vector["headers"])
    assert telegram.verify(request, channel, now=0) is vector["valid"]


def test_missing_wrong_and_unset_secret_tokens_are_refused() -> None:
    body = (TG / "inbound_text.json").read_bytes()
    header = "x-telegram-bot-api-secret-token"
    assert telegram.verify(_request(body, {header: SECRET}), CHANNEL, now=0)
    assert telegram.verify(_request(body, {"X-Telegram-Bot-Api-Secret-Token": SECRET}), CHANNEL, now=0)
    assert not telegram.verify(_request(body), CHANNEL, now=0)
    assert not telegram.verify(_request(body, {header: SECRET + "x"}), CHANNEL, now=0)
    assert not telegram.verify(_request(body, {header: SECRET[:-1]}), CHANNEL, now=0)
    assert not telegram.verify(_request(body, {header: SECRET.lower()}), CHANNEL, now=0)
    assert not telegram.verify(_request(body, {header: "é"}), CHANNEL, now=0)
    unset = ChannelCredentials(3, {}, {"bot_token": TOKEN})
    assert not telegram.verify(_request(body, {header: ""}), unset, now=0)
    # The header is a shared secret, not a signature over the body, and has no timestamp: any
    # body carrying it is Telegram's (which is why the secret must stay secret and be rotatable).
    assert telegram.verify(_request(body.replace(b"Hello", b"Bye"), {header: SECRET}), CHANNEL, now=1e12)
    assert telegram.handshake(WebhookRequest("GET", "https://x", {}, {}, b""), CHANNEL) is None


# ---- configuration --------------------------------------------------------------------------------


def test_validate_config() -> None:
    assert telegram.validate_config({}, {"bot_token": TOKEN, "secret_token": "ok_-1"}) == []
    assert (
        telegram.validate_config(
            {"api_base": "http://127.0.0.1:9", "bot_username": "@Acme_Support_Bot"},
            {"bot_token": TOKEN, "secret_token": "a" * 256},
        )
        == []
    )
    assert telegram.validate_config({}, {}) == [
        "The bot token (bot_token) from @BotFather is required.",
        "The webhook secret (secret_token) is required.",
    ]
    assert telegram.validate_config(
        {"api_base": "ftp://x", "bot_username": "acme_support"},
        {"bot_token": "nope", "secret_token": "bad token!"},
    ) == [
        'The bot token (bot_token) does not look like one from @BotFather ("123456789:AAH…", digits, a colon, '
        "then letters, digits, _ and -).",
        "The webhook secret (secret_token) must be 1 to 256 characters, using only A-Z, a-z, 0-9, _ and -.",
        "The API base URL (api_base) must start with https:// or http://.",
        'The bot username (bot_username) must be the bot\'s Telegram username, like "acme_support_bot": '
        '5 to 32 letters, digits or _, ending in "bot".',
    ]
    too_long = telegram.validate_config({}, {"bot_token": TOKEN, "secret_token": "a" * 257})
    assert too_long == [
        "The webhook secret (secret_token) must be 1 to 256 characters, using only A-Z, a-z, 0-9, _ and -."
    ]


def test_new_channels_get_a_secret_token() -> None:
    config, secrets = telegram.prepare_new_channel({"bot_username": "acme_bot"}, {"bot_token": TOKEN})
    assert config == {"bot_username": "acme_bot"} and secrets["bot_token"] == TOKEN
    assert telegram.validate_config(config, secrets) == [] and len(secrets["secret_token"]) >= 32
    assert (
        telegram.prepare_new_channel({}, {"bot_token": TOKEN})[1]["secret_token"] != secrets["secret_token"]
    )
    given = {"bot_token": TOKEN, "secret_token": "mine"}
    assert telegram.prepare_new_channel({}, given)[1] == given


def test_capabilities() -> None:
    caps = telegram.capabilities
    assert caps.reply_window is None and not caps.can_initiate and caps.buttons and caps.media
    assert not caps.delivery_statuses and not caps.read_statuses and not caps.templates
    assert caps.max_attachments == 1 and telegram.max_text_length == 4096
    assert telegram.secret_names == ("bot_token", "secret_token")
    assert telegram.generated_secrets == ("secret_token",)


# ---- sending against the fake over real HTTP -----------------------------------------------------------


async def _run_mock(handler: Any, out: OutboundMessage) -> str:
    """Send through an in-process transport answering with a sample's exact bytes."""
    channel = ChannelCredentials(
        3, {"api_base": "https://api.test"}, {"bot_token": TOKEN, "secret_token": SECRET}
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        return (await telegram.send(http, channel, out)).platform_message_id


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeTelegram, ChannelCredentials]]:
    api = FakeTelegram()
    api.add_bot(TOKEN)
    api.start_chat(JANE, "Jane", "Doe", "janedoe")
    async with api.serve() as base:
        yield (
            api,
            ChannelCredentials(3, {"api_base": base, "bot_username": "acme_support_bot"}, CHANNEL.secrets),
        )


def _text(to: int | str, text: str = "hello", **kw: Any) -> OutboundMessage:
    return OutboundMessage(recipient_id=str(to), kind=MessageKind.TEXT, idempotency_key="1", text=text, **kw)


def _media(kind: MessageKind, url: str, caption: str | None = None, **kw: Any) -> OutboundMessage:
    return OutboundMessage(
        recipient_id=str(JANE),
        kind=kind,
        idempotency_key="m",
        text=caption,
        attachments=(Attachment(kind=kind, url=url),),
        **kw,
    )


async def _send_error(
    http: httpx.AsyncClient, channel: ChannelCredentials, out: OutboundMessage
) -> SendError:
    with pytest.raises(SendError) as caught:
        await telegram.send(http, channel, out)
    return caught.value


def _bodies(api: FakeTelegram) -> list[dict[str, Any]]:
    return [{k: v for k, v in s.items() if not k.startswith("_")} for s in api.sent]


async def test_text_and_reply_in_the_same_chat_only(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    first = await telegram.send(http, channel, _text(JANE, "Hi Jane, how can we help?"))
    (sent,) = api.sent
    assert first.platform_message_id == f"{JANE}:{sent['_message_id']}"
    assert _bodies(api) == [{"chat_id": JANE, "text": "Hi Jane, how can we help?"}]
    await telegram.send(http, channel, _text(JANE, "re", reply_to_platform_id=first.platform_message_id))
    assert api.sent[-1]["reply_parameters"] == {
        "message_id": sent["_message_id"],
        "allow_sending_without_reply": True,
    }
    # A reply to a message of another chat (the same number in another chat) quotes nothing.
    await telegram.send(http, channel, _text(JANE, "re2", reply_to_platform_id=f"999:{sent['_message_id']}"))
    assert "reply_parameters" not in api.sent[-1]
    # A deleted message: Telegram still sends, without the quote.
    await telegram.send(http, channel, _text(JANE, "re3", reply_to_platform_id=f"{JANE}:1"))
    assert api.sent[-1]["text"] == "re3"
    assert [r.method for r in api.requests] == ["sendMessage"] * 4


async def test_groups_are_addressed_by_chat_id(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    api.add_group(-1001234567890)
    result = await telegram.send(http, channel, _text("-1001234567890", "For the whole group"))
    assert result.platform_message_id == f"-1001234567890:{api.sent[-1]['_message_id']}"
    assert api.sent[-1]["chat_id"] == -1001234567890


async def test_migrated_group_is_sent_to_its_supergroup(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    api.add_group(-4001, type="group")
    api.migrate(-4001, -1004001)
    result = await telegram.send(
        http, channel, _text("-4001", "still there?", reply_to_platform_id="-4001:12")
    )
    assert [r.status for r in api.requests] == [400, 200]
    (sent,) = api.sent
    assert (sent["chat_id"], "reply_parameters" in sent) == (-1004001, False)
    assert result.platform_message_id == f"-1004001:{sent['_message_id']}"


async def test_media_by_url_with_captions(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    cases = [
        (MessageKind.IMAGE, "sendPhoto", "photo", "https://cdn.example.com/a.jpg"),
        (MessageKind.DOCUMENT, "sendDocument", "document", "https://cdn.example.com/invoice.pdf"),
        (MessageKind.VIDEO, "sendVideo", "video", "https://cdn.example.com/a.mp4"),
        (MessageKind.AUDIO, "sendAudio", "audio", "https://cdn.example.com/a.mp3"),
    ]
    for kind, method, field, url in cases:
        result = await telegram.send(http, channel, _media(kind, url, "look"))
        sent = api.sent[-1]
        assert sent["_method"] == method
        assert {k: v for k, v in sent.items() if not k.startswith("_")} == {
            "chat_id": JANE,
            field: url,
            "caption": "look",
        }
        assert result.platform_message_id == f"{JANE}:{sent['_message_id']}"
    await telegram.send(http, channel, _media(MessageKind.IMAGE, "https://cdn.example.com/b.jpg"))
    assert "caption" not in api.sent[-1]
    sticker = await _send_error(
        http, channel, _media(MessageKind.STICKER, "https://cdn.example.com/s.webp", "hi")
    )
    assert (sticker.code, sticker.retryable) == ("caption_not_allowed", False)
    long = await _send_error(
        http, channel, _media(MessageKind.IMAGE, "https://cdn.example.com/a.jpg", "x" * 1025)
    )
    assert long.code == "too_long" and "1024" in long.reason
    missing = await _send_error(
        http, channel, _media(MessageKind.IMAGE, "https://cdn.example.com/not-found.jpg")
    )
    assert (missing.code, missing.retryable) == ("400", False)
    assert "could not download the attachment" in missing.reason
    assert len(api.sent) == 5  # nothing refused locally reached the API


async def test_buttons_become_an_inline_keyboard(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    buttons = (
        Button("confirm:12345", "Yes"),
        Button("no", "No"),
        Button("site", "Track it", "https://x.example/t"),
    )
    await telegram.send(http, channel, _text(JANE, "Confirm order?", buttons=buttons))
    assert api.sent[-1]["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Yes", "callback_data": "confirm:12345"}],
            [{"text": "No", "callback_data": "no"}],
            [{"text": "Track it", "url": "https://x.example/t"}],
        ]
    }
    await telegram.send(
        http, channel, _media(MessageKind.IMAGE, "https://cdn.example.com/a.jpg", buttons=buttons[:1])
    )
    assert api.sent[-1]["reply_markup"]["inline_keyboard"] == [
        [{"text": "Yes", "callback_data": "confirm:12345"}]
    ]
    # 64 bytes of UTF-8, not 64 characters: 22 × "é€" is 44 characters but 110 bytes.
    too_big = await _send_error(http, channel, _text(JANE, "pick", buttons=(Button("é€" * 22, "A"),)))
    assert (too_big.code, too_big.retryable) == ("buttons", False) and "110 bytes" in too_big.reason
    bad_link = await _send_error(
        http, channel, _text(JANE, "go", buttons=(Button("l", "Link", "javascript:x"),))
    )
    assert bad_link.code == "buttons"
    assert len(api.sent) == 2


async def test_limits_are_refused_before_the_api(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    long = await _send_error(http, channel, _text(JANE, "x" * 4097))
    assert (long.code, long.retryable) == ("too_long", False) and "4097" in long.reason
    empty = await _send_error(http, channel, _text(JANE, "   "))
    assert (empty.code, empty.retryable) == ("empty", False)
    who = await _send_error(http, channel, _text("janedoe", "hi"))
    assert (who.code, who.retryable) == ("bad_recipient", False)
    two = _media(MessageKind.IMAGE, "https://a/1.jpg")
    two = OutboundMessage(**{**two.__dict__, "attachments": two.attachments * 2})
    assert (await _send_error(http, channel, two)).code == "too_many_attachments"
    template = OutboundMessage(
        recipient_id=str(JANE), kind=MessageKind.TEMPLATE, idempotency_key="t", template={"name": "x"}
    )
    assert (await _send_error(http, channel, template)).code == "unsupported_kind"
    assert api.requests == []
    await telegram.send(http, channel, _text(JANE, "x" * 4096))  # exactly the limit goes through
    assert len(api.sent[-1]["text"]) == 4096


async def test_rate_limit_and_server_errors_are_retried(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    api.fail_next(429, retry_after=7)
    limited = await _send_error(http, channel, _text(JANE))
    assert (limited.code, limited.retryable, limited.retry_after) == ("429", True, 7.0)
    assert "7 seconds" in limited.reason and not limited.affects_channel
    api.fail_next(502)
    bad_gateway = await _send_error(http, channel, _text(JANE))
    assert (bad_gateway.code, bad_gateway.retryable) == ("502", True)
    assert api.sent == []
    await telegram.send(http, channel, _text(JANE, "after the wait"))  # the retry goes through
    assert [s["text"] for s in api.sent] == ["after the wait"]


async def test_permanent_errors_have_reasons_for_humans(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    unknown = await _send_error(http, channel, _text(42))
    assert (unknown.code, unknown.retryable) == ("400", False)
    assert unknown.reason.startswith(
        "Telegram does not know this chat: the customer may never have started the bot"
    )
    api.block(JANE)
    blocked = await _send_error(http, channel, _text(JANE))
    assert (blocked.code, blocked.retryable, blocked.affects_channel) == ("403", False, False)
    assert blocked.reason == "The customer has blocked this bot; Telegram will not deliver to them."
    api.fail_next(403, "Forbidden: bot was kicked from the supergroup chat")
    assert "removed from this group" in (await _send_error(http, channel, _text(JANE))).reason
    api.fail_next(400, "Bad Request: something new")
    novel = await _send_error(http, channel, _text(JANE))
    assert novel.reason == "Telegram refused the message: Bad Request: something new"


async def test_a_refused_token_is_the_channel_s_problem(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    wrong = ChannelCredentials(
        3, channel.config, {"bot_token": "7000000001:AAwrongwrongwrong", "secret_token": SECRET}
    )
    refused = await _send_error(http, wrong, _text(JANE))
    assert (refused.code, refused.retryable, refused.affects_channel) == ("401", False, True)
    assert "@BotFather" in refused.reason and "AAwrong" not in str(refused)
    assert api.requests[-1].status == 401 and api.sent == []
    none = ChannelCredentials(3, channel.config, {"secret_token": SECRET})
    assert (await _send_error(http, none, _text(JANE))).affects_channel


async def test_transport_errors_are_retryable(http) -> None:  # type: ignore[no-untyped-def]
    channel = ChannelCredentials(3, {"api_base": "http://127.0.0.1:9"}, CHANNEL.secrets)
    error = await _send_error(http, channel, _text(JANE))
    assert (error.code, error.retryable) == ("NETWORK_ERROR", True) and TOKEN not in str(error)


async def test_fake_is_strict(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    base = channel.config["api_base"]

    async def call(method: str, body: dict[str, Any], token: str = TOKEN) -> tuple[int, dict[str, Any]]:
        r = await http.post(f"{base}/bot{token}/{method}", json=body)
        return r.status_code, r.json()

    assert await call("sendMessage", {"chat_id": JANE, "text": "x"}, "1:nope") == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    assert await call("sendMessage", {"text": "x"}) == (
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: chat_id is empty"},
    )
    assert (await call("sendMessage", {"chat_id": JANE}))[1][
        "description"
    ] == "Bad Request: message text is empty"
    assert (await call("sendMessage", {"chat_id": JANE, "text": "x" * 4097}))[1]["description"] == (
        "Bad Request: message is too long"
    )
    assert (await call("sendPhoto", {"chat_id": JANE}))[1][
        "description"
    ] == "Bad Request: there is no photo in the request"
    assert (await call("sendNothing", {"chat_id": JANE}))[0] == 404
    bad_button = {"chat_id": JANE, "text": "x", "reply_markup": {"inline_keyboard": [[{"text": "A"}]]}}
    assert (await call("sendMessage", bad_button))[0] == 400
    assert (await call("sendMessage", {"chat_id": JANE, "text": "x", "reply_parameters": {"message_id": 1}}))[
        1
    ]["description"] == "Bad Request: message to be replied not found"
    status, me = await call("getMe", {})
    assert status == 200 and me["result"]["username"] == "acme_support_bot" and me["result"]["is_bot"]
    form = await http.post(f"{base}/bot{TOKEN}/sendMessage", data={"chat_id": str(JANE), "text": "form"})
    assert form.json()["result"]["text"] == "form" and form.json()["result"]["chat"]["id"] == JANE
    assert api.sent[-1]["text"] == "form" and len(api.sent) == 1


# ---- setWebhook ---------------------------------------------------------------------------------


async def test_register_webhook(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    await telegram.register_webhook(http, channel, "https://support.example.com/webhooks/telegram/3")
    assert [r.method for r in api.requests] == ["getMe", "setWebhook"]  # the token is the configured bot's
    assert api.bots[TOKEN].webhook == {
        "url": "https://support.example.com/webhooks/telegram/3",
        "secret_token": SECRET,
        "allowed_updates": ["message", "edited_message", "callback_query", "message_reaction"],
    }
    # After a rotation the new secret is what Telegram sends from then on.
    rotated = ChannelCredentials(
        3, {"api_base": channel.config["api_base"]}, {"bot_token": TOKEN, "secret_token": "new_secret"}
    )
    await telegram.register_webhook(http, rotated, "https://support.example.com/webhooks/telegram/3")
    assert api.bots[TOKEN].webhook["secret_token"] == "new_secret"
    assert (
        api.requests[-1].method == "setWebhook" and api.requests[-2].method == "setWebhook"
    )  # no getMe without bot_username


async def test_register_webhook_refusals(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    other = ChannelCredentials(3, {**channel.config, "bot_username": "@other_bot"}, channel.secrets)
    with pytest.raises(SendError) as wrong_bot:
        await telegram.register_webhook(http, other, "https://support.example.com/w")
    assert wrong_bot.value.code == "wrong_bot" and wrong_bot.value.affects_channel
    assert (
        wrong_bot.value.reason
        == "The bot token belongs to @acme_support_bot, but this channel is set up for @other_bot."
    )
    assert api.bots[TOKEN].webhook is None  # another bot's webhook is never taken over
    with pytest.raises(SendError) as plain_http:
        await telegram.register_webhook(http, channel, "http://support.example.com/w")
    assert not plain_http.value.retryable and "HTTPS URL must be provided" in plain_http.value.reason
    bad_secret = ChannelCredentials(3, channel.config, {"bot_token": TOKEN, "secret_token": "has space"})
    with pytest.raises(SendError) as secret:
        await telegram.register_webhook(http, bad_secret, "https://support.example.com/w")
    assert secret.value.code == "secret_token" and secret.value.affects_channel
    revoked = ChannelCredentials(
        3, channel.config, {"bot_token": "1:AAAAAAAAAAAAAAAA", "secret_token": SECRET}
    )
    with pytest.raises(SendError) as token:
        await telegram.register_webhook(http, revoked, "https://support.example.com/w")
    assert token.value.affects_channel and token.value.code == "401"
    api.fail_next(429, retry_after=3)
    with pytest.raises(SendError) as limited:
        await telegram.register_webhook(http, channel, "https://support.example.com/w")
    assert limited.value.retryable and limited.value.retry_after == 3.0
    assert api.bots[TOKEN].webhook is None


async def test_updates_from_the_fake_carry_the_registered_secret(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    received: list[tuple[str | None, bytes]] = []

    async def hook(request: Request) -> PlainTextResponse:
        received.append((request.headers.get("x-telegram-bot-api-secret-token"), await request.body()))
        return PlainTextResponse("ok")

    api.require_https = False
    async with serve_app(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as base:
        await telegram.register_webhook(http, channel, f"{base}/hook")
        update = api.text_update(JANE, "/start ref_abc")
        assert (await api.post_update(TOKEN, update)).status_code == 200
        secret, body = received[-1]
        assert secret == SECRET
        request = _request(body, {"x-telegram-bot-api-secret-token": secret})
        assert telegram.verify(request, channel, now=0)
        (m,) = telegram.parse(request, channel).messages
        assert (m.text, m.metadata["command"], m.metadata["command_args"]) == (
            "/start ref_abc",
            "start",
            "ref_abc",
        )
        with pytest.raises(LookupError):  # not in allowed_updates: Telegram would not deliver it
            await api.post_update(TOKEN, {"update_id": 1, "channel_post": {}})


# ---- end to end through the real app -------------------------------------------------------------------

MERGE = "mutation($s: ID!, $t: ID!) { mergeCustomers(sourceId: $s, targetId: $t) { id } }"
TARGETS = "query($id: ID!) { node(id: $id) { ... on Conversation { replyTargets { channelId available reason } } } }"


@pytest.fixture
async def live(server: str) -> AsyncIterator[ConnectorCase]:
    """A Telegram channel in the app, its webhook registered with the fake by the connector."""
    token = f"{7_000_000_000 + uuid.uuid4().int % 10**9}:AA{uuid.uuid4().hex}"
    api = FakeTelegram(require_https=False)  # the app listens on plain http on loopback
    api.add_bot(token)

    async def wire(case: ConnectorCase) -> None:
        async with httpx.AsyncClient() as client:
            await telegram.register_webhook(client, credentials(case.channel), case.webhook)

    secrets = {"bot_token": token, "secret_token": uuid.uuid4().hex}
    async with connector_case(
        server, api, "telegram", {"bot_username": "acme_support_bot"}, secrets, wire=wire
    ) as case:
        yield case


async def test_end_to_end(server, live) -> None:  # type: ignore[no-untyped-def]
    from models import Message

    api, channel = live.fake, live.channel
    token, secret = live.secrets["bot_token"], live.secrets["secret_token"]
    assert api.bots[token].webhook == {
        "url": f"{server}/webhooks/telegram/{channel.id}",
        "secret_token": secret,
        "allowed_updates": list(ALLOWED_UPDATES),
    }
    user_id = 100_000_000 + uuid.uuid4().int % 10**8
    api.start_chat(user_id, "Jane", "Roe", "janeroe")

    # 1. the customer writes; Telegram's redelivery stores nothing new; forgeries are refused
    update = api.text_update(user_id, "Where is my parcel?")
    first = await api.post_update(token, update)
    assert (first.status_code, first.text) == (200, "ok")
    assert (await api.post_update(token, update)).status_code == 200
    forged = api.text_update(user_id, "Refund me now")
    assert (await api.post_update(token, forged, secret_token="wrong-secret")).status_code == 401
    url = f"{server}/webhooks/telegram/{channel.id}"
    async with httpx.AsyncClient() as client:
        unsigned = await client.post(url, json=forged)
    assert unsigned.status_code == 401
    (stored,) = await Message.filter(channel_id=channel.id)
    message_id = update["message"]["message_id"]
    assert (stored.text, stored.direction, stored.platform_message_id, stored.kind) == (
        "Where is my parcel?",
        "inbound",
        f"{user_id}:{message_id}",
        MessageKind.TEXT,
    )

    # 2. the agent answers with a button, quoting the question; exactly one sendMessage goes out
    buttons = [{"id": "agent", "title": "Talk to a person"}]
    reply, client_id = await live.reply(
        stored.conversation_id, "It ships today. <b>Anything</b> else?", buttons=buttons
    )
    assert reply.get("errors") is None and reply["data"]["sendMessage"]["platform"] == "TELEGRAM", reply
    outbound = await live.wait_for(client_id)
    (request,) = [s for s in api.sent if s["_chat_id"] == user_id]
    assert request["_method"] == "sendMessage"
    assert {k: v for k, v in request.items() if not k.startswith("_")} == {
        "chat_id": user_id,
        "text": "It ships today. <b>Anything</b> else?",  # literal: no parse_mode
        "reply_markup": {"inline_keyboard": [[{"text": "Talk to a person", "callback_data": "agent"}]]},
    }
    assert outbound.platform_message_id == f"{user_id}:{request['_message_id']}"
    assert [r.method for r in api.requests].count("sendMessage") == 1

    # 3. the customer presses the button: a postback with its title; the spinner is answered
    press = api.callback_update(user_id, request, "agent")
    answered = await api.post_update(token, press)
    assert answered.status_code == 200
    assert answered.json() == {
        "method": "answerCallbackQuery",
        "callback_query_id": press["callback_query"]["id"],
    }
    assert (await api.post_update(token, press)).status_code == 200
    (postback,) = await Message.filter(channel_id=channel.id, kind=MessageKind.POSTBACK)
    assert (postback.text, postback.metadata["payload"], postback.reply_to_platform_id) == (
        "Talk to a person",
        "agent",
        outbound.platform_message_id,
    )

    # 4. the customer edits the question and reacts to the answer
    assert (
        await api.post_update(token, api.edit_update(update, "Where is my parcel #123?"))
    ).status_code == 200
    edited = await Message.get(id=stored.id)
    assert edited.text == "Where is my parcel #123?" and edited.edited_at is not None
    reaction = api.reaction_update(user_id, user_id, request["_message_id"], ["👍"])
    assert (await api.post_update(token, reaction)).status_code == 200
    assert (await api.post_update(token, reaction)).status_code == 200
    (stored_reaction,) = await Message.filter(channel_id=channel.id, kind=MessageKind.REACTION)
    assert stored_reaction.metadata["target_platform_id"] == outbound.platform_message_id
    assert stored_reaction.metadata["emoji"] == "👍"

    # 5. the customer blocks the bot: the next answer fails with a reason for the agent
    api.block(user_id)
    second, second_id = await live.reply(stored.conversation_id, "Still there?", buttons=[])
    assert second.get("errors") is None
    message = await live.wait_for(second_id, "failed")
    assert (message.error_code, message.error_reason) == (
        "403",
        "The customer has blocked this bot; Telegram will not deliver to them.",
    )
    assert (
        await Message.filter(channel_id=channel.id, direction="inbound").count() == 3
    )  # text, press, reaction


async def test_group_message_is_answered_in_the_group(server, live) -> None:  # type: ignore[no-untyped-def]
    from models import Message

    api, channel, token = live.fake, live.channel, live.secrets["bot_token"]
    user_id = 200_000_000 + uuid.uuid4().int % 10**8
    group_id = -(1_000_000_000_000 + uuid.uuid4().int % 10**9)
    api.add_group(group_id)
    update = api.text_update(user_id, "@acme_support_bot help", chat_id=group_id)
    assert (await api.post_update(token, update)).status_code == 200
    stored = await Message.get(
        channel_id=channel.id, platform_message_id=f"{group_id}:{update['message']['message_id']}"
    )
    assert stored.metadata["mentioned"] is True
    reply, client_id = await live.reply(stored.conversation_id, "Happy to help here.")
    assert reply.get("errors") is None
    outbound = await live.wait_for(client_id)
    (request,) = [s for s in api.sent if s.get("text") == "Happy to help here."]
    assert request["chat_id"] == group_id  # the group's chat, not the person's id
    assert outbound.platform_message_id == f"{group_id}:{request['_message_id']}"


async def test_whatsapp_customer_merged_and_answered_on_telegram(server, wa, live) -> None:  # type: ignore[no-untyped-def]
    from models import Conversation, Message
    from schema.relay import to_global_id
    from tests.helpers import eventually, gql, post_webhook, wa_text_payload

    api, channel, token = live.fake, live.channel, live.secrets["bot_token"]
    user_id = 300_000_000 + uuid.uuid4().int % 10**8
    api.start_chat(user_id)
    assert (await api.post_update(token, api.text_update(user_id, "Hi from Telegram"))).status_code == 200
    tg_message = await Message.get(channel_id=channel.id, text="Hi from Telegram")

    # The same person wrote on WhatsApp; Telegram vouches for no phone here, so an agent merges.
    whatsapp, secrets, _ = wa
    phone = "4479" + str(uuid.uuid4().int)[:8]
    body = wa_text_payload(whatsapp.config["phone_number_id"], phone, "Same person, on WhatsApp")
    assert (await post_webhook(server, whatsapp, secrets["app_secret"], body)).status_code == 200
    wa_message = await Message.get(text="Same person, on WhatsApp", channel_id=whatsapp.id)
    wa_conversation = await Conversation.get(id=wa_message.conversation_id)
    tg_conversation = await Conversation.get(id=tg_message.conversation_id)
    access = await live.access()
    cid = to_global_id("Conversation", wa_conversation.id)
    channel_gid = to_global_id("Channel", channel.id)

    async def targets() -> dict[str, Any]:
        body = await gql(server, TARGETS, {"id": cid}, access)
        return {t["channelId"]: t for t in body["data"]["node"]["replyTargets"]}

    assert not (await targets())[channel_gid]["available"]  # not this customer's channel, yet
    merged = await gql(
        server,
        MERGE,
        {
            "s": to_global_id("Customer", tg_conversation.customer_id),
            "t": to_global_id("Customer", wa_conversation.customer_id),
        },
        access,
    )
    assert merged.get("errors") is None, merged
    assert (await targets())[channel_gid]["available"]

    sent, _ = await live.reply(wa_conversation.id, "Answering you on Telegram", channelId=channel_gid)
    assert sent["data"]["sendMessage"]["platform"] == "TELEGRAM", sent

    async def received() -> Any:
        return [s for s in api.sent if s.get("text") == "Answering you on Telegram"]

    (request,) = await eventually(received, timeout=20)
    assert (request["chat_id"], request["_method"]) == (user_id, "sendMessage")
    outbound = await eventually(
        lambda: Message.filter(
            conversation_id=wa_conversation.id, status="sent", text="Answering you on Telegram"
        ).first()
    )
    assert outbound.platform_message_id == f"{user_id}:{request['_message_id']}"
    timeline = [m.platform for m in await Message.filter(conversation_id=wa_conversation.id).order_by("id")]
    assert timeline == ["whatsapp", "telegram"]


CREATE = "mutation($input: CreateChannelInput!) { createChannel(input: $input) { id secretsSet health } }"
ROTATE = "mutation($id: ID!) { rotateWebhookSecret(channelId: $id) { channel { secretsSet } secrets } }"


async def test_created_channels_register_and_rotation_re_registers(server) -> None:  # type: ignore[no-untyped-def]
    from models import Channel, Message, Role
    from schema.relay import parse_global_id
    from tests.helpers import gql, login, make_user

    token = f"{7_100_000_000 + uuid.uuid4().int % 10**9}:AA{uuid.uuid4().hex}"
    api = FakeTelegram(require_https=False)  # the test server's public URL is plain http
    api.add_bot(token, username="acme_shop_bot")
    admin = await login(server, await make_user(Role.ADMIN))
    async with api.serve() as base:
        variables = {
            "input": {
                "platform": "TELEGRAM",
                "name": "Shop bot",
                "config": {"api_base": base, "bot_username": "acme_shop_bot"},
                "secrets": {"bot_token": token},  # the secret_token is generated
            }
        }
        created = await gql(server, CREATE, variables, admin)
        assert created.get("errors") is None, created
        channel_id = parse_global_id(created["data"]["createChannel"]["id"])[1]
        assert set(created["data"]["createChannel"]["secretsSet"]) == {"bot_token", "secret_token"}
        webhook = api.bots[token].webhook
        assert webhook is not None and webhook["url"].endswith(f"/webhooks/telegram/{channel_id}")
        assert webhook["allowed_updates"] == list(ALLOWED_UPDATES)
        assert [r.method for r in api.requests] == ["getMe", "setWebhook"]
        url = f"{server}/webhooks/telegram/{channel_id}"  # where this test's server really listens
        api.start_chat(JANE)
        hello = api.text_update(JANE, "Hello shop")
        assert (
            await api.post_update(token, hello, url=url, secret_token=webhook["secret_token"])
        ).status_code == 200

        rotated = await gql(server, ROTATE, {"id": created["data"]["createChannel"]["id"]}, admin)
        fresh = rotated["data"]["rotateWebhookSecret"]["secrets"]["secret_token"]
        assert fresh != webhook["secret_token"] and api.bots[token].webhook["secret_token"] == fresh
        assert (await Channel.get(id=channel_id)).last_error is None  # both registrations went through
        again = api.text_update(JANE, "After rotation")
        # The old secret is still accepted during the grace period (tests/test_channel_webhook_admin.py);
        # the same update signed with the new one is the platform's retry, stored once.
        stale = await api.post_update(token, again, url=url, secret_token=webhook["secret_token"])
        assert stale.status_code == 200
        assert (await api.post_update(token, again, url=url, secret_token=fresh)).status_code == 200
        assert (await api.post_update(token, again, url=url, secret_token="forged")).status_code == 401
        texts = [m.text for m in await Message.filter(channel_id=channel_id).order_by("id")]
        assert texts == ["Hello shop", "After rotation"]
        await Channel.filter(id=channel_id).update(enabled=False)


async def test_reference_updates_end_to_end(server, live) -> None:  # type: ignore[no-untyped-def]
    """Every update of both fixtures, posted to the real app with the secret header: each is
    answered 200 and stored once, the forward with whom it came from, the unknown kind as
    UNSUPPORTED."""
    from models import Message

    api, channel, token = live.fake, live.channel, live.secrets["bot_token"]
    updates = fixture_updates("forwards.json") + fixture_updates("kinds.json")
    for update in updates:
        response = await api.post_update(token, update)
        assert (response.status_code, response.text) == (200, "ok"), update["update_id"]
    stored = {m.platform_message_id: m for m in await Message.filter(channel_id=channel.id)}
    assert len(stored) == len(updates)
    channel_forward = stored[f"{JANE}:104"]
    assert channel_forward.metadata["forwarded_from"]["name"] == "Acme News"
    assert channel_forward.metadata["forwarded_from"]["message_id"] == 77
    assert (stored[f"{JANE}:210"].kind, stored[f"{JANE}:210"].metadata["raw_type"]) == (
        MessageKind.UNSUPPORTED,
        "checklist",
    )
    assert stored[f"{JANE}:206"].text == "Poll: Which colour?\n- Blue\n- Red"
