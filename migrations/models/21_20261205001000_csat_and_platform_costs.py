"""CSAT (per-channel survey settings, surveys with the answer that counts, every answer received)
and platform ROI (prices per platform and message kind, labels that mean a conversion, conversions)."""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
CREATE TABLE IF NOT EXISTS "csat_settings" (
    "channel_id" INT NOT NULL PRIMARY KEY REFERENCES "channels" ("id") ON DELETE CASCADE,
    "enabled" BOOL NOT NULL DEFAULT False,
    "delay_seconds" INT NOT NULL DEFAULT 0,
    "question" TEXT NOT NULL,
    "window_seconds" INT NOT NULL DEFAULT 86400,
    "comment_seconds" INT NOT NULL DEFAULT 600,
    "updated_at" TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS "csat_surveys" (
    "id" BIGSERIAL PRIMARY KEY,
    "conversation_id" INT NOT NULL REFERENCES "conversations" ("id") ON DELETE CASCADE,
    "channel_id" INT NOT NULL REFERENCES "channels" ("id") ON DELETE CASCADE,
    "identity_id" INT REFERENCES "customer_identities" ("id") ON DELETE SET NULL,
    "platform" VARCHAR(32) NOT NULL,
    "status" VARCHAR(16) NOT NULL DEFAULT 'scheduled',
    "reason" TEXT,
    "agent_id" INT REFERENCES "users" ("id") ON DELETE SET NULL,
    "team_id" INT REFERENCES "teams" ("id") ON DELETE SET NULL,
    "template_ids" JSONB NOT NULL DEFAULT '[]',
    "resolved_at" TIMESTAMPTZ NOT NULL,
    "due_at" TIMESTAMPTZ NOT NULL,
    "sent_at" TIMESTAMPTZ,
    "expires_at" TIMESTAMPTZ,
    "message_id" BIGINT,
    "score" SMALLINT,
    "comment" TEXT,
    "answered_at" TIMESTAMPTZ,
    "comment_until" TIMESTAMPTZ,
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS "idx_csat_surveys_conversation" ON "csat_surveys" ("conversation_id");
-- Inbound messages look up their sender's open survey: only surveys sent and not yet expired are in it.
CREATE INDEX IF NOT EXISTS "idx_csat_surveys_open" ON "csat_surveys" ("identity_id", "id") WHERE "status" = 'sent';
CREATE INDEX IF NOT EXISTS "idx_csat_surveys_answered" ON "csat_surveys" ("answered_at") WHERE "score" IS NOT NULL;
CREATE TABLE IF NOT EXISTS "csat_answers" (
    "id" BIGSERIAL PRIMARY KEY,
    "survey_id" BIGINT NOT NULL REFERENCES "csat_surveys" ("id") ON DELETE CASCADE,
    "channel_id" INT NOT NULL REFERENCES "channels" ("id") ON DELETE CASCADE,
    "platform_message_id" VARCHAR(255) NOT NULL,
    "kind" VARCHAR(16) NOT NULL,
    "source" VARCHAR(16) NOT NULL,
    "score" SMALLINT,
    "text" TEXT,
    "counted" BOOL NOT NULL,
    "received_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT "uid_csat_answers_channel_message" UNIQUE ("channel_id", "platform_message_id")
);
CREATE INDEX IF NOT EXISTS "idx_csat_answers_survey" ON "csat_answers" ("survey_id");
CREATE TABLE IF NOT EXISTS "platform_prices" (
    "id" SERIAL PRIMARY KEY,
    "platform" VARCHAR(32) NOT NULL,
    "kind" VARCHAR(32) NOT NULL,
    "unit" VARCHAR(16) NOT NULL,
    "price" DECIMAL(14,6) NOT NULL,
    "currency" VARCHAR(3) NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT "uid_platform_prices_platform_kind" UNIQUE ("platform", "kind")
);
CREATE TABLE IF NOT EXISTS "conversion_labels" (
    "label" VARCHAR(50) NOT NULL PRIMARY KEY,
    "value" DECIMAL(14,2) NOT NULL,
    "currency" VARCHAR(3) NOT NULL
);
CREATE TABLE IF NOT EXISTS "conversions" (
    "id" BIGSERIAL PRIMARY KEY,
    "conversation_id" INT NOT NULL REFERENCES "conversations" ("id") ON DELETE CASCADE,
    "value" DECIMAL(14,2) NOT NULL,
    "currency" VARCHAR(3) NOT NULL,
    "source" VARCHAR(32) NOT NULL,
    "dedupe_key" VARCHAR(120) UNIQUE,
    "recorded_by_id" INT REFERENCES "users" ("id") ON DELETE SET NULL,
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS "idx_conversions_created" ON "conversions" ("created_at");
"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
DROP TABLE IF EXISTS "conversions";
DROP TABLE IF EXISTS "conversion_labels";
DROP TABLE IF EXISTS "platform_prices";
DROP TABLE IF EXISTS "csat_answers";
DROP TABLE IF EXISTS "csat_surveys";
DROP TABLE IF EXISTS "csat_settings";
"""
