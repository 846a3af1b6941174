from __future__ import annotations

import enum

from tortoise import fields
from tortoise.models import Model

from connectors.base import Platform


class ConversationStatus(enum.StrEnum):
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"


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
