"""Outgoing webhooks: the endpoints integrators subscribe, each delivery of an event to one of them,
and every HTTP attempt of a delivery (rules in resolvers/outgoing_webhooks.py, the fan-out from the
event log in resolvers/webhook_dispatch.py, sending in resolvers/webhook_delivery.py)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class WebhookEndpoint(Model):
    id = fields.IntField(primary_key=True)
    url = fields.CharField(max_length=2000)
    description = fields.CharField(max_length=200, default="")
    events = fields.JSONField(default=list)  # outgoing event names, or ["*"]
    filters = fields.JSONField(
        default=dict
    )  # {"channel_ids": [...], "platforms": [...]}: all given must match
    # Fernet-encrypted {"current": ..., "previous": ...}; previous signs too until previous_expires_at.
    secrets_encrypted = fields.TextField()
    previous_expires_at = fields.DatetimeField(null=True)
    allow_private_network = fields.BooleanField(default=False)  # an admin's exception to the SSRF check
    enabled = fields.BooleanField(default=True)
    disabled_reason = fields.CharField(max_length=300, null=True)
    disabled_at = fields.DatetimeField(null=True)
    failing_since = fields.DatetimeField(null=True)  # first failed attempt since the last success
    cursor = fields.BigIntField(default=0)  # the last event-log seq fanned out to this endpoint
    created_by = fields.ForeignKeyField("models.User", related_name="webhook_endpoints", null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "webhook_endpoints"


class WebhookDelivery(Model):
    """One event for one endpoint. `body` is fixed when the delivery is made, so every retry sends
    the same bytes; `delivery_id` is the receiver's deduplication key (same across retries)."""

    id = fields.BigIntField(primary_key=True)
    delivery_id = fields.UUIDField(unique=True)
    endpoint = fields.ForeignKeyField("models.WebhookEndpoint", related_name="deliveries")
    event_seq = fields.BigIntField(null=True)
    event_type = fields.CharField(max_length=60)
    conversation_id = fields.BigIntField(null=True)  # deliveries of one conversation go in order
    body = fields.TextField()
    status = fields.CharField(max_length=12, default="pending")  # pending, succeeded, failed
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    lease_until = fields.DatetimeField(null=True)  # a worker is sending it until then
    last_status_code = fields.IntField(null=True)
    last_error = fields.CharField(max_length=500, null=True)
    replay_of = fields.ForeignKeyField("models.WebhookDelivery", related_name="replays", null=True)
    created_at = fields.DatetimeField()
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_deliveries"
        indexes = (("endpoint_id", "status", "conversation_id", "id"),)


class WebhookAttempt(Model):
    id = fields.BigIntField(primary_key=True)
    delivery = fields.ForeignKeyField("models.WebhookDelivery", related_name="attempt_log")
    started_at = fields.DatetimeField()
    duration_ms = fields.IntField()
    status_code = fields.IntField(null=True)
    error = fields.CharField(max_length=500, null=True)
    succeeded = fields.BooleanField()

    class Meta:
        table = "webhook_attempts"


class WebhookDispatcher(Model):
    """One row: until when a dispatcher tick is already scheduled, so the self-rescheduling tick
    stays one chain however many processes start it."""

    id = fields.IntField(primary_key=True)
    armed_until = fields.DatetimeField()

    class Meta:
        table = "webhook_dispatcher"
