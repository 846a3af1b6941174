"""Platform accounts: the Channel type with its health, listing, creating and changing channels,
and rotating the secrets we give a platform (rules in resolvers/channels.py)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from connectors.base import Platform as _Platform
from resolvers import channels as channel_rules
from resolvers.errors import BadInput
from schema.common import Platform
from schema.permissions import ADMINS, SIGNED_IN, actor_of
from schema.relay import Node, decode_id, to_global_id


@strawberry.enum(description="A channel's connection health, from its last webhook and last error.")
class ChannelHealth(enum.Enum):
    OK = "OK"
    WAITING = "WAITING"  # enabled, nothing received yet
    ERROR = "ERROR"  # the latest news from the channel is a failure (see lastError)
    DISABLED = "DISABLED"


@strawberry.type
class Channel(Node):
    id: strawberry.ID
    platform: Platform
    name: str
    enabled: bool
    webhook_url: str
    config: JSON
    secrets_set: list[str] = strawberry.field(
        description="Which secrets are set. Their values are write-only."
    )
    last_webhook_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    health: ChannelHealth
    previous_secret_accepted_until: datetime | None = strawberry.field(
        description="After rotateWebhookSecret: webhooks signed with the rotated-out secret (web chat: "
        "visitor tokens signed with the rotated-out key) are still accepted until then "
        "(WEBHOOK_SECRET_GRACE_HOURS); null when they are not. "
        "endWebhookSecretGrace ends it early."
    )
    registers_webhook: bool = strawberry.field(
        description="The platform is told the webhook URL by API (Telegram, Viber): "
        "registerChannelWebhook asks it again."
    )
    created_at: datetime

    @classmethod
    def from_view(cls, v: dict[str, Any]) -> Channel:
        return cls(
            id=to_global_id("Channel", v["id"]),
            platform=_Platform(v["platform"]),
            name=v["name"],
            enabled=v["enabled"],
            webhook_url=v["webhook_url"],
            config=v["config"],
            secrets_set=v["secrets_set"],
            last_webhook_at=v["last_webhook_at"],
            last_error=v["last_error"],
            last_error_at=v["last_error_at"],
            health=ChannelHealth(v["health"]),
            previous_secret_accepted_until=v["previous_secret_accepted_until"],
            registers_webhook=v["registers_webhook"],
            created_at=v["created_at"],
        )


@strawberry.type
class RotatedSecrets:
    channel: Channel
    secrets: JSON = strawberry.field(
        description="The new generated secrets, shown this once (paste them into the platform's dashboard)."
    )


@strawberry.input
class CreateChannelInput:
    platform: Platform
    name: str
    config: JSON = strawberry.field(
        description="Public settings, e.g. {phone_number_id, api_base, api_version}."
    )
    secrets: JSON = strawberry.field(
        description="Write-only, encrypted at rest, e.g. {app_secret, access_token, verify_token}."
    )


@strawberry.input
class UpdateChannelInput:
    id: strawberry.ID
    name: str | None = None
    enabled: bool | None = None
    config: JSON | None = None
    secrets: JSON | None = strawberry.field(default=None, description="Only the keys given are replaced.")


def _string_map(value: object, field: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise BadInput(f"{field} must be an object of strings", field=field)
    return value


def _object(value: object, field: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise BadInput(f"{field} must be an object", field=field)
    return value


@strawberry.type
class ChannelQueries:
    @strawberry.field(extensions=[SIGNED_IN])
    async def channels(self, info: strawberry.Info) -> list[Channel]:
        return [Channel.from_view(v) for v in await channel_rules.list_channels(actor_of(info))]


@strawberry.type
class ChannelMutations:
    @strawberry.mutation(description="Admins: connect a platform account.", extensions=[ADMINS])
    async def create_channel(self, info: strawberry.Info, input: CreateChannelInput) -> Channel:
        view = await channel_rules.create_channel(
            actor_of(info),
            platform=input.platform,
            name=input.name,
            config=_object(input.config, "config"),
            secrets=_string_map(input.secrets, "secrets"),
        )
        return Channel.from_view(view)

    @strawberry.mutation(
        description="Admins: change a channel; secrets given replace those keys only.", extensions=[ADMINS]
    )
    async def update_channel(self, info: strawberry.Info, input: UpdateChannelInput) -> Channel:
        view = await channel_rules.update_channel(
            actor_of(info),
            decode_id(input.id, "Channel"),
            name=input.name,
            enabled=input.enabled,
            config=_object(input.config, "config") if input.config is not None else None,
            secrets=_string_map(input.secrets, "secrets") if input.secrets is not None else None,
        )
        return Channel.from_view(view)

    @strawberry.mutation(
        extensions=[ADMINS],
        description="Admins: regenerate the secrets we give the platform (verify token, Telegram's "
        "secret_token) and re-register the webhook where the platform allows (audited).",
    )
    async def rotate_webhook_secret(self, info: strawberry.Info, channel_id: strawberry.ID) -> RotatedSecrets:
        view, fresh = await channel_rules.rotate_webhook_secret(
            actor_of(info), decode_id(channel_id, "Channel", "channelId")
        )
        return RotatedSecrets(channel=Channel.from_view(view), secrets=fresh)

    @strawberry.mutation(
        extensions=[ADMINS],
        description="Admins: stop accepting the secret rotateWebhookSecret replaced, before its grace "
        "period ends (audited). Changes nothing when none is accepted.",
    )
    async def end_webhook_secret_grace(self, info: strawberry.Info, channel_id: strawberry.ID) -> Channel:
        view = await channel_rules.end_secret_grace(
            actor_of(info), decode_id(channel_id, "Channel", "channelId")
        )
        return Channel.from_view(view)

    @strawberry.mutation(
        extensions=[ADMINS],
        description="Admins: ask the platform again to post to this channel's webhook URL (Viber's "
        "set_webhook, Telegram's setWebhook; audited). A refusal is PLATFORM_ERROR with the "
        "platform's own code in extensions.platformCode.",
    )
    async def register_channel_webhook(self, info: strawberry.Info, channel_id: strawberry.ID) -> Channel:
        view = await channel_rules.reregister_webhook(
            actor_of(info), decode_id(channel_id, "Channel", "channelId")
        )
        return Channel.from_view(view)
