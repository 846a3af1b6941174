"""Slack: Events API in (v0 signatures with a 5-minute replay window), Web API out.

A Slack message is identified by its channel and `ts`, so every id we store is `channel:ts`; the
person is the user id, and replies go to the channel they wrote in (a DM channel `D…`, or a shared
channel), in the thread when they wrote in one.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import urllib.parse
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from connectors.base import (
    Attachment,
    Capabilities,
    ChannelCredentials,
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
    WebhookRequest,
)

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://slack.com"
MAX_TEXT_LENGTH = 4000  # Slack truncates at 40,000 but advises staying under 4,000
REPLAY_WINDOW = 300  # seconds: Slack's documented limit
SEND_TIMEOUT = 15.0
_SKIPPED_SUBTYPES = {"bot_message", "channel_join", "channel_leave", "message_replied", "thread_broadcast"}
# Web API errors (HTTP 200, ok:false) → (retryable, affects channel, reason)
_ERRORS: dict[str, tuple[bool, bool, str]] = {
    "ratelimited": (True, False, "Slack is limiting how fast this app posts; it will be retried."),
    "channel_not_found": (
        False,
        False,
        "Slack cannot find this conversation (the app may have been removed from it).",
    ),
    "not_in_channel": (False, False, "The app is not a member of this Slack channel; invite it first."),
    "is_archived": (False, False, "This Slack channel is archived."),
    "msg_too_long": (False, False, "The message is too long for Slack."),
    "invalid_auth": (False, True, "Slack refused the bot token; update it in the channel settings."),
    "not_authed": (False, True, "Slack refused the bot token; update it in the channel settings."),
    "account_inactive": (False, True, "The Slack app's account is inactive."),
    "token_revoked": (False, True, "The Slack bot token was revoked; reinstall the app."),
    "missing_scope": (False, True, "The Slack app lacks the chat:write scope."),
}


class SlackConnector:
    platform = Platform.SLACK
    max_text_length = MAX_TEXT_LENGTH
    capabilities = Capabilities(
        reply_window=None, can_initiate=False, media=True, max_attachments=10, buttons=True, edits=True
    )
    secret_names = ("signing_secret", "bot_token")
    generated_secrets = ()  # Slack issues both

    def validate_config(self, config: Mapping[str, Any], secrets: Mapping[str, str]) -> list[str]:
        problems = []
        if not str(config.get("team_id") or "").startswith(("T", "E")):
            problems.append("The Slack workspace id (team_id, T…) is required.")
        if not (secrets.get("signing_secret") or "").strip():
            problems.append("The app's signing secret (signing_secret) is required.")
        if not (secrets.get("bot_token") or "").startswith("xoxb-"):
            problems.append("The bot token (bot_token, xoxb-…) is required.")
        api_base = config.get("api_base", DEFAULT_API_BASE)
        if not isinstance(api_base, str) or not api_base.startswith(("https://", "http://")):
            problems.append("The API base URL (api_base) must start with https:// or http://.")
        return problems

    def handshake(self, request: WebhookRequest, channel: ChannelCredentials) -> HandshakeReply | None:
        return None  # url_verification is signed: answered by parse() after verify()

    def verify(self, request: WebhookRequest, channel: ChannelCredentials, *, now: float) -> bool:
        secret = channel.secrets.get("signing_secret") or ""
        timestamp = request.headers.get("x-slack-request-timestamp") or ""
        signature = request.headers.get("x-slack-signature") or ""
        if not secret or not timestamp.isdigit() or not signature.startswith("v0="):
            return False
        if abs(now - int(timestamp)) > REPLAY_WINDOW:
            return False  # a replay (or a clock far off): Slack says refuse
        base = f"v0:{timestamp}:".encode() + request.body
        expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
        return hmac.compare_digest(signature, expected)

    def parse(self, request: WebhookRequest, channel: ChannelCredentials) -> ParsedWebhook:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/x-www-form-urlencoded"):
            return self._form(request.body)
        try:
            data = orjson.loads(request.body)
        except orjson.JSONDecodeError as exc:
            raise MalformedPayload(f"body is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise MalformedPayload("body is not a JSON object")
        if data.get("type") == "url_verification":
            return ParsedWebhook(reply=HandshakeReply(200, str(data.get("challenge") or ""), "text/plain"))
        if data.get("type") != "event_callback" or not isinstance(data.get("event"), dict):
            log.info("slack payload ignored", extra={"type": data.get("type")})
            return ParsedWebhook()
        team = channel.config.get("team_id")
        if team and data.get("team_id") not in (team, None):
            log.warning("slack event for another workspace skipped", extra={"team_id": data.get("team_id")})
            return ParsedWebhook()
        bots = {a.get("user_id") for a in data.get("authorizations") or [] if a.get("is_bot")}
        bots.add(channel.config.get("bot_user_id"))
        return _event(data["event"], str(data.get("event_id") or ""), bots)

    def _form(self, body: bytes) -> ParsedWebhook:
        """Slash commands and interactivity (button presses) come form-encoded."""
        fields = dict(urllib.parse.parse_qsl(body.decode(errors="replace"), keep_blank_values=True))
        if "payload" in fields:
            try:
                payload = orjson.loads(fields["payload"])
            except orjson.JSONDecodeError:
                raise MalformedPayload("payload is not JSON") from None
            if payload.get("type") != "block_actions":
                return ParsedWebhook(reply=HandshakeReply(200, ""))
            user = (payload.get("user") or {}).get("id")
            channel_id = (payload.get("channel") or {}).get("id")
            messages = tuple(
                InboundMessage(
                    platform_message_id=f"action:{payload.get('trigger_id')}:{action.get('action_id')}",
                    sender_id=str(user),
                    sent_at=_ts(action.get("action_ts")),
                    kind=MessageKind.POSTBACK,
                    text=((action.get("text") or {}).get("text")) or action.get("value"),
                    reply_address=channel_id,
                    metadata={"payload": action.get("value") or action.get("action_id")},
                )
                for action in payload.get("actions") or []
            )
            return ParsedWebhook(messages=messages, reply=HandshakeReply(200, ""))
        if "command" not in fields:
            raise MalformedPayload("neither a slash command nor an interaction")
        text = f"{fields['command']} {fields.get('text', '')}".strip()
        message = InboundMessage(
            platform_message_id=f"command:{fields.get('trigger_id')}",
            sender_id=fields.get("user_id", ""),
            sender_name=fields.get("user_name"),
            sent_at=datetime.now(UTC),
            kind=MessageKind.TEXT,
            text=text,
            reply_address=fields.get("channel_id"),
            metadata={"command": fields["command"]},
        )
        return ParsedWebhook(messages=(message,), reply=HandshakeReply(200, ""))

    async def send(
        self, http: httpx.AsyncClient, channel: ChannelCredentials, message: OutboundMessage
    ) -> SendResult:
        text = message.text or ""
        if len(text) > MAX_TEXT_LENGTH:
            raise SendError(
                "too_long",
                f"Slack messages are best kept under {MAX_TEXT_LENGTH} characters.",
                retryable=False,
            )
        body: dict[str, Any] = {"channel": message.recipient_id, "text": text or " "}
        blocks: list[dict[str, Any]] = []
        for attachment in message.attachments:
            if attachment.kind is MessageKind.IMAGE:
                blocks.append(
                    {"type": "image", "image_url": attachment.url, "alt_text": attachment.filename or "image"}
                )
            else:
                label = attachment.filename or attachment.url
                blocks.append(
                    {"type": "section", "text": {"type": "mrkdwn", "text": f"<{attachment.url}|{label}>"}}
                )
        if message.buttons:
            elements = []
            for button in message.buttons[:25]:
                element: dict[str, Any] = {
                    "type": "button",
                    "text": {"type": "plain_text", "text": button.title[:75]},
                    "action_id": button.id[:255],
                }
                if button.url:
                    element["url"] = button.url
                else:
                    element["value"] = button.id[:2000]
                elements.append(element)
            blocks.append({"type": "actions", "elements": elements})
        if blocks:
            if text:
                blocks.insert(0, {"type": "section", "text": {"type": "mrkdwn", "text": text}})
            body["blocks"] = blocks
        thread = message.metadata.get("thread_ts")
        if thread:
            body["thread_ts"] = thread
        api_base = str(channel.config.get("api_base") or DEFAULT_API_BASE).rstrip("/")
        headers = {"Authorization": f"Bearer {channel.secrets.get('bot_token', '')}"}
        try:
            response = await http.post(
                f"{api_base}/api/chat.postMessage", json=body, headers=headers, timeout=SEND_TIMEOUT
            )
        except httpx.TimeoutException:
            raise SendError("timeout", "Slack did not answer in time.", retryable=True) from None
        except httpx.HTTPError as exc:
            raise SendError(
                "network", f"Slack could not be reached ({type(exc).__name__}).", retryable=True
            ) from None
        if response.status_code == 429:
            after = response.headers.get("retry-after", "")
            raise SendError(
                "ratelimited",
                _ERRORS["ratelimited"][2],
                retryable=True,
                retry_after=float(after) if after.isdigit() else None,
            )
        if response.status_code >= 500:
            raise SendError(
                f"HTTP_{response.status_code}", "Slack had a problem; it will be retried.", retryable=True
            )
        try:
            data = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise SendError(
                "bad_response", "Slack answered with something that is not JSON.", retryable=True
            ) from None
        if data.get("ok"):
            return SendResult(platform_message_id=f"{data['channel']}:{data['ts']}")
        error = str(data.get("error") or "unknown")
        retryable, affects, reason = _ERRORS.get(
            error, (False, False, f"Slack refused the message ({error}).")
        )
        raise SendError(error, reason, retryable=retryable, affects_channel=affects)


def _ts(value: Any) -> datetime:
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (TypeError, ValueError):
        return datetime.now(UTC)


def _event(event: dict[str, Any], event_id: str, bots: set[Any]) -> ParsedWebhook:
    kind = event.get("type")
    channel = event.get("channel") or (event.get("item") or {}).get("channel")
    if kind in ("message", "app_mention"):
        subtype = event.get("subtype")
        if subtype == "message_changed":
            changed = event.get("message") or {}
            edit = MessageEdit(
                f"{channel}:{changed.get('ts')}", _ts(event.get("ts")), text=changed.get("text")
            )
            return ParsedWebhook(edits=(edit,))
        if subtype == "message_deleted":
            edit = MessageEdit(f"{channel}:{event.get('deleted_ts')}", _ts(event.get("ts")), deleted=True)
            return ParsedWebhook(edits=(edit,))
        if (
            event.get("bot_id")
            or subtype in _SKIPPED_SUBTYPES
            or event.get("user") in bots
            or not event.get("user")
        ):
            return ParsedWebhook()  # our own app (or another bot): answering it would loop
        files = tuple(
            Attachment(
                kind=MessageKind.IMAGE
                if str(f.get("mimetype", "")).startswith("image/")
                else MessageKind.DOCUMENT,
                media_id=f.get("id"),
                url=f.get("url_private"),
                mime_type=f.get("mimetype"),
                filename=f.get("name"),
                size=f.get("size"),
            )
            for f in event.get("files") or []
        )
        thread = event.get("thread_ts")
        message = InboundMessage(
            # The same message can arrive as `message` and `app_mention`: one id, stored once.
            platform_message_id=f"{channel}:{event.get('ts')}",
            sender_id=str(event["user"]),
            sent_at=_ts(event.get("ts")),
            kind=MessageKind.TEXT if event.get("text") or not files else files[0].kind,
            text=event.get("text"),
            reply_address=channel,
            reply_to_platform_id=f"{channel}:{thread}" if thread and thread != event.get("ts") else None,
            attachments=files,
            metadata={
                k: v
                for k, v in {
                    "thread_ts": thread,
                    "channel_type": event.get("channel_type"),
                    "event_id": event_id,
                }.items()
                if v
            },
        )
        return ParsedWebhook(messages=(message,))
    if kind in ("reaction_added", "reaction_removed"):
        if event.get("user") in bots:
            return ParsedWebhook()
        item = event.get("item") or {}
        emoji = f":{event.get('reaction')}:" if kind == "reaction_added" else ""
        reaction = InboundMessage(
            platform_message_id=f"reaction:{event_id or event.get('event_ts')}",
            sender_id=str(event.get("user")),
            sent_at=_ts(event.get("event_ts")),
            kind=MessageKind.REACTION,
            text=emoji or None,
            reply_address=item.get("channel"),
            metadata={"emoji": emoji, "target_platform_id": f"{item.get('channel')}:{item.get('ts')}"},
        )
        return ParsedWebhook(messages=(reaction,))
    log.info("slack event ignored", extra={"event_type": kind})
    return ParsedWebhook()


slack = SlackConnector()
