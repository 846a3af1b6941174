-- The sequencer: moves committed outbox rows to the event log in commit order, numbering them
-- under one advisory lock (core/events.py explains why sequencing happens after commit).
-- core/events.py calls it after every commit that emitted events, and on each periodic sweep.
-- One statement for the whole batch (not a loop of four statements per event): the rows are
-- numbered in outbox order, each chained to the previous event of its stream (earlier in the
-- batch, else the stream's head), and each stream's head and the global head move once.
CREATE OR REPLACE FUNCTION pytake_sequence_events(p_max_rows integer)
RETURNS TABLE (out_seq bigint, out_prev bigint, out_stream varchar, out_type varchar, out_payload text)
LANGUAGE plpgsql AS $fn$
DECLARE
    v_head bigint;
BEGIN
    -- One sequencer at a time, across every process: numbers are handed out in commit order.
    PERFORM pg_advisory_xact_lock(7265020);
    v_head := COALESCE((SELECT last_seq FROM stream_heads WHERE stream = '*'), 0);
    RETURN QUERY
    WITH moved AS (
        DELETE FROM event_outbox WHERE id IN (SELECT id FROM event_outbox ORDER BY id LIMIT p_max_rows)
        RETURNING id, stream, type, payload, created_at
    ), numbered AS (
        SELECT v_head + row_number() OVER (ORDER BY m.id) AS seq, m.stream, m.type, m.payload, m.created_at
          FROM moved m
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
        SELECT '*', max(c.seq) FROM chained c HAVING count(*) > 0  -- the idle sweep writes nothing
        ON CONFLICT (stream) DO UPDATE SET last_seq = EXCLUDED.last_seq
    )
    SELECT c.seq, c.prev, c.stream::varchar, c.type::varchar, c.payload::text FROM chained c ORDER BY c.seq;
END;
$fn$;
