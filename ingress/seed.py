"""Demo data for the embedded default (`pytake seed`, `pytake run`): an admin, two agents, a demo
WhatsApp channel on the fake API (ingress/demo.py), and a few customers writing in (through the
real ingest path). Idempotent."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

from connectors.base import InboundMessage, MessageKind, ParsedWebhook, Platform
from core.auth import hash_password
from core.crypto import encrypt_secrets
from core.settings import get_settings
from ingress.demo import fake_api_base
from models import Channel, Role, User
from resolvers.inbound import ingest

DEMO_PHONE_NUMBER_ID = "100000000000001"
_PEOPLE = [
    ("admin@pytake.local", "Ada Admin", Role.ADMIN),
    ("agent1@pytake.local", "Alex Agent", Role.AGENT),
    ("agent2@pytake.local", "Bea Agent", Role.AGENT),
]
_CUSTOMERS = [
    ("5511987650001", "Maria Silva", "Olá! Meu pedido #1043 ainda não chegou."),
    ("16505550002", "John Carter", "Hi, can I change the delivery address for my order?"),
    ("447700900003", "Priya Patel", "Do you have this jacket in size M?"),
]


def _credentials_file() -> Path:
    return get_settings().data_dir / "demo-credentials.json"


async def seed_demo() -> dict[str, str]:
    """Returns e-mail → password of the demo users (generated once, kept in the data folder)."""
    path = _credentials_file()
    creds: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    for email, name, role in _PEOPLE:
        if not await User.filter(email=email).exists():
            creds[email] = creds.get(email) or secrets.token_urlsafe(9)
            await User.create(
                email=email,
                name=name,
                role=role,
                password_hash=hash_password(creds[email]),
                sees_all_conversations=True,  # the demo has no teams: its agents answer every conversation
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(creds, indent=2))
    path.chmod(0o600)

    channel = await Channel.filter(platform=Platform.WHATSAPP, name="Demo WhatsApp").first()
    if channel is None:
        channel = await Channel.create(
            platform=Platform.WHATSAPP,
            name="Demo WhatsApp",
            config={
                "phone_number_id": DEMO_PHONE_NUMBER_ID,
                "api_base": fake_api_base(),
                "api_version": "v21.0",
                "display_phone_number": "15550000001",
                "demo": True,
            },
            secrets_encrypted=encrypt_secrets(
                {
                    "app_secret": secrets.token_hex(16),
                    "access_token": secrets.token_urlsafe(24),
                    "verify_token": secrets.token_urlsafe(12),
                }
            ),
        )
        now = datetime.now(UTC)
        for i, (wa_id, name, text) in enumerate(_CUSTOMERS):
            message = InboundMessage(
                platform_message_id=f"wamid.demo{i}",
                sender_id=wa_id,
                sender_name=name,
                sender_phone=wa_id,
                sent_at=now - timedelta(minutes=10 - i),
                kind=MessageKind.TEXT,
                text=text,
            )
            await ingest(channel.id, Platform.WHATSAPP.value, ParsedWebhook(messages=(message,)))
    elif channel.config.get("api_base") != fake_api_base():  # HOST/PORT changed since the seed
        channel.config = {**channel.config, "api_base": fake_api_base()}
        await channel.save()
    return creds
