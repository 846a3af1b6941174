"""The unfiltered inbox (newest activity first) reads this index backwards instead of sorting."""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
CREATE INDEX IF NOT EXISTS "idx_conversatio_last_me_inbox" ON "conversations" ("last_message_at", "id");
"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
DROP INDEX IF EXISTS "idx_conversatio_last_me_inbox";
"""
