"""Alert rules, alerts and their transitions, one evaluation per rule and period; notifications,
their e-mail/Slack deliveries, preferences, and the notifier's cursor in the event log."""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
CREATE TABLE IF NOT EXISTS "alert_rules" (
    "id" SERIAL PRIMARY KEY,
    "name" VARCHAR(120) NOT NULL,
    "kind" VARCHAR(32) NOT NULL,
    "scope_type" VARCHAR(16),
    "scope_value" VARCHAR(64),
    "condition" VARCHAR(8) NOT NULL,
    "threshold" DOUBLE PRECISION NOT NULL,
    "window_seconds" INT NOT NULL,
    "severity" VARCHAR(16) NOT NULL,
    "cooldown_seconds" INT NOT NULL DEFAULT 0,
    "params" JSONB NOT NULL DEFAULT '{}',
    "enabled" BOOL NOT NULL DEFAULT TRUE,
    "created_by_id" INT REFERENCES "users" ("id") ON DELETE SET NULL,
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "updated_at" TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS "alert_evaluations" (
    "id" SERIAL PRIMARY KEY,
    "rule_id" INT NOT NULL REFERENCES "alert_rules" ("id") ON DELETE CASCADE,
    "period_start" TIMESTAMPTZ NOT NULL,
    "value" DOUBLE PRECISION,
    "firing" BOOL NOT NULL DEFAULT FALSE,
    "evaluated_at" TIMESTAMPTZ NOT NULL,
    CONSTRAINT "uid_alert_evaluations_rule_period" UNIQUE ("rule_id", "period_start")
);
CREATE TABLE IF NOT EXISTS "alerts" (
    "id" BIGSERIAL PRIMARY KEY,
    "rule_id" INT NOT NULL REFERENCES "alert_rules" ("id") ON DELETE CASCADE,
    "state" VARCHAR(16) NOT NULL,
    "severity" VARCHAR(16) NOT NULL,
    "value" DOUBLE PRECISION,
    "threshold" DOUBLE PRECISION NOT NULL,
    "opened_at" TIMESTAMPTZ NOT NULL,
    "last_seen_at" TIMESTAMPTZ NOT NULL,
    "acknowledged_at" TIMESTAMPTZ,
    "acknowledged_by_id" INT REFERENCES "users" ("id") ON DELETE SET NULL,
    "resolved_at" TIMESTAMPTZ
);
-- At most one active alert per rule: a firing rule updates it instead of opening another.
CREATE UNIQUE INDEX IF NOT EXISTS "uid_alerts_one_active" ON "alerts" ("rule_id") WHERE "state" <> 'resolved';
CREATE INDEX IF NOT EXISTS "idx_alerts_rule_resolved" ON "alerts" ("rule_id", "resolved_at");
CREATE TABLE IF NOT EXISTS "alert_transitions" (
    "id" BIGSERIAL PRIMARY KEY,
    "alert_id" BIGINT NOT NULL REFERENCES "alerts" ("id") ON DELETE CASCADE,
    "from_state" VARCHAR(16),
    "to_state" VARCHAR(16) NOT NULL,
    "value" DOUBLE PRECISION,
    "actor_id" INT REFERENCES "users" ("id") ON DELETE SET NULL,
    "at" TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS "idx_alert_transitions_alert" ON "alert_transitions" ("alert_id", "id");
CREATE TABLE IF NOT EXISTS "notifications" (
    "id" BIGSERIAL PRIMARY KEY,
    "user_id" INT NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
    "kind" VARCHAR(32) NOT NULL,
    "title" VARCHAR(200) NOT NULL,
    "body" TEXT NOT NULL,
    "data" JSONB NOT NULL DEFAULT '{}',
    "source_key" VARCHAR(64) NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "read_at" TIMESTAMPTZ,
    CONSTRAINT "uid_notifications_user_source" UNIQUE ("user_id", "source_key")
);
CREATE INDEX IF NOT EXISTS "idx_notifications_user" ON "notifications" ("user_id", "id");
CREATE INDEX IF NOT EXISTS "idx_notifications_unread" ON "notifications" ("user_id", "id") WHERE "read_at" IS NULL;
CREATE TABLE IF NOT EXISTS "notification_deliveries" (
    "id" BIGSERIAL PRIMARY KEY,
    "notification_id" BIGINT NOT NULL REFERENCES "notifications" ("id") ON DELETE CASCADE,
    "channel" VARCHAR(16) NOT NULL,
    "state" VARCHAR(16) NOT NULL,
    "deliver_after" TIMESTAMPTZ NOT NULL,
    "attempts" INT NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "sent_at" TIMESTAMPTZ,
    "claimed_at" TIMESTAMPTZ,
    CONSTRAINT "uid_notification_deliveries_channel" UNIQUE ("notification_id", "channel")
);
CREATE INDEX IF NOT EXISTS "idx_notification_deliveries_due" ON "notification_deliveries" ("deliver_after") WHERE "state" IN ('pending', 'sending');
CREATE TABLE IF NOT EXISTS "notification_preferences" (
    "user_id" INT PRIMARY KEY REFERENCES "users" ("id") ON DELETE CASCADE,
    "muted_kinds" JSONB NOT NULL DEFAULT '[]',
    "channels" JSONB NOT NULL DEFAULT '[]',
    "slack_webhook_url" TEXT,
    "timezone" VARCHAR(64) NOT NULL DEFAULT 'UTC',
    "quiet_start" VARCHAR(5),
    "quiet_end" VARCHAR(5),
    "updated_at" TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS "notifier_cursors" (
    "name" VARCHAR(32) PRIMARY KEY,
    "last_seq" BIGINT NOT NULL
);
-- The notifier starts at the present: history from before this release notifies nobody.
INSERT INTO "notifier_cursors" ("name", "last_seq")
    SELECT 'notifications', COALESCE(max("seq"), 0) FROM "events" ON CONFLICT DO NOTHING;
"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
DROP TABLE IF EXISTS "notifier_cursors";
DROP TABLE IF EXISTS "notification_preferences";
DROP TABLE IF EXISTS "notification_deliveries";
DROP TABLE IF EXISTS "notifications";
DROP TABLE IF EXISTS "alert_transitions";
DROP TABLE IF EXISTS "alerts";
DROP TABLE IF EXISTS "alert_evaluations";
DROP TABLE IF EXISTS "alert_rules";
"""
