"""What operators look at: liveness, readiness, metrics, and one structured log line per request."""

from __future__ import annotations

import httpx

from tests.helpers import post_webhook, wa_text_payload


async def test_health_readiness_and_metrics(server, wa):
    channel, secrets, _ = wa
    body = wa_text_payload(channel.config["phone_number_id"], "5511955550000", "count me")
    assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200
    async with httpx.AsyncClient() as client:
        health = await client.get(f"{server}/healthz")
        ready = await client.get(f"{server}/readyz")
        metrics = await client.get(f"{server}/metrics")
    assert health.status_code == 200
    assert ready.status_code == 200 and ready.json()["checks"]["database"] is True
    assert 'pytake_messages_in_total{platform="whatsapp"}' in metrics.text
    assert "pytake_http_request_seconds_bucket" in metrics.text
    assert health.headers["x-request-id"]
