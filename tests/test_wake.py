"""core/wake.py: a burst of published events wakes the event log's consumers once at once and once
more when the interval ends (so the burst's last events are not left for the timer); events on
streams those jobs do not read wake nobody."""

from __future__ import annotations

import asyncio

from core import wake


async def test_a_burst_wakes_twice_and_other_streams_never(monkeypatch):
    sent: list[tuple[str, tuple]] = []
    publish = wake.events_published
    # Earlier tests' event flushers may still publish on this loop; only this test's calls count.
    monkeypatch.setattr(wake, "events_published", lambda streams: None)
    woken = {task.name for task in wake.WOKEN}

    def record(self, *args, **kw) -> None:
        # An earlier test's upkeep timer may still run on this loop and send every upkeep task
        # (these two among them) without arguments; the wake-up is the send with wait=True.
        if self.name in woken and args == (True,):
            sent.append((self.name, args))

    for task in wake.WOKEN:
        monkeypatch.setattr(type(task), "send", record)
    wake.reset()
    try:
        publish({"notifications:3", "metrics", "access:3", "sla"})
        await asyncio.sleep(wake.INTERVAL * 1.5)
        assert sent == []  # the jobs' own output, and streams they do not read

        for _ in range(10):  # a burst within a quarter of the interval
            publish({"conversation:12", "inbox"})
            await asyncio.sleep(wake.INTERVAL / 40)
        assert [name for name, _ in sent] == [t.name for t in wake.WOKEN]  # at once, woken (wait=True)
        await asyncio.sleep(wake.INTERVAL * 1.5)
        assert len(sent) == 2 * len(wake.WOKEN)  # and once more after the burst, no more
        await asyncio.sleep(wake.INTERVAL * 2)
        assert len(sent) == 2 * len(wake.WOKEN)
    finally:
        wake.reset()
