"""Property: arbitrary Unicode (NUL and surrogates included) in the text fields of one sample per
platform, signed as the platform signs and posted through the real app, never gets a 5xx and is
stored as sent, modulo core/storable.py's documented replacement (NUL removed, lone surrogate →
U+FFFD) and the connectors' trimming of surrounding whitespace.

What each wire format can carry bounds the alphabet: JSON carries everything (lone surrogates as
`\\ud800` escapes); a form body is UTF-8, which cannot hold a lone surrogate; WeChat's XML holds
neither NUL nor most control characters. Slack's text leaves out `&<>`, which Slack itself escapes
and the connector unescapes and renders (mentions, links).

Hypothesis runs in a thread (its API is synchronous) while the app serves on the test's loop;
database checks go back to that loop. Examples are few and small: this is a net, not a fuzzer.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.base import Platform
from connectors.fakes.signing import sign_webhook
from core.storable import storable_text
from models import CustomerIdentity, Message
from tests.conftest import SAMPLES
from tests.helpers import make_channel
from tests.test_connector_contract import SECRET, SPECS, WECHAT_FIXTURES

_ids = itertools.count(int(time.time()) % 10**6 * 1000)
_HOSTILE = st.sampled_from(["\x00", "\ud800", "\udfff", "\ud83d", "\ude00", " ", "\n"])
ANY_TEXT = st.characters(exclude_categories=())  # every code point, surrogates included
NO_SURROGATES = st.characters(exclude_categories=("Cs",))
XML_TEXT = st.characters(exclude_categories=("Cs", "Cc", "Cn"), exclude_characters="]")


def _texts(chars: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    # Where the wire carries everything, NUL and surrogates come often, not once in a thousand.
    mixed = st.one_of(_HOSTILE, chars) if chars is ANY_TEXT else chars
    return st.text(mixed, min_size=1, max_size=30)


@dataclass(frozen=True)
class Case:
    sample: str
    fill: Callable[[Any, str, str, int], bytes]  # (sample, text, name, unique) → body
    chars: st.SearchStrategy[str] = ANY_TEXT
    names: bool = True  # the sample carries the sender's name


def _json(data: Any) -> bytes:
    return json.dumps(data).encode()  # ASCII: lone surrogates travel as escapes


def _whatsapp(data: Any, text: str, name: str, uid: int) -> bytes:
    value = data["entry"][0]["changes"][0]["value"]
    value["messages"][0].update(id=f"wamid.prop{uid}", text={"body": text})
    value["contacts"][0]["profile"]["name"] = name
    return _json(data)


def _meta(data: Any, text: str, name: str, uid: int) -> bytes:
    data["entry"][0]["messaging"][0]["message"].update(mid=f"m_prop{uid}", text=text)
    return _json(data)


def _telegram(data: Any, text: str, name: str, uid: int) -> bytes:
    data["update_id"] = uid
    data["message"].update(message_id=uid, text=text)
    data["message"]["from"].update(first_name=name, last_name="")
    return _json(data)


def _line(data: Any, text: str, name: str, uid: int) -> bytes:
    event = data["events"][0]
    event["webhookEventId"] = f"prop{uid}"
    event["message"].update(id=str(uid), text=text)
    return _json(data)


def _viber(data: Any, text: str, name: str, uid: int) -> bytes:
    data.update(message_token=uid)
    data["message"]["text"] = text
    data["sender"]["name"] = name
    return _json(data)


def _slack(data: Any, text: str, name: str, uid: int) -> bytes:
    event = data["event"]
    event.pop("blocks", None)  # the text is read from `text` alone
    event.update(text=text, ts=f"{uid}.000100", client_msg_id=f"prop-{uid}")
    data["event_id"] = f"EvProp{uid}"
    return _json(data)


def _sms(data: Any, text: str, name: str, uid: int) -> bytes:
    sid = f"SM{uid:032d}"
    fields = dict(data) | {"Body": text, "MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid}
    return urllib.parse.urlencode(fields).encode()


def _email(data: Any, text: str, name: str, uid: int) -> bytes:
    fields = {
        k: v for k, v in data.items() if k not in ("timestamp", "token", "signature", "message-headers")
    }
    fields.update({"Message-Id": f"<prop{uid}@customer.example>", "body-plain": text, "stripped-text": text})
    return _json(fields)  # the Mailgun signer posts these fields as a signed form


def _wechat(data: Any, text: str, name: str, uid: int) -> bytes:
    return (
        data.replace("你好, is the blue one in stock?", text).replace("24594010285737985", str(uid)).encode()
    )


CASES: dict[Platform, Case] = {
    Platform.WHATSAPP: Case("whatsapp/inbound_text.json", _whatsapp),
    Platform.MESSENGER: Case("messenger/inbound_text.json", _meta, names=False),
    Platform.INSTAGRAM: Case("instagram/inbound_text.json", _meta, names=False),
    Platform.TELEGRAM: Case("telegram/inbound_text.json", _telegram),
    Platform.LINE: Case("line/inbound_text.json", _line, names=False),
    Platform.VIBER: Case("viber/inbound_text.json", _viber),
    Platform.SLACK: Case(
        "slack/inbound_text.json",
        _slack,
        st.characters(exclude_categories=(), exclude_characters="&<>"),
        names=False,
    ),
    Platform.SMS: Case("sms/inbound_text.form", _sms, NO_SURROGATES, names=False),
    Platform.EMAIL: Case("email/mailgun_route_inbound.json", _email, NO_SURROGATES, names=False),
    Platform.WECHAT: Case(f"{WECHAT_FIXTURES}/text.xml", _wechat, XML_TEXT, names=False),
}


def _load(case: Case) -> Any:
    path = SAMPLES / case.sample
    if path.suffix == ".form":
        return dict(urllib.parse.parse_qsl(path.read_text().strip(), keep_blank_values=True))
    if path.suffix == ".xml":
        return path.read_text()
    return json.loads(path.read_text())


def _shown(value: str) -> str:
    """What the message should read: the documented replacement, surrounding whitespace trimmed."""
    return storable_text(value).strip()


@pytest.mark.parametrize("platform", list(CASES), ids=str)
async def test_any_text_is_stored_as_sent(server: str, platform: Platform) -> None:
    case = CASES[platform]
    config, secrets = SPECS[platform].credentials(SECRET)
    channel = await make_channel(platform.value, config, secrets)
    url = f"{server}/webhooks/{platform.value}/{channel.id}"
    loop = asyncio.get_running_loop()

    def on_loop(query: Awaitable[Any]) -> Any:
        async def run() -> Any:  # ORM queries are awaitables, not coroutines
            return await query

        return asyncio.run_coroutine_threadsafe(run(), loop).result(30)

    @settings(
        max_examples=12,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(text=_texts(case.chars), name=_texts(case.chars))
    def stored_as_sent(text: str, name: str) -> None:
        if not _shown(text):
            return  # nothing to show: connectors may store such a message differently, or not at all
        body = case.fill(_load(case), text, name, next(_ids))
        signed = sign_webhook(platform, body, SECRET, time.time(), url)
        target = url + ("?" + urllib.parse.urlencode(signed.query) if signed.query else "")
        response = httpx.post(target, content=signed.body, headers=signed.headers, timeout=20)
        assert response.status_code < 500, response.text
        assert response.status_code == 200, response.text
        stored = on_loop(Message.filter(channel_id=channel.id).order_by("-id").first())
        assert stored is not None and (stored.text or "").strip() == _shown(text)
        if case.names and _shown(name):
            identity = on_loop(CustomerIdentity.get(id=stored.identity_id))
            assert _shown(name) in (identity.display_name or "")

    await asyncio.to_thread(stored_as_sent)
