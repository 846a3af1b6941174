"""Messenger and Instagram Direct: Meta's two DM platforms share a webhook shape (`entry[].messaging[]`),
the hub handshake and X-Hub-Signature-256, and the Send API's errors. This module holds that
once; `connectors/messenger.py` and `connectors/instagram.py` say where they differ (object name,
receipts, limits, how the token is passed)."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from connectors.base import (
    Attachment,
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
)

log = logging.getLogger(__name__)
SEND_TIMEOUT = 15.0
_ATTACHMENT_KINDS = {
    "image": MessageKind.IMAGE,
    "video": MessageKind.VIDEO,
    "audio": MessageKind.AUDIO,
    "file": MessageKind.DOCUMENT,
    "sticker": MessageKind.STICKER,
    "location": MessageKind.LOCATION,
}
_OUT_TYPES = {
    MessageKind.IMAGE: "image",
    MessageKind.VIDEO: "video",
    MessageKind.AUDIO: "audio",
    MessageKind.DOCUMENT: "file",
    MessageKind.STICKER: "image",
}
# Graph error (code, subcode) → (retryable, affects the channel, reason for people)
_ERRORS: dict[tuple[int, int | None], tuple[bool, bool, str]] = {
    (10, 2018278): (
        False,
        False,
        "More than 24 hours have passed since the customer last wrote; {name} no longer allows a free reply.",
    ),
    (551, 1545041): (False, False, "This person isn't available right now on {name}."),
    (100, 2018001): (False, False, "{name} knows no such person for this page."),
    (613, None): (True, False, "{name} is limiting how fast this page sends; it will be retried."),
    (4, None): (True, False, "{name} is limiting this app's calls; it will be retried."),
    (190, None): (
        False,
        True,
        "The channel's {name} access token is invalid or expired; update it in the channel settings.",
    ),
    (200, None): (
        False,
        True,
        "The app lacks the {name} permission for this; check the page's app settings.",
    ),
}


@dataclass(frozen=True)
class MetaDm:
    platform: Platform
    name: str  # for people: "Messenger", "Instagram"
    object_name: str  # the webhook envelope's `object`
    account_key: str  # config key of our page / IG account id
    token_key: str  # secret holding the access token
    default_api_base: str
    max_text_length: int
    text_limit_in_bytes: bool  # Instagram counts UTF-8 bytes
    token_in_query: bool  # Messenger: ?access_token=…; Instagram (IG Login): Bearer
    capabilities: Capabilities

    @property
    def secret_names(self) -> tuple[str, ...]:
        return ("app_secret", self.token_key, "verify_token")

    generated_secrets = ("verify_token",)

    # ---- configuration --------------------------------------------------------------------------

    def validate_config(self, config: Mapping[str, Any], secrets: Mapping[str, str]) -> list[str]:
        problems = []
        account = config.get(self.account_key)
        if not (isinstance(account, str) and account.isdigit()):
            problems.append(
                f"The {self.name} account id ({self.account_key}) is required, as a string of digits."
            )
        api_base = config.get("api_base", self.default_api_base)
        if not isinstance(api_base, str) or not api_base.startswith(("https://", "http://")):
            problems.append("The API base URL (api_base) must start with https:// or http://.")
        for key in self.secret_names:
            if not (secrets.get(key) or "").strip():
                problems.append(f"The secret {key} is required.")
        return problems

    # ---- webhooks ------------------------------------------------------------------------------

    def handshake(self, request: WebhookRequest, channel: ChannelCredentials) -> HandshakeReply | None:
        if request.method.upper() != "GET":
            return None
        expected = channel.secrets.get("verify_token") or ""
        given = request.query.get("hub.verify_token") or ""
        challenge = request.query.get("hub.challenge")
        if (
            request.query.get("hub.mode") == "subscribe"
            and expected
            and hmac.compare_digest(given.encode(), expected.encode())
            and challenge is not None
        ):
            return HandshakeReply(200, challenge)
        return HandshakeReply(403, "verification failed: wrong hub.mode or hub.verify_token")

    def verify(self, request: WebhookRequest, channel: ChannelCredentials, *, now: float) -> bool:
        secret = channel.secrets.get("app_secret") or ""
        header = (request.headers.get("x-hub-signature-256") or "").strip()
        if not secret or not header.startswith("sha256="):
            return False
        expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(header.removeprefix("sha256=").lower(), expected)

    def parse(self, request: WebhookRequest, channel: ChannelCredentials) -> ParsedWebhook:
        try:
            data = orjson.loads(request.body)
        except orjson.JSONDecodeError as exc:
            raise MalformedPayload(f"body is not JSON: {exc}") from None
        if not isinstance(data, dict) or data.get("object") != self.object_name:
            raise MalformedPayload(f"object must be {self.object_name!r}")
        if not isinstance(data.get("entry"), list):
            raise MalformedPayload("entry must be a list")
        account = str(channel.config.get(self.account_key) or "")
        messages: list[InboundMessage] = []
        statuses: list[StatusUpdate] = []
        edits: list[MessageEdit] = []
        for entry in data["entry"]:
            if not isinstance(entry, dict):
                continue
            if account and str(entry.get("id")) != account:
                log.warning(
                    "%s webhook for another account skipped", self.name, extra={"entry_id": entry.get("id")}
                )
                continue
            if entry.get("standby"):
                log.info("%s standby events ignored (another app owns the thread)", self.name)
            for event in entry.get("messaging") or []:
                if isinstance(event, dict):
                    self._event(event, account, messages, statuses, edits)
        return ParsedWebhook(messages=tuple(messages), statuses=tuple(statuses), edits=tuple(edits))

    def _event(
        self,
        event: dict[str, Any],
        account: str,
        messages: list[InboundMessage],
        statuses: list[StatusUpdate],
        edits: list[MessageEdit],
    ) -> None:
        sender = str((event.get("sender") or {}).get("id") or "")
        at = _time(event.get("timestamp"))
        if not sender or (account and sender == account):
            return  # the page itself (echoes arrive with the page as sender)
        message = event.get("message")
        if isinstance(message, dict):
            if message.get("is_echo"):
                return  # what we (or the page inbox) sent: mirrored by our own records, not inbound
            if message.get("is_deleted"):
                edits.append(MessageEdit(platform_message_id=message["mid"], occurred_at=at, deleted=True))
                return
            messages.append(self._message(sender, at, message))
        elif isinstance(event.get("postback"), dict):
            postback = event["postback"]
            mid = (
                postback.get("mid") or f"postback:{sender}:{event.get('timestamp')}:{postback.get('payload')}"
            )
            messages.append(
                InboundMessage(
                    platform_message_id=mid,
                    sender_id=sender,
                    sent_at=at,
                    kind=MessageKind.POSTBACK,
                    text=postback.get("title"),
                    metadata={"payload": postback.get("payload")},
                )
            )
        elif isinstance(event.get("reaction"), dict):
            reaction = event["reaction"]
            emoji = (reaction.get("emoji") or "") if reaction.get("action") != "unreact" else ""
            messages.append(
                InboundMessage(
                    platform_message_id=f"reaction:{reaction.get('mid')}:{sender}:{reaction.get('action')}:{event.get('timestamp')}",
                    sender_id=sender,
                    sent_at=at,
                    kind=MessageKind.REACTION,
                    text=emoji or None,
                    metadata={
                        "emoji": emoji,
                        "target_platform_id": reaction.get("mid"),
                        "reaction": reaction.get("reaction"),
                    },
                )
            )
        elif isinstance(event.get("delivery"), dict):
            delivery = event["delivery"]
            for mid in delivery.get("mids") or []:
                statuses.append(
                    StatusUpdate(platform_message_id=mid, status=DeliveryStatus.DELIVERED, occurred_at=at)
                )
            if delivery.get("watermark"):
                up_to = _time(delivery["watermark"])
                statuses.append(
                    StatusUpdate(
                        "", DeliveryStatus.DELIVERED, occurred_at=up_to, recipient_id=sender, up_to=up_to
                    )
                )
        elif isinstance(event.get("read"), dict):
            read = event["read"]
            if read.get("mid"):  # Instagram names the message
                statuses.append(
                    StatusUpdate(platform_message_id=read["mid"], status=DeliveryStatus.READ, occurred_at=at)
                )
            elif read.get("watermark"):  # Messenger: everything up to then
                up_to = _time(read["watermark"])
                statuses.append(
                    StatusUpdate("", DeliveryStatus.READ, occurred_at=at, recipient_id=sender, up_to=up_to)
                )

    def _message(self, sender: str, at: datetime, message: dict[str, Any]) -> InboundMessage:
        attachments = []
        kind = MessageKind.TEXT
        metadata: dict[str, Any] = {}
        for item in message.get("attachments") or []:
            if not isinstance(item, dict):
                continue
            item_kind = _ATTACHMENT_KINDS.get(item.get("type"), MessageKind.DOCUMENT)
            payload = item.get("payload") or {}
            attachments.append(Attachment(kind=item_kind, url=payload.get("url")))
            if item.get("type") not in _ATTACHMENT_KINDS:
                metadata.setdefault("attachment_types", []).append(item.get("type"))
        if attachments and not message.get("text"):
            kind = attachments[0].kind
        if isinstance(message.get("quick_reply"), dict):
            kind = MessageKind.POSTBACK
            metadata["payload"] = message["quick_reply"].get("payload")
        reply_to = message.get("reply_to") or {}
        if isinstance(reply_to.get("story"), dict):
            metadata["story"] = reply_to["story"]
        return InboundMessage(
            platform_message_id=message["mid"],
            sender_id=sender,
            sent_at=at,
            kind=kind,
            text=message.get("text"),
            reply_to_platform_id=reply_to.get("mid"),
            attachments=tuple(attachments),
            metadata=metadata,
        )

    # ---- sending ---------------------------------------------------------------------------------

    async def send(
        self, http: httpx.AsyncClient, channel: ChannelCredentials, message: OutboundMessage
    ) -> SendResult:
        body: dict[str, Any] = {"recipient": {"id": message.recipient_id}}
        tag = message.metadata.get("tag")
        body["messaging_type"] = "MESSAGE_TAG" if tag else "RESPONSE"
        if tag:
            body["tag"] = tag
        text = message.text or ""
        if message.attachments:
            attachment = message.attachments[0]
            body["message"] = {
                "attachment": {
                    "type": _OUT_TYPES.get(attachment.kind, "file"),
                    "payload": {"url": attachment.url, "is_reusable": False},
                }
            }
        else:
            size = len(text.encode()) if self.text_limit_in_bytes else len(text)
            if not text.strip():
                raise SendError("empty", "The message has no text to send.", retryable=False)
            if size > self.max_text_length:
                unit = "bytes" if self.text_limit_in_bytes else "characters"
                raise SendError(
                    "too_long", f"{self.name} allows at most {self.max_text_length} {unit}.", retryable=False
                )
            body["message"] = {"text": text}
            if message.buttons:
                body["message"]["quick_replies"] = [
                    {"content_type": "text", "title": b.title[:20], "payload": b.id}
                    for b in message.buttons
                    if not b.url
                ][:13]
        if message.attachments and text.strip():
            # Meta sends an attachment and its text as two messages; the text goes first.
            await self._post(http, channel, {**body, "message": {"text": text}})
        data = await self._post(http, channel, body)
        return SendResult(platform_message_id=str(data["message_id"]))

    async def _post(
        self, http: httpx.AsyncClient, channel: ChannelCredentials, body: dict[str, Any]
    ) -> dict[str, Any]:
        api_base = str(channel.config.get("api_base") or self.default_api_base).rstrip("/")
        version = str(channel.config.get("api_version") or "v21.0")
        token = channel.secrets.get(self.token_key) or ""
        url = f"{api_base}/{version}/me/messages"
        params = {"access_token": token} if self.token_in_query else None
        headers = None if self.token_in_query else {"Authorization": f"Bearer {token}"}
        try:
            response = await http.post(url, json=body, params=params, headers=headers, timeout=SEND_TIMEOUT)
        except httpx.TimeoutException:
            raise SendError("timeout", f"{self.name} did not answer in time.", retryable=True) from None
        except httpx.HTTPError as exc:
            raise SendError(
                "network", f"{self.name} could not be reached ({type(exc).__name__}).", retryable=True
            ) from None
        try:
            data = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            data = {}
        if response.status_code == 200 and isinstance(data, dict) and data.get("message_id"):
            return data
        raise self._error(response, data if isinstance(data, dict) else {})

    def _error(self, response: httpx.Response, data: dict[str, Any]) -> SendError:
        error = data.get("error") if isinstance(data.get("error"), dict) else {}
        code, subcode = error.get("code"), error.get("error_subcode")
        known = _ERRORS.get((code, subcode)) or _ERRORS.get((code, None))
        if known is not None:
            retryable, affects, reason = known
        else:
            retryable = response.status_code == 429 or response.status_code >= 500
            affects, reason = (
                response.status_code == 401,
                f"{self.name} refused the message: {error.get('message') or response.status_code}",
            )
        retry_after = None
        if retryable and response.headers.get("retry-after", "").isdigit():
            retry_after = float(response.headers["retry-after"])
        return SendError(
            f"{code}/{subcode}" if subcode else str(code or f"HTTP_{response.status_code}"),
            reason.format(name=self.name),
            retryable=retryable,
            retry_after=retry_after,
            affects_channel=affects,
        )


def _time(value: Any) -> datetime:
    """Meta's timestamps are milliseconds; Instagram sometimes sends ISO strings."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000 if value > 10**11 else value, UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except ValueError:
            pass
    return datetime.now(UTC)
