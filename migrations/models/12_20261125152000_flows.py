"""Flows: the flow (its name and which version is published) and every saved version of its graph
(immutable: saving only ever adds a row). Executions and triggers come later and will read a
version by (flow_id, version), which is why a version never changes."""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return r"""
CREATE TABLE IF NOT EXISTS "flows" (
    "id" SERIAL PRIMARY KEY,
    "name" VARCHAR(120) NOT NULL,
    "version" INT NOT NULL,
    "published_version" INT,
    "published_at" TIMESTAMPTZ,
    "created_by_id" INT REFERENCES "users" ("id") ON DELETE SET NULL,
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "updated_at" TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS "flow_versions" (
    "id" SERIAL PRIMARY KEY,
    "flow_id" INT NOT NULL REFERENCES "flows" ("id") ON DELETE CASCADE,
    "version" INT NOT NULL,
    "definition" JSONB NOT NULL,
    "note" VARCHAR(200),
    "created_by_id" INT REFERENCES "users" ("id") ON DELETE SET NULL,
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE ("flow_id", "version")
);
"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
DROP TABLE IF EXISTS "flow_versions";
DROP TABLE IF EXISTS "flows";
"""
