"""Modules through the API: the shipped one (slack_alerts, registered by entry point in pyproject)
listed, configured against its JSON Schema, enabled at run time adding a flow node type the flow
validation accepts and posting events to a loopback "Slack"; and modules that break (one that
cannot be imported, one whose handler raises) isolated, marked failed, while the rest go on."""

from __future__ import annotations

import importlib.metadata
import json
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from connectors.fakes.server import serve_app
from core.extensions import EventHandler, Module
from core.sql import fetch
from models import AuditLog, Flow, ModuleState, Role
from modules import slack_alerts
from resolvers import modules as module_rules
from tests.helpers import error_code, eventually, gql, login, make_user, post_webhook, wa_text_payload

LIST = "{ modules { name title status enabled failedReason config configSchema nodeTypes eventTypes } }"
CONFIGURE = """mutation($n: String!, $c: JSON!) { configureModule(name: $n, config: $c) {
  name status config } }"""
ENABLE = "mutation($n: String!) { enableModule(name: $n) { name status enabled failedReason } }"
DISABLE = "mutation($n: String!) { disableModule(name: $n) { name status enabled } }"
SAVE_FLOW = "mutation($input: SaveFlowInput!) { saveFlow(input: $input) { id version } }"
NODE_TYPES = "{ flowNodeTypes { name module moduleTitle description configSchema ports } }"
SIMULATE = """mutation($definition: FlowDefinitionInput, $script: [String!]!) {
  simulateFlow(definition: $definition, script: $script, platform: WHATSAPP) { status node } }"""


def flow(notify_config: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": f"notify {random.randrange(10**6)}",
        "definition": {
            "nodes": [
                {"id": "start", "type": "trigger", "config": {"keywords": ["urgente"]}},
                {"id": "tell", "type": "slack_notify", "config": notify_config},
                {"id": "done", "type": "end", "config": {}},
                {"id": "oops", "type": "send_message", "config": {"text": "Slack said {{slack_error}}"}},
            ],
            "edges": [
                {"from": "start", "to": "tell"},
                {"from": "tell", "to": "done"},
                {"from": "tell", "to": "oops", "port": "error"},
            ],
        },
    }


class Slack:
    """A Slack incoming webhook on loopback."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.url = ""

    async def handle(self, request: Request) -> PlainTextResponse:
        self.posts.append(json.loads(await request.body()))
        return PlainTextResponse("ok")


@pytest_asyncio.fixture
async def slack() -> AsyncIterator[Slack]:
    fake = Slack()
    async with serve_app(Starlette(routes=[Route("/services/T/B/x", fake.handle, methods=["POST"])])) as base:
        fake.url = f"{base}/services/T/B/x"
        yield fake


@pytest_asyncio.fixture
async def admin(server: str) -> str:
    return await login(server, await make_user(Role.ADMIN))


@pytest_asyncio.fixture(autouse=True)
async def modules_off() -> AsyncIterator[None]:
    yield  # later tests must not be handed to this module's handlers
    await ModuleState.all().delete()
    await module_rules.sync(force=True)


async def test_configuration_is_checked_against_the_module_schema(server, admin):
    listed = {m["name"]: m for m in (await gql(server, LIST, {}, admin))["data"]["modules"]}
    slack_alerts = listed["slack_alerts"]
    assert slack_alerts["status"] == "DISABLED" and slack_alerts["nodeTypes"] == ["slack_notify"]
    assert "webhook_url" in slack_alerts["configSchema"]["required"]

    refused = await gql(server, ENABLE, {"n": "slack_alerts"}, admin)
    assert (
        error_code(refused) == "BAD_USER_INPUT"
        and "configure slack_alerts first" in refused["errors"][0]["message"]
    )

    bad = await gql(
        server,
        CONFIGURE,
        {"n": "slack_alerts", "c": {"webhook_url": 5, "events": ["nope"], "extra": 1}},
        admin,
    )
    assert error_code(bad) == "BAD_USER_INPUT"
    problems = bad["errors"][0]["extensions"]["problems"]
    assert len(problems) == 3, problems
    assert any(p.startswith("webhook_url:") for p in problems) and any(
        p.startswith("events/0:") for p in problems
    )
    assert (
        error_code(await gql(server, CONFIGURE, {"n": "slack_alerts", "c": [1]}, admin)) == "BAD_USER_INPUT"
    )
    assert error_code(await gql(server, CONFIGURE, {"n": "no_such_module", "c": {}}, admin)) == "NOT_FOUND"

    secret_url = "https://hooks.slack.com/services/T000/B000/very-secret"
    good = await gql(server, CONFIGURE, {"n": "slack_alerts", "c": {"webhook_url": secret_url}}, admin)
    assert good["data"]["configureModule"]["config"] == {"webhook_url": "***"}  # writeOnly in the schema
    entry = await AuditLog.filter(action="module.configure", target_id="slack_alerts").order_by("-id").first()
    assert entry is not None and secret_url not in json.dumps(entry.details)

    agent = await login(server, await make_user(Role.SUPERVISOR))
    assert error_code(await gql(server, LIST, {}, agent)) == "FORBIDDEN"
    assert error_code(await gql(server, ENABLE, {"n": "slack_alerts"}, agent)) == "FORBIDDEN"


async def test_a_module_enabled_at_run_time_adds_a_flow_node_type(server, admin, slack):
    supervisor = await login(server, await make_user(Role.SUPERVISOR))
    agent = await login(server, await make_user(Role.AGENT))
    assert (await gql(server, NODE_TYPES, {}, agent))["data"]["flowNodeTypes"] == []
    assert error_code(await gql(server, NODE_TYPES, {}, None)) == "UNAUTHENTICATED"
    before = await gql(server, SAVE_FLOW, {"input": flow({"text": "Cliente urgente!"})}, supervisor)
    assert (
        error_code(before) == "BAD_USER_INPUT"
        and "unknown node type 'slack_notify'" in before["errors"][0]["message"]
    )

    await gql(server, CONFIGURE, {"n": "slack_alerts", "c": {"webhook_url": slack.url}}, admin)
    enabled = (await gql(server, ENABLE, {"n": "slack_alerts"}, admin))["data"]["enableModule"]
    assert enabled["status"] == "ENABLED"

    # Whoever reads flows (the builder's palette) sees the node type, its config's schema and
    # ports, but not the module's configuration (the webhook URL).
    listed = await gql(server, NODE_TYPES, {}, agent)
    assert listed["data"]["flowNodeTypes"] == [
        {
            "name": "slack_notify",
            "module": "slack_alerts",
            "moduleTitle": "Slack alerts",
            "description": slack_alerts.module.node_types[0].description,
            "configSchema": slack_alerts.module.node_types[0].config_schema,
            "ports": ["next", "error"],
        }
    ]
    assert slack.url not in json.dumps(listed)

    saved = await gql(server, SAVE_FLOW, {"input": flow({"text": "Cliente urgente!"})}, supervisor)
    assert "errors" not in saved, saved  # its ports (next, error) and the variable it sets are known
    wrong = await gql(server, SAVE_FLOW, {"input": flow({})}, supervisor)
    assert error_code(wrong) == "BAD_USER_INPUT"
    assert (
        wrong["errors"][0]["extensions"]["node"] == "tell" and "config.text" in wrong["errors"][0]["message"]
    )
    assert wrong["errors"][0]["extensions"]["problems"][0]["code"] == "REQUIRED"
    # the node type's JSON Schema is checked first, with a code of its own
    too_long = await gql(server, SAVE_FLOW, {"input": flow({"text": "x" * 3001})}, supervisor)
    problem = too_long["errors"][0]["extensions"]["problems"][0]
    assert (problem["node"], problem["code"], problem["params"]["rule"], problem["params"]["limit"]) == (
        "tell",
        "NODE_CONFIG_MISMATCH",
        "maxLength",
        3000,
    )

    # A simulation runs no module: the node takes its default port.
    simulated = await gql(
        server,
        SIMULATE,
        {"definition": flow({"text": "Cliente urgente!"})["definition"], "script": ["urgente"]},
        supervisor,
    )
    assert "errors" not in simulated, simulated
    result = simulated["data"]["simulateFlow"]
    assert result["status"] == "ended" and result["node"] == "done"

    await gql(server, DISABLE, {"n": "slack_alerts"}, admin)
    after = await gql(server, SAVE_FLOW, {"input": flow({"text": "Cliente urgente!"})}, supervisor)
    assert error_code(after) == "BAD_USER_INPUT"
    assert after["errors"][0]["extensions"]["problems"][0]["code"] == "UNKNOWN_NODE_TYPE"
    assert (await gql(server, NODE_TYPES, {}, agent))["data"]["flowNodeTypes"] == []


async def test_event_handlers_receive_the_events_they_asked_for(server, admin, slack, wa):
    config = {"webhook_url": slack.url, "events": ["conversation.created"], "allow_private_network": True}
    await gql(server, CONFIGURE, {"n": "slack_alerts", "c": config}, admin)
    assert (await gql(server, ENABLE, {"n": "slack_alerts"}, admin))["data"]["enableModule"]["enabled"]
    channel, secrets, _ = wa
    body = wa_text_payload(
        channel.config["phone_number_id"], f"5521{random.randrange(10**9):09d}", "Preciso de ajuda"
    )
    assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200

    async def posted() -> bool:
        return any("Preciso de ajuda" in p["text"] for p in slack.posts)

    await eventually(posted, timeout=30, interval=0.1)
    assert all(p["text"].startswith(":speech_balloon: New whatsapp conversation") for p in slack.posts)


async def _explode(event: Any, config: Any) -> None:
    raise RuntimeError("the CRM is down")


exploding = Module(
    name="exploding",
    title="Explodes",
    description="A handler that always raises.",
    event_handlers=(EventHandler(events=("message.created",), handle=_explode),),
)


async def test_a_failing_module_is_isolated_and_marked_failed(server, admin, slack, wa, monkeypatch):
    installed = module_rules.entry_points()
    extra = {
        "exploding": importlib.metadata.EntryPoint(
            "exploding", "tests.test_modules:exploding", module_rules.GROUP
        ),
        "broken": importlib.metadata.EntryPoint("broken", "tests.no_such_package:module", module_rules.GROUP),
    }
    monkeypatch.setattr(module_rules, "entry_points", lambda: {**installed, **extra})
    monkeypatch.setattr(module_rules, "_loaded", {})

    listed = {m["name"]: m for m in (await gql(server, LIST, {}, admin))["data"]["modules"]}
    assert (
        listed["broken"]["status"] == "FAILED" and "ModuleNotFoundError" in listed["broken"]["failedReason"]
    )
    refused = await gql(server, ENABLE, {"n": "broken"}, admin)
    assert error_code(refused) == "BAD_USER_INPUT" and "failed to load" in refused["errors"][0]["message"]

    config = {"webhook_url": slack.url, "events": ["message.created"], "allow_private_network": True}
    await gql(server, CONFIGURE, {"n": "slack_alerts", "c": config}, admin)
    await gql(server, ENABLE, {"n": "slack_alerts"}, admin)
    assert (await gql(server, ENABLE, {"n": "exploding"}, admin))["data"]["enableModule"][
        "status"
    ] == "ENABLED"

    channel, secrets, _ = wa
    body = wa_text_payload(channel.config["phone_number_id"], f"5531{random.randrange(10**9):09d}", "boom?")
    assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200

    async def failed() -> dict[str, Any] | None:
        modules = {m["name"]: m for m in (await gql(server, LIST, {}, admin))["data"]["modules"]}
        return modules if modules["exploding"]["status"] == "FAILED" else None

    modules = await eventually(failed, timeout=30, interval=0.2)
    assert "RuntimeError: the CRM is down" in modules["exploding"]["failedReason"]
    assert modules["slack_alerts"]["status"] == "ENABLED"  # the others go on
    await eventually(lambda: _posted(slack, "boom?"), timeout=30, interval=0.1)

    again = (await gql(server, ENABLE, {"n": "exploding"}, admin))["data"]["enableModule"]
    assert again["status"] == "ENABLED" and again["failedReason"] is None  # an admin may retry it


async def _posted(slack: Slack, text: str) -> bool:
    return any(text in p["text"] for p in slack.posts)


@pytest.mark.parametrize("name", ["", "x" * 200])
async def test_unknown_module_names_are_not_found(server, admin, name):
    assert error_code(await gql(server, ENABLE, {"n": name}, admin)) == "NOT_FOUND"


PUBLISH = "mutation($id: ID!) { publishFlow(id: $id) { publishedVersion } }"


async def _run_notify_flow(server: str, wa: Any, supervisor: str, keyword: str, text: str) -> None:
    """Publish a slack_notify flow on `keyword` and have a customer write it."""
    definition = flow({"text": text})
    definition["definition"]["nodes"][0]["config"]["keywords"] = [keyword]
    saved = await gql(server, SAVE_FLOW, {"input": definition}, supervisor)
    assert "errors" not in saved, saved
    flow_id = saved["data"]["saveFlow"]["id"]
    assert "errors" not in await gql(server, PUBLISH, {"id": flow_id}, supervisor)
    channel, secrets, _ = wa
    phone = f"5521{random.randrange(10**9):09d}"
    body = wa_text_payload(channel.config["phone_number_id"], phone, keyword)
    assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200


async def _finished_run(keyword: str) -> dict[str, Any]:
    async def finished() -> dict[str, Any] | None:
        rows = await fetch(
            "SELECT e.status, e.reason, e.variables::text AS variables FROM flow_executions e "
            "JOIN flow_versions v ON v.flow_id = e.flow_id AND v.version = e.flow_version "
            "WHERE v.definition::text LIKE '%' || $1 || '%' AND e.status IN ('completed', 'failed')",
            keyword,
        )
        return rows[0] if rows else None

    return await eventually(finished, timeout=30, interval=0.1)


async def test_a_flow_run_through_a_module_node_posts_to_slack(server, admin, slack, wa):
    await gql(
        server,
        CONFIGURE,
        {"n": "slack_alerts", "c": {"webhook_url": slack.url, "events": [], "allow_private_network": True}},
        admin,
    )
    assert (await gql(server, ENABLE, {"n": "slack_alerts"}, admin))["data"]["enableModule"]["enabled"]
    supervisor = await login(server, await make_user(Role.SUPERVISOR))
    keyword = f"alerta{random.randrange(10**6)}"
    try:
        await _run_notify_flow(server, wa, supervisor, keyword, "Cliente {{platform}} pediu ajuda")
        await eventually(lambda: _posted(slack, "Cliente whatsapp pediu ajuda"), timeout=30, interval=0.1)
        run = await _finished_run(keyword)
        assert run["status"] == "completed", run
    finally:  # no later test's customer meets it
        await Flow.filter(name__startswith="notify ").update(published_version=None)


async def test_a_module_node_that_raises_takes_its_error_port_not_the_worker(
    server, admin, slack, wa, monkeypatch
):
    async def broken(config: Any, text: str) -> None:
        raise RuntimeError("the module has a bug")

    monkeypatch.setattr(slack_alerts, "post", broken)
    await gql(
        server,
        CONFIGURE,
        {"n": "slack_alerts", "c": {"webhook_url": slack.url, "events": [], "allow_private_network": True}},
        admin,
    )
    assert (await gql(server, ENABLE, {"n": "slack_alerts"}, admin))["data"]["enableModule"]["enabled"]
    supervisor = await login(server, await make_user(Role.SUPERVISOR))
    keyword = f"falha{random.randrange(10**6)}"
    try:
        await _run_notify_flow(server, wa, supervisor, keyword, "nunca chega")
        run = await _finished_run(keyword)
        assert run["status"] == "completed", run  # through `oops`, the error port
        assert "RuntimeError: the module has a bug" in json.loads(run["variables"])["module_error"]
        sent = await fetch("SELECT text FROM messages WHERE text LIKE 'Slack said%' ORDER BY id DESC LIMIT 1")
        assert sent, "the error port's message was not sent"
    finally:  # no later test's customer meets it
        await Flow.filter(name__startswith="notify ").update(published_version=None)
    assert slack.posts == []
