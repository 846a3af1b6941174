"""The audit log: who did what to which object (written with the action, append-only)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class AuditLog(Model):
    """Who did what to which object. Written in the same transaction as the action; the database
    refuses UPDATE, DELETE and TRUNCATE on it (migration 17). Customers are named by id only, never
    by their personal data, so erasing one needs no change here."""

    id = fields.BigIntField(primary_key=True)
    # RESTRICT: deleting a user must not delete (or rewrite) what they did.
    actor = fields.ForeignKeyField(
        "models.User", related_name="audit_entries", null=True, on_delete=fields.RESTRICT
    )
    action = fields.CharField(max_length=64)
    target_type = fields.CharField(max_length=40)
    target_id = fields.CharField(max_length=64, null=True)
    details = fields.JSONField(default=dict)
    ip = fields.CharField(max_length=64, null=True)
    api_key = fields.ForeignKeyField(  # the key the action was taken with (the actor is its creator)
        "models.ApiKey", related_name="audit_entries", null=True, on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "audit_log"
        indexes = (("target_type", "target_id", "id"), ("actor_id", "id"), ("action", "id"))
