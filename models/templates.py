"""Response templates: `response_templates` (each template's current content, searchable),
`response_template_versions` (every save, immutable) and `response_template_usage` (how often each
agent used each template). Rules in resolvers/templates.py; the search columns are generated
(migrations/models/9_*)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class ResponseTemplate(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=120)
    shortcut = fields.CharField(max_length=40, null=True)  # "/entrega"; unique among live templates
    category = fields.CharField(max_length=40, null=True)
    tags = fields.JSONField(default=list)
    team_ids = fields.JSONField(default=list)  # visible to these teams' agents; [] = everyone
    body = fields.TextField()  # the current version's universal body (search reads it)
    version = fields.IntField()  # the current version
    usage_count = fields.IntField(default=0)
    archived_at = fields.DatetimeField(null=True)
    created_by = fields.ForeignKeyField("models.User", related_name="templates_created", null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "response_templates"


class ResponseTemplateVersion(Model):
    """Never updated: a save, a rollback or an archive adds a row."""

    id = fields.IntField(primary_key=True)
    template = fields.ForeignKeyField("models.ResponseTemplate", related_name="versions")
    version = fields.IntField()
    content = (
        fields.JSONField()
    )  # name, shortcut, category, tags, teams, body, buttons, variants, prompts, ...
    note = fields.CharField(max_length=200, null=True)  # "rollback to 2", ...
    created_by = fields.ForeignKeyField("models.User", related_name="template_versions", null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "response_template_versions"
        unique_together = (("template", "version"),)


class ResponseTemplateUsage(Model):
    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="template_usage")
    template = fields.ForeignKeyField("models.ResponseTemplate", related_name="usage")
    uses = fields.IntField(default=0)
    last_used_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "response_template_usage"
        unique_together = (("user", "template"),)


class ResponseTemplateExperiment(Model):
    """An A/B test between bodies of one template. The arms are fixed at start; which arm a send
    came from is in the message's metadata.response_template (resolvers/template_experiments.py)."""

    id = fields.IntField(primary_key=True)
    template = fields.ForeignKeyField("models.ResponseTemplate", related_name="experiments")
    version = fields.IntField()  # the template's version when it started (saves wait for the stop)
    arms = fields.JSONField()  # [{"name", "body", "weight"}, ...]; the first is the control
    alpha = fields.FloatField()  # the decision's error rate, however often it is looked at
    mixing_variance = fields.FloatField()  # the mSPRT's normal mixture over the difference
    started_by = fields.ForeignKeyField("models.User", related_name="experiments_started", null=True)
    started_at = fields.DatetimeField(auto_now_add=True)
    stopped_by = fields.ForeignKeyField("models.User", related_name="experiments_stopped", null=True)
    stopped_at = fields.DatetimeField(null=True)
    promoted_arm = fields.CharField(max_length=40, null=True)
    promoted_version = fields.IntField(null=True)

    class Meta:
        table = "response_template_experiments"
