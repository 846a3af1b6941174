"""Persisted queries: the web app's documents are registered by hash (frontend/persisted-operations.json,
written by `npm run build`); in allow-list mode browser sessions run only those, API keys anything;
Apollo-style `extensions.persistedQuery` requests run a registered or previously sent document."""

from __future__ import annotations

import hashlib
import json

from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute

from models import Role
from schema.persisted import load_manifest
from tests.helpers import PASSWORD, Subscriber, SubscriptionError, gql, login, make_user
from tests.test_frontend_contract import _documents
from tests.test_limits import client, code, endpoint, serving

ME = "query { me { id name email role } }"  # the web app's (frontend/src/api/operations.ts)
LOGIN = (
    "mutation($email: String!, $password: String!) {\n"
    "  login(email: $email, password: $password) { accessToken refreshToken expiresIn user { id name email role } } }"
)


def _hash(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def _persisted(query: str) -> dict:
    return {"persistedQuery": {"version": 1, "sha256Hash": _hash(query)}}


def test_the_manifest_registers_exactly_the_web_apps_documents():
    manifest = load_manifest()
    documents = _documents()  # read from operations.ts independently of the build script
    assert manifest == {_hash(text): text for text in documents.values()}
    assert manifest[_hash(ME)] == ME and manifest[_hash(LOGIN)] == LOGIN


async def _post(app, body: dict, token: str | None = None):  # type: ignore[no-untyped-def]
    headers = {"Accept": "application/graphql-response+json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    async with client(app) as c:
        return await c.post("/graphql", json=body, headers=headers)


async def test_allow_list_mode_runs_only_registered_documents_for_browser_sessions(server):
    app = endpoint(graphql_allowlist=True)
    user = await make_user(Role.AGENT)
    token = await login(server, user)

    registered = await _post(app, {"query": ME}, token)
    assert registered.status_code == 200 and registered.json()["data"]["me"]["email"] == user.email
    by_hash = await _post(app, {"extensions": _persisted(ME)}, token)
    assert by_hash.json()["data"]["me"]["email"] == user.email
    signed_in = await _post(app, {"query": LOGIN, "variables": {"email": user.email, "password": PASSWORD}})
    assert signed_in.json()["data"]["login"]["accessToken"]

    for query, who in (("{ me { id } }", token), ("{ __typename }", None)):
        refused = await _post(app, {"query": query}, who)
        assert refused.status_code == 403 and code(refused) == "PERSISTED_QUERY_NOT_ALLOWED"
    # A browser session cannot register a document of its own either.
    sneaky = "{ me { email } }"
    assert code(await _post(app, {"query": sneaky, "extensions": _persisted(sneaky)}, token)) == (
        "PERSISTED_QUERY_NOT_ALLOWED"
    )
    assert code(await _post(app, {"extensions": _persisted(sneaky)}, token)) == "PERSISTED_QUERY_NOT_FOUND"

    admin = await login(server, await make_user(Role.ADMIN))
    created = await gql(
        server, 'mutation { createApiKey(name: "bi", scopes: [CONVERSATIONS_READ]) { token } }', token=admin
    )
    key = created["data"]["createApiKey"]["token"]
    free = await _post(app, {"query": "{ me { id } }"}, key)  # keys send any document
    assert free.status_code == 200 and free.json()["data"]["me"]["id"]


async def test_apq_requests_run_registered_or_previously_sent_documents(server):
    app = endpoint(graphql_allowlist=False)
    token = await login(server, await make_user(Role.AGENT))
    query = "{ me { name } }"
    unknown = await _post(app, {"extensions": _persisted(query)}, token)
    assert unknown.status_code == 400 and code(unknown) == "PERSISTED_QUERY_NOT_FOUND"
    assert (
        unknown.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    )  # what Apollo's client retries on
    sent = await _post(app, {"query": query, "extensions": _persisted(query)}, token)
    assert "errors" not in sent.json()
    again = await _post(app, {"extensions": _persisted(query)}, token)
    assert again.json()["data"] == sent.json()["data"]
    async with client(app) as c:
        via_get = await c.get(
            "/graphql",
            params={"extensions": json.dumps(_persisted(query))},
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )
    assert via_get.json()["data"] == sent.json()["data"]
    mismatch = await _post(app, {"query": "{ me { id } }", "extensions": _persisted(query)}, token)
    assert mismatch.status_code == 400 and code(mismatch) == "BAD_REQUEST"
    malformed = await _post(app, {"query": query, "extensions": {"persistedQuery": {"version": 2}}}, token)
    assert code(malformed) == "BAD_REQUEST"


async def test_allow_list_mode_applies_to_subscriptions(server):
    graphql = endpoint(graphql_allowlist=True)
    app = Starlette(routes=[Route("/graphql", graphql), WebSocketRoute("/graphql", graphql)])
    token = await login(server, await make_user(Role.AGENT))
    async with serving(app) as base:
        subscriber = await Subscriber.open(base, token, "subscription { inboxEvents { type } }")
        try:
            await subscriber.next()
            raise AssertionError("an unregistered subscription must be refused")
        except SubscriptionError as exc:
            assert exc.code == "PERSISTED_QUERY_NOT_ALLOWED"
        finally:
            await subscriber.close()
