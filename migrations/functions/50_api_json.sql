-- The API's own spelling of two values, for the responses PostgreSQL builds itself (the read path
-- planner's SQL, schema/planner/sql_json.py): byte for byte what the Python side writes. Not
-- STRICT and no stricter volatility than their bodies, so PostgreSQL inlines them (a function
-- call per value costs more than the value).

-- A global id: base64 of "<Type>:<id>" (schema/relay.py to_global_id). PostgreSQL's base64 breaks
-- lines after 76 characters; "<Type>:<bigint>" stays far below that. (The text has no backslash,
-- so its cast to bytea is its bytes.)
CREATE OR REPLACE FUNCTION pytake_gid(type_name text, pk bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT encode((type_name || ':' || pk::text)::bytea, 'base64')
$fn$;

-- A timestamp as Python's datetime.isoformat() writes an aware UTC one (the DateTime scalar):
-- microseconds only when there are any, always "+00:00".
CREATE OR REPLACE FUNCTION pytake_iso(t timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $fn$
    SELECT replace(to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), '.000000', '') || '+00:00'
$fn$;
