"""Fixed-window rate limits, shared across processes through Redis when there is one.

Used for login attempts, GraphQL requests and webhook floods. A window is `per` seconds; `limit`
hits are allowed in it.

While Redis is unreachable the limits fall back to this process's own counters (neither open nor
closed): requests are answered as usual and still limited, per process rather than across all of
them, with a warning at most every 30 s. Redis is asked again after a short pause, so an outage
costs each request nothing but a dictionary lookup.
"""

from __future__ import annotations

import logging
import time

import redis.asyncio as redis
from redis.exceptions import RedisError

from core.outage import Throttled

log = logging.getLogger(__name__)
REDIS_PAUSE = 2.0  # seconds between attempts to reach Redis again after a failure


class RateLimiter:
    def __init__(self, redis_url: str | None, namespace: str = "pytake"):
        self._namespace = namespace
        self._redis = redis.from_url(redis_url) if redis_url else None
        self._local: dict[str, tuple[int, int]] = {}
        self._redis_down_until = 0.0
        self._warn = Throttled(log, every=30.0)

    async def hit(self, key: str, *, limit: int, per: int) -> bool:
        """Count one hit; False when over the limit."""
        window = int(time.time()) // per
        if self._redis is not None and time.monotonic() >= self._redis_down_until:
            bucket = f"{self._namespace}:rl:{key}:{window}"
            try:
                pipe = self._redis.pipeline()
                pipe.incr(bucket)
                pipe.expire(bucket, per + 1)
                count, _ = await pipe.execute()
                return int(count) <= limit
            except (RedisError, OSError) as exc:
                self._redis_down_until = time.monotonic() + REDIS_PAUSE
                self._warn.warning("rate limits counted per process: Redis unreachable", error=repr(exc))
        return self._hit_locally(key, window, limit)

    def _hit_locally(self, key: str, window: int, limit: int) -> bool:
        current_window, count = self._local.get(key, (window, 0))
        count = count + 1 if current_window == window else 1
        self._local[key] = (window, count)
        if len(self._local) > 100_000:  # bounded memory under a flood of distinct keys
            self._local.clear()
        return count <= limit

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
