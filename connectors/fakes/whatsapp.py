"""A fake WhatsApp Cloud API: the send endpoint (as strict as Meta's) and the webhooks Meta would post.

Tests and the demo use it instead of graph.facebook.com. It answers with the real shapes (Graph
errors, `wamid.` ids) and posts signed webhooks shaped like the samples in platform-samples/whatsapp,
so the code under test cannot tell it from Meta on the wire.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import re
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from connectors.fakes.server import FakeServer

log = logging.getLogger(__name__)

MAX_TEXT_LENGTH = 4096
DEFAULT_WABA_ID = "102290129340398"
_VERSION_RE = re.compile(r"^v\d+\.\d+$")
_MESSAGE_TYPES = frozenset(
    {
        "text",
        "template",
        "image",
        "audio",
        "video",
        "document",
        "sticker",
        "location",
        "contacts",
        "interactive",
        "reaction",
    }
)
_ERROR_TITLES = {
    131047: "Re-engagement message",
    131026: "Message undeliverable",
    131000: "Something went wrong",
    130429: "Rate limit hit",
    131049: "This message was not delivered to maintain healthy ecosystem engagement.",
    131050: "User has stopped marketing messages",
    190: "Invalid OAuth access token",
    100: "Invalid parameter",
}
_ERROR_DETAILS = {
    131047: "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
    131026: "Message Undeliverable.",
    131000: "Something went wrong.",
    130429: "Cloud API message throughput has been reached.",
    190: "Invalid OAuth access token - Cannot parse access token.",
    100: "Invalid parameter.",
}


@dataclass
class _Number:
    access_token: str
    app_secret: str
    webhook_url: str | None
    waba_id: str
    display_phone_number: str


def graph_error(code: int, message: str, *, details: str | None = None) -> dict[str, Any]:
    """A Graph API error body, shaped like send_error_*.json."""
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if details is not None:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    error["fbtrace_id"] = "AFAKE" + uuid.uuid4().hex[:17]
    return {"error": error}


def _param_error(message: str) -> JSONResponse:
    return JSONResponse(graph_error(100, f"(#100) {message}", details=message), status_code=400)


def _new_wamid() -> str:
    # Real wamids are base64 of a small binary record; the uuid keeps these unique.
    return "wamid." + base64.b64encode(b"\x15\x02\x00\x11\x18\x12" + uuid.uuid4().bytes).decode()


def inbound_text_payload(
    phone_number_id: str,
    *,
    wa_id: str,
    name: str,
    text: str,
    wamid: str | None = None,
    waba_id: str = "102290129340398",
    display_phone_number: str = "15550783881",
) -> dict[str, Any]:
    """A customer's text message as the Cloud API delivers it (inbound_text.json's shape)."""
    message = {
        "from": wa_id,
        "id": wamid or _new_wamid(),
        "timestamp": str(int(time.time())),
        "type": "text",
        "text": {"body": text},
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": display_phone_number, "phone_number_id": phone_number_id},
        "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
        "messages": [message],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "changes": [{"value": value, "field": "messages"}]}],
    }


def _cursor(index: int) -> str:
    return base64.urlsafe_b64encode(f"fake-cursor:{index}".encode()).decode()


def _cursor_index(cursor: str) -> int | None:
    try:
        prefix, _, index = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return int(index) if prefix == "fake-cursor" and index.isdigit() else None


def sign(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


class FakeWhatsApp(FakeServer):
    client_headers: ClassVar[dict[str, str]] = {"User-Agent": "facebookexternalua"}

    def __init__(self, *, api_version: str = "v21.0"):
        super().__init__()
        self.api_version = api_version
        self.numbers: dict[str, _Number] = {}
        self.sent: list[dict[str, Any]] = []
        self.auto_statuses: list[str] = []
        self.auto_status_delay = 0.05  # Meta's statuses come after the send response, not with it
        # Seconds an accepted send waits before its answer: a sender killed meanwhile never learns
        # the id, the window in which only the status echo records the message.
        self.response_delay = 0.0
        self.closed_windows: set[str] = set()
        # What the receiver answered to each webhook, in order (bounded: the demo runs for days).
        self.webhook_responses: deque[httpx.Response] = deque(maxlen=1000)
        self._recipients: dict[str, tuple[str, bool]] = {}  # wamid → (recipient, was a template)
        self._callback_data: dict[str, str] = {}  # wamid → the send's biz_opaque_callback_data
        self.templates: dict[str, list[dict[str, Any]]] = {}  # waba_id → its templates, in order
        self.template_requests: list[dict[str, str]] = []  # the query of each catalogue page asked for
        self.app = Starlette(
            routes=[
                Route("/_simulate/{phone_number_id}/inbound", self._simulate, methods=["POST"]),
                Route("/{version}/{phone_number_id}/messages", self._messages, methods=["POST"]),
                Route("/{version}/{waba_id}/message_templates", self._message_templates, methods=["GET"]),
            ]
        )

    # ---- set-up -----------------------------------------------------------------------------

    def add_number(
        self,
        phone_number_id: str,
        *,
        access_token: str,
        app_secret: str,
        webhook_url: str | None = None,
        waba_id: str = DEFAULT_WABA_ID,
        display_phone_number: str = "15550783881",
    ) -> None:
        self.numbers[phone_number_id] = _Number(
            access_token, app_secret, webhook_url, waba_id, display_phone_number
        )

    def fail_next(
        self,
        status: int,
        body: dict[str, Any] | None = None,
        times: int = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        """The next `times` send requests, whatever they carry, answer `status` with `body`.
        Calls queue up: fail_next(429); fail_next(500) fails one send with each, in that order."""
        if body is None:  # the error Meta gives with that status
            code = {429: 130429, 401: 190}.get(status, 131000 if status >= 500 else 100)
            body = graph_error(code, f"(#{code}) {_ERROR_TITLES[code]}", details=_ERROR_DETAILS[code])
        self.queue_failures(status, body, times, headers)

    def add_template(
        self,
        waba_id: str,
        name: str,
        *,
        language: str = "en_US",
        components: list[dict[str, Any]] | None = None,
        category: str = "UTILITY",
        status: str = "APPROVED",
        parameter_format: str = "POSITIONAL",
    ) -> dict[str, Any]:
        """A template of the business account, as the catalogue lists it."""
        template = {
            "name": name,
            "parameter_format": parameter_format,
            "components": components or [{"type": "BODY", "text": f"{name}"}],
            "language": language,
            "status": status,
            "category": category,
            "rejected_reason": "NONE",
            "id": str(uuid.uuid4().int % 10**16),
        }
        self.templates.setdefault(waba_id, []).append(template)
        return template

    async def set_template_status(
        self, phone_number_id: str, name: str, language: str, event: str, *, reason: str = "NONE"
    ) -> httpx.Response:
        """Meta's review changed a template: the listing says so from now on, and a signed
        message_template_status_update webhook (its real shape) goes to the number's URL."""
        number = self._number(phone_number_id)
        template = next(
            t
            for t in self.templates.get(number.waba_id, [])
            if (t["name"], t["language"]) == (name, language)
        )
        template["status"] = event
        template["rejected_reason"] = reason if event == "REJECTED" else "NONE"
        value = {
            "event": event,
            "message_template_id": int(template["id"]),
            "message_template_name": name,
            "message_template_language": language,
            "reason": reason,
            "message_template_category": template["category"],
        }
        change = {"value": value, "field": "message_template_status_update"}
        payload = {
            "entry": [{"id": number.waba_id, "time": int(time.time()), "changes": [change]}],
            "object": "whatsapp_business_account",
        }
        return await self.post_webhook(phone_number_id, payload)

    def close_window(self, wa_id: str) -> None:
        """Free-form sends to `wa_id` now fail with 131047, as 24 h after the customer's last message."""
        self.closed_windows.add(wa_id.lstrip("+"))

    def open_window(self, wa_id: str) -> None:
        self.closed_windows.discard(wa_id.lstrip("+"))

    # ---- the send endpoint --------------------------------------------------------------------

    async def _messages(self, request: Request) -> JSONResponse:
        if (failure := self.next_failure()) is not None:
            return failure
        version = request.path_params["version"]
        phone_number_id = request.path_params["phone_number_id"]
        if not _VERSION_RE.match(version):
            return JSONResponse(graph_error(2500, "Unknown path components: /messages"), status_code=400)
        number = self.numbers.get(phone_number_id)
        if number is None:
            message = (
                f"Unsupported post request. Object with ID '{phone_number_id}' does not exist, cannot be "
                "loaded due to missing permissions, or does not support this operation."
            )
            return JSONResponse(graph_error(100, message), status_code=400)
        token = request.headers.get("authorization", "")
        expected = f"Bearer {number.access_token}"
        if not hmac.compare_digest(token.encode(), expected.encode()):
            message = "Invalid OAuth access token - Cannot parse access token"
            return JSONResponse(graph_error(190, message), status_code=401)
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _param_error("The request body is not valid JSON.")
        if not isinstance(body, dict):
            return _param_error("The request body must be a JSON object.")
        problem = _validate(body)
        if problem is not None:
            return _param_error(problem)
        to = str(body["to"]).lstrip("+")
        is_template = body.get("type", "text") == "template"  # Meta defaults a missing type to text
        if not is_template and to in self.closed_windows:
            code = 131047
            error = graph_error(code, "(#131047) Re-engagement message", details=_ERROR_DETAILS[code])
            return JSONResponse(error, status_code=400)
        wamid = _new_wamid()
        self.sent.append({**body, "_fake": {"phone_number_id": phone_number_id, "wamid": wamid}})
        self._recipients[wamid] = (to, is_template)
        if isinstance(body.get("biz_opaque_callback_data"), str):
            self._callback_data[wamid] = body["biz_opaque_callback_data"]  # echoed in its statuses
        if self.auto_statuses and number.webhook_url:
            self._spawn(self._post_auto_statuses(phone_number_id, wamid, list(self.auto_statuses)))
        if self.response_delay:
            await asyncio.sleep(self.response_delay)
        response: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": body["to"], "wa_id": to}],
            "messages": [{"id": wamid, "message_status": "accepted"} if is_template else {"id": wamid}],
        }
        return JSONResponse(response)

    async def _message_templates(self, request: Request) -> JSONResponse:
        """GET /{version}/{waba_id}/message_templates: the business account's templates, a page at
        a time (`limit`, then `after` = the previous page's paging.cursors.after), only the
        `fields` asked for (and id). The token must be one of that account's numbers'."""
        version, waba_id = request.path_params["version"], request.path_params["waba_id"]
        if not _VERSION_RE.match(version):
            return JSONResponse(
                graph_error(2500, "Unknown path components: /message_templates"), status_code=400
            )
        tokens = [n.access_token for n in self.numbers.values() if n.waba_id == waba_id]
        if not tokens:
            message = (
                f"Unsupported get request. Object with ID '{waba_id}' does not exist, cannot be loaded due "
                "to missing permissions, or does not support this operation."
            )
            return JSONResponse(graph_error(100, message), status_code=400)
        given = request.headers.get("authorization", "").encode()
        if not any(hmac.compare_digest(given, f"Bearer {t}".encode()) for t in tokens):
            return JSONResponse(
                graph_error(190, "Invalid OAuth access token - Cannot parse access token"), status_code=401
            )
        query = dict(request.query_params)
        self.template_requests.append({"waba_id": waba_id, **query})
        limit_text = query.get("limit", "25")
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= 1000:
            return _param_error("Param limit must be a positive integer.")
        start = 0
        if "after" in query:
            start = _cursor_index(query["after"])
            if start is None:
                return _param_error("Invalid cursor: after.")
        everything = self.templates.get(waba_id, [])
        page = everything[start : start + int(limit_text)]
        fields = [f for f in query.get("fields", "").split(",") if f] or [
            "name",
            "language",
            "status",
            "category",
            "id",
        ]
        data = [{k: t[k] for k in t if k in fields or k == "id"} for t in page]
        end = start + len(page)
        body: dict[str, Any] = {"data": data}
        if page:
            body["paging"] = {"cursors": {"before": _cursor(start), "after": _cursor(end)}}
            if end < len(everything):  # Meta gives `next` only while there is more
                body["paging"]["next"] = str(request.url.include_query_params(after=_cursor(end)))
        return JSONResponse(body)

    async def _simulate(self, request: Request) -> JSONResponse:
        """A person plays the customer: {wa_id, name, text} becomes a signed inbound webhook."""
        try:
            data = json.loads(await request.body())
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return JSONResponse({"error": "body must be a JSON object {wa_id, name, text}"}, status_code=400)
        wa_id, name, text = data.get("wa_id"), data.get("name") or "", data.get("text")
        if not isinstance(wa_id, str) or not wa_id.isdigit():
            return JSONResponse({"error": "wa_id must be digits (a phone number without +)"}, status_code=400)
        if not isinstance(text, str) or not text.strip() or not isinstance(name, str):
            return JSONResponse({"error": "text must be a non-empty string"}, status_code=400)
        phone_number_id = request.path_params["phone_number_id"]
        if phone_number_id not in self.numbers:
            return JSONResponse({"error": f"unknown phone_number_id {phone_number_id}"}, status_code=404)
        try:
            response = await self.post_inbound_text(phone_number_id, wa_id=wa_id, name=name, text=text)
        except (httpx.HTTPError, LookupError) as exc:
            return JSONResponse({"error": f"webhook not delivered: {exc!r}"}, status_code=502)
        return JSONResponse({"status": response.status_code}, status_code=response.status_code)

    # ---- webhooks Meta would post -------------------------------------------------------------

    async def post_webhook(self, phone_number_id: str, payload: dict[str, Any] | bytes) -> httpx.Response:
        """Sign and POST a body to the number's webhook URL. Dicts are serialised the way Meta does
        (compact, non-ASCII as \\uXXXX), so only the exact bytes verify."""
        number = self._number(phone_number_id)
        if not number.webhook_url:
            raise LookupError(f"phone number {phone_number_id} has no webhook_url")
        body = payload if isinstance(payload, bytes) else json.dumps(payload, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(number.app_secret, body)}
        response = await self._http().post(number.webhook_url, content=body, headers=headers)
        self.webhook_responses.append(response)
        return response

    async def post_inbound_text(
        self, phone_number_id: str, *, wa_id: str, name: str, text: str, wamid: str | None = None
    ) -> httpx.Response:
        number = self._number(phone_number_id)
        payload = inbound_text_payload(
            phone_number_id,
            wa_id=wa_id,
            name=name,
            text=text,
            wamid=wamid,
            waba_id=number.waba_id,
            display_phone_number=number.display_phone_number,
        )
        return await self.post_webhook(phone_number_id, payload)

    async def post_status(
        self, phone_number_id: str, wamid: str, status: str, *, error_code: int | None = None
    ) -> httpx.Response:
        """A status webhook like status_*.json. `failed` carries `error_code` (default 131026)."""
        recipient, is_template = self._recipients.get(wamid, ("", False))
        now = int(time.time())
        entry: dict[str, Any] = {
            "id": wamid,
            "status": status,
            "timestamp": str(now),
            "recipient_id": recipient,
        }
        if wamid in self._callback_data:
            entry["biz_opaque_callback_data"] = self._callback_data[wamid]
        if status == "sent":
            origin = "utility" if is_template else "service"
            entry["conversation"] = {
                "id": hashlib.md5(recipient.encode(), usedforsecurity=False).hexdigest(),
                "expiration_timestamp": str(now + 86400),
                "origin": {"type": origin},
            }
        if status in ("sent", "delivered"):
            entry["pricing"] = (
                {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"}
                if is_template
                else {
                    "billable": False,
                    "pricing_model": "PMP",
                    "category": "service",
                    "type": "free_customer_service",
                }
            )
        if status == "failed":
            code = error_code if error_code is not None else 131026
            title = _ERROR_TITLES.get(code, "Message failed")
            entry["errors"] = [
                {
                    "code": code,
                    "title": title,
                    "message": title,
                    "error_data": {"details": _ERROR_DETAILS.get(code, title)},
                    "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
                }
            ]
        return await self.post_webhook(
            phone_number_id, self._envelope(phone_number_id, {"statuses": [entry]})
        )

    # ---- internals ----------------------------------------------------------------------------

    def _number(self, phone_number_id: str) -> _Number:
        number = self.numbers.get(phone_number_id)
        if number is None:
            raise LookupError(f"phone number {phone_number_id} was not added to the fake")
        return number

    def _envelope(self, phone_number_id: str, value: dict[str, Any]) -> dict[str, Any]:
        number = self._number(phone_number_id)
        metadata = {"display_phone_number": number.display_phone_number, "phone_number_id": phone_number_id}
        value = {"messaging_product": "whatsapp", "metadata": metadata, **value}
        change = {"value": value, "field": "messages"}
        return {"object": "whatsapp_business_account", "entry": [{"id": number.waba_id, "changes": [change]}]}

    async def _post_auto_statuses(self, phone_number_id: str, wamid: str, statuses: list[str]) -> None:
        await asyncio.sleep(self.auto_status_delay)
        for status in statuses:  # one at a time, so they arrive in order
            try:
                await self.post_status(phone_number_id, wamid, status)
            except httpx.HTTPError as exc:
                log.warning("fake whatsapp: status webhook not delivered", extra={"error": repr(exc)})
                return


def _validate(body: dict[str, Any]) -> str | None:
    """The first thing Meta would refuse in a send body, as its error message; None when fine."""
    product = body.get("messaging_product")
    if product is None:
        return "The parameter messaging_product is required."
    if product != "whatsapp":
        return f'Param messaging_product must be one of {{WHATSAPP}} - got "{product}".'
    if body.get("recipient_type", "individual") != "individual":
        return "Param recipient_type must be one of {INDIVIDUAL}."
    to = body.get("to")
    if not isinstance(to, str) or not to.lstrip("+").isdigit():
        return "The parameter to is required." if not to else "Param to must be a phone number."
    kind = body.get("type", "text")
    if kind not in _MESSAGE_TYPES:
        return f"Param type must be one of {{{', '.join(sorted(t.upper() for t in _MESSAGE_TYPES))}}}."
    tag = body.get("biz_opaque_callback_data")
    if tag is not None and not (isinstance(tag, str) and len(tag) <= 512):
        return "Param biz_opaque_callback_data must be a string of at most 512 characters."
    context = body.get("context")
    if context is not None and not (isinstance(context, dict) and isinstance(context.get("message_id"), str)):
        return "The parameter context['message_id'] is required."
    if kind == "text":
        text = body.get("text")
        if not isinstance(text, dict) or not isinstance(text.get("body"), str) or not text["body"].strip():
            return "The parameter text['body'] is required."
        if len(text["body"]) > MAX_TEXT_LENGTH:
            return f"Param text['body'] must be at most {MAX_TEXT_LENGTH} characters long."
        if not isinstance(text.get("preview_url", False), bool):
            return "Param text['preview_url'] must be a boolean."
        return None
    if kind == "template":
        template = body.get("template")
        if (
            not isinstance(template, dict)
            or not isinstance(template.get("name"), str)
            or not template["name"]
        ):
            return "The parameter template['name'] is required."
        language = template.get("language")
        if (
            not isinstance(language, dict)
            or not isinstance(language.get("code"), str)
            or not language["code"]
        ):
            return "The parameter template['language']['code'] is required."
        if not isinstance(template.get("components", []), list):
            return "Param template['components'] must be an array."
        return None
    if not isinstance(body.get(kind), dict | list):
        return f"The parameter {kind} is required."
    if kind in ("image", "audio", "video", "document", "sticker"):
        media = body[kind]
        if not (isinstance(media.get("link"), str) or isinstance(media.get("id"), str)):
            return f"The parameter {kind}['link'] or {kind}['id'] is required."
        if "caption" in media and kind in ("audio", "sticker"):
            return f"Param {kind}['caption'] is not allowed."
    if kind == "interactive":
        interactive = body[kind]
        itype = interactive.get("type")
        if itype not in ("button", "list", "cta_url", "product", "product_list", "flow"):
            return "Param interactive['type'] must be one of {BUTTON, LIST, CTA_URL, PRODUCT, PRODUCT_LIST, FLOW}."
        if not isinstance(interactive.get("body", {}).get("text"), str):
            return "The parameter interactive['body']['text'] is required."
        if itype == "button":
            buttons = interactive.get("action", {}).get("buttons") or []
            if not 1 <= len(buttons) <= 3 or any(
                len(b.get("reply", {}).get("title", "")) > 20 for b in buttons
            ):
                return "Param interactive['action']['buttons'] must have 1 to 3 buttons with titles of at most 20 characters."
    return None
