"""API keys: created by admins with scopes, shown once and stored hashed, admitted per root field
by scope, audited as the key, revocable at once over HTTP and on live subscriptions."""

from __future__ import annotations

import hashlib
import uuid

from core.sql import fetch, fetchrow
from models import Role
from schema import Mutation as MutationRoot
from schema import Query, Subscription
from schema.key_scopes import listed
from tests.helpers import (
    Subscriber,
    SubscriptionError,
    error_code,
    gql,
    login,
    make_user,
    post_webhook,
    wa_text_payload,
)
from tests.test_story import INBOX_SUB

CREATE = """mutation($name: String!, $scopes: [ApiKeyScope!]!) { createApiKey(name: $name, scopes: $scopes) {
  token key { id name prefix scopes revokedAt lastUsedAt lastUsedIp } } }"""
REVOKE = "mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }"
KEYS = "{ apiKeys { id name prefix scopes lastUsedAt lastUsedIp revokedAt } }"
INBOX = "{ conversations(first: 5) { edges { node { id } } } }"


async def _admin_token(server: str) -> str:
    return await login(server, await make_user(Role.ADMIN))


async def _create(server: str, admin: str, *scopes: str) -> tuple[str, str]:
    body = await gql(server, CREATE, {"name": f"crm-{uuid.uuid4().hex[:6]}", "scopes": list(scopes)}, admin)
    assert "errors" not in body, body
    created = body["data"]["createApiKey"]
    return created["token"], created["key"]["id"]


def test_every_root_field_says_which_scope_admits_a_key():
    unlisted = [
        f"{root.__name__}.{field.graphql_name or field.name}"
        for root in (Query, MutationRoot, Subscription)
        for field in root.__strawberry_definition__.fields  # type: ignore[attr-defined]
        if not listed(root.__name__, _camel(field.python_name))
    ]
    assert unlisted == []


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


async def test_a_key_is_shown_once_stored_hashed_and_admitted_only_within_its_scopes(server):
    admin = await _admin_token(server)
    token, key_id = await _create(server, admin, "CONVERSATIONS_READ")
    assert token.startswith("pk_") and len(token) > 40
    row = await fetchrow(
        "SELECT token_hash, prefix FROM api_keys WHERE token_hash = $1",
        hashlib.sha256(token.encode()).hexdigest(),
    )
    assert row is not None and token not in str(row) and token.startswith(row["prefix"])

    assert "errors" not in await gql(server, INBOX, token=token)  # its scope
    teams = await gql(server, "{ teams { id } }", token=token)
    assert error_code(teams) == "FORBIDDEN" and teams["errors"][0]["extensions"]["scope"] == "teams:read"
    assert "teams:read" in teams["errors"][0]["message"]
    send = await gql(server, 'mutation { deleteView(id: "U2F2ZWRWaWV3OjE=") }', token=token)
    assert (
        error_code(send) == "FORBIDDEN" and send["errors"][0]["extensions"]["scope"] == "conversations:write"
    )
    # Keys never manage keys, even an admin's key with every scope.
    every = await _create(server, admin, *[s.upper().replace(":", "_") for s in _all_scopes()])
    assert error_code(await gql(server, KEYS, token=every[0])) == "FORBIDDEN"
    assert (
        error_code(await gql(server, CREATE, {"name": "x", "scopes": ["USERS_READ"]}, every[0]))
        == "FORBIDDEN"
    )

    listed_keys = (await gql(server, KEYS, token=admin))["data"]["apiKeys"]
    mine = next(k for k in listed_keys if k["id"] == key_id)
    assert (
        mine["scopes"] == ["CONVERSATIONS_READ"] and mine["lastUsedIp"] == "127.0.0.1" and mine["lastUsedAt"]
    )
    assert token not in str(listed_keys)
    assert (
        error_code(await gql(server, KEYS, token=await login(server, await make_user(Role.SUPERVISOR))))
        == "FORBIDDEN"
    )

    revoked = await gql(server, REVOKE, {"id": key_id}, admin)
    assert revoked["data"]["revokeApiKey"]["revokedAt"]
    after = await gql(server, INBOX, token=token)
    assert error_code(after) == "UNAUTHENTICATED" and "revoked" in after["errors"][0]["message"]


def _all_scopes() -> list[str]:
    from resolvers.api_keys import Scope

    return [s.value for s in Scope]


async def test_last_use_is_written_at_most_once_a_minute(server):
    admin = await _admin_token(server)
    token, _ = await _create(server, admin, "CONVERSATIONS_READ")
    await gql(server, INBOX, token=token)
    pk = int((await fetchrow("SELECT id FROM api_keys WHERE prefix = $1", token[:11]))["id"])
    await fetch("UPDATE api_keys SET last_used_at = '2000-01-01T00:00:00Z' WHERE id = $1", pk)
    await gql(server, INBOX, token=token)  # within the minute: no write
    row = await fetchrow(
        "SELECT last_used_at::date::text AS day, last_used_ip FROM api_keys WHERE id = $1", pk
    )
    assert row == {"day": "2000-01-01", "last_used_ip": "127.0.0.1"}


async def test_every_mutation_by_a_key_is_audited_as_that_key(server):
    admin = await _admin_token(server)
    token, _ = await _create(server, admin, "CONVERSATIONS_WRITE")
    pk = int((await fetchrow("SELECT id FROM api_keys WHERE prefix = $1", token[:11]))["id"])
    saved = await gql(server, 'mutation { saveView(name: "from the crm") { id } }', token=token)
    assert "errors" not in saved, saved
    failed = await gql(server, 'mutation { deleteView(id: "U2F2ZWRWaWV3OjIxNDc0ODM2NDc=") }', token=token)
    assert failed.get("errors")
    rows = await fetch(
        "SELECT action, details->>'field' AS field, details->>'ok' AS ok, ip, actor_id IS NOT NULL AS has_actor "
        "FROM audit_log WHERE api_key_id = $1 ORDER BY id",
        pk,
    )
    assert rows == [
        {"action": "api_key.use", "field": "saveView", "ok": "true", "ip": "127.0.0.1", "has_actor": True},
        {"action": "api_key.use", "field": "deleteView", "ok": "false", "ip": "127.0.0.1", "has_actor": True},
    ]
    created = await fetch(
        "SELECT action FROM audit_log WHERE action = 'api_key.create' AND target_id = $1", str(pk)
    )
    assert len(created) == 1


async def test_a_deactivated_creator_takes_their_keys_with_them(server):
    creator = await make_user(Role.ADMIN)
    token, _ = await _create(server, await login(server, creator), "CONVERSATIONS_READ")
    assert "errors" not in await gql(server, INBOX, token=token)
    creator.is_active = False
    await creator.save(update_fields=["is_active"])
    assert error_code(await gql(server, INBOX, token=token)) == "UNAUTHENTICATED"


async def test_keys_on_subscriptions_scope_and_revocation(server, wa):
    channel, secrets, _ = wa
    admin = await _admin_token(server)
    token, key_id = await _create(server, admin, "CONVERSATIONS_READ")

    sla = await Subscriber.open(server, token, "subscription { slaEvents { type } }")
    try:
        await sla.next()
        raise AssertionError("a key without metrics:read must not watch SLA events")
    except SubscriptionError as exc:
        assert exc.code == "FORBIDDEN" and exc.errors[0]["extensions"]["scope"] == "metrics:read"
    await sla.close()

    inbox = await Subscriber.open(server, token, INBOX_SUB)
    pn = channel.config["phone_number_id"]
    wa_id = "5531" + str(uuid.uuid4().int)[:8]
    assert (
        await post_webhook(server, channel, secrets["app_secret"], wa_text_payload(pn, wa_id, "one"))
    ).status_code == 200
    await inbox.next_where(lambda d: d["inboxEvents"]["conversation"]["customer"]["phone"] == wa_id)

    assert "errors" not in await gql(server, REVOKE, {"id": key_id}, admin)
    await post_webhook(server, channel, secrets["app_secret"], wa_text_payload(pn, wa_id, "two"))
    try:
        await inbox.next_where(lambda d: False, timeout=15)
        raise AssertionError("a revoked key's subscription must end")
    except SubscriptionError as exc:
        assert exc.code == "UNAUTHENTICATED"
    await inbox.close()

    again = await Subscriber.open(server, token, INBOX_SUB)  # a new connection with the revoked key
    try:
        await again.next()
        raise AssertionError("a revoked key must not subscribe")
    except SubscriptionError as exc:
        assert exc.code == "UNAUTHENTICATED"
    await again.close()
