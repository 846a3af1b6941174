"""WhatsApp's approved (HSM) templates: each channel's catalogue as the Cloud API last listed it
(status kept current by the template status webhooks), and each channel's sync state: whether
it was ever synced decides if a template missing from the catalogue may still be sent.
"""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return r"""
CREATE TABLE IF NOT EXISTS "whatsapp_templates" (
    "id" SERIAL PRIMARY KEY,
    "channel_id" INT NOT NULL REFERENCES "channels" ("id") ON DELETE CASCADE,
    "platform_template_id" VARCHAR(64),
    "name" VARCHAR(512) NOT NULL,
    "language" VARCHAR(20) NOT NULL,
    "category" VARCHAR(40),
    "status" VARCHAR(30) NOT NULL,
    "status_reason" TEXT,
    "status_changed_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "parameter_format" VARCHAR(20) NOT NULL DEFAULT 'POSITIONAL',
    "components" JSONB NOT NULL DEFAULT '[]',
    "synced_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE ("channel_id", "name", "language")
);
CREATE INDEX IF NOT EXISTS "idx_whatsapp_templates_channel_status" ON "whatsapp_templates" ("channel_id", "status");

CREATE TABLE IF NOT EXISTS "whatsapp_template_syncs" (
    "channel_id" INT PRIMARY KEY REFERENCES "channels" ("id") ON DELETE CASCADE,
    "attempted_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "synced_at" TIMESTAMPTZ,
    "last_error" TEXT
);
"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
DROP TABLE IF EXISTS "whatsapp_template_syncs";
DROP TABLE IF EXISTS "whatsapp_templates";
"""
