"""Scheduled reports: every week (Monday 00:00) or month (the 1st, 00:00) in the schedule's time
zone, a report over the period just ended is built and e-mailed to its recipients (CSV and JSON
attached) over REPORT_SMTP_URL.

`run_due_schedules(now)` is on the upkeep timer of every API process; each due schedule is claimed
with FOR UPDATE SKIP LOCKED and moved to its next run in the same transaction as its report is
created, so several workers create one report per period. The e-mail is its own job
(EMAIL_REPORT, retried), marked sent on the report: at least once, and once when nothing fails."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import aiosmtplib
import orjson

from core import tasks
from core.auth import Actor
from core.settings import get_settings
from core.sql import fetch, fetchrow, in_transaction
from models.reports import ReportFrequency
from resolvers import reports
from resolvers.auth import require_supervisor
from resolvers.errors import BadInput, NotFound

log = logging.getLogger(__name__)

MAX_RECIPIENTS = 20
# Mail servers refuse large messages (25 MB is common, base64 adds a third): a larger file is not
# attached, and the mail says where to get it.
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
SCHEDULE_COLUMNS = (
    "id, kind, frequency, timezone, filters::text AS filters, recipients::text AS recipients, "
    "created_by_id, next_run_at, last_run_at, created_at"
)


def period_start(frequency: ReportFrequency, run_at: datetime, tz: ZoneInfo) -> datetime:
    """The start of the period that ends at `run_at` (a run time in `tz`)."""
    local = run_at.astimezone(tz)
    if frequency == ReportFrequency.WEEKLY:
        start = (local - timedelta(days=7)).replace(tzinfo=None)
    else:
        year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
        start = local.replace(year=year, month=month, tzinfo=None)
    return start.replace(tzinfo=tz)  # wall time re-zoned: a DST change inside the week is not a shift


def next_run(frequency: ReportFrequency, after: datetime, tz: ZoneInfo) -> datetime:
    """The first run time strictly after `after`: Monday or the 1st, 00:00 in `tz`."""
    local = after.astimezone(tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    if frequency == ReportFrequency.WEEKLY:
        candidate = midnight + timedelta(days=(7 - midnight.weekday()) % 7 or 7)
    else:
        year, month = (midnight.year, midnight.month + 1) if midnight.month < 12 else (midnight.year + 1, 1)
        candidate = midnight.replace(year=year, month=month, day=1)
    return candidate.replace(tzinfo=tz).astimezone(UTC)


def _recipients(addresses: list[str]) -> list[str]:
    if not 1 <= len(addresses) <= MAX_RECIPIENTS:
        raise BadInput(f"between 1 and {MAX_RECIPIENTS} recipients", field="recipients", limit=MAX_RECIPIENTS)
    clean = []
    for address in addresses:
        _, parsed = parseaddr(address)
        if not parsed or "@" not in parsed or parsed != address.strip():
            raise BadInput(f"{address!r} is not an e-mail address", field="recipients")
        clean.append(parsed)
    return clean


async def schedule_report(
    actor: Actor | None,
    kind: str,
    frequency: str,
    timezone: str,
    recipients: list[str],
    filters: dict[str, Any],
    now: datetime | None = None,
) -> dict[str, Any]:
    actor = require_supervisor(actor)
    reports.check_kind(kind)
    try:
        freq = ReportFrequency(frequency)
    except ValueError as exc:
        raise BadInput(f"frequency must be weekly or monthly, not {frequency!r}", field="frequency") from exc
    tz = reports.zone(timezone)
    stored = {k: v for k, v in filters.items() if v is not None}
    scope = await reports._scope_teams(actor)
    if scope is not None:
        stored["scope_team_ids"] = scope
    row = await fetchrow(
        "INSERT INTO report_schedules (kind, frequency, timezone, filters, recipients, created_by_id, "
        "next_run_at, created_at) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, now()) "
        f"RETURNING {SCHEDULE_COLUMNS}",
        kind,
        freq.value,
        timezone,
        orjson.dumps(stored).decode(),
        orjson.dumps(_recipients(recipients)).decode(),
        actor.user_id,
        next_run(freq, now or datetime.now(UTC), tz),
    )
    return schedule_view(row)  # type: ignore[arg-type]


def schedule_view(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "filters": orjson.loads(row["filters"]), "recipients": orjson.loads(row["recipients"])}


async def list_schedules(actor: Actor | None) -> list[dict[str, Any]]:
    actor = require_supervisor(actor)
    rows = await fetch(
        f"SELECT {SCHEDULE_COLUMNS} FROM report_schedules WHERE $1 OR created_by_id = $2 ORDER BY id",
        actor.role.value == "admin",
        actor.user_id,
    )
    return [schedule_view(r) for r in rows]


async def delete_schedule(actor: Actor | None, schedule_id: int) -> bool:
    """Stop a schedule: its creator or an admin (NOT_FOUND for anyone else, as for one that does
    not exist). Reports it already built stay (no longer marked scheduled)."""
    actor = require_supervisor(actor)
    rows = await fetch(
        "DELETE FROM report_schedules WHERE id = $1 AND ($2 OR created_by_id = $3) RETURNING id",
        schedule_id,
        actor.role.value == "admin",
        actor.user_id,
    )
    if not rows:
        raise NotFound(f"report schedule {schedule_id} does not exist or is not yours", field="id")
    return True


async def run_due_schedules(now: datetime | None = None) -> list[int]:
    """Create (and enqueue) the report of every schedule due at `now`; returns their ids."""
    now = now or datetime.now(UTC)
    created: list[int] = []
    while True:
        async with in_transaction() as conn:
            rows = await conn.execute_query_dict(
                f"SELECT {SCHEDULE_COLUMNS} FROM report_schedules WHERE next_run_at <= $1 "
                "ORDER BY next_run_at LIMIT 1 FOR UPDATE SKIP LOCKED",
                [now],
            )
            if not rows:
                break
            schedule = schedule_view(rows[0])
            freq, tz = ReportFrequency(schedule["frequency"]), ZoneInfo(schedule["timezone"])
            run_at = schedule["next_run_at"]
            filters = schedule["filters"]
            report = await conn.execute_query_dict(
                "INSERT INTO reports (kind, starts_at, ends_at, timezone, filters, requested_by_id, "
                "schedule_id, status, rows_done, created_at) "
                "VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, 'pending', 0, now()) RETURNING id",
                [
                    schedule["kind"],
                    period_start(freq, run_at, tz),
                    run_at,
                    schedule["timezone"],
                    orjson.dumps(filters).decode(),
                    schedule["created_by_id"],
                    schedule["id"],
                ],
            )
            # A schedule that fell far behind (workers down for weeks) catches up to now, once.
            await conn.execute_query(
                "UPDATE report_schedules SET next_run_at = $2, last_run_at = $3 WHERE id = $1",
                [schedule["id"], next_run(freq, max(run_at, now), tz), run_at],
            )
        created.append(report[0]["id"])
    for report_id in created:
        tasks.BUILD_REPORT.send(report_id)
    return created


def _smtp() -> dict[str, Any]:
    url = get_settings().report_smtp_url
    if not url:
        raise RuntimeError("REPORT_SMTP_URL is not set: scheduled reports cannot be e-mailed")
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise RuntimeError("REPORT_SMTP_URL must be smtp://[user:pass@]host[:port] or smtps://…")
    implicit_tls = parts.scheme == "smtps"
    return {
        "hostname": parts.hostname,
        "port": parts.port or (465 if implicit_tls else 587),
        "username": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "use_tls": implicit_tls,
        # STARTTLS when the server offers it (None); `?starttls=0` for a plain loopback relay.
        "start_tls": False if implicit_tls or "starttls=0" in parts.query else None,
    }


async def email_report(report_id: int) -> bool:
    """The job: mail a ready scheduled report to its schedule's recipients; False when there is
    nothing to send (already sent, not ready, or its schedule is gone)."""
    row = await fetchrow(
        "SELECT r.id, r.kind, r.starts_at, r.ends_at, r.timezone, r.rows_total, s.recipients::text AS recipients "
        "FROM reports r JOIN report_schedules s ON s.id = r.schedule_id "
        "WHERE r.id = $1 AND r.status = 'ready' AND r.emailed_at IS NULL",
        report_id,
    )
    if row is None:
        return False
    tz = ZoneInfo(row["timezone"])
    period = f"{row['starts_at'].astimezone(tz):%Y-%m-%d} – {row['ends_at'].astimezone(tz):%Y-%m-%d}"
    message = EmailMessage()
    message["From"] = get_settings().report_mail_from
    message["To"] = ", ".join(orjson.loads(row["recipients"]))
    message["Subject"] = f"PyTake {row['kind'].replace('_', ' ')} report, {period}"
    paths = {extension: reports.file_path(report_id, extension) for extension in ("csv", "json")}
    attach = all(path.stat().st_size <= MAX_ATTACHMENT_BYTES for path in paths.values())
    message.set_content(
        f"The {row['kind'].replace('_', ' ')} report for {period} ({row['timezone']}): {row['rows_total']} rows, "
        + (
            "attached as CSV and JSON.\n"
            if attach
            else f"too large to attach: download it from PyTake (Reports, report {report_id}).\n"
        )
    )
    for extension, path in paths.items() if attach else ():
        message.add_attachment(
            path.read_bytes(),
            maintype="text" if extension == "csv" else "application",
            subtype=extension,
            filename=f"pytake-{row['kind']}-report-{report_id}.{extension}",
        )
    await aiosmtplib.send(message, timeout=30, **_smtp())
    await fetch("UPDATE reports SET emailed_at = now() WHERE id = $1", report_id)
    log.info("report e-mailed", extra={"report_id": report_id})
    return True
