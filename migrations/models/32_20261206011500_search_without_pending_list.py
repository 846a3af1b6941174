"""The message search index without a pending list (resolvers/search.py).

With `fastupdate` (PostgreSQL's default for GIN) an insert only appends its message's words to the
index's pending list, up to gin_pending_list_limit (4 MB: about 10,000 messages) before they are
merged; until then every search through the index reads the whole list, each time it scans the
index (a rare text's id ranges: up to four times per search). Measured on bench/search's 1M
messages after 5,000 live messages: 149 pending pages, an order number's index scan 0.01 ms → 1–7
ms, rare words' 36–45 ms under load. A freshly built index (and a vacuum) has none, so the
benchmark never saw it. Off, each insert puts its words into the index at once (a few pages near
the newest entries of each word, already in memory), and searches read only the index itself.
The list there is now is merged here.
"""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
ALTER INDEX "idx_messages_search" SET (fastupdate = off);
SELECT gin_clean_pending_list('idx_messages_search'::regclass);
"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
ALTER INDEX "idx_messages_search" RESET (fastupdate);
"""
