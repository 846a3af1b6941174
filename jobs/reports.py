"""Report jobs: building a report's files, running due schedules, e-mailing scheduled reports
(rules in resolvers/reports.py and resolvers/report_schedules.py)."""

from __future__ import annotations

from core import tasks
from resolvers import report_schedules, reports


# A build takes as long as its range: a year of conversations must not hit Dramatiq's 10-minute default.
@tasks.BUILD_REPORT.actor(max_retries=3, min_backoff=1000, max_backoff=60_000, time_limit=3_600_000)
async def build_report(report_id: int) -> None:
    await reports.build_report(report_id)


@tasks.RUN_REPORT_SCHEDULES.actor(max_retries=0)
async def run_report_schedules() -> None:
    """Enqueued by every API process on its upkeep timer; each due schedule is claimed once.
    Reports past REPORT_TTL lose their files here too."""
    await report_schedules.run_due_schedules()
    await reports.expire_reports()


@tasks.EMAIL_REPORT.actor(max_retries=8, min_backoff=5_000, max_backoff=600_000)
async def email_report(report_id: int) -> None:
    await report_schedules.email_report(report_id)
