"""WhatsApp's approved (HSM) templates: `whatsapp_templates` (each channel's catalogue, synced from
the Cloud API, statuses kept by its webhooks) and `whatsapp_template_syncs` (when each channel was
last synced). Rules in resolvers/whatsapp_templates.py (migrations/models/11_*)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class WhatsappTemplate(Model):
    id = fields.IntField(primary_key=True)
    channel = fields.ForeignKeyField("models.Channel", related_name="whatsapp_templates")
    platform_template_id = fields.CharField(max_length=64, null=True)  # Meta's id
    name = fields.CharField(max_length=512)
    language = fields.CharField(max_length=20)  # "en_US", "pt_BR": a template is one per language
    category = fields.CharField(max_length=40, null=True)  # MARKETING, UTILITY, AUTHENTICATION
    status = fields.CharField(max_length=30)  # APPROVED, PENDING, REJECTED, PAUSED, DISABLED, ...
    status_reason = fields.TextField(null=True)
    status_changed_at = fields.DatetimeField(auto_now_add=True)
    parameter_format = fields.CharField(max_length=20, default="POSITIONAL")  # or NAMED
    components = fields.JSONField(default=list)  # as the Cloud API lists them
    synced_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "whatsapp_templates"
        unique_together = (("channel", "name", "language"),)


class WhatsappTemplateSync(Model):
    channel = fields.OneToOneField("models.Channel", related_name="whatsapp_template_sync", primary_key=True)
    attempted_at = fields.DatetimeField(auto_now_add=True)
    synced_at = fields.DatetimeField(null=True)  # null: never synced, so any template may be sent
    last_error = fields.TextField(null=True)

    class Meta:
        table = "whatsapp_template_syncs"
