"""Which connector speaks for which platform. Adding a platform means one line here.

Modules are imported on first use so that a process only loads the platforms it serves (the
gateway process needs Discord, a webhook for Slack needs Slack). A missing module is a real error.
"""

from __future__ import annotations

import importlib

from connectors.base import Connector, Platform

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


def get_connector(platform: Platform | str) -> Connector:
    try:
        platform = Platform(platform)
    except ValueError:
        raise LookupError(f"no connector is registered for platform {platform!r}") from None
    connector = _loaded.get(platform)
    if connector is None:
        module_name, attribute = _MODULES[platform].split(":")
        connector = getattr(importlib.import_module(module_name), attribute)
        _loaded[platform] = connector
    return connector
