"""Platform secrets at rest: encrypted, and re-encryptable under a new key so the old one can go."""

from __future__ import annotations

from dataclasses import replace

import pytest
from cryptography.fernet import Fernet

from core import crypto
from core.settings import get_settings
from models import Channel
from resolvers.channels import reencrypt_all_secrets


def _use_keys(monkeypatch: pytest.MonkeyPatch, *keys: bytes) -> None:
    settings = replace(get_settings(), encryption_keys=tuple(k.decode() for k in keys))
    monkeypatch.setattr(crypto, "get_settings", lambda: settings)


async def test_key_rotation_reencrypts_every_channel(server, monkeypatch):
    # The suite's other channels are under the configured key: keep it in every list, and put
    # everything back under it at the end, so the shared server still reads them.
    configured = get_settings().encryption_keys[0].encode()
    old, new = Fernet.generate_key(), Fernet.generate_key()
    _use_keys(monkeypatch, old, configured)
    channel = await Channel.create(
        platform="whatsapp",
        name="rotating",
        config={"phone_number_id": "1"},
        secrets_encrypted=crypto.encrypt_secrets(
            {"app_secret": "s3cret", "access_token": "t", "verify_token": "v"}
        ),
    )
    assert "s3cret" not in channel.secrets_encrypted
    _use_keys(monkeypatch, new, old, configured)  # the new key first; the old ones still decrypt
    assert await reencrypt_all_secrets() >= 1
    _use_keys(monkeypatch, new, configured)  # the old key removed
    await channel.refresh_from_db()
    assert crypto.decrypt_secrets(channel.secrets_encrypted)["app_secret"] == "s3cret"
    _use_keys(monkeypatch, old)
    with pytest.raises(crypto.SecretsUnreadable):
        crypto.decrypt_secrets(channel.secrets_encrypted)
    _use_keys(monkeypatch, configured, new)
    await reencrypt_all_secrets()
