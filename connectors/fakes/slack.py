"""A fake Slack Web API (`POST {base}/api/chat.postMessage`) with Slack's habits: errors come back
as HTTP 200 with `ok: false`, rate limits as HTTP 429 with Retry-After; and signed Events API
posts, as Slack sends them, to our webhook."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.fakes.whatsapp import serve_app

MAX_TEXT = 40_000


class FakeSlack:
    def __init__(self, bot_token: str):
        self.bot_token = bot_token
        self.channels: set[str] = set()  # conversations the app is in
        self.archived: set[str] = set()
        self.sent: list[dict[str, Any]] = []
        self._failures: deque[Response] = deque()
        self._ts = itertools.count(1)
        self.app = Starlette(routes=[Route("/api/chat.postMessage", self._post, methods=["POST"])])

    def fail_next(self, response: Response) -> None:
        self._failures.append(response)

    async def _post(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {self.bot_token}":
            return JSONResponse({"ok": False, "error": "invalid_auth"})
        if self._failures:
            return self._failures.popleft()
        body = orjson.loads(await request.body())
        channel = body.get("channel")
        if not channel or channel not in self.channels:
            return JSONResponse({"ok": False, "error": "channel_not_found"})
        if channel in self.archived:
            return JSONResponse({"ok": False, "error": "is_archived"})
        if not body.get("text") and not body.get("blocks"):
            return JSONResponse({"ok": False, "error": "no_text"})
        if len(body.get("text") or "") > MAX_TEXT:
            return JSONResponse({"ok": False, "error": "msg_too_long"})
        for block in body.get("blocks") or []:
            if block.get("type") not in ("section", "image", "actions", "context", "divider", "header"):
                return JSONResponse({"ok": False, "error": "invalid_blocks"})
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        self.sent.append({**body, "_ts": ts})
        return JSONResponse(
            {"ok": True, "channel": channel, "ts": ts, "message": {"text": body.get("text"), "ts": ts}}
        )

    @staticmethod
    def message_event(
        user: str, channel: str, text: str, ts: str | None = None, team: str = "T0FAKE001"
    ) -> dict[str, Any]:
        ts = ts or f"{time.time():.6f}"
        return {
            "token": "deprecated",
            "team_id": team,
            "api_app_id": "A0FAKEAPP1",
            "event": {
                "type": "message",
                "user": user,
                "text": text,
                "ts": ts,
                "channel": channel,
                "channel_type": "im",
                "event_ts": ts,
            },
            "type": "event_callback",
            "event_id": f"Ev{ts.replace('.', '')}",
            "event_time": int(float(ts)),
            "authorizations": [{"team_id": team, "user_id": "U0BOT0001", "is_bot": True}],
        }

    @staticmethod
    def signed(body: bytes, signing_secret: str, timestamp: int | None = None) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        signature = (
            "v0=" + hmac.new(signing_secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
        )
        return {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
        }

    async def post_event(
        self, url: str, event: dict[str, Any], signing_secret: str, **headers: str
    ) -> httpx.Response:
        body = orjson.dumps(event)
        async with httpx.AsyncClient(timeout=20) as client:
            return await client.post(
                url, content=body, headers={**self.signed(body, signing_secret), **headers}
            )

    @contextlib.asynccontextmanager
    async def serve(self) -> AsyncIterator[str]:
        async with serve_app(self.app) as base:
            yield base
