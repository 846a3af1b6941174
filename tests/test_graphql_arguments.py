"""Hostile arguments get a named error and change nothing: who may ask is decided before any id
is decoded, on every field that takes one (walked from the live schema); text no field can store
(NUL, lone surrogates), DateTimes that overflow, non-finite JSON numbers, malformed or mistyped
ids, out-of-range Ints and unknown enum values are refused with their code, in variables and
in literals, over HTTP and over the WebSocket."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from core.sql import fetch
from models import Channel, Conversation, Message, Role
from schema.relay import to_global_id
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
from tests.schema_walk import Schema, operation

MALFORMED = "not-an-id"
NOWHERE = 2_000_000_000  # a well-formed id of nothing

# What each id argument names (by argument name; `id` by the field that takes it). An id argument
# missing here fails the walk below: add it.
ID_TYPES = {
    "conversationId": "Conversation",
    "conversationIds": "Conversation",
    "userId": "User",
    "toUserId": "User",
    "assigneeId": "User",
    "memberIds": "User",
    "channelId": "Channel",
    "teamId": "Team",
    "teamIds": "Team",
    "toTeamId": "Team",
    "identityId": "Identity",
    "sourceId": "Customer",
    "targetId": "Customer",
    "flowId": "Flow",
    "endpointId": "WebhookEndpoint",
    "deliveryId": "WebhookDelivery",  # a UUID, not a global id: malformed either way here
    "channelIds": "Channel",
    "templateId": "ResponseTemplate",
    "customerId": "Customer",
    "actor": "User",  # auditLog(filter: {actor})
    "agentId": "User",  # requestReport(filters: {agentId})
    "agentIds": "User",  # metrics(filter: {agentIds})
    "ids": "Notification",  # markNotificationsRead(ids:)
    "ruleIds": "RoutingRule",  # reorderRoutingRules(ruleIds:)
}
ID_OF_FIELD = {
    "node": "User",
    "conversation": "Conversation",
    "deleteView": "SavedView",
    "revokeApiKey": "ApiKey",
    "updateChannel": "Channel",
    "template": "ResponseTemplate",
    "renderTemplate": "ResponseTemplate",
    "saveTemplate": "ResponseTemplate",
    "archiveTemplate": "ResponseTemplate",
    "rollbackTemplate": "ResponseTemplate",
    "sendMessage": "ResponseTemplate",  # input.responseTemplate.id
    "flow": "Flow",
    "saveFlow": "Flow",
    "publishFlow": "Flow",
    "unpublishFlow": "Flow",
    "cancelFlowExecution": "FlowExecution",
    "templateExperiment": "TemplateExperiment",
    "stopTemplateExperiment": "TemplateExperiment",
    "promoteTemplateVariant": "TemplateExperiment",
    "customerExport": "CustomerExport",
    "saveWebhookEndpoint": "WebhookEndpoint",
    "deleteWebhookEndpoint": "WebhookEndpoint",
    "rotateWebhookEndpointSecret": "WebhookEndpoint",
    "reports": "Report",
    "deleteReportSchedule": "ReportSchedule",
    "saveAlertRule": "AlertRule",
    "deleteAlertRule": "AlertRule",
    "acknowledgeAlert": "Alert",
    "deleteTeam": "Team",
    "updateSlaPolicy": "SlaPolicy",
    "deleteSlaPolicy": "SlaPolicy",
    "updateRoutingRule": "RoutingRule",
    "deleteRoutingRule": "RoutingRule",
}


async def _answer(
    server: str, kind: str, document: str, variables: dict[str, Any], token: str | None
) -> str | None:
    """The first error's code (None when it succeeded), over the transport the operation uses."""
    if kind != "subscription":
        body = await gql(server, document, variables, token)
        assert body["_status"] < 500, body
        return error_code(body)
    sub = await Subscriber.open(server, token, document, variables)
    try:
        await sub.next(timeout=3)
        return None
    except SubscriptionError as exc:
        return exc.code
    except TimeoutError:  # subscribed and waiting: it was allowed
        return None
    finally:
        await sub.close()


async def test_who_may_ask_is_decided_before_any_id_is_read(server):
    schema = await Schema.load(server)
    agent_user = await make_user(Role.AGENT)
    agent = await login(server, agent_user)
    admin = await login(server, await make_user(Role.ADMIN))
    walked = []
    for kind in ("query", "mutation", "subscription"):
        for field in schema.root(kind):
            if not any(schema.holds_id(a["type"]) for a in field["args"]):
                continue
            walked.append(field["name"])

            def well_formed(name: str, field: dict[str, Any] = field) -> str:
                type_name = ID_OF_FIELD.get(field["name"]) if name == "id" else ID_TYPES.get(name)
                assert type_name, f"{field['name']}({name}:) is an id argument the test does not know"
                # Users are the agent themselves, the most an agent may name (assign to oneself,
                # node of oneself): a FORBIDDEN then is about the role, not about whom was named.
                return to_global_id(type_name, agent_user.id if type_name == "User" else NOWHERE)

            malformed_call = operation(schema, kind, field, lambda name: MALFORMED)
            well_formed_call = operation(schema, kind, field, well_formed)
            name = field["name"]

            assert await _answer(server, kind, *malformed_call, None) == "UNAUTHENTICATED", name
            agent_may_not = await _answer(server, kind, *well_formed_call, agent)
            agent_malformed = await _answer(server, kind, *malformed_call, agent)
            if agent_may_not == "FORBIDDEN":
                assert agent_malformed == "FORBIDDEN", name
            else:
                assert agent_malformed == "BAD_USER_INPUT", name
            assert await _answer(server, kind, *malformed_call, admin) == "BAD_USER_INPUT", name
    # The walk reached every kind of root field that takes an id, including admins' and supervisors'.
    assert {"node", "sendMessage", "rotateWebhookSecret", "saveTeam", "conversationEvents"} <= set(walked)


async def test_an_agent_on_admins_fields_hears_forbidden_whatever_the_id(server):
    agent = await login(server, await make_user(Role.AGENT))
    rotate = "mutation($c: ID!) { rotateWebhookSecret(channelId: $c) { channel { id } } }"
    before = await Channel.all().count()
    for channel_id in (MALFORMED, "", to_global_id("Message", 1)):
        body = await gql(server, rotate, {"c": channel_id}, agent)
        assert error_code(body) == "FORBIDDEN", body
    assert await Channel.all().count() == before


async def _conversation(server: str, wa: Any) -> Conversation:
    channel, secrets, _ = wa
    body = wa_text_payload(channel.config["phone_number_id"], "5511" + str(uuid.uuid4().int)[:8], "hello")
    assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200
    conversation = await Conversation.filter(channel_id=channel.id).order_by("-id").first()
    assert conversation is not None
    return conversation


async def _raw(server: str, document: str, variables: dict[str, Any], token: str | None) -> dict[str, Any]:
    """Posted as JSON text with \\u escapes, as a client sends a lone surrogate ("\\ud800")."""
    headers = {"Accept": "application/graphql-response+json", "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    content = json.dumps({"query": document, "variables": variables}, ensure_ascii=True).encode()
    async with httpx.AsyncClient(timeout=20) as client:
        response = await client.post(f"{server}/graphql", content=content, headers=headers)
    assert response.status_code < 500, response.text
    return {**response.json(), "_status": response.status_code}


def _refused(body: dict[str, Any], field: str) -> None:
    assert error_code(body) == "BAD_USER_INPUT", body
    assert body["errors"][0]["extensions"]["field"] == field, body


SAVE_VIEW = "mutation($n: String!) { saveView(name: $n) { id } }"
NOTE = "mutation($c: ID!, $m: String!, $t: String!) { addNote(conversationId: $c, clientMessageId: $m, text: $t) { id } }"
SEND = "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }"
LABELS = "mutation($c: ID!, $add: [String!]) { changeConversationLabels(conversationId: $c, add: $add) { labels } }"
CREATE_CHANNEL = "mutation($input: CreateChannelInput!) { createChannel(input: $input) { id } }"


async def test_text_no_field_can_store_is_bad_user_input_naming_the_argument(server, wa):
    agent_user = await make_user(Role.AGENT)
    agent = await login(server, agent_user)
    admin = await login(server, await make_user(Role.ADMIN))
    conversation = await _conversation(server, wa)
    cid = to_global_id("Conversation", conversation.id)

    for bad in ("a\x00b", "a\ud800b", "\udfff"):
        _refused(await _raw(server, SAVE_VIEW, {"n": bad}, agent), "name")
        _refused(await _raw(server, NOTE, {"c": cid, "m": f"n-{uuid.uuid4()}", "t": bad}, agent), "text")
        send = {"conversationId": cid, "clientMessageId": f"s-{uuid.uuid4()}", "text": "hi"}
        _refused(await _raw(server, SEND, {"input": {**send, "text": bad}}, agent), "input.text")
        attachment = {"kind": "DOCUMENT", "url": "https://example.com/a.pdf", "filename": bad}
        _refused(
            await _raw(server, SEND, {"input": {**send, "attachments": [attachment]}}, agent),
            "input.attachments[0].filename",
        )
        _refused(await _raw(server, LABELS, {"c": cid, "add": ["ok", bad]}, agent), "add[1]")
        _refused(
            await _raw(
                server, "query($q: String!) { search(query: $q) { edges { cursor } } }", {"q": bad}, agent
            ),
            "query",
        )
        _refused(
            await _raw(
                server,
                "query($l: [String!]) { conversations(filter: {labels: $l}) { edges { cursor } } }",
                {"l": [bad]},
                agent,
            ),
            "filter.labels[0]",
        )
        login_body = await _raw(
            server,
            'mutation($e: String!) { login(email: $e, password: "x") { accessToken } }',
            {"e": bad},
            None,
        )
        _refused(login_body, "email")
        config = {"phone_number_id": "123", "note": bad}
        channel = {"platform": "WHATSAPP", "name": f"hostile-{uuid.uuid4()}", "config": config, "secrets": {}}
        _refused(await _raw(server, CREATE_CHANNEL, {"input": channel}, admin), "input.config.note")
        assert not await Channel.filter(name=channel["name"]).exists()
    # A NUL written as a literal in the document is refused the same way.
    _refused(await _raw(server, 'mutation { saveView(name: "a\\u0000b") { id } }', {}, agent), "name")
    # A JSON key is text too.
    channel = {"platform": "WHATSAPP", "name": "k", "config": {"a\x00": "1"}, "secrets": {}}
    assert error_code(await _raw(server, CREATE_CHANNEL, {"input": channel}, admin)) == "BAD_USER_INPUT"

    # Nothing was stored: no view, no note, no reply, no label.
    assert await fetch("SELECT id FROM saved_views WHERE user_id = $1", agent_user.id) == []
    assert await Message.filter(conversation_id=conversation.id).count() == 1  # the customer's hello
    await conversation.refresh_from_db()
    assert list(conversation.labels or []) == []
    # Who may ask is still decided first: anonymous hears UNAUTHENTICATED, not the text problem.
    assert error_code(await _raw(server, SAVE_VIEW, {"n": "a\x00"}, None)) == "UNAUTHENTICATED"


async def test_a_surrogate_written_into_the_document_is_a_parse_error(server):
    agent = await login(server, await make_user(Role.AGENT))
    body = await _raw(server, 'mutation { saveView(name: "a\\ud800b") { id } }', {}, agent)
    assert body["_status"] == 400 and error_code(body) == "GRAPHQL_PARSE_FAILED", body


async def test_subscription_arguments_are_checked_over_the_websocket(server, wa):
    conversation = await _conversation(server, wa)
    agent = await login(server, await make_user(Role.AGENT))
    events = (
        "subscription($c: ID!, $a: String) { conversationEvents(conversationId: $c, after: $a) { type } }"
    )
    cid = to_global_id("Conversation", conversation.id)
    for token, variables, code in (
        (None, {"c": MALFORMED}, "UNAUTHENTICATED"),
        (agent, {"c": MALFORMED}, "BAD_USER_INPUT"),
        (agent, {"c": cid, "a": "1\x00"}, "BAD_USER_INPUT"),
        (agent, {"c": cid, "a": "\ud800"}, "BAD_USER_INPUT"),
    ):
        assert await _answer(server, "subscription", events, variables, token) == code, variables


async def test_other_scalars_each_get_a_named_code(server, wa):
    conversation = await _conversation(server, wa)
    agent = await login(server, await make_user(Role.AGENT))
    admin = await login(server, await make_user(Role.ADMIN))
    cid = to_global_id("Conversation", conversation.id)
    inbox = (
        "query($f: ConversationFilter, $n: Int) { conversations(first: $n, filter: $f) { edges { cursor } } }"
    )

    def code(body: dict[str, Any]) -> str | None:
        assert body["_status"] < 500, body
        return error_code(body)

    # Int beyond 32 bits: a variable is BAD_USER_INPUT, a literal fails validation (400 both ways).
    assert code(await _raw(server, inbox, {"n": 2**40}, agent)) == "BAD_USER_INPUT"
    literal = await _raw(server, "{ conversations(first: 99999999999) { edges { cursor } } }", {}, agent)
    assert literal["_status"] == 400 and code(literal) == "GRAPHQL_VALIDATION_FAILED"
    # DateTime: garbage, and a real date that leaves Python's range in UTC.
    assert code(await _raw(server, inbox, {"f": {"since": "garbage"}}, agent)) == "BAD_USER_INPUT"
    for edge in ("9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"):
        _refused(await _raw(server, inbox, {"f": {"since": edge}}, agent), "filter.since")
    snooze = "mutation($c: ID!, $u: DateTime) { setConversationStatus(conversationId: $c, status: SNOOZED, snoozedUntil: $u) { status } }"
    _refused(await _raw(server, snooze, {"c": cid, "u": "9999-12-31T23:59:59-05:00"}, agent), "snoozedUntil")
    # An enum value that does not exist.
    assert code(await _raw(server, inbox, {"f": {"platform": "TELEPATHY"}}, agent)) == "BAD_USER_INPUT"
    assert code(
        await _raw(server, "{ conversations(filter: {platform: TELEPATHY}) { edges { cursor } } }", {}, agent)
    ) == ("GRAPHQL_VALIDATION_FAILED")
    # Ids: empty, mistyped (a Message's where a Conversation's is wanted), beyond the column's range.
    message = await Message.filter(conversation_id=conversation.id).first()
    read = "mutation($c: ID!) { markConversationRead(conversationId: $c) { id } }"
    for bad_id in (
        "",
        to_global_id("Message", message.id),
        to_global_id("Conversation", 2**40),
        "Q29udmVyc2F0aW9uOiA3",
    ):
        _refused(await _raw(server, read, {"c": bad_id}, agent), "conversationId")
    # An optional id sent empty is malformed, not "none": it must not unassign.
    await Conversation.filter(id=conversation.id).update(assignee_id=(await make_user(Role.AGENT)).id)
    assign = "mutation($c: ID!, $u: ID) { assignConversation(conversationId: $c, userId: $u) { id } }"
    _refused(await _raw(server, assign, {"c": cid, "u": ""}, admin), "userId")
    await conversation.refresh_from_db()
    assert conversation.assignee_id is not None  # type: ignore[attr-defined]
    # JSON has no NaN or Infinity, and jsonb refuses them: the body parser refuses a number too
    # large for a float (schema/arguments.py refuses a non-finite one that got past a transport).
    name = f"inf-{uuid.uuid4()}"
    document = json.dumps(CREATE_CHANNEL)
    content = (
        f'{{"query": {document}, "variables": {{"input": {{"platform": "WHATSAPP", "name": "{name}", '
        '"config": {"phone_number_id": "123", "x": 1e400}, "secrets": {}}}}'
    ).encode()
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{server}/graphql",
            content=content,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {admin}"},
        )
    assert response.status_code == 400 and error_code(response.json()) in ("BAD_REQUEST", "BAD_USER_INPUT")
    assert not await Channel.filter(name=name).exists()
