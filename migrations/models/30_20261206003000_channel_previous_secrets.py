"""A channel's rotated-out webhook secrets keep working for a while (resolvers/channels.py
rotate_webhook_secret): platforms go on signing with the old value until someone pastes the new one
in, so the previous generated secrets are kept, encrypted like the current ones, until
`previous_secrets_until` (WEBHOOK_SECRET_GRACE_HOURS after the rotation; an admin may end it early)."""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
ALTER TABLE "channels" ADD COLUMN IF NOT EXISTS "previous_secrets_encrypted" TEXT;
ALTER TABLE "channels" ADD COLUMN IF NOT EXISTS "previous_secrets_until" TIMESTAMPTZ;
"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
ALTER TABLE "channels" DROP COLUMN IF EXISTS "previous_secrets_until";
ALTER TABLE "channels" DROP COLUMN IF EXISTS "previous_secrets_encrypted";
"""
