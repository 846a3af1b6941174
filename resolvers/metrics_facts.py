"""What each metric measures, derived from one conversation's raw rows (its messages, activities
and current dimensions) by one pure function, `facts_of`. The roll-up job stores its output and
the tests compare the roll-ups with it; the README's "Metrics" section states the same rules.

A *care cycle* starts with a customer message while no cycle is open (the first one, or the first
after a resolution: a reopening) and ends when the conversation is resolved or closed.

The walk is resumable: it leaves a `Checkpoint` (where it was and its whole state just before)
at each cycle's opening and, inside a cycle, before the first message once CHECKPOINT_ROWS rows
were walked since the last one; each fact is tagged with its *segment* (the number of checkpoints
passed when it is emitted). So the roll-up job can re-derive a conversation from any checkpoint on
(`walk_facts(..., resume=checkpoint)`) with exactly the facts, tagged alike, of the whole walk
from that segment on, and a new message in a long open cycle reads the rows since the last
checkpoint, not the cycle. What a resumed walk cannot give alone, it reports (`reaches`): a row
that ends the cycle it resumed inside (the cycle's handling facts are derived at its end, from the
whole cycle: resolvers/metrics_presence.py) or that first replies to or resolves after a templated
send from before the checkpoint (that send's facts, resolvers/metrics_content.py); the job then
re-derives from the segment reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson

from resolvers.sla import BusinessHours

DURATIONS = (
    "first_response_time",
    "next_response_time",
    "reaction_time",
    "resolution_time",
    "inbound_latency",
    "outbound_accept_latency",
    "outbound_delivery_latency",
    "outbound_read_latency",
)
COUNTS = (
    "messages_in",
    "messages_out",
    "agent_replies",
    "conversations_started",
    "cycles_started",
    "reopenings",
    "resolutions",
    "first_contact_resolutions",
    "transfers",
    "escalations",
    "sends_ok",
    "sends_failed",
)
_ENDS_CYCLE = ("resolved", "closed")


@dataclass(frozen=True)
class Fact:
    metric: str
    at: datetime
    n: int = 1
    value: float | None = None
    business: float | None = None
    platform: str = ""
    channel_id: int = 0
    team_id: int = 0
    agent_id: int = 0
    labels: tuple[str, ...] = ()


def business_seconds(calendar: BusinessHours | None, start: datetime, end: datetime) -> float:
    """Seconds of `[start, end)` inside the calendar's open hours (no calendar: wall clock)."""
    if end <= start:
        return 0.0
    if calendar is None or not calendar.week:
        return (end - start).total_seconds()
    total = 0.0
    day = start.astimezone(calendar.zone).date()
    last = end.astimezone(calendar.zone).date()
    while day <= last:
        if day not in calendar.holidays:
            for opens, closes in calendar.week.get(day.weekday(), ()):
                begin = max(datetime.combine(day, opens, calendar.zone), start)
                finish = min(datetime.combine(day, closes, calendar.zone), end)
                if finish > begin:
                    total += (finish - begin).total_seconds()
        day += timedelta(days=1)
    return total


def _meta(message: Mapping[str, Any]) -> dict[str, Any]:
    metadata = message.get("metadata") or {}
    return orjson.loads(metadata) if isinstance(metadata, str | bytes) else dict(metadata)


def _data(activity: Mapping[str, Any]) -> dict[str, Any]:
    data = activity.get("data") or {}
    return orjson.loads(data) if isinstance(data, str | bytes) else dict(data)


def is_agent_reply(message: Mapping[str, Any]) -> bool:
    """A public reply a person wrote: not a note, not a bot's or an automated message, not failed."""
    if message["direction"] != "outbound" or message.get("sender_id") is None:
        return False
    if message.get("status") == "failed":
        return False
    if "automated" in message:  # the roll-up job reads it in SQL rather than every metadata
        return not message["automated"]
    metadata = _meta(message)
    return "flow" not in metadata and not metadata.get("automated")


def _templated(message: Mapping[str, Any]) -> bool:
    if "templated" in message:  # the roll-up job reads it in SQL
        return bool(message["templated"])
    return "response_template" in _meta(message)


# Rows (messages and activities walked) between checkpoints inside a cycle. A re-derivation reads
# the rows from the last checkpoint before the earliest changed row on, so a new message costs at
# most about this many rows besides the new ones; each checkpoint is one metric_segments row (its
# state, ~300 bytes) per CHECKPOINT_ROWS rows. Larger than most care cycles (a few dozen rows),
# so a short cycle keeps only its opening checkpoint.
CHECKPOINT_ROWS = 64


@dataclass(frozen=True)
class Checkpoint:
    """Checkpoint `segment`: the message it comes before (created_at, id) and the walk's whole
    state just before that message (JSON: `_Walk.state`), from which a walk resumed there goes on
    exactly as the whole walk did."""

    segment: int
    opened_at: datetime
    message_id: int
    carried: Mapping[str, Any]

    def state(self) -> dict[str, Any]:
        return dict(self.carried)

    @classmethod
    def of(cls, segment: int, opened_at: datetime, message_id: int, state: Mapping[str, Any]) -> Checkpoint:
        return cls(segment, opened_at, message_id, dict(state))


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _time(at: str | None) -> datetime | None:
    return None if at is None else datetime.fromisoformat(at)


@dataclass
class _Cycle:
    start: datetime
    index: int
    bot_spoke: bool = False
    handed_off_at: datetime | None = None
    responded: bool = False
    waiting_since: datetime | None = None
    transfers: int = 0
    messages: int = 0  # customer messages and messages out (not notes) while the cycle was open
    end: datetime | None = None
    segment: int = 0  # the segment its opening starts

    def state(self) -> dict[str, Any]:
        return {
            "start": _iso(self.start),
            "index": self.index,
            "segment": self.segment,
            "bot_spoke": self.bot_spoke,
            "handed_off_at": _iso(self.handed_off_at),
            "responded": self.responded,
            "waiting_since": _iso(self.waiting_since),
            "transfers": self.transfers,
            "messages": self.messages,
        }

    @classmethod
    def of(cls, state: Mapping[str, Any]) -> _Cycle:
        return cls(
            datetime.fromisoformat(state["start"]),
            state["index"],
            state["bot_spoke"],
            _time(state["handed_off_at"]),
            state["responded"],
            _time(state["waiting_since"]),
            state["transfers"],
            state["messages"],
            None,
            state["segment"],
        )


@dataclass
class _Walk:
    conversation: Mapping[str, Any]
    calendar: BusinessHours | None
    facts: list[Fact] = field(default_factory=list)
    cycle: _Cycle | None = None
    cycles: int = 0
    assignee: int | None = None
    awaiting_reaction: tuple[int, datetime] | None = None
    first_cycle_fcr: tuple[datetime, int | None] | None = None
    cycles_seen: list[_Cycle] = field(default_factory=list)
    segments: list[int] = field(default_factory=list)  # each fact's segment (parallel to facts)
    checkpoints: list[Checkpoint] = field(default_factory=list)
    segment_of: dict[int, int] = field(default_factory=dict)  # message id → its segment
    segment: int = 0  # checkpoints passed
    rows: int = 0  # rows walked since the last checkpoint
    # The earliest segment holding a templated send (not failed) with no inbound message after it
    # yet, and with no resolution after it yet: the next such row changes that send's facts.
    unreplied: int | None = None
    unresolved: int | None = None
    start: int = 0  # the segment the walk resumed at: what is carried from before it is older
    reaches: list[tuple[datetime, int]] = field(default_factory=list)  # (row's time, segment)

    def state(self) -> dict[str, Any]:
        waiting, fcr = self.awaiting_reaction, self.first_cycle_fcr
        return {
            "cycles": self.cycles,
            "rows": self.rows,
            "assignee": self.assignee,
            "awaiting": None if waiting is None else [waiting[0], waiting[1].isoformat()],
            "fcr": None if fcr is None else [fcr[0].isoformat(), fcr[1]],
            "cycle": None if self.cycle is None else self.cycle.state(),
            "unreplied": self.unreplied,
            "unresolved": self.unresolved,
        }

    def resume(self, checkpoint: Checkpoint) -> None:
        state = checkpoint.carried
        waiting, fcr = state["awaiting"], state["fcr"]
        self.segment = checkpoint.segment - 1
        self.cycles, self.rows, self.assignee = state["cycles"], state["rows"], state["assignee"]
        self.awaiting_reaction = (
            None if not waiting else (int(waiting[0]), datetime.fromisoformat(waiting[1]))
        )
        self.first_cycle_fcr = None if not fcr else (datetime.fromisoformat(fcr[0]), fcr[1])
        self.unreplied, self.unresolved = state["unreplied"], state["unresolved"]
        if state["cycle"] is not None:
            self.cycle = _Cycle.of(state["cycle"])
            self.cycles_seen.append(self.cycle)
        self.start = checkpoint.segment

    def checkpoint(self, at: datetime, message_id: int) -> None:
        self.checkpoints.append(Checkpoint(self.segment + 1, at, message_id, self.state()))
        self.segment += 1
        self.rows = 0

    def reach(self, at: datetime, segment: int) -> None:
        """A row at `at` changes facts of `segment`: say so when the walk resumed after it."""
        if segment < self.start:
            self.reaches.append((at, segment))

    def push(self, fact: Fact, segment: int | None = None) -> None:
        self.facts.append(fact)
        self.segments.append(self.segment if segment is None else segment)

    def add(
        self,
        metric: str,
        at: datetime,
        *,
        agent: int | None = None,
        start: datetime | None = None,
        n: int = 1,
        message: Mapping[str, Any] | None = None,
        segment: int | None = None,
    ) -> None:
        source = message or self.conversation
        value = business = None
        if start is not None:
            value = max(0.0, (at - start).total_seconds())
            business = business_seconds(self.calendar, start, at)
        self.push(
            Fact(
                metric,
                at,
                n,
                value,
                business,
                str(source["platform"]),
                int(source["channel_id"]),
                int(self.conversation.get("team_id") or 0),
                int(agent or 0),
                tuple(sorted(self.conversation.get("labels") or ())),
            ),
            segment,
        )

    # -- what happens ---------------------------------------------------------------------------
    def inbound(self, message: Mapping[str, Any]) -> None:
        at = message["created_at"]
        if self.unreplied is not None:  # the templated sends before it are replied to
            self.reach(at, self.unreplied)
            self.unreplied = None
        if self.cycle is None:  # first, so the message's own facts are in the cycle it opens
            self.open_cycle(at)
        elif self.cycle.responded and self.cycle.waiting_since is None:
            self.cycle.waiting_since = at
        self.add("messages_in", at, agent=self.assignee, message=message)
        sent = message.get("sent_at")
        if sent is not None:
            self.add("inbound_latency", at, agent=self.assignee, start=min(sent, at), message=message)
        self.cycle.messages += 1  # type: ignore[union-attr]

    def open_cycle(self, at: datetime) -> None:
        self.cycles += 1
        self.cycle = _Cycle(at, self.cycles, segment=self.segment)
        self.cycles_seen.append(self.cycle)
        self.add("cycles_started", at, agent=self.assignee)
        self.add("conversations_started" if self.cycles == 1 else "reopenings", at, agent=self.assignee)
        if self.cycles == 2:
            self.first_cycle_fcr = None  # it came back: the first contact did not resolve it

    def outbound(self, message: Mapping[str, Any]) -> None:
        at = message["created_at"]
        sender = message.get("sender_id")
        if _templated(message) and message.get("status") != "failed":
            self.unreplied = self.segment if self.unreplied is None else self.unreplied
            self.unresolved = self.segment if self.unresolved is None else self.unresolved
        self.add("messages_out", at, agent=sender, message=message)
        if self.cycle is not None:
            self.cycle.messages += 1
        self._delivery(message)
        if not is_agent_reply(message):
            if sender is None and self.cycle is not None and not self.cycle.responded:
                self.cycle.bot_spoke = True
            return
        self.add("agent_replies", at, agent=sender, message=message)
        if self.awaiting_reaction and self.awaiting_reaction[0] == sender:
            self.add("reaction_time", at, agent=sender, start=self.awaiting_reaction[1])
            self.awaiting_reaction = None
        cycle = self.cycle
        if cycle is None:
            return
        if not cycle.responded:
            start = cycle.start
            if cycle.bot_spoke and cycle.handed_off_at is not None:
                start = max(start, cycle.handed_off_at)  # bot time is not held against agents
            self.add("first_response_time", at, agent=sender, start=start)
            cycle.responded = True
        elif cycle.waiting_since is not None:
            self.add("next_response_time", at, agent=sender, start=cycle.waiting_since)
            cycle.waiting_since = None

    def _delivery(self, message: Mapping[str, Any]) -> None:
        queued = message["created_at"]
        agent = message.get("sender_id")
        if message.get("status") == "failed":
            self.add("sends_failed", queued, agent=agent, message=message)
            return
        for metric, column in (
            ("outbound_accept_latency", "sent_at"),
            ("outbound_delivery_latency", "delivered_at"),
            ("outbound_read_latency", "read_at"),
        ):
            if message.get(column) is not None:
                self.push(self._latency(metric, message, column))
        if message.get("sent_at") is not None:
            self.add("sends_ok", queued, agent=agent, message=message)

    def _latency(self, metric: str, message: Mapping[str, Any], column: str) -> Fact:
        queued, reached = message["created_at"], message[column]
        value = max(0.0, (reached - queued).total_seconds())
        return Fact(
            metric,
            queued,
            1,
            value,
            value,
            str(message["platform"]),
            int(message["channel_id"]),
            int(self.conversation.get("team_id") or 0),
            int(message.get("sender_id") or 0),
            tuple(sorted(self.conversation.get("labels") or ())),
        )

    def activity(self, activity: Mapping[str, Any]) -> None:
        at, kind, data = activity["created_at"], activity["type"], _data(activity)
        if kind in ("assigned", "unassigned", "transferred") and "to_user_id" in data:
            self.assignee = data.get("to_user_id")
            self.awaiting_reaction = (self.assignee, at) if self.assignee else None
        elif kind == "transferred" and data.get("to_team_id") is not None:
            self.assignee, self.awaiting_reaction = None, None
        if kind == "transferred":
            self.add("transfers", at, agent=activity.get("actor_id"))
            if self.cycle is not None:
                self.cycle.transfers += 1
        elif kind == "escalated":
            self.add("escalations", at, agent=self.assignee)
        elif kind == "flow_handed_off":
            if self.cycle is not None and self.cycle.handed_off_at is None:
                self.cycle.handed_off_at = at
        elif kind == "status_changed" and data.get("to") in _ENDS_CYCLE:
            if self.unresolved is not None:  # the templated sends before it are resolved after
                self.reach(at, self.unresolved)
                self.unresolved = None
            if self.cycle is not None:
                self.resolve(at)

    def resolve(self, at: datetime) -> None:
        cycle = self.cycle
        assert cycle is not None
        self.add("resolution_time", at, agent=self.assignee, start=cycle.start)
        self.add("resolutions", at, agent=self.assignee)
        if cycle.index == 1 and cycle.transfers == 0:
            self.first_cycle_fcr = (at, self.assignee)
        cycle.end = at
        self.cycle = None
        self.reach(at, cycle.segment)  # its handling facts are derived from the whole cycle


def _walked(
    conversation: Mapping[str, Any],
    messages: Iterable[Mapping[str, Any]],
    activities: Iterable[Mapping[str, Any]],
    calendar: BusinessHours | None,
    resume: Checkpoint | None = None,
) -> _Walk:
    """The walk over the rows in time order; from `resume` on (its message, with the state before
    it) when given, ignoring the rows before it."""
    walk = _Walk(conversation, calendar)
    start: tuple[datetime, int, int] | None = None
    if resume is not None:
        walk.resume(resume)
        start = (resume.opened_at, 1, resume.message_id)
    timeline: list[tuple[datetime, int, int, str, Mapping[str, Any]]] = []
    for activity in activities:
        timeline.append((activity["created_at"], 0, int(activity["id"]), "activity", activity))
    for message in messages:
        if message["direction"] != "note":
            timeline.append(
                (message["created_at"], 1, int(message["id"]), str(message["direction"]), message)
            )
    for at, order, row_id, kind, row in sorted(timeline, key=lambda item: item[:3]):
        if start is not None and (at, order, row_id) < start:
            continue
        # Before a cycle's opening, or a message once CHECKPOINT_ROWS rows were walked since the
        # last. A resumed walk starts with the state before its checkpoint's message, so it leaves
        # that checkpoint again.
        if kind != "activity" and (
            walk.rows >= CHECKPOINT_ROWS or (kind == "inbound" and walk.cycle is None)
        ):
            walk.checkpoint(at, row_id)
        walk.rows += 1
        if kind == "activity":
            walk.activity(row)
            continue
        if kind == "inbound":
            walk.inbound(row)
        else:
            walk.outbound(row)
        walk.segment_of[row_id] = walk.segment
    return walk


@dataclass
class Derivation:
    """What one walk gives: the facts with their segments, the checkpoints it left, each walked
    message's segment, the cycles it saw and, resumed, the rows that change facts of segments
    before it ((row's time, segment): `_Walk.reach`)."""

    facts: list[tuple[int, Fact]]
    checkpoints: list[Checkpoint]
    segment_of: dict[int, int]
    cycles: list[CareCycle]
    reaches: list[tuple[datetime, int]] = field(default_factory=list)


def walk_facts(
    conversation: Mapping[str, Any],
    messages: Iterable[Mapping[str, Any]],
    activities: Iterable[Mapping[str, Any]],
    calendar: BusinessHours | None = None,
    resume: Checkpoint | None = None,
) -> Derivation:
    """`facts_of` with segments, from the start or from a checkpoint: resumed at checkpoint k, it
    gives exactly the whole walk's facts of segments ≥ k. The first-contact resolution is known only
    at the end (a second cycle undoes it): it is counted in the last segment, which every resumed
    walk reaches, and the state carries it."""
    walk = _walked(conversation, messages, activities, calendar, resume)
    if walk.first_cycle_fcr is not None:
        at, agent = walk.first_cycle_fcr
        walk.add("first_contact_resolutions", at, agent=agent)
    return Derivation(
        list(zip(walk.segments, walk.facts, strict=True)),
        walk.checkpoints,
        walk.segment_of,
        [_care_cycle(c) for c in walk.cycles_seen],
        walk.reaches,
    )


def _care_cycle(c: _Cycle) -> CareCycle:
    return CareCycle(c.index, c.start, c.end, c.messages, c.transfers, c.segment)


def facts_of(
    conversation: Mapping[str, Any],
    messages: Iterable[Mapping[str, Any]],
    activities: Iterable[Mapping[str, Any]],
    calendar: BusinessHours | None = None,
) -> list[Fact]:
    """Every fact of one conversation. Messages and activities are walked in time order; at the
    same instant an activity goes first (an assignment is recorded before the reply it allows)."""
    return [fact for _segment, fact in walk_facts(conversation, messages, activities, calendar).facts]


@dataclass(frozen=True)
class CareCycle:
    """One care cycle as the walk above sees it: when it started and ended (None: still open),
    how many messages (in and out, not notes) and transfers it had, the segment its opening starts."""

    index: int
    start: datetime
    end: datetime | None
    messages: int
    transfers: int
    segment: int = 0


def care_cycles(
    conversation: Mapping[str, Any],
    messages: Iterable[Mapping[str, Any]],
    activities: Iterable[Mapping[str, Any]],
) -> list[CareCycle]:
    """The conversation's care cycles, by the same walk as `facts_of` (one definition of a cycle)."""
    walk = _walked(conversation, messages, activities, None)
    return [_care_cycle(c) for c in walk.cycles_seen]
