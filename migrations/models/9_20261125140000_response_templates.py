"""Response templates: the template (its current content, for the list and search), every saved
version (immutable: saving, rolling back and archiving only ever add rows here), and each agent's
use of each template (search ranks by it).

Search as the agent types: prefix on the folded shortcut and name (text_pattern_ops b-tree
indexes), full text on name and body with Portuguese and English stemming, accents folded by
pytake_fold as for messages (migrations/models/8_*).
"""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return r"""
CREATE TABLE IF NOT EXISTS "response_templates" (
    "id" SERIAL PRIMARY KEY,
    "name" VARCHAR(120) NOT NULL,
    "shortcut" VARCHAR(40),
    "category" VARCHAR(40),
    "tags" JSONB NOT NULL DEFAULT '[]',
    "team_ids" JSONB NOT NULL DEFAULT '[]',
    "body" TEXT NOT NULL,
    "version" INT NOT NULL,
    "usage_count" INT NOT NULL DEFAULT 0,
    "archived_at" TIMESTAMPTZ,
    "created_by_id" INT REFERENCES "users" ("id") ON DELETE SET NULL,
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "updated_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "search_key" TEXT GENERATED ALWAYS AS (pytake_fold("name")) STORED,
    "search_tsv" tsvector GENERATED ALWAYS AS (
        to_tsvector('portuguese', pytake_fold("name" || ' ' || "body"))
        || to_tsvector('english', pytake_fold("name" || ' ' || "body"))
    ) STORED
);
-- One live template per shortcut: an archived one gives its shortcut back.
CREATE UNIQUE INDEX IF NOT EXISTS "uid_response_templates_shortcut" ON "response_templates" ("shortcut")
    WHERE archived_at IS NULL;
CREATE INDEX IF NOT EXISTS "idx_response_templates_shortcut_prefix" ON "response_templates" ("shortcut" text_pattern_ops);
CREATE INDEX IF NOT EXISTS "idx_response_templates_name_prefix" ON "response_templates" ("search_key" text_pattern_ops);
CREATE INDEX IF NOT EXISTS "idx_response_templates_search" ON "response_templates" USING gin ("search_tsv");
CREATE INDEX IF NOT EXISTS "idx_response_templates_tags" ON "response_templates" USING gin ("tags");

CREATE TABLE IF NOT EXISTS "response_template_versions" (
    "id" SERIAL PRIMARY KEY,
    "template_id" INT NOT NULL REFERENCES "response_templates" ("id") ON DELETE CASCADE,
    "version" INT NOT NULL,
    "content" JSONB NOT NULL,
    "note" VARCHAR(200),
    "created_by_id" INT REFERENCES "users" ("id") ON DELETE SET NULL,
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE ("template_id", "version")
);

CREATE TABLE IF NOT EXISTS "response_template_usage" (
    "id" SERIAL PRIMARY KEY,
    "user_id" INT NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
    "template_id" INT NOT NULL REFERENCES "response_templates" ("id") ON DELETE CASCADE,
    "uses" INT NOT NULL DEFAULT 0,
    "last_used_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE ("user_id", "template_id")
);
"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
DROP TABLE IF EXISTS "response_template_usage";
DROP TABLE IF EXISTS "response_template_versions";
DROP TABLE IF EXISTS "response_templates";
"""
