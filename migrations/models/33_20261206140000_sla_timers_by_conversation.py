"""A conversation's SLA timers found by its id (resolvers/sla.timers_by_conversation).

The inbox reads every row's timers, cancelled runs included, by `conversation_id = ANY(...)`; the
only index starting with the column was the partial unique one over runs not cancelled, so the
read was a scan of the whole table (every timer ever started) per page.
"""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
CREATE INDEX IF NOT EXISTS "idx_sla_timers_conversation" ON "sla_timers" ("conversation_id");
"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
DROP INDEX IF EXISTS "idx_sla_timers_conversation";
"""
