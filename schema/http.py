"""/graphql over HTTP and WebSocket.

HTTP follows the GraphQL-over-HTTP specification: clients that accept
`application/graphql-response+json` get that media type and real status codes (400 when the
request never executed: parse or validation errors); clients that accept only `application/json`
get 200 for every GraphQL response, as the spec requires for that media type. WebSocket clients
authenticate in `connection_init` with `{"authorization": "Bearer <token>"}`.

Before strawberry sees a request, it is admitted here (method, media types, rate, a body within
MAX_GRAPHQL_BODY read as it streams in) and checked by schema/graphql_request.py; refusals use the
GraphQL-over-HTTP error shape with a named code. WebSocket messages get the same checks in
schema/graphql_ws.py.
"""

from __future__ import annotations

from typing import Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from core.auth import bearer_token, is_api_key
from core.body import BodyTooLarge, read_body
from core.events import EventLog
from core.ratelimit import Charge, RateLimiter, RequestLimits, principal_key, requests_per_minute
from core.settings import Settings
from schema.context import Context
from schema.graphql_request import (
    OperationUnresolved,
    RequestRefused,
    bad_request,
    choose_operation,
    decode_json,
    graphql_request,
)
from schema.graphql_ws import CheckedTransportWSHandler, CheckedWebSocket
from schema.permissions import authenticate
from schema.persisted import PersistedQueries

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def _negotiate(accept: str | None) -> str | None:
    """The response media type for an Accept header, or None when we can offer nothing it accepts."""
    if not accept:
        return JSON  # the spec's rule for clients that send no Accept header
    offered = []
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        if q > 0:
            offered.append((q, media))
    for _, media in sorted(offered, key=lambda x: -x[0]):
        if media in (GRAPHQL_RESPONSE, "application/*", "*/*"):
            return GRAPHQL_RESPONSE if media == GRAPHQL_RESPONSE else JSON
        if media == JSON:
            return JSON
    return None


class GraphQLEndpoint(GraphQL):
    websocket_adapter_class = CheckedWebSocket  # type: ignore[assignment]
    graphql_transport_ws_handler_class = CheckedTransportWSHandler

    def __init__(
        self,
        schema: Any,
        *,
        event_log: EventLog,
        rate_limiter: RateLimiter,
        settings: Settings,
        persisted: PersistedQueries | None = None,
    ):
        super().__init__(
            schema,
            graphql_ide="graphiql",
            # Only graphql-transport-ws (what the README documents and the web app speaks); the
            # legacy graphql-ws protocol had none of its checks and no client of ours uses it.
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
            allow_queries_via_get=True,
        )
        self.event_log = event_log
        self.rate_limiter = rate_limiter
        self.settings = settings
        self.persisted = persisted or PersistedQueries(
            allowlist=settings.graphql_allowlist, redis_url=settings.redis_url, namespace=settings.namespace
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)
        request = Request(scope, receive)
        # The request limits are counted once, with the query's cost (schema/cost.py), in one
        # round trip; whatever did not get that far settles here on its way out.
        limits = RequestLimits(self.rate_limiter)
        request.state.limits = limits
        try:
            try:
                await self._admit(request, limits)
                await self._authenticate(request, limits)
                # strawberry reads the body again from this receive: the copy already within the limit
                body_receive = (
                    _replay(await self._read_body(request)) if request.method == "POST" else receive
                )
                response = await self.run(Request(scope, body_receive))
            except HTTPException as exc:  # strawberry's own refusals, in the same shape as ours
                raise RequestRefused(exc.status_code, "BAD_REQUEST", exc.reason) from None
            finally:
                if limits.pending and limits.refused is None:
                    await limits.settle()
            if limits.refused is not None:
                raise _limit_refusal(limits.refused)
        except RequestRefused as refused:
            # A request over its limits hears so whatever else it was refused for.
            response = _refusal(_limit_refusal(limits.refused) if limits.refused else refused, scope)
        await response(scope, receive, send)

    async def _settle(self, limits: RequestLimits) -> None:
        """Count the pending request limits now (before something the request asks for happens)."""
        if limits.pending:
            await limits.settle()
        if limits.refused is not None:
            raise _limit_refusal(limits.refused)

    async def _admit(self, request: Request, limits: RequestLimits) -> None:
        """Method, media types and the address's limit (noted; counted in `limits`), before the
        body is read."""
        if request.method not in ("GET", "POST"):
            raise RequestRefused(
                405, "METHOD_NOT_ALLOWED", "/graphql takes GET and POST", {"Allow": "GET, POST"}
            )
        wants_ide = (
            request.method == "GET"
            and "query" not in request.query_params
            and "text/html" in request.headers.get("accept", "")
        )
        if not wants_ide:
            media = _negotiate(request.headers.get("accept"))
            if media is None:
                raise RequestRefused(
                    406,
                    "NOT_ACCEPTABLE",
                    f"cannot answer with any of: {request.headers.get('accept')}; "
                    f"accept {GRAPHQL_RESPONSE} or {JSON}",
                )
            request.scope.setdefault("state", {})["graphql_media_type"] = media
            if request.method == "POST":
                _check_content_type(request.headers.get("content-type", ""))
        client = request.client.host if request.client else "unknown"
        address = Charge(
            f"graphql:{client}",
            limit=self.settings.graphql_rate_per_minute,
            refusal="too many requests from this address",
        )
        if limits.add(address):
            await self._settle(limits)

    async def _authenticate(self, request: Request, limits: RequestLimits) -> None:
        """Who is asking, then their own request limit (noted; counted in `limits`). An API key is
        a database look-up (and may write its last use): the address's limit is counted first."""
        ip = request.client.host if request.client else None
        authorization = request.headers.get("authorization")
        token = bearer_token(authorization)
        if token is not None and is_api_key(token):
            await self._settle(limits)
        actor, problem = await authenticate(authorization, ip)
        request.state.auth = (actor, problem)
        if actor is None:
            return  # anonymous: the address's limit above is theirs
        own = Charge(
            f"graphql:{principal_key(actor, ip)}",
            limit=requests_per_minute(self.settings, actor),
            refusal=f"too many requests from this {'API key' if actor.is_api_key else 'user'}",
        )
        if limits.add(own):
            await self._settle(limits)

    async def _read_body(self, request: Request) -> bytes:
        limit = self.settings.max_graphql_body
        try:
            return await read_body(request, limit)
        except BodyTooLarge:
            raise RequestRefused(413, "PAYLOAD_TOO_LARGE", f"the body exceeds {limit} bytes") from None
        except ClientDisconnect:
            raise bad_request("the request body is incomplete") from None

    async def parse_http_body(self, request: Any) -> GraphQLRequestData:
        if request.method == "GET":
            data = _params_data(request.query_params)
        else:
            data = decode_json(await request.get_body())  # already within the limit
        state = request._request.state
        actor, _ = state.auth  # set by _authenticate, before strawberry ran
        if _registers(data):  # a document registered for every process: not past the limits
            await self._settle(state.limits)
        return graphql_request(await self.persisted.resolve(data, actor))  # registered documents, allow-list

    async def execute_single(  # type: ignore[override]
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Response,
        context: Context,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        try:
            operation = choose_operation(
                request_data.query,  # type: ignore[arg-type]
                request_data.operation_name,
                self.settings.graphql_max_tokens,
            )
        except OperationUnresolved as exc:
            return _request_error(str(exc), "OPERATION_RESOLUTION_FAILURE")
        if operation is OperationType.SUBSCRIPTION:
            # Without this, strawberry runs it as a one-shot query and the stream field is null.
            return _request_error(
                "subscriptions need the WebSocket transport: graphql-transport-ws at /graphql",
                "SUBSCRIPTION_NEEDS_WEBSOCKET",
            )
        if operation is OperationType.MUTATION and request.method == "GET":
            raise RequestRefused(405, "METHOD_NOT_ALLOWED", "mutations are sent with POST", {"Allow": "POST"})
        return await super().execute_single(
            request, request_adapter, sub_response, context, root_value, request_data
        )

    async def get_context(self, request: Request | WebSocket, response: Response | None = None) -> Context:
        actor, problem = getattr(request.state, "auth", (None, None))  # WebSocket: on_ws_connect
        if response is not None:
            request.state.sub_response = response
            response.graphql_media_type = getattr(request.state, "graphql_media_type", JSON)  # type: ignore[attr-defined]
        return Context(
            request=request,
            response=response,
            actor=actor,
            auth_problem=problem,
            event_log=self.event_log,
            rate_limiter=self.rate_limiter,
            settings=self.settings,
            ip=request.client.host if request.client else None,
            limits=getattr(request.state, "limits", None) if response is not None else None,
        )

    async def on_ws_connect(self, context: Context) -> dict[str, object] | None:
        params = context.connection_params or {}
        header = params.get("authorization") or params.get("Authorization")
        if header is not None:
            actor, problem = await authenticate(str(header), context.ip)
            context.actor, context.auth_problem = actor, problem
        return None

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        data = await super().process_result(request, result)
        never_executed = (
            result.data is None and bool(result.errors) and all(e.path is None for e in result.errors)
        )
        if never_executed:
            data.pop("data", None)  # the spec: no `data` when the request never executed
            if getattr(request.state, "graphql_media_type", JSON) == GRAPHQL_RESPONSE:
                request.state.sub_response.status_code = 400
            retry_after = _retry_after(result)
            if retry_after:  # the cost budget (schema/cost.py): a 429 like the request limits'
                request.state.sub_response.status_code = 429
                request.state.sub_response.headers["Retry-After"] = str(retry_after)
        return data

    def encode_json(self, data: object) -> str:
        """Responses and WebSocket messages (a str: graphql-transport-ws wants text frames). orjson
        writes a 25 KB inbox page in a tenth of the standard library's time (bench/peer's py-spy:
        4 % of the request's CPU); what it refuses (a lone surrogate, an integer beyond 64 bits)
        the standard library still writes."""
        try:
            return orjson.dumps(data).decode()
        except TypeError:  # orjson.JSONEncodeError is one
            return str(super().encode_json(data))

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        response = super().create_response(response_data, sub_response)
        media = getattr(sub_response, "graphql_media_type", None)
        if media:
            response.headers["content-type"] = f"{media}; charset=utf-8"
        return response


def _check_content_type(header: str) -> None:
    media, *params = (part.strip().lower() for part in header.split(";"))
    if media != JSON:  # multipart too: uploads are not enabled
        raise RequestRefused(415, "UNSUPPORTED_MEDIA_TYPE", "send the request as application/json")
    for param in params:
        name, _, value = param.partition("=")
        if name.strip() == "charset" and value.strip().strip('"') not in ("utf-8", "utf8"):
            raise RequestRefused(415, "UNSUPPORTED_MEDIA_TYPE", "send the JSON body in UTF-8")


def _rate_limited(message: str, wait: int) -> RequestRefused:
    return RequestRefused(429, "RATE_LIMITED", f"{message}; retry in {wait} s", {"Retry-After": str(wait)})


def _limit_refusal(refused: tuple[Charge, int]) -> RequestRefused:
    charge, wait = refused
    return _rate_limited(charge.refusal, wait)


def _registers(data: Any) -> bool:
    """A request that sends a persisted query's hash with its document (which registers it)."""
    if not isinstance(data, dict) or data.get("query") is None:
        return False
    extensions = data.get("extensions")
    return isinstance(extensions, dict) and extensions.get("persistedQuery") is not None


def _retry_after(result: ExecutionResult) -> int | None:
    for error in result.errors or ():
        extensions = error.extensions or {}
        if extensions.get("code") == "RATE_LIMITED" and isinstance(extensions.get("retryAfter"), int):
            return extensions["retryAfter"]
    return None


def _params_data(params: Any) -> dict[str, Any]:
    """A GET request: `variables` and `extensions` are JSON inside the query string."""
    data: dict[str, Any] = {"query": params.get("query"), "operationName": params.get("operationName")}
    for name in ("variables", "extensions"):
        if params.get(name):
            data[name] = decode_json(params[name], f"the `{name}` parameter")
    return data


def _refusal(refused: RequestRefused, scope: Scope) -> Response:
    media = scope.get("state", {}).get("graphql_media_type", JSON)
    body = refused.body()
    if "Retry-After" in refused.headers:  # GraphQL clients read it from the error too
        body["errors"][0]["extensions"]["retryAfter"] = int(refused.headers["Retry-After"])
    response = JSONResponse(body, status_code=refused.status, headers=refused.headers)
    response.headers["content-type"] = f"{media}; charset=utf-8"
    return response


def _request_error(message: str, code: str) -> ExecutionResult:
    """A GraphQL request error (nothing executed): process_result gives it the spec's status."""
    return ExecutionResult(data=None, errors=[GraphQLError(message, extensions={"code": code})])


def _replay(body: bytes) -> Receive:
    """A receive that hands strawberry the body already read (within the limit), then waits for
    the disconnect like the server's own would."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive
