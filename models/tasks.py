"""Tasks the broker refused (Redis unreachable) after the change that asked for them committed:
kept here until a sweep hands them to the broker again (core/tasks.py)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class TaskOutbox(Model):
    id = fields.BigIntField(primary_key=True)
    # One row per distinct pending task: the jobs are idempotent, so the same task twice is waste.
    key = fields.CharField(max_length=64, unique=True)
    queue_name = fields.CharField(max_length=60)
    actor_name = fields.CharField(max_length=60)
    args = fields.JSONField()
    not_before = fields.DatetimeField(null=True)  # a delayed task keeps its time
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "task_outbox"
