"""Erasing a customer (LGPD art. 18 / GDPR art. 17): their personal data is replaced everywhere it
is kept, while what statistics need stays (rows, counts, timestamps, statuses, channels, agents).

Replaced: the customer's (and the customers merged into it) name, phone and e-mail; each
identity's handle (`external_id` becomes `erased:<id>`, so the platform account writing again
starts a new customer), name, phone, e-mail and reply address; every message body of their
conversations (inbound, replies and notes), attachment references (kind, type and size stay) and
metadata (only the response-template reference stays); error texts and activity data quoting any
of those values; the event log's payloads about them (their conversations' streams, the inbox
events naming them, and any other payload quoting their contact details); saved-view queries
quoting them; finished exports of them. Search vectors are generated from the columns, so they
follow. The audit log is not touched: it names customers by id only (resolvers/audit.py), and the
erasure's own entry keeps the reason, which is refused if it quotes the data being erased.
"""

from __future__ import annotations

from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient

from core.auth import Actor
from core.crypto import open_body
from core.events import INBOX, committed, conversation_stream, emit
from core.sql import in_transaction, retry_on_deadlock
from resolvers import audit, csat, customers
from resolvers.auth import require_admin
from resolvers.errors import BadInput
from resolvers.privacy import customer_family, kept_metadata, strip_attachments
from resolvers.shapes import CONVERSATION_COLUMNS, conversation_view

ERASED = "[erased]"
# Texts shorter than these are not replaced inside other strings: a body "ok" would otherwise turn
# "booking" into "bo[erased]ing". Outside the customer's own rows only contact details are looked
# for, and longer ones: "Al" would be replaced inside every other customer's text.
_MIN_OWN_MATCH = 4
_MIN_FOREIGN_MATCH = 5
_MIN_LEAD = 8


async def erase_customer(actor: Actor | None, customer_id: int, reason: str) -> dict[str, Any]:
    actor = require_admin(actor)
    reason = reason.strip()
    if not reason:
        raise BadInput("say why (a request by the customer, a retention rule, …)", field="reason")

    async def run() -> dict[str, Any]:
        async with in_transaction() as conn:
            ids = await customer_family(conn, customer_id)
            for member in sorted(ids):  # the lock ingest takes per customer: no message lands mid-way
                await conn.execute_query(
                    "SELECT pg_advisory_xact_lock(hashtextextended('customer:' || $1::int, 0))", [member]
                )
            contact, content = await _personal_values(conn, ids)
            if any(len(v) >= 3 and v.lower() in reason.lower() for v in contact):
                raise BadInput(
                    "the reason quotes the customer's personal data, which the audit log would keep "
                    "forever; describe the request without it",
                    field="reason",
                )
            counts = await _erase_rows(conn, ids, contact, content)
            await conn.execute_query(
                "INSERT INTO customer_erasures (customer_id, erased_by_id, erased_at) SELECT unnest($1::int[]), "
                "$2, now() ON CONFLICT (customer_id) DO UPDATE SET erased_by_id = $2, erased_at = now()",
                [sorted(ids), actor.user_id],
            )
            await audit.record(
                conn,
                actor,
                "customer.erase",
                "Customer",
                customer_id,
                {"reason": reason[:500], "customer_ids": sorted(ids), **counts},
            )
            await _announce(conn, ids)
        return {"customer_id": customer_id, **counts}

    result = await retry_on_deadlock(run)
    committed()
    return result


async def _personal_values(conn: BaseDBAsyncClient, ids: set[int]) -> tuple[list[str], list[str]]:
    """(contact details: names, phones, e-mails, handles; content: what they, or agents to them,
    wrote and sent, and what leads to their files), each longest first so a body containing the
    name is replaced whole."""
    rows = await conn.execute_query_dict(
        "SELECT unnest(ARRAY[name, phone, email]) AS v FROM customers WHERE id = ANY($1::int[]) "
        "UNION SELECT unnest(ARRAY[external_id, display_name, phone, email, reply_address]) "
        "FROM customer_identities WHERE customer_id = ANY($1::int[])",
        [sorted(ids)],
    )
    contact = {r["v"] for r in rows if r["v"]}
    content: set[str] = set()
    for row in await conn.execute_query_dict(
        f"SELECT text, attachments::text AS a, metadata::text AS m FROM messages WHERE {_THEIR_MESSAGES}",
        [sorted(ids)],
    ):
        if row["text"]:
            content.add(row["text"])  # as stored (sealed, when bodies are encrypted at rest)
            content.add(open_body(row["text"]) or row["text"])  # and as quoted elsewhere (flow state…)
        # What leads to the files (ids, URLs, names); short strings there are vocabulary, not data.
        # Metadata is not searched for: it is emptied where it is kept (rows and message shapes).
        kept = strip_attachments(orjson.loads(row["a"]))
        leads = _strings(orjson.loads(row["a"])) - _strings(kept)
        content.update(v for v in leads if len(v) >= _MIN_LEAD)

    def ordered(values: set[str]) -> list[str]:
        return sorted((v for v in values if v.strip() and v != ERASED), key=len, reverse=True)

    return ordered(contact), ordered(content - contact)


_THEIR_CONVERSATIONS = "conversation_id IN (SELECT id FROM conversations WHERE customer_id = ANY($1::int[]))"
_THEIR_MESSAGES = (
    f"({_THEIR_CONVERSATIONS} OR identity_id IN "
    "(SELECT id FROM customer_identities WHERE customer_id = ANY($1::int[])))"
)


async def _erase_rows(
    conn: BaseDBAsyncClient, ids: set[int], contact: list[str], content: list[str]
) -> dict[str, int]:
    members = sorted(ids)
    own = sorted((v for v in contact + content if len(v) >= _MIN_OWN_MATCH), key=len, reverse=True)
    foreign = [v for v in contact if len(v) >= _MIN_FOREIGN_MATCH]
    await conn.execute_query(
        "UPDATE customers SET name = NULL, phone = NULL, email = NULL, updated_at = now() "
        "WHERE id = ANY($1::int[])",
        [members],
    )
    identities = await conn.execute_query_dict(
        "UPDATE customer_identities SET external_id = 'erased:' || id, display_name = NULL, phone = NULL, "
        "email = NULL, reply_address = NULL WHERE customer_id = ANY($1::int[]) RETURNING id",
        [members],
    )
    messages = await conn.execute_query_dict(
        f"SELECT id, attachments::text AS a, metadata::text AS m, error_reason FROM messages "
        f"WHERE {_THEIR_MESSAGES}",
        [members],
    )
    for row in messages:
        await conn.execute_query(
            "UPDATE messages SET text = NULL, attachments = $2::jsonb, metadata = $3::jsonb, "
            "error_reason = $4 WHERE id = $1",
            [
                row["id"],
                orjson.dumps(strip_attachments(orjson.loads(row["a"]))).decode(),
                orjson.dumps(kept_metadata(orjson.loads(row["m"]), "erased")).decode(),
                scrub(row["error_reason"], own),
            ],
        )
    message_ids = [r["id"] for r in messages]
    await _scrub_column(
        conn,
        "message_status_changes",
        "id",
        "error_detail",
        "message_id = ANY($1::bigint[])",
        [message_ids],
        own,
    )
    await _scrub_json(conn, "conversation_activities", "id", "data", _THEIR_CONVERSATIONS, [members], own)
    conversations = await conn.execute_query_dict(
        "SELECT id FROM conversations WHERE customer_id = ANY($1::int[])", [members]
    )
    conversation_ids = [r["id"] for r in conversations]
    await csat.erase_answers(conn, conversation_ids)  # survey comments live outside messages
    flow_runs = await _erase_flow_data(conn, members, conversation_ids, own)
    events = await _scrub_event_log(conn, ids, conversation_ids, own, foreign)
    exports = await conn.execute_query_dict(
        "UPDATE customer_exports SET content = NULL, status = 'erased' WHERE customer_id = ANY($1::int[]) "
        "RETURNING id",
        [members],
    )
    if foreign:
        for table, column in (("orphan_statuses", "error_detail"), ("saved_views", "query")):
            await _scrub_column(conn, table, "id", column, _quotes(column, 1), [foreign], foreign)
    return {
        "conversations": len(conversation_ids),
        "identities": len(identities),
        "messages": len(messages),
        "events": events,
        "exports": len(exports),
        "flow_executions": flow_runs,
    }


async def _erase_flow_data(
    conn: BaseDBAsyncClient, members: list[int], conversation_ids: list[int], own: list[str]
) -> int:
    """What flows learnt and kept: the customer's attributes go; their conversations' runs lose
    their variables, the engine state's copies of them and of the customer, and an HTTP call's
    pending request; the runs' history keeps its steps, nodes and actions, not their details.
    A run still going would act on data that is gone: it is cancelled (the flow can start again
    if they write again, as the stranger they now are)."""
    await conn.execute_query("DELETE FROM customer_attributes WHERE customer_id = ANY($1::int[])", [members])
    runs = await conn.execute_query_dict(
        "UPDATE flow_executions SET variables = '{}'::jsonb, pending = NULL, "
        "state = state || jsonb_build_object('variables', '{}'::jsonb, 'customer', '{}'::jsonb, 'last_message', NULL), "
        "status = CASE WHEN status IN ('running', 'waiting', 'paused') THEN 'cancelled' ELSE status END, "
        "reason = CASE WHEN status IN ('running', 'waiting', 'paused') THEN 'the customer was erased' "
        "ELSE reason END, finished_at = COALESCE(finished_at, now()), wake_at = NULL, updated_at = now() "
        "WHERE conversation_id = ANY($1::int[]) RETURNING id",
        [conversation_ids],
    )
    run_ids = [r["id"] for r in runs]
    await conn.execute_query(
        "UPDATE flow_execution_steps SET detail = '{}'::jsonb WHERE execution_id = ANY($1::bigint[])",
        [run_ids],
    )
    for column in ("outcome", "reason"):
        table, key = (
            ("flow_execution_steps", "execution_id") if column == "outcome" else ("flow_executions", "id")
        )
        await _scrub_column(conn, table, "id", column, f"{key} = ANY($1::bigint[])", [run_ids], own)
    return len(run_ids)


def _quotes(column: str, n: int) -> str:
    """`column` contains one of the texts in parameter $n (LIKE's wildcards in them escaped)."""
    pattern = "'%' || replace(replace(replace(v, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'"
    return f"{column} LIKE ANY(SELECT {pattern} FROM unnest(${n}::text[]) v)"


async def _scrub_column(
    conn: BaseDBAsyncClient, table: str, key: str, column: str, where: str, args: list[Any], values: list[str]
) -> None:
    rows = await conn.execute_query_dict(
        f"SELECT {key} AS k, {column} AS v FROM {table} WHERE {where} AND {column} IS NOT NULL", args
    )
    for row in rows:
        cleaned = scrub(row["v"], values)
        if cleaned != row["v"]:
            await conn.execute_query(
                f"UPDATE {table} SET {column} = $2 WHERE {key} = $1", [row["k"], cleaned]
            )


async def _scrub_json(
    conn: BaseDBAsyncClient, table: str, key: str, column: str, where: str, args: list[Any], values: list[str]
) -> int:
    rows = await conn.execute_query_dict(
        f"SELECT {key} AS k, {column}::text AS v FROM {table} WHERE {where}", args
    )
    changed = 0
    for row in rows:
        before = orjson.loads(row["v"])
        after = scrub(before, values)
        if after != before:
            changed += 1
            await conn.execute_query(
                f"UPDATE {table} SET {column} = $2::jsonb WHERE {key} = $1",
                [row["k"], orjson.dumps(after).decode()],
            )
    return changed


async def _scrub_event_log(
    conn: BaseDBAsyncClient, ids: set[int], conversation_ids: list[int], own: list[str], foreign: list[str]
) -> int:
    """Events about the customer (their conversations' streams, inbox events naming their
    conversations or them) lose their message bodies and contact details; any other event quoting
    their contact details loses those. Both the sequenced log and the outbox not yet sequenced."""
    streams = [conversation_stream(c) for c in conversation_ids]
    theirs = (
        "COALESCE(stream = ANY($1::text[]) OR (payload #>> '{conversation,customer_id}')::int = ANY($2::int[]) "
        "OR (payload #>> '{customer,id}')::int = ANY($2::int[]) "
        "OR (payload #>> '{message,conversation_id}')::int = ANY($3::int[]) "
        "OR (payload #>> '{activity,conversation_id}')::int = ANY($3::int[]), false)"
    )
    args: list[Any] = [streams, sorted(ids), conversation_ids]
    changed = 0
    for table, key in (("events", "seq"), ("event_outbox", "id")):
        rows = await conn.execute_query_dict(
            f"SELECT {key} AS k, payload::text AS v FROM {table} WHERE {theirs}", args
        )
        for row in rows:
            before = orjson.loads(row["v"])
            after = scrub(_anonymised(before, ids, set(conversation_ids)), own)
            if after != before:
                changed += 1
                await conn.execute_query(
                    f"UPDATE {table} SET payload = $2::jsonb WHERE {key} = $1",
                    [row["k"], orjson.dumps(after).decode()],
                )
        if foreign:
            where = f"NOT {theirs} AND {_quotes('payload::text', 4)}"
            changed += await _scrub_json(conn, table, key, "payload", where, [*args, foreign], foreign)
    return changed


def _anonymised(payload: Any, ids: set[int], conversation_ids: set[int], key: str = "") -> Any:
    """Message shapes of their conversations, and customer shapes (under "customer") of them,
    inside an event, emptied the way their rows were."""
    if isinstance(payload, list):
        return [_anonymised(v, ids, conversation_ids) for v in payload]
    if not isinstance(payload, dict):
        return payload
    out = {k: _anonymised(v, ids, conversation_ids, k) for k, v in payload.items()}
    if out.get("conversation_id") in conversation_ids and "text" in out and "direction" in out:
        out["text"] = None
        out["attachments"] = strip_attachments(out.get("attachments") or [])
        out["metadata"] = kept_metadata(out.get("metadata") or {}, "erased")
    if key == "customer" and out.get("id") in ids:
        out.update({k: None for k in ("name", "phone", "email") if k in out})
    return out


async def _announce(conn: BaseDBAsyncClient, ids: set[int]) -> None:
    """Open screens drop the customer's details at once: the inbox's rows (CONVERSATION_UPDATED)
    and each open conversation's customer panel (CUSTOMER_UPDATED, as any change to a customer)."""
    rows = await conn.execute_query_dict(
        f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE customer_id = ANY($1::int[])", [sorted(ids)]
    )
    for row in rows:
        view = {"id": row["customer_id"], "name": None, "phone": None, "email": None}
        await emit(
            conn,
            INBOX,
            "CONVERSATION_UPDATED",
            {"conversation": conversation_view(dict(row)), "customer": view},
        )
    await customers.customer_changed(conn, sorted(ids))


# Values under these keys are our own vocabulary (statuses, platforms, kinds) or times:
# never personal data, and a body that happens to read "open" must not turn a status into "[erased]".
_STRUCTURAL_KEYS = frozenset(
    {"status", "platform", "direction", "kind", "priority", "type", "strategy", "stream"}
)


def scrub(value: Any, values: list[str]) -> Any:
    """`value` with every occurrence of each of `values` replaced by "[erased]", in every string
    value at any depth, except under structural keys (keys are our own names, never data)."""
    if isinstance(value, str):
        for v in values:
            if v in value:
                value = value.replace(v, ERASED)
        return value
    if isinstance(value, list):
        return [scrub(v, values) for v in value]
    if isinstance(value, dict):
        return {k: v if _structural(k) else scrub(v, values) for k, v in value.items()}
    return value


def _structural(key: str) -> bool:
    return key in _STRUCTURAL_KEYS or key.endswith("_at")  # times: a body "2026" is not in them


def _strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    found: set[str] = set()
    for item in value.values() if isinstance(value, dict) else value if isinstance(value, list) else ():
        found |= _strings(item)
    return found
