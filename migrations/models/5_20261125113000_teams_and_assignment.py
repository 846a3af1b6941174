"""Running a support team, part two: teams, agents' capacity/skills/presence, assignment queue.

- `teams` with members and an assignment strategy (round_robin, least_loaded, manual);
- `routing_rules`: which team a new conversation goes to (by platform, channel, language; a rule
  with none of them catches everything), and where an unassigned one goes when it is labelled with
  a topic. No matching rule: no automatic assignment;
- users: presence (online/away/offline), capacity (max concurrent open conversations, optionally
  per platform), skills, when they were last given a conversation (round-robin order);
- conversations: team, `queued_at` (waiting for an agent), `language`.
"""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
CREATE TABLE IF NOT EXISTS "teams" (
    "id" SERIAL PRIMARY KEY,
    "name" VARCHAR(120) NOT NULL UNIQUE,
    "strategy" VARCHAR(16) NOT NULL DEFAULT 'least_loaded',
    "sticky" BOOLEAN NOT NULL DEFAULT TRUE,
    "offline_grace_seconds" INT NOT NULL DEFAULT 300,
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS "team_members" (
    "id" SERIAL PRIMARY KEY,
    "team_id" INT NOT NULL REFERENCES "teams" ("id") ON DELETE CASCADE,
    "user_id" INT NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
    UNIQUE ("team_id", "user_id")
);
CREATE INDEX IF NOT EXISTS "idx_team_members_user" ON "team_members" ("user_id");
CREATE TABLE IF NOT EXISTS "routing_rules" (
    "id" SERIAL PRIMARY KEY,
    "team_id" INT NOT NULL REFERENCES "teams" ("id") ON DELETE CASCADE,
    "position" INT NOT NULL DEFAULT 0,
    "platform" VARCHAR(32),
    "channel_id" INT REFERENCES "channels" ("id") ON DELETE CASCADE,
    "language" VARCHAR(16),
    "topic" VARCHAR(50),
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT now()
);
ALTER TABLE "users" ADD COLUMN IF NOT EXISTS "presence" VARCHAR(8) NOT NULL DEFAULT 'offline';
ALTER TABLE "users" ADD COLUMN IF NOT EXISTS "presence_changed_at" TIMESTAMPTZ NOT NULL DEFAULT now();
ALTER TABLE "users" ADD COLUMN IF NOT EXISTS "capacity" INT NOT NULL DEFAULT 10;
ALTER TABLE "users" ADD COLUMN IF NOT EXISTS "platform_capacity" JSONB NOT NULL DEFAULT '{}';
ALTER TABLE "users" ADD COLUMN IF NOT EXISTS "skills" TEXT[] NOT NULL DEFAULT '{}';
ALTER TABLE "users" ADD COLUMN IF NOT EXISTS "last_assigned_at" TIMESTAMPTZ;
ALTER TABLE "users" ADD COLUMN IF NOT EXISTS "last_seen_at" TIMESTAMPTZ;
ALTER TABLE "conversations" ADD COLUMN IF NOT EXISTS "team_id" INT REFERENCES "teams" ("id") ON DELETE SET NULL;
ALTER TABLE "conversations" ADD COLUMN IF NOT EXISTS "queued_at" TIMESTAMPTZ;
ALTER TABLE "conversations" ADD COLUMN IF NOT EXISTS "language" VARCHAR(16);
CREATE INDEX IF NOT EXISTS "idx_conversations_queue" ON "conversations" ("team_id", "queued_at") WHERE queued_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS "idx_conversations_assignee_open" ON "conversations" ("assignee_id") WHERE status IN ('open', 'pending');
"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
DROP INDEX IF EXISTS "idx_conversations_assignee_open";
DROP INDEX IF EXISTS "idx_conversations_queue";
ALTER TABLE "conversations" DROP COLUMN IF EXISTS "language";
ALTER TABLE "conversations" DROP COLUMN IF EXISTS "queued_at";
ALTER TABLE "conversations" DROP COLUMN IF EXISTS "team_id";
ALTER TABLE "users" DROP COLUMN IF EXISTS "last_seen_at";
ALTER TABLE "users" DROP COLUMN IF EXISTS "last_assigned_at";
ALTER TABLE "users" DROP COLUMN IF EXISTS "skills";
ALTER TABLE "users" DROP COLUMN IF EXISTS "platform_capacity";
ALTER TABLE "users" DROP COLUMN IF EXISTS "capacity";
ALTER TABLE "users" DROP COLUMN IF EXISTS "presence_changed_at";
ALTER TABLE "users" DROP COLUMN IF EXISTS "presence";
DROP TABLE IF EXISTS "routing_rules";
DROP TABLE IF EXISTS "team_members";
DROP TABLE IF EXISTS "teams";
"""
