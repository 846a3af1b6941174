"""graphql-transport-ws at /graphql, with the same checks as HTTP.

Each message is read with the size limit (1009, the WebSocket code for a message too big) and
decoded as strictly as an HTTP body. A message that is not the protocol's (not an object, no
string `type`, an `id` that is not a string, a subscribe payload whose fields have the wrong
types) closes the connection with 4400, as the protocol says. A well-formed subscribe whose
document does not name one operation is answered with an `error` message for that id.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import NonTextMessageReceived
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler

from core.ratelimit import principal_key, requests_per_minute
from schema.context import Context
from schema.fanout import CURRENT_OPERATION, Origin, Outbox
from schema.graphql_request import (
    OperationUnresolved,
    RequestRefused,
    choose_operation,
    decode_json,
    graphql_request,
)

MESSAGE_TOO_BIG = 1009
INVALID_MESSAGE = 4400
CLOSE_REASON_BYTES = 123  # what a close frame can carry


class CheckedWebSocket(ASGIWebSocketAdapter):
    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object, None]:
        limit = self.view.settings.max_graphql_body  # type: ignore[attr-defined]
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                text = await self.ws.receive_text()  # KeyError: a binary frame
                if len(text) > limit or len(text.encode("utf-8", "surrogatepass")) > limit:
                    await self.close(MESSAGE_TOO_BIG, f"a message may be at most {limit} bytes")
                    return
                try:
                    message = decode_json(text, "the message")
                except RequestRefused as refused:
                    await self.close(INVALID_MESSAGE, refused.message)
                    return
                yield message
        except KeyError as exc:
            raise NonTextMessageReceived from exc
        except WebSocketDisconnect:
            pass

    async def close(self, code: int, reason: str) -> None:
        reason = reason.encode()[:CLOSE_REASON_BYTES].decode(errors="ignore")
        await super().close(code, reason)


class CheckedTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    # Frames the shared fan-out queued for this connection (schema/fanout.py); created with the
    # first subscription it serves.
    fanout_outbox: Outbox | None = None

    async def run_operation(self, operation: Any) -> None:
        # The operation's own task: its resolver learns which connection and id it serves.
        CURRENT_OPERATION.set(Origin(self, operation.id))
        await super().run_operation(operation)

    async def send_message(self, message: Any) -> None:
        # After the frames already queued, so an operation's `complete` or error never
        # overtakes its events.
        if self.fanout_outbox is not None:
            await self.fanout_outbox.drain()
        await super().send_message(message)

    async def handle_message(self, message: Any) -> None:
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            await self.handle_invalid_message("a message is a JSON object with a string `type`")
            return
        if message["type"] in ("subscribe", "complete") and not isinstance(message.get("id"), str):
            await self.handle_invalid_message(f"a {message['type']} message needs a string `id`")
            return
        await super().handle_message(message)

    async def handle_subscribe(self, message: Any) -> None:
        if self.connection_acknowledged and message["id"] not in self.operations:
            try:  # the same persisted-query rules and request limit as HTTP (schema/http.py)
                payload = await self.view.persisted.resolve(message.get("payload"), self.context.actor)  # type: ignore[attr-defined]
                await self._within_limit()
            except RequestRefused as refused:
                error: dict[str, Any] = {"message": refused.message, "extensions": {"code": refused.code}}
                if "Retry-After" in refused.headers:
                    error["extensions"]["retryAfter"] = int(refused.headers["Retry-After"])
                await self.send_message({"id": message["id"], "type": "error", "payload": [error]})  # type: ignore[typeddict-item]
                return
            message = {**message, "payload": payload}
        try:
            request = graphql_request(message.get("payload"))
        except RequestRefused as refused:
            await self.handle_invalid_message(f"invalid subscribe payload: {refused.message}")
            return
        if self.connection_acknowledged and message["id"] not in self.operations:
            try:
                choose_operation(request.query, request.operation_name, self.view.settings.graphql_max_tokens)  # type: ignore[attr-defined, arg-type]
            except OperationUnresolved as exc:
                error = {"message": str(exc), "extensions": {"code": "OPERATION_RESOLUTION_FAILURE"}}
                await self.send_message({"id": message["id"], "type": "error", "payload": [error]})  # type: ignore[typeddict-item]
                return
        # Unauthorised, duplicate ids and the rest are the base handler's (4401, 4409, …).
        await super().handle_subscribe(message)

    async def _within_limit(self) -> None:
        """Each subscribe counts as a request of its key or user."""
        actor, settings = self.context.actor, self.view.settings  # type: ignore[attr-defined]
        if actor is None:
            return
        wait = await self.view.rate_limiter.take(  # type: ignore[attr-defined]
            f"graphql:{principal_key(actor, self.context.ip)}",
            limit=requests_per_minute(settings, actor),
            per=60,
        )
        if wait:
            raise RequestRefused(
                429, "RATE_LIMITED", f"too many requests; retry in {wait} s", {"Retry-After": str(wait)}
            )
