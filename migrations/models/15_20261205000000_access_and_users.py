"""Who sees what, and users managed by admins: the "see every conversation" grant, the instant
after which a user's access tokens are refused, and the single-use e-mailed tokens (invitations,
password resets; only their sha256 is stored)."""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
-- Users who exist now saw every conversation before teams limited it: they keep doing so until an
-- admin narrows it (updateUser); users created from now on see their teams' only.
ALTER TABLE "users" ADD COLUMN IF NOT EXISTS "sees_all_conversations" BOOL NOT NULL DEFAULT TRUE;
ALTER TABLE "users" ALTER COLUMN "sees_all_conversations" SET DEFAULT FALSE;
ALTER TABLE "users" ADD COLUMN IF NOT EXISTS "tokens_valid_after" TIMESTAMPTZ;
CREATE TABLE IF NOT EXISTS "user_tokens" (
    "id" SERIAL PRIMARY KEY,
    "user_id" INT NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
    "purpose" VARCHAR(16) NOT NULL,
    "token_hash" VARCHAR(64) NOT NULL UNIQUE,
    "expires_at" TIMESTAMPTZ NOT NULL,
    "used_at" TIMESTAMPTZ,
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS "idx_user_tokens_user" ON "user_tokens" ("user_id");
"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
DROP TABLE IF EXISTS "user_tokens";
ALTER TABLE "users" DROP COLUMN IF EXISTS "tokens_valid_after";
ALTER TABLE "users" DROP COLUMN IF EXISTS "sees_all_conversations";
"""
