"""SIGTERM under load loses nothing. tests/test_worker_signals.py stops idle processes and single
jobs; here the processes are busy when the TERM arrives, as in a rolling deploy:

- `pytake serve` taking a stream of webhooks, with an agent's inbox subscription open on it: the
  request in flight when the TERM arrives is answered, the subscription gets a close frame (not a
  dropped connection), the process exits 0 in bounded time, and a platform that retries what failed
  (on another API process, as a load balancer would send it) gets every webhook stored exactly once;
  the agent, re-subscribing elsewhere from its last cursor, misses no event and sees none twice.
- `pytake worker` with a backlog of replies: stopped mid-backlog, it finishes or requeues what it
  holds, and the next worker sends every reply exactly once.

The stage (a `pytake serve` on a fake WhatsApp, an agent) is test_worker_signals' own."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed

from connectors.fakes.whatsapp import sign
from models import Message
from tests import test_worker_signals
from tests.conftest import free_port, requires_redis
from tests.helpers import Subscriber, eventually, wa_text_payload
from tests.test_production import _wait_healthy
from tests.test_story import INBOX_SUB
from tests.test_worker_signals import STOP_TIMEOUT, WORKER, Stage, exited_within, read, signal_group, started

pytestmark = requires_redis
stage = test_worker_signals.stage  # the fixture: a `pytake serve` on the holding fake, and an agent

WEBHOOKS = 240
CONCURRENCY = 16
SHUTDOWN_TIMEOUT = 8.0  # the stopping API's SHUTDOWN_TIMEOUT here (its default)
REPLIES = 40


class RetryingPlatform:
    """Posts signed webhooks the way Meta does: anything but a 2xx (or no answer) is retried with
    backoff. The first attempt goes to `first`; retries go to `fallback`, as a load balancer would
    send them once `first` has left it."""

    def __init__(self, stage: Stage, first: str, fallback: str):
        self.stage, self.first, self.fallback = stage, first, fallback
        self.acknowledged = 0
        self.failed_attempts = 0
        self.url = f"/webhooks/whatsapp/{stage.channel.id}"

    async def deliver(self, client: httpx.AsyncClient, body: bytes) -> None:
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": sign(self.stage.secrets["app_secret"], body),
        }
        for attempt in range(12):
            base = self.first if attempt == 0 else self.fallback
            try:
                response = await client.post(base + self.url, content=body, headers=headers)
                if response.is_success:
                    self.acknowledged += 1
                    return
            except httpx.HTTPError:
                pass
            self.failed_attempts += 1
            await asyncio.sleep(min(2.0, 0.1 * 2**attempt))
        raise AssertionError("a webhook was never acknowledged")


async def slow_body(first_out: asyncio.Event, go_on: asyncio.Event, body: bytes) -> AsyncIterator[bytes]:
    """A request body sent in two halves: the second only once `go_on` is set."""
    yield body[: len(body) // 2]
    first_out.set()  # httpx asks for the next chunk once the first is written
    await go_on.wait()
    await asyncio.sleep(0.3)
    yield body[len(body) // 2 :]


async def test_serve_stopped_under_load_drains_and_loses_nothing(stage: Stage) -> None:
    stage.front.holding = False
    prefix = f"load-{uuid.uuid4().hex[:8]}"
    pn = stage.channel.config["phone_number_id"]
    bodies = [
        wa_text_payload(pn, f"5531{uuid.uuid4().int % 10**9:09d}", f"{prefix}-{i}") for i in range(WEBHOOKS)
    ]
    port = free_port()
    doomed = f"http://127.0.0.1:{port}"
    env = {**stage.env, "PUBLIC_URL": doomed, "SHUTDOWN_TIMEOUT": str(SHUTDOWN_TIMEOUT)}
    serve_args = ("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2")
    with started(env, *serve_args) as (serve, log):
        await _wait_healthy(doomed, serve)
        inbox = await Subscriber.open(doomed, stage.token, INBOX_SUB)
        seen: list[dict[str, Any]] = []
        reader = asyncio.create_task(_read_until_closed(inbox, seen))
        platform = RetryingPlatform(stage, doomed, stage.api)
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        for body in bodies:
            queue.put_nowait(body)

        async def sender(client: httpx.AsyncClient) -> None:
            while not queue.empty():
                await platform.deliver(client, queue.get_nowait())

        terminated = asyncio.Event()
        first_out = asyncio.Event()
        in_flight_text = f"{prefix}-in-flight"
        in_flight = wa_text_payload(pn, f"5531{uuid.uuid4().int % 10**9:09d}", in_flight_text)
        async with httpx.AsyncClient(timeout=30) as client:
            senders = [asyncio.create_task(sender(client)) for _ in range(CONCURRENCY)]
            await eventually(lambda: _true(platform.acknowledged >= WEBHOOKS // 3), timeout=60)
            slow = asyncio.create_task(
                client.post(
                    doomed + platform.url,
                    content=slow_body(first_out, terminated, in_flight),
                    headers={"X-Hub-Signature-256": sign(stage.secrets["app_secret"], in_flight)},
                )
            )
            await asyncio.wait_for(first_out.wait(), 10)
            await asyncio.sleep(1.0)  # the request has reached the server: it is in flight
            since = await signal_group(serve)  # TERM to the group, twice, as systemd stops a unit
            terminated.set()
            answer = await asyncio.wait_for(slow, 20)
            await exited_within(serve, since, SHUTDOWN_TIMEOUT + 5)
            logged = read(log)
            await asyncio.wait_for(asyncio.gather(*senders), 120)
        closed = await asyncio.wait_for(reader, 10)

    assert serve.returncode == 0, logged[-3000:]
    assert "Traceback" not in logged, logged[-3000:]
    assert answer.status_code == 200, answer.text  # drained: answered, not cut off
    assert closed is not None and closed.code in (1001, 1012), closed  # a close frame, not a drop
    assert platform.acknowledged == WEBHOOKS

    texts = [m.text for m in await Message.filter(text__startswith=prefix).only("text")]
    expected = {f"{prefix}-{i}" for i in range(WEBHOOKS)} | {in_flight_text}
    assert sorted(texts) == sorted(expected), "a webhook was lost or stored twice"

    # The agent re-subscribes on the API that is still up, from the last cursor it saw.
    last = seen[-1]["inboxEvents"]["cursor"] if seen else None
    resumed = await Subscriber.open(stage.api, stage.token, INBOX_SUB, {"after": last} if last else {})
    try:
        while not expected <= _texts(seen):
            seen.append(await resumed.next(timeout=30))
    finally:
        await resumed.close()
    cursors = [int(e["inboxEvents"]["cursor"]) for e in seen]
    assert cursors == sorted(set(cursors)), "an inbox event was delivered twice or out of order"


async def _read_until_closed(inbox: Subscriber, seen: list[dict[str, Any]]) -> Any:
    """Collect inbox events until the server closes the WebSocket; returns the close frame."""
    try:
        while True:
            message = json.loads(await inbox.ws.recv())
            if message["type"] == "ping":
                await inbox.ws.send(json.dumps({"type": "pong"}))
            elif message["type"] == "next":
                seen.append(message["payload"]["data"])
    except ConnectionClosed as exc:
        return exc.rcvd  # None when the connection dropped without a close frame


def _texts(events: list[dict[str, Any]]) -> set[str]:
    return {((e["inboxEvents"]["conversation"].get("lastMessage") or {}).get("text") or "") for e in events}


async def _true(value: bool) -> bool:
    return value


async def test_worker_stopped_with_a_backlog_sends_every_reply_exactly_once(stage: Stage) -> None:
    stage.front.holding = False
    replies: list[Message] = []
    for batch in range(0, REPLIES, 8):
        replies += await asyncio.gather(
            *(stage.queued_reply(f"backlog {uuid.uuid4().hex[:10]} {i}") for i in range(batch, batch + 8))
        )

    def sent_count() -> int:
        return sum(1 for m in replies if stage.sent_to(m))

    with started(stage.env, *WORKER) as (first, log):
        await eventually(lambda: _true(sent_count() >= REPLIES // 4), timeout=60)
        at_term = sent_count()
        since = await signal_group(first)
        await exited_within(first, since, STOP_TIMEOUT + 1.5)
        logged = read(log)
    assert first.returncode == 0, logged[-3000:]
    assert at_term < REPLIES, "the backlog was gone before the stop: nothing was tested"

    with started(stage.env, *WORKER):

        async def all_sent() -> bool:
            statuses = {(await Message.get(id=m.id)).status for m in replies}
            return statuses == {"sent"}

        await eventually(all_sent, timeout=90, interval=0.2)
    counts = {m.text: len(stage.sent_to(m)) for m in replies}
    assert set(counts.values()) == {1}, {t: c for t, c in counts.items() if c != 1}
