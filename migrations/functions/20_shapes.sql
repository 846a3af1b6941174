-- What a message and a conversation look like to the API: the ONE definition of their shapes.
-- The database functions serialise rows with these (the events pytake_ingest_message writes), and
-- resolvers/shapes.py reads its column lists from this file (the 'key', row.key pairs below), so a
-- query result and a live event carry the same keys. Internal columns (search_tsv, send_attempts,
-- sending_until, failed_at) stay out. To add a column to the API: add its pair here, then use it
-- in schema/types.py. Plain jsonb_build_object keeps these inlinable; it takes 50 pairs at most.

CREATE OR REPLACE FUNCTION pytake_message_json(m messages) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE AS $fn$
    SELECT jsonb_build_object(
        'id', m.id, 'conversation_id', m.conversation_id, 'channel_id', m.channel_id,
        'identity_id', m.identity_id, 'platform', m.platform, 'direction', m.direction, 'kind', m.kind,
        'text', m.text, 'status', m.status, 'platform_message_id', m.platform_message_id,
        'client_message_id', m.client_message_id, 'sender_id', m.sender_id,
        'reply_to_platform_id', m.reply_to_platform_id, 'attachments', m.attachments, 'metadata', m.metadata,
        'error_code', m.error_code, 'error_reason', m.error_reason, 'created_at', m.created_at,
        'sent_at', m.sent_at, 'delivered_at', m.delivered_at, 'read_at', m.read_at,
        'edited_at', m.edited_at, 'deleted_at', m.deleted_at
    )
$fn$;

CREATE OR REPLACE FUNCTION pytake_conversation_json(c conversations) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE AS $fn$
    SELECT jsonb_build_object(
        'id', c.id, 'channel_id', c.channel_id, 'customer_id', c.customer_id, 'identity_id', c.identity_id,
        'platform', c.platform, 'status', c.status, 'assignee_id', c.assignee_id,
        'last_message_id', c.last_message_id, 'last_message_at', c.last_message_at,
        'unread_count', c.unread_count, 'snoozed_until', c.snoozed_until, 'priority', c.priority,
        'labels', c.labels, 'escalation_level', c.escalation_level, 'team_id', c.team_id,
        'queued_at', c.queued_at, 'language', c.language, 'created_at', c.created_at,
        'updated_at', c.updated_at
    )
$fn$;
