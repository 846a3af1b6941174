"""Demo mode: the fake WhatsApp numbers a person can play the customer on, and the mutation
that plays them (the demo's rules live in resolvers/demo.py)."""

from __future__ import annotations

import strawberry

from resolvers import auth as auth_rules
from resolvers import demo
from schema.channels import Channel
from schema.permissions import SIGNED_IN, actor_of
from schema.relay import decode_id


@strawberry.type
class DemoChannel:
    channel_id: strawberry.ID
    name: str
    phone_number_id: str


@strawberry.type
class Demo:
    enabled: bool
    channels: list[DemoChannel]


@strawberry.type
class DemoQueries:
    @strawberry.field(
        description="Demo mode: the fake WhatsApp numbers a person can play the customer on.",
        extensions=[SIGNED_IN],
    )
    async def demo(self, info: strawberry.Info) -> Demo:
        auth_rules.require_user(actor_of(info))
        channels = await demo.demo_channels()
        return Demo(
            enabled=demo.enabled(),
            channels=[
                DemoChannel(
                    channel_id=Channel.from_view(c).id,
                    name=c["name"],
                    phone_number_id=c["config"]["phone_number_id"],
                )
                for c in channels
            ],
        )


@strawberry.type
class DemoMutations:
    @strawberry.mutation(
        extensions=[SIGNED_IN],
        description="Demo mode: play the customer; the fake WhatsApp posts a real signed webhook.",
    )
    async def simulate_inbound_message(
        self, info: strawberry.Info, channel_id: strawberry.ID, wa_id: str, name: str, text: str
    ) -> bool:
        return await demo.simulate_inbound(
            actor_of(info), decode_id(channel_id, "Channel", "channelId"), wa_id=wa_id, name=name, text=text
        )
