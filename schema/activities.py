"""The conversation timeline's entries: the Activity type (who changed what, when)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from schema.auth import User
from schema.common import view_datetime
from schema.relay import to_global_id


@strawberry.type
class Activity:
    """One change in a conversation's life, for the timeline: who (null: the system), when, what."""

    id: strawberry.ID
    type: str = strawberry.field(
        description="status_changed, transferred, escalated, labels_changed, priority_changed"
    )
    data: JSON
    created_at: datetime
    actor_pk: strawberry.Private[int | None]

    @classmethod
    def from_view(cls, v: dict[str, Any]) -> Activity:
        return cls(
            id=to_global_id("Activity", v["id"]),
            type=v["type"],
            data=v["data"],
            created_at=view_datetime(v["created_at"]),  # type: ignore[arg-type]
            actor_pk=v["actor_id"],
        )

    @strawberry.field
    async def actor(self, info: strawberry.Info) -> User | None:
        if self.actor_pk is None:
            return None
        row = await info.context.loaders.users.load(self.actor_pk)
        return User.from_view(row) if row else None
