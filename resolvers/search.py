"""Search conversations by what was said and by who the customer is, with the inbox's filters,
ranked by relevance or by recency, paged with keyset cursors; and agents' saved views.

Text matches (PostgreSQL full-text, Portuguese and English stemming, accents folded; see
migrations/models/8_*) rank by `ts_rank_cd`; a match on the customer's name, phone, e-mail or a
platform identity (substring, trigram-indexed where pg_trgm exists) ranks above any text match:
someone typing a name or number means that person.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from core.auth import Actor
from core.sql import fetch
from resolvers.auth import require_user
from resolvers.conversations import ConversationFilter, filter_from_json, filter_sql, filter_to_json
from resolvers.errors import BadInput, Conflict, NotFound
from resolvers.shapes import conversation_columns, conversation_view
from resolvers.visibility import Scope, scope_of

MAX_QUERY = 200
MAX_PAGE = 100
IDENTITY_RANK = 10.0  # above any ts_rank_cd a message can reach


@dataclass
class SearchPage:
    items: list[dict[str, Any]] = field(default_factory=list)  # conversation views + rank, message_id
    cursors: list[str] = field(default_factory=list)
    has_next: bool = False


def _cursor(*parts: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(parts)).decode()


def _uncursor(cursor: str) -> list[Any]:
    try:
        return orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise BadInput("cursor is not one this API returned", field="after") from exc


async def search(
    actor: Actor | None,
    text: str,
    *,
    filter: ConversationFilter,
    by_recency: bool = False,
    first: int = 20,
    after: str | None = None,
) -> SearchPage:
    scope = await scope_of(actor)
    text = " ".join(text.split())
    if not text:
        raise BadInput("say what to search for", field="query")
    if len(text) > MAX_QUERY:
        raise BadInput(f"a search is at most {MAX_QUERY} characters", field="query")
    if not 0 < first <= MAX_PAGE:
        raise BadInput(f"page size must be between 1 and {MAX_PAGE}", field="first")
    # Substring matching on people needs three characters: fewer matches everyone and no index helps.
    pattern = f"%{_like_escape(text)}%" if len(text) >= 3 else None  # LIKE NULL matches nothing
    args: list[Any] = [text, pattern]
    where = filter_sql(filter, args)
    visible = scope.sql(args, "c")
    if visible:  # applied to the common-word window too, so it holds only visible conversations
        where.append(visible)
    order = "c.last_message_at DESC, c.id DESC" if by_recency else "h.rank DESC, c.id DESC"
    cursor_condition = None
    if after:
        key = _uncursor(after)
        try:
            if by_recency:
                args += [datetime.fromisoformat(key[0]), int(key[1])]
                cursor_condition = f"(c.last_message_at, c.id) < (${len(args) - 1}, ${len(args)})"
            else:
                args += [float(key[0]), int(key[1])]
                cursor_condition = f"(h.rank, c.id) < (${len(args) - 1}::real, ${len(args)})"
        except (IndexError, TypeError, ValueError) as exc:
            raise BadInput("cursor is not one this API returned", field="after") from exc
    if await _is_common(text):
        # A word in a good share of all messages: ranking every match would read them all. Look
        # in the newest WIDE_WINDOW conversations that pass the filters instead, message by
        # message through the (conversation_id, id) index (for recency that is exact; for
        # relevance it ranks the recent ones, which is what agents want).
        window_where = list(where) + ([cursor_condition] if by_recency and cursor_condition else [])
        # (OFFSET 0 keeps PostgreSQL from flattening the per-conversation lookup into one big
        # scan of every match, which is the very thing this path avoids.)
        message_hits = (
            f"SELECT m.conversation_id, ts_rank_cd(m.search_tsv, {_TSQUERY.format('$1')}) AS rank, m.id AS message_id "
            "FROM (SELECT c.id FROM conversations c "
            f"{'WHERE ' + ' AND '.join(window_where) if window_where else ''} "
            f"ORDER BY c.last_message_at DESC, c.id DESC LIMIT {WIDE_WINDOW}) w "
            "JOIN LATERAL (SELECT m.id, m.conversation_id, m.search_tsv FROM messages m "
            "WHERE m.conversation_id = w.id OFFSET 0) m ON true "
            f"WHERE m.search_tsv @@ {_TSQUERY.format('$1')}"
        )
    else:
        message_hits = (
            f"SELECT m.conversation_id, ts_rank_cd(m.search_tsv, {_TSQUERY.format('$1')}) AS rank, m.id AS message_id "
            f"FROM messages m WHERE m.search_tsv @@ {_TSQUERY.format('$1')}"
        )
    if cursor_condition:
        where.append(cursor_condition)
    columns = conversation_columns("c")
    rows = await fetch(
        f"""
        WITH hits AS (
            {message_hits}
            UNION ALL
            SELECT c.id, {IDENTITY_RANK}::real, NULL FROM customers cu JOIN conversations c ON c.customer_id = cu.id
             WHERE cu.search_text LIKE pytake_fold($2)
            UNION ALL
            SELECT c.id, {IDENTITY_RANK}::real, NULL FROM customer_identities i
              JOIN conversations c ON c.customer_id = i.customer_id
             WHERE i.search_text LIKE pytake_fold($2)
        ), h AS (
            SELECT conversation_id, max(rank)::real AS rank, max(message_id) AS message_id FROM hits GROUP BY conversation_id
        )
        SELECT {columns}, h.rank, h.message_id FROM h JOIN conversations c ON c.id = h.conversation_id
        {"WHERE " + " AND ".join(where) if where else ""}
        ORDER BY {order} LIMIT {first + 1}
        """,
        *args,
    )
    page = SearchPage(has_next=len(rows) > first)
    for row in rows[:first]:
        view = conversation_view(row)
        view["rank"], view["message_id"] = row["rank"], row["message_id"]
        page.items.append(view)
        key = (view["last_message_at"].isoformat(), view["id"]) if by_recency else (row["rank"], view["id"])
        page.cursors.append(_cursor(*key))
    return page


_TSQUERY = "(websearch_to_tsquery('portuguese', pytake_fold({0})) || websearch_to_tsquery('english', pytake_fold({0})))"
COMMON_MATCHES = 2000  # more messages than this match: search the newest conversations only
WIDE_WINDOW = 1000


async def _is_common(text: str) -> bool:
    """Does the text match more than COMMON_MATCHES messages? Counting stops at the threshold, so
    this costs the same for a word in every message as for one in two thousand."""
    rows = await fetch(
        f"SELECT count(*) AS n FROM (SELECT 1 FROM messages WHERE search_tsv @@ {_TSQUERY.format('$1')} "
        f"LIMIT {COMMON_MATCHES + 1}) x",
        text,
    )
    return rows[0]["n"] > COMMON_MATCHES


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# ---- saved views --------------------------------------------------------------------------------

VIEW_COLUMNS = "id, user_id, name, query, filter, position, created_at"
MAX_VIEWS = 50


def view_row(row: dict[str, Any]) -> dict[str, Any]:
    view = dict(row)
    if isinstance(view["filter"], str):
        view["filter"] = orjson.loads(view["filter"])
    view["rule"] = filter_from_json(view["filter"])
    return view


async def save_view(
    actor: Actor | None, *, name: str, query: str | None, filter: ConversationFilter
) -> dict[str, Any]:
    """A named filter (and optional search text) an agent comes back to."""
    actor = require_user(actor)
    if not name.strip() or len(name) > 120:
        raise BadInput("a view's name is 1 to 120 characters", field="name")
    count = await fetch("SELECT count(*) AS n FROM saved_views WHERE user_id = $1", actor.user_id)
    if count[0]["n"] >= MAX_VIEWS:
        raise BadInput(f"at most {MAX_VIEWS} saved views", field="name")
    rows = await fetch(
        "INSERT INTO saved_views (user_id, name, query, filter, position, created_at) "
        "VALUES ($1, $2, $3, $4::jsonb, $5, now()) ON CONFLICT (user_id, name) DO NOTHING "
        f"RETURNING {VIEW_COLUMNS}",
        actor.user_id,
        name.strip(),
        (query or "").strip() or None,
        orjson.dumps(filter_to_json(filter)).decode(),
        count[0]["n"],
    )
    if not rows:
        raise Conflict(f"you already have a view named {name.strip()!r}", field="name")
    return view_row(rows[0])


async def delete_view(actor: Actor | None, view_id: int) -> bool:
    actor = require_user(actor)
    rows = await fetch(
        "DELETE FROM saved_views WHERE id = $1 AND user_id = $2 RETURNING id", view_id, actor.user_id
    )
    if not rows:
        raise NotFound(f"view {view_id} does not exist", field="id")
    return True


async def list_views(actor: Actor | None) -> list[dict[str, Any]]:
    actor = require_user(actor)
    rows = await fetch(
        f"SELECT {VIEW_COLUMNS} FROM saved_views WHERE user_id = $1 ORDER BY position, id", actor.user_id
    )
    return [view_row(r) for r in rows]


async def count_conversations(scope: Scope, filter: ConversationFilter, query: str | None) -> int:
    """How many conversations a view shows right now (a search view: how many match), of those
    `scope` may see."""
    args: list[Any] = []
    where = filter_sql(filter, args)
    visible = scope.sql(args, "c")
    if visible:
        where.append(visible)
    condition = " AND ".join(where) if where else "TRUE"
    if query:
        args += [query, f"%{_like_escape(query)}%"]
        q, pattern = f"${len(args) - 1}", f"${len(args)}"
        condition += (
            f" AND (EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.search_tsv @@ "
            f"{_TSQUERY.format(q)})"
            f" OR EXISTS (SELECT 1 FROM customers cu WHERE cu.id = c.customer_id AND cu.search_text LIKE pytake_fold({pattern}))"
            f" OR EXISTS (SELECT 1 FROM customer_identities i WHERE i.customer_id = c.customer_id "
            f"AND i.search_text LIKE pytake_fold({pattern})))"
        )
    rows = await fetch(f"SELECT count(*) AS n FROM conversations c WHERE {condition}", *args)
    return rows[0]["n"]
