"""node(id:) answers what the typed field answers, for every type implementing Node (read from the
live schema) and every role: it is no way round a rule (an agent asked for any User's e-mail and
role through it, while `users` refused them)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from models import Conversation, Message, Role, Team
from schema.relay import parse_global_id, to_global_id
from tests.helpers import error_code, gql, login, make_user, post_webhook, wa_text_payload
from tests.schema_walk import Schema

VISIBLE = "VISIBLE"
Typed = Callable[[str, str | None], Awaitable[str | None]]


def _outcome(body: dict[str, Any], ids: list[str] | None, wanted: str) -> str | None:
    """VISIBLE when the answer holds the object, else the error's code (None: silently absent)."""
    if body.get("errors"):
        return error_code(body)
    return VISIBLE if ids is not None and wanted in ids else None


def _typed_answers(server: str, conversation_id: str) -> dict[str, Typed]:
    """How each node type is reached without node(id:): the field that lists or returns it."""

    async def listed(
        query: str,
        pick: Callable[[dict[str, Any]], list[str]],
        wanted: str,
        token: str | None,
        variables: dict[str, Any] | None = None,
    ) -> str | None:
        body = await gql(server, query, variables or {"c": conversation_id}, token)
        return _outcome(body, pick(body["data"]) if body.get("data") else None, wanted)

    in_conversation = "query($c: ID!) { conversation(id: $c) { id customer { id } messages(first: 50) { edges { node { id } } } } }"

    async def user(wanted: str, token: str | None) -> str | None:
        # `users` for supervisors; `me` for oneself.
        me = await gql(server, "{ me { id } }", None, token)
        if me.get("data") and me["data"]["me"]["id"] == wanted:
            return VISIBLE
        return await listed("{ users { id } }", lambda d: [u["id"] for u in d["users"]], wanted, token)

    return {
        "Conversation": lambda wanted, token: listed(
            in_conversation, lambda d: [d["conversation"]["id"]], wanted, token
        ),
        "Message": lambda wanted, token: listed(
            in_conversation,
            lambda d: [e["node"]["id"] for e in d["conversation"]["messages"]["edges"]],
            wanted,
            token,
        ),
        "Customer": lambda wanted, token: listed(
            in_conversation, lambda d: [d["conversation"]["customer"]["id"]], wanted, token
        ),
        "Channel": lambda wanted, token: listed(
            "{ channels { id } }", lambda d: [c["id"] for c in d["channels"]], wanted, token
        ),
        "Team": lambda wanted, token: listed(
            "{ teams { id } }", lambda d: [t["id"] for t in d["teams"]], wanted, token
        ),
        "User": user,
        "ResponseTemplate": lambda wanted, token: listed(
            "query($t: ID!) { template(id: $t) { id } }",
            lambda d: [d["template"]["id"]],
            wanted,
            token,
            {"t": wanted},
        ),
    }


async def test_node_answers_as_the_typed_field_for_every_type_and_role(server, wa):
    channel, secrets, _ = wa
    body = wa_text_payload(channel.config["phone_number_id"], "5521" + str(uuid.uuid4().int)[:8], "hello")
    assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200
    conversation = await Conversation.filter(channel_id=channel.id).order_by("-id").first()
    assert conversation is not None
    message = await Message.filter(conversation_id=conversation.id).first()
    team = await Team.create(name=f"node-team-{uuid.uuid4().hex[:8]}")
    users = {role: await make_user(role) for role in (Role.ADMIN, Role.SUPERVISOR, Role.AGENT)}
    tokens: dict[str, str | None] = {role.value: await login(server, u) for role, u in users.items()}
    tokens["anonymous"] = None
    save = "mutation($i: SaveTemplateInput!) { saveTemplate(input: $i) { id } }"
    saved = await gql(
        server, save, {"i": {"name": f"node-{uuid.uuid4().hex[:8]}", "body": "Hello"}}, tokens["supervisor"]
    )
    template_pk = parse_global_id(saved["data"]["saveTemplate"]["id"])[1]

    objects = {
        "Conversation": [conversation.id],
        "Message": [message.id],  # type: ignore[union-attr]
        "Customer": [conversation.customer_id],  # type: ignore[attr-defined]
        "Channel": [channel.id],
        "Team": [team.id],
        "ResponseTemplate": [template_pk],
        # Someone else, and (below, per role) the one asking.
        "User": [users[Role.ADMIN].id],
    }
    schema = await Schema.load(server)
    typed = _typed_answers(server, to_global_id("Conversation", conversation.id))
    assert set(schema.node_types()) == set(typed), "a new node type: say how its typed field reaches it"

    seen: dict[tuple[str, str], str | None] = {}
    for type_name in schema.node_types():
        for who, token in tokens.items():
            pks = list(objects[type_name])
            if type_name == "User" and who != "anonymous":
                pks.append(users[Role(who)].id)
            for pk in pks:
                gid = to_global_id(type_name, pk)
                answer = await gql(server, "query($id: ID!) { node(id: $id) { id } }", {"id": gid}, token)
                assert answer["_status"] < 500, answer
                node = answer["data"]["node"] if answer.get("data") else None
                by_node = error_code(answer) or (VISIBLE if node and node["id"] == gid else None)
                by_type = await typed[type_name](gid, token)
                assert by_node == by_type, (type_name, who, pk, answer)
                seen[(type_name, who)] = by_node
    # The walk saw both sides of each rule, so it could have told them apart.
    assert seen[("User", "agent")] == VISIBLE  # the agent themselves: as `me`
    assert seen[("Conversation", "agent")] == VISIBLE
    assert seen[("Team", "anonymous")] == "UNAUTHENTICATED"


async def test_an_agent_cannot_read_another_users_email_through_node(server):
    admin = await make_user(Role.ADMIN)
    agent = await login(server, await make_user(Role.AGENT))
    query = "query($id: ID!) { node(id: $id) { ... on User { email role } } }"
    body = await gql(server, query, {"id": to_global_id("User", admin.id)}, agent)
    assert error_code(body) == "FORBIDDEN", body
    assert admin.email not in str(body)
    supervisor = await login(server, await make_user(Role.SUPERVISOR))
    body = await gql(server, query, {"id": to_global_id("User", admin.id)}, supervisor)
    assert body["data"]["node"] == {"email": admin.email, "role": "ADMIN"}
