"""Platform ROI: what each platform charges per message kind, which labels mean a conversion,
and the conversions recorded (rules in resolvers/roi.py)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class PlatformPrice(Model):
    id = fields.IntField(primary_key=True)
    platform = fields.CharField(max_length=32)
    # service (a free-form outbound message), inbound, or a template category (marketing, utility,
    # authentication) — WhatsApp's conversation categories.
    kind = fields.CharField(max_length=32)
    unit = fields.CharField(max_length=16)  # message: each one; conversation: once per conversation
    price = fields.DecimalField(max_digits=14, decimal_places=6)
    currency = fields.CharField(max_length=3)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "platform_prices"
        unique_together = (("platform", "kind"),)


class ConversionLabel(Model):
    label = fields.CharField(max_length=50, primary_key=True)
    value = fields.DecimalField(max_digits=14, decimal_places=2)
    currency = fields.CharField(max_length=3)

    class Meta:
        table = "conversion_labels"


class Conversion(Model):
    id = fields.BigIntField(primary_key=True)
    conversation = fields.ForeignKeyField("models.Conversation", related_name="conversions")
    value = fields.DecimalField(max_digits=14, decimal_places=2)
    currency = fields.CharField(max_length=3)
    source = fields.CharField(max_length=32)  # what the caller said (checkout, crm, ...), label or flow
    # Makes a label or flow step count once per conversation (null for the mutation's own).
    dedupe_key = fields.CharField(max_length=120, null=True, unique=True)
    recorded_by = fields.ForeignKeyField("models.User", related_name="conversions", null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "conversions"
