"""Template and flow performance, CSAT and webhook availability in the metrics service, with known
answers: templated sends (two versions, an experiment's arms, a failed send) with replies and a
resolution; flow runs completed, handed off, dropped at a node, still going; answered and
unanswered surveys; webhooks accepted, refused and failed (our side broken) on a channel of their
own. All read through `metrics` from the roll-ups."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from core.sql import fetch
from ingress import webhooks as ingress_webhooks
from models import Role
from resolvers import webhook_availability
from schema.relay import to_global_id
from tests.helpers import (
    error_code,
    gql,
    login,
    make_user,
    make_whatsapp_channel,
    post_webhook,
    wa_text_payload,
)
from tests.test_metrics import World, announce, settle, window

METRICS = """query($names: [String!]!, $range: MetricRange!, $filter: MetricFilter, $groupBy: [MetricDimension!]) {
  metrics(names: $names, range: $range, filter: $filter, groupBy: $groupBy) {
    metric count value numerator group { channelId label template arm flow node } } }"""
MONDAY = datetime(2026, 9, 14, 9, 0, tzinfo=UTC)


# An experiment id no real experiment has: the test database is shared, and the experiment report
# of tests/test_template_experiments.py counts every send naming its (serial) id.
EXPERIMENT = 2_000_000_007


def _table(rows: list[dict[str, Any]], dimension: str | None) -> dict[tuple, tuple]:
    """(metric, group value) → (count, numerator, value)."""
    return {
        (r["metric"], r["group"][dimension] if dimension else None): (r["count"], r["numerator"], r["value"])
        for r in rows
    }


async def _flow(name: str) -> int:
    rows = await fetch(
        "INSERT INTO flows (name, version, created_at, updated_at) VALUES ($1, 2, now(), now()) RETURNING id",
        name,
    )
    return rows[0]["id"]


async def _run(
    flow: int, version: int, conversation: int, status: str, started: datetime, **extra: Any
) -> None:
    await fetch(
        "INSERT INTO flow_executions (flow_id, flow_version, conversation_id, status, node, state, trigger, "
        "trigger_key, started_at, handed_off_at, finished_at) VALUES ($1, $2, $3, $4, $5, '{}'::jsonb, 'keyword', "
        "$6, $7, $8, $9)",
        flow,
        version,
        conversation,
        status,
        extra.get("node"),
        uuid.uuid4().hex,
        started,
        extra.get("handed_off_at"),
        extra.get("finished_at"),
    )


async def _survey(conversation: int, agent: Any, score: int | None, answered: datetime | None) -> None:
    await fetch(
        "INSERT INTO csat_surveys (conversation_id, channel_id, platform, status, agent_id, resolved_at, due_at, "
        "sent_at, expires_at, score, answered_at) SELECT id, channel_id, platform, 'sent', $2, $3::timestamptz, $3, $3, "
        "$3 + interval '1 day', $4, $5 FROM conversations WHERE id = $1",
        conversation,
        getattr(agent, "id", agent),
        MONDAY,
        score,
        answered,
    )


async def test_template_and_flow_performance_known_answers(server):
    world = await World().setup()
    ana = await world.agent()
    t = 900_000 + int(uuid.uuid4().int % 99_999)  # a template id of its own (no row needed)
    m = MONDAY
    one = await world.conversation(labels=("vip",))
    two = await world.conversation()
    three = await world.conversation()
    v1 = {"id": t, "version": 1, "variant": None}
    b = {"id": t, "version": 2, "variant": "B", "experiment": EXPERIMENT, "arm": "B"}
    a = {"id": t, "version": 2, "variant": "A", "experiment": EXPERIMENT, "arm": "A"}
    # One: a version-1 use the customer answered, an arm-B use, then resolved; a failed arm-A send.
    await world.message(one, "inbound", m)
    await world.message(one, "outbound", m + timedelta(minutes=5), ana, metadata={"response_template": v1})
    await world.message(one, "inbound", m + timedelta(minutes=10))
    await world.message(one, "outbound", m + timedelta(minutes=20), ana, metadata={"response_template": b})
    await world.activity(one, m + timedelta(hours=1), "status_changed", ana, to="resolved")
    await world.message(
        one, "outbound", m + timedelta(hours=2), ana, status="failed", metadata={"response_template": a}
    )
    # Two: an arm-A use nobody answered, never resolved.
    await world.message(two, "inbound", m)
    await world.message(two, "outbound", m + timedelta(minutes=30), ana, metadata={"response_template": a})
    # Flows: version 1 completed, handed off, dropped waiting at ask_email; version 2 failed at
    # call_api, and one still waiting at ask_name.
    flow = await _flow(f"metrics flow {uuid.uuid4().hex[:6]}")
    await _run(flow, 1, one, "completed", m, node="bye", finished_at=m + timedelta(minutes=5))
    await _run(
        flow,
        1,
        two,
        "paused",
        m + timedelta(minutes=10),
        node="menu",
        handed_off_at=m + timedelta(minutes=12),
    )
    await _run(
        flow,
        1,
        three,
        "cancelled",
        m + timedelta(minutes=20),
        node="ask_email",
        finished_at=m + timedelta(hours=1),
    )
    await _run(
        flow,
        2,
        three,
        "failed",
        m + timedelta(minutes=30),
        node="call_api",
        finished_at=m + timedelta(minutes=31),
    )
    await _run(flow, 2, one, "waiting", m + timedelta(minutes=40), node="ask_name")
    # CSAT: a 5 and a 2 for Ana; a survey nobody answered counts for nothing.
    await _survey(one, ana, 5, m + timedelta(hours=3))
    await _survey(two, ana, 2, m + timedelta(hours=4))
    await _survey(three, ana, None, None)
    await announce(one, two, three)
    await settle()

    token = await login(server, await make_user(Role.ADMIN))
    mine = {"channelIds": [to_global_id("Channel", world.channel.id)]}

    async def ask(names: list[str], group_by: list[str], filter_: dict | None = None) -> dict[tuple, tuple]:
        variables = {"names": names, "range": window(m), "filter": mine if filter_ is None else filter_,
                     "groupBy": group_by}  # fmt: skip
        body = await gql(server, METRICS, variables, token)
        assert body.get("errors") is None, body
        return _table(body["data"]["metrics"], group_by[0].lower() if group_by else None)

    templates = ["template_uses", "template_replies", "template_resolutions", "template_reply_rate",
                 "template_resolution_rate"]  # fmt: skip
    assert await ask(templates, ["TEMPLATE"]) == {
        ("template_uses", f"{t}@1"): (1, None, None),
        ("template_uses", f"{t}@2"): (2, None, None),
        ("template_replies", f"{t}@1"): (1, None, None),
        ("template_resolutions", f"{t}@1"): (1, None, None),
        ("template_resolutions", f"{t}@2"): (1, None, None),
        ("template_reply_rate", f"{t}@1"): (1, 1, 1.0),
        ("template_reply_rate", f"{t}@2"): (2, 0, 0.0),
        ("template_resolution_rate", f"{t}@1"): (1, 1, 1.0),
        ("template_resolution_rate", f"{t}@2"): (2, 1, 0.5),
    }
    assert await ask(["template_uses", "template_resolution_rate"], ["ARM"]) == {
        ("template_uses", f"{EXPERIMENT}:A"): (1, None, None),  # the failed send is no use
        ("template_uses", f"{EXPERIMENT}:B"): (1, None, None),
        ("template_resolution_rate", f"{EXPERIMENT}:A"): (1, 0, 0.0),
        ("template_resolution_rate", f"{EXPERIMENT}:B"): (1, 1, 1.0),
    }
    # Without a filter the marginal rows answer (every template of the installation: keep ours).
    everywhere = await ask(["template_uses", "template_replies"], ["TEMPLATE"], {})
    assert {k: v for k, v in everywhere.items() if k[1].startswith(f"{t}@")} == {
        ("template_uses", f"{t}@1"): (1, None, None),
        ("template_uses", f"{t}@2"): (2, None, None),
        ("template_replies", f"{t}@1"): (1, None, None),
    }
    assert await ask(["template_uses"], []) == {("template_uses", None): (3, None, None)}
    # A label filter counts the conversation's labels, as for every metric; LABEL groups never
    # show the template and flow dimensions.
    assert await ask(["template_uses"], [], {**mine, "label": "vip"}) == {
        ("template_uses", None): (2, None, None)
    }
    assert await ask(["template_uses"], ["LABEL"]) == {("template_uses", "vip"): (2, None, None)}

    flows = ["flow_runs_started", "flow_runs_completed", "flow_runs_handed_off", "flow_runs_dropped",
             "flow_completion_rate", "flow_drop_rate"]  # fmt: skip
    assert await ask(flows, ["FLOW"]) == {
        ("flow_runs_started", f"{flow}@1"): (3, None, None),
        ("flow_runs_started", f"{flow}@2"): (2, None, None),
        ("flow_runs_completed", f"{flow}@1"): (1, None, None),
        ("flow_runs_handed_off", f"{flow}@1"): (1, None, None),
        ("flow_runs_dropped", f"{flow}@1"): (1, None, None),
        ("flow_runs_dropped", f"{flow}@2"): (1, None, None),
        ("flow_completion_rate", f"{flow}@1"): (3, 1, 1 / 3),
        ("flow_completion_rate", f"{flow}@2"): (2, 0, 0.0),
        ("flow_drop_rate", f"{flow}@1"): (3, 1, 1 / 3),
        ("flow_drop_rate", f"{flow}@2"): (2, 1, 0.5),
    }
    assert await ask(["flow_runs_dropped"], ["NODE"]) == {
        ("flow_runs_dropped", f"{flow}@1:ask_email"): (1, None, None),
        ("flow_runs_dropped", f"{flow}@2:call_api"): (1, None, None),
    }
    csat = ["csat_responses", "csat_points", "csat_satisfied", "csat_average", "csat_satisfaction"]
    assert await ask(csat, []) == {
        ("csat_responses", None): (2, None, None),
        ("csat_points", None): (7, None, None),
        ("csat_satisfied", None): (1, None, None),
        ("csat_average", None): (2, 7, 3.5),
        ("csat_satisfaction", None): (2, 1, 0.5),
    }
    # The template and flow dimensions share the label column: one of them (or LABEL) at a time.
    variables = {
        "names": ["template_uses"],
        "range": window(m),
        "filter": mine,
        "groupBy": ["TEMPLATE", "LABEL"],
    }
    assert error_code(await gql(server, METRICS, variables, token)) == "BAD_USER_INPUT"
    variables = {
        "names": ["template_uses"],
        "range": window(m),
        "filter": {**mine, "label": "vip"},
        "groupBy": ["ARM"],
    }
    assert error_code(await gql(server, METRICS, variables, token)) == "BAD_USER_INPUT"


async def test_webhook_availability_per_channel(server, monkeypatch):
    channel, secrets = await make_whatsapp_channel("http://127.0.0.1:9")
    for _ in range(3):
        body = wa_text_payload(channel.config["phone_number_id"], "4420" + str(uuid.uuid4().int)[:8], "hi")
        assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200
    body = wa_text_payload(channel.config["phone_number_id"], "44209", "forged")
    assert (await post_webhook(server, channel, "not-the-secret", body)).status_code == 401

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("storage broke")

    monkeypatch.setattr(ingress_webhooks, "ingest", broken)  # verified, then our side fails
    body = wa_text_payload(channel.config["phone_number_id"], "4420" + str(uuid.uuid4().int)[:8], "lost?")
    assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code >= 500
    monkeypatch.undo()
    await webhook_availability.flush()  # what the process does every second

    token = await login(server, await make_user(Role.ADMIN))
    now = datetime.now(UTC)
    variables = {
        "names": ["webhook_availability", "webhooks_accepted", "webhooks_refused", "webhooks_failed"],
        "range": {
            "from": (now - timedelta(hours=2)).isoformat(),
            "to": (now + timedelta(hours=1)).isoformat(),
        },
        "filter": {"channelIds": [to_global_id("Channel", channel.id)]},
        "groupBy": ["CHANNEL"],
    }
    body = await gql(server, METRICS, variables, token)
    assert body.get("errors") is None, body
    cid = to_global_id("Channel", channel.id)
    assert _table(body["data"]["metrics"], "channelId") == {
        ("webhook_availability", cid): (5, 3, 0.6),
        ("webhooks_accepted", cid): (3, None, None),
        ("webhooks_refused", cid): (1, None, None),
        ("webhooks_failed", cid): (1, None, None),
    }
    # Per platform too, from the same rows (other tests' WhatsApp webhooks count there as well).
    variables = {**variables, "filter": {"platforms": ["WHATSAPP"]}, "groupBy": ["PLATFORM"]}
    body = await gql(server, METRICS, variables, token)
    (row,) = [r for r in body["data"]["metrics"] if r["metric"] == "webhooks_refused"]
    assert row["count"] >= 1
