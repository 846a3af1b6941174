"""Outgoing webhooks through Dramatiq: the tick (fan out the event log, start due sends, schedule
the next tick) and one endpoint's sends. Retries are the deliveries' own (resolvers/webhook_delivery.py
backs off per delivery and records every attempt), so a failed job is not retried by Dramatiq."""

from __future__ import annotations

from core import tasks
from resolvers import outgoing_webhooks


@tasks.WEBHOOKS_TICK.actor(max_retries=0, time_limit=120_000)
async def webhooks_tick(token: str | None = None) -> None:
    await outgoing_webhooks.tick(token)


@tasks.DELIVER_WEBHOOKS.actor(max_retries=0, time_limit=600_000)
async def deliver_webhooks(endpoint_id: int) -> None:
    await outgoing_webhooks.deliver(endpoint_id)
