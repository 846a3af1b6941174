"""Service levels: SLA timers and policies; listing, creating, editing and deleting policies (rules
in resolvers/sla.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from resolvers import sla as sla_rules
from resolvers.errors import BadInput
from schema.common import Platform, Priority, view_datetime
from schema.permissions import SUPERVISORS, actor_of
from schema.relay import decode_id, decode_optional_id, to_global_id


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
    position: int = strawberry.field(
        description="Policies are tried by position, then age: the first match wins."
    )
    team_id: strawberry.ID | None = strawberry.field(description="null: any team")
    priority: Priority | None = strawberry.field(description="null: any priority")
    platform: Platform | None = strawberry.field(description="null: any platform")
    first_response_seconds: int | None
    next_response_seconds: int | None
    resolution_seconds: int | None
    warn_before_seconds: int
    timezone: str
    business_hours: JSON = strawberry.field(
        description='{"mon": [["09:00", "18:00"]], ...} in `timezone`; {} = around the clock.'
    )
    holidays: list[date] = strawberry.field(description="Days without business hours.")

    @classmethod
    def from_model(cls, policy: Any) -> SlaPolicy:
        return cls(
            id=to_global_id("SlaPolicy", policy.id),
            name=policy.name,
            position=policy.position,
            team_id=to_global_id("Team", policy.team_id) if policy.team_id is not None else None,
            priority=Priority(policy.priority) if policy.priority else None,
            platform=Platform(policy.platform) if policy.platform else None,
            first_response_seconds=policy.first_response_seconds,
            next_response_seconds=policy.next_response_seconds,
            resolution_seconds=policy.resolution_seconds,
            warn_before_seconds=policy.warn_before_seconds,
            timezone=policy.timezone,
            business_hours=policy.business_hours,
            holidays=sorted(policy.holidays or []),
        )


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

    def to_rule(self) -> dict[str, Any]:
        if self.business_hours is not None and not isinstance(self.business_hours, dict):
            raise BadInput('businessHours looks like {"mon": [["09:00", "18:00"]]}', field="businessHours")
        return {
            "name": self.name,
            "position": self.position,
            "team_id": decode_optional_id(self.team_id, "Team", "teamId"),
            "priority": self.priority.value if self.priority else None,
            "platform": self.platform.value if self.platform else None,
            "first_response_seconds": self.first_response_seconds,
            "next_response_seconds": self.next_response_seconds,
            "resolution_seconds": self.resolution_seconds,
            "warn_before_seconds": self.warn_before_seconds,
            "timezone": self.timezone,
            "business_hours": self.business_hours or {},
            "holidays": self.holidays or [],
        }


@strawberry.input(description="Every setting of a policy: an edit replaces them all.")
class SlaPolicyInput(CreateSlaPolicyInput):
    pass


@strawberry.type
class SlaQueries:
    @strawberry.field(
        extensions=[SUPERVISORS],
        description="Supervisors: every SLA policy, in the order conversations are matched against them.",
    )
    async def sla_policies(self, info: strawberry.Info) -> list[SlaPolicy]:
        return [SlaPolicy.from_model(p) for p in await sla_rules.list_policies(actor_of(info))]


@strawberry.type
class SlaMutations:
    @strawberry.mutation(
        extensions=[SUPERVISORS],
        description="Supervisors: an SLA policy for a team/priority/platform (null: any), targets in seconds "
        'of business hours ({"mon": [["09:00", "18:00"]], ...} in `timezone`; {} = around the clock).',
    )
    async def create_sla_policy(self, info: strawberry.Info, input: CreateSlaPolicyInput) -> SlaPolicy:
        rule = input.to_rule()
        return SlaPolicy.from_model(await sla_rules.create_policy(actor_of(info), **rule))

    @strawberry.mutation(
        extensions=[SUPERVISORS],
        description="Supervisors: replace a policy's settings (audited). Its running timers are re-timed "
        "from their start with the new targets and hours; one whose target was removed is cancelled; "
        "a change of team/priority/platform/position hands them to whichever policy matches now.",
    )
    async def update_sla_policy(
        self, info: strawberry.Info, id: strawberry.ID, input: SlaPolicyInput
    ) -> SlaPolicy:
        policy_id = decode_id(id, "SlaPolicy", "id")
        policy = await sla_rules.update_policy(actor_of(info), policy_id, **input.to_rule())
        return SlaPolicy.from_model(policy)

    @strawberry.mutation(
        extensions=[SUPERVISORS],
        description="Supervisors: delete a policy and its timers (audited); conversations it was timing "
        "are timed by the next policy that matches them, if any.",
    )
    async def delete_sla_policy(self, info: strawberry.Info, id: strawberry.ID) -> bool:
        await sla_rules.delete_policy(actor_of(info), decode_id(id, "SlaPolicy", "id"))
        return True
