"""Reports do not live forever: a built report's links never outlive REPORT_TTL, and past it the
upkeep deletes its files and marks it EXPIRED (listed, without links; an old link gives nothing).
Schedules can be deleted by their creator or an admin, nobody else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from core.sql import fetch
from models import Role
from resolvers import reports
from schema.relay import parse_global_id
from tests.helpers import error_code, eventually, gql, login, make_user

REQUEST = """mutation { requestReport(kind: AGENTS, from: "2019-01-01T00:00:00Z", to: "2019-01-02T00:00:00Z") { id } }"""
REPORT = """query($id: ID!) { reports(id: $id) { id status csvUrl jsonUrl downloadExpiresAt expiresAt } }"""
SCHEDULE = """mutation { scheduleReport(kind: AGENTS, frequency: WEEKLY, recipients: ["boss@example.com"]) { id } }"""
SCHEDULES = """query { reportSchedules { id } }"""
DELETE = """mutation($id: ID!) { deleteReportSchedule(id: $id) }"""


async def _ready(server: str, token: str, report_id: str) -> dict:
    async def check() -> dict | None:
        body = await gql(server, REPORT, {"id": report_id}, token)
        assert body.get("errors") is None, body
        report = body["data"]["reports"][0]
        assert report["status"] != "FAILED", report
        return report if report["status"] == "READY" else None

    return await eventually(check, timeout=60, interval=0.2)


async def test_report_files_expire_and_are_deleted(server):
    token = await login(server, await make_user(Role.SUPERVISOR))
    body = await gql(server, REQUEST, None, token)
    assert body.get("errors") is None, body
    report_id = body["data"]["requestReport"]["id"]
    report = await _ready(server, token, report_id)
    pk = parse_global_id(report_id)[1]
    expires_at = datetime.fromisoformat(report["expiresAt"])
    assert timedelta(days=6.9) < expires_at - datetime.now(UTC) <= timedelta(days=7)
    assert datetime.fromisoformat(report["downloadExpiresAt"]) <= expires_at
    async with httpx.AsyncClient(timeout=20) as client:
        assert (await client.get(report["csvUrl"])).status_code == 200
        files = [reports.file_path(pk, extension) for extension in ("csv", "json")]
        assert all(f.exists() for f in files)

        # Built eight days ago: a day past its lifetime. Its links are capped at that lifetime,
        # and the link minted earlier gives nothing any more (404), even before the upkeep ran.
        await fetch("UPDATE reports SET finished_at = now() - interval '8 days' WHERE id = $1", pk)
        listed = (await gql(server, REPORT, {"id": report_id}, token))["data"]["reports"][0]
        assert datetime.fromisoformat(listed["downloadExpiresAt"]) < datetime.now(UTC)
        assert (await client.get(report["csvUrl"])).status_code == 404

        await reports.expire_reports()  # what the upkeep runs (the server's may have run it first)
        assert not any(f.exists() for f in files)
        assert pk not in await reports.expire_reports()  # once
        gone = (await gql(server, REPORT, {"id": report_id}, token))["data"]["reports"][0]
        assert gone == {
            "id": report_id,
            "status": "EXPIRED",
            "csvUrl": None,
            "jsonUrl": None,
            "downloadExpiresAt": None,
            "expiresAt": None,
        }
        assert (await client.get(report["jsonUrl"])).status_code == 404


async def test_a_schedule_is_deleted_by_its_creator_or_an_admin(server):
    creator = await login(server, await make_user(Role.SUPERVISOR))
    other = await login(server, await make_user(Role.SUPERVISOR))
    admin = await login(server, await make_user(Role.ADMIN))
    agent = await login(server, await make_user(Role.AGENT))

    async def schedule() -> str:
        body = await gql(server, SCHEDULE, None, creator)
        assert body.get("errors") is None, body
        return body["data"]["scheduleReport"]["id"]

    first, second = await schedule(), await schedule()
    assert error_code(await gql(server, DELETE, {"id": first}, agent)) == "FORBIDDEN"
    assert error_code(await gql(server, DELETE, {"id": first}, other)) == "NOT_FOUND"  # not theirs
    assert (await gql(server, DELETE, {"id": first}, creator))["data"]["deleteReportSchedule"] is True
    assert error_code(await gql(server, DELETE, {"id": first}, creator)) == "NOT_FOUND"  # gone
    assert (await gql(server, DELETE, {"id": second}, admin))["data"]["deleteReportSchedule"] is True
    left = {s["id"] for s in (await gql(server, SCHEDULES, None, creator))["data"]["reportSchedules"]}
    assert not {first, second} & left
