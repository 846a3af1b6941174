"""Outgoing webhooks for integrators (admins): endpoints, their deliveries and attempts, secret
rotation and replay (rules in resolvers/outgoing_webhooks.py; README "Outgoing webhooks")."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import strawberry

from connectors.base import Platform as _Platform
from resolvers import outgoing_webhooks as rules
from resolvers.errors import BadInput
from schema.common import Platform
from schema.permissions import ADMINS, actor_of
from schema.relay import decode_id, decode_optional_id, to_global_id


@strawberry.enum(
    description="pending: not yet delivered (retrying); succeeded; failed: given up after a day."
)
class WebhookDeliveryStatus(enum.Enum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@strawberry.type
class WebhookEndpoint:
    id: strawberry.ID
    url: str
    description: str
    events: list[str]
    channel_ids: list[strawberry.ID]
    platforms: list[Platform]
    enabled: bool
    allow_private_network: bool = strawberry.field(
        description="An admin's exception: this URL may reach private, loopback or link-local addresses."
    )
    disabled_reason: str | None
    disabled_at: datetime | None
    failing_since: datetime | None = strawberry.field(
        description="Every attempt has failed since then; a day of it disables the endpoint."
    )
    previous_secret_valid_until: datetime | None = strawberry.field(
        description="After a rotation, the old secret also signs (a second v1) until then."
    )
    created_at: datetime

    @classmethod
    def from_view(cls, v: dict[str, Any]) -> WebhookEndpoint:
        filters = v["filters"] or {}
        return cls(
            id=to_global_id("WebhookEndpoint", v["id"]),
            url=v["url"],
            description=v["description"],
            events=v["events"],
            channel_ids=[to_global_id("Channel", c) for c in filters.get("channel_ids", [])],
            platforms=[_Platform(p) for p in filters.get("platforms", [])],
            enabled=v["enabled"],
            allow_private_network=v["allow_private_network"],
            disabled_reason=v["disabled_reason"],
            disabled_at=v["disabled_at"],
            failing_since=v["failing_since"],
            previous_secret_valid_until=v["previous_secret_valid_until"],
            created_at=v["created_at"],
        )


@strawberry.type
class WebhookEndpointWithSecret:
    endpoint: WebhookEndpoint
    secret: str | None = strawberry.field(
        description="The signing secret, shown this once (on creation and rotation); null on an update."
    )


@strawberry.type
class WebhookAttempt:
    started_at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None
    succeeded: bool


_ATTEMPT_FIELDS = ("started_at", "duration_ms", "status_code", "error", "succeeded")


@strawberry.type
class WebhookDelivery:
    id: strawberry.ID = strawberry.field(
        description="The delivery id (PyTake-Delivery header), same on every retry."
    )
    cursor: str = strawberry.field(description="Pass as `before` for the next (older) page.")
    endpoint_id: strawberry.ID
    event_id: str | None
    event_type: str
    conversation_id: strawberry.ID | None
    body: str = strawberry.field(description="The exact bytes sent (and signed).")
    status: WebhookDeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    replay_of: strawberry.ID | None
    created_at: datetime
    delivered_at: datetime | None
    attempt_log: list[WebhookAttempt]

    @classmethod
    def from_view(cls, v: dict[str, Any]) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(str(v["delivery_id"])),
            cursor=str(v["id"]),
            endpoint_id=to_global_id("WebhookEndpoint", v["endpoint_id"]),
            event_id=None if v["event_seq"] is None else str(v["event_seq"]),
            event_type=v["event_type"],
            conversation_id=None
            if v["conversation_id"] is None
            else to_global_id("Conversation", v["conversation_id"]),
            body=v["body"],
            status=WebhookDeliveryStatus(v["status"]),
            attempts=v["attempts"],
            next_attempt_at=v["next_attempt_at"] if v["status"] == "pending" else None,
            last_status_code=v["last_status_code"],
            last_error=v["last_error"],
            replay_of=None if v["replay_of"] is None else strawberry.ID(str(v["replay_of"])),
            created_at=v["created_at"],
            delivered_at=v["delivered_at"],
            attempt_log=[WebhookAttempt(**{k: a[k] for k in _ATTEMPT_FIELDS}) for a in v["attempt_log"]],
        )


@strawberry.input
class WebhookEndpointInput:
    url: str
    events: list[str] = strawberry.field(description='Event names (README "Outgoing webhooks"), or ["*"].')
    description: str = ""
    channel_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Only events of these channels (none: every channel)."
    )
    platforms: list[Platform] = strawberry.field(
        default_factory=list, description="Only events of these platforms (none: every platform)."
    )
    enabled: bool = True
    allow_private_network: bool = False


def _uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        raise BadInput(f"{field} is a delivery id (a UUID)", field=field) from None


@strawberry.type
class OutgoingWebhookQueries:
    @strawberry.field(extensions=[ADMINS], description="Admins: the outgoing webhook endpoints.")
    async def webhook_endpoints(self, info: strawberry.Info) -> list[WebhookEndpoint]:
        return [WebhookEndpoint.from_view(v) for v in await rules.list_endpoints(actor_of(info))]

    @strawberry.field(
        extensions=[ADMINS], description="Admins: an endpoint's deliveries, newest first, with every attempt."
    )
    async def webhook_deliveries(
        self,
        info: strawberry.Info,
        endpoint_id: strawberry.ID,
        status: WebhookDeliveryStatus | None = None,
        before: str | None = None,
        first: int = 50,
    ) -> list[WebhookDelivery]:
        endpoint = decode_id(endpoint_id, "WebhookEndpoint", "endpointId")
        if before is not None and not before.isdigit():
            raise BadInput("before is a delivery's cursor", field="before")
        views = await rules.list_deliveries(
            actor_of(info),
            endpoint,
            status=status.value if status else None,
            before=int(before) if before else None,
            limit=first,
        )
        return [WebhookDelivery.from_view(v) for v in views]


@strawberry.type
class OutgoingWebhookMutations:
    @strawberry.mutation(
        extensions=[ADMINS],
        description="Admins: create (no id; the secret is returned this once) or change an endpoint (audited).",
    )
    async def save_webhook_endpoint(
        self, info: strawberry.Info, input: WebhookEndpointInput, id: strawberry.ID | None = None
    ) -> WebhookEndpointWithSecret:
        view, secret = await rules.save_endpoint(
            actor_of(info),
            endpoint_id=decode_optional_id(id, "WebhookEndpoint", "id"),
            url=input.url,
            description=input.description,
            events=list(input.events),
            channel_ids=[decode_id(c, "Channel", "input.channelIds") for c in input.channel_ids],
            platforms=[p.value for p in input.platforms],
            enabled=input.enabled,
            allow_private_network=input.allow_private_network,
        )
        return WebhookEndpointWithSecret(endpoint=WebhookEndpoint.from_view(view), secret=secret)

    @strawberry.mutation(
        extensions=[ADMINS], description="Admins: delete an endpoint and its deliveries (audited)."
    )
    async def delete_webhook_endpoint(self, info: strawberry.Info, id: strawberry.ID) -> bool:
        return await rules.delete_endpoint(actor_of(info), decode_id(id, "WebhookEndpoint", "id"))

    @strawberry.mutation(
        extensions=[ADMINS],
        description="Admins: a new signing secret (returned this once); the old one also signs for "
        "previousValidSeconds (default a day) so receivers switch without a gap (audited).",
    )
    async def rotate_webhook_endpoint_secret(
        self, info: strawberry.Info, id: strawberry.ID, previous_valid_seconds: int = 86400
    ) -> WebhookEndpointWithSecret:
        view, secret = await rules.rotate_secret(
            actor_of(info), decode_id(id, "WebhookEndpoint", "id"), previous_valid_seconds
        )
        return WebhookEndpointWithSecret(endpoint=WebhookEndpoint.from_view(view), secret=secret)

    @strawberry.mutation(
        extensions=[ADMINS],
        description="Admins: send again one delivery (deliveryId), or an endpoint's deliveries made in "
        "[since, until) (endpointId); returns how many were queued (audited).",
    )
    async def replay_webhook_deliveries(
        self,
        info: strawberry.Info,
        delivery_id: strawberry.ID | None = None,
        endpoint_id: strawberry.ID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> int:
        return await rules.replay(
            actor_of(info),
            delivery_id=None if delivery_id is None else _uuid(delivery_id, "deliveryId"),
            endpoint_id=decode_optional_id(endpoint_id, "WebhookEndpoint", "endpointId"),
            since=since,
            until=until,
        )
