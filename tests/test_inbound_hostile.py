"""Hostile inbound input, through the real app: every class answers what it should (status, code)
and stores what it should (the message, or nothing).

- NUL and lone surrogates in any text (body, names, JSON metadata), invalid UTF-8 in a signed JSON
  body: the message is stored, by core/storable.py's rule (NUL removed, lone surrogate → U+FFFD,
  an escaped surrogate pair joined into its character);
- values too long for their column (a 1 MB name, a 1,000-character message id, a search vector
  over PostgreSQL's 1 MB): stored, cut or digested as resolvers/inbound_fit.py documents;
- JSON nested past orjson's 1024 levels: 400, nothing stored;
- a multipart e-mail post cut before its closing boundary (Mailgun and SendGrid): 400, nothing
  stored, and the complete post that follows is stored once;
- a Mailgun token or a WeChat nonce captured from one request and put on another body: 401,
  nothing stored; the same body again (the platform's retry) is answered 200 and deduplicated;
- the web chat's visitor posts and sessions carry the same characters without a 5xx.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.parse
import uuid
from typing import Any

import httpx
import pytest

from connectors.base import Platform
from connectors.fakes.signing import sign_webhook
from connectors.fakes.whatsapp import inbound_text_payload
from core.storable import storable_text
from models import CustomerIdentity, Message
from resolvers.inbound_fit import MESSAGE_ID_MAX, NAME_MAX, TEXT_MAX, fit_id
from tests.fakes.email import mailgun_signature, make_mail, multipart_form, route_fields_from_mail
from tests.helpers import make_channel, post_webhook
from tests.test_webchat import bearer, make_webchat
from tests.test_webchat import client as webchat_client


def _wa_body(channel: Any, **kw: Any) -> dict[str, Any]:
    kw.setdefault("wa_id", f"55{uuid.uuid4().int % 10**11:011d}")
    kw.setdefault("name", "Customer")
    kw.setdefault("text", "hello")
    return inbound_text_payload(channel.config["phone_number_id"], **kw)


async def _post_json(server: str, channel: Any, secret: str, data: Any) -> httpx.Response:
    # json.dumps (ASCII) writes lone surrogates as \\ud800 escapes, as a lenient platform would.
    return await post_webhook(server, channel, secret, json.dumps(data).encode())


async def _stored(channel_id: int) -> list[Message]:
    return await Message.filter(channel_id=channel_id).order_by("id")


# ---- characters PostgreSQL or UTF-8 cannot hold ----------------------------------------------------


def test_the_documented_replacement() -> None:
    assert storable_text("a\x00b") == "ab"
    assert storable_text("x\ud800y") == "x\ufffdy"
    assert storable_text("\ud83d\ude00") == "😀"  # a pair held as two code units: one emoji
    assert storable_text("\udfff\ud800") == "\ufffd\ufffd"  # reversed: two lone halves
    plain = "ok \t\x01 ü 😀"
    assert storable_text(plain) is plain


async def test_nul_and_surrogates_in_text_names_and_metadata_are_stored(server: str, wa: Any) -> None:
    channel, secrets, _ = wa
    data = _wa_body(channel, name="Ana\x00 Maria\ud800", text="where\x00 is \ud83d\ude00 my \udc00order")
    # A button reply's id lands in metadata (jsonb): NUL there fails PostgreSQL the same way.
    message = data["entry"][0]["changes"][0]["value"]["messages"][0]
    message.update(
        type="interactive",
        interactive={"type": "button_reply", "button_reply": {"id": "id\x00-1", "title": "Yes\x00!"}},
    )
    message.pop("text")
    response = await _post_json(server, channel, secrets["app_secret"], data)
    assert response.status_code == 200, response.text
    (stored,) = await _stored(channel.id)
    assert stored.text == "Yes!"
    assert "id-1" in json.dumps(stored.metadata, ensure_ascii=False)
    identity = await CustomerIdentity.get(id=stored.identity_id)  # type: ignore[attr-defined]
    assert identity.display_name == "Ana Maria\ufffd"

    text_body = _wa_body(channel, text="where\x00 is \ud83d\ude00 my \udc00order")
    assert (await _post_json(server, channel, secrets["app_secret"], text_body)).status_code == 200
    assert (await _stored(channel.id))[-1].text == "where is 😀 my \ufffdorder"

    # NUL alone is valid JSON (orjson reads it as it is): only ingest's own step removes it.
    nul_only = _wa_body(channel, name="Jo\x00ão", text="only\x00 NUL")
    assert (await _post_json(server, channel, secrets["app_secret"], nul_only)).status_code == 200
    last = (await _stored(channel.id))[-1]
    assert last.text == "only NUL"
    assert (await CustomerIdentity.get(id=last.identity_id)).display_name == "João"  # type: ignore[attr-defined]


async def test_invalid_utf8_in_a_signed_json_body_is_stored_with_replacements(server: str, wa: Any) -> None:
    channel, secrets, _ = wa
    raw = json.dumps(_wa_body(channel, text="caf__")).encode().replace(b"caf__", b"caf\xe9 \xff!")
    response = await post_webhook(server, channel, secrets["app_secret"], raw)
    assert response.status_code == 200, response.text
    (stored,) = await _stored(channel.id)
    assert stored.text == "caf\ufffd \ufffd!"


async def test_json_nested_past_orjsons_limit_is_a_400_and_stores_nothing(server: str, wa: Any) -> None:
    channel, secrets, _ = wa
    for depth in (1100, 100_000):  # orjson's limit, and far past the stdlib's recursion limit
        body = b'{"object": "whatsapp_business_account", "entry": ' + b"[" * depth + b"]" * depth + b"}"
        response = await post_webhook(server, channel, secrets["app_secret"], body)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "MALFORMED_PAYLOAD"
    assert await _stored(channel.id) == []


# ---- values too long for their column ----------------------------------------------------------------


async def test_overlong_values_are_stored_cut_or_digested(server: str, wa: Any) -> None:
    channel, secrets, _ = wa
    long_id = "wamid." + "A" * 1000
    name = "N" * 1_000_000  # a 1 MB name, within the 2 MB webhook limit
    data = _wa_body(channel, wamid=long_id, name=name, text="hi")
    assert (await _post_json(server, channel, secrets["app_secret"], data)).status_code == 200
    # The platform's retry of the same message finds it: the digest is stable.
    assert (await _post_json(server, channel, secrets["app_secret"], data)).status_code == 200
    (stored,) = await _stored(channel.id)
    assert stored.platform_message_id == fit_id(long_id, MESSAGE_ID_MAX)
    assert len(stored.platform_message_id) == MESSAGE_ID_MAX
    identity = await CustomerIdentity.get(id=stored.identity_id)  # type: ignore[attr-defined]
    assert identity.display_name == "N" * NAME_MAX


async def test_text_past_the_search_vectors_limit_is_stored_and_marked(server: str, wa: Any) -> None:
    channel, secrets, _ = wa
    # ~1.6 MB of distinct words: their search vector alone would exceed PostgreSQL's 1 MB.
    words = " ".join(hashlib.md5(str(i).encode()).hexdigest() for i in range(48_000))
    data = _wa_body(channel, text=words)
    assert (await _post_json(server, channel, secrets["app_secret"], data)).status_code == 200
    (stored,) = await _stored(channel.id)
    assert stored.text == words[:TEXT_MAX]
    assert stored.metadata["text_truncated"] is True


# ---- e-mail: multipart cut short, Mailgun tokens used twice ---------------------------------------------

MAILGUN_KEY = "hostile-mailgun-key"


async def _mailgun_channel() -> Any:
    config = {"provider": "mailgun", "address": "support@example.com", "smtp_host": "127.0.0.1"}
    return await make_channel("email", config, {"mailgun_signing_key": MAILGUN_KEY})


def _route_fields(tag: str) -> dict[str, str]:
    raw = make_mail(
        sender=f"{tag}@customer.example",
        to="support@example.com",
        subject=f"Order {tag}",
        text=f"Where is order {tag}?",
        message_id=f"<{tag}@customer.example>",
    )
    return route_fields_from_mail(raw, "support@example.com")


async def _post(url: str, body: bytes, content_type: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=20) as client:
        return await client.post(url, content=body, headers={"Content-Type": content_type})


@pytest.mark.parametrize("cut_in", ["Message-Id", "body-plain", "closing boundary"])
async def test_a_mailgun_post_cut_short_is_a_400_and_the_whole_one_is_stored_once(
    server: str, cut_in: str
) -> None:
    channel = await _mailgun_channel()
    url = f"{server}/webhooks/email/{channel.id}"
    fields = {**_route_fields(uuid.uuid4().hex[:12]), **mailgun_signature(MAILGUN_KEY)}
    body, content_type = multipart_form(fields)
    if cut_in == "closing boundary":
        cut = body[: body.rindex(b"--\r\n")]  # every part complete, the closing "--" missing
    else:
        cut = body[: body.index(f'name="{cut_in}"'.encode()) + 40]
    response = await _post(url, cut, content_type)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "MALFORMED_PAYLOAD"
    assert await _stored(channel.id) == []
    # The provider retries the complete post (same token, same body): stored once, no synthetic id.
    assert (await _post(url, body, content_type)).status_code == 200
    (stored,) = await _stored(channel.id)
    assert stored.platform_message_id == fields["Message-Id"]


async def test_a_sendgrid_post_cut_short_is_a_400(server: str) -> None:
    config = {"provider": "sendgrid", "address": "support@example.com", "smtp_host": "127.0.0.1"}
    channel = await make_channel("email", config, {"inbound_key": "url-key"})
    url = f"{server}/webhooks/email/{channel.id}?key=url-key"
    fields = {
        "headers": "Message-ID: <sg-1@customer.example>\nFrom: Ana <ana@customer.example>\n",
        "from": "Ana <ana@customer.example>",
        "subject": "Hello",
        "text": "The whole text.",
    }
    body, content_type = multipart_form(fields)
    response = await _post(url, body[: body.index(b"The whole") + 4], content_type)
    assert (response.status_code, response.json()["error"]["code"]) == (400, "MALFORMED_PAYLOAD")
    assert await _stored(channel.id) == []
    assert (await _post(url, body, content_type)).status_code == 200
    assert [m.text for m in await _stored(channel.id)] == ["The whole text."]


@pytest.mark.parametrize("multipart", [True, False], ids=["multipart", "urlencoded"])
async def test_a_mailgun_token_carries_one_email_only(server: str, multipart: bool) -> None:
    channel = await _mailgun_channel()
    url = f"{server}/webhooks/email/{channel.id}"
    captured = mailgun_signature(MAILGUN_KEY)

    def encode(fields: dict[str, str]) -> tuple[bytes, str]:
        if multipart:
            return multipart_form(fields)
        return urllib.parse.urlencode(fields).encode(), "application/x-www-form-urlencoded"

    genuine, content_type = encode({**_route_fields("genuine" + uuid.uuid4().hex[:6]), **captured})
    assert (await _post(url, genuine, content_type)).status_code == 200
    forged, forged_type = encode({**_route_fields("forged" + uuid.uuid4().hex[:6]), **captured})
    response = await _post(url, forged, forged_type)
    assert (response.status_code, response.json()["error"]["code"]) == (401, "REPLAYED_SIGNATURE")
    # Mailgun retrying the genuine post is not a replay: answered 200, deduplicated.
    assert (await _post(url, genuine, content_type)).status_code == 200
    (stored,) = await _stored(channel.id)
    assert stored.text.startswith("Where is order genuine")


# ---- WeChat: a nonce carries one body ------------------------------------------------------------------


def _wechat_xml(openid: str, text: str, msg_id: int) -> bytes:
    return (
        f"<xml><ToUserName>gh_1</ToUserName><FromUserName>{openid}</FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType>text</MsgType>"
        f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    ).encode()


async def test_a_wechat_nonce_carries_one_body_only(server: str) -> None:
    token = "hostileToken" + uuid.uuid4().hex[:8]
    channel = await make_channel(
        "wechat", {"app_id": "wx0123456789abcdef"}, {"token": token, "app_secret": "s"}
    )
    url = f"{server}/webhooks/wechat/{channel.id}"
    openid = "o" + uuid.uuid4().hex[:27]
    genuine = _wechat_xml(openid, "genuine", 1)
    signed = sign_webhook(Platform.WECHAT, genuine, token, time.time(), url)
    async with httpx.AsyncClient(timeout=20) as client:
        first = await client.post(url, params=signed.query, content=genuine, headers=signed.headers)
        forged = await client.post(
            url, params=signed.query, content=_wechat_xml(openid, "forged", 2), headers=signed.headers
        )
        retry = await client.post(url, params=signed.query, content=genuine, headers=signed.headers)
    assert (first.status_code, first.text) == (200, "success")
    assert (forged.status_code, forged.json()["error"]["code"]) == (401, "REPLAYED_SIGNATURE")
    assert (retry.status_code, retry.text) == (200, "success")
    assert [m.text for m in await _stored(channel.id)] == ["genuine"]


# ---- the web chat ---------------------------------------------------------------------------------------


async def test_webchat_visitors_text_and_name_with_nul_and_surrogates(server: str) -> None:
    channel, key = await make_webchat()

    async def post(path: str, data: dict[str, Any], token: str | None = None) -> httpx.Response:
        # json.dumps writes lone surrogates as escapes, as a browser's JSON.stringify does.
        async with webchat_client(headers={"Content-Type": "application/json"}) as c:
            headers = bearer(token) if token else {}
            return await c.post(f"{server}/webchat/{key}/{path}", content=json.dumps(data), headers=headers)

    session = await post("sessions", {"name": "Vi\x00sitor \ud800"})
    assert session.status_code == 200, session.text
    token = session.json()["visitor_token"]
    response = await post("messages", {"client_message_id": "m1", "text": "hi\x00 there \udc00 😀"}, token)
    assert response.status_code == 201, response.text
    assert response.json()["message"]["text"] == "hi there \ufffd 😀"
    (stored,) = await _stored(channel.id)
    assert stored.text == "hi there \ufffd 😀"
    identity = await CustomerIdentity.get(id=stored.identity_id)  # type: ignore[attr-defined]
    assert identity.display_name == "Visitor \ufffd"
