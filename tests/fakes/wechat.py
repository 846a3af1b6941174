"""A fake WeChat Official Account platform: the API (`/cgi-bin/token`, `/cgi-bin/message/custom/send`)
as strict as WeChat's, and WeChat's side of the webhook (the GET server check and signed XML posts).

- Access tokens are issued for AppID + AppSecret and expire (`token_ttl`); a new token leaves the
  previous ones valid for `overlap` seconds only (WeChat keeps old and new valid for 5 minutes).
- Customer Service sends need a valid token, a follower's OpenID, the 48-hour window since that
  follower's last message (`reply_window`, opened by every message posted through the fake), and
  well-formed text or a one-article news card. Errors are WeChat's `{errcode, errmsg}`, HTTP 200.
- Posts to our endpoint carry signature/timestamp/nonce in the query, like WeChat's.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import random
import time
import uuid
from collections import deque
from typing import Any

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from connectors.fakes.server import FakeServer

ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40008: "invalid message type",
    40013: "invalid appid",
    40125: "invalid appsecret",
    41001: "access_token missing",
    42001: "access_token expired",
    43004: "require subscribe",
    44002: "empty post data",
    44003: "empty news data",
    44004: "text content is empty",
    45002: "content size out of limit",
    45008: "article size out of limit",
    45011: "api minute-quota reach limit",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit",
    47001: "data format error",
}
_msg_ids = itertools.count(24594010285000000 + random.randrange(10**9) * 10)


def signature(token: str, timestamp: str, nonce: str) -> str:
    """WeChat's plaintext-mode signature: sha1 of the sorted token, timestamp and nonce."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()


def error(code: int) -> JSONResponse:
    rid = uuid.uuid4().hex[:8]
    return JSONResponse({"errcode": code, "errmsg": f"{ERRMSG.get(code, 'error')} rid: {rid}"})


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def xml_body(
    openid: str, msg_type: str, fields: dict[str, str | int], *, account: str = "gh_0123456789ab"
) -> bytes:
    """A body as WeChat posts it: <xml>, one element per line, strings in CDATA."""
    lines = [
        f"<ToUserName>{_cdata(account)}</ToUserName>",
        f"<FromUserName>{_cdata(openid)}</FromUserName>",
        f"<CreateTime>{int(time.time())}</CreateTime>",
        f"<MsgType>{_cdata(msg_type)}</MsgType>",
    ]
    for tag, value in fields.items():
        lines.append(f"<{tag}>{value if isinstance(value, int) else _cdata(value)}</{tag}>")
    return ("<xml>\n" + "\n".join(lines) + "\n</xml>").encode()


class FakeWeChat(FakeServer):
    def __init__(self, app_id: str, app_secret: str, server_token: str, *, token_ttl: int = 7200):
        super().__init__()
        self.app_id, self.app_secret, self.server_token = app_id, app_secret, server_token
        self.token_ttl = token_ttl
        self.overlap = 300.0  # how long older tokens stay valid after a new one is issued
        self.tokens: dict[str, float] = {}  # access token → expiry (time.monotonic())
        self.token_fetches = 0
        self.followers: set[str] = set()
        self.last_inbound: dict[str, float] = {}  # openid → when they last wrote (time.time())
        self.reply_window = 48 * 3600.0
        self.max_replies: int | None = None  # customer-service messages allowed per customer message
        self.max_content_bytes: int | None = None  # WeChat's undocumented text size check (45002)
        self.sent: list[dict[str, Any]] = []  # accepted Customer Service messages
        self.requests = 0  # every custom/send call, accepted or not
        self.webhook_responses: deque[httpx.Response] = deque(maxlen=1000)
        self._replies: dict[str, int] = {}
        self._send_failures: deque[int] = deque()
        self._token_failures: deque[int] = deque()
        self.app = Starlette(
            routes=[
                Route("/cgi-bin/token", self._token, methods=["GET"]),
                Route("/cgi-bin/message/custom/send", self._send, methods=["POST"]),
            ]
        )

    # ---- set-up -----------------------------------------------------------------------------

    def follow(self, openid: str, *, wrote_at: float | None = None) -> None:
        """`openid` follows the account; with `wrote_at` (unix seconds) they also wrote then."""
        self.followers.add(openid)
        if wrote_at is not None:
            self._wrote(openid, wrote_at)

    def unfollow(self, openid: str) -> None:
        self.followers.discard(openid)

    def fail_next_send(self, errcode: int, times: int = 1) -> None:
        self._send_failures.extend([errcode] * times)

    def fail_next_token(self, errcode: int, times: int = 1) -> None:
        self._token_failures.extend([errcode] * times)

    def expire_tokens(self) -> None:
        """Every token issued so far has reached its expiry (sends answer 42001)."""
        now = time.monotonic()
        self.tokens = {token: min(expiry, now) for token, expiry in self.tokens.items()}

    def revoke_tokens(self) -> None:
        """Every token issued so far is unknown (sends answer 40001), e.g. fetched elsewhere."""
        self.tokens.clear()

    def _wrote(self, openid: str, at: float) -> None:
        self.last_inbound[openid] = at
        self._replies[openid] = 0

    # ---- the API ------------------------------------------------------------------------------

    async def _token(self, request: Request) -> JSONResponse:
        q = request.query_params
        if self._token_failures:
            return error(self._token_failures.popleft())
        if q.get("grant_type") != "client_credential":
            return error(40002)
        if q.get("appid") != self.app_id:
            return error(40013)
        if not hmac.compare_digest((q.get("secret") or "").encode(), self.app_secret.encode()):
            return error(40125)
        self.token_fetches += 1
        now = time.monotonic()
        self.tokens = {
            t: min(expiry, now + self.overlap) for t, expiry in self.tokens.items() if expiry > now
        }
        token = "ACCESS_" + uuid.uuid4().hex + uuid.uuid4().hex
        self.tokens[token] = now + self.token_ttl
        return JSONResponse({"access_token": token, "expires_in": self.token_ttl})

    async def _send(self, request: Request) -> JSONResponse:
        self.requests += 1
        token = request.query_params.get("access_token")
        if not token:
            return error(41001)
        expiry = self.tokens.get(token)
        if expiry is None:
            return error(40001)
        if expiry <= time.monotonic():
            return error(42001)
        if self._send_failures:
            return error(self._send_failures.popleft())
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return error(47001)
        if not isinstance(body, dict) or not body:
            return error(44002)
        openid = body.get("touser")
        if not isinstance(openid, str) or not openid:
            return error(40003)
        if openid not in self.followers:
            return error(43004 if openid in self.last_inbound else 40003)
        last = self.last_inbound.get(openid)
        if last is None or time.time() - last > self.reply_window:
            return error(45015)
        problem = self._content_error(body)
        if problem is not None:
            return error(problem)
        if self.max_replies is not None and self._replies.get(openid, 0) >= self.max_replies:
            return error(45047)
        self._replies[openid] = self._replies.get(openid, 0) + 1
        self.sent.append(body)
        return JSONResponse({"errcode": 0, "errmsg": "ok"})

    def _content_error(self, body: dict[str, Any]) -> int | None:
        kind = body.get("msgtype")
        if kind == "text":
            text = body.get("text")
            content = text.get("content") if isinstance(text, dict) else None
            if not isinstance(content, str) or not content.strip():
                return 44004
            if self.max_content_bytes is not None and len(content.encode()) > self.max_content_bytes:
                return 45002
            return None
        if kind == "news":
            news = body.get("news")
            articles = news.get("articles") if isinstance(news, dict) else None
            if not isinstance(articles, list) or not articles:
                return 44003
            if len(articles) > 1:
                return 45008  # Customer Service news cards hold one article since 2018
            article = articles[0]
            if not isinstance(article, dict) or not isinstance(article.get("url"), str):
                return 47001
            if not isinstance(article.get("title"), str) or not article["title"]:
                return 47001
            return None
        return 40008

    # ---- WeChat's side of the webhook ----------------------------------------------------------

    def _query(self, timestamp: int | None, token: str | None) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        nonce = str(random.randrange(10**9, 10**10))
        return {
            "signature": signature(token or self.server_token, ts, nonce),
            "timestamp": ts,
            "nonce": nonce,
        }

    async def check_server(self, url: str, *, token: str | None = None) -> bool:
        """What saving the server settings does: GET with echostr, expect it echoed with 200."""
        echostr = str(random.randrange(10**18, 10**19))
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(url, params={**self._query(None, token), "echostr": echostr})
        self.webhook_responses.append(response)
        return response.status_code == 200 and response.text == echostr

    async def post(
        self, url: str, body: bytes, *, timestamp: int | None = None, token: str | None = None
    ) -> httpx.Response:
        """POST a body signed (in the query, with `openid` as WeChat adds) with the server token."""
        params = self._query(timestamp, token)
        sender = _from_user(body)
        if sender:
            params["openid"] = sender
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(
                url, params=params, content=body, headers={"Content-Type": "text/xml"}
            )
        self.webhook_responses.append(response)
        return response

    def text_body(self, openid: str, text: str, msg_id: int | None = None) -> bytes:
        """A text message (text.xml's shape); writing opens the follower's 48-hour window."""
        self.follow(openid, wrote_at=time.time())
        return xml_body(
            openid, "text", {"Content": text, "MsgId": msg_id if msg_id is not None else next(_msg_ids)}
        )

    def click_body(self, openid: str, key: str) -> bytes:
        """A CLICK menu event (event_click.xml's shape)."""
        self.follow(openid, wrote_at=time.time())
        return xml_body(openid, "event", {"Event": "CLICK", "EventKey": key})

    def event_body(self, openid: str, event: str) -> bytes:
        if event == "subscribe":
            self.follow(openid)
        elif event == "unsubscribe":
            self.unfollow(openid)
        return xml_body(openid, "event", {"Event": event})


def _from_user(body: bytes) -> str | None:
    start = body.find(b"<FromUserName><![CDATA[")
    if start < 0:
        return None
    start += len(b"<FromUserName><![CDATA[")
    end = body.find(b"]]>", start)
    return body[start:end].decode() if end > start else None
