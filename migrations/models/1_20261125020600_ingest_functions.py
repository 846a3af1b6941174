"""Hot paths as single round trips.

`pytake_ingest_message`: one inbound message becomes customer → conversation → message → outbox
events in one statement (resolvers/inbound.py calls it; the rules are documented there).
`pytake_sequence_events`: moves committed outbox rows to the event log in commit order
(core/events.py explains why). Each was ten or so round trips from Python; as functions the
webhook path costs one.
"""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return r"""
CREATE OR REPLACE FUNCTION pytake_ingest_message(
    p_channel_id integer, p_platform text, p_platform_message_id text, p_sender_id text, p_sender_name text,
    p_sender_phone text, p_kind text, p_text text, p_reply_to text, p_attachments jsonb, p_metadata jsonb,
    p_sent_at timestamptz, p_inbox_stream text, p_conversation_stream_prefix text
) RETURNS boolean LANGUAGE plpgsql AS $fn$
DECLARE
    v_identity integer;
    v_display text;
    v_customer jsonb;
    v_customer_id integer;
    v_conversation_id integer;
    v_created boolean := false;
    v_message messages%ROWTYPE;
    v_conversation conversations%ROWTYPE;
    v_message_json jsonb;
BEGIN
    -- One sender on one channel at a time: the same customer writing twice at once lands in one
    -- conversation, and a concurrent redelivery sees the first copy.
    PERFORM pg_advisory_xact_lock(hashtextextended('identity:' || p_channel_id || ':' || p_sender_id, 0));
    IF EXISTS (SELECT 1 FROM messages WHERE channel_id = p_channel_id AND platform_message_id = p_platform_message_id) THEN
        RETURN false;
    END IF;

    SELECT i.id, i.display_name, i.customer_id INTO v_identity, v_display, v_customer_id
      FROM customer_identities i WHERE i.channel_id = p_channel_id AND i.external_id = p_sender_id;
    IF v_identity IS NULL THEN
        INSERT INTO customers (name, phone, created_at, updated_at) VALUES (p_sender_name, p_sender_phone, now(), now())
            RETURNING id INTO v_customer_id;
        INSERT INTO customer_identities (customer_id, channel_id, platform, external_id, display_name, phone, created_at)
            VALUES (v_customer_id, p_channel_id, p_platform, p_sender_id, p_sender_name, p_sender_phone, now())
            RETURNING id INTO v_identity;
    ELSIF p_sender_name IS NOT NULL AND p_sender_name IS DISTINCT FROM v_display THEN
        UPDATE customer_identities SET display_name = p_sender_name WHERE id = v_identity;
    END IF;
    UPDATE customer_identities SET last_inbound_at = GREATEST(COALESCE(last_inbound_at, p_sent_at), p_sent_at)
        WHERE id = v_identity;
    SELECT jsonb_build_object('id', c.id, 'name', c.name, 'phone', c.phone, 'email', c.email) INTO v_customer
      FROM customers c WHERE c.id = v_customer_id;

    -- The identity's current conversation (a resolved or pending one reopens), or a new one.
    SELECT id INTO v_conversation_id FROM conversations
     WHERE identity_id = v_identity AND status <> 'closed' ORDER BY id DESC LIMIT 1;
    IF v_conversation_id IS NULL THEN
        INSERT INTO conversations (channel_id, customer_id, identity_id, platform, status, unread_count,
                                   last_message_at, created_at, updated_at)
            VALUES (p_channel_id, v_customer_id, v_identity, p_platform, 'open', 0, now(), now(), now())
            RETURNING id INTO v_conversation_id;
        v_created := true;
    END IF;

    INSERT INTO messages (conversation_id, channel_id, direction, kind, text, status, platform_message_id,
                          reply_to_platform_id, attachments, metadata, created_at, sent_at, send_attempts)
        VALUES (v_conversation_id, p_channel_id, 'inbound', p_kind, p_text, 'received', p_platform_message_id,
                p_reply_to, p_attachments, p_metadata, now(), p_sent_at, 0)
        RETURNING * INTO v_message;
    UPDATE conversations SET last_message_id = v_message.id, last_message_at = v_message.created_at,
           unread_count = unread_count + 1,
           status = CASE WHEN status IN ('resolved', 'pending') THEN 'open' ELSE status END, updated_at = now()
     WHERE id = v_conversation_id RETURNING * INTO v_conversation;

    v_message_json := to_jsonb(v_message);
    INSERT INTO event_outbox (stream, type, payload, created_at) VALUES
        (p_conversation_stream_prefix || v_conversation_id, 'MESSAGE_CREATED',
         jsonb_build_object('message', v_message_json), now()),
        (p_inbox_stream, CASE WHEN v_created THEN 'CONVERSATION_CREATED' ELSE 'CONVERSATION_UPDATED' END,
         jsonb_build_object('conversation', to_jsonb(v_conversation), 'last_message', v_message_json,
                            'customer', v_customer), now());
    RETURN true;
END;
$fn$;

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
"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
DROP FUNCTION IF EXISTS pytake_ingest_message(integer, text, text, text, text, text, text, text, text, jsonb, jsonb,
                                              timestamptz, text, text);
DROP FUNCTION IF EXISTS pytake_sequence_events(integer);
"""
