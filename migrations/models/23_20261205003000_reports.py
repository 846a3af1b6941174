"""Reports built by a job (CSV and JSON files, with progress) and weekly/monthly schedules that
e-mail them. The due-schedule index keeps the periodic check a short index scan."""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
CREATE TABLE IF NOT EXISTS "report_schedules" (
    "id" SERIAL PRIMARY KEY,
    "kind" VARCHAR(32) NOT NULL,
    "frequency" VARCHAR(16) NOT NULL,
    "timezone" VARCHAR(64) NOT NULL DEFAULT 'UTC',
    "filters" JSONB NOT NULL,
    "recipients" JSONB NOT NULL,
    "created_by_id" INT REFERENCES "users" ("id") ON DELETE SET NULL,
    "next_run_at" TIMESTAMPTZ NOT NULL,
    "last_run_at" TIMESTAMPTZ,
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX IF NOT EXISTS "idx_report_schedules_due" ON "report_schedules" ("next_run_at");
CREATE TABLE IF NOT EXISTS "reports" (
    "id" BIGSERIAL PRIMARY KEY,
    "kind" VARCHAR(32) NOT NULL,
    "starts_at" TIMESTAMPTZ NOT NULL,
    "ends_at" TIMESTAMPTZ NOT NULL,
    "timezone" VARCHAR(64) NOT NULL DEFAULT 'UTC',
    "filters" JSONB NOT NULL,
    "requested_by_id" INT REFERENCES "users" ("id") ON DELETE SET NULL,
    "schedule_id" INT REFERENCES "report_schedules" ("id") ON DELETE SET NULL,
    "status" VARCHAR(16) NOT NULL DEFAULT 'pending',
    "rows_total" BIGINT,
    "rows_done" BIGINT NOT NULL DEFAULT 0,
    "error" TEXT,
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ,
    "finished_at" TIMESTAMPTZ,
    "emailed_at" TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS "idx_reports_requested_by" ON "reports" ("requested_by_id", "id");
"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
DROP TABLE IF EXISTS "reports";
DROP TABLE IF EXISTS "report_schedules";
"""
