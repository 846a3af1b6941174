"""A fake Graph API Send endpoint for Messenger and Instagram: `POST /{version}/me/messages`, token
by `?access_token=` (pages) or `Authorization: Bearer` (Instagram Login), as strict as Meta about
the recipient, the body and the 24-hour window, answering with Graph's error envelope."""

from __future__ import annotations

import contextlib
import itertools
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from connectors.fakes.whatsapp import serve_app


def graph_error(code: int, message: str, subcode: int | None = None, status: int = 400) -> JSONResponse:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AFAKEtrace",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return JSONResponse({"error": error}, status_code=status)


class FakeMetaDm:
    def __init__(self, token: str, *, token_in_query: bool, max_text: int, bytes_limit: bool = False):
        self.token = token
        self.token_in_query = token_in_query
        self.max_text = max_text
        self.bytes_limit = bytes_limit
        self.known: set[str] = set()  # people who wrote to the page
        self.window_closed: set[str] = set()
        self.sent: list[dict[str, Any]] = []
        self._failures: deque[JSONResponse] = deque()
        self._ids = itertools.count(1)
        self.app = Starlette(routes=[Route("/{version}/me/messages", self._send, methods=["POST"])])

    def fail_next(self, response: JSONResponse) -> None:
        self._failures.append(response)

    async def _send(self, request: Request) -> JSONResponse:
        if self.token_in_query:
            token = request.query_params.get("access_token")
        else:
            token = (request.headers.get("authorization") or "").removeprefix("Bearer ")
        if token != self.token:
            return graph_error(190, "Invalid OAuth access token - Cannot parse access token", status=401)
        if self._failures:
            return self._failures.popleft()
        body = await request.json()
        recipient = (body.get("recipient") or {}).get("id")
        if not recipient:
            return graph_error(100, "(#100) The parameter recipient is required")
        if recipient not in self.known:
            return graph_error(100, "(#100) No matching user found", 2018001)
        message = body.get("message") or {}
        if "text" not in message and "attachment" not in message:
            return graph_error(100, "(#100) Must send either message or state")
        text = message.get("text", "")
        size = len(text.encode()) if self.bytes_limit else len(text)
        if size > self.max_text:
            return graph_error(
                100, f"(#100) Length of param message[text] must be less than or equal to {self.max_text}"
            )
        if body.get("messaging_type") not in ("RESPONSE", "UPDATE", "MESSAGE_TAG"):
            return graph_error(
                100, "(#100) Param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}"
            )
        if recipient in self.window_closed and body.get("tag") != "HUMAN_AGENT":
            return graph_error(10, "(#10) This message is sent outside of allowed window.", 2018278)
        message_id = f"m_fake{next(self._ids)}"
        self.sent.append({**body, "_message_id": message_id})
        return JSONResponse({"recipient_id": recipient, "message_id": message_id})

    @contextlib.asynccontextmanager
    async def serve(self) -> AsyncIterator[str]:
        async with serve_app(self.app) as base:
            yield base
