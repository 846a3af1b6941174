"""The words every floor shares: platforms, kinds of message, delivery statuses.

Tables store them (models/), connectors speak them, the API shows them; they live here, on the
ground floor, so that none of those has to import another for a word.
"""

from __future__ import annotations

import enum


class Platform(enum.StrEnum):
    WHATSAPP = "whatsapp"
    MESSENGER = "messenger"
    INSTAGRAM = "instagram"
    TELEGRAM = "telegram"
    DISCORD = "discord"
    SLACK = "slack"
    WEBCHAT = "webchat"
    SMS = "sms"
    EMAIL = "email"
    LINE = "line"
    VIBER = "viber"
    WECHAT = "wechat"  # WeChat Official Accounts (the twelfth: a public bot API with real demand)


class MessageKind(enum.StrEnum):
    TEXT = "text"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    DOCUMENT = "document"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACTS = "contacts"
    INTERACTIVE = "interactive"  # button / list replies
    REACTION = "reaction"  # metadata: {"emoji": "...", "target_platform_id": "..."}; emoji "" = removed
    TEMPLATE = "template"
    POSTBACK = "postback"  # a button/quick-reply/callback press; text = its title, metadata.payload
    UNSUPPORTED = "unsupported"


class DeliveryStatus(enum.StrEnum):
    """Outbound lifecycle. Ranks only move forward; FAILED is terminal (see `advances`)."""

    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


_RANK = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.READ: 3,
    DeliveryStatus.FAILED: 4,
}


def advances(current: DeliveryStatus, new: DeliveryStatus) -> bool:
    """True when moving from `current` to `new` is progress (never backwards, nothing after failed)."""
    if current is DeliveryStatus.FAILED:
        return False
    return _RANK[new] > _RANK[current]
