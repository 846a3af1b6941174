"""The platforms' door as asgi.py mounts it: its routes, and what it runs beside the app.

Routes: /webhooks/{platform}/{channel_id} (every platform), /webchat (our own web chat's visitors)
and /_fake/whatsapp (demo mode's fake WhatsApp). Beside the app: the demo's numbers registered
with the fake, and in embedded mode (one process does everything) Discord's gateway connections.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.routing import BaseRoute, Mount, Route

from core.settings import Settings
from ingress import webhooks
from ingress.demo import FAKE_MOUNT, fake_app
from ingress.discord_gateway_runner import run_gateways
from ingress.webchat import routes as webchat
from ingress.webhooks import webhook
from resolvers import demo

GATEWAYS_STOP_TIMEOUT = 10.0  # seconds the gateway runner gets to close its connections


def ingress_routes() -> list[BaseRoute]:
    return [
        Route("/webhooks/{platform}/{channel_id}", webhook, methods=["GET", "POST"]),
        Mount("/webchat", routes=webchat.webchat_routes),  # the visitors' side of our own web chat
        Mount(FAKE_MOUNT, app=fake_app()),
    ]


@contextlib.asynccontextmanager
async def ingress_running(settings: Settings) -> AsyncIterator[None]:
    """Inside the app's lifespan, once the database and the event log are up."""
    if settings.demo:
        await demo.register_numbers()
    gateways_stop = asyncio.Event()
    gateways = None
    if settings.embedded:  # one process does everything, Discord's gateway connections too
        gateways = asyncio.create_task(run_gateways(gateways_stop))
    try:
        yield
    finally:
        if gateways is not None:
            gateways_stop.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(gateways, GATEWAYS_STOP_TIMEOUT)
        await demo.close_fake()
        await webchat.close()
        await webhooks.close()
