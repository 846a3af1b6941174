"""Reports: files (CSV and JSON) built by a job over a date range, and schedules that build and
e-mail one every week or month (rules in resolvers/reports.py)."""

from __future__ import annotations

import enum

from tortoise import fields
from tortoise.models import Model


class ReportKind(enum.StrEnum):
    CONVERSATIONS = "conversations"  # one row per conversation started in the range
    MESSAGE_VOLUME = "message_volume"  # messages per day (in the report's zone) and platform
    AGENTS = "agents"  # per agent counts


class ReportStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"
    EXPIRED = "expired"  # built more than REPORT_TTL ago: its files are deleted


class ReportFrequency(enum.StrEnum):
    WEEKLY = "weekly"  # Monday 00:00 in the schedule's zone, covering the week before
    MONTHLY = "monthly"  # the 1st, 00:00 in the zone, covering the month before


class Report(Model):
    id = fields.BigIntField(primary_key=True)
    kind = fields.CharEnumField(ReportKind, max_length=32)
    # The range is [starts_at, ends_at); rows show times and days in `timezone`.
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()
    timezone = fields.CharField(max_length=64, default="UTC")
    # platform, channel_id, team_id, agent_id; scope_team_ids: a supervisor's teams when asked
    filters = fields.JSONField(default=dict)
    requested_by = fields.ForeignKeyField(
        "models.User", related_name="reports", null=True, on_delete=fields.SET_NULL
    )
    schedule = fields.ForeignKeyField(
        "models.ReportSchedule", related_name="reports", null=True, on_delete=fields.SET_NULL
    )
    status = fields.CharEnumField(ReportStatus, max_length=16, default=ReportStatus.PENDING)
    rows_total = fields.BigIntField(null=True)  # counted before writing: progress is rows_done / rows_total
    rows_done = fields.BigIntField(default=0)
    error = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    emailed_at = fields.DatetimeField(null=True)  # a scheduled report's e-mail went out

    class Meta:
        table = "reports"


class ReportSchedule(Model):
    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(ReportKind, max_length=32)
    frequency = fields.CharEnumField(ReportFrequency, max_length=16)
    timezone = fields.CharField(max_length=64, default="UTC")
    filters = fields.JSONField(default=dict)
    recipients = fields.JSONField(default=list)  # e-mail addresses
    created_by = fields.ForeignKeyField(
        "models.User", related_name="report_schedules", null=True, on_delete=fields.SET_NULL
    )
    next_run_at = fields.DatetimeField()
    last_run_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "report_schedules"
