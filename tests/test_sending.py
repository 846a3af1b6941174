"""Replies: stored once, sent once, retried when the platform says later, failed with a reason
when it says never; statuses only move forward."""

from __future__ import annotations

import uuid
from datetime import timedelta

from connectors.base import DeliveryStatus
from models import Conversation, Message, MessageStatusChange, Role
from resolvers.messages import deliver
from schema.relay import to_global_id
from tests.helpers import eventually, gql, login, make_user, post_webhook, wa_text_payload
from tests.test_story import SEND


async def _conversation(server, wa, wa_id: str) -> Conversation:  # type: ignore[no-untyped-def]
    channel, secrets, _ = wa
    body = wa_text_payload(channel.config["phone_number_id"], wa_id, "hi")
    assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200
    return await Conversation.get(channel_id=channel.id)


async def _reply(server: str, token: str, conversation: Conversation, text: str) -> dict:
    variables = {
        "input": {
            "conversationId": to_global_id("Conversation", conversation.id),
            "clientMessageId": str(uuid.uuid4()),
            "text": text,
        }
    }
    body = await gql(server, SEND, variables, token)
    assert body.get("errors") is None, body
    return body["data"]["sendMessage"]


async def _final(client_message_id: str, status: str) -> Message:
    async def check():  # type: ignore[no-untyped-def]
        m = await Message.get(client_message_id=client_message_id)
        return m if m.status == status else None

    return await eventually(check, timeout=20)


async def test_transient_errors_are_retried_then_sent_once(server, wa):
    _, _, fake = wa
    conversation = await _conversation(server, wa, "5511911110001")
    token = await login(server, await make_user(Role.AGENT))
    fake.fail_next(429, {"error": {"message": "rate", "type": "OAuthException", "code": 130429}}, times=1)
    fake.fail_next(500, {"error": {"message": "oops", "type": "OAuthException", "code": 131000}}, times=1)
    sent_before = len(fake.sent)
    reply = await _reply(server, token, conversation, "after two failures")
    message = await _final(reply["clientMessageId"], "sent")
    assert message.send_attempts == 3
    assert (
        len([s for s in fake.sent[sent_before:] if s.get("text", {}).get("body") == "after two failures"])
        == 1
    )


async def test_outside_window_fails_with_code_and_reason(server, wa):
    _, _, fake = wa
    conversation = await _conversation(server, wa, "5511911110002")
    fake.close_window("5511911110002")
    token = await login(server, await make_user(Role.AGENT))
    reply = await _reply(server, token, conversation, "too late")
    message = await _final(reply["clientMessageId"], "failed")
    assert message.error_code == "131047"
    assert "24 hours" in message.error_reason
    assert message.failed_at is not None


async def test_redelivered_job_never_sends_twice(server, wa):
    _, _, fake = wa
    conversation = await _conversation(server, wa, "5511911110003")
    token = await login(server, await make_user(Role.AGENT))
    reply = await _reply(server, token, conversation, "exactly once")
    message = await _final(reply["clientMessageId"], "sent")
    assert await deliver(message.id) == "skipped"  # the same job delivered again
    assert len([s for s in fake.sent if s.get("text", {}).get("body") == "exactly once"]) == 1


async def test_statuses_never_move_backwards_and_are_recorded_once(server, wa):
    channel, _, fake = wa
    conversation = await _conversation(server, wa, "5511911110004")
    token = await login(server, await make_user(Role.AGENT))
    reply = await _reply(server, token, conversation, "track me")
    message = await _final(reply["clientMessageId"], "sent")
    pn = channel.config["phone_number_id"]
    for status in ("read", "delivered", "read", "sent"):
        response = await fake.post_status(pn, message.platform_message_id, status)
        assert response.status_code == 200
    await message.refresh_from_db()
    assert message.status == DeliveryStatus.READ
    assert message.delivered_at is not None  # read implies delivered
    statuses = sorted(c.status for c in await MessageStatusChange.filter(message_id=message.id))
    assert statuses == ["delivered", "read", "sent"]


async def test_reply_validation_errors(server, wa):
    conversation = await _conversation(server, wa, "5511911110005")
    token = await login(server, await make_user(Role.AGENT))
    gid = to_global_id("Conversation", conversation.id)
    too_long = await gql(
        server, SEND, {"input": {"conversationId": gid, "clientMessageId": "x1", "text": "a" * 5000}}, token
    )
    empty = await gql(
        server, SEND, {"input": {"conversationId": gid, "clientMessageId": "x2", "text": "  "}}, token
    )
    assert too_long["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert empty["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    reused = {"input": {"conversationId": gid, "clientMessageId": "x3", "text": "one"}}
    assert (await gql(server, SEND, reused, token)).get("errors") is None
    reused["input"]["text"] = "another"
    assert (await gql(server, SEND, reused, token))["errors"][0]["extensions"]["code"] == "CONFLICT"


async def test_a_reply_whose_enqueue_was_lost_is_sent_by_the_sweep(server, wa):
    """A crash between commit and enqueue leaves a queued reply with no job: the sweep sends it."""
    from jobs.maintenance import requeue_stale_sends

    _, _, fake = wa
    conversation = await _conversation(server, wa, "5511911110006")
    agent = await make_user(Role.AGENT)
    lost = await Message.create(
        conversation_id=conversation.id,
        channel_id=conversation.channel_id,
        identity_id=conversation.identity_id,
        platform="whatsapp",
        direction="outbound",
        kind="text",
        text="lost in a crash",
        status="queued",
        client_message_id=str(uuid.uuid4()),
        sender_id=agent.id,
    )
    await Message.filter(id=lost.id).update(created_at=lost.created_at - timedelta(minutes=5))
    requeue_stale_sends.send()
    sent = await _final(lost.client_message_id, "sent")
    assert sent.platform_message_id
    assert len([s for s in fake.sent if s.get("text", {}).get("body") == "lost in a crash"]) == 1


async def test_watermark_status_moves_every_earlier_message(server, wa):
    """Messenger reports reads as a watermark: everything sent to that person up to then was read."""
    from datetime import UTC, datetime

    from connectors.base import ParsedWebhook, StatusUpdate
    from resolvers.inbound import ingest

    channel, _, _ = wa
    conversation = await _conversation(server, wa, "5511911110007")
    token = await login(server, await make_user(Role.AGENT))
    first = await _final((await _reply(server, token, conversation, "one"))["clientMessageId"], "sent")
    second = await _final((await _reply(server, token, conversation, "two"))["clientMessageId"], "sent")
    watermark = StatusUpdate(
        platform_message_id="",
        status=DeliveryStatus.READ,
        occurred_at=datetime.now(UTC),
        recipient_id="5511911110007",
        up_to=first.sent_at,
    )
    result = await ingest(channel.id, "whatsapp", ParsedWebhook(statuses=(watermark,)))
    assert result.statuses == 1
    await first.refresh_from_db()
    await second.refresh_from_db()
    assert (first.status, second.status) == (DeliveryStatus.READ, DeliveryStatus.SENT)


SEND_RICH = """mutation($input: SendMessageInput!) { sendMessage(input: $input) { id kind status attachments { kind url } } }"""


async def test_media_and_buttons_go_out_in_the_platforms_shape(server, wa):
    _, _, fake = wa
    conversation = await _conversation(server, wa, "5511911110077")
    token = await login(server, await make_user(Role.AGENT))
    cid = to_global_id("Conversation", conversation.id)
    before = len(fake.sent)
    photo = {
        "conversationId": cid,
        "clientMessageId": str(uuid.uuid4()),
        "text": "the blue one",
        "attachments": [{"kind": "IMAGE", "url": "https://cdn.example.com/blue.jpg"}],
    }
    body = await gql(server, SEND_RICH, {"input": photo}, token)
    assert body["data"]["sendMessage"]["kind"] == "IMAGE", body
    choose = {
        "conversationId": cid,
        "clientMessageId": str(uuid.uuid4()),
        "text": "Which size?",
        "buttons": [{"id": "size-s", "title": "Small"}, {"id": "size-m", "title": "Medium"}],
    }
    assert (await gql(server, SEND_RICH, {"input": choose}, token)).get("errors") is None
    await _final(photo["clientMessageId"], "sent")
    await _final(choose["clientMessageId"], "sent")
    sent = {s["type"]: s for s in fake.sent[before:]}
    assert sent["image"]["image"] == {"link": "https://cdn.example.com/blue.jpg", "caption": "the blue one"}
    buttons = sent["interactive"]["interactive"]
    assert buttons["type"] == "button" and [b["reply"]["id"] for b in buttons["action"]["buttons"]] == [
        "size-s",
        "size-m",
    ]

    two = {**photo, "clientMessageId": str(uuid.uuid4()), "attachments": photo["attachments"] * 2}
    refused = await gql(server, SEND_RICH, {"input": two}, token)
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "at most 1" in refused["errors"][0]["message"]
    not_a_url = {
        **photo,
        "clientMessageId": str(uuid.uuid4()),
        "attachments": [{"kind": "IMAGE", "url": "file:///etc/passwd"}],
    }
    assert (await gql(server, SEND_RICH, {"input": not_a_url}, token))["errors"][0]["extensions"][
        "code"
    ] == "BAD_USER_INPUT"


async def _queued(conversation: Conversation, sender_id: int, texts: list[str]) -> list[Message]:
    """Replies stored as queued with no send job (as if every worker were down)."""
    return [
        await Message.create(
            conversation_id=conversation.id,
            channel_id=conversation.channel_id,
            identity_id=conversation.identity_id,
            platform="whatsapp",
            direction="outbound",
            kind="text",
            text=text,
            status="queued",
            client_message_id=str(uuid.uuid4()),
            sender_id=sender_id,
        )
        for text in texts
    ]


async def test_one_job_drains_its_conversations_lane_in_order(server, wa):
    """Whichever reply's job comes first sends the lane's head and goes on down the lane: a backlog
    drains at the platform's pace, not one reply per trip through the whole queue."""
    _, _, fake = wa
    conversation = await _conversation(server, wa, "5511911110009")
    agent = await make_user(Role.AGENT)
    run = uuid.uuid4().hex[:6]
    texts = [f"{run} lane {n}" for n in range(4)]
    queued = await _queued(conversation, agent.id, texts)
    assert await deliver(queued[-1].id) == "sent"  # the last reply's job: it starts at the head
    assert [
        s["text"]["body"] for s in fake.sent if s.get("text", {}).get("body", "").startswith(run)
    ] == texts
    assert {m.status for m in await Message.filter(id__in=[m.id for m in queued])} == {"sent"}
    assert await deliver(queued[0].id) == "skipped"  # the head's own job, redelivered: nothing left


async def test_a_lane_longer_than_the_budget_hands_the_rest_back_to_the_queue(server, wa, monkeypatch):
    from resolvers import messages

    _, _, fake = wa
    monkeypatch.setattr(messages, "LANE_BUDGET", 2)
    conversation = await _conversation(server, wa, "5511911110010")
    agent = await make_user(Role.AGENT)
    run = uuid.uuid4().hex[:6]
    texts = [f"{run} budget {n}" for n in range(5)]
    queued = await _queued(conversation, agent.id, texts)
    assert await deliver(queued[0].id) == "sent"
    assert len(await Message.filter(id__in=[m.id for m in queued], status="sent")) >= 2

    async def all_sent() -> bool:
        return await Message.filter(id__in=[m.id for m in queued], status="sent").count() == len(texts)

    await eventually(all_sent, timeout=20)  # the job it enqueued (run by the test's worker) goes on
    bodies = [s["text"]["body"] for s in fake.sent if s.get("text", {}).get("body", "").startswith(run)]
    assert bodies == texts


class _Enqueued:
    """Stands in for SEND_MESSAGE: records the jobs enqueued, sends none."""

    queue = "outbound"

    def __init__(self) -> None:
        self.jobs: list[int] = []

    def send(self, message_id: int, **_: object) -> None:
        self.jobs.append(message_id)


async def test_a_head_recorded_as_sent_by_the_echo_enqueues_its_lanes_next(server, wa, monkeypatch, http):
    """The worker sending a lane's head died after WhatsApp accepted it; the status echo (our tag in
    biz_opaque_callback_data) records the head as sent and enqueues the next reply of the lane at
    once, rather than leaving it to the stale-send sweep seconds later; the same echo again does not."""
    import core.tasks
    from tests.test_send_safety import _attempt_died, _send_as_the_dead_worker_did

    channel, _, fake = wa
    conversation = await _conversation(server, wa, "5511911110011")
    run = uuid.uuid4().hex[:6]
    head, following = await _queued(conversation, (await make_user(Role.AGENT)).id, [f"{run} a", f"{run} b"])
    await _attempt_died(head, timedelta(seconds=1))
    wamid = await _send_as_the_dead_worker_did(http, wa, head)
    enqueued = _Enqueued()
    monkeypatch.setattr(core.tasks, "SEND_MESSAGE", enqueued)

    assert (await fake.post_status(channel.config["phone_number_id"], wamid, "sent")).status_code == 200
    await head.refresh_from_db()
    assert (head.status, head.platform_message_id) == ("sent", wamid)
    assert enqueued.jobs == [following.id]
    assert (await fake.post_status(channel.config["phone_number_id"], wamid, "sent")).status_code == 200
    assert (await fake.post_status(channel.config["phone_number_id"], wamid, "delivered")).status_code == 200
    assert enqueued.jobs == [following.id]  # a status for a head already recorded moves no lane

    assert await deliver(following.id) == "sent"  # the job it enqueued
    assert [s["text"]["body"] for s in fake.sent if s.get("text", {}).get("body", "").startswith(run)] == [
        f"{run} a",
        f"{run} b",
    ]
