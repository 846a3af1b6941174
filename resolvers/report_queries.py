"""The SQL behind each report kind, over the raw tables (the roll-ups answer dashboards; a report
lists rows, so it reads the rows). Each query takes the same parameters:
$1 start, $2 end (the range is [start, end)), $3 platform, $4 channel id, $5 team id, $6 agent id
(each null: any), $7 the teams a supervisor may see (null: every team, for admins).

The definitions follow the metrics service's (README "Metrics"), for a conversation's first care
cycle, in wall-clock seconds: an *agent reply* is an outbound message a user wrote that did not
fail and is not a bot's (`metadata.flow`) or automated (`metadata.automated`); notes never count.
"""

from __future__ import annotations

from models.reports import ReportKind


def _conversation_filter(c: str, platform_column: str, agent_column: str | None = None) -> str:
    """The filters on conversation `c`; the agent filter on `agent_column` (default: the assignee)."""
    agent = agent_column or f"{c}.assignee_id"
    return (
        f"($3::text IS NULL OR {platform_column} = $3) AND ($4::int IS NULL OR {c}.channel_id = $4) "
        f"AND ($5::int IS NULL OR {c}.team_id = $5) AND ($6::int IS NULL OR {agent} = $6) "
        f"AND ($7::int[] IS NULL OR {c}.team_id = ANY($7))"
    )


_AGENT_REPLY = (
    "m.direction = 'outbound' AND m.sender_id IS NOT NULL AND m.status <> 'failed' "
    "AND NOT (m.metadata ? 'flow') AND (m.metadata->>'automated') IS DISTINCT FROM 'true'"
)
_RESOLVED = "a.type = 'status_changed' AND a.data->>'to' IN ('resolved', 'closed')"

CONVERSATIONS = f"""
SELECT c.id AS conversation_id, c.created_at, first_in.at AS first_customer_message_at,
       c.platform, ch.name AS channel, t.name AS team, u.name AS agent, c.status,
       first_reply.at AS first_response_at,
       EXTRACT(EPOCH FROM first_reply.at - COALESCE(handoff.at, first_in.at)) AS first_response_seconds,
       resolved.at AS resolved_at,
       EXTRACT(EPOCH FROM resolved.at - COALESCE(first_in.at, c.created_at)) AS resolution_seconds
FROM conversations c
JOIN channels ch ON ch.id = c.channel_id
LEFT JOIN teams t ON t.id = c.team_id
LEFT JOIN users u ON u.id = c.assignee_id
LEFT JOIN LATERAL (SELECT min(m.created_at) AS at FROM messages m
                   WHERE m.conversation_id = c.id AND m.direction = 'inbound') first_in ON true
LEFT JOIN LATERAL (SELECT min(a.created_at) AS at FROM conversation_activities a
                   WHERE a.conversation_id = c.id AND a.type = 'flow_handed_off'
                   AND a.created_at >= first_in.at) handoff ON true
LEFT JOIN LATERAL (SELECT min(m.created_at) AS at FROM messages m
                   WHERE m.conversation_id = c.id AND {_AGENT_REPLY}
                   AND m.created_at >= COALESCE(handoff.at, first_in.at)) first_reply ON true
LEFT JOIN LATERAL (SELECT min(a.created_at) AS at FROM conversation_activities a
                   WHERE a.conversation_id = c.id AND {_RESOLVED}) resolved ON true
WHERE c.created_at >= $1 AND c.created_at < $2 AND {_conversation_filter("c", "c.platform")}
ORDER BY c.id
"""

# Days in the report's zone: $8 is the zone name (an extra parameter for this kind only).
MESSAGE_VOLUME = f"""
SELECT (m.created_at AT TIME ZONE $8)::date AS day, m.platform,
       count(*) FILTER (WHERE m.direction = 'inbound') AS inbound,
       count(*) FILTER (WHERE m.direction = 'outbound') AS outbound,
       count(*) FILTER (WHERE {_AGENT_REPLY}) AS agent_replies
FROM messages m JOIN conversations c ON c.id = m.conversation_id
WHERE m.created_at >= $1 AND m.created_at < $2 AND m.direction <> 'note'
  AND {_conversation_filter("c", "m.platform")}
GROUP BY 1, 2 ORDER BY 1, 2
"""

# Per agent: conversations started in the range now assigned to them; their replies and the
# resolutions they made (a `status_changed` to resolved/closed by them) in the range.
AGENTS = f"""
WITH assigned AS (
    SELECT c.assignee_id AS user_id, count(*) AS conversations FROM conversations c
    WHERE c.created_at >= $1 AND c.created_at < $2 AND c.assignee_id IS NOT NULL
      AND {_conversation_filter("c", "c.platform")} GROUP BY 1
), replies AS (
    SELECT m.sender_id AS user_id, count(*) AS replies,
           count(DISTINCT m.conversation_id) AS conversations_replied
    FROM messages m JOIN conversations c ON c.id = m.conversation_id
    WHERE m.created_at >= $1 AND m.created_at < $2 AND {_AGENT_REPLY}
      AND {_conversation_filter("c", "m.platform", "m.sender_id")}
    GROUP BY 1
), resolutions AS (
    SELECT a.actor_id AS user_id, count(*) AS resolutions
    FROM conversation_activities a JOIN conversations c ON c.id = a.conversation_id
    WHERE a.created_at >= $1 AND a.created_at < $2 AND {_RESOLVED} AND a.actor_id IS NOT NULL
      AND {_conversation_filter("c", "c.platform", "a.actor_id")}
    GROUP BY 1
)
SELECT u.id AS agent_id, u.name AS agent,
       COALESCE(assigned.conversations, 0) AS conversations_assigned,
       COALESCE(replies.conversations_replied, 0) AS conversations_replied,
       COALESCE(replies.replies, 0) AS replies,
       COALESCE(resolutions.resolutions, 0) AS resolutions
FROM users u
LEFT JOIN assigned ON assigned.user_id = u.id
LEFT JOIN replies ON replies.user_id = u.id
LEFT JOIN resolutions ON resolutions.user_id = u.id
WHERE assigned.user_id IS NOT NULL OR replies.user_id IS NOT NULL OR resolutions.user_id IS NOT NULL
ORDER BY u.id
"""

SQL = {
    ReportKind.CONVERSATIONS: CONVERSATIONS,
    ReportKind.MESSAGE_VOLUME: MESSAGE_VOLUME,
    ReportKind.AGENTS: AGENTS,
}
# Columns, in file order; times are rendered in the report's zone, durations in whole seconds.
COLUMNS = {
    ReportKind.CONVERSATIONS: (
        "conversation_id",
        "created_at",
        "first_customer_message_at",
        "platform",
        "channel",
        "team",
        "agent",
        "status",
        "first_response_at",
        "first_response_seconds",
        "resolved_at",
        "resolution_seconds",
    ),
    ReportKind.MESSAGE_VOLUME: ("day", "platform", "inbound", "outbound", "agent_replies"),
    ReportKind.AGENTS: (
        "agent_id",
        "agent",
        "conversations_assigned",
        "conversations_replied",
        "replies",
        "resolutions",
    ),
}
