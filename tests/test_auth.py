"""Sign-in, rotating refresh tokens, and the named errors of access control."""

from __future__ import annotations

import time

import jwt

from core.settings import get_settings
from models import AuditLog, Channel, Role
from tests.helpers import PASSWORD, error_code, gql, login, make_user

LOGIN = "mutation($e:String!,$p:String!){ login(email:$e,password:$p){ accessToken refreshToken expiresIn user { email role } } }"
REFRESH = "mutation($t:String!){ refreshToken(refreshToken:$t){ accessToken refreshToken } }"
CREATE_CHANNEL = """mutation($input: CreateChannelInput!) { createChannel(input: $input) {
  id platform name webhookUrl secretsSet config } }"""
WA_INPUT = {
    "platform": "WHATSAPP",
    "name": "Sales line",
    "config": {
        "phone_number_id": "106540352242922",
        "api_base": "http://127.0.0.1:9",
        "api_version": "v21.0",
    },
    "secrets": {"app_secret": "s3cret-app", "access_token": "EAAG-token", "verify_token": "verify-me"},
}


async def test_login_and_refresh_rotation_with_reuse_detection(server):
    user = await make_user(Role.AGENT)
    body = await gql(server, LOGIN, {"e": user.email.upper(), "p": PASSWORD})
    session = body["data"]["login"]
    assert session["user"] == {"email": user.email, "role": "AGENT"}
    assert session["expiresIn"] == get_settings().access_token_ttl

    rotated = (await gql(server, REFRESH, {"t": session["refreshToken"]}))["data"]["refreshToken"]
    assert rotated["refreshToken"] != session["refreshToken"]
    me = await gql(server, "{ me { email } }", token=rotated["accessToken"])
    assert me["data"]["me"]["email"] == user.email

    # the old token again: a leak; the whole family is revoked, including the newest token
    reuse = await gql(server, REFRESH, {"t": session["refreshToken"]})
    assert error_code(reuse) == "UNAUTHENTICATED"
    after_revoke = await gql(server, REFRESH, {"t": rotated["refreshToken"]})
    assert error_code(after_revoke) == "UNAUTHENTICATED"


async def test_wrong_password_and_unknown_email_look_the_same(server):
    user = await make_user(Role.AGENT)
    wrong = await gql(server, LOGIN, {"e": user.email, "p": "not the password"})
    unknown = await gql(server, LOGIN, {"e": "nobody@test.local", "p": "whatever123"})
    assert error_code(wrong) == error_code(unknown) == "UNAUTHENTICATED"
    assert wrong["errors"][0]["message"] == unknown["errors"][0]["message"]


async def test_expired_tampered_and_missing_tokens(server):
    user = await make_user(Role.AGENT)
    token = await login(server, user)
    settings = get_settings()
    expired = jwt.encode(
        {
            "sub": str(user.id),
            "role": "agent",
            "iss": "pytake",
            "aud": "pytake-api",
            "iat": 1,
            "exp": int(time.time()) - 60,
        },
        settings.jwt_secret,
        algorithm="HS256",
    )
    head, payload, sig = token.split(".")
    tampered = f"{head}.{payload}.{'A' if sig[0] != 'A' else 'B'}{sig[1:]}"
    forged_admin = jwt.encode(
        {
            "sub": str(user.id),
            "role": "admin",
            "iss": "pytake",
            "aud": "pytake-api",
            "exp": int(time.time()) + 60,
        },
        "not-our-secret-not-our-secret-not-our-secret",
        algorithm="HS256",
    )
    for bad in (expired, tampered, forged_admin, "garbage"):
        assert error_code(await gql(server, "{ me { id } }", token=bad)) == "UNAUTHENTICATED", bad
    assert error_code(await gql(server, "{ conversations { edges { cursor } } }")) == "UNAUTHENTICATED"


async def test_admin_creates_channel_secrets_are_write_only_and_audited(server):
    admin = await make_user(Role.ADMIN)
    token = await login(server, admin)
    body = await gql(server, CREATE_CHANNEL, {"input": WA_INPUT}, token)
    channel = body["data"]["createChannel"]
    assert channel["secretsSet"] == ["access_token", "app_secret", "verify_token"]
    assert channel["webhookUrl"].endswith(
        f"/webhooks/whatsapp/{(await Channel.all().order_by('-id').first()).id}"
    )
    assert "s3cret-app" not in str(body) and "EAAG-token" not in str(body)
    stored = await Channel.all().order_by("-id").first()
    assert "s3cret-app" not in stored.secrets_encrypted  # encrypted at rest
    entry = await AuditLog.filter(action="channel.create").order_by("-id").first()
    assert entry.actor_id == admin.id
    assert "s3cret-app" not in str(entry.details)


async def test_agents_and_anonymous_cannot_run_admin_mutations(server):
    agent = await make_user(Role.AGENT)
    token = await login(server, agent)
    assert error_code(await gql(server, CREATE_CHANNEL, {"input": WA_INPUT}, token)) == "FORBIDDEN"
    assert error_code(await gql(server, CREATE_CHANNEL, {"input": WA_INPUT})) == "UNAUTHENTICATED"
    assert error_code(await gql(server, "{ users { id } }", token=token)) == "FORBIDDEN"


async def test_channel_input_is_validated(server):
    admin = await make_user(Role.ADMIN)
    token = await login(server, admin)
    missing = {**WA_INPUT, "secrets": {"app_secret": "x"}}
    body = await gql(server, CREATE_CHANNEL, {"input": missing}, token)
    assert error_code(body) == "BAD_USER_INPUT"
    unknown_enum = await gql(server, CREATE_CHANNEL, {"input": {**WA_INPUT, "platform": "MYSPACE"}}, token)
    assert error_code(unknown_enum) == "BAD_USER_INPUT"
    assert unknown_enum["_status"] == 400
