"""Running a support team, part three: SLA policies and their timers.

A policy applies to conversations of a team / priority / platform (first match by position) and
sets targets for the first response, each next response and resolution, counted in business
hours (per weekday, in the policy's time zone, minus holidays). `sla_timers` holds one row per
target per conversation (per customer message, for next responses): due, warn and the outcome
(met, warned, breached, cancelled), which is what metrics read.
"""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
CREATE TABLE IF NOT EXISTS "sla_policies" (
    "id" SERIAL PRIMARY KEY,
    "name" VARCHAR(120) NOT NULL,
    "position" INT NOT NULL DEFAULT 0,
    "team_id" INT REFERENCES "teams" ("id") ON DELETE CASCADE,
    "priority" VARCHAR(8),
    "platform" VARCHAR(32),
    "first_response_seconds" INT,
    "next_response_seconds" INT,
    "resolution_seconds" INT,
    "warn_before_seconds" INT NOT NULL DEFAULT 300,
    "timezone" VARCHAR(64) NOT NULL DEFAULT 'UTC',
    "business_hours" JSONB NOT NULL DEFAULT '{}',
    "holidays" DATE[] NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS "sla_timers" (
    "id" BIGSERIAL PRIMARY KEY,
    "conversation_id" INT NOT NULL REFERENCES "conversations" ("id") ON DELETE CASCADE,
    "policy_id" INT NOT NULL REFERENCES "sla_policies" ("id") ON DELETE CASCADE,
    "kind" VARCHAR(16) NOT NULL,
    "started_at" TIMESTAMPTZ NOT NULL,
    "due_at" TIMESTAMPTZ NOT NULL,
    "warn_at" TIMESTAMPTZ NOT NULL,
    "met_at" TIMESTAMPTZ,
    "warned_at" TIMESTAMPTZ,
    "breached_at" TIMESTAMPTZ,
    "cancelled_at" TIMESTAMPTZ,
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE ("conversation_id", "kind", "started_at")
);
CREATE INDEX IF NOT EXISTS "idx_sla_timers_pending" ON "sla_timers" ("warn_at")
    WHERE met_at IS NULL AND cancelled_at IS NULL AND breached_at IS NULL;
"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
DROP TABLE IF EXISTS "sla_timers";
DROP TABLE IF EXISTS "sla_policies";
"""
