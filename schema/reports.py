"""Reports for supervisors and admins: `requestReport` builds CSV and JSON files in the background
(`reports` shows progress and, once ready, signed links), `scheduleReport` e-mails one every week or
month (rules in resolvers/reports.py and resolvers/report_schedules.py)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any

import strawberry

from models.reports import ReportFrequency as _Frequency
from models.reports import ReportKind as _Kind
from resolvers import report_schedules, reports
from schema.common import Platform
from schema.downloads import link_base, signed_link
from schema.permissions import SUPERVISORS, actor_of
from schema.relay import decode_id, decode_optional_id, to_global_id

ReportKind = strawberry.enum(_Kind, name="ReportKind")
ReportFrequency = strawberry.enum(_Frequency, name="ReportFrequency")


@strawberry.enum
class ReportStatus(enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"
    EXPIRED = "expired"


@strawberry.type
class ReportFilters:
    platform: str | None
    channel_id: strawberry.ID | None
    team_id: strawberry.ID | None
    agent_id: strawberry.ID | None

    @classmethod
    def from_dict(cls, f: dict[str, Any]) -> ReportFilters:
        def gid(type_name: str, key: str) -> strawberry.ID | None:
            return to_global_id(type_name, f[key]) if f.get(key) is not None else None

        return cls(
            platform=f.get("platform"),
            channel_id=gid("Channel", "channel_id"),
            team_id=gid("Team", "team_id"),
            agent_id=gid("User", "agent_id"),
        )


@strawberry.type
class Report:
    id: strawberry.ID
    kind: ReportKind  # type: ignore[valid-type]
    status: ReportStatus
    from_: datetime = strawberry.field(name="from")
    to: datetime
    timezone: str
    filters: ReportFilters
    scheduled: bool = strawberry.field(description="Built by a schedule (and e-mailed).")
    rows_total: int | None = strawberry.field(description="Counted when the build starts.")
    rows_done: int
    progress: float = strawberry.field(description="0 to 1: rows written over rows to write.")
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    csv_url: str | None = strawberry.field(
        description="While READY: a signed link to the CSV file, for the caller; it expires "
        "(`downloadExpiresAt`), ask again for a fresh one."
    )
    json_url: str | None
    download_expires_at: datetime | None
    expires_at: datetime | None = strawberry.field(
        description="While READY: when the files are deleted (REPORT_TTL after the build; the report "
        "is then EXPIRED, without links)."
    )

    @classmethod
    def from_row(cls, row: dict[str, Any], user_id: int, request: Any) -> Report:
        csv_url = json_url = expires = None
        if row["status"] == "ready":
            base = link_base(request)
            until = row.get("expires_at")
            csv_url, expires = signed_link("report_csv", row["id"], user_id, base, until)
            json_url, _ = signed_link("report_json", row["id"], user_id, base, until)
        total = row["rows_total"]
        done = row["rows_done"]
        progress = 1.0 if row["status"] == "ready" else (min(done / total, 1.0) if total else 0.0)
        return cls(
            id=to_global_id("Report", row["id"]),
            kind=_Kind(row["kind"]),
            status=ReportStatus(row["status"]),
            from_=row["starts_at"],
            to=row["ends_at"],
            timezone=row["timezone"],
            filters=ReportFilters.from_dict(row["filters"]),
            scheduled=row["schedule_id"] is not None,
            rows_total=total,
            rows_done=done,
            progress=progress,
            error=row["error"],
            created_at=row["created_at"],
            finished_at=row["finished_at"],
            csv_url=csv_url,
            json_url=json_url,
            download_expires_at=expires,
            expires_at=row.get("expires_at"),
        )


@strawberry.type
class ReportSchedule:
    id: strawberry.ID
    kind: ReportKind  # type: ignore[valid-type]
    frequency: ReportFrequency  # type: ignore[valid-type]
    timezone: str
    filters: ReportFilters
    recipients: list[str]
    next_run_at: datetime
    last_run_at: datetime | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ReportSchedule:
        return cls(
            id=to_global_id("ReportSchedule", row["id"]),
            kind=_Kind(row["kind"]),
            frequency=_Frequency(row["frequency"]),
            timezone=row["timezone"],
            filters=ReportFilters.from_dict(row["filters"]),
            recipients=row["recipients"],
            next_run_at=row["next_run_at"],
            last_run_at=row["last_run_at"],
        )


@strawberry.input
class ReportFilterInput:
    platform: Platform | None = None  # type: ignore[valid-type]
    channel_id: strawberry.ID | None = None
    team_id: strawberry.ID | None = None
    agent_id: strawberry.ID | None = None


def _filters(filters: ReportFilterInput | None) -> dict[str, Any]:
    f = filters or ReportFilterInput()
    return {
        "platform": f.platform.value if f.platform is not None else None,
        "channel_id": decode_optional_id(f.channel_id, "Channel", "channelId"),
        "team_id": decode_optional_id(f.team_id, "Team", "teamId"),
        "agent_id": decode_optional_id(f.agent_id, "User", "agentId"),
    }


@strawberry.type
class ReportQueries:
    @strawberry.field(
        extensions=[SUPERVISORS],
        description="Supervisors and admins: their reports, newest first (admins: everyone's), or "
        "one by id; with progress, and signed links to the files once ready.",
    )
    async def reports(
        self, info: strawberry.Info, id: strawberry.ID | None = None, first: int = 20
    ) -> list[Report]:
        actor = actor_of(info)
        rows = await reports.list_reports(actor, decode_optional_id(id, "Report", "id"), first)
        return [Report.from_row(r, actor.user_id, info.context.request) for r in rows]  # type: ignore[union-attr]

    @strawberry.field(
        extensions=[SUPERVISORS],
        description="Supervisors and admins: their scheduled reports (admins: everyone's).",
    )
    async def report_schedules(self, info: strawberry.Info) -> list[ReportSchedule]:
        return [ReportSchedule.from_row(r) for r in await report_schedules.list_schedules(actor_of(info))]


@strawberry.type
class ReportMutations:
    @strawberry.mutation(
        extensions=[SUPERVISORS],
        description="Build a report over [from, to) in the background (at most REPORT_MAX_DAYS); "
        "times and days in `timezone`. A supervisor's report covers their teams only. Poll "
        "`reports(id:)` for progress and the links.",
    )
    async def request_report(
        self,
        info: strawberry.Info,
        kind: ReportKind,  # type: ignore[valid-type]
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        timezone: str = "UTC",
        filters: ReportFilterInput | None = None,
    ) -> Report:
        actor = actor_of(info)
        request = reports.ReportRequest(kind.value, from_, to, timezone, **_filters(filters))
        row = await reports.request_report(actor, request)
        return Report.from_row(row, actor.user_id, info.context.request)  # type: ignore[union-attr]

    @strawberry.mutation(
        extensions=[SUPERVISORS],
        description="E-mail a report every week (Monday 00:00) or month (the 1st, 00:00) in "
        "`timezone`, covering the period just ended, to up to 20 recipients.",
    )
    async def schedule_report(
        self,
        info: strawberry.Info,
        kind: ReportKind,  # type: ignore[valid-type]
        frequency: ReportFrequency,  # type: ignore[valid-type]
        recipients: list[str],
        timezone: str = "UTC",
        filters: ReportFilterInput | None = None,
    ) -> ReportSchedule:
        row = await report_schedules.schedule_report(
            actor_of(info), kind.value, frequency.value, timezone, recipients, _filters(filters)
        )
        return ReportSchedule.from_row(row)

    @strawberry.mutation(
        extensions=[SUPERVISORS],
        description="Stop a scheduled report (its creator, or an admin). Reports it built stay.",
    )
    async def delete_report_schedule(self, info: strawberry.Info, id: strawberry.ID) -> bool:
        return await report_schedules.delete_schedule(actor_of(info), decode_id(id, "ReportSchedule", "id"))
