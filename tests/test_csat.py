"""CSAT through the real doors: an agent resolves, the worker sends the survey on the customer's
platform (buttons on Telegram, "reply 1–5" by SMS), the customer answers by signed webhook, and
the answer is stored, shown in the timeline and announced, without reopening the conversation.
Repeated answers: the last within the window counts; late ones are kept apart."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from connectors.fakes.server import serve_app
from connectors.fakes.whatsapp import inbound_text_payload
from connectors.telegram import telegram
from core.sql import fetch
from models import Conversation, ConversationActivity, CsatSurvey, Flow, Message, Role, WebhookEndpoint
from resolvers import csat
from resolvers.channels import credentials
from schema.relay import decode_id, parse_global_id, to_global_id
from tests.fakes.telegram import FakeTelegram
from tests.fakes.twilio import FakeTwilio
from tests.helpers import (
    ConnectorCase,
    connector_case,
    error_code,
    eventually,
    gql,
    login,
    make_user,
    post_webhook,
    wa_text_payload,
)
from tests.test_flow_triggers import Flows, bot_said, say_flow

SETTINGS = """mutation($c: ID!, $on: Boolean!, $delay: Int!, $window: Int!) {
  saveCsatSettings(channelId: $c, enabled: $on, delaySeconds: $delay, windowSeconds: $window, commentSeconds: 600) {
    channelId enabled delaySeconds question windowSeconds commentSeconds } }"""
RESOLVE = """mutation($id: ID!) { setConversationStatus(conversationId: $id, status: RESOLVED) { status } }"""
RESPONSES = """query($f: CsatFilter) { csatResponses(filter: $f, first: 10) {
  edges { node { score comment platform agentId conversationId } } pageInfo { hasNextPage } } }"""
ERASE = """mutation($c: ID!, $r: String!) { eraseCustomer(customerId: $c, reason: $r) { customerId } }"""
HOOK = (
    """mutation($input: WebhookEndpointInput!) { saveWebhookEndpoint(input: $input) { endpoint { id } } }"""
)
READ_SETTINGS = """query($c: ID!) { csatSettings(channelId: $c) { enabled delaySeconds windowSeconds } }"""
SUMMARY = """query($f: CsatFilter, $g: CsatGroup) { csatSummary(filter: $f, groupBy: $g) {
  key responses average satisfiedShare distribution } }"""


async def _admin(server: str) -> str:
    return await login(server, await make_user(Role.ADMIN))


async def _enable(server: str, channel_id: int, *, delay: int = 0, window: int = 3600) -> dict:
    body = await gql(
        server,
        SETTINGS,
        {"c": to_global_id("Channel", channel_id), "on": True, "delay": delay, "window": window},
        await _admin(server),
    )
    assert body.get("errors") is None, body
    return body["data"]["saveCsatSettings"]


async def _resolve(case: ConnectorCase, conversation_id: int) -> None:
    body = await gql(
        case.server, RESOLVE, {"id": to_global_id("Conversation", conversation_id)}, await case.access()
    )
    assert body["data"]["setConversationStatus"]["status"] == "RESOLVED", body


async def _survey(conversation_id: int) -> CsatSurvey:
    async def sent() -> CsatSurvey | None:
        return await CsatSurvey.get_or_none(conversation_id=conversation_id, status="sent")

    return await eventually(sent, timeout=30)


async def _activities(conversation_id: int, type_: str) -> list[dict]:
    rows = await ConversationActivity.filter(conversation_id=conversation_id, type=type_).order_by("id")
    return [r.data for r in rows]


async def _status(conversation_id: int) -> str:
    return str((await Conversation.get(id=conversation_id)).status.value)


@pytest.fixture
async def tg(server: str) -> AsyncIterator[ConnectorCase]:
    token = f"{7_000_000_000 + uuid.uuid4().int % 10**9}:AA{uuid.uuid4().hex}"
    api = FakeTelegram(require_https=False)
    api.add_bot(token)

    async def wire(case: ConnectorCase) -> None:
        async with httpx.AsyncClient() as client:
            await telegram.register_webhook(client, credentials(case.channel), case.webhook)

    secrets = {"bot_token": token, "secret_token": uuid.uuid4().hex}
    async with connector_case(
        server, api, "telegram", {"bot_username": "acme_support_bot"}, secrets, wire=wire
    ) as case:
        yield case


async def test_telegram_buttons_round_trip_last_answer_counts_late_press_kept_apart(server, tg) -> None:
    api, channel, token = tg.fake, tg.channel, tg.secrets["bot_token"]
    settings = await _enable(server, channel.id)
    assert settings["enabled"] and settings["windowSeconds"] == 3600 and settings["question"]
    user_id = 100_000_000 + uuid.uuid4().int % 10**8
    api.start_chat(user_id, "Jane", "Roe")
    assert (await api.post_update(token, api.text_update(user_id, "My parcel is late"))).status_code == 200
    (question,) = await Message.filter(channel_id=channel.id, direction="inbound")
    cid = question.conversation_id
    _, client_id = await tg.reply(cid, "Found it, it arrives tomorrow")
    await tg.wait_for(client_id)
    await _resolve(tg, cid)

    # The survey goes out through the send path with an inline keyboard of five ratings.
    survey = await _survey(cid)

    async def keyboard() -> dict | None:
        return next((s for s in api.sent if s.get("reply_markup") and s["_chat_id"] == user_id), None)

    request = await eventually(keyboard, timeout=30)
    buttons = [b for row in request["reply_markup"]["inline_keyboard"] for b in row]
    assert [b["callback_data"] for b in buttons] == [f"csat:{survey.id}:{n}" for n in range(1, 6)]
    survey_message = await Message.get(id=survey.message_id)
    assert survey_message.sender_id is None and survey_message.metadata["automated"] is True
    assert await _status(cid) == "resolved"  # the survey reopens nothing

    # A press, Telegram's redelivery of it, then a change of mind, then a comment.
    press = api.callback_update(user_id, request, f"csat:{survey.id}:4")
    assert (await api.post_update(token, press)).status_code == 200
    assert (await api.post_update(token, press)).status_code == 200
    assert (
        await api.post_update(token, api.callback_update(user_id, request, f"csat:{survey.id}:5"))
    ).status_code == 200
    comment = api.text_update(user_id, "Quick and kind, thanks")
    assert (await api.post_update(token, comment)).status_code == 200

    survey = await CsatSurvey.get(id=survey.id)
    assert (survey.score, survey.comment) == (5, "Quick and kind, thanks")
    answers = await fetch(
        "SELECT kind, source, score FROM csat_answers WHERE survey_id = $1 ORDER BY id", survey.id
    )
    assert [(a["kind"], a["source"], a["score"]) for a in answers] == [
        ("score", "button", 4),
        ("score", "button", 5),
        ("comment", "text", None),
    ]
    assert await _status(cid) == "resolved"
    assert (
        await Message.filter(conversation_id=cid, direction="inbound").count() == 1
    )  # answers are not messages
    timeline = await _activities(cid, "csat_received")
    assert [(a["score"], a.get("comment")) for a in timeline] == [
        (4, None),
        (5, None),
        (5, "Quick and kind, thanks"),
    ]
    events = await fetch(
        "SELECT payload FROM events WHERE stream = 'csat' AND type = 'CSAT_RECEIVED' AND (payload->>'conversation_id')::int = $1 "
        "ORDER BY seq",
        cid,
    )
    payloads = [orjson.loads(e["payload"]) if isinstance(e["payload"], str) else e["payload"] for e in events]
    assert [(p["score"], p["answer"], p["platform"]) for p in payloads] == [
        (4, "score", "telegram"),
        (5, "score", "telegram"),
        (5, "comment", "telegram"),
    ]

    # Admins see every answer; a supervisor only those of conversations they may see (their teams').
    where = {"f": {"conversationId": to_global_id("Conversation", cid)}}
    listed = await gql(server, RESPONSES, where, await _admin(server))
    (node,) = [e["node"] for e in listed["data"]["csatResponses"]["edges"]]
    assert (node["score"], node["comment"], node["platform"]) == (5, "Quick and kind, thanks", "TELEGRAM")
    supervisor = await login(server, await make_user(Role.SUPERVISOR, sees_all=False))  # of no team
    assert (await gql(server, RESPONSES, where, supervisor))["data"]["csatResponses"]["edges"] == []

    # After the window: a press is kept (not counted) and still reopens nothing; a typed number is
    # an ordinary message again.
    await CsatSurvey.filter(id=survey.id).update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert (
        await api.post_update(token, api.callback_update(user_id, request, f"csat:{survey.id}:1"))
    ).status_code == 200
    assert (await CsatSurvey.get(id=survey.id)).score == 5
    assert await _activities(cid, "csat_late_answer") == [{"survey_id": survey.id, "score": 1}]
    assert await _status(cid) == "resolved"
    assert (await api.post_update(token, api.text_update(user_id, "2"))).status_code == 200
    assert await Message.filter(conversation_id=cid, direction="inbound", text="2").count() == 1
    assert await _status(cid) == "open"


@pytest.fixture
async def sms(server: str) -> AsyncIterator[ConnectorCase]:
    twilio = FakeTwilio()
    account_sid, auth_token, number = (
        "AC" + uuid.uuid4().hex,
        uuid.uuid4().hex,
        "+1555" + str(uuid.uuid4().int)[:7],
    )

    def wire(case: ConnectorCase) -> None:
        twilio.add_account(account_sid, auth_token=auth_token, numbers=[number], sms_url=case.webhook)

    config = {"account_sid": account_sid, "from_number": number}
    async with connector_case(server, twilio, "sms", config, {"auth_token": auth_token}, wire=wire) as case:
        yield case


async def test_sms_typed_numbers_and_a_comment(server, sms) -> None:
    twilio, channel = sms.fake, sms.channel
    account_sid, our_number = channel.config["account_sid"], channel.config["from_number"]
    await _enable(server, channel.id)
    phone = "+1555" + str(uuid.uuid4().int)[:7]

    async def text(body: str, sid: str | None = None) -> None:
        reply = await twilio.post_inbound(account_sid, from_=phone, to=our_number, body=body, sid=sid)
        assert reply.status_code == 200, reply.text

    await text("Can I change my address?")
    (first,) = await Message.filter(channel_id=channel.id, direction="inbound")
    cid = first.conversation_id
    _, client_id = await sms.reply(cid, "Done")
    await sms.wait_for(client_id)
    await _resolve(sms, cid)
    survey = await _survey(cid)

    async def asked() -> list:
        return [s for s in twilio.sent if "Reply with a number from 1 to 5." in str(s.get("Body"))]

    (request,) = await eventually(asked, timeout=30)
    assert request["To"] == phone

    def pre_checks() -> int:
        group = csat._survey_checks.get(asyncio.get_running_loop())
        return group.groups_run if group else 0

    checked = pre_checks()
    sid = "SM" + uuid.uuid4().hex
    await text("3", sid=sid)
    await text("3", sid=sid)  # Twilio's retry
    await text(" 5/5 ")
    await text("A bit slow, but fine")
    await text("And another question")  # past the comment: an ordinary message, which reopens
    # One message a webhook: whether a survey waits was asked by the statement that would have
    # stored each text, not by a round trip of its own first.
    assert pre_checks() == checked

    survey = await CsatSurvey.get(id=survey.id)
    assert (survey.score, survey.comment) == (5, "A bit slow, but fine")
    answers = await fetch(
        "SELECT kind, source, score FROM csat_answers WHERE survey_id = $1 ORDER BY id", survey.id
    )
    assert [(a["kind"], a["source"], a["score"]) for a in answers] == [
        ("score", "text", 3),
        ("score", "text", 5),
        ("comment", "text", None),
    ]
    inbound = [m.text for m in await Message.filter(conversation_id=cid, direction="inbound").order_by("id")]
    assert inbound == ["Can I change my address?", "And another question"]
    assert await _status(cid) == "open"

    # The survey went out as an automated message: not the agent's, so no response metric or SLA
    # timer takes it for a reply.
    survey_message = await Message.get(id=survey.message_id)
    assert (survey_message.sender_id, survey_message.metadata.get("automated")) == (None, True)

    agent = await sms.access()
    mine = await gql(
        server, SUMMARY, {"f": {"channelId": to_global_id("Channel", channel.id)}, "g": "AGENT"}, agent
    )
    (row,) = mine["data"]["csatSummary"]
    assert (row["responses"], row["average"], row["distribution"]) == (1, 5.0, [0, 0, 0, 0, 1])
    stranger = await login(server, await make_user(Role.AGENT))
    theirs = await gql(server, SUMMARY, {"f": {"channelId": to_global_id("Channel", channel.id)}}, stranger)
    assert theirs["data"]["csatSummary"] == []  # agents see only the ratings about themselves

    # Erasing the customer takes their comment everywhere it was kept; the rating stays.
    customer = to_global_id("Customer", (await Conversation.get(id=cid)).customer_id)  # type: ignore[attr-defined]
    erased = await gql(server, ERASE, {"c": customer, "r": "asked by the customer"}, await _admin(server))
    assert erased.get("errors") is None, erased
    survey = await CsatSurvey.get(id=survey.id)
    assert (survey.score, survey.comment) == (5, None)
    kept = await fetch("SELECT text FROM csat_answers WHERE survey_id = $1 AND text IS NOT NULL", survey.id)
    assert kept == []
    assert all("comment" not in a for a in await _activities(cid, "csat_received"))
    logged = await fetch(
        "SELECT payload::text AS p FROM events WHERE stream = 'csat' AND (payload->>'conversation_id')::int = $1",
        cid,
    )
    assert logged and not any("A bit slow" in e["p"] for e in logged)


async def test_a_survey_waits_its_delay_and_is_cancelled_when_the_customer_writes(server, sms) -> None:
    twilio, channel = sms.fake, sms.channel
    account_sid, our_number = channel.config["account_sid"], channel.config["from_number"]
    await _enable(server, channel.id, delay=2)
    phone = "+1555" + str(uuid.uuid4().int)[:7]
    await twilio.post_inbound(account_sid, from_=phone, to=our_number, body="Hello")
    (first,) = await Message.filter(channel_id=channel.id, direction="inbound")
    await _resolve(sms, first.conversation_id)
    (survey,) = await CsatSurvey.filter(conversation_id=first.conversation_id)
    assert survey.status == "scheduled" and survey.due_at > survey.resolved_at
    await twilio.post_inbound(account_sid, from_=phone, to=our_number, body="Wait, one more thing")

    async def closed() -> CsatSurvey | None:
        found = await CsatSurvey.get(id=survey.id)
        return found if found.status != "scheduled" else None

    assert (await eventually(closed, timeout=30)).status == "cancelled"
    assert not [s for s in twilio.sent if "1 to 5" in str(s.get("Body"))]


async def test_settings_are_for_admins_and_checked(server, sms) -> None:
    channel = to_global_id("Channel", sms.channel.id)
    variables = {"c": channel, "on": True, "delay": 0, "window": 3600}
    agent = await login(server, await make_user(Role.AGENT))
    assert error_code(await gql(server, SETTINGS, variables, agent)) == "FORBIDDEN"
    assert error_code(await gql(server, READ_SETTINGS, {"c": channel}, agent)) == "FORBIDDEN"
    admin = await _admin(server)
    before = (await gql(server, READ_SETTINGS, {"c": channel}, admin))["data"]["csatSettings"]
    assert (before["enabled"], before["windowSeconds"]) == (False, 86400)  # never configured: off
    await gql(server, SETTINGS, {**variables, "delay": 30}, admin)
    after = (await gql(server, READ_SETTINGS, {"c": channel}, admin))["data"]["csatSettings"]
    assert (after["enabled"], after["delaySeconds"], after["windowSeconds"]) == (True, 30, 3600)
    for bad in ({"window": 10}, {"delay": -1}, {"window": 10**9}):
        assert error_code(await gql(server, SETTINGS, {**variables, **bad}, admin)) == "BAD_USER_INPUT"
    gone = {**variables, "c": to_global_id("Channel", 2_000_000_000)}
    assert error_code(await gql(server, SETTINGS, gone, admin)) == "NOT_FOUND"
    summary = await gql(server, SUMMARY, {"f": {"channelId": channel}, "g": "NOPE"}, admin)
    assert summary["errors"] and summary.get("data") is None


def _wa_list_reply(phone_number_id: str, wa_id: str, row_id: str, title: str) -> bytes:
    """The customer chose a row of an interactive list (WhatsApp shows more than 3 buttons so)."""
    payload = inbound_text_payload(phone_number_id, wa_id=wa_id, name="Ana", text="-")
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message.pop("text")
    message.update(
        type="interactive", interactive={"type": "list_reply", "list_reply": {"id": row_id, "title": title}}
    )
    return orjson.dumps(payload)


async def test_whatsapp_list_reply_and_no_answering_someone_else_s_survey(server, wa) -> None:
    channel, secrets, fake = wa
    await _enable(server, channel.id)
    phone_id, wa_id, other = (
        channel.config["phone_number_id"],
        "5511" + str(uuid.uuid4().int)[:9],
        "5521" + str(uuid.uuid4().int)[:9],
    )
    assert (
        await post_webhook(server, channel, secrets["app_secret"], wa_text_payload(phone_id, wa_id, "Hi"))
    ).status_code == 200
    (first,) = await Message.filter(channel_id=channel.id, direction="inbound")
    cid = first.conversation_id
    token = await login(server, await make_user(Role.AGENT))
    resolved = await gql(server, RESOLVE, {"id": to_global_id("Conversation", cid)}, token)
    assert resolved.get("errors") is None, resolved
    survey = await _survey(cid)

    async def listed() -> dict | None:
        return next((s for s in fake.sent if s.get("to") == wa_id and s.get("type") == "interactive"), None)

    sent = await eventually(listed, timeout=30)
    rows = sent["interactive"]["action"]["sections"][0]["rows"]
    assert [r["id"] for r in rows] == [f"csat:{survey.id}:{n}" for n in range(1, 6)]

    # Another customer sending this survey's payload answers nothing: an ordinary message of theirs.
    spoof = _wa_list_reply(phone_id, other, f"csat:{survey.id}:1", "1 Very bad")
    assert (await post_webhook(server, channel, secrets["app_secret"], spoof)).status_code == 200
    assert (await CsatSurvey.get(id=survey.id)).score is None
    assert await Message.filter(channel_id=channel.id, direction="inbound", kind="interactive").count() == 1

    press = _wa_list_reply(phone_id, wa_id, f"csat:{survey.id}:2", "2 Bad")
    assert (await post_webhook(server, channel, secrets["app_secret"], press)).status_code == 200
    assert (await CsatSurvey.get(id=survey.id)).score == 2
    assert await _status(cid) == "resolved"


@pytest.fixture
async def flows(server: str) -> AsyncIterator[Flows]:
    """Flows published for one test, unpublished after it (a published flow fires for everyone)."""
    published = Flows(server, await login(server, await make_user(Role.SUPERVISOR)))
    try:
        yield published
    finally:
        await Flow.filter(id__in=[decode_id(i, "Flow") for i in published.ids]).update(published_version=None)


async def test_an_answer_reaches_outgoing_webhooks_and_starts_csat_received_flows(server, wa, flows) -> None:
    channel, secrets, _ = wa
    thanks = await flows.publish(say_flow({"event": "csat_received"}, "Thank you for rating us!"))
    received: list[dict] = []

    async def hook(request: Request) -> PlainTextResponse:
        received.append(orjson.loads(await request.body()))
        return PlainTextResponse("ok")

    async with serve_app(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as base:
        saved = await gql(
            server,
            HOOK,
            {"input": {"url": f"{base}/hook", "events": ["csat.received"], "allowPrivateNetwork": True}},
            await _admin(server),
        )
        assert "errors" not in saved, saved
        endpoint = parse_global_id(saved["data"]["saveWebhookEndpoint"]["endpoint"]["id"])[1]
        try:
            await _enable(server, channel.id)
            phone_id, wa_id = channel.config["phone_number_id"], "5531" + str(uuid.uuid4().int)[:9]
            body = wa_text_payload(phone_id, wa_id, "Is the shop open today?")
            assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200
            (first,) = await Message.filter(channel_id=channel.id, direction="inbound")
            token = await login(server, await make_user(Role.AGENT))
            await gql(server, RESOLVE, {"id": to_global_id("Conversation", first.conversation_id)}, token)
            survey = await _survey(first.conversation_id)
            answer = wa_text_payload(phone_id, wa_id, "4")
            assert (await post_webhook(server, channel, secrets["app_secret"], answer)).status_code == 200

            async def delivered() -> list[dict]:
                return [r for r in received if r["type"] == "csat.received"]

            (event,) = await eventually(delivered, timeout=60)
            assert (event["data"]["survey_id"], event["data"]["score"], event["data"]["platform"]) == (
                survey.id,
                4,
                "whatsapp",
            )
            assert event["data"]["conversation_id"] == first.conversation_id
            assert await bot_said(wa, wa_id, 1) == ["Thank you for rating us!"]
            assert [r["trigger"] for r in await flows.runs(flow=thanks)] == ["csat_received"]
        finally:
            await WebhookEndpoint.filter(id=endpoint).delete()
