"""A fake Viber REST Bot API: `/pa/send_message` and `/pa/set_webhook`, token in X-Viber-Auth-Token,
every answer HTTP 200 with a `status` as Viber does; and signed callbacks to our webhook."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from connectors.fakes.whatsapp import serve_app


def _status(code: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"status": code, "status_message": message, "chat_hostname": "SN-CHAT-05_", **extra})


class FakeViber:
    def __init__(self, auth_token: str):
        self.auth_token = auth_token
        self.subscribers: set[str] = set()
        self.sent: list[dict[str, Any]] = []
        self.webhook: str | None = None
        self.throttle_next = 0
        self._tokens = itertools.count(5_741_311_803_571_800_000)  # beyond 2^53, like Viber's
        self.app = Starlette(
            routes=[
                Route("/pa/send_message", self._send, methods=["POST"]),
                Route("/pa/set_webhook", self._set_webhook, methods=["POST"]),
            ]
        )

    async def _send(self, request: Request) -> JSONResponse:
        if request.headers.get("x-viber-auth-token") != self.auth_token:
            return _status(2, "invalidAuthToken")
        body = orjson.loads(await request.body())
        if self.throttle_next:
            self.throttle_next -= 1
            return _status(12, "tooManyRequests")
        if not body.get("receiver") or not (body.get("sender") or {}).get("name") or not body.get("type"):
            return _status(4, "missingData")
        if body["type"] == "text" and not body.get("text"):
            return _status(4, "missingData")
        if len(body.get("text") or "") > 7000:
            return _status(3, "badData")
        if body["receiver"] not in self.subscribers:
            return _status(6, "notSubscribed")
        token = next(self._tokens)
        self.sent.append({**body, "_token": token})
        return _status(0, "ok", message_token=token, billing_status=1)

    async def _set_webhook(self, request: Request) -> JSONResponse:
        if request.headers.get("x-viber-auth-token") != self.auth_token:
            return _status(2, "invalidAuthToken")
        body = orjson.loads(await request.body())
        # Viber checks the URL at once with a signed `webhook` callback that must answer 200.
        callback = orjson.dumps(
            {
                "event": "webhook",
                "timestamp": int(time.time() * 1000),
                "chat_hostname": "SN-548_",
                "message_token": next(self._tokens),
            }
        )
        response = await self.post(body["url"], callback)
        if response.status_code != 200:
            return _status(1, "invalidUrl")
        self.webhook = body["url"]
        return _status(0, "ok", event_types=body.get("event_types", []))

    def sign(self, body: bytes) -> str:
        return hmac.new(self.auth_token.encode(), body, hashlib.sha256).hexdigest()

    async def post(self, url: str, body: bytes, signature: str | None = None) -> httpx.Response:
        async with httpx.AsyncClient(timeout=20) as client:
            headers = {
                "Content-Type": "application/json",
                "X-Viber-Content-Signature": signature or self.sign(body),
            }
            return await client.post(url, content=body, headers=headers)

    def message(self, user: str, text: str, name: str = "John") -> bytes:
        return orjson.dumps(
            {
                "event": "message",
                "timestamp": int(time.time() * 1000),
                "message_token": next(self._tokens),
                "sender": {"id": user, "name": name, "language": "en", "country": "GB", "api_version": 10},
                "message": {"type": "text", "text": text},
            }
        )

    @contextlib.asynccontextmanager
    async def serve(self) -> AsyncIterator[str]:
        async with serve_app(self.app) as base:
            yield base
