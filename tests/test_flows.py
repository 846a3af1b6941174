"""Flows: the step engine node by node (a pure function, no database), validation naming each
problem's node, and over real HTTP: saving versions, publishing, who may change flows (audited,
nothing stored when refused), and the issue's example simulated end to end."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models import AuditLog, Flow, FlowVersion, Role, Team
from resolvers.errors import BadInput
from resolvers.flow_engine import Event, advance, initial_state
from resolvers.flow_validation import clean_definition
from schema.relay import to_global_id
from tests.helpers import error_code, gql, login, make_user

AT = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)  # a Wednesday, 12:00 in São Paulo


def node(node_id: str, node_type: str, **config: Any) -> dict[str, Any]:
    return {"id": node_id, "type": node_type, "config": config}


def edge(source: str, target: str, port: str | None = None, condition: Any = None) -> dict[str, Any]:
    return {"from": source, "to": target, "port": port, "condition": condition}


def flow(*nodes: dict[str, Any], edges: list[dict[str, Any]], keyword: str = "oi") -> dict[str, Any]:
    """A definition starting at a trigger on `keyword` that leads to the first node given."""
    first = [edge("t", nodes[0]["id"])] if nodes else []
    return clean_definition(
        {"nodes": [node("t", "trigger", keywords=[keyword]), *nodes], "edges": first + edges}
    )


def run(
    definition: dict[str, Any], *events: Event, buttons: bool = True, **state: Any
) -> tuple[dict[str, Any], list[list[dict[str, Any]]]]:
    current = initial_state(platform=state.pop("platform", "whatsapp"), buttons=buttons, **state)
    actions = []
    for event in events:
        outcome = advance(definition, current, event)
        current = outcome.state
        actions.append(outcome.actions)
    return current, actions


def say(text: str, at: datetime = AT) -> Event:
    return Event(kind="message", at=at, text=text)


def texts(actions: list[dict[str, Any]]) -> list[str]:
    return [a["text"] for a in actions if a["type"] in ("send_text", "send_buttons")]


# ---- the engine, node by node ----------------------------------------------------------------------


def test_the_trigger_starts_only_on_its_keyword_accents_and_case_folded() -> None:
    definition = flow(node("s", "send_message", text="Olá!"), edges=[], keyword="não")
    state, actions = run(definition, say("nao sei"), buttons=False)
    assert texts(actions[0]) == ["Olá!"] and state["status"] == "ended"
    idle, nothing = run(definition, say("nãozinho"))  # a whole word, not a prefix
    assert idle["status"] == "idle" and nothing == [[]]
    by_regex = clean_definition({"nodes": [node("t", "trigger", regex=r"pedido\s+\d+")], "edges": []})
    assert run(by_regex, say("PEDIDO 12"))[0]["status"] == "ended"


def test_send_message_fills_variables_and_templates_carry_theirs() -> None:
    definition = flow(
        node("s", "set", variable="pedido", value="A-{{ message.text }}"),
        node("m", "send_message", text="{{customer.name}}, pedido {{pedido}} via {{platform}}"),
        node(
            "tpl",
            "send_message",
            template={"id": "UmVzcG9uc2VUZW1wbGF0ZTox", "variables": {"p": "{{pedido}}"}},
        ),
        edges=[edge("s", "m"), edge("m", "tpl")],
    )
    _, actions = run(definition, say("oi"), customer={"name": "Ana"}, platform="telegram")
    assert texts(actions[0]) == ["Ana, pedido A-oi via telegram"]
    assert actions[0][-1] == {
        "type": "send_template",
        "node": "tpl",
        "template_id": "UmVzcG9uc2VUZW1wbGF0ZTox",
        "variables": {"p": "A-oi"},
    }


@pytest.mark.parametrize(
    ("validation", "bad", "good", "stored"),
    [
        ({"kind": "number"}, "doze", "12,5", 12.5),
        ({"kind": "email"}, "ana@", "Ana@Example.com", "ana@example.com"),
        ({"kind": "phone"}, "12", "+55 (11) 99999-0000", "+5511999990000"),
        ({"kind": "date"}, "31/02/2026", "05/03/2026", "2026-03-05"),
        ({"kind": "one_of", "options": ["Sim", "Não"]}, "talvez", "nao", "Não"),
        ({"kind": "regex", "pattern": r"[A-Z]{2}\d{4}"}, "ab1234", "AB1234", "AB1234"),
        ({"kind": "text"}, "   ", "qualquer", "qualquer"),
    ],
)
def test_ask_validates_reasks_and_stores(
    validation: dict[str, Any], bad: str, good: str, stored: Any
) -> None:
    definition = flow(
        node("q", "ask", text="Diga", variable="v", validation=validation, retry_text="De novo"),
        node("ok", "send_message", text="Anotado: {{v}}"),
        edges=[edge("q", "ok")],
    )
    state, actions = run(definition, say("oi"), say(bad), say(good))
    assert [texts(a) for a in actions] == [["Diga"], ["De novo"], [f"Anotado: {stored}"]]
    assert state["variables"] == {"v": stored} and state["status"] == "ended"


def test_ask_gives_up_after_its_limit_through_the_invalid_port() -> None:
    definition = flow(
        node("q", "ask", text="Número?", variable="n", validation={"kind": "number"}, max_attempts=2),
        node("human", "escalate", reason="não entendi"),
        edges=[edge("q", "human", "invalid")],
    )
    state, actions = run(definition, say("oi"), say("x"), say("y"), say("3"))
    assert texts(actions[1]) == ["Número?"]  # no retry_text: the question again
    assert actions[2] == [{"type": "escalate", "node": "human", "reason": "não entendi"}]
    assert actions[3] == [] and state["status"] == "ended" and state["variables"] == {}


def test_buttons_where_the_platform_has_them_and_a_numbered_list_where_not() -> None:
    definition = flow(
        node(
            "b",
            "buttons",
            text="Escolha",
            variable="choice",
            buttons=[{"id": "sales", "title": "Vendas"}, {"id": "help", "title": "Suporte"}],
        ),
        node("v", "send_message", text="vendas"),
        node("s", "send_message", text="suporte {{choice}}"),
        edges=[edge("b", "v", "sales"), edge("b", "s", "help")],
    )
    _, with_buttons = run(definition, say("oi"), say("Suporte"), buttons=True)
    assert with_buttons[0][0]["type"] == "send_buttons"
    assert with_buttons[0][0]["buttons"] == [
        {"id": "sales", "title": "Vendas"},
        {"id": "help", "title": "Suporte"},
    ]
    assert texts(with_buttons[1]) == ["suporte help"]
    state, numbered = run(definition, say("oi"), say("3"), say("1"), buttons=False)
    assert numbered[0] == [{"type": "send_text", "node": "b", "text": "Escolha\n1. Vendas\n2. Suporte"}]
    assert texts(numbered[1]) == ["Escolha\n1. Vendas\n2. Suporte"]  # 3 is no option: asked again
    assert texts(numbered[2]) == ["vendas"] and state["variables"] == {"choice": "sales"}


@pytest.mark.parametrize(
    ("when", "state", "at", "taken"),
    [
        ({"keyword": ["boleto"]}, {}, AT, True),
        ({"regex": r"^oi"}, {}, AT, True),
        ({"attribute": "tier", "op": "equals", "value": "VIP"}, {"customer": {"tier": "vip"}}, AT, True),
        ({"attribute": "tier", "op": "exists"}, {}, AT, False),
        ({"platform": ["sms", "email"]}, {"platform": "sms"}, AT, True),
        ({"platform": ["sms"]}, {}, AT, False),
        ({"label": "urgent"}, {"labels": ["urgent"]}, AT, True),
        ({"label": "urgent"}, {}, AT, False),
        (
            {"business_hours": {"time_zone": "America/Sao_Paulo", "start": "09:00", "end": "18:00"}},
            {},
            AT,
            True,
        ),
        (
            {"business_hours": {"time_zone": "America/Sao_Paulo", "start": "09:00", "end": "18:00"}},
            {},
            datetime(2026, 3, 7, 15, 0, tzinfo=UTC),  # Saturday
            False,
        ),
    ],
)
def test_condition_branches_on_each_kind(
    when: dict[str, Any], state: dict[str, Any], at: datetime, taken: bool
) -> None:
    definition = clean_definition(
        {
            "nodes": [
                node("t", "trigger", regex="."),
                node("c", "condition", branches=[{"port": "yes", "when": when}]),
                node("y", "send_message", text="yes"),
                node("n", "send_message", text="no"),
            ],
            "edges": [edge("t", "c"), edge("c", "y", "yes"), edge("c", "n", "else")],
        }
    )
    _, actions = run(definition, say("oi, e o boleto?", at), **state)
    assert texts(actions[0]) == (["yes"] if taken else ["no"])


def test_variable_comparisons_and_conditions_on_edges() -> None:
    definition = flow(
        node("q", "ask", text="Quantos?", variable="n", validation={"kind": "number"}),
        node("many", "send_message", text="muitos"),
        node("few", "send_message", text="poucos"),
        edges=[edge("q", "many", condition={"variable": "n", "op": "gte", "value": 10}), edge("q", "few")],
    )
    assert texts(run(definition, say("oi"), say("12"))[1][1]) == ["muitos"]
    assert texts(run(definition, say("oi"), say("3"))[1][1]) == ["poucos"]


def test_set_changes_variables_attributes_and_labels() -> None:
    definition = flow(
        node("a", "set", attribute="tier", value="gold"),
        node("l", "set", label="vip"),
        node("r", "set", label="new", remove=True),
        edges=[edge("a", "l"), edge("l", "r")],
    )
    state, actions = run(definition, say("oi"), labels=["new"])
    assert [a["type"] for a in actions[0]] == ["set_attribute", "add_label", "remove_label"]
    assert state["customer"] == {"tier": "gold"} and state["labels"] == ["vip"]


def _http_flow() -> dict[str, Any]:
    return flow(
        node("q", "ask", text="Pedido?", variable="order", validation={"kind": "text"}),
        node(
            "h",
            "http_request",
            method="POST",
            url="https://shop.example/orders/{{order}}?x=1",
            headers={"X-Order": "{{order}}"},
            body={"order": "{{order}}", "n": 1},
            timeout_seconds=5,
            response_map={"status": "order.status", "first": "order.items.0"},
        ),
        node("ok", "send_message", text="{{status}} {{first}}"),
        node("fail", "send_message", text="falhou: {{http_error}}"),
        edges=[edge("q", "h"), edge("h", "ok"), edge("h", "fail", "error")],
    )


def test_http_request_is_an_action_and_its_answer_is_mapped() -> None:
    answer = Event(
        kind="http_response", at=AT, status=200, body={"order": {"status": "pago", "items": ["bola"]}}
    )
    state, actions = run(_http_flow(), say("oi"), say("a/b 1"), answer)
    request = actions[1][0]
    # A value fills one URL component: it cannot add a path segment or a query.
    assert request["url"] == "https://shop.example/orders/a%2Fb%201?x=1"
    assert request["body"] == {"order": "a/b 1", "n": 1} and request["headers"] == {"X-Order": "a/b 1"}
    assert (request["method"], request["timeout_seconds"], state["waiting_for"]) == ("POST", 5, None)
    assert texts(actions[2]) == ["pago bola"] and state["variables"]["status"] == "pago"


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (Event(kind="http_response", at=AT, status=503, body=None), "HTTP 503"),
        (Event(kind="http_error", at=AT, error="timeout"), "timeout"),
        (
            Event(kind="http_response", at=AT, status=200, body={"order": {}}),
            "the response has no order.status",
        ),
    ],
)
def test_http_failures_take_the_error_branch(answer: Event, reason: str) -> None:
    _, actions = run(_http_flow(), say("oi"), say("1"), answer)
    assert texts(actions[2]) == [f"falhou: {reason}"]


def test_a_message_while_the_http_call_is_out_changes_nothing() -> None:
    state, actions = run(_http_flow(), say("oi"), say("1"), say("e aí?"))
    assert actions[2] == [] and state["waiting_for"] == "http"


def test_wait_for_a_duration_and_until_a_reply_with_a_timeout() -> None:
    definition = flow(
        node("w", "wait", seconds=120),
        node("r", "wait", until_reply=True, timeout_seconds=60),
        node("got", "send_message", text="recebi {{message.text}}"),
        node("late", "close"),
        edges=[edge("w", "r"), edge("r", "got"), edge("r", "late", "timeout")],
    )
    timer = Event(kind="timer", at=AT)
    state, actions = run(definition, say("oi"), say("cedo"), timer, say("oi de novo"))
    assert actions[0] == [{"type": "schedule_wake", "node": "w", "seconds": 120}]
    assert actions[1] == []  # a duration wait is not ended by a message
    assert actions[2] == [{"type": "schedule_wake", "node": "r", "seconds": 60}]
    assert texts(actions[3]) == ["recebi oi de novo"] and state["status"] == "ended"
    timed_out, late = run(definition, say("oi"), timer, timer)
    assert late[2] == [{"type": "close", "node": "late"}] and timed_out["status"] == "ended"


def test_transfer_escalate_close_and_end() -> None:
    definition = flow(
        node("x", "transfer", team_id="VGVhbToz"),
        node("e", "escalate"),
        node("c", "close"),
        edges=[edge("x", "e"), edge("e", "c")],
    )
    state, actions = run(definition, say("oi"))
    assert actions[0] == [
        {"type": "transfer", "node": "x", "team_id": "VGVhbToz", "agent_id": None},
        {"type": "escalate", "node": "e", "reason": ""},
        {"type": "close", "node": "c"},
    ]
    assert state["status"] == "ended" and advance(definition, state, say("oi")).actions == []
    ended, _ = run(flow(node("x", "end"), edges=[]), say("oi"))
    assert ended["status"] == "ended" and ended["node"] == "x"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(max_size=30), min_size=1, max_size=8))
def test_any_messages_leave_a_storable_state(messages: list[str]) -> None:
    """Whatever customers send, the engine answers with a state it could store: never an exception,
    never a loop, the stored value always one that passed validation."""
    definition = flow(
        node("q", "ask", text="Número?", variable="n", validation={"kind": "number"}, max_attempts=3),
        node("b", "buttons", text="E?", buttons=[{"id": "a", "title": "A"}]),
        edges=[edge("q", "b")],
        keyword="oi",
    )
    state, _ = run(definition, say("oi"), *(say(m) for m in messages))
    assert state["status"] in ("waiting", "ended")
    assert isinstance(state["variables"].get("n", 0), int | float)


def test_a_pattern_that_backtracks_for_ever_fails_closed_in_bounded_time() -> None:
    definition = flow(
        node("q", "ask", text="Código?", variable="code", validation={"kind": "regex", "pattern": "(a+)+$"}),
        node("c", "condition", branches=[{"port": "yes", "when": {"regex": "^(a|aa)+b$"}}]),
        node("s", "send_message", text="sim"),
        edges=[edge("q", "c"), edge("c", "s", "yes")],
    )
    started = time.monotonic()
    state, actions = run(definition, say("oi"), say("a" * 40 + "!"), say("a" * 40))
    assert time.monotonic() - started < 2
    assert texts(actions[1]) == ["Código?"]  # the pathological answer is refused, not hung on
    assert actions[2] == [] and state["variables"] == {"code": "a" * 40}  # and the branch says no


@pytest.mark.parametrize("answer", ["1e999999", "-9" * 30, "NaN", "Infinity"])
def test_numbers_too_large_for_json_are_asked_again(answer: str) -> None:
    definition = flow(node("q", "ask", text="N?", variable="n", validation={"kind": "number"}), edges=[])
    state, actions = run(definition, say("oi"), say(answer))
    assert texts(actions[1]) == ["N?"] and state["variables"] == {}


def test_a_graph_that_never_waits_stops_after_a_bounded_number_of_steps() -> None:
    """Validation refuses such loops; the engine still stops if one reaches it some other way."""
    looping = {
        "nodes": [
            {"id": "t", "type": "trigger", "position": {"x": 0, "y": 0}, "config": {"keywords": ["oi"]}},
            {
                "id": "a",
                "type": "set",
                "position": {"x": 0, "y": 0},
                "config": {"variable": "x", "value": "1"},
            },
        ],
        "edges": [
            {"from": "t", "to": "a", "port": "next", "condition": None},
            {"from": "a", "to": "a", "port": "next", "condition": None},
        ],
    }
    state, actions = run(looping, say("oi"))
    assert state["status"] == "failed" and "without waiting" in state["reason"] and actions == [[]]


# ---- validation names the node ------------------------------------------------------------------


def _problems(definition: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(BadInput) as refused:
        clean_definition(definition)
    assert refused.value.details["node"] == refused.value.details["problems"][0]["node"]
    return refused.value.details["problems"]


@pytest.mark.parametrize(
    ("nodes", "edges", "node_id", "fragment"),
    [
        (
            [node("s", "send_message", text="x"), node("lost", "end")],
            [edge("t", "s")],
            "lost",
            "no path from the trigger",
        ),
        ([node("s", "send_message")], [edge("t", "s")], "s", "a text or a template"),
        ([node("q", "ask", text="?")], [edge("t", "q")], "q", "config.variable"),
        ([node("h", "http_request", url="ftp://x")], [edge("t", "h")], "h", "literal host"),
        ([node("h", "http_request", url="https://{{host}}/x")], [edge("t", "h")], "h", "literal host"),
        ([node("w", "wait")], [edge("t", "w")], "w", "config.seconds"),
        (
            [node("s", "send_message", template="UmVzcG9uc2VUZW1wbGF0ZTox")],
            [edge("t", "s")],
            "s",
            "config.template is",
        ),
        (
            [node("h", "http_request", url="https://x.example/", headers={"X-A": "1\r\nX-B: 2"})],
            [edge("t", "h")],
            "h",
            "text on one line",
        ),
        (
            [node("q", "ask", text="?", variable="v", validation={"kind": "regex", "pattern": "(("})],
            [edge("t", "q")],
            "q",
            "not a regular expression",
        ),
        (
            [node("c", "condition", branches=[{"port": "p", "when": {"platform": ["myspace"]}}])],
            [edge("t", "c")],
            "c",
            "platform is a list of platforms",
        ),
        ([{"id": "s", "type": "end", "position": "top"}], [edge("t", "s")], "s", "position is"),
        ([node("x", "transfer")], [edge("t", "x")], "x", "team_id or an agent_id"),
        ([node("z", "teleport")], [edge("t", "z")], "z", "unknown node type"),
        (
            [node("s", "send_message", text="x")],
            [edge("t", "s"), edge("s", "ghost")],
            "s",
            "'ghost', which is not a node",
        ),
        (
            [node("s", "send_message", text="x")],
            [edge("t", "s"), edge("s", "t")],
            "t",
            "nothing leads into the trigger",
        ),
        (
            [node("c", "close")],
            [edge("t", "c"), edge("c", "t")],
            "c",
            "close has no port 'next' (ports: none",
        ),
        (
            [node("s", "send_message", text="x"), node("c", "close")],
            [edge("t", "s"), edge("s", "c", "maybe")],
            "s",
            "no port 'maybe'",
        ),
        (
            [node("a", "send_message", text="a"), node("b", "set", variable="x", value="1")],
            [edge("t", "a"), edge("a", "b"), edge("b", "a")],
            "a",
            "a loop (a → b) with no question or wait",
        ),
        (
            [node("h", "http_request", url="https://x.example/")],
            [edge("t", "h"), edge("h", "h")],
            "h",
            "a loop (h) with no question or wait",
        ),
        (
            [node("s", "send_message", text="olá {{nome}}")],
            [edge("t", "s")],
            "s",
            "reads the variable 'nome' before",
        ),
        (
            [node("s", "send_message", text="{{ conversation.id }}")],
            [edge("t", "s")],
            "s",
            "is not a variable",
        ),
        (
            [
                node("q", "ask", text="?", variable="nome"),
                node("s", "send_message", text="olá {{nome}}"),
            ],
            [edge("t", "q"), edge("q", "s", "invalid"), edge("q", "s")],
            "s",
            "reads the variable 'nome' before",  # one path (too many bad answers) never set it
        ),
        (
            [
                node(
                    "c",
                    "condition",
                    branches=[{"port": "yes", "when": {"variable": "n", "op": "gt", "value": 1}}],
                )
            ],
            [edge("t", "c")],
            "c",
            "reads the variable 'n' before",
        ),
    ],
)
def test_each_problem_names_its_node(
    nodes: list[dict[str, Any]], edges: list[dict[str, Any]], node_id: str, fragment: str
) -> None:
    problems = _problems({"nodes": [node("t", "trigger", keywords=["oi"]), *nodes], "edges": edges})
    assert any(p["node"] == node_id and fragment in p["message"] for p in problems), problems
    # every problem carries a stable code the web app translates (the message stays English)
    assert all(re.fullmatch(r"[A-Z][A-Z_]+", p["code"]) and isinstance(p["params"], dict) for p in problems)


@pytest.mark.parametrize(
    ("nodes", "edges", "expected"),
    [
        ([node("q", "ask", text="?")], [edge("t", "q")], ("q", "NAME_INVALID", {"key": "variable"})),
        (
            [node("w", "wait", seconds=0)],
            [edge("t", "w")],
            ("w", "NUMBER_OUT_OF_RANGE", {"key": "seconds", "low": 1, "high": 30 * 24 * 3600}),
        ),
        ([node("z", "teleport")], [edge("t", "z")], ("z", "UNKNOWN_NODE_TYPE", {"type": "teleport"})),
        (
            [node("s", "send_message", text="{{nome}}")],
            [edge("t", "s")],
            ("s", "READ_BEFORE_SET", {"name": "nome"}),
        ),
        (
            [node("s", "send_message", text="x"), node("c", "close")],
            [edge("t", "s"), edge("s", "c", "maybe")],
            ("s", "PORT_UNKNOWN", {"type": "send_message", "port": "maybe", "ports": "next"}),
        ),
        ([node("s", "send_message", text="x"), node("e", "end")], [edge("t", "s")], ("e", "UNREACHABLE", {})),
    ],
)
def test_each_problem_has_a_code_and_what_its_translation_needs(
    nodes: list[dict[str, Any]], edges: list[dict[str, Any]], expected: tuple[str, str, dict[str, Any]]
) -> None:
    problems = _problems({"nodes": [node("t", "trigger", keywords=["oi"]), *nodes], "edges": edges})
    assert [(p["node"], p["code"], p["params"]) for p in problems] == [expected]


def test_a_loop_through_a_question_is_fine_and_every_problem_is_listed() -> None:
    looping = flow(
        node(
            "q",
            "ask",
            text="De novo?",
            variable="again",
            validation={"kind": "one_of", "options": ["sim", "não"]},
        ),
        node("s", "send_message", text="ok {{again}}"),
        edges=[
            edge("q", "s"),
            edge("s", "q", condition={"variable": "again", "op": "equals", "value": "sim"}),
        ],
    )
    assert looping["edges"][-1]["condition"]["variable"] == "again"
    problems = _problems(
        {"nodes": [node("t", "trigger"), node("a", "ask"), node("b", "wait", seconds=0)], "edges": []}
    )
    assert [p["node"] for p in problems] == ["t", "a", "b"]
    assert _problems({"nodes": [node("s", "send_message", text="x")], "edges": []}) == [
        {
            "node": None,
            "code": "TRIGGER_MISSING",
            "message": "a flow has exactly one trigger node",
            "params": {},
        }
    ]
    assert [p["code"] for p in _problems({"nodes": [], "edges": []})] == ["NO_NODES"]


# ---- over HTTP: versions, publishing, permissions, simulation ---------------------------------------------

FLOW_FIELDS = "id name version publishedVersion"
SAVE = f"mutation($input: SaveFlowInput!) {{ saveFlow(input: $input) {{ {FLOW_FIELDS} }} }}"


def _graph_input(definition: dict[str, Any]) -> dict[str, Any]:
    return {
        "nodes": [{"id": n["id"], "type": n["type"], "config": n.get("config")} for n in definition["nodes"]],
        "edges": [{k: v for k, v in e.items() if v is not None} for e in definition["edges"]],
    }


def _example(team_id: str) -> dict[str, Any]:
    """The issue's example: keyword → question → (re-ask) → HTTP → condition → transfer."""
    return {
        "nodes": [
            node("start", "trigger", keywords=["pedido"]),
            node(
                "ask_order",
                "ask",
                text="Qual o número do pedido?",
                variable="order",
                validation={"kind": "number"},
                retry_text="Só o número, por favor.",
                max_attempts=3,
            ),
            node(
                "lookup",
                "http_request",
                url="https://shop.example/orders/{{order}}",
                response_map={"status": "order.status"},
            ),
            node(
                "is_late",
                "condition",
                branches=[
                    {"port": "late", "when": {"variable": "status", "op": "equals", "value": "atrasado"}}
                ],
            ),
            node("sorry", "send_message", text="O pedido {{order}} está atrasado; vou chamar alguém."),
            node("to_team", "transfer", team_id=team_id),
            node("fine", "send_message", text="O pedido {{order}} está {{status}}."),
            node("broken", "escalate", reason="loja fora do ar"),
            node("give_up", "end"),
        ],
        "edges": [
            edge("start", "ask_order"),
            edge("ask_order", "lookup"),
            edge("ask_order", "give_up", "invalid"),
            edge("lookup", "is_late"),
            edge("lookup", "broken", "error"),
            edge("is_late", "sorry", "late"),
            edge("is_late", "fine", "else"),
            edge("sorry", "to_team"),
        ],
    }


async def _team() -> str:
    team = await Team.create(name=f"flows-{uuid.uuid4().hex[:8]}")
    return to_global_id("Team", team.id)


async def test_saves_make_versions_and_publishing_picks_one(server: str) -> None:
    supervisor = await login(server, await make_user(Role.SUPERVISOR))
    agent = await login(server, await make_user(Role.AGENT))
    example = _example(await _team())
    first = await gql(
        server, SAVE, {"input": {"name": "Pedidos", "definition": _graph_input(example)}}, supervisor
    )
    assert "errors" not in first, first
    created = first["data"]["saveFlow"]
    assert (created["version"], created["publishedVersion"]) == (1, None)
    example["nodes"][6]["config"]["text"] = "Seu pedido {{order}}: {{status}}."
    saved = await gql(
        server,
        SAVE,
        {
            "input": {
                "id": created["id"],
                "name": "Pedidos v2",
                "definition": _graph_input(example),
                "note": "texto",
            }
        },
        supervisor,
    )
    assert saved["data"]["saveFlow"]["version"] == 2
    published = await gql(
        server,
        "mutation($id: ID!) { publishFlow(id: $id, version: 1) { publishedVersion } }",
        {"id": created["id"]},
        supervisor,
    )
    assert published["data"]["publishFlow"]["publishedVersion"] == 1
    read = await gql(
        server,
        """query($id: ID!) { flow(id: $id) { name version publishedVersion
             versions { version note nodes { id type config } edges { from to port } }
             definition(version: 1) { nodes { id config } } } flows(publishedOnly: true) { id } }""",
        {"id": created["id"]},
        agent,  # agents read flows
    )
    got = read["data"]["flow"]
    assert (got["name"], got["version"], got["publishedVersion"]) == ("Pedidos v2", 2, 1)
    assert [v["version"] for v in got["versions"]] == [2, 1] and got["versions"][0]["note"] == "texto"
    assert got["versions"][0]["nodes"][6]["config"]["text"] == "Seu pedido {{order}}: {{status}}."
    assert got["definition"]["nodes"][6]["config"]["text"] == "O pedido {{order}} está {{status}}."
    assert {"from": "is_late", "to": "sorry", "port": "late"} in got["versions"][0]["edges"]
    assert created["id"] in [f["id"] for f in read["data"]["flows"]]
    unpublished = await gql(
        server,
        "mutation($id: ID!) { unpublishFlow(id: $id) { publishedVersion } }",
        {"id": created["id"]},
        supervisor,
    )
    assert unpublished["data"]["unpublishFlow"]["publishedVersion"] is None
    pk = (await Flow.get(name="Pedidos v2")).id
    assert await FlowVersion.filter(flow_id=pk).count() == 2
    actions = (
        await AuditLog.filter(target_type="Flow", target_id=str(pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["flow.create", "flow.update", "flow.publish", "flow.unpublish"]
    missing = await gql(
        server,
        "mutation($id: ID!) { publishFlow(id: $id, version: 9) { id } }",
        {"id": created["id"]},
        supervisor,
    )
    assert error_code(missing) == "NOT_FOUND" and (await Flow.get(id=pk)).published_version is None


async def test_agents_may_not_change_flows_and_nothing_is_stored(server: str) -> None:
    agent = await login(server, await make_user(Role.AGENT))
    before = (await Flow.all().count(), await AuditLog.filter(target_type="Flow").count())
    body = await gql(
        server, SAVE, {"input": {"name": "x", "definition": _graph_input(_example(await _team()))}}, agent
    )
    assert error_code(body) == "FORBIDDEN"
    anonymous = await gql(server, SAVE, {"input": {"name": "x", "definition": {"nodes": [], "edges": []}}})
    assert error_code(anonymous) == "UNAUTHENTICATED"
    assert (await Flow.all().count(), await AuditLog.filter(target_type="Flow").count()) == before


async def test_an_invalid_flow_is_refused_naming_the_node_and_nothing_is_stored(server: str) -> None:
    supervisor = await login(server, await make_user(Role.SUPERVISOR))
    example = _example(await _team())
    example["nodes"].append(node("orphan", "send_message", text="ninguém chega aqui"))
    example["nodes"][6]["config"]["text"] = "{{ cupom }}"
    before = (await Flow.all().count(), await FlowVersion.all().count())
    body = await gql(
        server, SAVE, {"input": {"name": "ruim", "definition": _graph_input(example)}}, supervisor
    )
    extensions = body["errors"][0]["extensions"]
    assert extensions["code"] == "BAD_USER_INPUT" and extensions["node"] == "orphan"
    assert {(p["node"], p["message"][:20]) for p in extensions["problems"]} == {
        ("fine", "reads the variable '"),
        ("orphan", "no path from the tri"),
    }
    nowhere = _example(to_global_id("Team", 2_000_000_000))
    missing_team = await gql(
        server, SAVE, {"input": {"name": "x", "definition": _graph_input(nowhere)}}, supervisor
    )
    assert missing_team["errors"][0]["extensions"]["node"] == "to_team"
    assert missing_team["errors"][0]["extensions"]["problems"][0]["code"] == "ID_NOT_FOUND"
    no_such_flow = await gql(
        server,
        SAVE,
        {
            "input": {
                "id": to_global_id("Flow", 2_000_000_000),
                "name": "x",
                "definition": _graph_input(_example(await _team())),
            }
        },
        supervisor,
    )
    assert error_code(no_such_flow) == "NOT_FOUND"
    assert (await Flow.all().count(), await FlowVersion.all().count()) == before


SIMULATE = """mutation($flowId: ID, $definition: FlowDefinitionInput, $script: [String!]!,
                      $http: [HttpAnswerInput!], $platform: Platform!) {
  simulateFlow(flowId: $flowId, definition: $definition, script: $script, httpAnswers: $http, platform: $platform) {
    status node variables unusedMessages
    transcript { from text node details }
    steps { event actions node status variables } } }"""


async def test_the_issue_example_simulated_end_to_end(server: str) -> None:
    supervisor = await login(server, await make_user(Role.SUPERVISOR))
    team_id = await _team()
    saved = await gql(
        server,
        SAVE,
        {"input": {"name": "Pedidos", "definition": _graph_input(_example(team_id))}},
        supervisor,
    )
    flow_id = saved["data"]["saveFlow"]["id"]
    audit_before = await AuditLog.all().count()
    body = await gql(
        server,
        SIMULATE,
        {
            "flowId": flow_id,
            "script": ["oi, e o meu pedido?", "não sei", "4711", "obrigado"],
            "http": [{"status": 200, "body": {"order": {"status": "atrasado"}}}],
            "platform": "WHATSAPP",
        },
        supervisor,
    )
    result = body["data"]["simulateFlow"]
    assert [(e["from"], e["text"]) for e in result["transcript"]] == [
        ("customer", "oi, e o meu pedido?"),
        ("bot", "Qual o número do pedido?"),
        ("customer", "não sei"),
        ("bot", "Só o número, por favor."),
        ("customer", "4711"),
        ("system", None),  # the HTTP request
        ("system", None),  # its scripted answer
        ("bot", "O pedido 4711 está atrasado; vou chamar alguém."),
        ("system", None),  # the transfer
    ]
    request, answer, transfer = (result["transcript"][i]["details"] for i in (5, 6, 8))
    assert (request["type"], request["url"], request["node"]) == (
        "http_request",
        "https://shop.example/orders/4711",
        "lookup",
    )
    assert answer == {
        "from": "system",
        "type": "http_response",
        "status": 200,
        "body": {"order": {"status": "atrasado"}},
    }
    assert transfer == {
        "from": "system",
        "type": "transfer",
        "node": "to_team",
        "team_id": team_id,
        "agent_id": None,
    }
    assert [(s["node"], s["status"], s["variables"]) for s in result["steps"]] == [
        ("ask_order", "waiting", {}),
        ("ask_order", "waiting", {}),
        ("lookup", "waiting", {"order": 4711}),
        ("to_team", "ended", {"order": 4711, "status": "atrasado"}),
    ]
    assert result["status"] == "ended" and result["unusedMessages"] == 1
    assert await AuditLog.all().count() == audit_before  # a simulation stores nothing


async def test_an_unsaved_flow_simulates_with_the_platform_fallbacks_and_failures(server: str) -> None:
    supervisor = await login(server, await make_user(Role.SUPERVISOR))
    example = _graph_input(_example(await _team()))
    failed = await gql(
        server,
        SIMULATE,
        {
            "definition": example,
            "script": ["pedido", "12"],
            "http": [{"error": "timeout"}],
            "platform": "SMS",
        },
        supervisor,
    )
    result = failed["data"]["simulateFlow"]
    assert result["transcript"][-1]["details"] == {
        "from": "system",
        "type": "escalate",
        "node": "broken",
        "reason": "loja fora do ar",
    }
    assert result["variables"] == {"order": 12, "http_error": "timeout"}
    buttons = {
        "nodes": [
            {"id": "t", "type": "trigger", "config": {"keywords": ["menu"]}},
            {
                "id": "b",
                "type": "buttons",
                "config": {
                    "text": "Escolha",
                    "buttons": [{"id": "a", "title": "Um"}, {"id": "b", "title": "Dois"}],
                },
            },
        ],
        "edges": [{"from": "t", "to": "b"}],
    }
    for platform, sent in (("TELEGRAM", "Escolha"), ("SMS", "Escolha\n1. Um\n2. Dois")):
        answer = await gql(
            server, SIMULATE, {"definition": buttons, "script": ["menu"], "platform": platform}, supervisor
        )
        assert answer["data"]["simulateFlow"]["transcript"][1]["text"] == sent, platform
    invalid = await gql(
        server,
        SIMULATE,
        {"definition": {"nodes": [], "edges": []}, "script": ["x"], "platform": "SMS"},
        supervisor,
    )
    assert error_code(invalid) == "BAD_USER_INPUT"
    both = await gql(
        server,
        SIMULATE,
        {"definition": buttons, "flowId": to_global_id("Flow", 1), "script": ["x"], "platform": "SMS"},
        supervisor,
    )
    assert error_code(both) == "BAD_USER_INPUT"
    for bad in ({"script": []}, {"http": [{"status": 99}]}, {"script": ["x"] * 51}):
        variables = {"definition": buttons, "script": ["menu"], "platform": "SMS", **bad}
        assert error_code(await gql(server, SIMULATE, variables, supervisor)) == "BAD_USER_INPUT", bad
    agent = await login(server, await make_user(Role.AGENT))
    refused = await gql(
        server, SIMULATE, {"definition": buttons, "script": ["menu"], "platform": "SMS"}, agent
    )
    assert error_code(refused) == "FORBIDDEN"
