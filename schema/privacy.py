"""Customers' personal data (LGPD / GDPR), for admins: exports downloadable through a signed link,
erasure, and message retention per channel (rules in resolvers/privacy.py, resolvers/erasure.py,
resolvers/retention.py)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import strawberry

from resolvers import erasure, privacy, retention
from schema.downloads import link_base, signed_link
from schema.permissions import ADMINS, actor_of
from schema.relay import decode_id, to_global_id


@strawberry.enum
class CustomerExportStatus(enum.Enum):
    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"
    EXPIRED = "expired"
    ERASED = "erased"


@strawberry.type
class CustomerExport:
    id: strawberry.ID
    customer_id: strawberry.ID
    status: CustomerExportStatus
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    download_url: str | None = strawberry.field(
        description="While READY: a signed link to the JSON file, for the admin who asked; it expires "
        "(`downloadExpiresAt`), ask again for a fresh one."
    )
    download_expires_at: datetime | None

    @classmethod
    def from_row(cls, row: dict[str, Any], user_id: int, request: Any) -> CustomerExport:
        url, expires = (
            signed_link("customer_export", row["id"], user_id, link_base(request))
            if row["status"] == "ready"
            else (None, None)
        )
        return cls(
            id=to_global_id("CustomerExport", row["id"]),
            customer_id=to_global_id("Customer", row["customer_id"]),
            status=CustomerExportStatus(row["status"]),
            error=row["error"],
            created_at=row["created_at"],
            finished_at=row["finished_at"],
            download_url=url,
            download_expires_at=expires,
        )


@strawberry.type
class CustomerErasure:
    customer_id: strawberry.ID
    conversations: int
    identities: int
    messages: int
    events: int = strawberry.field(description="Event-log entries rewritten.")
    exports: int = strawberry.field(description="Exports of this customer whose file was dropped.")


@strawberry.type
class RetentionPolicy:
    channel_id: strawberry.ID
    message_body_days: int | None = strawberry.field(
        description="Message bodies older than this are removed (the messages stay); null keeps them."
    )


def _retention(row: dict[str, Any]) -> RetentionPolicy:
    return RetentionPolicy(
        channel_id=to_global_id("Channel", row["channel_id"]), message_body_days=row["message_body_days"]
    )


@strawberry.type
class PrivacyQueries:
    @strawberry.field(
        extensions=[ADMINS], description="Admins: an export's status and, once ready, its link."
    )
    async def customer_export(self, info: strawberry.Info, id: strawberry.ID) -> CustomerExport:
        actor = actor_of(info)
        row = await privacy.get_export(actor, decode_id(id, "CustomerExport"))
        return CustomerExport.from_row(row, actor.user_id, info.context.request)  # type: ignore[union-attr]

    @strawberry.field(extensions=[ADMINS], description="Admins: the channels that have a retention policy.")
    async def retention_policies(self, info: strawberry.Info) -> list[RetentionPolicy]:
        return [_retention(r) for r in await retention.list_retention(actor_of(info))]


@strawberry.type
class PrivacyMutations:
    @strawberry.mutation(
        extensions=[ADMINS],
        description="Admins: build a JSON file of everything kept about a customer (identities, "
        "conversations, messages, attachment references, CSAT, audit entries) in the background; "
        "poll `customerExport(id)` for the link (audited).",
    )
    async def request_customer_export(
        self, info: strawberry.Info, customer_id: strawberry.ID
    ) -> CustomerExport:
        actor = actor_of(info)
        row = await privacy.request_export(actor, decode_id(customer_id, "Customer", "customerId"))
        return CustomerExport.from_row(row, actor.user_id, info.context.request)  # type: ignore[union-attr]

    @strawberry.mutation(
        extensions=[ADMINS],
        description="Admins: anonymise a customer for good: names, phones, e-mails, handles, message "
        "bodies, attachment references, event-log payloads; counts, timestamps and statuses stay. "
        "The reason is kept in the audit log, so it must not quote the customer's data.",
    )
    async def erase_customer(
        self, info: strawberry.Info, customer_id: strawberry.ID, reason: str
    ) -> CustomerErasure:
        done = await erasure.erase_customer(
            actor_of(info), decode_id(customer_id, "Customer", "customerId"), reason
        )
        return CustomerErasure(
            customer_id=to_global_id("Customer", done["customer_id"]),
            conversations=done["conversations"],
            identities=done["identities"],
            messages=done["messages"],
            events=done["events"],
            exports=done["exports"],
        )

    @strawberry.mutation(
        extensions=[ADMINS],
        description="Admins: keep this channel's message bodies `messageBodyDays` days (null: for ever) (audited).",
    )
    async def set_channel_retention(
        self, info: strawberry.Info, channel_id: strawberry.ID, message_body_days: int | None = None
    ) -> RetentionPolicy:
        row = await retention.set_retention(
            actor_of(info), decode_id(channel_id, "Channel", "channelId"), message_body_days
        )
        return _retention(row)
