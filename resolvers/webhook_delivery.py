"""Sending outgoing webhooks: claim the next delivery that may go, sign it, POST it, record the
attempt, and schedule the retry or give up.

Order per conversation: a delivery is claimed only when no older delivery of the same endpoint and
conversation is still pending, so a conversation's events arrive in the order they happened even
while one of them is being retried (events of other conversations are not held up). The claim is a
lease (`lease_until`) taken with `FOR UPDATE SKIP LOCKED`, so any number of workers deliver at once
without sending one delivery twice or two of a conversation out of order; a worker that dies mid-send
leaves a lease that runs out, and the delivery is tried again (receivers dedupe on the delivery id).

Retries back off exponentially (RETRY_BASE doubling, at most RETRY_CAP apart) for RETRY_WINDOW after
the delivery was made, then it is `failed`. An endpoint whose attempts have all failed for
DISABLE_AFTER is disabled, with an audit entry naming its owner.

Time comes from `clock`, which tests move forward instead of waiting a day.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from core.crypto import decrypt_secrets, open_body
from core.sql import fetch, fetchrow, in_transaction
from resolvers import audit, ssrf

log = logging.getLogger(__name__)

RETRY_BASE = timedelta(seconds=10)
RETRY_CAP = timedelta(hours=1)
RETRY_WINDOW = timedelta(days=1)
DISABLE_AFTER = timedelta(days=1)
LEASE = timedelta(seconds=60)  # longer than a request may take
REQUEST_TIMEOUT = 10.0
SIGNATURE_HEADER = "PyTake-Signature"
USER_AGENT = "PyTake-Webhooks/1"


class Clock:
    """Wall time plus an offset tests can move (the in-process worker shares it)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


clock = Clock()


def sign(secrets: list[str], timestamp: int, body: bytes) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">` with one v1 per valid secret (two while
    a rotated-out secret is still honoured), in the style of Stripe's scheme."""
    signed = str(timestamp).encode() + b"." + body
    parts = [f"t={timestamp}"]
    parts += [f"v1={hmac.new(s.encode(), signed, hashlib.sha256).hexdigest()}" for s in secrets]
    return ",".join(parts)


def signing_secrets(secrets_encrypted: str, previous_expires_at: datetime | None, now: datetime) -> list[str]:
    stored = decrypt_secrets(secrets_encrypted)
    found = [stored["current"]]
    if stored.get("previous") and previous_expires_at is not None and previous_expires_at > now:
        found.append(stored["previous"])
    return found


def backoff(attempt: int) -> timedelta:
    """The wait after the `attempt`-th failure, with up to 10% jitter so that many deliveries
    failing together do not all come back at the same second."""
    wait = min(RETRY_BASE * (2 ** (attempt - 1)), RETRY_CAP)
    return wait * (1 + random.random() / 10)


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    started_at: datetime
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


_CLAIM = """
UPDATE webhook_deliveries d SET lease_until = $2, attempts = d.attempts + 1
FROM webhook_endpoints e
WHERE e.id = d.endpoint_id AND e.enabled AND d.id = (
    SELECT h.id FROM webhook_deliveries h
    WHERE h.endpoint_id = $1 AND h.status = 'pending' AND h.next_attempt_at <= $3
      AND (h.lease_until IS NULL OR h.lease_until < $3)
      AND NOT EXISTS (
          SELECT 1 FROM webhook_deliveries p
          WHERE p.endpoint_id = h.endpoint_id AND p.conversation_id = h.conversation_id
            AND p.status = 'pending' AND p.id < h.id)
    ORDER BY h.id LIMIT 1 FOR UPDATE OF h SKIP LOCKED)
RETURNING d.id, d.delivery_id::text AS delivery_id, d.event_type, d.body, d.attempts, d.created_at,
          e.id AS endpoint_id, e.url, e.secrets_encrypted, e.previous_expires_at, e.allow_private_network
"""


async def deliver_next(endpoint_id: int) -> bool:
    """Send one due delivery of the endpoint, if one may go now; False when none may."""
    now = clock.now()
    claimed = await fetchrow(_CLAIM, endpoint_id, now + LEASE, now)
    if claimed is None:
        return False
    outcome = await _send(claimed, now)
    await _record(claimed, outcome)
    return True


async def _send(claimed: dict[str, Any], now: datetime) -> Outcome:
    plain = open_body(claimed["body"])  # sealed at rest when message bodies are (core/crypto.py)
    body = (plain or "").encode()
    started = clock.now()
    began = time.perf_counter()

    def done(status: int | None, error: str | None) -> Outcome:
        return Outcome(status, error, started, int((time.perf_counter() - began) * 1000))

    if plain is None:
        return done(None, "the body is sealed with a key no longer in ENCRYPTION_KEYS")
    try:  # checked again at every attempt: the name may resolve elsewhere by now
        target = await ssrf.check(claimed["url"], allow_private=claimed["allow_private_network"])
    except ssrf.UnsafeUrl as exc:
        return done(None, f"refused: {exc.message}"[:500])
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Host": urlsplit(target.url).netloc,  # the name as written: the request goes to its checked address
        "PyTake-Delivery": claimed["delivery_id"],
        "PyTake-Event": claimed["event_type"],
        SIGNATURE_HEADER: sign(
            signing_secrets(claimed["secrets_encrypted"], claimed["previous_expires_at"], now),
            timestamp,
            body,
        ),
    }
    try:
        async with _client() as client:
            response = await client.post(
                target.pinned(), content=body, headers=headers, extensions={"sni_hostname": target.host}
            )
        return done(response.status_code, None if response.is_success else f"HTTP {response.status_code}")
    except httpx.TimeoutException:
        return done(None, f"timed out after {REQUEST_TIMEOUT:g} s")
    except httpx.HTTPError as exc:
        return done(None, f"{type(exc).__name__}: {exc}"[:500])


def _client() -> httpx.AsyncClient:
    # One connection per request, never pooled: the pool is keyed by address, and two endpoints'
    # names on one address must not share a connection (each has its own TLS name). No proxies
    # from the environment, no redirects: the checked address is the one reached.
    return httpx.AsyncClient(
        timeout=httpx.Timeout(REQUEST_TIMEOUT, connect=5.0), trust_env=False, follow_redirects=False
    )


async def _record(claimed: dict[str, Any], outcome: Outcome) -> None:
    now = clock.now()
    async with in_transaction() as conn:
        # The endpoint may have been deleted while this was in flight: then there is nothing to record.
        recorded = await conn.execute_query_dict(
            "INSERT INTO webhook_attempts (delivery_id, started_at, duration_ms, status_code, error, succeeded) "
            "SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM webhook_deliveries WHERE id = $1) RETURNING id",
            [
                claimed["id"],
                outcome.started_at,
                outcome.duration_ms,
                outcome.status_code,
                outcome.error,
                outcome.succeeded,
            ],
        )
        if not recorded:
            return
        if outcome.succeeded:
            await conn.execute_query(
                "UPDATE webhook_deliveries SET status = 'succeeded', delivered_at = $2, lease_until = NULL, "
                "last_status_code = $3, last_error = NULL WHERE id = $1",
                [claimed["id"], now, outcome.status_code],
            )
            await conn.execute_query(
                "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL",
                [claimed["endpoint_id"]],
            )
            return
        gave_up = now - claimed["created_at"] >= RETRY_WINDOW
        await conn.execute_query(
            "UPDATE webhook_deliveries SET status = $2, next_attempt_at = $3, lease_until = NULL, "
            "last_status_code = $4, last_error = $5 WHERE id = $1",
            [
                claimed["id"],
                "failed" if gave_up else "pending",
                now + backoff(claimed["attempts"]),
                outcome.status_code,
                outcome.error,
            ],
        )
        endpoint = (
            await conn.execute_query_dict(
                "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $2) WHERE id = $1 "
                "RETURNING failing_since, enabled, created_by_id, url",
                [claimed["endpoint_id"], outcome.started_at],
            )
        )[0]
        if endpoint["enabled"] and now - endpoint["failing_since"] >= DISABLE_AFTER:
            await _disable(conn, claimed["endpoint_id"], endpoint, now, outcome)


async def _disable(
    conn: Any, endpoint_id: int, endpoint: dict[str, Any], now: datetime, outcome: Outcome
) -> None:
    reason = (
        f"every delivery failed since {endpoint['failing_since'].isoformat()} "
        f"(last: {outcome.error or outcome.status_code})"
    )[:300]
    await conn.execute_query(
        "UPDATE webhook_endpoints SET enabled = FALSE, disabled_at = $2, disabled_reason = $3, updated_at = $2 "
        "WHERE id = $1",
        [endpoint_id, now, reason],
    )
    # The owner's notice: there is no notification centre yet, so it is an audit entry addressed
    # to them (admins see it in the audit log; the endpoint shows disabledReason).
    await audit.record(
        conn,
        None,
        "webhook_endpoint.disabled",
        "webhook_endpoint",
        endpoint_id,
        {"reason": reason, "notify_user_id": endpoint["created_by_id"], "url": endpoint["url"]},
    )
    log.warning("webhook endpoint disabled", extra={"endpoint_id": endpoint_id, "reason": reason})


async def endpoints_with_due_deliveries() -> list[int]:
    now = clock.now()
    rows = await fetch(
        "SELECT DISTINCT d.endpoint_id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id "
        "WHERE e.enabled AND d.status = 'pending' AND d.next_attempt_at <= $1 "
        "AND (d.lease_until IS NULL OR d.lease_until < $1)",
        now,
    )
    return [r["endpoint_id"] for r in rows]


PRUNE_BATCH = 5000


async def prune_deliveries(retain_days: float) -> int:
    """Delete finished deliveries (succeeded or failed) made more than `retain_days` ago, with their
    attempts; pending ones stay whatever their age. Batched, so one run never holds locks for long.
    The maintenance job runs it (WEBHOOK_DELIVERY_RETENTION_DAYS)."""
    cutoff = clock.now() - timedelta(days=retain_days)
    pruned = 0
    while True:
        rows = await fetch(
            "WITH gone AS (DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries "
            "WHERE status <> 'pending' AND created_at < $1 ORDER BY created_at LIMIT $2) RETURNING 1) "
            "SELECT count(*) AS n FROM gone",
            cutoff,
            PRUNE_BATCH,
        )
        pruned += rows[0]["n"]
        if rows[0]["n"] < PRUNE_BATCH:
            return pruned
