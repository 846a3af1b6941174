"""Template and flow performance and CSAT in the roll-ups: the facts of one conversation's
templated sends, flow runs and answered surveys, derived from its rows like every other metric
(resolvers/metrics_facts.py), and the four dimensions templates and flows are grouped by.

Definitions (the README's "Metrics" table says the same):
- a *template use* is an outbound message sent from a response template (its
  `metadata.response_template`: template id and version, and the experiment arm when one ran) that
  did not fail, counted at the send, for its author, on the message's platform and channel;
- it was *replied* when the customer wrote after it (a later inbound message), and *resolved* when
  the conversation was resolved or closed after it; both are counted at the use (a later reply or
  resolution corrects the use's bucket, as a late status does);
- a *flow run* (one `flow_executions` row) is counted at its start: *completed* (it ended at the
  end of the flow), *handed off* (an agent took over: `handed_off_at`), or *dropped* (cancelled or
  failed without a hand-off: the customer stopped answering in time, came back too late, or a step
  failed), with the node it stopped at. A run still going is only started;
- a *CSAT response* is a survey with a counted score (the last answer within its window,
  resolvers/csat.py), counted when it was answered, on the survey's platform and channel, for the
  agent it rates (the assignee at the resolution): `csat_responses`, `csat_points` (the score, so
  points / responses is the mean) and `csat_satisfied` (a 4 or 5).

The dimensions (`template`: "<template id>@<version>", `arm`: "<experiment id>:<arm>", `flow`:
"<flow id>@<version>", `node`: "<flow id>@<version>:<node id>") ride in the roll-ups' label column
under a reserved first character (LABEL_MARK, a control character a conversation's label never
holds: labels are whitespace-normalised, and Python counts \\x1f as whitespace), so every roll-up
row, key and read path stays as it is; `metrics` maps them back (resolvers/metrics.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient

from core.sql import fetch
from resolvers.metrics_facts import Fact

LABEL_MARK = "\x1f"
DIMENSIONS = ("template", "arm", "flow", "node")
_MAX_LABEL = 100  # metric_rollups.label

TEMPLATE_COUNTS = ("template_uses", "template_replies", "template_resolutions")
FLOW_COUNTS = ("flow_runs_started", "flow_runs_completed", "flow_runs_handed_off", "flow_runs_dropped")
CSAT_COUNTS = ("csat_responses", "csat_points", "csat_satisfied")
COUNTS = TEMPLATE_COUNTS + FLOW_COUNTS + CSAT_COUNTS
_ENDS_CYCLE = ("resolved", "closed")
_DROPPED = ("cancelled", "failed")


def label_of(dimension: str, value: str) -> str:
    return f"{LABEL_MARK}{dimension}:{value}"[:_MAX_LABEL]


def prefix_of(dimension: str) -> str:
    return f"{LABEL_MARK}{dimension}:"


def value_of(dimension: str, label: str | None) -> str | None:
    """The group value a roll-up row's label holds for this dimension."""
    prefix = prefix_of(dimension)
    return label[len(prefix) :] if label and label.startswith(prefix) else None


def is_marked(label: str) -> bool:
    return label.startswith(LABEL_MARK)


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _fact(
    metric: str,
    at: datetime,
    where: Mapping[str, Any],
    conversation: Mapping[str, Any],
    agent: int | None,
    marks: Iterable[str],
    n: int = 1,
) -> Fact:
    return Fact(
        metric,
        at,
        n,
        None,
        None,
        str(where["platform"]),
        int(where["channel_id"]),
        int(conversation.get("team_id") or 0),
        int(agent or 0),
        tuple(sorted({*(conversation.get("labels") or ()), *marks})),
    )


def facts_of(
    conversation: Mapping[str, Any],
    messages: Iterable[Mapping[str, Any]],
    activities: Iterable[Mapping[str, Any]],
    templated: Mapping[int, Mapping[str, Any]],
    runs: Iterable[Mapping[str, Any]],
    rated: Iterable[Mapping[str, Any]] = (),
) -> list[Fact]:
    """The template, flow and CSAT facts of one conversation: `templated` maps a message id to
    its `metadata.response_template`, `runs` are its flow executions, `rated` its answered surveys."""
    return [f for _id, f in template_facts(conversation, messages, activities, templated)] + run_facts(
        conversation, runs, rated
    )


def template_facts(
    conversation: Mapping[str, Any],
    messages: Iterable[Mapping[str, Any]],
    activities: Iterable[Mapping[str, Any]],
    templated: Mapping[int, Mapping[str, Any]],
) -> list[tuple[int, Fact]]:
    """(message id, fact) of each templated send among `messages`. A send's facts depend on the
    rows after it only: the customer's next message and the next resolution."""
    messages = list(messages)
    inbound = [(m["created_at"], int(m["id"])) for m in messages if m["direction"] == "inbound"]
    resolved_at = [
        a["created_at"]
        for a in activities
        if a["type"] == "status_changed" and (_json(a.get("data")) or {}).get("to") in _ENDS_CYCLE
    ]
    facts: list[tuple[int, Fact]] = []
    for m in messages:
        template = templated.get(int(m["id"]))
        if m["direction"] != "outbound" or template is None or m.get("status") == "failed":
            continue
        at, sender = m["created_at"], m.get("sender_id")
        marks = [label_of("template", f"{template.get('id')}@{template.get('version')}")]
        if template.get("experiment") is not None:
            marks.append(label_of("arm", f"{template['experiment']}:{template.get('arm')}"))
        mid = int(m["id"])
        facts.append((mid, _fact("template_uses", at, m, conversation, sender, marks)))
        if any(i > (at, mid) for i in inbound):
            facts.append((mid, _fact("template_replies", at, m, conversation, sender, marks)))
        if any(r > at for r in resolved_at):
            facts.append((mid, _fact("template_resolutions", at, m, conversation, sender, marks)))
    return facts


def run_facts(
    conversation: Mapping[str, Any],
    runs: Iterable[Mapping[str, Any]],
    rated: Iterable[Mapping[str, Any]] = (),
) -> list[Fact]:
    """The facts of the conversation's flow runs and answered surveys (few: derived whole)."""
    facts: list[Fact] = []
    for run in runs:
        version = f"{run['flow_id']}@{run['flow_version']}"
        marks = [label_of("flow", version)]
        at = run["started_at"]
        facts.append(_fact("flow_runs_started", at, conversation, conversation, None, marks))
        if run["status"] == "completed":
            facts.append(_fact("flow_runs_completed", at, conversation, conversation, None, marks))
        if run["handed_off_at"] is not None:
            facts.append(_fact("flow_runs_handed_off", at, conversation, conversation, None, marks))
        elif run["status"] in _DROPPED:
            node = label_of("node", f"{version}:{run['node'] or '-'}")
            facts.append(_fact("flow_runs_dropped", at, conversation, conversation, None, [*marks, node]))
    for survey in rated:
        at, agent, score = survey["answered_at"], survey["agent_id"], int(survey["score"])
        facts.append(_fact("csat_responses", at, survey, conversation, agent, ()))
        facts.append(_fact("csat_points", at, survey, conversation, agent, (), n=score))
        if score >= 4:
            facts.append(_fact("csat_satisfied", at, survey, conversation, agent, ()))
    return facts


async def raw(
    conn: BaseDBAsyncClient, ids: list[int], since: list[datetime | None] | None = None
) -> tuple[
    dict[int, dict[int, dict[str, Any]]], dict[int, list[dict[str, Any]]], dict[int, list[dict[str, Any]]]
]:
    """Per conversation: its templated sends' `metadata.response_template` by message id (those
    created at or after the conversation's `since`, when given), its flow runs and its answered
    surveys."""
    templated: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
    for row in await fetch(
        "SELECT m.id, m.conversation_id, m.metadata->'response_template' AS template "
        "FROM unnest($1::int[], $2::timestamptz[]) AS b(cid, since) JOIN messages m ON m.conversation_id = b.cid "
        "AND m.created_at >= COALESCE(b.since, '-infinity') "
        "WHERE m.direction = 'outbound' AND m.metadata ? 'response_template'",
        ids,
        since or [None] * len(ids),
        conn=conn,
    ):
        template = _json(row["template"])
        if isinstance(template, dict):
            templated[row["conversation_id"]][row["id"]] = template
    runs: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in await fetch(
        "SELECT id, conversation_id, flow_id, flow_version, status, node, started_at, handed_off_at "
        "FROM flow_executions WHERE conversation_id = ANY($1::int[])",
        ids,
        conn=conn,
    ):
        runs[row["conversation_id"]].append(row)
    rated: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in await fetch(
        "SELECT conversation_id, platform, channel_id, agent_id, score, answered_at FROM csat_surveys "
        "WHERE conversation_id = ANY($1::int[]) AND score IS NOT NULL AND answered_at IS NOT NULL",
        ids,
        conn=conn,
    ):
        rated[row["conversation_id"]].append(row)
    return templated, runs, rated
