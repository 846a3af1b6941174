"""What starts and feeds flow executions: customer messages, conversation events, schedules and
silence (no agent reply in time). Only published flows start; each start is keyed (flow + the
inbound message, the event, the schedule slot…) and the key is unique, so a trigger firing twice
(a redelivered job, two processes, two upkeep timers) starts one run.

Customer messages are taken per conversation in id order, each once: a cursor row per
conversation, locked while its messages are handled, remembers the last one seen. A message goes
first to the conversation's runs waiting for a reply (a customer who comes back after the flow's
`resume_within_seconds` finds that run expired instead); only a message no run took may start one:
conversation_created flows on the conversation's first message, else the first published flow
(by id) whose keywords or regex match. While a bot is handed off to an agent, messages start no
keyword flow: the agent is talking."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from croniter import croniter

from core.crypto import open_body
from core.sql import fetch, fetchrow, in_transaction, retry_on_deadlock
from resolvers.flow_actions import Effects
from resolvers.flow_engine import Event, trigger_matches
from resolvers.flow_executions import (
    EXECUTION_COLUMNS,
    FlowInfo,
    definition_of,
    execution_view,
    finish,
    flow_info,
    published_flows,
    start,
    step,
)

log = logging.getLogger(__name__)
TRANSIENT = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.QueryCanceledError,
)
BATCH = 20  # messages of one conversation per transaction
# A conversation the triggers have not seen yet starts from the messages that brought it here and
# any of the last minutes (a concurrent job for a later message must not skip an earlier one).
FIRST_LOOK = timedelta(minutes=15)
SCHEDULE_LOOKBACK = timedelta(minutes=10)  # a slot missed while no sweep ran still runs (once)
MAX_STARTS_PER_SWEEP = 1000


async def trigger_of(flow: FlowInfo) -> dict[str, Any]:
    definition = await definition_of(flow.id, flow.version)
    return next(n["config"] for n in definition["nodes"] if n["type"] == "trigger")


# ---- customer messages ------------------------------------------------------------------------------


async def dispatch_inbound(channel_id: int, platform_message_ids: list[str]) -> None:
    rows = await fetch(
        "SELECT conversation_id, min(id) AS first_id FROM messages WHERE channel_id = $1 "
        "AND platform_message_id = ANY($2::text[]) AND direction = 'inbound' GROUP BY conversation_id",
        channel_id,
        platform_message_ids,
    )
    for row in rows:
        await dispatch_conversation(row["conversation_id"], row["first_id"])


async def dispatch_conversation(conversation_id: int, first_id: int) -> None:
    while True:
        effects, more = await retry_on_deadlock(lambda: _take_messages(conversation_id, first_id))
        await effects.run()
        if not more:
            return


async def _take_messages(conversation_id: int, first_id: int) -> tuple[Effects, bool]:
    effects = Effects()
    async with in_transaction():
        await fetch(
            "INSERT INTO flow_inbound_cursors (conversation_id, last_message_id) "
            "SELECT $1, LEAST($2::bigint, COALESCE(min(id), $2::bigint)) - 1 FROM messages "
            "WHERE conversation_id = $1 AND direction = 'inbound' AND created_at > now() - $3::interval "
            "ON CONFLICT DO NOTHING",
            conversation_id,
            first_id,
            FIRST_LOOK,
        )
        cursor = await fetchrow(
            "SELECT last_message_id FROM flow_inbound_cursors WHERE conversation_id = $1 FOR UPDATE",
            conversation_id,
        )
        assert cursor is not None
        messages = await fetch(
            "SELECT id, text, created_at FROM messages WHERE conversation_id = $1 AND direction = 'inbound' "
            "AND id > $2 ORDER BY id LIMIT $3",
            conversation_id,
            cursor["last_message_id"],
            BATCH,
        )
        for message in messages:
            await _handle(conversation_id, message, effects)
        if messages:
            await fetch(
                "UPDATE flow_inbound_cursors SET last_message_id = $2 WHERE conversation_id = $1",
                conversation_id,
                messages[-1]["id"],
            )
    return effects, len(messages) == BATCH


async def _handle(conversation_id: int, message: dict[str, Any], effects: Effects) -> None:
    """One message in a savepoint of its own. A failure that running it again cannot mend (a bug,
    a definition the engine trips on) is logged and the message passed over, so it cannot hold up
    every later message of the conversation; losing the database or a deadlock rolls the whole
    batch back for the job's retry."""
    mine = Effects()
    try:
        async with in_transaction():
            await _on_message(conversation_id, message, mine)
    except Exception as exc:
        if _transient(exc):
            raise
        log.exception(
            "a flow step failed: the message is passed over",
            extra={"conversation_id": conversation_id, "message_id": message["id"]},
        )
        return
    effects.merge(mine)


def _transient(exc: BaseException) -> bool:
    cause = exc.__cause__ or exc
    return isinstance(cause, TRANSIENT) or isinstance(exc, TRANSIENT)


async def _on_message(conversation_id: int, message: dict[str, Any], effects: Effects) -> None:
    event = Event(kind="message", at=message["created_at"], text=open_body(message["text"]) or "")
    first = not await fetch(
        "SELECT 1 AS one FROM messages WHERE conversation_id = $1 AND direction = 'inbound' AND id < $2 LIMIT 1",
        conversation_id,
        message["id"],
    )
    waiting = await _waiting_for_reply(conversation_id)
    if not waiting and first:  # a customer whose closed conversation led to this new one
        waiting = await _returning_customer(conversation_id)
    fed = False
    for execution in waiting:
        flow = await flow_info(execution["flow_id"], execution["flow_version"])
        if execution["updated_at"] < message["created_at"] - flow.resume_within:
            await finish(execution["id"], "cancelled", "expired: the customer came back too late to resume")
            continue
        fed = await step(execution, flow, event, effects) or fed
    if fed:
        return
    keyword_started = False
    for flow in await published_flows():
        trigger = await trigger_of(flow)
        if first and trigger.get("event") == "conversation_created":
            key = f"created:{flow.id}:{conversation_id}"
            await start(flow, conversation_id, "conversation_created", key, Event("start", event.at), effects)
        elif not keyword_started and trigger_matches(trigger, event.text or ""):
            if await _handed_off(conversation_id):
                keyword_started = True  # the agent is talking: no keyword bot now
                continue
            key = f"message:{flow.id}:{message['id']}"
            keyword_started = await start(flow, conversation_id, "keyword", key, event, effects) is not None


async def _handed_off(conversation_id: int) -> bool:
    return bool(
        await fetch(
            "SELECT 1 AS one FROM flow_executions WHERE conversation_id = $1 AND status = 'paused' LIMIT 1",
            conversation_id,
        )
    )


async def _waiting_for_reply(conversation_id: int) -> list[dict[str, Any]]:
    rows = await fetch(
        f"SELECT {EXECUTION_COLUMNS} FROM flow_executions WHERE conversation_id = $1 AND status = 'waiting' "
        "AND waiting_for IN ('reply', 'reply_or_timer') ORDER BY id FOR UPDATE",
        conversation_id,
    )
    return [execution_view(r) for r in rows]


async def _returning_customer(conversation_id: int) -> list[dict[str, Any]]:
    """The customer's earlier conversation was closed (their message started this one): a run
    still waiting for them there carries on here."""
    rows = await fetch(
        "UPDATE flow_executions e SET conversation_id = $1, updated_at = e.updated_at "
        "FROM conversations old, conversations new "
        "WHERE new.id = $1 AND old.id = e.conversation_id AND old.customer_id = new.customer_id "
        "AND old.id <> new.id AND old.status = 'closed' AND e.status = 'waiting' "
        "AND e.waiting_for IN ('reply', 'reply_or_timer') "
        "AND NOT EXISTS (SELECT 1 FROM flow_executions x WHERE x.conversation_id = $1 "
        "AND x.flow_id = e.flow_id AND x.status IN ('running', 'waiting', 'paused')) "
        f"RETURNING {', '.join('e.' + c.strip() for c in EXECUTION_COLUMNS.split(','))}",
        conversation_id,
    )
    return [execution_view(r) for r in rows]


# ---- conversation events ------------------------------------------------------------------------------


async def on_event(conversation_id: int, event: str, detail: list[str], key: str) -> int:
    """label_added / conversation_resolved: start the flows waiting for it; a resolved
    conversation also ends the runs handed off in it (the agent finished). Returns runs started."""
    if event == "conversation_resolved":
        for row in await fetch(
            "SELECT id FROM flow_executions WHERE conversation_id = $1 AND status = 'paused'", conversation_id
        ):
            await finish(
                row["id"], "cancelled", "the conversation was resolved after the hand-off", only=("paused",)
            )
    started = 0
    for flow in await published_flows():
        trigger = await trigger_of(flow)
        if trigger.get("event") != event:
            continue
        if (
            event == "label_added"
            and trigger.get("label")
            and trigger["label"] not in {d.lower() for d in detail}
        ):
            continue
        started += await _start_alone(flow, conversation_id, event, f"{event}:{flow.id}:{key}")
    return started


async def _start_alone(flow: FlowInfo, conversation_id: int, trigger: str, key: str) -> int:
    async def attempt() -> tuple[int | None, Effects]:
        effects = Effects()
        async with in_transaction():
            started = await start(
                flow, conversation_id, trigger, key, Event(kind="start", at=datetime.now(UTC)), effects
            )
        return started, effects

    started, effects = await retry_on_deadlock(attempt)
    await effects.run()
    return int(started is not None)


# ---- schedules and silence (from the sweep) ----------------------------------------------------------------


async def run_schedules(now: datetime | None = None) -> int:
    """Each schedule's latest slot (within SCHEDULE_LOOKBACK) runs the flow for every open or
    pending conversation with the schedule's label, once: the key holds the slot."""
    now = now or datetime.now(UTC)
    started = 0
    for flow in await published_flows():
        schedule = (await trigger_of(flow)).get("schedule")
        if not schedule:
            continue
        local = now.astimezone(ZoneInfo(schedule["time_zone"]))
        slot = croniter(schedule["cron"], local).get_prev(datetime)
        if now - slot > SCHEDULE_LOOKBACK:
            continue
        conversations = await fetch(
            "SELECT id FROM conversations WHERE status IN ('open', 'pending') "
            "AND EXISTS (SELECT 1 FROM unnest(labels) AS l WHERE lower(l) = $1) "
            "ORDER BY id LIMIT $2",
            schedule["label"],
            MAX_STARTS_PER_SWEEP,
        )
        for row in conversations:
            key = f"schedule:{flow.id}:{slot.isoformat()}:{row['id']}"
            started += await _start_alone(flow, row["id"], "schedule", key)
    return started


async def run_silences() -> int:
    """no_agent_reply: the conversation's last message is the customer's and older than the
    trigger's minutes. Keyed by that message, so one silence starts one run."""
    started = 0
    for flow in await published_flows():
        trigger = await trigger_of(flow)
        if trigger.get("event") != "no_agent_reply":
            continue
        rows = await fetch(
            "SELECT c.id, c.last_message_id FROM conversations c JOIN messages m ON m.id = c.last_message_id "
            "WHERE c.status IN ('open', 'pending') AND m.direction = 'inbound' "
            "AND m.created_at < now() - $1::interval AND m.created_at > now() - $1::interval - interval '1 day' "
            "ORDER BY c.id LIMIT $2",
            timedelta(minutes=trigger["minutes"]),
            MAX_STARTS_PER_SWEEP,
        )
        for row in rows:
            key = f"no_agent_reply:{flow.id}:{row['last_message_id']}"
            started += await _start_alone(flow, row["id"], "no_agent_reply", key)
    return started
