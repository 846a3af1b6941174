"""API keys for integrators: only the sha256 of each key is stored (the key is shown once), with
its scopes, who made it, revocation and when and from where it was last used. The audit log gains
the key an action was taken with (only a column added: the log's own rules are elsewhere)."""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
CREATE TABLE IF NOT EXISTS "api_keys" (
    "id" SERIAL PRIMARY KEY,
    "name" VARCHAR(120) NOT NULL,
    "prefix" VARCHAR(16) NOT NULL,
    "token_hash" VARCHAR(64) NOT NULL UNIQUE,
    "scopes" TEXT[] NOT NULL,
    "created_by_id" INT NOT NULL REFERENCES "users" ("id") ON DELETE RESTRICT,
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "revoked_at" TIMESTAMPTZ,
    "revoked_by_id" INT REFERENCES "users" ("id") ON DELETE RESTRICT,
    "last_used_at" TIMESTAMPTZ,
    "last_used_ip" VARCHAR(64)
);
ALTER TABLE "audit_log" ADD COLUMN IF NOT EXISTS "api_key_id" INT REFERENCES "api_keys" ("id") ON DELETE RESTRICT;
CREATE INDEX IF NOT EXISTS "idx_audit_log_api_key" ON "audit_log" ("api_key_id") WHERE "api_key_id" IS NOT NULL;
"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
DROP INDEX IF EXISTS "idx_audit_log_api_key";
ALTER TABLE "audit_log" DROP COLUMN IF EXISTS "api_key_id";
DROP TABLE IF EXISTS "api_keys";
"""
