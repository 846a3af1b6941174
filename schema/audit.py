"""The audit log, for admins: `auditLog(filter, first, after)`, newest first (rules in
resolvers/audit.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from resolvers import audit as audit_rules
from resolvers.errors import BadInput
from schema.auth import User
from schema.common import build_when_loaded
from schema.permissions import ADMINS, actor_of
from schema.relay import PageInfo, parse_global_id, to_global_id


@strawberry.type
class AuditEntry:
    id: strawberry.ID
    action: str = strawberry.field(description='What was done, e.g. "channel.update", "user.login_failed".')
    target_type: str
    target_id: str | None = strawberry.field(description="The target's database id.")
    details: JSON = strawberry.field(description="What changed (configuration before/after, secrets masked).")
    ip: str | None = strawberry.field(description="The address the request came from.")
    created_at: datetime
    actor_id: strawberry.ID | None = strawberry.field(description="The user who acted; null for the system.")
    api_key_id: strawberry.ID | None = strawberry.field(description="The API key that acted, if one did.")
    actor_pk: strawberry.Private[int | None]

    @strawberry.field
    async def actor(self, info: strawberry.Info) -> User | None:
        if self.actor_pk is None:
            return None
        return await build_when_loaded(info.context.loaders.users.load(self.actor_pk), User.from_view)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> AuditEntry:
        return cls(
            id=to_global_id("AuditEntry", row["id"]),
            action=row["action"],
            target_type=row["target_type"],
            target_id=row["target_id"],
            details=row["details"],
            ip=row["ip"],
            created_at=row["created_at"],
            actor_id=to_global_id("User", row["actor_id"]) if row["actor_id"] is not None else None,
            api_key_id=to_global_id("ApiKey", row["api_key_id"]) if row["api_key_id"] is not None else None,
            actor_pk=row["actor_id"],
        )


@strawberry.type
class AuditEntryEdge:
    cursor: str
    node: AuditEntry


@strawberry.type
class AuditEntryConnection:
    edges: list[AuditEntryEdge]
    page_info: PageInfo


@strawberry.input
class AuditLogFilter:
    actor: strawberry.ID | None = strawberry.field(default=None, description="A User or an ApiKey id.")
    action: str | None = strawberry.field(
        default=None, description='Exact, or a prefix ending in "." ("channel." for every channel action).'
    )
    target_type: str | None = strawberry.field(default=None, description='e.g. "Channel", "Customer".')
    target_id: str | None = strawberry.field(
        default=None, description="The target's id: the API's global id, or the database id with targetType."
    )
    from_: datetime | None = strawberry.field(default=None, name="from", description="At or after.")
    to: datetime | None = strawberry.field(default=None, description="Before.")

    def to_rule(self) -> audit_rules.AuditFilter:
        user_id = api_key_id = None
        if self.actor is not None:
            kind, pk = parse_global_id(self.actor, "filter.actor")
            if kind not in ("User", "ApiKey"):
                raise BadInput(f"expected a User or ApiKey id, got a {kind} id", field="filter.actor")
            user_id, api_key_id = (pk, None) if kind == "User" else (None, pk)
        target_type, target_id = self.target_type, self.target_id
        if target_id is not None and not target_id.isdigit():
            kind, pk = parse_global_id(target_id, "filter.targetId")
            if target_type not in (None, kind):
                raise BadInput(
                    f"targetId is a {kind} id but targetType is {target_type}", field="filter.targetId"
                )
            target_type, target_id = kind, str(pk)
        return audit_rules.AuditFilter(
            actor_user_id=user_id,
            actor_api_key_id=api_key_id,
            action=self.action,
            target_type=target_type,
            target_id=target_id,
            since=self.from_,
            until=self.to,
        )


@strawberry.type
class AuditQueries:
    @strawberry.field(
        extensions=[ADMINS],
        description="Admins: who did what, when, from where; newest first. Nothing in the API changes it.",
    )
    async def audit_log(
        self,
        info: strawberry.Info,
        filter: AuditLogFilter | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> AuditEntryConnection:
        page = await audit_rules.list_entries(
            actor_of(info), filter=(filter or AuditLogFilter()).to_rule(), first=first, after=after
        )
        return AuditEntryConnection(
            edges=[
                AuditEntryEdge(cursor=c, node=AuditEntry.from_row(r))
                for r, c in zip(page.items, page.cursors, strict=True)
            ],
            page_info=PageInfo.of(page.cursors, has_next=page.has_next, has_previous=bool(after)),
        )
