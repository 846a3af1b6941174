"""The HTTP floor for bench/ingest: what the raw baseline's work costs once it arrives over HTTP.

A bare ASGI app under the same server PyTake runs on (uvicorn, its `pytake serve` defaults: httptools
and uvloop when installed, one process per core): each POST's body is read, stored with the raw
baseline's statement (asyncpg INSERT … ON CONFLICT DO NOTHING), published to Redis, answered 200.
No framework, no signature check, no parsing: no server in this stack answers a webhook for less, so
PyTake's throughput over this floor says how much of what is left is PyTake's own.

BENCH_FLOOR_MODE says how the work is done:
- `single` (the default): one INSERT and one PUBLISH per webhook.
- `grouped`: in groups, as PyTake's ingest does (core/group_commit.py, the same group size and
  groups in flight): the webhooks arriving together are stored by one multi-row INSERT and
  published by one pipeline, each answered after that commit. The most any webhook server here
  could reach storing one row and publishing it per message.
- `rule`: in groups, each group stored by PyTake's own statement (`pytake_ingest_group`:
  customer, conversation, message, two events logged) and its events published by one pipeline;
  the webhook's fields taken straight from the JSON. What PyTake's storage costs behind a server
  that adds nothing else: no routing, middleware, signature check, connector, live fan-out or jobs.
  Its messages use their own sender and message ids (BENCH_FLOOR_CHANNEL is the channel), so they
  are no duplicates of the run that follows.

    python -m bench.http_floor PORT WORKERS   (BENCH_FLOOR_DB, BENCH_FLOOR_REDIS, BENCH_FLOOR_MODE,
                                              BENCH_FLOOR_CHANNEL; bench/ingest starts it)
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
import redis.asyncio as redis

from core.events import INBOX, conversation_stream
from core.group_commit import GroupCommit
from resolvers.ingest_group import GROUP_INFLIGHT, GROUP_MAX

MODE = os.environ.get("BENCH_FLOOR_MODE", "single")
_state: dict[str, Any] = {}
_OK = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            _state["pool"] = await asyncpg.create_pool(os.environ["BENCH_FLOOR_DB"], min_size=10, max_size=20)
            _state["redis"] = redis.from_url(os.environ["BENCH_FLOOR_REDIS"])
            run = _store_group if MODE == "grouped" else _ingest_group
            _state["group"] = GroupCommit(run, max_size=GROUP_MAX, max_inflight=GROUP_INFLIGHT)
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await _state["pool"].close()
            await _state["redis"].aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _store_group(items: list[tuple[str, bytes]]) -> list[None]:
    await _state["pool"].execute(
        "INSERT INTO bench_floor (id, body) SELECT * FROM unnest($1::text[], $2::jsonb[]) "
        "ON CONFLICT DO NOTHING",
        [key for key, _ in items],
        [body.decode() for _, body in items],
    )
    async with _state["redis"].pipeline(transaction=False) as pipe:
        for _, body in items:
            pipe.publish("bench:floor", body)
        await pipe.execute()
    return [None] * len(items)


def _rule_params(channel_id: int, body: bytes) -> dict[str, Any]:
    """`pytake_ingest_group`'s fields of one WhatsApp text message, read straight from the JSON."""
    value = orjson.loads(body)["entry"][0]["changes"][0]["value"]
    message, contact = value["messages"][0], value["contacts"][0]
    return {
        "channel_id": channel_id,
        "platform": "whatsapp",
        "platform_message_id": "floor." + message["id"],
        "sender_id": "floor" + message["from"],
        "sender_name": contact["profile"]["name"],
        "kind": "text",
        "text": message["text"]["body"],
        "sent_at": datetime.fromtimestamp(int(message["timestamp"]), UTC).isoformat(),
        "survey_check": True,
    }


async def _ingest_group(items: list[tuple[str, bytes]]) -> list[None]:
    channel_id = int(os.environ["BENCH_FLOOR_CHANNEL"])
    messages = orjson.dumps([_rule_params(channel_id, body) for _, body in items]).decode()
    rows = await _state["pool"].fetch(
        "SELECT * FROM pytake_ingest_group($1::jsonb, $2, $3, true)", messages, INBOX, conversation_stream("")
    )
    async with _state["redis"].pipeline(transaction=False) as pipe:
        for row in rows:
            if row["ev_seq"] is not None:
                pipe.publish("bench:floor:" + row["ev_stream"], row["ev_payload"])
        await pipe.execute()
    return [None] * len(items)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = b"".join(chunks)
    key = dict(scope["headers"]).get(b"x-hub-signature-256", b"").decode()
    if MODE != "single":
        await _state["group"].submit((key, body))
        await send(_OK)
        await send({"type": "http.response.body", "body": b"ok"})
        return
    await _state["pool"].execute(
        "INSERT INTO bench_floor (id, body) VALUES ($1, $2::jsonb) ON CONFLICT DO NOTHING", key, body.decode()
    )
    await _state["redis"].publish("bench:floor", body)
    await send(_OK)
    await send({"type": "http.response.body", "body": b"ok"})


def serve(port: int, workers: int) -> None:
    """As `pytake serve` listens: one SO_REUSEPORT socket per process (core/reuseport.py)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from core.reuseport import PortReservation

    config = uvicorn.Config(
        "bench.http_floor:app", host="127.0.0.1", port=port, workers=workers, log_level="warning"
    )
    with PortReservation.bind_to(config.host, config.port) as reservation:
        Multiprocess(config, sockets=[reservation]).run()


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]))
