"""NotificationService: who is told what, where, and when.

The notifier reads the event log (after a cursor kept in `notifier_cursors`) rather than hooking
every rule that changes a conversation: an `assigned` activity tells the new assignee, a note's
`@name` tells each user named, a customer's message tells the conversation's assignee, and an
alert opening tells supervisors and admins. Events are sequenced in commit order, so the cursor
never skips one; one notifier runs at a time (the cursor row is locked, others skip), and a
notification is unique per (user, event), so reading an event twice tells nobody twice.

Each notification is in the user's in-app list (`notifications`, `notificationEvents`); e-mail
and Slack deliveries follow the user's preferences: muted kinds are not notified at all, and
quiet hours (in the user's time zone) hold e-mail and Slack until they end.

A notification names what happened and where (conversation and message ids), never what was
said: the customer's words and notes stay in the conversation, where erasure and retention reach
them; a sent e-mail or Slack post cannot be taken back.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient

from connectors.notify_channels import DeliveryFailed, MailServer, post_slack, send_email
from core import cursors
from core.auth import Actor
from core.events import committed, emit, load_payload
from core.outage import Throttled
from core.settings import get_settings
from core.sql import fetch, fetchrow, in_transaction
from resolvers import visibility
from resolvers.auth import require_user
from resolvers.errors import BadInput

log = logging.getLogger(__name__)
# One line per minute at most: a batch of hand-written events would otherwise log one line each.
_unreadable = Throttled(log, every=60.0)

KINDS = ("assignment", "mention", "customer_reply", "alert")
EXTERNAL_CHANNELS = ("email", "slack")  # in-app is always on: the list is the record
MAX_ATTEMPTS = 5
_BATCH = 200
_CLAIM_LEASE = timedelta(minutes=5)
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def notification_stream(user_id: int) -> str:
    return f"notifications:{user_id}"


# ---- preferences ---------------------------------------------------------------------------------


_DEFAULTS = {
    "muted_kinds": [],
    "channels": [],
    "slack_webhook_url": None,
    "timezone": "UTC",
    "quiet_start": None,
    "quiet_end": None,
}


def _prefs_view(row: dict[str, Any] | None) -> dict[str, Any]:
    view = dict(_DEFAULTS, **(row or {}))
    for key in ("muted_kinds", "channels"):
        if isinstance(view[key], str):
            view[key] = orjson.loads(view[key])
    return view


async def preferences(actor: Actor | None) -> dict[str, Any]:
    actor = require_user(actor)
    return _prefs_view(
        await fetchrow("SELECT * FROM notification_preferences WHERE user_id = $1", actor.user_id)
    )


async def save_preferences(actor: Actor | None, **prefs: Any) -> dict[str, Any]:
    """Replace the caller's preferences: muted_kinds, channels (email, slack), slack_webhook_url,
    timezone (IANA), quiet_start/quiet_end ("HH:MM", both or neither; may wrap midnight)."""
    actor = require_user(actor)
    if unknown := set(prefs["muted_kinds"]) - set(KINDS):
        raise BadInput(f"unknown kinds {sorted(unknown)}; kinds are {', '.join(KINDS)}", field="mutedKinds")
    if unknown := set(prefs["channels"]) - set(EXTERNAL_CHANNELS):
        raise BadInput(f"channels are {', '.join(EXTERNAL_CHANNELS)} (in-app is always on)", field="channels")
    url = prefs["slack_webhook_url"]
    if url is not None and not re.match(r"^https?://[^\s/]+/\S*$", url):
        raise BadInput("slackWebhookUrl must be an http(s) URL", field="slackWebhookUrl")
    if "slack" in prefs["channels"] and not url:
        raise BadInput("Slack delivery needs slackWebhookUrl", field="slackWebhookUrl")
    try:
        ZoneInfo(prefs["timezone"])
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadInput("timezone must be an IANA zone such as Europe/Lisbon", field="timezone") from exc
    start, end = prefs["quiet_start"], prefs["quiet_end"]
    if (start is None) != (end is None) or any(v is not None and not _HHMM.match(v) for v in (start, end)):
        raise BadInput('quietStart and quietEnd are both "HH:MM", or both null', field="quietStart")
    rows = await fetch(
        "INSERT INTO notification_preferences (user_id, muted_kinds, channels, slack_webhook_url, timezone, "
        "quiet_start, quiet_end, updated_at) VALUES ($1, $2::jsonb, $3::jsonb, $4, $5, $6, $7, now()) "
        "ON CONFLICT (user_id) DO UPDATE SET muted_kinds = EXCLUDED.muted_kinds, channels = EXCLUDED.channels, "
        "slack_webhook_url = EXCLUDED.slack_webhook_url, timezone = EXCLUDED.timezone, "
        "quiet_start = EXCLUDED.quiet_start, quiet_end = EXCLUDED.quiet_end, updated_at = now() RETURNING *",
        actor.user_id,
        orjson.dumps(sorted(set(prefs["muted_kinds"]))).decode(),
        orjson.dumps(sorted(set(prefs["channels"]))).decode(),
        url,
        prefs["timezone"],
        start,
        end,
    )
    return _prefs_view(rows[0])


def quiet_until(prefs: dict[str, Any], now: datetime) -> datetime | None:
    """When the user's quiet hours end, if `now` is inside them (else None)."""
    if not prefs["quiet_start"]:
        return None
    zone = ZoneInfo(prefs["timezone"])
    local = now.astimezone(zone)
    start, end = time.fromisoformat(prefs["quiet_start"]), time.fromisoformat(prefs["quiet_end"])
    t = local.time()
    if start <= end:
        inside, ends_tomorrow = start <= t < end, False
    else:  # wraps midnight: 22:00–07:00
        inside, ends_tomorrow = t >= start or t < end, t >= start
    if not inside:
        return None
    day = local.date() + timedelta(days=1 if ends_tomorrow else 0)
    return datetime.combine(day, end, tzinfo=zone).astimezone(UTC)


# ---- the in-app list -----------------------------------------------------------------------------

_COLUMNS = "id, user_id, kind, title, body, data, created_at, read_at"


def _view(row: dict[str, Any]) -> dict[str, Any]:
    view = dict(row)
    if isinstance(view["data"], str):
        view["data"] = orjson.loads(view["data"])
    return view


async def list_notifications(actor: Actor | None, unread_only: bool, limit: int = 50) -> list[dict[str, Any]]:
    actor = require_user(actor)
    if not 1 <= limit <= 200:
        raise BadInput("limit is 1 to 200", field="limit")
    rows = await fetch(
        f"SELECT {_COLUMNS} FROM notifications WHERE user_id = $1 AND (NOT $2 OR read_at IS NULL) "
        "ORDER BY id DESC LIMIT $3",
        actor.user_id,
        unread_only,
        limit,
    )
    return [_view(r) for r in rows]


async def unread_count(actor: Actor | None) -> int:
    actor = require_user(actor)
    row = await fetchrow(
        "SELECT count(*) AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL", actor.user_id
    )
    return row["n"] if row else 0


async def mark_read(actor: Actor | None, ids: list[int] | None) -> int:
    """Mark the caller's notifications read (ids None: all of them); others' ids are ignored."""
    actor = require_user(actor)
    if ids is not None and len(ids) > 500:
        raise BadInput("at most 500 ids at once", field="ids")
    rows = await fetch(
        "WITH marked AS (UPDATE notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL "
        "AND ($2::bigint[] IS NULL OR id = ANY($2::bigint[])) RETURNING 1) SELECT count(*) AS n FROM marked",
        actor.user_id,
        ids,
    )
    return rows[0]["n"]


# ---- the notifier --------------------------------------------------------------------------------

_RELEVANT = (
    "(e.stream LIKE 'conversation:%' AND e.type IN ('MESSAGE_CREATED', 'ACTIVITY_ADDED')) "
    "OR (e.stream = 'alerts' AND e.type = 'ALERT_OPENED')"
)


_CURSOR = "SELECT last_seq FROM notifier_cursors WHERE name = 'notifications' FOR UPDATE"


async def notify_from_events(now: datetime | None = None, wait: bool = False) -> list[int]:
    """Read the next events after the cursor and notify; returns the e-mail/Slack deliveries due
    now (the job sends them; those held by quiet hours are found later by `due_deliveries`).
    Returns [] at once if another worker holds the cursor, unless `wait` (a run woken by new
    events, core/wake.py): then one such run waits for the holder to finish (core/cursors.py),
    since the holder may have read its batch before those events committed."""
    now = now or datetime.now(UTC)
    due: list[int] = []
    while True:
        async with in_transaction() as conn:
            cursor = await conn.execute_query_dict(_CURSOR + " SKIP LOCKED")
            events = []
            if cursor:
                events = await conn.execute_query_dict(
                    f"SELECT e.seq, e.stream, e.type, e.payload::text AS payload FROM events e "
                    f"WHERE e.seq > $1 AND ({_RELEVANT}) ORDER BY e.seq LIMIT {_BATCH}",
                    [cursor[0]["last_seq"]],
                )
            for event in events:
                for user_id, content in await _recipients(
                    conn, event["type"], load_payload(event["payload"])
                ):
                    due += await _notify(conn, user_id, f"event:{event['seq']}", content, now)
            if events:
                await conn.execute_query(
                    "UPDATE notifier_cursors SET last_seq = $1 WHERE name = 'notifications'",
                    [events[-1]["seq"]],
                )
        if not cursor:  # another worker has it
            if wait and await cursors.wait_turn(_CURSOR, [], "notifications"):
                wait = False
                continue
            return due
        wait = False  # in once: the cursor is ours to the end of the log
        committed()
        if len(events) < _BATCH:
            return due


async def _recipients(
    conn: BaseDBAsyncClient, type_: str, payload: dict[str, Any]
) -> list[tuple[int, dict[str, Any]]]:
    """Who an event notifies. An event of a shape this reader does not know (hand-written, erased,
    partial: a message or activity missing a field) notifies nobody. It must not raise: the cursor
    would stop on it, and every later notification with it."""
    try:
        return await _recipients_of(conn, type_, payload)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        _unreadable.warning("notifier passed over an event it cannot read", type=type_, error=repr(exc))
        return []


async def _recipients_of(
    conn: BaseDBAsyncClient, type_: str, payload: dict[str, Any]
) -> list[tuple[int, dict[str, Any]]]:
    if type_ == "ACTIVITY_ADDED":
        activity = payload.get("activity")
        if not isinstance(activity, dict):
            return []
        to = (activity.get("data") or {}).get("to_user_id")
        if activity["type"] != "assigned" or to is None or to == activity.get("actor_id"):
            return []
        cid = activity["conversation_id"]
        return [
            (
                to,
                {
                    "kind": "assignment",
                    "title": "A conversation was assigned to you",
                    "body": f"Conversation {cid} is now yours.",
                    "data": {"conversation_id": cid},
                },
            )
        ]
    if type_ == "ALERT_OPENED":
        alert = payload["alert"]
        people = await conn.execute_query_dict(
            "SELECT id FROM users WHERE is_active AND role IN ('admin', 'supervisor') ORDER BY id"
        )
        content = {
            "kind": "alert",
            "title": f"Alert: {alert['rule_name']} ({alert['severity']})",
            "body": f"{alert['kind']} is {alert['value']} (threshold {alert['threshold']}).",
            "data": {"alert_id": alert["id"], "rule_id": alert["rule_id"]},
        }
        return [(p["id"], content) for p in people]
    message = payload.get("message")
    if not isinstance(message, dict):
        return []  # an erased payload; a message missing a field is passed over by `_recipients`
    cid, text = message["conversation_id"], message.get("text") or ""
    data = {"conversation_id": cid, "message_id": message["id"]}
    if message["direction"] == "inbound":
        # The assignee now, unless they were assigned after this message came (it was not theirs:
        # their assignment notification covers it).
        rows = await conn.execute_query_dict(
            "SELECT c.assignee_id FROM conversations c WHERE c.id = $1 AND NOT EXISTS (SELECT 1 FROM "
            "conversation_activities a WHERE a.conversation_id = c.id AND a.type = 'assigned' "
            "AND (a.data->>'to_user_id')::int = c.assignee_id AND a.created_at > $2)",
            [cid, datetime.fromisoformat(message["created_at"])],
        )
        if not rows or rows[0]["assignee_id"] is None:
            return []
        body = f"Conversation {cid} has a new message from the customer."
        return [
            (
                rows[0]["assignee_id"],
                {"kind": "customer_reply", "title": "The customer wrote", "body": body, "data": data},
            )
        ]
    if message["direction"] == "note" and "@" in text:
        named = await _mentioned(conn, text, message.get("sender_id"))
        # Only those who may open the conversation are told (a note is no way around who sees what).
        allowed = await visibility.users_who_see(conn, cid, (user_id for user_id, _ in named))
        return [
            (
                user_id,
                {
                    "kind": "mention",
                    "title": f"{author} mentioned you in a note",
                    "body": f"You were mentioned in a note on conversation {cid}.",
                    "data": data,
                },
            )
            for user_id, author in named
            if user_id in allowed
        ]
    return []


async def _mentioned(conn: BaseDBAsyncClient, text: str, author_id: int | None) -> list[tuple[int, str]]:
    """Users named `@Full Name` or `@mailbox` (their e-mail's local part), whole words only, so
    `@ana` is not `@anabela`; the author is not told of their own note."""
    candidates = await conn.execute_query_dict(
        "SELECT id, name, split_part(email, '@', 1) AS handle, "
        "(SELECT name FROM users WHERE id = $2) AS author FROM users "
        "WHERE is_active AND id IS DISTINCT FROM $2 AND (strpos(lower($1), '@' || lower(name)) > 0 "
        "OR strpos(lower($1), '@' || lower(split_part(email, '@', 1))) > 0)",
        [text, author_id],
    )
    found = []
    for user in candidates:
        names = "|".join(re.escape(n) for n in (user["name"], user["handle"]) if n)
        if re.search(rf"@(?:{names})(?![\w.-]*\w)", text, re.IGNORECASE):
            found.append((user["id"], user["author"] or "Someone"))
    return found


async def _notify(
    conn: BaseDBAsyncClient, user_id: int, source_key: str, content: dict[str, Any], now: datetime
) -> list[int]:
    prefs = _prefs_view(
        (
            await conn.execute_query_dict(
                "SELECT * FROM notification_preferences WHERE user_id = $1", [user_id]
            )
            or [None]
        )[0]
    )
    if content["kind"] in prefs["muted_kinds"]:
        return []
    rows = await conn.execute_query_dict(
        "INSERT INTO notifications (user_id, kind, title, body, data, source_key, created_at) "
        "VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7) ON CONFLICT (user_id, source_key) DO NOTHING "
        f"RETURNING {_COLUMNS}",
        [
            user_id,
            content["kind"],
            content["title"],
            content["body"],
            orjson.dumps(content["data"]).decode(),
            source_key,
            now,
        ],
    )
    if not rows:
        return []  # told already (the event was read before)
    notification = _view(rows[0])
    await emit(conn, notification_stream(user_id), "NOTIFICATION_CREATED", {"notification": notification})
    held = quiet_until(prefs, now)
    due = []
    for channel in prefs["channels"]:
        if channel == "slack" and not prefs["slack_webhook_url"]:
            continue
        delivery = await conn.execute_query_dict(
            "INSERT INTO notification_deliveries (notification_id, channel, state, deliver_after) "
            "VALUES ($1, $2, 'pending', $3) RETURNING id",
            [notification["id"], channel, held or now],
        )
        if held is None:
            due.append(delivery[0]["id"])
    return due


# ---- e-mail and Slack ----------------------------------------------------------------------------


async def due_deliveries(now: datetime | None = None, limit: int = 500) -> list[int]:
    """Deliveries that should have gone by now: held by quiet hours that have ended, or whose job
    was lost (a claim older than its lease)."""
    now = now or datetime.now(UTC)
    rows = await fetch(
        "SELECT id FROM notification_deliveries WHERE deliver_after <= $1 AND (state = 'pending' "
        "OR (state = 'sending' AND claimed_at < $2)) ORDER BY id LIMIT $3",
        now,
        now - _CLAIM_LEASE,
        limit,
    )
    return [r["id"] for r in rows]


def _mail_server() -> MailServer:
    s = get_settings()
    return MailServer(
        s.notify_smtp_host,
        s.notify_smtp_port,
        s.notify_smtp_username,
        s.notify_smtp_password,
        s.notify_smtp_starttls,
        s.notify_smtp_ssl,
        s.notify_mail_from,
    )


async def deliver(delivery_id: int, now: datetime | None = None) -> str:
    """Send one delivery: 'sent', 'skipped' (not due, done, or being sent by another job), or
    raises DeliveryFailed after recording why (the job retries; after MAX_ATTEMPTS it is 'failed').
    The claim is a lease, so a job that died mid-send is retried by the sweep, not lost."""
    now = now or datetime.now(UTC)
    rows = await fetch(
        "UPDATE notification_deliveries d SET state = 'sending', claimed_at = $2, attempts = attempts + 1 "
        "WHERE d.id = $1 AND d.deliver_after <= $2 AND (d.state = 'pending' OR (d.state = 'sending' "
        "AND d.claimed_at < $3)) RETURNING d.channel, d.attempts, d.notification_id",
        delivery_id,
        now,
        now - _CLAIM_LEASE,
    )
    if not rows:
        return "skipped"
    claim = rows[0]
    target = await fetchrow(
        "SELECT n.title, n.body, u.email, p.slack_webhook_url FROM notifications n JOIN users u ON u.id = n.user_id "
        "LEFT JOIN notification_preferences p ON p.user_id = n.user_id WHERE n.id = $1",
        claim["notification_id"],
    )
    try:
        if target is None:
            raise DeliveryFailed("the notification is gone")
        if claim["channel"] == "email":
            await send_email(_mail_server(), target["email"], target["title"], target["body"])
        else:
            if not target["slack_webhook_url"]:
                raise DeliveryFailed("no Slack webhook URL in the user's preferences")
            await post_slack(target["slack_webhook_url"], f"*{target['title']}*\n{target['body']}")
    except DeliveryFailed as exc:
        final = claim["attempts"] >= MAX_ATTEMPTS
        await fetch(
            "UPDATE notification_deliveries SET state = $2, last_error = $3 WHERE id = $1",
            delivery_id,
            "failed" if final else "pending",
            str(exc),
        )
        if final:
            return "failed"
        raise
    await fetch(
        "UPDATE notification_deliveries SET state = 'sent', sent_at = now() WHERE id = $1", delivery_id
    )
    return "sent"
