"""The HTTP floor for bench/ingest: what the raw baseline's work costs once it arrives over HTTP.

A bare ASGI app under the same server PyTake runs on (uvicorn, its `pytake serve` defaults: httptools
and uvloop when installed, one process per core): each POST's body is read, stored with the raw
baseline's statement (asyncpg INSERT … ON CONFLICT DO NOTHING), published to Redis, answered 200.
No framework, no signature check, no parsing: no server in this stack answers a webhook for less, so
PyTake's throughput over this floor says how much of what is left is PyTake's own.

    python -m bench.http_floor PORT WORKERS   (BENCH_FLOOR_DB, BENCH_FLOOR_REDIS; bench/ingest starts it)
"""

from __future__ import annotations

import os
import sys
from typing import Any

import asyncpg
import redis.asyncio as redis

_state: dict[str, Any] = {}
_OK = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            _state["pool"] = await asyncpg.create_pool(os.environ["BENCH_FLOOR_DB"], min_size=10, max_size=20)
            _state["redis"] = redis.from_url(os.environ["BENCH_FLOOR_REDIS"])
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await _state["pool"].close()
            await _state["redis"].aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return


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
