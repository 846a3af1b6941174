"""Service levels: SLA timers and policies, and `createSlaPolicy` with its input (rules in
resolvers/sla.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from resolvers import sla as sla_rules
from resolvers.errors import BadInput
from schema.common import Platform, Priority, view_datetime
from schema.permissions import SUPERVISORS, actor_of
from schema.relay import decode_optional_id, to_global_id


@strawberry.type
class SlaTimer:
    id: strawberry.ID
    conversation_id: strawberry.ID
    kind: str = strawberry.field(description="first_response, next_response or resolution")
    started_at: datetime
    due_at: datetime
    warn_at: datetime
    met_at: datetime | None
    warned_at: datetime | None
    breached_at: datetime | None
    cancelled_at: datetime | None

    @classmethod
    def from_view(cls, v: dict[str, Any]) -> SlaTimer:
        return cls(
            id=to_global_id("SlaTimer", v["id"]),
            conversation_id=to_global_id("Conversation", v["conversation_id"]),
            kind=v["kind"],
            **{
                k: view_datetime(v[k])
                for k in (
                    "started_at",
                    "due_at",
                    "warn_at",
                    "met_at",
                    "warned_at",
                    "breached_at",
                    "cancelled_at",
                )
            },  # type: ignore[arg-type]
        )


@strawberry.type
class SlaPolicy:
    id: strawberry.ID
    name: str
    position: int
    first_response_seconds: int | None
    next_response_seconds: int | None
    resolution_seconds: int | None
    warn_before_seconds: int
    timezone: str
    business_hours: JSON


@strawberry.input
class CreateSlaPolicyInput:
    name: str
    first_response_seconds: int | None = None
    next_response_seconds: int | None = None
    resolution_seconds: int | None = None
    warn_before_seconds: int = 300
    position: int = 0
    team_id: strawberry.ID | None = None
    priority: Priority | None = None
    platform: Platform | None = None
    timezone: str = "UTC"
    business_hours: JSON | None = None
    holidays: list[date] | None = None


@strawberry.type
class SlaMutations:
    @strawberry.mutation(
        extensions=[SUPERVISORS],
        description="Supervisors: an SLA policy for a team/priority/platform (null: any), targets in seconds "
        'of business hours ({"mon": [["09:00", "18:00"]], ...} in `timezone`; {} = around the clock).',
    )
    async def create_sla_policy(self, info: strawberry.Info, input: CreateSlaPolicyInput) -> SlaPolicy:
        if input.business_hours is not None and not isinstance(input.business_hours, dict):
            raise BadInput('businessHours looks like {"mon": [["09:00", "18:00"]]}', field="businessHours")
        policy = await sla_rules.create_policy(
            actor_of(info),
            name=input.name,
            position=input.position,
            team_id=decode_optional_id(input.team_id, "Team", "teamId"),
            priority=input.priority.value if input.priority else None,
            platform=input.platform.value if input.platform else None,
            first_response_seconds=input.first_response_seconds,
            next_response_seconds=input.next_response_seconds,
            resolution_seconds=input.resolution_seconds,
            warn_before_seconds=input.warn_before_seconds,
            timezone=input.timezone,
            business_hours=input.business_hours or {},
            holidays=input.holidays or [],
        )
        return SlaPolicy(
            id=to_global_id("SlaPolicy", policy.id),
            name=policy.name,
            position=policy.position,
            first_response_seconds=policy.first_response_seconds,
            next_response_seconds=policy.next_response_seconds,
            resolution_seconds=policy.resolution_seconds,
            warn_before_seconds=policy.warn_before_seconds,
            timezone=policy.timezone,
            business_hours=policy.business_hours,
        )
