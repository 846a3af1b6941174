"""Alert rules, the alerts they open, every transition of an alert, and the one evaluation each
rule gets per period (its primary key is what stops two workers evaluating a rule twice)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class AlertRule(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=120)
    kind = fields.CharField(max_length=32)  # resolvers/alert_conditions.KINDS
    scope_type = fields.CharField(max_length=16, null=True)  # platform, channel, team, agent; null: all
    scope_value = fields.CharField(max_length=64, null=True)
    condition = fields.CharField(max_length=8)  # above, below
    threshold = fields.FloatField()
    window_seconds = fields.IntField()
    severity = fields.CharField(max_length=16)
    cooldown_seconds = fields.IntField(default=0)
    params = fields.JSONField(default=dict)  # kind-specific (volume_spike: baseline weeks)
    enabled = fields.BooleanField(default=True)
    created_by = fields.ForeignKeyField(
        "models.User", related_name="alert_rules", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "alert_rules"


class AlertEvaluation(Model):
    """Claimed by INSERT … ON CONFLICT DO NOTHING before the rule is computed: one per period."""

    rule = fields.ForeignKeyField("models.AlertRule", related_name="evaluations", on_delete=fields.CASCADE)
    period_start = fields.DatetimeField()
    value = fields.FloatField(null=True)
    firing = fields.BooleanField(default=False)
    evaluated_at = fields.DatetimeField()

    class Meta:
        table = "alert_evaluations"
        unique_together = (("rule", "period_start"),)


class Alert(Model):
    id = fields.BigIntField(primary_key=True)
    rule = fields.ForeignKeyField("models.AlertRule", related_name="alerts", on_delete=fields.CASCADE)
    state = fields.CharField(max_length=16)  # open, acknowledged, resolved
    severity = fields.CharField(max_length=16)
    value = fields.FloatField(null=True)
    threshold = fields.FloatField()
    opened_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()
    acknowledged_at = fields.DatetimeField(null=True)
    acknowledged_by = fields.ForeignKeyField(
        "models.User", related_name="alerts_acknowledged", null=True, on_delete=fields.SET_NULL
    )
    resolved_at = fields.DatetimeField(null=True)

    class Meta:
        table = "alerts"


class AlertTransition(Model):
    id = fields.BigIntField(primary_key=True)
    alert = fields.ForeignKeyField("models.Alert", related_name="transitions", on_delete=fields.CASCADE)
    from_state = fields.CharField(max_length=16, null=True)
    to_state = fields.CharField(max_length=16)
    value = fields.FloatField(null=True)
    actor = fields.ForeignKeyField(
        "models.User", related_name="alert_transitions", null=True, on_delete=fields.SET_NULL
    )
    at = fields.DatetimeField()

    class Meta:
        table = "alert_transitions"
