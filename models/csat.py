"""Customer satisfaction: each channel's survey settings, the surveys sent after a resolution
(one row per survey, holding the answer that counts) and every answer received (rules in
resolvers/csat.py)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class CsatSettings(Model):
    channel = fields.OneToOneField("models.Channel", related_name="csat_settings", primary_key=True)
    enabled = fields.BooleanField(default=False)
    delay_seconds = fields.IntField(default=0)  # after the resolution
    question = fields.TextField()
    window_seconds = fields.IntField(default=86_400)  # answers count this long after the survey went out
    comment_seconds = fields.IntField(default=600)  # the message after a rating is its comment, this long
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "csat_settings"


class CsatSurvey(Model):
    id = fields.BigIntField(primary_key=True)
    conversation = fields.ForeignKeyField("models.Conversation", related_name="csat_surveys")
    channel = fields.ForeignKeyField("models.Channel", related_name="csat_surveys")
    identity = fields.ForeignKeyField("models.CustomerIdentity", related_name="csat_surveys", null=True)
    platform = fields.CharField(max_length=32)
    # scheduled → sent (waiting for answers) | cancelled (the customer wrote again) | skipped (unreachable)
    status = fields.CharField(max_length=16, default="scheduled")
    reason = fields.TextField(null=True)
    # Who and what the rating is about, as they were at the resolution.
    agent = fields.ForeignKeyField("models.User", related_name="csat_surveys", null=True)
    team = fields.ForeignKeyField("models.Team", related_name="csat_surveys", null=True)
    template_ids = fields.JSONField(default=list)  # response templates used in the conversation
    resolved_at = fields.DatetimeField()
    due_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)
    expires_at = fields.DatetimeField(null=True)
    message_id = fields.BigIntField(null=True)  # the survey message (outbound, automated)
    score = fields.SmallIntField(null=True)  # the last answer within the window
    comment = fields.TextField(null=True)
    answered_at = fields.DatetimeField(null=True)
    comment_until = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "csat_surveys"


class CsatAnswer(Model):
    """Every answer as it came (a retry of the same platform message is stored once)."""

    id = fields.BigIntField(primary_key=True)
    survey = fields.ForeignKeyField("models.CsatSurvey", related_name="answers")
    channel = fields.ForeignKeyField("models.Channel", related_name="csat_answers")
    platform_message_id = fields.CharField(max_length=255)
    kind = fields.CharField(max_length=16)  # score | comment
    source = fields.CharField(max_length=16)  # button | text
    score = fields.SmallIntField(null=True)
    text = fields.TextField(null=True)
    counted = fields.BooleanField()  # false: arrived after the window
    received_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "csat_answers"
        unique_together = (("channel", "platform_message_id"),)
