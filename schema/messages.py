"""Messages: the Message type with its attachments and sender, pages of messages, and
`sendMessage` with its inputs (rules in resolvers/messages.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from connectors.base import Attachment as AttachmentValue
from connectors.base import Button as ButtonValue
from connectors.base import MessageKind as _MessageKind
from connectors.base import Platform as _Platform
from models import Direction as _Direction
from models import MessageStatus as _MessageStatus
from resolvers import messages as message_rules
from schema.auth import User
from schema.common import MessageDirection, MessageKind, MessageStatus, Platform, view_datetime
from schema.permissions import SIGNED_IN, actor_of
from schema.relay import Node, PageInfo, decode_id, decode_optional_id, to_global_id


@strawberry.type
class Attachment:
    kind: MessageKind
    url: str | None
    mime_type: str | None
    filename: str | None
    size: int | None
    media_id: str | None
    sha256: str | None


@strawberry.type
class Message(Node):
    id: strawberry.ID
    conversation_id: strawberry.ID
    platform: Platform = strawberry.field(description="The platform this message came or went through.")
    channel_id: strawberry.ID
    direction: MessageDirection
    kind: MessageKind
    text: str | None
    status: MessageStatus
    error_code: str | None
    error_reason: str | None
    platform_message_id: str | None
    client_message_id: str | None
    reply_to_platform_id: str | None
    metadata: JSON
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    edited_at: datetime | None = strawberry.field(description="When the customer last edited it.")
    deleted_at: datetime | None = strawberry.field(description="When the customer unsent it.")
    attachments: list[Attachment]
    sender_pk: strawberry.Private[int | None]

    @classmethod
    def from_view(cls, v: dict[str, Any]) -> Message:
        return cls(
            id=to_global_id("Message", v["id"]),
            conversation_id=to_global_id("Conversation", v["conversation_id"]),
            platform=_Platform(v["platform"]),
            channel_id=to_global_id("Channel", v["channel_id"]),
            direction=_Direction(v["direction"]),
            kind=_MessageKind(v["kind"]),
            text=v["text"],
            status=_MessageStatus(v["status"]),
            error_code=v["error_code"],
            error_reason=v["error_reason"],
            platform_message_id=v["platform_message_id"],
            client_message_id=v["client_message_id"],
            reply_to_platform_id=v["reply_to_platform_id"],
            metadata=v["metadata"],
            created_at=view_datetime(v["created_at"]),
            sent_at=view_datetime(v["sent_at"]),  # type: ignore[arg-type]
            delivered_at=view_datetime(v["delivered_at"]),
            read_at=view_datetime(v["read_at"]),
            edited_at=view_datetime(v.get("edited_at")),
            deleted_at=view_datetime(v.get("deleted_at")),
            attachments=[
                Attachment(
                    kind=_MessageKind(a["kind"]),
                    url=a.get("url"),
                    mime_type=a.get("mime_type"),
                    filename=a.get("filename"),
                    size=a.get("size"),
                    media_id=a.get("media_id"),
                    sha256=a.get("sha256"),
                )
                for a in v["attachments"]
            ],
            sender_pk=v["sender_id"],
        )

    @strawberry.field
    async def sender(self, info: strawberry.Info) -> User | None:
        if self.sender_pk is None:
            return None
        row = await info.context.loaders.users.load(self.sender_pk)
        return User.from_view(row) if row else None


@strawberry.type
class MessageEdge:
    cursor: str
    node: Message


@strawberry.type
class MessageConnection:
    edges: list[MessageEdge]
    page_info: PageInfo


@strawberry.input
class OutboundAttachmentInput:
    kind: MessageKind = strawberry.field(description="IMAGE, AUDIO, VIDEO, DOCUMENT or STICKER")
    url: str = strawberry.field(description="Public http(s) URL the platform fetches.")
    filename: str | None = None
    mime_type: str | None = None


@strawberry.input
class ButtonInput:
    id: str = strawberry.field(description="Comes back as the customer's POSTBACK payload.")
    title: str
    url: str | None = strawberry.field(default=None, description="A link button instead of a reply button.")


@strawberry.input
class TemplateInput:
    name: str = strawberry.field(description="An approved template's name (WhatsApp).")
    language: str = strawberry.field(description='Its language code, e.g. "en_US" or "pt_BR".')
    components: JSON | None = strawberry.field(
        default=None, description="Header/body/button parameters, as the platform takes them."
    )


@strawberry.input(description="One of our response templates (see `templates`), filled in when sent.")
class ResponseTemplateInput:
    id: strawberry.ID
    variables: JSON | None = strawberry.field(
        default=None, description='Values for the template\'s prompts, e.g. {"pedido": "A-1023"}.'
    )


@strawberry.input
class SendMessageInput:
    conversation_id: strawberry.ID
    client_message_id: str = strawberry.field(
        description="Generated by the client once per message and reused on retries: the server stores and sends it once."
    )
    text: str = strawberry.field(default="", description="Empty when a responseTemplate brings the text.")
    channel_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Reply through this channel (see Conversation.replyTargets); by default where the customer last wrote.",
    )
    attachments: list[OutboundAttachmentInput] | None = None
    buttons: list[ButtonInput] | None = None
    template: TemplateInput | None = strawberry.field(
        default=None,
        description="An approved template: the only thing WhatsApp delivers outside its 24-hour window.",
    )
    response_template: ResponseTemplateInput | None = strawberry.field(
        default=None,
        description="One of our response templates instead of text: rendered in the variant for the platform it goes through.",
    )


@strawberry.type
class MessageMutations:
    @strawberry.mutation(
        extensions=[SIGNED_IN],
        description="Reply to a conversation. Retrying with the same clientMessageId is safe.",
    )
    async def send_message(self, info: strawberry.Info, input: SendMessageInput) -> Message:
        result = await message_rules.send_reply(
            actor_of(info),
            conversation_id=decode_id(input.conversation_id, "Conversation", "conversationId"),
            client_message_id=input.client_message_id,
            text=input.text,
            channel_id=decode_optional_id(input.channel_id, "Channel", "channelId"),
            attachments=[
                AttachmentValue(kind=a.kind, url=a.url, filename=a.filename, mime_type=a.mime_type)
                for a in input.attachments or ()
            ],
            buttons=[ButtonValue(id=b.id, title=b.title, url=b.url) for b in input.buttons or ()],
            template=(
                {
                    "name": input.template.name,
                    "language": input.template.language,
                    "components": input.template.components or [],
                }
                if input.template
                else None
            ),
            response_template=(
                {
                    "id": decode_id(input.response_template.id, "ResponseTemplate", "responseTemplate.id"),
                    "variables": input.response_template.variables,
                }
                if input.response_template
                else None
            ),
        )
        return Message.from_view(result.message)
