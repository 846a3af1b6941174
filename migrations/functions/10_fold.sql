-- pytake_fold: lower-case and strip accents, for search (resolvers/search.py).
-- Our own function rather than the `unaccent` extension, which the embedded PostgreSQL wheel lacks.
-- IMMUTABLE because stored generated columns and indexes use it (messages.search_tsv,
-- customers.search_text, customer_identities.search_text: migrations/models/8_*): re-applying the
-- same body changes nothing, but a NEW body does not recompute what is already stored. Changing
-- how text folds therefore also needs a versioned migration that rewrites those columns.
CREATE OR REPLACE FUNCTION pytake_fold(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $fn$
    SELECT translate(lower($1), 'áàâãäåāăąçćčďđéèêëēėęěğíìîïīįıłñńňóòôõöøōőŕřśšşťúùûüūůűųýÿžźż', 'aaaaaaaaacccddeeeeeeeegiiiiiiilnnnoooooooorrssstuuuuuuuuyyzzz')
$fn$;
