"""A fake WeChat API: `/cgi-bin/token` (AppID + AppSecret → expiring access tokens, each new one
replacing the last) and `/cgi-bin/message/custom/send` (valid token, known follower, the 48-hour
window), answering `{errcode, errmsg}` as WeChat does; plus signed XML posts to our webhook."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from connectors.fakes.whatsapp import serve_app


def signature(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()


class FakeWeChat:
    def __init__(self, app_id: str, app_secret: str):
        self.app_id, self.app_secret = app_id, app_secret
        self.token: str | None = None
        self.token_fetches = 0
        self.followers: set[str] = set()
        self.window_closed: set[str] = set()
        self.sent: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self.app = Starlette(
            routes=[
                Route("/cgi-bin/token", self._token, methods=["GET"]),
                Route("/cgi-bin/message/custom/send", self._send, methods=["POST"]),
            ]
        )

    def expire_token(self) -> None:
        self.token = f"expired-{uuid.uuid4().hex}"  # what clients hold is no longer valid

    async def _token(self, request: Request) -> JSONResponse:
        q = request.query_params
        if (
            q.get("grant_type") != "client_credential"
            or q.get("appid") != self.app_id
            or q.get("secret") != self.app_secret
        ):
            return JSONResponse({"errcode": 40013, "errmsg": "invalid appid"})
        self.token_fetches += 1
        self.token = f"ACCESS_{uuid.uuid4().hex}"
        return JSONResponse({"access_token": self.token, "expires_in": 7200})

    async def _send(self, request: Request) -> JSONResponse:
        if request.query_params.get("access_token") != self.token or self.token is None:
            return JSONResponse(
                {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
            )
        body = orjson.loads(await request.body())
        user = body.get("touser")
        if user not in self.followers:
            return JSONResponse({"errcode": 40003, "errmsg": "invalid openid"})
        if user in self.window_closed:
            return JSONResponse(
                {"errcode": 45015, "errmsg": "response out of time limit or subscription is canceled"}
            )
        if body.get("msgtype") != "text" or not (body.get("text") or {}).get("content"):
            return JSONResponse({"errcode": 44002, "errmsg": "empty post data"})
        self.sent.append(body)
        return JSONResponse({"errcode": 0, "errmsg": "ok"})

    @staticmethod
    def text_xml(openid: str, text: str, msg_id: int | None = None) -> bytes:
        return (
            f"<xml><ToUserName><![CDATA[gh_fake]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id or next(FakeWeChat._global_ids)}</MsgId></xml>"
        ).encode()

    _global_ids = itertools.count(24594010285000000)

    @staticmethod
    async def post(url: str, body: bytes, token: str, timestamp: int | None = None) -> httpx.Response:
        ts, nonce = str(int(time.time()) if timestamp is None else timestamp), uuid.uuid4().hex[:10]
        params = {"signature": signature(token, ts, nonce), "timestamp": ts, "nonce": nonce}
        async with httpx.AsyncClient(timeout=20) as client:
            return await client.post(url, params=params, content=body, headers={"Content-Type": "text/xml"})

    @contextlib.asynccontextmanager
    async def serve(self) -> AsyncIterator[str]:
        async with serve_app(self.app) as base:
            yield base
