"""CSAT: after a resolution, one survey on the customer's platform; their answer is stored, shown
in the timeline and announced (`CSAT_RECEIVED`).

- Resolving schedules a survey when the channel the customer last wrote on has CSAT on
  (`schedule_survey`, called by resolvers/lifecycle.py); a job sends it after the channel's delay
  (`send_survey`, jobs/csat.py) unless the customer wrote again meanwhile.
- The survey is an outbound message with no sender and `metadata.automated`: metrics and SLA
  timers never take it for an agent's reply, and it leaves the conversation's status alone.
  Platforms with reply buttons get five (payload `csat:<survey>:<score>`); others are asked to
  reply 1–5.
- resolvers/inbound.py hands over a button press or a typed 1–5 from the surveyed identity, and
  the next message within `comment_seconds` as its comment: a webhook's one message through
  `take_button`, then `take_text` when ingest's own statement held the text back because its
  sender has a survey waiting; a webhook's several messages through `take_answers` first.
  Those messages are stored as answers, not as conversation messages, so they do not reopen the
  resolved conversation. The last answer inside the window counts; a button pressed after it is
  recorded (not counted) and also reopens nothing; a typed number after it is an ordinary message.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient

from connectors.base import InboundMessage, ParsedWebhook, Platform
from connectors.registry import get_connector
from core import tasks
from core.auth import Actor
from core.crypto import body_for_write
from core.events import committed, conversation_stream, emit
from core.group_commit import GroupCommit
from core.sql import db, fetch, fetchrow, in_transaction
from resolvers import flow_hooks, visibility
from resolvers.activities import record_activity
from resolvers.auth import require_admin, require_supervisor, require_user
from resolvers.errors import BadInput, DomainError, NotFound
from resolvers.shapes import MESSAGE_COLUMNS, message_view
from resolvers.targets import reply_targets, resolve_target

CSAT_STREAM = "csat"  # CSAT_RECEIVED events (outgoing webhooks and flows read the log)
DEFAULT_QUESTION = (
    "How would you rate the help you got? 1 is very bad, 5 is excellent. You may add a comment after."
)
TYPED_HINT = "Reply with a number from 1 to 5."
SCORE_TITLES = ("1 Very bad", "2 Bad", "3 OK", "4 Good", "5 Excellent")
_PAYLOAD = re.compile(r"^csat:(\d{1,18}):([1-5])$")
_TYPED = re.compile(r"^\s*([1-5])\s*(?:/\s*5|stars?|⭐+)?\s*[.!]?\s*$", re.I)
MAX_DELAY = 7 * 86_400
MAX_WINDOW = 30 * 86_400
MAX_COMMENT = 4_000


# ---- settings -------------------------------------------------------------------------------


async def save_settings(
    actor: Actor | None,
    channel_id: int,
    *,
    enabled: bool,
    delay_seconds: int = 0,
    question: str | None = None,
    window_seconds: int = 86_400,
    comment_seconds: int = 600,
) -> dict[str, Any]:
    require_admin(actor)
    question = (question or DEFAULT_QUESTION).strip()
    if not 0 <= delay_seconds <= MAX_DELAY:
        raise BadInput(f"delaySeconds is 0 to {MAX_DELAY}", field="delaySeconds")
    if not 60 <= window_seconds <= MAX_WINDOW:
        raise BadInput(f"windowSeconds is 60 to {MAX_WINDOW}", field="windowSeconds")
    if not 0 <= comment_seconds <= window_seconds:
        raise BadInput("commentSeconds is 0 to windowSeconds", field="commentSeconds")
    if not 1 <= len(question) <= 1000:
        raise BadInput("question is 1 to 1000 characters", field="question")
    if not await fetch("SELECT 1 FROM channels WHERE id = $1", channel_id):
        raise NotFound(f"channel {channel_id} does not exist", field="channelId")
    row = await fetchrow(
        "INSERT INTO csat_settings (channel_id, enabled, delay_seconds, question, window_seconds, "
        "comment_seconds, updated_at) VALUES ($1, $2, $3, $4, $5, $6, now()) "
        "ON CONFLICT (channel_id) DO UPDATE SET enabled = $2, delay_seconds = $3, question = $4, "
        "window_seconds = $5, comment_seconds = $6, updated_at = now() RETURNING *",
        channel_id,
        enabled,
        delay_seconds,
        question,
        window_seconds,
        comment_seconds,
    )
    assert row is not None
    return row


async def get_settings(actor: Actor | None, channel_id: int) -> dict[str, Any]:
    """A channel's CSAT settings; the defaults (off) for a channel never configured."""
    require_supervisor(actor)
    if not await fetch("SELECT 1 FROM channels WHERE id = $1", channel_id):
        raise NotFound(f"channel {channel_id} does not exist", field="channelId")
    row = await fetchrow("SELECT * FROM csat_settings WHERE channel_id = $1", channel_id)
    return row or {
        "channel_id": channel_id,
        "enabled": False,
        "delay_seconds": 0,
        "question": DEFAULT_QUESTION,
        "window_seconds": 86_400,
        "comment_seconds": 600,
    }


# ---- the survey -----------------------------------------------------------------------------


async def schedule_survey(conversation_id: int) -> int | None:
    """The conversation was resolved: plan a survey where the customer last wrote, if that
    channel asks for one. Idempotent: one scheduled survey per conversation at a time, and none
    while an earlier one still takes answers. Returns the survey id."""
    target = next((t for t in await reply_targets(conversation_id) if t.is_default), None)
    if target is None:
        return None
    settings = await fetchrow(
        "SELECT delay_seconds FROM csat_settings WHERE channel_id = $1 AND enabled", target.channel_id
    )
    if settings is None:
        return None
    row = await fetchrow(
        "INSERT INTO csat_surveys (conversation_id, channel_id, identity_id, platform, status, agent_id, "
        "team_id, template_ids, resolved_at, due_at, created_at) "
        "SELECT c.id, $2, $3, $4, 'scheduled', c.assignee_id, c.team_id, COALESCE((SELECT jsonb_agg(DISTINCT "
        "(m.metadata->'response_template'->>'id')::int) FROM messages m WHERE m.conversation_id = c.id "
        "AND m.metadata ? 'response_template'), '[]'::jsonb), now(), now() + make_interval(secs => $5), now() "
        "FROM conversations c WHERE c.id = $1 AND NOT EXISTS (SELECT 1 FROM csat_surveys s WHERE "
        "s.conversation_id = c.id AND (s.status = 'scheduled' OR (s.status = 'sent' AND s.expires_at > now()))) "
        "RETURNING id",
        conversation_id,
        target.channel_id,
        target.identity_id,
        target.platform,
        settings["delay_seconds"],
    )
    if row is None:
        return None
    tasks.SEND_CSAT_SURVEY.send(row["id"], delay_ms=settings["delay_seconds"] * 1000)
    return row["id"]


async def send_survey(survey_id: int) -> str:
    """Send a scheduled survey (the job; safe to run twice). Returns sent / cancelled / skipped."""
    survey = await fetchrow(
        "SELECT s.*, c.status AS conversation_status, st.question, st.window_seconds FROM csat_surveys s "
        "JOIN conversations c ON c.id = s.conversation_id LEFT JOIN csat_settings st ON st.channel_id = s.channel_id "
        "WHERE s.id = $1 AND s.status = 'scheduled'",
        survey_id,
    )
    if survey is None:
        return "skipped"
    if survey["conversation_status"] not in ("resolved", "closed"):
        return await _close(survey_id, "cancelled", "the customer wrote again before the survey went out")
    try:
        target = await resolve_target(survey["conversation_id"], survey["channel_id"])
    except DomainError as exc:
        return await _close(survey_id, "skipped", exc.message)
    if target.identity_id is None:
        return await _close(survey_id, "skipped", "the customer never wrote on this channel")
    buttons = get_connector(Platform(target.platform)).capabilities.buttons
    question = survey["question"] or DEFAULT_QUESTION
    text = question if buttons else f"{question}\n{TYPED_HINT}"
    metadata: dict[str, Any] = {"automated": True, "csat_survey_id": survey_id}
    if buttons:
        metadata["buttons"] = [
            {"id": f"csat:{survey_id}:{score}", "title": title, "url": None}
            for score, title in enumerate(SCORE_TITLES, start=1)
        ]
    window = timedelta(seconds=survey["window_seconds"] or 86_400)
    async with in_transaction() as conn:
        claimed = await conn.execute_query_dict(
            "UPDATE csat_surveys SET status = 'sent', sent_at = now(), expires_at = now() + $2::interval, "
            "identity_id = $3 WHERE id = $1 AND status = 'scheduled' RETURNING conversation_id",
            [survey_id, window, target.identity_id],
        )
        if not claimed:
            return "skipped"  # another run sent it
        rows = await conn.execute_query_dict(
            "INSERT INTO messages (conversation_id, channel_id, identity_id, platform, direction, kind, text, "
            "status, client_message_id, attachments, metadata, created_at, send_attempts) VALUES "
            "($1, $2, $3, $4, 'outbound', 'text', $5, 'queued', $6, '[]'::jsonb, $7::jsonb, now(), 0) "
            f"RETURNING {MESSAGE_COLUMNS}",
            [
                survey["conversation_id"],
                target.channel_id,
                target.identity_id,
                target.platform,
                body_for_write(text),
                f"csat:{survey_id}",
                orjson.dumps(metadata).decode(),
            ],
        )
        message = message_view(rows[0])
        await conn.execute_query(
            "UPDATE csat_surveys SET message_id = $2 WHERE id = $1", [survey_id, message["id"]]
        )
        await emit(
            conn, conversation_stream(survey["conversation_id"]), "MESSAGE_CREATED", {"message": message}
        )
        await record_activity(
            conn, survey["conversation_id"], None, "csat_sent", {"survey_id": survey_id, "buttons": buttons}
        )
    committed()
    tasks.SEND_MESSAGE.send(message["id"])  # the agents' send path: jobs/outbound.py → deliver
    return "sent"


async def send_overdue_surveys() -> int:
    rows = await fetch(
        "SELECT id FROM csat_surveys WHERE status = 'scheduled' AND due_at < now() - interval '1 minute' "
        "ORDER BY due_at LIMIT 200"
    )
    for row in rows:
        await send_survey(row["id"])
    return len(rows)


async def _close(survey_id: int, status: str, reason: str) -> str:
    await fetch(
        "UPDATE csat_surveys SET status = $2, reason = $3 WHERE id = $1 AND status = 'scheduled'",
        survey_id,
        status,
        reason,
    )
    return status


# ---- answers --------------------------------------------------------------------------------


async def take_answers(channel_id: int, parsed: ParsedWebhook) -> tuple[ParsedWebhook, int]:
    """Take the survey answers out of a webhook's messages: (the rest, for ingest; answers taken)."""
    if not parsed.messages:
        return parsed, 0
    rest = [m for m in parsed.messages if not await _take(channel_id, m)]
    taken = len(parsed.messages) - len(rest)
    return (dataclasses.replace(parsed, messages=tuple(rest)) if taken else parsed), taken


def _button_payload(msg: InboundMessage) -> str | None:
    meta = msg.metadata
    value = meta.get("payload") if meta.get("payload") is not None else meta.get("id")
    return value if isinstance(value, str) else None


_SURVEY_OF_SENDER = (
    "SELECT s.id, s.conversation_id, s.score, s.comment, s.expires_at, s.comment_until, s.platform, "
    "s.channel_id, s.agent_id, s.team_id, COALESCE(st.comment_seconds, 600) AS comment_seconds "
    "FROM customer_identities i JOIN csat_surveys s ON s.identity_id = i.id "
    "LEFT JOIN csat_settings st ON st.channel_id = s.channel_id "
    "WHERE i.channel_id = $1 AND i.external_id = $2 AND s.status = 'sent' "
)


async def _take(channel_id: int, msg: InboundMessage) -> bool:
    if await take_button(channel_id, msg):
        return True
    if not may_answer_in_text(msg) or not await _may_be_surveyed(channel_id, msg.sender_id):
        return False
    return await take_text(channel_id, msg)


async def take_button(channel_id: int, msg: InboundMessage) -> bool:
    """A press of one of this customer's survey buttons, recorded (True); else False."""
    payload = _button_payload(msg)
    button = _PAYLOAD.match(payload) if payload else None
    if not button:
        return False
    survey = await fetchrow(_SURVEY_OF_SENDER + "AND s.id = $3", channel_id, msg.sender_id, int(button[1]))
    if survey is None:
        return False  # not this customer's survey: an ordinary message
    late = survey["expires_at"] <= datetime.now(UTC)
    return await _record(survey, msg, "score", "button", int(button[2]), None, counted=not late)


def may_answer_in_text(msg: InboundMessage) -> bool:
    """Could this message be a typed rating or a comment, if its sender has a survey waiting? A
    photo, a location...: never (and then nobody looks the survey up)."""
    return msg.kind.value == "text" and bool((msg.text or "").strip())


async def take_text(channel_id: int, msg: InboundMessage) -> bool:
    """The text as an answer to the sender's waiting survey: a typed 1–5 is its score, the next
    text within the comment window its comment (True, recorded); else False (an ordinary message).
    The caller has seen a survey waiting (`_may_be_surveyed`, or ingest's own check)."""
    survey = await fetchrow(
        _SURVEY_OF_SENDER + "AND s.expires_at > now() ORDER BY s.id DESC LIMIT 1", channel_id, msg.sender_id
    )
    if survey is None:
        return False
    typed = _TYPED.match(msg.text or "")
    if typed:
        return await _record(survey, msg, "score", "text", int(typed[1]), None, counted=True)
    waiting = survey["comment_until"] is not None and survey["comment_until"] > datetime.now(UTC)
    if waiting and survey["comment"] is None:
        return await _record(
            survey, msg, "comment", "text", None, (msg.text or "").strip()[:MAX_COMMENT], counted=True
        )
    return False


_survey_checks: dict[asyncio.AbstractEventLoop, GroupCommit[tuple[int, str], bool]] = {}


async def _may_be_surveyed(channel_id: int, sender_id: str) -> bool:
    """Has this sender a survey waiting for an answer? Almost never: the text messages arriving
    together ask in one statement (core/group_commit.py) instead of one each. Inside a caller's
    transaction the exact look-up below answers alone."""
    if isinstance(db(), TransactionalDBClient):
        return True
    loop = asyncio.get_running_loop()
    checks = _survey_checks.get(loop)
    if checks is None:
        for old in [old for old in _survey_checks if old.is_closed()]:
            del _survey_checks[old]
        checks = _survey_checks[loop] = GroupCommit(_senders_surveyed, max_size=64, max_inflight=2)
    return await checks.submit((channel_id, sender_id))


async def _senders_surveyed(senders: list[tuple[int, str]]) -> list[bool | BaseException]:
    rows = await fetch(  # pytake_survey_waits: migrations/functions/30_ingest_message.sql
        "SELECT DISTINCT x.channel_id, x.external_id FROM unnest($1::int[], $2::text[]) AS x(channel_id, external_id) "
        "WHERE pytake_survey_waits(x.channel_id, x.external_id)",
        [channel for channel, _ in senders],
        [sender for _, sender in senders],
    )
    surveyed = {(r["channel_id"], r["external_id"]) for r in rows}
    return [sender in surveyed for sender in senders]


async def _record(
    survey: dict[str, Any],
    msg: InboundMessage,
    kind: str,
    source: str,
    score: int | None,
    comment: str | None,
    *,
    counted: bool,
) -> bool:
    async with in_transaction() as conn:
        await conn.execute_query("SELECT 1 FROM csat_surveys WHERE id = $1 FOR UPDATE", [survey["id"]])
        inserted = await conn.execute_query_dict(
            "INSERT INTO csat_answers (survey_id, channel_id, platform_message_id, kind, source, score, text, "
            "counted, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now()) "
            "ON CONFLICT (channel_id, platform_message_id) DO NOTHING RETURNING id",
            [
                survey["id"],
                survey["channel_id"],
                msg.platform_message_id,
                kind,
                source,
                score,
                comment or msg.text,
                counted,
            ],
        )
        if not inserted:
            return True  # the platform's retry of an answer already taken
        if not counted:
            await record_activity(
                conn,
                survey["conversation_id"],
                None,
                "csat_late_answer",
                {"survey_id": survey["id"], "score": score},
            )
            return True
        if kind == "score":
            rows = await conn.execute_query_dict(
                "UPDATE csat_surveys SET score = $2, answered_at = now(), comment_until = LEAST(expires_at, "
                "now() + make_interval(secs => $3)) WHERE id = $1 RETURNING *",
                [survey["id"], score, survey["comment_seconds"]],
            )
        else:
            rows = await conn.execute_query_dict(
                "UPDATE csat_surveys SET comment = $2, comment_until = NULL WHERE id = $1 RETURNING *",
                [survey["id"], comment],
            )
        view = response_view(rows[0])
        data = {"survey_id": survey["id"], "score": view["score"], "source": source}
        if kind == "comment":
            data["comment"] = comment
        await record_activity(conn, survey["conversation_id"], None, "csat_received", data)
        await emit(conn, CSAT_STREAM, "CSAT_RECEIVED", {**view, "answer": kind})
    committed()
    if kind == "score":  # flows whose trigger is the event `csat_received` (detail: the score)
        flow_hooks.conversation_event(survey["conversation_id"], "csat_received", [str(score)])
    return True


async def erase_answers(conn: BaseDBAsyncClient, conversation_ids: list[int]) -> None:
    """A customer's erasure (resolvers/erasure.py, in its transaction): their comments and typed
    answers go from the surveys, the answers, the timeline and the event log; the ratings stay."""
    ids = [conversation_ids]
    await conn.execute_query(
        "UPDATE csat_surveys SET comment = NULL WHERE conversation_id = ANY($1::int[])", ids
    )
    await conn.execute_query(
        "UPDATE csat_answers SET text = NULL WHERE survey_id IN "
        "(SELECT id FROM csat_surveys WHERE conversation_id = ANY($1::int[]))",
        ids,
    )
    await conn.execute_query(
        "UPDATE conversation_activities SET data = data - 'comment' WHERE conversation_id = ANY($1::int[]) "
        "AND type = 'csat_received' AND data ? 'comment'",
        ids,
    )
    for table in ("events", "event_outbox"):
        await conn.execute_query(
            f"UPDATE {table} SET payload = jsonb_set(payload, '{{comment}}', 'null') WHERE stream = '{CSAT_STREAM}' "
            "AND (payload->>'conversation_id')::int = ANY($1::int[]) AND payload->>'comment' IS NOT NULL",
            ids,
        )


# ---- reading --------------------------------------------------------------------------------

RESPONSE_COLUMNS = (
    "id, conversation_id, channel_id, platform, agent_id, team_id, template_ids, score, comment, "
    "sent_at, answered_at"
)


def response_view(row: dict[str, Any]) -> dict[str, Any]:
    view = {k.strip(): row[k.strip()] for k in RESPONSE_COLUMNS.split(",")}
    view["survey_id"] = view["id"]
    if isinstance(view["template_ids"], str):
        view["template_ids"] = orjson.loads(view["template_ids"])
    for key in ("sent_at", "answered_at"):
        if isinstance(view[key], datetime):
            view[key] = view[key].isoformat()
    return view


async def _where(actor: Actor, filter_: dict[str, Any]) -> tuple[str, list[Any]]:
    """Answered surveys matching the filter: agents see those about themselves, supervisors those
    of the conversations they may see (resolvers/visibility.py), admins all."""
    clauses, args = ["s.score IS NOT NULL"], []

    def add(sql: str, value: Any) -> None:
        args.append(value)
        clauses.append(sql.format(f"${len(args)}"))

    if actor.role.value == "agent":
        add("s.agent_id = {}", actor.user_id)
    else:
        seen = (await visibility.scope_of(actor)).sql(args, "c")
        if seen:
            clauses.append(
                f"EXISTS (SELECT 1 FROM conversations c WHERE c.id = s.conversation_id AND {seen})"
            )
    for key, sql in (
        ("platform", "s.platform = {}"),
        ("channel_id", "s.channel_id = {}"),
        ("team_id", "s.team_id = {}"),
        ("agent_id", "s.agent_id = {}"),
        ("conversation_id", "s.conversation_id = {}"),
        ("since", "s.answered_at >= {}"),
        ("until", "s.answered_at < {}"),
    ):
        if filter_.get(key) is not None:
            add(sql, filter_[key])
    return " AND ".join(clauses), args


async def list_responses(
    actor: Actor | None, filter_: dict[str, Any], first: int = 50, after: int | None = None
) -> tuple[list[dict[str, Any]], bool]:
    """Answered surveys, newest first (keyset on id); (page, has_next)."""
    actor = require_user(actor)
    if not 1 <= first <= 100:
        raise BadInput("first is 1 to 100", field="first")
    where, args = await _where(actor, filter_)
    if after is not None:
        args.append(after)
        where += f" AND s.id < ${len(args)}"
    rows = await fetch(
        f"SELECT {', '.join('s.' + c.strip() for c in RESPONSE_COLUMNS.split(','))} FROM csat_surveys s "
        f"WHERE {where} ORDER BY s.id DESC LIMIT {first + 1}",
        *args,
    )
    return [response_view(r) for r in rows[:first]], len(rows) > first


GROUPS = {
    "platform": "s.platform",
    "channel": "s.channel_id::text",
    "agent": "s.agent_id::text",
    "team": "s.team_id::text",
    "template": "t.template_id",
}


async def csat_summary(
    actor: Actor | None, filter_: dict[str, Any], group_by: str | None = None
) -> list[dict[str, Any]]:
    """CSAT per group: answers, average, and the share of 4s and 5s (the usual "CSAT %").
    By template, a conversation that used two templates counts for both."""
    actor = require_user(actor)
    if group_by is not None and group_by not in GROUPS:
        raise BadInput(f"groupBy is one of {', '.join(GROUPS)}", field="groupBy")
    where, args = await _where(actor, filter_)
    key = GROUPS[group_by] if group_by else "NULL::text"
    join = (
        " CROSS JOIN LATERAL jsonb_array_elements_text(s.template_ids) AS t(template_id)"
        if group_by == "template"
        else ""
    )
    rows = await fetch(
        f"SELECT {key} AS key, count(*)::int AS responses, avg(s.score)::float AS average, "
        "(count(*) FILTER (WHERE s.score >= 4))::float / count(*) AS satisfied_share, "
        "array_agg(s.score ORDER BY s.score) AS scores "
        f"FROM csat_surveys s{join} WHERE {where} GROUP BY 1 ORDER BY 1 NULLS LAST",
        *args,
    )
    return [
        {
            "key": r["key"],
            "responses": r["responses"],
            "average": round(r["average"], 4),
            "satisfied_share": round(r["satisfied_share"], 4),
            "distribution": [list(r["scores"]).count(score) for score in range(1, 6)],
        }
        for r in rows
    ]
