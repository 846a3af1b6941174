"""Load that behaves like the platforms and like agents' clients: a webhook that got no 2xx (or
no answer in time) is sent again with backoff, to whichever API process the balancer picks; a
GraphQL mutation that failed is retried with the same clientMessageId; a live view that lost
its socket reconnects and resumes after the last cursor it saw."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException


@dataclass(frozen=True)
class Webhook:
    path: str
    body: bytes
    headers: dict[str, str]
    key: str  # the platform's message id: what "stored exactly once" is checked by


@dataclass
class DeliveryStats:
    acknowledged: int = 0
    attempts: int = 0
    answers: Counter[str] = field(default_factory=Counter)  # status code or error name → count
    slow_refusals: list[float] = field(default_factory=list)  # seconds taken by 5xx answers
    unacknowledged: list[str] = field(default_factory=list)
    # (time, status, Retry-After) of every 5xx answer: the outage windows in the platforms' eyes
    refusals: list[tuple[float, int, str | None]] = field(default_factory=list)


def backoff(attempt: int) -> float:
    """What Meta, Twilio and Slack do, roughly: exponential from 0.25 s, capped, with jitter."""
    return min(0.25 * 2**attempt, 4.0) * random.uniform(0.5, 1.0)


async def deliver_webhooks(
    bases: list[str],
    webhooks: list[Webhook],
    *,
    concurrency: int,
    give_up_after: float = 300,
    on_progress: Callable[[int], None] | None = None,
) -> DeliveryStats:
    """Every webhook POSTed until it is answered 2xx (or `give_up_after` seconds pass)."""
    stats = DeliveryStats()
    pending = iter(webhooks)
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2)
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=2.0), limits=limits) as client:

        async def one(hook: Webhook) -> None:
            started = time.monotonic()
            attempt = 0
            while time.monotonic() - started < give_up_after:
                base = random.choice(bases)
                stats.attempts += 1
                sent = time.monotonic()
                try:
                    r = await client.post(base + hook.path, content=hook.body, headers=hook.headers)
                except httpx.HTTPError as exc:
                    stats.answers[type(exc).__name__] += 1
                else:
                    stats.answers[str(r.status_code)] += 1
                    if 200 <= r.status_code < 300:
                        stats.acknowledged += 1
                        if on_progress is not None:
                            on_progress(stats.acknowledged)
                        return
                    if r.status_code >= 500:
                        stats.slow_refusals.append(time.monotonic() - sent)
                        stats.refusals.append((time.time(), r.status_code, r.headers.get("retry-after")))
                await asyncio.sleep(backoff(attempt))
                attempt += 1
            stats.unacknowledged.append(hook.key)

        async def lane() -> None:
            for hook in pending:
                await one(hook)

        await asyncio.gather(*(lane() for _ in range(concurrency)))
    return stats


async def graphql(
    client: httpx.AsyncClient, base: str, query: str, variables: dict[str, Any], token: str | None = None
) -> tuple[int, dict[str, Any]]:
    headers = {"Accept": "application/graphql-response+json, application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    r = await client.post(f"{base}/graphql", json={"query": query, "variables": variables}, headers=headers)
    try:
        return r.status_code, r.json()
    except ValueError:
        return r.status_code, {"_text": r.text[:500]}


async def graphql_until_ok(
    client: httpx.AsyncClient,
    bases: list[str],
    query: str,
    variables: dict[str, Any],
    token: str | None = None,
    give_up_after: float = 240,
) -> tuple[dict[str, Any], int]:
    """An agent's client: retry the same request (same clientMessageId) until it has data; returns
    (data, attempts)."""
    started = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        with contextlib.suppress(httpx.HTTPError):
            status, body = await graphql(client, random.choice(bases), query, variables, token)
            if status == 200 and body.get("data") and not body.get("errors"):
                return body["data"], attempt
        if time.monotonic() - started > give_up_after:
            raise AssertionError(f"GraphQL never succeeded: {query[:60]} {variables}")
        await asyncio.sleep(backoff(attempt))


async def login(bases: list[str], email: str, password: str) -> str:
    async with httpx.AsyncClient(timeout=20) as client:
        data, _ = await graphql_until_ok(
            client,
            bases,
            "mutation($e:String!,$p:String!){ login(email:$e,password:$p){ accessToken } }",
            {"e": email, "p": password},
        )
    return data["login"]["accessToken"]


INBOX_EVENTS = "subscription($after: String) { inboxEvents(after: $after) { cursor type } }"


class LiveView:
    """An agent's inbox over graphql-transport-ws that survives anything: after a closed socket,
    an error or a `complete`, it reconnects (to either API process) with the last cursor."""

    def __init__(self, bases: list[str], token: str, after: int, home: int):
        self.bases = bases
        self.token = token
        self.cursor = after
        self.home = home
        self.seqs: list[int] = []
        self.reconnects = 0
        self.errors: Counter[str] = Counter()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            base = self.bases[(self.home + self.reconnects) % len(self.bases)]
            try:
                await self._follow(base)
            except (OSError, WebSocketException, TimeoutError) as exc:
                self.errors[type(exc).__name__] += 1
            self.reconnects += 1
            attempt += 1
            await asyncio.sleep(min(0.1 * 2 ** min(attempt, 5), 2.0) * random.uniform(0.5, 1.0))

    async def _follow(self, base: str) -> None:
        url = base.replace("http", "ws", 1) + "/graphql"
        async with connect(url, subprotocols=["graphql-transport-ws"], open_timeout=5, max_queue=None) as ws:
            await ws.send(
                json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {self.token}"}})
            )
            ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if ack.get("type") != "connection_ack":
                self.errors[f"init:{ack.get('type')}"] += 1
                return
            variables = {"after": str(self.cursor)}
            await ws.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {"query": INBOX_EVENTS, "variables": variables},
                    }
                )
            )
            async for raw in ws:
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "ping":
                    await ws.send(json.dumps({"type": "pong"}))
                elif kind == "next":
                    payload = message["payload"]
                    if payload.get("errors"):
                        code = (payload["errors"][0].get("extensions") or {}).get("code")
                        self.errors[f"next:{code}"] += 1
                        continue
                    seq = int(payload["data"]["inboxEvents"]["cursor"])
                    self.seqs.append(seq)
                    self.cursor = seq
                elif kind in ("error", "complete"):
                    self.errors[kind] += 1
                    return
