"""Who the visitor is: visitor tokens we sign, and identity tokens a site signs to vouch for one.

A visitor token is a JWT (HS256, the channel's `visitor_token_secret`, audience "pytake-webchat")
naming the channel and a visitor id we chose; whoever holds it is that visitor. An identity token
is the site's word on a signed-in visitor's e-mail (HS256, the channel's `identity_secret`,
audience "pytake-webchat-identity"): only a vouched e-mail is trusted for merging customers.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt
from starlette.requests import Request

from core.storable import storable
from ingress.webchat.errors import WebchatError, bad_input
from ingress.webchat.sites import Site

AUDIENCE = "pytake-webchat"
IDENTITY_AUDIENCE = "pytake-webchat-identity"  # what a site signs to vouch for a visitor
ISSUER = "pytake"
TOKEN_TTL = 30 * 86400

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")


@dataclass(frozen=True)
class Visitor:
    visitor_id: str
    name: str | None
    email: str | None  # as the visitor typed it: shown to agents, never used to merge
    vouched_email: str | None  # the site vouched for it (identity_token)


def _token_secret(site: Site) -> str:
    secret = site.creds.secrets.get("visitor_token_secret") or ""
    if not secret:
        raise WebchatError(503, "CHANNEL_MISCONFIGURED", "the chat is not available right now")
    return secret


def issue_visitor_token(site: Site, visitor: Visitor, now: int | None = None) -> tuple[str, int]:
    now = int(time.time()) if now is None else now
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": visitor.visitor_id,
        "ch": site.channel_id,
        "iat": now,
        "exp": now + TOKEN_TTL,
    }
    for claim, value in (("name", visitor.name), ("email", visitor.email), ("vem", visitor.vouched_email)):
        if value:
            claims[claim] = value
    return jwt.encode(claims, _token_secret(site), algorithm="HS256"), now + TOKEN_TTL


def _visitor_claims(token: str, secret: str) -> dict[str, Any]:
    return jwt.decode(
        token,
        secret,
        algorithms=["HS256"],
        audience=AUDIENCE,
        issuer=ISSUER,
        options={"require": ["exp", "sub", "aud", "iss", "ch"]},
        leeway=5,
    )


def _previous_token_secret(site: Site) -> str | None:
    """The visitor token key rotated out, while its grace lasts (rotateWebhookSecret keeps it
    WEBHOOK_SECRET_GRACE_HOURS; endWebhookSecretGrace ends that at once, e.g. when it leaked)."""
    if site.previous is None:
        return None
    secret = site.previous.secrets.get("visitor_token_secret") or ""
    return secret if secret and secret != site.creds.secrets.get("visitor_token_secret") else None


def decode_visitor(site: Site, token: str) -> Visitor:
    """The visitor a token names: signed with the channel's key, or with the key rotated out while
    its grace lasts, so a rotation does not sign every visitor out (their next /sessions hands them
    a token under the new key)."""
    try:
        try:
            claims = _visitor_claims(token, _token_secret(site))
        except jwt.InvalidSignatureError:
            previous = _previous_token_secret(site)
            if previous is None:
                raise
            claims = _visitor_claims(token, previous)
    except jwt.ExpiredSignatureError:
        raise WebchatError(
            401, "TOKEN_EXPIRED", "the visitor token has expired; start a new session"
        ) from None
    except jwt.PyJWTError:
        raise WebchatError(401, "BAD_TOKEN", "the visitor token is not valid") from None
    if claims.get("ch") != site.channel_id or not isinstance(claims.get("sub"), str):
        raise WebchatError(401, "BAD_TOKEN", "the visitor token is not valid for this chat")
    return Visitor(
        visitor_id=claims["sub"],
        name=claims.get("name"),
        email=claims.get("email"),
        vouched_email=claims.get("vem"),
    )


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def require_visitor(request: Request, site: Site) -> Visitor:
    token = bearer(request)
    if token is None:
        raise WebchatError(401, "MISSING_TOKEN", "send the visitor token as 'Authorization: Bearer <token>'")
    return decode_visitor(site, token)


def new_visitor_id() -> str:
    return "v_" + secrets.token_urlsafe(18)


def vouched_identity(site: Site, identity_token: Any) -> dict[str, str | None] | None:
    """The site's word on who this visitor is: a JWT (HS256) signed with the channel's
    `identity_secret`, audience "pytake-webchat-identity", with `email` and optionally `name`
    and `sub` (the site's user id: the same user on every device is one visitor)."""
    if identity_token is None:
        return None
    secret = site.creds.secrets.get("identity_secret") or ""
    if not secret:
        raise WebchatError(401, "BAD_IDENTITY_TOKEN", "this chat does not accept identity tokens")
    if not isinstance(identity_token, str):
        raise bad_input("identity_token must be a string")
    try:
        claims = jwt.decode(
            identity_token,
            secret,
            algorithms=["HS256"],
            audience=IDENTITY_AUDIENCE,
            options={"require": ["exp", "aud"]},
            leeway=5,
        )
    except jwt.PyJWTError:
        raise WebchatError(401, "BAD_IDENTITY_TOKEN", "the identity token is not valid") from None
    claims = storable(
        claims
    )  # the site's claims become stored names and hashed ids: no NUL, no lone surrogate
    email = claims.get("email")
    if not isinstance(email, str) or not EMAIL_RE.match(email.strip()):
        raise WebchatError(401, "BAD_IDENTITY_TOKEN", "the identity token carries no valid e-mail")
    sub = claims.get("sub")
    name = claims.get("name")
    return {
        "email": email.strip().lower(),
        "name": name.strip()[:100] if isinstance(name, str) and name.strip() else None,
        "visitor_id": f"site_{hashlib.sha256(str(sub).encode()).hexdigest()[:32]}" if sub else None,
    }
