"""Batch loads for the schema's DataLoaders: one query per kind, whatever the page size.

Each takes a list of ids and answers a list in the same order (None, or [] for groups, where
nothing is found), as `strawberry.dataloader.DataLoader` expects.
"""

from __future__ import annotations

from typing import Any

from core.sql import fetch
from models import Channel
from resolvers.shapes import MESSAGE_COLUMNS, message_view
from resolvers.sla import timers_by_conversation

__all__ = ["timers_by_conversation"]  # the SLA rules' own batch read, a loader like the others


async def customers_by_id(ids: list[int]) -> list[dict[str, Any] | None]:
    rows = await fetch("SELECT id, name, phone, email FROM customers WHERE id = ANY($1::int[])", ids)
    found = {r["id"]: r for r in rows}
    return [found.get(i) for i in ids]


async def identities_by_customer(ids: list[int]) -> list[list[dict[str, Any]]]:
    rows = await fetch(
        "SELECT id, customer_id, channel_id, platform, external_id, display_name, phone, email, last_inbound_at "
        "FROM customer_identities "
        "WHERE customer_id = ANY($1::int[]) ORDER BY id",
        ids,
    )
    grouped: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for r in rows:
        grouped[r["customer_id"]].append(r)
    return [grouped[i] for i in ids]


async def attributes_by_customer(ids: list[int]) -> list[list[dict[str, Any]]]:
    """The attributes flows set on each customer (`set_attribute`), by name."""
    rows = await fetch(
        "SELECT customer_id, name, value, updated_at FROM customer_attributes "
        "WHERE customer_id = ANY($1::int[]) ORDER BY name",
        ids,
    )
    grouped: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for r in rows:
        grouped[r["customer_id"]].append(r)
    return [grouped[i] for i in ids]


async def users_by_id(ids: list[int]) -> list[dict[str, Any] | None]:
    rows = await fetch(
        "SELECT id, email, name, role, is_active, presence, capacity, skills, sees_all_conversations "
        "FROM users WHERE id = ANY($1::int[])",
        ids,
    )
    found = {r["id"]: r for r in rows}
    return [found.get(i) for i in ids]


async def messages_by_id(ids: list[int]) -> list[dict[str, Any] | None]:
    rows = await fetch(f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ANY($1::bigint[])", ids)
    found = {r["id"]: message_view(r) for r in rows}
    return [found.get(i) for i in ids]


async def channels_by_id(ids: list[int]) -> list[Channel | None]:
    found = {c.id: c for c in await Channel.filter(id__in=ids)}
    return [found.get(i) for i in ids]
