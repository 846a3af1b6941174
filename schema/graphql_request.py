"""What a client sent to /graphql, checked before anything runs, for both transports.

A request that is not a well-formed GraphQL-over-HTTP request (bytes that are not UTF-8 JSON,
JSON nested past any real use, a body that is not one object, fields of the wrong type) is
refused here with a named code, so nothing deeper ever sees it: over HTTP a 4xx, over WebSocket a
closed connection (4400, as graphql-transport-ws asks). A well-formed request whose document does
not say which operation to run is a GraphQL request error (OPERATION_RESOLUTION_FAILURE).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, parse
from strawberry.http import GraphQLRequestData
from strawberry.types.graphql import OperationType

# Agents' variables are a few levels deep; far deeper JSON is an attack on the recursive code
# that later walks it (coercion, json.dumps into JSONB), so it stops here.
MAX_JSON_DEPTH = 32
# Documents this short are cached by their text (agents send the same few all day); longer ones
# are parsed each time, so the cache never holds more than 256 small strings.
CACHED_DOCUMENT_LENGTH = 16 * 1024


@dataclass
class RequestRefused(Exception):
    status: int
    code: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        """The GraphQL-over-HTTP error shape: no `data`, because nothing executed."""
        return {"errors": [{"message": self.message, "extensions": {"code": self.code}}]}


def bad_request(message: str) -> RequestRefused:
    return RequestRefused(400, "BAD_REQUEST", message)


class OperationUnresolved(Exception):
    """The document does not say which one operation to run."""


def decode_json(raw: bytes | str, what: str = "the body") -> Any:
    """Strict JSON: UTF-8 only (json.loads would guess UTF-16/32), no NaN/Infinity (PostgreSQL's
    JSONB refuses them), no number too long or too large to hold, nesting within MAX_JSON_DEPTH."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise bad_request(f"{what} is not valid UTF-8") from None
    try:
        value = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise bad_request(f"{what} is nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:  # JSONDecodeError, and integers past Python's digit limit
        raise bad_request(f"{what} is not valid JSON: {str(exc)[:80]}") from None
    if _too_deep(value):
        raise bad_request(f"{what} is nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("number out of range")
    return number


def _too_deep(value: Any) -> bool:
    stack = [(value, 1)]  # iterative: the point is not to recurse on hostile input
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if depth + 1 > MAX_JSON_DEPTH:
                    return True
                stack.append((child, depth + 1))
    return False


def graphql_request(data: Any) -> GraphQLRequestData:
    """The request's fields, each of the type the GraphQL-over-HTTP spec gives it."""
    if isinstance(data, list):
        raise bad_request("batched requests (a JSON array) are not supported: send one operation per request")
    if not isinstance(data, dict):
        raise bad_request("the request must be a JSON object with a `query` string")
    query, variables = data.get("query"), data.get("variables")
    operation_name, extensions = data.get("operationName"), data.get("extensions")
    if not isinstance(extensions, (dict, type(None))):
        raise bad_request("`extensions` must be an object")
    if query is None and extensions and "persistedQuery" in extensions:
        # Apollo's clients look for this message and fall back to sending the whole query.
        raise RequestRefused(400, "PERSISTED_QUERY_NOT_SUPPORTED", "PersistedQueryNotSupported")
    if not isinstance(query, str) or not query.strip():
        raise bad_request("`query` must be a string holding a GraphQL document")
    if not isinstance(variables, (dict, type(None))):
        raise bad_request("`variables` must be an object")
    if not isinstance(operation_name, (str, type(None))):
        raise bad_request("`operationName` must be a string")
    return GraphQLRequestData(
        query=query,
        variables=variables,
        operation_name=operation_name,
        extensions=extensions,
        protocol="http",
    )


def graphql_request_from_params(params: Mapping[str, str]) -> GraphQLRequestData:
    """A GET request: `variables` and `extensions` are JSON inside the query string."""
    data: dict[str, Any] = {"query": params.get("query"), "operationName": params.get("operationName")}
    for name in ("variables", "extensions"):
        if params.get(name):
            data[name] = decode_json(params[name], f"the `{name}` parameter")
    return graphql_request(data)


def choose_operation(query: str, operation_name: str | None, max_tokens: int) -> OperationType | None:
    """The type of the operation the request runs; None when the document does not parse (the
    schema then reports the syntax error with its own code). OperationUnresolved when the
    document has no operation, several and no `operationName`, or none of that name."""
    operations = (
        _operations(query, max_tokens) if len(query) <= CACHED_DOCUMENT_LENGTH else _parse(query, max_tokens)
    )
    if operations is None:
        return None
    if not operations:
        raise OperationUnresolved("the document defines no operation")
    if operation_name is None:
        if len(operations) > 1:
            raise OperationUnresolved(
                f"the document defines {len(operations)} operations: name the one to run in `operationName`"
            )
        return operations[0][1]
    for name, kind in operations:
        if name == operation_name:
            return kind
    raise OperationUnresolved(f"the document defines no operation named {operation_name[:100]!r}")


@lru_cache(maxsize=256)
def _operations(query: str, max_tokens: int) -> tuple[tuple[str | None, OperationType], ...] | None:
    return _parse(query, max_tokens)


def _parse(query: str, max_tokens: int) -> tuple[tuple[str | None, OperationType], ...] | None:
    try:
        document = parse(query, max_tokens=max_tokens)  # the schema's token limit: no cheaper attack here
    except GraphQLError:
        return None
    return tuple(
        (d.name.value if d.name else None, OperationType(d.operation.value))
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    )
