"""SLA policies: first-response, next-response and resolution targets in business hours.

`sync(conversation)` makes a conversation's timers match its state, idempotently: it is asked to
run after anything that may change them (a customer message, an agent reply, a status, priority
or team change). `check(now)` warns and breaches timers that are due; it runs from Dramatiq
messages delayed until each warn/due moment (they live in Redis and survive restarts) and from the
upkeep sweep, so a lost message only delays an alert. Warnings and breaches reach supervisors live
(`slaEvents`), land in the conversation's timeline and stay on the timer rows for metrics.

Every function takes `now`: the clock is a parameter, so tests (and what-if tooling) control it.
"""

from __future__ import annotations

import time as time_
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from core import metrics, tasks
from core.auth import Actor
from core.events import committed, emit
from core.sql import fetch, in_transaction
from models import SlaPolicy
from resolvers import audit
from resolvers.activities import record_activity
from resolvers.auth import require_supervisor
from resolvers.errors import BadInput, NotFound

SLA_STREAM = "sla"  # supervisors' live feed of warnings and breaches
_POLICY_CACHE_SECONDS = 10.0
_policies_known: tuple[float, bool] = (0.0, True)  # (monotonic time checked, any policy exists)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
KINDS = ("first_response", "next_response", "resolution")
TIMER_COLUMNS = "id, conversation_id, policy_id, kind, started_at, due_at, warn_at, met_at, warned_at, breached_at, cancelled_at"


# ---- business hours -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BusinessHours:
    zone: ZoneInfo
    week: dict[int, tuple[tuple[time, time], ...]]  # weekday (0 = Monday) → open intervals; {} = always
    holidays: frozenset[date]

    @classmethod
    def of(cls, policy: dict[str, Any]) -> BusinessHours:
        configured = policy["business_hours"]
        if isinstance(configured, str):  # raw SQL hands JSONB back as text
            configured = orjson.loads(configured)
        week = {}
        for index, day in enumerate(DAYS):
            intervals = configured.get(day) or []
            week[index] = tuple((time.fromisoformat(a), time.fromisoformat(b)) for a, b in intervals)
        always = not any(week.values())
        return cls(ZoneInfo(policy["timezone"]), {} if always else week, frozenset(policy["holidays"] or ()))

    def add(self, start: datetime, seconds: float) -> datetime:
        """The moment `seconds` of business time after `start`."""
        if not self.week:
            return start + timedelta(seconds=seconds)
        remaining = timedelta(seconds=seconds)
        local = start.astimezone(self.zone)
        day = local.date()
        for _ in range(800):  # two years of calendar, even with sparse hours
            if day not in self.holidays:
                for opens, closes in self.week.get(day.weekday(), ()):
                    begin = max(datetime.combine(day, opens, self.zone), local)
                    end = datetime.combine(day, closes, self.zone)
                    if end <= begin:
                        continue
                    if end - begin >= remaining:
                        return (begin + remaining).astimezone(UTC)
                    remaining -= end - begin
            day += timedelta(days=1)
        raise BadInput("the policy's business hours leave no time to meet its targets")


def validate_hours(business_hours: dict[str, Any], timezone: str) -> None:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadInput(f"unknown time zone {timezone!r}", field="timezone") from None
    for day, intervals in business_hours.items():
        if day not in DAYS:
            raise BadInput(f"business hours use the days {', '.join(DAYS)}", field="businessHours")
        try:
            for opens, closes in intervals:
                if time.fromisoformat(opens) >= time.fromisoformat(closes):
                    raise BadInput(f"{day}: {opens} is not before {closes}", field="businessHours")
        except (TypeError, ValueError):
            raise BadInput(
                'business hours look like {"mon": [["09:00", "18:00"]]}', field="businessHours"
            ) from None


# ---- policies -----------------------------------------------------------------------------------


POLICY_FIELDS = (
    "name",
    "position",
    "team_id",
    "priority",
    "platform",
    "first_response_seconds",
    "next_response_seconds",
    "resolution_seconds",
    "warn_before_seconds",
    "timezone",
    "business_hours",
    "holidays",
)
TARGET_OF_KIND = {
    "first_response": "first_response_seconds",
    "next_response": "next_response_seconds",
    "resolution": "resolution_seconds",
}
MAX_HOLIDAYS = 366


async def _validated(fields: dict[str, Any]) -> dict[str, Any]:
    """The rules every policy follows, on create and on edit alike."""
    name = (fields.get("name") or "").strip()
    if not name or len(name) > 120:
        raise BadInput("a policy needs a name of at most 120 characters", field="name")
    targets = [fields.get(k) for k in TARGET_OF_KIND.values()]
    if not any(targets) or any(t is not None and t <= 0 for t in targets):
        raise BadInput(
            "give at least one target, each a positive number of seconds", field="firstResponseSeconds"
        )
    if not 0 <= (fields.get("warn_before_seconds") or 0) <= 30 * 86_400:
        raise BadInput("warnBeforeSeconds is 0 to 30 days", field="warnBeforeSeconds")
    business_hours = fields.get("business_hours") or {}
    timezone = fields.get("timezone") or "UTC"
    validate_hours(business_hours, timezone)
    holidays = sorted(set(fields.get("holidays") or []))
    if len(holidays) > MAX_HOLIDAYS:
        raise BadInput(f"at most {MAX_HOLIDAYS} holidays", field="holidays")
    team_id = fields.get("team_id")
    if team_id is not None and not await fetch("SELECT 1 FROM teams WHERE id = $1", team_id):
        raise NotFound(f"team {team_id} does not exist", field="teamId")
    return {
        **fields,
        "name": name,
        "timezone": timezone,
        "business_hours": business_hours,
        "holidays": holidays,
    }


def _audit_details(fields: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in fields.items()}


async def create_policy(actor: Actor | None, **fields: Any) -> SlaPolicy:
    actor = require_supervisor(actor)
    fields = await _validated(fields)
    async with in_transaction() as conn:
        policy = await SlaPolicy.create(**fields)
        await audit.record(conn, actor, "sla_policy.create", "SlaPolicy", policy.id, _audit_details(fields))
    _forget_policy_cache()
    return policy


async def list_policies(actor: Actor | None) -> list[SlaPolicy]:
    """Every policy in the order conversations are matched against them (position, then age)."""
    require_supervisor(actor)
    return await SlaPolicy.all().order_by("position", "id")


SCOPE_FIELDS = ("team_id", "priority", "platform", "position")
_RUNNING = "met_at IS NULL AND breached_at IS NULL AND cancelled_at IS NULL"


async def update_policy(
    actor: Actor | None, policy_id: int, now: datetime | None = None, **fields: Any
) -> SlaPolicy:
    """Replace a policy's settings (the same rules as create). Its running timers (neither met,
    breached nor cancelled) are re-timed at once from their own start with the new targets,
    business hours, holidays and warning; a running timer whose target the edit removed is
    cancelled; met and breached timers keep their outcome. An edit of whom the policy applies to
    (team, priority, platform, position) hands its running timers over instead, as a delete does:
    they (and its cancelled ones) go, and their conversations are synced again, so whichever policy
    matches now (this one included) times them from the same starts. Conversations other policies
    time keep theirs."""
    actor = require_supervisor(actor)
    now = now or datetime.now(UTC)
    fields = await _validated(fields)
    handed: list[int] = []
    async with in_transaction() as conn:
        policy = await SlaPolicy.filter(id=policy_id).select_for_update().first()
        if policy is None:
            raise NotFound(f"SLA policy {policy_id} does not exist", field="id")
        scope_before = [getattr(policy, k) for k in SCOPE_FIELDS]
        for key, value in fields.items():
            setattr(policy, key, value)
        await policy.save()
        if scope_before != [getattr(policy, k) for k in SCOPE_FIELDS]:
            # Cancelled ones go too: like running ones they have no outcome (a cancelled run would
            # not keep the next policy from starting the same timer: sync starts a new run).
            rows = await conn.execute_query_dict(
                "DELETE FROM sla_timers WHERE policy_id = $1 AND met_at IS NULL AND breached_at IS NULL "
                "RETURNING conversation_id",
                [policy.id],
            )
            handed = sorted({r["conversation_id"] for r in rows})
        retimed, cancelled, moments = await _retime(conn, policy, now)
        await audit.record(
            conn,
            actor,
            "sla_policy.update",
            "SlaPolicy",
            policy.id,
            {
                **_audit_details(fields),
                "retimed": str(retimed),
                "cancelled": str(cancelled),
                "handed_over": str(len(handed)),
            },
        )
    _forget_policy_cache()
    await request_sync(handed)
    for moment in moments:  # the sweep would catch them too, later
        tasks.SLA_CHECK.send(delay_ms=max(0, int((moment - now).total_seconds() * 1000)) + 50)
    return policy


async def _retime(conn: Any, policy: SlaPolicy, now: datetime) -> tuple[int, int, list[datetime]]:
    view = {
        "timezone": policy.timezone,
        "business_hours": policy.business_hours,
        "holidays": policy.holidays,
    }
    hours = BusinessHours.of(view)
    running = await conn.execute_query_dict(
        "SELECT id, kind, started_at, warned_at FROM sla_timers WHERE policy_id = $1 AND met_at IS NULL "
        "AND breached_at IS NULL AND cancelled_at IS NULL FOR UPDATE",
        [policy.id],
    )
    retimed = cancelled = 0
    moments: list[datetime] = []
    for timer in running:
        seconds = getattr(policy, TARGET_OF_KIND[timer["kind"]])
        if not seconds:
            await conn.execute_query(
                "UPDATE sla_timers SET cancelled_at = $2 WHERE id = $1", [timer["id"], now]
            )
            cancelled += 1
            continue
        due = hours.add(timer["started_at"], seconds)
        warn = max(timer["started_at"], due - timedelta(seconds=policy.warn_before_seconds))
        # A warning already sent is sent again only if the new warning moment is still ahead.
        warned = None if warn > now else timer["warned_at"]
        await conn.execute_query(
            "UPDATE sla_timers SET due_at = $2, warn_at = $3, warned_at = $4 WHERE id = $1",
            [timer["id"], due, warn, warned],
        )
        retimed += 1
        moments += [m for m in (warn, due) if m > now]
    return retimed, cancelled, moments


async def delete_policy(actor: Actor | None, policy_id: int) -> int:
    """Delete a policy and its timers (running ones stop; met and breached ones leave the
    conversations' SLA view and the live SLA figures; the timeline's warning and breach entries
    stay). The conversations whose timers were running are synced again, so the next policy that
    matches them (if any) times them from the same starts. Returns the number of timers stopped."""
    actor = require_supervisor(actor)
    async with in_transaction() as conn:
        policy = await SlaPolicy.filter(id=policy_id).select_for_update().first()
        if policy is None:
            raise NotFound(f"SLA policy {policy_id} does not exist", field="id")
        running = await conn.execute_query_dict(
            f"SELECT conversation_id FROM sla_timers WHERE policy_id = $1 AND {_RUNNING}", [policy_id]
        )
        await conn.execute_query("DELETE FROM sla_timers WHERE policy_id = $1", [policy_id])
        await conn.execute_query("DELETE FROM sla_policies WHERE id = $1", [policy_id])
        await audit.record(
            conn,
            actor,
            "sla_policy.delete",
            "SlaPolicy",
            policy_id,
            {"name": policy.name, "running_timers": str(len(running))},
        )
    _forget_policy_cache()
    await request_sync(sorted({r["conversation_id"] for r in running}))
    return len(running)


async def _policy_for(conversation: dict[str, Any]) -> dict[str, Any] | None:
    rows = await fetch(
        "SELECT * FROM sla_policies WHERE (team_id IS NULL OR team_id = $1) AND (priority IS NULL OR priority = $2) "
        "AND (platform IS NULL OR platform = $3) ORDER BY position, id LIMIT 1",
        conversation["team_id"],
        conversation["priority"],
        conversation["platform"],
    )
    return rows[0] if rows else None


# ---- timers -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Wanted:
    kind: str
    started_at: datetime
    seconds: int
    met_at: datetime | None


async def request_sync(conversation_ids: list[int] | set[int]) -> None:
    """Ask a worker to sync these conversations' timers (jobs/sla.py), unless no SLA policy exists
    at all (checked at most every 10 s per process): then a webhook costs nothing extra."""
    global _policies_known
    checked_at, exist = _policies_known
    if time_.monotonic() - checked_at > _POLICY_CACHE_SECONDS:
        exist = bool(await fetch("SELECT 1 FROM sla_policies LIMIT 1"))
        _policies_known = (time_.monotonic(), exist)
    if exist and conversation_ids:
        tasks.SLA_SYNC.send(sorted(conversation_ids))


def _forget_policy_cache() -> None:
    """A policy was just created or changed in this process: look again at once."""
    global _policies_known
    _policies_known = (0.0, True)


async def sync(conversation_id: int, now: datetime | None = None) -> list[datetime]:
    """Make the conversation's timers match its state. Returns the moments a check is due
    (warn/due times of open timers), for the caller to schedule."""
    now = now or datetime.now(UTC)
    rows = await fetch(
        "SELECT id, team_id, priority, platform, status, created_at, updated_at FROM conversations WHERE id = $1",
        conversation_id,
    )
    if not rows:
        return []
    conversation = rows[0]
    policy = await _policy_for(conversation)
    wanted = await _wanted(conversation, policy) if policy else []
    hours = BusinessHours.of(policy) if policy else None
    moments: list[datetime] = []
    async with in_transaction() as conn:
        keep = set()
        for want in wanted:
            assert policy is not None and hours is not None
            due = hours.add(want.started_at, want.seconds)
            warn = max(want.started_at, due - timedelta(seconds=policy["warn_before_seconds"]))
            row = await conn.execute_query_dict(
                "INSERT INTO sla_timers (conversation_id, policy_id, kind, started_at, due_at, warn_at, met_at, created_at) "
                # One running or finished run per start; a cancelled run is history, not in the way:
                # the timer wanted again (a closed conversation reopened) starts a new run.
                "VALUES ($1, $2, $3, $4, $5, $6, $7, now()) ON CONFLICT (conversation_id, kind, started_at) "
                "WHERE cancelled_at IS NULL DO UPDATE SET met_at = COALESCE(sla_timers.met_at, EXCLUDED.met_at) RETURNING id, met_at, breached_at",
                [conversation_id, policy["id"], want.kind, want.started_at, due, warn, want.met_at],
            )
            keep.add(row[0]["id"])
            if row[0]["met_at"] is None and row[0]["breached_at"] is None:
                moments += [warn, due]
        # Timers no longer wanted (policy changed, conversation closed, a next-response replaced
        # by a newer one that was answered) stop without an outcome.
        await conn.execute_query(
            "UPDATE sla_timers SET cancelled_at = $2 WHERE conversation_id = $1 AND met_at IS NULL "
            "AND breached_at IS NULL AND cancelled_at IS NULL AND NOT (id = ANY($3::bigint[]))",
            [conversation_id, now, list(keep)],
        )
    return [m for m in moments if m > now - timedelta(seconds=1)]


async def _wanted(conversation: dict[str, Any], policy: dict[str, Any]) -> list[Wanted]:
    """What the timers should be, read off the conversation's messages and status."""
    if conversation["status"] == "closed":
        return []
    rows = await fetch(
        "SELECT direction, created_at FROM messages WHERE conversation_id = $1 AND direction IN ('inbound', 'outbound') "
        "AND (direction = 'inbound' OR sender_id IS NOT NULL) ORDER BY id",
        conversation["id"],
    )
    wanted: list[Wanted] = []
    replies = [r["created_at"] for r in rows if r["direction"] == "outbound"]
    first_reply = replies[0] if replies else None
    if policy["first_response_seconds"]:
        wanted.append(
            Wanted(
                "first_response", conversation["created_at"], policy["first_response_seconds"], first_reply
            )
        )
    if policy["next_response_seconds"] and first_reply is not None:
        # Each time the customer writes after an agent's reply, the next reply is due: the
        # waiting starts at the first of their messages since that reply.
        waiting_since = None
        for row in rows:
            if row["created_at"] <= first_reply:
                continue
            if row["direction"] == "inbound" and waiting_since is None:
                waiting_since = row["created_at"]
            elif row["direction"] == "outbound" and waiting_since is not None:
                wanted.append(
                    Wanted("next_response", waiting_since, policy["next_response_seconds"], row["created_at"])
                )
                waiting_since = None
        if waiting_since is not None:
            wanted.append(Wanted("next_response", waiting_since, policy["next_response_seconds"], None))
    if policy["resolution_seconds"]:
        resolved = conversation["updated_at"] if conversation["status"] == "resolved" else None
        wanted.append(
            Wanted("resolution", conversation["created_at"], policy["resolution_seconds"], resolved)
        )
    return wanted


async def check(now: datetime | None = None) -> list[tuple[int, str]]:
    """Warn and breach what is due at `now`. Returns (timer, SLA_WARNING | SLA_BREACHED)."""
    now = now or datetime.now(UTC)
    due = await fetch(
        "SELECT id FROM sla_timers WHERE met_at IS NULL AND cancelled_at IS NULL AND breached_at IS NULL "
        "AND warn_at <= $1 ORDER BY warn_at LIMIT 1000",
        now,
    )
    fired = []
    for row in due:
        async with in_transaction() as conn:
            timers = await conn.execute_query_dict(
                f"SELECT {TIMER_COLUMNS} FROM sla_timers WHERE id = $1 AND met_at IS NULL AND cancelled_at IS NULL "
                "AND breached_at IS NULL FOR UPDATE SKIP LOCKED",
                [row["id"]],
            )
            if not timers:
                continue
            timer = timers[0]
            if timer["due_at"] <= now:
                event, column = "SLA_BREACHED", "breached_at"
            elif timer["warned_at"] is None:
                event, column = "SLA_WARNING", "warned_at"
            else:
                continue
            updated = await conn.execute_query_dict(
                f"UPDATE sla_timers SET {column} = $2 WHERE id = $1 RETURNING {TIMER_COLUMNS}",
                [timer["id"], now],
            )
            view = timer_view(updated[0])
            await emit(conn, SLA_STREAM, event, {"timer": view})
            await record_activity(
                conn,
                timer["conversation_id"],
                None,
                "sla_breached" if event == "SLA_BREACHED" else "sla_warning",
                {"kind": timer["kind"], "due_at": timer["due_at"].isoformat()},
            )
        fired.append((row["id"], event))
        metrics.SLA_EVENTS.labels(timer["kind"], "breached" if event == "SLA_BREACHED" else "warning").inc()
    if fired:
        committed()
    return fired


def timer_view(row: dict[str, Any]) -> dict[str, Any]:
    return dict(row)


async def timers_by_conversation(conversation_ids: list[int]) -> list[list[dict[str, Any]]]:
    """Each conversation's timers, oldest first, in one statement for many (the schema's
    DataLoader, schema/context.py: a page of the inbox reads them all at once)."""
    rows = await fetch(
        f"SELECT {TIMER_COLUMNS} FROM sla_timers WHERE conversation_id = ANY($1::int[]) ORDER BY id",
        conversation_ids,
    )
    grouped: dict[int, list[dict[str, Any]]] = {i: [] for i in conversation_ids}
    for row in rows:
        grouped[row["conversation_id"]].append(timer_view(row))
    return [grouped[i] for i in conversation_ids]
