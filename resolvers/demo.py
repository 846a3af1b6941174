"""Demo mode (the embedded default): a fake WhatsApp Cloud API stands in for Meta, so `make run`
shows the whole loop (customer writes → agent sees it live → reply → ticks) with no Meta account.
A person plays the customer through `simulateInboundMessage`.

The rules live here: which channels are demo channels, registering their numbers with the fake,
and a customer's message simulated through it. The fake's HTTP app is mounted by ingress/demo.py,
and its webhooks come back through the real webhook route.
"""

from __future__ import annotations

from typing import Any

from connectors.base import Platform
from connectors.fakes.whatsapp import FakeWhatsApp
from core.auth import Actor
from core.crypto import decrypt_secrets
from core.settings import get_settings
from models import Channel
from resolvers.auth import require_user
from resolvers.channels import channel_view, webhook_url
from resolvers.errors import BadInput, NotFound

_fake: FakeWhatsApp | None = None  # one per app, created when the app mounts it (demo mode only)


def enabled() -> bool:
    return get_settings().demo


def open_fake() -> FakeWhatsApp:
    """The demo's fake WhatsApp, new for the app that mounts it."""
    global _fake
    _fake = FakeWhatsApp()
    _fake.auto_statuses = ["delivered", "read"]  # the demo shows ticks moving
    return _fake


async def _demo_channels() -> list[Channel]:
    return [c for c in await Channel.filter(platform=Platform.WHATSAPP, enabled=True) if c.config.get("demo")]


async def register_numbers() -> None:
    """Register the demo channels' numbers with the fake (its webhooks come back to us)."""
    if _fake is None:
        return
    for channel in await _demo_channels():
        secrets = decrypt_secrets(channel.secrets_encrypted)
        _fake.add_number(
            channel.config["phone_number_id"],
            access_token=secrets["access_token"],
            app_secret=secrets["app_secret"],
            webhook_url=webhook_url(channel),
        )


async def close_fake() -> None:
    if _fake is not None:
        await _fake.aclose()  # its webhook client


async def demo_channels() -> list[dict[str, Any]]:
    return [channel_view(c) for c in await _demo_channels()] if enabled() else []


async def simulate_inbound(actor: Actor | None, channel_id: int, *, wa_id: str, name: str, text: str) -> bool:
    require_user(actor)
    if _fake is None:
        raise NotFound("demo mode is off")
    channel = next((c for c in await _demo_channels() if c.id == channel_id), None)
    if channel is None:
        raise NotFound(f"channel {channel_id} is not a demo channel")
    if not wa_id.isdigit() or not 6 <= len(wa_id) <= 15:
        raise BadInput("waId must be 6 to 15 digits (a phone number without +)", field="waId")
    if not text.strip():
        raise BadInput("text must not be empty", field="text")
    response = await _fake.post_inbound_text(
        channel.config["phone_number_id"], wa_id=wa_id, name=name, text=text
    )
    return response.status_code == 200
