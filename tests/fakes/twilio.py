"""A fake Twilio Programmable Messaging API: the Messages endpoint (as strict as Twilio's) and the
form-encoded, URL-signed webhooks Twilio would post.

Tests use it instead of api.twilio.com. Errors have Twilio's JSON shape
(`code`, `message`, `more_info`, `status`), message SIDs look real (`SM…`/`MM…`), and webhook bodies
follow the field order of the samples in platform-samples/sms, signed over the exact URL posted to.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import logging
import re
import urllib.parse
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any, ClassVar

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from connectors.base import Platform
from connectors.fakes.server import FakeServer
from connectors.fakes.signing import sign_webhook

log = logging.getLogger(__name__)

API_VERSION = "2010-04-01"
MAX_BODY_LENGTH = 1600
MAX_MEDIA = 10
_E164_RE = re.compile(r"^(?:whatsapp:)?\+[1-9]\d{1,14}$")
_URL_RE = re.compile(r"^https?://[^\s/]+")

_MESSAGES = {
    20003: "Authenticate",
    20404: "The requested resource {path} was not found",
    20429: "Too Many Requests",
    21211: "Invalid 'To' Phone Number: {to}",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: {to}",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21606: "The 'From' phone number provided ({from_}) is not a valid message-capable Twilio phone number for this destination/account",
    21609: "Invalid StatusCallback url: {callback}",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number {to} is not a valid mobile number",
    21617: "The concatenated message body exceeds the 1600 character limit",
    21623: "Number of media files exceeds allowed limit",
    21701: "The Messaging Service Sid {service} is invalid.",
    20500: "An internal server error has occurred",
}


def twilio_error(code: int, status: int, **values: str) -> dict[str, Any]:
    """A Twilio REST error body, shaped like send_error_*.json."""
    template = _MESSAGES.get(code, "Error")
    try:
        message = template.format(**values)
    except KeyError:
        message = template
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _error(code: int, status: int, **values: str) -> JSONResponse:
    return JSONResponse(twilio_error(code, status, **values), status_code=status)


def new_sid(prefix: str = "SM") -> str:
    return prefix + uuid.uuid4().hex


@dataclass
class _Account:
    auth_token: str
    numbers: set[str]
    messaging_service_sids: set[str]
    sms_url: str | None  # where inbound messages are posted ("A message comes in")


@dataclass
class _Sent:
    sid: str
    account_sid: str
    to: str
    from_: str
    status_callback: str | None
    service_sid: str | None = None
    statuses: list[str] = field(default_factory=list)


class FakeTwilio(FakeServer):
    client_timeout: ClassVar[float] = 15  # Twilio waits about 15 s

    def __init__(self) -> None:
        super().__init__()
        self.accounts: dict[str, _Account] = {}
        # Every accepted send: the form fields (repeated ones as lists), plus "_fake" details.
        self.sent: list[dict[str, Any]] = []
        self.auto_statuses: list[str] = []  # posted to StatusCallback after each send, in order
        self.auto_status_delay = 0.05
        self.unsubscribed: set[str] = set()  # numbers that replied STOP: sends answer 21610
        self.landlines: set[str] = set()  # sends answer 21614
        self.webhook_responses: deque[httpx.Response] = deque(maxlen=1000)
        self._messages: dict[str, _Sent] = {}
        self.app = Starlette(
            routes=[
                Route(
                    f"/{API_VERSION}/Accounts/{{account_sid}}/Messages.json", self._create, methods=["POST"]
                ),
            ]
        )

    # ---- set-up -----------------------------------------------------------------------------

    def add_account(
        self,
        account_sid: str,
        *,
        auth_token: str,
        numbers: Iterable[str] = (),
        messaging_service_sids: Iterable[str] = (),
        sms_url: str | None = None,
    ) -> None:
        self.accounts[account_sid] = _Account(auth_token, set(numbers), set(messaging_service_sids), sms_url)

    def fail_next(
        self,
        status: int,
        body: dict[str, Any] | None = None,
        times: int = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        """The next `times` sends, whatever they carry, answer `status` with `body` (by default the
        error Twilio gives with that status). Calls queue up in order."""
        if body is None:
            code = {429: 20429, 401: 20003, 404: 20404}.get(status, 20500 if status >= 500 else 21211)
            body = twilio_error(code, status, to="", path="")
        self.queue_failures(status, body, times, headers)

    def reply_stop(self, number: str) -> None:
        """The customer texted STOP: Twilio refuses further sends to them with 21610."""
        self.unsubscribed.add(number)

    def reply_start(self, number: str) -> None:
        self.unsubscribed.discard(number)

    # ---- the Messages endpoint ----------------------------------------------------------------

    async def _create(self, request: Request) -> JSONResponse:
        if (failure := self.next_failure()) is not None:
            return failure
        account_sid = request.path_params["account_sid"]
        account = self.accounts.get(account_sid)
        if account is None or not _basic_auth_ok(request.headers.get("authorization"), account_sid, account):
            return _error(20003, 401)
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return _error(21604, 400)  # Twilio reads no JSON: every field looks missing
        raw = (await request.body()).decode("utf-8", errors="replace")
        pairs = urllib.parse.parse_qsl(raw, keep_blank_values=True)
        form: dict[str, list[str]] = {}
        for key, value in pairs:
            form.setdefault(key, []).append(value)

        def one(key: str) -> str:
            return (form.get(key) or [""])[0]

        to, from_, service = one("To"), one("From"), one("MessagingServiceSid")
        body, media, callback = one("Body"), form.get("MediaUrl", []), one("StatusCallback")
        if not to:
            return _error(21604, 400)
        if not _E164_RE.match(to):
            return _error(21211, 400, to=to)
        if not from_ and not service:
            return _error(21603, 400)
        if service and service not in account.messaging_service_sids:
            return _error(21701, 400, service=service)
        if from_ and from_.removeprefix("whatsapp:") not in account.numbers:
            return _error(21606, 400, from_=from_)
        if not body and not media:
            return _error(21602, 400)
        if len(body) > MAX_BODY_LENGTH:
            return _error(21617, 400)
        if len(media) > MAX_MEDIA or any(not _URL_RE.match(url) for url in media):
            return _error(21623, 400)
        if callback and not _URL_RE.match(callback):
            return _error(21609, 400, callback=callback)
        bare_to = to.removeprefix("whatsapp:")
        if bare_to in self.unsubscribed:
            return _error(21610, 400)
        if bare_to in self.landlines:
            return _error(21614, 400, to=to)
        sid = new_sid("MM" if media else "SM")
        # With a Messaging Service, Twilio picks the sender from the service's pool.
        sender = from_ or min(account.numbers, default="")
        self._messages[sid] = _Sent(sid, account_sid, to, sender, callback or None, service or None)
        record: dict[str, Any] = {k: v if len(v) > 1 or k == "MediaUrl" else v[0] for k, v in form.items()}
        record["_fake"] = {"account_sid": account_sid, "sid": sid, "raw": raw}
        self.sent.append(record)
        if self.auto_statuses and callback:
            self._spawn(self._post_auto_statuses(sid, list(self.auto_statuses)))
        return JSONResponse(
            _resource(account_sid, sid, to, sender, body, len(media), service), status_code=201
        )

    # ---- webhooks Twilio would post -----------------------------------------------------------

    async def post_form(
        self, url: str, fields: list[tuple[str, str]] | dict[str, str], auth_token: str
    ) -> httpx.Response:
        """POST form fields to `url`, signed the way Twilio signs (over this exact URL)."""
        body = urllib.parse.urlencode(list(fields.items()) if isinstance(fields, dict) else fields).encode()
        signed = sign_webhook(Platform.SMS, body, auth_token, 0, url)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signed.headers["x-twilio-signature"],
            "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
            "User-Agent": "TwilioProxy/1.1",
        }
        response = await self._http().post(url, content=body, headers=headers)
        self.webhook_responses.append(response)
        return response

    async def post_inbound(
        self,
        account_sid: str,
        *,
        from_: str,
        to: str,
        body: str = "",
        media: Iterable[tuple[str, str]] = (),
        sid: str | None = None,
        url: str | None = None,
        messaging_service_sid: str | None = None,
    ) -> httpx.Response:
        """A customer's SMS/MMS to one of the account's numbers, posted to its "A message comes in"
        URL (or `url`). `media` is (url, content type) pairs."""
        account = self._account(account_sid)
        target = url or account.sms_url
        if not target:
            raise LookupError(f"account {account_sid} has no sms_url")
        fields = inbound_fields(
            account_sid,
            from_=from_,
            to=to,
            body=body,
            media=list(media),
            sid=sid,
            messaging_service_sid=messaging_service_sid,
        )
        return await self.post_form(target, fields, account.auth_token)

    async def post_status(
        self, sid: str, status: str, *, error_code: int | None = None, url: str | None = None
    ) -> httpx.Response:
        """A status callback like status_*.form for a message sent through the fake, to its
        StatusCallback (or `url`). undelivered/failed carry `error_code` (default 30003)."""
        sent = self._messages.get(sid)
        if sent is None:
            raise LookupError(f"no message {sid} was sent through the fake")
        target = url or sent.status_callback
        if not target:
            raise LookupError(f"message {sid} has no StatusCallback")
        account = self._account(sent.account_sid)
        fields = [("SmsSid", sid), ("SmsStatus", status), ("MessageStatus", status), ("To", sent.to)]
        if sent.service_sid:
            fields.append(("MessagingServiceSid", sent.service_sid))
        fields += [
            ("MessageSid", sid),
            ("AccountSid", sent.account_sid),
            ("From", sent.from_),
            ("ApiVersion", API_VERSION),
        ]
        if status in ("undelivered", "failed"):
            fields.append(("ErrorCode", str(error_code if error_code is not None else 30003)))
        sent.statuses.append(status)
        return await self.post_form(target, fields, account.auth_token)

    # ---- internals ----------------------------------------------------------------------------

    def _account(self, account_sid: str) -> _Account:
        account = self.accounts.get(account_sid)
        if account is None:
            raise LookupError(f"account {account_sid} was not added to the fake")
        return account

    async def _post_auto_statuses(self, sid: str, statuses: list[str]) -> None:
        await asyncio.sleep(self.auto_status_delay)
        for status in statuses:  # one at a time, so they arrive in order
            try:
                await self.post_status(sid, status)
            except httpx.HTTPError as exc:
                log.warning("fake twilio: status callback not delivered", extra={"error": repr(exc)})
                return


def inbound_fields(
    account_sid: str,
    *,
    from_: str,
    to: str,
    body: str = "",
    media: list[tuple[str, str]] | None = None,
    sid: str | None = None,
    messaging_service_sid: str | None = None,
) -> list[tuple[str, str]]:
    """The form fields of an inbound SMS/MMS webhook, in the order of inbound_text.form."""
    media = media or []
    sid = sid or new_sid("MM" if media else "SM")
    fields = [("ToCountry", "US")]
    fields += [(f"MediaContentType{i}", mime) for i, (_, mime) in enumerate(media)]
    fields += [
        ("ToState", "CA"),
        ("SmsMessageSid", sid),
        ("NumMedia", str(len(media))),
        ("ToCity", "SAN FRANCISCO"),
        ("FromZip", "94105"),
        ("SmsSid", sid),
        ("FromState", "CA"),
        ("SmsStatus", "received"),
        ("FromCity", "SAN FRANCISCO"),
        ("Body", body),
        ("FromCountry", "US"),
        ("To", to),
    ]
    if messaging_service_sid:
        fields.append(("MessagingServiceSid", messaging_service_sid))
    fields += [
        ("ToZip", "94105"),
        ("NumSegments", str(max(1, -(-len(body) // 153)) if len(body) > 160 else 1)),
        ("MessageSid", sid),
        ("AccountSid", account_sid),
        ("From", from_),
    ]
    fields += [(f"MediaUrl{i}", url) for i, (url, _) in enumerate(media)]
    fields.append(("ApiVersion", API_VERSION))
    return fields


def _basic_auth_ok(header: str | None, account_sid: str, account: _Account) -> bool:
    if not header or not header.startswith("Basic "):
        return False
    try:
        decoded = base64.b64decode(header[6:], validate=True).decode()
    except ValueError:
        return False
    user, _, password = decoded.partition(":")
    return hmac.compare_digest(user.encode(), account_sid.encode()) and hmac.compare_digest(
        password.encode(), account.auth_token.encode()
    )


def _resource(
    account_sid: str, sid: str, to: str, from_: str, body: str, num_media: int, service: str | None
) -> dict[str, Any]:
    """The Message resource Twilio answers a create with (send_response.json's shape)."""
    now = formatdate().replace("-0000", "+0000")  # Twilio writes RFC 2822 dates in UTC
    segments = 1 if len(body) <= 160 else -(-len(body) // 153)
    uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}"
    return {
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "body": body,
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": from_ if not service else None,
        "messaging_service_sid": service,
        "num_media": str(num_media),
        "num_segments": str(segments),
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "accepted" if service else "queued",
        "subresource_uris": {"media": f"{uri}/Media.json"},
        "to": to,
        "uri": f"{uri}.json",
    }
