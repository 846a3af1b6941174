"""Personal data (LGPD/GDPR): customer exports, erasures, message retention per channel, and the
last start of each periodic job (so several workers run it once per period)."""

from __future__ import annotations

import enum

from tortoise import fields
from tortoise.models import Model


class ExportStatus(enum.StrEnum):
    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"
    EXPIRED = "expired"  # built files are kept EXPORT_RETENTION_DAYS
    ERASED = "erased"  # the customer was erased afterwards: the file is gone with their data


class CustomerExport(Model):
    """One request for a customer's data; `content` is the JSON file once the job built it."""

    id = fields.BigIntField(primary_key=True)
    customer = fields.ForeignKeyField("models.Customer", related_name="exports")
    requested_by = fields.ForeignKeyField(
        "models.User", related_name="customer_exports", null=True, on_delete=fields.SET_NULL
    )
    status = fields.CharEnumField(ExportStatus, max_length=16, default=ExportStatus.PENDING)
    # TEXT rather than a file on one machine's disk: any API process can serve it.
    content = fields.TextField(null=True)
    error = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "customer_exports"


class CustomerErasure(Model):
    customer = fields.OneToOneField("models.Customer", related_name="erasure", primary_key=True)
    erased_by = fields.ForeignKeyField(
        "models.User", related_name="customer_erasures", null=True, on_delete=fields.SET_NULL
    )
    erased_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "customer_erasures"


class RetentionPolicy(Model):
    """Message bodies of this channel older than `message_body_days` are removed (rows and counts stay)."""

    channel = fields.OneToOneField("models.Channel", related_name="retention", primary_key=True)
    message_body_days = fields.IntField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "retention_policies"


class ScheduledRun(Model):
    name = fields.CharField(max_length=64, primary_key=True)
    last_started_at = fields.DatetimeField()

    class Meta:
        table = "scheduled_runs"
