"""The flows' loose ends, through the real app and its in-process worker: a finished run reaches
outgoing webhooks as `flow.finished`; a bot's message leaves the SLA's first-response clock
running; a flow sends a response template and sets a customer attribute read back later."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route

from connectors.fakes.server import serve_app
from core.sql import fetch
from models import Conversation, Message, Role, SlaTimer, Team
from resolvers import sla
from schema.relay import decode_id, to_global_id
from tests.helpers import eventually, gql, login, make_user
from tests.test_flow_triggers import Flows, bot_said, customer_says, edge, flows, node, phone, say_flow
from tests.test_outgoing_webhooks import Receiver, admin, no_endpoints_left, save_endpoint, verify
from tests.test_sla import POLICY

__all__ = ["admin", "flows", "no_endpoints_left"]  # fixtures


async def test_a_finished_run_is_delivered_as_flow_finished(
    server: str, wa: Any, flows: Flows, admin
) -> None:
    rx = Receiver()
    app = Starlette(routes=[Route("/hook", rx.handle, methods=["POST"])])
    async with serve_app(app) as base:
        token, _ = admin
        _, secret = await save_endpoint(server, token, f"{base}/hook", wa[0].id, ["flow.finished"])
        keyword = f"fim{uuid.uuid4().hex[:4]}"
        flow_id = await flows.publish(say_flow({"keywords": [keyword]}, "Tchau!"))
        wa_id = phone()
        conversation = await customer_says(server, wa, wa_id, keyword)
        assert await bot_said(wa, wa_id, 1) == ["Tchau!"]

        async def delivered() -> list[Any] | None:
            return rx.accepted() or None

        [received] = await eventually(delivered, timeout=30, interval=0.1)
    assert verify(secret, received)
    assert received.json["type"] == "flow.finished"
    data = received.json["data"]
    assert data["conversation_id"] == conversation.id and data["flow_id"] == decode_id(flow_id, "Flow")
    assert data["status"] == "completed" and data["channel_id"] == wa[0].id
    [run] = await flows.runs(conversation=to_global_id("Conversation", conversation.id))
    assert data["execution_id"] == decode_id(run["id"], "FlowExecution")


# ---- SLA: a bot's message is not the agents' first response -------------------------------------------

SEND = """mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }"""


async def test_a_bot_reply_does_not_meet_the_first_response_target(
    server: str, wa: Any, flows: Flows
) -> None:
    keyword = f"sla{uuid.uuid4().hex[:4]}"
    await flows.publish(say_flow({"keywords": [keyword]}, "Um atendente já vem."))
    wa_id = phone()
    conversation = await customer_says(server, wa, wa_id, keyword)
    assert await bot_said(wa, wa_id, 1) == ["Um atendente já vem."]
    team = await Team.create(name=f"sla-{uuid.uuid4().hex[:8]}")
    await Conversation.filter(id=conversation.id).update(team_id=team.id)  # the policy is this team's only
    created = await gql(
        server,
        POLICY,
        {
            "name": f"bot-{uuid.uuid4().hex[:6]}",
            "team": to_global_id("Team", team.id),
            "tz": "UTC",
            "hours": {},
            "first": 3600,
        },
        flows.token,
    )
    assert created.get("errors") is None, created

    await sla.sync(conversation.id)
    [first] = await SlaTimer.filter(conversation_id=conversation.id, kind="first_response")
    assert first.met_at is None  # the flow's message is in the conversation, the clock still runs

    admin = await login(server, await make_user(Role.ADMIN))
    reply = {
        "conversationId": to_global_id("Conversation", conversation.id),
        "clientMessageId": str(uuid.uuid4()),
        "text": "Oi, sou a Ana.",
    }
    assert (await gql(server, SEND, {"input": reply}, admin)).get("errors") is None
    await sla.sync(conversation.id)
    [first] = await SlaTimer.filter(conversation_id=conversation.id, kind="first_response")
    agent_reply = await Message.filter(conversation_id=conversation.id, sender_id__not_isnull=True).first()
    assert agent_reply is not None and first.met_at == agent_reply.created_at


# ---- response templates and customer attributes from a flow -------------------------------------------

SAVE_TEMPLATE = "mutation($input: SaveTemplateInput!) { saveTemplate(input: $input) { id } }"


async def test_a_flow_sends_a_response_template_with_its_variables(
    server: str, wa: Any, flows: Flows
) -> None:
    saved = await gql(
        server,
        SAVE_TEMPLATE,
        {
            "input": {
                "name": f"pedido {uuid.uuid4().hex[:6]}",
                "body": "Pedido {{pedido}} confirmado.",
                "prompts": [{"name": "pedido", "label": "Pedido"}],
            }
        },
        flows.token,
    )
    assert "errors" not in saved, saved
    template_id = saved["data"]["saveTemplate"]["id"]
    keyword = f"tpl{uuid.uuid4().hex[:4]}"
    await flows.publish(
        {
            "nodes": [
                node("start", "trigger", keywords=[keyword]),
                node("ask", "ask", text="Número do pedido?", variable="order", validation={"kind": "number"}),
                node(
                    "done",
                    "send_message",
                    template={"id": template_id, "variables": {"pedido": "#{{order}}"}},
                ),
            ],
            "edges": [edge("start", "ask"), edge("ask", "done")],
        }
    )
    wa_id = phone()
    conversation = await customer_says(server, wa, wa_id, keyword)
    await bot_said(wa, wa_id, 1)
    await customer_says(server, wa, wa_id, "4521")
    assert (await bot_said(wa, wa_id, 2))[1] == "Pedido #4521 confirmado."
    sent = await Message.filter(conversation_id=conversation.id, text="Pedido #4521 confirmado.").first()
    assert sent is not None and sent.sender_id is None
    assert sent.metadata["response_template"]["id"] == decode_id(template_id, "ResponseTemplate")
    assert sent.metadata["flow"]["node"] == "done"


async def test_an_attribute_a_flow_sets_is_read_back_as_customer_dot_name(
    server: str, wa: Any, flows: Flows
) -> None:
    keyword = f"attr{uuid.uuid4().hex[:4]}"
    await flows.publish(
        {
            "nodes": [
                node("start", "trigger", keywords=[keyword]),
                node("ask", "ask", text="Qual seu plano?", variable="plan", validation={"kind": "text"}),
                node("keep", "set", attribute="plano", value="{{plan}}"),
                node("say", "send_message", text="Plano {{customer.plano}} anotado."),
            ],
            "edges": [edge("start", "ask"), edge("ask", "keep"), edge("keep", "say")],
        }
    )
    wa_id = phone()
    conversation = await customer_says(server, wa, wa_id, keyword)
    await bot_said(wa, wa_id, 1)
    await customer_says(server, wa, wa_id, "ouro")
    assert (await bot_said(wa, wa_id, 2))[1] == "Plano ouro anotado."
    stored = await fetch(
        "SELECT value FROM customer_attributes WHERE customer_id = $1 AND name = 'plano'",
        conversation.customer_id,
    )
    assert [r["value"] for r in stored] == ["ouro"]
    # An agent with the conversation open hears it as after a person's edit (never the value).
    heard = await fetch(
        "SELECT payload::text AS payload FROM events WHERE type = 'CUSTOMER_UPDATED' AND stream = $1",
        f"conversation:{conversation.id}",
    )
    assert len(heard) == 1 and "ouro" not in heard[0]["payload"]

    # A later run starts from the stored attribute.
    again = f"attr{uuid.uuid4().hex[:4]}"
    await flows.publish(say_flow({"keywords": [again]}, "Seu plano: {{customer.plano}}"))
    await customer_says(server, wa, wa_id, again)
    assert (await bot_said(wa, wa_id, 3))[2] == "Seu plano: ouro"
