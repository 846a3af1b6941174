"""Response templates: the types, the search connection, the preview, and the mutations that
change templates (rules in resolvers/templates.py; syntax in resolvers/template_rendering.py).
Sending one is `sendMessage(input: {responseTemplate: {id, variables}})` in schema/messages.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from connectors.base import Platform as _Platform
from resolvers import templates as template_rules
from resolvers.errors import BadInput
from schema.common import Platform
from schema.messages import ButtonInput
from schema.permissions import SIGNED_IN, SUPERVISORS, actor_of
from schema.relay import Node, PageInfo, decode_id, decode_optional_id, to_global_id


@strawberry.type
class TemplateButton:
    id: str
    title: str
    url: str | None


@strawberry.type
class TemplateVariant:
    platform: Platform
    body: str | None = strawberry.field(description="Null: the universal body.")
    subject: str | None = strawberry.field(description="E-mail only.")
    buttons: list[TemplateButton] | None = strawberry.field(description="Null: the universal buttons.")


@strawberry.type
class TemplatePrompt:
    name: str = strawberry.field(description="Used in the text as {{name}}; its value is given at send time.")
    label: str


@strawberry.type
class TemplateContent:
    name: str
    shortcut: str | None
    category: str | None
    tags: list[str]
    team_ids: list[strawberry.ID]
    locale: str
    time_zone: str
    body: str
    buttons: list[TemplateButton]
    variants: list[TemplateVariant]
    prompts: list[TemplatePrompt]

    @classmethod
    def from_content(cls, c: dict[str, Any]) -> TemplateContent:
        return cls(
            name=c["name"],
            shortcut=c["shortcut"],
            category=c["category"],
            tags=c["tags"],
            team_ids=[to_global_id("Team", t) for t in c["team_ids"]],
            locale=c["locale"],
            time_zone=c["time_zone"],
            body=c["body"],
            buttons=_buttons(c["buttons"]),
            variants=[
                TemplateVariant(
                    platform=_Platform(platform),
                    body=v.get("body"),
                    subject=v.get("subject"),
                    buttons=_buttons(v["buttons"]) if "buttons" in v else None,
                )
                for platform, v in c["variants"].items()
            ],
            prompts=[TemplatePrompt(name=p["name"], label=p["label"]) for p in c["prompts"]],
        )


def _buttons(raw: list[dict[str, Any]]) -> list[TemplateButton]:
    return [TemplateButton(id=b["id"], title=b["title"], url=b.get("url")) for b in raw]


@strawberry.type
class TemplateVersion:
    version: int
    note: str | None
    created_at: datetime
    created_by_id: strawberry.ID | None
    content: TemplateContent

    @classmethod
    def from_view(cls, v: dict[str, Any]) -> TemplateVersion:
        return cls(
            version=v["version"],
            note=v["note"],
            created_at=v["created_at"],
            created_by_id=to_global_id("User", v["created_by_id"]) if v["created_by_id"] else None,
            content=TemplateContent.from_content(v["content"]),
        )


@strawberry.type
class TemplateDiff:
    from_version: int
    to_version: int
    changed_fields: list[str] = strawberry.field(description="Content fields that differ (snake_case keys).")
    unified: str = strawberry.field(description="A unified diff of the texts and settings.")


@strawberry.type
class ResponseTemplate(Node):
    id: strawberry.ID
    name: str
    shortcut: str | None
    category: str | None
    tags: list[str]
    team_ids: list[strawberry.ID] = strawberry.field(
        description="Visible to these teams' agents; empty: everyone."
    )
    body: str = strawberry.field(description="The current version's universal body.")
    version: int = strawberry.field(description="The current version.")
    usage_count: int = strawberry.field(description="Messages sent from it, by anyone.")
    my_usage_count: int = strawberry.field(description="Messages you sent from it (searches rank by this).")
    archived_at: datetime | None
    created_at: datetime
    updated_at: datetime
    pk: strawberry.Private[int]

    @classmethod
    def from_view(cls, v: dict[str, Any]) -> ResponseTemplate:
        return cls(
            id=to_global_id("ResponseTemplate", v["id"]),
            name=v["name"],
            shortcut=v["shortcut"],
            category=v["category"],
            tags=v["tags"],
            team_ids=[to_global_id("Team", t) for t in v["team_ids"]],
            body=v["body"],
            version=v["version"],
            usage_count=v["usage_count"],
            my_usage_count=v.get("my_uses", 0),
            archived_at=v["archived_at"],
            created_at=v["created_at"],
            updated_at=v["updated_at"],
            pk=v["id"],
        )

    @strawberry.field(description="The current version's full content (variants, buttons, prompts).")
    async def content(self, info: strawberry.Info) -> TemplateContent:
        version = await template_rules.get_version(actor_of(info), self.pk)
        return TemplateContent.from_content(version["content"])

    @strawberry.field(description="Every saved version, newest first. Versions never change.")
    async def versions(self, info: strawberry.Info) -> list[TemplateVersion]:
        return [
            TemplateVersion.from_view(v) for v in await template_rules.list_versions(actor_of(info), self.pk)
        ]

    @strawberry.field(description="What changed from one version to another.")
    async def diff(self, info: strawberry.Info, from_version: int, to_version: int) -> TemplateDiff:
        d = await template_rules.diff_versions(actor_of(info), self.pk, from_version, to_version)
        return TemplateDiff(
            from_version=d["from_version"],
            to_version=d["to_version"],
            changed_fields=d["changed_fields"],
            unified=d["unified"],
        )


@strawberry.type
class ResponseTemplateEdge:
    cursor: str
    node: ResponseTemplate


@strawberry.type
class ResponseTemplateConnection:
    edges: list[ResponseTemplateEdge]
    page_info: PageInfo


@strawberry.type
class RenderedTemplate:
    template_id: strawberry.ID
    version: int
    variant: str = strawberry.field(description='The platform whose variant was used, or "universal".')
    platform: Platform
    channel_id: strawberry.ID
    text: str
    subject: str | None
    buttons: list[TemplateButton]
    problems: list[str] = strawberry.field(
        description="The platform's limits this text breaks; sendMessage refuses it while any remain."
    )
    arm: str | None = strawberry.field(
        default=None, description="The arm of the running experiment this conversation gets, if any."
    )


@strawberry.input
class TemplateVariantInput:
    platform: Platform
    body: str | None = None
    subject: str | None = strawberry.field(default=None, description="E-mail only.")
    buttons: list[ButtonInput] | None = strawberry.field(
        default=None, description="Only on platforms with buttons; null keeps the universal ones."
    )


@strawberry.input
class TemplatePromptInput:
    name: str
    label: str | None = None


@strawberry.input
class SaveTemplateInput:
    id: strawberry.ID | None = strawberry.field(default=None, description="Null creates a template.")
    name: str
    body: str = strawberry.field(
        description='The universal body: {{nome}}, {{customer.first_name | "cliente"}}, …'
    )
    shortcut: str | None = strawberry.field(default=None, description="e.g. /entrega")
    category: str | None = None
    tags: list[str] | None = None
    team_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="Empty: every agent.")
    locale: str | None = strawberry.field(
        default=None, description="When the conversation's is unknown; pt_BR."
    )
    time_zone: str | None = strawberry.field(default=None, description="For dates; America/Sao_Paulo.")
    buttons: list[ButtonInput] | None = None
    variants: list[TemplateVariantInput] | None = None
    prompts: list[TemplatePromptInput] | None = None
    note: str | None = strawberry.field(default=None, description="Kept with the version.")

    def to_content(self) -> dict[str, Any]:
        variants: dict[str, Any] = {}
        for v in self.variants or ():
            platform = _Platform(v.platform.value if hasattr(v.platform, "value") else v.platform).value
            if platform in variants:
                raise BadInput(f"two variants for {platform}", field="variants")
            variants[platform] = {
                "body": v.body,
                "subject": v.subject,
                "buttons": None if v.buttons is None else [_button(b) for b in v.buttons],
            }
        return {
            "name": self.name,
            "body": self.body,
            "shortcut": self.shortcut,
            "category": self.category,
            "tags": self.tags or [],
            "team_ids": [decode_id(t, "Team", "teamIds") for t in self.team_ids or ()],
            "locale": self.locale,
            "time_zone": self.time_zone,
            "buttons": [_button(b) for b in self.buttons or ()],
            "variants": variants,
            "prompts": [{"name": p.name, "label": p.label} for p in self.prompts or ()],
        }


def _button(b: ButtonInput) -> dict[str, Any]:
    return {"id": b.id, "title": b.title, "url": b.url}


@strawberry.type
class TemplateQueries:
    @strawberry.field(
        extensions=[SIGNED_IN],
        description="Response templates you can use. With `query`: shortcut and name by prefix, text by "
        "full text (Portuguese and English), ranked by how often you used each.",
    )
    async def templates(
        self,
        info: strawberry.Info,
        query: str | None = None,
        category: str | None = None,
        tag: str | None = None,
        include_archived: bool = False,
        first: int = 20,
        after: str | None = None,
    ) -> ResponseTemplateConnection:
        page = await template_rules.list_templates(
            actor_of(info),
            query=query,
            category=category,
            tag=tag,
            include_archived=include_archived,
            first=first,
            after=after,
        )
        return ResponseTemplateConnection(
            edges=[
                ResponseTemplateEdge(cursor=c, node=ResponseTemplate.from_view(v))
                for v, c in zip(page.items, page.cursors, strict=True)
            ],
            page_info=PageInfo.of(page.cursors, has_next=page.has_next, has_previous=bool(after)),
        )

    @strawberry.field(extensions=[SIGNED_IN])
    async def template(self, info: strawberry.Info, id: strawberry.ID) -> ResponseTemplate:
        return ResponseTemplate.from_view(
            await template_rules.get_template(actor_of(info), decode_id(id, "ResponseTemplate"))
        )

    @strawberry.field(
        extensions=[SIGNED_IN],
        description="A preview: what sendMessage would send with this template in this conversation.",
    )
    async def render_template(
        self,
        info: strawberry.Info,
        id: strawberry.ID,
        conversation_id: strawberry.ID,
        channel_id: strawberry.ID | None = None,
        variables: JSON | None = None,
    ) -> RenderedTemplate:
        rendered, target = await template_rules.preview(
            actor_of(info),
            decode_id(id, "ResponseTemplate"),
            decode_id(conversation_id, "Conversation", "conversationId"),
            decode_optional_id(channel_id, "Channel", "channelId"),
            variables,
        )
        return RenderedTemplate(
            template_id=to_global_id("ResponseTemplate", rendered.template_id),
            version=rendered.version,
            variant=rendered.variant,
            platform=_Platform(rendered.platform),
            channel_id=to_global_id("Channel", target.channel_id),
            text=rendered.text,
            subject=rendered.subject,
            buttons=[TemplateButton(id=b.id, title=b.title, url=b.url) for b in rendered.buttons],
            problems=list(rendered.problems),
            arm=rendered.arm,
        )


@strawberry.type
class TemplateMutations:
    @strawberry.mutation(
        extensions=[SUPERVISORS],
        description="Supervisors: create a template, or save a new version of one (audited).",
    )
    async def save_template(self, info: strawberry.Info, input: SaveTemplateInput) -> ResponseTemplate:
        row = await template_rules.save_template(
            actor_of(info),
            template_id=decode_optional_id(input.id, "ResponseTemplate", "id"),
            content=input.to_content(),
            note=input.note,
        )
        return ResponseTemplate.from_view(row)

    @strawberry.mutation(
        extensions=[SUPERVISORS],
        description="Supervisors: hide a template from agents; its history stays (audited).",
    )
    async def archive_template(self, info: strawberry.Info, id: strawberry.ID) -> ResponseTemplate:
        return ResponseTemplate.from_view(
            await template_rules.archive_template(actor_of(info), decode_id(id, "ResponseTemplate"))
        )

    @strawberry.mutation(
        extensions=[SUPERVISORS], description="Supervisors: a new version equal to an old one (audited)."
    )
    async def rollback_template(
        self, info: strawberry.Info, id: strawberry.ID, version: int
    ) -> ResponseTemplate:
        return ResponseTemplate.from_view(
            await template_rules.rollback_template(actor_of(info), decode_id(id, "ResponseTemplate"), version)
        )
