"""A fake Meta Graph Send API for Messenger and Instagram Direct, and the webhooks Meta would post.

One app serves both platforms, as Meta's Graph does:
- `POST /{version}/me/messages` (the account is the token's) and `POST /{version}/{id}/messages`;
- Messenger pages authenticate with `?access_token=<page token>`, Instagram accounts (Instagram
  Login) with `Authorization: Bearer <token>`; anything else is Graph's code 190;
- the body is checked the way the Send API checks it: recipient, messaging_type and tag rules
  (MESSAGE_TAG needs a tag, tags need MESSAGE_TAG, which tags each platform knows), exactly one of
  text or attachment, text limits (Messenger 2000 characters, Instagram 1000 UTF-8 bytes),
  quick replies and button templates;
- people must have written to the account (100/2018001 otherwise), and the 24-hour window holds
  (10/2018278; HUMAN_AGENT extends it to 7 days);
- errors come in Graph's envelope; `fail_next` and `rate_limit_next` (613 with Meta's
  X-Business-Use-Case-Usage header) queue failures.

Webhooks are signed with the account's app secret over the exact bytes, serialised the way Meta
does (compact, non-ASCII as \\uXXXX, `/` as `\\/`), so only a connector that verifies the raw body
accepts them.
"""

from __future__ import annotations

import base64
import json
import re
import time
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
from connectors.meta_common import sign_body

PAGE = "page"
INSTAGRAM = "instagram"
WINDOW = 24 * 3600
HUMAN_AGENT_WINDOW = 7 * 24 * 3600
TEXT_LIMITS = {PAGE: 2000, INSTAGRAM: 1000}  # Instagram counts UTF-8 bytes
MESSENGER_TAGS = frozenset(
    {"HUMAN_AGENT", "ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "CUSTOMER_FEEDBACK"}
)
INSTAGRAM_TAGS = frozenset({"HUMAN_AGENT"})
MESSAGING_TYPES = ("RESPONSE", "UPDATE", "MESSAGE_TAG")
MEDIA_TYPES = ("image", "video", "audio", "file")
_VERSION_RE = re.compile(r"^v\d+\.\d+$")
_TOP_KEYS = frozenset({"recipient", "messaging_type", "tag", "message", "notification_type", "persona_id"})
_MESSAGE_KEYS = frozenset({"text", "attachment", "quick_replies", "metadata"})


@dataclass
class _Account:
    kind: str  # PAGE or INSTAGRAM (the webhook `object`)
    account_id: str
    access_token: str
    app_secret: str
    webhook_url: str | None
    # people who wrote to the account → when they last did (unix seconds)
    users: dict[str, float] = field(default_factory=dict)


@dataclass
class _Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    after: int = 0  # requests to let through before this failure


def graph_error(
    code: int, message: str, *, subcode: int | None = None, is_transient: bool | None = None
) -> dict[str, Any]:
    """Graph's error envelope, shaped like messenger/send_error_outside_window.json."""
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if is_transient is not None:
        error["is_transient"] = is_transient
    error["fbtrace_id"] = "AFAKE" + uuid.uuid4().hex[:12]
    return {"error": error}


def _refuse(code: int, message: str, *, subcode: int | None = None, status: int = 400) -> JSONResponse:
    return JSONResponse(graph_error(code, message, subcode=subcode), status_code=status)


def _param(message: str) -> JSONResponse:
    return _refuse(100, f"(#100) {message}")


def _message_id(kind: str) -> str:
    raw = uuid.uuid4().bytes + uuid.uuid4().bytes
    if kind == INSTAGRAM:  # Instagram mids are base64 of "ig_item:…"
        return base64.b64encode(b"ig_item:1:IGMessageID:" + raw).decode().rstrip("=")
    return "m_" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


# ---- webhook bodies ---------------------------------------------------------------------------------


def now_ms() -> int:
    return int(time.time() * 1000)


def envelope(kind: str, account_id: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    """A webhook body: {"object": "page"|"instagram", "entry": [{id, time, messaging}]}."""
    return {"object": kind, "entry": [{"id": account_id, "time": now_ms(), "messaging": events}]}


def text_event(
    account_id: str, sender: str, text: str, *, mid: str | None = None, timestamp: int | None = None
) -> dict[str, Any]:
    """A customer's text message, as in messenger/inbound_text.json."""
    return {
        "sender": {"id": sender},
        "recipient": {"id": account_id},
        "timestamp": timestamp if timestamp is not None else now_ms(),
        "message": {"mid": mid or _message_id(PAGE), "text": text},
    }


def serialise(payload: dict[str, Any]) -> bytes:
    """Meta's bytes: compact, ASCII-only, with escaped slashes (re-serialising changes them)."""
    return json.dumps(payload, separators=(",", ":")).replace("/", "\\/").encode()


class FakeMetaGraph(FakeServer):
    client_headers: ClassVar[dict[str, str]] = {"User-Agent": "facebookexternalua"}

    def __init__(self) -> None:
        super().__init__()
        self.accounts: dict[str, _Account] = {}
        # Accepted sends: the body plus `_fake` (platform, account, message id, path).
        self.sent: list[dict[str, Any]] = []
        self.requests = 0  # every request to the send endpoints, refused ones included
        self.webhook_responses: deque[httpx.Response] = deque(maxlen=1000)
        self._failures: deque[_Failure] = deque()
        self._recipients: dict[str, tuple[str, str]] = {}  # message id → (account, recipient)
        self.app = Starlette(
            routes=[
                Route("/{version}/me/messages", self._messages, methods=["POST"]),
                Route("/{version}/{account_id}/messages", self._messages, methods=["POST"]),
            ]
        )

    # ---- set-up ---------------------------------------------------------------------------------

    def add_page(
        self, page_id: str, *, access_token: str, app_secret: str, webhook_url: str | None = None
    ) -> None:
        self.accounts[page_id] = _Account(PAGE, page_id, access_token, app_secret, webhook_url)

    def add_instagram_account(
        self, ig_account_id: str, *, access_token: str, app_secret: str, webhook_url: str | None = None
    ) -> None:
        self.accounts[ig_account_id] = _Account(
            INSTAGRAM, ig_account_id, access_token, app_secret, webhook_url
        )

    def add_user(self, account_id: str, user_id: str, *, last_wrote: float | None = None) -> None:
        """`user_id` wrote to the account `last_wrote` (unix seconds; default now)."""
        self._account(account_id).users[user_id] = time.time() if last_wrote is None else last_wrote

    def age_window(self, account_id: str, user_id: str, hours: float) -> None:
        """As if the person last wrote `hours` ago (25: outside the window; 200: past HUMAN_AGENT)."""
        self.add_user(account_id, user_id, last_wrote=time.time() - hours * 3600)

    def fail_next(
        self,
        status: int,
        body: dict[str, Any] | None = None,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        after: int = 0,
    ) -> None:
        """The next `times` send requests, whatever they carry, answer `status` with `body` (by
        default the Graph error that status usually carries); with `after`, only once that many
        requests have gone through normally."""
        if body is None:
            if status >= 500:
                body = graph_error(
                    2, "An unexpected error has occurred. Please retry your request later.", is_transient=True
                )
            else:
                body = graph_error(100, "(#100) Invalid parameter")
        for index in range(times):
            self._failures.append(_Failure(status, body, dict(headers or {}), after if index == 0 else 0))

    def rate_limit_next(self, account_id: str, *, minutes: int = 1, times: int = 1) -> None:
        """Graph's throttle: code 613 (HTTP 400) and the usage header saying when access returns."""
        usage = {
            account_id: [
                {
                    "type": "messenger",
                    "call_count": 100,
                    "total_cputime": 30,
                    "total_time": 40,
                    "estimated_time_to_regain_access": minutes,
                }
            ]
        }
        body = graph_error(613, "(#613) Calls to this api have exceeded the rate limit.")
        self.fail_next(400, body, times=times, headers={"X-Business-Use-Case-Usage": json.dumps(usage)})

    # ---- the send endpoint -------------------------------------------------------------------------

    async def _messages(self, request: Request) -> JSONResponse:
        self.requests += 1
        if self._failures and self._failures[0].after > 0:
            self._failures[0].after -= 1
        elif self._failures:
            failure = self._failures.popleft()
            return JSONResponse(failure.body, status_code=failure.status, headers=failure.headers)
        if not _VERSION_RE.match(request.path_params["version"]):
            return _refuse(2500, "Unknown path components: /messages")
        account, problem = self._authenticate(request)
        if account is None:
            assert problem is not None
            return problem
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _param("The request body is not valid JSON.")
        if not isinstance(body, dict):
            return _param("The request body must be a JSON object.")
        problem_text = _validate(account.kind, body)
        if problem_text is not None:
            return _param(problem_text)
        recipient = body["recipient"]["id"]
        last_wrote = account.users.get(recipient)
        if last_wrote is None:
            return _refuse(100, "(#100) No matching user found", subcode=2018001)
        if not _window_open(account.kind, body, time.time() - last_wrote):
            return _refuse(
                10,
                "(#10) This message is sent outside of allowed window. Learn more about the new policy "
                "here: https://developers.facebook.com/docs/messenger-platform/policy-overview",
                subcode=2018278,
            )
        message_id = _message_id(account.kind)
        self._recipients[message_id] = (account.account_id, recipient)
        self.sent.append(
            {
                **body,
                "_fake": {
                    "platform": account.kind,
                    "account_id": account.account_id,
                    "message_id": message_id,
                    "path": request.url.path,
                },
            }
        )
        return JSONResponse({"recipient_id": recipient, "message_id": message_id})

    def _authenticate(self, request: Request) -> tuple[_Account | None, JSONResponse | None]:
        query_token = request.query_params.get("access_token")
        authorization = request.headers.get("authorization", "")
        bearer = authorization.removeprefix("Bearer ") if authorization.startswith("Bearer ") else None
        path_id = request.path_params.get("account_id")
        candidates = [self.accounts[path_id]] if path_id in self.accounts else []
        if path_id is not None and not candidates:
            message = (
                f"Unsupported post request. Object with ID '{path_id}' does not exist, cannot be loaded "
                "due to missing permissions, or does not support this operation."
            )
            return None, _refuse(100, f"(#100) {message}", subcode=33)
        if path_id is None:
            candidates = list(self.accounts.values())
        for account in candidates:
            # Pages take the token as a query parameter, Instagram Login accounts as a Bearer header.
            given = query_token if account.kind == PAGE else bearer
            if given is not None and given == account.access_token:
                return account, None
        if query_token is None and bearer is None:
            return None, _refuse(
                2500, "An active access token must be used to query information about the current user."
            )
        return None, _refuse(190, "Invalid OAuth access token - Cannot parse access token")

    # ---- webhooks Meta would post --------------------------------------------------------------------

    async def post_webhook(self, account_id: str, payload: dict[str, Any] | bytes) -> httpx.Response:
        """Sign and POST a body to the account's webhook URL, as Meta does."""
        account = self._account(account_id)
        if not account.webhook_url:
            raise LookupError(f"account {account_id} has no webhook_url")
        body = payload if isinstance(payload, bytes) else serialise(payload)
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": sign_body(account.app_secret, body),
        }
        response = await self._http().post(account.webhook_url, content=body, headers=headers)
        self.webhook_responses.append(response)
        return response

    async def post_inbound_text(
        self, account_id: str, sender: str, text: str, *, mid: str | None = None
    ) -> httpx.Response:
        """The customer writes: the window opens (as on Meta) and the webhook is posted."""
        account = self._account(account_id)
        self.add_user(account_id, sender)
        event = text_event(account_id, sender, text, mid=mid or _message_id(account.kind))
        return await self.post_webhook(account_id, envelope(account.kind, account_id, [event]))

    async def post_delivery(
        self, page_id: str, message_ids: list[str], *, watermark: int | None = None
    ) -> httpx.Response:
        """Messenger's delivery receipt for messages we sent (status_delivered.json's shape)."""
        account = self._account(page_id)
        if account.kind != PAGE:
            raise ValueError("Instagram has no delivery receipts")
        user = self._recipient_of(message_ids[0])
        event = {
            "sender": {"id": user},
            "recipient": {"id": page_id},
            "delivery": {"mids": message_ids, "watermark": watermark or now_ms()},
        }
        return await self.post_webhook(page_id, envelope(PAGE, page_id, [event]))

    async def post_read(
        self, account_id: str, user_id: str, *, watermark: int | None = None, mid: str | None = None
    ) -> httpx.Response:
        """A read receipt: Messenger's names a watermark, Instagram's a message (`mid`)."""
        account = self._account(account_id)
        read = {"mid": mid} if account.kind == INSTAGRAM else {"watermark": watermark or now_ms()}
        if account.kind == INSTAGRAM and mid is None:
            raise ValueError("Instagram read receipts name a message: pass mid")
        event = {
            "sender": {"id": user_id},
            "recipient": {"id": account_id},
            "timestamp": now_ms(),
            "read": read,
        }
        return await self.post_webhook(account_id, envelope(account.kind, account_id, [event]))

    # ---- internals --------------------------------------------------------------------------------

    def _account(self, account_id: str) -> _Account:
        account = self.accounts.get(account_id)
        if account is None:
            raise LookupError(f"account {account_id} was not added to the fake")
        return account

    def _recipient_of(self, message_id: str) -> str:
        if message_id not in self._recipients:
            raise LookupError(f"{message_id} was not sent through the fake")
        return self._recipients[message_id][1]


def _window_open(kind: str, body: dict[str, Any], age: float) -> bool:
    if age <= WINDOW:
        return True
    tag = body.get("tag") if body.get("messaging_type") == "MESSAGE_TAG" else None
    if tag == "HUMAN_AGENT":
        return age <= HUMAN_AGENT_WINDOW
    # Messenger's other tags are non-promotional updates, allowed at any time.
    return kind == PAGE and tag in MESSENGER_TAGS


def _validate(kind: str, body: dict[str, Any]) -> str | None:
    """The first thing the Send API would refuse in `body`, as its message; None when fine."""
    unknown = sorted(set(body) - _TOP_KEYS)
    if unknown:
        return f'Unexpected key "{unknown[0]}" on param.'
    recipient = body.get("recipient")
    if not isinstance(recipient, dict) or "id" not in recipient:
        return "The parameter recipient is required."
    if set(recipient) != {"id"} or not isinstance(recipient["id"], str) or not recipient["id"].isdigit():
        return 'Param recipient[id] must be a valid ID string (e.g., "123").'
    messaging_type = body.get("messaging_type")
    if messaging_type is None and kind == PAGE:
        return "The parameter messaging_type is required."
    if messaging_type is not None and messaging_type not in MESSAGING_TYPES:
        return "Param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}."
    tag = body.get("tag")
    tags = MESSENGER_TAGS if kind == PAGE else INSTAGRAM_TAGS
    if messaging_type == "MESSAGE_TAG" and tag is None:
        return "The parameter tag is required when messaging_type is MESSAGE_TAG."
    if tag is not None and messaging_type != "MESSAGE_TAG":
        return "Param tag is only allowed when messaging_type is MESSAGE_TAG."
    if tag is not None and tag not in tags:
        return f"Param tag must be one of {{{', '.join(sorted(tags))}}}."
    message = body.get("message")
    if not isinstance(message, dict):
        return "The parameter message is required."
    unknown = sorted(set(message) - _MESSAGE_KEYS)
    if unknown:
        return f'Unexpected key "{unknown[0]}" on param message.'
    has_text, has_attachment = "text" in message, "attachment" in message
    if has_text == has_attachment:
        return (
            "Must send either message[text] or message[attachment], not both."
            if has_text
            else ("Must send either message[text] or message[attachment].")
        )
    if has_text:
        problem = _text(kind, message["text"], "message[text]")
    else:
        problem = _attachment(kind, message["attachment"])
    if problem is None and "quick_replies" in message:
        problem = _quick_replies(message["quick_replies"])
    return problem


def _text(kind: str, text: Any, name: str) -> str | None:
    if not isinstance(text, str) or not text.strip():
        return f"The parameter {name} is required."
    limit = TEXT_LIMITS[kind]
    size = len(text.encode()) if kind == INSTAGRAM else len(text)
    if size > limit:
        return f"Length of param {name} must be less than or equal to {limit}"
    return None


def _attachment(kind: str, attachment: Any) -> str | None:
    if not isinstance(attachment, dict) or not isinstance(attachment.get("payload"), dict):
        return "The parameter message[attachment][payload] is required."
    kind_name = attachment.get("type")
    payload = attachment["payload"]
    if kind_name in MEDIA_TYPES:
        url, attachment_id = payload.get("url"), payload.get("attachment_id")
        if url is None and attachment_id is None:
            return "Either message[attachment][payload][url] or [attachment_id] is required."
        if url is not None and not (isinstance(url, str) and url.startswith(("https://", "http://"))):
            return "Param message[attachment][payload][url] must be a valid URL."
        if not isinstance(payload.get("is_reusable", False), bool):
            return "Param message[attachment][payload][is_reusable] must be a boolean."
        return None
    if kind_name != "template":
        return "Param message[attachment][type] must be one of {IMAGE, VIDEO, AUDIO, FILE, TEMPLATE}."
    template_type = payload.get("template_type")
    if kind == INSTAGRAM and template_type != "generic":
        return "Param message[attachment][payload][template_type] must be one of {GENERIC}."
    if template_type == "generic":
        elements = payload.get("elements")
        ok = isinstance(elements, list) and 1 <= len(elements) <= 10
        return None if ok else "Param message[attachment][payload][elements] must have 1 to 10 elements."
    if template_type != "button":
        return "Param message[attachment][payload][template_type] must be one of {GENERIC, BUTTON}."
    text = payload.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > 640:
        return "Param message[attachment][payload][text] must be 1 to 640 characters."
    buttons = payload.get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        return "Param message[attachment][payload][buttons] must have 1 to 3 buttons."
    for button in buttons:
        if not isinstance(button, dict):
            return "Param message[attachment][payload][buttons] must be objects."
        title = button.get("title")
        if not isinstance(title, str) or not title or len(title) > 20:
            return "Button titles must be 1 to 20 characters."
        if button.get("type") == "web_url":
            url = button.get("url")
            if not (isinstance(url, str) and url.startswith(("https://", "http://"))):
                return "Param url of a web_url button must be a valid URL."
        elif button.get("type") == "postback":
            payload_text = button.get("payload")
            if not isinstance(payload_text, str) or not payload_text or len(payload_text) > 1000:
                return "Param payload of a postback button must be 1 to 1000 characters."
        else:
            return "Button type must be one of {WEB_URL, POSTBACK, PHONE_NUMBER}."
    return None


def _quick_replies(replies: Any) -> str | None:
    if not isinstance(replies, list) or not 1 <= len(replies) <= 13:
        return "Param message[quick_replies] must have 1 to 13 items."
    for reply in replies:
        if not isinstance(reply, dict):
            return "Param message[quick_replies] must be objects."
        content_type = reply.get("content_type")
        if content_type in ("user_phone_number", "user_email"):
            continue
        if content_type != "text":
            return "Param content_type must be one of {TEXT, USER_PHONE_NUMBER, USER_EMAIL}."
        title, payload = reply.get("title"), reply.get("payload")
        if not isinstance(title, str) or not title or len(title) > 20:
            return "Quick reply titles must be 1 to 20 characters."
        if not isinstance(payload, str | int) or not str(payload) or len(str(payload)) > 1000:
            return "Quick reply payloads must be 1 to 1000 characters."
    return None
