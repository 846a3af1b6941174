"""Signed outgoing webhooks against a receiver on loopback: the signature checked with `hmac`
directly (not our signing code), retries with backoff, order per conversation, replay, secret
rotation, auto-disable after a day of failures (the delivery clock moved, not waited for), and the
SSRF refusals (the test receiver is on 127.0.0.1, so each endpoint has the admin's exception)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from cryptography.fernet import Fernet
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from connectors.fakes.server import serve_app
from core import crypto
from core.settings import get_settings
from core.sql import fetch, fetchrow
from models import AuditLog, Role, WebhookDelivery, WebhookEndpoint
from resolvers import ssrf
from resolvers.outgoing_webhooks import deliver, reencrypt_all_secrets
from resolvers.webhook_delivery import clock
from resolvers.webhook_dispatch import dispatch
from schema.relay import parse_global_id, to_global_id
from tests.helpers import error_code, eventually, gql, login, make_user, post_webhook, wa_text_payload


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An integrator's endpoint: records every request and answers what `answer` says."""

    answer: Callable[[dict[str, Any]], int] = lambda body: 200
    requests: list[Received] = field(default_factory=list)
    url: str = ""
    delay: float = 0.0

    async def handle(self, request: Request) -> PlainTextResponse:
        raw = await request.body()
        if self.delay:
            await asyncio.sleep(self.delay)
        status = self.answer(json.loads(raw))
        self.requests.append(Received({k.lower(): v for k, v in request.headers.items()}, raw, status))
        return PlainTextResponse("ok" if status < 300 else "no", status_code=status)

    def accepted(self) -> list[Received]:
        return [r for r in self.requests if r.status < 300]


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rx = Receiver()
    app = Starlette(routes=[Route("/hook", rx.handle, methods=["POST"])])
    async with serve_app(app) as base:
        rx.url = f"{base}/hook"
        yield rx


@pytest_asyncio.fixture
async def admin(server: str) -> tuple[str, int]:
    user = await make_user(Role.ADMIN)
    return await login(server, user), user.id


@pytest.fixture(autouse=True)
def real_clock() -> Any:
    yield
    clock.offset = timedelta(0)


@pytest_asyncio.fixture(autouse=True)
async def no_endpoints_left() -> AsyncIterator[None]:
    yield  # an endpoint left enabled would keep failing at a receiver that is gone
    await WebhookEndpoint.all().delete()


SAVE = """mutation($id: ID, $input: WebhookEndpointInput!) { saveWebhookEndpoint(id: $id, input: $input) {
  secret endpoint { id url enabled events channelIds allowPrivateNetwork disabledReason failingSince } } }"""
DELIVERIES = """query($id: ID!) { webhookDeliveries(endpointId: $id) { id eventId eventType status attempts
  body replayOf conversationId attemptLog { startedAt statusCode succeeded error durationMs } } }"""
REPLAY = """mutation($d: ID, $e: ID, $s: DateTime, $u: DateTime) {
  replayWebhookDeliveries(deliveryId: $d, endpointId: $e, since: $s, until: $u) }"""
ROTATE = """mutation($id: ID!, $keep: Int!) { rotateWebhookEndpointSecret(id: $id, previousValidSeconds: $keep) {
  secret endpoint { previousSecretValidUntil } } }"""


async def save_endpoint(
    server: str, token: str, url: str, channel_id: int, events: list[str] | None = None, **extra: Any
) -> tuple[str, str]:
    body = await gql(
        server,
        SAVE,
        {
            "input": {
                "url": url,
                "events": events or ["message.created"],
                "channelIds": [to_global_id("Channel", channel_id)],
                "allowPrivateNetwork": True,
                **extra,
            }
        },
        token,
    )
    assert "errors" not in body, body
    saved = body["data"]["saveWebhookEndpoint"]
    return saved["endpoint"]["id"], saved["secret"]


def verify(secret: str, received: Received, tolerance: float | None = 300) -> bool:
    """What an integrator writes (README): an HMAC-SHA256 of `t.body` with the secret, any v1 matching."""
    parts = [p.split("=", 1) for p in received.headers["pytake-signature"].split(",")]
    timestamp = next(v for k, v in parts if k == "t")
    if tolerance is not None and abs(time.time() - int(timestamp)) > tolerance:
        return False
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + received.body, hashlib.sha256
    ).hexdigest()
    return any(k == "v1" and hmac.compare_digest(v, expected) for k, v in parts)


async def customer_writes(server: str, wa: Any, text: str, phone: str | None = None) -> str:
    channel, secrets, _ = wa
    phone = phone or f"5511{random.randrange(10**9):09d}"
    body = wa_text_payload(channel.config["phone_number_id"], phone, text)
    assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200
    return phone


async def delivery(endpoint_gid: str, where: Callable[[dict[str, Any]], bool], timeout: float = 30) -> dict:
    endpoint = parse_global_id(endpoint_gid)[1]

    async def found() -> dict | None:
        for row in await fetch(
            "SELECT * FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY id", endpoint
        ):
            if where(row):
                return row
        return None

    return await eventually(found, timeout=timeout, interval=0.1)


async def run_clock_to(moment: datetime) -> None:
    """Move the delivery clock so that `moment` has passed (a retry's time, a day of failures)."""
    clock.offset = max(clock.offset, moment - datetime.now(UTC) + timedelta(milliseconds=200))


async def test_a_delivery_is_signed_as_documented_and_recorded(server, wa, receiver, admin):
    token, _ = admin
    endpoint, secret = await save_endpoint(
        server, token, receiver.url, wa[0].id, ["message.created", "conversation.created"]
    )
    assert secret.startswith("whsec_")
    await customer_writes(server, wa, "Is my order on its way?")
    await eventually(lambda: _at_least(receiver.accepted, 2), timeout=30)

    by_type = {r.json["type"]: r for r in receiver.accepted()}
    message = by_type["message.created"]
    assert verify(secret, message) and verify(secret, by_type["conversation.created"])
    assert not verify("whsec_wrong", message)
    tampered = Received(message.headers, message.body.replace(b"order", b"0rder"), 200)
    assert not verify(secret, tampered)
    assert message.json["data"]["message"]["text"] == "Is my order on its way?"
    assert message.headers["content-type"] == "application/json"
    assert message.headers["pytake-event"] == "message.created"

    listed = (await gql(server, DELIVERIES, {"id": endpoint}, token))["data"]["webhookDeliveries"]
    sent = next(d for d in listed if d["eventType"] == "message.created")
    assert sent["id"] == message.headers["pytake-delivery"]  # the receiver's dedup key
    assert sent["status"] == "SUCCEEDED" and sent["body"].encode() == message.body
    assert [(a["statusCode"], a["succeeded"]) for a in sent["attemptLog"]] == [(200, True)]
    assert sent["eventId"] == message.json["event_id"]


async def _at_least(items: Callable[[], list[Any]], n: int) -> bool:
    return len(items()) >= n


async def test_failures_are_retried_with_exponential_backoff(server, wa, receiver, admin):
    token, _ = admin
    answers = iter([500, 503])
    receiver.answer = lambda body: next(answers, 200)
    endpoint, secret = await save_endpoint(server, token, receiver.url, wa[0].id)
    await customer_writes(server, wa, "retry me")

    first = await delivery(endpoint, lambda d: d["attempts"] == 1 and d["lease_until"] is None)
    assert first["status"] == "pending" and first["last_status_code"] == 500
    waited = first["next_attempt_at"] - first["created_at"]
    assert timedelta(seconds=10) <= waited < timedelta(seconds=13)  # RETRY_BASE, plus jitter
    await asyncio.sleep(1.5)
    assert len(receiver.requests) == 1  # not before its time

    await run_clock_to(first["next_attempt_at"])
    second = await delivery(endpoint, lambda d: d["attempts"] == 2 and d["lease_until"] is None)
    attempts = await fetch(
        "SELECT started_at FROM webhook_attempts WHERE delivery_id = $1 ORDER BY id", second["id"]
    )
    assert second["next_attempt_at"] - attempts[1]["started_at"] >= timedelta(seconds=20)  # doubled

    await run_clock_to(second["next_attempt_at"])
    done = await delivery(endpoint, lambda d: d["status"] == "succeeded")
    assert done["attempts"] == 3 and done["last_status_code"] == 200
    assert [r.status for r in receiver.requests] == [500, 503, 200]
    assert len({r.headers["pytake-delivery"] for r in receiver.requests}) == 1  # one delivery, three tries
    assert len({r.body for r in receiver.requests}) == 1 and all(verify(secret, r) for r in receiver.requests)
    listed = (await gql(server, DELIVERIES, {"id": endpoint}, token))["data"]["webhookDeliveries"]
    assert [a["statusCode"] for a in listed[0]["attemptLog"]] == [500, 503, 200]
    assert all(a["durationMs"] >= 0 for a in listed[0]["attemptLog"])


async def test_each_conversation_is_delivered_in_order_while_others_go_on(server, wa, receiver, admin):
    token, _ = admin
    failed_once: set[str] = set()

    def answer(body: dict[str, Any]) -> int:
        text = body["data"]["message"]["text"]
        if text == "A1" and text not in failed_once:
            failed_once.add(text)
            return 500
        return 200

    receiver.answer = answer
    endpoint, _ = await save_endpoint(server, token, receiver.url, wa[0].id)
    phone_a = await customer_writes(server, wa, "A1")
    a1 = await delivery(endpoint, lambda d: d["attempts"] == 1 and d["status"] == "pending")
    await customer_writes(server, wa, "A2", phone=phone_a)
    await customer_writes(server, wa, "B1")

    def texts() -> list[str]:
        return [r.json["data"]["message"]["text"] for r in receiver.accepted()]

    await eventually(lambda: _holds(lambda: "B1" in texts()), timeout=30)
    await asyncio.sleep(1.5)  # a tick or two: A2 must still wait behind A1's retry
    assert texts() == ["B1"]
    a2 = await delivery(endpoint, lambda d: '"A2"' in d["body"])
    assert (
        a2["status"] == "pending" and a2["attempts"] == 0 and a2["conversation_id"] == a1["conversation_id"]
    )

    await run_clock_to(a1["next_attempt_at"])
    await eventually(lambda: _holds(lambda: len(texts()) == 3), timeout=30)
    assert texts() == ["B1", "A1", "A2"]


async def _holds(check: Callable[[], bool]) -> bool:
    return check()


async def test_replay_one_delivery_or_a_time_range(server, wa, receiver, admin):
    token, _ = admin
    endpoint, secret = await save_endpoint(server, token, receiver.url, wa[0].id)
    started = datetime.now(UTC) - timedelta(seconds=1)
    await customer_writes(server, wa, "first")
    await customer_writes(server, wa, "second")
    await eventually(lambda: _at_least(receiver.accepted, 2), timeout=30)
    original = receiver.accepted()[0]

    one = await gql(server, REPLAY, {"d": original.headers["pytake-delivery"]}, token)
    assert one["data"]["replayWebhookDeliveries"] == 1
    await eventually(lambda: _at_least(receiver.accepted, 3), timeout=30)
    again = receiver.accepted()[2]
    assert again.body == original.body and verify(secret, again)
    assert again.headers["pytake-delivery"] != original.headers["pytake-delivery"]

    ranged = await gql(
        server,
        REPLAY,
        {
            "e": endpoint,
            "s": started.isoformat(),
            "u": (datetime.now(UTC) + timedelta(seconds=5)).isoformat(),
        },
        token,
    )
    assert ranged["data"]["replayWebhookDeliveries"] == 2  # originals only, not the replay
    await eventually(lambda: _at_least(receiver.accepted, 5), timeout=30)
    assert sorted(r.body for r in receiver.accepted()[3:]) == sorted(r.body for r in receiver.accepted()[:2])
    listed = (await gql(server, DELIVERIES, {"id": endpoint}, token))["data"]["webhookDeliveries"]
    assert sum(1 for d in listed if d["replayOf"] == original.headers["pytake-delivery"]) == 2

    missing = await gql(server, REPLAY, {"d": "00000000-0000-0000-0000-000000000000"}, token)
    assert error_code(missing) == "NOT_FOUND"
    assert error_code(await gql(server, REPLAY, {"d": "not-a-uuid"}, token)) == "BAD_USER_INPUT"
    assert error_code(await gql(server, REPLAY, {"e": endpoint}, token)) == "BAD_USER_INPUT"
    entries = await AuditLog.filter(action="webhook_delivery.replay").count()
    assert entries >= 2


async def test_rotation_signs_with_both_secrets_for_a_while(server, wa, receiver, admin):
    token, _ = admin
    endpoint, old = await save_endpoint(server, token, receiver.url, wa[0].id)
    rotated = (await gql(server, ROTATE, {"id": endpoint, "keep": 3600}, token))["data"]
    new = rotated["rotateWebhookEndpointSecret"]["secret"]
    assert new != old and rotated["rotateWebhookEndpointSecret"]["endpoint"]["previousSecretValidUntil"]
    await customer_writes(server, wa, "during the overlap")
    await eventually(lambda: _at_least(receiver.accepted, 1), timeout=30)
    during = receiver.accepted()[0]
    assert verify(new, during) and verify(old, during)
    assert during.headers["pytake-signature"].count("v1=") == 2

    await gql(server, ROTATE, {"id": endpoint, "keep": 0}, token)
    newest = (await WebhookEndpoint.get(id=parse_global_id(endpoint)[1])).secrets_encrypted
    assert new not in newest and old not in newest  # encrypted at rest
    await customer_writes(server, wa, "after the overlap")
    await eventually(lambda: _at_least(receiver.accepted, 2), timeout=30)
    after = receiver.accepted()[1]
    assert after.headers["pytake-signature"].count("v1=") == 1
    assert not verify(new, after) and not verify(old, after)  # signed by the newest secret only
    assert await AuditLog.filter(action="webhook_endpoint.rotate_secret").count() >= 2


async def test_an_endpoint_failing_for_a_day_is_disabled_and_its_owner_told(server, wa, receiver, admin):
    token, admin_id = admin
    receiver.answer = lambda body: 503
    endpoint, _ = await save_endpoint(server, token, receiver.url, wa[0].id)
    endpoint_id = parse_global_id(endpoint)[1]
    await customer_writes(server, wa, "nobody listens")
    first = await delivery(endpoint, lambda d: d["attempts"] == 1 and d["lease_until"] is None)
    assert (await WebhookEndpoint.get(id=endpoint_id)).enabled  # one failure is not a day of them

    await run_clock_to(first["created_at"] + timedelta(days=1, minutes=1))

    async def disabled() -> WebhookEndpoint | None:
        row = await WebhookEndpoint.get(id=endpoint_id)
        return row if not row.enabled else None

    row = await eventually(disabled, timeout=30)
    assert "every delivery failed since" in row.disabled_reason
    gave_up = await WebhookDelivery.get(id=first["id"])
    assert gave_up.status == "failed" and gave_up.attempts == 2  # the retry window ended with it
    notice = await AuditLog.get(action="webhook_endpoint.disabled", target_id=str(endpoint_id))
    assert notice.details["notify_user_id"] == admin_id
    requests = len(receiver.requests)
    await customer_writes(server, wa, "while disabled")
    await asyncio.sleep(2)
    assert len(receiver.requests) == requests  # a disabled endpoint is sent nothing

    receiver.answer = lambda body: 200
    again = await gql(
        server,
        SAVE,
        {
            "id": endpoint,
            "input": {
                "url": receiver.url,
                "events": ["message.created"],
                "allowPrivateNetwork": True,
                "channelIds": [to_global_id("Channel", wa[0].id)],
            },
        },
        token,
    )
    saved = again["data"]["saveWebhookEndpoint"]["endpoint"]
    assert saved["enabled"] and saved["disabledReason"] is None and saved["failingSince"] is None
    await eventually(
        lambda: _holds(
            lambda: any(r.json["data"]["message"]["text"] == "while disabled" for r in receiver.accepted())
        ),
        timeout=30,
    )


async def test_private_addresses_are_refused_unless_the_admin_allows_them(server, wa, receiver, admin):
    token, _ = admin
    for url, reason in (
        (receiver.url, "loopback"),
        ("http://localhost:9/hook", "loopback"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://10.1.2.3/hook", "private"),
        ("http://[::1]:8080/hook", "loopback"),
        ("http://[::ffff:127.0.0.1]/hook", "loopback"),
        ("http://0.0.0.0/", "unspecified"),
    ):
        body = await gql(server, SAVE, {"input": {"url": url, "events": ["message.created"]}}, token)
        assert error_code(body) == "BAD_USER_INPUT", (url, body)
        assert reason in body["errors"][0]["message"], (url, body["errors"][0]["message"])
    for url in ("ftp://example.com/x", "http://user:pw@example.com/", "not a url", "http://"):
        body = await gql(server, SAVE, {"input": {"url": url, "events": ["message.created"]}}, token)
        assert error_code(body) == "BAD_USER_INPUT", (url, body)
    unknown = await gql(server, SAVE, {"input": {"url": "https://example.com", "events": ["nope"]}}, token)
    assert error_code(unknown) == "BAD_USER_INPUT"
    assert await WebhookEndpoint.all().count() == 0

    # Allowed by the admin, then the address no longer is (as if the name now resolved inside):
    # checked again at delivery, refused, recorded, and nothing reaches the receiver.
    endpoint, _ = await save_endpoint(server, token, receiver.url, wa[0].id)
    await WebhookEndpoint.filter(id=parse_global_id(endpoint)[1]).update(allow_private_network=False)
    await customer_writes(server, wa, "should not leave")
    refused = await delivery(endpoint, lambda d: d["attempts"] == 1 and d["lease_until"] is None)
    assert refused["last_error"].startswith("refused:") and "loopback" in refused["last_error"]
    assert receiver.requests == []


async def test_one_address_inside_is_enough_to_refuse_a_name() -> None:
    assert ssrf.forbidden_reason(ssrf.ipaddress.ip_address("93.184.216.34")) is None
    assert ssrf.forbidden_reason(ssrf.ipaddress.ip_address("100.64.0.1")) == "not globally routable"
    assert ssrf.forbidden_reason(ssrf.ipaddress.ip_address("fe80::1")) == "link-local"

    async def two_addresses(host: str, port: int) -> list[Any]:
        return [ssrf.ipaddress.ip_address("93.184.216.34"), ssrf.ipaddress.ip_address("192.168.1.5")]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ssrf, "resolve", two_addresses)
        with pytest.raises(ssrf.UnsafeUrl, match=r"192\.168\.1\.5, a private address"):
            await ssrf.check("https://mixed.example/hook")
        target = await ssrf.check("https://mixed.example:8443/hook?x=1", allow_private=True)
    assert target.pinned() == "https://93.184.216.34:8443/hook?x=1" and target.host == "mixed.example"


async def test_only_admins_manage_webhooks(server, admin):
    agent = await login(server, await make_user(Role.SUPERVISOR))
    assert error_code(await gql(server, "{ webhookEndpoints { id } }", {}, agent)) == "FORBIDDEN"
    assert error_code(await gql(server, "{ webhookEndpoints { id } }", {})) == "UNAUTHENTICATED"
    body = await gql(server, SAVE, {"input": {"url": "https://example.com", "events": ["*"]}}, agent)
    assert error_code(body) == "FORBIDDEN"
    assert await fetchrow("SELECT 1 FROM webhook_endpoints") is None


async def test_signing_secrets_follow_an_encryption_key_rotation(server, wa, admin, monkeypatch):
    token, _ = admin
    endpoint, secret = await save_endpoint(server, token, "http://127.0.0.1:9/hook", wa[0].id)
    configured = get_settings().encryption_keys[0]
    new = Fernet.generate_key().decode()

    def use_keys(*keys: str) -> None:
        settings = replace(get_settings(), encryption_keys=keys)
        monkeypatch.setattr(crypto, "get_settings", lambda: settings)

    use_keys(new, configured)
    assert await reencrypt_all_secrets() >= 1
    use_keys(new)  # the configured key retired: the secret still reads, under the new key alone
    row = await WebhookEndpoint.get(id=parse_global_id(endpoint)[1])
    assert crypto.decrypt_secrets(row.secrets_encrypted)["current"] == secret
    use_keys(configured, new)  # back under the suite's key
    await reencrypt_all_secrets()


async def test_concurrent_workers_send_each_delivery_once_and_in_order(server, wa, receiver, admin):
    """Several fan-outs and senders at once (besides the tick): row locks and leases keep every
    event to one delivery, sent once, each conversation's in order."""
    token, _ = admin
    receiver.delay = 0.05  # widens the window in which two senders could collide
    endpoint, _ = await save_endpoint(server, token, receiver.url, wa[0].id)
    endpoint_id = parse_global_id(endpoint)[1]
    phones = [f"5541{random.randrange(10**9):09d}" for _ in range(3)]
    for n in range(4):
        await asyncio.gather(*(customer_writes(server, wa, f"{p}:{n}", phone=p) for p in phones))
        await asyncio.gather(dispatch(), dispatch(), *(deliver(endpoint_id) for _ in range(4)))
    await eventually(lambda: _at_least(receiver.accepted, 12), timeout=60)
    await asyncio.gather(dispatch(), *(deliver(endpoint_id) for _ in range(3)))
    await asyncio.sleep(1.5)  # a tick or so: anything doubled would arrive by now

    got = [r.json["data"]["message"]["text"] for r in receiver.accepted()]
    assert sorted(got) == sorted(f"{p}:{n}" for p in phones for n in range(4))  # each exactly once
    assert len({r.headers["pytake-delivery"] for r in receiver.requests}) == len(receiver.requests)
    for phone in phones:
        assert [t for t in got if t.startswith(phone)] == [f"{phone}:{n}" for n in range(4)]
