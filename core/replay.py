"""Single-use nonces: remember each signed nonce for as long as its signature is acceptable.

Some platforms sign a timestamp and a nonce but not the body (Mailgun's token, WeChat's plaintext
nonce), so a signature captured from one genuine request would pass on any other body until its
timestamp grows old. Each nonce is kept with a fingerprint of the body it first came with: the
same body again is the platform retrying (ingest dedupes it, and refusing it could lose a message
whose first attempt failed); another body is a replay.

Shared across processes through Redis when there is one (SET NX with an expiry), else in this
process's memory: embedded mode is one process.
"""

from __future__ import annotations

import math
import time

import redis.asyncio as redis

_PRUNE_ABOVE = 10_000  # remembered nonces before the expired ones are swept out of memory


class NonceLedger:
    def __init__(self, redis_url: str | None, namespace: str = "pytake"):
        self._namespace = namespace
        self._redis = redis.from_url(redis_url) if redis_url else None
        self._local: dict[str, tuple[str, float]] = {}  # key → (fingerprint, forget at)

    async def admit(self, key: str, fingerprint: str, window: float) -> bool:
        """False when `key` was seen within `window` seconds with another fingerprint."""
        if self._redis is not None:
            name = f"{self._namespace}:nonce:{key}"
            if await self._redis.set(name, fingerprint, nx=True, ex=max(1, math.ceil(window))):
                return True
            seen = await self._redis.get(name)
            # None: it expired between the two calls, so it is no longer remembered at all.
            return seen is None or seen.decode() == fingerprint
        now = time.monotonic()
        seen = self._local.get(key)
        if seen is not None and seen[1] > now:
            return seen[0] == fingerprint
        if len(self._local) >= _PRUNE_ABOVE:
            self._local = {k: v for k, v in self._local.items() if v[1] > now}
        self._local[key] = (fingerprint, now + window)
        return True

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
