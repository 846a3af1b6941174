"""How each platform signs the webhooks it sends, for fakes, the contract tests and bench/.

One function per scheme, written from the platforms' documentation (platform-samples/REFERENCE.md),
the mirror image of each connector's `verify`. Discord signs with the app's Ed25519 private key:
`discord_key(seed)` derives a key pair the way signature_vectors.json does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from connectors.base import Platform


@dataclass
class Signed:
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)


def _hex(secret: str, message: bytes, digest=hashlib.sha256) -> str:  # type: ignore[no-untyped-def]
    return hmac.new(secret.encode(), message, digest).hexdigest()


def _b64(secret: str, message: bytes, digest=hashlib.sha256) -> str:  # type: ignore[no-untyped-def]
    return base64.b64encode(hmac.new(secret.encode(), message, digest).digest()).decode()


def discord_key(seed: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(seed).digest())


def discord_public_key(seed: bytes) -> str:
    return discord_key(seed).public_key().public_bytes_raw().hex()


def meta(body: bytes, secret: str, now: float, url: str) -> Signed:
    return Signed(
        body, {"x-hub-signature-256": "sha256=" + _hex(secret, body), "content-type": "application/json"}
    )


def slack(body: bytes, secret: str, now: float, url: str) -> Signed:
    ts = str(int(now))
    signature = "v0=" + _hex(secret, f"v0:{ts}:".encode() + body)
    return Signed(
        body,
        {"x-slack-request-timestamp": ts, "x-slack-signature": signature, "content-type": "application/json"},
    )


def telegram(body: bytes, secret: str, now: float, url: str) -> Signed:
    return Signed(body, {"x-telegram-bot-api-secret-token": secret, "content-type": "application/json"})


def line(body: bytes, secret: str, now: float, url: str) -> Signed:
    return Signed(body, {"x-line-signature": _b64(secret, body), "content-type": "application/json"})


def viber(body: bytes, secret: str, now: float, url: str) -> Signed:
    return Signed(body, {"x-viber-content-signature": _hex(secret, body), "content-type": "application/json"})


def twilio(body: bytes, secret: str, now: float, url: str) -> Signed:
    """The full URL as the platform called it, then every POST parameter sorted by name."""
    params = sorted(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
    payload = url + "".join(k + v for k, v in params)
    return Signed(
        body,
        {
            "x-twilio-signature": _b64(secret, payload.encode(), hashlib.sha1),
            "content-type": "application/x-www-form-urlencoded",
        },
    )


def discord(body: bytes, secret: str, now: float, url: str) -> Signed:
    """`secret` is the seed the app's key pair derives from (see `discord_key`)."""
    ts = str(int(now))
    signature = discord_key(secret.encode()).sign(ts.encode() + body).hex()
    return Signed(
        body,
        {"x-signature-ed25519": signature, "x-signature-timestamp": ts, "content-type": "application/json"},
    )


def mailgun(body: bytes, secret: str, now: float, url: str) -> Signed:
    """Mailgun signs `timestamp + token`: form fields of a route (given here as a JSON object of
    the fields), or the `signature` object of an event webhook's JSON."""
    ts = str(int(now))
    token = hashlib.sha256(body + ts.encode()).hexdigest()[:50]
    signature = {"timestamp": ts, "token": token, "signature": _hex(secret, (ts + token).encode())}
    data = json.loads(body)
    if "event-data" in data:
        return Signed(
            json.dumps({**data, "signature": signature}).encode(), {"content-type": "application/json"}
        )
    fields = {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
    return Signed(
        urllib.parse.urlencode({**fields, **signature}).encode(),
        {"content-type": "application/x-www-form-urlencoded"},
    )


def wechat(body: bytes, secret: str, now: float, url: str) -> Signed:
    ts, nonce = str(int(now)), hashlib.sha256(body).hexdigest()[:10]
    signature = hashlib.sha1("".join(sorted([secret, ts, nonce])).encode()).hexdigest()
    return Signed(
        body, {"content-type": "text/xml"}, {"signature": signature, "timestamp": ts, "nonce": nonce}
    )


SIGNERS: dict[Platform, Callable[[bytes, str, float, str], Signed]] = {
    Platform.WHATSAPP: meta,
    Platform.MESSENGER: meta,
    Platform.INSTAGRAM: meta,
    Platform.TELEGRAM: telegram,
    Platform.SLACK: slack,
    Platform.LINE: line,
    Platform.VIBER: viber,
    Platform.SMS: twilio,
    Platform.EMAIL: mailgun,
    Platform.DISCORD: discord,
    Platform.WECHAT: wechat,
}


def sign_webhook(platform: Platform, body: bytes, secret: str, now: float, url: str) -> Signed:
    return SIGNERS[platform](body, secret, now, url)
