"""The web chat's HTTP side, mounted at /webchat: CORS, rate limits, request bodies, and the
endpoints (sessions, messages, events, read receipts, the widget script).

Every endpoint runs behind the same steps: channel (by the key in the URL) → Origin → preflight →
per-IP limit → the endpoint, every refusal as JSON with the CORS headers a permitted page needs
to read it. Who may do what is in the package's docstring (ingress/webchat/__init__.py).
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from connectors.base import (
    Attachment,
    DeliveryStatus,
    InboundMessage,
    MalformedPayload,
    MessageKind,
    ParsedWebhook,
    load_json,
)
from connectors.webchat import MAX_TEXT_LENGTH, normalise_origin, widget_config
from core import metrics
from core.body import BodyTooLarge, read_body
from core.events import CursorExpired, EventLog, conversation_stream
from core.ratelimit import RateLimiter
from core.settings import get_settings
from core.storable import storable_text
from ingress.webchat.errors import WebchatError, bad_input, error_response
from ingress.webchat.sites import Site, find_site
from ingress.webchat.stream import decode_cursor, encode_cursor, event_stream, replay, starting_points
from ingress.webchat.tokens import (
    EMAIL_RE,
    Visitor,
    bearer,
    decode_visitor,
    issue_visitor_token,
    new_visitor_id,
    require_visitor,
    vouched_identity,
)
from ingress.webchat.widget import widget_js
from resolvers.channels import record_webhook
from resolvers.inbound import ingest
from resolvers.webchat_visitors import (
    agent_names,
    identity_of,
    latest_messages,
    mark_replies,
    message_from_visitor,
    recent_conversations,
    visible,
    visitor_view,
)

MAX_BODY = 16 * 1024
MAX_CLIENT_ID = 64
PAGE = 50

_CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")  # no ':' (it separates visitor and client id)
_MEDIA_KINDS = {"image", "audio", "video", "document"}


@dataclass(frozen=True)
class Limits:
    """Fixed one-minute windows (core/ratelimit.py). Per IP the limits are generous: many
    visitors may share one address (offices, mobile carriers)."""

    ip_requests: int = 600
    ip_sessions: int = 30
    visitor_requests: int = 240
    visitor_messages: int = 30
    per: int = 60


LIMITS = Limits()


# ---- CORS and rate limits ---------------------------------------------------------------------


def _cors_headers(origin: str | None) -> dict[str, str]:
    headers = {"Vary": "Origin"}
    if origin:
        headers["Access-Control-Allow-Origin"] = origin
        headers["Access-Control-Expose-Headers"] = "Retry-After"
    return headers


_limiter: RateLimiter | None = None


def _rate_limiter() -> RateLimiter:
    global _limiter
    if _limiter is None:
        settings = get_settings()
        _limiter = RateLimiter(settings.redis_url, settings.namespace)
    return _limiter


async def close() -> None:
    """Release the rate limiter's Redis connections (at shutdown)."""
    global _limiter
    if _limiter is not None:
        await _limiter.close()
        _limiter = None


async def _limit(key: str, limit: int) -> None:
    per = LIMITS.per
    if not await _rate_limiter().hit(f"webchat:{key}", limit=limit, per=per):
        retry = max(1, per - int(time.time()) % per)  # the fixed window's end
        raise WebchatError(
            429, "RATE_LIMITED", "too many requests; try again shortly", {"Retry-After": str(retry)}
        )


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# ---- request plumbing -------------------------------------------------------------------------


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        raw = await read_body(request, MAX_BODY)  # the limit holds without (or with a lying) Content-Length
    except BodyTooLarge:
        raise WebchatError(413, "PAYLOAD_TOO_LARGE", f"the body exceeds {MAX_BODY} bytes") from None
    except ClientDisconnect:
        raise WebchatError(400, "CLIENT_DISCONNECTED", "the request body is incomplete") from None
    if not raw.strip():
        return {}
    try:
        # Lenient about text (a browser's JSON.stringify writes a lone surrogate as "\ud800"): what
        # the visitor typed is stored with core/storable.py's replacements, not refused.
        data = load_json(raw)
    except MalformedPayload:
        raise WebchatError(400, "BAD_JSON", "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise WebchatError(400, "BAD_JSON", "the body must be a JSON object")
    return data


Handler = Callable[[Request, Site], Awaitable[Response]]


def _endpoint(methods: tuple[str, ...], handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Channel → Origin → preflight → per-IP limit → handler, every error as JSON with the CORS
    headers a permitted page needs to read it."""

    async def endpoint(request: Request) -> Response:
        cors: dict[str, str] = {"Vary": "Origin"}
        try:
            site = await find_site(request.path_params["public_key"])
            origin = request.headers.get("origin")
            if origin is not None:
                if normalise_origin(origin) not in site.origins:
                    raise WebchatError(403, "ORIGIN_NOT_ALLOWED", "this website may not use this chat widget")
                cors = _cors_headers(origin)
            if request.method == "OPTIONS":
                return Response(
                    status_code=204,
                    headers={
                        **cors,
                        "Access-Control-Allow-Methods": ", ".join((*methods, "OPTIONS")),
                        "Access-Control-Allow-Headers": "Authorization, Content-Type, Last-Event-ID",
                        "Access-Control-Max-Age": "600",
                    },
                )
            if request.method not in methods:
                raise WebchatError(405, "METHOD_NOT_ALLOWED", f"use {' or '.join(methods)}")
            await _limit(f"ip:{_client_ip(request)}", LIMITS.ip_requests)
            response = await handler(request, site)
        except WebchatError as exc:
            return error_response(exc, cors if exc.status != 403 else {"Vary": "Origin"})
        response.headers.update(cors)
        return response

    return endpoint


# ---- endpoints --------------------------------------------------------------------------------


def _text_field(data: dict[str, Any], key: str, limit: int) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_input(f"{key} must be a string")
    value = storable_text(value).strip()  # the name goes into the visitor's token as stored
    if len(value) > limit:
        raise bad_input(f"{key} must be at most {limit} characters")
    return value or None


async def sessions(request: Request, site: Site) -> Response:
    """Start or resume a visitor session. A returning visitor sends their token (Authorization)
    and keeps their identity; a `visitor_id` without its token is not trusted (anyone could type
    someone else's), so such a visitor gets a new identity."""
    await _limit(f"sessions:{_client_ip(request)}", LIMITS.ip_sessions)
    data = await _json_body(request)
    name = _text_field(data, "name", 100)
    email = _text_field(data, "email", 254)
    if email is not None:
        if not EMAIL_RE.match(email):
            raise bad_input("email is not an e-mail address")
        email = email.lower()
    claimed_id = data.get("visitor_id")
    if claimed_id is not None and not isinstance(claimed_id, str):
        raise bad_input("visitor_id must be a string")
    token = bearer(request)
    previous = decode_visitor(site, token) if token else None
    if previous is not None and claimed_id and claimed_id != previous.visitor_id:
        raise WebchatError(401, "TOKEN_MISMATCH", "the visitor token belongs to another visitor")
    vouched = vouched_identity(site, data.get("identity_token"))
    if (
        previous is not None
        and previous.vouched_email
        and (vouched is None or vouched["email"] != previous.vouched_email)
    ):
        # A vouched session lasts only while the site vouches for the same person: after they
        # sign out (or someone else signs in on this browser) their conversation stays theirs.
        previous = None
    if vouched is not None:
        visitor_id = vouched["visitor_id"] or (previous.visitor_id if previous else new_visitor_id())
        visitor = Visitor(visitor_id, vouched["name"] or name, email or vouched["email"], vouched["email"])
    elif previous is not None:
        visitor = Visitor(
            previous.visitor_id, name or previous.name, email or previous.email, previous.vouched_email
        )
    else:
        visitor = Visitor(new_visitor_id(), name, email, None)
    await _limit(f"visitor:{site.channel_id}:{visitor.visitor_id}", LIMITS.visitor_requests)
    visitor_token, expires = issue_visitor_token(site, visitor)
    conversations = await recent_conversations(await identity_of(site.channel_id, visitor.visitor_id))
    return JSONResponse(
        {
            "visitor_token": visitor_token,
            "visitor_id": visitor.visitor_id,
            "expires_at": datetime.fromtimestamp(expires, UTC).isoformat(),
            "conversation_id": conversations[0] if conversations else None,
            "config": widget_config(site.creds.config),
        }
    )


def _attachments(data: dict[str, Any]) -> tuple[Attachment, ...]:
    raw = data.get("attachments")
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > 10:
        raise bad_input("attachments must be a list of at most 10 items")
    out = []
    for item in raw:
        if not isinstance(item, dict):
            raise bad_input("each attachment must be an object with a url")
        url, kind = item.get("url"), item.get("kind", "document")
        if not isinstance(url, str) or not url.startswith("https://") or len(url) > 2000:
            raise bad_input("attachments are given by their https URL")
        if kind not in _MEDIA_KINDS:
            raise bad_input("an attachment's kind is image, audio, video or document")
        mime, filename = item.get("mime_type"), item.get("filename")
        out.append(
            Attachment(
                kind=MessageKind(kind),
                url=url,
                mime_type=mime[:100] if isinstance(mime, str) else None,
                filename=filename[:200] if isinstance(filename, str) else None,
            )
        )
    return tuple(out)


async def post_message(request: Request, site: Site) -> Response:
    """Store what the visitor wrote, once per `client_message_id` (the widget retries with the
    same id); answered after it is committed, with the stored message."""
    visitor = require_visitor(request, site)
    await _limit(f"vmsg:{site.channel_id}:{visitor.visitor_id}", LIMITS.visitor_messages)
    data = await _json_body(request)
    client_id = data.get("client_message_id")
    if not isinstance(client_id, str) or not _CLIENT_ID_RE.match(client_id):
        raise bad_input(f"client_message_id must be 1 to {MAX_CLIENT_ID} letters, digits, '.', '_' or '-'")
    text = data.get("text")
    if text is not None and not isinstance(text, str):
        raise bad_input("text must be a string")
    text = (text or "").strip()
    if len(text) > MAX_TEXT_LENGTH:
        raise bad_input(f"text must be at most {MAX_TEXT_LENGTH} characters")
    attachments = _attachments(data)
    if not text and not attachments:
        raise bad_input("write some text or attach something")
    metadata: dict[str, Any] = {}
    if visitor.email and visitor.email != visitor.vouched_email:
        metadata["visitor_email"] = visitor.email  # for the agent to read; not trusted for merging
    payload = data.get("payload")
    if payload is not None:  # a reply button: text is its title
        if not isinstance(payload, str) or not payload or len(payload) > 256 or not text:
            raise bad_input("a button press needs its payload (at most 256 characters) and its title as text")
        metadata["payload"] = payload
        kind = MessageKind.POSTBACK
    else:
        kind = attachments[0].kind if attachments else MessageKind.TEXT
    page = data.get("page_url")
    if isinstance(page, str) and page.startswith(("https://", "http://")):
        metadata["page_url"] = page[:2000]
    platform_id = f"{visitor.visitor_id}:{client_id}"
    parsed = ParsedWebhook(
        messages=(
            InboundMessage(
                platform_message_id=platform_id,
                sender_id=visitor.visitor_id,
                sent_at=datetime.now(UTC),
                kind=kind,
                text=text or None,
                sender_name=visitor.name,
                sender_email=visitor.vouched_email,
                attachments=attachments,
                metadata=metadata,
            ),
        )
    )
    result = await ingest(site.channel_id, "webchat", parsed)
    await record_webhook(site.channel_id)
    metrics.MESSAGES_IN.labels("webchat").inc(result.stored)
    metrics.MESSAGES_DUPLICATE.labels("webchat").inc(result.duplicates)
    row = await message_from_visitor(site.channel_id, platform_id, visitor.visitor_id)
    if row is None:  # cannot happen: the id embeds the visitor's own id
        raise WebchatError(409, "CONFLICT", "this client_message_id cannot be used")
    message = visitor_view(row, visitor.visitor_id, visitor.name, {}, site.title)
    return JSONResponse(
        {"message": message, "conversation_id": row["conversation_id"], "duplicate": result.stored == 0},
        status_code=201 if result.stored else 200,
    )


async def get_messages(request: Request, site: Site) -> Response:
    """Without `after`: the latest messages and the cursor to follow from (`/events?after=`).
    With `after`: what changed since that cursor (new messages, new statuses), for clients that
    poll instead of streaming."""
    visitor = require_visitor(request, site)
    await _limit(f"visitor:{site.channel_id}:{visitor.visitor_id}", LIMITS.visitor_requests)
    given = decode_cursor(request.query_params.get("after"))
    raw_limit = request.query_params.get("limit", str(PAGE))
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100:
        raise bad_input("limit must be between 1 and 100")
    event_log: EventLog = request.app.state.event_log
    identity_id = await identity_of(site.channel_id, visitor.visitor_id)
    conversations = await recent_conversations(identity_id)
    # Positions first, then the rows: anything that changes in between comes again as an event.
    cursors = await starting_points(event_log, conversations, given)
    names: dict[int, str] = {}
    if given is None:
        rows = await latest_messages(conversations, identity_id, site.channel_id, int(raw_limit))
        complete = True
    else:
        latest: dict[int, dict[str, Any]] = {}
        complete = True
        try:
            for conv in conversations:
                async for record in replay(event_log, conv, cursors[conv]):
                    cursors[conv] = record.seq
                    message = record.payload.get("message")
                    if isinstance(message, dict) and visible(message, identity_id, site.channel_id):
                        latest[message["id"]] = message
                head = await event_log.head(conversation_stream(conv))
                complete = complete and cursors[conv] >= head
        except CursorExpired:
            raise WebchatError(
                410, "CURSOR_EXPIRED", "this cursor is too old: load the messages again"
            ) from None
        rows = [latest[k] for k in sorted(latest)]
    await agent_names(rows, names)
    return JSONResponse(
        {
            "messages": [visitor_view(m, visitor.visitor_id, visitor.name, names, site.title) for m in rows],
            "cursor": encode_cursor(cursors),
            "complete": complete,
        },
        headers={"Cache-Control": "no-store"},
    )


async def events(request: Request, site: Site) -> Response:
    """Server-Sent Events: every change to the visitor's messages, live. Each event's `id:` is
    the cursor after it; reconnecting with `Last-Event-ID` (or `?after=`) resumes exactly."""
    visitor = require_visitor(request, site)
    await _limit(f"visitor:{site.channel_id}:{visitor.visitor_id}", LIMITS.visitor_requests)
    raw = request.headers.get("last-event-id") or request.query_params.get("after")
    given = decode_cursor(raw)
    event_log: EventLog = request.app.state.event_log
    identity_id = await identity_of(site.channel_id, visitor.visitor_id)
    conversations = await recent_conversations(identity_id)
    cursors = await starting_points(event_log, conversations, given)
    stream = event_stream(event_log, site, visitor, identity_id, cursors, given)
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def post_read(request: Request, site: Site) -> Response:
    """Receipts from the widget: `{up_to_message_id, status?}`, status "read" (the default: the
    panel is open and the page visible) or "delivered" (received, not yet looked at). Applied
    like a platform's status report, so agents see the ticks move live."""
    visitor = require_visitor(request, site)
    await _limit(f"visitor:{site.channel_id}:{visitor.visitor_id}", LIMITS.visitor_requests)
    data = await _json_body(request)
    up_to = data.get("up_to_message_id")
    if isinstance(up_to, str) and up_to.isdigit():
        up_to = int(up_to)
    if not isinstance(up_to, int) or isinstance(up_to, bool) or up_to < 1:
        raise bad_input("up_to_message_id must be a message id")
    status = data.get("status", "read")
    if status not in ("read", "delivered"):
        raise bad_input('status is "read" or "delivered"')
    identity_id = await identity_of(site.channel_id, visitor.visitor_id)
    conversations = await recent_conversations(identity_id)
    changed = await mark_replies(
        site.channel_id, visitor.visitor_id, identity_id, conversations, DeliveryStatus(status), up_to
    )
    if changed:
        metrics.STATUSES_IN.labels("webchat").inc(changed)
    return JSONResponse({"updated": changed})


async def not_found(request: Request) -> Response:
    return JSONResponse(
        {"error": {"code": "NOT_FOUND", "message": "no such webchat endpoint"}}, status_code=404
    )


_ALL = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]  # wrong ones get a JSON 405

webchat_routes: list[BaseRoute] = [
    Route("/widget.js", widget_js, methods=["GET", "HEAD"]),
    Route("/{public_key}/sessions", _endpoint(("POST",), sessions), methods=_ALL),
    Route(
        "/{public_key}/messages",
        _endpoint(
            ("GET", "POST"), lambda r, s: post_message(r, s) if r.method == "POST" else get_messages(r, s)
        ),
        methods=_ALL,
    ),
    Route("/{public_key}/events", _endpoint(("GET",), events), methods=_ALL),
    Route("/{public_key}/read", _endpoint(("POST",), post_read), methods=_ALL),
    Route("/{path:path}", not_found, methods=_ALL),
]

__all__ = ["LIMITS", "Limits", "close", "webchat_routes"]
