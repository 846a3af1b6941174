"""Metrics: per-conversation facts, hourly and daily roll-ups with mergeable histograms, and the
roll-up job's cursor over the event log (resolvers/rollups.py)."""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
CREATE TABLE IF NOT EXISTS "metric_facts" (
    "id" BIGSERIAL PRIMARY KEY,
    "conversation_id" INT NOT NULL,
    "metric" VARCHAR(40) NOT NULL,
    "at" TIMESTAMPTZ NOT NULL,
    "n" INT NOT NULL DEFAULT 1,
    "value" DOUBLE PRECISION,
    "business" DOUBLE PRECISION,
    "platform" VARCHAR(32) NOT NULL,
    "channel_id" INT NOT NULL,
    "team_id" INT NOT NULL,
    "agent_id" INT NOT NULL,
    "labels" TEXT[] NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS "idx_metric_facts_conversation" ON "metric_facts" ("conversation_id");
CREATE TABLE IF NOT EXISTS "metric_rollups" (
    "id" BIGSERIAL PRIMARY KEY,
    "metric" VARCHAR(40) NOT NULL,
    "grain" VARCHAR(1) NOT NULL,
    "bucket" TIMESTAMPTZ NOT NULL,
    "platform" VARCHAR(32) NOT NULL,
    "channel_id" INT NOT NULL,
    "team_id" INT NOT NULL,
    "agent_id" INT NOT NULL,
    "label" VARCHAR(100) NOT NULL,
    "n" BIGINT NOT NULL DEFAULT 0,
    "total" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "total_business" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "hist" BYTEA,
    "hist_business" BYTEA,
    CONSTRAINT "uid_metric_rollups_key" UNIQUE ("metric", "grain", "platform", "channel_id", "team_id", "agent_id", "label", "bucket")
);
CREATE TABLE IF NOT EXISTS "metric_cursors" (
    "name" VARCHAR(40) PRIMARY KEY,
    "last_seq" BIGINT NOT NULL DEFAULT 0
);
"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
DROP TABLE IF EXISTS "metric_cursors";
DROP TABLE IF EXISTS "metric_rollups";
DROP TABLE IF EXISTS "metric_facts";
"""
