"""Alert rules: refused when they name what does not exist; evaluated once per rule and period
even by concurrent workers; an alert opens, is deduplicated, acknowledged and resolves by itself,
every step recorded and live on `alertEvents` (the clock is a parameter: periods in 2031, so the
server's own upkeep, which evaluates at the real time, never takes one of these periods)."""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, datetime, timedelta

import dramatiq

from core.broker import redis_broker
from core.metrics import ALERTS_OPEN
from core.sql import fetch
from jobs.alerts import export_open_alerts
from models import Alert, AlertEvaluation, AlertTransition, Conversation, Message, Notification, Role
from resolvers import alert_conditions, alerts, notifications
from schema.relay import to_global_id
from tests.conftest import REDIS_URL, requires_redis
from tests.helpers import Subscriber, error_code, eventually, gql, login, make_user
from tests.test_assignment import _arrive, _team
from tests.test_worker_signals import WORKER, read, started

SAVE = """mutation($input: SaveAlertRuleInput!) { saveAlertRule(input: $input) { id kind scope scopeValue condition } }"""
ACK = """mutation($id: ID!) { acknowledgeAlert(id: $id) { id state acknowledgedAt } }"""
ALERTS = """query { alerts(states: ["open", "acknowledged", "resolved"]) { id ruleId state value
  transitions { fromState toState } } }"""
EVENTS = """subscription { alertEvents { type alert { id ruleName state value } } }"""
T0 = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)


async def _rule(token: str, server: str, **fields) -> str:  # type: ignore[no-untyped-def]
    body = await gql(server, SAVE, {"input": {"name": f"rule-{uuid.uuid4().hex[:6]}", **fields}}, token)
    assert body.get("errors") is None, body
    return body["data"]["saveAlertRule"]["id"]


async def test_rules_on_unknown_kinds_or_scopes_are_refused(server):
    boss = await login(server, await make_user(Role.SUPERVISOR))
    team, _ = await _team("manual", [])
    team_id = to_global_id("Team", team.id)

    async def code(**fields) -> str | None:  # type: ignore[no-untyped-def]
        return error_code(await gql(server, SAVE, {"input": {"name": "x", "threshold": 1, **fields}}, boss))

    assert await code(kind="moon_phase") == "BAD_USER_INPUT"
    assert await code(kind="queue_length", scope="region", scopeValue="emea") == "BAD_USER_INPUT"
    assert (
        await code(kind="volume_spike", scope="team", scopeValue=team_id) == "BAD_USER_INPUT"
    )  # per platform
    assert await code(kind="volume_spike", scope="platform", scopeValue="carrier_pigeon") == "BAD_USER_INPUT"
    assert (
        await code(kind="queue_length", scope="team", scopeValue=to_global_id("Team", 10**8)) == "NOT_FOUND"
    )
    assert await code(kind="queue_length", windowSeconds=5) == "BAD_USER_INPUT"
    assert await code(kind="queue_length", severity="apocalyptic") == "BAD_USER_INPUT"
    if not await alert_conditions.table_exists("csat_surveys"):
        refused = await gql(server, SAVE, {"input": {"name": "x", "threshold": 3, "kind": "csat_drop"}}, boss)
        assert error_code(refused) == "BAD_USER_INPUT" and "CSAT" in refused["errors"][0]["message"]
    agent = await login(server, await make_user(Role.AGENT))
    assert (
        error_code(
            await gql(server, SAVE, {"input": {"name": "x", "kind": "queue_length", "threshold": 1}}, agent)
        )
        == "FORBIDDEN"
    )
    saved = await gql(
        server,
        SAVE,
        {
            "input": {
                "name": "q",
                "kind": "queue_length",
                "threshold": 1,
                "scope": "team",
                "scopeValue": team_id,
            }
        },
        boss,
    )
    assert saved["data"]["saveAlertRule"]["scopeValue"] == team_id
    assert saved["data"]["saveAlertRule"]["condition"] == "above"


async def test_alert_opens_dedupes_is_acknowledged_and_resolves_by_itself(server):
    supervisor = await make_user(Role.SUPERVISOR)
    boss = await login(server, supervisor)
    team, channel = await _team("manual", [])  # nobody to assign to: arrivals wait in the queue
    rule_gid = await _rule(
        boss, server, kind="queue_length", scope="team", scopeValue=to_global_id("Team", team.id),
        threshold=1, windowSeconds=300, severity="critical", cooldownSeconds=600,
    )  # fmt: skip
    rule_id = int((await fetch("SELECT max(id) AS id FROM alert_rules"))[0]["id"])
    assert to_global_id("AlertRule", rule_id) == rule_gid
    live = await Subscriber.open(server, boss, EVENTS)
    try:
        assert (await alerts.evaluate(T0))[rule_id] == "quiet"  # an empty queue
        first, _second = await _arrive(channel), await _arrive(channel)
        assert (await alerts.evaluate(T0 + timedelta(seconds=60)))[rule_id] == "opened"
        opened = await live.next_where(lambda d: d["alertEvents"]["type"] == "ALERT_OPENED", timeout=20)
        assert opened["alertEvents"]["alert"]["value"] == 2.0
        await _told(supervisor, rule_id)  # supervisors are notified of the opening, once
        assert rule_id not in await alerts.evaluate(T0 + timedelta(seconds=61))  # same period: done already
        assert rule_id not in await alerts.evaluate(T0)  # an older period: the state only moves forward
        assert (await alerts.evaluate(T0 + timedelta(seconds=120)))[rule_id] == "deduplicated"
        assert await Alert.filter(rule_id=rule_id).count() == 1
        await export_open_alerts()  # what the evaluation job ends with: the Prometheus gauge
        open_critical = await Alert.filter(severity="critical").exclude(state="resolved").count()
        assert open_critical >= 1
        assert ALERTS_OPEN.labels("critical")._value.get() == open_critical

        alert = await Alert.get(rule_id=rule_id)
        acked = await gql(server, ACK, {"id": to_global_id("Alert", alert.id)}, boss)
        assert acked["data"]["acknowledgeAlert"]["state"] == "acknowledged", acked
        again = await gql(server, ACK, {"id": to_global_id("Alert", alert.id)}, boss)
        assert (
            again["data"]["acknowledgeAlert"]["acknowledgedAt"]
            == acked["data"]["acknowledgeAlert"]["acknowledgedAt"]
        )
        await live.next_where(lambda d: d["alertEvents"]["type"] == "ALERT_ACKNOWLEDGED", timeout=20)
        assert (await alerts.evaluate(T0 + timedelta(seconds=180)))[rule_id] == "deduplicated"
        assert (await Alert.get(id=alert.id)).state == "acknowledged"  # still firing, still someone's

        await Conversation.filter(id=first.id).update(status="closed")  # one left: not above 1
        assert (await alerts.evaluate(T0 + timedelta(seconds=240)))[rule_id] == "resolved"
        resolved = await live.next_where(lambda d: d["alertEvents"]["type"] == "ALERT_RESOLVED", timeout=20)
        assert resolved["alertEvents"]["alert"]["state"] == "resolved"

        await _arrive(channel)  # above the threshold again, within the cooldown
        assert (await alerts.evaluate(T0 + timedelta(seconds=300)))[rule_id] == "cooling_down"
        assert (await alerts.evaluate(T0 + timedelta(seconds=240 + 600)))[rule_id] == "opened"
    finally:
        await live.close()
    listed = await gql(server, ALERTS, None, boss)
    mine = [a for a in listed["data"]["alerts"] if a["ruleId"] == rule_gid]
    assert [a["state"] for a in mine] == ["open", "resolved"]  # newest first
    assert [(t["fromState"], t["toState"]) for t in mine[1]["transitions"]] == [
        (None, "open"), ("open", "acknowledged"), ("acknowledged", "resolved"),
    ]  # fmt: skip
    agent = await login(server, await make_user(Role.AGENT))
    assert error_code(await gql(server, ALERTS, None, agent)) == "FORBIDDEN"


async def _told(supervisor, rule_id: int) -> None:  # type: ignore[no-untyped-def]
    async def found() -> list[Notification]:
        await notifications.notify_from_events()
        return await Notification.filter(
            user_id=supervisor.id, kind="alert", data__contains={"rule_id": rule_id}
        )

    told = await eventually(found, timeout=20, interval=0.2)
    await notifications.notify_from_events()
    assert (
        len(
            await Notification.filter(
                user_id=supervisor.id, kind="alert", data__contains={"rule_id": rule_id}
            )
        )
        == 1
    )
    assert told[0].title.startswith("Alert: rule-") and "(critical)" in told[0].title


async def test_concurrent_evaluations_fire_once(server):
    boss = await login(server, await make_user(Role.SUPERVISOR))
    team, channel = await _team("manual", [])
    await _rule(
        boss, server, kind="queue_length", scope="team", scopeValue=to_global_id("Team", team.id), threshold=0
    )
    rule_id = int((await fetch("SELECT max(id) AS id FROM alert_rules"))[0]["id"])
    await _arrive(channel)
    moment = T0 + timedelta(days=1)
    # Four evaluations at once, each on its own pooled connection, as four workers would.
    results = await asyncio.gather(*(alerts.evaluate(moment) for _ in range(4)))
    assert [r.get(rule_id) for r in results].count("opened") == 1
    assert sum(rule_id in r for r in results) == 1
    # Dozens of jobs (and the test server's own upkeep) over a minute or so: one evaluation per
    # period, one alert, opened once and then deduplicated.
    evaluations = await AlertEvaluation.filter(rule_id=rule_id)
    assert evaluations and all(e.firing for e in evaluations)
    assert len({e.period_start for e in evaluations}) == len(evaluations)
    assert await Alert.filter(rule_id=rule_id).count() == 1
    assert await AlertTransition.filter(alert__rule_id=rule_id).count() == 1


async def test_volume_spike_against_the_same_hour_in_past_weeks_and_send_latency(server):
    _, channel = await _team("manual", [])
    now = datetime.now(UTC).replace(microsecond=0)
    arrivals = [await _arrive(channel) for _ in range(18)]
    ids = [(await Message.filter(conversation_id=c.id).first()).id for c in arrivals]  # type: ignore[union-attr]
    # 10 messages in the last hour; 2 in the same hour of each of the past four weeks
    for i, message_id in enumerate(ids):
        at = now - timedelta(minutes=5) if i < 10 else now - timedelta(weeks=(i - 10) // 2 + 1, minutes=10)
        await Message.filter(id=message_id).update(created_at=at)
    rule = {"kind": "volume_spike", "scope_type": "channel", "scope_value": str(channel.id),
            "window_seconds": 3600, "params": {"weeks": 4}}  # fmt: skip
    assert await alert_conditions.volume_spike(rule, now) == 5.0  # 10 against a usual 2
    assert await alert_conditions.volume_spike({**rule, "params": {"weeks": 1}}, now) == 5.0
    quiet_hour = now - timedelta(hours=3)  # no traffic then nor in past weeks: baseline floor of one
    assert await alert_conditions.volume_spike(rule, quiet_hour) == 0.0

    conversation = arrivals[0]
    for seconds in (1, 2, 3, 4, 5, 6, 7, 8, 9, 30):  # one slow send among ten
        sent = await Message.create(
            conversation_id=conversation.id, channel_id=channel.id, platform="whatsapp", direction="outbound",
            text="x", status="sent", client_message_id=uuid.uuid4().hex,
        )  # fmt: skip
        await Message.filter(id=sent.id).update(
            created_at=now - timedelta(minutes=2),
            sent_at=now - timedelta(minutes=2) + timedelta(seconds=seconds),
        )
    latency = {
        "kind": "send_latency",
        "scope_type": "channel",
        "scope_value": str(channel.id),
        "window_seconds": 600,
    }
    assert (
        abs(await alert_conditions.send_latency(latency, now) - 11.1) < 1e-6
    )  # p90, interpolated: 9 + 0.1 × 21


@requires_redis
async def test_two_worker_processes_fire_once(server, database):
    """Real `pytake worker` processes on their own queues: many evaluation jobs, run by both,
    open one alert."""
    boss = await login(server, await make_user(Role.SUPERVISOR))
    team, channel = await _team("manual", [])
    await _rule(
        boss, server, kind="queue_length", scope="team", scopeValue=to_global_id("Team", team.id), threshold=0
    )
    rule_id = int((await fetch("SELECT max(id) AS id FROM alert_rules"))[0]["id"])
    await _arrive(channel)
    namespace = f"{os.environ['PYTAKE_NAMESPACE']}-alerts"
    env = {
        **os.environ, "DATABASE_URL": database, "REDIS_URL": REDIS_URL or "", "PYTAKE_NAMESPACE": namespace,
        "PYTAKE_INPROCESS_WORKER": "0", "WORKER_METRICS_PORT": "0", "LOG_LEVEL": "INFO",
    }  # fmt: skip
    broker = redis_broker(REDIS_URL or "", namespace, 60)
    try:
        with started(env, *WORKER) as (_, first_log), started(env, *WORKER) as (_, second_log):

            async def both_ready() -> bool:
                return all("worker ready" in read(log) for log in (first_log, second_log))

            await eventually(both_ready, timeout=120, interval=0.2)

            async def both_evaluated() -> bool:
                """Jobs go in small rounds until each worker has run some (one idle worker could
                otherwise take a whole burst)."""
                for _ in range(4):
                    broker.enqueue(dramatiq.Message(queue_name="maintenance", actor_name="evaluate_alerts",
                                                    args=(), kwargs={}, options={}))  # fmt: skip
                return all("alert rules evaluated" in read(log) for log in (first_log, second_log))

            try:
                await eventually(both_evaluated, timeout=120, interval=0.3)
            except AssertionError:
                raise AssertionError(
                    read(first_log)[-3000:] + "\n----\n" + read(second_log)[-3000:]
                ) from None
    finally:
        broker.close()
    # Dozens of jobs (and the test server's own upkeep) over a minute or so: one evaluation per
    # period, one alert, opened once and then deduplicated.
    evaluations = await AlertEvaluation.filter(rule_id=rule_id)
    assert evaluations and all(e.firing for e in evaluations)
    assert len({e.period_start for e in evaluations}) == len(evaluations)
    assert await Alert.filter(rule_id=rule_id).count() == 1
    assert await AlertTransition.filter(alert__rule_id=rule_id).count() == 1
