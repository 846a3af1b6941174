"""Metrics: each conversation's facts (what the definitions in resolvers/metrics_facts.py derive
from its raw rows) and the roll-ups the dashboards read (resolvers/rollups.py keeps them)."""

from __future__ import annotations

from tortoise import fields
from tortoise.contrib.postgres.fields import ArrayField
from tortoise.models import Model


class MetricFact(Model):
    """One measured thing: a duration (`value` seconds, `business` seconds in the calendar) or a
    count (`n`), at the instant it is counted in, with the dimensions it is filtered by."""

    id = fields.BigIntField(primary_key=True)
    conversation_id = fields.IntField()
    # The care cycle the fact belongs to (0: before the first; -1: a family always derived whole),
    # so the roll-up job re-reads only the cycles a change can reach (resolvers/rollups.py).
    segment = fields.IntField(default=0)
    metric = fields.CharField(max_length=40)
    at = fields.DatetimeField()
    n = fields.IntField(default=1)
    value = fields.FloatField(null=True)
    business = fields.FloatField(null=True)
    platform = fields.CharField(max_length=32)
    channel_id = fields.IntField()
    team_id = fields.IntField()  # 0: none
    agent_id = fields.IntField()  # 0: none
    labels = ArrayField("text", default=list)

    class Meta:
        table = "metric_facts"
        indexes = (("conversation_id", "segment"),)


class MetricRollup(Model):
    """The sum of the facts of one metric in one hour ('h') or UTC day ('d'). "Full" rows carry
    every dimension; "marginal" rows carry at most one (the others are '*' / -1) so that totals and
    one-dimension groupings read a handful of rows. `label` '' is any label. Histograms are
    sparse (bin, count) pairs over log-scale bins (resolvers/metrics_histogram.py), mergeable by sum."""

    id = fields.BigIntField(primary_key=True)
    metric = fields.CharField(max_length=40)
    grain = fields.CharField(max_length=1)
    bucket = fields.DatetimeField()
    platform = fields.CharField(max_length=32)
    channel_id = fields.IntField()
    team_id = fields.IntField()
    agent_id = fields.IntField()
    label = fields.CharField(max_length=100)
    n = fields.BigIntField(default=0)
    total = fields.FloatField(default=0)
    total_business = fields.FloatField(default=0)
    hist = fields.BinaryField(null=True)
    hist_business = fields.BinaryField(null=True)

    class Meta:
        table = "metric_rollups"
        # The bucket last: a read names every other column exactly (or excludes one sentinel), so
        # its range scan covers only the rows it returns.
        unique_together = (
            ("metric", "grain", "platform", "channel_id", "team_id", "agent_id", "label", "bucket"),
        )


class MetricCursor(Model):
    """How far the roll-up job has read the event log; its row lock lets one worker at a time in."""

    name = fields.CharField(max_length=40, primary_key=True)
    last_seq = fields.BigIntField(default=0)

    class Meta:
        table = "metric_cursors"
