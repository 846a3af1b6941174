"""Notifications: read the event log and notify (woken as events are published, core/wake.py;
the upkeep timer and alert evaluations as a safety net), and
send each e-mail/Slack delivery; a failed send retries with backoff (resolvers/notifications.py
keeps the state, so a retry or a duplicate job sends at most once per claim)."""

from __future__ import annotations

from core import tasks
from resolvers import notifications


@tasks.NOTIFY_FROM_EVENTS.actor(max_retries=0)
async def notify_from_events(wait: bool = False) -> None:
    """`wait`: woken by new events (core/wake.py), so wait for a cursor another worker holds."""
    due = await notifications.notify_from_events(wait=wait)
    for delivery_id in [*due, *await notifications.due_deliveries()]:
        tasks.DELIVER_NOTIFICATION.send(delivery_id)


@tasks.DELIVER_NOTIFICATION.actor(max_retries=4, min_backoff=2000, max_backoff=60000)
async def deliver_notification(delivery_id: int) -> None:
    await notifications.deliver(delivery_id)
