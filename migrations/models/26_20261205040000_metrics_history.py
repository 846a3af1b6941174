"""Metrics history (resolvers/metrics_presence.py): conversations' state changes and agents'
presence and capacity changes, written by triggers (one row per transition, whatever code made
it), and agents' work on conversations (opened, closed, typing), written by the API. The current
state of what exists now is recorded once here, so the history starts complete."""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
CREATE TABLE IF NOT EXISTS "conversation_state_log" (
    "id" BIGSERIAL PRIMARY KEY,
    "conversation_id" INT NOT NULL,
    "at" TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    "status" VARCHAR(16) NOT NULL,
    "team_id" INT,
    "assignee_id" INT,
    "queued" BOOLEAN NOT NULL
);
CREATE INDEX IF NOT EXISTS "idx_conversation_state_log" ON "conversation_state_log" ("conversation_id", "at");
CREATE TABLE IF NOT EXISTS "agent_status_log" (
    "id" BIGSERIAL PRIMARY KEY,
    "user_id" INT NOT NULL,
    "at" TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    "presence" VARCHAR(8) NOT NULL,
    "capacity" INT NOT NULL,
    "folded" BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX IF NOT EXISTS "idx_agent_status_log" ON "agent_status_log" ("user_id", "at");
CREATE INDEX IF NOT EXISTS "idx_agent_status_log_unfolded" ON "agent_status_log" ("id") WHERE NOT "folded";
CREATE TABLE IF NOT EXISTS "conversation_work_log" (
    "id" BIGSERIAL PRIMARY KEY,
    "conversation_id" INT NOT NULL,
    "user_id" INT NOT NULL,
    "kind" VARCHAR(8) NOT NULL,
    "session_id" BIGINT,
    "at" TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    "folded" BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX IF NOT EXISTS "idx_conversation_work_log" ON "conversation_work_log" ("conversation_id", "at");
CREATE INDEX IF NOT EXISTS "idx_conversation_work_log_unfolded" ON "conversation_work_log" ("id") WHERE NOT "folded";

CREATE OR REPLACE FUNCTION pytake_log_conversation_state() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO conversation_state_log (conversation_id, status, team_id, assignee_id, queued)
    VALUES (NEW.id, NEW.status, NEW.team_id, NEW.assignee_id,
            NEW.queued_at IS NOT NULL AND NEW.team_id IS NOT NULL AND NEW.assignee_id IS NULL
            AND NEW.status IN ('open', 'pending'));
    RETURN NULL;
END;
$fn$;
DROP TRIGGER IF EXISTS "trg_conversation_state_insert" ON "conversations";
CREATE TRIGGER "trg_conversation_state_insert" AFTER INSERT ON "conversations"
    FOR EACH ROW EXECUTE FUNCTION pytake_log_conversation_state();
DROP TRIGGER IF EXISTS "trg_conversation_state_update" ON "conversations";
CREATE TRIGGER "trg_conversation_state_update" AFTER UPDATE OF "status", "team_id", "assignee_id", "queued_at"
    ON "conversations" FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.team_id IS DISTINCT FROM NEW.team_id
          OR OLD.assignee_id IS DISTINCT FROM NEW.assignee_id OR (OLD.queued_at IS NULL) <> (NEW.queued_at IS NULL))
    EXECUTE FUNCTION pytake_log_conversation_state();

CREATE OR REPLACE FUNCTION pytake_log_agent_status() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO agent_status_log (user_id, presence, capacity) VALUES (NEW.id, NEW.presence, NEW.capacity);
    RETURN NULL;
END;
$fn$;
DROP TRIGGER IF EXISTS "trg_agent_status_insert" ON "users";
CREATE TRIGGER "trg_agent_status_insert" AFTER INSERT ON "users"
    FOR EACH ROW EXECUTE FUNCTION pytake_log_agent_status();
DROP TRIGGER IF EXISTS "trg_agent_status_update" ON "users";
CREATE TRIGGER "trg_agent_status_update" AFTER UPDATE OF "presence", "capacity" ON "users" FOR EACH ROW
    WHEN (OLD.presence IS DISTINCT FROM NEW.presence OR OLD.capacity IS DISTINCT FROM NEW.capacity)
    EXECUTE FUNCTION pytake_log_agent_status();

INSERT INTO conversation_state_log (conversation_id, status, team_id, assignee_id, queued)
SELECT id, status, team_id, assignee_id,
       queued_at IS NOT NULL AND team_id IS NOT NULL AND assignee_id IS NULL AND status IN ('open', 'pending')
  FROM conversations WHERE status IN ('open', 'pending', 'snoozed')
   AND NOT EXISTS (SELECT 1 FROM conversation_state_log l WHERE l.conversation_id = conversations.id);
INSERT INTO agent_status_log (user_id, presence, capacity)
SELECT id, presence, capacity FROM users
 WHERE NOT EXISTS (SELECT 1 FROM agent_status_log l WHERE l.user_id = users.id);
"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
DROP TRIGGER IF EXISTS "trg_agent_status_update" ON "users";
DROP TRIGGER IF EXISTS "trg_agent_status_insert" ON "users";
DROP TRIGGER IF EXISTS "trg_conversation_state_update" ON "conversations";
DROP TRIGGER IF EXISTS "trg_conversation_state_insert" ON "conversations";
DROP FUNCTION IF EXISTS pytake_log_agent_status();
DROP FUNCTION IF EXISTS pytake_log_conversation_state();
DROP TABLE IF EXISTS "conversation_work_log";
DROP TABLE IF EXISTS "agent_status_log";
DROP TABLE IF EXISTS "conversation_state_log";
"""
