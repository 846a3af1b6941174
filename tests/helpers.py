"""Clients that speak to the app the way real ones do (GraphQL over HTTP, graphql-transport-ws), and
`ConnectorCase`, the one arrangement every connector's end-to-end test builds on."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from connectors.fakes.whatsapp import inbound_text_payload, sign
from core.auth import hash_password
from core.crypto import encrypt_secrets
from models import Channel, Message, Role, User
from schema.relay import to_global_id

PASSWORD = "correct horse battery"
_hash_cache: dict[str, str] = {}


async def gql(
    base: str, query: str, variables: dict[str, Any] | None = None, token: str | None = None, **kw: Any
) -> dict[str, Any]:
    headers = {"Accept": "application/graphql-response+json, application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    async with httpx.AsyncClient(timeout=20) as client:
        r = await client.post(
            f"{base}/graphql", json={"query": query, "variables": variables or {}}, headers=headers, **kw
        )
    body = r.json()
    body["_status"] = r.status_code
    return body


def error_code(body: dict[str, Any]) -> str | None:
    errors = body.get("errors") or []
    return errors[0]["extensions"]["code"] if errors else None


async def make_user(role: Role = Role.AGENT, name: str | None = None, *, sees_all: bool = True) -> User:
    """A user who, unless `sees_all=False`, sees every conversation: tests of other things than
    who sees what (tests/test_access*.py) need not put everyone in the conversation's team."""
    if PASSWORD not in _hash_cache:
        _hash_cache[PASSWORD] = hash_password(PASSWORD)
    email = f"{role.value}-{uuid.uuid4().hex[:8]}@test.local"
    return await User.create(
        email=email,
        name=name or email.split("@")[0],
        role=role,
        password_hash=_hash_cache[PASSWORD],
        sees_all_conversations=sees_all,
    )


async def login(base: str, user: User) -> str:
    body = await gql(
        base,
        "mutation($e:String!,$p:String!){ login(email:$e,password:$p){ accessToken } }",
        {"e": user.email, "p": PASSWORD},
    )
    return body["data"]["login"]["accessToken"]


_phone_ids = itertools.count(int(uuid.uuid4().int % 10**9) * 1000)


async def make_channel(
    platform: str, config: dict[str, Any], secrets: dict[str, str], name: str = ""
) -> Channel:
    """A channel of any platform, stored the way createChannel stores it (secrets encrypted)."""
    return await Channel.create(
        platform=platform,
        name=name or f"Test {platform}",
        config=config,
        secrets_encrypted=encrypt_secrets(secrets),
    )


async def make_whatsapp_channel(api_base: str) -> tuple[Channel, dict[str, str]]:
    secrets = {
        "app_secret": uuid.uuid4().hex,
        "access_token": uuid.uuid4().hex,
        "verify_token": uuid.uuid4().hex,
    }
    channel = await Channel.create(
        platform="whatsapp",
        name="Test WhatsApp",
        config={"phone_number_id": str(next(_phone_ids)), "api_base": api_base, "api_version": "v21.0"},
        secrets_encrypted=encrypt_secrets(secrets),
    )
    return channel, secrets


def wa_text_payload(
    phone_number_id: str, wa_id: str, text: str, wamid: str | None = None, name: str = "Customer"
) -> bytes:
    return json.dumps(
        inbound_text_payload(phone_number_id, wa_id=wa_id, name=name, text=text, wamid=wamid)
    ).encode()


async def post_webhook(base: str, channel: Channel, secret: str, body: bytes) -> httpx.Response:
    async with httpx.AsyncClient(timeout=20) as client:
        return await client.post(
            f"{base}/webhooks/whatsapp/{channel.id}",
            content=body,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(secret, body)},
        )


class Subscriber:
    """A graphql-transport-ws client holding one subscription."""

    def __init__(self, ws: ClientConnection):
        self.ws = ws

    @classmethod
    async def open(
        cls, base: str, token: str | None, query: str, variables: dict[str, Any] | None = None
    ) -> Subscriber:
        ws = await connect(base.replace("http", "ws", 1) + "/graphql", subprotocols=["graphql-transport-ws"])
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert ack["type"] == "connection_ack", ack
        await ws.send(
            json.dumps(
                {"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables or {}}}
            )
        )
        return cls(ws)

    async def next(self, timeout: float = 10) -> dict[str, Any]:
        """The next `next` payload's data (pings answered); raises on error/complete."""
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            if message["type"] == "ping":
                await self.ws.send(json.dumps({"type": "pong"}))
                continue
            if message["type"] == "next":
                payload = message["payload"]
                if payload.get("errors"):
                    raise SubscriptionError(payload["errors"])
                return payload["data"]
            if message["type"] == "error":
                raise SubscriptionError(message["payload"])
            if message["type"] == "complete":
                raise SubscriptionError([{"message": "completed"}])

    async def next_where(self, predicate: Any, timeout: float = 15) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            data = await self.next(max(0.1, deadline - loop.time()))
            if predicate(data):
                return data

    async def close(self) -> None:
        await self.ws.close()


class SubscriptionError(Exception):
    def __init__(self, errors: Any):
        super().__init__(str(errors))
        self.errors = errors

    @property
    def code(self) -> str | None:
        return (self.errors[0].get("extensions") or {}).get("code") if self.errors else None


def record_statements(monkeypatch: Any, module: Any) -> list[str]:
    """The SQL `module` sends through its `fetch` from now on (it still runs), in order."""
    seen: list[str] = []
    original = module.fetch

    async def recording(sql: str, *args: Any, conn: Any = None) -> list[dict[str, Any]]:
        seen.append(sql)
        return await original(sql, *args, conn=conn)

    monkeypatch.setattr(module, "fetch", recording)
    return seen


@contextlib.contextmanager
def own_sweep_paused() -> Iterator[None]:
    """Stop this test process's stale-send sweep (the upkeep job its app enqueues for its in-process
    worker, jobs/maintenance.py) from finding anything. Tests that start `pytake` processes under a
    Redis namespace of their own share the run's database: a reply their worker is slow to claim
    (a loaded machine starts a worker in seconds) would otherwise be taken into this process's
    namespace and sent from here. The launchers of those processes hold it (`started` in
    tests/test_worker_signals.py, `_processes` in tests/test_production.py)."""

    async def nothing(*, include_unclaimed: bool = True) -> list[int]:
        return []

    from jobs import outbound

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(outbound, "stale_queued", nothing)
        yield


async def eventually(check: Any, timeout: float = 10, interval: float = 0.05) -> Any:
    """Poll `check` (async, returns truthy when done) with a deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


SEND = (
    "mutation($input: SendMessageInput!) "
    "{ sendMessage(input: $input) { id status platform clientMessageId text } }"
)


@dataclass
class ConnectorCase:
    """A channel in the app whose `api_base` is a fake platform's, the URL that platform posts its
    webhooks to, and an agent who answers through the app (sends go out on the in-process worker)."""

    server: str
    channel: Channel
    fake: Any
    base_url: str  # where the fake serves: the channel's api_base
    secrets: dict[str, str]
    agent_name: str | None = None
    _access: str | None = None

    @property
    def webhook(self) -> str:
        return f"{self.server}/webhooks/{self.channel.platform}/{self.channel.id}"

    async def access(self) -> str:
        """The agent's access token (the agent is made and logged in once)."""
        if self._access is None:
            self._access = await login(self.server, await make_user(Role.AGENT, name=self.agent_name))
        return self._access

    async def reply(self, conversation_id: int, text: str, **fields: Any) -> tuple[dict[str, Any], str]:
        """sendMessage as the agent (`fields`: buttons, channelId...); (response, clientMessageId)."""
        client_id = str(uuid.uuid4())
        reply = {
            "conversationId": to_global_id("Conversation", conversation_id),
            "clientMessageId": client_id,
            "text": text,
            **fields,
        }
        return await gql(self.server, SEND, {"input": reply}, await self.access()), client_id

    async def wait_for(self, client_id: str, status: str = "sent", timeout: float = 20) -> Message:
        """The reply once the worker has taken it to `status` (sent, delivered, read, failed)."""

        async def reached() -> Message | None:
            message = await Message.get_or_none(client_message_id=client_id)
            return message if message is not None and message.status == status else None

        return await eventually(reached, timeout=timeout)


@contextlib.asynccontextmanager
async def connector_case(
    server: str,
    fake: Any,
    platform: str,
    config: dict[str, Any],
    secrets: dict[str, str],
    *,
    wire: Callable[[ConnectorCase], Awaitable[None] | None] | None = None,
    name: str = "",
    agent_name: str | None = None,
) -> AsyncIterator[ConnectorCase]:
    """Serve `fake` (an HTTP fake; None where the test serves its own, like SMTP), store a `platform`
    channel whose api_base is the fake's and let `wire` tell the fake about the channel (webhook URL,
    tokens). The channel is disabled afterwards, so later tests' reply targets stay short."""
    async with contextlib.AsyncExitStack() as stack:
        base_url = "" if fake is None else await stack.enter_async_context(fake.serve())
        if base_url:
            config = {**config, "api_base": base_url}
        channel = await make_channel(platform, config, secrets, name=name)
        case = ConnectorCase(server, channel, fake, base_url, secrets, agent_name)
        try:
            if wire is not None:
                wired = wire(case)
                if wired is not None:
                    await wired
            yield case
        finally:
            await Channel.filter(id=channel.id).update(enabled=False)
