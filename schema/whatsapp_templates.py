"""WhatsApp's approved (HSM) templates: the catalogue an agent picks from outside the 24-hour
window, and the sync supervisors start (rules in resolvers/whatsapp_templates.py). Sending one is
`sendMessage(input: {template: {name, language, components}})` in schema/messages.py."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from resolvers import whatsapp_templates as rules
from schema.permissions import SIGNED_IN, SUPERVISORS, actor_of
from schema.relay import decode_id, to_global_id


@strawberry.enum(description="A template's review status at Meta; only APPROVED ones can be sent.")
class WhatsappTemplateStatus(enum.Enum):
    APPROVED = "APPROVED"
    PENDING = "PENDING"
    REJECTED = "REJECTED"
    PAUSED = "PAUSED"
    DISABLED = "DISABLED"
    IN_APPEAL = "IN_APPEAL"
    PENDING_DELETION = "PENDING_DELETION"
    DELETED = "DELETED"
    ARCHIVED = "ARCHIVED"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    UNKNOWN = "UNKNOWN"


@strawberry.type(description="One parameter a send must give, in the send's components.")
class WhatsappTemplateParameter:
    part: str = strawberry.field(description='"header", "body" or "button N" (N: the button\'s index).')
    type: str = strawberry.field(
        description="text, image, video, document, location, coupon_code or payload."
    )
    name: str = strawberry.field(
        description='The placeholder ("1" for {{1}}, or a named one); media: "media".'
    )
    optional: bool = strawberry.field(description="A quick reply's payload may be left out.")


@strawberry.type
class WhatsappTemplate:
    channel_id: strawberry.ID
    name: str
    language: str
    category: str | None
    status: WhatsappTemplateStatus
    status_reason: str | None = strawberry.field(description="Meta's reason for a rejection, pause, ...")
    status_changed_at: datetime
    parameter_format: str = strawberry.field(description="POSITIONAL ({{1}}) or NAMED ({{order_id}}).")
    components: JSON = strawberry.field(
        description="The header, body, footer and buttons as Meta lists them."
    )
    parameters: list[WhatsappTemplateParameter]
    synced_at: datetime

    @classmethod
    def from_view(cls, v: dict[str, Any]) -> WhatsappTemplate:
        return cls(
            channel_id=to_global_id("Channel", v["channel_id"]),
            name=v["name"],
            language=v["language"],
            category=v["category"],
            status=WhatsappTemplateStatus(v["status"]),
            status_reason=v["status_reason"],
            status_changed_at=v["status_changed_at"],
            parameter_format=v["parameter_format"],
            components=v["components"],
            parameters=[
                WhatsappTemplateParameter(part=s.part, type=s.kind, name=n, optional=s.optional)
                for s in v["slots"]
                for n in s.names
            ],
            synced_at=v["synced_at"],
        )


@strawberry.type
class WhatsappTemplateSync:
    channel_id: strawberry.ID
    count: int = strawberry.field(description="Templates the Cloud API listed.")
    removed: int = strawberry.field(
        description="Templates gone from the listing, dropped from the catalogue."
    )
    synced_at: datetime


@strawberry.type
class WhatsappTemplateQueries:
    @strawberry.field(
        extensions=[SIGNED_IN],
        description="A WhatsApp channel's approved-template catalogue, by name; filter status APPROVED "
        "to pick one to send outside the 24-hour window.",
    )
    async def whatsapp_templates(
        self,
        info: strawberry.Info,
        channel_id: strawberry.ID,
        status: WhatsappTemplateStatus | None = None,
        language: str | None = None,
    ) -> list[WhatsappTemplate]:
        rows = await rules.list_templates(
            actor_of(info),
            decode_id(channel_id, "Channel", "channelId"),
            status=status.value if status else None,
            language=language,
        )
        return [WhatsappTemplate.from_view(r) for r in rows]


@strawberry.type
class WhatsappTemplateMutations:
    @strawberry.mutation(
        extensions=[SUPERVISORS],
        description="Fetch the channel's templates from the WhatsApp Cloud API now (audited). The "
        "workers also sync every channel with a waba_id about hourly.",
    )
    async def sync_whatsapp_templates(
        self, info: strawberry.Info, channel_id: strawberry.ID
    ) -> WhatsappTemplateSync:
        result = await rules.sync_templates(actor_of(info), decode_id(channel_id, "Channel", "channelId"))
        return WhatsappTemplateSync(
            channel_id=to_global_id("Channel", result["channel_id"]),
            count=result["count"],
            removed=result["removed"],
            synced_at=result["synced_at"],
        )
