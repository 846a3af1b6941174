"""One person, many platforms: merging two customers into one and splitting an identity off.

Automatic merging happens at ingest (a verified phone/e-mail already known: see
migrations/models/6_*). These are the agents' hands-on versions. Both move rows; neither deletes
a message: the merged customer stays as a tombstone (`merged_into_id`) and the audit log keeps
what moved, so a merge can be taken apart again identity by identity.
"""

from __future__ import annotations

from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from core.auth import Actor
from core.events import INBOX, committed, conversation_stream, emit
from core.sql import in_transaction, retry_on_deadlock
from resolvers import audit
from resolvers.auth import require_user
from resolvers.errors import BadInput, Conflict, NotFound
from resolvers.flow_validation import MAX_TEXT, NAME
from resolvers.shapes import CONVERSATION_COLUMNS, conversation_view
from resolvers.visibility import visible_customer

CUSTOMER_COLUMNS = "id, name, phone, email, merged_into_id"
# On each of the customer's conversations' streams: the customer changed (attributes, identities,
# contact details), so the screens showing one (conversationEvents) read the customer afresh.
CUSTOMER_UPDATED = "CUSTOMER_UPDATED"


async def merge_customers(actor: Actor | None, *, source_id: int, target_id: int) -> dict[str, Any]:
    """Everything of `source` (identities, conversations, contact details it has and `target`
    lacks) moves to `target`; `source` is left pointing at `target`. Returns the target."""
    actor = require_user(actor)
    if source_id == target_id:
        raise BadInput("a customer cannot be merged into itself", field="sourceId")
    for customer_id in (source_id, target_id):  # both seen by the actor (NOT_FOUND otherwise)
        await visible_customer(actor, customer_id)

    async def run() -> dict[str, Any]:
        async with in_transaction() as conn:
            customers = await _lock_customers(conn, [source_id, target_id])
            source, target = customers[source_id], customers[target_id]
            for customer, field in ((source, "sourceId"), (target, "targetId")):
                if customer["merged_into_id"] is not None:
                    raise Conflict(
                        f"customer {customer['id']} was already merged into {customer['merged_into_id']}",
                        field=field,
                    )
            identities = await conn.execute_query_dict(
                "UPDATE customer_identities SET customer_id = $2 WHERE customer_id = $1 RETURNING id",
                [source_id, target_id],
            )
            moved = await conn.execute_query_dict(
                "UPDATE conversations SET customer_id = $2, updated_at = now() WHERE customer_id = $1 "
                f"RETURNING {CONVERSATION_COLUMNS}",
                [source_id, target_id],
            )
            rows = await conn.execute_query_dict(
                "UPDATE customers t SET name = COALESCE(t.name, s.name), phone = COALESCE(t.phone, s.phone), "
                "email = COALESCE(t.email, s.email), updated_at = now() FROM customers s "
                "WHERE t.id = $1 AND s.id = $2 RETURNING t.id, t.name, t.phone, t.email, t.merged_into_id",
                [target_id, source_id],
            )
            await conn.execute_query(
                "UPDATE customers SET merged_into_id = $2, updated_at = now() WHERE id = $1",
                [source_id, target_id],
            )
            # The source's attributes go with it; on a clash the target's own value wins and the
            # source's stays on the tombstone (in its data export, erased with it).
            carried = await conn.execute_query_dict(
                "UPDATE customer_attributes s SET customer_id = $2 WHERE s.customer_id = $1 AND NOT EXISTS "
                "(SELECT 1 FROM customer_attributes t WHERE t.customer_id = $2 AND t.name = s.name) "
                "RETURNING s.name",
                [source_id, target_id],
            )
            merged = dict(rows[0])
            await audit.record(
                conn,
                actor,
                "customer.merge",
                "Customer",
                target_id,
                {
                    "source_id": source_id,
                    "identities": [r["id"] for r in identities],
                    "conversations": [r["id"] for r in moved],
                    # Which contact details the target took from the source, never their values:
                    # the log names customers by id only, so erasing one leaves it untouched.
                    "filled_from_source": [
                        k for k in ("name", "phone", "email") if target[k] is None and source[k] is not None
                    ],
                    "attributes": sorted(r["name"] for r in carried),  # names only, as above
                },
            )
            await _announce(conn, moved, merged)
            await customer_changed(conn, [target_id])  # the moved conversations are the target's now
        return merged

    merged = await retry_on_deadlock(run)
    committed()
    return merged


async def set_customer_attribute(
    actor: Actor | None, *, customer_id: int, name: str, value: str | None
) -> dict[str, Any]:
    """Set (or, with `value` None, remove) one attribute of a customer by hand: the same names
    flows set and read ({{customer.<name>}}), the same size. Whoever sees one of the customer's
    conversations may; audited by name, never by value. Returns the customer."""
    actor = require_user(actor)
    if not NAME.match(name):
        raise BadInput(
            "an attribute's name is 1-40 lower-case letters, digits or _, not starting with a digit",
            field="name",
        )
    if value is not None and not value.strip():
        raise BadInput("an attribute's value cannot be empty (remove it instead)", field="value")
    if value is not None and len(value) > MAX_TEXT:
        raise BadInput(f"an attribute's value is at most {MAX_TEXT} characters", field="value")
    await visible_customer(actor, customer_id)  # NOT_FOUND otherwise

    async def run() -> dict[str, Any]:
        async with in_transaction() as conn:
            customer = (await _lock_customers(conn, [customer_id]))[customer_id]
            if customer["merged_into_id"] is not None:
                raise Conflict(
                    f"customer {customer_id} was merged into {customer['merged_into_id']}",
                    field="customerId",
                )
            if value is None:
                gone = await conn.execute_query_dict(
                    "DELETE FROM customer_attributes WHERE customer_id = $1 AND name = $2 RETURNING id",
                    [customer_id, name],
                )
                if not gone:
                    raise NotFound(f"the customer has no attribute {name}", field="name")
                action = "customer.attribute_remove"
            else:
                await _upsert_attribute(conn, customer_id, name, value)
                action = "customer.attribute_set"
            await audit.record(conn, actor, action, "Customer", customer_id, {"name": name})
            await customer_changed(conn, [customer_id])
        return customer

    customer = await retry_on_deadlock(run)
    committed()
    return customer


async def _upsert_attribute(conn: BaseDBAsyncClient, customer_id: int, name: str, value: str) -> None:
    await conn.execute_query(
        "INSERT INTO customer_attributes (customer_id, name, value, updated_at) "
        "VALUES ($1, $2, $3, now()) ON CONFLICT (customer_id, name) "
        "DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
        [customer_id, name, value],
    )


async def set_attribute_by_flow(conversation_id: int, name: str, value: str) -> None:
    """A flow's `set_attribute` step on the conversation's customer: the row a person's edit
    writes, and the same CUSTOMER_UPDATED, so an agent with the conversation open sees the value
    arrive. Names and sizes were checked when the flow was saved (resolvers/flow_validation.py)."""

    async def run() -> None:
        async with in_transaction() as conn:
            rows = await conn.execute_query_dict(
                "SELECT customer_id FROM conversations WHERE id = $1", [conversation_id]
            )
            if rows:
                await _upsert_attribute(conn, rows[0]["customer_id"], name, value[:MAX_TEXT])
                await customer_changed(conn, [rows[0]["customer_id"]])

    await retry_on_deadlock(run)
    committed()


async def split_identity(actor: Actor | None, *, identity_id: int) -> dict[str, Any]:
    """Take one identity (and the conversations that started on it) off its customer into a new
    customer of its own: for when a merge, automatic or by hand, joined two different people."""
    actor = require_user(actor)

    async def run() -> dict[str, Any]:
        async with in_transaction() as conn:
            rows = await conn.execute_query_dict(
                "SELECT id, customer_id, display_name, phone, email FROM customer_identities WHERE id = $1",
                [identity_id],
            )
            if not rows:
                raise NotFound(f"identity {identity_id} does not exist", field="identityId")
            identity = rows[0]
            old_id = identity["customer_id"]
            try:
                await visible_customer(actor, old_id)
            except NotFound:
                raise NotFound(f"identity {identity_id} does not exist", field="identityId") from None
            await _lock_customers(conn, [old_id])
            others = await conn.execute_query_dict(
                "SELECT count(*) AS n FROM customer_identities WHERE customer_id = $1 AND id <> $2",
                [old_id, identity_id],
            )
            if others[0]["n"] == 0:
                raise BadInput(
                    "this is the customer's only identity: there is nothing to split", field="identityId"
                )
            created = await conn.execute_query_dict(
                "INSERT INTO customers (name, phone, email, created_at, updated_at) VALUES ($1, $2, $3, now(), now()) "
                f"RETURNING {CUSTOMER_COLUMNS}",
                [identity["display_name"], identity["phone"], identity["email"]],
            )
            new = dict(created[0])
            await conn.execute_query(
                "UPDATE customer_identities SET customer_id = $2 WHERE id = $1", [identity_id, new["id"]]
            )
            moved = await conn.execute_query_dict(
                "UPDATE conversations SET customer_id = $3, updated_at = now() WHERE customer_id = $1 "
                f"AND identity_id = $2 RETURNING {CONVERSATION_COLUMNS}",
                [old_id, identity_id, new["id"]],
            )
            # The old customer keeps contact details only if another identity vouches for them.
            await conn.execute_query(
                "UPDATE customers c SET phone = CASE WHEN c.phone = $2 AND NOT EXISTS (SELECT 1 FROM customer_identities i "
                "WHERE i.customer_id = c.id AND i.phone = $2) THEN NULL ELSE c.phone END, "
                "email = CASE WHEN c.email = $3 AND NOT EXISTS (SELECT 1 FROM customer_identities i "
                "WHERE i.customer_id = c.id AND i.email = $3) THEN NULL ELSE c.email END, updated_at = now() "
                "WHERE c.id = $1",
                [old_id, identity["phone"], identity["email"]],
            )
            await audit.record(
                conn,
                actor,
                "customer.split",
                "Customer",
                new["id"],
                {
                    "from_customer_id": old_id,
                    "identity_id": identity_id,
                    "conversations": [r["id"] for r in moved],
                },
            )
            await _announce(conn, moved, new)
            await customer_changed(conn, [old_id, new["id"]])
        return new

    new = await retry_on_deadlock(run)
    committed()
    return new


async def _lock_customers(conn: BaseDBAsyncClient, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The same advisory locks ingest takes per customer, in id order (no deadlock between two
    merges), then the rows themselves."""
    for customer_id in sorted(ids):
        await conn.execute_query(
            "SELECT pg_advisory_xact_lock(hashtextextended('customer:' || $1::int, 0))", [customer_id]
        )
    rows = await conn.execute_query_dict(
        f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = ANY($1::int[]) ORDER BY id FOR UPDATE", [ids]
    )
    found = {r["id"]: dict(r) for r in rows}
    for customer_id in ids:
        if customer_id not in found:
            raise NotFound(f"customer {customer_id} does not exist")
    return found


async def _announce(
    conn: BaseDBAsyncClient, conversations: list[dict[str, Any]], customer: dict[str, Any]
) -> None:
    view = {k: customer[k] for k in ("id", "name", "phone", "email")}
    for row in conversations:
        await emit(
            conn,
            INBOX,
            "CONVERSATION_UPDATED",
            {"conversation": conversation_view(dict(row)), "customer": view},
        )


async def customer_changed(conn: BaseDBAsyncClient, customer_ids: list[int]) -> None:
    """CUSTOMER_UPDATED on the stream of every conversation of these customers, in the caller's
    transaction: whoever has one of them open (conversationEvents) reads the customer again after
    commit. The payload names the customer and its contact details (scrubbed by erasure like the
    inbox's), never an attribute's value: the event log keeps no copy of those."""
    rows = await conn.execute_query_dict(
        "SELECT c.id AS conversation_id, u.id, u.name, u.phone, u.email FROM conversations c "
        "JOIN customers u ON u.id = c.customer_id WHERE c.customer_id = ANY($1::int[]) ORDER BY c.id",
        [sorted(customer_ids)],
    )
    for row in rows:
        view = {k: row[k] for k in ("id", "name", "phone", "email")}
        await emit(conn, conversation_stream(row["conversation_id"]), CUSTOMER_UPDATED, {"customer": view})
