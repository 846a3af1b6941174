"""Running a support team, part one: the conversation lifecycle.

- statuses open → pending → snoozed (until `snoozed_until`) → resolved → closed;
- priority, labels (a text array with a GIN index: filters and bulk label changes stay one statement);
- escalation level;
- `conversation_activities`: who changed what, when — the timeline's non-message entries.
"""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
ALTER TABLE "conversations" ADD COLUMN IF NOT EXISTS "snoozed_until" TIMESTAMPTZ;
ALTER TABLE "conversations" ADD COLUMN IF NOT EXISTS "priority" VARCHAR(8) NOT NULL DEFAULT 'normal';
ALTER TABLE "conversations" ADD COLUMN IF NOT EXISTS "labels" TEXT[] NOT NULL DEFAULT '{}';
ALTER TABLE "conversations" ADD COLUMN IF NOT EXISTS "escalation_level" INT NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS "idx_conversations_labels" ON "conversations" USING gin ("labels");
CREATE INDEX IF NOT EXISTS "idx_conversations_snoozed" ON "conversations" ("snoozed_until") WHERE status = 'snoozed';
CREATE TABLE IF NOT EXISTS "conversation_activities" (
    "id" BIGSERIAL PRIMARY KEY,
    "conversation_id" INT NOT NULL REFERENCES "conversations" ("id") ON DELETE CASCADE,
    "actor_id" INT REFERENCES "users" ("id") ON DELETE SET NULL,
    "type" VARCHAR(32) NOT NULL,
    "data" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS "idx_activities_conversation" ON "conversation_activities" ("conversation_id", "id");
"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
DROP TABLE IF EXISTS "conversation_activities";
DROP INDEX IF EXISTS "idx_conversations_snoozed";
DROP INDEX IF EXISTS "idx_conversations_labels";
ALTER TABLE "conversations" DROP COLUMN IF EXISTS "escalation_level";
ALTER TABLE "conversations" DROP COLUMN IF EXISTS "labels";
ALTER TABLE "conversations" DROP COLUMN IF EXISTS "priority";
ALTER TABLE "conversations" DROP COLUMN IF EXISTS "snoozed_until";
"""
