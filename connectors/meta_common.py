"""What Facebook Messenger and Instagram Direct share: Meta's DM platforms have the same webhook
handshake (`hub.*` with our verify token), the same X-Hub-Signature-256 over the raw body, the same
`entry[].messaging[]` events and the same Send API with Graph's error envelope.

`MetaMessagingConnector` holds all of that once; `connectors/messenger.py` and
`connectors/instagram.py` subclass it and say where the two differ: the webhook `object`, how the
token travels, receipts (Messenger: watermarks; Instagram: per message), text limits (characters
vs UTF-8 bytes), which message tags exist and how buttons look.

Batches are parsed tolerantly: one odd event is skipped with a warning rather than failing the
whole body, because a 4xx makes Meta redeliver the batch again and again.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx
import orjson

from connectors.base import (
    Attachment,
    Button,
    Capabilities,
    ChannelCredentials,
    DeliveryStatus,
    HandshakeReply,
    InboundMessage,
    MalformedPayload,
    MessageEdit,
    MessageKind,
    OutboundMessage,
    ParsedWebhook,
    Platform,
    SendError,
    SendResult,
    StatusUpdate,
    WebhookRequest,
    nonempty_str,
)
from connectors.http import Reply, call, sent_id

log = logging.getLogger(__name__)

DEFAULT_API_VERSION = "v21.0"
MAX_QUICK_REPLIES = 13
MAX_BUTTON_TITLE = 20
MAX_PAYLOAD = 1000

_VERSION_RE = re.compile(r"^v\d+\.\d+$")
_SIGNATURE_RE = re.compile(r"^sha256=([0-9a-fA-F]{64})$")


# ---- handshake and signature ---------------------------------------------------------------------


def hub_handshake(request: WebhookRequest, channel: ChannelCredentials) -> HandshakeReply | None:
    """Meta's subscription check: GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…,
    answered with the challenge only when the token is the channel's verify_token."""
    if request.method.upper() != "GET":
        return None
    expected = channel.secrets.get("verify_token") or ""
    given = request.query.get("hub.verify_token") or ""
    challenge = request.query.get("hub.challenge")
    token_ok = bool(expected) and hmac.compare_digest(given.encode(), expected.encode())
    if request.query.get("hub.mode") == "subscribe" and token_ok and challenge is not None:
        return HandshakeReply(200, challenge)
    return HandshakeReply(403, "verification failed: wrong hub.mode or hub.verify_token")


def verify_hub_signature(request: WebhookRequest, app_secret: str) -> bool:
    """`X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app_secret, raw body)>`, compared in constant time."""
    header = request.header("x-hub-signature-256")
    match = _SIGNATURE_RE.match(header.strip()) if header else None
    if not app_secret or match is None:
        return False
    expected = hmac.new(app_secret.encode(), request.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(match.group(1).lower(), expected)


def sign_body(app_secret: str, body: bytes) -> str:
    """The header value Meta would send for `body` (fakes and tests)."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


# ---- Graph errors ----------------------------------------------------------------------------------

# (code, subcode) → (retryable, affects the channel, reason for people). `{name}` is the platform.
# A (code, None) row covers every subcode of that code not listed on its own.
_GRAPH_ERRORS: dict[tuple[int, int | None], tuple[bool, bool, str]] = {
    (10, 2018278): (
        False,
        False,
        "More than 24 hours have passed since the customer last wrote; {name} no longer allows a "
        "free reply (the HUMAN_AGENT tag extends this to 7 days where the page has that permission).",
    ),
    (10, 2018108): (
        False,
        False,
        "This person isn't receiving messages from this account on {name} right now.",
    ),
    (551, None): (False, False, "This person isn't available on {name} right now."),
    (100, 2018001): (
        False,
        False,
        "{name} knows no such person for this account (they may have deleted it).",
    ),
    (100, 2018047): (
        False,
        False,
        "{name} could not fetch the attachment from its URL; check that the link is public and reachable.",
    ),
    (100, 2018109): (False, False, "The attachment is larger than {name} accepts."),
    (100, 2018034): (False, False, "The message has no content {name} can send."),
    (613, None): (
        True,
        False,
        "{name} is limiting how fast this account sends; the message will be retried.",
    ),
    (4, None): (True, False, "{name} is limiting this app's API calls; the message will be retried."),
    (17, None): (True, False, "{name} is limiting this account's API calls; the message will be retried."),
    (32, None): (True, False, "{name} is limiting this page's API calls; the message will be retried."),
    (80006, None): (
        True,
        False,
        "Too many messages were sent on {name} in a short time; the message will be retried.",
    ),
    (1200, None): (True, False, "{name} had a temporary failure sending the message; it will be retried."),
    (1, None): (True, False, "{name} had an unknown error; the message will be retried."),
    (2, None): (True, False, "{name} is temporarily unavailable; the message will be retried."),
    (190, None): (
        False,
        True,
        "The channel's {name} access token is invalid or has expired; update it in the channel settings.",
    ),
    (10, None): (
        False,
        True,
        "The app lacks the {name} permission needed to send this; check the app's permissions for the account.",
    ),
    (200, None): (
        False,
        True,
        "The app lacks the {name} messaging permission for this account; check the app's permissions.",
    ),
    (230, None): (False, True, "The app needs the pages_messaging permission to send on {name}."),
    (2500, None): (
        False,
        True,
        "{name} refused the request's address or token; check the channel's api_version and access token.",
    ),
    (368, None): (
        False,
        True,
        "{name} has temporarily blocked this account from sending for policy reasons.",
    ),
}
# Parameter refusals: the Graph message names the offending field, which helps an agent.
_DETAIL_CODES = frozenset({100})


def graph_send_error(reply: Reply, name: str, channel_id: int) -> SendError:
    """A refused Send API call as a SendError: transient trouble (rate limits, 5xx, `is_transient`)
    is retryable with Meta's advised wait; refusals carry a reason an agent can act on."""
    status = reply.status
    error = reply.body.get("error")
    error = error if isinstance(error, dict) else {}
    code = error.get("code") if isinstance(error.get("code"), int) else None
    subcode = error.get("error_subcode") if isinstance(error.get("error_subcode"), int) else None
    message = nonempty_str(error.get("error_user_msg")) or nonempty_str(error.get("message"))
    known = _GRAPH_ERRORS.get((code, subcode)) if code is not None else None
    if known is None and code is not None:
        known = _GRAPH_ERRORS.get((code, None))
    if known is not None:
        retryable, affects, reason = known[0], known[1], known[2].format(name=name)
        if code in _DETAIL_CODES and message and (code, subcode) not in _GRAPH_ERRORS:
            reason = f"{reason} {name} says: {message}"
    elif code == 100:
        retryable, affects = False, False
        reason = f"{name} rejected a parameter of the message: {message or 'no details given'}"
    else:
        retryable = error.get("is_transient") is True or reply.transient
        affects = status == 401
        reason = (
            f"{name} refused the message: {message}"
            if message
            else f"{name} refused the message (HTTP {status})."
        )
    log.warning(
        "%s send failed",
        name,
        extra={
            "channel_id": channel_id,
            "http_status": status,
            "code": code,
            "subcode": subcode,
            "graph_message": message,
            "fbtrace_id": error.get("fbtrace_id"),
        },
    )
    if code is not None:
        code_text = f"{code}/{subcode}" if subcode is not None else str(code)
    else:
        code_text = f"HTTP_{status}"
    return SendError(
        code_text,
        reason,
        retryable=retryable,
        retry_after=retry_after(reply) if retryable else None,
        affects_channel=affects or status == 401,
        # Graph's call-rate limits (app, user, page, custom) and a 429: "too fast", not "no".
        throttled=retryable and (status == 429 or code in (4, 17, 32, 613)),
    )


def retry_after(reply: Reply) -> float | None:
    """Seconds Meta asks us to wait: Retry-After when present, else the Business Use Case usage
    header's `estimated_time_to_regain_access` (minutes), which Graph sends with its throttles."""
    header = reply.retry_after()
    if header is not None:
        return header
    usage = reply.headers.get("x-business-use-case-usage")
    if usage:
        try:
            data = orjson.loads(usage)
        except orjson.JSONDecodeError:
            return None
        minutes = [
            item.get("estimated_time_to_regain_access")
            for items in (data.values() if isinstance(data, dict) else [])
            if isinstance(items, list)
            for item in items
            if isinstance(item, dict)
        ]
        minutes = [m for m in minutes if isinstance(m, int | float) and not isinstance(m, bool) and m > 0]
        if minutes:
            return float(max(minutes)) * 60
    return None


# ---- the shared connector ------------------------------------------------------------------------

_ATTACHMENT_KINDS = {
    "image": MessageKind.IMAGE,
    "video": MessageKind.VIDEO,
    "audio": MessageKind.AUDIO,
    "file": MessageKind.DOCUMENT,
    "sticker": MessageKind.STICKER,  # Meta's own sticker type (2026), replacing image + sticker_id
    "ig_reel": MessageKind.VIDEO,
    "reel": MessageKind.VIDEO,
    "animated_image_share": MessageKind.IMAGE,
    # A story that mentions the account is the customer's photo or video, not a file.
    "story_mention": MessageKind.IMAGE,
}
# Attachments that point at content elsewhere (a shared post, a link, a product): kept as a link
# (a document with the URL, the title as its name), with a readable line when the customer wrote
# nothing alongside.
_SHARE_TEXT = {
    "share": "Shared a post",
    "ig_post": "Shared a post",
    "post": "Shared a post",
    "story_mention": "Mentioned you in their story",
    "fallback": "Shared a link",
    "template": "Shared content",
    "ig_reel": "Shared a reel",
    "reel": "Shared a reel",
}
_VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".webm")
_OUT_TYPES = {
    MessageKind.IMAGE: "image",
    MessageKind.STICKER: "image",
    MessageKind.VIDEO: "video",
    MessageKind.AUDIO: "audio",
    MessageKind.DOCUMENT: "file",
}


class MetaMessagingConnector:
    """Messenger and Instagram Direct; subclasses fill in the class attributes and hooks."""

    platform: ClassVar[Platform]
    name: ClassVar[str]  # for people: "Messenger", "Instagram"
    object_name: ClassVar[str]  # the webhook envelope's `object`
    account_key: ClassVar[str]  # config key holding our page / IG professional account id
    account_label: ClassVar[str]
    token_key: ClassVar[str]  # the secret holding the access token
    default_api_base: ClassVar[str]
    max_text_length: ClassVar[int]
    capabilities: ClassVar[Capabilities]
    # Message tags this platform accepts (`OutboundMessage.metadata["tag"]`).
    allowed_tags: ClassVar[frozenset[str]]
    secret_names: ClassVar[tuple[str, ...]]  # ("app_secret", <token_key>, "verify_token")
    generated_secrets: ClassVar[tuple[str, ...]] = ("verify_token",)
    text_unit: ClassVar[str] = "characters"  # how max_text_length counts

    # ---- configuration ----------------------------------------------------------------------

    def validate_config(self, config: Mapping[str, Any], secrets: Mapping[str, str]) -> list[str]:
        problems: list[str] = []
        account = config.get(self.account_key)
        if not account:
            problems.append(f"The {self.account_label} ({self.account_key}) is required.")
        elif not isinstance(account, str) or not account.isdigit():
            problems.append(
                f"The {self.account_label} ({self.account_key}) must be Meta's numeric ID, given as a string of digits."
            )
        api_base = config.get("api_base", self.default_api_base)
        if not isinstance(api_base, str) or not api_base.startswith(("https://", "http://")):
            problems.append("The API base URL (api_base) must start with https:// or http://.")
        api_version = config.get("api_version", DEFAULT_API_VERSION)
        if not isinstance(api_version, str) or not _VERSION_RE.match(api_version):
            problems.append('The API version (api_version) must look like "v21.0".')
        labels = {
            "app_secret": "app secret",
            self.token_key: "access token",
            "verify_token": "verify token",
        }
        for key, label in labels.items():
            if not (secrets.get(key) or "").strip():
                problems.append(f"The {label} ({key}) is required.")
        return problems

    # ---- webhooks ---------------------------------------------------------------------------

    def handshake(self, request: WebhookRequest, channel: ChannelCredentials) -> HandshakeReply | None:
        return hub_handshake(request, channel)

    def verify(self, request: WebhookRequest, channel: ChannelCredentials, *, now: float) -> bool:
        # Meta signs no timestamp, so there is no replay window to check.
        return verify_hub_signature(request, channel.secrets.get("app_secret") or "")

    def parse(self, request: WebhookRequest, channel: ChannelCredentials) -> ParsedWebhook:
        data = request.json_object()
        if data.get("object") != self.object_name:
            raise MalformedPayload(f"object must be {self.object_name!r}, got {data.get('object')!r}")
        entries = data.get("entry")
        if not isinstance(entries, list):
            raise MalformedPayload("entry must be a list")
        configured = str(channel.config.get(self.account_key) or "")
        out = _Collected()
        for entry in entries:
            if not isinstance(entry, dict):
                raise MalformedPayload("every entry must be an object")
            entry_id = str(entry.get("id") or "")
            if configured and entry_id and entry_id != configured:
                log.warning(
                    "%s entry for another account skipped",
                    self.name,
                    extra={"channel_id": channel.channel_id, "entry_id": entry_id},
                )
                continue
            if entry.get("standby"):
                # Handover protocol: another app owns these threads; its inbox answers them.
                log.info(
                    "%s standby events ignored (the thread belongs to another app)",
                    self.name,
                    extra={"channel_id": channel.channel_id, "count": len(entry["standby"])},
                )
            events = entry.get("messaging")
            if events is None:
                continue  # `changes` (feed, comments): not conversations
            if not isinstance(events, list):
                raise MalformedPayload("entry.messaging must be a list")
            own = configured or entry_id
            for event in events:
                if not isinstance(event, dict):
                    log.warning("%s event that is not an object skipped", self.name)
                    continue
                self._event(event, own, channel.channel_id, out)
        return ParsedWebhook(
            messages=tuple(out.messages), statuses=tuple(out.statuses), edits=tuple(out.edits)
        )

    def _event(self, event: dict[str, Any], own: str, channel_id: int, out: _Collected) -> None:
        sender = _id(event.get("sender"))
        if sender is None:
            log.warning("%s event without sender skipped", self.name, extra={"channel_id": channel_id})
            return
        if own and sender == own:
            return  # the account itself: echoes, its own reactions and reads
        raw_ts = event.get("timestamp")
        at = parse_time(raw_ts)
        message = event.get("message")
        if isinstance(message, dict):
            self._message_event(message, sender, at, channel_id, out)
        elif isinstance(event.get("message_edit"), dict):
            edit = event["message_edit"]
            mid = nonempty_str(edit.get("mid"))
            if mid:
                out.edits.append(
                    MessageEdit(
                        platform_message_id=mid, occurred_at=at or _now(), text=nonempty_str(edit.get("text"))
                    )
                )
        elif isinstance(event.get("postback"), dict):
            out.messages.append(self._postback(event["postback"], sender, at or _now(), raw_ts))
        elif isinstance(event.get("reaction"), dict):
            reaction = self._reaction(event["reaction"], sender, at or _now(), raw_ts)
            if reaction is not None:
                out.messages.append(reaction)
        elif isinstance(event.get("delivery"), dict):
            out.statuses.extend(self._receipt(event["delivery"], DeliveryStatus.DELIVERED, sender, at))
        elif isinstance(event.get("read"), dict):
            out.statuses.extend(self._receipt(event["read"], DeliveryStatus.READ, sender, at))
        else:
            kinds = sorted(k for k in event if k not in ("sender", "recipient", "timestamp"))
            log.info("%s event ignored", self.name, extra={"channel_id": channel_id, "keys": kinds})

    def _message_event(
        self, message: dict[str, Any], sender: str, at: datetime | None, channel_id: int, out: _Collected
    ) -> None:
        if message.get("is_echo"):
            return  # what the account sent (us or its own inbox): never inbound
        mid = nonempty_str(message.get("mid"))
        if mid is None:
            log.warning("%s message without mid skipped", self.name, extra={"channel_id": channel_id})
            return
        if message.get("is_deleted"):
            out.edits.append(MessageEdit(platform_message_id=mid, occurred_at=at or _now(), deleted=True))
            return
        if at is None:
            log.warning("%s message with bad timestamp; using now", self.name, extra={"mid": mid})
            at = _now()
        out.messages.append(self._message(message, mid, sender, at))

    def _message(self, message: dict[str, Any], mid: str, sender: str, at: datetime) -> InboundMessage:
        text = nonempty_str(message.get("text"))
        attachments: list[Attachment] = []
        metadata: dict[str, Any] = {}
        raw_types: list[str] = []
        for item in _without_transition_twins(message.get("attachments")):
            kind_name = str(item.get("type") or "")
            payload = item.get("payload") if isinstance(item.get("payload"), dict) else {}
            raw_types.append(kind_name)
            if kind_name == "location" and isinstance(payload.get("coordinates"), dict):
                coords = payload["coordinates"]
                metadata["location"] = {"latitude": coords.get("lat"), "longitude": coords.get("long")}
                continue
            attachment, extra = self._attachment(kind_name, item, payload)
            attachments.append(attachment)
            metadata.update(extra)
        if raw_types:
            metadata["attachment_types"] = raw_types
        sticker_id = message.get("sticker_id")  # pre-v6 webhooks also name the sticker on the message
        if sticker_id and "sticker_id" not in metadata and attachments:
            metadata["sticker_id"] = sticker_id
            attachments[0] = replace(attachments[0], kind=MessageKind.STICKER, media_id=str(sticker_id))
        kind = MessageKind.TEXT
        if "location" in metadata and not attachments:
            kind = MessageKind.LOCATION
            loc = metadata["location"]
            text = text or f"Location: {loc['latitude']}, {loc['longitude']}"
        elif attachments and text is None:
            kind = attachments[0].kind
            text = _share_text(raw_types[0], metadata) if raw_types else None
        elif message.get("is_unsupported"):
            kind = MessageKind.UNSUPPORTED
            metadata["unsupported"] = True
        quick_reply = message.get("quick_reply")
        if isinstance(quick_reply, dict):
            kind = MessageKind.POSTBACK
            metadata["payload"] = quick_reply.get("payload")
            metadata["source"] = "quick_reply"
        reply_to = message.get("reply_to") if isinstance(message.get("reply_to"), dict) else {}
        story = reply_to.get("story")
        if isinstance(story, dict):
            metadata["story"] = {k: story[k] for k in ("id", "url") if k in story}
        if isinstance(message.get("referral"), dict):
            metadata["referral"] = message["referral"]  # the ad or link the customer came from
        return InboundMessage(
            platform_message_id=mid,
            sender_id=sender,
            sent_at=at,
            kind=kind,
            text=text,
            reply_to_platform_id=nonempty_str(reply_to.get("mid")),
            attachments=tuple(attachments),
            metadata=metadata,
        )

    def _attachment(
        self, kind_name: str, item: dict[str, Any], payload: dict[str, Any]
    ) -> tuple[Attachment, dict[str, Any]]:
        """One attachment and what it adds to the message's metadata."""
        extra: dict[str, Any] = {}
        # Links shared since Graph v6 carry `title` and `url` on the attachment, older ones in
        # `payload` (null for a fallback): either way the agent needs both.
        url = nonempty_str(payload.get("url")) or nonempty_str(item.get("url"))
        title = nonempty_str(payload.get("title")) or nonempty_str(item.get("title"))
        if kind_name == "template":
            title = title or _template_title(payload)
        media_id = nonempty_str(payload.get("reel_video_id")) or nonempty_str(payload.get("attachment_id"))
        if kind_name in _SHARE_TEXT:
            kind = _ATTACHMENT_KINDS.get(kind_name, MessageKind.DOCUMENT)
        else:
            # A kind Meta adds tomorrow is still stored, as what it is: unknown.
            kind = _ATTACHMENT_KINDS.get(kind_name, MessageKind.UNSUPPORTED)
        sticker_id = payload.get("sticker_id")
        if sticker_id and kind_name in ("image", "sticker"):
            kind = MessageKind.STICKER  # the thumbs-up and friends: an image with a sticker id
            extra["sticker_id"] = sticker_id
            media_id = str(sticker_id)
        if kind_name == "story_mention":
            path = (url or "").split("?", 1)[0].lower()
            kind = MessageKind.VIDEO if path.endswith(_VIDEO_SUFFIXES) else MessageKind.IMAGE
            extra["story_mention"] = True
        elif kind in (MessageKind.DOCUMENT, MessageKind.UNSUPPORTED) and (url or title):
            extra["link"] = {k: v for k, v in (("url", url), ("title", title)) if v}
        if kind_name in ("ig_reel", "reel") and title:
            extra["title"] = title
        filename = title if kind in (MessageKind.DOCUMENT, MessageKind.UNSUPPORTED) else None
        return Attachment(kind=kind, url=url, media_id=media_id, filename=filename), extra

    def _postback(self, postback: dict[str, Any], sender: str, at: datetime, raw_ts: Any) -> InboundMessage:
        payload = postback.get("payload")
        # Older postbacks carry no mid: sender + the event's own timestamp are stable across redeliveries.
        mid = nonempty_str(postback.get("mid")) or f"postback:{sender}:{raw_ts}:{payload}"
        metadata: dict[str, Any] = {"payload": payload, "source": "postback"}
        if isinstance(postback.get("referral"), dict):
            metadata["referral"] = postback["referral"]
        return InboundMessage(
            platform_message_id=mid,
            sender_id=sender,
            sent_at=at,
            kind=MessageKind.POSTBACK,
            text=nonempty_str(postback.get("title")),
            metadata=metadata,
        )

    def _reaction(
        self, reaction: dict[str, Any], sender: str, at: datetime, raw_ts: Any
    ) -> InboundMessage | None:
        target = nonempty_str(reaction.get("mid"))
        if target is None:
            return None
        action = reaction.get("action") or "react"
        emoji = "" if action == "unreact" else (reaction.get("emoji") or "")
        # Meta gives reactions no id. The timestamp belongs in it so that react, unreact and the
        # same react again are three records, while a redelivery of any of them is one.
        synthetic = f"reaction:{target}:{sender}:{action}:{emoji}:{raw_ts}"
        return InboundMessage(
            platform_message_id=synthetic,
            sender_id=sender,
            sent_at=at,
            kind=MessageKind.REACTION,
            text=emoji or None,
            metadata={"emoji": emoji, "target_platform_id": target, "reaction": reaction.get("reaction")},
        )

    def _receipt(
        self, receipt: dict[str, Any], status: DeliveryStatus, sender: str, at: datetime | None
    ) -> list[StatusUpdate]:
        """Receipts name messages (`mids`, Instagram's `read.mid`) and/or a watermark (Messenger):
        everything the customer got from us at or before it."""
        out: list[StatusUpdate] = []
        watermark = parse_time(receipt.get("watermark"))
        mids = receipt.get("mids") if isinstance(receipt.get("mids"), list) else []
        if nonempty_str(receipt.get("mid")):
            mids = [*mids, receipt["mid"]]
        when = at or watermark or _now()
        for mid in mids:
            if nonempty_str(mid):
                out.append(
                    StatusUpdate(
                        platform_message_id=mid, status=status, occurred_at=when, recipient_id=sender
                    )
                )
        if watermark is not None:
            out.append(
                StatusUpdate(
                    platform_message_id="",  # unused with up_to
                    status=status,
                    occurred_at=at or watermark,
                    recipient_id=sender,
                    up_to=watermark,
                )
            )
        return out

    # ---- sending ----------------------------------------------------------------------------

    async def send(
        self, http: httpx.AsyncClient, channel: ChannelCredentials, message: OutboundMessage
    ) -> SendResult:
        bodies = self._bodies(message)
        message_id = ""
        for index, body in enumerate(bodies):
            try:
                message_id = await self._post(http, channel, body)
            except SendError as exc:
                if index == 0:
                    raise
                # The first part went out: a retry would send it twice, so this is final.
                raise SendError(
                    exc.code,
                    f"Only part of the message reached the customer: {exc.reason}",
                    retryable=False,
                    affects_channel=exc.affects_channel,
                ) from exc
        return SendResult(platform_message_id=message_id)

    def _bodies(self, message: OutboundMessage) -> list[dict[str, Any]]:
        """The Send API requests for one message, in order: Meta takes either text or one
        attachment per message, so media with text is two requests (the text last, so its quick
        replies stay on screen)."""
        if not message.recipient_id:
            raise SendError("NO_RECIPIENT", "The customer has no address on this channel.", retryable=False)
        if message.kind is MessageKind.TEMPLATE:
            raise SendError(
                "UNSUPPORTED_KIND",
                f"{self.name} has no approved templates; write a reply instead.",
                retryable=False,
            )
        base: dict[str, Any] = {"recipient": {"id": message.recipient_id}, **self._messaging_fields(message)}
        bodies: list[dict[str, Any]] = []
        if len(message.attachments) > 1:
            raise SendError(
                "TOO_MANY_ATTACHMENTS", f"{self.name} sends one attachment per message.", retryable=False
            )
        for attachment in message.attachments:
            kind = _OUT_TYPES.get(attachment.kind)
            if kind is None:
                raise SendError(
                    "UNSUPPORTED_KIND",
                    f"{self.name} cannot send {attachment.kind.value} attachments.",
                    retryable=False,
                )
            if not attachment.url or not attachment.url.startswith(("https://", "http://")):
                raise SendError(
                    "NO_MEDIA_URL",
                    f"{self.name} fetches attachments by a public URL, and none was given.",
                    retryable=False,
                )
            payload = {"url": attachment.url, "is_reusable": False}
            bodies.append({**base, "message": {"attachment": {"type": kind, "payload": payload}}})
        text = message.text or ""
        if text.strip():
            bodies.append({**base, "message": self._text_message(text, message.buttons)})
        elif message.buttons:
            raise SendError("BUTTONS", f"{self.name} shows buttons under a text; write one.", retryable=False)
        if not bodies:
            raise SendError("EMPTY_TEXT", "The message has no text to send.", retryable=False)
        return bodies

    def _messaging_fields(self, message: OutboundMessage) -> dict[str, Any]:
        tag = message.metadata.get("tag") if message.metadata else None
        if not tag:
            return self._untagged_fields()
        if tag not in self.allowed_tags:
            allowed = ", ".join(sorted(self.allowed_tags))
            raise SendError(
                "INVALID_TAG",
                f"{self.name} does not know the message tag {tag!r} (it accepts {allowed}).",
                retryable=False,
            )
        return {"messaging_type": "MESSAGE_TAG", "tag": tag}

    def _untagged_fields(self) -> dict[str, Any]:
        return {"messaging_type": "RESPONSE"}

    def _text_size(self, text: str) -> int:
        return len(text)

    def _check_text(self, text: str) -> None:
        size = self._text_size(text)
        if size > self.max_text_length:
            raise SendError(
                "too_long",
                f"The text is {size} {self.text_unit} long; {self.name} allows at most {self.max_text_length}.",
                retryable=False,
            )

    def _text_message(self, text: str, buttons: tuple[Button, ...]) -> dict[str, Any]:
        self._check_text(text)
        result: dict[str, Any] = {"text": text}
        if buttons:
            result["quick_replies"] = quick_replies(self.name, buttons)
        return result

    async def _post(self, http: httpx.AsyncClient, channel: ChannelCredentials, body: dict[str, Any]) -> str:
        config = channel.config
        api_base = str(config.get("api_base") or self.default_api_base).rstrip("/")
        version = config.get("api_version") or DEFAULT_API_VERSION
        token = channel.secrets.get(self.token_key) or ""
        params, headers = self._auth(token)
        url = f"{api_base}/{version}/me/messages"
        reply = await call(http, self.name, url, json=body, params=params, headers=headers)
        if not reply.ok:
            raise graph_send_error(reply, self.name, channel.channel_id)
        return sent_id(reply.body.get("message_id"), self.name)

    def _auth(self, token: str) -> tuple[dict[str, str], dict[str, str]]:
        """(query parameters, headers) that carry the access token."""
        raise NotImplementedError


class _Collected:
    def __init__(self) -> None:
        self.messages: list[InboundMessage] = []
        self.statuses: list[StatusUpdate] = []
        self.edits: list[MessageEdit] = []


def quick_replies(name: str, buttons: tuple[Button, ...]) -> list[dict[str, Any]]:
    """Reply buttons as quick replies: up to 13, titles of at most 20 characters (longer ones are
    cut, as the apps would), the button id as the payload that comes back."""
    if len(buttons) > MAX_QUICK_REPLIES:
        raise SendError(
            "BUTTONS", f"{name} shows at most {MAX_QUICK_REPLIES} quick replies.", retryable=False
        )
    replies = []
    for button in buttons:
        if not button.id or len(button.id) > MAX_PAYLOAD:
            raise SendError(
                "BUTTONS", f"A button id must be 1 to {MAX_PAYLOAD} characters for {name}.", retryable=False
            )
        replies.append(
            {"content_type": "text", "title": button.title[:MAX_BUTTON_TITLE], "payload": button.id}
        )
    return replies


# ---- small helpers -------------------------------------------------------------------------------


def parse_time(value: Any) -> datetime | None:
    """Meta's timestamps are epoch milliseconds; Instagram sometimes sends ISO strings."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, int | float):
        try:
            # Milliseconds, except for the occasional seconds value (before the year 5000 in ms).
            return datetime.fromtimestamp(value / 1000 if value > 10**11 else value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _without_transition_twins(raw: Any) -> list[dict[str, Any]]:
    """The message's attachments, less the `image` twin of a `sticker`: during Meta's sticker
    transition one sticker arrives as both, and the customer sent one thing."""
    items = [a for a in raw if isinstance(a, dict)] if isinstance(raw, list) else []
    stickers = [a for a in items if a.get("type") == "sticker"]
    if not stickers:
        return items
    return [a for a in items if a.get("type") != "image" or not _payload(a).get("sticker_id")]


def _payload(item: dict[str, Any]) -> dict[str, Any]:
    return item["payload"] if isinstance(item.get("payload"), dict) else {}


def _template_title(payload: dict[str, Any]) -> str | None:
    """The first element's title of a shared template (a product, a generic card)."""
    product = payload.get("product") if isinstance(payload.get("product"), dict) else {}
    for elements in (product.get("elements"), payload.get("elements")):
        if isinstance(elements, list) and elements and isinstance(elements[0], dict):
            return nonempty_str(elements[0].get("title"))
    return None


def _share_text(kind_name: str, metadata: Mapping[str, Any]) -> str | None:
    """What the agent reads for a message that is only an attachment: the share and its title."""
    line = _SHARE_TEXT.get(kind_name)
    title = metadata.get("link", {}).get("title")
    if line and title:
        return f"{line}: {title}"
    return line


def _now() -> datetime:
    return datetime.now(UTC)


def _id(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    raw = value.get("id")
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)
    return nonempty_str(raw)
