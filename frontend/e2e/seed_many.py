"""Bulk conversations for the web app's end-to-end run: N customers on a WhatsApp channel, each
with one open conversation and one message an hour or more old, written straight into the
embedded database of the e2e backend (its PYTAKE_DATA_DIR) before it starts. The inbox must show
its first page of them in under a second.

    PYTAKE_DATA_DIR=… .venv/bin/python frontend/e2e/seed_many.py 10000
"""

from __future__ import annotations

import asyncio
import sys

import asyncpg

from core import db
from core.settings import get_settings


async def seed(count: int) -> None:
    url = await db.resolve_database_url(get_settings())
    conn = await asyncpg.connect(db.asyncpg_dsn(url))
    try:
        async with conn.transaction():
            channel = await conn.fetchval(
                "INSERT INTO channels (platform, name, enabled, config, secrets_encrypted, created_at, updated_at) "
                "VALUES ('whatsapp', 'Bulk WhatsApp', true, '{\"phone_number_id\": \"200000000000001\"}', '', now(), now()) "
                "RETURNING id"
            )
            await conn.execute(
                "WITH c AS (INSERT INTO customers (name, phone, created_at, updated_at) "
                "SELECT 'Bulk Customer ' || g, '55128' || lpad(g::text, 7, '0'), now(), now() "
                "FROM generate_series(1, $1) g RETURNING id, phone) "
                "INSERT INTO customer_identities (customer_id, channel_id, platform, external_id, created_at) "
                "SELECT id, $2, 'whatsapp', phone, now() FROM c",
                count,
                channel,
            )
            await conn.execute(
                "INSERT INTO conversations (channel_id, customer_id, identity_id, platform, status, assignee_id, "
                "unread_count, last_message_at, created_at, updated_at) "
                "SELECT $1, i.customer_id, i.id, 'whatsapp', 'open', NULL, i.id % 3, "
                "now() - interval '1 hour' - (row_number() OVER (ORDER BY i.id) || ' seconds')::interval, now(), now() "
                "FROM customer_identities i WHERE i.channel_id = $1",
                channel,
            )
            await conn.execute(
                "INSERT INTO messages (conversation_id, channel_id, identity_id, platform, direction, kind, text, "
                "status, platform_message_id, attachments, metadata, created_at, send_attempts) "
                "SELECT c.id, c.channel_id, c.identity_id, 'whatsapp', 'inbound', 'text', "
                "'Hello, this is bulk conversation ' || c.id, 'received', 'wamid.bulk.' || c.id, '[]', '{}', "
                "c.last_message_at, 0 FROM conversations c WHERE c.channel_id = $1",
                channel,
            )
            await conn.execute(
                "UPDATE conversations c SET last_message_id = m.id FROM messages m "
                "WHERE m.conversation_id = c.id AND c.channel_id = $1",
                channel,
            )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    print(f"seeded {count} conversations on channel {channel}")


if __name__ == "__main__":
    asyncio.run(seed(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000))
