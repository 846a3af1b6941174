"""Passwords, access tokens and refresh tokens (the mechanics; the rules are in resolvers/auth.py)."""

from __future__ import annotations

import enum
import hashlib
import secrets
import time
from dataclasses import dataclass

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.settings import get_settings

ISSUER = "pytake"
AUDIENCE = "pytake-api"
_hasher = PasswordHasher()
# A valid hash of a random password: verifying against it costs the same as a real user's, so
# "unknown e-mail" and "wrong password" take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


class Role(enum.StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"


@dataclass(frozen=True)
class Actor:
    """Who is asking: built from a verified access token, or from an API key. A key acts for the
    admin who created it (user_id, with that user's current role) and only within its scopes."""

    user_id: int
    role: Role
    api_key_id: int | None = None
    scopes: frozenset[str] = frozenset()
    # From the token: a long subscription ends when it expires; a token issued before the user's
    # `tokens_valid_after` is refused (resolvers/visibility.py).
    issued_at: float | None = None
    expires_at: int | None = None

    @property
    def is_api_key(self) -> bool:
        return self.api_key_id is not None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_supervisor(self) -> bool:
        return self.role in (Role.ADMIN, Role.SUPERVISOR)


class InvalidToken(Exception):
    pass


def issue_access_token(user_id: int, role: Role) -> tuple[str, int]:
    settings = get_settings()
    exact = time.time()
    now = int(exact)
    ttl = settings.access_token_ttl
    claims = {
        "iat_ms": int(exact * 1000),  # revocation compares instants finer than `iat`'s seconds
        "sub": str(user_id),  # PyJWT requires a string subject
        "role": role.value,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + ttl,
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256"), ttl


def decode_access_token(token: str) -> Actor:
    try:
        claims = jwt.decode(
            token,
            get_settings().jwt_secret,
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "sub", "aud", "iss"]},
            leeway=5,
        )
        return Actor(
            user_id=int(claims["sub"]),
            role=Role(claims["role"]),
            issued_at=claims.get("iat_ms", claims.get("iat", 0) * 1000) / 1000,
            expires_at=int(claims["exp"]),
        )
    except (jwt.PyJWTError, KeyError, ValueError) as exc:
        raise InvalidToken(str(exc)) from exc


def new_refresh_token() -> tuple[str, str]:
    """(token for the client, sha256 hex for the database)."""
    token = secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


API_KEY_PREFIX = "pk_"


def new_api_key() -> tuple[str, str]:
    """(key for the integrator, sha256 hex for the database). 32 random bytes: far too many to
    guess, so one fast unsalted hash is enough (a slow password hash only helps low-entropy
    secrets), and it lets a request find its key by an indexed equality look-up."""
    token = API_KEY_PREFIX + secrets.token_urlsafe(32)
    return token, hash_api_key(token)


def hash_api_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def is_api_key(token: str) -> bool:
    return token.startswith(API_KEY_PREFIX)


def bearer_token(header_value: str | None) -> str | None:
    if not header_value:
        return None
    scheme, _, value = header_value.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None
