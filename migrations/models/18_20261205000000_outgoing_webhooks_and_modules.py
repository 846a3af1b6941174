"""Signed outgoing webhooks (endpoints, one delivery per event and endpoint, every attempt) and
modules (which extension packages are enabled, and their configuration)."""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
CREATE TABLE IF NOT EXISTS "webhook_endpoints" (
    "id" SERIAL PRIMARY KEY,
    "url" VARCHAR(2000) NOT NULL,
    "description" VARCHAR(200) NOT NULL DEFAULT '',
    "events" JSONB NOT NULL,
    "filters" JSONB NOT NULL,
    "secrets_encrypted" TEXT NOT NULL,
    "previous_expires_at" TIMESTAMPTZ,
    "allow_private_network" BOOL NOT NULL DEFAULT FALSE,
    "enabled" BOOL NOT NULL DEFAULT TRUE,
    "disabled_reason" VARCHAR(300),
    "disabled_at" TIMESTAMPTZ,
    "failing_since" TIMESTAMPTZ,
    "cursor" BIGINT NOT NULL DEFAULT 0,
    "created_by_id" INT REFERENCES "users" ("id") ON DELETE SET NULL,
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "updated_at" TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS "webhook_deliveries" (
    "id" BIGSERIAL PRIMARY KEY,
    "delivery_id" UUID NOT NULL UNIQUE,
    "endpoint_id" INT NOT NULL REFERENCES "webhook_endpoints" ("id") ON DELETE CASCADE,
    "event_seq" BIGINT,
    "event_type" VARCHAR(60) NOT NULL,
    "conversation_id" BIGINT,
    "body" TEXT NOT NULL,
    "status" VARCHAR(12) NOT NULL DEFAULT 'pending',
    "attempts" INT NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ NOT NULL,
    "lease_until" TIMESTAMPTZ,
    "last_status_code" INT,
    "last_error" VARCHAR(500),
    "replay_of_id" BIGINT REFERENCES "webhook_deliveries" ("id") ON DELETE SET NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "delivered_at" TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS "idx_webhook_de_endpoin_status" ON "webhook_deliveries" ("endpoint_id", "status", "conversation_id", "id");
-- The fan-out may run twice over the same events (a crash after insert, before the cursor moved
-- in another process): an event reaches an endpoint once, replays aside.
CREATE UNIQUE INDEX IF NOT EXISTS "uid_webhook_de_event" ON "webhook_deliveries" ("endpoint_id", "event_seq")
    WHERE "replay_of_id" IS NULL AND "event_seq" IS NOT NULL;
-- What is due now: the claim's scan.
CREATE INDEX IF NOT EXISTS "idx_webhook_de_due" ON "webhook_deliveries" ("next_attempt_at") WHERE "status" = 'pending';

CREATE TABLE IF NOT EXISTS "webhook_attempts" (
    "id" BIGSERIAL PRIMARY KEY,
    "delivery_id" BIGINT NOT NULL REFERENCES "webhook_deliveries" ("id") ON DELETE CASCADE,
    "started_at" TIMESTAMPTZ NOT NULL,
    "duration_ms" INT NOT NULL,
    "status_code" INT,
    "error" VARCHAR(500),
    "succeeded" BOOL NOT NULL
);
CREATE INDEX IF NOT EXISTS "idx_webhook_at_delivery" ON "webhook_attempts" ("delivery_id");

CREATE TABLE IF NOT EXISTS "webhook_dispatcher" (
    "id" INT PRIMARY KEY,
    "armed_until" TIMESTAMPTZ NOT NULL
);
INSERT INTO "webhook_dispatcher" ("id", "armed_until") VALUES (1, '-infinity') ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS "modules" (
    "name" VARCHAR(80) PRIMARY KEY,
    "enabled" BOOL NOT NULL DEFAULT FALSE,
    "failed_reason" VARCHAR(500),
    "cursor" BIGINT NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS "module_configurations" (
    "id" SERIAL PRIMARY KEY,
    "module_id" VARCHAR(80) NOT NULL UNIQUE REFERENCES "modules" ("name") ON DELETE CASCADE,
    "config" JSONB NOT NULL,
    "updated_by_id" INT REFERENCES "users" ("id") ON DELETE SET NULL,
    "updated_at" TIMESTAMPTZ NOT NULL DEFAULT now()
);
"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
DROP TABLE IF EXISTS "module_configurations";
DROP TABLE IF EXISTS "modules";
DROP TABLE IF EXISTS "webhook_dispatcher";
DROP TABLE IF EXISTS "webhook_attempts";
DROP TABLE IF EXISTS "webhook_deliveries";
DROP TABLE IF EXISTS "webhook_endpoints";
"""
