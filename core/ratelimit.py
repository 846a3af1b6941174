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
from collections.abc import Sequence
from dataclasses import dataclass

import redis.asyncio as redis
from redis.exceptions import RedisError

from core.auth import Actor
from core.outage import Throttled
from core.settings import Settings

log = logging.getLogger(__name__)
REDIS_PAUSE = 2.0  # seconds between attempts to reach Redis again after a failure

# Several counters in one round trip, in order, stopping at the first one over its limit (the ones
# after it are not counted, as when each was its own call and the refusal came first).
# KEYS: the buckets; ARGV: amount, ttl, limit for each. The 1-based index refused, or 0.
_TAKE_ALL = """
for i = 1, #KEYS do
  local count = redis.call('INCRBY', KEYS[i], ARGV[3 * i - 2])
  redis.call('EXPIRE', KEYS[i], ARGV[3 * i - 1])
  if count > tonumber(ARGV[3 * i]) then return i end
end
return 0
"""


@dataclass(frozen=True)
class Charge:
    """`amount` units against `key`'s limit of `limit` a window of `per` seconds."""

    key: str
    limit: int
    per: int = 60
    amount: int = 1
    refusal: str = ""  # what a refusal says (the request limits; the cost budget words its own)


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
        self._take_all = self._redis.register_script(_TAKE_ALL) if self._redis is not None else None
        # key -> the window in which it was refused. A fixed window's count only grows, so a key
        # refused in this window is refused until it turns: no need to ask Redis again.
        self._over: dict[str, int] = {}

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

    def known_over(self, charge: Charge) -> int:
        """The seconds until the window turns when this process already saw `charge`'s key refused
        in the current window (every further hit is refused too), else 0. Costs no round trip."""
        now = time.time()
        window = int(now) // charge.per
        return max(1, (window + 1) * charge.per - int(now)) if self._over.get(charge.key) == window else 0

    async def take_all(self, charges: Sequence[Charge]) -> tuple[Charge, int] | None:
        """Count the charges in order in one round trip (one script), stopping at the first over
        its limit, whose charge and seconds until its window turns come back (None: all within).
        The ones after a refusal are not counted, exactly as separate `take`s stopped at the first
        refusal would. While Redis is unreachable, counted by this process (as `take`)."""
        if not charges:
            return None
        now = time.time()
        windows = [int(now) // c.per for c in charges]
        for i, (c, window) in enumerate(zip(charges, windows, strict=True)):
            if self._over.get(c.key) == window:  # refused already: count the ones before it only
                charges, windows = charges[: i + 1], windows[: i + 1]
                if i == 0:
                    return c, max(1, (window + 1) * c.per - int(now))
                break
        refused = await self._take_all_in_redis(charges, windows)
        if refused is None:  # Redis absent or unreachable
            refused = 0
            for i, (c, window) in enumerate(zip(charges, windows, strict=True), start=1):
                if self._count_locally(c.key, window, c.amount) > c.limit:
                    refused = i
                    break
        if not refused:
            return None
        charge, window = charges[refused - 1], windows[refused - 1]
        self._over[charge.key] = window
        if len(self._over) > 100_000:  # bounded memory under a flood of distinct keys
            self._over.clear()
        return charge, max(1, (window + 1) * charge.per - int(now))

    async def _take_all_in_redis(self, charges: Sequence[Charge], windows: list[int]) -> int | None:
        client = self._client()
        if client is None or self._take_all is None:
            return None
        keys = [f"{self._namespace}:rl:{c.key}:{w}" for c, w in zip(charges, windows, strict=True)]
        args: list[int] = []
        for c in charges:
            args += (c.amount, c.per + 1, c.limit)
        try:
            return int(await self._take_all(keys=keys, args=args, client=client))
        except (RedisError, OSError) as exc:
            self._redis_failed(exc)
            return None

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


class RequestLimits:
    """One HTTP request's limits, counted together in one round trip.

    The address's and the caller's request limits are only noted as the request is admitted and
    authenticated (`add`); `settle` counts what is pending, with the query's cost when it is known
    (schema/cost.py), in one `take_all`, so a query pays one Redis round trip for all three. A
    request that never reaches its cost (refused, malformed, not a query) settles on the way out,
    and the first refusal wins as before: a request over its address limit hears RATE_LIMITED
    whatever else was wrong with it, and nothing it asked for runs before its limits are counted.
    A key already refused in this window is refused at once (`known_over`), before the body is
    read or the caller looked up."""

    __slots__ = ("limiter", "pending", "refused")

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter
        self.pending: list[Charge] = []
        self.refused: tuple[Charge, int] | None = None  # a request limit's refusal, and its wait

    def add(self, charge: Charge) -> int:
        """Note a request limit to count; the wait when this process knows it is refused already
        (then count what was noted before it, and refuse)."""
        self.pending.append(charge)
        return self.limiter.known_over(charge)

    async def settle(self, cost: Charge | None = None) -> tuple[Charge, int] | None:
        """Count what is pending, then `cost`, in one round trip: the refusal (charge, wait) or
        None. A request limit's refusal is kept in `refused` too; later calls count only what
        was added since."""
        charges = [*self.pending, *((cost,) if cost is not None else ())]
        self.pending = []
        refused = await self.limiter.take_all(charges)
        if refused is not None and refused[0] is not cost:
            self.refused = refused
        return refused
