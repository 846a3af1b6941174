"""Platform secrets at rest: Fernet (AES-128-CBC + HMAC) from `cryptography`, with key rotation.

ENCRYPTION_KEYS is a comma-separated list; the first key encrypts, every key decrypts, so a new
key can be put first and old rows re-encrypted at leisure (`rotate`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from functools import lru_cache
from typing import Any

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


# Message bodies at rest (ENCRYPT_MESSAGE_BODIES=1; README "Personal data", "Encryption at rest").
#
# A sealed body is stored in `messages.text` as SEALED + a Fernet token under the first key. The
# database still indexes the words: a writer hands PostgreSQL the *write form*, SEALED + token +
# CUT + plaintext, and the messages trigger (migration 28) computes `search_tsv` from the part after
# CUT and keeps only the part before it, so the plaintext is never stored. Readers call `open_body`
# (rows through resolvers/shapes.message_view, events through core/events.load_payload): the one
# place a body is decrypted. A plaintext that happens to begin with SEALED is sealed even when the
# setting is off, so a stored body that begins with it is always ours.

SEALED = "pytake:sealed:"
CUT = "\x1f"  # never in a Fernet token (URL-safe base64)
_BODY_KEYS = ("message", "last_message")  # where events carry a message's shape

log = logging.getLogger(__name__)


def sealing_bodies() -> bool:
    return get_settings().encrypt_message_bodies


def _seals(plain: str) -> bool:
    return sealing_bodies() or plain.startswith(SEALED)


def seal_body(plain: str | None) -> str | None:
    """The stored form of a body: sealed when sealing is on (or it begins with SEALED), else as it
    is. A value that already is a stored sealed body is left alone."""
    if plain is None or not _seals(plain) or _is_token(plain):
        return plain
    return SEALED + _current().encrypt(plain.encode()).decode()


def body_for_write(plain: str | None) -> str | None:
    """What a writer puts in `messages.text` (INSERT or UPDATE): the plaintext when sealing is off,
    else the write form that the database's trigger splits into the stored token and the words it
    indexes (see above)."""
    if plain is None or not _seals(plain):
        return plain
    return SEALED + _current().encrypt(plain.encode()).decode() + CUT + plain


def open_body(stored: str | None) -> str | None:
    """The plaintext of a stored body (sealed or not). A sealed body no configured key opens (its
    key was dropped from ENCRYPTION_KEYS too early) reads as None, logged, rather than failing the
    whole page it is on."""
    if stored is None or not stored.startswith(SEALED):
        return stored
    try:
        return _current().decrypt(stored[len(SEALED) :].encode()).decode()
    except InvalidToken:
        log.error("a sealed message body cannot be decrypted with the configured ENCRYPTION_KEYS")
        return None


def _is_token(value: str) -> bool:
    """`value` is a stored sealed body (SEALED + a token, no write-form tail)."""
    return value.startswith(SEALED) and CUT not in value and _decryptable(value)


def _decryptable(value: str) -> bool:
    try:
        _current().decrypt(value[len(SEALED) :].encode())
    except InvalidToken:
        return False
    return True


def map_bodies(message: dict[str, Any], fn: Callable[[str | None], str | None]) -> dict[str, Any]:
    """A message's shape with `fn` applied to its body and to the earlier bodies of an edited one
    (`metadata.edits[].text`); the same dict when nothing changes."""
    out = message
    text = message.get("text")
    if isinstance(text, str) and (new := fn(text)) is not text:
        out = {**message, "text": new}
    metadata = message.get("metadata")
    edits = metadata.get("edits") if isinstance(metadata, dict) else None
    if isinstance(edits, list):
        mapped = [
            {**e, "text": fn(e["text"])} if isinstance(e, dict) and isinstance(e.get("text"), str) else e
            for e in edits
        ]
        if any(m is not e and m["text"] is not e["text"] for m, e in zip(mapped, edits, strict=True)):
            out = {**out, "metadata": {**metadata, "edits": mapped}}
    return out


def seal_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """An event payload with its message bodies sealed (when sealing is on, and a body that looks
    sealed always, as in the table), so the event log holds no more plaintext than the table does."""
    out = dict(payload)
    for key in _BODY_KEYS:
        if isinstance(out.get(key), dict):
            out[key] = map_bodies(out[key], seal_body)
    return out


def open_payload(payload: Any) -> Any:
    """An event payload with its message bodies opened (a no-op on one that holds none sealed)."""
    if isinstance(payload, dict):
        for key in _BODY_KEYS:
            if isinstance(payload.get(key), dict):
                payload[key] = map_bodies(payload[key], open_body)
    return payload


def primary_key_opens(stored: str) -> bool:
    """Was this sealed body sealed with the first (newest) key? Rotation skips those."""
    try:
        Fernet(get_settings().encryption_keys[0].encode()).decrypt(stored[len(SEALED) :].encode())
    except InvalidToken:
        return False
    return True


def resealing_possible() -> bool:
    """Can any stored body need rewriting? Not with one key and sealing off: every sealed body is
    under that key (or no key opens it) and plaintext ones stay as they are."""
    return sealing_bodies() or len(get_settings().encryption_keys) > 1


def primary_key_fingerprint() -> str:
    """Names the newest key without revealing it (rotation remembers which key it finished with)."""
    return hashlib.sha256(get_settings().encryption_keys[0].encode()).hexdigest()[:16]


def reseal_body(stored: str) -> str | None:
    """A stored body rewritten for the newest key: a sealed one re-encrypted, a plain one sealed
    when sealing is on; None when nothing needs to change."""
    if stored.startswith(SEALED):
        if primary_key_opens(stored):
            return None
        try:
            return SEALED + _current().rotate(stored[len(SEALED) :].encode()).decode()
        except InvalidToken:
            log.error("a sealed message body cannot be decrypted with the configured ENCRYPTION_KEYS")
            return None
    if sealing_bodies():
        return SEALED + _current().encrypt(stored.encode()).decode()
    return None
