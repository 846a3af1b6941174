"""Connected platform accounts (channels) and where a pulled channel got to (cursors)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from core.vocabulary import Platform


class Channel(Model):
    """One connected account on a platform (a WhatsApp number, a Telegram bot, ...)."""

    id = fields.IntField(primary_key=True)
    platform = fields.CharEnumField(Platform, max_length=32)
    name = fields.CharField(max_length=120)
    enabled = fields.BooleanField(default=True)
    config = fields.JSONField(default=dict)  # public settings (phone_number_id, api_base, ...)
    secrets_encrypted = fields.TextField(
        default=""
    )  # Fernet token of a JSON object; never returned by the API
    # After rotateWebhookSecret: the rotated-out generated secrets (encrypted the same way), still
    # accepted on webhooks until `previous_secrets_until` (resolvers/channels.py).
    previous_secrets_encrypted = fields.TextField(null=True)
    previous_secrets_until = fields.DatetimeField(null=True)
    last_webhook_at = fields.DatetimeField(null=True)
    last_error = fields.TextField(null=True)
    last_error_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "channels"


class ChannelCursor(Model):
    """Where a pulled channel got to: an IMAP mailbox's last UID, a Discord gateway session/seq."""

    channel = fields.ForeignKeyField("models.Channel", related_name="cursors")
    name = fields.CharField(max_length=64)
    value = fields.TextField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "channel_cursors"
        unique_together = (("channel", "name"),)
