"""Audit and personal data (LGPD/GDPR).

- `audit_log` becomes append-only: a trigger refuses UPDATE, DELETE and TRUNCATE whatever role
  the application connects as (only a superuser or the table's owner disabling the trigger on
  purpose gets round it). Its rows name customers by id only; merges used to copy the merged
  customer's name/phone/e-mail into `details`: that copy is dropped once, here, before the trigger
  exists, so erasing a customer never needs to touch the log. Deleting a user who is named in the
  log is refused rather than cascading into it.
- `customer_exports`: a customer's data as one JSON document built by a job, served by a signed link.
- `customer_erasures`: who was anonymised, when, by whom (the reason is in the audit entry).
- `retention_policies`: per channel, how many days message bodies are kept.
- `scheduled_runs`: the last start of each periodic job, so one run per period across workers.
"""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return r"""
UPDATE "audit_log" SET "details" = "details" - 'source' WHERE "action" = 'customer.merge' AND "details" ? 'source';

ALTER TABLE "audit_log" DROP CONSTRAINT IF EXISTS "audit_log_actor_id_fkey";
ALTER TABLE "audit_log" ADD CONSTRAINT "audit_log_actor_id_fkey"
    FOREIGN KEY ("actor_id") REFERENCES "users" ("id") ON DELETE RESTRICT;
CREATE INDEX IF NOT EXISTS "idx_audit_log_target" ON "audit_log" ("target_type", "target_id", "id");
CREATE INDEX IF NOT EXISTS "idx_audit_log_actor" ON "audit_log" ("actor_id", "id");
CREATE INDEX IF NOT EXISTS "idx_audit_log_action" ON "audit_log" ("action", "id");

CREATE OR REPLACE FUNCTION pytake_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$fn$;
DROP TRIGGER IF EXISTS "audit_log_no_change" ON "audit_log";
CREATE TRIGGER "audit_log_no_change" BEFORE UPDATE OR DELETE ON "audit_log"
    FOR EACH ROW EXECUTE FUNCTION pytake_audit_log_append_only();
DROP TRIGGER IF EXISTS "audit_log_no_truncate" ON "audit_log";
CREATE TRIGGER "audit_log_no_truncate" BEFORE TRUNCATE ON "audit_log"
    FOR EACH STATEMENT EXECUTE FUNCTION pytake_audit_log_append_only();

CREATE TABLE IF NOT EXISTS "customer_exports" (
    "id" BIGSERIAL PRIMARY KEY,
    "customer_id" INT NOT NULL REFERENCES "customers" ("id") ON DELETE CASCADE,
    "requested_by_id" INT REFERENCES "users" ("id") ON DELETE SET NULL,
    "status" VARCHAR(16) NOT NULL,
    "content" TEXT,
    "error" TEXT,
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "finished_at" TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS "idx_customer_exports_customer" ON "customer_exports" ("customer_id");

CREATE TABLE IF NOT EXISTS "customer_erasures" (
    "customer_id" INT PRIMARY KEY REFERENCES "customers" ("id") ON DELETE CASCADE,
    "erased_by_id" INT REFERENCES "users" ("id") ON DELETE SET NULL,
    "erased_at" TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS "retention_policies" (
    "channel_id" INT PRIMARY KEY REFERENCES "channels" ("id") ON DELETE CASCADE,
    "message_body_days" INT NOT NULL CHECK ("message_body_days" > 0),
    "updated_at" TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS "scheduled_runs" (
    "name" VARCHAR(64) PRIMARY KEY,
    "last_started_at" TIMESTAMPTZ NOT NULL
);
"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
DROP TABLE IF EXISTS "scheduled_runs";
DROP TABLE IF EXISTS "retention_policies";
DROP TABLE IF EXISTS "customer_erasures";
DROP TABLE IF EXISTS "customer_exports";
DROP TRIGGER IF EXISTS "audit_log_no_truncate" ON "audit_log";
DROP TRIGGER IF EXISTS "audit_log_no_change" ON "audit_log";
DROP FUNCTION IF EXISTS pytake_audit_log_append_only();
DROP INDEX IF EXISTS "idx_audit_log_action";
DROP INDEX IF EXISTS "idx_audit_log_actor";
DROP INDEX IF EXISTS "idx_audit_log_target";
ALTER TABLE "audit_log" DROP CONSTRAINT IF EXISTS "audit_log_actor_id_fkey";
ALTER TABLE "audit_log" ADD CONSTRAINT "audit_log_actor_id_fkey"
    FOREIGN KEY ("actor_id") REFERENCES "users" ("id") ON DELETE CASCADE;
"""
