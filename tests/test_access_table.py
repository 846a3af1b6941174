"""Every Query, Mutation and Subscription root field admits exactly the callers (no token, agent,
supervisor, admin) that the README's access table says: read from the schema's declarations, and
seen over HTTP and WebSocket. A root field added without a row fails here, and the message is the
row to add."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import connect

from models import Role
from tests.access_table import ROLES, declared, readme_table
from tests.helpers import error_code, gql, login, make_user
from tests.schema_walk import Schema, operation

REFUSED = ("UNAUTHENTICATED", "FORBIDDEN")
MALFORMED_ID = "not-a-global-id"  # admitted callers are answered BAD_USER_INPUT before anything is written


def test_every_root_field_has_its_row_and_admits_whom_the_row_says():
    table, fields = readme_table(), declared()
    missing = [
        allowed.row(name, kind)
        for (kind, name), allowed in sorted(fields.items())
        if (kind, name) not in table
    ]
    assert not missing, "add these rows to the README's access table (check them first):\n" + "\n".join(
        missing
    )
    stale = sorted(f"{kind} {name}" for kind, name in table.keys() - fields.keys())
    assert not stale, f"the README's access table lists fields the schema does not have: {stale}"
    wrong = [
        f"{kind} {name}: the schema admits {fields[(kind, name)].row(name, kind)} but the table says "
        f"{table[(kind, name)].row(name, kind)}"
        for kind, name in sorted(fields)
        if fields[(kind, name)] != table[(kind, name)]
    ]
    assert not wrong, "\n".join(wrong)
    # The walk could tell the callers apart: each kind of answer occurs.
    assert {a.roles for a in fields.values()} >= {
        (True, True, True, True),
        (False, True, True, True),
        (False, False, True, True),
        (False, False, False, True),
    }


async def _tokens(server: str) -> dict[str, str | None]:
    tokens: dict[str, str | None] = {"none": None}
    for role in (Role.AGENT, Role.SUPERVISOR, Role.ADMIN):
        tokens[role.value] = await login(server, await make_user(role))
    return tokens


def _refusal(role: str) -> str:
    return "UNAUTHENTICATED" if role == "none" else "FORBIDDEN"


async def test_queries_and_mutations_over_http_admit_whom_the_table_says(server):
    table, schema, tokens = readme_table(), await Schema.load(server), await _tokens(server)
    checked = 0
    for kind in ("query", "mutation"):
        for field in schema.root(kind):
            allowed = table[(kind, field["name"])]
            args = [a for a in field["args"] if schema.wanted(a)]
            holds_id = any(schema.holds_id(a["type"]) for a in args)
            document, variables = operation(schema, kind, field, lambda _name: MALFORMED_ID)
            for role, admitted in zip(ROLES, allowed.roles, strict=True):
                if admitted and kind == "mutation" and not holds_id:
                    continue  # would run for real (a login, a new view): its admission is checked above
                body = await gql(server, document, variables, tokens[role])
                assert body["_status"] < 500, (field["name"], role, body)
                code = error_code(body)
                if admitted:
                    assert code not in REFUSED, (kind, field["name"], role, body)
                else:
                    assert code == _refusal(role), (kind, field["name"], role, body)
                checked += 1
    assert checked > 100


async def _first_answer(
    server: str, token: str | None, document: str, variables: dict[str, Any]
) -> str | None:
    """The error code the subscription is answered with at once, None when it is admitted (it
    sends data, or nothing within two seconds)."""
    async with connect(
        server.replace("http", "ws", 1) + "/graphql", subprotocols=["graphql-transport-ws"]
    ) as ws:
        await ws.send(
            json.dumps(
                {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"} if token else {}}
            )
        )
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
        await ws.send(
            json.dumps(
                {"id": "1", "type": "subscribe", "payload": {"query": document, "variables": variables}}
            )
        )
        try:
            message = json.loads(await asyncio.wait_for(ws.recv(), 2))
        except TimeoutError:
            return None
        errors = message["payload"] if message["type"] == "error" else message["payload"].get("errors")
        return (errors[0].get("extensions") or {}).get("code") if errors else None


async def test_subscriptions_over_websocket_admit_whom_the_table_says(server):
    table, schema, tokens = readme_table(), await Schema.load(server), await _tokens(server)
    cases = []
    for field in schema.root("subscription"):
        allowed = table[("subscription", field["name"])]
        document, variables = operation(schema, "subscription", field, lambda _name: MALFORMED_ID)
        for role, admitted in zip(ROLES, allowed.roles, strict=True):
            cases.append(
                (field["name"], role, admitted, _first_answer(server, tokens[role], document, variables))
            )
    answers = await asyncio.gather(*(case[3] for case in cases))
    for (name, role, admitted, _), code in zip(cases, answers, strict=True):
        if admitted:
            assert code not in REFUSED, (name, role, code)
        else:
            assert code == _refusal(role), (name, role, code)


def test_every_root_field_is_async_so_the_gate_checks_the_tokens_standing():
    """The Access gate reads the token's user (active, same role, not revoked) in its async path
    only: a synchronous root field would skip that read."""
    from schema import Mutation, Query, Subscription

    sync = [
        f"{root.__name__}.{field.python_name}"
        for root in (Query, Mutation, Subscription)
        for field in root.__strawberry_definition__.fields  # type: ignore[attr-defined]
        if not field.is_async
    ]
    assert sync == [], f"make these resolvers `async def`: {sync}"
