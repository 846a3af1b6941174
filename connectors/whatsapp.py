"""WhatsApp Cloud API (Meta): webhook handshake, X-Hub-Signature-256, parsing, sending.

Webhook bodies can batch many entries/changes; one odd item is skipped with a warning rather than
failing the whole body, because a 4xx makes Meta redeliver the batch for days.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from connectors.base import (
    Attachment,
    Button,
    Capabilities,
    ChannelCredentials,
    DeliveryStatus,
    HandshakeReply,
    InboundMessage,
    MalformedPayload,
    MessageKind,
    OutboundMessage,
    ParsedWebhook,
    Platform,
    SendError,
    SendResult,
    StatusUpdate,
    TemplateStatusChange,
    WebhookRequest,
    nonempty_str,
)
from connectors.http import Reply, call, refusal, sent_id

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v21.0"
MAX_TEXT_LENGTH = 4096
# Each send carries our message id as biz_opaque_callback_data, which Meta echoes in the message's
# status webhooks: an accepted send is then known even if the worker died before recording it.
SEND_TAG_PREFIX = "pytake:"
# How long after an attempt died its "sent" status may still arrive; only then is it sent again
# (resolvers/send_lease.py). Meta's status webhooks usually come within seconds of the send.
STATUS_ECHO_GRACE = timedelta(seconds=15)

_VERSION_RE = re.compile(r"^v\d+\.\d+$")
TEMPLATE_STATUS_FIELD = "message_template_status_update"
TEMPLATE_FIELDS = "id,name,language,category,status,rejected_reason,parameter_format,components"
TEMPLATE_PAGE_SIZE = 100
MAX_TEMPLATE_PAGES = 50
# Review events that set a status of their own; the others (FLAGGED: a quality warning on a
# template still sendable) change nothing that decides a send.
_TEMPLATE_EVENTS = {
    "APPROVED": "APPROVED",
    "REINSTATED": "APPROVED",
    "UNARCHIVED": "APPROVED",
    "REJECTED": "REJECTED",
    "PAUSED": "PAUSED",
    "DISABLED": "DISABLED",
    "PENDING": "PENDING",
    "IN_APPEAL": "IN_APPEAL",
    "PENDING_DELETION": "PENDING_DELETION",
    "DELETED": "DELETED",
    "ARCHIVED": "ARCHIVED",
    "LIMIT_EXCEEDED": "LIMIT_EXCEEDED",
}
TEMPLATE_STATUSES = frozenset(_TEMPLATE_EVENTS.values()) | {"UNKNOWN"}
_SIGNATURE_RE = re.compile(r"^sha256=([0-9a-fA-F]{64})$")

_MEDIA_KINDS = {
    "image": MessageKind.IMAGE,
    "audio": MessageKind.AUDIO,
    "video": MessageKind.VIDEO,
    "document": MessageKind.DOCUMENT,
    "sticker": MessageKind.STICKER,
}
_STATUSES = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "played": DeliveryStatus.READ,  # voice notes: played implies read
    "failed": DeliveryStatus.FAILED,
}

# Transient on Meta's side: the same request can succeed later.
RETRYABLE_CODES = frozenset({130429, 131000, 131048, 131056, 4, 80007})
# Of those, the ones that mean "too fast" (throughput, pair rate, app and account call limits).
THROTTLE_CODES = frozenset({130429, 131048, 131056, 4, 80007})
# Explicit refusals: retrying the same request can never succeed, whatever the HTTP status.
PERMANENT_CODES = frozenset(
    {131047, 131026, 131049, 131050, 132000, 132001, 132015, 132016, 131008, 131009, 133010, 100, 190, 368}
)
# The channel itself is in trouble (token, blocked account, unregistered number), not one recipient.
_CHANNEL_CODES = frozenset({190, 368, 133010})
# Codes whose platform details name the offending parameter: worth showing to the agent.
_DETAIL_CODES = frozenset({100, 131008, 131009, 132000})

REASONS: dict[int, str] = {
    131047: "More than 24 hours have passed since the customer last wrote; only an approved template can be sent.",
    131026: "The message could not be delivered: the recipient may not use WhatsApp, may have an outdated app, or has not accepted the latest terms.",
    131048: "WhatsApp is limiting this number because too many of its messages were reported as spam; try again later.",
    131049: "WhatsApp did not deliver this message to keep engagement healthy (the customer's marketing message limit was reached).",
    131050: "The customer has chosen to stop receiving marketing messages from this business.",
    131056: "Too many messages were sent to this customer in a short time; try again shortly.",
    130429: "This number reached its WhatsApp message throughput limit; try again shortly.",
    131000: "WhatsApp had an unexpected error; try again.",
    131008: "A required parameter is missing from the message.",
    131009: "A parameter value in the message is not valid.",
    132000: "The number of template parameters does not match the approved template.",
    132001: "The template does not exist in this language, or has not been approved yet.",
    132015: "The template is paused because of low quality ratings.",
    132016: "The template has been disabled because of low quality ratings.",
    133010: "The business phone number is not registered on the WhatsApp Cloud API.",
    190: "The channel's WhatsApp access token is invalid or has expired; update it in the channel settings.",
    4: "The app reached its WhatsApp API call limit; try again later.",
    80007: "The WhatsApp Business Account reached its rate limit; try again later.",
    368: "The business account is temporarily blocked for policy violations.",
    100: "WhatsApp rejected a parameter of the message as not valid.",
}


class WhatsAppConnector:
    platform = Platform.WHATSAPP
    max_text_length = MAX_TEXT_LENGTH
    capabilities = Capabilities(
        reply_window=timedelta(hours=24),
        template_outside_window=True,
        can_initiate=True,  # with an approved template, to any WhatsApp number
        address_kind="phone",
        max_attachments=1,  # one media object per WhatsApp message
        buttons=True,
        templates=True,
        delivery_statuses=True,
        read_statuses=True,
    )
    secret_names = ("app_secret", "access_token", "verify_token")
    generated_secrets = ("verify_token",)

    # ---- configuration ----------------------------------------------------------------------

    def validate_config(self, config: Mapping[str, Any], secrets: Mapping[str, str]) -> list[str]:
        problems: list[str] = []
        phone_number_id = config.get("phone_number_id")
        if not phone_number_id:
            problems.append("The phone number ID (phone_number_id) is required.")
        elif not isinstance(phone_number_id, str) or not phone_number_id.isdigit():
            problems.append(
                "The phone number ID (phone_number_id) must be Meta's numeric ID, given as a string of digits."
            )
        api_base = config.get("api_base", DEFAULT_API_BASE)
        if not isinstance(api_base, str) or not api_base.startswith(("https://", "http://")):
            problems.append("The API base URL (api_base) must start with https:// or http://.")
        api_version = config.get("api_version", DEFAULT_API_VERSION)
        if not isinstance(api_version, str) or not _VERSION_RE.match(api_version):
            problems.append('The API version (api_version) must look like "v21.0".')
        for key in ("waba_id", "display_phone_number"):
            value = config.get(key)
            if value is not None and not (isinstance(value, str) and value.isdigit()):
                problems.append(f"The optional {key} must be digits only.")
        labels = {"app_secret": "app secret", "access_token": "access token", "verify_token": "verify token"}
        for key, label in labels.items():
            if not (secrets.get(key) or "").strip():
                problems.append(f"The {label} ({key}) is required.")
        return problems

    # ---- webhooks -----------------------------------------------------------------------------

    def handshake(self, request: WebhookRequest, channel: ChannelCredentials) -> HandshakeReply | None:
        if request.method.upper() != "GET":
            return None
        expected = channel.secrets.get("verify_token") or ""
        given = request.query.get("hub.verify_token") or ""
        challenge = request.query.get("hub.challenge")
        token_ok = bool(expected) and hmac.compare_digest(given.encode(), expected.encode())
        if request.query.get("hub.mode") == "subscribe" and token_ok and challenge is not None:
            return HandshakeReply(200, challenge)
        return HandshakeReply(403, "verification failed: wrong hub.mode or hub.verify_token")

    def verify(self, request: WebhookRequest, channel: ChannelCredentials, *, now: float) -> bool:
        secret = channel.secrets.get("app_secret") or ""
        header = request.header("x-hub-signature-256")
        match = _SIGNATURE_RE.match(header.strip()) if header else None
        if not secret or match is None:
            return False
        expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(match.group(1).lower(), expected)

    def parse(self, request: WebhookRequest, channel: ChannelCredentials) -> ParsedWebhook:
        data = request.json_object()
        if data.get("object") != "whatsapp_business_account":
            raise MalformedPayload(f"object must be 'whatsapp_business_account', got {data.get('object')!r}")
        entries = data.get("entry")
        if not isinstance(entries, list):
            raise MalformedPayload("entry must be a list")
        own_number = str(channel.config.get("phone_number_id") or "")
        own_account = str(channel.config.get("waba_id") or "")
        messages: list[InboundMessage] = []
        statuses: list[StatusUpdate] = []
        template_statuses: list[TemplateStatusChange] = []
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("changes"), list):
                raise MalformedPayload("every entry must be an object with a changes list")
            for change in entry["changes"]:
                if not isinstance(change, dict):
                    raise MalformedPayload("every change must be an object")
                if change.get("field") == TEMPLATE_STATUS_FIELD:
                    # Template reviews are the business account's, so the entry id names it.
                    account = str(entry.get("id") or "")
                    if own_account and account != own_account:
                        log.warning(
                            "whatsapp template update for another business account skipped",
                            extra={"channel_id": channel.channel_id, "waba_id": account},
                        )
                        continue
                    template_statuses.extend(_template_status(change.get("value"), channel.channel_id))
                    continue
                if change.get("field") != "messages":
                    continue  # account updates: not conversations
                value = change.get("value")
                if not isinstance(value, dict):
                    raise MalformedPayload("a messages change must carry a value object")
                metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
                number = str(metadata.get("phone_number_id") or "")
                if number != own_number:
                    log.warning(
                        "whatsapp change for another phone number skipped",
                        extra={"channel_id": channel.channel_id, "phone_number_id": number},
                    )
                    continue
                messages.extend(_messages(value, channel.channel_id))
                statuses.extend(_statuses(value, channel.channel_id))
        return ParsedWebhook(
            messages=tuple(messages), statuses=tuple(statuses), template_statuses=tuple(template_statuses)
        )

    # ---- sending ------------------------------------------------------------------------------

    async def send(
        self, http: httpx.AsyncClient, channel: ChannelCredentials, message: OutboundMessage
    ) -> SendResult:
        payload = _send_body(message)
        config = channel.config
        api_base = str(config.get("api_base") or DEFAULT_API_BASE).rstrip("/")
        version = config.get("api_version") or DEFAULT_API_VERSION
        url = f"{api_base}/{version}/{config.get('phone_number_id')}/messages"
        auth = {"Authorization": f"Bearer {channel.secrets.get('access_token', '')}"}
        reply = await call(http, "WhatsApp", url, json=payload, headers=auth)
        if not reply.ok:
            raise _send_error(reply, channel.channel_id)
        try:
            wamid = reply.data["messages"][0]["id"]
        except (KeyError, IndexError, TypeError):
            wamid = None
        return SendResult(platform_message_id=sent_id(wamid, "WhatsApp"))

    # ---- the approved-template catalogue ------------------------------------------------------

    async def fetch_templates(
        self, http: httpx.AsyncClient, channel: ChannelCredentials
    ) -> list[dict[str, Any]]:
        """Every message template of the channel's business account (GET /{waba_id}/message_templates,
        followed page by page through `paging.cursors.after`), each as {platform_template_id, name,
        language, category, status, reason, parameter_format, components}. Raises SendError when
        WhatsApp refuses or cannot be reached (the catalogue is then left as it was)."""
        config = channel.config
        waba_id = str(config.get("waba_id") or "")
        if not waba_id.isdigit():
            raise SendError(
                "NO_WABA_ID", "The channel has no business account ID (waba_id).", retryable=False
            )
        api_base = str(config.get("api_base") or DEFAULT_API_BASE).rstrip("/")
        version = config.get("api_version") or DEFAULT_API_VERSION
        url = f"{api_base}/{version}/{waba_id}/message_templates"
        auth = {"Authorization": f"Bearer {channel.secrets.get('access_token', '')}"}
        templates: list[dict[str, Any]] = []
        after: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_TEMPLATE_PAGES):
            params = {"fields": TEMPLATE_FIELDS, "limit": str(TEMPLATE_PAGE_SIZE)}
            if after:
                params["after"] = after
            reply = await call(http, "WhatsApp", url, method="GET", headers=auth, params=params)
            if not reply.ok:
                raise _send_error(reply, channel.channel_id)
            page = reply.body
            data = page.get("data")
            if not isinstance(data, list):
                raise SendError("BAD_RESPONSE", "WhatsApp answered without a template list.", retryable=True)
            templates.extend(t for t in (_catalogue_entry(raw) for raw in data) if t is not None)
            paging = page.get("paging") if isinstance(page.get("paging"), dict) else {}
            cursors = paging.get("cursors") if isinstance(paging.get("cursors"), dict) else {}
            after = nonempty_str(cursors.get("after"))
            # Meta keeps `cursors.after` on the last page too; only `next` says there is more. A
            # cursor seen before would loop forever, so it ends the walk as well.
            if not paging.get("next") or after is None or after in seen:
                return templates
            seen.add(after)
        raise SendError(
            "TOO_MANY_TEMPLATES",
            f"The business account lists more than {MAX_TEMPLATE_PAGES * TEMPLATE_PAGE_SIZE} templates.",
            retryable=False,
        )


# ---- parsing helpers ------------------------------------------------------------------------------


def _timestamp(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _list(value: dict[str, Any], key: str) -> list[Any]:
    items = value.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        raise MalformedPayload(f"value.{key} must be a list")
    return items


def _contact_for(contacts: list[Any], wa_id: str | None, user_id: str | None) -> dict[str, Any] | None:
    cards = [c for c in contacts if isinstance(c, dict)]
    for card in cards:
        if (wa_id and card.get("wa_id") == wa_id) or (user_id and card.get("user_id") == user_id):
            return card
    return cards[0] if len(cards) == 1 else None


def _messages(value: dict[str, Any], channel_id: int) -> list[InboundMessage]:
    contacts = _list(value, "contacts")
    result = []
    for raw in _list(value, "messages"):
        message = _message(raw, contacts) if isinstance(raw, dict) else None
        if message is None:
            log.warning("whatsapp message without id or sender skipped", extra={"channel_id": channel_id})
            continue
        result.append(message)
    return result


def _message(raw: dict[str, Any], contacts: list[Any]) -> InboundMessage | None:
    wamid = nonempty_str(raw.get("id"))
    wa_id = nonempty_str(raw.get("from"))
    contact = _contact_for(contacts, wa_id, nonempty_str(raw.get("from_user_id")))
    # With usernames (BSUID) `from` may be empty: the user_id is then the only stable identity.
    sender_id = wa_id or nonempty_str(raw.get("from_user_id")) or nonempty_str((contact or {}).get("user_id"))
    if wamid is None or sender_id is None:
        return None
    profile = (contact or {}).get("profile")
    sent_at = _timestamp(raw.get("timestamp"))
    if sent_at is None:
        log.warning("whatsapp message with bad timestamp; using now", extra={"wamid": wamid})
        sent_at = datetime.now(UTC)
    context = raw.get("context") if isinstance(raw.get("context"), dict) else {}
    kind, text, attachments, metadata = _content(raw)
    if context.get("forwarded") or context.get("frequently_forwarded"):
        metadata["forwarded"] = True
    if isinstance(raw.get("referral"), dict):
        metadata["referral"] = raw["referral"]  # click-to-WhatsApp ad the customer came from
    return InboundMessage(
        platform_message_id=wamid,
        sender_id=sender_id,
        sent_at=sent_at,
        kind=kind,
        text=text,
        sender_name=nonempty_str(profile.get("name")) if isinstance(profile, dict) else None,
        sender_phone=wa_id if wa_id and wa_id.isdigit() else None,
        reply_to_platform_id=nonempty_str(context.get("id")),
        attachments=attachments,
        metadata=metadata,
    )


Content = tuple[MessageKind, str | None, tuple[Attachment, ...], dict[str, Any]]


def _content(raw: dict[str, Any]) -> Content:
    """(kind, text, attachments, metadata) of one message, by its type."""
    kind = raw.get("type")
    body = raw.get(kind) if isinstance(kind, str) else None
    body = body if isinstance(body, dict) else {}
    if kind == "text" and nonempty_str(body.get("body")):
        return MessageKind.TEXT, body["body"], (), {}
    if kind in _MEDIA_KINDS:
        size = body.get("file_size")
        attachment = Attachment(
            kind=_MEDIA_KINDS[kind],
            media_id=nonempty_str(body.get("id")),
            url=nonempty_str(body.get("url")),
            mime_type=nonempty_str(body.get("mime_type")),
            sha256=nonempty_str(body.get("sha256")),
            filename=nonempty_str(body.get("filename")),
            size=size if isinstance(size, int) else None,
        )
        extra = {k: body[k] for k in ("voice", "animated") if isinstance(body.get(k), bool)}
        return _MEDIA_KINDS[kind], nonempty_str(body.get("caption")), (attachment,), extra
    if kind == "location" and "latitude" in body and "longitude" in body:
        location = {k: body[k] for k in ("latitude", "longitude", "name", "address", "url") if k in body}
        return MessageKind.LOCATION, _location_text(location), (), {"location": location}
    if kind == "contacts" and isinstance(raw.get("contacts"), list):
        cards = [c for c in raw["contacts"] if isinstance(c, dict)]
        return MessageKind.CONTACTS, _contacts_text(cards), (), {"contacts": cards}
    if kind == "interactive":
        return _interactive(body)
    if kind == "button" and nonempty_str(body.get("text")):
        return (
            MessageKind.INTERACTIVE,
            body["text"],
            (),
            {"interactive_type": "button", "payload": body.get("payload")},
        )
    if kind == "reaction" and nonempty_str(body.get("message_id")):
        emoji = body.get("emoji") or ""
        metadata: dict[str, Any] = {"message_id": body["message_id"], "emoji": emoji}
        if not emoji:
            metadata["removed"] = True
        return MessageKind.REACTION, emoji or None, (), metadata
    return _unsupported(raw, kind)


def _interactive(body: dict[str, Any]) -> Content:
    sub = body.get("type")
    reply = body.get(sub) if isinstance(sub, str) else None
    if sub in ("button_reply", "list_reply") and isinstance(reply, dict) and nonempty_str(reply.get("title")):
        metadata = {"interactive_type": sub, "id": reply.get("id")}
        if reply.get("description"):
            metadata["description"] = reply["description"]
        return MessageKind.INTERACTIVE, reply["title"], (), metadata
    if sub == "nfm_reply" and isinstance(reply, dict):  # WhatsApp Flows form submission
        metadata = {
            "interactive_type": sub,
            "name": reply.get("name"),
            "response_json": reply.get("response_json"),
        }
        return MessageKind.INTERACTIVE, nonempty_str(reply.get("body")) or "Form submitted", (), metadata
    return _unsupported({"type": "interactive", "interactive": body}, "interactive")


def _unsupported(raw: dict[str, Any], kind: Any) -> Content:
    metadata: dict[str, Any] = {"raw_type": kind if isinstance(kind, str) else None}
    if isinstance(raw.get("errors"), list):
        metadata["errors"] = raw["errors"]
    content = raw.get(kind) if isinstance(kind, str) else None
    if isinstance(content, dict):
        metadata["raw"] = content
    # `system` messages (number changed) carry a readable body; keep it rather than lose it.
    text = nonempty_str(content.get("body")) if isinstance(content, dict) else None
    return MessageKind.UNSUPPORTED, text, (), metadata


def _location_text(location: dict[str, Any]) -> str:
    place = ", ".join(str(location[k]) for k in ("name", "address") if location.get(k))
    coords = f"{location['latitude']}, {location['longitude']}"
    return f"Location: {place} ({coords})" if place else f"Location: {coords}"


def _contacts_text(cards: list[dict[str, Any]]) -> str:
    names = []
    for card in cards:
        name = card.get("name") if isinstance(card.get("name"), dict) else {}
        phones = [p.get("phone") for p in card.get("phones") or [] if isinstance(p, dict) and p.get("phone")]
        label = (
            nonempty_str(name.get("formatted_name"))
            or nonempty_str(name.get("first_name"))
            or "Unnamed contact"
        )
        names.append(f"{label} ({phones[0]})" if phones else label)
    noun = "contact" if len(cards) == 1 else f"{len(cards)} contacts"
    return f"Shared {noun}: {'; '.join(names)}"


def _statuses(value: dict[str, Any], channel_id: int) -> list[StatusUpdate]:
    result = []
    for raw in _list(value, "statuses"):
        if not isinstance(raw, dict):
            continue
        name = raw.get("status")
        status = _STATUSES.get(name) if isinstance(name, str) else None
        wamid = nonempty_str(raw.get("id"))
        occurred_at = _timestamp(raw.get("timestamp"))
        if status is None or wamid is None or occurred_at is None:
            log.warning(
                "whatsapp status skipped", extra={"channel_id": channel_id, "status": name, "wamid": wamid}
            )
            continue
        errors = raw.get("errors")
        error = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
        error_data = error.get("error_data") if isinstance(error.get("error_data"), dict) else {}
        result.append(
            StatusUpdate(
                platform_message_id=wamid,
                status=status,
                occurred_at=occurred_at,
                recipient_id=nonempty_str(raw.get("recipient_id"))
                or nonempty_str(raw.get("recipient_user_id")),
                error_code=str(error["code"]) if error.get("code") is not None else None,
                error_title=nonempty_str(error.get("title")),
                error_detail=nonempty_str(error_data.get("details")) or nonempty_str(error.get("message")),
                idempotency_key=_echoed_key(raw),
            )
        )
    return result


def _catalogue_entry(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    name, language = nonempty_str(raw.get("name")), nonempty_str(raw.get("language"))
    # Meta's names are at most 512 characters and its languages codes like "en_US": anything
    # else cannot be sent, so it is left out rather than failing the whole catalogue.
    if name is None or language is None or len(name) > 512 or len(language) > 20:
        return None
    status = str(raw.get("status") or "").upper()
    components = raw.get("components")
    reason = nonempty_str(raw.get("rejected_reason"))
    return {
        "platform_template_id": _template_id(raw.get("id")),
        "name": name,
        "language": language,
        "category": (nonempty_str(raw.get("category")) or "")[:40] or None,
        "status": status if status in TEMPLATE_STATUSES else "UNKNOWN",
        "reason": None if reason == "NONE" else reason,
        "parameter_format": "NAMED" if raw.get("parameter_format") == "NAMED" else "POSITIONAL",
        "components": [c for c in components if isinstance(c, dict)] if isinstance(components, list) else [],
    }


def _template_id(value: Any) -> str | None:
    text = str(value) if isinstance(value, int | str) else ""
    return text if text and len(text) <= 64 else None


def _template_status(value: Any, channel_id: int) -> list[TemplateStatusChange]:
    value = value if isinstance(value, dict) else {}
    event = str(value.get("event") or "").upper()
    name = nonempty_str(value.get("message_template_name"))
    language = nonempty_str(value.get("message_template_language"))
    if event not in _TEMPLATE_EVENTS or name is None or language is None:
        log.info("whatsapp template update skipped", extra={"channel_id": channel_id, "event": event})
        return []
    template_id = value.get("message_template_id")
    reason = nonempty_str(value.get("reason"))
    other = value.get("other_info") if isinstance(value.get("other_info"), dict) else {}
    detail = nonempty_str(other.get("description")) or nonempty_str(other.get("title"))
    if reason == "NONE":
        reason = None
    return [
        TemplateStatusChange(
            name=name,
            language=language,
            status=_TEMPLATE_EVENTS[event],
            platform_template_id=_template_id(template_id),
            reason=f"{reason}: {detail}" if reason and detail else (reason or detail),
        )
    ]


# ---- sending helpers ------------------------------------------------------------------------------


def _send_body(message: OutboundMessage) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": message.recipient_id,
    }
    if message.attachments:
        body.update(_media(message))
    elif message.kind is MessageKind.TEXT:
        text = message.text or ""
        if not text.strip():
            raise SendError("EMPTY_TEXT", "The message has no text to send.", retryable=False)
        if len(text) > MAX_TEXT_LENGTH:
            raise SendError(
                "TEXT_TOO_LONG",
                f"The text is {len(text)} characters long; WhatsApp allows at most {MAX_TEXT_LENGTH}.",
                retryable=False,
            )
        if message.buttons:
            body.update(_buttons(text, message.buttons))
        else:
            body["type"] = "text"
            body["text"] = {"preview_url": False, "body": text}
    elif message.kind is MessageKind.TEMPLATE:
        body["type"] = "template"
        body["template"] = _template(message.template or {})
    else:
        raise SendError(
            "UNSUPPORTED_KIND",
            f"Sending {message.kind.value} messages to WhatsApp is not supported.",
            retryable=False,
        )
    if message.reply_to_platform_id:
        body["context"] = {"message_id": message.reply_to_platform_id}
    body["biz_opaque_callback_data"] = SEND_TAG_PREFIX + message.idempotency_key
    return body


def _echoed_key(raw: dict[str, Any]) -> str | None:
    """Our idempotency key from a status's biz_opaque_callback_data, when the tag is ours."""
    tag = nonempty_str(raw.get("biz_opaque_callback_data"))
    if tag is None or not tag.startswith(SEND_TAG_PREFIX):
        return None  # another app's tag, or a message sent outside PyTake
    return tag[len(SEND_TAG_PREFIX) :] or None


_CAPTIONED = {MessageKind.IMAGE, MessageKind.VIDEO, MessageKind.DOCUMENT}
MAX_CAPTION = 1024


def _media(message: OutboundMessage) -> dict[str, Any]:
    """One media object sent by link (Meta fetches it); the text rides as its caption."""
    if len(message.attachments) > 1:
        raise SendError("TOO_MANY_ATTACHMENTS", "WhatsApp sends one attachment per message.", retryable=False)
    attachment = message.attachments[0]
    kind = attachment.kind.value
    if attachment.kind not in _CAPTIONED | {MessageKind.AUDIO, MessageKind.STICKER}:
        raise SendError("UNSUPPORTED_KIND", f"WhatsApp cannot send {kind} attachments.", retryable=False)
    media: dict[str, Any] = {"link": attachment.url}
    if message.text and message.text.strip():
        if attachment.kind not in _CAPTIONED:
            raise SendError(
                "CAPTION_NOT_ALLOWED", f"WhatsApp {kind} messages carry no caption.", retryable=False
            )
        if len(message.text) > MAX_CAPTION:
            raise SendError(
                "CAPTION_TOO_LONG",
                f"WhatsApp captions are at most {MAX_CAPTION} characters.",
                retryable=False,
            )
        media["caption"] = message.text
    if attachment.kind is MessageKind.DOCUMENT and attachment.filename:
        media["filename"] = attachment.filename
    return {"type": kind, kind: media}


def _buttons(text: str, buttons: tuple[Button, ...]) -> dict[str, Any]:
    """Up to 3 reply buttons; up to 10 become a list; a single link button is a call-to-action."""
    links = [b for b in buttons if b.url]
    if links:
        if len(buttons) > 1:
            raise SendError("BUTTONS", "WhatsApp sends a link button on its own.", retryable=False)
        action = {"name": "cta_url", "parameters": {"display_text": links[0].title[:20], "url": links[0].url}}
        return {
            "type": "interactive",
            "interactive": {"type": "cta_url", "body": {"text": text}, "action": action},
        }
    if len(buttons) <= 3:
        replies = [{"type": "reply", "reply": {"id": b.id, "title": b.title[:20]}} for b in buttons]
        interactive = {"type": "button", "body": {"text": text}, "action": {"buttons": replies}}
    elif len(buttons) <= 10:
        rows = [{"id": b.id, "title": b.title[:24]} for b in buttons]
        interactive = {
            "type": "list",
            "body": {"text": text},
            "action": {"button": "Choose", "sections": [{"title": "Options", "rows": rows}]},
        }
    else:
        raise SendError("BUTTONS", "WhatsApp lists hold at most 10 options.", retryable=False)
    return {"type": "interactive", "interactive": interactive}


def _template(template: Mapping[str, Any]) -> dict[str, Any]:
    name = template.get("name")
    language = template.get("language")
    if isinstance(language, str):
        language = {"code": language}
    if not nonempty_str(name) or not isinstance(language, Mapping) or not nonempty_str(language.get("code")):
        raise SendError("TEMPLATE_INVALID", "A template needs a name and a language code.", retryable=False)
    result: dict[str, Any] = {"name": name, "language": dict(language)}
    if template.get("components"):
        result["components"] = list(template["components"])
    return result


def _send_error(reply: Reply, channel_id: int) -> SendError:
    status = reply.status
    error = reply.body.get("error")
    error = error if isinstance(error, dict) else {}
    code = error.get("code") if isinstance(error.get("code"), int) else None
    error_data = error.get("error_data") if isinstance(error.get("error_data"), dict) else {}
    details = nonempty_str(error_data.get("details")) or nonempty_str(error.get("message"))
    if code in PERMANENT_CODES:
        retryable = False
    else:
        retryable = code in RETRYABLE_CODES or reply.transient
    reason = REASONS.get(code) if code is not None else None
    if reason is None:
        reason = details or f"WhatsApp refused the message (HTTP {status})."
    elif code in _DETAIL_CODES and details:
        reason = f"{reason} WhatsApp says: {details}"
    log.warning(
        "whatsapp send failed",
        extra={
            "channel_id": channel_id,
            "http_status": status,
            "code": code,
            "details": details,
            "fbtrace_id": error.get("fbtrace_id"),
        },
    )
    return refusal(
        reply,
        code,
        reason,
        retryable=retryable,
        affects_channel=code in _CHANNEL_CODES or status == 401,
        throttled=code in THROTTLE_CODES,
    )


whatsapp = WhatsAppConnector()
