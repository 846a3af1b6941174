"""Sends that are never doubled where the platform lets us know, and never lost or late for long.

The case that matters: a worker dies while a send is in flight. The platform may have accepted it
(our commit of that was lost with the worker) or not. WhatsApp echoes the tag we send with every
message (biz_opaque_callback_data) in its status webhooks, so an accepted send is recorded from the
echo and not sent again; one the platform never got is sent again once the dead attempt's claim
and the echo's grace have lapsed, seconds later rather than a minute.

The first tests drive the rules in-process (the dead attempt is simulated in the database); the
last kills a real `pytake worker` process in the middle of two sends."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

import core.tasks
from connectors import whatsapp
from connectors.base import ChannelCredentials, MessageKind, OutboundMessage, WebhookRequest
from connectors.fakes.server import serve_app
from connectors.fakes.whatsapp import FakeWhatsApp
from core.auth import Actor
from core.settings import get_settings
from jobs import outbound
from models import Conversation, Message, Role
from resolvers import send_lease
from resolvers.channels import credentials
from resolvers.messages import TransientSendFailure, deliver, send_reply
from resolvers.send_lease import RETRY_MARGIN, UNCLAIMED_AFTER, stale_sends
from schema.relay import to_global_id
from tests.conftest import REDIS_URL, SAMPLES, free_port, requires_redis
from tests.helpers import (
    eventually,
    gql,
    login,
    make_user,
    make_whatsapp_channel,
    post_webhook,
    wa_text_payload,
)
from tests.test_production import _wait_healthy
from tests.test_story import SEND
from tests.test_worker_signals import read, started

GRACE = whatsapp.STATUS_ECHO_GRACE


class _NotEnqueued:
    """Stands in for SEND_MESSAGE: the reply is stored and queued, its job never sent, as when
    the worker holding it died."""

    queue = "outbound"

    def send(self, *args: Any, **kwargs: Any) -> None:
        pass


async def _held_back_reply(server: str, wa: Any, monkeypatch: pytest.MonkeyPatch, text: str) -> Message:
    channel, secrets, _ = wa
    wa_id = "5511" + str(uuid.uuid4().int)[:8]
    body = wa_text_payload(channel.config["phone_number_id"], wa_id, f"hello {uuid.uuid4().hex[:6]}")
    assert (await post_webhook(server, channel, secrets["app_secret"], body)).status_code == 200
    conversation = await Conversation.filter(channel_id=channel.id).order_by("-id").first()
    assert conversation is not None
    agent = await make_user(Role.AGENT)
    with monkeypatch.context() as patch:
        patch.setattr(core.tasks, "SEND_MESSAGE", _NotEnqueued())
        result = await send_reply(
            Actor(user_id=agent.id, role=agent.role),
            conversation_id=conversation.id,
            client_message_id=str(uuid.uuid4()),
            text=text,
        )
    return await Message.get(id=result.message["id"])


async def _attempt_died(message: Message, lapsed_for: timedelta) -> None:
    """What a worker killed mid-send leaves: one attempt counted, its claim lapsed `lapsed_for` ago."""
    await Message.filter(id=message.id).update(
        send_attempts=1,
        sending_until=datetime.now(UTC) - lapsed_for,
        created_at=datetime.now(UTC) - timedelta(minutes=1),
    )


async def _send_as_the_dead_worker_did(http: httpx.AsyncClient, wa: Any, message: Message) -> str:
    """The platform accepts the send (our side never records it): its wamid."""
    channel = wa[0]
    await channel.refresh_from_db()
    identity = await message.identity
    outbound = OutboundMessage(
        recipient_id=identity.external_id,
        kind=MessageKind.TEXT,
        idempotency_key=str(message.id),
        text=message.text,
    )
    result = await whatsapp.whatsapp.send(http, credentials(channel), outbound)
    return result.platform_message_id


def _sent(fake: FakeWhatsApp, text: str) -> list[dict[str, Any]]:
    return [s for s in fake.sent if s.get("text", {}).get("body") == text]


@pytest.mark.parametrize(("tag", "key"), [("pytake:123", "123"), ("someone-else:9", None), (None, None)])
def test_a_status_sample_echoing_our_tag_names_our_message(tag: str | None, key: str | None) -> None:
    payload = json.loads((SAMPLES / "whatsapp" / "status_sent.json").read_text())
    status = payload["entry"][0]["changes"][0]["value"]["statuses"][0]
    if tag is not None:
        status["biz_opaque_callback_data"] = tag  # Meta echoes what the send carried
    channel = ChannelCredentials(channel_id=1, config={"phone_number_id": "106540352242922"}, secrets={})
    request = WebhookRequest(method="POST", url="/", headers={}, query={}, body=json.dumps(payload).encode())
    (update,) = whatsapp.whatsapp.parse(request, channel).statuses
    assert update.idempotency_key == key


async def test_every_whatsapp_send_is_tagged_with_our_message_id(server, wa, monkeypatch, http) -> None:
    fake = wa[2]
    message = await _held_back_reply(server, wa, monkeypatch, f"tagged {uuid.uuid4().hex[:6]}")
    await _attempt_died(message, timedelta(0))
    await _send_as_the_dead_worker_did(http, wa, message)
    assert _sent(fake, message.text)[0]["biz_opaque_callback_data"] == f"pytake:{message.id}"


async def test_a_status_echo_records_an_accepted_send_whose_commit_was_lost_and_it_is_never_resent(
    server, wa, monkeypatch, http
) -> None:
    channel, _, fake = wa
    message = await _held_back_reply(
        server, wa, monkeypatch, f"accepted, then the worker died {uuid.uuid4().hex[:6]}"
    )
    await _attempt_died(message, timedelta(seconds=1))
    wamid = await _send_as_the_dead_worker_did(http, wa, message)
    await message.refresh_from_db()
    assert (message.status, message.platform_message_id) == ("queued", None)  # our side never knew

    answer = await fake.post_status(channel.config["phone_number_id"], wamid, "delivered")
    assert answer.status_code == 200
    await message.refresh_from_db()
    assert (message.status, message.platform_message_id) == ("delivered", wamid)

    # Long after the claim and any grace lapsed, neither the sweep nor a job sends it again.
    await _attempt_died(message, GRACE + RETRY_MARGIN + timedelta(seconds=60))
    assert message.id not in await stale_sends()
    assert await deliver(message.id) == "skipped"
    assert len(_sent(fake, message.text)) == 1


async def test_a_send_the_platform_never_got_waits_out_the_echo_grace_then_goes_once(
    server, wa, monkeypatch
) -> None:
    fake = wa[2]
    message = await _held_back_reply(
        server, wa, monkeypatch, f"never reached whatsapp {uuid.uuid4().hex[:6]}"
    )
    await _attempt_died(message, timedelta(seconds=1))
    # Within the grace an echo could still come: the sweep leaves it, and its job comes back later.
    assert message.id not in await stale_sends()
    with pytest.raises(TransientSendFailure) as waiting:
        await deliver(message.id)
    assert GRACE.total_seconds() - 3 < waiting.value.retry_after <= GRACE.total_seconds()
    assert _sent(fake, message.text) == []

    await _attempt_died(message, GRACE + RETRY_MARGIN + timedelta(seconds=1))  # no echo came
    assert message.id in await stale_sends()
    assert await deliver(message.id) == "sent"
    assert len(_sent(fake, message.text)) == 1


async def test_a_retry_the_platform_asked_for_is_not_delayed_by_the_echo_grace(
    server, wa, monkeypatch
) -> None:
    message = await _held_back_reply(server, wa, monkeypatch, f"429 first {uuid.uuid4().hex[:6]}")
    wa[2].fail_next(429)
    with pytest.raises(TransientSendFailure) as refused:
        await deliver(message.id)
    await message.refresh_from_db()
    # Reserved until the retry is due, the grace already taken off: a known refusal, not an unknown.
    due = datetime.now(UTC) + timedelta(seconds=refused.value.retry_after)
    assert abs((message.sending_until + GRACE - due).total_seconds()) < 2
    await asyncio.sleep(refused.value.retry_after + 0.1)
    assert await deliver(message.id) == "sent"


class _Recorder(_NotEnqueued):
    def __init__(self) -> None:
        self.sent: list[int] = []

    def send(self, *args: Any, **kwargs: Any) -> None:
        self.sent.append(args[0])


async def test_a_reply_whose_job_was_lost_is_taken_back_within_seconds_but_not_out_of_a_backlog(
    server, wa, monkeypatch
) -> None:
    message = await _held_back_reply(server, wa, monkeypatch, f"job lost with redis {uuid.uuid4().hex[:6]}")
    assert message.id not in await stale_sends()  # just queued: its job is on its way
    await Message.filter(id=message.id).update(
        created_at=datetime.now(UTC) - UNCLAIMED_AFTER - timedelta(seconds=1)
    )
    recorder = _Recorder()
    monkeypatch.setattr(core.tasks, "SEND_MESSAGE", recorder)
    monkeypatch.setattr(outbound, "outbound_backlog", lambda: outbound.BACKLOG_GATE)
    await outbound.sweep_stale_sends()  # a long queue: it is probably waiting its turn, not lost
    assert message.id not in recorder.sent
    monkeypatch.setattr(outbound, "outbound_backlog", lambda: 0)
    await outbound.sweep_stale_sends()  # nothing waiting, yet never claimed: its job was lost
    assert message.id in recorder.sent


async def test_a_live_attempt_keeps_its_claim_past_the_lease_and_a_dead_one_loses_it_within_it(
    server, wa, monkeypatch
) -> None:
    message = await _held_back_reply(server, wa, monkeypatch, f"slow platform {uuid.uuid4().hex[:6]}")
    await Message.filter(id=message.id).update(
        send_attempts=1, sending_until=datetime.now(UTC) + send_lease.lease()
    )
    lease = send_lease.lease().total_seconds()
    async with send_lease.held(message.id, attempt=1):
        await asyncio.sleep(lease * 1.5)  # the platform takes longer than a lease to answer
        await message.refresh_from_db()
        assert message.sending_until > datetime.now(UTC)  # renewed: nobody may take it over
    # The attempt is gone (nothing renews any more): the claim lapses within one lease.
    await asyncio.sleep(lease + 0.5)
    await message.refresh_from_db()
    assert message.sending_until < datetime.now(UTC)


# ---- a real worker killed in the middle of two sends ------------------------------------------------


class AcceptOrLose:
    """The fake WhatsApp API, except that no send is ever answered (the worker dies waiting). A text
    with "accepted" is processed first, as Meta does with a request it received (its statuses then
    come, echoing our tag); any other is dropped, as a request lost with the connection."""

    def __init__(self, fake: FakeWhatsApp):
        self.fake = fake
        self.hanging = True
        self.arrived = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not self.hanging or not scope["path"].endswith("/messages"):
            await self.fake.app(scope, receive, send)
            return
        chunks = []
        while True:
            event = await receive()
            chunks.append(event.get("body", b""))
            if not event.get("more_body"):
                break
        body = b"".join(chunks)
        self.arrived += 1
        if b"accepted" in body:

            async def replay() -> dict[str, Any]:
                return {"type": "http.request", "body": body, "more_body": False}

            async def swallow(message: dict[str, Any]) -> None:
                pass  # processed, recorded, statuses scheduled: only the answer never leaves

            await self.fake.app(scope, replay, swallow)
        await receive()  # http.disconnect: the worker is gone


@requires_redis
async def test_a_killed_worker_s_sends_are_recorded_from_the_echo_or_sent_again_within_seconds(
    server, database
) -> None:
    front = AcceptOrLose(FakeWhatsApp())
    front.fake.auto_statuses = ["sent", "delivered"]
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "REDIS_URL": REDIS_URL or "",
        "PYTAKE_NAMESPACE": f"{os.environ['PYTAKE_NAMESPACE']}-sendsafe",
        "PYTAKE_INPROCESS_WORKER": "0",
        "PUBLIC_URL": api,
        "WORKER_METRICS_PORT": "0",
        "LOG_LEVEL": "INFO",  # "worker ready"
    }
    async with serve_app(front) as fake_base:
        channel, secrets = await make_whatsapp_channel(fake_base)
        pn = channel.config["phone_number_id"]
        front.fake.add_number(
            pn,
            access_token=secrets["access_token"],
            app_secret=secrets["app_secret"],
            webhook_url=f"{api}/webhooks/whatsapp/{channel.id}",
        )
        with started(env, "serve", "--host", "127.0.0.1", "--port", str(port)) as (serve, _):
            await _wait_healthy(api, serve)
            token = await login(api, await make_user(Role.AGENT))
            texts = [
                f"accepted before the kill {uuid.uuid4().hex[:6]}",
                f"lost with the kill {uuid.uuid4().hex[:6]}",
            ]
            messages = []
            with started(env, "worker", "--processes", "1", "--threads", "2") as (first, _):
                for text in texts:
                    messages.append(await _reply_through_the_api(api, token, channel, secrets, text))

                async def both_in_flight() -> bool:
                    return front.arrived == 2

                await eventually(both_in_flight, timeout=30)
                await asyncio.sleep(0.3)  # the accepted one's statuses are on their way
                os.killpg(first.pid, signal.SIGKILL)
                first.wait(timeout=10)
            killed_at = time.monotonic()
            front.hanging = False
            accepted, lost = messages
            with started(env, "worker", "--processes", "1", "--threads", "2") as (_, second_log):

                async def second_ready() -> bool:
                    return "worker ready" in read(second_log)

                await eventually(second_ready, timeout=120, interval=0.1)
                ready_in = time.monotonic() - killed_at  # long on a loaded machine: not ours to time

                async def lost_one_sent() -> bool:
                    await lost.refresh_from_db()
                    return lost.status in ("sent", "delivered")  # its statuses follow at once

                try:
                    await eventually(lost_one_sent, timeout=120, interval=0.2)
                except AssertionError as exc:
                    state = (lost.status, lost.send_attempts, lost.sending_until)
                    raise AssertionError(f"not resent: {state}\n{read(second_log)[-4000:]}") from exc
                recovered_in = time.monotonic() - killed_at
                print(f"lost send recovered {recovered_in:.1f} s after the kill")  # the README's figure
                # A sweep or two more: the accepted one, were it not recorded, would be resent by now.
                await asyncio.sleep(3 * get_settings().send_sweep_interval)
            await accepted.refresh_from_db()
            assert accepted.status == "delivered" and accepted.platform_message_id is not None
            assert len(_sent(front.fake, texts[0])) == 1
            assert len(_sent(front.fake, texts[1])) == 1
            # The dead attempt's claim (SEND_LEASE) and the echo's grace, or the replacement worker's
            # start if that took longer, then a sweep: not the old minute-long lease and 30 s sweep.
            lapsed = (send_lease.lease() + GRACE + RETRY_MARGIN).total_seconds()
            bound = max(lapsed, ready_in) + 3 * get_settings().send_sweep_interval + 5
            assert recovered_in < bound, (recovered_in, ready_in)
        await front.fake.aclose()


async def _reply_through_the_api(
    api: str, token: str, channel: Any, secrets: dict[str, str], text: str
) -> Message:
    wa_id = "5511" + str(uuid.uuid4().int)[:8]
    question = f"question {uuid.uuid4().hex[:8]}"
    body = wa_text_payload(channel.config["phone_number_id"], wa_id, question)
    assert (await post_webhook(api, channel, secrets["app_secret"], body)).status_code == 200
    inbound = await Message.get(text=question)
    client_id = str(uuid.uuid4())
    variables = {
        "input": {
            "conversationId": to_global_id("Conversation", inbound.conversation_id),
            "clientMessageId": client_id,
            "text": text,
        }
    }
    answer = await gql(api, SEND, variables, token)
    assert answer.get("errors") is None, answer
    return await Message.get(client_message_id=client_id)
