"""A fake Viber REST Bot API: `/pa/send_message` and `/pa/set_webhook` as strict as Viber's, and
the signed callbacks Viber posts to a bot's webhook.

Like Viber, every answer is HTTP 200 with a JSON `status` (shapes of platform-samples/viber:
send_response.json, send_error_not_subscribed.json, set_webhook_response.json), message tokens
are 64-bit integers beyond 2^53, set_webhook checks the URL at once with a signed `webhook`
callback that must answer 200, and sending needs a webhook set first.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import logging
import random
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from connectors.fakes.server import FakeServer

log = logging.getLogger(__name__)

MAX_TEXT_LENGTH = 7000
MAX_CAPTION = 768
MAX_SENDER_NAME = 28
MAX_TRACKING_DATA = 4096
MAX_BUTTONS = 24
CHAT_HOSTNAME = "SN-CHAT-05_"
_EVENT_TYPES = frozenset(
    {"delivered", "seen", "failed", "subscribed", "unsubscribed", "conversation_started"}
)
_ACTION_TYPES = frozenset({"reply", "open-url", "location-picker", "share-phone", "none"})
_STATUS_NAMES = {
    0: "ok",
    1: "invalidUrl",
    2: "invalidAuthToken",
    3: "badData",
    4: "missingData",
    5: "receiverNotRegistered",
    6: "notSubscribed",
    7: "publicAccountBlocked",
    10: "webhookNotSet",
    12: "tooManyRequests",
    13: "apiVersionNotSupported",
    23: "freeMessagesExceeded",
    24: "noBalance",
}
# Viber's tokens: 64-bit, beyond what a double holds exactly (the samples' 5741311803571721088).
_tokens = itertools.count(5_741_311_803_571_800_000 + random.randrange(10**9) * 1000)


def new_token() -> int:
    return next(_tokens)


def sign(auth_token: str, body: bytes) -> str:
    """X-Viber-Content-Signature: hex HMAC-SHA256 of the raw body, keyed by the bot's token."""
    return hmac.new(auth_token.encode(), body, hashlib.sha256).hexdigest()


def status(code: int, message: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"status": code, "status_message": message or _STATUS_NAMES.get(code, "error"), **extra}


@dataclass
class _Failure:
    status: int  # Viber's JSON status
    http_status: int
    headers: dict[str, str]


class FakeViber(FakeServer):
    def __init__(self, auth_token: str, *, bot_name: str = "Acme"):
        super().__init__()
        self.auth_token = auth_token
        self.bot_name = bot_name
        self.subscribers: set[str] = set()  # may be written to
        self.unsubscribed: set[str] = set()  # known to Viber, but not (or no longer) subscribed
        self.webhook: str | None = None
        self.event_types: list[str] = []
        self.require_https = False  # Viber's own rule; tests serve plain http on loopback
        # (public prefix, reachable prefix): the URL set_webhook names is the app's PUBLIC_URL, which
        # in tests is not where the test server listens; the fake posts there instead, as Viber would.
        self.reach: tuple[str, str] | None = None
        self.set_webhook_calls: list[dict[str, Any]] = []  # every set_webhook body that was authorised
        self.sent: list[dict[str, Any]] = []  # accepted send_message bodies, plus "_token"
        # Viber hands the tracking_data of the bot's last message back with the user's next one.
        self.tracking: dict[str, str] = {}
        self.requests = 0  # every send_message that reached the endpoint, refused or not
        self.auto_statuses: list[str] = []  # e.g. ["delivered", "seen"] after each accepted send
        self.auto_status_delay = 0.05
        self.webhook_responses: deque[httpx.Response] = deque(maxlen=1000)
        self._failures: deque[_Failure] = deque()
        self.app = Starlette(
            routes=[
                Route("/pa/send_message", self._send, methods=["POST"]),
                Route("/pa/set_webhook", self._set_webhook, methods=["POST"]),
            ]
        )

    # ---- set-up -----------------------------------------------------------------------------

    def subscribe(self, user_id: str) -> None:
        self.unsubscribed.discard(user_id)
        self.subscribers.add(user_id)

    def unsubscribe(self, user_id: str) -> None:
        self.subscribers.discard(user_id)
        self.unsubscribed.add(user_id)

    def fail_next(
        self, code: int, *, times: int = 1, http_status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        """The next `times` send_message calls answer `status: code` (HTTP `http_status`)."""
        for _ in range(times):
            self._failures.append(_Failure(code, http_status, dict(headers or {})))

    # ---- the API ------------------------------------------------------------------------------

    def _authorized(self, request: Request) -> bool:
        given = request.headers.get("x-viber-auth-token", "")
        return hmac.compare_digest(given.encode(), self.auth_token.encode())

    async def _json(self, request: Request) -> dict[str, Any] | None:
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return None
        return body if isinstance(body, dict) else None

    async def _send(self, request: Request) -> JSONResponse:
        self.requests += 1
        if self._failures:
            failure = self._failures.popleft()
            return JSONResponse(
                status(failure.status, chat_hostname=CHAT_HOSTNAME),
                status_code=failure.http_status,
                headers=failure.headers,
            )
        if not self._authorized(request):
            return JSONResponse(status(2, chat_hostname=CHAT_HOSTNAME))
        body = await self._json(request)
        if body is None:
            return JSONResponse(status(3, chat_hostname=CHAT_HOSTNAME))
        problem = _validate(body)
        if problem is not None:
            return JSONResponse(status(problem[0], problem[1], chat_hostname=CHAT_HOSTNAME))
        if self.webhook is None:
            return JSONResponse(status(10, chat_hostname=CHAT_HOSTNAME))
        receiver = body["receiver"]
        if receiver in self.unsubscribed:
            return JSONResponse(status(6, chat_hostname=CHAT_HOSTNAME))  # send_error_not_subscribed.json
        if receiver not in self.subscribers:
            return JSONResponse(status(5, chat_hostname=CHAT_HOSTNAME))
        token = new_token()
        self.sent.append({**body, "_token": token})
        if isinstance(body.get("tracking_data"), str):
            self.tracking[receiver] = body["tracking_data"]
        else:
            self.tracking.pop(receiver, None)
        if self.auto_statuses:
            self._spawn(self._auto_statuses(token, receiver, list(self.auto_statuses)))
        return JSONResponse(status(0, message_token=token, chat_hostname=CHAT_HOSTNAME, billing_status=1))

    async def _set_webhook(self, request: Request) -> JSONResponse:
        if not self._authorized(request):
            return JSONResponse(status(2, chat_hostname=CHAT_HOSTNAME))
        body = await self._json(request)
        if body is None:
            return JSONResponse(status(3))
        self.set_webhook_calls.append(body)
        url = body.get("url")
        if not isinstance(url, str):
            return JSONResponse(status(4, "missingData: url"))
        if url == "":  # an empty URL removes the webhook
            self.webhook = None
            return JSONResponse(status(0))
        if self.require_https and not url.startswith("https://"):
            return JSONResponse(status(1, "Invalid URL: only HTTPS is allowed"))
        types = body.get("event_types", sorted(_EVENT_TYPES))
        if not isinstance(types, list) or not set(types) <= _EVENT_TYPES:
            return JSONResponse(status(3, "badData: event_types"))
        # Viber checks the URL at once: a signed `webhook` callback that must answer 200.
        check = orjson.dumps(
            {
                "event": "webhook",
                "timestamp": int(time.time() * 1000),
                "chat_hostname": "SN-548_",
                "message_token": new_token(),
            }
        )
        target = url
        if self.reach is not None and url.startswith(self.reach[0]):
            target = self.reach[1] + url[len(self.reach[0]) :]
        try:
            answer = await self.post(check, url=target)
        except httpx.HTTPError as exc:
            return JSONResponse(status(1, f"Failed to connect to the webhook URL: {type(exc).__name__}"))
        if answer.status_code != 200:
            return JSONResponse(status(1, f"Result[HttpResponse status code: {answer.status_code}]"))
        self.webhook, self.event_types = url, list(types)
        return JSONResponse(status(0, event_types=list(types)))  # set_webhook_response.json

    # ---- callbacks Viber would post -----------------------------------------------------------

    async def post(
        self, body: bytes | dict[str, Any], *, url: str | None = None, signature: str | None = None
    ) -> httpx.Response:
        """POST a callback, signed with the bot's token (or the given `signature`), to the webhook."""
        target = url or self.webhook
        if target is None:
            raise LookupError("no webhook is set on the fake Viber")
        raw = body if isinstance(body, bytes) else orjson.dumps(body)
        headers = {
            "Content-Type": "application/json",
            "X-Viber-Content-Signature": signature or sign(self.auth_token, raw),
        }
        response = await self._http().post(target, content=raw, headers=headers)
        self.webhook_responses.append(response)
        return response

    def message_body(
        self,
        user_id: str,
        message: dict[str, Any] | str,
        *,
        name: str = "John McClane",
        token: int | None = None,
        tracking_data: str | None = None,
    ) -> dict[str, Any]:
        """A `message` callback like inbound_text.json; `message` is text or a message object.
        It carries the tracking_data of the bot's last message to the user, as Viber's do."""
        content = {"type": "text", "text": message} if isinstance(message, str) else dict(message)
        tracking_data = tracking_data if tracking_data is not None else self.tracking.get(user_id)
        if tracking_data is not None:
            content["tracking_data"] = tracking_data
        return {
            "event": "message",
            "timestamp": int(time.time() * 1000),
            "chat_hostname": "SN-376_",
            "message_token": token if token is not None else new_token(),
            "sender": {
                "id": user_id,
                "name": name,
                "avatar": "https://media-direct.cdn.viber.com/download_photo?dlid=FAKE&fltp=jpg&imsz=0000",
                "language": "en",
                "country": "GB",
                "api_version": 10,
            },
            "message": content,
            "silent": False,
        }

    async def post_message(self, user_id: str, message: dict[str, Any] | str, **kw: Any) -> httpx.Response:
        return await self.post(self.message_body(user_id, message, **kw))

    def status_body(self, event: str, token: int, user_id: str, desc: str | None = None) -> dict[str, Any]:
        """A delivered / seen / failed callback like status_*.json."""
        body: dict[str, Any] = {
            "event": event,
            "timestamp": int(time.time() * 1000),
            "chat_hostname": "SN-91_",
            "message_token": token,
            "user_id": user_id,
        }
        if event == "failed":
            body["desc"] = desc or "failure description"
        return body

    async def post_status(
        self, event: str, token: int, user_id: str, desc: str | None = None
    ) -> httpx.Response:
        return await self.post(self.status_body(event, token, user_id, desc))

    async def _auto_statuses(self, token: int, user_id: str, events: list[str]) -> None:
        await asyncio.sleep(self.auto_status_delay)
        for event in events:  # one at a time, in order
            try:
                await self.post_status(event, token, user_id)
            except (httpx.HTTPError, LookupError) as exc:
                log.warning("fake viber: status callback not delivered", extra={"error": repr(exc)})
                return


def _validate(body: dict[str, Any]) -> tuple[int, str] | None:
    """The first thing Viber would refuse in a send_message body, as (status, message)."""
    receiver, kind = body.get("receiver"), body.get("type")
    sender = body.get("sender")
    if not isinstance(receiver, str) or not receiver:
        return 4, "missingData: receiver"
    if not isinstance(sender, dict) or not isinstance(sender.get("name"), str) or not sender["name"]:
        return 4, "missingData: sender.name"
    if len(sender["name"]) > MAX_SENDER_NAME:
        return 3, "badData: sender.name is longer than 28 characters"
    if "avatar" in sender and not isinstance(sender["avatar"], str):
        return 3, "badData: sender.avatar"
    if not isinstance(body.get("min_api_version", 1), int):
        return 3, "badData: min_api_version"
    tracking = body.get("tracking_data")
    if tracking is not None and (not isinstance(tracking, str) or len(tracking) > MAX_TRACKING_DATA):
        return 3, "badData: tracking_data"
    if not isinstance(kind, str):
        return 4, "missingData: type"
    text = body.get("text")
    if kind == "text":
        if not isinstance(text, str) or not text:
            return 4, "missingData: text"
        if len(text) > MAX_TEXT_LENGTH:
            return 3, "badData: text is longer than 7000 characters"
    elif kind == "picture":
        if not isinstance(body.get("media"), str) or not body["media"].startswith(("http://", "https://")):
            return 4, "missingData: media"
        if not isinstance(text, str):
            return 4, "missingData: text"  # required for pictures, may be empty
        if len(text) > MAX_CAPTION:
            return 3, "badData: text is longer than 768 characters"
    elif kind in ("video", "file"):
        if not isinstance(body.get("media"), str) or not isinstance(body.get("size"), int):
            return 4, "missingData: media, size"
        if kind == "file" and not isinstance(body.get("file_name"), str):
            return 4, "missingData: file_name"
    elif kind not in ("url", "sticker", "contact", "location", "rich_media"):
        return 3, f"badData: unknown type {kind}"
    keyboard = body.get("keyboard")
    if keyboard is not None:
        buttons = keyboard.get("Buttons") if isinstance(keyboard, dict) else None
        if not isinstance(keyboard, dict) or keyboard.get("Type") != "keyboard":
            return 3, "badData: keyboard.Type"
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
            return 3, "badData: keyboard.Buttons"
        for button in buttons:
            if not isinstance(button, dict) or button.get("ActionType", "reply") not in _ACTION_TYPES:
                return 3, "badData: keyboard.Buttons[].ActionType"
            if not isinstance(button.get("ActionBody"), str) or not button["ActionBody"]:
                return 4, "missingData: keyboard.Buttons[].ActionBody"
    return None
