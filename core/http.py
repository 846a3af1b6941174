"""One outbound HTTP client per event loop (connection pooling for platform APIs)."""

from __future__ import annotations

import asyncio

import httpx

_clients: dict[int, httpx.AsyncClient] = {}


def client() -> httpx.AsyncClient:
    loop_id = id(asyncio.get_running_loop())
    http = _clients.get(loop_id)
    if http is None or http.is_closed:
        http = httpx.AsyncClient(
            timeout=httpx.Timeout(15.0, connect=5.0), limits=httpx.Limits(max_connections=100)
        )
        _clients[loop_id] = http
    return http


async def close() -> None:
    loop_id = id(asyncio.get_running_loop())
    http = _clients.pop(loop_id, None)
    if http is not None:
        await http.aclose()
