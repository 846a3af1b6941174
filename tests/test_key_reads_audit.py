"""Reads by an API key are audited as that key: one `api_key.read` entry per key, operation and
minute however many calls (and API processes) there are, so the log stays readable."""

from __future__ import annotations

import asyncio
import time

from core.sql import fetch, fetchrow
from resolvers import api_keys as key_rules
from tests.helpers import Subscriber, gql
from tests.test_api_keys import INBOX, _admin_token, _create
from tests.test_story import INBOX_SUB

NAMED = "query CrmSync { conversations(first: 3) { edges { node { id } } } }"


async def test_reads_by_a_key_are_audited_once_a_minute_per_operation(server):
    admin = await _admin_token(server)
    token, _ = await _create(server, admin, "CONVERSATIONS_READ")
    pk = int((await fetchrow("SELECT id FROM api_keys WHERE prefix = $1", token[:11]))["id"])

    first_minute = int(time.time() // 60)
    for _ in range(3):
        assert "errors" not in await gql(server, NAMED, token=token)
    key_rules._reads_recorded.clear()  # as if the next calls reached another API process
    for _ in range(2):
        assert "errors" not in await gql(server, NAMED, token=token)
        assert "errors" not in await gql(server, INBOX, token=token)  # anonymous: named by its fields
    live = await Subscriber.open(server, token, INBOX_SUB)
    try:
        rows = await _reads(pk, 3)
    finally:
        await live.close()
    minutes = int(time.time() // 60) - first_minute + 1  # 1, or 2 when the calls spanned a minute

    by_label: dict[str, list[dict]] = {}
    for row in rows:
        by_label.setdefault(row["target_id"], []).append(row)
    assert set(by_label) == {"CrmSync", "{conversations}", "{inboxEvents}"}, rows
    assert all(1 <= len(entries) <= minutes for entries in by_label.values()), rows
    crm = by_label["CrmSync"][0]
    assert crm["target_type"] == "Query" and crm["ip"] == "127.0.0.1" and crm["has_actor"]
    assert crm["fields"] == '["conversations"]'
    assert by_label["{inboxEvents}"][0]["target_type"] == "Subscription"

    # A key without the scope is refused before anything runs, and nothing is recorded as read.
    other, _ = await _create(server, admin, "TEMPLATES_READ")
    other_pk = int((await fetchrow("SELECT id FROM api_keys WHERE prefix = $1", other[:11]))["id"])
    refused = await gql(server, NAMED, token=other)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (
        await fetch("SELECT 1 FROM audit_log WHERE api_key_id = $1 AND action = 'api_key.read'", other_pk)
        == []
    )


async def _reads(pk: int, labels: int) -> list[dict]:
    for _ in range(100):
        rows = await fetch(
            "SELECT target_type, target_id, ip, actor_id IS NOT NULL AS has_actor, details->>'fields' AS fields "
            "FROM audit_log WHERE api_key_id = $1 AND action = 'api_key.read' ORDER BY id",
            pk,
        )
        if len({r["target_id"] for r in rows}) >= labels:
            return rows
        await asyncio.sleep(0.05)
    return rows
