"""Metrics history (migration 26; rules in resolvers/metrics_presence.py): conversations' state
changes and agents' presence changes, both written by triggers, and agents' work on conversations
(opened, closed, typing), written by the API. `folded` marks rows the roll-up job has read."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class ConversationStateLog(Model):
    id = fields.BigIntField(primary_key=True)
    conversation_id = fields.IntField()
    at = fields.DatetimeField()
    status = fields.CharField(max_length=16)
    team_id = fields.IntField(null=True)
    assignee_id = fields.IntField(null=True)
    queued = fields.BooleanField()  # open or pending, in a team's queue, nobody assigned

    class Meta:
        table = "conversation_state_log"


class AgentStatusLog(Model):
    id = fields.BigIntField(primary_key=True)
    user_id = fields.IntField()
    at = fields.DatetimeField()
    presence = fields.CharField(max_length=8)
    capacity = fields.IntField()
    folded = fields.BooleanField(default=False)

    class Meta:
        table = "agent_status_log"


class ConversationWorkLog(Model):
    id = fields.BigIntField(primary_key=True)
    conversation_id = fields.IntField()
    user_id = fields.IntField()
    kind = fields.CharField(max_length=8)  # open, close, typing
    session_id = fields.BigIntField(null=True)  # a close names its open row
    at = fields.DatetimeField()
    folded = fields.BooleanField(default=False)

    class Meta:
        table = "conversation_work_log"
