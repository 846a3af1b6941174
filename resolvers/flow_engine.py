"""The flow step engine: a pure function from (flow version, state, input event) to (new state,
actions). No database, no network, no clock: everything it needs arrives in the state and the
event, and everything it wants done leaves as an action (send this, call that URL, wake me in 60 s,
transfer to team 3). `simulateFlow` answers the actions from a script; real executions (Dramatiq
steps, persisted state, triggers) will carry them out and feed the answers back as events, with
this module unchanged.

A definition is the normalised graph from resolvers/flow_validation.py:
    {"nodes": [{"id", "type", "position": {"x", "y"}, "config"}],
     "edges": [{"from", "to", "port", "condition"}]}
A state is a JSON-storable dict (see `initial_state`); actions are dicts with a "type".
"""

from __future__ import annotations

import copy
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import regex

# The nodes that stop and wait for the outside world: a loop must pass through one of them.
WAITING_TYPES = frozenset({"ask", "buttons", "wait", "http_request"})
INPUT_WAITING_TYPES = frozenset({"ask", "buttons", "wait"})  # an HTTP call is not a pause for loops
TERMINAL_TYPES = frozenset({"close", "end"})
# A runaway graph (validation refuses loops without a wait) must still not spin forever.
MAX_STEPS_PER_EVENT = 200
DEFAULT_PORT = "next"

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\s*\}\}")
# What a placeholder may name besides a flow variable: the context the execution runs in.
CONTEXT_REFERENCES = frozenset({"platform", "message.text"})
CUSTOMER_PREFIX = "customer."

# Patterns come from supervisors and text from customers: a pattern that backtracks for ever
# (`(a+)+$`) must fail closed in bounded time rather than hold a worker or the API process.
REGEX_TIMEOUT = 0.05
# Answers stored as numbers stay exact in JSON and in PostgreSQL's jsonb (no 1e999999).
MAX_NUMBER = Decimal(10) ** 15
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y")


@dataclass(frozen=True)
class Event:
    """What happened: a customer `message` (text), an `http_response` (status, body), an
    `http_error` (error), a `timer` firing, `start` (a schedule or event trigger fired), or a
    module node's `module_result` (port, body: the variables it sets) / `module_error` (error).
    `at` is when, for business hours."""

    kind: str
    at: datetime
    text: str | None = None
    status: int | None = None
    body: Any = None
    error: str | None = None
    port: str | None = None


@dataclass
class Outcome:
    state: dict[str, Any]
    actions: list[dict[str, Any]] = field(default_factory=list)


def initial_state(
    *,
    platform: str,
    buttons: bool,
    customer: dict[str, Any] | None = None,
    labels: list[str] | None = None,
) -> dict[str, Any]:
    """A run that has not started: the first message that matches the trigger starts it.
    `buttons` is the platform's Capabilities.buttons (else buttons go out as a numbered list)."""
    return {
        "status": "idle",  # idle → waiting ⇄ running → ended | failed
        "node": None,
        "waiting_for": None,  # "reply", "http", "timer", "reply_or_timer"
        "attempts": 0,
        "variables": {},
        "platform": platform,
        "buttons": buttons,
        "customer": dict(customer or {}),
        "labels": sorted(set(labels or ())),
        "last_message": None,
        "reason": None,
    }


def advance(definition: dict[str, Any], state: dict[str, Any], event: Event) -> Outcome:
    """The next state and the actions to carry out. An event the state is not waiting for (a
    message while an HTTP call is out, anything after the end) changes nothing."""
    graph = _Graph(definition)
    run = _Run(graph, copy.deepcopy(state), event)
    if run.state["status"] in ("ended", "failed"):
        return Outcome(state)
    if run.state["status"] == "idle":
        trigger = graph.trigger
        if trigger is None:
            return Outcome(state)
        if event.kind == "message" and trigger_matches(trigger["config"], event.text or ""):
            run.state["last_message"] = event.text
        elif event.kind != "start":  # `start`: a schedule or an event trigger fired for this run
            return Outcome(state)
        run.follow(trigger, DEFAULT_PORT)
    elif not run.resume():
        return Outcome(state)
    return Outcome(run.state, run.actions)


def pattern_matches(pattern: str, text: str, *, whole: bool = False) -> bool:
    """A supervisor's regular expression against a customer's text; False when it runs too long."""
    try:
        if whole:
            return regex.fullmatch(pattern, text, timeout=REGEX_TIMEOUT) is not None
        return regex.search(pattern, text, flags=regex.IGNORECASE, timeout=REGEX_TIMEOUT) is not None
    except TimeoutError:
        return False


def trigger_matches(config: dict[str, Any], text: str) -> bool:
    """A keyword or regex trigger matching the text; schedule and event triggers never do."""
    if config.get("keywords"):
        return _holds_text({"keyword": config["keywords"]}, text)
    if config.get("regex"):
        return _holds_text({"regex": config["regex"]}, text)
    return False


# ---- the graph -----------------------------------------------------------------------------------


class _Graph:
    def __init__(self, definition: dict[str, Any]) -> None:
        self.nodes = {n["id"]: n for n in definition["nodes"]}
        self.edges = definition["edges"]
        self.trigger = next((n for n in definition["nodes"] if n["type"] == "trigger"), None)

    def edges_from(self, node_id: str, port: str) -> list[dict[str, Any]]:
        return [e for e in self.edges if e["from"] == node_id and (e.get("port") or DEFAULT_PORT) == port]


class _Run:
    def __init__(self, graph: _Graph, state: dict[str, Any], event: Event) -> None:
        self.graph = graph
        self.state = state
        self.event = event
        self.actions: list[dict[str, Any]] = []
        self.steps = 0

    # -- leaving a node

    def follow(self, node: dict[str, Any], port: str) -> None:
        """Take the first edge out of `port` whose condition holds (an edge without one is the
        default), and run from there until something has to wait or the flow ends."""
        candidates = self.graph.edges_from(node["id"], port)
        chosen = next((e for e in candidates if e.get("condition") and self.holds(e["condition"])), None)
        chosen = chosen or next((e for e in candidates if not e.get("condition")), None)
        if chosen is None:
            self.finish("ended", f"nothing follows {node['id']} ({port})")
            return
        self.enter(self.graph.nodes[chosen["to"]])

    def finish(self, status: str, reason: str | None) -> None:
        self.state.update(status=status, waiting_for=None, reason=reason)

    def wait(self, node: dict[str, Any], waiting_for: str) -> None:
        self.state.update(status="waiting", node=node["id"], waiting_for=waiting_for)

    def act(self, node: dict[str, Any], action_type: str, **details: Any) -> None:
        self.actions.append({"type": action_type, "node": node["id"], **details})

    # -- entering a node

    def enter(self, node: dict[str, Any]) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS_PER_EVENT:
            self.finish("failed", f"more than {MAX_STEPS_PER_EVENT} steps without waiting (at {node['id']})")
            return
        self.state.update(node=node["id"], status="running", waiting_for=None, attempts=0)
        enter = getattr(self, f"_enter_{node['type']}", None)
        if enter is None:
            self._enter_module_node(node, node["config"])
            return
        enter(node, node["config"])

    def _enter_module_node(self, node: dict[str, Any], config: dict[str, Any]) -> None:
        """A node type an enabled module adds (core/extensions.py): the runtime runs it as a job
        of its own (like an HTTP node) and feeds back the port it chose, or its error."""
        self.act(node, "module_node", node_type=node["type"], config=self.interpolate_json(config))
        self.wait(node, "module")

    def _enter_trigger(self, node: dict[str, Any], config: dict[str, Any]) -> None:
        self.follow(node, DEFAULT_PORT)

    def _enter_send_message(self, node: dict[str, Any], config: dict[str, Any]) -> None:
        if config.get("template"):
            template = config["template"]
            variables = {k: self.interpolate(v) for k, v in (template.get("variables") or {}).items()}
            self.act(node, "send_template", template_id=template["id"], variables=variables)
        else:
            self.act(node, "send_text", text=self.interpolate(config["text"]))
        self.follow(node, DEFAULT_PORT)

    def _enter_ask(self, node: dict[str, Any], config: dict[str, Any]) -> None:
        self.act(node, "send_text", text=self.interpolate(config["text"]))
        self.wait(node, "reply")

    def _enter_buttons(self, node: dict[str, Any], config: dict[str, Any]) -> None:
        self._offer_buttons(node, config, self.interpolate(config["text"]))
        self.wait(node, "reply")

    def _offer_buttons(self, node: dict[str, Any], config: dict[str, Any], text: str) -> None:
        buttons = config["buttons"]
        if self.state["buttons"]:
            self.act(
                node,
                "send_buttons",
                text=text,
                buttons=[{"id": b["id"], "title": b["title"]} for b in buttons],
            )
        else:
            # The platform has no buttons: a numbered list the customer answers with a number.
            listed = "\n".join(f"{i}. {b['title']}" for i, b in enumerate(buttons, 1))
            self.act(node, "send_text", text=f"{text}\n{listed}")

    def _enter_condition(self, node: dict[str, Any], config: dict[str, Any]) -> None:
        branch = next((b for b in config["branches"] if self.holds(b["when"])), None)
        self.follow(node, branch["port"] if branch else "else")

    def _enter_set(self, node: dict[str, Any], config: dict[str, Any]) -> None:
        if "variable" in config:
            self.state["variables"][config["variable"]] = self.interpolate(config["value"])
        elif "attribute" in config:
            value = self.interpolate(config["value"])
            self.state["customer"][config["attribute"]] = value
            self.act(node, "set_attribute", name=config["attribute"], value=value)
        else:
            labels = set(self.state["labels"])
            if config.get("remove"):
                labels.discard(config["label"])
                self.act(node, "remove_label", label=config["label"])
            else:
                labels.add(config["label"])
                self.act(node, "add_label", label=config["label"])
            self.state["labels"] = sorted(labels)
        self.follow(node, DEFAULT_PORT)

    def _enter_http_request(self, node: dict[str, Any], config: dict[str, Any]) -> None:
        self.act(
            node,
            "http_request",
            method=config["method"],
            url=self.interpolate(config["url"], url=True),
            headers={k: self.interpolate(v) for k, v in config["headers"].items()},
            body=self.interpolate_json(config.get("body")),
            timeout_seconds=config["timeout_seconds"],
        )
        self.wait(node, "http")

    def _enter_wait(self, node: dict[str, Any], config: dict[str, Any]) -> None:
        if config.get("until_reply"):
            self.act(node, "schedule_wake", seconds=config["timeout_seconds"])
            self.wait(node, "reply_or_timer")
        else:
            self.act(node, "schedule_wake", seconds=config["seconds"])
            self.wait(node, "timer")

    def _enter_transfer(self, node: dict[str, Any], config: dict[str, Any]) -> None:
        self.act(node, "transfer", team_id=config.get("team_id"), agent_id=config.get("agent_id"))
        self.follow(node, DEFAULT_PORT)

    def _enter_escalate(self, node: dict[str, Any], config: dict[str, Any]) -> None:
        self.act(node, "escalate", reason=self.interpolate(config.get("reason") or ""))
        self.follow(node, DEFAULT_PORT)

    def _enter_close(self, node: dict[str, Any], config: dict[str, Any]) -> None:
        self.act(node, "close")
        self.finish("ended", None)

    def _enter_end(self, node: dict[str, Any], config: dict[str, Any]) -> None:
        self.finish("ended", None)

    # -- resuming a waiting node

    def resume(self) -> bool:
        """Handle the event at the waiting node; False when it is not what the node waits for."""
        node = self.graph.nodes.get(self.state["node"] or "")
        waiting_for, kind = self.state["waiting_for"], self.event.kind
        if node is None:
            return False
        if kind == "message" and waiting_for in ("reply", "reply_or_timer"):
            self.state["last_message"] = self.event.text or ""
            if node["type"] == "wait":
                self.follow(node, DEFAULT_PORT)
            else:
                self._answer(node, node["config"], self.event.text or "")
            return True
        if kind == "timer" and waiting_for in ("timer", "reply_or_timer"):
            self.follow(node, "timeout" if waiting_for == "reply_or_timer" else DEFAULT_PORT)
            return True
        if kind in ("http_response", "http_error") and waiting_for == "http":
            self._http_answered(node, node["config"])
            return True
        if kind in ("module_result", "module_error") and waiting_for == "module":
            self._module_answered(node)
            return True
        return False

    def _module_answered(self, node: dict[str, Any]) -> None:
        event = self.event
        if event.kind == "module_result":
            if isinstance(event.body, dict):
                self.state["variables"].update(event.body)
            self.follow(node, event.port or DEFAULT_PORT)
            return
        self.state["variables"]["module_error"] = event.error or "failed"
        if self.graph.edges_from(node["id"], "error"):
            self.follow(node, "error")
        else:
            self.finish("failed", f"{node['id']}: {event.error}"[:300])

    def _answer(self, node: dict[str, Any], config: dict[str, Any], text: str) -> None:
        if node["type"] == "ask":
            value, port = validate_answer(config["validation"], text), DEFAULT_PORT
        else:
            button = choose_button(config["buttons"], text)
            value, port = (button["id"], button["id"]) if button else (None, "")
        if value is not None:
            if config.get("variable"):
                self.state["variables"][config["variable"]] = value
            self.follow(node, port)
            return
        self.state["attempts"] += 1
        if self.state["attempts"] >= config["max_attempts"]:
            self.follow(node, "invalid")
            return
        retry = self.interpolate(config.get("retry_text") or config["text"])
        if node["type"] == "buttons":
            self._offer_buttons(node, config, retry)
        else:
            self.act(node, "send_text", text=retry)

    def _http_answered(self, node: dict[str, Any], config: dict[str, Any]) -> None:
        event = self.event
        if event.kind == "http_error" or (event.status or 0) >= 400:
            self.state["variables"]["http_error"] = event.error or f"HTTP {event.status}"
            self.follow(node, "error")
            return
        mapped = {}
        for variable, path in config["response_map"].items():
            found, value = _lookup(event.body, path)
            if not found:
                self.state["variables"]["http_error"] = f"the response has no {path}"
                self.follow(node, "error")
                return
            mapped[variable] = value
        self.state["variables"].update(mapped)
        self.follow(node, DEFAULT_PORT)

    # -- values

    def value_of(self, reference: str) -> Any:
        if reference == "platform":
            return self.state["platform"]
        if reference == "message.text":
            return self.state["last_message"]
        if reference.startswith(CUSTOMER_PREFIX):
            return self.state["customer"].get(reference[len(CUSTOMER_PREFIX) :])
        return self.state["variables"].get(reference)

    def interpolate(self, text: str, *, url: bool = False) -> str:
        def value(match: re.Match[str]) -> str:
            found = self.value_of(match.group(1))
            shown = "" if found is None else str(found)
            # In a URL a value is one component: it cannot add a path, a query or another host.
            return quote(shown, safe="") if url else shown

        return PLACEHOLDER.sub(value, text)

    def interpolate_json(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.interpolate(value)
        if isinstance(value, list):
            return [self.interpolate_json(v) for v in value]
        if isinstance(value, dict):
            return {k: self.interpolate_json(v) for k, v in value.items()}
        return value

    def holds(self, condition: dict[str, Any]) -> bool:
        state = self.state
        if "keyword" in condition or "regex" in condition:
            return _holds_text(condition, state["last_message"] or "")
        if "variable" in condition:
            return compare(
                state["variables"].get(condition["variable"]), condition["op"], condition.get("value")
            )
        if "attribute" in condition:
            return compare(
                state["customer"].get(condition["attribute"]), condition["op"], condition.get("value")
            )
        if "platform" in condition:
            return state["platform"] in condition["platform"]
        if "label" in condition:
            return condition["label"] in state["labels"]
        return within_business_hours(condition["business_hours"], self.event.at)


# ---- rules the nodes apply ----------------------------------------------------------------------------


def fold(text: str) -> str:
    """Lower case without accents: "Não" and "nao" are the same keyword."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _holds_text(condition: dict[str, Any], text: str) -> bool:
    if "regex" in condition:
        return pattern_matches(condition["regex"], text)
    folded = fold(text)
    return any(re.search(rf"(?<!\w){re.escape(fold(k))}(?!\w)", folded) for k in condition["keyword"])


def compare(actual: Any, op: str, expected: Any) -> bool:
    if op == "exists":
        return actual not in (None, "")
    if op == "not_exists":
        return actual in (None, "")
    if actual is None:
        return op == "not_equals"
    if op in ("equals", "not_equals"):
        same = fold(str(actual)) == fold(str(expected))
        return same if op == "equals" else not same
    if op == "contains":
        return fold(str(expected)) in fold(str(actual))
    left, right = _number(actual), _number(expected)
    if left is None or right is None:
        return False
    return {"gt": left > right, "gte": left >= right, "lt": left < right, "lte": left <= right}[op]


def within_business_hours(hours: dict[str, Any], at: datetime) -> bool:
    local = at.astimezone(ZoneInfo(hours["time_zone"]))
    start, end = time.fromisoformat(hours["start"]), time.fromisoformat(hours["end"])
    return local.isoweekday() in hours["days"] and start <= local.time() < end


def validate_answer(validation: dict[str, Any], text: str) -> Any:
    """The value to store, or None when the answer does not pass (the question is asked again)."""
    answer = text.strip()
    kind = validation["kind"]
    if not answer:
        return None
    if kind == "text":
        return answer
    if kind == "number":
        number = _number(answer.replace(",", ".") if answer.count(",") == 1 and "." not in answer else answer)
        if number is None or abs(number) > MAX_NUMBER:
            return None
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "email":
        return answer.lower() if EMAIL.match(answer) else None
    if kind == "phone":
        digits = re.sub(r"[\s().-]", "", answer)
        return "+" + digits.lstrip("+") if re.fullmatch(r"\+?\d{8,15}", digits) else None
    if kind == "date":
        return _date(answer)
    if kind == "one_of":
        return next((o for o in validation["options"] if fold(o) == fold(answer)), None)
    return answer if pattern_matches(validation["pattern"], answer, whole=True) else None


def choose_button(buttons: list[dict[str, Any]], text: str) -> dict[str, Any] | None:
    """The button a reply picks: its number in the list, its id or its title."""
    answer = fold(text.strip())
    if answer.isdigit() and 1 <= int(answer) <= len(buttons):
        return buttons[int(answer) - 1]
    return next((b for b in buttons if answer in (fold(b["id"]), fold(b["title"]))), None)


def _number(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _date(text: str) -> str | None:
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    return None


def _lookup(body: Any, path: str) -> tuple[bool, Any]:
    """(found, value) at a dotted path: "order.items.0.sku"."""
    value = body
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return False, None
    return True, value
