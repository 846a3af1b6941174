"""GraphQL over HTTP (the spec's media types and status codes), limits, named errors, and the
inbox's constant query count."""

from __future__ import annotations

import asyncio

import httpx

from models import Role
from tests.helpers import error_code, gql, login, make_user, post_webhook, wa_text_payload


async def _post(
    server: str, accept: str | None, body: dict | bytes, content_type: str = "application/json"
) -> httpx.Response:
    headers = {"Content-Type": content_type}
    if accept:
        headers["Accept"] = accept
    async with httpx.AsyncClient() as client:
        if isinstance(body, bytes):
            return await client.post(f"{server}/graphql", content=body, headers=headers)
        return await client.post(f"{server}/graphql", json=body, headers=headers)


async def test_media_types_and_status_codes(server):
    ok = await _post(server, "application/graphql-response+json", {"query": "{ __typename }"})
    assert ok.status_code == 200
    assert ok.headers["content-type"].startswith("application/graphql-response+json")
    invalid = await _post(server, "application/graphql-response+json", {"query": "{ nope }"})
    assert invalid.status_code == 400
    assert "data" not in invalid.json()
    assert invalid.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    legacy = await _post(server, "application/json", {"query": "{ nope }"})
    assert legacy.status_code == 200
    assert legacy.headers["content-type"].startswith("application/json")
    not_acceptable = await _post(server, "text/csv", {"query": "{ __typename }"})
    assert not_acceptable.status_code == 406
    wrong_type = await _post(server, None, b"query=1", content_type="text/plain")
    assert wrong_type.status_code == 415
    assert wrong_type.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    bad_json = await _post(server, None, b"{not json")
    assert bad_json.status_code == 400
    assert bad_json.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    async with httpx.AsyncClient() as client:
        page = await client.get(f"{server}/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


async def test_alias_and_token_limits(server):
    aliases = "{ " + " ".join(f"a{i}: __typename" for i in range(30)) + " }"
    assert error_code(await gql(server, aliases)) == "QUERY_TOO_COMPLEX"
    tokens = "{ " + " ".join("__typename" for _ in range(3000)) + " }"
    assert error_code(await gql(server, tokens)) == "GRAPHQL_PARSE_FAILED"


async def test_depth_limit(database):
    """Today's schema has no cycles deeper than the default limit, so check the limiter with a lower one."""
    from schema import build_schema

    schema = build_schema(max_depth=4)
    deep = "{ conversations { edges { node { customer { identities { platform } } } } } }"
    result = await schema.execute(deep)
    assert result.errors and result.errors[0].extensions["code"] == "QUERY_TOO_COMPLEX"
    shallow = await schema.execute("{ __typename }")
    assert shallow.errors is None


async def test_named_errors_for_bad_ids(server):
    user = await make_user(Role.AGENT)
    token = await login(server, user)
    q = "query($id: ID!) { conversation(id: $id) { id } }"
    assert error_code(await gql(server, q, {"id": "not-base64!"}, token)) == "BAD_USER_INPUT"
    from schema.relay import to_global_id

    assert error_code(await gql(server, q, {"id": to_global_id("User", 1)}, token)) == "BAD_USER_INPUT"
    assert (
        error_code(await gql(server, q, {"id": to_global_id("Conversation", 987654321)}, token))
        == "NOT_FOUND"
    )
    missing_arg = await gql(server, "query { conversation { id } }", token=token)
    assert error_code(missing_arg) == "GRAPHQL_VALIDATION_FAILED"


INBOX = """query($first: Int) { conversations(first: $first) { edges { cursor node {
  id status unreadCount lastMessageAt customer { name phone } assignee { name } lastMessage { text status }
} } pageInfo { hasNextPage endCursor } } }"""


async def test_inbox_costs_a_constant_number_of_queries(server, wa):
    from tortoise.backends.asyncpg.client import AsyncpgDBClient

    channel, secrets, _ = wa
    user = await make_user(Role.AGENT)
    token = await login(server, user)
    for i in range(12):
        body = wa_text_payload(channel.config["phone_number_id"], f"551100{i:05d}", f"hello {i}")
        assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200

    counted: list[str] = []
    original = AsyncpgDBClient.execute_query_dict
    originals = (AsyncpgDBClient.execute_query_dict, AsyncpgDBClient.execute_query)

    async def counting_dict(self, query, values=None):  # type: ignore[no-untyped-def]
        # Only the request's own queries: jobs (assignment drains, upkeep) share this event loop.
        task = asyncio.current_task()
        if task is not None and "run_asgi" in task.get_coro().__qualname__:
            counted.append(query)
        return await original(self, query, values)

    async def run(first: int) -> int:
        counted.clear()
        AsyncpgDBClient.execute_query_dict = counting_dict  # type: ignore[method-assign]
        try:
            body = await gql(server, INBOX, {"first": first}, token)
        finally:
            AsyncpgDBClient.execute_query_dict, AsyncpgDBClient.execute_query = originals  # type: ignore[method-assign]
        assert body.get("errors") is None, body
        assert len(body["data"]["conversations"]["edges"]) == first
        return len(counted)

    assert await run(2) == await run(10)
    assert await run(10) <= 4  # conversations, customers, users (assignees), last messages


async def test_requests_over_the_rate_limit_get_429_with_a_code(database):
    """A separate endpoint with a limit of 3 a minute, so the shared test server is not throttled."""
    from dataclasses import replace

    from core.bus import EventBus
    from core.events import EventLog
    from core.ratelimit import RateLimiter
    from core.settings import get_settings
    from schema import build_schema
    from schema.http import GraphQLEndpoint

    endpoint = GraphQLEndpoint(
        build_schema(),
        event_log=EventLog(EventBus("memory://")),
        rate_limiter=RateLimiter(None),
        settings=replace(get_settings(), graphql_rate_per_minute=3),
    )
    transport = httpx.ASGITransport(app=endpoint)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        statuses = [
            (await client.post("/graphql", json={"query": "{ __typename }"})).status_code for _ in range(5)
        ]
        limited = await client.post("/graphql", json={"query": "{ __typename }"})
    assert statuses == [200, 200, 200, 429, 429]
    assert limited.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    # the seconds left in the limiter's minute, in the header and in the error
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.json()["errors"][0]["extensions"]["retryAfter"] == int(limited.headers["retry-after"])
