"""Persisted queries: the web app's documents registered by hash, and Apollo-style automatic ones.

`frontend/persisted-operations.json` (written by `npm run build` from frontend/src/api/operations.ts,
committed) maps the sha256 of each document's exact text to it. A request may then send only
`extensions.persistedQuery.sha256Hash` (version 1): a registered or previously sent hash runs that
document; an unknown one is PERSISTED_QUERY_NOT_FOUND ("PersistedQueryNotFound", which Apollo's
clients answer by sending the query with its hash, which registers it).

Registered documents are shared by every API process through Redis (`<namespace>:apq:<hash>`, kept
a day after they were last registered, at most SHARED_MAX of them and each at most SHARED_MAX_BYTES,
so clients cannot fill Redis), with this process's least-recently-used AUTOMATIC_MAX in front.
A larger document, or any while Redis is unreachable, is registered in this process only, as before:
the worst case is a client asked to send its query once more.

With GRAPHQL_ALLOWLIST=1 (production), browser sessions (an access token, or no credentials) may
run only the manifest's documents: anything else is PERSISTED_QUERY_NOT_ALLOWED before it is
parsed, and they cannot register new ones. API keys still send any document, within their budget
(schema/cost.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import redis.asyncio as redis
from redis.exceptions import RedisError

from core.auth import Actor
from core.outage import Throttled
from core.settings import ROOT
from schema.graphql_request import RequestRefused, bad_request

log = logging.getLogger(__name__)
MANIFEST = ROOT / "frontend" / "persisted-operations.json"
_HASH = re.compile(r"[0-9a-f]{64}")
AUTOMATIC_MAX = 1000  # documents registered by clients, per process (least recently used goes first)
SHARED_MAX = 5000  # documents registered by clients in Redis, across processes (oldest go first)
SHARED_MAX_BYTES = 16 * 1024  # larger documents are registered in the process only
SHARED_TTL = 24 * 3600  # seconds a shared document is kept after it was last registered
REDIS_PAUSE = 2.0  # seconds before Redis is asked again after it failed


def document_hash(query: str) -> str:
    return hashlib.sha256(query.encode("utf-8", "surrogatepass")).hexdigest()


def load_manifest(path: Path = MANIFEST) -> dict[str, str]:
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        log.warning("no persisted-operations manifest at %s: the allow-list admits nothing", path)
        return {}
    return {digest: entry["query"] for digest, entry in entries.items()}


class PersistedQueries:
    def __init__(
        self,
        *,
        allowlist: bool,
        manifest: dict[str, str] | None = None,
        redis_url: str | None = None,
        namespace: str = "pytake",
    ) -> None:
        self.allowlist = allowlist
        self.registered = load_manifest() if manifest is None else manifest
        self._automatic: OrderedDict[str, str] = OrderedDict()
        # Short timeouts: a silent Redis costs a request a second, then the process's memory answers.
        self._redis = (
            redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=1) if redis_url else None
        )
        self._prefix = f"{namespace}:apq"
        self._redis_down_until = 0.0
        self._warn = Throttled(log, every=30.0)

    async def resolve(self, data: Any, actor: Actor | None) -> Any:
        """The request with its `query` filled in from `extensions.persistedQuery`, and checked
        against the allow-list. `data` is the decoded request object (anything: its shape is
        graphql_request's to check)."""
        if not isinstance(data, dict):
            return data
        extensions = data.get("extensions")
        persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        query = data.get("query")
        browser = actor is None or not actor.is_api_key
        if persisted is not None:
            digest = _hash_of(persisted)
            if query is None:
                query = self.registered.get(digest) or await self._automatic_document(digest)
                if query is None:
                    raise RequestRefused(400, "PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")
                data = {**data, "query": query}
            elif not isinstance(query, str) or document_hash(query) != digest:
                raise bad_request("`extensions.persistedQuery.sha256Hash` is not the sha256 of `query`")
            elif digest not in self.registered and not (self.allowlist and browser):
                await self._remember(digest, query)
        if self.allowlist and browser and isinstance(query, str) and not self.admits(query):
            raise RequestRefused(
                403,
                "PERSISTED_QUERY_NOT_ALLOWED",
                "this server runs only the web app's registered documents for signed-in sessions; "
                "integrations use an API key",
            )
        return data

    def admits(self, query: str) -> bool:
        return document_hash(query) in self.registered

    async def _automatic_document(self, digest: str) -> str | None:
        query = self._automatic.get(digest)
        if query is not None:
            self._automatic.move_to_end(digest)
            return query
        client = self._client()
        if client is None:
            return None
        try:
            found = await client.get(f"{self._prefix}:{digest}")
        except (RedisError, OSError) as exc:
            self._redis_failed(exc)
            return None
        if found is None:
            return None
        query = found.decode("utf-8", "surrogatepass")
        if document_hash(query) != digest:  # not what we stored: never run it
            return None
        self._keep_locally(digest, query)
        return query

    async def _remember(self, digest: str, query: str) -> None:
        self._keep_locally(digest, query)
        client = self._client()
        encoded = query.encode("utf-8", "surrogatepass")
        if client is None or len(encoded) > SHARED_MAX_BYTES:
            return
        recent = f"{self._prefix}:recent"
        try:
            pipe = client.pipeline(transaction=False)
            pipe.set(f"{self._prefix}:{digest}", encoded, ex=SHARED_TTL)
            pipe.zadd(recent, {digest: time.time()})
            pipe.expire(recent, SHARED_TTL)
            pipe.zcard(recent)
            count = (await pipe.execute())[-1]
            if count > SHARED_MAX:  # the oldest registrations go, so clients cannot fill Redis
                oldest = await client.zrange(recent, 0, count - SHARED_MAX - 1)
                if oldest:
                    pipe = client.pipeline(transaction=False)
                    pipe.zrem(recent, *oldest)
                    pipe.delete(*(f"{self._prefix}:{d.decode()}" for d in oldest))
                    await pipe.execute()
        except (RedisError, OSError) as exc:
            self._redis_failed(exc)

    def _keep_locally(self, digest: str, query: str) -> None:
        self._automatic[digest] = query
        self._automatic.move_to_end(digest)
        while len(self._automatic) > AUTOMATIC_MAX:
            self._automatic.popitem(last=False)

    def _client(self) -> Any:
        if self._redis is None or time.monotonic() < self._redis_down_until:
            return None
        return self._redis

    def _redis_failed(self, exc: BaseException) -> None:
        self._redis_down_until = time.monotonic() + REDIS_PAUSE
        self._warn.warning(
            "persisted queries: Redis unreachable, registering in this process", error=repr(exc)
        )

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()


def _hash_of(persisted: Any) -> str:
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise bad_request("`extensions.persistedQuery` must be {version: 1, sha256Hash}")
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or not _HASH.fullmatch(digest):
        raise bad_request("`sha256Hash` must be 64 lowercase hex digits")
    return digest
