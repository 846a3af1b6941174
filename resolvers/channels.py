"""Channels: connected platform accounts. Secrets are encrypted at rest and never read back."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from secrets import token_urlsafe
from typing import Any

import httpx

from connectors.base import ChannelCredentials, Platform, SendError
from connectors.registry import get_connector
from core import http
from core.auth import Actor
from core.crypto import decrypt_secrets, encrypt_secrets, rotate
from core.settings import get_settings
from core.sql import in_transaction
from models import Channel
from resolvers import audit
from resolvers.auth import require_admin, require_user
from resolvers.errors import BadInput, DomainError, NotFound
from resolvers.webhook_delivery import clock  # wall time plus the offset tests move


def webhook_url(channel: Channel) -> str:
    return f"{get_settings().public_url}/webhooks/{channel.platform}/{channel.id}"


def channel_view(channel: Channel) -> dict[str, Any]:
    secrets = decrypt_secrets(channel.secrets_encrypted)
    return {
        "id": channel.id,
        "platform": str(channel.platform),
        "name": channel.name,
        "enabled": channel.enabled,
        "config": dict(channel.config),
        "secrets_set": sorted(k for k, v in secrets.items() if v),
        "webhook_url": webhook_url(channel),
        "last_webhook_at": channel.last_webhook_at,
        "last_error": channel.last_error,
        "last_error_at": channel.last_error_at,
        "health": health(channel),
        "previous_secret_accepted_until": previous_secret_until(channel),
        "registers_webhook": registers_webhook(channel),
        "created_at": channel.created_at,
    }


def previous_secret_until(channel: Channel) -> datetime | None:
    """Until when webhooks signed with the rotated-out secrets are still accepted (None: not)."""
    until = channel.previous_secrets_until
    if not channel.previous_secrets_encrypted or until is None or until <= clock.now():
        return None
    return until


def registers_webhook(channel: Channel) -> bool:
    """The platform is told our webhook URL by API (Telegram's setWebhook, Viber's set_webhook)."""
    return getattr(get_connector(Platform(channel.platform)), "register_webhook", None) is not None


def health(channel: Channel) -> str:
    """DISABLED, ERROR (the latest news is a failure), WAITING (nothing received yet), or OK."""
    if not channel.enabled:
        return "DISABLED"
    if channel.last_error_at is not None and (
        channel.last_webhook_at is None or channel.last_error_at > channel.last_webhook_at
    ):
        return "ERROR"
    if channel.last_webhook_at is None:
        return "WAITING"
    return "OK"


def credentials(channel: Channel) -> ChannelCredentials:
    # Connectors that tell the platform where to report back (Twilio's StatusCallback) read
    # `webhook_url` from the config: it is ours to know, not the admin's to type.
    config = {**channel.config, "webhook_url": webhook_url(channel)}
    return ChannelCredentials(
        channel_id=channel.id, config=config, secrets=decrypt_secrets(channel.secrets_encrypted)
    )


def _validate(platform: Platform, config: dict[str, Any], secrets: dict[str, str]) -> None:
    problems = get_connector(platform).validate_config(config, secrets)
    if problems:
        raise BadInput("; ".join(problems), field="config", problems=problems)


async def create_channel(
    actor: Actor | None, *, platform: Platform, name: str, config: dict[str, Any], secrets: dict[str, str]
) -> dict[str, Any]:
    actor = require_admin(actor)
    if not name.strip():
        raise BadInput("name must not be empty", field="name")
    # Platforms whose keys we mint ourselves (web chat's public key and token secret) fill them in.
    prepare = getattr(get_connector(platform), "prepare_new_channel", None)
    if prepare is not None:
        config, secrets = prepare(config, secrets)
    _validate(platform, config, secrets)
    async with in_transaction() as conn:
        channel = await Channel.create(
            platform=platform, name=name.strip(), config=config, secrets_encrypted=encrypt_secrets(secrets)
        )
        # Secrets are never written to the audit log: only which ones were set.
        await audit.record(
            conn,
            actor,
            "channel.create",
            "Channel",
            channel.id,
            {
                "platform": platform.value,
                "name": name,
                "config": audit.masked(config),
                "secrets_set": sorted(secrets),
            },
        )
    await register_webhook(channel)
    return channel_view(channel)


async def rotate_webhook_secret(
    actor: Actor | None, channel_id: int
) -> tuple[dict[str, Any], dict[str, str]]:
    """Regenerate the secrets we hand to the platform (verify tokens, Telegram's secret_token) and
    re-register the webhook where the platform has an API for it. The new values are returned
    this once, for pasting into the platform's dashboard; afterwards they are write-only again."""
    actor = require_admin(actor)
    async with in_transaction() as conn:
        channel = await Channel.filter(id=channel_id).select_for_update().first()
        if channel is None:
            raise NotFound(f"channel {channel_id} does not exist")
        names = get_connector(Platform(channel.platform)).generated_secrets
        if not names:
            raise BadInput(
                f"{channel.platform} issues this channel's secrets itself; paste the new ones with updateChannel",
                field="channelId",
            )
        fresh = {name: token_urlsafe(32) for name in names}
        current = decrypt_secrets(channel.secrets_encrypted)
        # Platforms sign with the old value until someone pastes the new one in: it stays accepted
        # for WEBHOOK_SECRET_GRACE_HOURS (a second rotation keeps only the value it replaces).
        # Web chat's key signs visitor tokens instead: those it signed stay good as long, and a
        # widget coming back meanwhile trades its token for one under the new key (ingress/webchat).
        previous = {name: current[name] for name in names if current.get(name)}
        grace = get_settings().webhook_secret_grace_hours
        if previous and grace > 0:
            channel.previous_secrets_encrypted = encrypt_secrets(previous)
            channel.previous_secrets_until = clock.now() + timedelta(hours=grace)
        else:
            channel.previous_secrets_encrypted, channel.previous_secrets_until = None, None
        channel.secrets_encrypted = encrypt_secrets({**current, **fresh})
        await channel.save(
            update_fields=[
                "secrets_encrypted",
                "previous_secrets_encrypted",
                "previous_secrets_until",
                "updated_at",
            ]
        )
        until = previous_secret_until(channel)
        await audit.record(
            conn,
            actor,
            "channel.rotate_webhook_secret",
            "Channel",
            channel.id,
            {"rotated": list(names), "previous_accepted_until": until.isoformat() if until else None},
        )
    _webhook_cache.pop(channel.id, None)
    await register_webhook(channel)
    return channel_view(channel), fresh


async def end_secret_grace(actor: Actor | None, channel_id: int) -> dict[str, Any]:
    """Stop accepting the rotated-out secrets now (the platform has the new one, or the old one
    leaked). Audited when there was a grace to end; calling it again changes nothing."""
    actor = require_admin(actor)
    async with in_transaction() as conn:
        channel = await Channel.filter(id=channel_id).select_for_update().first()
        if channel is None:
            raise NotFound(f"channel {channel_id} does not exist", field="channelId")
        until = previous_secret_until(channel)
        if channel.previous_secrets_encrypted is not None or channel.previous_secrets_until is not None:
            channel.previous_secrets_encrypted, channel.previous_secrets_until = None, None
            await channel.save(
                update_fields=["previous_secrets_encrypted", "previous_secrets_until", "updated_at"]
            )
        if until is not None:
            await audit.record(
                conn,
                actor,
                "channel.end_webhook_secret_grace",
                "Channel",
                channel.id,
                {"previous_accepted_until": until.isoformat()},
            )
    _webhook_cache.pop(channel.id, None)
    return channel_view(channel)


@lru_cache(maxsize=1024)
def _previous_secrets(token: str) -> dict[str, str]:
    return decrypt_secrets(token)  # keyed by the ciphertext: decrypted once, not per webhook


def previous_credentials(channel: Channel, current: ChannelCredentials) -> ChannelCredentials | None:
    """The credentials with the rotated-out secrets in place of the new ones, while they are still
    accepted (checked against the clock at each webhook, not when the channel was cached)."""
    if previous_secret_until(channel) is None or not channel.previous_secrets_encrypted:
        return None
    previous = _previous_secrets(channel.previous_secrets_encrypted)
    return ChannelCredentials(
        channel_id=current.channel_id, config=current.config, secrets={**current.secrets, **previous}
    )


class WebhookRegistrationFailed(DomainError):
    """The platform refused to register our webhook URL, or did not answer. `platformCode` is the
    platform's own name for the refusal (Viber's `invalidAuthToken`, `invalidUrl`, ...)."""

    code = "PLATFORM_ERROR"


async def reregister_webhook(actor: Actor | None, channel_id: int) -> dict[str, Any]:
    """An admin asks the platform again to post to our webhook URL (after the URL changed, or
    Viber dropped it). Unlike the registration on creation, a refusal is the answer: it raises
    PLATFORM_ERROR with the platform's code, and shows on the channel's health."""
    actor = require_admin(actor)
    channel = await Channel.get_or_none(id=channel_id)
    if channel is None:
        raise NotFound(f"channel {channel_id} does not exist", field="channelId")
    register = getattr(get_connector(Platform(channel.platform)), "register_webhook", None)
    if register is None:
        raise BadInput(
            f"{channel.platform} is told the webhook URL in its own dashboard, not by API", field="channelId"
        )
    if not channel.enabled:
        raise BadInput("the channel is disabled: enable it first", field="channelId")
    url = webhook_url(channel)
    failure: WebhookRegistrationFailed | None = None
    try:
        await register(http.client(), credentials(channel), url)
    except SendError as exc:
        failure = WebhookRegistrationFailed(
            f"{channel.platform} refused the webhook: {exc.reason}",
            platformCode=exc.code,
            retryable=exc.retryable,
        )
    except httpx.HTTPError as exc:
        failure = WebhookRegistrationFailed(
            f"{channel.platform} did not answer: {type(exc).__name__}",
            platformCode="NETWORK_ERROR",
            retryable=True,
        )
    async with in_transaction() as conn:
        await audit.record(
            conn,
            actor,
            "channel.register_webhook",
            "Channel",
            channel.id,
            {"url": url, "outcome": failure.details["platformCode"] if failure else "ok"},
        )
    if failure is not None:
        await record_channel_error(channel.id, f"webhook registration failed: {failure.message}")
        raise failure
    if (channel.last_error or "").startswith("webhook registration failed"):
        await clear_channel_error(channel.id)  # the trouble it reported is over
    return channel_view(await get_channel(channel.id))


async def register_webhook(channel: Channel) -> None:
    """Tell platforms that register webhooks by API (Telegram, Viber) where to post. A failure
    does not undo the change: it shows on the channel's health, and rotating again retries."""
    connector = get_connector(Platform(channel.platform))
    register = getattr(connector, "register_webhook", None)  # only platforms with such an API have it
    if register is None or not channel.enabled:
        return
    try:
        await register(http.client(), credentials(channel), webhook_url(channel))
    except SendError as exc:
        await record_channel_error(channel.id, f"webhook registration failed: {exc.reason}")
    except httpx.HTTPError as exc:
        await record_channel_error(channel.id, f"webhook registration failed: {exc!r}")


async def record_channel_error(channel_id: int, reason: str) -> None:
    """The latest trouble with the channel itself, for the health view."""
    await Channel.filter(id=channel_id).update(last_error=reason[:2000], last_error_at=datetime.now(UTC))


_last_rejection: dict[int, float] = {}


async def note_rejected_webhook(channel_id: int, reason: str) -> None:
    """A refused webhook (bad signature: usually a wrong secret in the settings) shows on the
    channel's health. At most one write per channel every 5 s, so a flood of forgeries cannot
    turn into a flood of writes."""
    now = time.monotonic()
    if now - _last_rejection.get(channel_id, 0.0) < 5.0:
        return
    _last_rejection[channel_id] = now
    await record_channel_error(channel_id, reason)


async def clear_channel_error(channel_id: int) -> None:
    await Channel.filter(id=channel_id).update(last_error=None, last_error_at=None)


async def update_channel(
    actor: Actor | None,
    channel_id: int,
    *,
    name: str | None = None,
    enabled: bool | None = None,
    config: dict[str, Any] | None = None,
    secrets: dict[str, str] | None = None,
) -> dict[str, Any]:
    """`secrets` is merged: only the keys given are replaced (write-only fields)."""
    actor = require_admin(actor)
    async with in_transaction() as conn:
        channel = await Channel.filter(id=channel_id).select_for_update().first()
        if channel is None:
            raise NotFound(f"channel {channel_id} does not exist")
        current = decrypt_secrets(channel.secrets_encrypted)
        before = {"name": channel.name, "enabled": channel.enabled, "config": channel.config}
        new_config = {**channel.config, **(config or {})}
        new_secrets = {**current, **(secrets or {})}
        _validate(Platform(channel.platform), new_config, new_secrets)
        if name is not None:
            if not name.strip():
                raise BadInput("name must not be empty", field="name")
            channel.name = name.strip()
        if enabled is not None:
            channel.enabled = enabled
        channel.config = new_config
        channel.secrets_encrypted = encrypt_secrets(new_secrets)
        await channel.save()
        await audit.record(
            conn,
            actor,
            "channel.update",
            "Channel",
            channel.id,
            {
                **audit.before_after(
                    before, {"name": channel.name, "enabled": channel.enabled, "config": channel.config}
                ),
                "secrets_changed": sorted(secrets or {}),
            },
        )
    return channel_view(channel)


async def list_channels(actor: Actor | None) -> list[dict[str, Any]]:
    require_user(actor)
    return [channel_view(c) for c in await Channel.all().order_by("id")]


_WEBHOOK_CACHE_TTL = 5.0  # seconds an admin's change to a channel may take to reach webhooks
_webhook_cache: dict[int, tuple[float, Channel, ChannelCredentials]] = {}


async def channel_for_webhook(channel_id: int) -> tuple[Channel, ChannelCredentials]:
    """The channel and its decrypted credentials, cached briefly: webhooks arrive in floods and
    a database read plus a decryption per request is the cost of every single one."""
    now = time.monotonic()
    hit = _webhook_cache.get(channel_id)
    if hit and now - hit[0] < _WEBHOOK_CACHE_TTL:
        return hit[1], hit[2]
    channel = await get_channel(channel_id)
    creds = credentials(channel)
    if len(_webhook_cache) > 10_000:
        _webhook_cache.clear()
    _webhook_cache[channel_id] = (now, channel, creds)
    return channel, creds


_last_touch: dict[int, float] = {}


async def record_webhook(channel_id: int) -> None:
    """Keep `last_webhook_at` fresh for the health view, at most once a second per process:
    updating the channel row inside every ingest would make all webhooks of a channel queue on
    its row lock."""
    now = time.monotonic()
    if now - _last_touch.get(channel_id, 0.0) < 1.0:
        return
    _last_touch[channel_id] = now
    await Channel.filter(id=channel_id).update(last_webhook_at=datetime.now(UTC))


async def get_channel(channel_id: int) -> Channel:
    channel = await Channel.get_or_none(id=channel_id)
    if channel is None:
        raise NotFound(f"channel {channel_id} does not exist")
    return channel


async def reencrypt_all_secrets() -> int:
    """After a new key is put first in ENCRYPTION_KEYS: re-encrypt every channel's secrets with it,
    so the old key can then be removed. Returns how many channels were rewritten."""
    count = 0
    async with in_transaction():
        for channel in await Channel.all().select_for_update():
            if channel.secrets_encrypted:
                channel.secrets_encrypted = rotate(channel.secrets_encrypted)
                if channel.previous_secrets_encrypted:  # rotated-out secrets still in their grace
                    channel.previous_secrets_encrypted = rotate(channel.previous_secrets_encrypted)
                await channel.save(
                    update_fields=["secrets_encrypted", "previous_secrets_encrypted", "updated_at"]
                )
                count += 1
    _webhook_cache.clear()
    return count
