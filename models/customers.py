"""Customers and their identities, one per platform account they write from."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from core.vocabulary import Platform


class Customer(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200, null=True)
    phone = fields.CharField(max_length=32, null=True, db_index=True)
    email = fields.CharField(max_length=254, null=True, db_index=True)
    # Set when this customer was merged into another; the row stays so the merge can be undone.
    merged_into = fields.ForeignKeyField("models.Customer", related_name="merged", null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "customers"


class CustomerIdentity(Model):
    """A customer as one channel knows them (wa_id, PSID, Telegram user id, ...)."""

    id = fields.IntField(primary_key=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="identities"
    )
    channel = fields.ForeignKeyField("models.Channel", related_name="identities")
    platform = fields.CharEnumField(Platform, max_length=32)
    external_id = fields.CharField(max_length=200)
    display_name = fields.CharField(max_length=200, null=True)
    phone = fields.CharField(max_length=32, null=True)
    email = fields.CharField(max_length=254, null=True)
    reply_address = fields.CharField(
        max_length=255, null=True
    )  # when replies go elsewhere (group, DM channel)
    last_inbound_at = fields.DatetimeField(null=True)  # drives the platforms' reply windows
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "customer_identities"
        unique_together = (("channel", "external_id"),)
