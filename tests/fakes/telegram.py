"""A fake Telegram Bot API: `POST {base}/bot<TOKEN>/<method>` and the Updates Telegram would post.

As strict as Telegram where our code could go wrong: the token (401 "Unauthorized"), required
fields, 4096/1024 limits, chats that never started the bot ("chat not found"), users who blocked it
(403), groups upgraded to supergroups (`migrate_to_chat_id`), inline keyboards (callback_data of
1-64 bytes), webhook URLs and secret tokens. Answers are the Bot API envelope
(`{"ok":true,"result":…}` / `{"ok":false,"error_code":…,"description":…}`) with per-chat message
ids. Updates are posted to the webhook registered with setWebhook, carrying its
`X-Telegram-Bot-Api-Secret-Token`, shaped like the samples in platform-samples/telegram.
"""

from __future__ import annotations

import itertools
import json
import re
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from connectors.fakes.server import FakeServer

MAX_TEXT = 4096
MAX_CAPTION = 1024
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_MEDIA_FIELDS = {
    "sendPhoto": "photo",
    "sendDocument": "document",
    "sendVideo": "video",
    "sendAudio": "audio",
    "sendSticker": "sticker",
}
_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "callback_query",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "business_message",
    }
)


def error_body(code: int, description: str, **parameters: Any) -> dict[str, Any]:
    """The Bot API's error envelope, like send_error_*.json."""
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


def _error(code: int, description: str, **parameters: Any) -> JSONResponse:
    return JSONResponse(error_body(code, description, **parameters), status_code=code)


def _ok(result: Any, **extra: Any) -> JSONResponse:
    return JSONResponse({"ok": True, "result": result, **extra})


@dataclass
class Bot:
    token: str
    id: int
    username: str
    first_name: str
    webhook: dict[str, Any] | None = None  # what setWebhook stored: url, secret_token, allowed_updates


@dataclass
class Chat:
    id: int
    type: str = "private"
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    title: str | None = None
    blocked: bool = False
    migrated_to: int | None = None
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)  # message_id → Message

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        for key in ("first_name", "last_name", "username", "title"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        return data


@dataclass
class Call:
    """One call the fake received, whatever it answered."""

    token: str
    method: str
    body: dict[str, Any]
    status: int


class FakeTelegram(FakeServer):
    client_timeout: ClassVar[float] = 20

    def __init__(self, *, require_https: bool = True) -> None:
        super().__init__()
        # Telegram only posts to https URLs; tests posting to the app on loopback turn it off.
        self.require_https = require_https
        self.bots: dict[str, Bot] = {}
        self.chats: dict[int, Chat] = {}
        self.requests: list[Call] = []  # every call, answered or refused
        self.sent: list[dict[str, Any]] = []  # accepted sends: the body + _method, _chat_id, _message_id
        self.webhook_responses: deque[httpx.Response] = deque(maxlen=1000)
        self._failures: deque[tuple[int, dict[str, Any]]] = deque()
        self._message_ids: dict[int, itertools.count[int]] = defaultdict(lambda: itertools.count(5000))
        self._update_ids = itertools.count(900_000_000)
        self._callback_ids = itertools.count(1)
        self.app = Starlette(routes=[Route("/bot{token}/{method}", self._call, methods=["POST", "GET"])])

    # ---- set-up -----------------------------------------------------------------------------

    def add_bot(
        self, token: str, username: str = "acme_support_bot", first_name: str = "Acme Support"
    ) -> Bot:
        bot = Bot(token=token, id=int(token.split(":", 1)[0]), username=username, first_name=first_name)
        self.bots[token] = bot
        return bot

    def start_chat(
        self,
        user_id: int,
        first_name: str = "Jane",
        last_name: str | None = None,
        username: str | None = None,
    ) -> Chat:
        """The person pressed Start: the bot may now write to them."""
        chat = Chat(id=user_id, first_name=first_name, last_name=last_name, username=username)
        self.chats[user_id] = chat
        return chat

    def add_group(self, chat_id: int, title: str = "Acme Customers", type: str = "supergroup") -> Chat:
        chat = Chat(id=chat_id, type=type, title=title)
        self.chats[chat_id] = chat
        return chat

    def block(self, user_id: int) -> None:
        self.chats[user_id].blocked = True

    def migrate(self, group_id: int, supergroup_id: int) -> None:
        """The group was upgraded: sends to the old id fail with migrate_to_chat_id."""
        self.chats[group_id].migrated_to = supergroup_id
        self.add_group(supergroup_id, self.chats[group_id].title or "Group", "supergroup")

    def fail_next(
        self,
        status: int,
        description: str | None = None,
        *,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` calls (after the token check) answer `status`, like Telegram would.
        429 carries parameters.retry_after (default 35, as in send_error_429.json)."""
        if status == 429:
            wait = 35 if retry_after is None else retry_after
            body = error_body(429, description or f"Too Many Requests: retry after {wait}", retry_after=wait)
        else:
            default = {500: "Internal Server Error", 502: "Bad Gateway"}.get(status, "Bad Request")
            body = error_body(status, description or default)
        self._failures.extend([(status, body)] * times)

    # ---- the Bot API ----------------------------------------------------------------------------

    async def _call(self, request: Request) -> JSONResponse:
        token, method = request.path_params["token"], request.path_params["method"]
        body = await _body(request)
        response = self._answer(token, method, body)
        self.requests.append(
            Call(token, method, body if isinstance(body, dict) else {}, response.status_code)
        )
        return response

    def _answer(self, token: str, method: str, body: dict[str, Any] | None) -> JSONResponse:
        bot = self.bots.get(token)
        if bot is None:
            return _error(401, "Unauthorized")
        if body is None:
            return _error(400, "Bad Request: can't parse JSON object")
        if self._failures:
            status, failure = self._failures.popleft()
            return JSONResponse(failure, status_code=status)
        if method == "getMe":
            return _ok(
                {
                    "id": bot.id,
                    "is_bot": True,
                    "first_name": bot.first_name,
                    "username": bot.username,
                    "can_join_groups": True,
                    "can_read_all_group_messages": False,
                    "supports_inline_queries": False,
                }
            )
        if method == "setWebhook":
            return self._set_webhook(bot, body)
        if method == "sendMessage" or method in _MEDIA_FIELDS:
            return self._send(bot, method, body)
        return _error(404, "Not Found")

    def _set_webhook(self, bot: Bot, body: dict[str, Any]) -> JSONResponse:
        url = body.get("url")
        if not isinstance(url, str) or not url:
            return _error(400, "Bad Request: bad webhook: url is empty")  # deleting needs deleteWebhook here
        if not url.startswith("https://") and (self.require_https or not url.startswith("http://")):
            return _error(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        secret = body.get("secret_token")
        if secret is not None and (not isinstance(secret, str) or not _SECRET_RE.match(secret)):
            return _error(400, "Bad Request: bad webhook: secret token contains unallowed characters")
        allowed = body.get("allowed_updates")
        if allowed is not None and (
            not isinstance(allowed, list) or any(a not in _UPDATE_TYPES for a in allowed)
        ):
            return _error(400, "Bad Request: can't parse allowed updates")
        bot.webhook = {"url": url, "secret_token": secret, "allowed_updates": allowed}
        return _ok(True, description="Webhook was set")

    def _send(self, bot: Bot, method: str, body: dict[str, Any]) -> JSONResponse:
        raw_chat = body.get("chat_id")
        if raw_chat is None or raw_chat == "":
            return _error(400, "Bad Request: chat_id is empty")
        try:
            chat = self.chats.get(int(raw_chat))
        except (TypeError, ValueError):
            chat = None
        if chat is None:
            return _error(400, "Bad Request: chat not found")
        if chat.migrated_to is not None:
            return _error(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=chat.migrated_to,
            )
        if chat.blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        if "parse_mode" in body and body["parse_mode"] not in ("HTML", "Markdown", "MarkdownV2"):
            return _error(400, f"Bad Request: unsupported parse_mode {body['parse_mode']}")
        if method == "sendMessage":
            text = body.get("text")
            if not isinstance(text, str) or not text.strip():
                return _error(400, "Bad Request: message text is empty")
            if len(text) > MAX_TEXT:
                return _error(400, "Bad Request: message is too long")
        else:
            media_field = _MEDIA_FIELDS[method]
            media = body.get(media_field)
            if not isinstance(media, str) or not media:
                return _error(400, f"Bad Request: there is no {media_field} in the request")
            if media.startswith(("http://", "https://")) and "/not-found" in media:
                return _error(400, "Bad Request: failed to get HTTP URL content")
            if not media.startswith(("http://", "https://")) and len(media) < 20:
                return _error(400, "Bad Request: wrong file identifier/HTTP URL specified")
            caption = body.get("caption")
            if caption is not None:
                if method == "sendSticker":
                    return _error(400, "Bad Request: stickers can't have a caption")
                if not isinstance(caption, str) or len(caption) > MAX_CAPTION:
                    return _error(400, "Bad Request: message caption is too long")
        problem = _keyboard_problem(body.get("reply_markup"))
        if problem:
            return _error(400, problem)
        reply = body.get("reply_parameters")
        reply_to: dict[str, Any] | None = None
        if reply is not None:
            if not isinstance(reply, dict) or not isinstance(reply.get("message_id"), int):
                return _error(400, "Bad Request: can't parse reply parameters JSON object")
            reply_to = chat.messages.get(reply["message_id"])
            if reply_to is None and not reply.get("allow_sending_without_reply"):
                return _error(400, "Bad Request: message to be replied not found")
        message_id = next(self._message_ids[chat.id])
        result: dict[str, Any] = {
            "message_id": message_id,
            "from": {"id": bot.id, "is_bot": True, "first_name": bot.first_name, "username": bot.username},
            "chat": chat.as_dict(),
            "date": int(time.time()),
        }
        if method == "sendMessage":
            result["text"] = body["text"]
        else:
            result.update(_media_result(_MEDIA_FIELDS[method], body[_MEDIA_FIELDS[method]]))
            if body.get("caption"):
                result["caption"] = body["caption"]
        if reply_to is not None:
            result["reply_to_message"] = reply_to
        if body.get("reply_markup"):
            result["reply_markup"] = body["reply_markup"]
        chat.messages[message_id] = result
        self.sent.append({**body, "_method": method, "_chat_id": chat.id, "_message_id": message_id})
        return _ok(result)

    # ---- Updates Telegram posts to the webhook ------------------------------------------------

    def remember(self, chat_id: int, message: dict[str, Any]) -> None:
        """A customer's message exists in the chat (so replies to it resolve)."""
        self.chats[chat_id].messages[message["message_id"]] = message

    def _user(self, user_id: int) -> dict[str, Any]:
        chat = self.chats.get(user_id)
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": "Jane", "language_code": "en"}
        if chat is not None and chat.type == "private":
            user.update(
                {k: v for k, v in chat.as_dict().items() if k in ("first_name", "last_name", "username")}
            )
        return user

    def message_update(
        self,
        user_id: int,
        content: dict[str, Any],
        *,
        chat_id: int | None = None,
        message_id: int | None = None,
    ) -> dict[str, Any]:
        """An Update with a `message` from `user_id` (in its private chat, or `chat_id`)."""
        chat_id = user_id if chat_id is None else chat_id
        chat = self.chats.get(chat_id) or Chat(id=chat_id, first_name="Jane")
        message = {
            "message_id": message_id if message_id is not None else next(self._message_ids[chat_id]),
            "from": self._user(user_id),
            "chat": chat.as_dict(),
            "date": int(time.time()),
            **content,
        }
        if chat_id in self.chats:
            self.remember(chat_id, message)
        return {"update_id": next(self._update_ids), "message": message}

    def text_update(
        self, user_id: int, text: str, *, chat_id: int | None = None, message_id: int | None = None
    ) -> dict[str, Any]:
        content: dict[str, Any] = {"text": text}
        command = re.match(r"^/\w+(@\w+)?", text)
        if command:
            content["entities"] = [{"offset": 0, "length": len(command.group(0)), "type": "bot_command"}]
        return self.message_update(user_id, content, chat_id=chat_id, message_id=message_id)

    def photo_update(self, user_id: int, caption: str | None = None) -> dict[str, Any]:
        stem = uuid.uuid4().hex
        sizes = [
            {
                "file_id": f"AgAC{stem}{w}",
                "file_unique_id": f"AQAD{stem[:8]}{w}",
                "file_size": w * 70,
                "width": w,
                "height": w * 3 // 4,
            }
            for w in (90, 320, 1280)
        ]
        content: dict[str, Any] = {"photo": sizes}
        if caption:
            content["caption"] = caption
        return self.message_update(user_id, content)

    def edit_update(self, update: dict[str, Any], text: str) -> dict[str, Any]:
        """The customer edited the message of an earlier `message_update`."""
        edited = {**update["message"], "text": text, "edit_date": int(time.time())}
        return {"update_id": next(self._update_ids), "edited_message": edited}

    def callback_update(self, user_id: int, sent: dict[str, Any], callback_data: str) -> dict[str, Any]:
        """The customer pressed a button of a message the bot sent (an entry of `self.sent`)."""
        chat = self.chats[sent["_chat_id"]]
        message = chat.messages[sent["_message_id"]]
        buttons = [b for row in message["reply_markup"]["inline_keyboard"] for b in row]
        if not any(b.get("callback_data") == callback_data for b in buttons):
            raise LookupError(f"no button with callback_data {callback_data!r} on that message")
        query = {
            "id": f"{uuid.uuid4().int % 10**18:x}{next(self._callback_ids)}",
            "from": self._user(user_id),
            "message": message,
            "chat_instance": str(-(uuid.uuid4().int % 10**18)),
            "data": callback_data,
        }
        return {"update_id": next(self._update_ids), "callback_query": query}

    def reaction_update(
        self, user_id: int, chat_id: int, message_id: int, new: list[str], old: list[str] | None = None
    ) -> dict[str, Any]:
        reaction = {
            "chat": self.chats[chat_id].as_dict(),
            "message_id": message_id,
            "user": self._user(user_id),
            "date": int(time.time()),
            "old_reaction": [{"type": "emoji", "emoji": e} for e in old or []],
            "new_reaction": [{"type": "emoji", "emoji": e} for e in new],
        }
        return {"update_id": next(self._update_ids), "message_reaction": reaction}

    async def post_update(
        self,
        token: str,
        update: dict[str, Any] | bytes,
        *,
        secret_token: str | None = None,
        url: str | None = None,
    ) -> httpx.Response:
        """POST an Update the way Telegram does: to the bot's registered webhook with its secret
        token header (both overridable, to forge or to skip registration)."""
        bot = self.bots[token]
        webhook = bot.webhook or {}
        target = url or webhook.get("url")
        if not target:
            raise LookupError(f"bot {bot.username} has no webhook; call setWebhook or pass url")
        allowed = webhook.get("allowed_updates")
        if url is None and isinstance(update, dict) and allowed:
            kind = next(k for k in update if k != "update_id")
            if kind not in allowed:
                raise LookupError(f"Telegram would not deliver {kind!r}: not in allowed_updates {allowed}")
        secret = secret_token if secret_token is not None else webhook.get("secret_token")
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        content = update if isinstance(update, bytes) else json.dumps(update, ensure_ascii=False).encode()
        response = await self._http().post(target, content=content, headers=headers)
        self.webhook_responses.append(response)
        return response


async def _body(request: Request) -> dict[str, Any] | None:
    """Parameters as the Bot API takes them: JSON, a form, or the query string."""
    raw = await request.body()
    content_type = request.headers.get("content-type", "")
    if not raw:
        return dict(request.query_params)
    if content_type.startswith("application/json"):
        try:
            data = json.loads(raw)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None
    if content_type.startswith("application/x-www-form-urlencoded"):
        form = await request.form()
        data = {}
        for key, value in form.items():
            # Objects ride in forms as JSON-serialised strings.
            if key in ("reply_markup", "reply_parameters", "allowed_updates"):
                try:
                    data[key] = json.loads(str(value))
                except ValueError:
                    return None
            else:
                data[key] = value
        return data
    return None


def _keyboard_problem(markup: Any) -> str | None:
    if markup is None:
        return None
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        return "Bad Request: can't parse reply keyboard markup JSON object"
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str) or not button["text"]:
                return "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
            data, url = button.get("callback_data"), button.get("url")
            if (data is None) == (url is None):
                return "Bad Request: can't parse inline keyboard button: exactly one of callback_data and url is needed"
            if data is not None and (not isinstance(data, str) or not 1 <= len(data.encode()) <= 64):
                return "Bad Request: BUTTON_DATA_INVALID"
            if url is not None and (
                not isinstance(url, str) or not url.startswith(("https://", "http://", "tg://"))
            ):
                return "Bad Request: BUTTON_URL_INVALID"
    return None


def _media_result(kind: str, ref: str) -> dict[str, Any]:
    """What the sent Message carries for the file (Telegram answers with its own file ids)."""
    file_id = f"BQAC{uuid.uuid4().hex}"
    unique = uuid.uuid4().hex[:10]
    if kind == "photo":
        return {
            "photo": [
                {
                    "file_id": f"{file_id}s",
                    "file_unique_id": f"{unique}s",
                    "file_size": 1500,
                    "width": 90,
                    "height": 67,
                },
                {
                    "file_id": file_id,
                    "file_unique_id": unique,
                    "file_size": 90000,
                    "width": 1280,
                    "height": 960,
                },
            ]
        }
    name = ref.rsplit("/", 1)[-1] or kind
    if kind == "sticker":
        return {
            "sticker": {
                "file_id": file_id,
                "file_unique_id": unique,
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            }
        }
    return {kind: {"file_id": file_id, "file_unique_id": unique, "file_name": name, "file_size": 48213}}
