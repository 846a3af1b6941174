"""Where an agent's reply can go: every channel the customer can be reached on, and why not.

A conversation belongs to a customer, and a customer may be known on several platforms. The
agent can answer on any of them, within what each platform allows (`Capabilities`): WhatsApp and
Messenger only inside their reply windows, bots only to people who wrote to them first, SMS and
e-mail to any phone/address we know. `reply_targets` is what the API shows; `resolve_target` is
the same rule enforced when a reply is stored, so the two can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connectors.base import Capabilities, Platform
from connectors.registry import get_connector
from core.sql import fetch
from resolvers.errors import NotFound, ReplyNotAllowed


@dataclass(frozen=True)
class ReplyTarget:
    channel_id: int
    channel_name: str
    platform: str
    identity_id: int | None  # None: the reply would start the customer's first contact on this channel
    address: str | None  # who receives it (a phone, an address, a user id)
    available: bool
    reason: str | None  # why not (or, when available, any caveat)
    requires_template: bool  # only an approved template can go out (WhatsApp outside 24 h)
    last_inbound_at: datetime | None
    is_default: bool = False  # where the customer last wrote (a reply goes there unless told otherwise)


async def reply_targets(conversation_id: int) -> list[ReplyTarget]:
    conversations = await fetch(
        "SELECT c.id, c.customer_id, cu.phone, cu.email FROM conversations c "
        "JOIN customers cu ON cu.id = c.customer_id WHERE c.id = $1",
        conversation_id,
    )
    if not conversations:
        raise NotFound(f"conversation {conversation_id} does not exist")
    conversation = conversations[0]
    identities = await fetch(
        "SELECT id, channel_id, external_id, reply_address, last_inbound_at FROM customer_identities "
        "WHERE customer_id = $1 ORDER BY last_inbound_at DESC NULLS LAST, id DESC",
        conversation["customer_id"],
    )
    channels = await fetch("SELECT id, name, platform FROM channels WHERE enabled ORDER BY id")
    default_channel = await _default_channel(conversation_id)
    now = datetime.now(UTC)
    targets = []
    for channel in channels:
        identity = next((i for i in identities if i["channel_id"] == channel["id"]), None)
        target = _target(channel, identity, conversation, now)
        if channel["id"] == default_channel:
            target = ReplyTarget(**{**target.__dict__, "is_default": True})
        targets.append(target)
    # Where the customer can be reached first, the default first of all; the rest keep the order.
    return sorted(targets, key=lambda t: (not t.is_default, not t.available, t.identity_id is None))


async def resolve_target(
    conversation_id: int, channel_id: int | None, *, template: bool = False
) -> ReplyTarget:
    """The target a reply goes to: the given channel, or by default the one the customer last
    wrote on. Raises ReplyNotAllowed with the platform's reason when it cannot go there (a
    template may go where only a template may)."""
    targets = await reply_targets(conversation_id)
    if channel_id is None:
        chosen = next((t for t in targets if t.is_default), None)
        if chosen is None:
            raise ReplyNotAllowed(
                "The conversation's channel is disabled; choose another (see replyTargets)."
            )
    else:
        chosen = next((t for t in targets if t.channel_id == channel_id), None)
        if chosen is None:
            raise NotFound(f"channel {channel_id} does not exist or is disabled", field="channelId")
    if template and chosen.requires_template:
        return chosen
    if not chosen.available:
        raise ReplyNotAllowed(
            chosen.reason or "This channel cannot reach the customer.",
            field="channelId",
            platform=chosen.platform,
            requiresTemplate=chosen.requires_template,
        )
    return chosen


async def _default_channel(conversation_id: int) -> int | None:
    """Reply where the customer last wrote in this conversation (or where it started)."""
    rows = await fetch(
        "SELECT channel_id FROM messages WHERE conversation_id = $1 AND direction = 'inbound' "
        "ORDER BY id DESC LIMIT 1",
        conversation_id,
    )
    if rows:
        return rows[0]["channel_id"]
    rows = await fetch("SELECT channel_id FROM conversations WHERE id = $1", conversation_id)
    return rows[0]["channel_id"] if rows else None


def _target(
    channel: dict[str, Any], identity: dict[str, Any] | None, conversation: dict[str, Any], now: datetime
) -> ReplyTarget:
    platform = Platform(channel["platform"])
    caps = get_connector(platform).capabilities
    base = {
        "channel_id": channel["id"],
        "channel_name": channel["name"],
        "platform": platform.value,
        "identity_id": identity["id"] if identity else None,
        "last_inbound_at": identity["last_inbound_at"] if identity else None,
    }
    if identity is not None:
        address = identity["reply_address"] or identity["external_id"]
        last = identity["last_inbound_at"]
        if caps.reply_window is None or (last is not None and now - last <= caps.reply_window):
            return ReplyTarget(**base, address=address, available=True, reason=None, requires_template=False)
        if (
            caps.tagged_reply_window is not None
            and last is not None
            and now - last <= caps.tagged_reply_window
        ):
            return ReplyTarget(
                **base,
                address=address,
                available=True,
                requires_template=False,
                reason=f"Sent with {_name(platform)}'s HUMAN_AGENT tag: the 24-hour window has passed.",
            )
        hours = int(caps.reply_window.total_seconds() // 3600)
        if caps.template_outside_window:
            return ReplyTarget(
                **base,
                address=address,
                available=False,
                requires_template=True,
                reason=f"More than {hours} hours have passed since the customer last wrote on "
                f"{_name(platform)}; only an approved template can be sent there.",
            )
        return ReplyTarget(
            **base,
            address=address,
            available=False,
            requires_template=False,
            reason=f"{_name(platform)} allows replies only within {hours} hours of the customer's last "
            "message, and that time has passed.",
        )
    address = _initiation_address(caps, conversation)
    if caps.can_initiate and address is not None:
        if caps.reply_window is not None and caps.template_outside_window:
            return ReplyTarget(
                **base,
                address=address,
                available=False,
                requires_template=True,
                reason=f"The customer has not written on {_name(platform)} yet; only an approved "
                "template can start the conversation there.",
            )
        return ReplyTarget(**base, address=address, available=True, reason=None, requires_template=False)
    if caps.can_initiate:
        wanted = "phone number" if caps.address_kind == "phone" else "e-mail address"
        reason = f"No {wanted} is known for this customer."
    else:
        reason = (
            f"{_name(platform)} does not let a business write first: the customer has to contact "
            "this channel before it can be used."
        )
    return ReplyTarget(**base, address=None, available=False, requires_template=False, reason=reason)


def _initiation_address(caps: Capabilities, conversation: dict[str, Any]) -> str | None:
    value = {"phone": conversation["phone"], "email": conversation["email"]}.get(caps.address_kind or "")
    return caps.address_format.format(value) if value else None


_NAMES = {
    Platform.WHATSAPP: "WhatsApp",
    Platform.SMS: "SMS",
    Platform.EMAIL: "E-mail",
    Platform.LINE: "LINE",
    Platform.WECHAT: "WeChat",
}


def _name(platform: Platform) -> str:
    return _NAMES.get(platform, platform.value.capitalize())
