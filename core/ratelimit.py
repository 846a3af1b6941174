"""Fixed-window rate limits, shared across processes through Redis when there is one.

Used for login attempts and webhook floods. A window is `per` seconds; `limit` hits are allowed in it.
"""

from __future__ import annotations

import time

import redis.asyncio as redis


class RateLimiter:
    def __init__(self, redis_url: str | None, namespace: str = "pytake"):
        self._namespace = namespace
        self._redis = redis.from_url(redis_url) if redis_url else None
        self._local: dict[str, tuple[int, int]] = {}

    async def hit(self, key: str, *, limit: int, per: int) -> bool:
        """Count one hit; False when over the limit."""
        window = int(time.time()) // per
        bucket = f"{self._namespace}:rl:{key}:{window}"
        if self._redis is not None:
            pipe = self._redis.pipeline()
            pipe.incr(bucket)
            pipe.expire(bucket, per + 1)
            count, _ = await pipe.execute()
            return int(count) <= limit
        current_window, count = self._local.get(key, (window, 0))
        count = count + 1 if current_window == window else 1
        self._local[key] = (window, count)
        if len(self._local) > 100_000:  # bounded memory under a flood of distinct keys
            self._local.clear()
        return count <= limit

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
