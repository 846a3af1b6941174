"""A module that supplies a platform's connector (core/extensions.Module.connectors): once an admin
enables it, that platform's webhooks are verified and parsed by the module's connector and replies
go out through it; disabled, the built-in connector answers again."""

from __future__ import annotations

import hashlib
import hmac
import importlib.metadata
import json
import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest_asyncio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from connectors.base import (
    Capabilities,
    ChannelCredentials,
    HandshakeReply,
    InboundMessage,
    MalformedPayload,
    MessageKind,
    OutboundMessage,
    ParsedWebhook,
    Platform,
    SendError,
    SendResult,
    WebhookRequest,
)
from connectors.fakes.server import serve_app
from connectors.registry import get_connector
from core.extensions import Module
from models import Conversation, ModuleState, Role
from resolvers import modules as module_rules
from tests.helpers import eventually, gql, login, make_channel, make_user
from tests.test_sending import _reply

ENABLE = "mutation($n: String!) { enableModule(name: $n) { name status enabled failedReason } }"
DISABLE = "mutation($n: String!) { disableModule(name: $n) { name status enabled } }"
LIST = "{ modules { name status failedReason } }"


class RelayViber:
    """Viber through a relay service of the integrator's own: JSON in, signed with a shared secret
    in `X-Relay-Signature`; replies POSTed to the relay's `outbound_url`."""

    platform = Platform.VIBER
    max_text_length = 4000
    capabilities = Capabilities()
    secret_names = ("shared_secret",)
    generated_secrets = ()

    def validate_config(self, config: Mapping[str, Any], secrets: Mapping[str, str]) -> list[str]:
        return [] if str(config.get("outbound_url", "")).startswith("http") else ["outbound_url is required"]

    def handshake(self, request: WebhookRequest, channel: ChannelCredentials) -> HandshakeReply | None:
        return None

    def verify(self, request: WebhookRequest, channel: ChannelCredentials, *, now: float) -> bool:
        expected = hmac.new(
            channel.secrets["shared_secret"].encode(), request.body, hashlib.sha256
        ).hexdigest()
        return hmac.compare_digest(request.header("x-relay-signature") or "", expected)

    def parse(self, request: WebhookRequest, channel: ChannelCredentials) -> ParsedWebhook:
        try:
            data = json.loads(request.body)
            message = InboundMessage(
                platform_message_id=data["id"],
                sender_id=data["from"],
                sender_name=data.get("name"),
                sent_at=datetime.now(UTC),
                kind=MessageKind.TEXT,
                text=data["text"],
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise MalformedPayload(f"not a relay message: {exc}") from None
        return ParsedWebhook(messages=(message,))

    async def send(
        self, http: httpx.AsyncClient, channel: ChannelCredentials, message: OutboundMessage
    ) -> SendResult:
        response = await http.post(
            channel.config["outbound_url"], json={"to": message.recipient_id, "text": message.text}
        )
        if response.status_code != 200:
            raise SendError("RELAY_REFUSED", response.text, retryable=response.status_code >= 500)
        return SendResult(platform_message_id=response.json()["id"])


relay_viber = Module(
    name="relay_viber",
    title="Viber through a relay",
    description="Takes Viber over: webhooks and sends through the integrator's relay.",
    connectors={"viber": RelayViber},
)
wrong_relay = Module(name="wrong_relay", title="Wrong", description="", connectors={"line": RelayViber})


class Relay:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.url = ""

    async def handle(self, request: Request) -> JSONResponse:
        self.sent.append(json.loads(await request.body()))
        return JSONResponse({"id": f"relay-{len(self.sent)}"})


@pytest_asyncio.fixture
async def relay(monkeypatch) -> AsyncIterator[Relay]:  # type: ignore[no-untyped-def]
    installed = module_rules.entry_points()
    extra = {
        name: importlib.metadata.EntryPoint(name, f"tests.test_module_connectors:{name}", module_rules.GROUP)
        for name in ("relay_viber", "wrong_relay")
    }
    monkeypatch.setattr(module_rules, "entry_points", lambda: {**installed, **extra})
    monkeypatch.setattr(module_rules, "_loaded", {})
    fake = Relay()
    async with serve_app(Starlette(routes=[Route("/out", fake.handle, methods=["POST"])])) as base:
        fake.url = f"{base}/out"
        try:
            yield fake
        finally:
            await ModuleState.filter(name__in=["relay_viber", "wrong_relay"]).delete()
            await module_rules.sync(force=True)


async def _post(server: str, channel_id: int, secret: str, data: dict[str, Any]) -> httpx.Response:
    body = json.dumps(data).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    async with httpx.AsyncClient(timeout=20) as client:
        return await client.post(
            f"{server}/webhooks/viber/{channel_id}",
            content=body,
            headers={"Content-Type": "application/json", "X-Relay-Signature": signature},
        )


async def test_a_modules_connector_receives_the_webhook_and_sends_the_reply(server, relay):
    admin = await login(server, await make_user(Role.ADMIN))
    secret = uuid.uuid4().hex
    channel = await make_channel("viber", {"outbound_url": relay.url}, {"shared_secret": secret})
    assert get_connector("viber").__class__.__name__ != "RelayViber"  # built-in until enabled

    enabled = await gql(server, ENABLE, {"n": "relay_viber"}, admin)
    assert enabled["data"]["enableModule"]["status"] == "ENABLED", enabled
    assert isinstance(get_connector(Platform.VIBER), RelayViber)

    sender = f"relay-user-{uuid.uuid4().hex[:8]}"
    answer = await _post(
        server, channel.id, secret, {"id": uuid.uuid4().hex, "from": sender, "text": "via relay"}
    )
    assert answer.status_code == 200, answer.text
    forged = await _post(server, channel.id, "wrong", {"id": uuid.uuid4().hex, "from": sender, "text": "x"})
    assert forged.status_code == 401  # the module's verify() decided
    conversation = await Conversation.get(channel_id=channel.id)

    token = await login(server, await make_user(Role.AGENT))
    await _reply(server, token, conversation, "answered through the module")

    async def relayed() -> list:
        return [s for s in relay.sent if s["text"] == "answered through the module"]

    await eventually(relayed, timeout=20)
    assert relay.sent[-1]["to"] == sender

    await gql(server, DISABLE, {"n": "relay_viber"}, admin)
    assert not isinstance(get_connector(Platform.VIBER), RelayViber)
    # The built-in Viber connector checks Viber's own signature: the relay's no longer passes.
    again = await _post(server, channel.id, secret, {"id": uuid.uuid4().hex, "from": sender, "text": "late"})
    assert again.status_code == 401


async def test_a_module_whose_connector_speaks_for_another_platform_fails_to_load(server, relay):
    admin = await login(server, await make_user(Role.ADMIN))
    refused = await gql(server, ENABLE, {"n": "wrong_relay"}, admin)
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", refused
    assert "speaks for" in refused["errors"][0]["message"]
    listed = {m["name"]: m for m in (await gql(server, LIST, {}, admin))["data"]["modules"]}
    assert listed["wrong_relay"]["status"] == "FAILED"
    assert not isinstance(get_connector(Platform.LINE), RelayViber)
