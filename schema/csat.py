"""CSAT: per-channel survey settings, the answers, and their summary (rules in resolvers/csat.py)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import strawberry

from resolvers import csat as csat_rules
from resolvers.errors import BadInput
from schema.common import Platform, view_datetime
from schema.permissions import ADMINS, SIGNED_IN, SUPERVISORS, actor_of
from schema.relay import PageInfo, decode_id, decode_optional_id, to_global_id


def _gid(type_name: str, pk: Any) -> strawberry.ID | None:
    return to_global_id(type_name, pk) if pk is not None else None


@strawberry.type
class CsatSettings:
    channel_id: strawberry.ID
    enabled: bool
    delay_seconds: int = strawberry.field(description="After the resolution, before the survey goes out.")
    question: str
    window_seconds: int = strawberry.field(description="Answers count this long after the survey went out.")
    comment_seconds: int = strawberry.field(
        description="The customer's next message within this time after a rating is its comment."
    )


@strawberry.type
class CsatResponse:
    id: strawberry.ID
    conversation_id: strawberry.ID
    channel_id: strawberry.ID
    platform: Platform
    agent_id: strawberry.ID | None = strawberry.field(description="The assignee when it was resolved.")
    team_id: strawberry.ID | None
    score: int = strawberry.field(description="1 to 5: the last answer within the window.")
    comment: str | None
    sent_at: datetime | None
    answered_at: datetime | None

    @classmethod
    def from_view(cls, v: dict[str, Any]) -> CsatResponse:
        return cls(
            id=to_global_id("CsatResponse", v["id"]),
            conversation_id=to_global_id("Conversation", v["conversation_id"]),
            channel_id=to_global_id("Channel", v["channel_id"]),
            platform=Platform(v["platform"]),
            agent_id=_gid("User", v["agent_id"]),
            team_id=_gid("Team", v["team_id"]),
            score=v["score"],
            comment=v["comment"],
            sent_at=view_datetime(v["sent_at"]),
            answered_at=view_datetime(v["answered_at"]),
        )


@strawberry.type
class CsatResponseEdge:
    cursor: str
    node: CsatResponse


@strawberry.type
class CsatResponseConnection:
    edges: list[CsatResponseEdge]
    page_info: PageInfo


@strawberry.input
class CsatFilter:
    platform: Platform | None = None
    channel_id: strawberry.ID | None = None
    team_id: strawberry.ID | None = None
    assignee_id: strawberry.ID | None = strawberry.field(default=None, description="The agent rated.")
    conversation_id: strawberry.ID | None = None
    from_: datetime | None = strawberry.field(default=None, name="from", description="Answered at or after.")
    to: datetime | None = strawberry.field(default=None, description="Answered before.")

    def to_rule(self) -> dict[str, Any]:
        return {
            "platform": self.platform.value if self.platform else None,
            "channel_id": decode_optional_id(self.channel_id, "Channel", "filter.channelId"),
            "team_id": decode_optional_id(self.team_id, "Team", "filter.teamId"),
            "agent_id": decode_optional_id(self.assignee_id, "User", "filter.assigneeId"),
            "conversation_id": decode_optional_id(
                self.conversation_id, "Conversation", "filter.conversationId"
            ),
            "since": self.from_,
            "until": self.to,
        }


@strawberry.enum
class CsatGroup(enum.Enum):
    PLATFORM = "platform"
    CHANNEL = "channel"
    AGENT = "agent"
    TEAM = "team"
    TEMPLATE = "template"


@strawberry.type
class CsatSummaryRow:
    key: str | None = strawberry.field(
        description="The group's value: a platform, or a channel/user/team/response-template database id; "
        "null for no grouping or no agent/team."
    )
    responses: int
    average: float
    satisfied_share: float = strawberry.field(description="Share of 4s and 5s (0 to 1).")
    distribution: list[int] = strawberry.field(description="How many 1s, 2s, 3s, 4s and 5s.")


def _settings(row: dict[str, Any]) -> CsatSettings:
    return CsatSettings(
        channel_id=to_global_id("Channel", row["channel_id"]),
        enabled=row["enabled"],
        delay_seconds=row["delay_seconds"],
        question=row["question"],
        window_seconds=row["window_seconds"],
        comment_seconds=row["comment_seconds"],
    )


@strawberry.type
class CsatQueries:
    @strawberry.field(extensions=[SUPERVISORS], description="Supervisors: a channel's survey settings.")
    async def csat_settings(self, info: strawberry.Info, channel_id: strawberry.ID) -> CsatSettings:
        return _settings(
            await csat_rules.get_settings(actor_of(info), decode_id(channel_id, "Channel", "channelId"))
        )

    @strawberry.field(
        extensions=[SIGNED_IN],
        description="Survey answers, newest first. Agents see the ones about themselves.",
    )
    async def csat_responses(
        self,
        info: strawberry.Info,
        filter: CsatFilter | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> CsatResponseConnection:
        if after is not None and not after.isdigit():
            raise BadInput("after is an endCursor this query returned", field="after")
        items, has_next = await csat_rules.list_responses(
            actor_of(info),
            (filter or CsatFilter()).to_rule(),
            first=first if first is not None else 50,
            after=int(after) if after else None,
        )
        cursors = [str(v["id"]) for v in items]
        return CsatResponseConnection(
            edges=[
                CsatResponseEdge(cursor=c, node=CsatResponse.from_view(v))
                for v, c in zip(items, cursors, strict=True)
            ],
            page_info=PageInfo.of(cursors, has_next=has_next, has_previous=bool(after)),
        )

    @strawberry.field(
        extensions=[SIGNED_IN],
        description="CSAT by platform, channel, agent, team or response template (agents: their own).",
    )
    async def csat_summary(
        self, info: strawberry.Info, filter: CsatFilter | None = None, group_by: CsatGroup | None = None
    ) -> list[CsatSummaryRow]:
        rows = await csat_rules.csat_summary(
            actor_of(info), (filter or CsatFilter()).to_rule(), group_by.value if group_by else None
        )
        return [CsatSummaryRow(**r) for r in rows]


@strawberry.type
class CsatMutations:
    @strawberry.mutation(
        extensions=[ADMINS],
        description="Admins: whether and how a channel asks for a rating after a resolution.",
    )
    async def save_csat_settings(
        self,
        info: strawberry.Info,
        channel_id: strawberry.ID,
        enabled: bool,
        delay_seconds: int = 0,
        question: str | None = None,
        window_seconds: int = 86_400,
        comment_seconds: int = 600,
    ) -> CsatSettings:
        row = await csat_rules.save_settings(
            actor_of(info),
            decode_id(channel_id, "Channel", "channelId"),
            enabled=enabled,
            delay_seconds=delay_seconds,
            question=question,
            window_seconds=window_seconds,
            comment_seconds=comment_seconds,
        )
        return _settings(row)
