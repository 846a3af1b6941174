"""The stale-send sweep (resolvers/send_lease.py) runs every few seconds: the queued outbound
messages it looks at are a handful among millions, so they get a partial index of their own."""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
CREATE INDEX IF NOT EXISTS "idx_messages_outbound_queued" ON "messages" ("id")
    WHERE status = 'queued' AND direction = 'outbound';
"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
DROP INDEX IF EXISTS "idx_messages_outbound_queued";
"""
