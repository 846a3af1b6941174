"""Flows: `flows` (a flow's name, its latest and its published version) and `flow_versions` (every
save of its graph, immutable). The graph's shape is checked in resolvers/flow_validation.py and run
by resolvers/flow_engine.py; the rules are in resolvers/flows.py."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Flow(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=120)
    version = fields.IntField()  # the latest saved version
    published_version = fields.IntField(null=True)  # what triggers will run; None: unpublished
    published_at = fields.DatetimeField(null=True)
    created_by = fields.ForeignKeyField("models.User", related_name="flows_created", null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "flows"


class FlowVersion(Model):
    """Never updated: executions will keep the version they started on."""

    id = fields.IntField(primary_key=True)
    flow = fields.ForeignKeyField("models.Flow", related_name="versions")
    version = fields.IntField()
    definition = (
        fields.JSONField()
    )  # {"nodes": [{id, type, position, config}], "edges": [{from, to, port, condition}]}
    note = fields.CharField(max_length=200, null=True)
    created_by = fields.ForeignKeyField("models.User", related_name="flow_versions", null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "flow_versions"
        unique_together = (("flow", "version"),)
