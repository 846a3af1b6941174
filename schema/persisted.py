"""Persisted queries: the web app's documents registered by hash, and Apollo-style automatic ones.

`frontend/persisted-operations.json` (written by `npm run build` from frontend/src/api/operations.ts,
committed) maps the sha256 of each document's exact text to it. A request may then send only
`extensions.persistedQuery.sha256Hash` (version 1): a registered or previously sent hash runs that
document; an unknown one is PERSISTED_QUERY_NOT_FOUND ("PersistedQueryNotFound", which Apollo's
clients answer by sending the query with its hash, which registers it in this process).

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
from collections import OrderedDict
from pathlib import Path
from typing import Any

from core.auth import Actor
from core.settings import ROOT
from schema.graphql_request import RequestRefused, bad_request

log = logging.getLogger(__name__)
MANIFEST = ROOT / "frontend" / "persisted-operations.json"
_HASH = re.compile(r"[0-9a-f]{64}")
AUTOMATIC_MAX = 1000  # documents registered by clients, per process (least recently used goes first)


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
    def __init__(self, *, allowlist: bool, manifest: dict[str, str] | None = None) -> None:
        self.allowlist = allowlist
        self.registered = load_manifest() if manifest is None else manifest
        self._automatic: OrderedDict[str, str] = OrderedDict()

    def resolve(self, data: Any, actor: Actor | None) -> Any:
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
                query = self.registered.get(digest) or self._automatic.get(digest)
                if query is None:
                    raise RequestRefused(400, "PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")
                if digest in self._automatic:
                    self._automatic.move_to_end(digest)
                data = {**data, "query": query}
            elif not isinstance(query, str) or document_hash(query) != digest:
                raise bad_request("`extensions.persistedQuery.sha256Hash` is not the sha256 of `query`")
            elif digest not in self.registered and not (self.allowlist and browser):
                self._remember(digest, query)
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

    def _remember(self, digest: str, query: str) -> None:
        self._automatic[digest] = query
        self._automatic.move_to_end(digest)
        while len(self._automatic) > AUTOMATIC_MAX:
            self._automatic.popitem(last=False)


def _hash_of(persisted: Any) -> str:
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise bad_request("`extensions.persistedQuery` must be {version: 1, sha256Hash}")
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or not _HASH.fullmatch(digest):
        raise bad_request("`sha256Hash` must be 64 lowercase hex digits")
    return digest
