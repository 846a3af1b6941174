"""The audit log: each audited action leaves one entry with who, from where and what (secrets
masked), nothing can change or delete an entry (the database refuses), and admins page through it
with filters."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from core.sql import fetch, in_transaction
from models import AuditLog, Conversation, Role
from resolvers import audit
from schema.relay import to_global_id
from tests.helpers import PASSWORD, error_code, gql, login, make_user, post_webhook, wa_text_payload

LOGIN = """mutation($e:String!,$p:String!){ login(email:$e,password:$p){ accessToken refreshToken } }"""
LOGOUT = """mutation($t:String!){ logout(refreshToken:$t) }"""
CREATE_CHANNEL = """mutation($input: CreateChannelInput!) { createChannel(input: $input) { id } }"""
UPDATE_CHANNEL = """mutation($input: UpdateChannelInput!) { updateChannel(input: $input) { id name } }"""
ASSIGN = """mutation($c: ID!, $u: ID) { assignConversation(conversationId: $c, userId: $u) { id } }"""
TRANSFER = """mutation($c: ID!, $u: ID, $r: String!) {
  transferConversation(conversationId: $c, toUserId: $u, reason: $r) { id } }"""
AUDIT_LOG = """query($f: AuditLogFilter, $first: Int, $after: String) {
  auditLog(filter: $f, first: $first, after: $after) {
    edges { cursor node { id action targetType targetId details ip actorId apiKeyId createdAt actor { email } } }
    pageInfo { hasNextPage endCursor } } }"""


async def _entries(**filters: object) -> list[AuditLog]:
    return await AuditLog.filter(**filters).order_by("id")


async def test_the_database_refuses_to_change_or_delete_an_entry(server):
    async with in_transaction() as conn:
        await audit.record(conn, None, "test.append_only", "Test", "1", {"n": 1}, ip="10.0.0.1")
    (entry,) = await _entries(action="test.append_only")
    for statement in (
        "UPDATE audit_log SET details = '{}'::jsonb WHERE id = $1",
        "UPDATE audit_log SET action = 'x' WHERE id = $1",
        "DELETE FROM audit_log WHERE id = $1",
    ):
        with pytest.raises(Exception, match="append-only"):
            await fetch(statement, entry.id)
    with pytest.raises(Exception, match="append-only"):
        await fetch("TRUNCATE audit_log")
    with pytest.raises(Exception, match="append-only"):  # the ORM goes through the same refusal
        await AuditLog.filter(id=entry.id).delete()
    (still,) = await _entries(action="test.append_only")
    assert (still.details, still.ip, still.target_id) == ({"n": 1}, "10.0.0.1", "1")


def test_masking_hides_every_secret_looking_key_at_any_depth():
    config = {
        "api_base": "http://x",
        "smtp_password": "p",
        "nested": {"Bot_Token": "t", "list": [{"signing_secret": "s", "name": "n"}]},
        "public_key": "k",
        "unset_token": None,
    }
    assert audit.masked(config) == {
        "api_base": "http://x",
        "smtp_password": "***",
        "nested": {"Bot_Token": "***", "list": [{"signing_secret": "***", "name": "n"}]},
        "public_key": "***",
        "unset_token": None,
    }
    assert audit.before_after({"a": 1, "token": "old", "same": 2}, {"a": 3, "token": "new", "same": 2}) == {
        "before": {"a": 1, "token": "***"},
        "after": {"a": 3, "token": "***"},
    }


async def test_login_failed_login_and_logout_are_audited_with_the_address(server):
    user = await make_user(Role.AGENT)
    wrong = await gql(server, LOGIN, {"e": user.email, "p": "not the password"})
    assert error_code(wrong) == "UNAUTHENTICATED"
    nobody = f"nobody-{uuid.uuid4().hex[:6]}@test.local"
    assert error_code(await gql(server, LOGIN, {"e": nobody, "p": "whatever12"})) == "UNAUTHENTICATED"
    ok = await gql(server, LOGIN, {"e": user.email, "p": PASSWORD})
    assert (await gql(server, LOGOUT, {"t": ok["data"]["login"]["refreshToken"]}))["data"]["logout"] is True

    failed = await _entries(action="user.login_failed", target_id=str(user.id))
    assert [(e.actor_id, e.ip, e.details) for e in failed] == [
        (None, "127.0.0.1", {"email": user.email, "reason": "wrong e-mail or password"})
    ]
    (unknown,) = await _entries(action="user.login_failed", details__contains={"email": nobody})
    assert unknown.target_id is None and unknown.ip == "127.0.0.1"
    (signed_in,) = await _entries(action="user.login", target_id=str(user.id))
    (signed_out,) = await _entries(action="user.logout", target_id=str(user.id))
    for entry in (signed_in, signed_out):
        assert (entry.actor_id, entry.ip, entry.target_type) == (user.id, "127.0.0.1", "User")
    assert signed_in.id < signed_out.id


async def test_channel_changes_record_before_and_after_without_secrets(server):
    admin = await make_user(Role.ADMIN)
    token = await login(server, admin)
    created = await gql(
        server,
        CREATE_CHANNEL,
        {
            "input": {
                "platform": "WHATSAPP",
                "name": "Audit line",
                "config": {
                    "phone_number_id": "1065",
                    "api_base": "http://127.0.0.1:9",
                    "api_version": "v21.0",
                },
                "secrets": {
                    "app_secret": "app-s3cret",
                    "access_token": "tok-s3cret",
                    "verify_token": "ver-s3cret",
                },
            }
        },
        token,
    )
    channel_id = created["data"]["createChannel"]["id"]
    updated = await gql(
        server,
        UPDATE_CHANNEL,
        {
            "input": {
                "id": channel_id,
                "name": "Audit line 2",
                "config": {"api_version": "v22.0"},
                "secrets": {"access_token": "tok-n3w"},
            }
        },
        token,
    )
    assert updated.get("errors") is None, updated
    (create,) = await _entries(action="channel.create", details__contains={"name": "Audit line"})
    (update,) = await _entries(action="channel.update", target_id=create.target_id)
    assert update.actor_id == admin.id and update.ip == "127.0.0.1"
    assert update.details == {
        "before": {
            "name": "Audit line",
            "config": {"phone_number_id": "1065", "api_base": "http://127.0.0.1:9", "api_version": "v21.0"},
        },
        "after": {
            "name": "Audit line 2",
            "config": {"phone_number_id": "1065", "api_base": "http://127.0.0.1:9", "api_version": "v22.0"},
        },
        "secrets_changed": ["access_token"],
    }
    for entry in (create, update):
        assert "s3cret" not in str(entry.details) and "n3w" not in str(entry.details)


async def test_a_supervisor_overriding_an_assignment_is_audited_taking_ones_own_is_not(server, wa):
    channel, secrets, _ = wa
    body = wa_text_payload(channel.config["phone_number_id"], f"5511{uuid.uuid4().int % 10**9:09d}", "hello")
    assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200
    conversation = await Conversation.get(channel_id=channel.id)
    conv = to_global_id("Conversation", conversation.id)
    agent, other = await make_user(Role.AGENT), await make_user(Role.AGENT)
    supervisor = await make_user(Role.SUPERVISOR)
    agent_token, supervisor_token = await login(server, agent), await login(server, supervisor)

    taken = await gql(server, ASSIGN, {"c": conv, "u": to_global_id("User", agent.id)}, agent_token)
    assert taken.get("errors") is None, taken
    assert await _entries(action="conversation.assign", target_id=str(conversation.id)) == []

    moved = await gql(server, ASSIGN, {"c": conv, "u": to_global_id("User", other.id)}, supervisor_token)
    assert moved.get("errors") is None, moved
    (entry,) = await _entries(action="conversation.assign", target_id=str(conversation.id))
    assert (entry.actor_id, entry.target_type, entry.details) == (
        supervisor.id,
        "Conversation",
        {"from_user_id": agent.id, "to_user_id": other.id},
    )

    # The assignee handing it on is their own business; a supervisor moving it is an override.
    handed = await gql(
        server,
        TRANSFER,
        {"c": conv, "u": to_global_id("User", agent.id), "r": "shift"},
        await login(server, other),
    )
    assert handed.get("errors") is None, handed
    assert await _entries(action="conversation.transfer", target_id=str(conversation.id)) == []
    back = {"c": conv, "u": to_global_id("User", other.id), "r": "back to you"}
    assert (await gql(server, TRANSFER, back, supervisor_token)).get("errors") is None
    (transfer,) = await _entries(action="conversation.transfer", target_id=str(conversation.id))
    assert (transfer.actor_id, transfer.details) == (
        supervisor.id,
        {"from_user_id": agent.id, "to_user_id": other.id, "to_team_id": None},
    )


async def test_admins_page_through_the_log_with_filters(server):
    admin = await make_user(Role.ADMIN)
    token = await login(server, admin)
    actor = await make_user(Role.SUPERVISOR)
    tag = uuid.uuid4().hex[:8]
    async with in_transaction() as conn:
        from core.auth import Actor

        for i in range(5):
            await audit.record(
                conn, Actor(actor.id, Role.SUPERVISOR), f"probe{tag}.step", "Probe", str(i), {"i": i}
            )
        await audit.record(conn, None, f"probe{tag}.other", "Probe", "9", {"i": 9})
    mine = {"action": f"probe{tag}.step"}

    seen: list[dict] = []
    after = None
    while True:
        page = await gql(server, AUDIT_LOG, {"f": mine, "first": 2, "after": after}, token)
        assert page.get("errors") is None, page
        seen += [e["node"] for e in page["data"]["auditLog"]["edges"]]
        if not page["data"]["auditLog"]["pageInfo"]["hasNextPage"]:
            break
        after = page["data"]["auditLog"]["pageInfo"]["endCursor"]
    assert [n["details"]["i"] for n in seen] == [4, 3, 2, 1, 0]  # newest first, each once
    assert {n["actor"]["email"] for n in seen} == {actor.email}
    assert {n["actorId"] for n in seen} == {to_global_id("User", actor.id)} and seen[0]["apiKeyId"] is None

    async def actions(filter: dict) -> list[str]:
        body = await gql(server, AUDIT_LOG, {"f": filter, "first": 100}, token)
        assert body.get("errors") is None, body
        return [
            e["node"]["action"] + ":" + (e["node"]["targetId"] or "")
            for e in body["data"]["auditLog"]["edges"]
        ]

    assert await actions({"action": f"probe{tag}."}) == [f"probe{tag}.other:9"] + [
        f"probe{tag}.step:{i}" for i in (4, 3, 2, 1, 0)
    ]
    assert await actions({"action": f"probe{tag}.step", "targetType": "Probe", "targetId": "3"}) == [
        f"probe{tag}.step:3"
    ]
    by_actor = await actions({"actor": to_global_id("User", actor.id)})
    assert by_actor == [f"probe{tag}.step:{i}" for i in (4, 3, 2, 1, 0)]
    now = datetime.now(UTC)
    assert await actions({"action": f"probe{tag}.", "from": (now + timedelta(minutes=1)).isoformat()}) == []
    assert len(await actions({"action": f"probe{tag}.", "to": (now + timedelta(minutes=1)).isoformat()})) == 6
    assert await actions({"action": f"probe{tag}.", "to": (now - timedelta(minutes=5)).isoformat()}) == []

    bad_cursor = await gql(server, AUDIT_LOG, {"after": "bm90LW91cnM="}, token)
    assert error_code(bad_cursor) == "BAD_USER_INPUT"
    assert error_code(await gql(server, AUDIT_LOG, {"first": 0}, token)) == "BAD_USER_INPUT"
    assert error_code(await gql(server, AUDIT_LOG, {"f": {"actor": "not-an-id"}}, token)) == "BAD_USER_INPUT"
    wrong_kind = {"actor": to_global_id("Conversation", 1)}
    assert error_code(await gql(server, AUDIT_LOG, {"f": wrong_kind}, token)) == "BAD_USER_INPUT"
    assert error_code(await gql(server, AUDIT_LOG, {}, await login(server, actor))) == "FORBIDDEN"
    assert error_code(await gql(server, AUDIT_LOG, {})) == "UNAUTHENTICATED"
