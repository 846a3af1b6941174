"""Platform ROI: the price table, conversion labels, conversions and the cost report (rules in
resolvers/roi.py). Money travels as decimal strings ("0.0125"), never floats."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import strawberry

from resolvers import roi as roi_rules
from schema.common import Platform
from schema.permissions import ADMINS, SIGNED_IN, SUPERVISORS, actor_of
from schema.relay import decode_id, decode_optional_id, to_global_id


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


@strawberry.type
class PlatformPrice:
    platform: Platform
    kind: str = strawberry.field(
        description="service, inbound, or a template category (marketing, utility, ...)."
    )
    unit: str = strawberry.field(description="message (each) or conversation (once per conversation).")
    price: str
    currency: str


@strawberry.input
class PlatformPriceInput:
    platform: Platform
    kind: str
    unit: str = "message"
    price: str
    currency: str


@strawberry.type
class ConversionLabel:
    label: str
    value: str
    currency: str


@strawberry.input
class ConversionLabelInput:
    label: str
    value: str
    currency: str


@strawberry.type
class Conversion:
    id: strawberry.ID
    conversation_id: strawberry.ID
    value: str
    currency: str
    source: str
    created_at: datetime


@strawberry.type
class MoneyAmount:
    currency: str
    value: str


@strawberry.type
class PlatformCost:
    platform: Platform
    currency: str | None = strawberry.field(description="The price table's currency (null: no prices set).")
    messages: int = strawberry.field(
        description="Messages the platform took (inbound and outbound) in the range."
    )
    unpriced_messages: int = strawberry.field(description="Of those, messages of a kind with no price.")
    conversations: int
    cost: str
    conversions: int
    conversion_values: list[MoneyAmount]
    cost_per_conversation: str | None
    cost_per_conversion: str | None

    @classmethod
    def from_view(cls, v: dict[str, Any]) -> PlatformCost:
        return cls(
            platform=Platform(v["platform"]),
            currency=v["currency"],
            messages=v["messages"],
            unpriced_messages=v["unpriced_messages"],
            conversations=v["conversations"],
            cost=_money(v["cost"]) or "0",
            conversions=v["conversions"],
            conversion_values=[
                MoneyAmount(currency=c["currency"], value=_money(c["value"]) or "0")
                for c in v["conversion_values"]
            ],
            cost_per_conversation=_money(v["cost_per_conversation"]),
            cost_per_conversion=_money(v["cost_per_conversion"]),
        )


@strawberry.input
class DateRange:
    from_: datetime = strawberry.field(name="from", description="At or after.")
    to: datetime = strawberry.field(description="Before.")


@strawberry.input
class PlatformCostFilter:
    platform: Platform | None = None
    channel_id: strawberry.ID | None = None


def _price(row: dict[str, Any]) -> PlatformPrice:
    return PlatformPrice(
        platform=Platform(row["platform"]),
        kind=row["kind"],
        unit=row["unit"],
        price=_money(row["price"]) or "0",
        currency=row["currency"],
    )


def _label(row: dict[str, Any]) -> ConversionLabel:
    return ConversionLabel(label=row["label"], value=_money(row["value"]) or "0", currency=row["currency"])


@strawberry.type
class RoiQueries:
    @strawberry.field(extensions=[SUPERVISORS], description="Supervisors: the price table.")
    async def platform_prices(self, info: strawberry.Info) -> list[PlatformPrice]:
        return [_price(r) for r in await roi_rules.list_prices(actor_of(info))]

    @strawberry.field(
        extensions=[SUPERVISORS], description="Supervisors: which labels record a conversion, and its value."
    )
    async def conversion_labels(self, info: strawberry.Info) -> list[ConversionLabel]:
        return [_label(r) for r in await roi_rules.list_conversion_labels(actor_of(info))]

    @strawberry.field(
        extensions=[SUPERVISORS],
        description="Supervisors: per platform, what its messages cost and what its conversations converted.",
    )
    async def platform_costs(
        self, info: strawberry.Info, range: DateRange, filter: PlatformCostFilter | None = None
    ) -> list[PlatformCost]:
        filter = filter or PlatformCostFilter()
        rows = await roi_rules.platform_costs(
            actor_of(info),
            range.from_,
            range.to,
            platform=filter.platform.value if filter.platform else None,
            channel_id=decode_optional_id(filter.channel_id, "Channel", "filter.channelId"),
        )
        return [PlatformCost.from_view(r) for r in rows]


@strawberry.type
class RoiMutations:
    @strawberry.mutation(extensions=[ADMINS], description="Admins: replace the price table (one currency).")
    async def save_platform_prices(
        self, info: strawberry.Info, prices: list[PlatformPriceInput]
    ) -> list[PlatformPrice]:
        rows = await roi_rules.save_prices(
            actor_of(info),
            [
                {
                    "platform": p.platform.value,
                    "kind": p.kind,
                    "unit": p.unit,
                    "price": p.price,
                    "currency": p.currency,
                }
                for p in prices
            ],
        )
        return [_price(r) for r in rows]

    @strawberry.mutation(
        extensions=[ADMINS],
        description="Admins: replace which labels record a conversion (once per conversation) and its value.",
    )
    async def save_conversion_labels(
        self, info: strawberry.Info, labels: list[ConversionLabelInput]
    ) -> list[ConversionLabel]:
        rows = await roi_rules.save_conversion_labels(
            actor_of(info), [{"label": x.label, "value": x.value, "currency": x.currency} for x in labels]
        )
        return [_label(r) for r in rows]

    @strawberry.mutation(
        extensions=[SIGNED_IN], description="A conversion (a sale, a sign-up) in a conversation."
    )
    async def record_conversion(
        self,
        info: strawberry.Info,
        conversation_id: strawberry.ID,
        value: str,
        currency: str,
        # `source` is the GraphQL name; the Python one must not shadow the field extensions' own.
        origin: Annotated[
            str, strawberry.argument(name="source", description="Where it came from: checkout, crm, ...")
        ] = "manual",
    ) -> Conversion:
        row = await roi_rules.record_conversion(
            actor_of(info),
            decode_id(conversation_id, "Conversation", "conversationId"),
            value,
            currency,
            origin,
        )
        return Conversion(
            id=to_global_id("Conversion", row["id"]),
            conversation_id=to_global_id("Conversation", row["conversation_id"]),
            value=_money(row["value"]) or "0",
            currency=row["currency"],
            source=row["source"],
            created_at=row["created_at"],
        )
