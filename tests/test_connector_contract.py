"""The contract every connector keeps, checked the same way for all twelve.

- the interface is complete (capabilities, secrets, limits, config problems in plain sentences);
- every signature vector in platform-samples/signature_vectors.json gives its stated answer;
- every webhook sample, signed as the platform signs, is accepted and parses into what its name
  says (inbound_* → messages, status_* → statuses); one flipped byte, a wrong secret or (where the
  platform has a replay window) an old timestamp is refused.

Per-platform tests (test_<platform>_connector.py) check the parsed fields one by one; this file
makes sure no platform skips a rule.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from connectors.base import Capabilities, ChannelCredentials, ParsedWebhook, Platform, WebhookRequest
from connectors.fakes.signing import SIGNERS, Signed, discord_public_key
from connectors.registry import get_connector
from tests.conftest import SAMPLES

VECTORS = json.loads((SAMPLES / "signature_vectors.json").read_text())
# WeChat is not in the shared samples: its bodies are ours, written from its documentation.
WECHAT_FIXTURES = Path(__file__).parent / "fixtures" / "wechat"
URL = "https://support.example.com/webhooks/{platform}/7"
SECRET = "contract-secret"
DISCORD_PUBLIC = discord_public_key(SECRET.encode())  # Discord verifies with the public half


def _sample_phone_number_id() -> str:
    """WhatsApp skips changes for other numbers of the same app: use the samples' number."""
    data = json.loads((SAMPLES / "whatsapp" / "inbound_text.json").read_text())
    return data["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"]


@dataclass(frozen=True)
class Platformspec:
    """How the contract signs for a platform and which of the channel's settings hold the key."""

    credentials: Callable[[str], tuple[dict[str, Any], dict[str, str]]]
    replay_window: bool = False
    sample_dir: str | None = None


SPECS: dict[Platform, Platformspec] = {
    Platform.WHATSAPP: Platformspec(
        lambda s: ({"phone_number_id": _sample_phone_number_id()}, {"app_secret": s}),
        sample_dir="whatsapp",
    ),
    Platform.MESSENGER: Platformspec(lambda s: ({}, {"app_secret": s}), sample_dir="messenger"),
    Platform.INSTAGRAM: Platformspec(lambda s: ({}, {"app_secret": s}), sample_dir="instagram"),
    Platform.TELEGRAM: Platformspec(lambda s: ({}, {"secret_token": s}), sample_dir="telegram"),
    Platform.SLACK: Platformspec(lambda s: ({}, {"signing_secret": s}), True, "slack"),
    Platform.LINE: Platformspec(lambda s: ({}, {"channel_secret": s}), sample_dir="line"),
    Platform.VIBER: Platformspec(lambda s: ({}, {"auth_token": s}), sample_dir="viber"),
    Platform.SMS: Platformspec(lambda s: ({}, {"auth_token": s}), sample_dir="sms"),
    Platform.EMAIL: Platformspec(
        lambda s: ({"provider": "mailgun"}, {"mailgun_signing_key": s}), True, "email"
    ),
    Platform.DISCORD: Platformspec(lambda s: ({"public_key": s}, {}), True, "discord"),
    Platform.WECHAT: Platformspec(lambda s: ({}, {"token": s}), True, str(WECHAT_FIXTURES)),
    Platform.WEBCHAT: Platformspec(lambda s: ({}, {"visitor_token_secret": s})),
}


def _channel(platform: Platform, secret: str) -> ChannelCredentials:
    config, secrets = SPECS[platform].credentials(secret)
    return ChannelCredentials(channel_id=7, config=config, secrets=secrets)


def _sign(platform: Platform, body: bytes, secret: str, now: float) -> WebhookRequest:
    """Signed as the platform signs it (connectors/fakes/signing.py), as our endpoint sees it."""
    signed = SIGNERS[platform](body, secret, now, URL.format(platform=platform.value))
    return _request(signed, platform)


def _request(signed: Signed, platform: Platform) -> WebhookRequest:
    query = signed.query
    url = URL.format(platform=platform.value)
    if query:
        url += "?" + urllib.parse.urlencode(query)
    return WebhookRequest(method="POST", url=url, headers=signed.headers, query=query, body=signed.body)


# ---- the interface ------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", list(Platform), ids=str)
def test_connector_implements_the_interface(platform: Platform) -> None:
    connector = get_connector(platform)
    assert connector.platform is platform
    assert isinstance(connector.capabilities, Capabilities)
    assert connector.max_text_length > 0
    assert set(connector.generated_secrets) <= set(connector.secret_names)
    if connector.capabilities.can_initiate:
        assert connector.capabilities.address_kind in {"phone", "email"}
    problems = connector.validate_config({}, {})
    assert problems and all(isinstance(p, str) and p.endswith((".", ")")) for p in problems), problems
    for method in ("handshake", "verify", "parse", "send"):
        assert callable(getattr(connector, method)), method


# ---- the platforms' own signature vectors ------------------------------------------------------


def _vector_platform(vector: dict[str, Any]) -> Platform:
    return Platform("email" if vector["platform"].startswith("email") else vector["platform"])


def _vector_now(vector: dict[str, Any]) -> float:
    """The vectors carry fixed timestamps: verify as of then (the replay tests below use now)."""
    headers = {k.lower(): v for k, v in vector["headers"].items()}
    for key in ("x-slack-request-timestamp", "x-signature-timestamp"):
        if key in headers:
            return float(headers[key])
    if "signature_fields" in vector:
        return float(vector["signature_fields"]["timestamp"])
    return time.time()


def _vector_request(vector: dict[str, Any]) -> tuple[WebhookRequest, ChannelCredentials]:
    platform = _vector_platform(vector)
    body = (SAMPLES / vector["body_file"]).read_bytes()
    headers = {k.lower(): v for k, v in vector["headers"].items()}
    if "signature_fields" in vector:
        data = json.loads(body)
        if "event-data" in data:
            body = json.dumps({**data, "signature": vector["signature_fields"]}).encode()
            headers["content-type"] = "application/json"
        else:
            fields = {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
            body = urllib.parse.urlencode({**fields, **vector["signature_fields"]}).encode()
            headers["content-type"] = "application/x-www-form-urlencoded"
    secret = vector.get("public_key_hex") or vector["secret"]
    url = vector.get("url", URL.format(platform=platform.value))
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    request = WebhookRequest(method="POST", url=url, headers=headers, query=query, body=body)
    return request, _channel(platform, secret)


@pytest.mark.parametrize(
    "vector",
    VECTORS,
    ids=[f"{v['platform']}-{Path(v['body_file']).stem}-{v['valid']}-{i}" for i, v in enumerate(VECTORS)],
)
def test_signature_vectors(vector: dict[str, Any]) -> None:
    request, channel = _vector_request(vector)
    connector = get_connector(_vector_platform(vector))
    assert connector.verify(request, channel, now=_vector_now(vector)) is vector["valid"]


# ---- every sample, signed the platform's way ----------------------------------------------------

# Files that are not webhook bodies (what we send, what platforms answer) or exist for the vectors.
_NOT_WEBHOOKS = (
    "send_",
    "set_webhook",
    "interaction_response",
    "_tampered",
    "_official",
    "ack_",
    "reply_twiml",
)
# Webhook bodies that must store nothing: our own echoes, setup pings, follow events, ...
EXPECT_NOTHING = {
    "messenger/inbound_echo.json",
    "instagram/inbound_echo.json",
    "line/verify_empty_events.json",
    "line/follow.json",
    "viber/webhook_setup_callback.json",
    "viber/subscribed.json",
    "viber/unsubscribed.json",
    "viber/conversation_started.json",
    "discord/interaction_ping.json",
    "slack/url_verification.json",
    f"{WECHAT_FIXTURES}/event_subscribe.xml",
    f"{WECHAT_FIXTURES}/event_unsubscribe.xml",
}
_GATEWAY_ONLY = "discord/gateway_"  # Discord messages come over the gateway, not signed HTTP


def _samples() -> list[tuple[Platform, str]]:
    out = []
    for platform, spec in SPECS.items():
        if spec.sample_dir is None:
            continue
        for path in sorted((SAMPLES / spec.sample_dir).iterdir()):
            if path.suffix not in (".json", ".form", ".eml", ".xml"):
                continue  # a folder's README
            name = f"{spec.sample_dir}/{path.name}"
            if path.name.startswith(_NOT_WEBHOOKS) or name.startswith(_GATEWAY_ONLY):
                continue
            if path.suffix == ".json" and platform is Platform.SMS:
                continue  # the .form twin is the real body; the .json is its readable copy
            if (
                path.suffix == ".eml"
                or name.endswith("sendgrid_inbound_parse.json")
                or "sendgrid_event" in name
            ):
                continue  # IMAP / SendGrid paths: covered in test_email_connector.py
            out.append((platform, name))
    return out


def _sign_sample(platform: Platform, name: str, secret: str, now: float) -> WebhookRequest:
    return _sign(platform, (SAMPLES / name).read_bytes(), secret, now)


def _secret_for(platform: Platform) -> str:
    return DISCORD_PUBLIC if platform is Platform.DISCORD else SECRET


@pytest.mark.parametrize("platform,name", _samples(), ids=[n for _, n in _samples()])
def test_every_sample_is_accepted_and_parsed(platform: Platform, name: str) -> None:
    connector = get_connector(platform)
    now = time.time()
    request = _sign_sample(platform, name, SECRET, now)
    channel = _channel(platform, _secret_for(platform))
    assert connector.verify(request, channel, now=now)
    parsed = connector.parse(request, channel)
    assert isinstance(parsed, ParsedWebhook)
    stem = Path(name).name
    if name in EXPECT_NOTHING:
        assert not parsed.messages and not parsed.statuses and not parsed.edits, parsed
    elif "unsend" in stem:  # named inbound_ by Meta, but it takes a message back
        assert parsed.edits and parsed.edits[0].deleted, f"{name} should carry an unsend"
    elif (
        stem.startswith("inbound_")
        or stem.startswith("gateway_message_create")
        or platform is Platform.WECHAT
    ):
        assert parsed.messages, f"{name} should carry a message"
        for message in parsed.messages:
            assert message.platform_message_id and message.sender_id
    elif stem.startswith("status_") or "_status_" in stem:
        assert parsed.statuses, f"{name} should carry a status"
    else:  # edits, reactions, postbacks, commands: something, never a crash
        assert parsed.messages or parsed.statuses or parsed.edits or parsed.reply is not None, name


@pytest.mark.parametrize("platform,name", _samples(), ids=[n for _, n in _samples()])
def test_tampered_or_wrongly_signed_samples_are_refused(platform: Platform, name: str) -> None:
    connector = get_connector(platform)
    now = time.time()
    channel = _channel(platform, _secret_for(platform))
    good = _sign_sample(platform, name, SECRET, now)
    flipped = bytearray(good.body)
    index = len(flipped) // 2
    flipped[index] = ord("A") if flipped[index] != ord("A") else ord("B")
    tampered = WebhookRequest(good.method, good.url, good.headers, good.query, bytes(flipped))
    # Telegram's token is a shared header, WeChat's plaintext mode signs token+timestamp+nonce and
    # Mailgun signs timestamp+token: none covers the body, by the platforms' design.
    if platform not in (Platform.TELEGRAM, Platform.WECHAT, Platform.EMAIL):
        assert not connector.verify(tampered, channel, now=now)
    other_key = DISCORD_PUBLIC if platform is not Platform.DISCORD else "00" * 32
    wrong = _sign_sample(platform, name, "not-the-secret", now) if platform is not Platform.DISCORD else good
    assert not connector.verify(
        wrong, _channel(platform, other_key if platform is Platform.DISCORD else SECRET), now=now
    )
    bare = WebhookRequest(good.method, URL.format(platform=platform.value), {}, {}, good.body)
    assert not connector.verify(bare, channel, now=now)


@pytest.mark.parametrize("platform", [p for p, s in SPECS.items() if s.replay_window], ids=str)
def test_replayed_requests_are_refused(platform: Platform) -> None:
    """Platforms that sign a timestamp: a request signed 10 minutes ago is refused now."""
    connector = get_connector(platform)
    name = next((n for p, n in _samples() if p is platform), None)
    body_name = name or "whatsapp/inbound_text.json"
    now = time.time()
    channel = _channel(platform, _secret_for(platform))
    old = _sign(platform, (SAMPLES / body_name).read_bytes(), SECRET, now - 600)
    fresh = _sign(platform, (SAMPLES / body_name).read_bytes(), SECRET, now)
    assert connector.verify(fresh, channel, now=now)
    assert not connector.verify(old, channel, now=now)


def test_webchat_refuses_the_generic_webhook_route() -> None:
    """Visitors post through /webchat with their own tokens, never through /webhooks."""
    connector = get_connector(Platform.WEBCHAT)
    request = WebhookRequest("POST", URL.format(platform="webchat"), {}, {}, b"{}")
    assert connector.handshake(request, _channel(Platform.WEBCHAT, SECRET)) is None
    assert not connector.verify(request, _channel(Platform.WEBCHAT, SECRET), now=time.time())
