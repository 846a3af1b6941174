"""Everyone's own notifications: the in-app list, marking them read, preferences, and
`notificationEvents` live (rules in resolvers/notifications.py)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from core.events import CursorExpired, parse_cursor
from resolvers import notifications as rules
from resolvers.auth import require_user
from resolvers.errors import BadInput, CursorExpiredError
from schema.common import view_datetime
from schema.permissions import SIGNED_IN, actor_of
from schema.relay import decode_id, to_global_id


@strawberry.type
class Notification:
    id: strawberry.ID
    kind: str = strawberry.field(description="assignment, mention, customer_reply or alert")
    title: str
    body: str
    data: JSON = strawberry.field(description="conversation_id, message_id, alert_id… (database ids)")
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def from_view(cls, v: dict[str, Any]) -> Notification:
        return cls(
            id=to_global_id("Notification", v["id"]),
            kind=v["kind"],
            title=v["title"],
            body=v["body"],
            data=v["data"],
            created_at=view_datetime(v["created_at"]),  # type: ignore[arg-type]
            read_at=view_datetime(v["read_at"]),
        )


@strawberry.type
class NotificationEvent:
    cursor: str
    notification: Notification


@strawberry.type
class NotificationPreferences:
    muted_kinds: list[str]
    channels: list[str] = strawberry.field(description="email and/or slack; in-app is always on")
    slack_webhook_url: str | None
    timezone: str
    quiet_start: str | None = strawberry.field(description='"HH:MM" in `timezone`')
    quiet_end: str | None

    @classmethod
    def from_view(cls, v: dict[str, Any]) -> NotificationPreferences:
        return cls(
            muted_kinds=v["muted_kinds"],
            channels=v["channels"],
            slack_webhook_url=v["slack_webhook_url"],
            timezone=v["timezone"],
            quiet_start=v["quiet_start"],
            quiet_end=v["quiet_end"],
        )


@strawberry.input
class NotificationPreferencesInput:
    muted_kinds: list[str] = strawberry.field(default_factory=list)
    channels: list[str] = strawberry.field(default_factory=list)
    slack_webhook_url: str | None = None
    timezone: str = "UTC"
    quiet_start: str | None = None
    quiet_end: str | None = None


@strawberry.type
class NotificationQueries:
    @strawberry.field(extensions=[SIGNED_IN], description="Your notifications, newest first.")
    async def notifications(
        self, info: strawberry.Info, unread_only: bool = False, limit: int = 50
    ) -> list[Notification]:
        rows = await rules.list_notifications(actor_of(info), unread_only, limit)
        return [Notification.from_view(r) for r in rows]

    @strawberry.field(extensions=[SIGNED_IN], description="Your notification preferences.")
    async def notification_preferences(self, info: strawberry.Info) -> NotificationPreferences:
        return NotificationPreferences.from_view(await rules.preferences(actor_of(info)))


@strawberry.type
class NotificationMutations:
    @strawberry.mutation(
        extensions=[SIGNED_IN], description="Mark your notifications read (no ids: all); how many changed."
    )
    async def mark_notifications_read(
        self, info: strawberry.Info, ids: list[strawberry.ID] | None = None
    ) -> int:
        pks = None if ids is None else [decode_id(i, "Notification", "ids") for i in ids]
        return await rules.mark_read(actor_of(info), pks)

    @strawberry.mutation(extensions=[SIGNED_IN], description="Replace your notification preferences.")
    async def save_notification_preferences(
        self, info: strawberry.Info, input: NotificationPreferencesInput
    ) -> NotificationPreferences:
        saved = await rules.save_preferences(
            actor_of(info),
            muted_kinds=input.muted_kinds,
            channels=input.channels,
            slack_webhook_url=input.slack_webhook_url,
            timezone=input.timezone,
            quiet_start=input.quiet_start,
            quiet_end=input.quiet_end,
        )
        return NotificationPreferences.from_view(saved)


@strawberry.type
class NotificationSubscriptions:
    @strawberry.subscription(extensions=[SIGNED_IN], description="Your notifications as they are created.")
    async def notification_events(
        self, info: strawberry.Info, after: str | None = None
    ) -> AsyncGenerator[NotificationEvent, None]:
        actor = require_user(actor_of(info))
        try:
            cursor = parse_cursor(after)
        except ValueError as exc:
            raise BadInput(str(exc), field="after") from exc
        try:
            async for event in info.context.event_log.follow(
                rules.notification_stream(actor.user_id), cursor
            ):
                yield NotificationEvent(
                    cursor=str(event.seq), notification=Notification.from_view(event.payload["notification"])
                )
        except CursorExpired as exc:
            raise CursorExpiredError(str(exc)) from exc
