"""Flows: `flows` (a flow's name, its latest and its published version), `flow_versions` (every
save of its graph, immutable), `flow_executions` (each run, its state and the version it started
on) with `flow_execution_steps` (its history), the triggers' cursor over a conversation's inbound
messages, and the customer attributes flows set. The graph's shape is checked in resolvers/flow_validation.py and run
by resolvers/flow_engine.py; the rules are in resolvers/flows.py."""

from __future__ import annotations

import enum

from tortoise import fields
from tortoise.models import Model


class Flow(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=120)
    version = fields.IntField()  # the latest saved version
    published_version = fields.IntField(null=True)  # what triggers will run; None: unpublished
    published_at = fields.DatetimeField(null=True)
    # A customer who comes back within this long carries on where an unfinished run waits for them.
    resume_within_seconds = fields.IntField(default=86400)
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


class ExecutionStatus(enum.StrEnum):
    RUNNING = "running"  # working without the customer (an HTTP call out)
    WAITING = "waiting"  # for the customer's reply or a timer
    PAUSED = "paused"  # handed off: an agent replied or took the conversation
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"


class FlowExecution(Model):
    """One run. The unfinished ones (running, waiting, paused) are unique per (conversation,
    flow) and every run per trigger key: partial and plain unique indexes in migration 14."""

    id = fields.BigIntField(primary_key=True)
    flow = fields.ForeignKeyField("models.Flow", related_name="executions")
    flow_version = fields.IntField()  # kept when a newer version is published
    conversation = fields.ForeignKeyField("models.Conversation", related_name="flow_executions")
    status = fields.CharEnumField(ExecutionStatus, max_length=16)
    node = fields.CharField(max_length=64, null=True)
    waiting_for = fields.CharField(max_length=16, null=True)  # reply, timer, reply_or_timer, http
    state = fields.JSONField()  # the engine's state (resolvers/flow_engine.py)
    variables = fields.JSONField(default=dict)
    pending = fields.JSONField(null=True)  # the HTTP request a running execution has out
    wake_at = fields.DatetimeField(null=True)
    step = fields.IntField(default=0)  # steps taken; a job for an older step is stale
    trigger = fields.CharField(max_length=32)  # keyword, schedule or the event's name
    trigger_key = fields.CharField(max_length=200, unique=True)
    reason = fields.TextField(null=True)
    handed_off_at = fields.DatetimeField(null=True)
    started_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "flow_executions"
        indexes = (("flow_id", "id"), ("conversation_id", "id"))


class FlowExecutionStep(Model):
    id = fields.BigIntField(primary_key=True)
    execution = fields.ForeignKeyField("models.FlowExecution", related_name="steps")
    step = fields.IntField()
    node = fields.CharField(max_length=64, null=True)
    action = fields.CharField(max_length=32)  # the event fed in (message, timer, …) or the action done
    outcome = fields.CharField(max_length=200)
    detail = fields.JSONField(default=dict)
    at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "flow_execution_steps"
        indexes = (("execution_id", "id"),)


class FlowInboundCursor(Model):
    """The last inbound message of a conversation that triggers and waiting runs have seen:
    messages are taken in order, each once."""

    conversation = fields.OneToOneField("models.Conversation", related_name="flow_cursor", primary_key=True)
    last_message_id = fields.BigIntField()

    class Meta:
        table = "flow_inbound_cursors"


class CustomerAttribute(Model):
    """What flows learn about a customer (`set` with `attribute`), read back as {{customer.x}}."""

    id = fields.BigIntField(primary_key=True)
    customer = fields.ForeignKeyField("models.Customer", related_name="attributes")
    name = fields.CharField(max_length=40)
    value = fields.TextField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "customer_attributes"
        unique_together = (("customer", "name"),)
