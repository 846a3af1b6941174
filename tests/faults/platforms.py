"""Signed inbound webhooks as WhatsApp, LINE and Telegram send them, built up front so a retry
carries the very same bytes (and platform id) as the first attempt."""

from __future__ import annotations

import json
import time
import uuid

from connectors.base import Platform
from connectors.fakes.signing import sign_webhook
from connectors.fakes.whatsapp import inbound_text_payload
from tests.fakes.line import event_base
from tests.faults.conftest import World
from tests.faults.load import Webhook

PLATFORMS = ("whatsapp", "line", "telegram")


def customer_platform(customer: int) -> str:
    return PLATFORMS[customer % len(PLATFORMS)]


def customer_address(customer: int, run: str) -> str:
    """The customer's id on their platform (each customer writes from one platform)."""
    platform = customer_platform(customer)
    if platform == "whatsapp":
        return f"5511{int(run, 16) % 1000:03d}{customer:06d}"
    if platform == "line":
        return "U" + uuid.uuid5(uuid.NAMESPACE_URL, f"{run}:{customer}").hex
    return str(10**9 + int(run, 16) % 10**5 * 10**4 + customer)


def inbound(world: World, run: str, i: int, customer: int) -> Webhook:
    """Message number `i` of the run, from `customer`; its text is `run:i`."""
    platform = customer_platform(customer)
    channel = world.channels[platform]
    address = customer_address(customer, run)
    text = f"{run}:{i}"
    if platform == "whatsapp":
        key = f"wamid.{run}.{i}"
        payload = inbound_text_payload(
            channel.config["phone_number_id"], wa_id=address, name=f"C{customer}", text=text, wamid=key
        )
        body = json.dumps(payload).encode()
        secret = world.secrets["whatsapp"]["app_secret"]
    elif platform == "line":
        key = f"{run}{i:09d}"
        event = event_base("message", address)
        event["message"] = {"type": "text", "id": key, "quoteToken": uuid.uuid4().hex, "text": text}
        body = json.dumps({"destination": "Ufaults", "events": [event]}, separators=(",", ":")).encode()
        secret = world.secrets["line"]["channel_secret"]
    else:
        chat = int(address)
        key = f"{chat}:{i}"
        update = {
            "update_id": int(run, 16) * 100_000 + i + 1,
            "message": {
                "message_id": i,
                "from": {"id": chat, "is_bot": False, "first_name": f"C{customer}"},
                "chat": {"id": chat, "type": "private", "first_name": f"C{customer}"},
                "date": int(time.time()),
                "text": text,
            },
        }
        body = json.dumps(update).encode()
        secret = world.secrets["telegram"]["secret_token"]
    path = f"/webhooks/{platform}/{channel.id}"
    signed = sign_webhook(Platform(platform), body, secret, time.time(), world.bases[0] + path)
    return Webhook(path, signed.body, dict(signed.headers), key)
