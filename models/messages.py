"""Messages in both directions, their delivery statuses, and status reports that came before
their message's platform id was known."""

from __future__ import annotations

import enum

from tortoise import fields
from tortoise.models import Model

from core.vocabulary import MessageKind, Platform


class Direction(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    NOTE = "note"  # an agent's internal note: in the timeline, never sent


class MessageStatus(enum.StrEnum):
    RECEIVED = "received"  # inbound
    QUEUED = "queued"  # outbound, stored, job enqueued
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    POSTED = "posted"  # internal notes


class Message(Model):
    id = fields.BigIntField(primary_key=True)
    conversation = fields.ForeignKeyField("models.Conversation", related_name="messages")
    channel = fields.ForeignKeyField("models.Channel", related_name="messages")
    # The customer identity it came from / went to: a conversation can span platforms.
    identity = fields.ForeignKeyField("models.CustomerIdentity", related_name="messages", null=True)
    platform = fields.CharEnumField(Platform, max_length=32)
    direction = fields.CharEnumField(Direction, max_length=8)
    kind = fields.CharEnumField(MessageKind, max_length=16, default=MessageKind.TEXT)
    text = fields.TextField(null=True)
    status = fields.CharEnumField(MessageStatus, max_length=16)
    platform_message_id = fields.CharField(max_length=255, null=True)
    client_message_id = fields.CharField(max_length=64, null=True)
    sender = fields.ForeignKeyField("models.User", related_name="messages_sent", null=True)
    reply_to_platform_id = fields.CharField(max_length=255, null=True)
    attachments = fields.JSONField(default=list)
    metadata = fields.JSONField(default=dict)
    error_code = fields.CharField(max_length=64, null=True)
    error_reason = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)
    delivered_at = fields.DatetimeField(null=True)
    read_at = fields.DatetimeField(null=True)
    failed_at = fields.DatetimeField(null=True)
    edited_at = fields.DatetimeField(null=True)  # the customer edited it (text holds the latest)
    deleted_at = fields.DatetimeField(null=True)  # the customer unsent it
    # Outbound send bookkeeping (jobs/outbound.py): a lease so a re-delivered job never sends twice.
    send_attempts = fields.IntField(default=0)
    sending_until = fields.DatetimeField(null=True)

    class Meta:
        table = "messages"
        # Platform retries are deduplicated here; client retries of a reply too.
        unique_together = (("channel", "platform_message_id"), ("sender", "client_message_id"))
        indexes = (("conversation_id", "id"),)


class MessageStatusChange(Model):
    """Every delivery status a platform reported, once each (status webhooks are retried too)."""

    id = fields.BigIntField(primary_key=True)
    message = fields.ForeignKeyField("models.Message", related_name="status_changes")
    status = fields.CharEnumField(MessageStatus, max_length=16)
    occurred_at = fields.DatetimeField()
    error_code = fields.CharField(max_length=64, null=True)
    error_detail = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "message_status_changes"
        unique_together = (("message", "status"),)


class OrphanStatus(Model):
    """A status webhook that arrived before the send job recorded the platform's message id
    (platforms answer the send and fire `sent` at once). Applied when the id is recorded."""

    id = fields.BigIntField(primary_key=True)
    channel = fields.ForeignKeyField("models.Channel", related_name="orphan_statuses")
    platform_message_id = fields.CharField(max_length=255)
    status = fields.CharEnumField(MessageStatus, max_length=16)
    occurred_at = fields.DatetimeField()
    error_code = fields.CharField(max_length=64, null=True)
    error_detail = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "orphan_statuses"
        unique_together = (("channel", "platform_message_id", "status"),)
