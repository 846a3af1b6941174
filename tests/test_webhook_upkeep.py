"""Outgoing webhook deliveries are not kept for ever: the maintenance job deletes finished ones (and
their attempts) older than WEBHOOK_DELIVERY_RETENTION_DAYS; pending ones stay whatever their age.
With message bodies sealed at rest, a delivery's stored body is sealed too, and goes out in plaintext."""

from __future__ import annotations

import uuid
from dataclasses import replace

from core import crypto
from core.settings import get_settings
from core.sql import fetch
from resolvers.webhook_delivery import prune_deliveries
from schema.relay import parse_global_id
from tests.helpers import eventually
from tests.test_outgoing_webhooks import (  # noqa: F401  (fixtures)
    admin,
    customer_writes,
    delivery,
    no_endpoints_left,
    real_clock,
    receiver,
    save_endpoint,
    verify,
)


async def test_finished_deliveries_older_than_the_retention_are_deleted(server, wa, receiver, admin):  # noqa: F811
    token, _ = admin
    endpoint, _ = await save_endpoint(server, token, receiver.url, wa[0].id)
    endpoint_id = parse_global_id(endpoint)[1]
    await customer_writes(server, wa, "old news")
    old = await delivery(endpoint, lambda d: d["status"] == "succeeded")
    await customer_writes(server, wa, "fresh news")
    fresh = await delivery(endpoint, lambda d: d["status"] == "succeeded" and d["id"] != old["id"])
    days = get_settings().webhook_delivery_retention_days
    await fetch(
        "UPDATE webhook_deliveries SET created_at = now() - make_interval(days => $2::int + 1) WHERE id = $1",
        old["id"],
        int(days),
    )
    waiting = await fetch(  # pending for longer than the retention: still owed to the receiver
        "INSERT INTO webhook_deliveries (delivery_id, endpoint_id, event_type, body, status, next_attempt_at, "
        "created_at) VALUES ($1, $2, 'message.created', '{}', 'pending', now() + interval '1 day', "
        "now() - make_interval(days => $3::int + 1)) RETURNING id",
        uuid.uuid4(),
        endpoint_id,
        int(days),
    )
    assert await fetch("SELECT 1 FROM webhook_attempts WHERE delivery_id = $1", old["id"])

    assert await prune_deliveries(days) >= 1
    left = {
        r["id"] for r in await fetch("SELECT id FROM webhook_deliveries WHERE endpoint_id = $1", endpoint_id)
    }
    assert old["id"] not in left and {fresh["id"], waiting[0]["id"]} <= left
    assert await fetch("SELECT 1 FROM webhook_attempts WHERE delivery_id = $1", old["id"]) == []


async def test_sealed_delivery_bodies_go_out_in_plaintext(server, wa, receiver, admin, monkeypatch):  # noqa: F811
    settings = replace(get_settings(), encrypt_message_bodies=True)
    monkeypatch.setattr(crypto, "get_settings", lambda: settings)
    token, _ = admin
    endpoint, secret = await save_endpoint(server, token, receiver.url, wa[0].id)
    word = f"lemur{uuid.uuid4().hex[:8]}"
    await customer_writes(server, wa, f"sealed {word}")
    stored = await delivery(endpoint, lambda d: d["status"] == "succeeded")
    assert stored["body"].startswith(crypto.SEALED) and word not in stored["body"]

    async def received() -> list:
        return [r for r in receiver.accepted() if word.encode() in r.body]

    sent = await eventually(received, timeout=30)
    assert verify(secret, sent[0]) and sent[0].json["data"]["message"]["text"] == f"sealed {word}"
