"""The webhook endpoint every platform posts to: /webhooks/{platform}/{channel_id}.

Order matters and is the product's promise: size limit → channel → signature over the raw bytes
(nothing is parsed or stored before it passes) → a nonce not used before on another body → parse
→ store in one transaction → 200. While PostgreSQL is unreachable the answer is 503 with
Retry-After (core/outage.py, around every route), so the platform retries. A platform
only gets its 2xx once the message is committed, so a crash before that means it retries, and the
retry is deduplicated by the platform's message id.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from functools import partial

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from connectors.base import ChannelCredentials, Connector, MalformedPayload, Platform, WebhookRequest
from connectors.registry import get_connector
from core import metrics, tasks
from core.body import BodyTooLarge, read_body
from core.crypto import SecretsUnreadable
from core.group_commit import GroupCommit
from core.ratelimit import RateLimiter
from core.replay import NonceLedger
from core.settings import get_settings
from core.storable import storable
from resolvers.channels import (
    channel_for_webhook,
    note_rejected_webhook,
    previous_credentials,
    record_webhook,
)
from resolvers.enrichment import enrich
from resolvers.errors import NotFound
from resolvers.inbound import ingest
from resolvers.webhook_availability import close as close_outcomes
from resolvers.webhook_availability import count as count_outcome
from resolvers.whatsapp_templates import apply_status_changes

log = logging.getLogger("pytake.webhooks")


_ledger: NonceLedger | None = None
_limiter: RateLimiter | None = None
# One channel's webhooks arriving while its count is on its way to Redis wait and are counted
# together (one INCRBY of their number), so a flood costs a Redis round trip per batch rather than
# per webhook; alone, a webhook is counted at once. A batch that crosses the limit is refused
# whole (a platform retries a 429); webhooks one after the other are counted exactly as before.
_channel_counts: dict[tuple[asyncio.AbstractEventLoop, str], GroupCommit[None, int]] = {}


async def _channel_wait(channel_id: str) -> int:
    """Seconds to wait when a channel's webhooks pass WEBHOOK_RATE_PER_MINUTE (0: go on). Generous
    by default: a platform retries a 429, so this only stops a flood, never loses a message."""
    key = (asyncio.get_running_loop(), channel_id)
    counter = _channel_counts.get(key)
    if counter is None:
        if len(_channel_counts) > 10_000:  # bounded under a flood of channel ids
            _channel_counts.clear()
        counter = _channel_counts[key] = GroupCommit(
            partial(_count_webhooks, channel_id), max_size=256, max_inflight=1
        )
    return await counter.submit(None)


async def _count_webhooks(channel_id: str, batch: list[None]) -> list[int | BaseException]:
    global _limiter
    settings = get_settings()
    if _limiter is None:
        _limiter = RateLimiter(settings.redis_url, settings.namespace)
    wait = await _limiter.take(
        f"webhook:{channel_id}", limit=settings.webhook_rate_per_minute, per=60, amount=len(batch)
    )
    return [wait] * len(batch)


def _nonces() -> NonceLedger:
    global _ledger
    if _ledger is None:
        settings = get_settings()
        _ledger = NonceLedger(settings.redis_url, settings.namespace)
    return _ledger


async def close() -> None:
    """Release the nonce ledger's Redis connections (at shutdown)."""
    global _ledger, _limiter
    if _ledger is not None:
        await _ledger.close()
        _ledger = None
    if _limiter is not None:
        await _limiter.close()
        _limiter = None
    _channel_counts.clear()
    await close_outcomes()  # the webhook outcomes this process counted (resolvers/webhook_availability.py)


async def _replayed(connector: Connector, hook: WebhookRequest, creds: ChannelCredentials) -> bool:
    """Is this a signature already used on another body? Only for schemes whose signature leaves
    the body out (connectors/base.py ReplayNonce); the others are bound to their body."""
    nonce_of = getattr(connector, "replay_nonce", None)
    nonce = nonce_of(hook, creds) if nonce_of is not None else None
    if nonce is None:
        return False
    key = f"{connector.platform.value}:{creds.channel_id}:{nonce.key}"
    fingerprint = hashlib.sha256(hook.body).hexdigest()
    return not await _nonces().admit(key, fingerprint, nonce.window)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


async def webhook(request: Request) -> Response:
    started = time.perf_counter()
    platform_name = request.path_params["platform"]
    try:
        platform = Platform(platform_name)
    except ValueError:
        return _error(404, "UNKNOWN_PLATFORM", f"no platform {platform_name!r}")
    response = await _handle(request, platform)
    metrics.HTTP_LATENCY.labels("webhook").observe(time.perf_counter() - started)
    return response


async def _handle(request: Request, platform: Platform) -> Response:
    wait = await _channel_wait(request.path_params["channel_id"])
    if wait:
        metrics.WEBHOOKS_REJECTED.labels(platform, "rate_limited").inc()
        response = _error(429, "RATE_LIMITED", f"too many webhooks for this channel; retry in {wait} s")
        response.headers["Retry-After"] = str(wait)
        return response
    try:
        channel, creds = await channel_for_webhook(int(request.path_params["channel_id"]))
    except (NotFound, ValueError):
        metrics.WEBHOOKS_REJECTED.labels(platform, "unknown_channel").inc()
        return _error(404, "UNKNOWN_CHANNEL", "no such channel")
    except SecretsUnreadable:
        log.error("channel secrets unreadable", extra={"channel_id": request.path_params["channel_id"]})
        return _error(503, "CHANNEL_MISCONFIGURED", "channel credentials cannot be read")
    if channel.platform != platform or not channel.enabled:
        metrics.WEBHOOKS_REJECTED.labels(platform, "unknown_channel").inc()
        return _error(404, "UNKNOWN_CHANNEL", "no such channel")
    connector = get_connector(platform)
    try:
        # E-mail posts carry attachments: a connector may need more than the general limit.
        limit = max(get_settings().max_webhook_body, getattr(connector, "max_webhook_body", 0))
        body = await read_body(request, limit)
    except BodyTooLarge:
        metrics.WEBHOOKS_REJECTED.labels(platform, "too_large").inc()
        count_outcome(platform.value, channel.id, "refused")
        return _error(413, "PAYLOAD_TOO_LARGE", "body exceeds the webhook size limit")
    except ClientDisconnect:
        return _error(400, "CLIENT_DISCONNECTED", "request body incomplete")
    hook = WebhookRequest(
        method=request.method,
        url=_public_url(request),
        headers={k.lower(): v for k, v in request.headers.items()},
        query=dict(request.query_params),
        body=body,
    )
    handshake = connector.handshake(hook, creds)
    if handshake is not None and handshake.status >= 400:
        # A verify token rotated out is still accepted during its grace (Meta's re-verification).
        previous = previous_credentials(channel, creds)
        if previous is not None:
            again = connector.handshake(hook, previous)
            if again is not None and again.status < 400:
                handshake = again
    if handshake is not None:
        return Response(handshake.body, status_code=handshake.status, media_type=handshake.content_type)
    if request.method != "POST":
        return _error(405, "METHOD_NOT_ALLOWED", "webhooks are POSTed")
    try:
        signed = connector.verify(hook, creds, now=time.time())
        if not signed:
            # After a rotation the platform may still sign with the old secret, for a grace
            # period (resolvers/channels.py rotate_webhook_secret): the current one first, then it.
            previous = previous_credentials(channel, creds)
            if previous is not None and connector.verify(hook, previous, now=time.time()):
                signed, creds = True, previous
                log.info(
                    "webhook signed with the rotated-out secret",
                    extra={"channel_id": channel.id, "platform": platform.value},
                )
    except MalformedPayload as exc:  # the signature sits in a body that does not parse
        metrics.WEBHOOKS_REJECTED.labels(platform, "malformed").inc()
        count_outcome(platform.value, channel.id, "refused")
        return _error(400, "MALFORMED_PAYLOAD", str(exc))
    if signed and await _replayed(connector, hook, creds):
        metrics.WEBHOOKS_REJECTED.labels(platform, "replayed").inc()
        count_outcome(platform.value, channel.id, "refused")
        log.warning(
            "webhook signature replayed", extra={"channel_id": channel.id, "platform": platform.value}
        )
        await note_rejected_webhook(channel.id, "a webhook was refused: its signature was already used")
        return _error(401, "REPLAYED_SIGNATURE", "this signature was already used on another request")
    if not signed:
        metrics.WEBHOOKS_REJECTED.labels(platform, "bad_signature").inc()
        count_outcome(platform.value, channel.id, "refused")
        log.warning(
            "webhook signature rejected", extra={"channel_id": channel.id, "platform": platform.value}
        )
        await note_rejected_webhook(channel.id, "a webhook was refused: signature missing or invalid")
        return _error(401, "BAD_SIGNATURE", "signature missing or invalid")
    try:
        parsed = connector.parse(hook, creds)
    except MalformedPayload as exc:
        metrics.WEBHOOKS_REJECTED.labels(platform, "malformed").inc()
        count_outcome(platform.value, channel.id, "refused")
        return _error(400, "MALFORMED_PAYLOAD", str(exc))
    try:
        parsed = await enrich(connector, creds, parsed)  # Slack's mention names; never fails
        result = await ingest(channel.id, platform.value, parsed)
        if parsed.template_statuses:  # WhatsApp's template reviews, for the approved-template catalogue
            await apply_status_changes(channel.id, parsed.template_statuses)
    except Exception:
        count_outcome(platform.value, channel.id, "failed")  # a 5xx the platform retries
        raise
    await record_webhook(channel.id)
    # Tasks the broker refused after the commit (Redis down) are in PostgreSQL before the 2xx:
    # the platform's retry would be deduplicated and never ask for them again.
    await tasks.outbox_settled()
    metrics.WEBHOOKS_ACCEPTED.labels(platform).inc()
    count_outcome(platform.value, channel.id, "accepted")
    metrics.MESSAGES_IN.labels(platform).inc(result.stored)
    metrics.MESSAGES_DUPLICATE.labels(platform).inc(result.duplicates)
    metrics.STATUSES_IN.labels(platform).inc(result.statuses)
    log.info(
        "webhook",
        extra={
            "channel_id": channel.id,
            "platform": platform.value,
            "stored": result.stored,
            "duplicates": result.duplicates,
            "statuses": result.statuses,
        },
    )
    if parsed.reply is not None:
        reply = storable(parsed.reply)  # echoed text (a challenge) must encode, whatever was sent
        return Response(reply.body, status_code=reply.status, media_type=reply.content_type)
    return PlainTextResponse("ok")


def _public_url(request: Request) -> str:
    """The URL the platform called, as it signed it (Twilio signs the full URL). Behind a proxy
    the scheme/host we see differ from the public ones, so PUBLIC_URL, when set, wins."""
    settings = get_settings()
    if not settings.public_url_configured:
        return str(request.url)
    public = settings.public_url
    query = request.url.query
    return public.rstrip("/") + request.url.path + (f"?{query}" if query else "")
