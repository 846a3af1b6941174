"""Settings → Channels, the webhook side: a rotated secret keeps working for a grace period (then,
or once an admin ends it, it is refused and nothing is stored), and a Viber channel registers its
webhook again on request, Viber's refusals coming back as PLATFORM_ERROR with Viber's own code."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.settings import get_settings
from models import AuditLog, Channel, Message, Role
from resolvers.webhook_delivery import clock
from schema.relay import parse_global_id
from tests.fakes.telegram import FakeTelegram
from tests.fakes.viber import FakeViber
from tests.helpers import error_code, gql, login, make_user

CHANNEL_FIELDS = "id health lastError secretsSet previousSecretAcceptedUntil registersWebhook"
CREATE = f"mutation($input: CreateChannelInput!) {{ createChannel(input: $input) {{ {CHANNEL_FIELDS} }} }}"
ROTATE = f"mutation($id: ID!) {{ rotateWebhookSecret(channelId: $id) {{ secrets channel {{ {CHANNEL_FIELDS} }} }} }}"
END_GRACE = f"mutation($id: ID!) {{ endWebhookSecretGrace(channelId: $id) {{ {CHANNEL_FIELDS} }} }}"
REGISTER = f"mutation($id: ID!) {{ registerChannelWebhook(channelId: $id) {{ {CHANNEL_FIELDS} }} }}"
UPDATE = f"mutation($input: UpdateChannelInput!) {{ updateChannel(input: $input) {{ {CHANNEL_FIELDS} }} }}"


@pytest.fixture(autouse=True)
def real_clock() -> Any:
    yield
    clock.offset = timedelta(0)


def _data(body: dict[str, Any], field: str) -> dict[str, Any]:
    assert body.get("errors") is None, body
    return body["data"][field]


async def _actions(channel_id: int, action: str) -> list[AuditLog]:
    return await AuditLog.filter(target_type="Channel", target_id=str(channel_id), action=action).order_by(
        "id"
    )


async def test_rotated_secret_is_accepted_for_the_grace_period_then_refused(server) -> None:  # type: ignore[no-untyped-def]
    token = f"{7_200_000_000 + uuid.uuid4().int % 10**9}:AA{uuid.uuid4().hex}"
    api = FakeTelegram(require_https=False)
    api.add_bot(token, username="grace_bot")
    admin = await login(server, await make_user(Role.ADMIN))
    async with api.serve() as base:
        created = _data(
            await gql(
                server,
                CREATE,
                {
                    "input": {
                        "platform": "TELEGRAM",
                        "name": "Grace bot",
                        "config": {"api_base": base},
                        "secrets": {"bot_token": token},
                    }
                },
                admin,
            ),
            "createChannel",
        )
        gid = created["id"]
        channel_id = parse_global_id(gid)[1]
        assert created["previousSecretAcceptedUntil"] is None and created["registersWebhook"] is True
        url = f"{server}/webhooks/telegram/{channel_id}"
        old = api.bots[token].webhook["secret_token"]
        chat = 500_000_000 + uuid.uuid4().int % 10**8
        api.start_chat(chat)

        async def post(text: str, secret: str) -> int:
            update = api.text_update(chat, text)
            return (await api.post_update(token, update, url=url, secret_token=secret)).status_code

        async def texts() -> list[str | None]:
            return [m.text for m in await Message.filter(channel_id=channel_id).order_by("id")]

        before = datetime.now(UTC)
        rotated = _data(await gql(server, ROTATE, {"id": gid}, admin), "rotateWebhookSecret")
        fresh = rotated["secrets"]["secret_token"]
        until = datetime.fromisoformat(rotated["channel"]["previousSecretAcceptedUntil"])
        grace = timedelta(hours=get_settings().webhook_secret_grace_hours)
        assert before + grace <= until <= datetime.now(UTC) + grace
        (entry,) = await _actions(channel_id, "channel.rotate_webhook_secret")
        assert entry.details["previous_accepted_until"] == until.isoformat()
        assert old not in str(entry.details) and fresh not in str(entry.details)

        # Within the grace: the new secret first, the old one too; a wrong one never.
        assert await post("signed with the new secret", fresh) == 200
        assert await post("signed with the old secret", old) == 200
        assert await post("forged", "not-the-secret") == 401
        assert await texts() == ["signed with the new secret", "signed with the old secret"]

        # The grace ends by time: the old secret is refused and nothing is stored.
        clock.offset = until - datetime.now(UTC) + timedelta(seconds=1)
        assert await post("old secret, grace over", old) == 401
        assert await post("new secret, grace over", fresh) == 200
        assert await texts() == [
            "signed with the new secret",
            "signed with the old secret",
            "new secret, grace over",
        ]
        listed = _data(
            await gql(server, "query { channels { id previousSecretAcceptedUntil } }", {}, admin), "channels"
        )
        assert next(c for c in listed if c["id"] == gid)["previousSecretAcceptedUntil"] is None
        clock.offset = timedelta(0)

        # Rotating again: only the secret it replaces is kept; the admin ends the grace at once.
        second = _data(await gql(server, ROTATE, {"id": gid}, admin), "rotateWebhookSecret")
        newest = second["secrets"]["secret_token"]
        assert second["channel"]["previousSecretAcceptedUntil"] is not None
        assert await post("first secret after two rotations", old) == 401
        assert await post("second secret in its grace", fresh) == 200
        ended = _data(await gql(server, END_GRACE, {"id": gid}, admin), "endWebhookSecretGrace")
        assert ended["previousSecretAcceptedUntil"] is None
        assert await post("second secret, grace ended", fresh) == 401
        assert await post("newest secret", newest) == 200
        assert (await texts())[-2:] == ["second secret in its grace", "newest secret"]
        (end,) = await _actions(channel_id, "channel.end_webhook_secret_grace")
        assert end.details["previous_accepted_until"] == second["channel"]["previousSecretAcceptedUntil"]
        # Nothing left to end: the same answer, and no second audit entry.
        again = _data(await gql(server, END_GRACE, {"id": gid}, admin), "endWebhookSecretGrace")
        assert again["previousSecretAcceptedUntil"] is None
        assert len(await _actions(channel_id, "channel.end_webhook_secret_grace")) == 1

        supervisor = await login(server, await make_user(Role.SUPERVISOR))
        assert error_code(await gql(server, END_GRACE, {"id": gid}, supervisor)) == "FORBIDDEN"
        await Channel.filter(id=channel_id).update(enabled=False)


async def test_viber_registers_its_webhook_again_and_refusals_have_vibers_code(server) -> None:  # type: ignore[no-untyped-def]
    token = uuid.uuid4().hex
    api = FakeViber(token)
    api.reach = (get_settings().public_url, server)  # Viber's check callback reaches the test server
    admin = await login(server, await make_user(Role.ADMIN))
    async with api.serve() as base:
        created = _data(
            await gql(
                server,
                CREATE,
                {
                    "input": {
                        "platform": "VIBER",
                        "name": "Viber re-register",
                        "config": {"api_base": base, "sender_name": "Acme"},
                        "secrets": {"auth_token": token},
                    }
                },
                admin,
            ),
            "createChannel",
        )
        gid = created["id"]
        channel_id = parse_global_id(gid)[1]
        public = f"{get_settings().public_url}/webhooks/viber/{channel_id}"
        assert created["registersWebhook"] is True
        assert api.webhook == public and created["lastError"] is None  # registered on creation

        # Viber lost the webhook (another tool set its own, say): registering again restores it,
        # and Viber's signed check callback was answered 200 by our endpoint.
        api.webhook = None
        checks = len(api.webhook_responses)
        registered = _data(await gql(server, REGISTER, {"id": gid}, admin), "registerChannelWebhook")
        assert api.webhook == public and api.set_webhook_calls[-1]["url"] == public
        assert [r.status_code for r in list(api.webhook_responses)[checks:]] == [200]
        assert registered["lastError"] is None and registered["health"] != "ERROR"
        assert await Message.filter(channel_id=channel_id).count() == 0  # the check stores nothing

        # Viber refuses the token: PLATFORM_ERROR with Viber's code and reason; shown on the health.
        _data(
            await gql(server, UPDATE, {"input": {"id": gid, "secrets": {"auth_token": "revoked"}}}, admin),
            "updateChannel",
        )
        refused = await gql(server, REGISTER, {"id": gid}, admin)
        assert error_code(refused) == "PLATFORM_ERROR", refused
        extensions = refused["errors"][0]["extensions"]
        assert extensions["platformCode"] == "invalidAuthToken" and extensions["retryable"] is False
        assert "auth token" in refused["errors"][0]["message"]
        channel = await Channel.get(id=channel_id)
        assert (channel.last_error or "").startswith("webhook registration failed")

        # An HTTPS-only Viber refuses our plain-http URL: invalidUrl.
        _data(
            await gql(server, UPDATE, {"input": {"id": gid, "secrets": {"auth_token": token}}}, admin),
            "updateChannel",
        )
        api.require_https = True
        https = await gql(server, REGISTER, {"id": gid}, admin)
        assert (error_code(https), https["errors"][0]["extensions"]["platformCode"]) == (
            "PLATFORM_ERROR",
            "invalidUrl",
        )
        api.require_https = False

        # Fixed: registered, and the registration failure leaves the health.
        fixed = _data(await gql(server, REGISTER, {"id": gid}, admin), "registerChannelWebhook")
        assert fixed["lastError"] is None and fixed["health"] != "ERROR"
        outcomes = [e.details["outcome"] for e in await _actions(channel_id, "channel.register_webhook")]
        assert outcomes == ["ok", "invalidAuthToken", "invalidUrl", "ok"]

        # Viber does not answer at all: still PLATFORM_ERROR, retryable.
        _data(
            await gql(
                server, UPDATE, {"input": {"id": gid, "config": {"api_base": "http://127.0.0.1:9"}}}, admin
            ),
            "updateChannel",
        )
        down = await gql(server, REGISTER, {"id": gid}, admin)
        assert error_code(down) == "PLATFORM_ERROR"
        assert down["errors"][0]["extensions"]["platformCode"] == "NETWORK_ERROR"
        assert down["errors"][0]["extensions"]["retryable"] is True
        await Channel.filter(id=channel_id).update(enabled=False)


async def test_only_platforms_with_a_registration_api_register(server) -> None:  # type: ignore[no-untyped-def]
    admin = await login(server, await make_user(Role.ADMIN))
    created = _data(
        await gql(
            server,
            CREATE,
            {
                "input": {
                    "platform": "LINE",
                    "name": "LINE, registered in its console",
                    "config": {},
                    "secrets": {"channel_secret": uuid.uuid4().hex, "channel_access_token": uuid.uuid4().hex},
                }
            },
            admin,
        ),
        "createChannel",
    )
    assert created["registersWebhook"] is False
    refused = await gql(server, REGISTER, {"id": created["id"]}, admin)
    assert error_code(refused) == "BAD_USER_INPUT"
    assert not await _actions(parse_global_id(created["id"])[1], "channel.register_webhook")
    agent = await login(server, await make_user(Role.AGENT))
    assert error_code(await gql(server, REGISTER, {"id": created["id"]}, agent)) == "FORBIDDEN"
    await Channel.filter(id=parse_global_id(created["id"])[1]).update(enabled=False)


async def test_meta_verify_token_grace_and_web_chats_too(server) -> None:  # type: ignore[no-untyped-def]
    """Meta re-verifies with the verify token: the rotated-out one still answers the challenge
    during the grace. Web chat's secret signs visitor tokens, not webhooks: the same grace."""
    import httpx

    admin = await login(server, await make_user(Role.ADMIN))
    created = _data(
        await gql(
            server,
            CREATE,
            {
                "input": {
                    "platform": "WHATSAPP",
                    "name": "WhatsApp grace",
                    "config": {"phone_number_id": str(10**14 + uuid.uuid4().int % 10**13)},
                    "secrets": {
                        "app_secret": "a" * 32,
                        "access_token": "t" * 32,
                        "verify_token": "old-verify-token",
                    },
                }
            },
            admin,
        ),
        "createChannel",
    )
    channel_id = parse_global_id(created["id"])[1]
    url = f"{server}/webhooks/whatsapp/{channel_id}"

    async def challenge(token: str) -> tuple[int, str]:
        query = {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "4242"}
        async with httpx.AsyncClient() as client:
            r = await client.get(url, params=query)
        return r.status_code, r.text

    fresh = _data(await gql(server, ROTATE, {"id": created["id"]}, admin), "rotateWebhookSecret")["secrets"]
    assert await challenge(fresh["verify_token"]) == (200, "4242")
    assert await challenge("old-verify-token") == (200, "4242")
    assert (await challenge("never-issued"))[0] == 403
    _data(await gql(server, END_GRACE, {"id": created["id"]}, admin), "endWebhookSecretGrace")
    assert (await challenge("old-verify-token"))[0] == 403
    await Channel.filter(id=channel_id).update(enabled=False)

    webchat = _data(
        await gql(
            server,
            CREATE,
            {
                "input": {
                    "platform": "WEBCHAT",
                    "name": "Site",
                    "config": {"allowed_origins": ["https://a.example"]},
                    "secrets": {},
                }
            },
            admin,
        ),
        "createChannel",
    )
    # Web chat's visitor token key gets the same grace (tests/test_webchat.py follows its visitors).
    rotated = _data(await gql(server, ROTATE, {"id": webchat["id"]}, admin), "rotateWebhookSecret")
    assert rotated["channel"]["previousSecretAcceptedUntil"] is not None
    await Channel.filter(id=parse_global_id(webchat["id"])[1]).update(enabled=False)
