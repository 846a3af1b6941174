"""Operational counters on /metrics: a real webhook and a real send move them, so do SLA
warnings and breaches; the alert gauge
keeps the latest value across worker processes; the Grafana dashboard queries only metrics the
processes export (and shows each kind the operators need)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from core.worker_supervisor import QueueLengths
from models import Conversation, Customer, CustomerIdentity, Message, Role, SlaPolicy, SlaTimer, Team
from resolvers import sla
from schema.relay import to_global_id
from tests.conftest import requires_redis
from tests.helpers import eventually, gql, login, make_channel, make_user, post_webhook, wa_text_payload
from tests.test_deploy_prometheus import exported_samples, metrics_in
from tests.test_story import SEND

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "deploy" / "grafana" / "pytake.json"


async def _sample(server: str, name: str, **labels: str) -> float:
    async with httpx.AsyncClient(timeout=20) as client:
        text = (await client.get(f"{server}/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


async def test_a_real_webhook_and_a_real_send_are_counted(server, wa):
    channel, secrets, _ = wa
    accepted = await _sample(server, "pytake_webhooks_accepted_total", platform="whatsapp")
    stored = await _sample(server, "pytake_messages_in_total", platform="whatsapp")
    rejected = await _sample(
        server, "pytake_webhooks_rejected_total", platform="whatsapp", reason="bad_signature"
    )
    body = wa_text_payload(channel.config["phone_number_id"], "5511933330001", "count me")
    assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200
    assert (await post_webhook(server, channel, "not-the-secret", body)).status_code in (401, 403)
    assert await _sample(server, "pytake_webhooks_accepted_total", platform="whatsapp") == accepted + 1
    assert await _sample(server, "pytake_messages_in_total", platform="whatsapp") == stored + 1
    assert (
        await _sample(server, "pytake_webhooks_rejected_total", platform="whatsapp", reason="bad_signature")
        == rejected + 1
    )

    sent = await _sample(server, "pytake_sends_total", platform="whatsapp", outcome="sent")
    conversation = await Conversation.get(channel_id=channel.id)
    token = await login(server, await make_user(Role.AGENT))
    client_id = str(uuid.uuid4())
    variables = {
        "input": {
            "conversationId": to_global_id("Conversation", conversation.id),
            "clientMessageId": client_id,
            "text": "counted",
        }
    }
    assert (await gql(server, SEND, variables, token)).get("errors") is None

    async def accepted_by_platform() -> bool:
        return (await Message.get(client_message_id=client_id)).status == "sent"

    await eventually(accepted_by_platform, timeout=30)
    # The in-process worker counts in this process's registry: the API's /metrics shows it.
    assert await _sample(server, "pytake_sends_total", platform="whatsapp", outcome="sent") == sent + 1


async def test_sla_warnings_and_breaches_are_counted(server):
    """Timers from 2001: the clock (a parameter) reaches only them, not other tests' timers."""
    t0 = datetime(2001, 1, 1, tzinfo=UTC)
    channel = await make_channel("telegram", {}, {}, name="SLA metrics")
    customer = await Customer.create(name="SLA metrics")
    identity = await CustomerIdentity.create(
        customer=customer, channel=channel, platform="telegram", external_id=uuid.uuid4().hex
    )
    conversation = await Conversation.create(
        channel=channel, customer=customer, identity=identity, platform="telegram", last_message_at=t0
    )
    # A team of its own: a catch-all policy would outrank the policies later tests create in this
    # shared database (policies are picked by position, then id) and hand them its timers.
    team = await Team.create(name=f"sla-metrics-{uuid.uuid4().hex[:6]}")
    policy = await SlaPolicy.create(
        name=f"metrics-{uuid.uuid4().hex[:6]}", team=team, first_response_seconds=3600
    )
    await SlaTimer.create(
        conversation=conversation, policy=policy, kind="first_response", started_at=t0,
        due_at=t0 + timedelta(hours=1), warn_at=t0 + timedelta(minutes=55),
    )  # fmt: skip

    def count(event: str) -> float:
        return (
            REGISTRY.get_sample_value("pytake_sla_events_total", {"kind": "first_response", "event": event})
            or 0
        )

    warned, breached = count("warning"), count("breached")
    assert [e for _, e in await sla.check(now=t0 + timedelta(minutes=56))] == ["SLA_WARNING"]
    assert (count("warning"), count("breached")) == (warned + 1, breached)
    assert [e for _, e in await sla.check(now=t0 + timedelta(minutes=61))] == ["SLA_BREACHED"]
    assert await sla.check(now=t0 + timedelta(minutes=62)) == []
    assert (count("warning"), count("breached")) == (warned + 1, breached + 1)


_SET_GAUGE = """
import sys
from core import metrics
metrics.ALERTS_OPEN.labels("critical").set(float(sys.argv[1]))
"""


def test_the_open_alerts_gauge_keeps_the_latest_value_across_worker_processes() -> None:
    """Worker processes write their metrics to PROMETHEUS_MULTIPROC_DIR (as under `pytake worker`):
    the alert count one evaluation set, then a later one in another process, reads as the later."""
    with tempfile.TemporaryDirectory() as directory:
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": directory}
        for value in ("3", "1"):
            subprocess.run([sys.executable, "-c", _SET_GAUGE, value], env=env, check=True, cwd=ROOT)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=directory)
        assert registry.get_sample_value("pytake_alerts_open", {"severity": "critical"}) == 1.0


def _queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


@requires_redis
def test_every_metric_the_grafana_dashboard_queries_is_exported() -> None:
    # The worker's queue lengths are collected from Redis at scrape time, not registered globally.
    queue_families = {family.name for family in QueueLengths().collect()}
    assert queue_families == {"pytake_queue_jobs"}
    exported = exported_samples() | queue_families
    used: set[str] = set()
    for expr in _queries():
        names = metrics_in(expr)
        assert names, expr
        assert names <= exported, f"the dashboard queries metrics nobody exports: {sorted(names - exported)}"
        used |= names
    # What issue 13 asks the dashboard to show: sends by outcome and platform, webhook outcomes,
    # SLA warnings/breaches, alert state, queue lengths.
    assert {
        "pytake_sends_total",
        "pytake_webhooks_accepted_total",
        "pytake_webhooks_rejected_total",
        "pytake_sla_events_total",
        "pytake_alerts_open",
        "pytake_queue_jobs",
    } <= used


def test_a_misspelt_dashboard_metric_would_be_caught() -> None:
    assert not metrics_in("sum by (platform) (rate(pytake_sendz_total[5m]))") <= exported_samples()
