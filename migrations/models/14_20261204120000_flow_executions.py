"""Flow executions: each run of a published flow with its persisted state (the version it started
on, current node, variables, timer), the history of its steps, the per-conversation cursor of
inbound messages the triggers have seen, and the customer attributes flows set.

At most one unfinished execution per (conversation, flow) and one per trigger key (a trigger
firing twice for one inbound message starts one run): both are unique indexes, so two processes
racing cannot get round them."""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return r"""
ALTER TABLE "flows" ADD COLUMN IF NOT EXISTS "resume_within_seconds" INT NOT NULL DEFAULT 86400;

CREATE TABLE IF NOT EXISTS "flow_executions" (
    "id" BIGSERIAL PRIMARY KEY,
    "flow_id" INT NOT NULL REFERENCES "flows" ("id") ON DELETE CASCADE,
    "flow_version" INT NOT NULL,
    "conversation_id" INT NOT NULL REFERENCES "conversations" ("id") ON DELETE CASCADE,
    "status" VARCHAR(16) NOT NULL,
    "node" VARCHAR(64),
    "waiting_for" VARCHAR(16),
    "state" JSONB NOT NULL,
    "variables" JSONB NOT NULL DEFAULT '{}'::jsonb,
    "pending" JSONB,
    "wake_at" TIMESTAMPTZ,
    "step" INT NOT NULL DEFAULT 0,
    "trigger" VARCHAR(32) NOT NULL,
    "trigger_key" VARCHAR(200) NOT NULL UNIQUE,
    "reason" TEXT,
    "handed_off_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "updated_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "finished_at" TIMESTAMPTZ
);
CREATE UNIQUE INDEX IF NOT EXISTS "uniq_flow_executions_unfinished"
    ON "flow_executions" ("conversation_id", "flow_id") WHERE "status" IN ('running', 'waiting', 'paused');
CREATE INDEX IF NOT EXISTS "idx_flow_executions_wake"
    ON "flow_executions" ("wake_at") WHERE "status" = 'waiting' AND "wake_at" IS NOT NULL;
CREATE INDEX IF NOT EXISTS "idx_flow_executions_unfinished"
    ON "flow_executions" ("status", "updated_at") WHERE "status" IN ('running', 'waiting');
CREATE INDEX IF NOT EXISTS "idx_flow_executions_flow" ON "flow_executions" ("flow_id", "id");
CREATE INDEX IF NOT EXISTS "idx_flow_executions_conversation" ON "flow_executions" ("conversation_id", "id");

CREATE TABLE IF NOT EXISTS "flow_execution_steps" (
    "id" BIGSERIAL PRIMARY KEY,
    "execution_id" BIGINT NOT NULL REFERENCES "flow_executions" ("id") ON DELETE CASCADE,
    "step" INT NOT NULL,
    "node" VARCHAR(64),
    "action" VARCHAR(32) NOT NULL,
    "outcome" VARCHAR(200) NOT NULL,
    "detail" JSONB NOT NULL DEFAULT '{}'::jsonb,
    "at" TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS "idx_flow_execution_steps" ON "flow_execution_steps" ("execution_id", "id");

CREATE TABLE IF NOT EXISTS "flow_inbound_cursors" (
    "conversation_id" INT PRIMARY KEY REFERENCES "conversations" ("id") ON DELETE CASCADE,
    "last_message_id" BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS "customer_attributes" (
    "id" BIGSERIAL PRIMARY KEY,
    "customer_id" INT NOT NULL REFERENCES "customers" ("id") ON DELETE CASCADE,
    "name" VARCHAR(40) NOT NULL,
    "value" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE ("customer_id", "name")
);
"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
DROP TABLE IF EXISTS "customer_attributes";
DROP TABLE IF EXISTS "flow_inbound_cursors";
DROP TABLE IF EXISTS "flow_execution_steps";
DROP TABLE IF EXISTS "flow_executions";
ALTER TABLE "flows" DROP COLUMN IF EXISTS "resume_within_seconds";
"""
