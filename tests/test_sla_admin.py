"""Managing SLA policies and routing rules: listing in the order they are applied, editing with the
same validation as creating, deleting, reordering; what an edit or a delete does to running SLA
timers and to routing; every change audited."""

from __future__ import annotations

import uuid
from datetime import timedelta

from models import AuditLog, Role, SlaTimer, Team
from resolvers import sla
from schema.relay import decode_id, to_global_id
from tests.helpers import error_code, eventually, gql, login, make_user, make_whatsapp_channel
from tests.test_assignment import _agent, _arrive, _team

FIELDS = "id name position teamId priority platform firstResponseSeconds nextResponseSeconds resolutionSeconds warnBeforeSeconds timezone businessHours holidays"
CREATE = f"mutation($input: CreateSlaPolicyInput!) {{ createSlaPolicy(input: $input) {{ {FIELDS} }} }}"
UPDATE = f"mutation($id: ID!, $input: SlaPolicyInput!) {{ updateSlaPolicy(id: $id, input: $input) {{ {FIELDS} }} }}"
DELETE = "mutation($id: ID!) { deleteSlaPolicy(id: $id) }"
LIST = f"{{ slaPolicies {{ {FIELDS} }} }}"

RULE_FIELDS = "id teamId position platform channelId language topic"
ADD_RULE = """mutation($team: ID!, $channel: ID, $position: Int!) {
  addRoutingRule(teamId: $team, channelId: $channel, position: $position) }"""
UPDATE_RULE = f"mutation($id: ID!, $input: RoutingRuleInput!) {{ updateRoutingRule(id: $id, input: $input) {{ {RULE_FIELDS} }} }}"
DELETE_RULE = "mutation($id: ID!) { deleteRoutingRule(id: $id) }"
REORDER = f"mutation($ids: [ID!]!) {{ reorderRoutingRules(ruleIds: $ids) {{ {RULE_FIELDS} }} }}"
RULES = f"{{ routingRules {{ {RULE_FIELDS} }} }}"

WEEKDAYS = {day: [["09:00", "12:00"], ["13:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
FIRST = -1_000_000  # ahead of any policy other tests make (position 0, any team)


def _input(team_id: int | None = None, **overrides):  # type: ignore[no-untyped-def]
    return {
        "name": f"policy-{uuid.uuid4().hex[:8]}",
        "teamId": to_global_id("Team", team_id) if team_id else None,
        "position": FIRST,
        "timezone": "UTC",
        "businessHours": {},
        "holidays": [],
        "firstResponseSeconds": 3600,
        "resolutionSeconds": 7200,
        "warnBeforeSeconds": 300,
        **overrides,
    }


def _ok(body):  # type: ignore[no-untyped-def]
    assert body.get("errors") is None, body
    return body["data"]


async def test_policies_are_listed_edited_and_deleted_with_the_rules_of_create(server):
    supervisor = await make_user(Role.SUPERVISOR)
    boss = await login(server, supervisor)
    team = await Team.create(name=f"team-{uuid.uuid4().hex[:8]}")
    created = _ok(
        await gql(
            server,
            CREATE,
            {
                "input": _input(
                    team.id,
                    timezone="America/Sao_Paulo",
                    businessHours=WEEKDAYS,
                    holidays=["2026-12-25", "2026-12-24", "2026-12-25"],
                    priority="URGENT",
                )
            },
            boss,
        )
    )["createSlaPolicy"]
    assert created["holidays"] == ["2026-12-24", "2026-12-25"]  # sorted, once each
    assert created["teamId"] == to_global_id("Team", team.id) and created["priority"] == "URGENT"
    listed = _ok(await gql(server, LIST, {}, boss))["slaPolicies"]
    assert created in listed
    order = [(p["position"], p["id"]) for p in listed]
    assert [p for p, _ in order] == sorted(p for p, _ in order)  # in matching order

    edit = _input(
        team.id, name="  Gold  ", businessHours={"sat": [["10:00", "14:00"]]}, holidays=["2027-01-01"]
    )
    edited = _ok(await gql(server, UPDATE, {"id": created["id"], "input": edit}, boss))["updateSlaPolicy"]
    assert edited["name"] == "Gold" and edited["businessHours"] == {"sat": [["10:00", "14:00"]]}
    assert edited["holidays"] == ["2027-01-01"] and edited["priority"] is None

    # The same validation as create, each with its named error; nothing changes.
    for bad in (
        {"timezone": "Mars/Olympus"},
        {"businessHours": {"mon": [["18:00", "09:00"]]}},
        {"businessHours": {"funday": [["09:00", "10:00"]]}},
        {"firstResponseSeconds": None, "resolutionSeconds": None},
        {"firstResponseSeconds": -5},
        {"name": " "},
        {"warnBeforeSeconds": -1},
    ):
        body = await gql(server, UPDATE, {"id": created["id"], "input": _input(team.id, **bad)}, boss)
        assert error_code(body) == "BAD_USER_INPUT", (bad, body)
    gone_team = await gql(
        server,
        UPDATE,
        {"id": created["id"], "input": _input(None, teamId=to_global_id("Team", 2_000_000_000))},
        boss,
    )
    assert error_code(gone_team) == "NOT_FOUND"
    assert _ok(await gql(server, LIST, {}, boss))["slaPolicies"].count(edited) == 1

    agent = await login(server, await make_user(Role.AGENT))
    assert error_code(await gql(server, LIST, {}, agent)) == "FORBIDDEN"
    assert error_code(await gql(server, DELETE, {"id": created["id"]}, agent)) == "FORBIDDEN"

    assert _ok(await gql(server, DELETE, {"id": created["id"]}, boss))["deleteSlaPolicy"] is True
    assert error_code(await gql(server, DELETE, {"id": created["id"]}, boss)) == "NOT_FOUND"
    assert error_code(await gql(server, UPDATE, {"id": created["id"], "input": edit}, boss)) == "NOT_FOUND"
    assert all(p["id"] != created["id"] for p in _ok(await gql(server, LIST, {}, boss))["slaPolicies"])
    actions = await AuditLog.filter(actor_id=supervisor.id, target_type="SlaPolicy").values_list(
        "action", flat=True
    )
    assert sorted(actions) == ["sla_policy.create", "sla_policy.delete", "sla_policy.update"]


async def _timers(conversation_id: int) -> dict[str, SlaTimer]:
    return {t.kind: t for t in await SlaTimer.filter(conversation_id=conversation_id).order_by("id")}


async def test_an_edit_retimes_running_timers_and_a_scope_edit_or_a_delete_hands_them_over(server):
    agent = await _agent()
    team, channel = await _team("manual", [agent])
    boss = await login(server, await make_user(Role.SUPERVISOR))
    first = _ok(await gql(server, CREATE, {"input": _input(team.id)}, boss))["createSlaPolicy"]
    fallback = _ok(
        await gql(
            server, CREATE, {"input": _input(team.id, position=FIRST + 1, firstResponseSeconds=600)}, boss
        )
    )["createSlaPolicy"]
    last = _ok(
        await gql(
            server, CREATE, {"input": _input(team.id, position=FIRST + 2, firstResponseSeconds=1200)}, boss
        )
    )["createSlaPolicy"]

    conversation = await _arrive(channel)
    timers = await eventually(lambda: _both(conversation.id), timeout=15)
    started = timers["first_response"].started_at
    assert timers["first_response"].due_at == started + timedelta(hours=1)

    # Edit: two hours to answer in weekday business hours, a holiday, no resolution target.
    # The running first-response timer is re-timed from its own start; the resolution one stops.
    edit = _input(team.id, firstResponseSeconds=7200, resolutionSeconds=None, warnBeforeSeconds=600)
    _ok(await gql(server, UPDATE, {"id": first["id"], "input": edit}, boss))
    now = await _timers(conversation.id)
    assert now["first_response"].due_at == started + timedelta(hours=2)
    assert now["first_response"].warn_at == started + timedelta(hours=2) - timedelta(minutes=10)
    assert now["first_response"].cancelled_at is None and now["resolution"].cancelled_at is not None

    in_hours = _input(
        team.id, firstResponseSeconds=3600, businessHours=WEEKDAYS, holidays=[started.date().isoformat()]
    )
    _ok(await gql(server, UPDATE, {"id": first["id"], "input": in_hours}, boss))
    retimed = (await _timers(conversation.id))["first_response"]
    # Today is a holiday now: the hour starts on the next weekday at 09:00 UTC.
    day = started.date() + timedelta(days=1)
    while day.weekday() > 4:
        day += timedelta(days=1)
    assert retimed.due_at.date() == day and (retimed.due_at.hour, retimed.due_at.minute) == (10, 0)

    # Who it applies to changes (urgent conversations only): its timers are handed over, and the
    # next policy matching the conversation times it from the same starts.
    urgent = {**in_hours, "priority": "URGENT"}
    _ok(await gql(server, UPDATE, {"id": first["id"], "input": urgent}, boss))
    rows = await eventually(lambda: _all_under(conversation.id, fallback["id"]), timeout=15)
    (timer,) = [t for t in rows if t.kind == "first_response"]
    assert timer.started_at == started and timer.due_at == started + timedelta(minutes=10)
    assert {t.kind for t in rows} == {"first_response", "resolution"}

    # Delete: its timers go, and the next policy matching the conversation takes it over in turn.
    _ok(await gql(server, DELETE, {"id": fallback["id"]}, boss))
    rows = await eventually(lambda: _all_under(conversation.id, last["id"]), timeout=15)
    (timer,) = [t for t in rows if t.kind == "first_response"]
    assert timer.started_at == started and timer.due_at == started + timedelta(minutes=20)

    # No policy left for the team: no timer keeps running (sla.check sweeps every test's timers).
    for policy in (first, last):
        _ok(await gql(server, DELETE, {"id": policy["id"]}, boss))
    await sla.sync(conversation.id)
    assert not await SlaTimer.filter(
        conversation_id=conversation.id, met_at=None, breached_at=None, cancelled_at=None
    )


async def _all_under(conversation_id: int, policy_id: str) -> list[SlaTimer] | None:
    rows = await SlaTimer.filter(conversation_id=conversation_id)
    return rows if rows and all(t.policy_id == _pk(policy_id) for t in rows) else None


def _pk(global_id: str) -> int:
    return decode_id(global_id, "SlaPolicy")


async def _both(conversation_id: int) -> dict[str, SlaTimer] | None:
    timers = await _timers(conversation_id)
    return timers if {"first_response", "resolution"} <= set(timers) else None


async def test_routing_rules_are_listed_edited_reordered_and_deleted(server):
    supervisor = await make_user(Role.SUPERVISOR)
    boss = await login(server, supervisor)
    sales = await Team.create(name=f"sales-{uuid.uuid4().hex[:8]}")
    support = await Team.create(name=f"support-{uuid.uuid4().hex[:8]}")
    channel, _ = await make_whatsapp_channel("http://127.0.0.1:9")
    channel_gid = to_global_id("Channel", channel.id)
    ids = []
    for position in (5, 6):
        added = await gql(
            server,
            ADD_RULE,
            {"team": to_global_id("Team", sales.id), "channel": channel_gid, "position": position},
            boss,
        )
        ids.append(_ok(added)["addRoutingRule"])
    listed = _ok(await gql(server, RULES, {}, boss))["routingRules"]
    mine = [r for r in listed if r["id"] in ids]
    assert [r["id"] for r in mine] == ids and mine[0]["channelId"] == channel_gid

    # Edit: the first rule now sends the channel's new conversations to support.
    rule = {
        "teamId": to_global_id("Team", support.id),
        "channelId": channel_gid,
        "position": 5,
        "topic": " Billing ",
    }
    edited = _ok(await gql(server, UPDATE_RULE, {"id": ids[0], "input": {**rule, "topic": None}}, boss))
    assert edited["updateRoutingRule"]["teamId"] == to_global_id("Team", support.id)
    conversation = await _arrive(channel)
    assert conversation.team_id == support.id
    with_topic = _ok(await gql(server, UPDATE_RULE, {"id": ids[0], "input": rule}, boss))["updateRoutingRule"]
    assert with_topic["topic"] == "billing"

    # The same validation as create.
    for bad, code in (
        ({"platform": "TELEGRAM"}, "BAD_USER_INPUT"),  # a WhatsApp channel
        ({"language": "x" * 17}, "BAD_USER_INPUT"),
        ({"teamId": to_global_id("Team", 2_000_000_000)}, "NOT_FOUND"),
        ({"channelId": to_global_id("Channel", 2_000_000_000)}, "NOT_FOUND"),
    ):
        body = await gql(server, UPDATE_RULE, {"id": ids[0], "input": {**rule, **bad}}, boss)
        assert error_code(body) == code, (bad, body)

    # Reorder: every rule, named once; the second of ours goes first, the others keep their order.
    everyone = [r["id"] for r in _ok(await gql(server, RULES, {}, boss))["routingRules"]]
    wanted = [ids[1]] + [i for i in everyone if i != ids[1]]
    reordered = _ok(await gql(server, REORDER, {"ids": wanted}, boss))["reorderRoutingRules"]
    assert [r["id"] for r in reordered if r["id"] in wanted] == wanted
    assert [r["position"] for r in reordered] == sorted(r["position"] for r in reordered)
    assert error_code(await gql(server, REORDER, {"ids": wanted[1:]}, boss)) == "CONFLICT"
    assert error_code(await gql(server, REORDER, {"ids": [*wanted, wanted[0]]}, boss)) == "BAD_USER_INPUT"

    agent = await login(server, await make_user(Role.AGENT))
    assert error_code(await gql(server, RULES, {}, agent)) == "FORBIDDEN"
    assert error_code(await gql(server, DELETE_RULE, {"id": ids[0]}, agent)) == "FORBIDDEN"

    for rule_id in ids:
        assert _ok(await gql(server, DELETE_RULE, {"id": rule_id}, boss))["deleteRoutingRule"] is True
    assert error_code(await gql(server, DELETE_RULE, {"id": ids[0]}, boss)) == "NOT_FOUND"
    assert not {r["id"] for r in _ok(await gql(server, RULES, {}, boss))["routingRules"]} & set(ids)
    await conversation.refresh_from_db()
    assert conversation.team_id == support.id  # routed conversations stay where they are
    actions = await AuditLog.filter(actor_id=supervisor.id, target_type="RoutingRule").values_list(
        "action", flat=True
    )
    assert sorted(set(actions)) == [
        "routing_rule.create",
        "routing_rule.delete",
        "routing_rule.reorder",
        "routing_rule.update",
    ]
