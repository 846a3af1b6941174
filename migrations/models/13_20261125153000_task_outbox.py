"""Tasks the broker could not take (Redis down) after their change committed wait here for the
upkeep sweep to enqueue them again (core/tasks.py, jobs/maintenance.py)."""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
CREATE TABLE IF NOT EXISTS "task_outbox" (
    "id" BIGSERIAL PRIMARY KEY,
    "key" VARCHAR(64) NOT NULL UNIQUE,
    "queue_name" VARCHAR(60) NOT NULL,
    "actor_name" VARCHAR(60) NOT NULL,
    "args" JSONB NOT NULL,
    "not_before" TIMESTAMPTZ,
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT now()
);
"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
DROP TABLE IF EXISTS "task_outbox";
"""
