"""Slack: Events API in (v0 signatures with a 5-minute replay window), Web API out.

A Slack message is identified by its conversation and `ts`, so every message id we store or return
is `channel:ts`; the person is the user id (U…/W…), and replies go to the conversation they wrote
in (a DM `D…`, a channel, a group DM), in the thread when they wrote in one. The same message can
arrive twice, as `message` and as `app_mention`: both give the same id, so it is stored once.

Slack answers Web API errors with HTTP 200 and `{"ok": false, "error": "…"}`; only rate limits
come as HTTP 429 with Retry-After. Text is Slack "mrkdwn": `&`, `<` and `>` are escaped both ways.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

from connectors.base import (
    Attachment,
    Button,
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
    nonempty_str,
)
from connectors.http import Reply, call, refusal
from connectors.slack_names import enrich as enrich_names
from connectors.slack_text import mentioned_users, render

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://slack.com"
MAX_TEXT_LENGTH = 4000  # Slack truncates at 40,000 but asks apps to stay under 4,000
MAX_SECTION_TEXT = 3000  # per section block
MAX_BLOCKS = 50
MAX_BUTTONS = 25  # elements in one actions block
MAX_BUTTON_TITLE = 75
MAX_BUTTON_VALUE = 2000
REPLAY_WINDOW = 300  # seconds: Slack's documented limit

_SIGNATURE_RE = re.compile(r"^v0=[0-9a-fA-F]{64}$")
_TS_RE = re.compile(r"^\d{1,12}\.\d{1,6}$")
_TEAM_RE = re.compile(r"^[TE][A-Z0-9]{2,}$")
_USER_RE = re.compile(r"^[UW][A-Z0-9]{2,}$")
# Message subtypes a person writes; the rest (joins, topic changes, bot posts, thread summaries)
# are Slack's own notices and must not become customer messages.
_PERSON_SUBTYPES = frozenset({None, "file_share", "thread_broadcast", "me_message"})
_EMPTY_OK = HandshakeReply(200, "")  # slash commands and interactions: acknowledge, say nothing

_MEDIA_PREFIXES = (
    ("image/", MessageKind.IMAGE),
    ("video/", MessageKind.VIDEO),
    ("audio/", MessageKind.AUDIO),
)

_TOKEN_REASON = "Slack refused the channel's bot token; paste a valid Bot User OAuth Token (xoxb-…) in the channel settings."
_UNINSTALLED_REASON = (
    "The Slack app was uninstalled or its token revoked; reinstall the app and update the bot token."
)
_TEMPORARY_REASON = "Slack had a temporary problem; the message will be retried."
_RESTRICTED_REASON = "This Slack workspace does not allow the app to post in this conversation."
# Web API errors (HTTP 200, ok:false) → (retryable, affects the channel, reason for the agent).
_ERRORS: dict[str, tuple[bool, bool, str]] = {
    "ratelimited": (
        True,
        False,
        "Slack is limiting how fast this app may post; the message will be retried.",
    ),
    "invalid_auth": (False, True, _TOKEN_REASON),
    "not_authed": (
        False,
        True,
        "No bot token was sent to Slack; add the bot token (xoxb-…) in the channel settings.",
    ),
    "account_inactive": (False, True, _UNINSTALLED_REASON),
    "token_revoked": (False, True, _UNINSTALLED_REASON),
    "token_expired": (False, True, _UNINSTALLED_REASON),
    "no_permission": (
        False,
        True,
        "The Slack app does not have permission to do this; check its scopes and reinstall it.",
    ),
    "missing_scope": (
        False,
        True,
        "The Slack app lacks a permission it needs (chat:write, and im:write to open direct messages); add it and reinstall the app.",
    ),
    "team_access_not_granted": (False, True, "The Slack app has not been granted access to this workspace."),
    "channel_not_found": (
        False,
        False,
        "Slack cannot find this conversation, or the app cannot see it (it may have been deleted, or the app removed from it).",
    ),
    "not_in_channel": (
        False,
        False,
        "The app is not a member of this Slack channel; invite it (/invite @app) and try again.",
    ),
    "is_archived": (False, False, "This Slack channel is archived; unarchive it to reply there."),
    "msg_too_long": (False, False, "The message is too long for Slack; shorten it and send it again."),
    "no_text": (False, False, "The message has no text to send."),
    "invalid_blocks": (False, False, "Slack refused the message's layout (its buttons, images or links)."),
    "invalid_blocks_format": (
        False,
        False,
        "Slack refused the message's layout (its buttons, images or links).",
    ),
    "restricted_action": (False, False, _RESTRICTED_REASON),
    "restricted_action_read_only_channel": (False, False, "This Slack channel is read-only for apps."),
    "restricted_action_thread_only_channel": (
        False,
        False,
        "This Slack channel only allows replies in threads.",
    ),
    "restricted_action_non_threadable_channel": (False, False, "This Slack channel does not allow threads."),
    "cannot_reply_to_message": (False, False, "Slack does not allow replies in this thread."),
    "user_not_found": (False, False, "This Slack user no longer exists in the workspace."),
    "user_disabled": (False, False, "This Slack user's account is deactivated."),
    "cannot_dm_bot": (False, False, "The recipient is a bot; Slack does not let the app message it."),
    "message_not_found": (False, False, "Slack cannot find the message to edit."),
    "cant_update_message": (False, False, "Slack only lets the app edit messages it sent itself."),
    "edit_window_closed": (False, False, "The message is too old to edit in this Slack workspace."),
    "fatal_error": (True, False, _TEMPORARY_REASON),
    "internal_error": (True, False, _TEMPORARY_REASON),
    "service_unavailable": (True, False, _TEMPORARY_REASON),
    "request_timeout": (True, False, _TEMPORARY_REASON),
}


class SlackConnector:
    platform = Platform.SLACK
    max_text_length = MAX_TEXT_LENGTH
    capabilities = Capabilities(
        reply_window=None,  # a bot may answer whenever
        can_initiate=False,  # only people who wrote to the app (we know their conversation)
        media=True,
        max_attachments=10,
        buttons=True,
        delivery_statuses=False,  # Slack tells apps nothing about delivery or reading
        read_statuses=False,
        edits=True,
    )
    secret_names = ("signing_secret", "bot_token")
    generated_secrets = ()  # Slack issues both; a new one is pasted into updateChannel

    # ---- configuration ----------------------------------------------------------------------

    def validate_config(self, config: Mapping[str, Any], secrets: Mapping[str, str]) -> list[str]:
        problems: list[str] = []
        team_id = config.get("team_id")
        if not team_id:
            problems.append("The Slack workspace ID (team_id, starting with T) is required.")
        elif not isinstance(team_id, str) or not _TEAM_RE.match(team_id):
            problems.append(
                "The Slack workspace ID (team_id) must look like T0123ABCD (or E… for an Enterprise Grid org)."
            )
        bot_user_id = config.get("bot_user_id")
        if bot_user_id is not None and not (isinstance(bot_user_id, str) and _USER_RE.match(bot_user_id)):
            problems.append(
                "The optional bot user ID (bot_user_id) must be a Slack user ID such as U0123ABCD."
            )
        api_base = config.get("api_base", DEFAULT_API_BASE)
        if not isinstance(api_base, str) or not api_base.startswith(("https://", "http://")):
            problems.append("The API base URL (api_base) must start with https:// or http://.")
        if not (secrets.get("signing_secret") or "").strip():
            problems.append("The app's signing secret (signing_secret) is required.")
        token = (secrets.get("bot_token") or "").strip()
        if not token:
            problems.append("The bot token (bot_token) is required.")
        elif not token.startswith("xoxb-"):
            problems.append(
                "The bot token (bot_token) must be the app's Bot User OAuth Token, which starts with xoxb-."
            )
        return problems

    # ---- webhooks -----------------------------------------------------------------------------

    def handshake(self, request: WebhookRequest, channel: ChannelCredentials) -> HandshakeReply | None:
        # url_verification is signed: parse() answers it once verify() passed. Only the SSL check
        # Slack sends when a slash-command URL is saved is answered here; it stores nothing.
        if request.method.upper() != "POST" or not _is_form(request):
            return None
        try:
            fields = _form_fields(request.body)
        except MalformedPayload:
            return None  # unsigned garbage: verify() refuses it next
        if fields.get("ssl_check") == "1" and "command" not in fields and "payload" not in fields:
            return HandshakeReply(200, "")
        return None

    def verify(self, request: WebhookRequest, channel: ChannelCredentials, *, now: float) -> bool:
        secret = channel.secrets.get("signing_secret") or ""
        timestamp = (request.header("x-slack-request-timestamp") or "").strip()
        signature = (request.header("x-slack-signature") or "").strip()
        if (
            not secret
            or not (timestamp.isascii() and timestamp.isdigit())
            or not _SIGNATURE_RE.match(signature)
        ):
            return False
        if abs(now - int(timestamp)) > REPLAY_WINDOW:
            return False  # a replayed request (or a clock far off): Slack says refuse it
        base = b"v0:" + timestamp.encode() + b":" + request.body
        expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
        return hmac.compare_digest(signature.lower().encode(), expected.encode())

    def parse(self, request: WebhookRequest, channel: ChannelCredentials) -> ParsedWebhook:
        if _is_form(request):
            return _parse_form(request, channel)
        data = request.json_object()
        kind = data.get("type")
        if kind == "url_verification":
            challenge = data.get("challenge")
            if not isinstance(challenge, str) or not challenge:
                raise MalformedPayload("url_verification without a challenge")
            return ParsedWebhook(reply=HandshakeReply(200, challenge, "text/plain"))
        if kind != "event_callback":
            # app_rate_limited and future envelope types: nothing a person wrote.
            log.info("slack payload ignored", extra={"channel_id": channel.channel_id, "type": kind})
            return ParsedWebhook()
        event = data.get("event")
        if not isinstance(event, dict):
            raise MalformedPayload("event_callback without an event object")
        if not _our_workspace(_envelope_teams(data), channel):
            return ParsedWebhook()
        authorizations = data.get("authorizations")
        bots = {
            a.get("user_id")
            for a in (authorizations if isinstance(authorizations, list) else [])
            if isinstance(a, dict) and a.get("is_bot")
        }
        bots.add(channel.config.get("bot_user_id"))
        bots.discard(None)
        event_id = nonempty_str(data.get("event_id"))
        return _event(event, _Context(channel.channel_id, event_id, frozenset(bots)))

    async def enrich(
        self, http: httpx.AsyncClient, channel: ChannelCredentials, parsed: ParsedWebhook
    ) -> ParsedWebhook:
        """Run before storing: names for `<@U…>` mentions and nameless senders (users.info,
        cached, within a time budget; the raw id stays when Slack does not answer in time)."""
        return await enrich_names(http, channel, parsed)

    # ---- sending ------------------------------------------------------------------------------

    async def send(
        self, http: httpx.AsyncClient, channel: ChannelCredentials, message: OutboundMessage
    ) -> SendResult:
        body = _message_body(message)  # refuses what Slack would, before any HTTP call
        target = message.recipient_id
        if _USER_RE.match(target or ""):
            # A person we only know by user id: their DM with the app is a conversation to open.
            opened = await _call(http, channel, "conversations.open", {"users": target})
            dm = nonempty_str(_dict(opened.get("channel")).get("id"))
            if dm is None:
                raise SendError(
                    "invalid_response", "Slack opened no direct message with this person.", retryable=False
                )
            target = dm
        thread_ts = _thread_ts(message, target)
        body = {"channel": target, **body}
        if thread_ts:
            body["thread_ts"] = thread_ts
        data = await _call(http, channel, "chat.postMessage", body)
        return SendResult(platform_message_id=_result_id(data, target))

    async def update(
        self,
        http: httpx.AsyncClient,
        channel: ChannelCredentials,
        platform_message_id: str,
        message: OutboundMessage,
    ) -> SendResult:
        """Edit a message the app sent (chat.update); `platform_message_id` is what send() returned."""
        conversation, _, ts = platform_message_id.partition(":")
        if not conversation or not _TS_RE.match(ts):
            raise SendError(
                "message_not_found", f"{platform_message_id!r} is not a Slack message id.", retryable=False
            )
        body = {"channel": conversation, "ts": ts, **_message_body(message)}
        body.setdefault("blocks", [])  # without it Slack keeps the old buttons under the new text
        data = await _call(http, channel, "chat.update", body)
        return SendResult(platform_message_id=_result_id(data, conversation))


# ---- parsing helpers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    channel_id: int
    event_id: str | None
    bots: frozenset[str]  # our app's bot user ids: its own posts must never become customer messages


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _ts(value: Any) -> datetime | None:
    """Slack's "seconds.micro" string, exactly (a float would lose the last microsecond)."""
    text = str(value) if isinstance(value, str | int | float) and not isinstance(value, bool) else ""
    seconds, _, fraction = text.partition(".")
    if not seconds.isdigit() or (fraction and not fraction.isdigit()):
        return None
    try:
        base = datetime.fromtimestamp(int(seconds), tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return base + timedelta(microseconds=int(fraction[:6].ljust(6, "0"))) if fraction else base


def _sent_at(*values: Any) -> datetime:
    for value in values:
        moment = _ts(value)
        if moment is not None:
            return moment
    log.warning("slack item without a usable timestamp; using now")
    return datetime.now(UTC)


def _is_form(request: WebhookRequest) -> bool:
    content_type = (request.header("content-type") or "").lower()
    if content_type.startswith("application/x-www-form-urlencoded"):
        return True
    # Without a content type, a body that is not a JSON object can only be a form.
    return not content_type and not request.body.lstrip().startswith((b"{", b"["))


def _form_fields(body: bytes) -> dict[str, str]:
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise MalformedPayload("form body is not UTF-8") from None
    return dict(urllib.parse.parse_qsl(text, keep_blank_values=True))


def _envelope_teams(data: dict[str, Any]) -> set[str]:
    """Every workspace/org id an envelope names (Enterprise Grid events name the org and the team)."""
    teams = {data.get(k) for k in ("team_id", "context_team_id", "enterprise_id", "context_enterprise_id")}
    authorizations = data.get("authorizations")
    for authorization in authorizations if isinstance(authorizations, list) else []:
        if isinstance(authorization, dict):
            teams.update((authorization.get("team_id"), authorization.get("enterprise_id")))
    return {t for t in teams if isinstance(t, str) and t}


def _our_workspace(teams: set[str], channel: ChannelCredentials) -> bool:
    expected = channel.config.get("team_id")
    if not expected or not teams or expected in teams:
        return True
    log.warning(
        "slack event for another workspace skipped",
        extra={"channel_id": channel.channel_id, "team_ids": sorted(teams)},
    )
    return False


def _is_bot(message: dict[str, Any], ctx: _Context) -> bool:
    return bool(
        message.get("bot_id")
        or message.get("bot_profile")
        or message.get("subtype") == "bot_message"
        or message.get("user") in ctx.bots
    )


def _event(event: dict[str, Any], ctx: _Context) -> ParsedWebhook:
    kind = event.get("type")
    if kind in ("message", "app_mention"):
        subtype = event.get("subtype")
        if subtype == "message_changed":
            return ParsedWebhook(edits=_changed(event, ctx))
        if subtype == "message_deleted":
            return ParsedWebhook(edits=_deleted(event, ctx))
        message = _message(event, ctx)
        return ParsedWebhook(messages=(message,) if message else ())
    if kind in ("reaction_added", "reaction_removed"):
        reaction = _reaction(event, ctx)
        return ParsedWebhook(messages=(reaction,) if reaction else ())
    log.info("slack event ignored", extra={"channel_id": ctx.channel_id, "event_type": kind})
    return ParsedWebhook()


def _message(event: dict[str, Any], ctx: _Context) -> InboundMessage | None:
    subtype = event.get("subtype")
    if subtype not in _PERSON_SUBTYPES or _is_bot(event, ctx):
        return None  # Slack's notices, other bots, and our own posts (answering them would loop)
    conversation, ts, user = (
        nonempty_str(event.get("channel")),
        nonempty_str(event.get("ts")),
        nonempty_str(event.get("user")),
    )
    if conversation is None or ts is None or user is None:
        log.warning(
            "slack message without channel, ts or user skipped",
            extra={"channel_id": ctx.channel_id, "event_id": ctx.event_id},
        )
        return None
    files = event.get("files")
    attachments = tuple(
        _attachment(f) for f in (files if isinstance(files, list) else []) if isinstance(f, dict)
    )
    raw_text = event.get("text")
    text = render(raw_text)
    if attachments:
        kind = attachments[0].kind  # the text rides along, as a caption does elsewhere
    elif text:
        kind = MessageKind.TEXT
    else:
        kind = MessageKind.UNSUPPORTED
    thread_ts = nonempty_str(event.get("thread_ts"))
    metadata: dict[str, Any] = {}
    for key, value in (
        ("thread_ts", thread_ts),
        ("channel_type", nonempty_str(event.get("channel_type"))),
        ("subtype", subtype),
        ("event_id", ctx.event_id),
    ):
        if value:
            metadata[key] = value
    mentions = mentioned_users(raw_text)
    if mentions:
        metadata["mentions"] = {user: None for user in mentions}  # names come from enrich()
    profile = _dict(event.get("user_profile"))
    return InboundMessage(
        # `message` and `app_mention` for the same ts share this id: stored once, whichever comes first.
        platform_message_id=f"{conversation}:{ts}",
        sender_id=user,
        sent_at=_sent_at(ts),
        kind=kind,
        text=text,
        sender_name=nonempty_str(profile.get("display_name")) or nonempty_str(profile.get("real_name")),
        reply_address=conversation,
        reply_to_platform_id=f"{conversation}:{thread_ts}" if thread_ts and thread_ts != ts else None,
        attachments=attachments,
        metadata=metadata,
    )


def _attachment(file: dict[str, Any]) -> Attachment:
    mime_type = nonempty_str(file.get("mimetype"))
    kind = next(
        (k for prefix, k in _MEDIA_PREFIXES if mime_type and mime_type.startswith(prefix)),
        MessageKind.DOCUMENT,
    )
    size = file.get("size")
    return Attachment(
        kind=kind,
        media_id=nonempty_str(file.get("id")),
        url=nonempty_str(file.get("url_private")),  # downloading needs the bot token as a Bearer header
        mime_type=mime_type,
        filename=nonempty_str(file.get("name")),
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
    )


def _changed(event: dict[str, Any], ctx: _Context) -> tuple[MessageEdit, ...]:
    current = _dict(event.get("message"))
    previous = _dict(event.get("previous_message"))
    conversation, ts = nonempty_str(event.get("channel")), nonempty_str(current.get("ts"))
    if conversation is None or ts is None or _is_bot(current, ctx):
        return ()
    message_id = f"{conversation}:{ts}"
    occurred_at = _sent_at(_dict(current.get("edited")).get("ts"), event.get("ts"), event.get("event_ts"))
    if current.get("subtype") == "tombstone":  # a thread's first message deleted, its replies kept
        return (MessageEdit(message_id, occurred_at, deleted=True),)
    if previous and previous.get("text") == current.get("text"):
        return ()  # a link preview or other decoration was added: the person changed nothing
    return (MessageEdit(message_id, occurred_at, text=render(current.get("text")) or ""),)


def _deleted(event: dict[str, Any], ctx: _Context) -> tuple[MessageEdit, ...]:
    previous = _dict(event.get("previous_message"))
    conversation = nonempty_str(event.get("channel"))
    deleted_ts = nonempty_str(event.get("deleted_ts")) or nonempty_str(previous.get("ts"))
    if conversation is None or deleted_ts is None or (previous and _is_bot(previous, ctx)):
        return ()
    occurred_at = _sent_at(event.get("ts"), event.get("event_ts"))
    return (MessageEdit(f"{conversation}:{deleted_ts}", occurred_at, deleted=True),)


def _reaction(event: dict[str, Any], ctx: _Context) -> InboundMessage | None:
    user, name = nonempty_str(event.get("user")), nonempty_str(event.get("reaction"))
    item = _dict(event.get("item"))
    conversation, item_ts = nonempty_str(item.get("channel")), nonempty_str(item.get("ts"))
    if user is None or user in ctx.bots or name is None:
        return None
    if item.get("type") != "message" or conversation is None or item_ts is None:
        return None  # reactions to files and file comments: no message of ours to attach them to
    added = event.get("type") == "reaction_added"
    emoji = f":{name}:" if added else ""
    # Slack gives a reaction no id of its own; event_id is stable across Slack's retries.
    synthetic = ctx.event_id or f"{user}:{event.get('event_ts')}:{event.get('type')}:{name}"
    metadata: dict[str, Any] = {
        "emoji": emoji,
        "target_platform_id": f"{conversation}:{item_ts}",
        "reaction": name,
    }
    if not added:
        metadata["removed"] = True
    return InboundMessage(
        platform_message_id=f"reaction:{synthetic}",
        sender_id=user,
        sent_at=_sent_at(event.get("event_ts")),
        kind=MessageKind.REACTION,
        text=emoji or None,
        reply_address=conversation,
        metadata=metadata,
    )


def _parse_form(request: WebhookRequest, channel: ChannelCredentials) -> ParsedWebhook:
    """Slash commands and interactivity (button presses) come form-encoded, signed the same way."""
    fields = _form_fields(request.body)
    if "payload" in fields:
        try:
            payload = orjson.loads(fields["payload"])
        except orjson.JSONDecodeError:
            raise MalformedPayload("the interaction payload is not JSON") from None
        if not isinstance(payload, dict):
            raise MalformedPayload("the interaction payload is not a JSON object")
        return _interaction(payload, channel)
    if "command" in fields:
        return _command(fields, request, channel)
    raise MalformedPayload("a form body that is neither a slash command nor an interaction")


def _interaction(payload: dict[str, Any], channel: ChannelCredentials) -> ParsedWebhook:
    if payload.get("type") != "block_actions":
        # Shortcuts, modal submissions: acknowledged (Slack shows an error otherwise), not stored.
        log.info(
            "slack interaction ignored", extra={"channel_id": channel.channel_id, "type": payload.get("type")}
        )
        return ParsedWebhook(reply=_EMPTY_OK)
    user = _dict(payload.get("user"))
    team = _dict(payload.get("team"))
    teams = {
        t
        for t in (
            nonempty_str(team.get("id")),
            nonempty_str(team.get("enterprise_id")),
            nonempty_str(user.get("team_id")),
        )
        if t
    }
    if not _our_workspace(teams, channel):
        return ParsedWebhook(reply=_EMPTY_OK)
    user_id = nonempty_str(user.get("id"))
    container, pressed_in = _dict(payload.get("container")), _dict(payload.get("message"))
    conversation = nonempty_str(_dict(payload.get("channel")).get("id")) or nonempty_str(
        container.get("channel_id")
    )
    message_ts = nonempty_str(container.get("message_ts")) or nonempty_str(pressed_in.get("ts"))
    actions = payload.get("actions")
    if user_id is None or not isinstance(actions, list):
        raise MalformedPayload("block_actions without a user or actions")
    thread_ts = nonempty_str(pressed_in.get("thread_ts"))
    messages = []
    for action in actions:
        if not isinstance(action, dict):
            continue
        chosen = _chosen(action)
        if chosen is None:
            continue  # a link button: opening the link is all it does
        title, value = chosen
        metadata: dict[str, Any] = {"payload": value, "action_id": action.get("action_id")}
        if thread_ts:
            metadata["thread_ts"] = thread_ts  # the buttons sat in a thread: answer there
        press_id = nonempty_str(payload.get("trigger_id")) or nonempty_str(action.get("action_ts"))
        messages.append(
            InboundMessage(
                platform_message_id=f"action:{press_id}:{action.get('action_id')}",
                sender_id=user_id,
                sent_at=_sent_at(action.get("action_ts")),
                kind=MessageKind.POSTBACK,
                text=title,
                sender_name=nonempty_str(user.get("name")) or nonempty_str(user.get("username")),
                reply_address=conversation,
                reply_to_platform_id=f"{conversation}:{message_ts}" if conversation and message_ts else None,
                metadata=metadata,
            )
        )
    return ParsedWebhook(messages=tuple(messages), reply=_EMPTY_OK)


def _chosen(action: dict[str, Any]) -> tuple[str, str] | None:
    """(title, value) of a pressed button or a picked option; None when nothing was chosen."""
    if action.get("type") == "button":
        value = nonempty_str(action.get("value"))
        if value is None:
            return None
        return nonempty_str(_dict(action.get("text")).get("text")) or value, value
    option = _dict(action.get("selected_option"))
    value = nonempty_str(option.get("value"))
    if value is None:
        return None
    return nonempty_str(_dict(option.get("text")).get("text")) or value, value


def _command(fields: dict[str, str], request: WebhookRequest, channel: ChannelCredentials) -> ParsedWebhook:
    teams = {t for t in (fields.get("team_id"), fields.get("enterprise_id")) if t}
    if not _our_workspace(teams, channel):
        return ParsedWebhook(reply=_EMPTY_OK)
    command, user_id, trigger_id = fields.get("command"), fields.get("user_id"), fields.get("trigger_id")
    if not command or not user_id or not trigger_id:
        raise MalformedPayload("a slash command without command, user_id or trigger_id")
    arguments = fields.get("text", "")
    metadata = {"command": command, "arguments": arguments}
    if fields.get("response_url"):
        metadata["response_url"] = fields["response_url"]  # valid 30 minutes, for ephemeral answers
    message = InboundMessage(
        platform_message_id=f"command:{trigger_id}",  # one trigger per invocation
        sender_id=user_id,
        # A command carries no time of its own; the signed request timestamp is when it was sent.
        sent_at=_sent_at(request.header("x-slack-request-timestamp")),
        kind=MessageKind.TEXT,
        text=f"{command} {arguments}".strip(),
        sender_name=fields.get("user_name") or None,
        reply_address=fields.get("channel_id") or None,
        metadata=metadata,
    )
    return ParsedWebhook(messages=(message,), reply=_EMPTY_OK)


# ---- sending helpers ------------------------------------------------------------------------------


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(url: str, label: str) -> str:
    # `|` and `>` end Slack's <url|label> syntax: keep them out of the URL.
    safe = url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C")
    return f"<{safe}|{_escape(label)}>"


def _message_body(message: OutboundMessage) -> dict[str, Any]:
    """`text` (the notification and fallback) and `blocks` for chat.postMessage/chat.update."""
    text = message.text or ""
    if len(text) > MAX_TEXT_LENGTH:
        raise SendError(
            "too_long",
            f"The text is {len(text)} characters long; Slack messages are kept under {MAX_TEXT_LENGTH}.",
            retryable=False,
        )
    if message.kind is MessageKind.TEMPLATE or message.template:
        raise SendError(
            "unsupported_kind", "Slack has no message templates; send text instead.", retryable=False
        )
    blocks: list[dict[str, Any]] = []
    if message.attachments or message.buttons:
        if text.strip():
            blocks.extend(_sections(text))
        blocks.extend(_media_block(a) for a in message.attachments)
        if message.buttons:
            blocks.append(_actions(message.buttons))
        if len(blocks) > MAX_BLOCKS:
            raise SendError("too_many_blocks", "The message has too many parts for Slack.", retryable=False)
    elif not text.strip():
        raise SendError("no_text", "The message has no text to send.", retryable=False)
    fallback = text.strip() and _escape(text)
    if not fallback:
        fallback = ", ".join(a.filename or a.kind.value for a in message.attachments) or "Message"
    body: dict[str, Any] = {"text": fallback}
    if blocks:
        body["blocks"] = blocks
    return body


def _sections(text: str) -> list[dict[str, Any]]:
    escaped = _escape(text)
    chunks = [escaped[i : i + MAX_SECTION_TEXT] for i in range(0, len(escaped), MAX_SECTION_TEXT)]
    return [{"type": "section", "text": {"type": "mrkdwn", "text": chunk}} for chunk in chunks]


def _media_block(attachment: Attachment) -> dict[str, Any]:
    if not attachment.url:
        raise SendError(
            "media_url_missing",
            "Slack attachments are sent by link; this one has no URL.",
            retryable=False,
        )
    if attachment.kind is MessageKind.IMAGE:
        alt = (attachment.filename or "image")[:2000]
        return {"type": "image", "image_url": attachment.url, "alt_text": alt}
    # Slack only fetches images by URL; anything else goes as a link people can open.
    label = attachment.filename or attachment.url
    return {"type": "section", "text": {"type": "mrkdwn", "text": _link(attachment.url, label)}}


def _actions(buttons: tuple[Button, ...]) -> dict[str, Any]:
    if len(buttons) > MAX_BUTTONS:
        raise SendError(
            "buttons", f"Slack shows at most {MAX_BUTTONS} buttons in a message.", retryable=False
        )
    elements = []
    for index, button in enumerate(buttons):
        element: dict[str, Any] = {
            "type": "button",
            "text": {
                "type": "plain_text",
                "text": button.title[:MAX_BUTTON_TITLE] or button.id[:MAX_BUTTON_TITLE],
            },
        }
        if button.url:
            element.update(action_id=f"pytake_link_{index}", url=button.url)
        else:
            if len(button.id) > MAX_BUTTON_VALUE:
                raise SendError(
                    "buttons", f"Slack button ids are at most {MAX_BUTTON_VALUE} characters.", retryable=False
                )
            # action_id must be unique in the message; the button's id comes back as its value.
            element.update(action_id=f"pytake_{index}", value=button.id)
        elements.append(element)
    return {"type": "actions", "elements": elements}


def _thread_ts(message: OutboundMessage, conversation: str) -> str | None:
    """The customer's thread (from their last message), else the thread of the message replied to."""
    thread = message.metadata.get("thread_ts")
    if isinstance(thread, str) and _TS_RE.match(thread):
        return thread
    replied = message.reply_to_platform_id or ""
    replied_conversation, _, ts = replied.partition(":")
    if replied_conversation == conversation and _TS_RE.match(ts):
        return ts
    return None


def _result_id(data: dict[str, Any], conversation: str) -> str:
    ts = nonempty_str(data.get("ts")) or nonempty_str(_dict(data.get("message")).get("ts"))
    if ts is None:
        # Posted but unreadable: retrying could post the message twice.
        raise SendError("invalid_response", "Slack accepted the message but returned no ts.", retryable=False)
    return f"{nonempty_str(data.get('channel')) or conversation}:{ts}"


async def _call(
    http: httpx.AsyncClient, channel: ChannelCredentials, method: str, body: dict[str, Any]
) -> dict[str, Any]:
    """POST one Web API method; the answer when `ok`, else the SendError it means."""
    token = (channel.secrets.get("bot_token") or "").strip()
    if not token:  # an empty Bearer header is not even valid HTTP: say what is wrong instead
        raise SendError("not_authed", _ERRORS["not_authed"][2], retryable=False, affects_channel=True)
    api_base = str(channel.config.get("api_base") or DEFAULT_API_BASE).rstrip("/")
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json; charset=utf-8",
    }
    reply = await call(http, "Slack", f"{api_base}/api/{method}", json=body, headers=headers)
    if reply.status == 429:
        raise SendError(
            "ratelimited",
            _ERRORS["ratelimited"][2],
            retryable=True,
            retry_after=reply.retry_after(),
            throttled=True,
        )
    if reply.status >= 500:
        raise refusal(reply, None, _TEMPORARY_REASON, retryable=True)
    data = reply.data
    if not isinstance(data, dict):
        raise SendError(
            f"HTTP_{reply.status}" if not reply.ok else "invalid_response",
            f"Slack answered {method} with something that is not a Web API response (HTTP {reply.status}).",
            retryable=False,  # the message may have been posted: a retry could post it twice
        )
    if data.get("ok") is True and reply.ok:
        return data
    raise _api_error(data, reply, method, channel.channel_id)


def _api_error(data: dict[str, Any], reply: Reply, method: str, channel_id: int) -> SendError:
    error = nonempty_str(data.get("error")) or f"HTTP_{reply.status}"
    retryable, affects_channel, reason = _ERRORS.get(
        error, (False, False, f"Slack refused the message ({error}).")
    )
    details = _dict(data.get("response_metadata")).get("messages")
    if error == "missing_scope" and nonempty_str(data.get("needed")):
        reason = f"{reason} Slack says it needs: {data['needed']}."
    elif isinstance(details, list) and details:
        reason = f"{reason} Slack says: {'; '.join(str(d) for d in details[:3])}"
    log.warning(
        "slack call failed",
        extra={
            "channel_id": channel_id,
            "method": method,
            "error": error,
            "http_status": reply.status,
        },
    )
    return refusal(reply, error, reason, retryable=retryable, affects_channel=affects_channel)


slack = SlackConnector()
