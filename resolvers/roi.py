"""Platform ROI: what each platform costs us and what it brings.

Prices are per platform and message kind: `service` (a free-form outbound message), `inbound`,
or the category of a WhatsApp template sent (`marketing`, `utility`, `authentication`: WhatsApp's
conversation categories, read from the synced template catalogue). A price's `unit` is `message`
(each message of that kind) or `conversation` (once per conversation that had a message of that
kind in the range: WhatsApp bills a category once per conversation window; we approximate the
window by the conversation). Only messages a platform took count: failed and still-queued sends
do not. Conversions come from `recordConversion`, from a label configured as a conversion
(once per conversation and label), or from a flow step (`record_conversion(source="flow")`).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from core.auth import Actor
from core.sql import fetch, in_transaction
from core.vocabulary import Platform
from resolvers.auth import require_admin, require_supervisor, require_user
from resolvers.conversations import get_conversation
from resolvers.errors import BadInput

UNITS = ("message", "conversation")
MAX_RANGE = timedelta(days=366)
_KIND = re.compile(r"^[a-z][a-z_]{0,31}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_SOURCE = re.compile(r"^[A-Za-z0-9_.:-]{1,32}$")
_SIX = Decimal("0.000001")


def _amount(text: str, field: str, *, places: int = 6) -> Decimal:
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise BadInput(f"{field} is a decimal number like 0.0125", field=field) from None
    if not value.is_finite() or value < 0 or value >= Decimal(10) ** 8:
        raise BadInput(f"{field} is a number from 0 to 99999999", field=field)
    return value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


def _currency(text: str, field: str = "currency") -> str:
    if not _CURRENCY.match(text or ""):
        raise BadInput(f"{field} is an ISO 4217 code like USD", field=field)
    return text


async def save_prices(actor: Actor | None, prices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Replace the price table. One currency for all of it, so costs add up."""
    require_admin(actor)
    if len(prices) > 500:
        raise BadInput("at most 500 prices", field="prices")
    rows, seen = [], set()
    for i, p in enumerate(prices):
        where = f"prices[{i}]"
        if p["platform"] not in {x.value for x in Platform}:
            raise BadInput(f"{where}.platform is not a platform", field=f"{where}.platform")
        if not _KIND.match(p["kind"]):
            raise BadInput(f"{where}.kind is lower-case letters, e.g. marketing", field=f"{where}.kind")
        if p["unit"] not in UNITS:
            raise BadInput(f"{where}.unit is message or conversation", field=f"{where}.unit")
        if (p["platform"], p["kind"]) in seen:
            raise BadInput(f"{where} prices {p['platform']}/{p['kind']} twice", field=where)
        seen.add((p["platform"], p["kind"]))
        rows.append(
            (
                p["platform"],
                p["kind"],
                p["unit"],
                _amount(p["price"], f"{where}.price"),
                _currency(p["currency"], f"{where}.currency"),
            )
        )
    if len({r[4] for r in rows}) > 1:
        raise BadInput("all prices are in one currency", field="prices")
    async with in_transaction() as conn:
        await conn.execute_query("DELETE FROM platform_prices")
        for row in rows:
            await conn.execute_query(
                "INSERT INTO platform_prices (platform, kind, unit, price, currency, updated_at) "
                "VALUES ($1, $2, $3, $4, $5, now())",
                list(row),
            )
    return await list_prices(actor)


async def list_prices(actor: Actor | None) -> list[dict[str, Any]]:
    require_supervisor(actor)
    return await fetch(
        "SELECT platform, kind, unit, price, currency FROM platform_prices ORDER BY platform, kind"
    )


async def save_conversion_labels(actor: Actor | None, labels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Replace which labels mean a conversion, and what one is worth."""
    require_admin(actor)
    if len(labels) > 100:
        raise BadInput("at most 100 conversion labels", field="labels")
    rows = []
    for i, item in enumerate(labels):
        label = item["label"].strip().lower()  # labels are stored lower-case (resolvers/lifecycle.py)
        if not 1 <= len(label) <= 50:
            raise BadInput(f"labels[{i}].label is 1 to 50 characters", field=f"labels[{i}].label")
        rows.append(
            (label, _amount(item["value"], f"labels[{i}].value", places=2), _currency(item["currency"]))
        )
    async with in_transaction() as conn:
        await conn.execute_query("DELETE FROM conversion_labels")
        for row in rows:
            await conn.execute_query(
                "INSERT INTO conversion_labels (label, value, currency) VALUES ($1, $2, $3) "
                "ON CONFLICT (label) DO UPDATE SET value = $2, currency = $3",
                list(row),
            )
    return await list_conversion_labels(actor)


async def list_conversion_labels(actor: Actor | None) -> list[dict[str, Any]]:
    require_supervisor(actor)
    return await fetch("SELECT label, value, currency FROM conversion_labels ORDER BY label")


async def record_conversion(
    actor: Actor | None,
    conversation_id: int,
    value: str,
    currency: str,
    source: str = "manual",
    dedupe_key: str | None = None,
) -> dict[str, Any]:
    """A conversion in a conversation. With `dedupe_key` (a flow step's run and node) it counts once."""
    if actor is not None or source != "flow":
        await get_conversation(require_user(actor), conversation_id)  # exists, and may be read
    if not _SOURCE.match(source or ""):
        raise BadInput("source is 1 to 32 letters, digits or _.:-", field="source")
    rows = await fetch(
        "INSERT INTO conversions (conversation_id, value, currency, source, dedupe_key, recorded_by_id, created_at) "
        "SELECT id, $2, $3, $4, $5, $6, now() FROM conversations WHERE id = $1 "
        "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, conversation_id, value, currency, source, created_at",
        conversation_id,
        _amount(value, "value", places=2),
        _currency(currency),
        source,
        dedupe_key,
        actor.user_id if actor else None,
    )
    if not rows:
        rows = await fetch(
            "SELECT id, conversation_id, value, currency, source, created_at FROM conversions WHERE dedupe_key = $1",
            dedupe_key,
        )
    return rows[0]


async def labels_added(conversation_id: int, labels: list[str]) -> int:
    """Labels configured as conversions record one each, once per conversation (lifecycle hook)."""
    if not labels:
        return 0
    rows = await fetch(
        "INSERT INTO conversions (conversation_id, value, currency, source, dedupe_key, created_at) "
        "SELECT $1::int, l.value, l.currency, 'label', 'label:' || $1::int || ':' || l.label, now() "
        "FROM conversion_labels l WHERE l.label = ANY($2::text[]) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
        conversation_id,
        [label.lower() for label in labels],
    )
    return len(rows)


# ---- the report -----------------------------------------------------------------------------

_PRICED_MESSAGES = """
WITH msgs AS (
    SELECT m.platform, m.conversation_id,
        CASE WHEN m.direction = 'inbound' THEN 'inbound'
             WHEN m.kind = 'template' THEN lower(COALESCE(m.metadata->'template'->>'category', wt.category, 'template'))
             ELSE 'service' END AS kind
    FROM messages m
    LEFT JOIN whatsapp_templates wt ON m.kind = 'template' AND wt.channel_id = m.channel_id
        AND wt.name = m.metadata->'template'->>'name' AND wt.language = m.metadata->'template'->>'language'
    WHERE m.created_at >= $1 AND m.created_at < $2 AND m.direction IN ('inbound', 'outbound')
        AND m.status NOT IN ('queued', 'failed') AND ($3::text IS NULL OR m.platform = $3)
        AND ($4::int IS NULL OR m.channel_id = $4)
), kinds AS (
    SELECT platform, kind, count(*) AS n, count(DISTINCT conversation_id) AS convs FROM msgs GROUP BY 1, 2
)
SELECT k.platform, sum(k.n)::int AS messages,
    COALESCE(sum(CASE WHEN p.unit = 'conversation' THEN k.convs ELSE k.n END * p.price), 0) AS cost,
    COALESCE(sum(k.n) FILTER (WHERE p.id IS NULL), 0)::int AS unpriced_messages,
    (SELECT count(DISTINCT conversation_id) FROM msgs WHERE msgs.platform = k.platform)::int AS conversations
FROM kinds k LEFT JOIN platform_prices p ON p.platform = k.platform AND p.kind = k.kind
GROUP BY k.platform
"""
_CONVERSIONS = """
SELECT c.platform, v.currency, count(*)::int AS conversions, sum(v.value) AS value
FROM conversions v JOIN conversations c ON c.id = v.conversation_id
WHERE v.created_at >= $1 AND v.created_at < $2 AND ($3::text IS NULL OR c.platform = $3)
    AND ($4::int IS NULL OR c.channel_id = $4)
GROUP BY 1, 2
"""


async def platform_costs(
    actor: Actor | None,
    since: datetime,
    until: datetime,
    platform: str | None = None,
    channel_id: int | None = None,
) -> list[dict[str, Any]]:
    """Per platform: messages, conversations, cost, conversions, cost per conversation and per
    conversion, in the price table's currency (conversion values in other currencies are listed
    apart, never converted)."""
    require_supervisor(actor)
    if since.tzinfo is None or until.tzinfo is None:
        raise BadInput("since and until need a time zone", field="since")
    if not since < until or until - since > MAX_RANGE:
        raise BadInput(
            f"the range is positive and at most {MAX_RANGE.days} days", field="until", limit=MAX_RANGE.days
        )
    args = (since, until, platform, channel_id)
    costs = {r["platform"]: r for r in await fetch(_PRICED_MESSAGES, *args)}
    conversions: dict[str, list[dict[str, Any]]] = {}
    for row in await fetch(_CONVERSIONS, *args):
        conversions.setdefault(row["platform"], []).append(row)
    currency_rows = await fetch("SELECT DISTINCT currency FROM platform_prices")
    currency = currency_rows[0]["currency"] if currency_rows else None
    result = []
    for name in sorted(set(costs) | set(conversions)):
        cost_row = costs.get(name, {})
        cost = Decimal(cost_row.get("cost") or 0).quantize(_SIX)
        conv_rows = conversions.get(name, [])
        count = sum(r["conversions"] for r in conv_rows)
        n_conversations = cost_row.get("conversations", 0)
        result.append(
            {
                "platform": name,
                "currency": currency,
                "messages": cost_row.get("messages", 0),
                "unpriced_messages": cost_row.get("unpriced_messages", 0),
                "conversations": n_conversations,
                "cost": cost,
                "conversions": count,
                "conversion_values": [
                    {"currency": r["currency"], "value": Decimal(r["value"]).quantize(Decimal("0.01"))}
                    for r in conv_rows
                ],
                "cost_per_conversation": (cost / n_conversations).quantize(_SIX) if n_conversations else None,
                "cost_per_conversion": (cost / count).quantize(_SIX) if count else None,
            }
        )
    return result
