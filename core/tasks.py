"""Work for the Dramatiq workers, named once.

A task is an actor's name and queue. Resolvers send tasks from here without importing `jobs/`
(the actors there call resolvers, so the import would run back up); `jobs/` declares each actor
with `TASK.actor(...)`, so a name or queue is never spelled twice.

Tasks are sent after the change that asks for them has committed, so a broker that cannot take
one (Redis down) must neither fail the request (the change is done; a platform's retry would be
deduplicated and the task never asked for again) nor lose it. The task goes to the `task_outbox`
table instead, and `flush_outbox` hands it to the broker when Redis is back: at once when this
process next enqueues successfully, and from the upkeep sweep in any case (FLUSH_TASK_OUTBOX).
Every job is idempotent, so a task enqueued twice costs a no-op.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import dramatiq
import orjson
from redis.exceptions import RedisError

from core import tracing
from core.broker import broker
from core.outage import Throttled
from core.sql import fetch, in_transaction

log = logging.getLogger(__name__)
_refused = Throttled(log, every=30.0)
# The outbox writes under way in this process: kept referenced until done (asyncio holds tasks
# weakly), and awaited by `outbox_settled()` where an answer must wait for them.
_writes: set[asyncio.Task[None]] = set()
_outbox_used = False  # this process parked a task since its last flush: flush on the next success
_FLUSH_BATCH = 500


@dataclass(frozen=True)
class Task:
    name: str
    queue: str

    def send(self, *args: Any, delay_ms: int | None = None) -> None:
        """Enqueue a run of the actor named `name` (declared in `jobs/`, in whichever process
        consumes the queue). `delay_ms`: not before then (Redis keeps delayed messages).
        When the broker is unreachable the task is parked in PostgreSQL instead (see above)."""
        try:
            _enqueue(self.queue, self.name, list(args), delay_ms)
        except (RedisError, OSError) as exc:
            _park(self, list(args), delay_ms, exc)
            return
        if _outbox_used and _loop() is not None:
            _flush_soon()  # the broker answers again: what waits goes now

    def actor(self, **options: Any) -> Callable[[Callable[..., Any]], dramatiq.Actor]:
        """Declare the function that runs this task (retries, backoff, time limit in `options`)."""
        return dramatiq.actor(actor_name=self.name, queue_name=self.queue, broker=broker, **options)


def _enqueue(queue: str, actor: str, args: list[Any], delay_ms: int | None) -> None:
    broker.declare_queue(queue)  # idempotent; the in-memory broker refuses unknown queues
    message = dramatiq.Message(
        queue_name=queue, actor_name=actor, args=tuple(args), kwargs={}, options=tracing.job_options()
    )
    broker.enqueue(message, delay=delay_ms)


def _park(task: Task, args: list[Any], delay_ms: int | None, exc: BaseException) -> None:
    global _outbox_used
    if _loop() is None:
        raise exc  # no loop to write from (a bare script): the caller hears it
    _outbox_used = True
    _refused.warning("broker unreachable: tasks kept in task_outbox", error=repr(exc))
    not_before = datetime.now(UTC) + timedelta(milliseconds=delay_ms) if delay_ms else None
    _start(_write(task, args, not_before))


def _loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _start(work: Any) -> None:
    job = asyncio.get_running_loop().create_task(work)
    _writes.add(job)
    job.add_done_callback(_writes.discard)


async def _write(task: Task, args: list[Any], not_before: datetime | None) -> None:
    args_json = orjson.dumps(args).decode()
    key = hashlib.sha256(
        f"{task.queue}\n{task.name}\n{args_json}\n{not_before.isoformat() if not_before else ''}".encode()
    ).hexdigest()
    try:
        await fetch(
            "INSERT INTO task_outbox (key, queue_name, actor_name, args, not_before, created_at) "
            "VALUES ($1, $2, $3, $4::jsonb, $5, now()) ON CONFLICT (key) DO NOTHING",
            key,
            task.queue,
            task.name,
            args_json,
            not_before,
        )
    except Exception:  # Redis and PostgreSQL both down: nothing left to keep it in
        log.error("task lost: broker and database unreachable", extra={"task": task.name, "args": args_json})


async def outbox_settled() -> None:
    """Wait until every task this process parked is written (a webhook answers 2xx only then)."""
    loop = asyncio.get_running_loop()
    # A worker thread's loop parks its own tasks; only this loop's can be awaited here.
    while mine := [job for job in list(_writes) if job.get_loop() is loop]:
        await asyncio.gather(*mine, return_exceptions=True)


async def flush_outbox() -> int:
    """Hand parked tasks to the broker; returns how many. Rows leave the table in the same
    transaction as their enqueue succeeds, so a broker still down keeps them for the next sweep;
    SKIP LOCKED lets every process sweep at once without enqueuing one row twice."""
    total = 0
    while True:
        async with in_transaction() as conn:
            rows = await fetch(
                "DELETE FROM task_outbox WHERE id IN (SELECT id FROM task_outbox ORDER BY id LIMIT $1 "
                "FOR UPDATE SKIP LOCKED) RETURNING queue_name, actor_name, args::text AS args, not_before",
                _FLUSH_BATCH,
                conn=conn,
            )
            now = datetime.now(UTC)
            for row in rows:
                due = row["not_before"]
                delay = max(0, int((due - now).total_seconds() * 1000)) if due else 0
                _enqueue(row["queue_name"], row["actor_name"], orjson.loads(row["args"]), delay or None)
        total += len(rows)
        if len(rows) < _FLUSH_BATCH:
            if total:
                log.info("enqueued parked tasks", extra={"count": total})
            return total


def _flush_soon() -> None:
    """One flush per recovery, not one per send of the burst that follows it."""
    global _outbox_used
    _outbox_used = False
    _start(_flush_quietly())


async def _flush_quietly() -> None:
    global _outbox_used
    try:
        await flush_outbox()
    except Exception as exc:  # still down, or the database is: try on the next success, and sweep
        _outbox_used = True
        _refused.warning("parked tasks not flushed yet", error=repr(exc))


# Every process type imports this module (API, workers, gateway): tracing starts with it, when
# OTEL_EXPORTER_OTLP_ENDPOINT is set, so that the job middleware is on the broker before any worker.
tracing.configure()

SEND_MESSAGE = Task("send_message", "outbound")
DRAIN_ASSIGNMENT_QUEUE = Task("drain_assignment_queue", "assignment")
PRESENCE_UPKEEP = Task("presence_upkeep", "maintenance")
SLA_SYNC = Task("sla_sync", "sla")
SLA_CHECK = Task("sla_check", "sla")
WAKE_CONVERSATION = Task("wake_conversation", "maintenance")
WAKE_DUE_SNOOZES = Task("wake_due_snoozes", "maintenance")
POLL_MAILBOXES = Task("poll_mailboxes", "maintenance")
REQUEUE_STALE_SENDS = Task("requeue_stale_sends", "maintenance")
PRUNE_HISTORY = Task("prune_history", "maintenance")
FLUSH_TASK_OUTBOX = Task("flush_task_outbox", "maintenance")
SYNC_WHATSAPP_TEMPLATES = Task("sync_whatsapp_templates", "maintenance")
BUILD_CUSTOMER_EXPORT = Task("build_customer_export", "maintenance")
PRIVACY_UPKEEP = Task("privacy_upkeep", "maintenance")
WEBHOOKS_TICK = Task("webhooks_tick", "webhooks")  # event log → outgoing webhooks and modules; starts sends
DELIVER_WEBHOOKS = Task("deliver_webhooks", "webhooks")  # one endpoint's due deliveries
FLOW_INBOUND = Task("flow_inbound", "flows")  # stored customer messages → waiting runs, triggers
FLOW_EVENT = Task("flow_event", "flows")  # a conversation event → event triggers
FLOW_HTTP = Task("flow_http", "flows")  # an execution's HTTP node
FLOW_MODULE = Task("flow_module", "flows")  # an execution's node from a module
FLOW_WAKE = Task("flow_wake", "flows")  # an execution's timer (delayed until it is due)
FLOW_SWEEP = Task("flow_sweep", "maintenance")  # due timers, lost HTTP calls, schedules, no-reply
SEND_CSAT_SURVEY = Task("send_csat_survey", "outbound")
SEND_DUE_CSAT_SURVEYS = Task("send_due_csat_surveys", "maintenance")
BUILD_REPORT = Task("build_report", "reports")
EMAIL_REPORT = Task("email_report", "reports")
RUN_REPORT_SCHEDULES = Task("run_report_schedules", "maintenance")
METRICS_ROLLUP = Task("metrics_rollup", "maintenance")
EVALUATE_ALERTS = Task("evaluate_alerts", "maintenance")
NOTIFY_FROM_EVENTS = Task("notify_from_events", "maintenance")
DELIVER_NOTIFICATION = Task("deliver_notification", "notifications")

# What every API process enqueues on its upkeep timer (the jobs are idempotent, so N processes
# doing it costs N quick no-ops). PRUNE_HISTORY runs about hourly, apart from these.
UPKEEP = (
    FLUSH_TASK_OUTBOX,  # tasks parked while Redis was down, by any process (even one since gone)
    REQUEUE_STALE_SENDS,
    POLL_MAILBOXES,
    WAKE_DUE_SNOOZES,
    PRESENCE_UPKEEP,
    SLA_CHECK,
    SYNC_WHATSAPP_TEMPLATES,  # each channel about hourly (resolvers/whatsapp_templates.SYNC_EVERY)
    DRAIN_ASSIGNMENT_QUEUE,  # the safety net; drains are requested on every change
    SEND_DUE_CSAT_SURVEYS,  # surveys whose delayed job was lost
    RUN_REPORT_SCHEDULES,  # weekly/monthly reports that are due; each schedule claimed by one worker
    METRICS_ROLLUP,  # folds new events into the dashboards' roll-ups (one worker at a time)
    EVALUATE_ALERTS,  # each rule once per ALERT_EVALUATION_SECONDS, whoever asks
    NOTIFY_FROM_EVENTS,  # notifications from the event log, and e-mail/Slack held by quiet hours
    PRIVACY_UPKEEP,  # message retention, export expiry: runs once per PRIVACY_UPKEEP_INTERVAL whoever asks
    WEBHOOKS_TICK,  # restarts the outgoing webhooks' one-second tick if its chain was lost
    FLOW_SWEEP,  # timers whose delayed message was lost, schedule slots, no agent reply in time
)
