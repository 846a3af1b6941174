"""What a flow may hold, checked when it is saved (and before it is simulated): each node type's
config schema, the graph's shape (one trigger, no dangling edges, no unreachable nodes, ports the
node has, no loop without a pause for the customer) and variables read only where every path has
set them. Every problem names its node; `clean_definition` returns the normalised definition the
engine (resolvers/flow_engine.py) runs, or raises BadInput listing them all (extensions.node is
the first one's, extensions.problems each one)."""

from __future__ import annotations

import re
from datetime import time
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jsonschema
import regex
from croniter import croniter

from connectors.base import Platform
from core.extensions import ConfigProblem, NodeType, registry
from resolvers.errors import BadInput
from resolvers.flow_engine import (
    CONTEXT_REFERENCES,
    CUSTOMER_PREFIX,
    DEFAULT_PORT,
    INPUT_WAITING_TYPES,
    PLACEHOLDER,
    TERMINAL_TYPES,
)

MAX_NODES = 200
MAX_EDGES = 1000
MAX_TEXT = 4096
MAX_ATTEMPTS = 10
MAX_WAIT_SECONDS = 30 * 24 * 3600
MAX_HTTP_TIMEOUT = 30
HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$")
LINE_BREAK = re.compile(r"[\r\n]")
PLATFORMS = frozenset(p.value for p in Platform)
NODE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
NAME = re.compile(r"^[a-z_][a-z0-9_]{0,39}$")  # variables, attributes, labels, ports
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
VALIDATIONS = ("text", "number", "email", "phone", "date", "one_of", "regex")
OPERATORS = ("equals", "not_equals", "contains", "gt", "gte", "lt", "lte", "exists", "not_exists")
# What an event trigger may wait for (resolvers/flow_triggers.py fires them).
TRIGGER_EVENTS = (
    "conversation_created",
    "no_agent_reply",
    "label_added",
    "conversation_resolved",
    "csat_received",  # a customer rated a survey (resolvers/csat.py)
)
NODE_TYPES = (
    "trigger",
    "send_message",
    "ask",
    "buttons",
    "condition",
    "set",
    "http_request",
    "wait",
    "transfer",
    "escalate",
    "close",
    "end",
)


class Problem(Exception):
    """One thing wrong: the node it is about, a stable `code` clients switch on (and translate,
    filling in `params`), and the message in English."""

    def __init__(self, node: str | None, message: str, code: str, **params: Any) -> None:
        super().__init__(message)
        self.node = node
        self.message = message
        self.code = code
        self.params = params

    def at(self, node: str | None) -> Problem:
        return Problem(node, self.message, self.code, **self.params)

    def view(self) -> dict[str, Any]:
        return {"node": self.node, "code": self.code, "message": self.message, "params": self.params}


def clean_definition(raw: dict[str, Any]) -> dict[str, Any]:
    nodes_raw, edges_raw = raw.get("nodes") or [], raw.get("edges") or []
    problems: list[Problem] = []
    if not nodes_raw:
        _refuse([Problem(None, "a flow has at least a trigger node", "NO_NODES")], field="nodes")
    if len(nodes_raw) > MAX_NODES or len(edges_raw) > MAX_EDGES:
        limits = {"max_nodes": MAX_NODES, "max_edges": MAX_EDGES}
        _refuse(
            [Problem(None, f"at most {MAX_NODES} nodes and {MAX_EDGES} edges", "TOO_BIG", **limits)],
            field="nodes",
        )
    nodes, broken = [], set()
    for index, node in enumerate(nodes_raw):
        try:
            nodes.append(_clean_node(node, index))
        except Problem as problem:
            problems.append(problem)
            broken.add(str(node.get("id") or ""))
    ids = [n["id"] for n in nodes]
    for duplicate in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(
            Problem(duplicate, f"two nodes have the id {duplicate!r}", "DUPLICATE_NODE_ID", id=duplicate)
        )
    by_id = {n["id"]: n for n in nodes}
    edges = []
    for edge in edges_raw:
        if {str(edge.get("from") or ""), str(edge.get("to") or "")} & broken:
            continue  # the node's own problem is reported; "not a node" here would only repeat it
        try:
            edges.append(_clean_edge(edge, by_id))
        except Problem as problem:
            problems.append(problem)
    if not problems:
        problems = _graph_problems(nodes, edges, by_id)
    if problems:
        _refuse(problems)
    return {"nodes": nodes, "edges": edges}


def _refuse(problems: list[Problem], field: str = "definition") -> NoReturn:
    """BadInput naming every problem (extensions.problems: {node, code, message, params})."""
    listed = "; ".join(f"{p.node}: {p.message}" if p.node else p.message for p in problems)
    raise BadInput(
        f"the flow is not valid: {listed}",
        field=field,
        node=problems[0].node,
        problems=[p.view() for p in problems],
    )


# ---- one node ---------------------------------------------------------------------------------------


def _clean_node(raw: dict[str, Any], index: int) -> dict[str, Any]:
    node_id = str(raw.get("id") or "")
    if not NODE_ID.match(node_id):
        raise Problem(
            node_id or f"#{index}", "a node id is 1 to 64 letters, digits, - or _", "NODE_ID_INVALID"
        )
    node_type = raw.get("type")
    contributed = _module_node_type(node_type)
    if node_type not in NODE_TYPES and contributed is None:
        known = ", ".join([*NODE_TYPES, *registry.node_type_names()])
        raise Problem(
            node_id,
            f"unknown node type {node_type!r} (one of {known})",
            "UNKNOWN_NODE_TYPE",
            type=str(node_type),
        )
    position = raw.get("position") or {}
    if not isinstance(position, dict):
        raise Problem(node_id, "position is {x, y} numbers", "POSITION_INVALID")
    try:
        x, y = float(position.get("x", 0)), float(position.get("y", 0))
    except (TypeError, ValueError):
        raise Problem(node_id, "position is {x, y} numbers", "POSITION_INVALID") from None
    config = raw.get("config") or {}
    if not isinstance(config, dict):
        raise Problem(node_id, "config is an object", "CONFIG_NOT_OBJECT")
    try:
        cleaned = (
            _module_config(contributed, config) if contributed else globals()[f"_config_{node_type}"](config)
        )
    except Problem as problem:
        raise problem.at(node_id) from None
    except ConfigProblem as problem:  # a module's own words: no code of ours can say more
        raise Problem(node_id, str(problem), "MODULE_CONFIG_INVALID", type=node_type) from None
    return {"id": node_id, "type": node_type, "position": {"x": x, "y": y}, "config": cleaned}


def _module_config(node_type: NodeType, config: dict[str, Any]) -> dict[str, Any]:
    """A module's node: its config against the type's JSON Schema (the builder draws its form from
    the same schema), then the type's own check."""
    validator = jsonschema.validators.validator_for(node_type.config_schema)(node_type.config_schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if error is None:
        return node_type.validate(config)
    path = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = next(k for k in error.validator_value if k not in error.instance)
        key = f"{path}.{missing}" if path else missing
        raise Problem(None, f"config.{key} is required", "REQUIRED", key=key)
    limit = error.validator_value if isinstance(error.validator_value, int | float | str) else None
    raise Problem(
        None,
        f"config.{path or '(config)'}: {error.message}",
        "NODE_CONFIG_MISMATCH",
        key=path,
        rule=str(error.validator),
        limit=limit,
    )


def _text(config: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = config.get(key)
    if value is None or value == "":
        if required:
            raise Problem(None, f"config.{key} is required", "REQUIRED", key=key)
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise Problem(
            None,
            f"config.{key} is text of at most {MAX_TEXT} characters",
            "TEXT_TOO_LONG",
            key=key,
            max=MAX_TEXT,
        )
    return value


def _name(config: dict[str, Any], key: str) -> str:
    value = config.get(key)
    if not isinstance(value, str) or not NAME.match(value):
        raise Problem(
            None,
            f"config.{key} is a name of lower-case letters, digits and _ (e.g. pedido)",
            "NAME_INVALID",
            key=key,
        )
    return value


def _int(config: dict[str, Any], key: str, low: int, high: int, default: int | None = None) -> int:
    value = config.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise Problem(
            None,
            f"config.{key} is a whole number from {low} to {high}",
            "NUMBER_OUT_OF_RANGE",
            key=key,
            low=low,
            high=high,
        )
    return value


def _regex(pattern: Any, key: str) -> str:
    if not isinstance(pattern, str) or not 1 <= len(pattern) <= 200:
        raise Problem(
            None, f"config.{key} is a regular expression of 1 to 200 characters", "REGEX_INVALID", key=key
        )
    try:
        regex.compile(pattern)  # the engine's dialect (resolvers/flow_engine.pattern_matches)
    except (regex.error, ValueError) as exc:
        raise Problem(
            None, f"config.{key} is not a regular expression ({exc})", "REGEX_INVALID", key=key
        ) from None
    return pattern


def _id(value: Any, key: str) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 100:
        raise Problem(None, f"config.{key} is an id this API issued", "ID_INVALID", key=key)
    return value


def _config_trigger(config: dict[str, Any]) -> dict[str, Any]:
    kinds = [k for k in ("keywords", "regex", "schedule", "event") if config.get(k)]
    if len(kinds) != 1:
        raise Problem(
            None, "a trigger has keywords, a regex, a schedule or an event (one of them)", "TRIGGER_ONE_KIND"
        )
    if kinds[0] == "schedule":
        return {"schedule": _schedule(config["schedule"])}
    if kinds[0] == "event":
        return _trigger_event(config)
    keywords = config.get("keywords") or []
    if not isinstance(keywords, list) or not all(isinstance(k, str) and k.strip() for k in keywords):
        raise Problem(None, "config.keywords is a list of words", "WORDS_INVALID", key="keywords")
    regex = _regex(config["regex"], "regex") if config.get("regex") else None
    return {"keywords": [k.strip() for k in keywords]} if keywords else {"regex": regex}


def _schedule(schedule: Any) -> dict[str, Any]:
    """A cron expression in a time zone, run for each open conversation carrying `label`."""
    if not isinstance(schedule, dict):
        raise Problem(None, "config.schedule is {cron, time_zone, label}", "SCHEDULE_INVALID")
    cron = schedule.get("cron")
    if not isinstance(cron, str) or len(cron) > 100 or not croniter.is_valid(cron):
        raise Problem(None, "config.schedule.cron is a cron expression (e.g. 0 9 * * 1-5)", "CRON_INVALID")
    try:
        ZoneInfo(str(schedule.get("time_zone") or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        raise Problem(
            None, "config.schedule.time_zone is a time zone (e.g. America/Sao_Paulo)", "TIME_ZONE_INVALID"
        ) from None
    return {"cron": cron, "time_zone": schedule.get("time_zone") or "UTC", "label": _name(schedule, "label")}


def _trigger_event(config: dict[str, Any]) -> dict[str, Any]:
    event = config["event"]
    if event not in TRIGGER_EVENTS:
        raise Problem(
            None,
            f"config.event is one of {', '.join(TRIGGER_EVENTS)}",
            "TRIGGER_EVENT_INVALID",
            events=", ".join(TRIGGER_EVENTS),
        )
    if event == "no_agent_reply":
        return {"event": event, "minutes": _int(config, "minutes", 1, 7 * 24 * 60)}
    if event == "label_added" and config.get("label"):
        return {"event": event, "label": _name(config, "label")}
    return {"event": event}


def _config_send_message(config: dict[str, Any]) -> dict[str, Any]:
    template = config.get("template")
    if bool(template) == bool(config.get("text")):
        raise Problem(None, "send_message has a text or a template (one of them)", "SEND_ONE_KIND")
    if not template:
        return {"text": _text(config, "text")}
    variables = (template.get("variables") or {}) if isinstance(template, dict) else None
    if not isinstance(variables, dict) or not all(isinstance(v, str) for v in variables.values()):
        raise Problem(None, "config.template is {id, variables: {name: text}}", "TEMPLATE_INVALID")
    assert isinstance(template, dict)
    return {"template": {"id": _id(template.get("id"), "template.id"), "variables": variables}}


def _config_ask(config: dict[str, Any]) -> dict[str, Any]:
    validation = config.get("validation") or {"kind": "text"}
    kind = validation.get("kind") if isinstance(validation, dict) else None
    if kind not in VALIDATIONS:
        raise Problem(
            None,
            f"config.validation.kind is one of {', '.join(VALIDATIONS)}",
            "VALIDATION_KIND_INVALID",
            kinds=", ".join(VALIDATIONS),
        )
    cleaned: dict[str, Any] = {"kind": kind}
    if kind == "one_of":
        options = validation.get("options")
        if not isinstance(options, list) or not options or not all(isinstance(o, str) and o for o in options):
            raise Problem(None, "config.validation.options lists the accepted answers", "OPTIONS_REQUIRED")
        cleaned["options"] = options
    if kind == "regex":
        cleaned["pattern"] = _regex(validation.get("pattern"), "validation.pattern")
    return {
        "text": _text(config, "text"),
        "variable": _name(config, "variable"),
        "validation": cleaned,
        "retry_text": _text(config, "retry_text", required=False),
        "max_attempts": _int(config, "max_attempts", 1, MAX_ATTEMPTS, default=3),
    }


def _config_buttons(config: dict[str, Any]) -> dict[str, Any]:
    buttons = config.get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 10:
        raise Problem(None, "config.buttons is a list of 1 to 10 {id, title}", "BUTTONS_INVALID")
    cleaned = []
    for button in buttons:
        if not isinstance(button, dict) or not NAME.match(str(button.get("id") or "")):
            raise Problem(
                None, "each button's id is a port name (lower-case letters, digits, _)", "BUTTON_ID_INVALID"
            )
        title = button.get("title")
        if not isinstance(title, str) or not 1 <= len(title.strip()) <= 40:
            raise Problem(None, "each button's title is 1 to 40 characters", "BUTTON_TITLE_INVALID")
        cleaned.append({"id": button["id"], "title": title.strip()})
    if len({b["id"] for b in cleaned}) != len(cleaned) or any(b["id"] == "invalid" for b in cleaned):
        raise Problem(
            None,
            "button ids are distinct and not 'invalid' (the port for too many bad answers)",
            "BUTTON_IDS_DUPLICATE",
        )
    variable = _name(config, "variable") if config.get("variable") else None
    return {
        "text": _text(config, "text"),
        "buttons": cleaned,
        "variable": variable,
        "retry_text": _text(config, "retry_text", required=False),
        "max_attempts": _int(config, "max_attempts", 1, MAX_ATTEMPTS, default=3),
    }


def clean_condition(when: Any) -> dict[str, Any]:
    """One test: keyword/regex on the last message, a variable or customer attribute compared,
    the platform, business hours, or a label on the conversation."""
    if not isinstance(when, dict) or len(when.keys() - {"op", "value"}) != 1:
        raise Problem(
            None,
            "a condition is one of keyword, regex, variable, attribute, platform, business_hours, label",
            "CONDITION_INVALID",
        )
    if "keyword" in when:
        words = when["keyword"]
        if (
            not isinstance(words, list)
            or not words
            or not all(isinstance(w, str) and w.strip() for w in words)
        ):
            raise Problem(None, "keyword is a list of words", "WORDS_INVALID", key="keyword")
        return {"keyword": [w.strip() for w in words]}
    if "regex" in when:
        return {"regex": _regex(when["regex"], "regex")}
    for subject in ("variable", "attribute"):
        if subject in when:
            op = when.get("op", "equals")
            if op not in OPERATORS:
                raise Problem(
                    None,
                    f"op is one of {', '.join(OPERATORS)}",
                    "OPERATOR_INVALID",
                    operators=", ".join(OPERATORS),
                )
            return {subject: _name(when, subject), "op": op, "value": when.get("value")}
    if "platform" in when:
        platforms = when["platform"]
        if not isinstance(platforms, list) or not platforms or not all(p in PLATFORMS for p in platforms):
            names = ", ".join(sorted(PLATFORMS))
            raise Problem(
                None, f"platform is a list of platforms ({names})", "PLATFORMS_INVALID", platforms=names
            )
        return {"platform": platforms}
    if "label" in when:
        return {"label": _name(when, "label")}
    if "business_hours" in when:
        return {"business_hours": _business_hours(when["business_hours"])}
    raise Problem(
        None, f"unknown condition {next(iter(when))!r}", "CONDITION_UNKNOWN", kind=str(next(iter(when)))
    )


def _business_hours(hours: Any) -> dict[str, Any]:
    if not isinstance(hours, dict):
        raise Problem(None, "business_hours is {time_zone, days, start, end}", "BUSINESS_HOURS_INVALID")
    try:
        ZoneInfo(str(hours.get("time_zone")))
        start, end = time.fromisoformat(str(hours.get("start"))), time.fromisoformat(str(hours.get("end")))
    except (ZoneInfoNotFoundError, ValueError):
        raise Problem(
            None,
            "business_hours needs a time_zone (e.g. America/Sao_Paulo) and start/end as HH:MM",
            "BUSINESS_HOURS_INVALID",
        ) from None
    days = hours.get("days", [1, 2, 3, 4, 5])
    if (
        not isinstance(days, list)
        or not all(isinstance(d, int) and 1 <= d <= 7 for d in days)
        or start >= end
    ):
        raise Problem(
            None,
            "business_hours: days are 1 (Monday) to 7, and start comes before end",
            "BUSINESS_DAYS_INVALID",
        )
    return {
        "time_zone": hours["time_zone"],
        "days": days,
        "start": start.isoformat("minutes"),
        "end": end.isoformat("minutes"),
    }


def _config_condition(config: dict[str, Any]) -> dict[str, Any]:
    branches = config.get("branches")
    if not isinstance(branches, list) or not branches:
        raise Problem(None, "config.branches is a list of {port, when}", "BRANCHES_INVALID")
    cleaned = [{"port": _name(b, "port"), "when": clean_condition(b.get("when"))} for b in branches]
    ports = [b["port"] for b in cleaned]
    if len(set(ports)) != len(ports) or "else" in ports:
        raise Problem(
            None,
            "branch ports are distinct and not 'else' (the port when none holds)",
            "BRANCH_PORTS_DUPLICATE",
        )
    return {"branches": cleaned}


def _config_set(config: dict[str, Any]) -> dict[str, Any]:
    targets = [k for k in ("variable", "attribute", "label") if k in config]
    if len(targets) != 1:
        raise Problem(None, "set changes one variable, attribute or label", "SET_ONE_TARGET")
    if targets[0] == "label":
        return {"label": _name(config, "label"), "remove": bool(config.get("remove"))}
    value = config.get("value")
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise Problem(None, "config.value is text (placeholders allowed)", "VALUE_INVALID")
    return {targets[0]: _name(config, targets[0]), "value": value}


def _config_http_request(config: dict[str, Any]) -> dict[str, Any]:
    method = str(config.get("method") or "GET").upper()
    if method not in METHODS:
        raise Problem(
            None,
            f"config.method is one of {', '.join(METHODS)}",
            "METHOD_INVALID",
            methods=", ".join(METHODS),
        )
    url = _text(config, "url")
    # The scheme and host are literal: a variable may fill a path or a query, never pick the host.
    if not re.match(r"^https?://[^/{}\s]+(/|$)", url or ""):
        raise Problem(None, "config.url starts with http:// or https:// and a literal host", "URL_INVALID")
    headers = config.get("headers") or {}
    # A line break in a header would let a variable (or a typo) add headers of its own.
    if not isinstance(headers, dict) or not all(
        HEADER_NAME.match(k) and isinstance(v, str) and not LINE_BREAK.search(v) for k, v in headers.items()
    ):
        raise Problem(None, "config.headers is {name: text on one line}", "HEADERS_INVALID")
    response_map = config.get("response_map") or {}
    if not isinstance(response_map, dict) or not all(
        NAME.match(k) and isinstance(v, str) and v for k, v in response_map.items()
    ):
        raise Problem(
            None, "config.response_map is {variable: dotted.path.in.the.response}", "RESPONSE_MAP_INVALID"
        )
    return {
        "method": method,
        "url": url,
        "headers": headers,
        "body": config.get("body"),
        "timeout_seconds": _int(config, "timeout_seconds", 1, MAX_HTTP_TIMEOUT, default=10),
        "response_map": response_map,
    }


def _config_wait(config: dict[str, Any]) -> dict[str, Any]:
    if config.get("until_reply"):
        return {"until_reply": True, "timeout_seconds": _int(config, "timeout_seconds", 1, MAX_WAIT_SECONDS)}
    return {"seconds": _int(config, "seconds", 1, MAX_WAIT_SECONDS)}


def _config_transfer(config: dict[str, Any]) -> dict[str, Any]:
    if bool(config.get("team_id")) == bool(config.get("agent_id")):
        raise Problem(None, "transfer goes to a team_id or an agent_id (one of them)", "TRANSFER_ONE_TARGET")
    if config.get("team_id"):
        return {"team_id": _id(config["team_id"], "team_id")}
    return {"agent_id": _id(config["agent_id"], "agent_id")}


def _config_escalate(config: dict[str, Any]) -> dict[str, Any]:
    return {"reason": _text(config, "reason", required=False)}


def _config_close(config: dict[str, Any]) -> dict[str, Any]:
    return {}


def _config_end(config: dict[str, Any]) -> dict[str, Any]:
    return {}


# ---- the graph --------------------------------------------------------------------------------------


def _module_node_type(node_type: Any) -> Any:
    """A node type an enabled module contributes (core/extensions.py), or None."""
    found = (
        registry.node_type(node_type) if isinstance(node_type, str) and node_type not in NODE_TYPES else None
    )
    return found[0] if found else None


def ports_of(node: dict[str, Any]) -> set[str]:
    config = node["config"]
    if (contributed := _module_node_type(node["type"])) is not None:
        return set(contributed.ports(config))
    if node["type"] in TERMINAL_TYPES:
        return set()
    if node["type"] == "condition":
        return {b["port"] for b in config["branches"]} | {"else"}
    if node["type"] == "buttons":
        return {b["id"] for b in config["buttons"]} | {"invalid"}
    extra = {
        "ask": {"invalid"},
        "http_request": {"error"},
        "wait": {"timeout"} if config.get("until_reply") else set(),
    }
    return {DEFAULT_PORT} | extra.get(node["type"], set())


def _clean_edge(raw: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> dict[str, Any]:
    source, target = str(raw.get("from") or ""), str(raw.get("to") or "")
    if source not in by_id:
        raise Problem(
            source or None,
            f"an edge leaves {source!r}, which is not a node",
            "EDGE_FROM_NOWHERE",
            source=source,
        )
    if target not in by_id:
        raise Problem(
            source,
            f"an edge from {source} goes to {target!r}, which is not a node",
            "EDGE_TO_NOWHERE",
            target=target,
        )
    port = raw.get("port") or DEFAULT_PORT
    allowed = ports_of(by_id[source])
    if port not in allowed:
        named = ", ".join(sorted(allowed)) or "none: it ends the flow"
        raise Problem(
            source,
            f"{by_id[source]['type']} has no port {port!r} (ports: {named})",
            "PORT_UNKNOWN",
            type=by_id[source]["type"],
            port=str(port),
            ports=", ".join(sorted(allowed)),
        )
    if by_id[target]["type"] == "trigger":
        raise Problem(target, "nothing leads into the trigger", "EDGE_INTO_TRIGGER")
    condition = clean_condition(raw["condition"]) if raw.get("condition") else None
    return {"from": source, "to": target, "port": port, "condition": condition}


def _graph_problems(
    nodes: list[dict[str, Any]], edges: list[dict[str, Any]], by_id: dict[str, dict[str, Any]]
) -> list[Problem]:
    triggers = [n for n in nodes if n["type"] == "trigger"]
    if len(triggers) != 1:
        return [
            Problem(t["id"], "a flow has exactly one trigger", "TRIGGERS_MANY") for t in triggers[1:]
        ] or [Problem(None, "a flow has exactly one trigger node", "TRIGGER_MISSING")]
    problems = []
    defaults = [(e["from"], e["port"]) for e in edges if not e["condition"]]
    for source, port in sorted({d for d in defaults if defaults.count(d) > 1}):
        problems.append(
            Problem(
                source,
                f"two edges leave port {port!r} without a condition: which one?",
                "PORT_TWO_EDGES",
                port=port,
            )
        )
    reachable = _reachable(triggers[0]["id"], edges)
    problems += [
        Problem(n["id"], "no path from the trigger reaches this node", "UNREACHABLE")
        for n in nodes
        if n["id"] not in reachable
    ]
    live_edges = [e for e in edges if e["from"] in reachable]
    problems += _loops_without_a_pause(nodes, live_edges, by_id, reachable)
    problems += _reads_before_set(triggers[0]["id"], nodes, live_edges, reachable)
    return problems


def _reachable(start: str, edges: list[dict[str, Any]]) -> set[str]:
    seen, stack = {start}, [start]
    while stack:
        current = stack.pop()
        for edge in edges:
            if edge["from"] == current and edge["to"] not in seen:
                seen.add(edge["to"])
                stack.append(edge["to"])
    return seen


def _loops_without_a_pause(
    nodes: list[dict[str, Any]],
    edges: list[dict[str, Any]],
    by_id: dict[str, dict[str, Any]],
    reachable: set[str],
) -> list[Problem]:
    """A cycle that never waits for the customer or a timer would run forever in one step: each
    strongly connected part of the graph must hold an ask, buttons or wait node."""
    problems = []
    for component in _strong_components([n["id"] for n in nodes if n["id"] in reachable], edges):
        cyclic = len(component) > 1 or any(e["from"] == e["to"] == component[0] for e in edges)
        if cyclic and not any(by_id[n]["type"] in INPUT_WAITING_TYPES for n in component):
            problems.append(
                Problem(
                    component[0],
                    f"a loop ({' → '.join(component)}) with no question or wait in it",
                    "LOOP_WITHOUT_PAUSE",
                    nodes=" → ".join(component),
                )
            )
    return problems


def _strong_components(ids: list[str], edges: list[dict[str, Any]]) -> list[list[str]]:
    """Tarjan's algorithm; each component listed in the definition's node order."""
    order = {node_id: i for i, node_id in enumerate(ids)}
    successors: dict[str, list[str]] = {i: [] for i in ids}
    for edge in edges:
        if edge["from"] in successors and edge["to"] in successors:
            successors[edge["from"]].append(edge["to"])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []

    def visit(node_id: str) -> None:
        index[node_id] = low[node_id] = len(index)
        stack.append(node_id)
        on_stack.add(node_id)
        for nxt in successors[node_id]:
            if nxt not in index:
                visit(nxt)
                low[node_id] = min(low[node_id], low[nxt])
            elif nxt in on_stack:
                low[node_id] = min(low[node_id], index[nxt])
        if low[node_id] == index[node_id]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node_id:
                    break
            components.append(sorted(component, key=order.__getitem__))

    for node_id in ids:
        if node_id not in index:
            visit(node_id)
    return components


# ---- variables ----------------------------------------------------------------------------------------


def _placeholders(value: Any) -> set[str]:
    if isinstance(value, str):
        return set(PLACEHOLDER.findall(value))
    if isinstance(value, list):
        return set().union(*(_placeholders(v) for v in value)) if value else set()
    if isinstance(value, dict):
        return set().union(*(_placeholders(v) for v in value.values())) if value else set()
    return set()


def _reads(node: dict[str, Any]) -> set[str]:
    config = node["config"]
    if node["type"] == "condition":
        return {b["when"]["variable"] for b in config["branches"] if "variable" in b["when"]}
    texts = {
        k: v for k, v in config.items() if k not in ("response_map", "variable", "validation", "buttons")
    }
    return _placeholders(texts)


def _sets(node: dict[str, Any], port: str) -> set[str]:
    config = node["config"]
    if (contributed := _module_node_type(node["type"])) is not None:
        return set(contributed.sets(config, port))
    if node["type"] in ("ask", "buttons") and port != "invalid" and config.get("variable"):
        return {config["variable"]}
    if node["type"] == "set" and "variable" in config:
        return {config["variable"]}
    if node["type"] == "http_request":
        return set(config["response_map"]) if port == DEFAULT_PORT else {"http_error"}
    return set()


def _reads_before_set(
    trigger: str, nodes: list[dict[str, Any]], edges: list[dict[str, Any]], reachable: set[str]
) -> list[Problem]:
    """A must-analysis: a node may read a variable only when every path from the trigger to it
    has set it (a question answered, a set node, an HTTP response mapped)."""
    by_id = {n["id"]: n for n in nodes}
    everything = set().union(*(_sets(n, p) for n in nodes for p in ports_of(n) | {DEFAULT_PORT}))
    known: dict[str, set[str]] = {n: set(everything) for n in reachable}
    known[trigger] = set()
    into: dict[str, list[dict[str, Any]]] = {n: [] for n in reachable}
    for e in edges:
        into[e["to"]].append(e)
    changed = True
    while changed:
        changed = False
        for node_id in reachable - {trigger}:
            incoming = [known[e["from"]] | _sets(by_id[e["from"]], e["port"]) for e in into[node_id]]
            now = set.intersection(*incoming) if incoming else set()
            if now != known[node_id]:
                known[node_id], changed = now, True
    problems = []
    for node in nodes:
        if node["id"] not in reachable:
            continue
        for edge in (e for e in edges if e["from"] == node["id"] and e["condition"]):
            problems += _unknown(
                node["id"], _condition_reads(edge["condition"]), known[node["id"]] | _sets(node, edge["port"])
            )
        problems += _unknown(node["id"], _reads(node), known[node["id"]])
    return problems


def _condition_reads(condition: dict[str, Any]) -> set[str]:
    return {condition["variable"]} if "variable" in condition else set()


def _unknown(node_id: str, reads: set[str], known: set[str]) -> list[Problem]:
    problems = []
    for name in sorted(reads):
        if name in CONTEXT_REFERENCES or name.startswith(CUSTOMER_PREFIX):
            continue
        if "." in name:
            problems.append(
                Problem(
                    node_id,
                    f"{{{{ {name} }}}} is not a variable (customer.<attribute>, message.text, platform or a flow variable)",
                    "NOT_A_VARIABLE",
                    name=name,
                )
            )
        elif name not in known:
            problems.append(
                Problem(
                    node_id,
                    f"reads the variable {name!r} before every path to it has set it",
                    "READ_BEFORE_SET",
                    name=name,
                )
            )
    return problems
