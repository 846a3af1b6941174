"""Reading and steering conversations: the inbox list, one conversation's messages, assignment."""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from core.auth import Actor
from core.events import INBOX, committed, emit
from core.sql import fetch, in_transaction
from models import ConversationStatus, User
from resolvers import audit, flow_hooks
from resolvers.activities import record_activity
from resolvers.assignment import request_drain
from resolvers.auth import require_user
from resolvers.errors import BadInput, Forbidden, NotFound
from resolvers.shapes import (
    CONVERSATION_COLUMNS,
    CONVERSATION_KEYS,
    MESSAGE_COLUMNS,
    MESSAGE_KEYS,
    conversation_view,
    message_view,
)
from resolvers.visibility import scope_of, visible_conversation

MAX_PAGE = 100


@dataclass(frozen=True)
class ConversationFilter:
    statuses: tuple[ConversationStatus, ...] = ()
    assignee_id: int | None = None
    unassigned: bool = False
    channel_id: int | None = None
    platform: str | None = None
    labels: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    escalated: bool | None = None
    team_id: int | None = None
    since: datetime | None = None  # last activity at or after
    until: datetime | None = None  # last activity before
    unanswered: bool | None = None  # the last message is the customer's
    customer_id: int | None = None  # one customer's conversations (the customer panel)


def filter_to_json(filter: ConversationFilter) -> dict[str, Any]:
    """A filter as stored in a saved view (only what is set)."""
    out: dict[str, Any] = {}
    for key, value in asdict(filter).items():
        if value in (None, (), False):
            continue
        if key == "statuses":
            value = [str(s) for s in value]
        elif isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        out[key] = value
    return out


def filter_from_json(data: dict[str, Any]) -> ConversationFilter:
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key == "statuses":
            value = tuple(ConversationStatus(s) for s in value)
        elif key in ("since", "until"):
            value = datetime.fromisoformat(value)
        elif isinstance(value, list):
            value = tuple(value)
        values[key] = value
    return ConversationFilter(**values)


def filter_sql(filter: ConversationFilter, args: list[Any], alias: str = "c") -> list[str]:
    """WHERE conditions for a filter over `conversations AS {alias}`, appending their arguments:
    the inbox list, search and saved views' counts all filter through here."""

    def arg(value: object) -> str:
        args.append(value)
        return f"${len(args)}"

    c = alias
    where = []
    if filter.statuses:
        where.append(f"{c}.status = ANY({arg([s.value for s in filter.statuses])}::text[])")
    if filter.unassigned:
        where.append(f"{c}.assignee_id IS NULL")
    elif filter.assignee_id is not None:
        where.append(f"{c}.assignee_id = {arg(filter.assignee_id)}")
    if filter.channel_id is not None:
        where.append(f"{c}.channel_id = {arg(filter.channel_id)}")
    if filter.platform is not None:
        where.append(f"{c}.platform = {arg(filter.platform)}")
    if filter.labels:
        where.append(f"{c}.labels @> {arg(list(filter.labels))}::text[]")
    if filter.priorities:
        where.append(f"{c}.priority = ANY({arg(list(filter.priorities))}::text[])")
    if filter.escalated is not None:
        where.append(f"{c}.escalation_level > 0" if filter.escalated else f"{c}.escalation_level = 0")
    if filter.team_id is not None:
        where.append(f"{c}.team_id = {arg(filter.team_id)}")
    if filter.since is not None:
        where.append(f"{c}.last_message_at >= {arg(filter.since)}")
    if filter.until is not None:
        where.append(f"{c}.last_message_at < {arg(filter.until)}")
    if filter.unanswered is not None:
        customers_turn = (
            f"(SELECT lm.direction FROM messages lm WHERE lm.id = {c}.last_message_id) = 'inbound'"
        )
        where.append(customers_turn if filter.unanswered else f"NOT {customers_turn}")
    if filter.customer_id is not None:
        where.append(f"{c}.customer_id = {arg(filter.customer_id)}")
    return where


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    cursors: list[str]
    has_next: bool
    has_previous: bool
    related: dict[str, dict[int, Any]] | None = None  # list_conversations(with_related=True)


def _encode(*parts: object) -> str:
    return base64.urlsafe_b64encode("|".join(str(p) for p in parts).encode()).decode()


def _decode(cursor: str, arity: int) -> list[str]:
    try:
        parts = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadInput("cursor is not one this API returned", field="after") from exc
    if len(parts) != arity:
        raise BadInput("cursor is not one this API returned", field="after")
    return parts


def _page_size(first: int | None) -> int:
    size = 50 if first is None else first
    if not 0 < size <= MAX_PAGE:
        raise BadInput(f"page size must be between 1 and {MAX_PAGE}", field="first")
    return size


async def _page_statement(
    actor: Actor | None, first: int | None, after: str | None, filter: ConversationFilter
) -> tuple[str, list[Any], int]:
    """The page's SELECT of conversation rows (one more than the page, to tell whether there is
    a next), its arguments and the page size: newest activity first, keyset pagination on
    (last_message_at, id), only what the actor may see (resolvers/visibility.py)."""
    scope = await scope_of(actor)
    size = _page_size(first)
    args: list[Any] = []
    where = ["TRUE", *filter_sql(filter, args, "conversations")]
    visible = scope.sql(args, "conversations")
    if visible:
        where.append(visible)

    def arg(value: object) -> str:
        args.append(value)
        return f"${len(args)}"

    if after:
        ts, cid = _decode(after, 2)
        try:
            key = (datetime.fromisoformat(ts), int(cid))
        except ValueError as exc:
            raise BadInput("cursor is not one this API returned", field="after") from exc
        where.append(f"(last_message_at, id) < ({arg(key[0])}, {arg(key[1])})")
    page_sql = (
        f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE {' AND '.join(where)} "
        f"ORDER BY last_message_at DESC, id DESC LIMIT {size + 1}"
    )
    return page_sql, args, size


def _page(
    rows: list[dict[str, Any]], items: list[dict[str, Any]], size: int, after: str | None, **more: Any
) -> Page:
    return Page(
        items=items,
        cursors=[_encode(c["last_message_at"].isoformat(), c["id"]) for c in rows[:size]],
        has_next=len(rows) > size,
        has_previous=bool(after),
        **more,
    )


async def list_conversations(
    actor: Actor | None,
    *,
    first: int | None,
    after: str | None,
    filter: ConversationFilter,
    with_related: bool = False,
) -> Page:
    """Newest activity first; keyset pagination on (last_message_at, id). Only what the actor
    may see (resolvers/visibility.py). `with_related`: each row's customer, assignee and last
    message come in the same statement (`Page.related`), so the inbox is one statement."""
    page_sql, args, size = await _page_statement(actor, first, after, filter)
    related = None
    if with_related:
        # The page and each row's customer, assignee and last message in one statement: the same
        # columns the DataLoaders read (resolvers/loaders.py), split back into the same rows.
        rows = await fetch(f"{_RELATED_SELECT} FROM ({page_sql}) c {_RELATED_JOINS}", *args)
        related = _split_related(rows[:size])
    else:
        rows = await fetch(page_sql, *args)
    return _page(rows, [conversation_view(r) for r in rows[:size]], size, after, related=related)


async def list_conversations_selecting(
    actor: Actor | None,
    *,
    first: int | None,
    after: str | None,
    filter: ConversationFilter,
    columns: list[str],
    joins: str = "",
) -> Page:
    """The page of `list_conversations` (the same rows, order, cursors and visibility) with each
    item holding `columns` instead of the conversation's view: SQL expressions over the page's
    row `c` and what `joins` joins to it (the read path planner's, schema/planner/sql_json.py),
    as `col0`, `col1`, …"""
    page_sql, args, size = await _page_statement(actor, first, after, filter)
    selected = "".join(f", {column} AS col{i}" for i, column in enumerate(columns))
    rows = await fetch(
        f"SELECT c.id, c.last_message_at{selected} FROM ({page_sql}) c {joins} "
        "ORDER BY c.last_message_at DESC, c.id DESC",
        *args,
    )
    return _page(rows, rows[:size], size, after)


# What `list_conversations(with_related=True)` joins to each row of the page, and the columns of
# each: exactly the DataLoaders' (customers_by_id, users_by_id, messages_by_id).
_RELATED = (
    ("customer", "cu", "customers", "customer_id", ("id", "name", "phone", "email")),
    (
        "assignee",
        "u",
        "users",
        "assignee_id",
        (
            "id",
            "email",
            "name",
            "role",
            "is_active",
            "presence",
            "capacity",
            "skills",
            "sees_all_conversations",
        ),
    ),
    (
        "last_message",
        "m",
        "messages",
        "last_message_id",
        MESSAGE_KEYS,
    ),
)
_RELATED_SELECT = "SELECT " + ", ".join(
    [
        *(f"c.{c}" for c in CONVERSATION_KEYS),
        *(f'{alias}.{c} AS "{name}.{c}"' for name, alias, _, _, columns in _RELATED for c in columns),
    ]
)
# LATERAL … OFFSET 0: an index lookup per row of the page. As plain joins PostgreSQL's cost model
# hashes the whole customers table for 50 rows (2.5 ms instead of 0.5 on 10,000 customers).
_RELATED_JOINS = (
    " ".join(
        f"LEFT JOIN LATERAL (SELECT * FROM {table} WHERE id = c.{key} OFFSET 0) {alias} ON TRUE"
        for _, alias, table, key, _ in _RELATED
    )
    + " ORDER BY c.last_message_at DESC, c.id DESC"
)


# (name, the page's column referring to it, [(column, its key in the joined row)]), built once.
_SPLIT = tuple(
    (name, key, tuple((c, f"{name}.{c}") for c in columns)) for name, _, _, key, columns in _RELATED
)


def _split_related(rows: list[dict[str, Any]]) -> dict[str, dict[int, Any]]:
    """{"customer"|"assignee"|"last_message": {id: row, or None when no row has that id}}, for
    the ids the page refers to (None ids left out), rows shaped as the DataLoaders shape them."""
    related: dict[str, dict[int, Any]] = {name: {} for name, *_ in _RELATED}
    for name, key, pairs in _SPLIT:
        found = related[name]
        id_key = f"{name}.id"
        for r in rows:
            ref = r[key]
            if ref is None or ref in found:
                continue
            found[ref] = None if r[id_key] is None else {c: r[joined] for c, joined in pairs}
    related["last_message"] = {
        k: message_view(v) if v is not None else None for k, v in related["last_message"].items()
    }
    return related


async def get_conversation(actor: Actor | None, conversation_id: int) -> dict[str, Any]:
    """One conversation the actor may see; NOT_FOUND as well for one they may not."""
    rows = await fetch(f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = $1", conversation_id)
    await visible_conversation(actor, rows[0] if rows else None, conversation_id, field=None)
    return conversation_view(rows[0])


async def list_messages(
    conversation_id: int, *, first: int | None, after: str | None, last: int | None, before: str | None
) -> Page:
    """Oldest→newest within the page. `last`/`before` walk back from the newest (the chat view)."""
    if first is not None and last is not None:
        raise BadInput("pass either first or last, not both", field="first")
    backwards = last is not None or (first is None and after is None)
    size = _page_size(last if backwards else first)
    args: list[object] = [conversation_id]
    cond = ""
    cursor = before if backwards else after
    if cursor:
        (mid,) = _decode(cursor, 1)
        if not mid.isdigit():
            raise BadInput("cursor is not one this API returned", field="before" if backwards else "after")
        args.append(int(mid))
        cond = f" AND id {'<' if backwards else '>'} $2"
    order = "DESC" if backwards else "ASC"
    rows = await fetch(
        f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1{cond} ORDER BY id {order} LIMIT {size + 1}",
        *args,
    )
    more = len(rows) > size
    items = [message_view(r) for r in rows[:size]]
    if backwards:
        items.reverse()
    return Page(
        items=items,
        cursors=[_encode(m["id"]) for m in items],
        has_next=more if not backwards else bool(before),
        has_previous=more if backwards else bool(after),
    )


async def assign(actor: Actor | None, conversation_id: int, user_id: int | None) -> dict[str, Any]:
    """Agents may take a conversation or let go of their own; supervisors assign anyone."""
    actor = require_user(actor)
    if not actor.is_supervisor and user_id not in (None, actor.user_id):
        raise Forbidden("agents can only assign conversations to themselves")
    if user_id is not None and not await User.filter(id=user_id, is_active=True).exists():
        raise NotFound(f"user {user_id} does not exist or is disabled")
    async with in_transaction() as conn:
        rows = await conn.execute_query_dict(
            f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = $1 FOR UPDATE", [conversation_id]
        )
        await visible_conversation(actor, rows[0] if rows else None, conversation_id, field=None)
        if (
            not actor.is_supervisor
            and user_id is None
            and rows[0]["assignee_id"] not in (None, actor.user_id)
        ):
            raise Forbidden("agents can only unassign their own conversations")
        previous = rows[0]["assignee_id"]
        rows = await conn.execute_query_dict(
            # Let go of → back in the assignment queue; taken → out of it.
            "UPDATE conversations SET assignee_id = $2, "
            "queued_at = CASE WHEN $2::int IS NULL AND team_id IS NOT NULL THEN COALESCE(queued_at, now()) END, "
            f"updated_at = now() WHERE id = $1 RETURNING {CONVERSATION_COLUMNS}",
            [conversation_id, user_id],
        )
        conversation = conversation_view(dict(rows[0]))
        if previous != user_id:
            await record_activity(
                conn,
                conversation_id,
                actor.user_id,
                "assigned" if user_id is not None else "unassigned",
                {"from_user_id": previous, "to_user_id": user_id, "strategy": "manual"},
            )
            if _overrides(actor, previous, user_id):
                await audit.record(
                    conn,
                    actor,
                    "conversation.assign",
                    "Conversation",
                    conversation_id,
                    {"from_user_id": previous, "to_user_id": user_id},
                )
        await emit(conn, INBOX, "CONVERSATION_UPDATED", {"conversation": conversation})
    committed()
    request_drain()  # capacity moved: someone may take a queued conversation now
    if user_id is not None and previous != user_id:
        await flow_hooks.hand_off(conversation_id, actor.user_id, "agent_took")  # the bot steps back
    return conversation


def _overrides(actor: Actor, previous: int | None, assignee: int | None) -> bool:
    """A supervisor's hand on someone else's assignment (not taking or leaving one's own)."""
    return previous != assignee and (
        assignee not in (None, actor.user_id) or previous not in (None, actor.user_id)
    )


async def mark_read(actor: Actor | None, conversation_id: int) -> dict[str, Any]:
    await get_conversation(actor, conversation_id)  # one the actor may see
    async with in_transaction() as conn:
        rows = await conn.execute_query_dict(
            f"UPDATE conversations SET unread_count = 0 WHERE id = $1 RETURNING {CONVERSATION_COLUMNS}",
            [conversation_id],
        )
        if not rows:
            raise NotFound(f"conversation {conversation_id} does not exist")
        conversation = conversation_view(dict(rows[0]))
        await emit(conn, INBOX, "CONVERSATION_UPDATED", {"conversation": conversation})
    committed()
    return conversation
