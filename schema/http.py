"""/graphql over HTTP and WebSocket.

HTTP follows the GraphQL-over-HTTP specification: clients that accept
`application/graphql-response+json` get that media type and real status codes (400 when the
request never executed: parse or validation errors); clients that accept only `application/json`
get 200 for every GraphQL response, as the spec requires for that media type. WebSocket clients
authenticate in `connection_init` with `{"authorization": "Bearer <token>"}`.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types import ExecutionResult

from core.events import EventLog
from core.ratelimit import RateLimiter
from core.settings import Settings
from schema.context import Context
from schema.permissions import authenticate

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
    def __init__(self, schema: Any, *, event_log: EventLog, rate_limiter: RateLimiter, settings: Settings):
        super().__init__(
            schema,
            graphql_ide="graphiql",
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL],
            allow_queries_via_get=True,
        )
        self.event_log = event_log
        self.rate_limiter = rate_limiter
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope)
            wants_html = request.method == "GET" and "text/html" in request.headers.get("accept", "")
            if not wants_html:
                media = _negotiate(request.headers.get("accept"))
                if media is None:
                    return await JSONResponse(
                        {
                            "errors": [
                                {
                                    "message": f"cannot answer with any of: {request.headers.get('accept')}; "
                                    f"accept {GRAPHQL_RESPONSE} or {JSON}",
                                    "extensions": {"code": "NOT_ACCEPTABLE"},
                                }
                            ]
                        },
                        status_code=406,
                    )(scope, receive, send)
                if request.method == "POST" and not request.headers.get("content-type", "").startswith(
                    ("application/json", "multipart/form-data")
                ):
                    return await JSONResponse(
                        {
                            "errors": [
                                {
                                    "message": "send the request as application/json",
                                    "extensions": {"code": "UNSUPPORTED_MEDIA_TYPE"},
                                }
                            ]
                        },
                        status_code=415,
                    )(scope, receive, send)
                scope.setdefault("state", {})["graphql_media_type"] = media
            client = request.client.host if request.client else "unknown"
            if not await self.rate_limiter.hit(
                f"graphql:{client}", limit=self.settings.graphql_rate_per_minute, per=60
            ):
                return await JSONResponse(
                    {
                        "errors": [
                            {
                                "message": "too many requests from this address; retry in a minute",
                                "extensions": {"code": "RATE_LIMITED"},
                            }
                        ]
                    },
                    status_code=429,
                    headers={"Retry-After": "60"},
                )(scope, receive, send)
        await super().__call__(scope, receive, send)

    async def get_context(self, request: Request | WebSocket, response: Response | None = None) -> Context:
        actor, problem = authenticate(request.headers.get("authorization"))
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
        )

    async def on_ws_connect(self, context: Context) -> dict[str, object] | None:
        params = context.connection_params or {}
        header = params.get("authorization") or params.get("Authorization")
        if header is not None:
            actor, problem = authenticate(str(header))
            context.actor, context.auth_problem = actor, problem
        return None

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        data = await super().process_result(request, result)
        never_executed = (
            result.data is None and bool(result.errors) and all(e.path is None for e in result.errors)
        )
        if never_executed:
            data.pop("data", None)  # the spec: no `data` when the request never executed
            if request.state.graphql_media_type == GRAPHQL_RESPONSE:
                request.state.sub_response.status_code = 400
        return data

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        response = super().create_response(response_data, sub_response)
        media = getattr(sub_response, "graphql_media_type", None)
        if media:
            response.headers["content-type"] = f"{media}; charset=utf-8"
        return response
