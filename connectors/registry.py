"""Which connector speaks for which platform. Adding a platform means one line here.

Modules are imported on first use so that a process only loads the platforms it serves (the
gateway process needs Discord, a webhook for Slack needs Slack). A missing module is a real error.

An enabled PyTake module (core/extensions.py, README "Modules") may supply the connector for a
platform, say SMS through a provider other than Twilio: while it is enabled, every channel of that
platform goes through the module's connector, in every process (webhooks, sends, reply targets,
channel validation), and through the built-in one again once it is disabled. The platforms
themselves are the vocabulary's (core/vocabulary.Platform): channels, the tables and the GraphQL
enum name them, so a module can take one over but not invent a new name.
"""

from __future__ import annotations

import importlib
from typing import Any

from connectors.base import Connector, Platform
from core.extensions import registry

_MODULES: dict[Platform, str] = {
    Platform.WHATSAPP: "connectors.whatsapp:whatsapp",
    Platform.MESSENGER: "connectors.messenger:messenger",
    Platform.INSTAGRAM: "connectors.instagram:instagram",
    Platform.TELEGRAM: "connectors.telegram:telegram",
    Platform.DISCORD: "connectors.discord:discord",
    Platform.SLACK: "connectors.slack:slack",
    Platform.WEBCHAT: "connectors.webchat:webchat",
    Platform.SMS: "connectors.sms:sms",
    Platform.EMAIL: "connectors.email:email",
    Platform.LINE: "connectors.line:line",
    Platform.VIBER: "connectors.viber:viber",
    Platform.WECHAT: "connectors.wechat:wechat",
}
_loaded: dict[Platform, Connector] = {}
_supplied: dict[type, Connector] = {}  # a module's connector class -> its one instance


def get_connector(platform: Platform | str) -> Connector:
    try:
        platform = Platform(platform)
    except ValueError:
        raise LookupError(f"no connector is registered for platform {platform!r}") from None
    supplied = registry.connector(platform.value)
    if supplied is not None:
        return _instance(supplied)
    connector = _loaded.get(platform)
    if connector is None:
        module_name, attribute = _MODULES[platform].split(":")
        connector = getattr(importlib.import_module(module_name), attribute)
        _loaded[platform] = connector
    return connector


def _instance(supplied: Any) -> Connector:
    """A module declares a connector class or an instance; a class is made once per process."""
    if not isinstance(supplied, type):
        return supplied  # type: ignore[no-any-return]
    made = _supplied.get(supplied)
    if made is None:
        made = _supplied[supplied] = supplied()
    return made
