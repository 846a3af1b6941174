"""Platform secrets at rest: Fernet (AES-128-CBC + HMAC) from `cryptography`, with key rotation.

ENCRYPTION_KEYS is a comma-separated list; the first key encrypts, every key decrypts, so a new
key can be put first and old rows re-encrypted at leisure (`rotate`).
"""

from __future__ import annotations

import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from core.settings import get_settings


class SecretsUnreadable(Exception):
    """Stored secrets cannot be decrypted with any configured key."""


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in keys])


def _current() -> MultiFernet:
    return _fernet(get_settings().encryption_keys)


def encrypt_secrets(values: dict[str, str]) -> str:
    return _current().encrypt(json.dumps(values, sort_keys=True).encode()).decode()


def decrypt_secrets(token: str) -> dict[str, str]:
    if not token:
        return {}
    try:
        return json.loads(_current().decrypt(token.encode()))
    except InvalidToken as exc:
        raise SecretsUnreadable("channel secrets cannot be decrypted with the configured keys") from exc


def rotate(token: str) -> str:
    return _current().rotate(token.encode()).decode()
