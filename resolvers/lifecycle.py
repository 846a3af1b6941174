"""A conversation's life: status (open → pending → snoozed → resolved → closed), priority, labels,
internal notes, transfer, escalation, and the same changes in bulk.

Every change is one transaction that locks the conversation row, writes an activity (who, when,
what) and emits the change on the inbox and the conversation's own stream, published after commit.
The customer writing again reopens pending/snoozed/resolved conversations (the ingest function
in migrations/models/6_* does that, with its own activity), and a snoozed one wakes up at its
time through a delayed job (jobs/lifecycle.py), with a sweep as the safety net.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from core import tasks
from core.auth import Actor
from core.crypto import body_for_write
from core.events import INBOX, committed, conversation_stream, emit
from core.sql import fetch, in_transaction, retry_on_deadlock
from models import ConversationStatus, Priority, Role
from resolvers import assignment, audit, conversations, csat, flow_hooks, roi, sla, visibility
from resolvers.activities import record_activity
from resolvers.auth import require_user
from resolvers.errors import BadInput, DomainError, Forbidden, NotFound
from resolvers.shapes import CONVERSATION_COLUMNS, MESSAGE_COLUMNS, conversation_view, message_view

# Where each status may go. Closed is final: the customer's next message starts a new conversation.
TRANSITIONS: dict[ConversationStatus, frozenset[ConversationStatus]] = {
    ConversationStatus.OPEN: frozenset(
        {
            ConversationStatus.PENDING,
            ConversationStatus.SNOOZED,
            ConversationStatus.RESOLVED,
            ConversationStatus.CLOSED,
        }
    ),
    ConversationStatus.PENDING: frozenset(
        {
            ConversationStatus.OPEN,
            ConversationStatus.SNOOZED,
            ConversationStatus.RESOLVED,
            ConversationStatus.CLOSED,
        }
    ),
    ConversationStatus.SNOOZED: frozenset(
        {
            ConversationStatus.OPEN,
            ConversationStatus.PENDING,
            ConversationStatus.RESOLVED,
            ConversationStatus.CLOSED,
        }
    ),
    ConversationStatus.RESOLVED: frozenset({ConversationStatus.OPEN, ConversationStatus.CLOSED}),
    ConversationStatus.CLOSED: frozenset(),
}
MAX_SNOOZE = timedelta(days=365)
MAX_LABELS = 20
MAX_LABEL_LENGTH = 50
MAX_BULK = 500
MAX_NOTE = 10_000

Change = Callable[
    [BaseDBAsyncClient, dict[str, Any]], Awaitable[tuple[str, list[Any], str, dict[str, Any]] | None]
]


async def _apply(actor: Actor, conversation_id: int, change: Change) -> dict[str, Any]:
    """Lock the row, let `change` decide (SET clause, args, activity type, activity data — or None
    for "nothing to do"), then write, log and announce it; all in one transaction."""

    async def run() -> dict[str, Any]:
        async with in_transaction() as conn:
            rows = await conn.execute_query_dict(
                f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = $1 FOR UPDATE",
                [conversation_id],
            )
            await visibility.visible_conversation(actor, rows[0] if rows else None, conversation_id)
            current = conversation_view(dict(rows[0]))
            decided = await change(conn, current)
            if decided is None:
                return current
            set_sql, args, activity_type, data = decided
            placeholders = set_sql.format(*(f"${i + 2}" for i in range(len(args))))
            updated = await conn.execute_query_dict(
                f"UPDATE conversations SET {placeholders}, updated_at = now() WHERE id = $1 RETURNING {CONVERSATION_COLUMNS}",
                [conversation_id, *args],
            )
            conversation = conversation_view(dict(updated[0]))
            await record_activity(conn, conversation_id, actor.user_id, activity_type, data)
            await emit(conn, INBOX, "CONVERSATION_UPDATED", {"conversation": conversation})
        return conversation

    conversation = await retry_on_deadlock(run)
    committed()
    await sla.request_sync([conversation_id])  # status, priority or team may move SLA timers
    return conversation


# ---- status ---------------------------------------------------------------------------------------


async def set_status(
    actor: Actor | None,
    conversation_id: int,
    status: ConversationStatus,
    *,
    snoozed_until: datetime | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    actor = require_user(actor)
    now = datetime.now(UTC)
    if status is ConversationStatus.SNOOZED:
        if snoozed_until is None:
            raise BadInput("snoozing needs snoozedUntil", field="snoozedUntil")
        if snoozed_until.tzinfo is None:
            raise BadInput("snoozedUntil needs a time zone (e.g. 2026-12-01T09:00:00Z)", field="snoozedUntil")
        if not now < snoozed_until <= now + MAX_SNOOZE:
            raise BadInput("snoozedUntil must be in the future and within a year", field="snoozedUntil")
    elif snoozed_until is not None:
        raise BadInput("snoozedUntil only goes with status SNOOZED", field="snoozedUntil")

    async def change(conn: BaseDBAsyncClient, current: dict[str, Any]) -> Any:
        old = ConversationStatus(current["status"])
        if old is status and status is not ConversationStatus.SNOOZED:
            return None
        if status is not old and status not in TRANSITIONS[old]:
            raise InvalidTransition(
                f"a {old.value} conversation cannot become {status.value}"
                + (
                    "; closed conversations stay closed and the customer's next message starts a new one"
                    if old is ConversationStatus.CLOSED
                    else ""
                ),
                field="status",
            )
        data = {"from": old.value, "to": status.value}
        if reason:
            data["reason"] = reason.strip()[:500]
        if snoozed_until is not None:
            data["until"] = snoozed_until.isoformat()
        return "status = {}, snoozed_until = {}", [status.value, snoozed_until], "status_changed", data

    conversation = await _apply(actor, conversation_id, change)
    if status in (ConversationStatus.RESOLVED, ConversationStatus.CLOSED):
        _capacity_freed()
        flow_hooks.conversation_event(conversation_id, "conversation_resolved")
    if status is ConversationStatus.RESOLVED:
        await csat.schedule_survey(conversation_id)  # when the channel asks for one
    if status is ConversationStatus.SNOOZED and snoozed_until is not None:
        _schedule_wake(conversation_id, snoozed_until)
    return conversation


def _schedule_wake(conversation_id: int, at: datetime) -> None:
    """A Dramatiq message delayed until `at` reopens the conversation (jobs/lifecycle.py)."""
    delay_ms = max(0, int((at - datetime.now(UTC)).total_seconds() * 1000))
    tasks.WAKE_CONVERSATION.send(conversation_id, delay_ms=delay_ms)


class InvalidTransition(DomainError):
    code = "INVALID_TRANSITION"


async def wake_snoozed(conversation_id: int | None = None) -> list[int]:
    """Reopen snoozed conversations whose time has come (one, or all that are due). Safe to run
    any number of times: a conversation that was reopened, re-snoozed for later, or closed
    meanwhile is left alone."""
    due = await fetch(
        "SELECT id FROM conversations WHERE status = 'snoozed' AND snoozed_until <= now()"
        + (" AND id = $1" if conversation_id is not None else " ORDER BY snoozed_until LIMIT 1000"),
        *([conversation_id] if conversation_id is not None else []),
    )
    woken = []
    for row in due:
        async with in_transaction() as conn:
            rows = await conn.execute_query_dict(
                "UPDATE conversations SET status = 'open', snoozed_until = NULL, updated_at = now() "
                f"WHERE id = $1 AND status = 'snoozed' AND snoozed_until <= now() RETURNING {CONVERSATION_COLUMNS}",
                [row["id"]],
            )
            if not rows:
                continue
            conversation = conversation_view(dict(rows[0]))
            await record_activity(
                conn,
                row["id"],
                None,
                "status_changed",
                {"from": "snoozed", "to": "open", "reason": "snooze_ended"},
            )
            await emit(conn, INBOX, "CONVERSATION_UPDATED", {"conversation": conversation})
        woken.append(row["id"])
    if woken:
        committed()
    return woken


# ---- priority, labels ---------------------------------------------------------------------------


async def set_priority(actor: Actor | None, conversation_id: int, priority: Priority) -> dict[str, Any]:
    actor = require_user(actor)

    async def change(conn: BaseDBAsyncClient, current: dict[str, Any]) -> Any:
        if current["priority"] == priority.value:
            return None
        return (
            "priority = {}",
            [priority.value],
            "priority_changed",
            {"from": current["priority"], "to": priority.value},
        )

    return await _apply(actor, conversation_id, change)


def clean_labels(labels: list[str]) -> list[str]:
    out: list[str] = []
    for label in labels:
        label = " ".join(label.split())
        if not label or len(label) > MAX_LABEL_LENGTH:
            raise BadInput(f"labels must be 1 to {MAX_LABEL_LENGTH} characters", field="labels")
        if label.lower() not in (x.lower() for x in out):
            out.append(label)
    return out


async def change_labels(
    actor: Actor | None,
    conversation_id: int,
    *,
    add: list[str] = (),
    remove: list[str] = (),  # type: ignore[assignment]
) -> dict[str, Any]:
    actor = require_user(actor)
    to_add, to_remove = clean_labels(list(add)), {x.lower() for x in clean_labels(list(remove))}

    async def change(conn: BaseDBAsyncClient, current: dict[str, Any]) -> Any:
        labels = [x for x in current["labels"] if x.lower() not in to_remove]
        added = [x for x in to_add if x.lower() not in {y.lower() for y in labels}]
        labels += added
        removed = [x for x in current["labels"] if x.lower() in to_remove]
        if not added and not removed:
            return None
        if len(labels) > MAX_LABELS:
            raise BadInput(f"a conversation has at most {MAX_LABELS} labels", field="labels")
        return "labels = {}::text[]", [labels], "labels_changed", {"added": added, "removed": removed}

    conversation = await _apply(actor, conversation_id, change)
    if to_add:
        flow_hooks.conversation_event(conversation_id, "label_added", to_add)
    await roi.labels_added(conversation_id, to_add)  # labels configured as conversions
    if to_add and conversation["assignee_id"] is None:
        if await assignment.route_by_topic(conversation_id):
            _capacity_freed()
            conversation = (
                await fetch(
                    f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = $1", conversation_id
                )
            )[0]
            conversation = conversation_view(conversation)
    return conversation


# ---- transfer, escalation -----------------------------------------------------------------------


async def transfer(
    actor: Actor | None,
    conversation_id: int,
    *,
    reason: str,
    to_user_id: int | None = None,
    to_team_id: int | None = None,
) -> dict[str, Any]:
    """Hand a conversation to another agent, or to a team (it joins that team's queue and its
    strategy picks the agent), saying why. Agents transfer their own (or unassigned)
    conversations; supervisors any."""
    actor = require_user(actor)
    if not reason.strip():
        raise BadInput("a transfer needs a reason", field="reason")
    if (to_user_id is None) == (to_team_id is None):
        raise BadInput("transfer to a user or to a team", field="toUserId")
    target = await _active_user(to_user_id) if to_user_id is not None else await _team(to_team_id)  # type: ignore[arg-type]

    async def change(conn: BaseDBAsyncClient, current: dict[str, Any]) -> Any:
        if not actor.is_supervisor and current["assignee_id"] not in (None, actor.user_id):
            raise Forbidden("agents can only transfer conversations assigned to them")
        data = {
            "from_user_id": current["assignee_id"],
            "from_team_id": current["team_id"],
            "reason": reason.strip()[:500],
        }
        if current["assignee_id"] not in (None, actor.user_id):  # a supervisor overriding an assignment
            await audit.record(
                conn,
                actor,
                "conversation.transfer",
                "Conversation",
                current["id"],
                {"from_user_id": current["assignee_id"], "to_user_id": to_user_id, "to_team_id": to_team_id},
            )
        if to_user_id is not None:
            if current["assignee_id"] == to_user_id:
                raise BadInput("the conversation is already assigned to that user", field="toUserId")
            data.update(to_user_id=to_user_id, to_name=target["name"])
            return "assignee_id = {}, queued_at = NULL", [to_user_id], "transferred", data
        data.update(to_team_id=to_team_id, to_name=target["name"])
        return "assignee_id = NULL, team_id = {}, queued_at = now()", [to_team_id], "transferred", data

    conversation = await _apply(actor, conversation_id, change)
    _capacity_freed()
    return conversation


async def escalate(
    actor: Actor | None, conversation_id: int, *, reason: str, to_user_id: int | None = None
) -> dict[str, Any]:
    """Raise a conversation a tier: its escalation level goes up, its priority to at least high, and
    it goes to the given supervisor (or, with none given, unassigned into the supervisors' queue:
    filter `escalated: true`)."""
    actor = require_user(actor)
    if not reason.strip():
        raise BadInput("an escalation needs a reason", field="reason")
    if to_user_id is not None:
        target = await _active_user(to_user_id)
        if target["role"] not in (Role.SUPERVISOR.value, Role.ADMIN.value):
            raise BadInput("escalations go to a supervisor or an admin", field="toUserId")

    async def change(conn: BaseDBAsyncClient, current: dict[str, Any]) -> Any:
        priority = (
            current["priority"]
            if current["priority"] in (Priority.HIGH.value, Priority.URGENT.value)
            else Priority.HIGH.value
        )
        level = current["escalation_level"] + 1
        data = {
            "level": level,
            "from_user_id": current["assignee_id"],
            "to_user_id": to_user_id,
            "reason": reason.strip()[:500],
        }
        # Out of the agents' queue either way: an escalated conversation is for supervisors.
        return (
            "escalation_level = {}, priority = {}, assignee_id = {}, queued_at = NULL",
            [level, priority, to_user_id],
            "escalated",
            data,
        )

    conversation = await _apply(actor, conversation_id, change)
    _capacity_freed()
    return conversation


def _capacity_freed() -> None:
    assignment.request_drain()


async def _team(team_id: int) -> dict[str, Any]:
    rows = await fetch("SELECT id, name FROM teams WHERE id = $1", team_id)
    if not rows:
        raise NotFound(f"team {team_id} does not exist", field="toTeamId")
    return rows[0]


async def _active_user(user_id: int) -> dict[str, Any]:
    rows = await fetch("SELECT id, name, role FROM users WHERE id = $1 AND is_active", user_id)
    if not rows:
        raise NotFound(f"user {user_id} does not exist or is disabled", field="toUserId")
    return rows[0]


# ---- notes ---------------------------------------------------------------------------------------


async def add_note(
    actor: Actor | None, conversation_id: int, *, text: str, client_message_id: str
) -> dict[str, Any]:
    """An internal note: in the timeline for agents, never sent to the customer (the send job
    only picks outbound messages, the visitor API only inbound/outbound ones)."""
    actor = require_user(actor)
    if not text.strip() or len(text) > MAX_NOTE:
        raise BadInput(f"a note is 1 to {MAX_NOTE} characters", field="text")
    if not client_message_id.strip() or len(client_message_id) > 64:
        raise BadInput("clientMessageId must be 1 to 64 characters", field="clientMessageId")
    async with in_transaction() as conn:
        conv = await conn.execute_query_dict(
            "SELECT id, channel_id, platform, team_id, assignee_id FROM conversations WHERE id = $1",
            [conversation_id],
        )
        await visibility.visible_conversation(actor, conv[0] if conv else None, conversation_id)
        rows = await conn.execute_query_dict(
            "INSERT INTO messages (conversation_id, channel_id, platform, direction, kind, text, status, client_message_id, "
            "sender_id, attachments, metadata, created_at, send_attempts) "
            "VALUES ($1, $2, $3, 'note', 'text', $4, 'posted', $5, $6, '[]'::jsonb, '{}'::jsonb, now(), 0) "
            f"ON CONFLICT (sender_id, client_message_id) DO NOTHING RETURNING {MESSAGE_COLUMNS}",
            [
                conversation_id,
                conv[0]["channel_id"],
                conv[0]["platform"],
                body_for_write(text),
                client_message_id.strip(),
                actor.user_id,
            ],
        )
        if rows:
            note = message_view(rows[0])
            await emit(conn, conversation_stream(conversation_id), "MESSAGE_CREATED", {"message": note})
    if rows:
        committed()
        return note
    existing = await fetch(
        f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE sender_id = $1 AND client_message_id = $2",
        actor.user_id,
        client_message_id.strip(),
    )
    return message_view(existing[0])  # a retried call: the note stored the first time


# ---- bulk ----------------------------------------------------------------------------------------


@dataclass
class BulkResult:
    updated: list[dict[str, Any]]
    errors: list[tuple[int, DomainError]]


async def bulk_update(
    actor: Actor | None,
    conversation_ids: list[int],
    *,
    status: ConversationStatus | None = None,
    assignee_id: int | None = None,
    unassign: bool = False,
    add_labels: list[str] = (),  # type: ignore[assignment]
    remove_labels: list[str] = (),  # type: ignore[assignment]
    priority: Priority | None = None,
) -> BulkResult:
    """The same changes on many conversations, each in its own transaction: one conversation that
    cannot change (closed, forbidden, gone) is reported and does not hold the others back."""
    actor = require_user(actor)
    if not conversation_ids or len(conversation_ids) > MAX_BULK:
        raise BadInput(f"give 1 to {MAX_BULK} conversations", field="conversationIds")
    if status is ConversationStatus.SNOOZED:
        raise BadInput("snooze conversations one by one (each needs its time)", field="status")
    if assignee_id is not None and unassign:
        raise BadInput("assign or unassign, not both", field="assigneeId")
    if not any((status, assignee_id, unassign, add_labels, remove_labels, priority)):
        raise BadInput("nothing to change", field="conversationIds")
    result = BulkResult(updated=[], errors=[])
    for conversation_id in dict.fromkeys(conversation_ids):
        try:
            view: dict[str, Any] | None = None
            if assignee_id is not None or unassign:
                view = await conversations.assign(actor, conversation_id, None if unassign else assignee_id)
            if add_labels or remove_labels:
                view = await change_labels(
                    actor, conversation_id, add=list(add_labels), remove=list(remove_labels)
                )
            if priority is not None:
                view = await set_priority(actor, conversation_id, priority)
            if status is not None:
                view = await set_status(actor, conversation_id, status)
            if view is not None:
                result.updated.append(view)
        except DomainError as exc:
            result.errors.append((conversation_id, exc))
    return result
