"""Twelve platforms, one customer.

- identities remember where replies go (`reply_address`) and a verified e-mail;
- every message records the identity it came from / went to and its platform, so one
  conversation can span platforms;
- merged customers keep a tombstone pointing at the survivor (splits and audits need it);
- edits/unsends of inbound messages;
- `channel_cursors`: where a pulled channel got to (IMAP's last UID, a Discord gateway session);
- channel health: when the last error happened.
"""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
ALTER TABLE "customer_identities" ADD COLUMN IF NOT EXISTS "reply_address" VARCHAR(255);
ALTER TABLE "customer_identities" ADD COLUMN IF NOT EXISTS "email" VARCHAR(254);
CREATE INDEX IF NOT EXISTS "idx_identities_customer" ON "customer_identities" ("customer_id");
ALTER TABLE "customers" ADD COLUMN IF NOT EXISTS "merged_into_id" INT REFERENCES "customers" ("id") ON DELETE SET NULL;
ALTER TABLE "messages" ADD COLUMN IF NOT EXISTS "identity_id" INT REFERENCES "customer_identities" ("id") ON DELETE SET NULL;
ALTER TABLE "messages" ADD COLUMN IF NOT EXISTS "platform" VARCHAR(32);
UPDATE "messages" m SET platform = ch.platform FROM "channels" ch WHERE ch.id = m.channel_id AND m.platform IS NULL;
ALTER TABLE "messages" ALTER COLUMN "platform" SET NOT NULL;
ALTER TABLE "messages" ADD COLUMN IF NOT EXISTS "edited_at" TIMESTAMPTZ;
ALTER TABLE "messages" ADD COLUMN IF NOT EXISTS "deleted_at" TIMESTAMPTZ;
UPDATE "messages" m SET identity_id = c.identity_id FROM "conversations" c
 WHERE m.conversation_id = c.id AND m.identity_id IS NULL;
CREATE INDEX IF NOT EXISTS "idx_conversations_customer" ON "conversations" ("customer_id", "status");
ALTER TABLE "channels" ADD COLUMN IF NOT EXISTS "last_error_at" TIMESTAMPTZ;
CREATE TABLE IF NOT EXISTS "channel_cursors" (
    "id" SERIAL PRIMARY KEY,
    "channel_id" INT NOT NULL REFERENCES "channels" ("id") ON DELETE CASCADE,
    "name" VARCHAR(64) NOT NULL,
    "value" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE ("channel_id", "name")
);
"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
DROP TABLE IF EXISTS "channel_cursors";
ALTER TABLE "channels" DROP COLUMN IF EXISTS "last_error_at";
DROP INDEX IF EXISTS "idx_conversations_customer";
ALTER TABLE "messages" DROP COLUMN IF EXISTS "deleted_at";
ALTER TABLE "messages" DROP COLUMN IF EXISTS "edited_at";
ALTER TABLE "messages" DROP COLUMN IF EXISTS "platform";
ALTER TABLE "messages" DROP COLUMN IF EXISTS "identity_id";
ALTER TABLE "customers" DROP COLUMN IF EXISTS "merged_into_id";
DROP INDEX IF EXISTS "idx_identities_customer";
ALTER TABLE "customer_identities" DROP COLUMN IF EXISTS "email";
ALTER TABLE "customer_identities" DROP COLUMN IF EXISTS "reply_address";
"""
