"""Group commit: webhooks arriving together are stored by one statement, each answered after the
shared commit; a message that fails gets its own error and does not take the others down."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from connectors.base import InboundMessage, MessageKind, ParsedWebhook
from core.group_commit import GroupCommit
from core.sql import fetch, in_transaction
from models import Conversation, Message
from resolvers.inbound import ingest
from resolvers.ingest_group import current_group, store_group, store_message
from tests.helpers import make_whatsapp_channel, post_webhook, wa_text_payload


def _message(sender: str, text: str = "hi", wamid: str | None = None) -> InboundMessage:
    return InboundMessage(
        platform_message_id=wamid or f"wamid.{uuid.uuid4().hex}",
        sender_id=sender,
        sent_at=datetime.now(UTC),
        kind=MessageKind.TEXT,
        text=text,
        sender_name="Group Customer",
    )


async def test_callers_arriving_together_share_a_group_and_each_gets_its_answer() -> None:
    release = asyncio.Event()
    seen: list[list[int]] = []

    async def run(items: list[int]) -> list[int | BaseException]:
        seen.append(items)
        await release.wait()
        return [i * 10 for i in items]

    group: GroupCommit[int, int] = GroupCommit(run, max_size=4, max_inflight=1)
    calls = [asyncio.create_task(group.submit(i)) for i in range(9)]
    await asyncio.sleep(0.05)
    release.set()
    assert await asyncio.gather(*calls) == [i * 10 for i in range(9)]
    # Submitted in one turn of the loop, they leave together, up to 4; the rest wait for the
    # running group and leave in groups of ≤ 4.
    assert seen == [[0, 1, 2, 3], [4, 5, 6, 7], [8]]


async def test_a_group_that_fails_whole_is_run_again_one_by_one() -> None:
    runs: list[list[int]] = []

    async def run(items: list[int]) -> list[int | BaseException]:
        runs.append(items)
        if 3 in items:
            raise ValueError("three is poison")
        return list(items)

    group: GroupCommit[int, int] = GroupCommit(run, max_size=8, max_inflight=1)
    calls = [asyncio.create_task(group.submit(i)) for i in range(6)]
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert results[:3] == [0, 1, 2] and results[4:] == [4, 5]
    assert isinstance(results[3], ValueError) and "poison" in str(results[3])
    assert [0, 1, 2, 3, 4, 5] in runs and [3] in runs


async def test_concurrent_messages_are_stored_in_fewer_statements_each_exactly_once(database, server) -> None:
    channel, _ = await make_whatsapp_channel("http://127.0.0.1:9")
    senders = [f"5511{i:07d}{uuid.uuid4().int % 1000:03d}" for i in range(12)]
    messages = [_message(senders[i % len(senders)], f"group {i}") for i in range(60)]
    before = current_group().groups_run if current_group() else 0
    results = await asyncio.gather(
        *(ingest(channel.id, "whatsapp", ParsedWebhook(messages=(m,))) for m in messages)
    )
    assert [r.stored for r in results] == [1] * 60
    group = current_group()
    assert group is not None and group.groups_run - before < 60  # grouped, not one per message
    # Every message stored once, each sender in one conversation, two events per message.
    stored = await Message.filter(channel_id=channel.id).values_list("text", flat=True)
    assert sorted(stored) == sorted(m.text for m in messages)
    assert await Conversation.filter(channel_id=channel.id).count() == len(senders)
    conversation_ids = {r.conversations.pop() for r in results}
    rows = await fetch(
        "SELECT count(*) AS n FROM (SELECT stream FROM event_outbox UNION ALL SELECT stream FROM events) e "
        "WHERE stream = ANY($1::text[])",
        [f"conversation:{c}" for c in conversation_ids],
    )
    assert rows[0]["n"] == 60


async def test_a_redelivery_in_the_same_group_is_stored_once(database, server) -> None:
    channel, _ = await make_whatsapp_channel("http://127.0.0.1:9")
    wamid = f"wamid.{uuid.uuid4().hex}"
    copies = [_message("5511988887777", "twice", wamid) for _ in range(5)]
    outcomes = await asyncio.gather(*(store_message(channel.id, "whatsapp", m) for m in copies))
    assert sorted(o for o, _ in outcomes) == [0, 0, 0, 0, 2]
    assert await Message.filter(channel_id=channel.id, platform_message_id=wamid).count() == 1


async def test_a_message_failing_in_the_database_gets_its_own_error_and_the_rest_commit(
    database, server
) -> None:
    channel, _ = await make_whatsapp_channel("http://127.0.0.1:9")
    good = [_message(f"55119{i:07d}", f"fine {i}") for i in range(6)]
    # No such channel: the identity's foreign key fails inside the group's statement.
    bad = _message("5511900000099", "orphan")
    items = [(channel.id, "whatsapp", m, False) for m in good[:3]]
    items.append((2_000_000_000, "whatsapp", bad, False))
    items += [(channel.id, "whatsapp", m, False) for m in good[3:]]
    results = await store_group(items)  # one group, deterministically
    failed = results.pop(3)
    assert isinstance(failed, Exception) and "foreign key" in str(failed).lower()
    assert [outcome for outcome, _ in results] == [2] * 6  # type: ignore[misc]
    stored = await Message.filter(channel_id=channel.id).values_list("text", flat=True)
    assert sorted(stored) == sorted(m.text for m in good)


@pytest.mark.parametrize("rounds", [3])
async def test_webhooks_posted_at_once_are_each_answered_after_their_commit(server, wa, rounds) -> None:
    channel, secrets, _ = wa
    phone_number_id = channel.config["phone_number_id"]
    for r in range(rounds):
        bodies = [
            wa_text_payload(
                phone_number_id, f"55118{i:07d}", f"posted {r}.{i}", wamid=f"wamid.{uuid.uuid4().hex}"
            )
            for i in range(10)
        ]
        responses = await asyncio.gather(
            *(post_webhook(server, channel, secrets["app_secret"], b) for b in bodies)
        )
        assert [x.status_code for x in responses] == [200] * 10
        # A 200 means committed: every message is readable the moment its answer arrived.
        texts = set(await Message.filter(channel_id=channel.id).values_list("text", flat=True))
        assert {f"posted {r}.{i}" for i in range(10)} <= texts


async def test_a_caller_inside_a_transaction_keeps_its_message_there_and_out_of_the_groups(
    database, server
) -> None:
    channel, _ = await make_whatsapp_channel("http://127.0.0.1:9")
    outside = [_message(f"55119777{i:04d}", f"outside {i}") for i in range(6)]
    go = asyncio.Event()

    async def arrive_outside() -> list[tuple[int, int | None]]:
        await go.wait()
        return await asyncio.gather(*(store_message(channel.id, "whatsapp", m) for m in outside))

    others = asyncio.create_task(arrive_outside())  # created outside the transaction below
    with pytest.raises(RuntimeError):
        async with in_transaction():
            go.set()
            outcome, _ = await store_message(channel.id, "whatsapp", _message("5511977776666", "inside"))
            assert outcome == 2
            assert [o for o, _ in await others] == [2] * 6
            raise RuntimeError("the caller fails after storing")
    # The caller's message went with its transaction; nobody else's was carried into it.
    stored = await Message.filter(channel_id=channel.id).values_list("text", flat=True)
    assert sorted(stored) == sorted(m.text for m in outside)
