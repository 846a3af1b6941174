-- The heart of ingest: one inbound message becomes customer → conversation → message → events in
-- one statement, so a webhook costs one round trip. resolvers/inbound.py calls it and lists its
-- rules; migrations/models/6_* explains how it came to be. The events carry the API's shapes
-- (pytake_message_json, pytake_conversation_json in 20_shapes.sql), the same keys a query returns.
-- `pytake_ingest_one` is the rule and hands its two events back; `pytake_ingest_message` (one
-- message inside the caller's transaction) writes them to the outbox, `pytake_ingest_group` (a
-- group) logs them itself before its commit (both ways in: 40_sequence_events.sql). A new signature would be
-- a second function beside these: DROP FUNCTION IF EXISTS the old signature above the CREATE, and
-- change resolvers/ingest_group.py in the same commit.

CREATE OR REPLACE FUNCTION pytake_ingest_one(
    p_channel_id integer, p_platform text, p_platform_message_id text, p_sender_id text, p_sender_name text,
    p_sender_phone text, p_sender_email text, p_reply_address text, p_kind text, p_text text, p_reply_to text,
    p_thread_refs text[], p_new_thread boolean, p_attachments jsonb, p_metadata jsonb,
    p_sent_at timestamptz, p_inbox_stream text, p_conversation_stream_prefix text
) RETURNS TABLE (out_outcome integer, out_conversation_id integer, out_streams text[], out_types text[],
                 out_payloads jsonb[]) LANGUAGE plpgsql AS $fn$
DECLARE
    v_identity integer;
    v_customer jsonb;
    v_customer_id integer;
    v_conversation_id integer;
    v_created boolean := false;
    v_message messages%ROWTYPE;
    v_message_id bigint;
    v_conversation conversations%ROWTYPE;
    v_message_json jsonb;
    v_previous_status text;
    v_team_id integer;
BEGIN
    -- One sender on one channel at a time: the same customer writing twice at once lands in one
    -- conversation, and a concurrent redelivery sees the first copy.
    PERFORM pg_advisory_xact_lock(hashtextextended('identity:' || p_channel_id || ':' || p_sender_id, 0));
    IF EXISTS (SELECT 1 FROM messages WHERE channel_id = p_channel_id AND platform_message_id = p_platform_message_id) THEN
        out_outcome := 0;  -- a redelivery: nothing stored, nothing to tell
        out_streams := '{}';
        out_types := '{}';
        out_payloads := '{}';
        RETURN NEXT;
        RETURN;
    END IF;

    SELECT i.id, i.customer_id INTO v_identity, v_customer_id
      FROM customer_identities i WHERE i.channel_id = p_channel_id AND i.external_id = p_sender_id;
    IF v_identity IS NULL THEN
        -- A verified phone/e-mail already known on another platform is the same person. The lock
        -- makes two first messages from one number on two platforms agree on one customer.
        IF p_sender_phone IS NOT NULL THEN
            PERFORM pg_advisory_xact_lock(hashtextextended('phone:' || p_sender_phone, 0));
            SELECT id INTO v_customer_id FROM customers
             WHERE phone = p_sender_phone AND merged_into_id IS NULL ORDER BY id LIMIT 1;
        END IF;
        IF v_customer_id IS NULL AND p_sender_email IS NOT NULL THEN
            PERFORM pg_advisory_xact_lock(hashtextextended('email:' || p_sender_email, 0));
            SELECT id INTO v_customer_id FROM customers
             WHERE email = p_sender_email AND merged_into_id IS NULL ORDER BY id LIMIT 1;
        END IF;
        IF v_customer_id IS NULL THEN
            INSERT INTO customers (name, phone, email, created_at, updated_at)
                VALUES (p_sender_name, p_sender_phone, p_sender_email, now(), now())
                RETURNING id INTO v_customer_id;
        ELSE
            UPDATE customers SET phone = COALESCE(phone, p_sender_phone), email = COALESCE(email, p_sender_email),
                   name = COALESCE(name, p_sender_name), updated_at = now()
             WHERE id = v_customer_id;
        END IF;
        INSERT INTO customer_identities (customer_id, channel_id, platform, external_id, display_name, phone, email,
                                         reply_address, last_inbound_at, created_at)
            VALUES (v_customer_id, p_channel_id, p_platform, p_sender_id, p_sender_name, p_sender_phone,
                    p_sender_email, p_reply_address, p_sent_at, now())
            RETURNING id INTO v_identity;
    ELSE
        -- One write of the identity per message (name, reply address and the reply window's
        -- clock together), and none when nothing in it would change (an older redelivery).
        UPDATE customer_identities SET display_name = COALESCE(p_sender_name, display_name),
               reply_address = COALESCE(p_reply_address, reply_address),
               last_inbound_at = GREATEST(COALESCE(last_inbound_at, p_sent_at), p_sent_at)
         WHERE id = v_identity
           AND (display_name IS DISTINCT FROM COALESCE(p_sender_name, display_name)
                OR reply_address IS DISTINCT FROM COALESCE(p_reply_address, reply_address)
                OR last_inbound_at IS DISTINCT FROM GREATEST(COALESCE(last_inbound_at, p_sent_at), p_sent_at));
    END IF;
    -- The customer's conversations are shared by all their identities: serialise on the customer
    -- too, so messages arriving on two platforms at once agree on one conversation.
    PERFORM pg_advisory_xact_lock(hashtextextended('customer:' || v_customer_id, 0));
    SELECT jsonb_build_object('id', c.id, 'name', c.name, 'phone', c.phone, 'email', c.email) INTO v_customer
      FROM customers c WHERE c.id = v_customer_id;

    IF array_length(p_thread_refs, 1) > 0 THEN  -- a reply in a thread we know: that thread's conversation
        SELECT c.id, c.status INTO v_conversation_id, v_previous_status
          FROM messages m JOIN conversations c ON c.id = m.conversation_id
         WHERE m.channel_id = p_channel_id AND m.platform_message_id = ANY(p_thread_refs) AND c.status <> 'closed'
           AND c.customer_id = v_customer_id
         ORDER BY m.id DESC LIMIT 1;
    END IF;
    IF v_conversation_id IS NULL AND NOT p_new_thread THEN
        -- The customer's current conversation, whichever platform it started on (a resolved or
        -- pending one reopens); otherwise a new one.
        SELECT id, status INTO v_conversation_id, v_previous_status FROM conversations
         WHERE customer_id = v_customer_id AND status <> 'closed' ORDER BY last_message_at DESC NULLS LAST, id DESC LIMIT 1;
    END IF;
    IF v_conversation_id IS NULL THEN
        -- Routing: the first rule (by position) matching the platform, channel and language picks
        -- the team; its agents are then offered the conversation (resolvers/assignment.py).
        SELECT r.team_id INTO v_team_id FROM routing_rules r
         WHERE (r.platform IS NULL OR r.platform = p_platform) AND (r.channel_id IS NULL OR r.channel_id = p_channel_id)
           AND (r.language IS NULL OR r.language = NULLIF(p_metadata->>'language', '')) AND r.topic IS NULL
         ORDER BY r.position, r.id LIMIT 1;
        -- Written once, already holding its first message (whose id is taken first): a new
        -- conversation is not inserted and then updated, which would write the row and every one
        -- of its indexes twice.
        v_message_id := nextval('messages_id_seq');
        INSERT INTO conversations (channel_id, customer_id, identity_id, platform, status, unread_count,
                                   last_message_id, last_message_at, team_id, queued_at, language, created_at, updated_at)
            VALUES (p_channel_id, v_customer_id, v_identity, p_platform, 'open', 1, v_message_id, now(), v_team_id,
                    CASE WHEN v_team_id IS NOT NULL THEN now() END, NULLIF(p_metadata->>'language', ''), now(), now())
            RETURNING * INTO v_conversation;
        v_conversation_id := v_conversation.id;
        v_created := true;
    END IF;

    INSERT INTO messages (id, conversation_id, channel_id, identity_id, platform, direction, kind, text, status, platform_message_id,
                          reply_to_platform_id, attachments, metadata, created_at, sent_at, send_attempts)
        VALUES (COALESCE(v_message_id, nextval('messages_id_seq')), v_conversation_id, p_channel_id, v_identity, p_platform,
                'inbound', p_kind, p_text, 'received', p_platform_message_id,
                p_reply_to, p_attachments, p_metadata, now(), p_sent_at, 0)
        RETURNING * INTO v_message;
    IF NOT v_created THEN
        UPDATE conversations SET last_message_id = v_message.id, last_message_at = v_message.created_at,
               unread_count = unread_count + 1,
               status = CASE WHEN status IN ('resolved', 'pending', 'snoozed') THEN 'open' ELSE status END,
               snoozed_until = NULL, updated_at = now()
         WHERE id = v_conversation_id RETURNING * INTO v_conversation;
        IF v_previous_status IN ('resolved', 'pending', 'snoozed') THEN  -- the timeline says why it reopened
            INSERT INTO conversation_activities (conversation_id, actor_id, type, data, created_at)
                VALUES (v_conversation_id, NULL, 'status_changed',
                        jsonb_build_object('from', v_previous_status, 'to', 'open', 'reason', 'customer_wrote'), now());
        END IF;
    END IF;

    v_message_json := pytake_message_json(v_message);
    -- MESSAGE_CREATED on the conversation's stream, CONVERSATION_CREATED/UPDATED on the inbox.
    out_streams := ARRAY[p_conversation_stream_prefix || v_conversation_id, p_inbox_stream];
    out_types := ARRAY['MESSAGE_CREATED', CASE WHEN v_created THEN 'CONVERSATION_CREATED' ELSE 'CONVERSATION_UPDATED' END];
    out_payloads := ARRAY[
        jsonb_build_object('message', v_message_json),
        jsonb_build_object('conversation', pytake_conversation_json(v_conversation), 'last_message', v_message_json,
                           'customer', v_customer)];
    out_outcome := CASE WHEN v_created THEN 2 ELSE 1 END;  -- 2: a new conversation
    out_conversation_id := v_conversation_id;
    RETURN NEXT;
END;
$fn$;

-- One message inside the caller's transaction (a batched webhook, an import): its events go to
-- the outbox and are sequenced after that transaction commits (core/events.py).
CREATE OR REPLACE FUNCTION pytake_ingest_message(
    p_channel_id integer, p_platform text, p_platform_message_id text, p_sender_id text, p_sender_name text,
    p_sender_phone text, p_sender_email text, p_reply_address text, p_kind text, p_text text, p_reply_to text,
    p_thread_refs text[], p_new_thread boolean, p_attachments jsonb, p_metadata jsonb,
    p_sent_at timestamptz, p_inbox_stream text, p_conversation_stream_prefix text
) RETURNS TABLE (out_outcome integer, out_conversation_id integer) LANGUAGE plpgsql AS $fn$
DECLARE
    v record;
BEGIN
    SELECT * INTO v FROM pytake_ingest_one(p_channel_id, p_platform, p_platform_message_id, p_sender_id,
        p_sender_name, p_sender_phone, p_sender_email, p_reply_address, p_kind, p_text, p_reply_to, p_thread_refs,
        p_new_thread, p_attachments, p_metadata, p_sent_at, p_inbox_stream, p_conversation_stream_prefix);
    PERFORM pytake_outbox_events(v.out_streams, v.out_types, v.out_payloads);
    out_outcome := v.out_outcome;
    out_conversation_id := v.out_conversation_id;
    RETURN NEXT;
END;
$fn$;

-- Has this sender a CSAT survey waiting for an answer (sent, not expired)? Then a text of theirs
-- may be a rating or a comment, which resolvers/csat.py takes instead of ingest.
CREATE OR REPLACE FUNCTION pytake_survey_waits(p_channel_id integer, p_sender_id text) RETURNS boolean
LANGUAGE sql STABLE AS $fn$
    SELECT EXISTS (SELECT 1 FROM customer_identities i JOIN csat_surveys s ON s.identity_id = i.id
                    WHERE i.channel_id = p_channel_id AND i.external_id = p_sender_id
                      AND s.status = 'sent' AND s.expires_at > now());
$fn$;

-- Ingest in groups (resolvers/ingest_group.py): many webhooks' messages in one statement, so one
-- round trip and one commit. Messages are taken in a fixed order (channel, sender, then arrival)
-- so two groups lock senders in the same order. A message that fails fails the whole statement;
-- the caller then runs each message alone, so the others are stored and that one gets its error
-- (no subtransaction per message: the rare second pass costs less than one in every group).
-- Each element: channel_id, platform, platform_message_id, sender_id, sender_name, sender_phone,
-- sender_email, reply_address, kind, text, reply_to, thread_refs, new_thread, attachments,
-- metadata, sent_at (the arguments of pytake_ingest_one), and survey_check: when true and the
-- sender has a survey waiting (pytake_survey_waits), the message is not stored and comes back
-- with outcome 3, for resolvers/csat.py to take as an answer or hand back without the check.
-- With p_log the group's events go straight into the event log, numbered last, just before the
-- commit (pytake_log_events): one copy of each event and no sequencer round trip afterwards. The
-- rows come back in two kinds: one per message (out_index set) and one per logged event (ev_seq
-- set), for the caller to publish. Without p_log they go to the outbox like any transaction's.
CREATE OR REPLACE FUNCTION pytake_ingest_group(
    p_messages jsonb, p_inbox_stream text, p_conversation_stream_prefix text, p_log boolean
) RETURNS TABLE (out_index integer, out_outcome integer, out_conversation_id integer,
                 ev_seq bigint, ev_prev bigint, ev_stream varchar, ev_type varchar, ev_payload text)
LANGUAGE plpgsql AS $fn$
DECLARE
    r record;
    v record;
    v_streams text[] := '{}';
    v_types text[] := '{}';
    v_payloads jsonb[] := '{}';
BEGIN
    FOR r IN SELECT e.m, e.idx::integer AS idx FROM jsonb_array_elements(p_messages) WITH ORDINALITY AS e(m, idx)
             ORDER BY (e.m->>'channel_id')::integer, e.m->>'sender_id', e.idx LOOP
        out_index := r.idx - 1;
        IF (r.m->>'survey_check')::boolean
           AND pytake_survey_waits((r.m->>'channel_id')::integer, r.m->>'sender_id') THEN
            out_outcome := 3;
            out_conversation_id := NULL;
            RETURN NEXT;
            CONTINUE;
        END IF;
        SELECT * INTO v FROM pytake_ingest_one(
            (r.m->>'channel_id')::integer, r.m->>'platform', r.m->>'platform_message_id', r.m->>'sender_id',
            r.m->>'sender_name', r.m->>'sender_phone', r.m->>'sender_email', r.m->>'reply_address',
            r.m->>'kind', r.m->>'text', r.m->>'reply_to',
            ARRAY(SELECT jsonb_array_elements_text(COALESCE(r.m->'thread_refs', '[]'::jsonb))),
            COALESCE((r.m->>'new_thread')::boolean, false), COALESCE(r.m->'attachments', '[]'::jsonb),
            COALESCE(r.m->'metadata', '{}'::jsonb), (r.m->>'sent_at')::timestamptz,
            p_inbox_stream, p_conversation_stream_prefix);
        out_outcome := v.out_outcome;
        out_conversation_id := v.out_conversation_id;
        v_streams := v_streams || v.out_streams;
        v_types := v_types || v.out_types;
        v_payloads := v_payloads || v.out_payloads;
        RETURN NEXT;
    END LOOP;
    IF cardinality(v_streams) = 0 THEN
        RETURN;
    END IF;
    IF NOT p_log THEN
        PERFORM pytake_outbox_events(v_streams, v_types, v_payloads);
        RETURN;
    END IF;
    RETURN QUERY SELECT NULL::integer, NULL::integer, NULL::integer,
                        l.out_seq, l.out_prev, l.out_stream, l.out_type, l.out_payload
                   FROM pytake_log_events(v_streams, v_types, v_payloads) AS l;
END;
$fn$;

-- The group's events through the outbox, for processes of the previous release during a rolling
-- deploy (they call this name and sequence after commit).
CREATE OR REPLACE FUNCTION pytake_ingest_messages(
    p_messages jsonb, p_inbox_stream text, p_conversation_stream_prefix text
) RETURNS TABLE (out_index integer, out_outcome integer, out_conversation_id integer, out_error text)
LANGUAGE sql AS $fn$
    SELECT g.out_index, g.out_outcome, g.out_conversation_id, NULL::text
      FROM pytake_ingest_group(p_messages, p_inbox_stream, p_conversation_stream_prefix, false) AS g;
$fn$;
