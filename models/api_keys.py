"""API keys for integrators (rules in resolvers/api_keys.py). Only the key's sha256 is stored."""

from __future__ import annotations

from tortoise import fields
from tortoise.contrib.postgres.fields import ArrayField
from tortoise.models import Model


class ApiKey(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=120)
    prefix = fields.CharField(max_length=16)  # the key's first characters, to recognise it in a list
    token_hash = fields.CharField(max_length=64, unique=True)
    scopes = ArrayField("text")
    created_by = fields.ForeignKeyField("models.User", related_name="api_keys", on_delete=fields.RESTRICT)
    created_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)
    revoked_by = fields.ForeignKeyField(
        "models.User", related_name="revoked_api_keys", null=True, on_delete=fields.RESTRICT
    )
    last_used_at = fields.DatetimeField(null=True)  # written at most once a minute per process
    last_used_ip = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "api_keys"
