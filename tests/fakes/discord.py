"""A fake Discord: the REST API a bot sends with, and the Gateway that delivers users' messages.

Tests use it instead of discord.com and gateway.discord.gg. The REST side answers
with Discord's shapes (Message objects, `{"code", "message"}` errors, 429 with `retry_after`) and
is as strict as Discord about the bot token, the 2000-character limit and component layout. The
Gateway side speaks the real protocol (HELLO, heartbeats and ACKs, IDENTIFY → READY, RESUME with
replay of what was missed, op 7 / op 9, close codes), filters events by the session's intents,
and can be told to misbehave. Dispatches are shaped like platform-samples/discord/gateway_*.json.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import itertools
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from connectors.fakes.server import FakeServer

log = logging.getLogger(__name__)

DEFAULT_APPLICATION_ID = "1200000000000000001"
MAX_CONTENT = 2000
DISCORD_EPOCH_MS = 1420070400000
# Intents (the privileged ones must be switched on in the Developer Portal).
GUILD_MEMBERS, GUILD_PRESENCES = 1 << 1, 1 << 8
GUILD_MESSAGES, GUILD_MESSAGE_REACTIONS = 1 << 9, 1 << 10
DIRECT_MESSAGES, DIRECT_MESSAGE_REACTIONS = 1 << 12, 1 << 13
MESSAGE_CONTENT = 1 << 15
PRIVILEGED = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT
ALL_INTENTS = (1 << 26) - 1
RATE_LIMITED = {"message": "You are being rate limited.", "retry_after": 0.672, "global": False}

_snowflake_counter = itertools.count()


def snowflake() -> str:
    """A new, unique, time-ordered Discord id."""
    ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return str((ms << 22) | (next(_snowflake_counter) & 0x3FFFFF))


def discord_error(code: int, message: str, errors: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message, "code": code}
    if errors is not None:
        body["errors"] = errors
    return body


def _form_error(path: list[str], code: str, message: str) -> JSONResponse:
    """Discord's 50035 Invalid Form Body, with the offending field nested the way Discord nests it."""
    errors: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for key in reversed(path):
        errors = {key: errors}
    return JSONResponse(discord_error(50035, "Invalid Form Body", errors), status_code=400)


def _now_iso() -> str:
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1e6) % 1_000_000:06d}+00:00"
    )


def user_object(
    user_id: str, username: str, global_name: str | None = None, *, bot: bool = False
) -> dict[str, Any]:
    user: dict[str, Any] = {
        "id": user_id,
        "username": username,
        "discriminator": "0",
        "global_name": global_name,
        "avatar": None,
        "public_flags": 0,
    }
    if bot:
        user["bot"] = True
    return user


def member_object(user: dict[str, Any] | None = None) -> dict[str, Any]:
    member: dict[str, Any] = {
        "roles": [],
        "premium_since": None,
        "pending": False,
        "nick": None,
        "mute": False,
        "joined_at": "2024-01-01T00:00:00.000000+00:00",
        "flags": 0,
        "deaf": False,
        "communication_disabled_until": None,
        "banner": None,
        "avatar": None,
    }
    if user is not None:
        member["user"] = user
    return member


def message_data(
    *,
    channel_id: str,
    author: dict[str, Any],
    content: str,
    message_id: str | None = None,
    guild_id: str | None = None,
    attachments: list[dict[str, Any]] | None = None,
    reply_to: str | None = None,
    edited: bool = False,
) -> dict[str, Any]:
    """A Message object as MESSAGE_CREATE/UPDATE carry it (gateway_message_create.json's shape)."""
    data: dict[str, Any] = {
        "type": 19 if reply_to else 0,
        "content": content,
        "mentions": [],
        "mention_roles": [],
        "attachments": attachments or [],
        "embeds": [],
        "timestamp": _now_iso(),
        "edited_timestamp": _now_iso() if edited else None,
        "flags": 0,
        "components": [],
        "id": message_id or snowflake(),
        "channel_id": channel_id,
        "author": author,
        "pinned": False,
        "mention_everyone": False,
        "tts": False,
        "nonce": snowflake(),
    }
    if reply_to:
        data["message_reference"] = {"type": 0, "channel_id": channel_id, "message_id": reply_to}
        if guild_id:
            data["message_reference"]["guild_id"] = guild_id
    if guild_id:
        data["guild_id"] = guild_id
        data["member"] = member_object()
    return data


def attachment_object(filename: str, content_type: str, channel_id: str, size: int = 93847) -> dict[str, Any]:
    attachment_id = snowflake()
    url = f"https://cdn.discordapp.com/attachments/{channel_id}/{attachment_id}/{filename}"
    return {
        "id": attachment_id,
        "filename": filename,
        "size": size,
        "url": url,
        "proxy_url": url.replace("cdn.discordapp.com", "media.discordapp.net"),
        "content_type": content_type,
    }


@dataclass
class _Channel:
    id: str
    guild_id: str | None = None
    recipient_id: str | None = None  # DM channels
    messages: set[str] = field(default_factory=set)
    nonces: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class _Session:
    id: str
    intents: int
    seq: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)  # every dispatch, for replays
    conn: ServerConnection | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class FakeDiscord(FakeServer):
    def __init__(
        self,
        *,
        bot_token: str,
        application_id: str = DEFAULT_APPLICATION_ID,
        heartbeat_interval_ms: int = 250,
        privileged_intents: int = PRIVILEGED,
    ):
        super().__init__()
        self.bot_token = bot_token
        self.application_id = application_id
        self.bot_user = user_object(application_id, "Acme Support", bot=True)
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.privileged_intents = privileged_intents  # those "enabled in the Developer Portal"
        # REST
        self.channels: dict[str, _Channel] = {}
        self.blocked_dms: set[str] = set()
        self.no_permission: set[str] = set()
        self.sent: list[dict[str, Any]] = []
        self.dm_opens: list[str] = []
        self.requests = 0
        self.app = Starlette(
            routes=[
                Route("/api/v10/channels/{channel_id}/messages", self._create_message, methods=["POST"]),
                Route("/api/v10/users/@me/channels", self._open_dm, methods=["POST"]),
            ]
        )
        # Gateway
        self.gateway_url: str | None = None
        self.sessions: dict[str, _Session] = {}
        self.identifies: list[dict[str, Any]] = []
        self.resumes: list[dict[str, Any]] = []
        self.heartbeats: list[int | None] = []
        self.connections = 0
        self.max_live = 0
        self.ack_heartbeats = True
        self._live: set[ServerConnection] = set()

    # ---- REST set-up -----------------------------------------------------------------------------

    def add_channel(self, channel_id: str | None = None, *, guild_id: str | None = None) -> str:
        channel_id = channel_id or snowflake()
        self.channels.setdefault(channel_id, _Channel(channel_id, guild_id=guild_id))
        return channel_id

    def dm_channel(self, user_id: str) -> str:
        """The DM channel between the bot and `user_id` (created on first use, as Discord does)."""
        for channel in self.channels.values():
            if channel.recipient_id == user_id:
                return channel.id
        channel_id = snowflake()
        self.channels[channel_id] = _Channel(channel_id, recipient_id=user_id)
        return channel_id

    def fail_next(
        self,
        status: int,
        body: dict[str, Any] | None = None,
        times: int = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        """The next `times` REST requests answer `status` with `body` (Discord's own error by default)."""
        if body is None:
            body = {
                429: RATE_LIMITED,
                401: discord_error(0, "401: Unauthorized"),
                500: discord_error(0, "500: Internal Server Error"),
            }.get(status, discord_error(0, f"{status}: Error"))
        if headers is None and status == 429:
            headers = {
                "Retry-After": str(max(1, round(float(body.get("retry_after", 1))))),
                "X-RateLimit-Scope": "user",
                "X-RateLimit-Bucket": "fake",
            }
        self.queue_failures(status, body, times, headers)

    # ---- REST endpoints ----------------------------------------------------------------------------

    def _auth_error(self, request: Request) -> JSONResponse | None:
        self.requests += 1
        if (failure := self.next_failure()) is not None:
            return failure
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bot {self.bot_token}".encode()):
            return JSONResponse(discord_error(0, "401: Unauthorized"), status_code=401)
        return None

    async def _body(self, request: Request) -> dict[str, Any] | JSONResponse:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse(
                discord_error(50109, "The request body contains invalid JSON."), status_code=400
            )
        if not isinstance(body, dict):
            return JSONResponse(
                discord_error(50109, "The request body contains invalid JSON."), status_code=400
            )
        return body

    async def _open_dm(self, request: Request) -> JSONResponse:
        refused = self._auth_error(request)
        if refused is not None:
            return refused
        body = await self._body(request)
        if isinstance(body, JSONResponse):
            return body
        recipient = body.get("recipient_id")
        if not isinstance(recipient, str | int) or not str(recipient).isdigit():
            return _form_error(["recipient_id"], "NUMBER_TYPE_COERCE", "Value is not snowflake.")
        recipient = str(recipient)
        self.dm_opens.append(recipient)
        channel_id = self.dm_channel(recipient)
        return JSONResponse(
            {
                "id": channel_id,
                "type": 1,
                "last_message_id": None,
                "flags": 0,
                "recipients": [user_object(recipient, f"user{recipient[-4:]}")],
            }
        )

    async def _create_message(self, request: Request) -> JSONResponse:
        refused = self._auth_error(request)
        if refused is not None:
            return refused
        channel = self.channels.get(request.path_params["channel_id"])
        if channel is None:
            return JSONResponse(discord_error(10003, "Unknown Channel"), status_code=404)
        if channel.recipient_id is not None and channel.recipient_id in self.blocked_dms:
            return JSONResponse(discord_error(50007, "Cannot send messages to this user"), status_code=403)
        if channel.id in self.no_permission:
            return JSONResponse(discord_error(50013, "Missing Permissions"), status_code=403)
        body = await self._body(request)
        if isinstance(body, JSONResponse):
            return body
        problem = _validate_message(body)
        if problem is not None:
            return problem
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce") and str(nonce) in channel.nonces:
            return JSONResponse(channel.nonces[str(nonce)])  # Discord's dedupe: the first message again
        reference = body.get("message_reference")
        if isinstance(reference, dict) and str(reference.get("message_id")) not in channel.messages:
            if reference.get("fail_if_not_exists", True):
                return _form_error(["message_reference"], "REPLIES_UNKNOWN_MESSAGE", "Unknown message")
            reference = None  # sent as a plain message, as Discord does
        message_id = snowflake()
        channel.messages.add(message_id)
        message = {
            "type": 19 if reference else 0,
            "content": body.get("content", ""),
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": body.get("embeds", []),
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "flags": 0,
            "components": body.get("components", []),
            "id": message_id,
            "channel_id": channel.id,
            "author": self.bot_user,
            "pinned": False,
            "mention_everyone": False,
            "tts": False,
            "nonce": nonce,
        }
        if reference:
            message["message_reference"] = {
                "type": 0,
                "channel_id": channel.id,
                "message_id": reference["message_id"],
            }
        if nonce is not None:
            channel.nonces[str(nonce)] = message
        self.sent.append({**body, "_fake": {"channel_id": channel.id, "id": message_id}})
        return JSONResponse(message)

    # ---- running -----------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def serve_gateway(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
        """The Gateway over a real WebSocket on loopback; yields its URL (the channel's gateway_url)."""
        async with serve(self._gateway, host, port, ping_interval=None, compression=None) as server:
            bound = server.sockets[0].getsockname()[1]
            self.gateway_url = f"ws://{host}:{bound}"
            try:
                yield self.gateway_url
            finally:
                for conn in list(self._live):
                    conn.transport.abort()

    # ---- Gateway: what a test can make happen ------------------------------------------------------

    @property
    def live(self) -> int:
        """Connections open right now."""
        return len(self._live)

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Deliver an event to every session (held for replay while its connection is down)."""
        self._note_channel(event, data)
        for session in list(self.sessions.values()):
            frame = _filtered({"op": 0, "t": event, "d": data}, session.intents)
            if frame is None:
                continue  # the session did not ask for this kind of event: it is not numbered either
            async with session.lock:
                session.seq += 1
                frame["s"] = session.seq
                session.events.append(frame)
                if session.conn is not None:
                    await _send_quietly(session.conn, frame)

    async def push_frame(self, frame: dict[str, Any]) -> None:
        """Deliver a sample file's dispatch (`{op, t, s, d}`), numbered for each session anew."""
        await self.dispatch(frame["t"], frame["d"])

    async def message_create(
        self,
        *,
        user_id: str,
        content: str,
        username: str = "janedoe",
        global_name: str | None = "Jane",
        channel_id: str | None = None,
        guild_id: str | None = None,
        attachments: list[dict[str, Any]] | None = None,
        reply_to: str | None = None,
        bot: bool = False,
    ) -> dict[str, Any]:
        """A user writes: in their DM with the bot unless `channel_id` (a server channel) is given."""
        channel_id = channel_id or self.dm_channel(user_id)
        data = message_data(
            channel_id=channel_id,
            author=user_object(user_id, username, global_name, bot=bot),
            content=content,
            guild_id=guild_id,
            attachments=attachments,
            reply_to=reply_to,
        )
        await self.dispatch("MESSAGE_CREATE", data)
        return data

    async def message_update(self, original: dict[str, Any], content: str) -> dict[str, Any]:
        data = {**original, "content": content, "edited_timestamp": _now_iso()}
        await self.dispatch("MESSAGE_UPDATE", data)
        return data

    async def message_delete(self, original: dict[str, Any]) -> None:
        data = {"id": original["id"], "channel_id": original["channel_id"]}
        if original.get("guild_id"):
            data["guild_id"] = original["guild_id"]
        await self.dispatch("MESSAGE_DELETE", data)

    async def reaction(self, message: dict[str, Any], user_id: str, emoji: str, *, add: bool = True) -> None:
        """gateway_message_reaction_add.json's shape (REMOVE carries no member)."""
        data: dict[str, Any] = {
            "user_id": user_id,
            "type": 0,
            "message_id": message["id"],
            "emoji": {"name": emoji, "id": None},
            "channel_id": message["channel_id"],
            "burst": False,
        }
        if message.get("guild_id"):
            data["guild_id"] = message["guild_id"]
            if add:
                data["member"] = member_object(user_object(user_id, "janedoe", "Jane"))
        if add:
            data["message_author_id"] = message.get("author", {}).get("id")
        await self.dispatch("MESSAGE_REACTION_ADD" if add else "MESSAGE_REACTION_REMOVE", data)

    async def drop(self) -> None:
        """Cut every connection without a close frame, as a network failure does."""
        for conn in list(self._live):
            conn.transport.abort()

    async def request_reconnect(self) -> None:
        """op 7: Discord asks clients to reconnect and resume (it is moving the session)."""
        for conn in list(self._live):
            await _send_quietly(conn, {"op": 7, "d": None})

    async def invalidate_sessions(self, *, resumable: bool) -> None:
        """op 9. Not resumable: the sessions are gone, clients must identify again."""
        for conn in list(self._live):
            await _send_quietly(conn, {"op": 9, "d": resumable})
        if not resumable:
            for session in list(self.sessions.values()):
                if session.conn is not None:
                    self.sessions.pop(session.id, None)

    async def close_all(self, code: int, reason: str = "") -> None:
        for conn in list(self._live):
            with contextlib.suppress(ConnectionClosed):
                await conn.close(code, reason)

    # ---- Gateway: the protocol ---------------------------------------------------------------------

    async def _gateway(self, conn: ServerConnection) -> None:
        self.connections += 1
        self._live.add(conn)
        self.max_live = max(self.max_live, len(self._live))
        session: _Session | None = None
        try:
            query = dict(parse_qsl(urlsplit(conn.request.path if conn.request else "").query))
            if query.get("v") != "10":
                await conn.close(4012, "Invalid API version")
                return
            if query.get("encoding", "json") != "json":
                await conn.close(4002, "Error while decoding payload.")
                return
            await conn.send(json.dumps({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}}))
            async for raw in conn:
                try:
                    frame = json.loads(raw)
                    op = frame["op"]
                except (ValueError, TypeError, KeyError):
                    await conn.close(4002, "Error while decoding payload.")
                    return
                if op == 1:
                    self.heartbeats.append(frame.get("d"))
                    if self.ack_heartbeats:
                        await conn.send(json.dumps({"op": 11}))
                elif op in (2, 6) and session is not None:
                    await conn.close(4005, "Already authenticated.")
                    return
                elif op == 2:
                    session = await self._identify(conn, frame.get("d"))
                    if session is None:
                        return
                elif op == 6:
                    session = await self._resume(conn, frame.get("d"))
                elif session is None:
                    await conn.close(4003, "Not authenticated.")
                    return
                elif op not in (3, 4, 8):  # presence/voice/guild-members requests: accepted, ignored
                    await conn.close(4001, "Unknown opcode.")
                    return
        except ConnectionClosed:
            pass
        finally:
            self._live.discard(conn)
            if session is not None and session.conn is conn:
                session.conn = None  # kept: the client may resume it

    async def _identify(self, conn: ServerConnection, data: Any) -> _Session | None:
        if not isinstance(data, dict):
            await conn.close(4002, "Error while decoding payload.")
            return None
        self.identifies.append(data)
        token = data.get("token")
        if not isinstance(token, str) or not hmac.compare_digest(token.encode(), self.bot_token.encode()):
            await conn.close(4004, "Authentication failed.")
            return None
        intents = data.get("intents")
        if not isinstance(intents, int) or isinstance(intents, bool) or intents < 0 or intents & ~ALL_INTENTS:
            await conn.close(4013, "Invalid intent(s).")
            return None
        if intents & PRIVILEGED & ~self.privileged_intents:
            await conn.close(4014, "Disallowed intent(s).")
            return None
        properties = data.get("properties")
        if not isinstance(properties, dict) or not all(
            isinstance(properties.get(k), str) for k in ("os", "browser", "device")
        ):
            await conn.close(4002, "Error while decoding payload.")
            return None
        session = _Session(id=uuid.uuid4().hex, intents=intents)
        self.sessions[session.id] = session
        async with session.lock:
            session.seq += 1
            ready = {
                "v": 10,
                "user": self.bot_user,
                "guilds": [],
                "session_id": session.id,
                "session_type": "normal",
                "resume_gateway_url": self.gateway_url,
                "application": {"id": self.application_id, "flags": 0},
            }
            session.conn = conn
            await conn.send(json.dumps({"op": 0, "t": "READY", "s": session.seq, "d": ready}))
        return session

    async def _resume(self, conn: ServerConnection, data: Any) -> _Session | None:
        data = data if isinstance(data, dict) else {}
        self.resumes.append(data)
        token = data.get("token")
        if not isinstance(token, str) or not hmac.compare_digest(token.encode(), self.bot_token.encode()):
            await conn.close(4004, "Authentication failed.")
            return None
        session = self.sessions.get(str(data.get("session_id")))
        seq = data.get("seq")
        if session is None or not isinstance(seq, int):
            await _send_quietly(conn, {"op": 9, "d": False})  # the client must identify afresh
            return None
        if seq > session.seq:
            await conn.close(4007, "Invalid seq.")
            return None
        async with session.lock:
            if session.conn is not None and session.conn is not conn:
                session.conn.transport.abort()  # one connection per session: the old one is dead
            session.conn = conn
            for frame in session.events:
                if frame["s"] > seq and frame["t"] != "READY":
                    await conn.send(json.dumps(frame))
            await conn.send(json.dumps({"op": 0, "t": "RESUMED", "s": None, "d": {}}))
        return session

    def _note_channel(self, event: str, data: dict[str, Any]) -> None:
        """Users' messages make their channels (and message ids) known to the REST side."""
        channel_id = data.get("channel_id")
        if event != "MESSAGE_CREATE" or not isinstance(channel_id, str):
            return
        author = data.get("author") or {}
        if data.get("guild_id"):
            channel = self.channels.setdefault(channel_id, _Channel(channel_id, guild_id=data["guild_id"]))
        else:
            channel = self.channels.setdefault(
                channel_id, _Channel(channel_id, recipient_id=author.get("id"))
            )
        channel.messages.add(str(data.get("id")))


def _filtered(frame: dict[str, Any], intents: int) -> dict[str, Any] | None:
    """What a session with `intents` receives of a dispatch: nothing without the event's intent,
    and server messages without their content unless MESSAGE_CONTENT was granted."""
    event, data = frame["t"], frame["d"]
    in_guild = bool(data.get("guild_id"))
    needs = {
        "MESSAGE_CREATE": GUILD_MESSAGES if in_guild else DIRECT_MESSAGES,
        "MESSAGE_UPDATE": GUILD_MESSAGES if in_guild else DIRECT_MESSAGES,
        "MESSAGE_DELETE": GUILD_MESSAGES if in_guild else DIRECT_MESSAGES,
        "MESSAGE_REACTION_ADD": GUILD_MESSAGE_REACTIONS if in_guild else DIRECT_MESSAGE_REACTIONS,
        "MESSAGE_REACTION_REMOVE": GUILD_MESSAGE_REACTIONS if in_guild else DIRECT_MESSAGE_REACTIONS,
    }.get(event)
    if needs is not None and not intents & needs:
        return None
    if in_guild and event in ("MESSAGE_CREATE", "MESSAGE_UPDATE") and not intents & MESSAGE_CONTENT:
        data = {**data, "content": "", "attachments": [], "embeds": [], "components": []}
    return {**frame, "d": data}


async def _send_quietly(conn: ServerConnection, frame: dict[str, Any] | None) -> None:
    if frame is None:
        return
    with contextlib.suppress(ConnectionClosed):
        await conn.send(json.dumps(frame))


def _validate_message(body: dict[str, Any]) -> JSONResponse | None:
    """The first thing Discord would refuse in a create-message body; None when fine."""
    content = body.get("content")
    if content is not None:
        if not isinstance(content, str):
            return _form_error(["content"], "BASE_TYPE_STRING", "Must be a string.")
        if len(content) > MAX_CONTENT:
            return _form_error(
                ["content"], "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_CONTENT} or fewer in length."
            )
    embeds = body.get("embeds")
    if embeds is not None:
        if not isinstance(embeds, list) or len(embeds) > 10:
            return _form_error(["embeds"], "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
        for i, embed in enumerate(embeds):
            if not isinstance(embed, dict):
                return _form_error(
                    ["embeds", str(i)], "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType"
                )
            image = embed.get("image")
            if image is not None and not (isinstance(image, dict) and _is_url(image.get("url"))):
                return _form_error(
                    ["embeds", str(i), "image", "url"], "URL_TYPE_INVALID_URL", "Not a well formed URL."
                )
            if embed.get("url") is not None and not _is_url(embed.get("url")):
                return _form_error(
                    ["embeds", str(i), "url"], "URL_TYPE_INVALID_URL", "Not a well formed URL."
                )
            if len(str(embed.get("title") or "")) > 256:
                return _form_error(
                    ["embeds", str(i), "title"], "BASE_TYPE_MAX_LENGTH", "Must be 256 or fewer in length."
                )
    components = body.get("components")
    if components is not None:
        problem = _validate_components(components)
        if problem is not None:
            return problem
    nonce = body.get("nonce")
    if nonce is not None and (not isinstance(nonce, str | int) or len(str(nonce)) > 25):
        return _form_error(["nonce"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    reference = body.get("message_reference")
    if reference is not None and not (
        isinstance(reference, dict) and str(reference.get("message_id", "")).isdigit()
    ):
        return _form_error(
            ["message_reference", "message_id"], "BASE_TYPE_REQUIRED", "This field is required"
        )
    if not content and not embeds and not components and not body.get("sticker_ids"):
        return JSONResponse(discord_error(50006, "Cannot send an empty message"), status_code=400)
    return None


def _validate_components(rows: Any) -> JSONResponse | None:
    if not isinstance(rows, list) or len(rows) > 5:
        return _form_error(["components"], "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    for r, row in enumerate(rows):
        items = row.get("components") if isinstance(row, dict) else None
        if (
            not isinstance(row, dict)
            or row.get("type") != 1
            or not isinstance(items, list)
            or not 1 <= len(items) <= 5
        ):
            return _form_error(
                ["components", str(r)],
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "An action row holds 1 to 5 buttons.",
            )
        for c, button in enumerate(items):
            path = ["components", str(r), "components", str(c)]
            if not isinstance(button, dict) or button.get("type") != 2:
                return _form_error(path, "UNION_TYPE_CHOICES", 'Value of field "type" must be one of (2,).')
            label = button.get("label")
            if not isinstance(label, str) or not 1 <= len(label) <= 80:
                return _form_error(
                    [*path, "label"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 80 in length."
                )
            style = button.get("style")
            if style == 5:
                if not _is_url(button.get("url")) or "custom_id" in button:
                    return _form_error(
                        [*path, "url"],
                        "BUTTON_COMPONENT_URL_REQUIRED",
                        "A link button needs a url and no custom_id.",
                    )
            elif style in (1, 2, 3, 4):
                custom_id = button.get("custom_id")
                if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= 100 or "url" in button:
                    return _form_error(
                        [*path, "custom_id"],
                        "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED",
                        "A button needs a custom_id of 1 to 100 characters.",
                    )
            else:
                return _form_error(
                    [*path, "style"], "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4, 5, 6}."
                )
    return None


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("https://", "http://", "attachment://"))
