"""Search looks for a text's newest matches by id range, newest range first (resolvers/search.py):
the GIN index's matches ANDed with the range. A block-range (BRIN) index on messages.id gives that
range as a bitmap in a fraction of a millisecond at any table size; the primary key would add
every id of the range to the bitmap one by one (70 ms for 350,000 ids, measured). Ids grow with
time, so each block range holds a narrow span of ids and the index stays a few hundred kilobytes;
new blocks are summarised by vacuum and read whole until then."""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
CREATE INDEX IF NOT EXISTS "idx_messages_id_brin" ON "messages" USING brin ("id") WITH (pages_per_range = 32);
"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
DROP INDEX IF EXISTS "idx_messages_id_brin";
"""
