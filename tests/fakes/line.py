"""A fake LINE Messaging API: the push endpoint (as strict as LINE's, retry keys included) and the
signed webhooks LINE would post.

Tests use it instead of api.line.me. Error bodies have LINE's shape (`message`,
`details[{message, property}]`, `sentMessages` on a repeated retry key), message ids are LINE's
18-digit numbers, and webhook bodies follow platform-samples/line.
"""

from __future__ import annotations

import hmac
import itertools
import json
import logging
import random
import re
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from connectors.base import Platform
from connectors.fakes.server import FakeServer
from connectors.fakes.signing import sign_webhook

log = logging.getLogger(__name__)

MAX_MESSAGES = 5
MAX_TEXT_LENGTH = 5000
MONTHLY_LIMIT = {"message": "You have reached your monthly limit."}
AUTH_FAILED = {
    "message": "Authentication failed. Confirm that the access token in the authorization header is valid."
}
_TO_RE = re.compile(r"^[UCR][0-9a-f]{32}$")
_message_ids = itertools.count(random.randrange(10**17, 4 * 10**17))


def new_message_id() -> str:
    return str(next(_message_ids))


def new_event_id() -> str:
    """A ULID-looking webhookEventId (26 characters of Crockford base32)."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    value = (int(time.time() * 1000) << 80) | uuid.uuid4().int >> 48
    return "".join(alphabet[(value >> (5 * i)) & 31] for i in reversed(range(26)))


def body_error(*details: tuple[str, str]) -> dict[str, Any]:
    """A 400 validation body like send_error_400.json: (property, message) pairs."""
    return {
        "message": f"The request body has {len(details)} error(s)",
        "details": [{"message": message, "property": prop} for prop, message in details],
    }


@dataclass
class _Channel:
    channel_secret: str
    webhook_url: str | None
    bot_user_id: str


class FakeLine(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.channels: dict[str, _Channel] = {}  # by channel access token
        # Every accepted push: its JSON body plus "_fake" {retry_key, ids, access_token}.
        self.sent: list[dict[str, Any]] = []
        self.requests = 0  # every push request that reached the endpoint, refused or not
        self.quota: int | None = None  # messages left this month; None = unlimited
        self.webhook_responses: deque[httpx.Response] = deque(maxlen=1000)
        self._retry_keys: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.app = Starlette(routes=[Route("/v2/bot/message/push", self._push, methods=["POST"])])

    # ---- set-up -----------------------------------------------------------------------------

    def add_channel(
        self,
        access_token: str,
        *,
        channel_secret: str,
        webhook_url: str | None = None,
        bot_user_id: str = "U00000000000000000000000000000bot",
    ) -> None:
        self.channels[access_token] = _Channel(channel_secret, webhook_url, bot_user_id)

    def fail_next(
        self,
        status: int,
        body: dict[str, Any] | None = None,
        times: int = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        """The next `times` pushes answer `status` with `body` (LINE's usual one by default)."""
        if body is None:
            body = {
                429: {"message": "The API rate limit has been exceeded. Try again later."},
                401: AUTH_FAILED,
                500: {"message": "Internal Server Error"},
            }.get(status, {"message": "Failed to send messages"})
        self.queue_failures(status, body, times, headers)

    # ---- the push endpoint --------------------------------------------------------------------

    async def _push(self, request: Request) -> JSONResponse:
        self.requests += 1
        if (failure := self.next_failure()) is not None:
            return failure
        auth = request.headers.get("authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        channel = next(
            (
                c
                for t, c in self.channels.items()
                if token and hmac.compare_digest(t.encode(), token.encode())
            ),
            None,
        )
        if channel is None:
            return JSONResponse(AUTH_FAILED, status_code=401)
        key = request.headers.get("x-line-retry-key")
        if key is not None:
            try:
                uuid.UUID(key)
            except ValueError:
                return JSONResponse({"message": "The value of the X-Line-Retry-Key header is invalid"}, 400)
            earlier = self._retry_keys.get((token, key.lower()))
            if earlier is not None:  # the first request with this key was accepted: nothing is sent
                return JSONResponse(
                    {"message": "The retry key is already accepted", "sentMessages": earlier}, 409
                )
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"message": "The request body has 1 error(s)"}, 400)
        if not isinstance(body, dict):
            return JSONResponse({"message": "The request body has 1 error(s)"}, 400)
        problems = _validate(body)
        if problems:
            return JSONResponse(body_error(*problems), 400)
        if self.quota is not None and self.quota < len(body["messages"]):
            return JSONResponse(MONTHLY_LIMIT, 429)
        if self.quota is not None:
            self.quota -= len(body["messages"])
        sent = [
            {"id": new_message_id(), "quoteToken": "IStG5h1Tz7b5" + uuid.uuid4().hex[:23]}
            for _ in body["messages"]
        ]
        if key is not None:
            self._retry_keys[(token, key.lower())] = sent
        self.sent.append(
            {**body, "_fake": {"retry_key": key, "ids": [m["id"] for m in sent], "access_token": token}}
        )
        return JSONResponse({"sentMessages": sent})

    # ---- webhooks LINE would post -------------------------------------------------------------

    async def post_webhook(self, access_token: str, payload: dict[str, Any] | bytes) -> httpx.Response:
        """Sign and POST a body to the channel's webhook URL. Dicts are serialised compactly with
        non-ASCII kept as UTF-8, as LINE sends them: only these exact bytes verify."""
        channel = self._channel(access_token)
        if not channel.webhook_url:
            raise LookupError("the channel has no webhook_url")
        body = (
            payload
            if isinstance(payload, bytes)
            else json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        )
        signed = sign_webhook(Platform.LINE, body, channel.channel_secret, time.time(), channel.webhook_url)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "x-line-signature": signed.headers["x-line-signature"],
            "User-Agent": "LineBotWebhook/2.0",
        }
        response = await self._http().post(channel.webhook_url, content=body, headers=headers)
        self.webhook_responses.append(response)
        return response

    def envelope(self, access_token: str, *events: dict[str, Any]) -> dict[str, Any]:
        return {"destination": self._channel(access_token).bot_user_id, "events": list(events)}

    async def post_text(
        self,
        access_token: str,
        *,
        user_id: str,
        text: str,
        message_id: str | None = None,
        group_id: str | None = None,
        redelivery: bool = False,
    ) -> httpx.Response:
        event = event_base("message", user_id, group_id=group_id, redelivery=redelivery)
        event["message"] = {
            "type": "text",
            "id": message_id or new_message_id(),
            "quoteToken": "q3Plxr4AgKd9" + uuid.uuid4().hex[:31],
            "text": text,
        }
        event["replyToken"] = event.pop("replyToken")  # message events carry it last
        return await self.post_webhook(access_token, self.envelope(access_token, event))

    async def post_postback(self, access_token: str, *, user_id: str, data: str) -> httpx.Response:
        event = event_base("postback", user_id)
        event["postback"] = {"data": data}
        return await self.post_webhook(access_token, self.envelope(access_token, event))

    async def post_unsend(self, access_token: str, *, user_id: str, message_id: str) -> httpx.Response:
        event = event_base("unsend", user_id, reply_token=False)
        event["unsend"] = {"messageId": message_id}
        return await self.post_webhook(access_token, self.envelope(access_token, event))

    async def post_verify(self, access_token: str) -> httpx.Response:
        """What the console's Verify button sends."""
        return await self.post_webhook(access_token, self.envelope(access_token))

    # ---- internals ----------------------------------------------------------------------------

    def _channel(self, access_token: str) -> _Channel:
        channel = self.channels.get(access_token)
        if channel is None:
            raise LookupError("no channel with that access token was added to the fake")
        return channel


def event_base(
    kind: str,
    user_id: str,
    *,
    group_id: str | None = None,
    redelivery: bool = False,
    reply_token: bool = True,
    event_id: str | None = None,
) -> dict[str, Any]:
    """The fields every webhook event has, in the samples' order."""
    source: dict[str, Any] = {"type": "group", "groupId": group_id, "userId": user_id} if group_id else {}
    event: dict[str, Any] = {
        "webhookEventId": event_id or new_event_id(),
        "deliveryContext": {"isRedelivery": redelivery},
        "timestamp": int(time.time() * 1000),
        "source": source or {"type": "user", "userId": user_id},
        "mode": "active",
        "type": kind,
    }
    if reply_token:
        event["replyToken"] = uuid.uuid4().hex
    return event


def _validate(body: dict[str, Any]) -> list[tuple[str, str]]:
    """What LINE would refuse in a push body, as (property, message) pairs."""
    to = body.get("to")
    if not isinstance(to, str) or not to:
        return [("to", "May not be empty")]
    if not _TO_RE.match(to):
        return [("to", "The property, 'to', in the request body is invalid")]
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return [("messages", "May not be empty")]
    if len(messages) > MAX_MESSAGES:
        return [("messages", f"Size must be between 1 and {MAX_MESSAGES}")]
    problems: list[tuple[str, str]] = []
    for index, message in enumerate(messages):
        problems += _message_problems(message, f"messages[{index}]")
    return problems


def _https(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("https://") and len(value) <= 2000


def _message_problems(message: Any, path: str) -> list[tuple[str, str]]:
    if not isinstance(message, dict):
        return [(path, "Must be an object")]
    kind = message.get("type")
    problems: list[tuple[str, str]] = []
    if kind == "text":
        text = message.get("text")
        if not isinstance(text, str) or not text:
            problems.append((f"{path}.text", "May not be empty"))
        elif len(text) > MAX_TEXT_LENGTH:
            problems.append((f"{path}.text", f"Length must be between 0 and {MAX_TEXT_LENGTH}"))
    elif kind == "image":
        for key in ("originalContentUrl", "previewImageUrl"):
            if not _https(message.get(key)):
                problems.append((f"{path}.{key}", "Must be a valid HTTPS URL"))
    elif kind == "template":
        alt = message.get("altText")
        if not isinstance(alt, str) or not alt:
            problems.append((f"{path}.altText", "May not be empty"))
        elif len(alt) > 400:
            problems.append((f"{path}.altText", "Length must be between 0 and 400"))
        template = message.get("template")
        if not isinstance(template, dict) or template.get("type") != "buttons":
            problems.append((f"{path}.template.type", "Must be one of the following values: [buttons]"))
        else:
            text = template.get("text")
            if not isinstance(text, str) or not text:
                problems.append((f"{path}.template.text", "May not be empty"))
            elif len(text) > 160:
                problems.append((f"{path}.template.text", "Length must be between 0 and 160"))
            actions = template.get("actions")
            if not isinstance(actions, list) or not 1 <= len(actions) <= 4:
                problems.append((f"{path}.template.actions", "Size must be between 1 and 4"))
            else:
                for i, action in enumerate(actions):
                    problems += _action_problems(action, f"{path}.template.actions[{i}]")
    else:
        problems.append((f"{path}.type", "Must be one of the following values: [text, image, template]"))
    quick = message.get("quickReply")
    if quick is not None:
        items = quick.get("items") if isinstance(quick, dict) else None
        if not isinstance(items, list) or not 1 <= len(items) <= 13:
            problems.append((f"{path}.quickReply.items", "Size must be between 1 and 13"))
        else:
            for i, item in enumerate(items):
                if not isinstance(item, dict) or item.get("type") != "action":
                    problems.append((f"{path}.quickReply.items[{i}].type", "Must be action"))
                else:
                    problems += _action_problems(item.get("action"), f"{path}.quickReply.items[{i}].action")
    return problems


def _action_problems(action: Any, path: str) -> list[tuple[str, str]]:
    if not isinstance(action, dict):
        return [(path, "May not be empty")]
    problems: list[tuple[str, str]] = []
    label = action.get("label")
    if not isinstance(label, str) or not label:
        problems.append((f"{path}.label", "May not be empty"))
    elif len(label) > 20:
        problems.append((f"{path}.label", "Length must be between 0 and 20"))
    if action.get("type") == "postback":
        data = action.get("data")
        if not isinstance(data, str) or not data or len(data) > 300:
            problems.append((f"{path}.data", "Length must be between 1 and 300"))
        display = action.get("displayText")
        if display is not None and (not isinstance(display, str) or len(display) > 300):
            problems.append((f"{path}.displayText", "Length must be between 0 and 300"))
    elif action.get("type") == "uri":
        if not isinstance(action.get("uri"), str) or not re.match(r"^(https?|line|tel):", action["uri"]):
            problems.append((f"{path}.uri", "Must be a valid URI"))
    else:
        problems.append((f"{path}.type", "Must be one of the following values: [postback, uri]"))
    return problems
