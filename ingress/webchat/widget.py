"""The widget script (widget.js beside this file), served at /webchat/widget.js to any website:
cached by ETag, reread when the file changes."""

from __future__ import annotations

import hashlib
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

WIDGET_PATH = Path(__file__).with_name("widget.js")

_widget_cache: tuple[float, bytes, str] | None = None


def _widget() -> tuple[bytes, str]:
    global _widget_cache
    mtime = WIDGET_PATH.stat().st_mtime
    if _widget_cache is None or _widget_cache[0] != mtime:
        body = WIDGET_PATH.read_bytes()
        _widget_cache = (mtime, body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
    return _widget_cache[1], _widget_cache[2]


async def widget_js(request: Request) -> Response:
    body, etag = _widget()
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=300",
        "X-Content-Type-Options": "nosniff",
        "Access-Control-Allow-Origin": "*",  # a public script: anyone may load it
    }
    match = request.headers.get("if-none-match") or ""
    if etag in (tag.strip() for tag in match.split(",")) or match.strip() == "*":
        return Response(status_code=304, headers=headers)
    return Response(
        body if request.method != "HEAD" else b"",
        media_type="application/javascript; charset=utf-8",
        headers=headers,
    )
