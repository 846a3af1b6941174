"""Conversations with their status and priority, their activity timeline, and SLA policies and
timers."""

from __future__ import annotations

import enum

from tortoise import fields
from tortoise.contrib.postgres.fields import ArrayField
from tortoise.models import Model

from core.vocabulary import Platform


class ConversationStatus(enum.StrEnum):
    OPEN = "open"
    PENDING = "pending"
    SNOOZED = "snoozed"  # until `snoozed_until`; reopens itself then, or when the customer writes
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Conversation(Model):
    id = fields.IntField(primary_key=True)
    channel = fields.ForeignKeyField("models.Channel", related_name="conversations")
    customer = fields.ForeignKeyField("models.Customer", related_name="conversations")
    identity = fields.ForeignKeyField("models.CustomerIdentity", related_name="conversations")
    platform = fields.CharEnumField(Platform, max_length=32)
    status = fields.CharEnumField(ConversationStatus, max_length=16, default=ConversationStatus.OPEN)
    assignee = fields.ForeignKeyField("models.User", related_name="conversations", null=True)
    last_message_id = fields.BigIntField(null=True)  # denormalised: the inbox shows it for every row
    last_message_at = fields.DatetimeField(null=True)
    unread_count = fields.IntField(default=0)
    snoozed_until = fields.DatetimeField(null=True)
    priority = fields.CharEnumField(Priority, max_length=8, default=Priority.NORMAL)
    labels = ArrayField("text", default=list)
    escalation_level = fields.IntField(default=0)
    team = fields.ForeignKeyField("models.Team", related_name="conversations", null=True)
    queued_at = fields.DatetimeField(null=True)  # waiting for an agent since
    language = fields.CharField(max_length=16, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "conversations"
        indexes = (
            ("status", "last_message_at"),
            ("assignee_id", "status", "last_message_at"),
            ("identity_id", "status"),
            ("last_message_at", "id"),  # the unfiltered inbox, newest first (scanned backwards)
        )


class ConversationActivity(Model):
    """Who changed what and when (status, assignment, transfer, escalation, labels, priority):
    the timeline's entries besides messages. Written in the change's own transaction."""

    id = fields.BigIntField(primary_key=True)
    conversation = fields.ForeignKeyField("models.Conversation", related_name="activities")
    actor = fields.ForeignKeyField("models.User", related_name="activities", null=True)  # null: the system
    type = fields.CharField(max_length=32)
    data = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "conversation_activities"


class SlaPolicy(Model):
    """Targets for a team/priority/platform (null: any), in business hours (see resolvers/sla.py)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=120)
    position = fields.IntField(default=0)
    team = fields.ForeignKeyField("models.Team", related_name="sla_policies", null=True)
    priority = fields.CharField(max_length=8, null=True)
    platform = fields.CharField(max_length=32, null=True)
    first_response_seconds = fields.IntField(null=True)
    next_response_seconds = fields.IntField(null=True)
    resolution_seconds = fields.IntField(null=True)
    warn_before_seconds = fields.IntField(default=300)
    timezone = fields.CharField(max_length=64, default="UTC")
    business_hours = fields.JSONField(default=dict)  # {"mon": [["09:00", "18:00"]], ...}; {} = always
    holidays = ArrayField("date", default=list)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "sla_policies"


class SlaTimer(Model):
    id = fields.BigIntField(primary_key=True)
    conversation = fields.ForeignKeyField("models.Conversation", related_name="sla_timers")
    policy = fields.ForeignKeyField("models.SlaPolicy", related_name="timers")
    kind = fields.CharField(max_length=16)  # first_response, next_response, resolution
    started_at = fields.DatetimeField()
    due_at = fields.DatetimeField()
    warn_at = fields.DatetimeField()
    met_at = fields.DatetimeField(null=True)
    warned_at = fields.DatetimeField(null=True)
    breached_at = fields.DatetimeField(null=True)
    cancelled_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "sla_timers"
        # Unique per (conversation, kind, started_at) among runs not cancelled: a partial index
        # (migration 29), so a cancelled timer can start again as a new run (resolvers/sla.sync).
        # A conversation's timers, all of them, by `idx_sla_timers_conversation` (migration 33).
