"""Automatic persisted queries are shared by the API processes through Redis: a document registered
by a client on one process runs by its hash on another (two apps here, each with its own memory,
as two processes would be); a hash Redis returns is checked against its document before it runs."""

from __future__ import annotations

import hashlib
import uuid

from models import Role
from schema import persisted as persisted_module
from schema.persisted import PersistedQueries
from tests.conftest import NAMESPACE, REDIS_URL, requires_redis
from tests.helpers import login, make_user
from tests.test_limits import client, code, endpoint


def _ext(query: str) -> dict:
    return {"persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(query.encode()).hexdigest()}}


async def _post(app, body: dict, token: str):  # type: ignore[no-untyped-def]
    headers = {"Accept": "application/graphql-response+json", "Authorization": f"Bearer {token}"}
    async with client(app) as c:
        return await c.post("/graphql", json=body, headers=headers)


@requires_redis
async def test_a_document_registered_on_one_api_process_runs_by_hash_on_another(server):
    namespace = f"{NAMESPACE}:apq-{uuid.uuid4().hex[:6]}"
    one = endpoint(
        persisted=PersistedQueries(allowlist=False, manifest={}, redis_url=REDIS_URL, namespace=namespace)
    )
    two = endpoint(
        persisted=PersistedQueries(allowlist=False, manifest={}, redis_url=REDIS_URL, namespace=namespace)
    )
    alone = endpoint(persisted=PersistedQueries(allowlist=False, manifest={}))  # no Redis: its own memory
    token = await login(server, await make_user(Role.AGENT))
    query = f"query Shared{uuid.uuid4().hex[:8]} {{ me {{ name }} }}"

    assert code(await _post(two, {"extensions": _ext(query)}, token)) == "PERSISTED_QUERY_NOT_FOUND"
    registered = await _post(one, {"query": query, "extensions": _ext(query)}, token)
    assert "errors" not in registered.json(), registered.json()
    by_hash = await _post(two, {"extensions": _ext(query)}, token)
    assert by_hash.status_code == 200 and by_hash.json()["data"] == registered.json()["data"]
    assert code(await _post(alone, {"extensions": _ext(query)}, token)) == "PERSISTED_QUERY_NOT_FOUND"

    # What Redis hands back must hash to what was asked: a tampered entry is never run.
    other = "{ __typename }"
    digest = _ext(query)["persistedQuery"]["sha256Hash"]
    three = PersistedQueries(allowlist=False, manifest={}, redis_url=REDIS_URL, namespace=namespace)
    await three._redis.set(f"{namespace}:apq:{digest}", other.encode())  # type: ignore[union-attr]
    fresh = endpoint(persisted=three)
    assert code(await _post(fresh, {"extensions": _ext(query)}, token)) == "PERSISTED_QUERY_NOT_FOUND"
    for p in (one.persisted, two.persisted, alone.persisted, three):
        await p.close()


@requires_redis
async def test_shared_registrations_are_bounded(server, monkeypatch):
    monkeypatch.setattr(persisted_module, "SHARED_MAX", 3)
    monkeypatch.setattr(persisted_module, "SHARED_MAX_BYTES", 200)
    namespace = f"{NAMESPACE}:apq-{uuid.uuid4().hex[:6]}"
    registry = PersistedQueries(allowlist=False, manifest={}, redis_url=REDIS_URL, namespace=namespace)
    app = endpoint(persisted=registry)
    token = await login(server, await make_user(Role.AGENT))
    documents = [f"query Q{i}{uuid.uuid4().hex[:6]} {{ me {{ id }} }}" for i in range(5)]
    big = "query Big { me { id } } " + "#" * 300
    for query in [*documents, big]:
        assert "errors" not in (await _post(app, {"query": query, "extensions": _ext(query)}, token)).json()
    stored = await registry._redis.zrange(f"{namespace}:apq:recent", 0, -1)  # type: ignore[union-attr]
    digests = [_ext(q)["persistedQuery"]["sha256Hash"] for q in documents]
    assert [d.decode() for d in stored] == digests[2:]  # the newest three; the big one stayed local
    assert await registry._redis.get(f"{namespace}:apq:{digests[0]}") is None  # type: ignore[union-attr]
    await registry.close()


async def test_without_redis_a_process_registers_in_its_own_memory(server):
    from tests.conftest import free_port

    unreachable = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    registry = PersistedQueries(allowlist=False, manifest={}, redis_url=unreachable, namespace="none")
    app = endpoint(persisted=registry)
    token = await login(server, await make_user(Role.AGENT))
    query = f"query Local{uuid.uuid4().hex[:8]} {{ me {{ name }} }}"
    registered = await _post(app, {"query": query, "extensions": _ext(query)}, token)
    assert "errors" not in registered.json(), registered.json()
    by_hash = await _post(app, {"extensions": _ext(query)}, token)
    assert by_hash.status_code == 200 and by_hash.json()["data"] == registered.json()["data"]
    unknown = "{ me { id } }"
    assert code(await _post(app, {"extensions": _ext(unknown)}, token)) == "PERSISTED_QUERY_NOT_FOUND"
    await registry.close()
