"""Search conversations by what was said and by who the customer is, with the inbox's filters,
ranked by relevance or by recency, paged with keyset cursors; and agents' saved views.

Text matches (PostgreSQL full-text, Portuguese and English stemming, accents folded; see
migrations/models/8_*) rank by `ts_rank_cd`; a match on the customer's name, phone, e-mail or a
platform identity (substring, trigram-indexed where pg_trgm exists) ranks above any text match:
someone typing a name or number means that person.

What is ranked, at any size of the messages table: the newest CANDIDATES matching messages in the
conversations the filters and the agent's visibility admit (for most searches that is every
match; for a word in many messages, the recent ones, which is what agents want). Newest first
is exact. How the matches are found depends on how common the text is, which one cheap
statement tells from the newest PROBE_ROWS messages:

- a common word is in most messages: walking the newest messages (or, newest first, the newest
  conversations) in index order finds what the page needs after a few hundred rows, where the
  GIN index would hand over millions;
- anything else goes through the GIN index, id ranges newest first, so a word in thousands of
  messages reads the rows of its newest CANDIDATES matches, not all of them.

Then one statement joins the candidates with the people matches, the filters and the cursor.
"""

from __future__ import annotations

import base64
import itertools
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from core.auth import Actor
from core.sql import fetch
from resolvers.auth import require_user
from resolvers.conversations import ConversationFilter, filter_from_json, filter_sql, filter_to_json
from resolvers.errors import BadInput, Conflict, NotFound
from resolvers.shapes import MESSAGE_KEYS, conversation_columns, conversation_view, message_view
from resolvers.visibility import Scope, scope_of

MAX_QUERY = 200
MAX_PAGE = 100
IDENTITY_RANK = 10.0  # above any ts_rank_cd a message can reach


@dataclass
class SearchPage:
    items: list[dict[str, Any]] = field(default_factory=list)  # conversation views + rank, message_id
    cursors: list[str] = field(default_factory=list)
    has_next: bool = False
    # The page's customers and matched messages, read by the same statement (as the loaders
    # would give them: resolvers/loaders.py), so showing them costs no statement of its own.
    customers: dict[int, dict[str, Any]] = field(default_factory=dict)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)


_SHOWN = ", ".join(
    [f'cu.{k} AS "customer.{k}"' for k in ("id", "name", "phone", "email")]
    + [f'mm.{k} AS "matched.{k}"' for k in MESSAGE_KEYS]
)


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
    key: tuple[Any, int] | None = None
    if after:
        parts = _uncursor(after)
        try:
            key = (datetime.fromisoformat(parts[0]) if by_recency else float(parts[0]), int(parts[1]))
        except (IndexError, TypeError, ValueError) as exc:
            raise BadInput("cursor is not one this API returned", field="after") from exc
    probe = (await fetch(_PROBE, text))[0]
    common = probe["recent"] >= COMMON_HITS
    args: list[Any] = []
    where = filter_sql(filter, args)
    visible = scope.sql(args, "c")
    if visible:  # in every candidate set too, so each holds only visible conversations
        where.append(visible)
    if by_recency and key:  # in the order conversations are walked in: it bounds the walk too
        args += list(key)
        where.append(f"(c.last_message_at, c.id) < (${len(args) - 1}, ${len(args)})")
    # The tsquery, parsed once (a generic plan would otherwise parse the text on every row); last
    # of the arguments `where` needs, so a statement without it passes args[:-1].
    args.append(probe["query"])
    q = f"${len(args)}::tsquery"
    if by_recency:
        candidates = await _newest_candidates(q, where, list(args), first, common)
        order = "c.last_message_at DESC, c.id DESC"
        final_where = where
    else:
        candidates = await _relevant_candidates(
            q, where, list(args), probe["top"] or 0, probe["recent"], probe["query"]
        )
        order = "h.rank DESC, c.id DESC"
        final_where = list(where)
    if isinstance(candidates, list):  # rows found by a statement of their own: passed back in
        args.pop()  # (instead of the tsquery, which the final statement then does not use)
        args += [
            [r["conversation_id"] for r in candidates],
            [r["rank"] for r in candidates],
            [r["message_id"] for r in candidates],
        ]
        n = len(args)
        candidates = (
            f"candidates AS (SELECT * FROM unnest(${n - 2}::int[], ${n - 1}::real[], ${n}::bigint[]) "
            "AS t(conversation_id, rank, message_id))"
        )
    if key and not by_recency:  # in rank order: for the final statement only
        args += list(key)
        final_where.append(f"(h.rank, c.id) < (${len(args) - 1}::real, ${len(args)})")
    # The pattern is written into the statement, not passed: with it as a parameter, PostgreSQL
    # switches the statement to a generic plan after five runs on a connection, which scans every
    # customer and identity for an unknown pattern (bench/search, 1M customers: 570 ms, not 1 ms).
    people = f"pytake_fold({_literal(pattern)}::text)" if pattern is not None else "NULL::text"
    rows = await fetch(
        f"""
        WITH {candidates},
        hits AS (
            SELECT conversation_id, rank, message_id FROM candidates
            UNION ALL
            SELECT c.id, {IDENTITY_RANK}::real, NULL FROM customers cu JOIN conversations c ON c.customer_id = cu.id
             WHERE cu.search_text LIKE {people}
            UNION ALL
            SELECT c.id, {IDENTITY_RANK}::real, NULL FROM customer_identities i
              JOIN conversations c ON c.customer_id = i.customer_id
             WHERE i.search_text LIKE {people}
        ), h AS (
            SELECT conversation_id, max(rank)::real AS rank, max(message_id) AS message_id FROM hits GROUP BY conversation_id
        ), page AS (
            SELECT {conversation_columns("c")}, h.rank, h.message_id FROM h JOIN conversations c ON c.id = h.conversation_id
            {"WHERE " + " AND ".join(final_where) if final_where else ""}
            ORDER BY {order} LIMIT {first + 1}
        )
        SELECT p.*, {_SHOWN} FROM page p LEFT JOIN customers cu ON cu.id = p.customer_id
          LEFT JOIN messages mm ON mm.id = p.message_id
        ORDER BY {order.replace("c.", "p.").replace("h.", "p.")}
        """,
        *args,
    )
    page = SearchPage(has_next=len(rows) > first)
    for row in rows[:first]:
        view = conversation_view(row)
        view["rank"], view["message_id"] = row["rank"], row["message_id"]
        page.items.append(view)
        if row["customer.id"] is not None:
            page.customers[row["customer.id"]] = {
                k: row[f"customer.{k}"] for k in ("id", "name", "phone", "email")
            }
        if row["matched.id"] is not None:
            page.messages[row["matched.id"]] = message_view({k: row[f"matched.{k}"] for k in MESSAGE_KEYS})
        key = (view["last_message_at"].isoformat(), view["id"]) if by_recency else (row["rank"], view["id"])
        page.cursors.append(_cursor(*key))
    return page


_TSQUERY = "(websearch_to_tsquery('portuguese', pytake_fold({0})) || websearch_to_tsquery('english', pytake_fold({0})))"


def _walked(q: str) -> str:
    """The text test where the GIN index must not be used: a walk in index order that stops
    early reads far fewer rows than the index would hand over for a word in many messages."""
    return f"coalesce(m.search_tsv, ''::tsvector) @@ {q}"


# The tsquery, how many of the newest PROBE_ROWS messages match it, and the newest id. The text
# itself, not its words, decides: "size address" is two words in 5 % of messages each, in 0.25 %
# together, and a walk for its newest 200 matches would read 80,000 rows (1M messages: 100 ms
# under load) where the index reads the lists of its words and the rows of its matches.
PROBE_ROWS = 1000
COMMON_HITS = 20  # 2 %: a text this common is found sooner by walking than through the index
_PROBE = (
    f"/* probe */ WITH q AS MATERIALIZED (SELECT {_TSQUERY.format('$1')} AS q) "
    "SELECT q.q::text AS query, (SELECT max(id) FROM messages) AS top, n.recent FROM q "
    "CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE m.search_tsv @@ q.q) AS recent "
    f"FROM (SELECT m.search_tsv FROM messages m ORDER BY m.id DESC LIMIT {PROBE_ROWS}) m) n"
)
# Relevance ranks the newest CANDIDATES matching messages (of conversations the filters admit).
CANDIDATES = 200
WALK_ROWS = 30_000  # a common text: its candidates among the newest messages, walked...
MIN_WALK_HITS = 21  # ...unless that finds fewer (the filters admit few): then it is looked for
WIDE_WINDOW = 1000  # in the newest conversations the filters admit.
# Any other text: through the index, newest id ranges first, so a word in thousands of messages
# reads the heap rows of its newest CANDIDATES matches only.
LADDER = (50_000, 400_000, 3_200_000)
# A range's matches are all read (and their pages rechecked: ANDed with the BRIN range the bitmap
# is lossy), so the ranges are widened for a text the probe saw: its first range then likely holds
# LADDER_SLACK times CANDIDATES matches, instead of a few in the first and thousands in the next.
LADDER_SLACK = 1.5
RECENT_CONVERSATIONS = 2000  # newest-first order walks this many conversations at most


def _admitted(where: list[str]) -> str:
    """A lateral join keeping messages whose conversation passes `where` (one primary key
    lookup per message; OFFSET 0 keeps it a nested loop that preserves the walk's order)."""
    if not where:
        return ""
    return (
        "CROSS JOIN LATERAL (SELECT 1 FROM conversations c WHERE c.id = m.conversation_id AND "
        f"{' AND '.join(where)} OFFSET 0) admitted"
    )


def _ranked(q: str, found: str) -> str:
    """Rows (conversation_id, rank, message_id) of the messages `found` selects, ranked only
    once chosen."""
    return (
        f"SELECT f.conversation_id, ts_rank_cd(f.search_tsv, {q})::real AS rank, f.id AS message_id "
        f"FROM ({found}) f"
    )


async def _relevant_candidates(
    q: str, where: list[str], args: list[Any], top: int, recent: int, query: str
) -> list[dict[str, Any]]:
    """The newest CANDIDATES matching messages in conversations `where` admits, ranked (for a
    common text, walked: its matches among the newest WALK_ROWS messages, or in the newest
    conversations the filters admit)."""
    args.append(top)
    newest = f"${len(args)}::bigint"
    known, messages = await _word_frequencies()
    estimate = _density(query, known)
    if recent >= COMMON_HITS or _walk_is_cheaper(query, known, messages, estimate):
        rows = await fetch(
            _ranked(
                q,
                f"/* newest matches walked */ SELECT m.id, m.conversation_id, m.search_tsv FROM messages m {_admitted(where)} "
                f"WHERE m.id > {newest} - {WALK_ROWS} AND {_walked(q)} ORDER BY m.id DESC LIMIT {CANDIDATES}",
            ),
            *args,
        )
        if len(rows) >= MIN_WALK_HITS:
            return rows
    if recent >= COMMON_HITS:
        # The filters admit few of the newest messages' conversations: search the newest
        # conversations they admit instead, each one's messages through (conversation_id, id).
        # (OFFSET 0 keeps PostgreSQL from flattening that into one scan of every match.)
        args.pop()  # (no newest id in this one)
        conversations = f"WHERE {' AND '.join(where)}" if where else ""
        return await fetch(
            _ranked(
                q,
                "/* newest conversations */ SELECT m.id, m.conversation_id, m.search_tsv "
                f"FROM (SELECT c.id FROM conversations c {conversations} "
                f"ORDER BY c.last_message_at DESC, c.id DESC LIMIT {WIDE_WINDOW}) w "
                "CROSS JOIN LATERAL (SELECT m.id, m.conversation_id, m.search_tsv FROM messages m "
                "WHERE m.conversation_id = w.id OFFSET 0) m "
                f"WHERE {_walked(q)} ORDER BY m.id DESC LIMIT {CANDIDATES}",
            ),
            *args,
        )
    density = estimate
    if estimate is None or (recent >= TRENDING and recent / PROBE_ROWS > 3 * estimate):
        density = recent / PROBE_ROWS  # no statistics, or the newest messages say otherwise
    if estimate == 0.0 and recent < TRENDING:
        # The text needs a word outside the statistics' common ones: all its matches are few, and
        # one range (the whole table) reads them exactly (ANDed with a BRIN range, the bitmap is
        # lossy: every row of a matching page is rechecked), through the index once.
        bounds = ["TRUE"]
        args.pop()  # (no newest id in this one)
    else:
        ladder = _ladder(density or 0.0)
        bounds = [f"m.id > {newest} - {ladder[0]}"]
        bounds += [
            f"m.id <= {newest} - {newer} AND m.id > {newest} - {older}"
            for newer, older in itertools.pairwise(ladder)
        ]
        bounds.append(f"m.id <= {newest} - {ladder[-1]}")
    # Each range sorted on its own, newest range first: the append stops once it has CANDIDATES.
    # (id + 0: the order must not come from walking the primary key, which for a rare word
    # would read the whole table.)
    ranges = " UNION ALL ".join(
        f"(SELECT m.id, m.conversation_id, m.search_tsv FROM messages m {_admitted(where)} "
        f"WHERE m.search_tsv @@ {q} AND {bound} ORDER BY m.id + 0 DESC)"
        for bound in bounds
    )
    return await fetch(
        _ranked(q, f"/* id ranges */ SELECT * FROM ({ranges}) ranges LIMIT {CANDIDATES}"), *args
    )


def _ladder(density: float) -> tuple[int, ...]:
    """LADDER, scaled so the first range likely holds LADDER_SLACK * CANDIDATES matches of a text
    in `density` of the messages (0: unknown)."""
    if density <= 0 or LADDER_SLACK <= 0:
        return LADDER
    scale = max(1.0, CANDIDATES * LADDER_SLACK / density / LADDER[0])
    return tuple(int(bound * scale) for bound in LADDER)


# How common a text is over the whole table, from the statistics ANALYZE keeps on the words of
# `messages.search_tsv` (the most common ones and their frequencies; any other word is rarer than
# those), read at most once every STATS_SECONDS per process. The probe's 1,000 messages cannot
# tell 0.25 % from 0.05 %.
STATS_SECONDS = 300.0
TRENDING = 5  # this many of the probe's messages: the newest messages tell more than the statistics
_stats: tuple[float, dict[str, float], float] = (-STATS_SECONDS, {}, 0.0)
# A rare text of common words (two words in 5 % of messages each, together in 0.25 %): the index
# reads the whole lists of its words (and rechecks the pages of its matches), a walk reads
# CANDIDATES / density rows (at most WALK_ROWS): whichever reads less. bench/search, load ~7:
# 30,000 rows walked 14 ms at 10M messages; 166,000 index entries (1M) 36 ms, 1.66M (10M) ~200 ms.
WALK_COST = 3  # index entries read in the time one row is walked
_TOKEN_WORDS = re.compile(r"'((?:[^']|'')*)'")
_TOKEN = re.compile(r"'((?:[^']|'')*)'(?::[*A-D]+)?|<\d*-?>|[&|!()]")


async def _word_frequencies() -> tuple[dict[str, float], float]:
    """The most common words' frequencies, and about how many messages there are."""
    global _stats
    if time.monotonic() - _stats[0] >= STATS_SECONDS:
        rows = await fetch(
            "SELECT s.most_common_elems::text::text[] AS words, s.most_common_elem_freqs AS freqs, "
            "greatest(c.reltuples, 0)::float8 AS messages FROM pg_class c LEFT JOIN pg_stats s "
            "ON s.tablename = 'messages' AND s.attname = 'search_tsv' AND s.schemaname = current_schema() "
            "WHERE c.oid = 'messages'::regclass"
        )
        row = rows[0] if rows else {"words": None, "freqs": None, "messages": 0.0}
        words, freqs = (row["words"], row["freqs"]) if row["words"] else ([], [])
        _stats = (time.monotonic(), dict(zip(words, freqs[: len(words)], strict=True)), row["messages"])
    return _stats[1], _stats[2]


def _walk_is_cheaper(query: str, known: dict[str, float], messages: float, density: float | None) -> bool:
    if not density:
        return False
    entries = messages * sum(known.get(word, 0.0) for word in set(_TOKEN_WORDS.findall(query)))
    return WALK_COST * min(WALK_ROWS, CANDIDATES / density) < entries


def _density(query: str, known: dict[str, float]) -> float | None:
    """The share of messages matching a tsquery (its text form), words taken as independent: a
    word its frequency (0 outside the common ones), AND and phrase the product, OR the larger side
    (the Portuguese and the English stems of one word are two sides of an OR: mostly the same
    messages), NOT 1 - x. None without statistics."""
    if not known:
        return None
    tokens = [
        (True, m.group(1).replace("''", "'")) if m.group(1) is not None else (False, m.group(0))
        for m in _TOKEN.finditer(query)
    ]
    position = 0

    def operator() -> str | None:
        return tokens[position][1] if position < len(tokens) and not tokens[position][0] else None

    def either() -> float:  # a | b
        nonlocal position
        value = both()
        while operator() == "|":
            position += 1
            value = max(value, both())
        return value

    def both() -> float:  # a & b, a <-> b
        nonlocal position
        value = single()
        while (op := operator()) is not None and (op == "&" or op.startswith("<")):
            position += 1
            value *= single()
        return value

    def single() -> float:
        nonlocal position
        is_word, token = tokens[position]
        position += 1
        if is_word:
            return known.get(token, 0.0)
        if token == "!":
            return 1.0 - single()
        value = either()  # "("
        position += 1  # ")"
        return value

    try:
        return min(1.0, either()) if tokens else 0.0
    except (IndexError, RecursionError):
        return None


async def _newest_candidates(
    q: str, where: list[str], args: list[Any], first: int, common: bool
) -> list[dict[str, Any]] | str:
    """The first + 1 newest conversations `where` admits with a matching message, with their
    best rank and newest matching message: found by a statement of their own (rows), or a CTE for
    the final statement that finds every matching conversation (exact either way)."""
    every = (
        "candidates AS MATERIALIZED (/* every match */ SELECT m.conversation_id, "
        f"max(ts_rank_cd(m.search_tsv, {q}))::real AS rank, max(m.id) AS message_id "
        f"FROM messages m {_admitted(where)} WHERE m.search_tsv @@ {q} GROUP BY m.conversation_id)"
    )
    if not common:
        return every
    # A common word: walk the conversations newest first, each one's messages through the
    # (conversation_id, id) index, and stop at first + 1.
    conversations = f"WHERE {' AND '.join(where)}" if where else ""
    rows = await fetch(
        "/* conversations walked */ SELECT r.id AS conversation_id, hit.rank, hit.message_id "
        f"FROM (SELECT c.id, c.last_message_at FROM conversations c {conversations} "
        f"ORDER BY c.last_message_at DESC, c.id DESC LIMIT {RECENT_CONVERSATIONS}) r "
        f"CROSS JOIN LATERAL (SELECT max(ts_rank_cd(m.search_tsv, {q}))::real AS rank, max(m.id) AS message_id "
        f"FROM messages m WHERE m.conversation_id = r.id AND {_walked(q)}) hit "
        f"WHERE hit.message_id IS NOT NULL ORDER BY r.last_message_at DESC, r.id DESC LIMIT {first + 1}",
        *args,
    )
    if len(rows) > first:
        return rows
    # Fewer: exact if the walk saw every conversation the filters admit; else every match.
    walked = await fetch(
        f"SELECT count(*) AS n FROM (SELECT 1 FROM conversations c {conversations} LIMIT {RECENT_CONVERSATIONS}) s",
        *args[:-1],  # (not the tsquery)
    )
    return rows if walked[0]["n"] < RECENT_CONVERSATIONS else every


def _literal(text: str) -> str:
    """A string constant (standard_conforming_strings, on since PostgreSQL 9.1: only quotes)."""
    return "'" + text.replace("'", "''") + "'"


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
