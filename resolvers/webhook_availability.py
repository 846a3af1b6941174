"""Platform availability, inbound side: how many webhooks of each platform and channel we accepted,
refused or failed to store, kept durably per hour in the metrics roll-ups (resolvers/rollups.py's
rows and keys), so `metrics` answers `webhooks_accepted`, `webhooks_refused`, `webhooks_failed` and
`webhook_availability` with the same filters, groupings and buckets as every other metric.

- accepted: verified and stored (answered 2xx);
- refused: the channel exists but the request was refused: bad or replayed signature, a body that
  does not parse, one over the size limit (Prometheus' `pytake_webhooks_rejected_total` reasons;
  an unknown channel or a rate-limited burst is no channel's outcome and is not counted here);
- failed: verified, but storing it raised (the platform gets a 5xx and retries).

Counting costs a dict increment on the request path: each process adds its counts up in memory and
writes them every FLUSH_SECONDS in one statement (an additive upsert, keys in a fixed order so two
processes never deadlock), so at most that much is lost with a killed process. The roll-up job
never writes these metrics (they have no conversation), so the two writers never meet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from datetime import UTC, datetime

from core.outage import Throttled
from core.sql import fetch
from resolvers.metrics_facts import Fact
from resolvers.rollups import bucket_of, keys_of

log = logging.getLogger(__name__)
_failed = Throttled(log, every=30.0)

OUTCOMES = {"accepted": "webhooks_accepted", "refused": "webhooks_refused", "failed": "webhooks_failed"}
FLUSH_SECONDS = 1.0
MAX_PENDING = 100_000  # keys kept while the database is unreachable; past that, counts are dropped

_pending: Counter[tuple[str, datetime, str, int]] = Counter()
_flusher: asyncio.Task[None] | None = None


def count(platform: str, channel_id: int, outcome: str, at: datetime | None = None) -> None:
    """Count one webhook's outcome ('accepted', 'refused', 'failed') now (call from the loop)."""
    global _flusher
    hour = bucket_of(at or datetime.now(UTC), "h")
    key = (OUTCOMES[outcome], hour, str(platform), int(channel_id))
    if key not in _pending and len(_pending) >= MAX_PENDING:
        _failed.warning("webhook outcomes dropped: the database has not taken them for a while")
        return
    _pending[key] += 1
    if _flusher is None or _flusher.done():
        try:
            _flusher = asyncio.get_running_loop().create_task(_flush_soon(), name="webhook-outcomes")
        except RuntimeError:  # no loop (a bare script): nothing to write them from
            _pending.clear()


async def _flush_soon() -> None:
    await asyncio.sleep(FLUSH_SECONDS)
    await flush()


async def flush() -> int:
    """Write what this process counted; returns how many roll-up rows it touched. On failure the
    counts stay for the next write."""
    global _pending
    if not _pending:
        return 0
    taken, _pending = _pending, Counter()
    rows: Counter[tuple] = Counter()
    for (metric, hour, platform, channel_id), n in taken.items():
        fact = Fact(metric, hour, n, platform=platform, channel_id=channel_id)
        for key in keys_of(fact):
            rows[key] += n
    ordered = sorted(rows.items())
    try:
        await fetch(
            "INSERT INTO metric_rollups (metric, grain, bucket, platform, channel_id, team_id, agent_id, label, n) "
            "SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::int[], $6::int[], "
            "$7::int[], $8::text[], $9::bigint[]) ON CONFLICT (metric, grain, platform, channel_id, team_id, "
            "agent_id, label, bucket) DO UPDATE SET n = metric_rollups.n + excluded.n",
            *[list(column) for column in zip(*[(*key, n) for key, n in ordered], strict=True)],
        )
    except Exception as exc:
        _pending.update(taken)  # kept for the next write
        _failed.warning("webhook outcomes not written yet", error=repr(exc))
        return 0
    return len(ordered)


async def close() -> None:
    """At shutdown: write what is left."""
    global _flusher
    if _flusher is not None and not _flusher.done():
        _flusher.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await _flusher
    _flusher = None
    with contextlib.suppress(Exception):
        await flush()
