"""A/B experiments on response templates: arms by a hash (the same conversation, the same arm),
outcomes counted from what the database holds after scripted conversations through the real app,
and the always-valid decision (mSPRT) checked against the mixture integrated numerically here,
independently of the closed form in resolvers/template_stats.py."""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
import uuid
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.fakes.whatsapp import inbound_text_payload
from core.sql import fetch
from models import AuditLog, Conversation, CsatSurvey, ResponseTemplate, ResponseTemplateVersion, Role
from models.templates import ResponseTemplateExperiment
from resolvers import template_stats
from resolvers.template_arms import assign_arm
from schema.relay import decode_id, to_global_id
from tests.helpers import error_code, eventually, gql, login, make_user, post_webhook, wa_text_payload

START = """mutation($input: StartTemplateExperimentInput!) { startTemplateExperiment(input: $input) {
  id running version } }"""
STOP = "mutation($id: ID!) { stopTemplateExperiment(id: $id) { running stoppedAt } }"
PROMOTE = """mutation($id: ID!, $arm: String!) { promoteTemplateVariant(id: $id, arm: $arm) {
  experiment { promotedArm promotedVersion running } template { version body } } }"""
REPORT = """query($id: ID!) { templateExperiment(id: $id) { running winner method alpha
  arms { name weight conversations meanReplySeconds medianReplySeconds
    replied { successes conversations rate low high }
    resolved { successes conversations rate low high }
    repliedVsControl { difference low high likelihoodRatio pValue significant }
    resolvedVsControl { difference significant }
    rated meanScore satisfied { successes conversations rate low high }
    satisfiedVsControl { difference likelihoodRatio significant } } } }"""
SAVE = "mutation($input: SaveTemplateInput!) { saveTemplate(input: $input) { id version name } }"
SEND = "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id text metadata } }"
RENDER = "query($id: ID!, $c: ID!) { renderTemplate(id: $id, conversationId: $c) { text arm } }"
CSAT_ON = """mutation($c: ID!) { saveCsatSettings(channelId: $c, enabled: true, delaySeconds: 0,
  windowSeconds: 3600, commentSeconds: 0) { enabled } }"""
STATUS = """mutation($c: ID!) { setConversationStatus(conversationId: $c, status: RESOLVED) { status } }"""

CONTROL = "Olá {{nome}}, posso ajudar em algo mais?"
CHALLENGER = 'Oi {{ customer.first_name | "cliente" }}! Ficou alguma dúvida?'


@pytest.fixture
async def supervisor(server: str) -> str:
    return await login(server, await make_user(Role.SUPERVISOR))


async def _ok(server: str, document: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    body = await gql(server, document, variables, token)
    assert body.get("errors") is None, body
    return body["data"]


async def _template(server: str, token: str) -> dict[str, Any]:
    name = f"Follow-up {uuid.uuid4().hex[:6]}"
    return (await _ok(server, SAVE, {"input": {"name": name, "body": CONTROL}}, token))["saveTemplate"]


async def _start(server: str, token: str, template_id: str, *arms: dict[str, Any]) -> str:
    data = await _ok(server, START, {"input": {"templateId": template_id, "arms": list(arms)}}, token)
    return data["startTemplateExperiment"]["id"]


# ---- arms ------------------------------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(
    st.integers(1, 2**31 - 1),
    st.integers(1, 2**31 - 1),
    st.lists(st.integers(1, 1000), min_size=2, max_size=10),
)
def test_an_arm_is_a_function_of_the_experiment_and_the_conversation(
    experiment: int, conversation: int, weights: list[int]
) -> None:
    arm = assign_arm(experiment, conversation, weights)
    assert 0 <= arm < len(weights)
    assert all(assign_arm(experiment, conversation, weights) == arm for _ in range(3))


def test_arms_follow_their_weights_and_differ_between_experiments() -> None:
    conversations = range(1, 8001)
    arms = [assign_arm(17, c, [1, 3]) for c in conversations]
    assert abs(arms.count(0) / len(arms) - 0.25) < 0.02  # 4.5 standard deviations
    # Another experiment splits the same conversations afresh, not in the same pattern.
    other = [assign_arm(18, c, [1, 3]) for c in conversations]
    assert 0.3 < sum(a != b for a, b in zip(arms, other, strict=True)) / len(arms) < 0.45


# ---- the decision, against an independent computation -----------------------------------------


def _normal_pdf(x: float, mean: float, variance: float) -> float:
    return math.exp(-((x - mean) ** 2) / (2 * variance)) / math.sqrt(2 * math.pi * variance)


def _integrated_ratio(d: float, variance: float, tau2: float, theta0: float = 0.0) -> float:
    """Λ(θ0) by definition: the likelihood of d mixed over θ ~ N(θ0, τ²), over its likelihood at θ0,
    integrated with Simpson's rule (no closed form)."""
    lo, hi, steps = theta0 - 12 * math.sqrt(tau2), theta0 + 12 * math.sqrt(tau2), 3000
    h = (hi - lo) / steps
    total = 0.0
    for i in range(steps + 1):
        theta = lo + i * h
        weight = 1 if i in (0, steps) else (4 if i % 2 else 2)
        total += weight * _normal_pdf(d, theta, variance) * _normal_pdf(theta, theta0, tau2)
    return total * h / 3 / _normal_pdf(d, theta0, variance)


def _variance(x: int, n: int) -> float:
    p = (x + 1) / (n + 2)
    return p * (1 - p) / n


def _independent(control: tuple[int, int], arm: tuple[int, int], tau2: float, alpha: float) -> dict[str, Any]:
    (x0, n0), (x1, n1) = control, arm
    d = x1 / n1 - x0 / n0
    v = _variance(x0, n0) + _variance(x1, n1)
    ratio = _integrated_ratio(d, v, tau2)

    def edge(direction: int) -> float:
        """The θ0 on that side where Λ(θ0) falls to 1/alpha: bisection on the integral."""
        near, far = d, d + direction
        for _ in range(40):
            mid = (near + far) / 2
            near, far = (mid, far) if _integrated_ratio(d, v, tau2, mid) < 1 / alpha else (near, mid)
        return (near + far) / 2

    return {"difference": d, "ratio": ratio, "low": edge(-1), "high": edge(+1)}


def _independent_rate(x: int, n: int, tau2: float, alpha: float) -> tuple[float, float, float] | None:
    """One rate's always-valid interval by definition: the θ0 where the integrated Λ(θ0) reaches
    1/alpha on each side of x/n (bisection), clipped to [0, 1]; None with no units."""
    if n == 0:
        return None
    d, v = x / n, _variance(x, n)

    def edge(direction: int) -> float:
        near, far = d, d + 2 * direction
        for _ in range(40):
            mid = (near + far) / 2
            near, far = (mid, far) if _integrated_ratio(d, v, tau2, mid) < 1 / alpha else (near, mid)
        return (near + far) / 2

    return d, max(0.0, edge(-1)), min(1.0, edge(+1))


def _wa_button(phone_number_id: str, wa_id: str, row_id: str) -> bytes:
    """The customer chose a row of the survey's interactive list."""
    payload = inbound_text_payload(phone_number_id, wa_id=wa_id, name="Ana Souza", text="-")
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message.pop("text")
    message.update(
        type="interactive", interactive={"type": "list_reply", "list_reply": {"id": row_id, "title": "x"}}
    )
    return orjson.dumps(payload)


def _two_sided_z_p(control: tuple[int, int], arm: tuple[int, int]) -> float:
    """The fixed-sample test a spreadsheet would run (pooled z): for contrast, not for deciding."""
    (x0, n0), (x1, n1) = control, arm
    pooled = (x0 + x1) / (n0 + n1)
    z = (x1 / n1 - x0 / n0) / math.sqrt(pooled * (1 - pooled) * (1 / n0 + 1 / n1))
    return math.erfc(abs(z) / math.sqrt(2))


@pytest.mark.parametrize(
    ("control", "arm", "significant"),
    [((12, 60), (40, 60), True), ((30, 60), (33, 60), False), ((25, 80), (38, 80), False)],
)
def test_the_closed_form_matches_the_mixture_integrated_numerically(
    control: tuple[int, int], arm: tuple[int, int], significant: bool
) -> None:
    tau2, alpha = template_stats.MIXING_VARIANCE, template_stats.ALPHA
    ours = template_stats.compare(control, arm, tau2, alpha)
    expected = _independent(control, arm, tau2, alpha)
    assert ours.difference == pytest.approx(expected["difference"])
    assert ours.likelihood_ratio == pytest.approx(expected["ratio"], rel=1e-6)
    assert ours.p_value == pytest.approx(min(1.0, 1 / expected["ratio"]), rel=1e-6)
    assert (ours.low, ours.high) == pytest.approx((expected["low"], expected["high"]), abs=1e-6)
    assert ours.significant is significant is (expected["ratio"] >= 1 / alpha)
    if control == (25, 80):
        # A fixed-sample z-test calls this one at p < 0.05: read daily, that is how false winners are made.
        assert _two_sided_z_p(control, arm) < 0.05


def test_looking_every_day_keeps_the_false_winner_rate_under_alpha() -> None:
    """Under no difference, 300 experiments read daily for 40 days (15 conversations per arm a day):
    the mSPRT calls a winner at most alpha of the time; a z-test read the same way far more often."""
    rng, alpha = random.Random(11), template_stats.ALPHA
    msprt_false, z_false = 0, 0
    for _ in range(300):
        x0 = x1 = n = 0
        hit_msprt = hit_z = False
        for _day in range(40):
            x0 += sum(rng.random() < 0.3 for _ in range(15))
            x1 += sum(rng.random() < 0.3 for _ in range(15))
            n += 15
            hit_msprt |= template_stats.compare((x0, n), (x1, n), alpha=alpha).significant
            hit_z |= 0 < x0 + x1 < 2 * n and _two_sided_z_p((x0, n), (x1, n)) < alpha
        msprt_false += hit_msprt
        z_false += hit_z
    assert msprt_false / 300 <= alpha
    assert z_false / 300 > 2 * alpha


async def _scripted(
    channel_id: int,
    template_pk: int,
    experiment_pk: int,
    plan: dict[str, list[tuple[bool, bool]]],
    send_status: str = "sent",
) -> None:
    """Conversations as the database would hold them after sends from the experiment: per arm,
    (the customer replied after it, the conversation is resolved now)."""
    for arm, outcomes in plan.items():
        for replied, resolved in outcomes:
            customer = (
                await fetch(
                    "INSERT INTO customers (name, created_at, updated_at) VALUES ('Exp', now(), now()) RETURNING id"
                )
            )[0]["id"]
            identity = (
                await fetch(
                    "INSERT INTO customer_identities (customer_id, channel_id, platform, external_id, created_at) "
                    "VALUES ($1, $2, 'whatsapp', $3, now()) RETURNING id",
                    customer,
                    channel_id,
                    uuid.uuid4().hex,
                )
            )[0]["id"]
            conversation = (
                await fetch(
                    "INSERT INTO conversations (platform, status, unread_count, created_at, updated_at, channel_id, "
                    "customer_id, identity_id) VALUES ('whatsapp', $1, 0, now(), now(), $2, $3, $4) RETURNING id",
                    "resolved" if resolved else "open",
                    channel_id,
                    customer,
                    identity,
                )
            )[0]["id"]
            metadata = {
                "response_template": {
                    "id": template_pk,
                    "version": 1,
                    "variant": "universal",
                    "experiment": experiment_pk,
                    "arm": arm,
                }
            }
            messages = [("outbound", send_status, metadata)] + (
                [("inbound", "received", {})] if replied else []
            )
            for direction, status, meta in messages:
                await fetch(
                    "INSERT INTO messages (conversation_id, channel_id, identity_id, platform, direction, kind, text, "
                    "status, attachments, metadata, created_at, send_attempts) "
                    "VALUES ($1, $2, $3, 'whatsapp', $4, 'text', 'x', $5, '[]'::jsonb, $6::jsonb, now(), 0)",
                    conversation,
                    channel_id,
                    identity,
                    direction,
                    status,
                    json.dumps(meta),
                )


@pytest.mark.parametrize(
    ("control", "arm", "winner"), [((12, 60), (40, 60), "B"), ((30, 60), (33, 60), None)]
)
async def test_the_report_decides_as_the_independent_computation_does(
    server, wa, supervisor, control: tuple[int, int], arm: tuple[int, int], winner: str | None
):
    channel, _, _ = wa
    template = await _template(server, supervisor)
    experiment_id = await _start(
        server, supervisor, template["id"], {"name": "A"}, {"name": "B", "body": CHALLENGER}
    )
    plan = {name: [(i < x, i % 3 == 0) for i in range(n)] for name, (x, n) in (("A", control), ("B", arm))}
    template_pk = decode_id(template["id"], "ResponseTemplate")
    experiment_pk = decode_id(experiment_id, "TemplateExperiment")
    await _scripted(
        channel.id,
        template_pk,
        experiment_pk,
        plan,
    )
    # A send that failed reached nobody: its conversation is not counted, whatever followed.
    await _scripted(channel.id, template_pk, experiment_pk, {"A": [(True, True)]}, send_status="failed")

    report = (await _ok(server, REPORT, {"id": experiment_id}, supervisor))["templateExperiment"]
    assert report["winner"] == winner and "mSPRT" in report["method"], report["arms"]
    a, b = report["arms"]
    assert (a["replied"]["successes"], a["replied"]["conversations"]) == control
    assert (b["replied"]["successes"], b["replied"]["conversations"]) == arm
    assert a["resolved"]["successes"] == 20 and a["repliedVsControl"] is None
    expected = _independent(control, arm, template_stats.MIXING_VARIANCE, template_stats.ALPHA)
    comparison = b["repliedVsControl"]
    assert comparison["likelihoodRatio"] == pytest.approx(expected["ratio"], rel=1e-6)
    assert (comparison["low"], comparison["high"]) == pytest.approx(
        (expected["low"], expected["high"]), abs=1e-6
    )
    assert comparison["significant"] is (winner is not None)
    assert b["resolvedVsControl"] == {"difference": pytest.approx(0.0), "significant": False}
    # Each rate's interval holds its rate.
    for each in (a, b):
        assert each["replied"]["low"] <= each["replied"]["rate"] <= each["replied"]["high"]


# ---- through the real app ------------------------------------------------------------------------


async def _new_conversation(server: str, wa: Any) -> tuple[Conversation, str]:
    channel, secrets, _ = wa
    wa_id = "5511" + str(uuid.uuid4().int % 10**9).zfill(9)
    body = wa_text_payload(channel.config["phone_number_id"], wa_id, "Oi", name="Ana Souza")
    assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200
    conversation = await Conversation.filter(channel_id=channel.id).order_by("-id").first()
    assert conversation is not None
    return conversation, wa_id


async def _send(server: str, token: str, template_id: str, conversation_id: int) -> dict[str, Any]:
    fields = {
        "conversationId": to_global_id("Conversation", conversation_id),
        "clientMessageId": str(uuid.uuid4()),
        "responseTemplate": {"id": template_id},
    }
    return (await _ok(server, SEND, {"input": fields}, token))["sendMessage"]


async def test_outcomes_are_counted_per_arm_from_scripted_conversations(server, wa, supervisor):
    channel, secrets, _ = wa
    template = await _template(server, supervisor)
    experiment_id = await _start(
        server, supervisor, template["id"], {"name": "A"}, {"name": "B", "body": CHALLENGER}
    )
    experiment_pk = decode_id(experiment_id, "TemplateExperiment")
    agent = await login(server, await make_user(Role.AGENT))
    admin = await login(server, await make_user(Role.ADMIN))
    await _ok(server, CSAT_ON, {"c": to_global_id("Channel", channel.id)}, admin)  # surveys on resolve
    began = time.monotonic()

    # Conversations until each arm has three; each gets its arm in the preview and the send.
    script: list[tuple[Conversation, str, str]] = []
    while min(sum(1 for *_, arm in script if arm == name) for name in "AB") < 3:
        assert len(script) < 30, "the hash never gave one arm three conversations"
        conversation, wa_id = await _new_conversation(server, wa)
        expected = "AB"[assign_arm(experiment_pk, conversation.id, [1, 1])]
        preview = await _ok(
            server, RENDER, {"id": template["id"], "c": to_global_id("Conversation", conversation.id)}, agent
        )
        assert preview["renderTemplate"]["arm"] == expected
        sent = await _send(server, agent, template["id"], conversation.id)
        assert sent["metadata"]["response_template"]["arm"] == expected
        assert sent["metadata"]["response_template"]["experiment"] == experiment_pk
        assert sent["text"] == (
            "Olá Ana Souza, posso ajudar em algo mais?" if expected == "A" else "Oi Ana! Ficou alguma dúvida?"
        )
        script.append((conversation, wa_id, expected))

    # The same conversation always gets the same arm; a second send does not count it twice.
    again = await _send(server, agent, template["id"], script[0][0].id)
    assert again["metadata"]["response_template"]["arm"] == script[0][2]

    # The script: who replies after the send (everyone wrote once before it: that does not count),
    # and which conversations are resolved.
    phone = channel.config["phone_number_id"]
    replies = {i for i in range(len(script)) if i % 2 == 0}
    resolved = {i for i in range(len(script)) if i % 3 != 1}
    for i, (conversation, wa_id, _) in enumerate(script):
        if i in replies:
            body = wa_text_payload(phone, wa_id, "Obrigada!", name="Ana Souza")
            assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200
        if i in resolved:
            await _ok(server, STATUS, {"c": to_global_id("Conversation", conversation.id)}, agent)

    # CSAT: each resolution sends a survey; the customers answer (typed 1–5). One changes their mind
    # (the last answer counts), one presses a button after the window (kept, never counted), the
    # last resolved one never answers. `rated` is what should count, worked out here.
    rated: dict[int, int] = {}
    for k, i in enumerate(sorted(resolved)):
        conversation, wa_id, _ = script[i]

        async def sent(cid: int = conversation.id) -> CsatSurvey | None:
            return await CsatSurvey.get_or_none(conversation_id=cid, status="sent")

        survey = await eventually(sent, timeout=30)

        async def delivered(message_id: int | None = survey.message_id) -> bool:
            rows = await fetch("SELECT status FROM messages WHERE id = $1", message_id)
            return bool(rows) and rows[0]["status"] != "queued"

        await eventually(delivered, timeout=30)  # the customer has the question before answering
        if i == max(resolved):
            continue
        typed = [["2", "5"], ["3"], ["4"], ["1"]][k % 4]
        for score in typed:
            body = wa_text_payload(phone, wa_id, score, name="Ana Souza")
            assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200
        rated[i] = int(typed[-1])
        if k % 4 == 2:
            await fetch(
                "UPDATE csat_surveys SET expires_at = now() - interval '1 second' WHERE id = $1", survey.id
            )
            late = _wa_button(phone, wa_id, f"csat:{survey.id}:1")
            assert (await post_webhook(server, channel, secrets["app_secret"], late)).status_code == 200
        assert (await CsatSurvey.get(id=survey.id)).score == rated[i]

    report = (await _ok(server, REPORT, {"id": experiment_id}, supervisor))["templateExperiment"]
    elapsed = time.monotonic() - began
    for arm in report["arms"]:
        mine = [i for i, (*_, name) in enumerate(script) if name == arm["name"]]
        assert arm["conversations"] == len(mine)
        assert arm["replied"]["successes"] == len([i for i in mine if i in replies])
        assert arm["resolved"]["successes"] == len([i for i in mine if i in resolved])
        if any(i in replies for i in mine):
            assert (
                0 <= arm["medianReplySeconds"] <= arm["meanReplySeconds"] * 3
                and arm["meanReplySeconds"] < elapsed
            )
        else:
            assert arm["meanReplySeconds"] is None
        scores = [rated[i] for i in mine if i in rated]
        satisfied = sum(score >= 4 for score in scores)
        assert arm["rated"] == len(scores)
        assert arm["meanScore"] == (pytest.approx(sum(scores) / len(scores)) if scores else None)
        assert (arm["satisfied"]["successes"], arm["satisfied"]["conversations"]) == (satisfied, len(scores))
        interval = _independent_rate(
            satisfied, len(scores), template_stats.MIXING_VARIANCE, template_stats.ALPHA
        )
        if interval is None:
            assert arm["satisfied"]["rate"] is arm["satisfied"]["low"] is arm["satisfied"]["high"] is None
        else:
            assert (arm["satisfied"]["rate"], arm["satisfied"]["low"], arm["satisfied"]["high"]) == (
                pytest.approx(interval, abs=1e-6)
            )
    assert sum(a["rated"] for a in report["arms"]) == len(rated) >= 2
    a, b = report["arms"]
    assert a["satisfiedVsControl"] is None
    units = [(a["satisfied"]["successes"], a["rated"]), (b["satisfied"]["successes"], b["rated"])]
    if a["rated"] and b["rated"]:
        expected = _independent(*units, template_stats.MIXING_VARIANCE, template_stats.ALPHA)
        assert b["satisfiedVsControl"]["difference"] == pytest.approx(expected["difference"])
        assert b["satisfiedVsControl"]["likelihoodRatio"] == pytest.approx(expected["ratio"], rel=1e-6)
        assert b["satisfiedVsControl"]["significant"] is False  # under 10 rated per arm
    else:
        assert b["satisfiedVsControl"] == {"difference": None, "likelihoodRatio": None, "significant": False}
    assert report["winner"] is None  # a handful of conversations decides nothing

    # Stopped: new sends are outside the experiment, and the report stays as it was.
    await _ok(server, STOP, {"id": experiment_id}, supervisor)
    conversation, _ = await _new_conversation(server, wa)
    after = await _send(server, agent, template["id"], conversation.id)
    assert set(after["metadata"]["response_template"]) == {"id", "version", "variant"}
    assert (await _ok(server, REPORT, {"id": experiment_id}, supervisor))["templateExperiment"][
        "arms"
    ] == report["arms"]


async def test_who_may_start_stop_and_promote_and_what_each_leaves(server, supervisor):
    template = await _template(server, supervisor)
    template_pk = decode_id(template["id"], "ResponseTemplate")
    agent = await login(server, await make_user(Role.AGENT))
    admin = await login(server, await make_user(Role.ADMIN))
    arms = [{"name": "A"}, {"name": "B", "body": CHALLENGER, "weight": 3}]

    denied = await gql(server, START, {"input": {"templateId": template["id"], "arms": arms}}, agent)
    assert error_code(denied) == "FORBIDDEN"
    for bad in (
        [{"name": "A"}],
        [{"name": "A"}, {"name": "B", "body": "{{ customer.shoe_size }}"}],
        [{"name": "A"}, {"name": "A", "body": CHALLENGER}],
        [{"name": "A"}, {"name": "B", "body": CHALLENGER, "weight": 0}],
        [{"name": "A"}, {"name": "B", "body": CONTROL}],
    ):
        refused = await gql(server, START, {"input": {"templateId": template["id"], "arms": bad}}, supervisor)
        assert error_code(refused) == "BAD_USER_INPUT", bad
    missing = await gql(
        server,
        START,
        {"input": {"templateId": to_global_id("ResponseTemplate", 2_000_000_000), "arms": arms}},
        supervisor,
    )
    assert error_code(missing) == "NOT_FOUND"
    nowhere = to_global_id("TemplateExperiment", 2_000_000_000)
    for document, variables in ((STOP, {"id": nowhere}), (REPORT, {"id": nowhere})):
        assert error_code(await gql(server, document, variables, supervisor)) == "NOT_FOUND"
    assert error_code(await gql(server, PROMOTE, {"id": nowhere, "arm": "A"}, admin)) == "NOT_FOUND"
    assert await ResponseTemplateExperiment.filter(template_id=template_pk).count() == 0

    # Two starts at once: the template's row lock lets one through; the other hears CONFLICT.
    racing = await asyncio.gather(
        *(
            gql(server, START, {"input": {"templateId": template["id"], "arms": arms}}, supervisor)
            for _ in range(2)
        )
    )
    assert sorted(str(error_code(r)) for r in racing) == ["CONFLICT", "None"]
    assert await ResponseTemplateExperiment.filter(template_id=template_pk).count() == 1
    experiment_id = next(r for r in racing if not r.get("errors"))["data"]["startTemplateExperiment"]["id"]
    # The template stays as the arms were written for it until the experiment ends.
    saving = await gql(
        server, SAVE, {"input": {"id": template["id"], "name": template["name"], "body": "Novo"}}, supervisor
    )
    assert error_code(saving) == "CONFLICT"
    archiving = await gql(
        server, "mutation($id: ID!) { archiveTemplate(id: $id) { id } }", {"id": template["id"]}, supervisor
    )
    assert error_code(archiving) == "CONFLICT"
    assert (await ResponseTemplate.get(id=template_pk)).version == 1
    assert (await ResponseTemplate.get(id=template_pk)).archived_at is None
    assert await ResponseTemplateExperiment.filter(template_id=template_pk).count() == 1
    assert error_code(await gql(server, REPORT, {"id": experiment_id}, agent)) == "FORBIDDEN"

    # Only an admin promotes; the arm's body becomes version 2 and the experiment stops.
    assert (
        error_code(await gql(server, PROMOTE, {"id": experiment_id, "arm": "B"}, supervisor)) == "FORBIDDEN"
    )
    assert error_code(await gql(server, PROMOTE, {"id": experiment_id, "arm": "Z"}, admin)) == "NOT_FOUND"
    promoted = (await _ok(server, PROMOTE, {"id": experiment_id, "arm": "B"}, admin))[
        "promoteTemplateVariant"
    ]
    assert promoted == {
        "experiment": {"promotedArm": "B", "promotedVersion": 2, "running": False},
        "template": {"version": 2, "body": CHALLENGER},
    }
    version = await ResponseTemplateVersion.get(template_id=template_pk, version=2)
    assert version.content["body"] == CHALLENGER and "promoted" in version.note
    assert error_code(await gql(server, PROMOTE, {"id": experiment_id, "arm": "A"}, admin)) == "CONFLICT"
    assert error_code(await gql(server, STOP, {"id": experiment_id}, supervisor)) == "CONFLICT"
    assert await ResponseTemplateVersion.filter(template_id=template_pk).count() == 2
    actions = await AuditLog.filter(target_type="ResponseTemplate", target_id=str(template_pk)).values_list(
        "action", flat=True
    )
    assert sorted(actions) == [
        "template.create",
        "template.experiment.promote",
        "template.experiment.start",
    ]

    # A stopped experiment's template saves again; a new experiment can start, and an arm promoted
    # after a later save keeps that save (only the body changes) or, not fitting it, changes nothing.
    with_prompt = {
        "id": template["id"],
        "name": template["name"],
        "body": CONTROL,
        "prompts": [{"name": "pedido"}],
    }
    await _ok(server, SAVE, {"input": with_prompt}, supervisor)
    second = await _start(
        server,
        supervisor,
        template["id"],
        {"name": "A"},
        {"name": "B", "body": "Oi {{nome}}, e o {{pedido}}?"},
    )
    await _ok(server, STOP, {"id": second}, supervisor)
    renamed = f"{template['name']} (v4)"
    await _ok(server, SAVE, {"input": {"id": template["id"], "name": renamed, "body": CONTROL}}, supervisor)
    unfit = await gql(server, PROMOTE, {"id": second, "arm": "B"}, admin)
    assert error_code(unfit) == "BAD_USER_INPUT" and "pedido" in unfit["errors"][0]["message"]
    assert (await ResponseTemplate.get(id=template_pk)).version == 4
    assert (
        await ResponseTemplateExperiment.get(id=decode_id(second, "TemplateExperiment"))
    ).promoted_arm is None
    promoted_a = (await _ok(server, PROMOTE, {"id": second, "arm": "A"}, admin))["promoteTemplateVariant"]
    assert promoted_a["template"] == {"version": 5, "body": CONTROL}
    assert (await ResponseTemplate.get(id=template_pk)).name == renamed
    listed = await _ok(
        server,
        "query($t: ID!) { templateExperiments(templateId: $t) { id running } }",
        {"t": template["id"]},
        supervisor,
    )
    assert listed["templateExperiments"] == [
        {"id": second, "running": False},
        {"id": experiment_id, "running": False},
    ]


async def test_a_platform_variant_with_its_own_body_is_sent_outside_the_experiment(server, wa, supervisor):
    """Arms replace the universal body; WhatsApp's own body goes as it is, and that send is not
    counted in any arm (the experiment compares wordings, not platforms)."""
    name = f"Variant {uuid.uuid4().hex[:6]}"
    variant = "WhatsApp: {{nome}}, algo mais?"
    saved = await _ok(
        server,
        SAVE,
        {"input": {"name": name, "body": CONTROL, "variants": [{"platform": "WHATSAPP", "body": variant}]}},
        supervisor,
    )
    template_id = saved["saveTemplate"]["id"]
    experiment_id = await _start(
        server, supervisor, template_id, {"name": "A"}, {"name": "B", "body": CHALLENGER}
    )
    agent = await login(server, await make_user(Role.AGENT))
    conversation, _ = await _new_conversation(server, wa)
    preview = await _ok(
        server, RENDER, {"id": template_id, "c": to_global_id("Conversation", conversation.id)}, agent
    )
    assert preview["renderTemplate"] == {"text": "WhatsApp: Ana Souza, algo mais?", "arm": None}
    sent = await _send(server, agent, template_id, conversation.id)
    assert sent["text"] == "WhatsApp: Ana Souza, algo mais?"
    assert sent["metadata"]["response_template"]["variant"] == "whatsapp"
    assert "arm" not in sent["metadata"]["response_template"]
    report = (await _ok(server, REPORT, {"id": experiment_id}, supervisor))["templateExperiment"]
    assert [a["conversations"] for a in report["arms"]] == [0, 0]
