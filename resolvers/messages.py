"""Outbound messages: an agent's reply, stored once, sent once.

`send_reply` stores the message as `queued` (deduplicated on the client's id, so a retried
mutation neither stores nor sends twice) and enqueues the send job after commit. `deliver` is what
the job does: claim the message with a lease kept alive while the platform call is in flight (a
re-delivered job finds it claimed or done and does nothing; resolvers/send_lease.py says when a
claim lapses and a message is sent again), call the platform, record the outcome.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient

from connectors.base import (
    Attachment,
    Button,
    DeliveryStatus,
    MessageKind,
    OutboundMessage,
    Platform,
    SendError,
)
from connectors.registry import get_connector
from core import http, metrics, tasks
from core.auth import Actor
from core.crypto import body_for_write, open_body
from core.events import INBOX, committed, conversation_stream, emit
from core.sql import fetch, fetchrow, in_transaction, retry_on_deadlock
from models import Channel
from resolvers import flow_hooks, send_lease, sla, templates, visibility, whatsapp_templates
from resolvers.auth import require_user
from resolvers.channels import clear_channel_error, credentials, record_channel_error
from resolvers.errors import BadInput, Conflict
from resolvers.shapes import CONVERSATION_COLUMNS, MESSAGE_COLUMNS, conversation_view, message_view
from resolvers.statuses import apply_orphans, transition
from resolvers.targets import ReplyTarget, resolve_target

log = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 6
# A platform limiting our pace (429) says "later", not "no": a backlog draining against a platform's
# throughput limit meets it many times per message, so throttled attempts have a larger budget
# (with the backoff capped at a minute, about half an hour of being throttled).
MAX_THROTTLED_ATTEMPTS = 40
MAX_CLIENT_ID = 64


@dataclass(frozen=True)
class SendReplyResult:
    message: dict[str, Any]
    created: bool


def retry_backoff(attempt: int) -> float:
    """Seconds before retry number `attempt`: 0.5, 1, 2, 4, ... capped at a minute."""
    return min(0.5 * 2 ** (attempt - 1), 60.0)


class TransientSendFailure(Exception):
    """The platform may accept this later: the job retries after `retry_after` seconds."""

    def __init__(self, reason: str, retry_after: float):
        super().__init__(reason)
        self.retry_after = retry_after


async def send_reply(
    actor: Actor | None,
    *,
    conversation_id: int,
    client_message_id: str,
    text: str,
    channel_id: int | None = None,
    attachments: list[Attachment] | None = None,
    buttons: list[Button] | None = None,
    template: dict[str, Any] | None = None,
    response_template: dict[str, Any] | None = None,
) -> SendReplyResult:
    """Store an agent's reply and queue it. `channel_id` picks the platform (any channel the
    customer can be reached on, see resolvers/targets.py); by default, where they last wrote.
    `attachments` go by URL (the platform fetches them); `buttons` where the platform has them.
    `response_template` ({id, variables}: one of ours, resolvers/templates.py) brings the text and
    buttons, rendered for the conversation in the variant of the platform the reply goes through."""
    actor = require_user(actor)
    attachments, buttons = list(attachments or ()), list(buttons or ())
    client_message_id = client_message_id.strip()
    if not client_message_id or len(client_message_id) > MAX_CLIENT_ID:
        raise BadInput(f"clientMessageId must be 1 to {MAX_CLIENT_ID} characters", field="clientMessageId")
    if template is not None:
        if not str(template.get("name") or "").strip() or not str(template.get("language") or "").strip():
            raise BadInput("a template needs its name and language code", field="template")
        if attachments or buttons:
            raise BadInput("a template carries its own media and buttons", field="template")
        text = text.strip() or f"[template {template['name']}]"
    if response_template is not None:
        if template is not None:
            raise BadInput(
                "send a WhatsApp template or a response template, not both", field="responseTemplate"
            )
        if text.strip() or buttons:
            raise BadInput("a response template brings its own text and buttons", field="text")
    elif not text.strip() and not attachments:
        raise BadInput("text must not be empty", field="text")
    _check_extras(attachments, buttons)
    template_id = response_template["id"] if response_template is not None else None
    existing = await _existing_reply(actor.user_id, client_message_id, conversation_id, text, template_id)
    if existing is not None:  # the client retried: hand back what the first call stored, lock nothing
        return SendReplyResult(existing, created=False)
    convs = await fetch(f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = $1", conversation_id)
    await visibility.visible_conversation(actor, convs[0] if convs else None, conversation_id, field=None)
    conversation = convs[0]
    target = await resolve_target(conversation_id, channel_id, template=template is not None)
    connector = get_connector(Platform(target.platform))
    extra_metadata: dict[str, Any] = {}
    if response_template is not None:
        rendered = await templates.render_for_target(
            actor, response_template["id"], conversation_id, target, response_template.get("variables")
        )
        templates.require_send_allowed(rendered)  # the platform's limits, before anything is queued
        text, buttons = rendered.text, list(rendered.buttons)
        _check_extras(attachments, buttons)
        extra_metadata = {"response_template": rendered.metadata()}
        if rendered.subject:
            extra_metadata["subject"] = rendered.subject
    if template is not None and not connector.capabilities.templates:
        raise BadInput(f"{target.platform} has no message templates", field="template")
    if template is not None:  # in the catalogue, approved, its parameters exactly (before storing)
        filled = await whatsapp_templates.check_template_send(target.channel_id, template)
        template = {**template, "text": filled} if filled else template  # what the customer reads
    if attachments and not connector.capabilities.media:
        raise BadInput(f"{target.platform} does not take attachments", field="attachments")
    if len(attachments) > connector.capabilities.max_attachments:
        raise BadInput(
            f"{target.platform} takes at most {connector.capabilities.max_attachments} attachment(s) per message",
            field="attachments",
        )
    if buttons and not connector.capabilities.buttons:
        raise BadInput(f"{target.platform} has no buttons", field="buttons")
    limit = connector.max_text_length
    if len(text) > limit:
        raise BadInput(
            f"text is {len(text)} characters long; {target.platform} accepts at most {limit}",
            field="text",
            limit=limit,
        )
    message = await retry_on_deadlock(
        lambda: _store_reply(
            actor.user_id,
            conversation,
            target,
            client_message_id,
            text,
            attachments,
            buttons,
            template,
            extra_metadata,
        )
    )
    if message is None:  # a concurrent retry stored it first
        stored = await _existing_reply(actor.user_id, client_message_id, conversation_id, text, template_id)
        assert stored is not None
        return SendReplyResult(stored, created=False)
    committed()
    tasks.SEND_MESSAGE.send(message["id"])  # jobs/outbound.py → deliver() below
    await sla.request_sync([conversation_id])  # a reply meets response targets
    await flow_hooks.hand_off(conversation_id, actor.user_id, "agent_replied")  # the bot steps back
    return SendReplyResult(message, created=True)


async def store_bot_reply(
    conversation: dict[str, Any],
    target: ReplyTarget,
    client_message_id: str,
    text: str,
    buttons: list[Button],
    metadata: dict[str, Any],
) -> dict[str, Any] | None:
    """A flow's message (resolvers/flow_actions.py), stored as an agent's reply is but with no
    sender, so it assigns nobody. The caller checked the platform's limits, deduplicates on
    `client_message_id` and sends SEND_MESSAGE after its own commit."""
    return await _store_reply(
        None,  # type: ignore[arg-type]
        conversation,
        target,
        client_message_id,
        text,
        [],
        buttons,
        None,
        metadata,
    )


async def _existing_reply(
    sender_id: int, client_message_id: str, conversation_id: int, text: str, template_id: int | None = None
) -> dict[str, Any] | None:
    rows = await fetch(
        f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE sender_id = $1 AND client_message_id = $2",
        sender_id,
        client_message_id,
    )
    if not rows:
        return None
    existing = message_view(rows[0])
    # A templated reply is the same message when it came from the same template: its text was
    # rendered from data that may have changed since.
    same = (
        (existing["metadata"] or {}).get("response_template", {}).get("id") == template_id
        if template_id is not None
        else existing["text"] == text
    )
    if existing["conversation_id"] != conversation_id or not same:
        raise Conflict("clientMessageId was already used for a different message", field="clientMessageId")
    return existing


MAX_ATTACHMENTS = 10
MAX_BUTTONS = 10
_MEDIA = {MessageKind.IMAGE, MessageKind.AUDIO, MessageKind.VIDEO, MessageKind.DOCUMENT, MessageKind.STICKER}


def _check_extras(attachments: list[Attachment], buttons: list[Button]) -> None:
    if len(attachments) > MAX_ATTACHMENTS:
        raise BadInput(f"at most {MAX_ATTACHMENTS} attachments", field="attachments")
    for a in attachments:
        if a.kind not in _MEDIA:
            raise BadInput("attachments are images, audio, video, documents or stickers", field="attachments")
        if not (a.url or "").startswith(("https://", "http://")):
            raise BadInput("attachments are sent by their http(s) URL", field="attachments")
    if len(buttons) > MAX_BUTTONS:
        raise BadInput(f"at most {MAX_BUTTONS} buttons", field="buttons")
    for b in buttons:
        if not b.id.strip() or not b.title.strip() or len(b.title) > 40:
            raise BadInput("each button needs an id and a title of 1 to 40 characters", field="buttons")
        if b.url is not None and not b.url.startswith(("https://", "http://")):
            raise BadInput("a link button's url must be http(s)", field="buttons")


async def _store_reply(
    sender_id: int,
    conversation: dict[str, Any],
    target: ReplyTarget,
    client_message_id: str,
    text: str,
    attachments: list[Attachment],
    buttons: list[Button],
    template: dict[str, Any] | None = None,
    extra_metadata: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Message row first, then the conversation row: the same lock order as inbound ingest."""
    async with in_transaction() as conn:
        identity_id = target.identity_id
        if identity_id is None:  # first contact on this channel (SMS to a known phone, ...)
            identity_id = await _first_contact_identity(conn, conversation["customer_id"], target)
        rows = await conn.execute_query_dict(
            "INSERT INTO messages (conversation_id, channel_id, identity_id, platform, direction, kind, text, "
            "status, client_message_id, sender_id, attachments, metadata, created_at, send_attempts) "
            "VALUES ($1, $2, $3, $4, 'outbound', $8, $5, 'queued', $6, $7, $9::jsonb, $10::jsonb, now(), 0) "
            f"ON CONFLICT (sender_id, client_message_id) DO NOTHING RETURNING {MESSAGE_COLUMNS}",
            [
                conversation["id"],
                target.channel_id,
                identity_id,
                target.platform,
                body_for_write(text),
                client_message_id,
                sender_id,
                MessageKind.TEMPLATE.value
                if template
                else (attachments[0].kind.value if attachments else MessageKind.TEXT.value),
                orjson.dumps([_attachment_json(a) for a in attachments]).decode(),
                orjson.dumps(
                    {"template": template}
                    if template
                    else ({"buttons": [asdict(b) for b in buttons]} if buttons else {})
                    | (extra_metadata or {})
                ).decode(),
            ],
        )
        if not rows:
            return None
        if extra_metadata and "response_template" in extra_metadata:
            await templates.record_use(conn, sender_id, extra_metadata["response_template"]["id"])
        message = message_view(rows[0])
        conv_rows = await conn.execute_query_dict(
            "UPDATE conversations SET last_message_id = $2, last_message_at = $3, "
            # A flow's message (no sender) leaves the customer's messages unread for the agents.
            "unread_count = CASE WHEN $4::int IS NULL THEN unread_count ELSE 0 END, "
            "assignee_id = COALESCE(assignee_id, $4), updated_at = now() "
            f"WHERE id = $1 RETURNING {CONVERSATION_COLUMNS}",
            [conversation["id"], message["id"], message["created_at"], sender_id],
        )
        await emit(conn, conversation_stream(conversation["id"]), "MESSAGE_CREATED", {"message": message})
        await emit(
            conn,
            INBOX,
            "CONVERSATION_UPDATED",
            {"conversation": conversation_view(conv_rows[0]), "last_message": message},
        )
    return message


async def _first_contact_identity(conn: BaseDBAsyncClient, customer_id: int, target: ReplyTarget) -> int:
    """The customer's identity on a channel they never wrote to, addressed by their phone/e-mail."""
    assert target.address is not None
    await conn.execute_query(
        "INSERT INTO customer_identities (customer_id, channel_id, platform, external_id, created_at) "
        "VALUES ($1, $2, $3, $4, now()) ON CONFLICT (channel_id, external_id) DO NOTHING",
        [customer_id, target.channel_id, target.platform, target.address],
    )
    rows = await conn.execute_query_dict(
        "SELECT id, customer_id FROM customer_identities WHERE channel_id = $1 AND external_id = $2",
        [target.channel_id, target.address],
    )
    if rows[0]["customer_id"] != customer_id:
        raise Conflict(
            f"{target.address} on this channel belongs to another customer; merge the two customers first",
            field="channelId",
        )
    return rows[0]["id"]


# Replies one send job makes down a conversation's lane before it gives its place back to the
# queue (enqueueing the next): a backlog drains at the platform's pace instead of one reply per trip
# through the whole queue, and one busy conversation does not hold a worker for long.
LANE_BUDGET = 20


async def deliver(message_id: int) -> str:
    """Send the queued replies of `message_id`'s conversation, in order, from the earliest
    (`message_id` itself or one queued before it). Returns what happened to the first: sent /
    failed / skipped. Raises TransientSendFailure when the job should retry that first one."""
    outcome, conversation_id = await _deliver_head(message_id)
    for _ in range(LANE_BUDGET - 1):
        if outcome not in ("sent", "failed") or conversation_id is None:
            return outcome
        following = await _next_queued(conversation_id)
        if following is None:
            return outcome
        try:
            step, conversation_id = await _deliver_head(following)
        except TransientSendFailure as exc:  # its own job retries it when the platform allows
            tasks.SEND_MESSAGE.send(following, delay_ms=int(exc.retry_after * 1000) + 50)
            return outcome
        if step not in ("sent", "failed"):
            return outcome  # another attempt holds it, and goes on down the lane itself
    if outcome in ("sent", "failed") and conversation_id is not None:
        following = await _next_queued(conversation_id)
        if following is not None:
            tasks.SEND_MESSAGE.send(following)  # the budget is spent: the rest waits its turn
    return outcome


async def _deliver_head(message_id: int) -> tuple[str, int | None]:
    """Send the earliest queued reply of `message_id`'s conversation, when no attempt holds it.
    Returns (outcome, conversation id when something was sent or failed)."""
    now = datetime.now(UTC)
    free, graces = send_lease.claimable_sql("$4")
    claimed = await fetch(
        "UPDATE messages m SET sending_until = $2, send_attempts = send_attempts + 1 "
        "FROM customer_identities i "
        # In order per conversation: the lane's head goes first, whichever of its replies' jobs
        # comes; the job that sends it goes on down the lane (`deliver`).
        f"WHERE m.id = {send_lease.lane_head_sql('(SELECT conversation_id FROM messages WHERE id = $3)')} "
        "AND i.id = m.identity_id AND m.direction = 'outbound' AND m.status = 'queued' "
        f"AND {free} "
        "RETURNING m.id, m.conversation_id, m.channel_id, m.kind, m.text, m.reply_to_platform_id, m.metadata, m.attachments, "
        "m.send_attempts, COALESCE(i.reply_address, i.external_id) AS recipient, i.last_inbound_at",
        graces,
        now + send_lease.lease(),
        message_id,
        now,
    )
    if not claimed:
        await _unless_waiting_for_an_echo(message_id)
        return "skipped", None  # sent, failed, another attempt holds the lane's head, or it waits for an echo
    row = claimed[0]
    message_id = row["id"]  # the lane's head: `message_id` itself or a reply queued before it
    channel = await Channel.get(id=row["channel_id"])
    connector = get_connector(Platform(channel.platform))
    stored = row["metadata"] if isinstance(row["metadata"], dict) else orjson.loads(row["metadata"] or "{}")
    attachments = (
        row["attachments"]
        if isinstance(row["attachments"], list)
        else orjson.loads(row["attachments"] or "[]")
    )
    outbound = OutboundMessage(
        recipient_id=row["recipient"],
        kind=MessageKind(row["kind"]),
        idempotency_key=str(message_id),
        text=open_body(row["text"]),
        reply_to_platform_id=row["reply_to_platform_id"],
        attachments=tuple(
            Attachment(
                kind=MessageKind(a["kind"]),
                url=a.get("url"),
                mime_type=a.get("mime_type"),
                filename=a.get("filename"),
            )
            for a in attachments
        ),
        buttons=tuple(
            Button(id=b["id"], title=b["title"], url=b.get("url")) for b in stored.get("buttons", ())
        ),
        template=stored.get("template"),
        metadata={
            # A template's e-mail subject starts a thread; inside one, the thread's subject goes on.
            **({"subject": stored["subject"]} if stored.get("subject") else {}),
            **{
                k: v
                for k, v in (await _thread_context(row["conversation_id"], channel.id)).items()
                if v is not None
            },
            **_window_tag(connector.capabilities, row["last_inbound_at"]),
        },
    )
    try:
        async with send_lease.held(message_id, row["send_attempts"]):
            result = await connector.send(http.client(), credentials(channel), outbound)
    except asyncio.CancelledError:
        # The worker gave this attempt up (it is stopping; the job goes back on its queue): the
        # next attempt may claim the message now rather than when the lease runs out.
        await fetch(
            "UPDATE messages SET sending_until = NULL WHERE id = $1 AND status = 'queued'", message_id
        )
        raise
    except SendError as exc:
        if exc.affects_channel:
            await record_channel_error(channel.id, f"sending failed: {exc.reason}")
        budget = MAX_THROTTLED_ATTEMPTS if exc.throttled else MAX_SEND_ATTEMPTS
        if exc.retryable and row["send_attempts"] < budget:
            # Keep the lease until the retry is due, so the stale-queue sweep leaves it alone.
            delay = exc.retry_after if exc.retry_after is not None else retry_backoff(row["send_attempts"])
            await fetch(
                "UPDATE messages SET sending_until = $2 WHERE id = $1",
                message_id,
                send_lease.retry_reservation(channel.platform, exc.code, delay),
            )
            metrics.SENDS.labels(channel.platform, "retry").inc()
            raise TransientSendFailure(exc.reason, delay) from exc
        reason = (
            exc.reason
            if not exc.retryable
            else f"gave up after {row['send_attempts']} attempts: {exc.reason}"
        )
        async with in_transaction() as conn:
            await transition(
                conn,
                message_id,
                DeliveryStatus.QUEUED,
                DeliveryStatus.FAILED,
                datetime.now(UTC),
                exc.code,
                reason,
            )
        committed()
        metrics.SENDS.labels(channel.platform, "failed").inc()
        return "failed", row["conversation_id"]
    async with in_transaction() as conn:
        # The platform's status echo may have recorded it first (resolvers/statuses.py), and moved
        # it past `sent` already: the transition starts from where it is.
        current = await conn.execute_query_dict(
            "UPDATE messages SET platform_message_id = $2 WHERE id = $1 RETURNING status",
            [message_id, result.platform_message_id],
        )
        await transition(
            conn, message_id, DeliveryStatus(current[0]["status"]), DeliveryStatus.SENT, datetime.now(UTC)
        )
        await apply_orphans(conn, channel.id, result.platform_message_id)
    committed()
    if channel.last_error_at is not None and (channel.last_error or "").startswith("sending failed"):
        await clear_channel_error(channel.id)  # the channel can send again
    metrics.MESSAGES_OUT.labels(channel.platform).inc()
    metrics.SENDS.labels(channel.platform, "sent").inc()
    return "sent", row["conversation_id"]


async def _next_queued(conversation_id: int) -> int | None:
    """The conversation's earliest queued reply: the next in its lane (see `deliver`)."""
    row = await fetchrow(f"SELECT {send_lease.lane_head_sql('$1::int')} AS id", conversation_id)
    return None if row is None else row["id"]


async def lanes_moved(conversation_ids: Iterable[int]) -> int:
    """After a commit that took these conversations' lane heads out of the queue without a send
    job (the platform's status echo recorded them as sent, resolvers/statuses.py): enqueue each
    lane's next reply now, as the job that sends a head does, rather than leave it to the stale-send
    sweep seconds later. Idempotent: a job whose reply is not its lane's head free to claim does
    nothing. Returns how many jobs were enqueued."""
    enqueued = 0
    for conversation_id in sorted(set(conversation_ids)):
        following = await _next_queued(conversation_id)
        if following is not None:
            tasks.SEND_MESSAGE.send(following)
            enqueued += 1
    return enqueued


async def send_platform(message_id: int) -> str | None:
    """The platform a queued reply goes to (None when it is no longer queued)."""
    row = await fetchrow(
        "SELECT platform FROM messages WHERE id = $1 AND direction = 'outbound' AND status = 'queued'",
        message_id,
    )
    return row["platform"] if row else None


def _window_tag(caps: Any, last_inbound_at: datetime | None) -> dict[str, str]:
    """A reply past the platform's window but inside its human-agent window goes tagged."""
    if caps.reply_window is None or caps.tagged_reply_window is None or last_inbound_at is None:
        return {}
    return {"tag": "HUMAN_AGENT"} if datetime.now(UTC) - last_inbound_at > caps.reply_window else {}


async def _thread_context(conversation_id: int, channel_id: int) -> dict[str, Any]:
    """What threaded platforms need to keep a reply in the customer's thread: the subject and ids
    of the customer's messages on this channel (e-mail), their last thread (Slack). Others ignore it."""
    rows = await fetch(
        "SELECT platform_message_id, metadata->>'subject' AS subject, metadata->>'thread_ts' AS thread_ts FROM messages "
        "WHERE conversation_id = $1 AND channel_id = $2 AND direction = 'inbound' "
        "AND platform_message_id IS NOT NULL ORDER BY id DESC LIMIT 10",
        conversation_id,
        channel_id,
    )
    if not rows:
        return {}
    subject = next((r["subject"] for r in rows if r["subject"]), None)
    return {
        "subject": subject,
        "thread_ts": rows[0]["thread_ts"],  # Slack: answer in the thread the customer last wrote in
        "in_reply_to": rows[0]["platform_message_id"],
        "references": [r["platform_message_id"] for r in reversed(rows)],
    }


async def stale_queued(*, include_unclaimed: bool = True) -> list[int]:
    """Queued messages nobody is working on: their attempt died or their job was lost."""
    return await send_lease.stale_sends(include_unclaimed=include_unclaimed)


async def _unless_waiting_for_an_echo(message_id: int) -> None:
    """A job that finds its message's last attempt dead but the platform's echo of it still due
    comes back when the grace ends (TransientSendFailure), rather than leave it to the sweep."""
    rows = await fetch(
        "SELECT platform, sending_until FROM messages WHERE id = $1 AND status = 'queued'", message_id
    )
    wait = send_lease.grace_left(rows[0]["platform"], rows[0]["sending_until"]) if rows else 0.0
    if wait > 0:
        raise TransientSendFailure("waiting for the platform's status echo of the last attempt", wait)


def _attachment_json(a: Attachment) -> dict[str, Any]:
    return {"kind": a.kind.value, "url": a.url, "mime_type": a.mime_type, "filename": a.filename}
