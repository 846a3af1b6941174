"""Notifications for people: the in-app list (one row each), their e-mail and Slack deliveries,
each user's preferences, and the event-log cursor the notifier reads from."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Notification(Model):
    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="notifications", on_delete=fields.CASCADE)
    kind = fields.CharField(max_length=32)  # assignment, mention, customer_reply, alert
    title = fields.CharField(max_length=200)
    body = fields.TextField()
    data = fields.JSONField(default=dict)
    # What caused it (e.g. "event:123"): the notifier may read an event twice, the user hears once.
    source_key = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()
    read_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notifications"
        unique_together = (("user", "source_key"),)


class NotificationDelivery(Model):
    id = fields.BigIntField(primary_key=True)
    notification = fields.ForeignKeyField(
        "models.Notification", related_name="deliveries", on_delete=fields.CASCADE
    )
    channel = fields.CharField(max_length=16)  # email, slack
    state = fields.CharField(max_length=16)  # pending, sending, sent, failed
    deliver_after = fields.DatetimeField()  # quiet hours hold it until they end
    attempts = fields.IntField(default=0)
    last_error = fields.TextField(null=True)
    sent_at = fields.DatetimeField(null=True)
    claimed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notification_deliveries"
        unique_together = (("notification", "channel"),)


class NotificationPreference(Model):
    user = fields.OneToOneField(
        "models.User", related_name="notification_preference", primary_key=True, on_delete=fields.CASCADE
    )
    muted_kinds = fields.JSONField(default=list)
    channels = fields.JSONField(default=list)  # of in_app, email, slack
    slack_webhook_url = fields.TextField(null=True)
    timezone = fields.CharField(max_length=64, default="UTC")
    quiet_start = fields.CharField(max_length=5, null=True)  # "22:00", in `timezone`
    quiet_end = fields.CharField(max_length=5, null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "notification_preferences"


class NotifierCursor(Model):
    name = fields.CharField(max_length=32, primary_key=True)
    last_seq = fields.BigIntField()

    class Meta:
        table = "notifier_cursors"
