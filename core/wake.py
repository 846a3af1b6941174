"""Wake the event log's consumers as soon as events are published, rather than on the upkeep
timer (~30 s): the notifier (assignment, mention, customer-reply notifications) and the metrics
roll-up job (the dashboards' numbers, `dashboardUpdates`).

Every process that sequences events (API, worker, gateway: core/events.py) calls
`events_published(streams)` after a flush. Sends are coalesced per process: at most one per
`INTERVAL`, and a publish inside the interval is followed by one more send when it ends, so the
last events of a burst are never left for the timer. The jobs are idempotent and, when woken
(`wait=True`), one of them waits for the cursor another worker holds instead of skipping: the
holder may have read its batch before these events committed (core/cursors.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from core import tasks
from core.outage import Throttled

log = logging.getLogger(__name__)
_failed = Throttled(log, every=30.0)

INTERVAL = 0.25  # seconds between two wake-ups sent by one process
WOKEN = (tasks.NOTIFY_FROM_EVENTS, tasks.METRICS_ROLLUP)
# The streams those jobs read: conversations (messages, activities, statuses), the inbox and alerts.
# Others (the jobs' own notifications and roll-up notices, access, SLA, CSAT's copy) wake nobody,
# so a run never wakes the next one.
_WAKING = ("conversation:", "inbox", "alerts")

_last_sent = float("-inf")
_pending: asyncio.TimerHandle | None = None
_pending_loop: asyncio.AbstractEventLoop | None = None


def events_published(streams: Iterable[str]) -> None:
    """After a flush published events on `streams` (call from the event loop)."""
    global _pending, _pending_loop
    if not any(s.startswith(_WAKING) for s in streams):
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    if _pending is not None:
        if _pending_loop is loop and not loop.is_closed() and _pending.when() > loop.time() - 1.0:
            return  # a send is already due at the end of the interval
        _pending.cancel()  # left by a loop that stopped before it fired: do not let it block us
    wait = _last_sent + INTERVAL - loop.time()
    if wait <= 0:
        _pending = None
        _send(loop)
    else:
        _pending, _pending_loop = loop.call_later(wait, _send, loop), loop


def _send(loop: asyncio.AbstractEventLoop) -> None:
    global _last_sent, _pending
    _pending = None
    _last_sent = loop.time()
    for task in WOKEN:
        try:
            task.send(True)  # wait=True: see the module's docstring
        except Exception as exc:  # the broker and the task outbox both refused: the timer remains
            _failed.warning("could not wake the event consumers", error=repr(exc))


def reset() -> None:
    """Forget a pending send (a stopping loop; tests)."""
    global _pending, _last_sent
    if _pending is not None:
        _pending.cancel()
    _pending, _last_sent = None, float("-inf")
