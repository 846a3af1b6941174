"""Roll-ups derive only what changed (resolvers/rollups.py): each stored fact carries the care
cycle it belongs to (`segment`: 0 before the first cycle, -1 for the families always derived
whole), and `metric_segments` keeps, per conversation and cycle, where the cycle opened and the
walk's state there, so a new message re-derives the cycle it falls in (and on), not the whole
conversation. Existing facts start in segment 0 and no conversation has a checkpoint, so the
first derivation of each conversation after this is whole (and re-tags its facts).

Also the lane index: a conversation's lane head (its earliest queued reply,
resolvers/send_lease.lane_head_sql) in one probe of a partial index holding only queued replies.

And SLA timers: one *running or finished* timer per conversation, kind and start (a partial unique
index leaving cancelled rows out), so a cancelled timer wanted again starts a new run instead of
being held back by the cancelled row (resolvers/sla.sync)."""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
ALTER TABLE "metric_facts" ADD COLUMN IF NOT EXISTS "segment" INT NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS "idx_metric_facts_segment" ON "metric_facts" ("conversation_id", "segment");
DROP INDEX IF EXISTS "idx_metric_facts_conversation";
CREATE TABLE IF NOT EXISTS "metric_segments" (
    "conversation_id" INT NOT NULL,
    "segment" INT NOT NULL,
    "opened_at" TIMESTAMPTZ,
    "message_id" BIGINT,
    "state" JSONB NOT NULL DEFAULT '{}',
    PRIMARY KEY ("conversation_id", "segment")
);
CREATE INDEX IF NOT EXISTS "idx_messages_conversation_created" ON "messages" ("conversation_id", "created_at");
CREATE INDEX IF NOT EXISTS "idx_activities_conversation_created"
    ON "conversation_activities" ("conversation_id", "created_at");
CREATE INDEX IF NOT EXISTS "idx_messages_lane" ON "messages" ("conversation_id", "id")
    WHERE status = 'queued' AND direction = 'outbound';
DO $$
DECLARE c record;
BEGIN
    FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = 'sla_timers'::regclass AND contype = 'u' LOOP
        EXECUTE format('ALTER TABLE sla_timers DROP CONSTRAINT %I', c.conname);
    END LOOP;
END $$;
CREATE UNIQUE INDEX IF NOT EXISTS "uid_sla_timers_run" ON "sla_timers" ("conversation_id", "kind", "started_at")
    WHERE cancelled_at IS NULL;
"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
DELETE FROM sla_timers t WHERE cancelled_at IS NOT NULL AND EXISTS (SELECT 1 FROM sla_timers o
    WHERE o.conversation_id = t.conversation_id AND o.kind = t.kind AND o.started_at = t.started_at AND o.id <> t.id
    AND (o.cancelled_at IS NULL OR o.id > t.id));
DROP INDEX IF EXISTS "uid_sla_timers_run";
ALTER TABLE sla_timers ADD CONSTRAINT sla_timers_conversation_id_kind_started_at_key
    UNIQUE (conversation_id, kind, started_at);
DROP INDEX IF EXISTS "idx_messages_lane";
DROP INDEX IF EXISTS "idx_activities_conversation_created";
DROP INDEX IF EXISTS "idx_messages_conversation_created";
DROP TABLE IF EXISTS "metric_segments";
CREATE INDEX IF NOT EXISTS "idx_metric_facts_conversation" ON "metric_facts" ("conversation_id");
DROP INDEX IF EXISTS "idx_metric_facts_segment";
ALTER TABLE "metric_facts" DROP COLUMN IF EXISTS "segment";
"""
