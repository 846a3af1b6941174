"""Message bodies sealed at rest (ENCRYPT_MESSAGE_BODIES, core/crypto.py) while search still works;
the rotation's progress; marks that keep reads by API keys to one audit entry per minute; an index
for pruning finished outgoing webhook deliveries.

`messages.search_tsv` was a column generated from `text`. A sealed `text` is a Fernet token, so the
words must come from the plaintext before it is sealed: the column becomes a plain one (its values
and GIN index stay) written by a BEFORE trigger, with the same expression as before. Writers hand
the trigger either a plaintext body (indexed as before: sealing off, the behaviour is unchanged),
NULL (erasure, retention: no words), or the write form `pytake:sealed:<token>\\x1f<plaintext>`: the
trigger indexes the plaintext and stores only `pytake:sealed:<token>`, so the plaintext never
reaches the table. A sealed body written without its plaintext (the key rotation re-encrypting a
row) keeps the words it had. The ingest functions are untouched: they pass `text` through.

The tsvector itself holds the (stemmed, accent-folded) words of every body: whoever reads the table
learns which words a message contains, though not their order or the message. README "Personal data".
"""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return r"""
CREATE OR REPLACE FUNCTION pytake_message_tsv(text) RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT to_tsvector('portuguese', pytake_fold(coalesce($1, ''))) || to_tsvector('english', pytake_fold(coalesce($1, '')))
$fn$;

ALTER TABLE "messages" ALTER COLUMN "search_tsv" DROP EXPRESSION;

CREATE OR REPLACE FUNCTION pytake_message_words() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    v_cut integer;
BEGIN
    IF starts_with(NEW.text, 'pytake:sealed:') THEN
        v_cut := strpos(NEW.text, chr(31));
        IF v_cut > 0 THEN  -- the write form: index the plaintext, keep the token
            NEW.search_tsv := pytake_message_tsv(substr(NEW.text, v_cut + 1));
            NEW.text := left(NEW.text, v_cut - 1);
        ELSIF TG_OP = 'INSERT' THEN
            NEW.search_tsv := pytake_message_tsv(NULL);
        END IF;  -- an UPDATE to another token of the same body (rotation) keeps its words
    ELSE
        NEW.search_tsv := pytake_message_tsv(NEW.text);
    END IF;
    RETURN NEW;
END
$fn$;

CREATE TRIGGER "messages_words" BEFORE INSERT OR UPDATE OF "text" ON "messages"
    FOR EACH ROW EXECUTE FUNCTION pytake_message_words();

-- How far the re-encryption of sealed columns got, per column, for the newest key (resolvers/sealed.py).
CREATE TABLE IF NOT EXISTS "sealed_rotation" (
    "name" VARCHAR(60) PRIMARY KEY,
    "target" VARCHAR(40) NOT NULL,
    "after_id" BIGINT NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One mark per API key, operation and minute: reads by a key are audited once a minute each
-- (resolvers/api_keys.record_read), exactly, across API processes.
CREATE TABLE IF NOT EXISTS "api_key_reads" (
    "api_key_id" INT NOT NULL REFERENCES "api_keys" ("id") ON DELETE CASCADE,
    "operation" VARCHAR(200) NOT NULL,
    "minute" TIMESTAMPTZ NOT NULL,
    PRIMARY KEY ("api_key_id", "operation", "minute")
);

CREATE INDEX IF NOT EXISTS "idx_webhook_de_finished" ON "webhook_deliveries" ("created_at")
    WHERE "status" <> 'pending';
"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return r"""
DROP INDEX IF EXISTS "idx_webhook_de_finished";
DROP TABLE IF EXISTS "api_key_reads";
DROP TABLE IF EXISTS "sealed_rotation";
DROP TRIGGER IF EXISTS "messages_words" ON "messages";
DROP FUNCTION IF EXISTS pytake_message_words();
ALTER TABLE "messages" DROP COLUMN IF EXISTS "search_tsv";
ALTER TABLE "messages" ADD COLUMN "search_tsv" tsvector GENERATED ALWAYS AS (
    to_tsvector('portuguese', pytake_fold(coalesce("text", ''))) || to_tsvector('english', pytake_fold(coalesce("text", '')))
) STORED;
CREATE INDEX IF NOT EXISTS "idx_messages_search" ON "messages" USING gin ("search_tsv");
DROP FUNCTION IF EXISTS pytake_message_tsv(text);
"""
