"""Flows that run for real: a `pytake serve` process takes signed WhatsApp webhooks and `pytake
worker` processes run the steps (no in-process worker: a namespace of their own). The customer's
side is the fake WhatsApp API, which counts every message the bot sends; the HTTP node calls a
loopback order service that can hold a request open, so the test knows a worker is in the middle
of a step when it kills it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest_asyncio

from connectors.fakes.server import serve_app
from connectors.fakes.whatsapp import FakeWhatsApp
from models import (
    Conversation,
    ConversationActivity,
    Flow,
    FlowExecution,
    FlowInboundCursor,
    Message,
    Role,
    Team,
    TeamMember,
)
from resolvers.flow_actions import Effects
from resolvers.flow_engine import Event
from resolvers.flow_executions import flow_info, start
from schema.relay import decode_id, to_global_id
from tests.conftest import REDIS_URL, free_port, requires_redis
from tests.helpers import (
    Subscriber,
    eventually,
    gql,
    login,
    make_user,
    make_whatsapp_channel,
    post_webhook,
    wa_text_payload,
)
from tests.test_production import _wait_healthy
from tests.test_worker_signals import read, started

pytestmark = requires_redis

WORKER = ("worker", "--processes", "1", "--threads", "4")
SAVE = "mutation($input: SaveFlowInput!) { saveFlow(input: $input) { id version } }"
PUBLISH = "mutation($id: ID!) { publishFlow(id: $id) { id publishedVersion } }"
EXECUTIONS = """query($flow: ID, $conversation: ID) { flowExecutions(flowId: $flow, conversationId: $conversation) {
  id status flowVersion currentNode variables trigger handedOffAt history { step node action outcome } } }"""
TEAM_SUB = """subscription { inboxEvents { type conversation { id teamId assignee { name } } } }"""
SEND = "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }"


class OrderService:
    """The shop's order API on loopback. While `hold` is set a request waits for `release` (or for
    the caller to go away, as a killed worker's connection does)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.hold = False
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.requests.append({"path": scope["path"], "key": headers.get("idempotency-key", "")})
        if self.hold:
            self.arrived.set()
            gone = asyncio.create_task(receive())
            released = asyncio.create_task(self.release.wait())
            await asyncio.wait({gone, released}, return_when=asyncio.FIRST_COMPLETED)
            released.cancel()
            gone.cancel()
            if not self.release.is_set():
                return  # the caller went away first: the request never got through
        order = scope["path"].rsplit("/", 1)[-1]
        body = orjson.dumps({"order": {"id": order, "status": "shipped" if order != "404" else "lost"}})
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


@dataclass
class Stage:
    env: dict[str, str]
    api: str
    fake: FakeWhatsApp
    orders: OrderService
    orders_url: str
    channel: Any
    secrets: dict[str, str]
    supervisor: str
    team_id: int
    agent_token: str
    agent_name: str
    customers: list[str] = field(default_factory=list)
    flows: list[str] = field(default_factory=list)  # published here; unpublished when the module ends

    def customer(self) -> str:
        wa_id = "5521" + str(uuid.uuid4().int)[:9]
        self.customers.append(wa_id)
        return wa_id

    async def say(self, wa_id: str, text: str, wamid: str | None = None) -> None:
        body = wa_text_payload(self.channel.config["phone_number_id"], wa_id, text, wamid=wamid)
        response = await post_webhook(self.api, self.channel, self.secrets["app_secret"], body)
        assert response.status_code == 200, response.text

    def bot_texts(self, wa_id: str) -> list[str]:
        return [
            s.get("text", {}).get("body") or s.get("interactive", {}).get("body", {}).get("text")
            for s in self.fake.sent
            if s.get("to") == wa_id
        ]

    async def bot_said(self, wa_id: str, count: int, timeout: float = 30) -> list[str]:
        async def enough() -> list[str] | None:
            texts = self.bot_texts(wa_id)
            return texts if len(texts) >= count else None

        return await eventually(enough, timeout=timeout, interval=0.1)

    async def flow(self, definition: dict[str, Any]) -> str:
        saved = await gql(
            self.api,
            SAVE,
            {"input": {"name": f"flow {uuid.uuid4().hex[:6]}", "definition": definition}},
            self.supervisor,
        )
        assert "errors" not in saved, saved
        flow_id = saved["data"]["saveFlow"]["id"]
        self.flows.append(flow_id)
        published = await gql(self.api, PUBLISH, {"id": flow_id}, self.supervisor)
        assert "errors" not in published, published
        return flow_id

    async def executions(self, flow_id: str) -> list[dict[str, Any]]:
        body = await gql(self.api, EXECUTIONS, {"flow": flow_id}, self.supervisor)
        assert "errors" not in body, body
        return body["data"]["flowExecutions"]


def node(node_id: str, node_type: str, **config: Any) -> dict[str, Any]:
    return {"id": node_id, "type": node_type, "config": config}


def edge(source: str, target: str, port: str | None = None) -> dict[str, Any]:
    return {"from": source, "to": target, **({"port": port} if port else {})}


def order_flow(stage: Stage, keyword: str) -> dict[str, Any]:
    """keyword → question (numbers, re-ask) → HTTP → condition → message → transfer to the team."""
    return {
        "nodes": [
            node("start", "trigger", keywords=[keyword]),
            node(
                "ask_order",
                "ask",
                text="Qual o número do pedido?",
                variable="order",
                validation={"kind": "number"},
                retry_text="Só o número, por favor.",
            ),
            node(
                "lookup",
                "http_request",
                url=stage.orders_url + "/orders/{{order}}",
                response_map={"status": "order.status"},
                timeout_seconds=20,
            ),
            node(
                "shipped",
                "condition",
                branches=[
                    {"port": "yes", "when": {"variable": "status", "op": "equals", "value": "shipped"}}
                ],
            ),
            node("tell", "send_message", text="O pedido {{order}} já foi enviado."),
            node("not_yet", "send_message", text="O pedido {{order}} está {{status}}."),
            node("to_team", "transfer", team_id=to_global_id("Team", stage.team_id)),
            node("done", "end"),
        ],
        "edges": [
            edge("start", "ask_order"),
            edge("ask_order", "lookup"),
            edge("ask_order", "done", "invalid"),
            edge("lookup", "shipped"),
            edge("lookup", "to_team", "error"),
            edge("shipped", "tell", "yes"),
            edge("shipped", "not_yet", "else"),
            edge("tell", "to_team"),
            edge("not_yet", "to_team"),
            edge("to_team", "done"),
        ],
    }


@contextlib.contextmanager
def worker(env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """A `pytake worker` process; its log is shown when the test fails inside."""
    with started(env, *WORKER) as (proc, log):
        try:
            yield proc
        except BaseException:
            print(read(log)[-6000:])
            raise


@pytest_asyncio.fixture(scope="module")
async def stage(server: str, database: str) -> AsyncIterator[Stage]:
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "REDIS_URL": REDIS_URL or "",
        "PYTAKE_NAMESPACE": f"{os.environ['PYTAKE_NAMESPACE']}-flows",
        "PYTAKE_INPROCESS_WORKER": "0",
        "PUBLIC_URL": api,
        "WORKER_HEARTBEAT_TIMEOUT": "1.5",  # a killed worker's jobs come back to the next one soon
        "WORKER_STOP_TIMEOUT": "3",
        "LOG_LEVEL": "INFO",
    }
    fake, orders = FakeWhatsApp(), OrderService()
    async with serve_app(fake.app) as fake_base, serve_app(orders) as orders_url:
        channel, secrets = await make_whatsapp_channel(fake_base)
        webhook = f"{api}/webhooks/whatsapp/{channel.id}"  # where Meta posts statuses
        fake.add_number(
            channel.config["phone_number_id"],
            access_token=secrets["access_token"],
            app_secret=secrets["app_secret"],
            webhook_url=webhook,
        )
        fake.auto_statuses = []
        team = await Team.create(name=f"orders-{uuid.uuid4().hex[:6]}")
        agent = await make_user(Role.AGENT, name=f"Agent {uuid.uuid4().hex[:4]}")
        await TeamMember.create(team_id=team.id, user_id=agent.id)
        with started(env, "serve", "--host", "127.0.0.1", "--port", str(port)) as (proc, _):
            await _wait_healthy(api, proc)
            supervisor = await login(api, await make_user(Role.SUPERVISOR))
            staged = Stage(
                env,
                api,
                fake,
                orders,
                orders_url,
                channel,
                secrets,
                supervisor,
                team.id,
                await login(api, agent),
                agent.name,
            )
            try:
                yield staged
            finally:
                # Later modules' customers must not meet these bots.
                await Flow.filter(id__in=[decode_id(f, "Flow") for f in staged.flows]).update(
                    published_version=None
                )
        await fake.aclose()


async def _conversation(wa_id: str) -> Conversation:
    async def found() -> Conversation | None:
        message = await Message.filter(direction="inbound", identity__external_id=wa_id).first()
        return None if message is None else await Conversation.get(id=message.conversation_id)

    return await eventually(found, timeout=20)


async def test_a_keyword_runs_the_flow_to_a_team_through_real_workers(stage: Stage) -> None:
    keyword = f"pedido{uuid.uuid4().hex[:4]}"  # whole words, case folded; unique to this run
    flow_id = await stage.flow(order_flow(stage, keyword))
    wa_id = stage.customer()
    inbox = await Subscriber.open(stage.api, stage.agent_token, TEAM_SUB)  # online: the team's agent
    with worker(stage.env):
        await stage.say(wa_id, f"Oi, sobre meu {keyword.upper()}!")
        assert await stage.bot_said(wa_id, 1) == ["Qual o número do pedido?"]
        await stage.say(wa_id, "não sei")
        assert (await stage.bot_said(wa_id, 2))[1] == "Só o número, por favor."
        await stage.say(wa_id, "4521")
        texts = await stage.bot_said(wa_id, 3)
        conversation = await _conversation(wa_id)
        gid = to_global_id("Conversation", conversation.id)
        team_gid = to_global_id("Team", stage.team_id)
        seen = await inbox.next_where(
            lambda d: (
                d["inboxEvents"]["conversation"]["id"] == gid
                and d["inboxEvents"]["conversation"]["teamId"] == team_gid
            ),
            timeout=30,
        )
        await inbox.close()

        async def all_sent() -> bool:
            bot = await Message.filter(conversation_id=conversation.id, direction="outbound")
            return len(bot) == 3 and all(m.status in ("sent", "delivered", "read") for m in bot)

        await eventually(all_sent, timeout=20)
    assert texts == ["Qual o número do pedido?", "Só o número, por favor.", "O pedido 4521 já foi enviado."]
    assert seen["inboxEvents"]["type"] == "CONVERSATION_UPDATED"
    assert [r["path"] for r in stage.orders.requests if r["path"].endswith("4521")] == ["/orders/4521"]
    [run] = await stage.executions(flow_id)
    assert (run["status"], run["trigger"], run["flowVersion"]) == ("completed", "keyword", 1)
    assert run["variables"] == {"order": 4521, "status": "shipped"}
    actions = [(h["node"], h["action"], h["outcome"]) for h in run["history"]]
    assert ("ask_order", "send_text", "sent") in actions and (
        "lookup",
        "http_request",
        "scheduled",
    ) in actions
    assert ("to_team", "transfer", "transferred") == actions[-1]
    bot = await Message.filter(conversation_id=conversation.id, direction="outbound").order_by("id")
    assert [m.metadata["flow"]["node"] for m in bot] == ["ask_order", "ask_order", "tell"]
    assert all(m.sender_id is None for m in bot)  # the bot's, assigning nobody
    await conversation.refresh_from_db()
    assert conversation.unread_count == 3  # the bot answered; no agent has read them yet
    transferred = await ConversationActivity.filter(
        conversation_id=conversation.id, type="transferred"
    ).count()
    assert transferred == 1


async def test_a_worker_killed_in_the_middle_of_a_step_resumes_and_sends_nothing_twice(stage: Stage) -> None:
    keyword = f"rastreio{uuid.uuid4().hex[:4]}"
    flow_id = await stage.flow(order_flow(stage, keyword))
    wa_id = stage.customer()
    stage.orders.hold, stage.orders.arrived, stage.orders.release = True, asyncio.Event(), asyncio.Event()
    with worker(stage.env) as first:
        await stage.say(wa_id, keyword)
        await stage.bot_said(wa_id, 1)
        await stage.say(wa_id, "777")
        await asyncio.wait_for(stage.orders.arrived.wait(), 30)  # the HTTP step is under way
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    killed_at = time.monotonic()
    conversation = await _conversation(wa_id)
    run = await FlowExecution.get(conversation_id=conversation.id)
    assert (run.status, run.node, run.waiting_for) == ("running", "lookup", "http")
    stage.orders.release.set()
    stage.orders.hold = False
    await asyncio.sleep(max(0.0, killed_at + 1.6 - time.monotonic()))  # its heartbeat has timed out
    with worker(stage.env):
        texts = await stage.bot_said(wa_id, 2)

        async def finished() -> bool:
            await run.refresh_from_db()
            return run.status == "completed"

        await eventually(finished, timeout=30)
    assert texts == ["Qual o número do pedido?", "O pedido 777 já foi enviado."]
    assert stage.bot_texts(wa_id) == texts  # each sent once, at the platform
    calls = [r for r in stage.orders.requests if r["path"] == "/orders/777"]
    assert len(calls) == 2 and calls[0]["key"] == calls[1]["key"]  # the call again, with its key
    [listed] = await stage.executions(flow_id)
    assert listed["variables"] == {"order": 777, "status": "shipped"}
    assert await Conversation.filter(id=conversation.id, team_id=stage.team_id).exists()


async def test_a_two_second_wait_survives_a_worker_restart(stage: Stage) -> None:
    keyword = f"espera{uuid.uuid4().hex[:4]}"
    await stage.flow(
        {
            "nodes": [
                node("start", "trigger", keywords=[keyword]),
                node("hello", "send_message", text="Um momento…"),
                node("pause", "wait", seconds=2),
                node("back", "send_message", text="Voltei!"),
            ],
            "edges": [edge("start", "hello"), edge("hello", "pause"), edge("pause", "back")],
        }
    )
    wa_id = stage.customer()
    # The worker dies between WhatsApp's accept and our commit: WhatsApp holds its answer, so the
    # kill always lands there. Meta's status webhook echoes the send's tag, and the message is
    # recorded from the echo instead of resent (README "Sends under failure").
    stage.fake.auto_statuses = ["sent"]
    stage.fake.response_delay = 10
    try:
        with worker(stage.env) as first:
            await stage.say(wa_id, keyword)
            await stage.bot_said(wa_id, 1)
            os.killpg(first.pid, signal.SIGKILL)  # the timer's delayed message is in Redis, or in its hands
            first.wait(timeout=10)
    finally:
        stage.fake.response_delay = 0
    killed_at = time.monotonic()
    hello = await Message.get(conversation_id=(await _conversation(wa_id)).id, direction="outbound")

    async def echoed() -> bool:
        await hello.refresh_from_db()
        return hello.status == "sent" and hello.platform_message_id is not None

    await eventually(echoed, timeout=10)
    await asyncio.sleep(2.5)
    assert stage.bot_texts(wa_id) == ["Um momento…"]  # nobody ran the timer while no worker ran
    run = await FlowExecution.get(conversation_id=(await _conversation(wa_id)).id)
    assert (run.status, run.waiting_for) == ("waiting", "timer")
    await asyncio.sleep(max(0.0, killed_at + 1.6 - time.monotonic()))
    with worker(stage.env):
        assert await stage.bot_said(wa_id, 2) == ["Um momento…", "Voltei!"]

        async def completed() -> bool:
            await run.refresh_from_db()
            return run.status == "completed"

        await eventually(completed, timeout=20)
    assert stage.bot_texts(wa_id) == ["Um momento…", "Voltei!"]
    stage.fake.auto_statuses = []


async def test_two_copies_of_the_trigger_start_one_run_and_an_agent_takes_over(stage: Stage) -> None:
    keyword = f"entrega{uuid.uuid4().hex[:4]}"
    flow_id = await stage.flow(order_flow(stage, keyword))
    wa_id = stage.customer()
    wamid = f"wamid.{uuid.uuid4().hex}"
    with worker(stage.env):
        await asyncio.gather(stage.say(wa_id, keyword, wamid), stage.say(wa_id, keyword, wamid))
        await stage.bot_said(wa_id, 1)
        conversation = await _conversation(wa_id)
        # The same trigger firing again (a job run twice, another process): the key holds.
        run = await FlowExecution.get(conversation_id=conversation.id)
        flow = await flow_info(run.flow_id, run.flow_version)
        trigger = await Message.get(conversation_id=conversation.id, direction="inbound")
        again = await start(
            flow,
            conversation.id,
            "keyword",
            f"message:{flow.id}:{trigger.id}",
            Event("message", trigger.created_at, text=keyword),
            Effects(),
        )
        assert again is None
        runs = await stage.executions(flow_id)
        assert len(runs) == 1 and runs[0]["status"] == "waiting"

        # An agent answers: the bot steps back, on the timeline.
        reply = {
            "conversationId": to_global_id("Conversation", conversation.id),
            "clientMessageId": str(uuid.uuid4()),
            "text": "Oi, sou a Ana",
        }
        assert "errors" not in await gql(stage.api, SEND, {"input": reply}, stage.agent_token)
        [paused] = await stage.executions(flow_id)
        assert paused["status"] == "paused" and paused["handedOffAt"]
        handoff = await ConversationActivity.get(conversation_id=conversation.id, type="flow_handed_off")
        assert handoff.data["why"] == "agent_replied" and handoff.data["node"] == "ask_order"
        await stage.say(wa_id, "123")  # the customer answers the agent, not the bot
        answer = (
            await Message.filter(conversation_id=conversation.id, direction="inbound").order_by("-id").first()
        )
        assert answer is not None and answer.text == "123"
        await eventually(lambda: _seen_by_flows(conversation.id, answer.id), timeout=20)
        # A bot step would have stored its message in the transaction that moved the cursor.
        outbound = await Message.filter(conversation_id=conversation.id, direction="outbound").order_by("id")
        assert [m.text for m in outbound] == ["Qual o número do pedido?", "Oi, sou a Ana"]
        assert await stage.bot_said(wa_id, 2) == ["Qual o número do pedido?", "Oi, sou a Ana"]
    [still] = await stage.executions(flow_id)
    assert still["status"] == "paused" and still["currentNode"] == "ask_order"


async def _seen_by_flows(conversation_id: int, message_id: int) -> bool:
    """The workers have handled the message (the triggers' cursor is past it), sends included."""
    cursor = await FlowInboundCursor.get_or_none(conversation_id=conversation_id)
    return cursor is not None and cursor.last_message_id >= message_id
