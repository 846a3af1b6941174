"""Customers and their identities on each platform, and merging or splitting them across
platforms (rules in resolvers/customers.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from connectors.base import Platform as _Platform
from resolvers import customers as customer_rules
from schema.common import Platform
from schema.permissions import SIGNED_IN, actor_of
from schema.relay import Node, decode_id, to_global_id


@strawberry.type
class Identity:
    id: strawberry.ID
    platform: Platform
    channel_id: strawberry.ID
    external_id: str
    display_name: str | None
    phone: str | None
    email: str | None
    last_inbound_at: datetime | None


@strawberry.type(
    description="What is known about a customer by name: set by flows (`set` with `attribute`) or by "
    "hand (`setCustomerAttribute`)."
)
class CustomerAttribute:
    name: str
    value: str
    updated_at: datetime


@strawberry.type
class Customer(Node):
    id: strawberry.ID
    name: str | None
    phone: str | None
    email: str | None
    pk: strawberry.Private[int]

    @classmethod
    def from_view(cls, v: Any) -> Customer:
        return cls(
            id=to_global_id("Customer", v["id"]),
            pk=v["id"],
            name=v["name"],
            phone=v["phone"],
            email=v["email"],
        )

    @strawberry.field(description="Custom attributes (set by flows or by hand), by name.")
    async def attributes(self, info: strawberry.Info) -> list[CustomerAttribute]:
        rows = await info.context.loaders.attributes.load(self.pk)
        return [CustomerAttribute(name=r["name"], value=r["value"], updated_at=r["updated_at"]) for r in rows]

    @strawberry.field
    async def identities(self, info: strawberry.Info) -> list[Identity]:
        rows = await info.context.loaders.identities.load(self.pk)
        return [
            Identity(
                id=to_global_id("Identity", r["id"]),
                platform=_Platform(r["platform"]),
                channel_id=to_global_id("Channel", r["channel_id"]),
                external_id=r["external_id"],
                display_name=r["display_name"],
                phone=r["phone"],
                email=r["email"],
                last_inbound_at=r["last_inbound_at"],
            )
            for r in rows
        ]


@strawberry.type
class CustomerMutations:
    @strawberry.mutation(
        extensions=[SIGNED_IN],
        description="Merge two customers known on different platforms into one: identities and "
        "conversations of `sourceId` move to `targetId` (audited; undo with splitIdentity).",
    )
    async def merge_customers(
        self, info: strawberry.Info, source_id: strawberry.ID, target_id: strawberry.ID
    ) -> Customer:
        view = await customer_rules.merge_customers(
            actor_of(info),
            source_id=decode_id(source_id, "Customer", "sourceId"),
            target_id=decode_id(target_id, "Customer", "targetId"),
        )
        return Customer.from_view(view)

    @strawberry.mutation(
        extensions=[SIGNED_IN],
        description="Set one custom attribute of a customer you can see, or remove it with `value: null` "
        "(audited by name). `name`: 1-40 of a-z, 0-9 and _, not starting with a digit (what flows read "
        "as {{customer.<name>}}); `value`: 1-4096 characters. CONFLICT on a merged-away customer.",
    )
    async def set_customer_attribute(
        self, info: strawberry.Info, customer_id: strawberry.ID, name: str, value: str | None = None
    ) -> Customer:
        view = await customer_rules.set_customer_attribute(
            actor_of(info),
            customer_id=decode_id(customer_id, "Customer", "customerId"),
            name=name,
            value=value,
        )
        return Customer.from_view(view)

    @strawberry.mutation(
        extensions=[SIGNED_IN],
        description="Move one identity (and the conversations that started on it) to a new customer (audited).",
    )
    async def split_identity(self, info: strawberry.Info, identity_id: strawberry.ID) -> Customer:
        view = await customer_rules.split_identity(
            actor_of(info), identity_id=decode_id(identity_id, "Identity", "identityId")
        )
        return Customer.from_view(view)
