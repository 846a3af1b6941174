"""Flow triggers and the runs' lives, through the real app and its in-process Dramatiq worker:
conversation events, schedules (one run per slot however many sweeps), silence, a customer who
comes back (to a closed conversation, or too late), versions kept, and what supervisors see and
cancel. The real-worker-process cases are in tests/test_flow_runtime.py."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio

from connectors.fakes.server import serve_app
from models import (
    AuditLog,
    Conversation,
    ConversationActivity,
    Flow,
    FlowExecution,
    FlowInboundCursor,
    Message,
    Role,
)
from resolvers import flow_triggers
from resolvers.errors import BadInput
from resolvers.flow_engine import Event, advance, initial_state
from resolvers.flow_triggers import on_event, run_schedules, run_silences
from resolvers.flow_validation import clean_definition
from resolvers.flow_waits import sweep
from schema.relay import decode_id, to_global_id
from tests.helpers import eventually, gql, login, make_user, post_webhook, wa_text_payload

SAVE = "mutation($input: SaveFlowInput!) { saveFlow(input: $input) { id version resumeWithinMinutes } }"
PUBLISH = "mutation($id: ID!) { publishFlow(id: $id) { publishedVersion } }"
EXECUTIONS = """query($flow: ID, $conversation: ID, $status: String) {
  flowExecutions(flowId: $flow, conversationId: $conversation, status: $status) {
    id status flowVersion currentNode trigger reason variables history { action outcome } } }"""
CANCEL = "mutation($id: ID!) { cancelFlowExecution(id: $id) { id status reason } }"
STATUS = "mutation($id: ID!, $s: ConversationStatus!) { setConversationStatus(conversationId: $id, status: $s) { status } }"
TAKE = "mutation($id: ID!, $user: ID) { assignConversation(conversationId: $id, userId: $user) { id } }"
LABELS = "mutation($id: ID!, $add: [String!]) { changeConversationLabels(conversationId: $id, add: $add) { labels } }"


def node(node_id: str, node_type: str, **config: Any) -> dict[str, Any]:
    return {"id": node_id, "type": node_type, "config": config}


def edge(source: str, target: str, port: str | None = None) -> dict[str, Any]:
    return {"from": source, "to": target, **({"port": port} if port else {})}


def say_flow(trigger: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "nodes": [node("start", "trigger", **trigger), node("say", "send_message", text=text)],
        "edges": [edge("start", "say")],
    }


def ask_flow(keyword: str, answer: str = "Anotado: {{order}}.") -> dict[str, Any]:
    return {
        "nodes": [
            node("start", "trigger", keywords=[keyword]),
            node("ask", "ask", text="Qual o pedido?", variable="order", validation={"kind": "number"}),
            node("thanks", "send_message", text=answer),
        ],
        "edges": [edge("start", "ask"), edge("ask", "thanks")],
    }


class Flows:
    """Flows saved and published as a supervisor; unpublished after each test, so no later test's
    customer meets them."""

    def __init__(self, server: str, token: str):
        self.server, self.token, self.ids = server, token, []

    async def publish(self, definition: dict[str, Any], **extra: Any) -> str:
        saved = await gql(
            self.server,
            SAVE,
            {"input": {"name": f"t {uuid.uuid4().hex[:6]}", "definition": definition, **extra}},
            self.token,
        )
        assert "errors" not in saved, saved
        flow_id = saved["data"]["saveFlow"]["id"]
        self.ids.append(flow_id)
        assert "errors" not in await gql(self.server, PUBLISH, {"id": flow_id}, self.token)
        return flow_id

    async def save_version(self, flow_id: str, definition: dict[str, Any]) -> None:
        saved = await gql(
            self.server, SAVE, {"input": {"id": flow_id, "name": "v2", "definition": definition}}, self.token
        )
        assert "errors" not in saved, saved
        assert "errors" not in await gql(self.server, PUBLISH, {"id": flow_id}, self.token)

    async def runs(self, **variables: Any) -> list[dict[str, Any]]:
        body = await gql(self.server, EXECUTIONS, variables, self.token)
        assert "errors" not in body, body
        return body["data"]["flowExecutions"]


@pytest_asyncio.fixture
async def flows(server: str) -> AsyncIterator[Flows]:
    published = Flows(server, await login(server, await make_user(Role.SUPERVISOR)))
    try:
        yield published
    finally:
        ids = [decode_id(i, "Flow") for i in published.ids]
        await Flow.filter(id__in=ids).update(published_version=None)


async def customer_says(server: str, wa: Any, wa_id: str, text: str) -> Conversation:
    channel, secrets, _ = wa
    body = wa_text_payload(channel.config["phone_number_id"], wa_id, text)
    assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200
    message = (
        await Message.filter(channel_id=channel.id, direction="inbound", text=text).order_by("-id").first()
    )
    assert message is not None
    return await Conversation.get(id=message.conversation_id)


def bot_texts(wa: Any, wa_id: str) -> list[str]:
    return [s["text"]["body"] for s in wa[2].sent if s.get("to") == wa_id and s.get("type") == "text"]


async def bot_said(wa: Any, wa_id: str, count: int) -> list[str]:
    async def enough() -> list[str] | None:
        texts = bot_texts(wa, wa_id)
        return texts if len(texts) >= count else None

    return await eventually(enough, timeout=20, interval=0.05)


def phone() -> str:
    return "5531" + str(uuid.uuid4().int)[:9]


# ---- events ------------------------------------------------------------------------------------------


async def test_label_and_resolution_events_start_their_flows_once_each(
    server: str, wa: Any, flows: Flows
) -> None:
    label = f"vip{uuid.uuid4().hex[:4]}"
    labelled = await flows.publish(
        say_flow({"event": "label_added", "label": label}, "Bem-vindo, cliente VIP!")
    )
    resolved = await flows.publish(say_flow({"event": "conversation_resolved"}, "Como foi o atendimento?"))
    wa_id = phone()
    conversation = await customer_says(server, wa, wa_id, "olá")
    gid = to_global_id("Conversation", conversation.id)
    agent = await login(server, await make_user(Role.AGENT))
    other = await gql(server, LABELS, {"id": gid, "add": ["outra"]}, agent)
    assert "errors" not in other
    assert "errors" not in await gql(server, LABELS, {"id": gid, "add": [label.upper()]}, agent)
    assert await bot_said(wa, wa_id, 1) == ["Bem-vindo, cliente VIP!"]
    assert "errors" not in await gql(server, STATUS, {"id": gid, "s": "RESOLVED"}, agent)
    assert (await bot_said(wa, wa_id, 2))[1] == "Como foi o atendimento?"
    [run] = await flows.runs(flow=labelled)
    assert (run["trigger"], run["status"]) == ("label_added", "completed")
    assert [r["trigger"] for r in await flows.runs(flow=resolved)] == ["conversation_resolved"]
    # The same event delivered again (a redelivered job): its key holds.
    key = uuid.uuid4().hex
    assert await on_event(conversation.id, "label_added", [label], key) == 1
    assert await on_event(conversation.id, "label_added", [label], key) == 0
    assert len(await flows.runs(flow=labelled)) == 2


async def test_a_schedule_runs_once_per_slot_however_many_sweeps(server: str, wa: Any, flows: Flows) -> None:
    label = f"followup{uuid.uuid4().hex[:4]}"
    schedule = {"cron": "0 9 * * *", "time_zone": "America/Sao_Paulo", "label": label}
    flow_id = await flows.publish(say_flow({"schedule": schedule}, "Bom dia! Posso ajudar?"))
    wa_id = phone()
    conversation = await customer_says(server, wa, wa_id, "oi")
    await Conversation.filter(id=conversation.id).update(labels=[label.capitalize()])
    nine_oclock = datetime(2026, 12, 7, 12, 1, tzinfo=UTC)  # 09:01 in São Paulo
    assert await run_schedules(nine_oclock - timedelta(minutes=2)) == 0  # the previous slot is too old
    assert await run_schedules(nine_oclock) == 1
    assert await run_schedules(nine_oclock + timedelta(seconds=30)) == 0  # another sweep, same slot
    assert await bot_said(wa, wa_id, 1) == ["Bom dia! Posso ajudar?"]
    assert await run_schedules(nine_oclock + timedelta(days=1)) == 1  # the next day's slot
    runs = await flows.runs(flow=flow_id)
    assert [r["trigger"] for r in runs] == ["schedule", "schedule"]


async def test_no_agent_reply_in_time_starts_one_run(server: str, wa: Any, flows: Flows) -> None:
    flow_id = await flows.publish(
        say_flow({"event": "no_agent_reply", "minutes": 5}, "Já já alguém responde!")
    )
    # The database is shared by the whole run: conversations other tests left silent for over five
    # minutes start their runs of this flow now, so below only this conversation's runs count.
    await run_silences()
    wa_id = phone()
    conversation = await customer_says(server, wa, wa_id, "alguém aí?")
    mine = {"flow": flow_id, "conversation": to_global_id("Conversation", conversation.id)}
    await run_silences()
    assert await flows.runs(**mine) == []  # not silent for long enough yet
    await Message.filter(conversation_id=conversation.id).update(
        created_at=datetime.now(UTC) - timedelta(minutes=6)
    )
    await run_silences()
    await run_silences()  # a second sweep starts nothing more for it
    assert await bot_said(wa, wa_id, 1) == ["Já já alguém responde!"]
    assert len(await flows.runs(**mine)) == 1


# ---- a customer who comes back --------------------------------------------------------------------------


async def test_a_returning_customer_carries_on_in_their_new_conversation(
    server: str, wa: Any, flows: Flows
) -> None:
    keyword = f"troca{uuid.uuid4().hex[:4]}"
    flow_id = await flows.publish(ask_flow(keyword))
    wa_id = phone()
    first = await customer_says(server, wa, wa_id, keyword)
    assert await bot_said(wa, wa_id, 1) == ["Qual o pedido?"]
    supervisor = await login(server, await make_user(Role.SUPERVISOR))
    closed = await gql(
        server, STATUS, {"id": to_global_id("Conversation", first.id), "s": "CLOSED"}, supervisor
    )
    assert "errors" not in closed
    second = await customer_says(server, wa, wa_id, "42")
    assert second.id != first.id  # closed is final: a new conversation
    assert (await bot_said(wa, wa_id, 2))[1] == "Anotado: 42."
    [run] = await flows.runs(flow=flow_id)
    assert run["status"] == "completed" and run["variables"] == {"order": 42}
    assert (await FlowExecution.get(id=decode_id(run["id"], "FlowExecution"))).conversation_id == second.id


async def test_a_customer_back_after_the_resume_window_finds_the_run_expired(
    server: str, wa: Any, flows: Flows
) -> None:
    keyword = f"volto{uuid.uuid4().hex[:4]}"
    flow_id = await flows.publish(ask_flow(keyword), resumeWithinMinutes=1)
    wa_id = phone()
    conversation = await customer_says(server, wa, wa_id, keyword)
    await bot_said(wa, wa_id, 1)
    await FlowExecution.filter(conversation_id=conversation.id).update(
        updated_at=datetime.now(UTC) - timedelta(minutes=2)
    )
    await customer_says(server, wa, wa_id, "42")

    async def expired() -> list[dict[str, Any]] | None:
        runs = await flows.runs(flow=flow_id, status="cancelled")
        return runs or None

    [run] = await eventually(expired, timeout=20)
    assert run["reason"].startswith("expired")
    assert bot_texts(wa, wa_id) == ["Qual o pedido?"]


async def test_the_sweep_expires_runs_nobody_answered(server: str, wa: Any, flows: Flows) -> None:
    keyword = f"sumiu{uuid.uuid4().hex[:4]}"
    flow_id = await flows.publish(ask_flow(keyword), resumeWithinMinutes=1)
    wa_id = phone()
    conversation = await customer_says(server, wa, wa_id, keyword)
    await bot_said(wa, wa_id, 1)
    await FlowExecution.filter(conversation_id=conversation.id).update(
        updated_at=datetime.now(UTC) - timedelta(minutes=2)
    )
    assert (await sweep())["expired"] >= 1
    [run] = await flows.runs(flow=flow_id)
    assert run["status"] == "cancelled"


async def test_an_agent_taking_the_conversation_pauses_the_bot_until_it_is_resolved(
    server: str, wa: Any, flows: Flows
) -> None:
    keyword = f"humano{uuid.uuid4().hex[:4]}"
    flow_id = await flows.publish(ask_flow(keyword))
    wa_id = phone()
    conversation = await customer_says(server, wa, wa_id, keyword)
    await bot_said(wa, wa_id, 1)
    gid = to_global_id("Conversation", conversation.id)
    agent = await make_user(Role.AGENT)
    token = await login(server, agent)
    taken = await gql(server, TAKE, {"id": gid, "user": to_global_id("User", agent.id)}, token)
    assert "errors" not in taken, taken
    [run] = await flows.runs(flow=flow_id)
    assert run["status"] == "paused"
    activity = await ConversationActivity.get(conversation_id=conversation.id, type="flow_handed_off")
    assert (activity.actor_id, activity.data["why"]) == (agent.id, "agent_took")
    again = await customer_says(server, wa, wa_id, keyword)  # no new run while the agent has it
    last = await Message.filter(conversation_id=again.id, direction="inbound").order_by("-id").first()
    assert last is not None

    async def seen() -> bool:
        cursor = await FlowInboundCursor.get_or_none(conversation_id=again.id)
        return cursor is not None and cursor.last_message_id >= last.id

    await eventually(seen, timeout=20)
    assert len(await flows.runs(flow=flow_id)) == 1
    assert "errors" not in await gql(server, STATUS, {"id": gid, "s": "RESOLVED"}, token)

    async def ended() -> list[dict[str, Any]] | None:
        runs = await flows.runs(flow=flow_id)
        return runs if runs[0]["status"] == "cancelled" else None

    [run] = await eventually(ended, timeout=20)
    assert "resolved" in run["reason"]
    assert bot_texts(wa, wa_id) == ["Qual o pedido?"]


async def test_a_message_a_step_fails_on_is_passed_over_not_blocking_the_next(
    server: str, wa: Any, flows: Flows, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyword = f"depois{uuid.uuid4().hex[:4]}"
    await flows.publish(say_flow({"keywords": [keyword]}, "Cheguei."))
    original = flow_triggers._on_message

    async def trips(conversation_id: int, message: dict[str, Any], effects: Any) -> None:
        if message["text"] == "boom":
            raise ValueError("a bug in a step")
        await original(conversation_id, message, effects)

    monkeypatch.setattr(flow_triggers, "_on_message", trips)
    wa_id = phone()
    await customer_says(server, wa, wa_id, "boom")
    await customer_says(server, wa, wa_id, keyword)
    assert await bot_said(wa, wa_id, 1) == ["Cheguei."]


async def test_buttons_http_errors_escalation_and_closing_run_for_real(
    server: str, wa: Any, flows: Flows
) -> None:
    async def failing(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 503, "headers": []})
        await send({"type": "http.response.body", "body": b"down"})

    keyword = f"menu{uuid.uuid4().hex[:4]}"
    async with serve_app(failing) as shop:
        buttons = [{"id": "status", "title": "Meu pedido"}, {"id": "human", "title": "Atendente"}]
        await flows.publish(
            {
                "nodes": [
                    node("start", "trigger", keywords=[keyword]),
                    node("menu", "buttons", text="Como posso ajudar?", buttons=buttons, variable="choice"),
                    node("lookup", "http_request", url=shop + "/orders", timeout_seconds=5),
                    node("sorry", "send_message", text="Sistema fora do ar ({{http_error}})."),
                    node("up", "escalate", reason="cliente pediu {{choice}}"),
                    node("bye", "close"),
                ],
                "edges": [
                    edge("start", "menu"),
                    edge("menu", "lookup", "status"),
                    edge("menu", "up", "human"),
                    edge("lookup", "bye"),
                    edge("lookup", "sorry", "error"),
                    edge("sorry", "up"),
                    edge("up", "bye"),
                ],
            }
        )
        wa_id = phone()
        conversation = await customer_says(server, wa, wa_id, keyword)

        async def offered() -> dict[str, Any] | None:
            sent = [s for s in wa[2].sent if s.get("to") == wa_id and s.get("type") == "interactive"]
            return sent[0] if sent else None

        menu = await eventually(offered, timeout=20)
        assert [b["reply"]["title"] for b in menu["interactive"]["action"]["buttons"]] == [
            "Meu pedido",
            "Atendente",
        ]
        await customer_says(server, wa, wa_id, "1")  # the first button, by its number
        assert await bot_said(wa, wa_id, 1) == ["Sistema fora do ar (HTTP 503)."]

        async def closed() -> Conversation | None:
            current = await Conversation.get(id=conversation.id)
            return current if current.status == "resolved" else None

        resolved = await eventually(closed, timeout=20)
    assert resolved.escalation_level == 1 and resolved.priority == "high"
    [run] = await flows.runs(conversation=to_global_id("Conversation", conversation.id))
    assert run["status"] == "completed" and run["variables"]["choice"] == "status"
    outcomes = [(h["action"], h["outcome"]) for h in run["history"]]
    assert ("escalate", "escalated") in outcomes and ("close", "resolved") in outcomes


async def test_a_wait_for_a_reply_takes_its_timeout_branch_when_nobody_answers(
    server: str, wa: Any, flows: Flows
) -> None:
    keyword = f"aguarda{uuid.uuid4().hex[:4]}"
    await flows.publish(
        {
            "nodes": [
                node("start", "trigger", keywords=[keyword]),
                node("hello", "send_message", text="Me conta mais?"),
                node("listen", "wait", until_reply=True, timeout_seconds=1),
                node("nudge", "send_message", text="Ainda aí?"),
                node("glad", "send_message", text="Que bom!"),
            ],
            "edges": [
                edge("start", "hello"),
                edge("hello", "listen"),
                edge("listen", "glad"),
                edge("listen", "nudge", "timeout"),
            ],
        }
    )
    wa_id = phone()
    await customer_says(server, wa, wa_id, keyword)
    assert await bot_said(wa, wa_id, 2) == ["Me conta mais?", "Ainda aí?"]


# ---- versions, supervisors ------------------------------------------------------------------------------


async def test_runs_keep_their_version_and_supervisors_watch_and_cancel(
    server: str, wa: Any, flows: Flows
) -> None:
    keyword = f"versao{uuid.uuid4().hex[:4]}"
    flow_id = await flows.publish(ask_flow(keyword, answer="v1: {{order}}"))
    old_customer, new_customer = phone(), phone()
    old = await customer_says(server, wa, old_customer, keyword)
    await bot_said(wa, old_customer, 1)
    await flows.save_version(flow_id, ask_flow(keyword, answer="v2: {{order}}"))
    await customer_says(server, wa, new_customer, keyword)
    await bot_said(wa, new_customer, 1)
    await customer_says(server, wa, old_customer, "7")
    assert (await bot_said(wa, old_customer, 2))[1] == "v1: 7"  # started on 1, stays on 1

    waiting = await flows.runs(flow=flow_id, status="waiting")
    assert [r["flowVersion"] for r in waiting] == [2]
    agent = await login(server, await make_user(Role.AGENT))
    forbidden = await gql(server, CANCEL, {"id": waiting[0]["id"]}, agent)
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    listing = await gql(server, EXECUTIONS, {"flow": flow_id}, agent)
    assert listing["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    cancelled = await gql(server, CANCEL, {"id": waiting[0]["id"]}, flows.token)
    assert cancelled["data"]["cancelFlowExecution"]["status"] == "cancelled", cancelled
    again = await gql(server, CANCEL, {"id": waiting[0]["id"]}, flows.token)
    assert again["errors"][0]["extensions"]["code"] == "CONFLICT"
    pk = decode_id(waiting[0]["id"], "FlowExecution")
    assert await AuditLog.filter(action="flow_execution.cancel", target_id=str(pk)).count() == 1
    history = (await flows.runs(flow=flow_id, status="cancelled"))[0]["history"]
    assert history[-1]["action"] == "cancelled"
    by_conversation = await flows.runs(conversation=to_global_id("Conversation", old.id))
    assert [(r["flowVersion"], r["status"]) for r in by_conversation] == [(1, "completed")]
    bad = await gql(server, EXECUTIONS, {"status": "sleeping"}, flows.token)
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


# ---- the new trigger kinds, as data --------------------------------------------------------------------


@pytest.mark.parametrize(
    "trigger",
    [
        {"schedule": {"cron": "every day", "time_zone": "UTC", "label": "x"}},
        {"schedule": {"cron": "0 9 * * *", "time_zone": "Mars/Olympus", "label": "x"}},
        {"schedule": {"cron": "0 9 * * *"}},
        {"event": "customer_birthday"},  # not an event (csat_received is one now)
        {"event": "no_agent_reply"},
        {"keywords": ["oi"], "event": "conversation_created"},
    ],
)
def test_schedule_and_event_triggers_are_checked_when_saved(trigger: dict[str, Any]) -> None:
    with pytest.raises(BadInput) as refused:
        clean_definition(say_flow(trigger, "x"))
    assert refused.value.details["node"] == "start"


def test_an_event_or_schedule_starts_the_run_and_a_message_does_not() -> None:
    definition = clean_definition(say_flow({"event": "conversation_created"}, "Olá!"))
    state = initial_state(platform="whatsapp", buttons=True)
    at = datetime(2026, 12, 4, tzinfo=UTC)
    assert advance(definition, state, Event(kind="message", at=at, text="Olá")).actions == []
    started = advance(definition, state, Event(kind="start", at=at))
    assert [a["text"] for a in started.actions] == ["Olá!"] and started.state["status"] == "ended"
