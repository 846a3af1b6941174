"""The people who answer: users and their roles and presence, refresh tokens, teams, members
and routing rules."""

from __future__ import annotations

import enum

from tortoise import fields
from tortoise.contrib.postgres.fields import ArrayField
from tortoise.models import Model

from core.auth import Role  # who may do what is the auth layer's word; the column stores it


class Presence(enum.StrEnum):
    ONLINE = "online"
    AWAY = "away"  # connected but not taking new conversations
    OFFLINE = "offline"


class User(Model):
    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)
    name = fields.CharField(max_length=120)
    password_hash = fields.CharField(max_length=255)
    role = fields.CharEnumField(Role, max_length=16, default=Role.AGENT)
    is_active = fields.BooleanField(default=True)
    presence = fields.CharEnumField(Presence, max_length=8, default=Presence.OFFLINE)
    presence_changed_at = fields.DatetimeField(auto_now_add=True)
    last_seen_at = fields.DatetimeField(null=True)  # live subscriptions beat this; silence → offline
    capacity = fields.IntField(default=10)  # max concurrent open/pending conversations
    platform_capacity = fields.JSONField(default=dict)  # optional per-platform maxima {"whatsapp": 3}
    skills = ArrayField("text", default=list)  # languages, topics
    last_assigned_at = fields.DatetimeField(null=True)  # round-robin order
    # Who sees what (resolvers/visibility.py): an admin may let an agent or supervisor see every
    # conversation, not only their teams' and their own.
    sees_all_conversations = fields.BooleanField(default=False)
    # Access tokens issued before this are refused (password changed or reset, deactivated).
    tokens_valid_after = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "users"


class UserToken(Model):
    """A single-use, expiring token sent by e-mail: an invitation to set a first password, or a
    password reset. Only its sha256 is stored; using it stamps `used_at`."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("models.User", related_name="tokens")
    purpose = fields.CharField(max_length=16)  # invite, reset
    token_hash = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "user_tokens"


class RefreshToken(Model):
    """One issued refresh token. Tokens of one login form a family; re-use of a rotated token
    revokes the family (the thief and the owner both lose it, and the owner logs in again)."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="refresh_tokens"
    )
    family = fields.UUIDField(db_index=True)
    token_hash = fields.CharField(max_length=64, unique=True)  # sha256 hex; the token itself is never stored
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "refresh_tokens"


class AssignmentStrategy(enum.StrEnum):
    ROUND_ROBIN = "round_robin"  # whoever waited longest since their last assignment
    LEAST_LOADED = "least_loaded"  # fewest open conversations, within capacity
    MANUAL = "manual"  # nobody is picked: supervisors assign by hand


class Team(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=120, unique=True)
    strategy = fields.CharEnumField(
        AssignmentStrategy, max_length=16, default=AssignmentStrategy.LEAST_LOADED
    )
    sticky = fields.BooleanField(default=True)  # a returning customer goes back to their last agent
    offline_grace_seconds = fields.IntField(default=300)  # then an offline agent's conversations re-queue
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "teams"


class TeamMember(Model):
    id = fields.IntField(primary_key=True)
    team = fields.ForeignKeyField("models.Team", related_name="members")
    user = fields.ForeignKeyField("models.User", related_name="team_memberships")

    class Meta:
        table = "team_members"
        unique_together = (("team", "user"),)


class RoutingRule(Model):
    """A new conversation matching every given field goes to `team` (rules tried by position; no
    field given: every conversation). A conversation no rule matches is not assigned automatically."""

    id = fields.IntField(primary_key=True)
    team = fields.ForeignKeyField("models.Team", related_name="routing_rules")
    position = fields.IntField(default=0)
    platform = fields.CharField(max_length=32, null=True)
    channel = fields.ForeignKeyField("models.Channel", related_name="routing_rules", null=True)
    language = fields.CharField(max_length=16, null=True)
    topic = fields.CharField(max_length=50, null=True)  # a label: re-routes unassigned conversations
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "routing_rules"
