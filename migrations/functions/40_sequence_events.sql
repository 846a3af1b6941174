-- The event log's numbering (core/events.py explains why seq order must be commit order).
--
-- `pytake_log_events` is the one rule: under one advisory lock, held until the caller's commit,
-- the events get the next seqs in the order given, each chained to the previous event of its
-- stream (earlier in the batch, else the stream's head), and each stream's head and the global
-- head move once. Whoever numbers holds the lock until it commits, so no later seq can become
-- visible before an earlier one. Two callers:
-- - `pytake_sequence_events`, after a commit that wrote to the outbox (core/events.py calls it
--   after every such commit and on each periodic sweep): moves committed outbox rows in id order.
-- - `pytake_ingest_group` (30_ingest_message.sql): a group of webhooks logs its own events as its
--   last step, so they are written once and need no sequencer round trip after the commit. The
--   lock is taken last, after every row lock the group needs, and holders of it touch nothing
--   but events and stream_heads: it cannot be part of a deadlock.
CREATE OR REPLACE FUNCTION pytake_log_events(p_streams text[], p_types text[], p_payloads jsonb[],
                                             p_created_at timestamptz[] DEFAULT NULL)
RETURNS TABLE (out_seq bigint, out_prev bigint, out_stream varchar, out_type varchar, out_payload text)
LANGUAGE plpgsql AS $fn$
DECLARE
    v_head bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(7265020);
    v_head := COALESCE((SELECT last_seq FROM stream_heads WHERE stream = '*'), 0);
    RETURN QUERY
    WITH numbered AS (
        SELECT v_head + e.n AS seq, e.stream, e.type, e.payload, COALESCE(p_created_at[e.n], now()) AS created_at
          FROM unnest(p_streams, p_types, p_payloads) WITH ORDINALITY AS e(stream, type, payload, n)
    ), chained AS (
        SELECT n.seq, n.stream, n.type, n.payload, n.created_at,
               COALESCE(lag(n.seq) OVER (PARTITION BY n.stream ORDER BY n.seq), h.last_seq) AS prev
          FROM numbered n LEFT JOIN stream_heads h ON h.stream = n.stream
    ), logged AS (
        INSERT INTO events (seq, stream, prev_seq, type, payload, created_at)
        SELECT c.seq, c.stream, c.prev, c.type, c.payload, c.created_at FROM chained c
    ), heads AS (
        INSERT INTO stream_heads (stream, last_seq)
        SELECT c.stream, max(c.seq) FROM chained c GROUP BY c.stream
        UNION ALL
        SELECT '*', max(c.seq) FROM chained c HAVING count(*) > 0  -- nothing to log writes nothing
        ON CONFLICT (stream) DO UPDATE SET last_seq = EXCLUDED.last_seq
    )
    SELECT c.seq, c.prev, c.stream::varchar, c.type::varchar, c.payload::text FROM chained c ORDER BY c.seq;
END;
$fn$;

-- The other way in: events written to the outbox in the caller's transaction, in the order given,
-- for `pytake_sequence_events` to number after that transaction commits.
CREATE OR REPLACE FUNCTION pytake_outbox_events(p_streams text[], p_types text[], p_payloads jsonb[])
RETURNS void LANGUAGE sql AS $fn$
    INSERT INTO event_outbox (stream, type, payload, created_at)
        SELECT e.stream, e.type, e.payload, now()
          FROM unnest(p_streams, p_types, p_payloads) WITH ORDINALITY AS e(stream, type, payload, n)
         ORDER BY e.n;
$fn$;

-- Moves up to p_max_rows committed outbox rows to the log, in outbox order, and returns them.
CREATE OR REPLACE FUNCTION pytake_sequence_events(p_max_rows integer)
RETURNS TABLE (out_seq bigint, out_prev bigint, out_stream varchar, out_type varchar, out_payload text)
LANGUAGE plpgsql AS $fn$
DECLARE
    v_streams text[];
    v_types text[];
    v_payloads jsonb[];
    v_created timestamptz[];
BEGIN
    -- Taken before the rows are chosen: two sequencers never pick the same rows.
    PERFORM pg_advisory_xact_lock(7265020);
    WITH moved AS (
        DELETE FROM event_outbox WHERE id IN (SELECT id FROM event_outbox ORDER BY id LIMIT p_max_rows)
        RETURNING id, stream, type, payload, created_at
    )
    SELECT array_agg(m.stream ORDER BY m.id), array_agg(m.type ORDER BY m.id), array_agg(m.payload ORDER BY m.id),
           array_agg(m.created_at ORDER BY m.id)
      INTO v_streams, v_types, v_payloads, v_created FROM moved m;
    IF v_streams IS NULL THEN  -- the idle sweep writes nothing
        RETURN;
    END IF;
    RETURN QUERY SELECT * FROM pytake_log_events(v_streams, v_types, v_payloads, v_created);
END;
$fn$;
