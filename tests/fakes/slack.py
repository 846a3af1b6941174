"""A fake Slack: the Web API methods we call and the signed Events API posts Slack would make.

Web API (`POST {base}/api/<method>`, JSON, `Authorization: Bearer xoxb-…`): chat.postMessage,
chat.update and conversations.open; `users.info` (GET with `?user=`, Slack's preferred method for
it) answering in Slack's real shape (`{"ok": true, "user": {…, "profile": {display_name, …}}}`),
`user_not_found` for strangers, after `users_delay` seconds when a test wants Slack slow. With Slack's habits: every refusal is HTTP 200 with
`{"ok": false, "error": "…"}` (invalid_auth, channel_not_found, not_in_channel, is_archived,
msg_too_long, invalid_blocks with its messages, …), and only rate limits are HTTP 429 with
Retry-After. Every call is recorded, refused or not.

Events: event_callback envelopes shaped like platform-samples/slack, slash commands and button
presses (form-encoded), all signed v0 with a timestamp, posted to our webhook URL.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import re
import time
import urllib.parse
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from connectors.fakes.server import FakeServer

MAX_TEXT = 40_000  # Slack refuses longer text with msg_too_long
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_ACTION_ELEMENTS = 25
_TS_RE = re.compile(r"^\d+\.\d+$")
_BLOCK_TYPES = frozenset({"section", "image", "actions", "context", "divider", "header", "rich_text"})


@dataclass
class _Conversation:
    member: bool = True  # the app was invited (else: not_in_channel)
    archived: bool = False


@dataclass
class _Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def sign(signing_secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack adds: v0=hex(HMAC-SHA256(secret, "v0:" + ts + ":" + body))."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(signing_secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def new_ts() -> str:
    """A fresh, unique Slack `ts` ("seconds.micro")."""
    return f"{int(time.time())}.{next(_ts_counter) % 1_000_000:06d}"


_ts_counter = itertools.count(int(uuid.uuid4().int % 900_000))


def _error(error: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"ok": False, "error": error, **extra})  # HTTP 200, as Slack does


class FakeSlack(FakeServer):
    client_headers: ClassVar[dict[str, str]] = {"User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-fake-token",
        signing_secret: str = "fake-signing-secret",
        team_id: str = "T0FAKE001",
        bot_user_id: str = "U0BOT0001",
        bot_id: str = "B0FAKEBOT1",
        app_id: str = "A0FAKEAPP1",
        webhook_url: str | None = None,
    ):
        super().__init__()
        self.bot_token = bot_token
        self.signing_secret = signing_secret
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.webhook_url = webhook_url
        self.conversations: dict[str, _Conversation] = {}
        self.users: dict[str, str] = {}  # user id → their DM conversation with the app
        self.profiles: dict[str, dict[str, Any]] = {}  # user id → users.info's `user` object
        self.users_delay = 0.0  # seconds users.info takes (a slow Slack)
        self.requests: list[dict[str, Any]] = []  # every Web API call: method, headers, body
        self.sent: list[dict[str, Any]] = []  # accepted chat.postMessage bodies (+ "_ts")
        self.updates: list[dict[str, Any]] = []  # accepted chat.update bodies
        self.posted: dict[tuple[str, str], dict[str, Any]] = {}  # (channel, ts) → our message
        self.webhook_responses: deque[httpx.Response] = deque(maxlen=1000)
        self._failures: deque[_Failure] = deque()
        self.app = Starlette(
            routes=[
                Route("/api/users.info", self._users_info, methods=["GET", "POST"]),
                Route("/api/{method}", self._api, methods=["POST"]),
            ]
        )

    # ---- set-up -----------------------------------------------------------------------------

    def add_conversation(self, conversation_id: str, *, member: bool = True, archived: bool = False) -> None:
        self.conversations[conversation_id] = _Conversation(member=member, archived=archived)

    def add_user(self, user_id: str, dm: str | None = None) -> str:
        """A workspace member; returns the id of their DM with the app (what conversations.open gives)."""
        dm = dm or "D" + hashlib.sha1(user_id.encode(), usedforsecurity=False).hexdigest()[:10].upper()
        self.users[user_id] = dm
        self.add_conversation(dm)
        return dm

    def add_profile(self, user_id: str, real_name: str, display_name: str = "") -> dict[str, Any]:
        """A member users.info can describe (Slack leaves display_name "" when never set)."""
        handle = real_name.split()[0].lower() if real_name.split() else user_id.lower()
        user = {
            "id": user_id,
            "team_id": self.team_id,
            "name": handle,
            "deleted": False,
            "real_name": real_name,
            "tz": "Europe/Lisbon",
            "tz_label": "Western European Summer Time",
            "tz_offset": 3600,
            "profile": {
                "real_name": real_name,
                "real_name_normalized": real_name,
                "display_name": display_name,
                "display_name_normalized": display_name,
                "avatar_hash": "ge3b51ca72de",
                "image_24": "https://a.slack-edge.com/df10d/img/avatars/ava_0024-24.png",
                "team": self.team_id,
            },
            "is_admin": False,
            "is_owner": False,
            "is_bot": False,
            "is_app_user": False,
            "updated": 1502138686,
        }
        self.profiles[user_id] = user
        return user

    def fail_next(
        self,
        status: int = 200,
        error: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        times: int = 1,
        **extra: Any,
    ) -> None:
        """The next `times` Web API calls answer `status` with `{"ok": false, "error": error}`.
        fail_next(429, headers={"Retry-After": "7"}) is Slack's rate limit; fail_next(error="…") an
        ok:false refusal with HTTP 200."""
        if error is None:
            error = {429: "ratelimited"}.get(status, "fatal_error" if status >= 500 else "invalid_arguments")
        for _ in range(times):
            self._failures.append(
                _Failure(status, {"ok": False, "error": error, **extra}, dict(headers or {}))
            )

    # ---- the Web API ----------------------------------------------------------------------------

    async def _api(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        raw = await request.body()
        content_type = request.headers.get("content-type", "")
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self.requests.append(
            {
                "method": method,
                "authorization": request.headers.get("authorization"),
                "content_type": content_type,
                "body": body,
            }
        )
        if self._failures:
            failure = self._failures.popleft()
            return JSONResponse(failure.body, status_code=failure.status, headers=failure.headers)
        handler = {
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "conversations.open": self._open,
        }.get(method)
        if handler is None:
            return JSONResponse({"ok": False, "error": "unknown_method"}, status_code=404)
        token = request.headers.get("authorization", "")
        if not token:
            return _error("not_authed")
        if not hmac.compare_digest(token.encode(), f"Bearer {self.bot_token}".encode()):
            return _error("invalid_auth")
        if not content_type.startswith("application/json") or not isinstance(body, dict):
            return _error("invalid_form_data")  # JSON is only read with a JSON content type
        response = handler(body)
        if "charset" not in content_type:  # Slack's gentle nudge, on success and failure alike
            payload = json.loads(response.body)
            payload["warning"] = "missing_charset"
            payload.setdefault("response_metadata", {})["warnings"] = ["missing_charset"]
            return JSONResponse(payload)
        return response

    async def _users_info(self, request: Request) -> JSONResponse:
        form = dict(await request.form()) if request.method == "POST" else {}
        user = request.query_params.get("user") or form.get("user")
        self.requests.append(
            {
                "method": "users.info",
                "authorization": request.headers.get("authorization"),
                "content_type": request.headers.get("content-type", ""),
                "body": {"user": user},
            }
        )
        if self.users_delay:
            await asyncio.sleep(self.users_delay)
        if self._failures:
            failure = self._failures.popleft()
            return JSONResponse(failure.body, status_code=failure.status, headers=failure.headers)
        token = request.headers.get("authorization", "")
        if not token:
            return _error("not_authed")
        if not hmac.compare_digest(token.encode(), f"Bearer {self.bot_token}".encode()):
            return _error("invalid_auth")
        if not user:
            return _error("user_not_found")  # Slack's answer to a missing user argument too
        profile = self.profiles.get(str(user))
        if profile is None:
            return _error("user_not_found")
        return JSONResponse({"ok": True, "user": profile})

    def _conversation_problem(self, conversation: Any) -> JSONResponse | None:
        known = self.conversations.get(conversation) if isinstance(conversation, str) else None
        if known is None:
            return _error("channel_not_found")
        if known.archived:
            return _error("is_archived")
        if not known.member:
            return _error("not_in_channel")
        return None

    def _content_problem(self, body: dict[str, Any]) -> JSONResponse | None:
        text, blocks = body.get("text"), body.get("blocks")
        if text is not None and not isinstance(text, str):
            return _error("invalid_arguments")
        if not (text or "").strip() and not blocks:
            return _error("no_text")
        if len(text or "") > MAX_TEXT:
            return _error("msg_too_long")
        if blocks is not None:
            problems = _block_problems(blocks)
            if problems:
                return _error("invalid_blocks", response_metadata={"messages": problems})
        return None

    def _post_message(self, body: dict[str, Any]) -> JSONResponse:
        conversation = body.get("channel")
        problem = self._conversation_problem(conversation) or self._content_problem(body)
        if problem is not None:
            return problem
        thread_ts = body.get("thread_ts")
        if thread_ts is not None and not (isinstance(thread_ts, str) and _TS_RE.match(thread_ts)):
            return _error("invalid_thread_ts")
        ts = new_ts()
        message: dict[str, Any] = {
            "type": "message",
            "subtype": "bot_message",
            "text": body.get("text") or "",
            "ts": ts,
            "username": "Acme Support",
            "bot_id": self.bot_id,
            "app_id": self.app_id,
        }
        for key in ("thread_ts", "blocks"):
            if body.get(key):
                message[key] = body[key]
        self.posted[(conversation, ts)] = message
        self.sent.append({**body, "_ts": ts})
        return JSONResponse({"ok": True, "channel": conversation, "ts": ts, "message": message})

    def _update(self, body: dict[str, Any]) -> JSONResponse:
        conversation, ts = body.get("channel"), body.get("ts")
        problem = self._conversation_problem(conversation)
        if problem is not None:
            return problem
        message = self.posted.get((conversation, ts)) if isinstance(ts, str) else None
        if message is None:
            return _error("message_not_found")
        problem = self._content_problem(body)
        if problem is not None:
            return problem
        message["text"] = body.get("text") or ""
        if "blocks" in body:  # an empty list removes the old blocks, as on Slack
            message["blocks"] = body["blocks"]
        self.updates.append(dict(body))
        return JSONResponse(
            {"ok": True, "channel": conversation, "ts": ts, "text": message["text"], "message": message}
        )

    def _open(self, body: dict[str, Any]) -> JSONResponse:
        users = body.get("users")
        ids = [u.strip() for u in users.split(",")] if isinstance(users, str) else []
        if not ids or not all(ids):
            return _error("users_list_not_supplied")
        if len(ids) > 1:
            return _error("not_enough_users")  # group DMs are not something the fake opens
        if ids[0] == self.bot_user_id:
            return _error("cannot_dm_bot")
        dm = self.users.get(ids[0])
        if dm is None:
            return _error("user_not_found")
        return JSONResponse({"ok": True, "no_op": True, "already_open": True, "channel": {"id": dm}})

    # ---- what Slack posts to us -----------------------------------------------------------------

    def envelope(self, event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
        """An event_callback as Slack wraps every event (see inbound_text.json)."""
        event_time = int(float(event.get("event_ts") or event.get("ts") or time.time()))
        return {
            "token": "XXYYZZFAKEVERIFTOKEN",  # deprecated verification token, still sent
            "team_id": self.team_id,
            "context_team_id": self.team_id,
            "context_enterprise_id": None,
            "api_app_id": self.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or "Ev" + uuid.uuid4().hex[:10].upper(),
            "event_time": event_time,
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }

    def message_event(
        self,
        user: str,
        conversation: str,
        text: str,
        *,
        ts: str | None = None,
        thread_ts: str | None = None,
        channel_type: str = "im",
        kind: str = "message",
        files: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A person's message (`kind="app_mention"` for a mention of the app) as the inner event."""
        ts = ts or new_ts()
        event: dict[str, Any] = {"type": kind, "user": user, "text": text, "ts": ts}
        if kind == "message":
            event["client_msg_id"] = str(uuid.uuid4())
        if files:
            event.update(subtype="file_share", files=files, upload=False, display_as_bot=False)
        event.update(team=self.team_id, channel=conversation, event_ts=ts)
        if kind == "message":
            event["channel_type"] = channel_type
        if thread_ts:
            event["thread_ts"] = thread_ts
        return event

    def reaction_event(
        self, user: str, conversation: str, item_ts: str, reaction: str, *, removed: bool = False
    ) -> dict[str, Any]:
        return {
            "type": "reaction_removed" if removed else "reaction_added",
            "user": user,
            "reaction": reaction,
            "item_user": self.bot_user_id,
            "item": {"type": "message", "channel": conversation, "ts": item_ts},
            "event_ts": new_ts(),
        }

    def slash_command(self, user: str, conversation: str, command: str, text: str = "") -> dict[str, str]:
        """The form fields of a slash command (see _official_doc_slash_command.form)."""
        trigger = f"{int(time.time())}.{uuid.uuid4().int % 10**11}.{uuid.uuid4().hex}"
        return {
            "token": "xyzz0WbapA4vBCDEFasx0q6G",
            "team_id": self.team_id,
            "team_domain": "acme",
            "channel_id": conversation,
            "channel_name": "directmessage",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": self.app_id,
            "response_url": f"https://hooks.slack.com/commands/{self.team_id}/1/{uuid.uuid4().hex[:24]}",
            "trigger_id": trigger,
        }

    def button_press(self, user: str, conversation: str, message_ts: str, action_id: str) -> dict[str, str]:
        """The form fields of a block_actions interaction: `user` pressed `action_id` on one of our
        messages (looked up in what was posted, so the button's text and value are the real ones)."""
        message = self.posted.get((conversation, message_ts))
        if message is None:
            raise LookupError(f"no message {conversation}:{message_ts} was posted through the fake")
        element = next(
            (
                e
                for block in message.get("blocks") or []
                if block.get("type") == "actions"
                for e in block.get("elements") or []
                if e.get("action_id") == action_id
            ),
            None,
        )
        if element is None:
            raise LookupError(f"message {conversation}:{message_ts} has no button {action_id!r}")
        now = f"{time.time():.6f}"
        action = {
            "type": "button",
            "action_id": action_id,
            "block_id": uuid.uuid4().hex[:5],
            "text": element["text"],
            "action_ts": now,
        }
        if "value" in element:
            action["value"] = element["value"]
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": self.team_id},
            "api_app_id": self.app_id,
            "token": "XXYYZZFAKEVERIFTOKEN",
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": conversation,
                "is_ephemeral": False,
            },
            "trigger_id": f"{int(time.time())}.{uuid.uuid4().int % 10**11}.{uuid.uuid4().hex}",
            "team": {"id": self.team_id, "domain": "acme"},
            "channel": {"id": conversation, "name": "directmessage"},
            "message": message,
            "response_url": f"https://hooks.slack.com/actions/{self.team_id}/1/{uuid.uuid4().hex[:24]}",
            "actions": [action],
        }
        return {"payload": json.dumps(payload, separators=(",", ":"))}

    async def post_event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        url: str | None = None,
        retry_num: int | None = None,
        timestamp: int | None = None,
        signing_secret: str | None = None,
    ) -> httpx.Response:
        """Sign and POST an event (wrapped in an event_callback unless it is a whole envelope
        already: url_verification, event_callback). `retry_num` adds Slack's retry headers."""
        payload = event if event.get("type") in ("event_callback", "url_verification") else None
        payload = payload or self.envelope(event, event_id=event_id)
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        if retry_num is not None:
            headers.update({"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"})
        return await self.post_raw(body, headers, url=url, timestamp=timestamp, signing_secret=signing_secret)

    async def post_form(
        self,
        fields: dict[str, str],
        *,
        url: str | None = None,
        timestamp: int | None = None,
        signing_secret: str | None = None,
    ) -> httpx.Response:
        """Sign and POST form fields: a slash command or an interaction."""
        body = urllib.parse.urlencode(fields).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return await self.post_raw(body, headers, url=url, timestamp=timestamp, signing_secret=signing_secret)

    async def post_raw(
        self,
        body: bytes,
        headers: dict[str, str],
        *,
        url: str | None = None,
        timestamp: int | None = None,
        signing_secret: str | None = None,
        signed_body: bytes | None = None,
    ) -> httpx.Response:
        """Sign and POST bytes. `signed_body`: sign these instead (a body altered in transit)."""
        target = url or self.webhook_url
        if not target:
            raise LookupError("the fake has no webhook_url and none was given")
        secret = signing_secret or self.signing_secret
        signed = {**headers, **sign(secret, body if signed_body is None else signed_body, timestamp)}
        response = await self._http().post(target, content=body, headers=signed)
        self.webhook_responses.append(response)
        return response


def _block_problems(blocks: Any) -> list[str]:
    """What Slack's Block Kit validation would say, in its own style; empty when fine."""
    if not isinstance(blocks, list):
        return ["[ERROR] must be an array [json-pointer:/blocks]"]
    if len(blocks) > MAX_BLOCKS:
        return [f"[ERROR] no more than {MAX_BLOCKS} items allowed [json-pointer:/blocks]"]
    problems: list[str] = []
    for i, block in enumerate(blocks):
        at = f"/blocks/{i}"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind not in _BLOCK_TYPES:
            problems.append(f"[ERROR] unsupported type: {kind} [json-pointer:{at}/type]")
            continue
        if kind == "section":
            text = block.get("text")
            if not isinstance(text, dict) or text.get("type") not in ("mrkdwn", "plain_text"):
                problems.append(f"[ERROR] missing required field: text [json-pointer:{at}/text]")
            elif not isinstance(text.get("text"), str) or not text["text"]:
                problems.append(f"[ERROR] must be more than 0 characters [json-pointer:{at}/text/text]")
            elif len(text["text"]) > MAX_SECTION_TEXT:
                problems.append(
                    f"[ERROR] must be less than {MAX_SECTION_TEXT + 1} characters [json-pointer:{at}/text/text]"
                )
        elif kind == "image":
            for key in ("image_url", "alt_text"):
                if not isinstance(block.get(key), str) or not block[key]:
                    problems.append(f"[ERROR] missing required field: {key} [json-pointer:{at}/{key}]")
            url = block.get("image_url")
            if isinstance(url, str) and url and not url.startswith(("http://", "https://")):
                problems.append(f"[ERROR] invalid URL [json-pointer:{at}/image_url]")
        elif kind == "actions":
            problems.extend(_action_problems(block.get("elements"), at))
    return problems


def _action_problems(elements: Any, at: str) -> list[str]:
    if not isinstance(elements, list) or not elements:
        return [f"[ERROR] must provide at least 1 items [json-pointer:{at}/elements]"]
    if len(elements) > MAX_ACTION_ELEMENTS:
        return [f"[ERROR] no more than {MAX_ACTION_ELEMENTS} items allowed [json-pointer:{at}/elements]"]
    problems: list[str] = []
    seen: set[str] = set()
    for j, element in enumerate(elements):
        where = f"{at}/elements/{j}"
        if not isinstance(element, dict) or element.get("type") != "button":
            problems.append(f"[ERROR] unsupported element [json-pointer:{where}]")
            continue
        text = element.get("text")
        if not isinstance(text, dict) or text.get("type") != "plain_text" or not text.get("text"):
            problems.append(f"[ERROR] must be a plain_text object [json-pointer:{where}/text]")
        elif len(text["text"]) > 75:
            problems.append(f"[ERROR] must be less than 76 characters [json-pointer:{where}/text/text]")
        action_id = element.get("action_id")
        if isinstance(action_id, str):
            if action_id in seen:
                problems.append(f"[ERROR] non-unique action_id [json-pointer:{where}/action_id]")
            seen.add(action_id)
        if len(str(element.get("value", ""))) > 2000:
            problems.append(f"[ERROR] must be less than 2001 characters [json-pointer:{where}/value]")
        if "url" in element and not str(element["url"]).startswith(("http://", "https://")):
            problems.append(f"[ERROR] invalid URL [json-pointer:{where}/url]")
    return problems
