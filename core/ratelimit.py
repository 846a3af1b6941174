"""Fixed-window rate limits, shared across processes through Redis when there is one.

Used for login attempts, GraphQL requests (per address, per user, per API key, and a budget of
query cost), webchat and webhook floods. A window is `per` seconds; `limit` hits (or units of
cost) are allowed in it, and a refusal says how long until the window turns.

Sign-in failures have their own counters (`fail` / `locked_for` / `forgive`): past a number of free
failures a key (an account, an address) is locked for a time that doubles with each further
failure, up to a cap.

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

from core.auth import Actor
from core.outage import Throttled
from core.settings import Settings

log = logging.getLogger(__name__)
REDIS_PAUSE = 2.0  # seconds between attempts to reach Redis again after a failure


def principal_key(actor: Actor | None, ip: str | None) -> str:
    """Whose budget a request spends: its API key's, else its user's, else its address's."""
    if actor is not None and actor.api_key_id is not None:
        return f"key:{actor.api_key_id}"
    if actor is not None:
        return f"user:{actor.user_id}"
    return f"address:{ip or 'unknown'}"


def requests_per_minute(settings: Settings, actor: Actor) -> int:
    """The request limit of a key or a user (a per-role override, else the default)."""
    if actor.api_key_id is not None:
        return settings.api_key_rate_per_minute
    return dict(settings.role_rate_per_minute).get(actor.role.value, settings.user_rate_per_minute)


class RateLimiter:
    def __init__(self, redis_url: str | None, namespace: str = "pytake"):
        self._namespace = namespace
        self._redis = redis.from_url(redis_url) if redis_url else None
        self._local: dict[str, tuple[int, int]] = {}
        self._failures_locally: dict[str, tuple[float, int]] = {}  # key -> (locked until, failures)
        self._redis_down_until = 0.0
        self._warn = Throttled(log, every=30.0)

    async def hit(self, key: str, *, limit: int, per: int) -> bool:
        """Count one hit; False when over the limit."""
        return await self.take(key, limit=limit, per=per) == 0

    async def take(self, key: str, *, limit: int, per: int, amount: int = 1) -> int:
        """Count `amount` units; 0 when within the limit, else the seconds until the window turns
        (what Retry-After says)."""
        now = time.time()
        window = int(now) // per
        count = await self._count(f"rl:{key}:{window}", amount, per + 1)
        if count is None:
            count = self._count_locally(key, window, amount)
        return 0 if count <= limit else max(1, (window + 1) * per - int(now))

    async def _count(self, bucket: str, amount: int, ttl: int) -> int | None:
        """INCRBY in Redis (None when Redis is absent or unreachable)."""
        client = self._client()
        if client is None:
            return None
        try:
            pipe = client.pipeline()
            pipe.incrby(f"{self._namespace}:{bucket}", amount)
            pipe.expire(f"{self._namespace}:{bucket}", ttl)
            count, _ = await pipe.execute()
            return int(count)
        except (RedisError, OSError) as exc:
            self._redis_failed(exc)
            return None

    def _client(self) -> redis.Redis | None:
        if self._redis is not None and time.monotonic() >= self._redis_down_until:
            return self._redis
        return None

    def _redis_failed(self, exc: BaseException) -> None:
        self._redis_down_until = time.monotonic() + REDIS_PAUSE
        self._warn.warning("rate limits counted per process: Redis unreachable", error=repr(exc))

    def _count_locally(self, key: str, window: int, amount: int) -> int:
        current_window, count = self._local.get(key, (window, 0))
        count = count + amount if current_window == window else amount
        self._local[key] = (window, count)
        if len(self._local) > 100_000:  # bounded memory under a flood of distinct keys
            self._local.clear()
        return count

    async def fail(self, key: str, *, free: int, base: int, cap: int) -> int:
        """Count one failure of `key` (kept a day); past `free` of them lock it for `base` seconds,
        doubling with each further failure up to `cap`. The lock's length (0: none)."""
        failures = await self._count(f"fail:{key}", 1, 86_400)
        if failures is None:
            _, failures = self._failures_locally.get(key, (0.0, 0))
            failures += 1
        lock = 0 if failures <= free else min(cap, base * 2 ** min(failures - free - 1, 30))
        until = time.time() + lock
        self._failures_locally[key] = (until, failures)
        if len(self._failures_locally) > 100_000:  # bounded, as above
            self._failures_locally.clear()
        client = self._client()
        if lock and client is not None:
            try:
                await client.set(f"{self._namespace}:lock:{key}", "1", ex=lock)
            except (RedisError, OSError) as exc:
                self._redis_failed(exc)
        return lock

    async def locked_for(self, key: str) -> int:
        """Seconds `key` stays locked (0: not locked)."""
        client = self._client()
        if client is not None:
            try:
                ms = await client.pttl(f"{self._namespace}:lock:{key}")
                return max(0, -(-int(ms) // 1000))  # -2: no lock; -1 cannot happen (set with ex)
            except (RedisError, OSError) as exc:
                self._redis_failed(exc)
        until, _ = self._failures_locally.get(key, (0.0, 0))
        return max(0, int(until - time.time() + 0.999))

    async def forgive(self, key: str) -> None:
        """A success: the failures so far no longer count."""
        self._failures_locally.pop(key, None)
        client = self._client()
        if client is not None:
            try:
                await client.delete(f"{self._namespace}:fail:{key}", f"{self._namespace}:lock:{key}")
            except (RedisError, OSError) as exc:
                self._redis_failed(exc)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
