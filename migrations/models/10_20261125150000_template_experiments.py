"""A/B experiments on response templates: two or more bodies with weights. Arms live in the
experiment row (fixed at start, so every send and every report sees the same arms); which arm a
message came from is in its metadata.response_template ({experiment, arm}), and outcomes are
counted from messages and conversations (resolvers/template_experiments.py), so nothing here
can drift from what happened.

One running experiment per template (a partial unique index: two starts racing, one wins).
"""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return r"""
CREATE TABLE IF NOT EXISTS "response_template_experiments" (
    "id" SERIAL PRIMARY KEY,
    "template_id" INT NOT NULL REFERENCES "response_templates" ("id") ON DELETE CASCADE,
    "version" INT NOT NULL,
    "arms" JSONB NOT NULL,
    "alpha" DOUBLE PRECISION NOT NULL,
    "mixing_variance" DOUBLE PRECISION NOT NULL,
    "started_by_id" INT REFERENCES "users" ("id") ON DELETE SET NULL,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "stopped_by_id" INT REFERENCES "users" ("id") ON DELETE SET NULL,
    "stopped_at" TIMESTAMPTZ,
    "promoted_arm" VARCHAR(40),
    "promoted_version" INT
);
CREATE UNIQUE INDEX IF NOT EXISTS "uid_response_template_experiments_running"
    ON "response_template_experiments" ("template_id") WHERE stopped_at IS NULL;
-- The report reads an experiment's sends: messages carrying its id in their metadata.
CREATE INDEX IF NOT EXISTS "idx_messages_template_experiment"
    ON "messages" ((("metadata" -> 'response_template' ->> 'experiment')), "conversation_id", "id")
    WHERE ("metadata" -> 'response_template' ->> 'experiment') IS NOT NULL;
"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
DROP INDEX IF EXISTS "idx_messages_template_experiment";
DROP TABLE IF EXISTS "response_template_experiments";
"""
