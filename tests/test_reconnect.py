"""A client that drops its connection and comes back with its last cursor misses nothing and
gets nothing twice."""

from __future__ import annotations

import asyncio

from models import Conversation, Role
from schema.relay import to_global_id
from tests.helpers import Subscriber, SubscriptionError, login, make_user, post_webhook, wa_text_payload
from tests.test_story import CONV_SUB, INBOX_SUB


async def test_reconnect_with_cursor_replays_exactly_what_was_missed(server, wa):
    channel, secrets, _ = wa
    pn = channel.config["phone_number_id"]
    token = await login(server, await make_user(Role.AGENT))

    async def customer_says(text: str) -> None:
        assert (
            await post_webhook(
                server, channel, secrets["app_secret"], wa_text_payload(pn, "5511900001111", text)
            )
        ).status_code == 200

    await customer_says("message 0")
    conversation = await Conversation.get(channel_id=channel.id)
    gid = to_global_id("Conversation", conversation.id)

    sub = await Subscriber.open(server, token, CONV_SUB, {"id": gid, "after": "0"})
    first = (await sub.next())["conversationEvents"]
    assert first["message"]["text"] == "message 0"
    cursor = first["cursor"]
    await sub.close()

    for i in (1, 2, 3):  # missed while disconnected
        await customer_says(f"message {i}")

    again = await Subscriber.open(server, token, CONV_SUB, {"id": gid, "after": cursor})
    replayed = [(await again.next())["conversationEvents"] for _ in range(3)]
    assert [e["message"]["text"] for e in replayed] == ["message 1", "message 2", "message 3"]
    assert [int(e["cursor"]) for e in replayed] == sorted(int(e["cursor"]) for e in replayed)

    await customer_says("message 4")  # then live, with nothing repeated in between
    live = (await again.next())["conversationEvents"]
    assert live["message"]["text"] == "message 4"
    await again.close()


async def test_subscription_without_cursor_starts_live_and_inbox_replays(server, wa):
    channel, secrets, _ = wa
    pn = channel.config["phone_number_id"]
    token = await login(server, await make_user(Role.AGENT))
    # "before" must be published before the cursorless subscription starts (events are published
    # by the sequencer, which lags under load): a witness subscribed first sees it go by.
    witness = await Subscriber.open(server, token, INBOX_SUB)
    await post_webhook(server, channel, secrets["app_secret"], wa_text_payload(pn, "5511900002222", "before"))
    await witness.next_where(
        lambda d: d["inboxEvents"]["conversation"]["customer"]["phone"] == "5511900002222"
    )
    await witness.close()
    sub = await Subscriber.open(server, token, INBOX_SUB)
    await asyncio.sleep(
        0.2
    )  # let the subscription start before the next webhook (not needed for correctness)
    await post_webhook(server, channel, secrets["app_secret"], wa_text_payload(pn, "5511900002222", "after"))
    event = await sub.next_where(
        lambda d: d["inboxEvents"]["conversation"]["customer"]["phone"] == "5511900002222"
    )
    assert event["inboxEvents"]["conversation"]["lastMessage"]["text"] == "after"
    await sub.close()


async def test_bad_cursor_and_unauthenticated_subscription_are_named_errors(server, wa):
    token = await login(server, await make_user(Role.AGENT))
    sub = await Subscriber.open(server, token, INBOX_SUB, {"after": "yesterday"})
    try:
        await sub.next()
        raise AssertionError("expected an error")
    except SubscriptionError as exc:
        assert exc.code == "BAD_USER_INPUT"
    await sub.close()
    anonymous = await Subscriber.open(server, None, INBOX_SUB)
    try:
        await anonymous.next()
        raise AssertionError("expected an error")
    except SubscriptionError as exc:
        assert exc.code == "UNAUTHENTICATED"
    await anonymous.close()
