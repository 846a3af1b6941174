"""A fake Telegram Bot API: `POST {base}/bot<TOKEN>/<method>` as strict as the real one about the
token, required fields, known chats and blocked users, answering in the Bot API's envelope; and
the Updates Telegram would post to our webhook, with the secret-token header."""

from __future__ import annotations

import contextlib
import itertools
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from connectors.fakes.whatsapp import serve_app

MAX_TEXT = 4096
_MEDIA_FIELDS = {
    "sendPhoto": "photo",
    "sendDocument": "document",
    "sendVideo": "video",
    "sendAudio": "audio",
    "sendSticker": "sticker",
}


def _error(code: int, description: str, **parameters: Any) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return JSONResponse(body, status_code=code)


class FakeTelegram:
    def __init__(self) -> None:
        self.bots: dict[str, dict[str, Any]] = {}  # token → {"id", "username", "webhook": {...}}
        self.chats: set[int] = set()  # people who started a bot
        self.blocked: set[int] = set()
        self.sent: list[dict[str, Any]] = []  # every accepted call: body + "_method"
        self._failures: deque[JSONResponse] = deque()
        self._message_ids = itertools.count(5000)
        self._update_ids = itertools.count(900_000_000)
        self.app = Starlette(routes=[Route("/bot{token}/{method}", self._call, methods=["POST"])])

    def add_bot(self, token: str, username: str = "acme_support_bot") -> None:
        self.bots[token] = {"id": int(token.split(":")[0]), "username": username, "webhook": None}

    def start_chat(self, user_id: int) -> None:
        self.chats.add(user_id)

    def fail_next(self, response: JSONResponse, times: int = 1) -> None:
        self._failures.extend([response] * times)

    async def _call(self, request: Request) -> JSONResponse:
        bot = self.bots.get(request.path_params["token"])
        if bot is None:
            return _error(401, "Unauthorized")
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "Bad Request: invalid JSON")
        method = request.path_params["method"]
        if self._failures:
            return self._failures.popleft()
        if method == "setWebhook":
            secret = body.get("secret_token")
            if not body.get("url") or (secret is not None and not 1 <= len(secret) <= 256):
                return _error(400, "Bad Request: bad webhook")
            bot["webhook"] = body
            self.sent.append({**body, "_method": method})
            return JSONResponse({"ok": True, "result": True, "description": "Webhook was set"})
        if method != "sendMessage" and method not in _MEDIA_FIELDS:
            return _error(404, "Not Found: method not found")
        chat_id = body.get("chat_id")
        if chat_id is None:
            return _error(400, "Bad Request: chat_id is empty")
        try:
            chat = int(chat_id)
        except (TypeError, ValueError):
            return _error(400, "Bad Request: chat not found")
        if chat not in self.chats:
            return _error(400, "Bad Request: chat not found")
        if chat in self.blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        if method == "sendMessage":
            text = body.get("text")
            if not isinstance(text, str) or not text.strip():
                return _error(400, "Bad Request: message text is empty")
            if len(text) > MAX_TEXT:
                return _error(400, "Bad Request: message is too long")
        elif not isinstance(body.get(_MEDIA_FIELDS[method]), str):
            return _error(400, f"Bad Request: there is no {_MEDIA_FIELDS[method]} in the request")
        markup = body.get("reply_markup")
        if markup is not None:
            rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
            if not isinstance(rows, list) or any(
                not isinstance(b, dict) or not b.get("text") or not (b.get("callback_data") or b.get("url"))
                for row in rows
                for b in row
            ):
                return _error(400, "Bad Request: can't parse inline keyboard button")
        message_id = next(self._message_ids)
        self.sent.append({**body, "_method": method, "_message_id": message_id})
        result = {
            "message_id": message_id,
            "from": {
                "id": bot["id"],
                "is_bot": True,
                "first_name": "Acme Support",
                "username": bot["username"],
            },
            "chat": {"id": chat, "type": "private"},
            "date": int(time.time()),
            **({"text": body["text"]} if "text" in body else {}),
        }
        return JSONResponse({"ok": True, "result": result})

    # ---- what Telegram posts to us ----------------------------------------------------------------

    def text_update(
        self, user_id: int, text: str, first_name: str = "Jane", message_id: int | None = None
    ) -> dict[str, Any]:
        user = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"}
        return {
            "update_id": next(self._update_ids),
            "message": {
                "message_id": message_id or next(self._message_ids),
                "from": user,
                "chat": {"id": user_id, "first_name": first_name, "type": "private"},
                "date": int(time.time()),
                "text": text,
            },
        }

    async def post_update(self, url: str, update: dict[str, Any], secret_token: str | None) -> httpx.Response:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret_token} if secret_token else {}
        async with httpx.AsyncClient(timeout=20) as client:
            return await client.post(url, json=update, headers=headers)

    @contextlib.asynccontextmanager
    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
        async with serve_app(self.app, host, port) as base_url:
            yield base_url
