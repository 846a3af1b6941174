"""The event log: sequence numbers follow commit order, and `follow` fills every gap the bus
leaves from the database (a lost publish, a publish out of order, a RESYNC); and the events the
database's ingest function writes carry the API's own message and conversation shapes."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from connectors.base import InboundMessage, MessageKind, ParsedWebhook
from core import events as events_module
from core.bus import RESYNC, EventBus
from core.events import INBOX, EventLog, committed, conversation_stream, emit
from core.sql import fetch, fetchrow, in_transaction
from models import Message
from resolvers.inbound import ingest
from resolvers.shapes import CONVERSATION_COLUMNS, MESSAGE_COLUMNS, conversation_view, message_view
from tests.helpers import eventually, make_whatsapp_channel, post_webhook, wa_text_payload


async def _emit(stream: str, n: int) -> None:
    async with in_transaction() as conn:
        for i in range(n):
            await emit(conn, stream, "TEST", {"i": i})


async def test_sequence_is_commit_order_and_prev_links_each_stream(database, server):
    bus = EventBus("memory://")
    await bus.connect()
    log = EventLog(bus, f"t{uuid.uuid4().hex[:6]}")
    stream_a, stream_b = f"a-{uuid.uuid4().hex}", f"b-{uuid.uuid4().hex}"
    began, release = asyncio.Event(), asyncio.Event()

    async def slow_transaction() -> None:  # its own task, so its own connection and transaction
        async with in_transaction() as conn:
            await emit(conn, stream_a, "TEST", {"who": "slow"})
            began.set()
            await release.wait()

    slow = asyncio.create_task(slow_transaction())
    await began.wait()
    await _emit(stream_b, 2)  # begins after the slow one, commits before it
    await log.flush()
    release.set()
    await slow
    await log.flush()
    a = await log.replay(stream_a, 0)
    b = await log.replay(stream_b, 0)
    assert [e.payload for e in a] == [{"who": "slow"}]
    assert a[0].seq > max(e.seq for e in b)  # numbered when it committed, not when it began
    assert b[0].prev_seq is None and b[1].prev_seq == b[0].seq
    await bus.disconnect()


async def test_a_group_logs_its_own_events_once_in_commit_order_beside_the_outbox(database, server):
    """Ingest in groups numbers its events itself before its commit, while other transactions'
    events go through the outbox and the sequencer at the same time: every event is in the log
    when its webhook is answered (no outbox copy), seqs stay gap-free, each stream's prev links
    hold, and a follower of the inbox gets every event once, in seq order."""
    log = events_module._process_log
    assert log is not None  # the server's: it publishes what groups log
    channel, _ = await make_whatsapp_channel("http://127.0.0.1:9")
    start = await fetchrow("SELECT COALESCE(max(seq), 0) AS seq FROM events")
    head = await log.head(INBOX)
    side_types = {f"SIDE_{i}" for i in range(10)}
    seen: list[int] = []
    mine: list[str] = []

    async def follower() -> None:
        async for event in log.follow(INBOX, head):
            seen.append(event.seq)
            if (
                event.type in side_types
                or event.payload.get("conversation", {}).get("channel_id") == channel.id
            ):
                mine.append(event.type)
            if len(mine) == 50:
                return

    following = asyncio.create_task(follower())
    await asyncio.sleep(0.05)

    async def side(i: int) -> None:  # an ordinary transaction's event, through the outbox
        async with in_transaction() as conn:
            await emit(conn, INBOX, f"SIDE_{i}", {"i": i})
        committed()

    senders = [f"5511{i:07d}{uuid.uuid4().int % 1000:03d}" for i in range(8)]
    messages = [
        InboundMessage(
            platform_message_id=f"wamid.{uuid.uuid4().hex}",
            sender_id=senders[i % 8],
            sent_at=datetime.now(UTC),
            kind=MessageKind.TEXT,
            text=f"logged {i}",
        )
        for i in range(40)
    ]
    results = await asyncio.gather(
        *(ingest(channel.id, "whatsapp", ParsedWebhook(messages=(m,))) for m in messages),
        *(side(i) for i in range(10)),
    )
    streams = sorted({conversation_stream(c) for r in results if r is not None for c in r.conversations})
    assert len(streams) == 8
    # Answered means logged: the messages' events are in the log already, and never in the outbox.
    copies = await fetchrow(
        "SELECT (SELECT count(*) FROM events WHERE stream = ANY($1::text[])) AS logged, "
        "(SELECT count(*) FROM event_outbox WHERE stream = ANY($1::text[])) AS waiting",
        streams,
    )
    assert (copies["logged"], copies["waiting"]) == (40, 0)
    await asyncio.wait_for(following, 15)
    assert sorted(mine) == sorted(
        ["CONVERSATION_CREATED"] * 8 + ["CONVERSATION_UPDATED"] * 32 + list(side_types)
    )
    assert seen == sorted(set(seen))  # once each, in order
    rows = await fetch("SELECT seq, prev_seq, stream FROM events WHERE seq > $1 ORDER BY seq", start["seq"])
    assert [r["seq"] for r in rows] == list(range(start["seq"] + 1, start["seq"] + 1 + len(rows)))
    last: dict[str, int] = {}
    for r in rows:  # each stream's chain, from its first event after `start`
        if r["stream"] in last:
            assert r["prev_seq"] == last[r["stream"]], r
        last[r["stream"]] = r["seq"]


async def test_follow_recovers_lost_and_reordered_publishes(database, server):
    bus = EventBus("memory://")
    await bus.connect()
    namespace = f"t{uuid.uuid4().hex[:6]}"
    log = EventLog(bus, namespace)
    stream = f"s-{uuid.uuid4().hex}"
    received: list[int] = []

    async def consume() -> None:
        async for event in log.follow(stream, 0):
            received.append(event.payload["i"])
            if len(received) == 6:
                return

    consumer = asyncio.create_task(consume())
    await asyncio.sleep(0.1)
    # three events stored and sequenced, but their publishes "lost": only the third goes out
    await _emit(stream, 3)
    batch = await log._sequence_batch()
    from core.events import _wire

    seq, prev, s, t, payload = batch[-1]
    await bus.publish(f"{namespace}:{stream}", _wire(seq, prev, s, t, payload))
    # then a bus reconnect: RESYNC, with three more events never published at all
    await _emit(stream, 3)
    await log._sequence_batch()
    for subscription in bus._broadcast._subs[f"{namespace}:{stream}"]:  # what a Redis reconnect delivers
        subscription.offer(RESYNC)
    await asyncio.wait_for(consumer, 10)
    assert received == [0, 1, 2, 0, 1, 2]
    await bus.disconnect()


async def test_pruned_history_is_a_named_error_not_a_silent_gap(database, server):
    from core.events import CursorExpired, prune_events
    from core.sql import fetch

    bus = EventBus("memory://")
    await bus.connect()
    log = EventLog(bus, f"t{uuid.uuid4().hex[:6]}")
    stream = f"p-{uuid.uuid4().hex}"
    await _emit(stream, 3)
    await log.flush()
    events = await log.replay(stream, 0)
    await fetch("UPDATE events SET created_at = now() - interval '30 days' WHERE seq = $1", events[0].seq)
    assert await prune_events(7) >= 1
    with pytest.raises(CursorExpired):
        async for _ in log.follow(stream, 0):
            break
    resumed = [e.payload["i"] async for e in _take(log.follow(stream, events[0].seq), 2)]
    assert resumed == [1, 2]  # a cursor inside the retained window still replays exactly
    await bus.disconnect()


async def _take(iterator, n):  # type: ignore[no-untyped-def]
    async for item in iterator:
        yield item
        n -= 1
        if n == 0:
            return


def _same_as_view(event_shape: dict[str, Any], view: dict[str, Any]) -> None:
    """An event's JSON equals the API's view of the same row (timestamps as ISO strings)."""
    assert sorted(event_shape) == sorted(view)
    for key, value in view.items():
        sent = event_shape[key]
        assert (datetime.fromisoformat(sent) if isinstance(value, datetime) and sent else sent) == value, key


async def test_ingest_events_carry_the_api_shapes_of_message_and_conversation(server, wa):
    """pytake_ingest_message writes its events in SQL; they must hold exactly what the API's
    message and conversation views hold (migrations/functions/20_shapes.sql is the one definition)."""
    channel, secrets, _ = wa
    wamid = f"wamid.{uuid.uuid4().hex}"
    sender = f"1650{random.randrange(10**7):07d}"
    body = wa_text_payload(channel.config["phone_number_id"], sender, "what shape am I?", wamid=wamid)
    assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200
    stored = await Message.get(channel_id=channel.id, platform_message_id=wamid)

    async def events_of_this_message() -> list[dict[str, Any]]:
        rows = await fetch(
            "SELECT stream, type, payload FROM events WHERE (stream = $1 AND type = 'MESSAGE_CREATED') "
            "OR (stream = $2 AND (payload->'last_message'->>'id')::bigint = $3) ORDER BY seq",
            conversation_stream(stored.conversation_id),
            INBOX,
            stored.id,
        )
        return rows if len(rows) == 2 else []

    created, inbox = await eventually(events_of_this_message)
    message = message_view(await fetchrow(f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = $1", stored.id))
    conversation = conversation_view(
        await fetchrow(
            f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = $1", stored.conversation_id
        )
    )
    payload, inbox_payload = _json(created["payload"]), _json(inbox["payload"])
    assert inbox["type"] == "CONVERSATION_CREATED"
    _same_as_view(payload["message"], message)
    _same_as_view(inbox_payload["last_message"], message)
    _same_as_view(inbox_payload["conversation"], conversation)
    assert not {"search_tsv", "send_attempts", "sending_until", "failed_at"} & set(payload["message"])


def _json(value: Any) -> dict[str, Any]:
    return orjson.loads(value) if isinstance(value, str) else value
