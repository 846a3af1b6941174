"""Reports: a kind, a date range, a time zone and filters → a CSV and a JSON file, built by a job
(BUILD_REPORT) with progress, handed out through signed, expiring links (schema/downloads.py).

Large ranges are streamed: the job reads its query through a server-side cursor (one snapshot for
the count and the rows) and writes each row to both files as it comes, so memory does not grow
with the range. Files live in REPORTS_DIR, which every API and worker process must share.
Who may: supervisors and admins; a supervisor's report covers only the teams they belong to, and
each user sees (and downloads) their own reports, admins everyone's."""

from __future__ import annotations

import csv
import logging
import os
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from core import tasks
from core.auth import Actor, Role
from core.settings import get_settings
from core.sql import db, fetch, fetchrow
from models.reports import ReportKind
from resolvers.auth import require_supervisor
from resolvers.errors import BadInput, NotFound
from resolvers.report_queries import COLUMNS, SQL

log = logging.getLogger(__name__)

FORMAT = "pytake.report/1"
_PROGRESS_ROWS = 5000  # rows between progress writes while a report is built
_PROGRESS_SECONDS = 0.5  # …or sooner, when the rows come slowly
# A run that started this long ago died with its worker (the job's time limit is an hour): retake it.
_STALE_RUN = "interval '65 minutes'"
_FETCH = 500  # rows per round trip of the cursor
REPORT_COLUMNS = (
    "id, kind, starts_at, ends_at, timezone, filters::text AS filters, requested_by_id, schedule_id, "
    "status, rows_total, rows_done, error, created_at, started_at, finished_at, emailed_at"
)
_FILTER_KEYS = ("platform", "channel_id", "team_id", "agent_id")


@dataclass(frozen=True)
class ReportRequest:
    kind: str
    starts_at: datetime
    ends_at: datetime
    timezone: str = "UTC"
    platform: str | None = None
    channel_id: int | None = None
    team_id: int | None = None
    agent_id: int | None = None

    def filters(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in _FILTER_KEYS if getattr(self, k) is not None}


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadInput(f"unknown time zone {name!r}", field="timezone") from exc


def check_kind(kind: str) -> ReportKind:
    try:
        return ReportKind(kind)
    except ValueError as exc:
        known = ", ".join(k.value for k in ReportKind)
        raise BadInput(f"unknown report kind {kind!r} (known: {known})", field="kind") from exc


async def _scope_teams(actor: Actor) -> list[int] | None:
    """The teams a supervisor's reports cover; None (every team) for admins."""
    if actor.role == Role.ADMIN:
        return None
    rows = await fetch("SELECT team_id FROM team_members WHERE user_id = $1 ORDER BY team_id", actor.user_id)
    return [r["team_id"] for r in rows]


def _check_range(starts_at: datetime, ends_at: datetime) -> None:
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise BadInput("from and to need a UTC offset", field="from")
    if ends_at <= starts_at:
        raise BadInput("`to` must be after `from`", field="to")
    limit = get_settings().report_max_days
    if (ends_at - starts_at).total_seconds() > limit * 86400:
        raise BadInput(f"a report covers at most {limit} days (REPORT_MAX_DAYS)", field="to", limit=limit)


async def request_report(actor: Actor | None, request: ReportRequest) -> dict[str, Any]:
    actor = require_supervisor(actor)
    check_kind(request.kind)
    zone(request.timezone)
    _check_range(request.starts_at, request.ends_at)
    report = await create_report(
        request, await _scope_teams(actor), requested_by=actor.user_id, schedule_id=None
    )
    tasks.BUILD_REPORT.send(report["id"])
    return report


async def create_report(
    request: ReportRequest, scope_teams: list[int] | None, requested_by: int | None, schedule_id: int | None
) -> dict[str, Any]:
    filters = request.filters()
    if scope_teams is not None:
        filters["scope_team_ids"] = scope_teams  # fixed when asked: a later team change does not widen it
    row = await fetchrow(
        "INSERT INTO reports (kind, starts_at, ends_at, timezone, filters, requested_by_id, schedule_id, "
        f"status, rows_done, created_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, 'pending', 0, now()) "
        f"RETURNING {REPORT_COLUMNS}",
        request.kind,
        request.starts_at,
        request.ends_at,
        request.timezone,
        orjson.dumps(filters).decode(),
        requested_by,
        schedule_id,
    )
    return _view(row)  # type: ignore[arg-type]


def _view(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "filters": orjson.loads(row["filters"]), "expires_at": expires_at(row)}


def expires_at(row: dict[str, Any]) -> datetime | None:
    """When a ready report's files are deleted (REPORT_TTL after it was built); its links never
    outlive it."""
    if row["status"] != "ready" or row["finished_at"] is None:
        return None
    return row["finished_at"] + timedelta(seconds=get_settings().report_ttl)


async def expire_reports(now: datetime | None = None) -> list[int]:
    """Delete the files of reports built more than REPORT_TTL ago and mark them `expired` (the
    row stays in the list, without links). Files go first: a crash in between leaves a ready
    report without files (its link answers 404) that the next run marks."""
    now = now or datetime.now(UTC)
    due = await fetch(
        "SELECT id FROM reports WHERE status = 'ready' AND finished_at < $1 ORDER BY id LIMIT 500",
        now - timedelta(seconds=get_settings().report_ttl),
    )
    ids = [r["id"] for r in due]
    for report_id in ids:
        directory = file_path(report_id, "csv").parent
        for leftover in directory.glob(f"report-{report_id}.*"):  # the files and any stale .part
            leftover.unlink(missing_ok=True)
    if not ids:
        return []
    rows = await fetch(
        "UPDATE reports SET status = 'expired' WHERE id = ANY($1::bigint[]) AND status = 'ready' RETURNING id",
        ids,
    )
    if rows:
        log.info("reports expired", extra={"count": len(rows)})
    return [r["id"] for r in rows]


async def list_reports(actor: Actor | None, report_id: int | None, first: int) -> list[dict[str, Any]]:
    """The caller's reports, newest first (admins: everyone's); one by id when asked."""
    actor = require_supervisor(actor)
    if not 1 <= first <= 100:
        raise BadInput("first must be between 1 and 100", field="first", limit=100)
    mine = actor.role != Role.ADMIN
    rows = await fetch(
        f"SELECT {REPORT_COLUMNS} FROM reports WHERE ($1::bigint IS NULL OR id = $1) "
        "AND (NOT $2 OR requested_by_id = $3) ORDER BY id DESC LIMIT $4",
        report_id,
        mine,
        actor.user_id,
        first,
    )
    if report_id is not None and not rows:
        raise NotFound(f"report {report_id} does not exist or is not yours", field="id")
    return [_view(r) for r in rows]


# ---- the job ---------------------------------------------------------------------------------------


def file_path(report_id: int, extension: str) -> Path:
    directory = get_settings().reports_dir or get_settings().data_dir / "reports"
    return directory / f"report-{report_id}.{extension}"


async def build_report(report_id: int) -> None:
    """The job. Idempotent: a ready report, or one another worker is building, is left alone; a
    run that died with its worker is retaken after its time limit and starts again from the first
    row (each run writes files of its own, renamed into place when complete)."""
    row = await fetchrow(
        "UPDATE reports SET status = 'running', started_at = now(), rows_done = 0, error = NULL "
        f"WHERE id = $1 AND (status = 'pending' OR (status = 'running' AND started_at < now() - {_STALE_RUN})) "
        f"RETURNING {REPORT_COLUMNS}",
        report_id,
    )
    if row is None:
        return
    report = _view(row)
    try:
        total = await _write_files(report)
    except Exception as exc:
        log.exception("report failed", extra={"report_id": report_id})
        await fetch(
            "UPDATE reports SET status = 'failed', error = $2, finished_at = now() WHERE id = $1",
            report_id,
            f"{type(exc).__name__}: {exc}",
        )
        return
    await fetch(
        "UPDATE reports SET status = 'ready', rows_total = $2, rows_done = $2, finished_at = now() WHERE id = $1",
        report_id,
        total,
    )
    if report["schedule_id"] is not None:
        tasks.EMAIL_REPORT.send(report_id)


def _arguments(report: dict[str, Any], kind: ReportKind) -> list[Any]:
    f = report["filters"]
    args = [
        report["starts_at"],
        report["ends_at"],
        f.get("platform"),
        f.get("channel_id"),
        f.get("team_id"),
        f.get("agent_id"),
        f.get("scope_team_ids"),
    ]
    return [*args, report["timezone"]] if kind == ReportKind.MESSAGE_VOLUME else args


async def _write_files(report: dict[str, Any]) -> int:
    run = uuid.uuid4().hex[:8]
    parts = [file_path(report["id"], f"{run}.{extension}.part") for extension in ("csv", "json")]
    try:
        done = await _stream_rows(report, *parts)
    except BaseException:
        for part in parts:
            part.unlink(missing_ok=True)
        raise
    os.replace(parts[0], file_path(report["id"], "csv"))
    os.replace(parts[1], file_path(report["id"], "json"))
    return done


async def _stream_rows(report: dict[str, Any], csv_tmp: Path, json_tmp: Path) -> int:
    kind = ReportKind(report["kind"])
    columns = COLUMNS[kind]
    tz = ZoneInfo(report["timezone"])
    csv_tmp.parent.mkdir(parents=True, exist_ok=True)
    sql, args = SQL[kind], _arguments(report, kind)
    done = 0
    async with db().acquire_connection() as conn:  # asyncpg's own connection: cursors need one
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            total = await conn.fetchval(f"SELECT count(*) FROM ({sql}) counted", *args)
            await fetch("UPDATE reports SET rows_total = $2 WHERE id = $1", report["id"], total)
            with (
                csv_tmp.open("w", newline="", encoding="utf-8") as csv_file,
                json_tmp.open("w", encoding="utf-8") as json_file,
            ):
                writer = csv.writer(csv_file, lineterminator="\r\n")
                writer.writerow(columns)
                _json_head(json_file, report, columns)
                last_progress = time.monotonic()
                async for record in conn.cursor(sql, *args, prefetch=_FETCH):
                    values = [_cell(record[c], tz) for c in columns]
                    writer.writerow(["" if v is None else v for v in values])
                    json_file.write(
                        ("\n" if done == 0 else ",\n")
                        + orjson.dumps(dict(zip(columns, values, strict=True))).decode()
                    )
                    done += 1
                    if done % _PROGRESS_ROWS == 0 or time.monotonic() - last_progress >= _PROGRESS_SECONDS:
                        last_progress = time.monotonic()
                        await write_progress(report["id"], done)
                json_file.write("\n]}\n")
    return done


async def write_progress(report_id: int, rows_done: int) -> None:
    """On the pool, not the cursor's transaction: readers see it at once."""
    await fetch("UPDATE reports SET rows_done = $2 WHERE id = $1", report_id, rows_done)


def _json_head(out: TextIO, report: dict[str, Any], columns: tuple[str, ...]) -> None:
    head = {
        "format": FORMAT,
        "report": {
            "id": report["id"],
            "kind": report["kind"],
            "from": report["starts_at"].astimezone(UTC).isoformat(),
            "to": report["ends_at"].astimezone(UTC).isoformat(),
            "timezone": report["timezone"],
            "filters": {k: v for k, v in report["filters"].items() if k in _FILTER_KEYS},
        },
        "columns": list(columns),
    }
    out.write(orjson.dumps(head).decode()[:-1] + ',"rows":[')


def _cell(value: Any, tz: ZoneInfo) -> Any:
    """Times in the report's zone (ISO 8601 with offset), durations in whole seconds."""
    if isinstance(value, datetime):
        return value.astimezone(tz).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | float):
        return round(value)
    return value


async def report_file(report_id: int, user_id: int, extension: str) -> tuple[str, Path] | None:
    """(file name, path) for a signed link made for `user_id`; None when the report is not ready,
    or that user may no longer have it (deactivated, demoted to agent, or neither its requester
    nor an admin)."""
    user = await fetchrow("SELECT role, is_active FROM users WHERE id = $1", user_id)
    if user is None or not user["is_active"] or user["role"] == Role.AGENT.value:
        return None
    row = await fetchrow(
        "SELECT kind, requested_by_id, status, finished_at FROM reports WHERE id = $1 AND status = 'ready'",
        report_id,
    )
    if row is None or (user["role"] != Role.ADMIN.value and row["requested_by_id"] != user_id):
        return None
    if (until := expires_at(row)) is not None and until <= datetime.now(UTC):
        return None  # expired; the upkeep deletes its files
    path = file_path(report_id, extension)
    if not path.exists():
        return None
    return f"pytake-{row['kind']}-report-{report_id}.{extension}", path


async def report_csv(report_id: int, user_id: int) -> tuple[str, Path] | None:
    return await report_file(report_id, user_id, "csv")


async def report_json(report_id: int, user_id: int) -> tuple[str, Path] | None:
    return await report_file(report_id, user_id, "json")
