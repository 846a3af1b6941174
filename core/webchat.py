"""The webchat visitor API, mounted at /webchat: the widget script, sessions, messages, a live
event stream and read receipts.

Who may do what
- The channel is named by its public key (in the embed snippet). Unknown key or disabled → 404.
- Browsers may call only from the channel's `allowed_origins` (CORS; any other Origin → 403).
  Requests without an Origin (not a browser) are let through: Origin protects visitors' browsers,
  the visitor token protects conversations.
- A visitor is whoever holds a visitor token: a JWT (HS256, the channel's `visitor_token_secret`,
  audience "pytake-webchat") naming the channel and a visitor id we chose. Knowing a visitor id
  gives nothing; only the token does. A site can vouch for a signed-in visitor's e-mail with an
  `identity_token` signed with its `identity_secret`: only then is the e-mail trusted for merging.
- A visitor sees their own messages and the agents' replies to them on this channel (only once
  sent), never internal notes, activities, metadata, agents' e-mails, or other identities' messages
  (not even those of the same customer on other platforms).

Cursors
Each visitor may have a few conversations (a new one starts when the last was closed), each with
its own event stream. A cursor is the position in each: "s" + "conv.seq" joined by "_"
(e.g. "s12.345_19.400"; "s" alone: nothing seen yet). The SSE `id:` of every event is the cursor
after it, so a reconnect with Last-Event-ID resumes exactly; a conversation newer than every one
in the cursor is replayed from its start.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from connectors.base import (
    Attachment,
    ChannelCredentials,
    DeliveryStatus,
    InboundMessage,
    MessageKind,
    ParsedWebhook,
    StatusUpdate,
)
from connectors.webchat import MAX_TEXT_LENGTH, normalise_origin, widget_config
from core import metrics
from core.crypto import SecretsUnreadable
from core.events import CursorExpired, EventLog, EventRecord, committed, conversation_stream
from core.ratelimit import RateLimiter
from core.settings import get_settings
from core.sql import fetch, fetchrow, in_transaction
from resolvers.channels import channel_for_webhook, record_webhook
from resolvers.errors import NotFound
from resolvers.inbound import ingest
from resolvers.shapes import MESSAGE_COLUMNS
from resolvers.statuses import apply_status

log = logging.getLogger("pytake.webchat")

AUDIENCE = "pytake-webchat"
IDENTITY_AUDIENCE = "pytake-webchat-identity"  # what a site signs to vouch for a visitor
ISSUER = "pytake"
TOKEN_TTL = 30 * 86400
MAX_BODY = 16 * 1024
MAX_CLIENT_ID = 64
MAX_CONVERSATIONS = 5  # followed per visitor: the current one and a few recent
PAGE = 50
MAX_POLL_EVENTS = 2000
KEEPALIVE = 15.0  # seconds between SSE comments, so proxies keep the connection open
RECHECK = 5.0  # seconds between looks for a conversation the visitor started meanwhile
WIDGET_PATH = Path(__file__).with_name("webchat_widget.js")

_CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")  # no ':' (it separates visitor and client id)
_EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")
_MEDIA_KINDS = {"image", "audio", "video", "document"}
_VISIBLE_OUTBOUND = ("sent", "delivered", "read")


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


# ---- errors and CORS ------------------------------------------------------------------------


class WebchatError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def _error_response(exc: WebchatError, cors: dict[str, str]) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": exc.code, "message": exc.message}},
        status_code=exc.status,
        headers={**cors, **exc.headers},
    )


def _cors_headers(origin: str | None) -> dict[str, str]:
    headers = {"Vary": "Origin"}
    if origin:
        headers["Access-Control-Allow-Origin"] = origin
        headers["Access-Control-Expose-Headers"] = "Retry-After"
    return headers


# ---- the channel ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    channel_id: int
    creds: ChannelCredentials
    origins: frozenset[str]

    @property
    def title(self) -> str:
        return widget_config(self.creds.config)["title"]


_KEY_TTL = 5.0
_key_cache: dict[str, tuple[float, int | None]] = {}


async def _site(public_key: str) -> Site:
    now = time.monotonic()
    hit = _key_cache.get(public_key)
    if hit and now - hit[0] < _KEY_TTL:
        channel_id = hit[1]
    else:
        row = await fetchrow(
            "SELECT id FROM channels WHERE platform = 'webchat' AND config->>'public_key' = $1 "
            "ORDER BY id LIMIT 1",
            public_key,
        )
        channel_id = row["id"] if row else None
        if len(_key_cache) > 10_000:  # bounded, even under a flood of made-up keys
            _key_cache.clear()
        _key_cache[public_key] = (now, channel_id)
    if channel_id is None:
        raise WebchatError(404, "UNKNOWN_WIDGET", "no chat widget has this key")
    try:
        channel, creds = await channel_for_webhook(channel_id)
    except NotFound:
        raise WebchatError(404, "UNKNOWN_WIDGET", "no chat widget has this key") from None
    except SecretsUnreadable:
        log.error("webchat channel secrets unreadable", extra={"channel_id": channel_id})
        raise WebchatError(503, "CHANNEL_MISCONFIGURED", "the chat is not available right now") from None
    if (
        str(channel.platform) != "webchat"
        or not channel.enabled
        or creds.config.get("public_key") != public_key
    ):
        raise WebchatError(404, "UNKNOWN_WIDGET", "no chat widget has this key")
    origins = frozenset(
        o for o in (normalise_origin(x) for x in creds.config.get("allowed_origins") or ()) if o is not None
    )
    return Site(channel_id, creds, origins)


# ---- rate limits ------------------------------------------------------------------------------

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


# ---- visitor tokens ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Visitor:
    visitor_id: str
    name: str | None
    email: str | None  # as the visitor typed it: shown to agents, never used to merge
    vouched_email: str | None  # the site vouched for it (identity_token)


def _token_secret(site: Site) -> str:
    secret = site.creds.secrets.get("visitor_token_secret") or ""
    if not secret:
        raise WebchatError(503, "CHANNEL_MISCONFIGURED", "the chat is not available right now")
    return secret


def issue_visitor_token(site: Site, visitor: Visitor, now: int | None = None) -> tuple[str, int]:
    now = int(time.time()) if now is None else now
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": visitor.visitor_id,
        "ch": site.channel_id,
        "iat": now,
        "exp": now + TOKEN_TTL,
    }
    for claim, value in (("name", visitor.name), ("email", visitor.email), ("vem", visitor.vouched_email)):
        if value:
            claims[claim] = value
    return jwt.encode(claims, _token_secret(site), algorithm="HS256"), now + TOKEN_TTL


def _decode_visitor(site: Site, token: str) -> Visitor:
    try:
        claims = jwt.decode(
            token,
            _token_secret(site),
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "sub", "aud", "iss", "ch"]},
            leeway=5,
        )
    except jwt.ExpiredSignatureError:
        raise WebchatError(
            401, "TOKEN_EXPIRED", "the visitor token has expired; start a new session"
        ) from None
    except jwt.PyJWTError:
        raise WebchatError(401, "BAD_TOKEN", "the visitor token is not valid") from None
    if claims.get("ch") != site.channel_id or not isinstance(claims.get("sub"), str):
        raise WebchatError(401, "BAD_TOKEN", "the visitor token is not valid for this chat")
    return Visitor(
        visitor_id=claims["sub"],
        name=claims.get("name"),
        email=claims.get("email"),
        vouched_email=claims.get("vem"),
    )


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _require_visitor(request: Request, site: Site) -> Visitor:
    token = _bearer(request)
    if token is None:
        raise WebchatError(401, "MISSING_TOKEN", "send the visitor token as 'Authorization: Bearer <token>'")
    return _decode_visitor(site, token)


# ---- request plumbing -------------------------------------------------------------------------


async def _json_body(request: Request) -> dict[str, Any]:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY:
        raise WebchatError(413, "PAYLOAD_TOO_LARGE", f"the body exceeds {MAX_BODY} bytes")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():  # the limit holds without (or with a lying) Content-Length
            size += len(chunk)
            if size > MAX_BODY:
                raise WebchatError(413, "PAYLOAD_TOO_LARGE", f"the body exceeds {MAX_BODY} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        raise WebchatError(400, "CLIENT_DISCONNECTED", "the request body is incomplete") from None
    raw = b"".join(chunks)
    if not raw.strip():
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise WebchatError(400, "BAD_JSON", "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise WebchatError(400, "BAD_JSON", "the body must be a JSON object")
    return data


def _bad(message: str) -> WebchatError:
    return WebchatError(400, "BAD_INPUT", message)


Handler = Callable[[Request, Site], Awaitable[Response]]


def _endpoint(methods: tuple[str, ...], handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Channel → Origin → preflight → per-IP limit → handler, every error as JSON with the CORS
    headers a permitted page needs to read it."""

    async def endpoint(request: Request) -> Response:
        cors: dict[str, str] = {"Vary": "Origin"}
        try:
            site = await _site(request.path_params["public_key"])
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
            return _error_response(exc, cors if exc.status != 403 else {"Vary": "Origin"})
        response.headers.update(cors)
        return response

    return endpoint


# ---- reading the visitor's messages -----------------------------------------------------------


async def _identity(channel_id: int, visitor_id: str) -> int | None:
    row = await fetchrow(
        "SELECT id FROM customer_identities WHERE channel_id = $1 AND external_id = $2",
        channel_id,
        visitor_id,
    )
    return row["id"] if row else None


async def _conversations(identity_id: int | None) -> list[int]:
    """The visitor's recent conversations: their customer's (merges move conversations and
    identities together). Which messages in them the visitor sees is decided per message."""
    if identity_id is None:
        return []
    rows = await fetch(
        "SELECT c.id FROM conversations c JOIN customer_identities i ON i.customer_id = c.customer_id "
        "WHERE i.id = $1 ORDER BY c.id DESC LIMIT $2",
        identity_id,
        MAX_CONVERSATIONS,
    )
    return [r["id"] for r in rows]


def _visible(message: dict[str, Any], identity_id: int | None, channel_id: int) -> bool:
    """The visitor's own messages and replies sent to them here, nothing else."""
    if (
        identity_id is None
        or message.get("identity_id") != identity_id
        or message.get("channel_id") != channel_id
    ):
        return False
    if message.get("direction") == "inbound":
        return message.get("deleted_at") is None
    return message.get("direction") == "outbound" and message.get("status") in _VISIBLE_OUTBOUND


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return value.astimezone(UTC).isoformat()


def _json_field(value: Any, default: Any) -> Any:
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return default
    return default if value is None else value


def _visitor_view(
    message: dict[str, Any], visitor: Visitor, agent_names: dict[int, str], title: str
) -> dict[str, Any]:
    """What a visitor may see of a message: no metadata, no agent e-mail, no internal ids."""
    inbound = message["direction"] == "inbound"
    attachments = [
        {k: a.get(k) for k in ("kind", "url", "mime_type", "filename")}
        for a in _json_field(message.get("attachments"), [])
        if isinstance(a, dict) and a.get("url")
    ]
    view: dict[str, Any] = {
        "id": message["id"],
        "conversation_id": message["conversation_id"],
        "direction": message["direction"],
        "kind": message.get("kind") or "text",
        "text": message.get("text"),
        "attachments": attachments,
        "status": message.get("status"),
        "created_at": _iso(message.get("created_at")),
    }
    if inbound:
        pmid = message.get("platform_message_id") or ""
        view["client_message_id"] = (
            pmid.rpartition(":")[2] if pmid.startswith(visitor.visitor_id + ":") else None
        )
        view["sender_name"] = visitor.name
    else:
        metadata = _json_field(message.get("metadata"), {})
        view["sender_name"] = agent_names.get(message.get("sender_id") or 0) or title
        view["buttons"] = [
            {"id": b.get("id"), "title": b.get("title"), "url": b.get("url")}
            for b in (metadata.get("buttons") or [])
            if isinstance(b, dict)
        ]
    return view


async def _agent_names(messages: list[dict[str, Any]], cache: dict[int, str]) -> dict[int, str]:
    wanted = {m["sender_id"] for m in messages if m.get("sender_id") and m["sender_id"] not in cache}
    if wanted:
        for row in await fetch("SELECT id, name FROM users WHERE id = ANY($1::int[])", sorted(wanted)):
            cache[row["id"]] = row["name"]
    return cache


def encode_cursor(cursors: dict[int, int]) -> str:
    return "s" + "_".join(f"{conv}.{seq}" for conv, seq in sorted(cursors.items()))


def decode_cursor(raw: str | None) -> dict[int, int] | None:
    if raw is None or raw == "":
        return None
    if not raw.startswith("s") or len(raw) > 400:
        raise _bad("the cursor must be one this API returned")
    cursors: dict[int, int] = {}
    for part in filter(None, raw[1:].split("_")):
        conv, dot, seq = part.partition(".")
        if not dot or not conv.isdigit() or not seq.isdigit():
            raise _bad("the cursor must be one this API returned")
        cursors[int(conv)] = int(seq)
    return cursors


async def _starting_points(
    event_log: EventLog, conversations: list[int], given: dict[int, int] | None
) -> dict[int, int]:
    """Where to read each conversation from: the cursor's position; from the start for a
    conversation newer than every one the cursor knew (it began after the cursor was made); from
    now otherwise. Entries for conversations that are not the visitor's are ignored."""
    newest_known = max(given, default=0) if given is not None else None
    start: dict[int, int] = {}
    for conv in conversations:
        if given is not None and conv in given:
            start[conv] = given[conv]
        elif newest_known is not None and conv > newest_known:
            start[conv] = 0
        else:
            start[conv] = await event_log.head(conversation_stream(conv))
    return start


async def _replay(event_log: EventLog, conv: int, after: int) -> AsyncIterator[EventRecord]:
    stream = conversation_stream(conv)
    await event_log.check_retained(stream, after)  # a hole is reported (CursorExpired), never skipped
    for _ in range(MAX_POLL_EVENTS // 500):
        batch = await event_log.replay(stream, after)
        for record in batch:
            after = record.seq
            yield record
        if len(batch) < 500:
            return


# ---- endpoints --------------------------------------------------------------------------------


def _text_field(data: dict[str, Any], key: str, limit: int) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad(f"{key} must be a string")
    value = value.strip()
    if len(value) > limit:
        raise _bad(f"{key} must be at most {limit} characters")
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
        if not _EMAIL_RE.match(email):
            raise _bad("email is not an e-mail address")
        email = email.lower()
    claimed_id = data.get("visitor_id")
    if claimed_id is not None and not isinstance(claimed_id, str):
        raise _bad("visitor_id must be a string")
    token = _bearer(request)
    previous = _decode_visitor(site, token) if token else None
    if previous is not None and claimed_id and claimed_id != previous.visitor_id:
        raise WebchatError(401, "TOKEN_MISMATCH", "the visitor token belongs to another visitor")
    vouched = await _vouched(site, data.get("identity_token"))
    if (
        previous is not None
        and previous.vouched_email
        and (vouched is None or vouched["email"] != previous.vouched_email)
    ):
        # A vouched session lasts only while the site vouches for the same person: after they
        # sign out (or someone else signs in on this browser) their conversation stays theirs.
        previous = None
    if vouched is not None:
        visitor_id = vouched["visitor_id"] or (previous.visitor_id if previous else _new_visitor_id())
        visitor = Visitor(visitor_id, vouched["name"] or name, email or vouched["email"], vouched["email"])
    elif previous is not None:
        visitor = Visitor(
            previous.visitor_id, name or previous.name, email or previous.email, previous.vouched_email
        )
    else:
        visitor = Visitor(_new_visitor_id(), name, email, None)
    await _limit(f"visitor:{site.channel_id}:{visitor.visitor_id}", LIMITS.visitor_requests)
    visitor_token, expires = issue_visitor_token(site, visitor)
    conversations = await _conversations(await _identity(site.channel_id, visitor.visitor_id))
    return JSONResponse(
        {
            "visitor_token": visitor_token,
            "visitor_id": visitor.visitor_id,
            "expires_at": datetime.fromtimestamp(expires, UTC).isoformat(),
            "conversation_id": conversations[0] if conversations else None,
            "config": widget_config(site.creds.config),
        }
    )


def _new_visitor_id() -> str:
    return "v_" + secrets.token_urlsafe(18)


async def _vouched(site: Site, identity_token: Any) -> dict[str, str | None] | None:
    """The site's word on who this visitor is: a JWT (HS256) signed with the channel's
    `identity_secret`, audience "pytake-webchat-identity", with `email` and optionally `name`
    and `sub` (the site's user id: the same user on every device is one visitor)."""
    if identity_token is None:
        return None
    secret = site.creds.secrets.get("identity_secret") or ""
    if not secret:
        raise WebchatError(401, "BAD_IDENTITY_TOKEN", "this chat does not accept identity tokens")
    if not isinstance(identity_token, str):
        raise _bad("identity_token must be a string")
    try:
        claims = jwt.decode(
            identity_token,
            secret,
            algorithms=["HS256"],
            audience=IDENTITY_AUDIENCE,
            options={"require": ["exp", "aud"]},
            leeway=5,
        )
    except jwt.PyJWTError:
        raise WebchatError(401, "BAD_IDENTITY_TOKEN", "the identity token is not valid") from None
    email = claims.get("email")
    if not isinstance(email, str) or not _EMAIL_RE.match(email.strip()):
        raise WebchatError(401, "BAD_IDENTITY_TOKEN", "the identity token carries no valid e-mail")
    sub = claims.get("sub")
    name = claims.get("name")
    return {
        "email": email.strip().lower(),
        "name": name.strip()[:100] if isinstance(name, str) and name.strip() else None,
        "visitor_id": f"site_{hashlib.sha256(str(sub).encode()).hexdigest()[:32]}" if sub else None,
    }


def _attachments(data: dict[str, Any]) -> tuple[Attachment, ...]:
    raw = data.get("attachments")
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > 10:
        raise _bad("attachments must be a list of at most 10 items")
    out = []
    for item in raw:
        if not isinstance(item, dict):
            raise _bad("each attachment must be an object with a url")
        url, kind = item.get("url"), item.get("kind", "document")
        if not isinstance(url, str) or not url.startswith("https://") or len(url) > 2000:
            raise _bad("attachments are given by their https URL")
        if kind not in _MEDIA_KINDS:
            raise _bad("an attachment's kind is image, audio, video or document")
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
    visitor = _require_visitor(request, site)
    await _limit(f"vmsg:{site.channel_id}:{visitor.visitor_id}", LIMITS.visitor_messages)
    data = await _json_body(request)
    client_id = data.get("client_message_id")
    if not isinstance(client_id, str) or not _CLIENT_ID_RE.match(client_id):
        raise _bad(f"client_message_id must be 1 to {MAX_CLIENT_ID} letters, digits, '.', '_' or '-'")
    text = data.get("text")
    if text is not None and not isinstance(text, str):
        raise _bad("text must be a string")
    text = (text or "").strip()
    if len(text) > MAX_TEXT_LENGTH:
        raise _bad(f"text must be at most {MAX_TEXT_LENGTH} characters")
    attachments = _attachments(data)
    if not text and not attachments:
        raise _bad("write some text or attach something")
    metadata: dict[str, Any] = {}
    if visitor.email and visitor.email != visitor.vouched_email:
        metadata["visitor_email"] = visitor.email  # for the agent to read; not trusted for merging
    payload = data.get("payload")
    if payload is not None:  # a reply button: text is its title
        if not isinstance(payload, str) or not payload or len(payload) > 256 or not text:
            raise _bad("a button press needs its payload (at most 256 characters) and its title as text")
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
    columns = ", ".join(f"m.{c.strip()}" for c in MESSAGE_COLUMNS.split(","))
    row = await fetchrow(
        f"SELECT {columns} FROM messages m JOIN customer_identities i ON i.id = m.identity_id "
        "WHERE m.channel_id = $1 AND m.platform_message_id = $2 AND i.external_id = $3",
        site.channel_id,
        platform_id,
        visitor.visitor_id,
    )
    if row is None:  # cannot happen: the id embeds the visitor's own id
        raise WebchatError(409, "CONFLICT", "this client_message_id cannot be used")
    message = _visitor_view(dict(row), visitor, {}, site.title)
    return JSONResponse(
        {"message": message, "conversation_id": row["conversation_id"], "duplicate": result.stored == 0},
        status_code=201 if result.stored else 200,
    )


async def get_messages(request: Request, site: Site) -> Response:
    """Without `after`: the latest messages and the cursor to follow from (`/events?after=`).
    With `after`: what changed since that cursor (new messages, new statuses), for clients that
    poll instead of streaming."""
    visitor = _require_visitor(request, site)
    await _limit(f"visitor:{site.channel_id}:{visitor.visitor_id}", LIMITS.visitor_requests)
    given = decode_cursor(request.query_params.get("after"))
    raw_limit = request.query_params.get("limit", str(PAGE))
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100:
        raise _bad("limit must be between 1 and 100")
    event_log: EventLog = request.app.state.event_log
    identity_id = await _identity(site.channel_id, visitor.visitor_id)
    conversations = await _conversations(identity_id)
    # Positions first, then the rows: anything that changes in between comes again as an event.
    cursors = await _starting_points(event_log, conversations, given)
    names: dict[int, str] = {}
    if given is None:
        columns = ", ".join(f"m.{c.strip()}" for c in MESSAGE_COLUMNS.split(","))
        rows = [
            dict(r)
            for r in await fetch(
                f"SELECT {columns} FROM messages m WHERE m.conversation_id = ANY($1::int[]) "
                "AND m.identity_id = $2 AND m.channel_id = $3 AND m.deleted_at IS NULL "
                "AND (m.direction = 'inbound' OR (m.direction = 'outbound' AND m.status = ANY($4::text[]))) "
                "ORDER BY m.id DESC LIMIT $5",
                conversations,
                identity_id,
                site.channel_id,
                list(_VISIBLE_OUTBOUND),
                int(raw_limit),
            )
        ][::-1]
        complete = True
    else:
        latest: dict[int, dict[str, Any]] = {}
        complete = True
        try:
            for conv in conversations:
                async for record in _replay(event_log, conv, cursors[conv]):
                    cursors[conv] = record.seq
                    message = record.payload.get("message")
                    if isinstance(message, dict) and _visible(message, identity_id, site.channel_id):
                        latest[message["id"]] = message
                head = await event_log.head(conversation_stream(conv))
                complete = complete and cursors[conv] >= head
        except CursorExpired:
            raise WebchatError(
                410, "CURSOR_EXPIRED", "this cursor is too old: load the messages again"
            ) from None
        rows = [latest[k] for k in sorted(latest)]
    await _agent_names(rows, names)
    return JSONResponse(
        {
            "messages": [_visitor_view(m, visitor, names, site.title) for m in rows],
            "cursor": encode_cursor(cursors),
            "complete": complete,
        },
        headers={"Cache-Control": "no-store"},
    )


async def events(request: Request, site: Site) -> Response:
    """Server-Sent Events: every change to the visitor's messages, live. Each event's `id:` is
    the cursor after it; reconnecting with `Last-Event-ID` (or `?after=`) resumes exactly."""
    visitor = _require_visitor(request, site)
    await _limit(f"visitor:{site.channel_id}:{visitor.visitor_id}", LIMITS.visitor_requests)
    raw = request.headers.get("last-event-id") or request.query_params.get("after")
    given = decode_cursor(raw)
    event_log: EventLog = request.app.state.event_log
    identity_id = await _identity(site.channel_id, visitor.visitor_id)
    conversations = await _conversations(identity_id)
    cursors = await _starting_points(event_log, conversations, given)
    stream = _event_stream(event_log, site, visitor, identity_id, cursors, given)
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _sse(cursor: str | None, data: dict[str, Any]) -> bytes:
    head = f"id: {cursor}\n".encode() if cursor is not None else b""
    return head + b"data: " + orjson.dumps(data) + b"\n\n"


async def _event_stream(
    event_log: EventLog,
    site: Site,
    visitor: Visitor,
    identity_id: int | None,
    cursors: dict[int, int],
    given: dict[int, int] | None,
) -> AsyncIterator[bytes]:
    """One follower task per conversation (core/events.py: replay after the cursor, then live,
    gaps re-read), merged here. Cursors advance only as events are handled here, so the `id:` sent
    always covers exactly what this stream has passed on."""
    queue: asyncio.Queue[tuple[int, EventRecord | BaseException]] = asyncio.Queue(maxsize=200)
    tasks: dict[int, asyncio.Task[None]] = {}
    newest_known = max([*cursors, *(given or {})], default=0)
    names: dict[int, str] = {}

    async def follow(conv: int, after: int) -> None:
        try:
            async for record in event_log.follow(conversation_stream(conv), after):
                await queue.put((conv, record))
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # surfaced to the stream, which ends; the widget reconnects
            await queue.put((conv, exc))

    def start(conv: int, after: int) -> None:
        cursors[conv] = after
        tasks[conv] = asyncio.create_task(follow(conv, after), name=f"webchat-follow-{conv}")

    for conv, after in list(cursors.items()):
        start(conv, after)
    try:
        yield b"retry: 2000\n\n"
        yield _sse(encode_cursor(cursors), {"type": "ready", "conversation_ids": sorted(cursors)})
        loop = asyncio.get_running_loop()
        last_write = next_check = loop.time()
        while True:
            timeout = max(0.0, min(last_write + KEEPALIVE, next_check + RECHECK) - loop.time())
            try:
                conv, item = await asyncio.wait_for(queue.get(), timeout)
            except TimeoutError:
                now = loop.time()
                if now >= next_check + RECHECK:
                    next_check = now
                    try:
                        await _site(site.creds.config.get("public_key", ""))
                    except WebchatError:
                        return  # the channel was disabled or its key changed: nothing more to say
                    if identity_id is None:
                        identity_id = await _identity(site.channel_id, visitor.visitor_id)
                    for new in await _conversations(identity_id):
                        if new not in tasks:
                            # Started after we began: everything in it is news to this visitor.
                            start(
                                new,
                                0 if new > newest_known else await event_log.head(conversation_stream(new)),
                            )
                            newest_known = max(newest_known, new)
                if loop.time() >= last_write + KEEPALIVE:
                    last_write = loop.time()
                    yield b": keepalive\n\n"
                continue
            if isinstance(item, BaseException):
                if isinstance(item, CursorExpired):
                    yield _sse(
                        None, {"type": "reset", "reason": "the cursor is too old: load the messages again"}
                    )
                    return
                # The database or the bus failed under this follower: end the stream; the widget
                # reconnects with its cursor and loses nothing.
                log.warning("webchat stream ended by an error", exc_info=item)
                return
            cursors[conv] = item.seq
            message = item.payload.get("message")
            if not (isinstance(message, dict) and _visible(message, identity_id, site.channel_id)):
                continue
            await _agent_names([message], names)
            last_write = loop.time()
            yield _sse(
                encode_cursor(cursors),
                {"type": "message", "message": _visitor_view(message, visitor, names, site.title)},
            )
    finally:
        for task in tasks.values():
            task.cancel()
        for task in tasks.values():
            with contextlib.suppress(BaseException):
                await task


async def post_read(request: Request, site: Site) -> Response:
    """Receipts from the widget: `{up_to_message_id, status?}`, status "read" (the default: the
    panel is open and the page visible) or "delivered" (received, not yet looked at). Applied
    like a platform's status report, so agents see the ticks move live."""
    visitor = _require_visitor(request, site)
    await _limit(f"visitor:{site.channel_id}:{visitor.visitor_id}", LIMITS.visitor_requests)
    data = await _json_body(request)
    up_to = data.get("up_to_message_id")
    if isinstance(up_to, str) and up_to.isdigit():
        up_to = int(up_to)
    if not isinstance(up_to, int) or isinstance(up_to, bool) or up_to < 1:
        raise _bad("up_to_message_id must be a message id")
    status = data.get("status", "read")
    if status not in ("read", "delivered"):
        raise _bad('status is "read" or "delivered"')
    new = DeliveryStatus(status)
    earlier = ["sent", "delivered"] if new is DeliveryStatus.READ else ["sent"]
    identity_id = await _identity(site.channel_id, visitor.visitor_id)
    conversations = await _conversations(identity_id)
    now = datetime.now(UTC)
    changed = 0
    async with in_transaction() as conn:
        rows = await conn.execute_query_dict(
            "SELECT platform_message_id FROM messages WHERE conversation_id = ANY($1::int[]) AND identity_id = $2 "
            "AND channel_id = $3 AND direction = 'outbound' AND status = ANY($4::text[]) AND id <= $5 "
            "AND platform_message_id IS NOT NULL ORDER BY id LIMIT 500",
            [conversations, identity_id, site.channel_id, earlier, up_to],
        )
        for row in rows:
            update = StatusUpdate(
                platform_message_id=row["platform_message_id"],
                status=new,
                occurred_at=now,
                recipient_id=visitor.visitor_id,
            )
            changed += await apply_status(conn, site.channel_id, update)
    if changed:
        committed()
        metrics.STATUSES_IN.labels("webchat").inc(changed)
    return JSONResponse({"updated": changed})


# ---- the widget script ------------------------------------------------------------------------

_widget_cache: tuple[float, bytes, str] | None = None


def _widget() -> tuple[bytes, str]:
    global _widget_cache
    mtime = WIDGET_PATH.stat().st_mtime
    if _widget_cache is None or _widget_cache[0] != mtime:
        body = WIDGET_PATH.read_bytes()
        _widget_cache = (mtime, body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
    return _widget_cache[1], _widget_cache[2]


async def widget_js(request: Request) -> Response:
    body, etag = _widget()
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=300",
        "X-Content-Type-Options": "nosniff",
        "Access-Control-Allow-Origin": "*",  # a public script: anyone may load it
    }
    match = request.headers.get("if-none-match") or ""
    if etag in (tag.strip() for tag in match.split(",")) or match.strip() == "*":
        return Response(status_code=304, headers=headers)
    return Response(
        body if request.method != "HEAD" else b"",
        media_type="application/javascript; charset=utf-8",
        headers=headers,
    )


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

__all__ = ["LIMITS", "Limits", "close", "decode_cursor", "encode_cursor", "webchat_routes"]
