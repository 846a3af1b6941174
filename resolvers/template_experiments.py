"""A/B experiments on response templates: two or more bodies with weights, run on live sends.

Supervisors start and stop them, an admin promotes an arm (its body becomes a new version); all
audited. While one runs, each templated send picks the conversation's arm (resolvers/template_arms.py)
and records it in metadata.response_template ({experiment, arm}). The report counts outcomes from
the database, per conversation exposed (its first send from the experiment, failed sends aside):
the customer replied (an inbound message stored after it), the time to that reply, and the
conversation resolved (its status now is resolved or closed), and CSAT: a conversation is rated when
a survey sent after the exposure (resolvers/csat.py) has a score, which is the answer that counts
(the last inside the window; late presses are never counted); with several, the latest survey's.
Per arm: conversations rated, their mean score, and the satisfied share (4 or 5) as a rate over the
rated conversations. Rates, intervals and the decision: resolvers/template_stats.py.
"""

from __future__ import annotations

from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient

from core.auth import Actor
from core.sql import fetch, in_transaction
from resolvers import audit
from resolvers import template_stats as stats
from resolvers.auth import require_admin, require_supervisor
from resolvers.errors import BadInput, Conflict, NotFound
from resolvers.template_arms import parse_arms
from resolvers.templates import check_body, get_version, new_version, template_view

MIN_ARMS, MAX_ARMS = 2, 10
MAX_WEIGHT = 1000
METHOD = (
    "mSPRT (mixture sequential probability ratio test, normal mixture over the difference of "
    "proportions): valid at every look"
)
COLUMNS = (
    "id, template_id, version, arms, alpha, mixing_variance, started_by_id, started_at, "
    "stopped_by_id, stopped_at, promoted_arm, promoted_version"
)


async def start_experiment(
    actor: Actor | None, template_id: int, arms: list[dict[str, Any]]
) -> dict[str, Any]:
    """Arms: [{name, body, weight}]; a body left out is the template's current body (a control).
    The first arm is the control the others are compared with."""
    actor = require_supervisor(actor)
    current = await get_version(actor, template_id)
    cleaned = _clean_arms(arms, current["content"])
    async with in_transaction() as conn:
        # The template row lock orders this against saves and other starts: one experiment runs.
        locked = await conn.execute_query_dict(
            "SELECT version, archived_at FROM response_templates WHERE id = $1 FOR UPDATE", [template_id]
        )
        if locked[0]["archived_at"] is not None:
            raise Conflict("the template is archived", field="templateId")
        if locked[0]["version"] != current["version"]:
            raise Conflict("the template was saved meanwhile: check the arms again", field="templateId")
        running = await conn.execute_query_dict(
            "SELECT id FROM response_template_experiments WHERE template_id = $1 AND stopped_at IS NULL",
            [template_id],
        )
        if running:
            raise Conflict("an experiment is already running on this template", field="templateId")
        rows = await conn.execute_query_dict(
            "INSERT INTO response_template_experiments (template_id, version, arms, alpha, mixing_variance, "
            f"started_by_id, started_at) VALUES ($1, $2, $3::jsonb, $4, $5, $6, now()) RETURNING {COLUMNS}",
            [
                template_id,
                current["version"],
                orjson.dumps(cleaned).decode(),
                stats.ALPHA,
                stats.MIXING_VARIANCE,
                actor.user_id,
            ],
        )
        await audit.record(
            conn,
            actor,
            "template.experiment.start",
            "ResponseTemplate",
            template_id,
            {
                "experiment": rows[0]["id"],
                "arms": [{"name": a["name"], "weight": a["weight"]} for a in cleaned],
            },
        )
    return _view(rows[0])


def _clean_arms(arms: list[dict[str, Any]], content: dict[str, Any]) -> list[dict[str, Any]]:
    if not MIN_ARMS <= len(arms) <= MAX_ARMS:
        raise BadInput(f"an experiment has {MIN_ARMS} to {MAX_ARMS} arms", field="arms")
    prompts = {p["name"] for p in content["prompts"]}
    cleaned, names = [], set()
    for i, arm in enumerate(arms):
        name = " ".join(str(arm.get("name") or chr(ord("A") + i)).split())
        if not 1 <= len(name) <= 40:
            raise BadInput("an arm's name is 1 to 40 characters", field=f"arms[{i}].name")
        if name in names:
            raise BadInput(f"two arms are named {name!r}", field=f"arms[{i}].name")
        names.add(name)
        weight = arm.get("weight", 1)
        if not isinstance(weight, int) or not 1 <= weight <= MAX_WEIGHT:
            raise BadInput(f"a weight is a whole number from 1 to {MAX_WEIGHT}", field=f"arms[{i}].weight")
        body = content["body"] if arm.get("body") is None else str(arm["body"])
        # The same check as a saved body: known variables, the version's prompts, no statements.
        check_body(body, prompts, f"arms[{i}].body")
        cleaned.append({"name": name, "body": body, "weight": weight})
    if len({a["body"] for a in cleaned}) < len(cleaned):
        raise BadInput("two arms have the same body: there would be nothing to compare", field="arms")
    return cleaned


async def stop_experiment(actor: Actor | None, experiment_id: int) -> dict[str, Any]:
    """No more sends join it; its report stays, and an arm can still be promoted."""
    actor = require_supervisor(actor)
    async with in_transaction() as conn:
        row = await _stop(conn, actor, experiment_id)
        await audit.record(
            conn,
            actor,
            "template.experiment.stop",
            "ResponseTemplate",
            row["template_id"],
            {"experiment": experiment_id},
        )
    return _view(row)


async def _stop(conn: BaseDBAsyncClient, actor: Actor, experiment_id: int) -> dict[str, Any]:
    rows = await conn.execute_query_dict(
        "UPDATE response_template_experiments SET stopped_at = now(), stopped_by_id = $2 "
        f"WHERE id = $1 AND stopped_at IS NULL RETURNING {COLUMNS}",
        [experiment_id, actor.user_id],
    )
    if not rows:
        await _get_row(experiment_id)  # NotFound when there is no such experiment
        raise Conflict("the experiment is already stopped", field="id")
    return rows[0]


async def promote_arm(
    actor: Actor | None, experiment_id: int, arm: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Admins: the arm's body becomes the template's body in a new version (the rest of the
    current content as it is); a running experiment stops first. (experiment, template)."""
    actor = require_admin(actor)
    experiment = await _get_row(experiment_id)
    chosen = next((a for a in parse_arms(experiment["arms"]) if a["name"] == arm), None)
    if chosen is None:
        raise NotFound(f"the experiment has no arm named {arm!r}", field="arm")
    report = await experiment_report(actor, experiment_id)
    async with in_transaction() as conn:
        # The row lock makes a second promotion wait, then see the first and refuse.
        locked = await conn.execute_query_dict(
            "SELECT stopped_at, promoted_arm FROM response_template_experiments WHERE id = $1 FOR UPDATE",
            [experiment_id],
        )
        if locked[0]["promoted_arm"] is not None:
            raise Conflict(f"arm {locked[0]['promoted_arm']!r} was already promoted", field="id")
        if locked[0]["stopped_at"] is None:
            await _stop(conn, actor, experiment_id)
        # The current version (it may have been saved since the stop), read under its row lock so a
        # save meanwhile is not undone: only the body changes, and it must fit that version's prompts.
        current = await conn.execute_query_dict(
            "SELECT v.content FROM response_templates t JOIN response_template_versions v "
            "ON v.template_id = t.id AND v.version = t.version WHERE t.id = $1 FOR UPDATE OF t",
            [experiment["template_id"]],
        )
        content = current[0]["content"]
        content = orjson.loads(content) if isinstance(content, str) else content
        check_body(chosen["body"], {p["name"] for p in content["prompts"]}, "arm")
        note = f"arm {arm} of experiment {experiment_id} promoted"
        template = await new_version(
            conn, actor, experiment["template_id"], {**content, "body": chosen["body"]}, note
        )
        rows = await conn.execute_query_dict(
            f"UPDATE response_template_experiments SET promoted_arm = $2, promoted_version = $3 WHERE id = $1 "
            f"RETURNING {COLUMNS}",
            [experiment_id, arm, template["version"]],
        )
        await audit.record(
            conn,
            actor,
            "template.experiment.promote",
            "ResponseTemplate",
            experiment["template_id"],
            {
                "experiment": experiment_id,
                "arm": arm,
                "version": template["version"],
                "winner": report["winner"],  # what the test said when the admin chose
            },
        )
    return _view(rows[0]), template_view(template)


# ---- reading -----------------------------------------------------------------------------------


def _view(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "arms": parse_arms(row["arms"])}


async def _get_row(experiment_id: int) -> dict[str, Any]:
    rows = await fetch(f"SELECT {COLUMNS} FROM response_template_experiments WHERE id = $1", experiment_id)
    if not rows:
        raise NotFound(f"experiment {experiment_id} does not exist", field="id")
    return rows[0]


async def list_experiments(actor: Actor | None, template_id: int) -> list[dict[str, Any]]:
    actor = require_supervisor(actor)
    await get_version(actor, template_id)  # NotFound for a template that does not exist
    rows = await fetch(
        f"SELECT {COLUMNS} FROM response_template_experiments WHERE template_id = $1 ORDER BY id DESC",
        template_id,
    )
    return [_view(r) for r in rows]


async def get_experiment(actor: Actor | None, experiment_id: int) -> dict[str, Any]:
    require_supervisor(actor)
    return _view(await _get_row(experiment_id))


# Per conversation exposed: its first send from the experiment (a failed send reached nobody),
# the first customer message stored after it, the conversation's status now, and the score of the
# latest answered CSAT survey sent after it (csat_surveys.score holds only the counted answer).
_OUTCOMES = """
WITH exposed AS (
    SELECT DISTINCT ON (m.conversation_id) m.conversation_id, m.id, m.created_at,
           m.metadata -> 'response_template' ->> 'arm' AS arm
    FROM messages m
    WHERE m.metadata -> 'response_template' ->> 'experiment' = $1::text
      AND m.direction = 'outbound' AND m.status <> 'failed'
    ORDER BY m.conversation_id, m.id
), outcomes AS (
    SELECT e.arm, c.status IN ('resolved', 'closed') AS resolved, q.score,
           -- now() is each transaction's start, so a reply stored after the send may carry an
           -- instant before it: such a reply took 0 s. (GREATEST alone would also make "no reply" 0.)
           CASE WHEN r.first_reply IS NOT NULL
                THEN GREATEST(0, EXTRACT(EPOCH FROM r.first_reply - e.created_at)) END AS reply_seconds
    FROM exposed e
    JOIN conversations c ON c.id = e.conversation_id
    LEFT JOIN LATERAL (
        SELECT min(i.created_at) AS first_reply FROM messages i
        WHERE i.conversation_id = e.conversation_id AND i.direction = 'inbound' AND i.id > e.id
    ) r ON true
    LEFT JOIN LATERAL (
        SELECT s.score FROM csat_surveys s
        WHERE s.conversation_id = e.conversation_id AND s.score IS NOT NULL AND s.message_id > e.id
        ORDER BY s.id DESC LIMIT 1
    ) q ON true
)
SELECT arm, count(*) AS conversations, count(reply_seconds) AS replied,
       count(*) FILTER (WHERE resolved) AS resolved,
       avg(reply_seconds)::float8 AS mean_reply_seconds,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY reply_seconds)::float8 AS median_reply_seconds,
       count(score) AS rated, count(*) FILTER (WHERE score >= 4) AS satisfied,
       avg(score)::float8 AS mean_score
FROM outcomes GROUP BY arm
"""


async def experiment_report(actor: Actor | None, experiment_id: int) -> dict[str, Any]:
    """Each arm's outcomes with always-valid intervals, each arm against the control (the first)
    on reply, resolution and satisfied (CSAT 4–5, over the rated conversations) rates, and the
    winner on the reply rate when the test finds one."""
    experiment = await get_experiment(actor, experiment_id)
    counted = {r["arm"]: r for r in await fetch(_OUTCOMES, str(experiment_id))}
    tau2, arms = experiment["mixing_variance"], experiment["arms"]
    alpha = stats.bonferroni(experiment["alpha"], len(arms))

    def outcome(arm: dict[str, Any], key: str, units: str = "conversations") -> tuple[int, int]:
        row = counted.get(arm["name"])
        return (row[key], row[units]) if row else (0, 0)

    control = arms[0]
    report_arms = []
    for arm in arms:
        row = counted.get(arm["name"]) or {}
        report_arms.append(
            {
                **arm,
                "conversations": row.get("conversations", 0),
                "replied": stats.rate(*outcome(arm, "replied"), tau2, alpha),
                "resolved": stats.rate(*outcome(arm, "resolved"), tau2, alpha),
                "mean_reply_seconds": row.get("mean_reply_seconds"),
                "median_reply_seconds": row.get("median_reply_seconds"),
                "replied_vs_control": None
                if arm is control
                else stats.compare(outcome(control, "replied"), outcome(arm, "replied"), tau2, alpha),
                "resolved_vs_control": None
                if arm is control
                else stats.compare(outcome(control, "resolved"), outcome(arm, "resolved"), tau2, alpha),
                "rated": row.get("rated", 0),
                "mean_score": row.get("mean_score"),
                "satisfied": stats.rate(*outcome(arm, "satisfied", "rated"), tau2, alpha),
                "satisfied_vs_control": None
                if arm is control
                else stats.compare(
                    outcome(control, "satisfied", "rated"), outcome(arm, "satisfied", "rated"), tau2, alpha
                ),
            }
        )
    return {**experiment, "arms": report_arms, "winner": _winner(report_arms), "method": METHOD}


def _winner(arms: list[dict[str, Any]]) -> str | None:
    """The arm that beats the control on the reply rate by the most, among those significantly
    better; the control when every other arm is significantly worse; else none yet."""
    challengers = [a for a in arms[1:] if a["replied_vs_control"].significant]
    better = [a for a in challengers if a["replied_vs_control"].difference > 0]
    if better:
        return max(better, key=lambda a: a["replied_vs_control"].difference)["name"]
    if len(challengers) == len(arms) - 1:
        return arms[0]["name"]
    return None
