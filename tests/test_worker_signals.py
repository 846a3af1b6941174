"""Processes stop cleanly: `pytake worker`, `serve` and `gateway` as real processes, stopped the way
process managers stop them (TERM to the process group, twice), exit in bounded time; a worker
stopped in the middle of a send leaves it to the next worker, which sends it exactly once.

The sends go to the fake WhatsApp API behind `HoldingFront`, which holds each send request open
until the test releases it, so the test knows a job is in progress when it signals the worker."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest_asyncio

from connectors.fakes.server import serve_app
from connectors.fakes.whatsapp import FakeWhatsApp
from connectors.whatsapp import STATUS_ECHO_GRACE
from models import Message, Role
from schema.relay import to_global_id
from tests.conftest import REDIS_URL, free_port, requires_redis
from tests.helpers import (
    Subscriber,
    eventually,
    gql,
    login,
    make_user,
    make_whatsapp_channel,
    own_sweep_paused,
    post_webhook,
    wa_text_payload,
)
from tests.test_production import _wait_healthy
from tests.test_story import INBOX_SUB, SEND

pytestmark = requires_redis

ROOT = Path(__file__).resolve().parents[1]
PYTAKE = str(Path(sys.executable).parent / "pytake")
STOP_TIMEOUT = 4.0  # the workers' WORKER_STOP_TIMEOUT here: 1 s of grace for jobs, then requeue
EXIT_MARGIN = 1.5  # the process is gone this long after its stop timeout at the latest


class HoldingFront:
    """The fake WhatsApp API, except that a send request waits for `release`. If the worker that
    sent it goes away first, the platform never processes it (as when the connection drops before
    the request is through)."""

    def __init__(self, fake: FakeWhatsApp):
        self.fake = fake
        self.holding = True
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()
        self.abandoned = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not self.holding:
            await self.fake.app(scope, receive, send)
            return
        chunks = []
        while True:
            event = await receive()
            chunks.append(event.get("body", b""))
            if not event.get("more_body"):
                break
        self.arrived.set()
        disconnected = asyncio.create_task(receive())  # answers http.disconnect when the client goes
        released = asyncio.create_task(self.release.wait())
        await asyncio.wait({disconnected, released}, return_when=asyncio.FIRST_COMPLETED)
        released.cancel()
        if disconnected.done():
            self.abandoned += 1
            return
        disconnected.cancel()
        body = b"".join(chunks)

        async def replay() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        await self.fake.app(scope, replay, send)

    def hold_again(self) -> None:
        self.holding, self.arrived, self.release = True, asyncio.Event(), asyncio.Event()


@dataclass
class Stage:
    """A `pytake serve` process (the agents' and platforms' door), its channel on the holding fake,
    and an agent; workers are started per test on the same database and Redis namespace."""

    env: dict[str, str]
    api: str
    front: HoldingFront
    channel: Any
    secrets: dict[str, str]
    token: str

    async def queued_reply(self, text: str) -> Message:
        """A customer writes, the agent answers: the reply is queued for a worker to send."""
        wa_id = "5511" + str(uuid.uuid4().int)[:8]
        inbound = f"question {uuid.uuid4().hex[:8]}"
        pn = self.channel.config["phone_number_id"]
        response = await post_webhook(
            self.api, self.channel, self.secrets["app_secret"], wa_text_payload(pn, wa_id, inbound)
        )
        assert response.status_code == 200
        question = await Message.get(text=inbound)
        client_id = str(uuid.uuid4())
        reply = {
            "conversationId": to_global_id("Conversation", question.conversation_id),
            "clientMessageId": client_id,
            "text": text,
        }
        answer = await gql(self.api, SEND, {"input": reply}, self.token)
        assert answer.get("errors") is None, answer
        return await Message.get(client_message_id=client_id)

    def sent_to(self, message: Message) -> list[dict[str, Any]]:
        return [s for s in self.front.fake.sent if s.get("text", {}).get("body") == message.text]


@contextlib.contextmanager
def started(env: dict[str, str], *args: str) -> Iterator[tuple[subprocess.Popen, Path]]:
    """A `pytake` command in its own process group, its log in a file (a pipe nobody reads could
    fill and block it); killed at the end if the test left it running. This test process's
    stale-send sweep is paused meanwhile (tests/helpers.own_sweep_paused)."""
    log = Path(tempfile.mkstemp(prefix="pytake-proc-", suffix=".log")[1])
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [PYTAKE, *args], cwd=ROOT, env=env, start_new_session=True, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        with own_sweep_paused():
            yield proc, log
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        log.unlink(missing_ok=True)


async def signal_group(proc: subprocess.Popen, sig: signal.Signals = signal.SIGTERM, times: int = 2) -> float:
    """Signal the whole process group, as systemd or `kill -- -PGID` do, `times` times; returns
    when the first signal went."""
    started_at = time.monotonic()
    for _ in range(times):
        os.killpg(proc.pid, sig)
        await asyncio.sleep(0.2)
    return started_at


async def exited_within(proc: subprocess.Popen, since: float, bound: float) -> float:
    """Seconds from `since` until the process exited; fails if it outlives `bound`."""
    while proc.poll() is None:
        if time.monotonic() - since > bound:
            raise AssertionError(f"still running {bound:.1f} s after the signal")
        await asyncio.sleep(0.05)
    return time.monotonic() - since


def read(log: Path) -> str:
    return log.read_text(errors="replace")


@pytest_asyncio.fixture(scope="module")
async def stage(server: str, database: str) -> AsyncIterator[Stage]:
    front = HoldingFront(FakeWhatsApp())
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "REDIS_URL": REDIS_URL or "",
        "PYTAKE_NAMESPACE": f"{os.environ['PYTAKE_NAMESPACE']}-stop",
        "PYTAKE_INPROCESS_WORKER": "0",
        "PUBLIC_URL": api,
        "LOG_LEVEL": "INFO",
        "WORKER_STOP_TIMEOUT": str(STOP_TIMEOUT),
    }
    async with serve_app(front) as fake_base:
        channel, secrets = await make_whatsapp_channel(fake_base)
        front.fake.add_number(
            channel.config["phone_number_id"],
            access_token=secrets["access_token"],
            app_secret=secrets["app_secret"],
        )
        with started(env, "serve", "--host", "127.0.0.1", "--port", str(port)) as (proc, _):
            await _wait_healthy(api, proc)
            token = await login(api, await make_user(Role.AGENT))
            yield Stage(env, api, front, channel, secrets, token)
        await front.fake.aclose()


WORKER = ("worker", "--processes", "1", "--threads", "2")


async def status_of(message: Message) -> tuple[str, Any]:
    await message.refresh_from_db()
    return message.status, message.sending_until


async def test_a_job_outliving_the_grace_is_requeued_and_sent_once_by_the_next_worker(stage: Stage) -> None:
    stage.front.hold_again()
    message = await stage.queued_reply("sent once, by the second worker")
    with started(stage.env, *WORKER) as (first, log):
        await asyncio.wait_for(stage.front.arrived.wait(), 20)  # the send is in progress
        since = await signal_group(first)
        await exited_within(first, since, STOP_TIMEOUT + EXIT_MARGIN)
        logged = read(log)
    assert first.returncode == 0, logged[-3000:]
    assert "worker already stopping" in logged
    assert "job interrupted by the stop, requeued" in logged
    assert "Killing worker process" not in logged  # Dramatiq's hanging path was not taken
    # The request never went through, and the send is free for the next attempt at once.
    assert stage.front.abandoned == 1 and stage.sent_to(message) == []
    assert await status_of(message) == ("queued", None)

    stage.front.holding = False
    with started(stage.env, *WORKER):

        async def sent() -> bool:
            return (await status_of(message))[0] == "sent"

        await eventually(sent, timeout=20)
    assert len(stage.sent_to(message)) == 1


async def test_a_job_finishing_within_the_grace_is_sent_by_the_stopping_worker(stage: Stage) -> None:
    stage.front.hold_again()
    message = await stage.queued_reply("sent by the worker that is stopping")
    with started(stage.env, *WORKER) as (worker, log):
        await asyncio.wait_for(stage.front.arrived.wait(), 20)
        since = await signal_group(worker)
        stage.front.release.set()  # the platform answers during the grace
        await exited_within(worker, since, STOP_TIMEOUT + EXIT_MARGIN)
        logged = read(log)
    assert worker.returncode == 0, logged[-3000:]
    # The send finished within the grace. Another job (an assignment drain the upkeep enqueued) may
    # be interrupted by the same stop on a busy machine: only the send's must not.
    interrupted = [line for line in logged.splitlines() if "interrupted" in line and "send_message" in line]
    assert interrupted == [], interrupted
    assert (await status_of(message))[0] == "sent"  # committed before the process exited
    assert len(stage.sent_to(message)) == 1


async def test_the_job_of_a_killed_worker_comes_back_to_the_next_one(stage: Stage) -> None:
    env = {**stage.env, "WORKER_HEARTBEAT_TIMEOUT": "1.5"}
    stage.front.hold_again()
    message = await stage.queued_reply("sent after the first worker was killed")
    with started(env, *WORKER) as (first, _):
        await asyncio.wait_for(stage.front.arrived.wait(), 20)
        os.killpg(first.pid, signal.SIGKILL)  # nothing runs on the way out: no requeue, no release
        first.wait(timeout=10)
    killed_at = time.monotonic()
    assert stage.sent_to(message) == [] and (await status_of(message))[1] is not None
    # The attempt holding the send's lease died with the process; the lease and WhatsApp's grace
    # for a status echo (resolvers/send_lease.py, timed in tests/test_send_safety.py) are made to
    # have run out.
    lapsed = STATUS_ECHO_GRACE + timedelta(seconds=1)
    await Message.filter(id=message.id).update(sending_until=datetime.now(UTC) - lapsed)
    await asyncio.sleep(max(0.0, killed_at + 1.6 - time.monotonic()))  # the heartbeat timed out

    stage.front.holding = False
    with started(env, *WORKER):

        async def sent() -> bool:
            return (await status_of(message))[0] == "sent"

        await eventually(sent, timeout=20)
    assert len(stage.sent_to(message)) == 1


async def test_serve_with_a_live_subscription_stops_on_two_terms(stage: Stage) -> None:
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    with started(
        {**stage.env, "PUBLIC_URL": api},
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "2",
    ) as (serve, log):
        await _wait_healthy(api, serve)
        inbox = await Subscriber.open(api, stage.token, INBOX_SUB)  # an agent keeps the inbox open
        since = await signal_group(serve)
        await exited_within(serve, since, 15)
        logged = read(log)
        await inbox.close()
    assert serve.returncode == 0, logged[-3000:]
    assert "Traceback" not in logged, logged[-3000:]


async def test_gateway_stops_on_two_terms(stage: Stage) -> None:
    with started(stage.env, "gateway") as (gateway, log):

        async def running() -> bool:
            return "gateway running" in read(log)

        await eventually(running, timeout=20, interval=0.1)
        since = await signal_group(gateway)
        await exited_within(gateway, since, 10)
        logged = read(log)
    assert gateway.returncode == 0, logged[-3000:]
    assert "Traceback" not in logged, logged[-3000:]
