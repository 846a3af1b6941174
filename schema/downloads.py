"""Signed, expiring download links for files built for agents and admins (a customer's data
export, reports as CSV and JSON): `GET /exports/{token}`, mounted by asgi.py.

A link is its own credential, so a browser can follow it without the API's bearer header: the
token says what (kind and id), for whom (the user it was made for, checked again on download) and
until when, signed with HMAC-SHA256 under a key derived from JWT_SECRET (a different purpose, a
different key: a token of one kind is never valid as the other). Each kind registers the function
that finds its file; a new kind of download is one entry in FILES."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import orjson
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from core.settings import get_settings
from resolvers import audit, privacy, reports

PATH = "/exports"
# kind → (object id, user id) → (file name, JSON text or the path of a file streamed from disk),
# or None when there is nothing to give.
FILES: dict[str, Callable[[int, int], Awaitable[tuple[str, str | Path] | None]]] = {
    "customer_export": privacy.export_file,
    "report_csv": reports.report_csv,
    "report_json": reports.report_json,
}
_MEDIA_TYPES = {".csv": "text/csv; charset=utf-8", ".json": "application/json"}


def _key() -> bytes:
    return hmac.new(get_settings().jwt_secret.encode(), b"pytake download links v1", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def link_base(request: Request | None) -> str:
    """PUBLIC_URL when configured, else the address the asking client used to reach us."""
    settings = get_settings()
    if settings.public_url_configured or request is None:
        return settings.public_url
    return str(request.base_url).rstrip("/")


def signed_link(
    kind: str, object_id: int, user_id: int, base: str, until: datetime | None = None
) -> tuple[str, datetime]:
    """(URL under `base`, expiry) of a link to the file `kind`/`object_id`, for `user_id`; never
    past `until` (when the file itself expires)."""
    settings = get_settings()
    expires = int(time.time()) + settings.download_link_ttl
    if until is not None:
        expires = min(expires, int(until.timestamp()))
    body = _b64(orjson.dumps({"k": kind, "i": object_id, "u": user_id, "e": expires}))
    signature = _b64(hmac.new(_key(), body.encode(), hashlib.sha256).digest())
    return f"{base}{PATH}/{body}.{signature}", datetime.fromtimestamp(expires, UTC)


def _verify(token: str) -> dict[str, object] | str:
    """The token's claims, or the error code to answer with."""
    body, _, signature = token.partition(".")
    try:
        expected = hmac.new(_key(), body.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(signature)):
            return "INVALID_LINK"
        claims = orjson.loads(_unb64(body))
    except (ValueError, orjson.JSONDecodeError):
        return "INVALID_LINK"
    if not isinstance(claims, dict) or claims.get("k") not in FILES:
        return "INVALID_LINK"
    if not all(type(claims.get(k)) is int for k in ("i", "u")):  # only we sign, but never a 500
        return "INVALID_LINK"
    if not isinstance(claims.get("e"), int) or claims["e"] < time.time():
        return "LINK_EXPIRED"
    return claims


def _error(status: int, code: str, message: str) -> Response:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


async def download(request: Request) -> Response:
    claims = _verify(request.path_params["token"])
    if isinstance(claims, str):
        if claims == "LINK_EXPIRED":
            return _error(410, claims, "this link has expired; ask the API for a new one")
        return _error(403, claims, "this link is not one this server signed")
    audit.CLIENT_ADDRESS.set(request.client.host if request.client else None)
    found = await FILES[str(claims["k"])](claims["i"], claims["u"])  # type: ignore[arg-type]
    if found is None:
        return _error(
            404, "NOT_FOUND", "nothing to download here (not ready, expired, or not yours any more)"
        )
    name, content = found
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    media_type = _MEDIA_TYPES.get(Path(name).suffix, "application/octet-stream")
    if isinstance(content, Path):  # a report: sent in chunks, however large
        return FileResponse(content, media_type=media_type, headers=headers)
    return Response(content, media_type=media_type, headers=headers)


def download_routes() -> list[Route]:
    return [Route(PATH + "/{token}", download, methods=["GET"])]
