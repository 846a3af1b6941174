"""Key rotation for what is sealed at rest with ENCRYPTION_KEYS besides channel secrets: message
bodies (`messages.text`, when ENCRYPT_MESSAGE_BODIES is on) and the bodies of outgoing webhook
deliveries (which quote them). core/crypto.py seals and opens; this rewrites old rows.

Each column is walked by id, in batches, from where the last walk stopped for the current target
(the newest key, and whether sealing is on: `sealed_rotation`): a body sealed with an older key is
re-encrypted with the newest, and a plaintext one is sealed when sealing is on. Rows written
since are already right, so once a walk is done a run only looks at the rows added since. A new
key first in ENCRYPTION_KEYS (or sealing turned on) starts the walk again from the first row.
A walk holds its column's row lock for one batch at a time (two workers never walk one column at
once), and a body changed meanwhile (an edit, an erasure) is left as the change wrote it.
"""

from __future__ import annotations

import time

from core.crypto import primary_key_fingerprint, reseal_body, resealing_possible, sealing_bodies
from core.sql import in_transaction

COLUMNS = {
    "messages.text": ("messages", "text"),
    "webhook_deliveries.body": ("webhook_deliveries", "body"),
}
BATCH = 500


def _target() -> str:
    return primary_key_fingerprint() + (":sealing" if sealing_bodies() else "")


async def rotate_sealed(budget_seconds: float | None = None) -> int:
    """Walk every sealed column (until done, or for about `budget_seconds`); how many rows were
    rewritten. `pytake rotate-secrets` runs it to the end; the maintenance job a slice at a time."""
    if not resealing_possible():
        return 0
    deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
    rewritten = 0
    for name, (table, column) in COLUMNS.items():
        rewritten += await _walk(name, table, column, deadline)
    return rewritten


async def _walk(name: str, table: str, column: str, deadline: float | None) -> int:
    target = _target()
    rewritten = 0
    while deadline is None or time.monotonic() < deadline:
        async with in_transaction() as conn:
            await conn.execute_query(
                "INSERT INTO sealed_rotation (name, target, after_id) VALUES ($1, $2, 0) ON CONFLICT (name) DO NOTHING",
                [name, target],
            )
            state = await conn.execute_query_dict(
                "SELECT target, after_id FROM sealed_rotation WHERE name = $1 FOR UPDATE SKIP LOCKED", [name]
            )
            if not state:
                return rewritten  # another worker is walking this column
            after = state[0]["after_id"] if state[0]["target"] == target else 0
            rows = await conn.execute_query_dict(
                f"SELECT id, {column} AS v FROM {table} WHERE id > $1 AND {column} IS NOT NULL ORDER BY id LIMIT $2",
                [after, BATCH],
            )
            changes = [(r["id"], r["v"], new) for r in rows if (new := reseal_body(r["v"])) is not None]
            if changes:
                # Only where the body is still the one read: an edit or erasure meanwhile wins.
                done = await conn.execute_query_dict(
                    f"UPDATE {table} t SET {column} = u.new FROM unnest($1::bigint[], $2::text[], $3::text[]) "
                    f"AS u(id, old, new) WHERE t.id = u.id AND t.{column} = u.old RETURNING t.id",
                    [[c[0] for c in changes], [c[1] for c in changes], [c[2] for c in changes]],
                )
                rewritten += len(done)
            await conn.execute_query(
                "UPDATE sealed_rotation SET target = $2, after_id = $3, updated_at = now() WHERE name = $1",
                [name, target, rows[-1]["id"] if rows else after],
            )
        if len(rows) < BATCH:
            break
    return rewritten
