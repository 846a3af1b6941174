"""Production mode: two stateless API processes and a separate Dramatiq worker process share only
PostgreSQL and Redis. A webhook into one API shows up live on a subscriber of the other; a reply
made on the other is sent by the worker; statuses come back through the first."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx

from models import Role
from tests.conftest import REDIS_URL, free_port, requires_redis
from tests.helpers import (
    Subscriber,
    gql,
    login,
    make_user,
    make_whatsapp_channel,
    own_sweep_paused,
    post_webhook,
    wa_text_payload,
)
from tests.test_story import CONV_SUB, INBOX_SUB, SEND

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def _processes(env: dict[str, str], *commands: list[str]) -> Iterator[list[subprocess.Popen]]:
    procs = [
        subprocess.Popen(
            cmd, cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        for cmd in commands
    ]
    try:
        with own_sweep_paused():  # their replies are theirs to send (tests/helpers.own_sweep_paused)
            yield procs
    finally:
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=5)


async def _wait_healthy(base: str, proc: subprocess.Popen) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            if proc.poll() is not None:
                raise AssertionError(f"{base} exited: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{base}/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise AssertionError(f"{base} never became ready")


@requires_redis
async def test_two_api_processes_and_a_worker_share_live_events(database, server, fake_whatsapp):
    fake, fake_base = fake_whatsapp
    ports = [free_port(), free_port()]
    api1, api2 = (f"http://127.0.0.1:{p}" for p in ports)
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "REDIS_URL": REDIS_URL or "",
        "PYTAKE_NAMESPACE": f"{os.environ['PYTAKE_NAMESPACE']}-prod",
        "PYTAKE_INPROCESS_WORKER": "0",
        "PUBLIC_URL": api1,
    }
    bin_dir = Path(sys.executable).parent
    serve = [str(bin_dir / "pytake"), "serve", "--host", "127.0.0.1", "--port"]
    with _processes(
        env,
        [*serve, str(ports[0])],
        [*serve, str(ports[1])],
        [str(bin_dir / "pytake"), "worker", "--processes", "1", "--threads", "2"],
    ) as procs:
        await asyncio.gather(_wait_healthy(api1, procs[0]), _wait_healthy(api2, procs[1]))

        channel, secrets = await make_whatsapp_channel(fake_base)
        pn = channel.config["phone_number_id"]
        fake.add_number(
            pn,
            access_token=secrets["access_token"],
            app_secret=secrets["app_secret"],
            webhook_url=f"{api1}/webhooks/whatsapp/{channel.id}",
        )
        fake.auto_statuses = ["delivered", "read"]
        token = await login(api2, await make_user(Role.AGENT))

        inbox = await Subscriber.open(api2, token, INBOX_SUB)  # subscriber on API 2
        wa_id = "5521" + str(uuid.uuid4().int)[:8]
        response = await post_webhook(
            api1, channel, secrets["app_secret"], wa_text_payload(pn, wa_id, "via api 1")
        )
        assert response.status_code == 200  # webhook into API 1
        event = await inbox.next_where(
            lambda d: d["inboxEvents"]["conversation"]["customer"]["phone"] == wa_id
        )
        conversation_id = event["inboxEvents"]["conversation"]["id"]

        conv = await Subscriber.open(api2, token, CONV_SUB, {"id": conversation_id, "after": "0"})
        assert (await conv.next())["conversationEvents"]["message"]["text"] == "via api 1"
        client_id = str(uuid.uuid4())
        reply = await gql(
            api2,
            SEND,
            {
                "input": {
                    "conversationId": conversation_id,
                    "clientMessageId": client_id,
                    "text": "from api 2",
                }
            },
            token,
        )
        assert reply.get("errors") is None, reply
        final = await conv.next_where(
            lambda d: (
                d["conversationEvents"]["message"]["clientMessageId"] == client_id
                and d["conversationEvents"]["message"]["status"] == "READ"
            ),
            timeout=30,
        )
        assert final["conversationEvents"]["message"]["platformMessageId"].startswith("wamid.")
        assert len([s for s in fake.sent if s.get("to") == wa_id]) == 1
        await inbox.close()
        await conv.close()
