-- The sequencer: moves committed outbox rows to the event log in commit order, numbering them
-- under one advisory lock (core/events.py explains why sequencing happens after commit).
-- core/events.py calls it after every commit that emitted events, and on each periodic sweep.
CREATE OR REPLACE FUNCTION pytake_sequence_events(p_max_rows integer)
RETURNS TABLE (out_seq bigint, out_prev bigint, out_stream varchar, out_type varchar, out_payload text)
LANGUAGE plpgsql AS $fn$
DECLARE
    v_head bigint;
    v_start bigint;
    v_prev bigint;
    r record;
BEGIN
    -- One sequencer at a time, across every process: numbers are handed out in commit order.
    PERFORM pg_advisory_xact_lock(7265020);
    SELECT last_seq INTO v_head FROM stream_heads WHERE stream = '*';
    v_head := COALESCE(v_head, 0);
    v_start := v_head;
    FOR r IN
        WITH moved AS (
            DELETE FROM event_outbox WHERE id IN (SELECT id FROM event_outbox ORDER BY id LIMIT p_max_rows)
            RETURNING id, stream, type, payload, created_at
        ) SELECT * FROM moved ORDER BY id
    LOOP
        v_head := v_head + 1;
        SELECT last_seq INTO v_prev FROM stream_heads WHERE stream = r.stream;
        INSERT INTO stream_heads (stream, last_seq) VALUES (r.stream, v_head)
            ON CONFLICT (stream) DO UPDATE SET last_seq = EXCLUDED.last_seq;
        INSERT INTO events (seq, stream, prev_seq, type, payload, created_at)
            VALUES (v_head, r.stream, v_prev, r.type, r.payload, r.created_at);
        out_seq := v_head; out_prev := v_prev; out_stream := r.stream; out_type := r.type;
        out_payload := r.payload::text;
        RETURN NEXT;
    END LOOP;
    IF v_head > v_start THEN  -- the idle sweep writes nothing
        INSERT INTO stream_heads (stream, last_seq) VALUES ('*', v_head)
            ON CONFLICT (stream) DO UPDATE SET last_seq = EXCLUDED.last_seq;
    END IF;
END;
$fn$;
