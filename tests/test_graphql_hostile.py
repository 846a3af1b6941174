"""Hostile and sloppy requests to /graphql, over real HTTP and real graphql-transport-ws: each is
refused with a named code (never a 500 or INTERNAL), and the mutation it carries stores nothing.

Every request here carries a `saveView` mutation from one agent of this module, so "nothing
stored" is that agent's count of saved views before and after (the ones stored have names of
their own: saved views are unique by name)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from core.settings import get_settings
from core.sql import fetchrow
from models import Role, User
from tests.helpers import login, make_user

SAVE = "mutation Save($name: String!) { saveView(name: $name) { name } }"
GRAPHQL_RESPONSE = "application/graphql-response+json"
LIMIT = get_settings().max_graphql_body


async def views_of(user: User) -> int:
    row = await fetchrow("SELECT count(*) AS n FROM saved_views WHERE user_id = $1", user.id)
    assert row is not None
    return int(row["n"])


@pytest_asyncio.fixture(scope="module")
async def agent(server: str) -> tuple[User, str]:
    """One agent for the module: logging in costs a password hash, and each test counts deltas."""
    user = await make_user(Role.AGENT)
    return user, await login(server, user)


def headers_of(token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "Accept": GRAPHQL_RESPONSE,
        "Content-Type": "application/json",
    }


def refusal(response: httpx.Response) -> tuple[int, str]:
    """(status, code) of a refusal in the GraphQL-over-HTTP shape: errors, each with a code, no data."""
    body = response.json()
    assert "data" not in body, body
    assert body["errors"][0]["message"], body
    return response.status_code, body["errors"][0]["extensions"]["code"]


def body_of(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


MALFORMED_BODIES = {
    "variables nested 10,000 deep": (
        b'{"query": "'
        + SAVE.encode()
        + b'", "variables": {"name": "v", "x": '
        + nested(10_000).encode()
        + b"}}"
    ),
    "variables nested past the limit": body_of(
        query=SAVE, variables={"name": "v", "x": json.loads(nested(40))}
    ),
    "invalid UTF-8": b'{"query": "' + SAVE.encode() + b'", "variables": {"name": "v\xff"}}',
    "UTF-16 JSON": body_of(query=SAVE, variables={"name": "v"}).decode().encode("utf-16"),
    "null": b"null",
    "a string": b'"mutation { logout }"',
    "a number": b"42",
    "a batch array": json.dumps([{"query": SAVE, "variables": {"name": "v"}}]).encode(),
    "no query": body_of(variables={"name": "v"}),
    "query not a string": body_of(query=[SAVE], variables={"name": "v"}),
    "variables not an object": body_of(query=SAVE, variables='{"name": "v"}'),
    "extensions not an object": body_of(query=SAVE, variables={"name": "v"}, extensions=[1]),
    "operationName not a string": body_of(query=SAVE, variables={"name": "v"}, operationName=["Save"]),
    "NaN in variables": b'{"query": "' + SAVE.encode() + b'", "variables": {"name": "v", "n": NaN}}',
    "a number too large for a float": b'{"query": "'
    + SAVE.encode()
    + b'", "variables": {"name": "v", "n": 1e999}}',
    "an integer past the digit limit": b'{"query": "'
    + SAVE.encode()
    + b'", "variables": {"n": '
    + b"9" * 5000
    + b"}}",
    "not JSON": b'{"query": ',
}


@pytest.mark.parametrize("case", sorted(MALFORMED_BODIES))
async def test_a_malformed_body_is_a_400_and_stores_nothing(server, agent, case):
    user, token = agent
    headers, before = headers_of(token), await views_of(user)
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{server}/graphql", content=MALFORMED_BODIES[case], headers=headers)
    assert refusal(response) == (400, "BAD_REQUEST")
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert await views_of(user) == before


async def test_the_same_request_well_formed_is_stored(server, agent):
    """The control: the refusals above are about their defects, not about the mutation."""
    user, token = agent
    headers, before = headers_of(token), await views_of(user)
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{server}/graphql", content=body_of(query=SAVE, variables={"name": "v"}), headers=headers
        )
    assert response.status_code == 200 and response.json()["data"]["saveView"]["name"] == "v"
    assert await views_of(user) == before + 1


async def test_a_bad_query_string_is_a_400(server, agent):
    user, token = agent
    headers, before = headers_of(token), await views_of(user)
    del headers["Content-Type"]
    async with httpx.AsyncClient() as client:
        bad_variables = await client.get(
            f"{server}/graphql", params={"query": "{ __typename }", "variables": "{bad"}, headers=headers
        )
        deep_variables = await client.get(
            f"{server}/graphql",
            params={"query": "{ __typename }", "variables": '{"x": ' + nested(5000) + "}"},
            headers=headers,
        )
        bad_extensions = await client.get(
            f"{server}/graphql", params={"query": "{ __typename }", "extensions": "[1]"}, headers=headers
        )
        no_query = await client.get(f"{server}/graphql", headers=headers)
        mutation = await client.get(
            f"{server}/graphql", params={"query": SAVE, "variables": '{"name": "v"}'}, headers=headers
        )
    for response in (bad_variables, deep_variables, bad_extensions, no_query):
        assert refusal(response) == (400, "BAD_REQUEST")
    assert refusal(mutation) == (405, "METHOD_NOT_ALLOWED")  # the spec: GET never runs a mutation
    assert mutation.headers["allow"] == "POST"
    assert await views_of(user) == before


async def test_a_body_over_the_limit_is_refused_before_it_is_read(server, agent):
    user, token = agent
    headers, before = headers_of(token), await views_of(user)
    padded = body_of(query=SAVE + " " * LIMIT, variables={"name": "v"})

    async def chunked():  # no Content-Length: the count is made while the body streams in
        for start in range(0, len(padded), 64 * 1024):
            yield padded[start : start + 64 * 1024]

    async with httpx.AsyncClient() as client:
        declared = await client.post(f"{server}/graphql", content=padded, headers=headers)
        streamed = await client.post(f"{server}/graphql", content=chunked(), headers=headers)
        within = await client.post(
            f"{server}/graphql",
            content=body_of(query=SAVE + " " * (LIMIT - 200), variables={"name": "w"}),
            headers=headers,
        )
    assert refusal(declared) == (413, "PAYLOAD_TOO_LARGE")
    assert refusal(streamed) == (413, "PAYLOAD_TOO_LARGE")
    assert within.status_code == 200 and within.json()["data"]["saveView"]["name"] == "w"
    assert await views_of(user) == before + 1  # only the one within the limit


async def test_a_subscription_over_http_says_it_needs_the_websocket(server, agent):
    headers = headers_of(agent[1])
    query = {"query": "subscription { inboxEvents { __typename } }"}
    async with httpx.AsyncClient() as client:
        post = await client.post(f"{server}/graphql", json=query, headers=headers)
        get = await client.get(f"{server}/graphql", params=query, headers={"Accept": GRAPHQL_RESPONSE})
        legacy = await client.post(
            f"{server}/graphql", json=query, headers={**headers, "Accept": "application/json"}
        )
    assert refusal(post) == (400, "SUBSCRIPTION_NEEDS_WEBSOCKET")
    assert "WebSocket" in post.json()["errors"][0]["message"]
    assert refusal(get) == (400, "SUBSCRIPTION_NEEDS_WEBSOCKET")
    # application/json clients get 200 for every well-formed request, as the spec says for that type.
    assert refusal(legacy) == (200, "SUBSCRIPTION_NEEDS_WEBSOCKET")


async def test_a_document_must_name_the_one_operation_to_run(server, agent):
    user, token = agent
    headers, before = headers_of(token), await views_of(user)
    two = SAVE + ' mutation Other { saveView(name: "other") { name } }'
    requests = {
        "two operations, no name": {"query": two, "variables": {"name": "v"}},
        "a name the document lacks": {"query": SAVE, "variables": {"name": "v"}, "operationName": "Nope"},
        "no operation at all": {"query": "fragment F on Query { __typename }"},
    }
    async with httpx.AsyncClient() as client:
        for case, request in requests.items():
            response = await client.post(f"{server}/graphql", json=request, headers=headers)
            assert refusal(response) == (400, "OPERATION_RESOLUTION_FAILURE"), case
        named = await client.post(
            f"{server}/graphql", json={"query": two, "operationName": "Other"}, headers=headers
        )
    assert named.json()["data"]["saveView"]["name"] == "other"
    assert await views_of(user) == before + 1  # only the one the request named


async def test_methods_media_types_and_persisted_queries_have_named_codes(server, agent):
    user, token = agent
    headers, before = headers_of(token), await views_of(user)
    save = body_of(query=SAVE, variables={"name": "media"})
    async with httpx.AsyncClient() as client:
        put = await client.put(f"{server}/graphql", content=save, headers=headers)
        head = await client.head(f"{server}/graphql", headers=headers)
        latin1 = await client.post(
            f"{server}/graphql",
            content=save,
            headers={**headers, "Content-Type": "application/json; charset=latin-1"},
        )
        multipart = await client.post(
            f"{server}/graphql",
            files={"operations": save},
            headers={k: v for k, v in headers.items() if k != "Content-Type"},
        )
        utf8 = await client.post(
            f"{server}/graphql",
            content=save,
            headers={**headers, "Content-Type": "application/json; charset=UTF-8"},
        )
        persisted = await client.post(
            f"{server}/graphql",
            json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "ab" * 32}}},
            headers=headers,
        )
    assert refusal(put) == (405, "METHOD_NOT_ALLOWED") and put.headers["allow"] == "GET, POST"
    assert head.status_code == 405 and head.headers["allow"] == "GET, POST"
    assert refusal(latin1) == (415, "UNSUPPORTED_MEDIA_TYPE")
    assert refusal(multipart) == (415, "UNSUPPORTED_MEDIA_TYPE")
    assert refusal(persisted) == (400, "PERSISTED_QUERY_NOT_FOUND")  # an unknown hash (schema/persisted.py)
    assert (
        persisted.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    )  # what Apollo's client looks for, to send the query with its hash
    assert utf8.status_code == 200
    assert await views_of(user) == before + 1  # the UTF-8 one


async def test_long_tokens_and_many_variables_are_answered_not_crashed(server, agent):
    headers = headers_of(agent[1])
    async with httpx.AsyncClient() as client:
        long_name = await client.post(
            f"{server}/graphql", json={"query": "{ " + "a" * (LIMIT - 100) + " }"}, headers=headers
        )
        many = await client.post(
            f"{server}/graphql",
            json={"query": "{ __typename }", "variables": {f"v{i}": i for i in range(40_000)}},
            headers=headers,
        )
        ide_with_query = await client.get(
            f"{server}/graphql", params={"query": "{ __typename }"}, headers={"Accept": "text/html"}
        )
    assert refusal(long_name) == (400, "GRAPHQL_VALIDATION_FAILED")
    assert many.status_code == 200 and many.json()["data"] == {"__typename": "Query"}
    assert refusal(ide_with_query) == (406, "NOT_ACCEPTABLE")  # a query wants JSON, not the IDE


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
ENVELOPES = st.fixed_dictionaries(
    {},
    optional={
        "query": JSON_VALUES | st.just(SAVE) | st.just("query A { __typename } query B { __typename }"),
        "variables": JSON_VALUES,
        "operationName": JSON_VALUES | st.just("Save"),
        "extensions": JSON_VALUES,
    },
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=ENVELOPES | JSON_VALUES)
async def test_any_json_body_gets_an_answer_with_a_code(server, body):
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{server}/graphql", json=body, headers={"Accept": GRAPHQL_RESPONSE})
    assert response.status_code < 500
    errors = response.json().get("errors") or []
    assert all(e["extensions"]["code"] not in (None, "INTERNAL") for e in errors), errors


# ---- graphql-transport-ws ------------------------------------------------------------------------


async def ws_session(server: str, token: str | None = None):  # type: ignore[no-untyped-def]
    ws = await connect(
        server.replace("http", "ws", 1) + "/graphql", subprotocols=["graphql-transport-ws"], max_size=None
    )
    payload = {}
    if token is not None:
        payload = {"authorization": f"Bearer {token}"}
    await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
    return ws


async def close_code(ws) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


def subscribe(payload: Any, id: Any = "1") -> str:
    return json.dumps({"id": id, "type": "subscribe", "payload": payload})


MALFORMED_MESSAGES = {
    "variables nested 10,000 deep": '{"id": "1", "type": "subscribe", "payload": {"query": "'
    + SAVE
    + '", "variables": {"name": "v", "x": '
    + nested(10_000)
    + "}}}",
    "not JSON": '{"id": "1", "type": ',
    "null": "null",
    "an array": "[1]",
    "a type that is not a string": '{"type": ["subscribe"]}',
    "an id that is not a string": subscribe({"query": SAVE, "variables": {"name": "v"}}, id=["1"]),
    "a complete with an unhashable id": json.dumps({"type": "complete", "id": {"x": 1}}),
    "a payload that is a string": subscribe(SAVE),
    "query missing": subscribe({"variables": {"name": "v"}}),
    "query not a string": subscribe({"query": 1, "variables": {"name": "v"}}),
    "variables not an object": subscribe({"query": SAVE, "variables": ["v"]}),
    "operationName not a string": subscribe({"query": SAVE, "variables": {"name": "v"}, "operationName": 1}),
    "extensions not an object": subscribe({"query": SAVE, "variables": {"name": "v"}, "extensions": "x"}),
    "NaN in variables": subscribe({"query": SAVE, "variables": {"name": "v"}}).replace(
        '"v"', '"v", "n": NaN'
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED_MESSAGES))
async def test_a_malformed_websocket_message_closes_4400_and_stores_nothing(server, agent, case):
    user, token = agent
    before = await views_of(user)
    ws = await ws_session(server, token)
    await ws.send(MALFORMED_MESSAGES[case])
    code, reason = await close_code(ws)
    assert code == 4400 and reason
    assert await views_of(user) == before


async def test_invalid_utf8_in_a_websocket_frame_closes_the_connection(server, agent):
    """A text frame must be UTF-8; the WebSocket layer itself refuses it (1007), before any handler."""
    ws = await ws_session(server)
    await ws.send(b'{"type": "ping", "payload": {"x": "\xff"}}', text=True)
    code, _ = await close_code(ws)
    assert code in (1007, 4400)


async def test_a_binary_websocket_frame_closes_4400(server, agent):
    user, token = agent
    before = await views_of(user)
    ws = await ws_session(server, token)
    await ws.send(subscribe({"query": SAVE, "variables": {"name": "v"}}).encode())  # bytes: a binary frame
    assert (await close_code(ws))[0] == 4400
    assert await views_of(user) == before


async def test_an_oversized_websocket_message_closes_1009_and_stores_nothing(server, agent):
    user, token = agent
    before = await views_of(user)
    ws = await ws_session(server, token)
    await ws.send(subscribe({"query": SAVE + " " * LIMIT, "variables": {"name": "v"}}))
    code, _ = await close_code(ws)
    assert code == 1009  # Message Too Big
    assert await views_of(user) == before


async def test_a_well_formed_subscribe_with_a_bad_document_gets_an_error_message(server, agent):
    user, token = agent
    before = await views_of(user)
    ws = await ws_session(server, token)
    two = SAVE + ' mutation Other { saveView(name: "ws-other") { name } }'
    await ws.send(subscribe({"query": two, "variables": {"name": "v"}}, id="a"))
    await ws.send(subscribe({"query": SAVE, "variables": {"name": "v"}, "operationName": "Nope"}, id="b"))
    await ws.send(subscribe({"query": "subscription { inboxEvents(after: 1) { __typename } }"}, id="c"))
    answers = {}
    while len(answers) < 3:
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        answers[message["id"]] = message
    for id in ("a", "b"):
        assert answers[id]["type"] == "error"
        assert answers[id]["payload"][0]["extensions"]["code"] == "OPERATION_RESOLUTION_FAILURE"
    assert answers["c"]["type"] == "error"  # a wrong argument type: a validation error, the socket stays
    assert answers["c"]["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    await ws.send(subscribe({"query": two, "operationName": "Other"}, id="d"))
    named = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert named["type"] == "next" and named["payload"]["data"]["saveView"]["name"] == "ws-other"
    await ws.close()
    assert await views_of(user) == before + 1  # only the operation named


async def test_the_legacy_graphql_ws_protocol_is_not_offered(server, agent):
    ws = await connect(server.replace("http", "ws", 1) + "/graphql", subprotocols=["graphql-ws"])
    code, _ = await close_code(ws)
    assert code == 4406
