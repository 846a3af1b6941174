"""Reports: the exact files (CSV and JSON) for a scripted scenario with controlled timestamps in a
time zone; progress while a report is built; signed links that expire and refuse other users; a
weekly schedule that builds the week's report and e-mails it (the clock is an argument)."""

from __future__ import annotations

import base64
import csv
import io
import json
import uuid
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default as default_policy
from typing import Any

import httpx
import pytest_asyncio

from core.settings import get_settings
from models import (
    Channel,
    Conversation,
    ConversationActivity,
    Customer,
    CustomerIdentity,
    Message,
    Role,
    Team,
    TeamMember,
    User,
)
from resolvers import report_schedules, reports
from schema.relay import parse_global_id, to_global_id
from tests.fakes.email import FakeSMTP
from tests.helpers import error_code, eventually, gql, login, make_channel, make_user

ZONE = "America/Sao_Paulo"  # UTC-3 all year since 2019
FROM, TO = "2021-03-01T00:00:00-03:00", "2021-03-08T00:00:00-03:00"
REQUEST = """mutation($kind: ReportKind!, $from: DateTime!, $to: DateTime!, $tz: String!, $f: ReportFilterInput) {
  requestReport(kind: $kind, from: $from, to: $to, timezone: $tz, filters: $f) { id status } }"""
REPORT = """query($id: ID!) { reports(id: $id) { id kind status rowsTotal rowsDone progress error
  csvUrl jsonUrl downloadExpiresAt scheduled } }"""


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def _timed(model: Any, when: str, **fields: Any) -> Any:
    """A row whose created_at is `when` (UTC), not now."""
    row = await model.create(**fields)
    await model.filter(id=row.id).update(created_at=at(when))
    return row


async def _conversation(channel: Channel, when: str, **fields: Any) -> Conversation:
    customer = await Customer.create(name="Report customer")
    identity = await CustomerIdentity.create(
        customer=customer, channel=channel, platform=channel.platform, external_id=uuid.uuid4().hex
    )
    conversation = await _timed(
        Conversation,
        when,
        channel=channel,
        customer=customer,
        identity=identity,
        platform=channel.platform,
        last_message_at=at(when),  # as ingest sets it: the inbox orders by it
        **fields,
    )
    conversation.identity = identity  # type: ignore[attr-defined]
    return conversation


async def _message(c: Conversation, when: str, direction: str, status: str, **fields: Any) -> Message:
    return await _timed(
        Message,
        when,
        conversation=c,
        channel_id=c.channel_id,  # type: ignore[attr-defined]
        identity=c.identity,  # type: ignore[attr-defined]
        platform=c.platform,
        direction=direction,
        status=status,
        text=fields.pop("text", "text"),
        **fields,
    )


async def _scenario() -> dict[str, Any]:
    """Two conversations in the week of 2021-03-01 (São Paulo), one just after it."""
    suffix = uuid.uuid4().hex[:6]
    team = await Team.create(name=f"Reports team {suffix}")
    ana = await make_user(Role.AGENT, name=f"Ana {suffix}")
    bruno = await make_user(Role.AGENT, name=f"Bruno {suffix}")
    whatsapp = await make_channel("whatsapp", {"phone_number_id": suffix}, {}, name=f"WA {suffix}")
    telegram = await make_channel("telegram", {}, {}, name=f"TG {suffix}")

    # 1: WhatsApp, team, Ana; a note and an automated message are no response; resolved after an hour.
    one = await _conversation(whatsapp, "2021-03-03T11:00:00", team=team, assignee=ana, status="resolved")
    await _message(one, "2021-03-03T11:00:00", "inbound", "received")
    await _message(one, "2021-03-03T11:01:00", "note", "posted", sender=ana)
    await _message(one, "2021-03-03T11:01:30", "outbound", "sent", sender=ana, metadata={"automated": True})
    await _message(one, "2021-03-03T11:05:00", "outbound", "read", sender=ana)
    await _timed(
        ConversationActivity, "2021-03-03T12:00:00", conversation=one, actor=ana, type="status_changed",
        data={"from": "open", "to": "resolved"},
    )  # fmt: skip
    await _message(one, "2021-03-05T14:00:00", "inbound", "received")  # a later day, no reply
    # 2: Telegram, no team, Bruno; 23:30 local is still the 3rd; a bot spoke, then handed off at
    # 02:40, a failed reply is no response; Bruno replies two minutes after the hand-off.
    two = await _conversation(telegram, "2021-03-04T02:30:00", assignee=bruno)
    await _message(two, "2021-03-04T02:30:00", "inbound", "received")
    await _message(two, "2021-03-04T02:30:10", "outbound", "sent", metadata={"flow": {"node": "welcome"}})
    await _timed(
        ConversationActivity, "2021-03-04T02:40:00", conversation=two, type="flow_handed_off", data={}
    )
    await _message(two, "2021-03-04T02:41:00", "outbound", "failed", sender=bruno)
    await _message(two, "2021-03-04T02:42:00", "outbound", "delivered", sender=bruno)
    # 3: 00:30 local on the 8th: outside [FROM, TO).
    three = await _conversation(whatsapp, "2021-03-08T03:30:00", team=team, assignee=ana)
    await _message(three, "2021-03-08T03:30:00", "inbound", "received")
    await _message(three, "2021-03-08T03:31:00", "outbound", "sent", sender=ana)
    return {"team": team, "ana": ana, "bruno": bruno, "wa": whatsapp, "tg": telegram, "one": one, "two": two}


async def _ready(server: str, token: str, report_id: str, timeout: float = 60) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        body = await gql(server, REPORT, {"id": report_id}, token)
        assert body.get("errors") is None, body
        report = body["data"]["reports"][0]
        assert report["status"] != "FAILED", report
        return report if report["status"] == "READY" else None

    return await eventually(check, timeout=timeout, interval=0.2)


async def _request(server: str, token: str, kind: str, filters: dict[str, Any] | None = None) -> str:
    variables = {"kind": kind, "from": FROM, "to": TO, "tz": ZONE, "f": filters}
    body = await gql(server, REQUEST, variables, token)
    assert body.get("errors") is None, body
    return body["data"]["requestReport"]["id"]


async def _download(url: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=20) as client:
        return await client.get(url)


@pytest_asyncio.fixture(scope="module")
async def scenario(server: str) -> dict[str, Any]:
    """One scenario for the module: the reports cover all of 2031-03 that anyone wrote."""
    return await _scenario()


async def test_conversations_report_files_hold_exactly_the_scenario(server, scenario):
    s = scenario
    admin_token = await login(server, await make_user(Role.ADMIN))
    # Other tests' data is from now, not 2031; the channel filter is not needed but the platform
    # filter must keep both platforms when absent.
    report_id = await _request(server, admin_token, "CONVERSATIONS")
    report = await _ready(server, admin_token, report_id)
    assert (report["rowsTotal"], report["rowsDone"], report["progress"]) == (2, 2, 1.0)

    csv_response = await _download(report["csvUrl"])
    assert csv_response.status_code == 200
    assert csv_response.headers["content-type"].startswith("text/csv")
    one, two = s["one"], s["two"]
    expected_rows = [
        [
            one.id, "2021-03-03T08:00:00-03:00", "2021-03-03T08:00:00-03:00", "whatsapp", s["wa"].name,
            s["team"].name, s["ana"].name, "resolved", "2021-03-03T08:05:00-03:00", 300,
            "2021-03-03T09:00:00-03:00", 3600,
        ],
        [
            two.id, "2021-03-03T23:30:00-03:00", "2021-03-03T23:30:00-03:00", "telegram", s["tg"].name,
            None, s["bruno"].name, "open", "2021-03-03T23:42:00-03:00", 120, None, None,
        ],
    ]  # fmt: skip
    header = (
        "conversation_id,created_at,first_customer_message_at,platform,channel,team,agent,status,"
        "first_response_at,first_response_seconds,resolved_at,resolution_seconds"
    )
    expected_csv = (
        header
        + "\r\n"
        + "".join(",".join("" if v is None else str(v) for v in row) + "\r\n" for row in expected_rows)
    )
    assert csv_response.text == expected_csv

    json_response = await _download(report["jsonUrl"])
    assert json_response.headers["content-type"].startswith("application/json")
    columns = header.split(",")
    assert json_response.json() == {
        "format": "pytake.report/1",
        "report": {
            "id": parse_global_id(report_id)[1],
            "kind": "conversations",
            "from": "2021-03-01T03:00:00+00:00",
            "to": "2021-03-08T03:00:00+00:00",
            "timezone": ZONE,
            "filters": {},
        },
        "columns": columns,
        "rows": [dict(zip(columns, row, strict=True)) for row in expected_rows],
    }


async def test_volume_and_agent_reports_and_a_supervisors_team_scope(server, scenario):
    s = scenario
    admin_token = await login(server, await make_user(Role.ADMIN))
    volume = await _ready(server, admin_token, await _request(server, admin_token, "MESSAGE_VOLUME"))
    text = (await _download(volume["csvUrl"])).text
    assert list(csv.reader(io.StringIO(text))) == [
        ["day", "platform", "inbound", "outbound", "agent_replies"],
        ["2021-03-03", "telegram", "1", "3", "1"],  # the bot's, the failed one, Bruno's
        ["2021-03-03", "whatsapp", "1", "2", "1"],  # the automated one, Ana's; the note is no message out
        ["2021-03-05", "whatsapp", "1", "0", "0"],
    ]
    agents = await _ready(server, admin_token, await _request(server, admin_token, "AGENTS"))
    assert (await _download(agents["jsonUrl"])).json()["rows"] == [
        {"agent_id": s["ana"].id, "agent": s["ana"].name, "conversations_assigned": 1,
         "conversations_replied": 1, "replies": 1, "resolutions": 1},
        {"agent_id": s["bruno"].id, "agent": s["bruno"].name, "conversations_assigned": 1,
         "conversations_replied": 1, "replies": 1, "resolutions": 0},
    ]  # fmt: skip

    # A supervisor's report covers their teams only: conversation 1, not Bruno's team-less one.
    supervisor = await make_user(Role.SUPERVISOR)
    await TeamMember.create(team=s["team"], user=supervisor)
    token = await login(server, supervisor)
    scoped = await _ready(server, token, await _request(server, token, "CONVERSATIONS"))
    rows = (await _download(scoped["jsonUrl"])).json()["rows"]
    assert [r["conversation_id"] for r in rows] == [s["one"].id]
    # Filters narrow further: Telegram only, for the admin.
    telegram = await _ready(
        server, admin_token, await _request(server, admin_token, "CONVERSATIONS", {"platform": "TELEGRAM"})
    )
    assert [r["conversation_id"] for r in (await _download(telegram["jsonUrl"])).json()["rows"]] == [
        s["two"].id
    ]


async def test_bad_requests_are_refused_with_codes(server):
    agent_token = await login(server, await make_user(Role.AGENT))
    body = await gql(server, REQUEST, {"kind": "AGENTS", "from": FROM, "to": TO, "tz": ZONE}, agent_token)
    assert error_code(body) == "FORBIDDEN"
    token = await login(server, await make_user(Role.SUPERVISOR))
    too_long = {"kind": "AGENTS", "from": "2020-01-01T00:00:00Z", "to": "2031-01-01T00:00:00Z", "tz": "UTC"}
    body = await gql(server, REQUEST, too_long, token)
    assert error_code(body) == "BAD_USER_INPUT" and "400 days" in body["errors"][0]["message"]
    backwards = {"kind": "AGENTS", "from": TO, "to": FROM, "tz": "UTC"}
    assert error_code(await gql(server, REQUEST, backwards, token)) == "BAD_USER_INPUT"
    bad_zone = {"kind": "AGENTS", "from": FROM, "to": TO, "tz": "Mars/Olympus"}
    assert error_code(await gql(server, REQUEST, bad_zone, token)) == "BAD_USER_INPUT"


async def test_progress_is_visible_while_a_report_is_built(server, monkeypatch):
    admin = await make_user(Role.ADMIN)
    token = await login(server, admin)
    channel = await make_channel("telegram", {}, {}, name="Progress")
    customer = await Customer.create(name="Many conversations")
    identity = await CustomerIdentity.create(
        customer=customer, channel=channel, platform="telegram", external_id=uuid.uuid4().hex
    )
    from core.sql import fetch

    await fetch(
        "INSERT INTO conversations (channel_id, customer_id, identity_id, platform, status, unread_count, "
        "priority, escalation_level, created_at, last_message_at, updated_at) SELECT $1, $2, $3, 'telegram', "
        "'open', 0, 'normal', 0, t, t, now() "
        "FROM generate_series(1, 450) n, "
        "LATERAL (SELECT '2022-01-01T00:00:00Z'::timestamptz + n * interval '1 minute' AS t) x",
        channel.id,
        customer.id,
        identity.id,
    )
    created = await reports.create_report(
        reports.ReportRequest("conversations", at("2022-01-01T00:00:00"), at("2022-01-02T00:00:00"),
                              channel_id=channel.id),
        None, requested_by=admin.id, schedule_id=None,
    )  # fmt: skip
    report_id = to_global_id("Report", created["id"])
    seen: list[tuple[int, float, str]] = []
    original = reports.write_progress

    async def observed(rid: int, rows_done: int) -> None:
        await original(rid, rows_done)
        body = await gql(server, REPORT, {"id": report_id}, token)  # what a polling client sees now
        r = body["data"]["reports"][0]
        seen.append((r["rowsDone"], r["progress"], r["status"]))

    monkeypatch.setattr(reports, "_PROGRESS_ROWS", 100)
    monkeypatch.setattr(reports, "write_progress", observed)
    await reports.build_report(created["id"])
    for done in (100, 200, 300, 400):
        assert (done, done / 450, "RUNNING") in seen
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)
    final = await _ready(server, token, report_id)
    assert (final["rowsTotal"], final["rowsDone"], final["progress"]) == (450, 450, 1.0)
    lines = (await _download(final["csvUrl"])).text.splitlines()
    assert len(lines) == 451
    # Built once: running the job again (a redelivery) leaves the ready report alone.
    await reports.build_report(created["id"])
    assert (await _ready(server, token, report_id))["rowsDone"] == 450


async def test_links_expire_and_refuse_other_users(server, scenario, monkeypatch):
    first = await make_user(Role.SUPERVISOR)
    other = await make_user(Role.SUPERVISOR)
    token = await login(server, first)
    report = await _ready(server, token, await _request(server, token, "AGENTS"))
    assert (await _download(report["csvUrl"])).status_code == 200
    # Another supervisor neither sees the report nor can turn the link into theirs.
    other_token = await login(server, other)
    assert error_code(await gql(server, REPORT, {"id": report["id"]}, other_token)) == "NOT_FOUND"
    body, _, _signature = report["csvUrl"].rpartition("/")[2].partition(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    forged_body = (
        base64.urlsafe_b64encode(json.dumps({**claims, "u": other.id}).encode()).decode().rstrip("=")
    )
    forged = await _download(report["csvUrl"].replace(body, forged_body))
    assert (forged.status_code, forged.json()["error"]["code"]) == (403, "INVALID_LINK")
    # The link is for its user as they are when it is used: demoted to agent, it gives nothing.
    await User.filter(id=first.id).update(role=Role.AGENT)
    assert (await _download(report["jsonUrl"])).status_code == 404
    await User.filter(id=first.id).update(role=Role.SUPERVISOR)
    assert (await _download(report["jsonUrl"])).status_code == 200
    # And it expires: a link made with a TTL in the past is refused as expired.
    monkeypatch.setenv("DOWNLOAD_LINK_TTL", "-1")
    get_settings.cache_clear()
    try:
        expired = await gql(server, REPORT, {"id": report["id"]}, token)
    finally:
        monkeypatch.delenv("DOWNLOAD_LINK_TTL")
        get_settings.cache_clear()
    response = await _download(expired["data"]["reports"][0]["csvUrl"])
    assert (response.status_code, response.json()["error"]["code"]) == (410, "LINK_EXPIRED")


async def test_a_weekly_schedule_builds_the_week_and_emails_it(server, scenario, monkeypatch):
    s = scenario
    admin = await make_user(Role.ADMIN)
    token = await login(server, admin)
    smtp = FakeSMTP()
    async with smtp.serve():
        url = f"smtp://{smtp.username}:{smtp.password}@{smtp.host}:{smtp.port}?starttls=0"
        monkeypatch.setenv("REPORT_SMTP_URL", url)
        get_settings.cache_clear()
        try:
            schedule = await report_schedules.schedule_report(
                admin_actor(admin), "conversations", "weekly", ZONE, ["boss@example.com"],
                {"channel_id": s["wa"].id}, now=at("2021-03-05T12:00:00"),
            )  # fmt: skip
            # Monday 2021-03-08 00:00 in São Paulo.
            assert schedule["next_run_at"] == at("2021-03-08T03:00:00")
            assert await report_schedules.run_due_schedules(at("2021-03-08T02:59:59")) == []
            created = await report_schedules.run_due_schedules(at("2021-03-08T03:00:05"))
            assert len(created) == 1
            assert (
                await report_schedules.run_due_schedules(at("2021-03-08T03:00:06")) == []
            )  # once per period

            async def mailed() -> Any:
                return smtp.received[0] if smtp.received else None

            mail = await eventually(mailed, timeout=60, interval=0.2)
        finally:
            monkeypatch.delenv("REPORT_SMTP_URL")
            get_settings.cache_clear()
    assert mail.rcpt_tos == ["boss@example.com"]
    message = message_from_bytes(mail.data, policy=default_policy)
    assert message["Subject"] == "PyTake conversations report, 2021-03-01 – 2021-03-08"
    attachments = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    report_id = created[0]
    csv_text = attachments[f"pytake-conversations-report-{report_id}.csv"]
    # The week before Monday the 8th ([1st 00:00, 8th 00:00) local), WhatsApp only: conversation 1
    # (the 3rd, 08:00), not Telegram's 2, nor 3 (the 8th, 00:30 local).
    ids = [int(line.split(",")[0]) for line in csv_text.replace("\r\n", "\n").splitlines()[1:]]
    assert ids == [s["one"].id]
    report = await _ready(server, token, to_global_id("Report", report_id))
    assert report["scheduled"] is True
    assert json.loads(attachments[f"pytake-conversations-report-{report_id}.json"])["report"]["from"] == (
        "2021-03-01T03:00:00+00:00"
    )
    # The schedule moved on to the next Monday, and the report is not mailed twice.
    nxt = await report_schedules.list_schedules(admin_actor(admin))
    assert [x["next_run_at"] for x in nxt if x["id"] == schedule["id"]] == [at("2021-03-15T03:00:00")]
    assert await report_schedules.email_report(report_id) is False


def admin_actor(user: User) -> Any:
    from core.auth import Actor

    return Actor(user_id=user.id, role=Role.ADMIN)


def test_next_runs_in_a_zone() -> None:
    from zoneinfo import ZoneInfo

    from models.reports import ReportFrequency

    tz = ZoneInfo("Europe/Berlin")
    # Monthly: the 1st, 00:00 Berlin; across the end of the year and a DST change.
    assert report_schedules.next_run(ReportFrequency.MONTHLY, at("2031-12-15T10:00:00"), tz) == at(
        "2031-12-31T23:00:00"
    )
    assert report_schedules.next_run(ReportFrequency.MONTHLY, at("2031-03-31T21:59:00"), tz) == at(
        "2031-03-31T22:00:00"
    )  # 1 April 00:00 CEST
    start = report_schedules.period_start(ReportFrequency.MONTHLY, at("2031-03-31T22:00:00"), tz)
    assert start == at("2031-02-28T23:00:00")  # 1 March 00:00 CET
    # Weekly on a Monday at midnight: the next Monday, not the same instant.
    assert report_schedules.next_run(ReportFrequency.WEEKLY, at("2031-03-09T23:00:00"), tz) == at(
        "2031-03-16T23:00:00"
    )
