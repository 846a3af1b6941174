"""The WhatsApp connector on its own: every sample parsed to concrete values, signatures over raw
bytes, the handshake, and sends against the fake Cloud API over real HTTP (errors classified the way
the retry logic needs). No database."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from connectors.base import (
    ChannelCredentials,
    DeliveryStatus,
    MalformedPayload,
    MessageKind,
    OutboundMessage,
    ParsedWebhook,
    Platform,
    SendError,
    WebhookRequest,
)
from connectors.fakes.server import serve_app
from connectors.fakes.whatsapp import FakeWhatsApp, graph_error, sign
from connectors.registry import get_connector
from connectors.whatsapp import whatsapp
from tests.conftest import SAMPLES

WA = SAMPLES / "whatsapp"
PN = "106540352242922"  # the samples' phone_number_id
WA_ID = "16505551234"
WAMID_OUT = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA"  # ours, in the statuses
SECRETS = {"app_secret": "test-secret", "access_token": "token-1", "verify_token": "verify-1"}
CHANNEL = ChannelCredentials(channel_id=7, config={"phone_number_id": PN}, secrets=SECRETS)


def parse_sample(name: str) -> ParsedWebhook:
    return whatsapp.parse(_request((WA / name).read_bytes(), {}), CHANNEL)


def envelope(*values: dict[str, Any], phone_number_id: str = PN) -> dict[str, Any]:
    changes = [
        {"field": "messages", "value": {"metadata": {"phone_number_id": phone_number_id}, **v}}
        for v in values
    ]
    return {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": changes}]}


def parse_one(message: dict[str, Any], contacts: list[dict[str, Any]] | None = None) -> Any:
    base = {"from": WA_ID, "id": "wamid.IN1", "timestamp": "1749416383"}
    value = {"contacts": contacts or [{"profile": {"name": "Sheena Nelson"}, "wa_id": WA_ID}]}
    body = json.dumps(envelope({**value, "messages": [{**base, **message}]})).encode()
    (parsed,) = whatsapp.parse(_request(body, {}), CHANNEL).messages
    return parsed


# ---- samples ------------------------------------------------------------------------------------


def test_inbound_text_sample() -> None:
    parsed = parse_sample("inbound_text.json")
    assert parsed.statuses == ()
    (m,) = parsed.messages
    assert m.platform_message_id == "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
    assert (m.kind, m.text) == (MessageKind.TEXT, "Does it come in another color?")
    assert (m.sender_id, m.sender_name, m.sender_phone) == (WA_ID, "Sheena Nelson", WA_ID)
    assert m.sent_at == datetime.fromtimestamp(1749416383, UTC) and m.sent_at.tzinfo is not None
    assert m.reply_to_platform_id is None and m.attachments == ()


def test_inbound_image_sample_keeps_caption_and_media() -> None:
    (m,) = parse_sample("inbound_image.json").messages
    assert (m.kind, m.text) == (MessageKind.IMAGE, "Is this the blue one?")
    (a,) = m.attachments
    assert (a.kind, a.media_id, a.mime_type) == (MessageKind.IMAGE, "1003383421387256", "image/jpeg")
    assert a.sha256 == "d8Ha0DM5yM1uYQ2uNOIs2mYLCWsD7AaFgEXfHhSyZQ8="
    assert a.url is not None and a.url.startswith(
        "https://lookaside.fbsbx.com/whatsapp_business/attachments/"
    )


def test_inbound_button_reply_sample() -> None:
    (m,) = parse_sample("inbound_button_reply.json").messages
    assert (m.kind, m.text) == (MessageKind.INTERACTIVE, "Confirm")
    assert m.metadata == {"interactive_type": "button_reply", "id": "confirm_order"}
    assert m.reply_to_platform_id == WAMID_OUT


def test_inbound_reaction_sample() -> None:
    (m,) = parse_sample("inbound_reaction.json").messages
    assert m.kind is MessageKind.REACTION
    assert m.metadata == {"message_id": WAMID_OUT, "emoji": "\U0001f44d"}


def test_inbound_reply_with_context_sample() -> None:
    (m,) = parse_sample("inbound_reply_with_context.json").messages
    assert (m.kind, m.text, m.reply_to_platform_id) == (MessageKind.TEXT, "Yes please, size M", WAMID_OUT)


@pytest.mark.parametrize(
    ("sample", "status", "ts"),
    [
        ("status_sent.json", DeliveryStatus.SENT, 1750030070),
        ("status_delivered.json", DeliveryStatus.DELIVERED, 1750030073),
        ("status_read.json", DeliveryStatus.READ, 1750030095),
        ("status_failed.json", DeliveryStatus.FAILED, 1750030071),
    ],
)
def test_status_samples(sample: str, status: DeliveryStatus, ts: int) -> None:
    parsed = parse_sample(sample)
    assert parsed.messages == ()
    (s,) = parsed.statuses
    assert (s.platform_message_id, s.status, s.recipient_id) == (WAMID_OUT, status, WA_ID)
    assert s.occurred_at == datetime.fromtimestamp(ts, UTC)
    if status is DeliveryStatus.FAILED:
        assert (s.error_code, s.error_title) == ("131047", "Re-engagement message")
        assert s.error_detail is not None and "more than 24 hours" in s.error_detail
    else:
        assert s.error_code is None and s.error_title is None


def test_every_webhook_sample_yields_exactly_one_item() -> None:
    names = sorted(p.name for p in WA.glob("*.json") if p.name.startswith(("inbound_", "status_")))
    assert len(names) == 9
    for name in names:
        parsed = parse_sample(name)
        assert len(parsed.messages) + len(parsed.statuses) == 1, name


# ---- the other message types ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "content", "mime", "extra"),
    [
        ("audio", {"voice": True}, "audio/ogg; codecs=opus", {"voice": True}),
        ("video", {"caption": "unboxing"}, "video/mp4", {}),
        ("document", {"caption": "invoice", "filename": "inv.pdf", "file_size": 1234}, "application/pdf", {}),
        ("sticker", {"animated": False}, "image/webp", {"animated": False}),
    ],
)
def test_media_types(kind: str, content: dict[str, Any], mime: str, extra: dict[str, Any]) -> None:
    media = {"id": "555", "mime_type": mime, "sha256": "abc=", **content}
    m = parse_one({"type": kind, kind: media})
    assert m.kind == MessageKind(kind) and m.text == content.get("caption")
    (a,) = m.attachments
    assert (a.kind, a.media_id, a.mime_type, a.sha256) == (MessageKind(kind), "555", mime, "abc=")
    assert (a.filename, a.size, a.url) == (content.get("filename"), content.get("file_size"), None)
    assert dict(m.metadata) == extra


def test_location_and_contacts() -> None:
    loc = {"latitude": 37.48, "longitude": -122.15, "name": "Main Store", "address": "1 Hacker Way"}
    m = parse_one({"type": "location", "location": loc})
    assert m.kind is MessageKind.LOCATION
    assert m.metadata["location"] == loc
    assert m.text == "Location: Main Store, 1 Hacker Way (37.48, -122.15)"
    bare = parse_one({"type": "location", "location": {"latitude": 1.5, "longitude": 2}})
    assert bare.text == "Location: 1.5, 2"

    cards = [
        {
            "name": {"formatted_name": "Jane Doe"},
            "phones": [{"phone": "+1 650 555 0000", "wa_id": "16505550000"}],
        }
    ]
    c = parse_one({"type": "contacts", "contacts": cards})
    assert (c.kind, c.text) == (MessageKind.CONTACTS, "Shared contact: Jane Doe (+1 650 555 0000)")
    assert c.metadata == {"contacts": cards}


def test_list_reply_template_button_and_reaction_removal() -> None:
    reply = {"id": "size_m", "title": "Size M", "description": "Medium"}
    lr = parse_one({"type": "interactive", "interactive": {"type": "list_reply", "list_reply": reply}})
    assert (lr.kind, lr.text) == (MessageKind.INTERACTIVE, "Size M")
    assert lr.metadata == {"interactive_type": "list_reply", "id": "size_m", "description": "Medium"}

    button = parse_one({"type": "button", "button": {"payload": "STOP_PROMOS", "text": "Stop promotions"}})
    assert (button.kind, button.text) == (MessageKind.INTERACTIVE, "Stop promotions")
    assert button.metadata == {"interactive_type": "button", "payload": "STOP_PROMOS"}

    removed = parse_one({"type": "reaction", "reaction": {"message_id": WAMID_OUT, "emoji": ""}})
    assert removed.kind is MessageKind.REACTION
    assert removed.metadata == {"message_id": WAMID_OUT, "emoji": "", "removed": True}


def test_unsupported_and_unknown_types_are_kept() -> None:
    errors = [{"code": 131051, "title": "Message type unknown", "message": "Message type unknown"}]
    m = parse_one({"type": "unsupported", "errors": errors})
    assert m.kind is MessageKind.UNSUPPORTED
    assert m.metadata == {"raw_type": "unsupported", "errors": errors}
    order = parse_one({"type": "order", "order": {"catalog_id": "9", "product_items": []}})
    assert order.kind is MessageKind.UNSUPPORTED and order.metadata["raw_type"] == "order"
    assert order.metadata["raw"] == {"catalog_id": "9", "product_items": []}


def test_username_users_are_keyed_on_user_id() -> None:
    """BSUID: with a username, `from` may be empty and only user_id identifies the customer."""
    contacts = [{"profile": {"name": "Kai", "username": "kai"}, "wa_id": "", "user_id": "user.abc123"}]
    m = parse_one(
        {"from": "", "from_user_id": "user.abc123", "type": "text", "text": {"body": "hi"}}, contacts
    )
    assert (m.sender_id, m.sender_name, m.sender_phone) == ("user.abc123", "Kai", None)
    only_contact = parse_one({"from": "", "type": "text", "text": {"body": "hi"}}, contacts)
    assert only_contact.sender_id == "user.abc123"


def test_batches_other_numbers_played_and_unknown_statuses() -> None:
    statuses = [
        {"id": "wamid.A", "status": "played", "timestamp": "1750030100", "recipient_id": WA_ID},
        {"id": "wamid.B", "status": "deleted", "timestamp": "1750030100", "recipient_id": WA_ID},
        {
            "id": "wamid.C",
            "status": "read",
            "timestamp": "1750030100",
            "recipient_id": "",
            "recipient_user_id": "user.x",
        },
    ]
    msg = {
        "from": WA_ID,
        "id": "wamid.M1",
        "timestamp": "1749416383",
        "type": "text",
        "text": {"body": "one"},
    }
    body = envelope({"statuses": statuses}, {"messages": [msg]})
    body["entry"].append(envelope({"messages": [{**msg, "id": "wamid.M2"}]})["entry"][0])
    body["entry"].append(
        envelope({"messages": [{**msg, "id": "wamid.OTHER"}]}, phone_number_id="999")["entry"][0]
    )
    body["entry"][0]["changes"].append({"field": "account_update", "value": {"event": "VERIFIED"}})
    parsed = whatsapp.parse(_request(json.dumps(body).encode(), {}), CHANNEL)
    assert [m.platform_message_id for m in parsed.messages] == ["wamid.M1", "wamid.M2"]
    assert [(s.platform_message_id, s.status, s.recipient_id) for s in parsed.statuses] == [
        ("wamid.A", DeliveryStatus.READ, WA_ID),
        ("wamid.C", DeliveryStatus.READ, "user.x"),
    ]


def test_mismatched_phone_number_id_is_skipped() -> None:
    other = ChannelCredentials(channel_id=8, config={"phone_number_id": "111"}, secrets=SECRETS)
    assert whatsapp.parse(_request((WA / "inbound_text.json").read_bytes(), {}), other) == ParsedWebhook()


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b'{"object": "whatsapp_business_account", "entry": [ oops',
        b"[]",
        b'"text"',
        b'{"object": "page", "entry": []}',
        b'{"object": "whatsapp_business_account"}',
        b'{"object": "whatsapp_business_account", "entry": {}}',
        b'{"object": "whatsapp_business_account", "entry": [{"id": "1"}]}',
        b'{"object": "whatsapp_business_account", "entry": [{"changes": [1]}]}',
        b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": 3}]}]}',
        json.dumps(envelope({"messages": {"id": "x"}})).encode(),
    ],
)
def test_malformed_bodies(body: bytes) -> None:
    with pytest.raises(MalformedPayload):
        whatsapp.parse(_request(body, {}), CHANNEL)


# ---- signature and handshake ---------------------------------------------------------------------


def _request(body: bytes, headers: dict[str, str], method: str = "POST", query: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    lowered = {k.lower(): v for k, v in headers.items()}
    return WebhookRequest(
        method=method, url="https://x/webhooks/whatsapp/7", headers=lowered, query=query or {}, body=body
    )


@pytest.mark.parametrize(
    "vector",
    [v for v in json.loads((SAMPLES / "signature_vectors.json").read_text()) if v["platform"] == "whatsapp"],
    ids=lambda v: v["body_file"],
)
def test_signature_vectors(vector: dict[str, Any]) -> None:
    channel = ChannelCredentials(
        channel_id=7, config={"phone_number_id": PN}, secrets={"app_secret": vector["secret"]}
    )
    request = _request((SAMPLES / vector["body_file"]).read_bytes(), vector["headers"])
    assert whatsapp.verify(request, channel, now=0) is vector["valid"]


def test_missing_or_malformed_signature_is_refused() -> None:
    body = (WA / "inbound_text.json").read_bytes()
    good = sign(SECRETS["app_secret"], body)
    assert whatsapp.verify(_request(body, {"X-Hub-Signature-256": good}), CHANNEL, now=0)
    for headers in (
        {},
        {"X-Hub-Signature-256": ""},
        {"X-Hub-Signature-256": good.removeprefix("sha256=")},
        {"X-Hub-Signature-256": good[:-2]},
        {"X-Hub-Signature": "sha1=" + "0" * 40},
        {"X-Hub-Signature-256": sign("other-secret", body)},
    ):
        assert not whatsapp.verify(_request(body, headers), CHANNEL, now=0), headers
    no_secret = ChannelCredentials(channel_id=7, config={}, secrets={})
    assert not whatsapp.verify(_request(body, {"X-Hub-Signature-256": good}), no_secret, now=0)


def test_handshake() -> None:
    def hs(method: str = "GET", **query: str):  # type: ignore[no-untyped-def]
        return whatsapp.handshake(_request(b"", {}, method, query), CHANNEL)

    ok = hs(**{"hub.mode": "subscribe", "hub.verify_token": "verify-1", "hub.challenge": "1158201444"})
    assert ok is not None and (ok.status, ok.body, ok.content_type) == (200, "1158201444", "text/plain")
    for query in (
        {"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "verify-1", "hub.challenge": "1"},
        {},
    ):
        reply = hs(**query)
        assert reply is not None and reply.status == 403
    assert (
        hs("POST", **{"hub.mode": "subscribe", "hub.verify_token": "verify-1", "hub.challenge": "1"}) is None
    )


def test_validate_config_and_registry() -> None:
    assert whatsapp.validate_config({"phone_number_id": PN}, SECRETS) == []
    problems = whatsapp.validate_config({"api_base": "ftp://x", "api_version": "21"}, {"app_secret": " "})
    text = " ".join(problems)
    for word in ("phone_number_id", "api_base", "api_version", "app_secret", "access_token", "verify_token"):
        assert word in text
    assert get_connector(Platform.WHATSAPP) is whatsapp and get_connector("whatsapp") is whatsapp
    with pytest.raises(LookupError, match="no connector"):
        get_connector("myspace")  # type: ignore[arg-type]


# ---- sending over real HTTP to the fake ------------------------------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeWhatsApp, ChannelCredentials]]:
    api = FakeWhatsApp()
    api.add_number(PN, access_token=SECRETS["access_token"], app_secret=SECRETS["app_secret"])
    async with api.serve() as base_url:
        config = {"phone_number_id": PN, "api_base": base_url, "api_version": "v21.0"}
        yield api, ChannelCredentials(channel_id=7, config=config, secrets=SECRETS)


def text(
    body: str = "Yes, it also comes in blue and green.", to: str = "+16505551234", **kw: Any
) -> OutboundMessage:
    return OutboundMessage(recipient_id=to, kind=MessageKind.TEXT, idempotency_key="42", text=body, **kw)


async def _send(http: httpx.AsyncClient, channel: ChannelCredentials, message: OutboundMessage) -> Any:
    return await whatsapp.send(http, channel, message)


async def _send_error(
    http: httpx.AsyncClient, channel: ChannelCredentials, message: OutboundMessage
) -> SendError:
    with pytest.raises(SendError) as info:
        await _send(http, channel, message)
    return info.value


async def test_send_text_and_template_bodies_match_the_samples(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    result = await _send(http, channel, text())
    assert result.platform_message_id.startswith("wamid.")
    recorded = api.sent[-1]
    assert recorded.pop("_fake") == {"phone_number_id": PN, "wamid": result.platform_message_id}
    # Our message id rides along for Meta to echo in the statuses (resolvers/send_lease.py).
    assert recorded.pop("biz_opaque_callback_data") == "pytake:42"
    assert recorded == json.loads((WA / "send_text_request.json").read_text())

    expected = json.loads((WA / "send_template_request.json").read_text())
    template = OutboundMessage(
        recipient_id="+16505551234",
        kind=MessageKind.TEMPLATE,
        idempotency_key="43",
        template=expected["template"],
    )
    second = await _send(http, channel, template)
    assert second.platform_message_id != result.platform_message_id
    assert {k: v for k, v in api.sent[-1].items() if k != "_fake"} == {
        **expected,
        "biz_opaque_callback_data": "pytake:43",
    }

    await _send(http, channel, text("re", to=WA_ID, reply_to_platform_id="wamid.PREV"))
    assert api.sent[-1]["context"] == {"message_id": "wamid.PREV"} and api.sent[-1]["to"] == WA_ID


async def test_outside_window_is_permanent_with_a_human_reason(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    api.close_window(WA_ID)
    error = await _send_error(http, channel, text())
    assert (error.code, error.retryable) == ("131047", False)
    assert error.reason.startswith("More than 24 hours have passed")
    assert api.sent == []


async def test_transient_failures_are_retryable(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    api.fail_next(429, headers={"Retry-After": "7"})
    api.fail_next(500)
    api.fail_next(503, body={})
    rate = await _send_error(http, channel, text())
    assert (rate.code, rate.retryable, rate.retry_after) == ("130429", True, 7.0)
    server = await _send_error(http, channel, text())
    assert (server.code, server.retryable) == ("131000", True)
    bare = await _send_error(http, channel, text())
    assert (bare.code, bare.retryable) == ("HTTP_503", True)
    assert (await _send(http, channel, text())).platform_message_id.startswith("wamid.")


async def test_permanent_refusals(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    api.fail_next(
        400, graph_error(131026, "(#131026) Message undeliverable", details="Message Undeliverable.")
    )
    undeliverable = await _send_error(http, channel, text())
    assert (undeliverable.code, undeliverable.retryable) == ("131026", False)

    wrong_token = ChannelCredentials(
        channel_id=7, config=channel.config, secrets={**SECRETS, "access_token": "x"}
    )
    error = await _send_error(http, wrong_token, text())
    assert (error.code, error.retryable) == ("190", False) and "access token" in error.reason

    unknown_number = ChannelCredentials(
        channel_id=7, config={**channel.config, "phone_number_id": "1"}, secrets=SECRETS
    )
    error = await _send_error(http, unknown_number, text())
    assert (error.code, error.retryable) == ("100", False) and "does not exist" in error.reason
    assert api.sent == []


async def test_refused_before_any_http_call() -> None:
    def no_http(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"unexpected HTTP call to {request.url}")

    async with httpx.AsyncClient(transport=httpx.MockTransport(no_http)) as http:
        with pytest.raises(SendError) as too_long:
            await whatsapp.send(http, CHANNEL, text("a" * 4097))
        with pytest.raises(SendError) as no_template:
            await whatsapp.send(
                http,
                CHANNEL,
                OutboundMessage(recipient_id=WA_ID, kind=MessageKind.TEMPLATE, idempotency_key="1"),
            )
    assert (too_long.value.code, too_long.value.retryable) == ("TEXT_TOO_LONG", False)
    assert no_template.value.code == "TEMPLATE_INVALID"
    assert whatsapp.max_text_length == 4096


@pytest.mark.parametrize(
    ("exc", "code"),
    [(httpx.ConnectError("refused"), "NETWORK_ERROR"), (httpx.ReadTimeout("slow"), "TIMEOUT")],
)
async def test_transport_errors_are_retryable(exc: Exception, code: str) -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise exc

    async with httpx.AsyncClient(transport=httpx.MockTransport(broken)) as http:
        with pytest.raises(SendError) as info:
            await whatsapp.send(http, CHANNEL, text())
    assert (info.value.code, info.value.retryable) == (code, True)


async def test_fake_is_strict(fake, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    url = f"{channel.config['api_base']}/v21.0/{PN}/messages"
    good = json.loads((WA / "send_text_request.json").read_text())
    auth = {"Authorization": f"Bearer {SECRETS['access_token']}"}
    cases = [
        {**good, "messaging_product": "sms"},
        {k: v for k, v in good.items() if k != "to"},
        {**good, "type": "hologram"},
        {**good, "text": {"body": ""}},
        {**good, "text": {"body": "a" * 4097}},
        {**good, "type": "template", "template": {"name": "order_update"}},
    ]
    for body in cases:
        r = await http.post(url, json=body, headers=auth)
        assert (r.status_code, r.json()["error"]["code"]) == (400, 100), body
    too_long = await http.post(url, json=cases[4], headers=auth)
    assert "at most 4096 characters" in too_long.json()["error"]["message"]
    missing_token = await http.post(url, json=good)
    assert (missing_token.status_code, missing_token.json()["error"]["code"]) == (401, 190)
    assert api.sent == []


# ---- webhooks from the fake -------------------------------------------------------------------------


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[list[tuple[bool, bytes]], str]]:
    """A stand-in for PyTake's webhook endpoint: checks the signature with the connector."""
    received: list[tuple[bool, bytes]] = []

    async def hook(request: Request) -> PlainTextResponse:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        hook_request = WebhookRequest("POST", str(request.url), headers, dict(request.query_params), body)
        ok = whatsapp.verify(hook_request, CHANNEL, now=0)
        received.append((ok, body))
        return PlainTextResponse("ok" if ok else "bad signature", status_code=200 if ok else 401)

    async with serve_app(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as base_url:
        yield received, f"{base_url}/hook"


async def test_auto_statuses_are_signed_and_in_order(fake, receiver, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    received, url = receiver
    api.add_number(
        PN, access_token=SECRETS["access_token"], app_secret=SECRETS["app_secret"], webhook_url=url
    )
    api.auto_statuses = ["sent", "delivered", "read"]
    result = await _send(http, channel, text(to=WA_ID))
    await api.wait_idle()
    assert [ok for ok, _ in received] == [True, True, True]
    assert [r.status_code for r in api.webhook_responses] == [200, 200, 200]
    updates = [whatsapp.parse(_request(body, {}), CHANNEL).statuses[0] for _, body in received]
    assert [(u.platform_message_id, u.status, u.recipient_id) for u in updates] == [
        (result.platform_message_id, DeliveryStatus.SENT, WA_ID),
        (result.platform_message_id, DeliveryStatus.DELIVERED, WA_ID),
        (result.platform_message_id, DeliveryStatus.READ, WA_ID),
    ]
    raw = [json.loads(body)["entry"][0]["changes"][0]["value"]["statuses"][0] for _, body in received]
    assert raw[0]["conversation"]["origin"] == {"type": "service"}
    assert raw[0]["pricing"]["type"] == raw[1]["pricing"]["type"] == "free_customer_service"
    assert "pricing" not in raw[2]

    failed = await api.post_status(PN, result.platform_message_id, "failed", error_code=131047)
    assert failed.status_code == 200
    (status,) = whatsapp.parse(_request(received[-1][1], {}), CHANNEL).statuses
    assert (status.status, status.error_code, status.error_title) == (
        DeliveryStatus.FAILED,
        "131047",
        "Re-engagement message",
    )


async def test_inbound_text_is_shaped_like_the_sample(fake, receiver, http) -> None:  # type: ignore[no-untyped-def]
    api, channel = fake
    received, url = receiver
    api.add_number(
        PN, access_token=SECRETS["access_token"], app_secret=SECRETS["app_secret"], webhook_url=url
    )
    response = await api.post_inbound_text(PN, wa_id=WA_ID, name="Sheena Nelson", text="Olá, é azul?")
    assert response.status_code == 200
    ok, body = received[-1]
    assert ok and b"Ol\\u00e1" in body  # non-ASCII escaped, as Meta signs it
    posted = json.loads(body)
    expected = json.loads((WA / "inbound_text.json").read_text())
    message = expected["entry"][0]["changes"][0]["value"]["messages"][0]
    got = posted["entry"][0]["changes"][0]["value"]["messages"][0]
    message.update(id=got["id"], timestamp=got["timestamp"], text={"body": "Olá, é azul?"})
    assert posted == expected and got["id"].startswith("wamid.")
    (m,) = whatsapp.parse(_request(body, {}), CHANNEL).messages
    assert (m.text, m.sender_name, m.sender_id) == ("Olá, é azul?", "Sheena Nelson", WA_ID)

    simulated = await http.post(
        f"{channel.config['api_base']}/_simulate/{PN}/inbound",
        json={"wa_id": WA_ID, "name": "S", "text": "hi"},
    )
    invalid = await http.post(f"{channel.config['api_base']}/_simulate/{PN}/inbound", json={"wa_id": "+1"})
    assert simulated.status_code == 200 and simulated.json() == {"status": 200}
    assert invalid.status_code == 400
    assert whatsapp.parse(_request(received[-1][1], {}), CHANNEL).messages[0].text == "hi"
