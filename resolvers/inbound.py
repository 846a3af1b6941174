"""Inbound: what a verified webhook carries becomes customers, conversations, messages, statuses.

Everything for one webhook is written in one transaction, with its events in the outbox; the
webhook is answered only after it commits. Platform retries are absorbed by the unique
(channel, platform_message_id) key: a redelivered message stores nothing and emits nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tortoise.backends.base.client import BaseDBAsyncClient

from connectors.base import InboundMessage, MessageEdit, ParsedWebhook
from core.crypto import body_for_write, open_body, seal_body
from core.events import committed
from core.sql import in_transaction, retry_on_deadlock
from resolvers import csat, flow_hooks, messages, sla
from resolvers.assignment import request_drain
from resolvers.inbound_fit import fit_for_storage
from resolvers.ingest_group import (
    DUPLICATE,
    NEW_CONVERSATION,
    STORED,
    SURVEY_WAITS,
    Item,
    Stored,
    store_alone,
    store_message,
)
from resolvers.shapes import MESSAGE_COLUMNS
from resolvers.statuses import apply_status, emit_message_updated


@dataclass
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    statuses: int = 0
    edits: int = 0
    new_conversations: int = 0  # waiting in the assignment queue
    conversations: set[int] = field(default_factory=set)  # that received a message
    lanes_moved: set[int] = field(default_factory=set)  # whose queued head an echo recorded as sent

    @property
    def emitted(self) -> bool:
        return self.stored > 0 or self.statuses > 0 or self.edits > 0


async def ingest(channel_id: int, platform: str, parsed: ParsedWebhook) -> IngestResult:
    # Whatever the platform put in (NUL, lone surrogates, absurd lengths) is made storable here,
    # once for every inbound path, so no payload can fail the insert and lose the message.
    parsed = fit_for_storage(parsed)
    result = IngestResult()
    items = len(parsed.messages) + len(parsed.statuses) + len(parsed.edits)
    if items == 1 and parsed.messages:
        # The common case, one message: stored in one statement with the other webhooks arriving
        # at the same moment (resolvers/ingest_group.py), answered after that shared commit and
        # after what follows it, done once for the whole group (`_after_group`).
        msg = parsed.messages[0]
        # Answers to a satisfaction survey are stored as answers, so they do not reopen the
        # conversation. Whether a text's sender has a survey waiting is asked by the same
        # statement that would store it: it comes back held (SURVEY_WAITS) when one does.
        if await csat.take_button(channel_id, msg):
            return result
        outcome, conversation_id = await store_message(
            channel_id, platform, msg, after_commit=_after_group, survey_check=csat.may_answer_in_text(msg)
        )
        if outcome == SURVEY_WAITS:
            if await csat.take_text(channel_id, msg):
                return result
            outcome, conversation_id = await store_message(
                channel_id, platform, msg, after_commit=_after_group
            )
        if conversation_id is not None:
            result.conversations.add(conversation_id)
        result.stored, result.duplicates, result.new_conversations = (
            int(outcome in (STORED, NEW_CONVERSATION)),
            int(outcome == DUPLICATE),
            int(outcome == NEW_CONVERSATION),
        )
        return result
    parsed, _answers = await csat.take_answers(channel_id, parsed)
    items = len(parsed.messages) + len(parsed.statuses) + len(parsed.edits)
    if items:
        counts = await retry_on_deadlock(
            lambda: _store_batch(channel_id, platform, parsed, result.conversations, result.lanes_moved)
        )
        result.stored, result.duplicates, result.statuses, result.edits, result.new_conversations = counts
    if result.emitted:
        committed()
    if result.lanes_moved:
        await messages.lanes_moved(result.lanes_moved)
    if result.new_conversations:
        request_drain()
    if result.stored:
        await sla.request_sync(result.conversations)
        flow_hooks.inbound_stored(channel_id, (m.platform_message_id for m in parsed.messages))
    return result


async def _after_group(items: list[Item], answers: list[Stored | BaseException]) -> None:
    """What follows the commit of a group of single-message webhooks, once for the group (its
    events are published already, resolvers/ingest_group.py): ask for an assignment pass if a
    conversation is new, sync SLA timers of the conversations that received a message, and hand
    the stored messages to flows, one job per channel (a job takes many messages), instead of
    once per webhook."""
    stored = [(item, answer) for item, answer in zip(items, answers, strict=True)
              if not isinstance(answer, BaseException) and answer[0] in (STORED, NEW_CONVERSATION)]  # fmt: skip
    if not stored:
        return
    if any(outcome == NEW_CONVERSATION for _, (outcome, _) in stored):
        request_drain()
    await sla.request_sync({conversation for _, (_, conversation) in stored if conversation is not None})
    by_channel: dict[int, list[str | None]] = {}
    for (channel_id, _, msg, _), _ in stored:
        by_channel.setdefault(channel_id, []).append(msg.platform_message_id)
    for channel_id, ids in by_channel.items():
        flow_hooks.inbound_stored(channel_id, ids)


async def _store_batch(
    channel_id: int, platform: str, parsed: ParsedWebhook, touched: set[int], moved: set[int]
) -> tuple[int, int, int, int, int]:
    """Several items (a batched webhook, statuses, edits): one transaction, all or nothing."""
    stored = duplicates = statuses = edits = created = 0
    moved.clear()  # a retried transaction collects again
    async with in_transaction() as conn:
        for message in parsed.messages:
            outcome = await _store_message(conn, channel_id, platform, message, touched)
            stored += outcome > 0
            duplicates += outcome == 0
            created += outcome == 2
        for status in parsed.statuses:
            if await apply_status(conn, channel_id, status, moved):
                statuses += 1
        for edit in parsed.edits:
            if await apply_edit(conn, channel_id, edit):
                edits += 1
    return stored, duplicates, statuses, edits, created


async def _store_message(
    conn: BaseDBAsyncClient, channel_id: int, platform: str, msg: InboundMessage, touched: set[int]
) -> int:
    """Customer → conversation → message → events, in the database function
    `pytake_ingest_message` (migrations/functions/30_ingest_message.sql), which:
    - serialises one sender on one channel (advisory lock), so concurrent messages of one customer
      share a conversation and a concurrent redelivery is seen;
    - stores nothing for a platform message id already stored on this channel (returns 0);
    - finds or creates the customer and their identity on this channel; a new identity with a
      phone/e-mail the platform vouches for joins the customer already known by it (auto-merge);
    - files the message into the thread's conversation (e-mail references), else the customer's
      open conversation on any platform (resolved/pending ones reopen), else a new one;
    - bumps the conversation's last message and unread count;
    - writes MESSAGE_CREATED on the conversation's stream and CONVERSATION_CREATED/UPDATED on the inbox.
    """
    outcome, conversation_id = await store_alone(channel_id, platform, msg, conn)
    if conversation_id is not None:
        touched.add(conversation_id)
    return outcome  # 0 duplicate, 1 stored, 2 stored in a new conversation


async def apply_edit(conn: BaseDBAsyncClient, channel_id: int, edit: MessageEdit) -> bool:
    """The customer edited or unsent a message: keep the latest text, the earlier ones in
    `metadata.edits`, and tell live views. Unknown ids (never stored, or not inbound) change nothing;
    a redelivered edit finds the text already current and changes nothing either."""
    if edit.deleted:
        rows = await conn.execute_query_dict(
            "UPDATE messages SET deleted_at = $3 WHERE channel_id = $1 AND platform_message_id = $2 "
            f"AND direction = 'inbound' AND deleted_at IS NULL RETURNING {MESSAGE_COLUMNS}",
            [channel_id, edit.platform_message_id, edit.occurred_at],
        )
    elif (written := body_for_write(edit.text)) == edit.text:
        rows = await conn.execute_query_dict(
            "UPDATE messages SET text = $3, edited_at = $4, metadata = jsonb_set(metadata, '{edits}', "
            "COALESCE(metadata->'edits', '[]'::jsonb) || jsonb_build_array(jsonb_build_object("
            "'text', text, 'replaced_at', $4::timestamptz))) "
            "WHERE channel_id = $1 AND platform_message_id = $2 AND direction = 'inbound' "
            f"AND text IS DISTINCT FROM $3 RETURNING {MESSAGE_COLUMNS}",
            [channel_id, edit.platform_message_id, edit.text, edit.occurred_at],
        )
    else:  # sealed at rest: two tokens of one text differ, so compare the plaintext here
        current = await conn.execute_query_dict(
            "SELECT id, text FROM messages WHERE channel_id = $1 AND platform_message_id = $2 "
            "AND direction = 'inbound' FOR UPDATE",
            [channel_id, edit.platform_message_id],
        )
        if not current or open_body(current[0]["text"]) == edit.text:
            return False
        rows = await conn.execute_query_dict(
            "UPDATE messages SET text = $2, edited_at = $3, metadata = jsonb_set(metadata, '{edits}', "
            "COALESCE(metadata->'edits', '[]'::jsonb) || jsonb_build_array(jsonb_build_object("
            "'text', $4::text, 'replaced_at', $3::timestamptz))) "
            f"WHERE id = $1 RETURNING {MESSAGE_COLUMNS}",
            [current[0]["id"], written, edit.occurred_at, seal_body(open_body(current[0]["text"]))],
        )
    if not rows:
        return False
    await emit_message_updated(conn, dict(rows[0]))
    return True
