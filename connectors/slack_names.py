"""Names for the Slack user ids a webhook carries, from `users.info` with the channel's bot token.

Slack's events say `<@U024BE7LH>`, not who that is, and a plain `message` event often has no
sender name at all. `enrich` asks Slack, before the message is stored, and puts the names in.

It runs inside the webhook request, and Slack retries any event not answered within 3 seconds, so
all lookups together get `LOOKUP_BUDGET`; what is not known by then (Slack slow or down, a
missing scope) stays the raw id. Enriching never fails and never drops anything: the message
is stored either way. Names are cached per channel (an hour; a refusal for five minutes) so a
busy conversation costs one call per person, not one per message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

import httpx

from connectors.base import ChannelCredentials, InboundMessage, MessageEdit, ParsedWebhook, SendError
from connectors.http import call
from connectors.slack_text import MENTION_IN_TEXT

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://slack.com"
LOOKUP_BUDGET = 1.5  # seconds for every lookup of one webhook: half of Slack's 3-second deadline
MAX_LOOKUPS = 20  # per webhook: a message naming a hundred people still answers in time
NAME_TTL = 3600.0
REFUSED_TTL = 300.0  # user_not_found, missing_scope: asking again at once would not help
UNRESPONSIVE_PAUSE = 30.0  # Slack slow or unreachable: stop asking for a while, not on every webhook
CACHE_SIZE = 10_000

# (channel id, user id) → (monotonic expiry, name or None for "Slack said no").
_cache: OrderedDict[tuple[int, str], tuple[float, str | None]] = OrderedDict()
# channel id → monotonic time before which lookups are skipped (Slack did not answer in time).
_paused_until: dict[int, float] = {}


async def enrich(
    http: httpx.AsyncClient, channel: ChannelCredentials, parsed: ParsedWebhook
) -> ParsedWebhook:
    """`parsed` with mentioned users' names in the text and `metadata["mentions"]`, and a name
    for senders Slack sent without one."""
    wanted = _wanted(parsed.messages, parsed.edits)
    if not wanted:
        return parsed
    names = await user_names(http, channel, wanted)
    if not names:
        return parsed
    return replace(
        parsed,
        messages=tuple(_named_message(m, names) for m in parsed.messages),
        edits=tuple(_named_edit(e, names) for e in parsed.edits),
    )


def _wanted(messages: Iterable[InboundMessage], edits: Iterable[MessageEdit]) -> list[str]:
    ids: dict[str, None] = {}
    for message in messages:
        ids.update(dict.fromkeys(message.metadata.get("mentions") or ()))
        if message.sender_name is None and message.sender_id:
            ids[message.sender_id] = None
    for edit in edits:
        ids.update(dict.fromkeys(MENTION_IN_TEXT.findall(edit.text or "")))
    return list(ids)


def _with_names(text: str | None, names: Mapping[str, str], only: Iterable[str] | None = None) -> str | None:
    """The fallback `@U…` of each named user replaced by `@Name`."""
    if not text:
        return text
    allowed = set(only) if only is not None else None

    def named(match: Any) -> str:
        user = match.group(1)
        if (allowed is None or user in allowed) and user in names:
            return "@" + names[user]
        return match.group(0)

    return MENTION_IN_TEXT.sub(named, text)


def _named_message(message: InboundMessage, names: Mapping[str, str]) -> InboundMessage:
    mentions = message.metadata.get("mentions")
    changes: dict[str, Any] = {}
    if mentions:
        changes["text"] = _with_names(message.text, names, only=mentions)
        changes["metadata"] = {**message.metadata, "mentions": {u: names.get(u) for u in mentions}}
    if message.sender_name is None and message.sender_id in names:
        changes["sender_name"] = names[message.sender_id]
    return replace(message, **changes) if changes else message


def _named_edit(edit: MessageEdit, names: Mapping[str, str]) -> MessageEdit:
    return replace(edit, text=_with_names(edit.text, names)) if edit.text else edit


async def user_names(
    http: httpx.AsyncClient, channel: ChannelCredentials, users: Iterable[str]
) -> dict[str, str]:
    """user id → name for those Slack would tell within the budget (cached ones first)."""
    now = time.monotonic()
    found: dict[str, str] = {}
    missing: list[str] = []
    for user in users:
        cached = _cache.get((channel.channel_id, user))
        if cached is not None and cached[0] > now:
            if cached[1]:
                found[user] = cached[1]
        else:
            missing.append(user)
    token = (channel.secrets.get("bot_token") or "").strip()
    if not missing or not token or _paused_until.get(channel.channel_id, 0.0) > now:
        return found  # a slow Slack costs one budget per pause, not one per webhook
    lookups = [asyncio.ensure_future(_lookup(http, channel, token, u)) for u in missing[:MAX_LOOKUPS]]
    done, pending = await asyncio.wait(lookups, timeout=LOOKUP_BUDGET)
    for task in pending:
        task.cancel()  # Slack is slow: the raw ids stay, the message is not held up
    unanswered = len(pending) + sum(1 for t in done if t.result()[2] is None)
    if unanswered:
        _paused_until[channel.channel_id] = time.monotonic() + UNRESPONSIVE_PAUSE
    if pending:
        log.warning(
            "slack users.info too slow; raw ids kept",
            extra={"channel_id": channel.channel_id, "unanswered": len(pending)},
        )
    for task in done:
        user, name, keep = task.result()
        if keep is not None:
            _remember(channel.channel_id, user, name, keep)
        if name:
            found[user] = name
    return found


async def _lookup(
    http: httpx.AsyncClient, channel: ChannelCredentials, token: str, user: str
) -> tuple[str, str | None, float | None]:
    """(user, name or None, seconds to cache the answer or None to not cache it)."""
    api_base = str(channel.config.get("api_base") or DEFAULT_API_BASE).rstrip("/")
    try:
        reply = await call(
            http,
            "Slack",
            f"{api_base}/api/users.info",
            method="GET",
            params={"user": user},
            headers={"Authorization": f"Bearer {token}"},
        )
    except SendError:
        return user, None, None  # no answer at all: try again next message
    data = reply.body
    if reply.transient or not reply.ok:
        return user, None, None
    if data.get("ok") is not True:
        log.info(
            "slack users.info refused",
            extra={"channel_id": channel.channel_id, "error": data.get("error")},
        )
        return user, None, REFUSED_TTL
    return user, display_name(data.get("user")), NAME_TTL


def display_name(user: Any) -> str | None:
    """What Slack shows for a person: their display name, else their full name, else the handle."""
    if not isinstance(user, dict):
        return None
    profile = user.get("profile") if isinstance(user.get("profile"), dict) else {}
    for value in (
        profile.get("display_name"),
        profile.get("real_name"),
        user.get("real_name"),
        user.get("name"),
    ):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _remember(channel_id: int, user: str, name: str | None, ttl: float) -> None:
    key = (channel_id, user)
    _cache[key] = (time.monotonic() + ttl, name)
    _cache.move_to_end(key)
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)  # the least recently learnt
