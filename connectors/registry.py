"""Which connector speaks for which platform. Adding a platform means one line here."""

from __future__ import annotations

from connectors.base import Connector, Platform
from connectors.whatsapp import whatsapp

CONNECTORS: dict[Platform, Connector] = {
    Platform.WHATSAPP: whatsapp,
}


def get_connector(platform: Platform) -> Connector:
    connector = CONNECTORS.get(platform)
    if connector is None:
        raise LookupError(f"no connector is registered for platform {platform!r}")
    return connector
