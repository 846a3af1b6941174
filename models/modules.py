"""Modules (extension packages registered by entry point): which are enabled in this installation
and their configuration (rules in resolvers/modules.py, the registry in core/extensions.py)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class ModuleState(Model):
    name = fields.CharField(max_length=80, primary_key=True)  # the entry point's name
    enabled = fields.BooleanField(default=False)
    failed_reason = fields.CharField(max_length=500, null=True)  # set when loading or running it failed
    cursor = fields.BigIntField(default=0)  # the last event-log seq its event handlers were given
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "modules"


class ModuleConfiguration(Model):
    id = fields.IntField(primary_key=True)
    module = fields.OneToOneField("models.ModuleState", related_name="configuration")
    config = fields.JSONField(default=dict)  # validated against the module's JSON schema on save
    updated_by = fields.ForeignKeyField("models.User", related_name="module_configurations", null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "module_configurations"
