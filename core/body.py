"""Reading a request body with a size limit, for both doors (webhooks and /graphql).

A body is refused as soon as it is known to be too large: at once when Content-Length says so,
otherwise while it streams in (chunked bodies, or a Content-Length that lies), so an oversized
body never sits whole in memory.
"""

from __future__ import annotations

from starlette.requests import Request


class BodyTooLarge(Exception):
    pass


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, or BodyTooLarge once it passes `limit` bytes (ClientDisconnect passes through)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)
