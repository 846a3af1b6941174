"""Demo mode's door: the fake WhatsApp Cloud API inside the app at /_fake/whatsapp, where the demo
channel sends its replies. What the demo does (its channels, a simulated customer) is in
resolvers/demo.py; the demo data is made by ingress/seed.py."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from core.settings import get_settings
from resolvers import demo

FAKE_MOUNT = "/_fake/whatsapp"


def fake_app() -> ASGIApp:
    """The fake's HTTP app in demo mode; otherwise a plain 404 at its mount."""
    if not demo.enabled():
        return Starlette(routes=[Route("/{p:path}", lambda r: PlainTextResponse("not found", 404))])
    return demo.open_fake().app


def fake_api_base() -> str:
    """Where the demo channel finds its WhatsApp API: the fake, at this app's public URL."""
    return f"{get_settings().public_url}{FAKE_MOUNT}"
