"""Teams and their agents: teams, routing rules, an agent's capacity and skills, and presence
(rules in resolvers/teams.py; who takes what in resolvers/assignment.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from models import AssignmentStrategy as _AssignmentStrategy
from models import Presence as _Presence
from resolvers import teams as team_rules
from resolvers.errors import BadInput
from resolvers.shapes import user_view
from schema.auth import User
from schema.common import AgentPresence, AssignmentStrategy, Platform, view_datetime
from schema.permissions import ADMINS, SIGNED_IN, SUPERVISORS, actor_of
from schema.relay import Node, decode_id, decode_optional_id, to_global_id


@strawberry.type
class Team(Node):
    id: strawberry.ID
    name: str
    strategy: AssignmentStrategy
    sticky: bool
    offline_grace_seconds: int
    member_ids: list[strawberry.ID]

    @classmethod
    def from_view(cls, v: dict[str, Any]) -> Team:
        return cls(
            id=to_global_id("Team", v["id"]),
            name=v["name"],
            strategy=_AssignmentStrategy(v["strategy"]),
            sticky=v["sticky"],
            offline_grace_seconds=v["offline_grace_seconds"],
            member_ids=[to_global_id("User", m) for m in v["member_ids"]],
        )


@strawberry.type
class RoutingRule:
    """New conversations matching every condition given (null: any) go to the team; rules are
    tried by position, then age, and the first match wins. A rule with a topic instead moves
    unassigned conversations labelled with it."""

    id: strawberry.ID
    team_id: strawberry.ID
    position: int
    platform: Platform | None
    channel_id: strawberry.ID | None
    language: str | None
    topic: str | None
    created_at: datetime

    @classmethod
    def from_view(cls, v: dict[str, Any]) -> RoutingRule:
        return cls(
            id=to_global_id("RoutingRule", v["id"]),
            team_id=to_global_id("Team", v["team_id"]),
            position=v["position"],
            platform=Platform(v["platform"]) if v["platform"] else None,
            channel_id=to_global_id("Channel", v["channel_id"]) if v["channel_id"] is not None else None,
            language=v["language"],
            topic=v["topic"],
            created_at=view_datetime(v["created_at"]),  # type: ignore[arg-type]
        )


@strawberry.input
class RoutingRuleInput:
    team_id: strawberry.ID
    position: int = 0
    platform: Platform | None = None
    channel_id: strawberry.ID | None = None
    language: str | None = None
    topic: str | None = strawberry.field(
        default=None, description="A label: unassigned conversations given it come to this team."
    )

    def to_rule(self) -> dict[str, Any]:
        return {
            "team_id": decode_id(self.team_id, "Team", "input.teamId"),
            "position": self.position,
            "platform": self.platform.value if self.platform else None,
            "channel_id": decode_optional_id(self.channel_id, "Channel", "input.channelId"),
            "language": self.language,
            "topic": self.topic,
        }


@strawberry.type
class TeamQueries:
    @strawberry.field(extensions=[SIGNED_IN])
    async def teams(self, info: strawberry.Info) -> list[Team]:
        return [Team.from_view(v) for v in await team_rules.list_teams(actor_of(info))]

    @strawberry.field(
        extensions=[SUPERVISORS],
        description="Skills agents already have and routing rules' topics, for autocompletion (lower case, sorted).",
    )
    async def known_skills(self, info: strawberry.Info) -> list[str]:
        return await team_rules.known_skills(actor_of(info))

    @strawberry.field(
        extensions=[SUPERVISORS],
        description="Supervisors: every routing rule in evaluation order (the first match wins).",
    )
    async def routing_rules(self, info: strawberry.Info) -> list[RoutingRule]:
        return [RoutingRule.from_view(v) for v in await team_rules.list_routing_rules(actor_of(info))]


@strawberry.type
class TeamMutations:
    @strawberry.mutation(
        extensions=[SUPERVISORS],
        description="Supervisors: create (no teamId) or replace a team and its members (audited).",
    )
    async def save_team(
        self,
        info: strawberry.Info,
        name: str,
        member_ids: list[strawberry.ID],
        strategy: AssignmentStrategy = AssignmentStrategy.LEAST_LOADED,  # type: ignore[assignment]
        sticky: bool = True,
        offline_grace_seconds: int = 300,
        team_id: strawberry.ID | None = None,
    ) -> Team:
        view = await team_rules.save_team(
            actor_of(info),
            team_id=decode_optional_id(team_id, "Team", "teamId"),
            name=name,
            strategy=strategy,
            sticky=sticky,
            offline_grace_seconds=offline_grace_seconds,
            member_ids=[decode_id(m, "User", "memberIds") for m in member_ids],
        )
        return Team.from_view(view)

    @strawberry.mutation(
        extensions=[ADMINS],
        description="Admins: delete a team nothing live points at; refused (CONFLICT, reason TEAM_IN_USE, "
        "`uses` counts) while it has open/pending/snoozed conversations, routing rules, SLA policies, "
        "alert rules or templates; its history keeps no team (audited). Answers the deleted id.",
    )
    async def delete_team(self, info: strawberry.Info, id: strawberry.ID) -> strawberry.ID:
        pk = decode_id(id, "Team", "id")
        await team_rules.delete_team(actor_of(info), pk, ip=info.context.ip)
        return id

    @strawberry.mutation(
        extensions=[SUPERVISORS],
        description="Supervisors: route new conversations matching every given field to a team (audited).",
    )
    async def add_routing_rule(
        self,
        info: strawberry.Info,
        team_id: strawberry.ID,
        position: int = 0,
        platform: Platform | None = None,
        channel_id: strawberry.ID | None = None,
        language: str | None = None,
        topic: str | None = None,  # a label: unassigned conversations given it come to this team
    ) -> strawberry.ID:
        rule = await team_rules.add_routing_rule(
            actor_of(info),
            team_id=decode_id(team_id, "Team", "teamId"),
            position=position,
            platform=platform.value if platform else None,
            channel_id=decode_optional_id(channel_id, "Channel", "channelId"),
            language=language,
            topic=topic,
        )
        return to_global_id("RoutingRule", rule["id"])

    @strawberry.mutation(
        extensions=[SUPERVISORS],
        description="Supervisors: replace a routing rule's conditions, team and position (audited). "
        "Conversations already routed stay where they are.",
    )
    async def update_routing_rule(
        self, info: strawberry.Info, id: strawberry.ID, input: RoutingRuleInput
    ) -> RoutingRule:
        rule_id = decode_id(id, "RoutingRule", "id")
        view = await team_rules.update_routing_rule(actor_of(info), rule_id, **input.to_rule())
        return RoutingRule.from_view(view)

    @strawberry.mutation(
        extensions=[SUPERVISORS],
        description="Supervisors: delete a routing rule (audited); conversations it routed stay.",
    )
    async def delete_routing_rule(self, info: strawberry.Info, id: strawberry.ID) -> bool:
        return await team_rules.delete_routing_rule(actor_of(info), decode_id(id, "RoutingRule", "id"))

    @strawberry.mutation(
        extensions=[SUPERVISORS],
        description="Supervisors: the evaluation order of every routing rule, first to last (audited); "
        "CONFLICT unless the list names each rule exactly once.",
    )
    async def reorder_routing_rules(
        self, info: strawberry.Info, rule_ids: list[strawberry.ID]
    ) -> list[RoutingRule]:
        ids = [decode_id(r, "RoutingRule", "ruleIds") for r in rule_ids]
        return [RoutingRule.from_view(v) for v in await team_rules.reorder_routing_rules(actor_of(info), ids)]

    @strawberry.mutation(
        extensions=[SUPERVISORS],
        description="Supervisors: an agent's capacity (overall and per platform) and skills (audited). "
        '`platformCapacity` replaces the whole map, e.g. {"whatsapp": 3}: keys are platforms in lower '
        "case, values 0-1000; a platform left out is limited by the overall capacity only.",
    )
    async def update_agent(
        self,
        info: strawberry.Info,
        user_id: strawberry.ID,
        capacity: int | None = None,
        platform_capacity: JSON | None = None,
        skills: list[str] | None = None,
    ) -> User:
        if platform_capacity is not None and not isinstance(platform_capacity, dict):
            raise BadInput(
                'platformCapacity must be an object like {"whatsapp": 3}', field="platformCapacity"
            )
        user = await team_rules.update_agent(
            actor_of(info),
            decode_id(user_id, "User", "userId"),
            capacity=capacity,
            platform_capacity=platform_capacity,  # type: ignore[arg-type]
            skills=skills,
        )
        return User.from_view(
            {
                **user_view(user),
                "presence": user.presence,
                "capacity": user.capacity,
                "platform_capacity": user.platform_capacity,
                "skills": user.skills,
            }
        )

    @strawberry.mutation(
        extensions=[SIGNED_IN],
        description="Online takes new conversations; away keeps yours but takes none; offline re-queues yours after the grace period.",
    )
    async def set_my_presence(self, info: strawberry.Info, presence: AgentPresence) -> AgentPresence:
        return _Presence(await team_rules.set_my_presence(actor_of(info), presence))  # type: ignore[return-value]
