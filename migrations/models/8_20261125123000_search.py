"""Search: full-text over message bodies (Portuguese and English stemming, accent-insensitive)
and substring matching over customers' names, phones, e-mails and platform identities; saved views.

Accents are folded by our own IMMUTABLE function (no `unaccent` extension needed: the embedded
PostgreSQL wheel ships without contrib), so it can feed stored generated columns. Trigram indexes
(`pg_trgm`) make the substring matches fast where the extension exists (production, CI); where it
does not, the same queries still answer, scanning.
"""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return r"""
CREATE OR REPLACE FUNCTION pytake_fold(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $fn$
    SELECT translate(lower($1), 'áàâãäåāăąçćčďđéèêëēėęěğíìîïīįıłñńňóòôõöøōőŕřśšşťúùûüūůűųýÿžźż', 'aaaaaaaaacccddeeeeeeeegiiiiiiilnnnoooooooorrssstuuuuuuuuyyzzz')
$fn$;

ALTER TABLE "messages" ADD COLUMN IF NOT EXISTS "search_tsv" tsvector GENERATED ALWAYS AS (
    to_tsvector('portuguese', pytake_fold(coalesce("text", ''))) || to_tsvector('english', pytake_fold(coalesce("text", '')))
) STORED;
CREATE INDEX IF NOT EXISTS "idx_messages_search" ON "messages" USING gin ("search_tsv");

ALTER TABLE "customers" ADD COLUMN IF NOT EXISTS "search_text" TEXT GENERATED ALWAYS AS (
    pytake_fold(coalesce("name", '') || ' ' || coalesce("phone", '') || ' ' || coalesce("email", ''))
) STORED;
ALTER TABLE "customer_identities" ADD COLUMN IF NOT EXISTS "search_text" TEXT GENERATED ALWAYS AS (
    pytake_fold(coalesce("external_id", '') || ' ' || coalesce("display_name", '') || ' ' || coalesce("phone", '')
                || ' ' || coalesce("email", ''))
) STORED;

DO $do$
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'pg_trgm is not available: customer and identity search will scan';
    END;
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        EXECUTE 'CREATE INDEX IF NOT EXISTS idx_customers_search_trgm ON customers USING gin (search_text gin_trgm_ops)';
        EXECUTE 'CREATE INDEX IF NOT EXISTS idx_identities_search_trgm ON customer_identities USING gin (search_text gin_trgm_ops)';
    END IF;
END
$do$;

CREATE TABLE IF NOT EXISTS "saved_views" (
    "id" SERIAL PRIMARY KEY,
    "user_id" INT NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
    "name" VARCHAR(120) NOT NULL,
    "query" TEXT,
    "filter" JSONB NOT NULL DEFAULT '{}',
    "position" INT NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE ("user_id", "name")
);
"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
DROP TABLE IF EXISTS "saved_views";
DROP INDEX IF EXISTS "idx_identities_search_trgm";
DROP INDEX IF EXISTS "idx_customers_search_trgm";
ALTER TABLE "customer_identities" DROP COLUMN IF EXISTS "search_text";
ALTER TABLE "customers" DROP COLUMN IF EXISTS "search_text";
DROP INDEX IF EXISTS "idx_messages_search";
ALTER TABLE "messages" DROP COLUMN IF EXISTS "search_tsv";
DROP FUNCTION IF EXISTS pytake_fold(text);
"""
