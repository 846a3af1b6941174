"""`pytake gateway`: hold the Discord Gateway connection of every enabled Discord channel.

Any number of these processes can run. Each channel is leased with a PostgreSQL session advisory
lock, taken on one dedicated connection per process: a lock lives exactly as long as that
connection, so when a process dies its channels are free at once and another process picks them
up on its next poll. A process that loses its connection to PostgreSQL stops its clients
straight away, since it no longer holds their leases.

The session (id, last sequence, resume URL) is kept in `channel_cursors`, so whoever holds the
channel next resumes it and Discord replays what was missed; ingest dedupes on the message id, so
a replay stores nothing twice. A lock freed by a dead connection can be taken before its old
holder has noticed; so a process that takes over a saved session waits a grace (two polls) before
it connects, by which time the old holder has found its lease gone and closed its client: the
channel is never held twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import orjson

from connectors.base import ChannelCredentials, Platform
from connectors.discord import gateway_intents, gateway_url, parse_gateway_dispatch
from connectors.discord_gateway import GatewayClient, GatewayFatal
from core import db as core_db
from core import metrics
from core.crypto import SecretsUnreadable
from core.settings import get_settings
from core.sql import db
from models import Channel, ChannelCursor
from resolvers.channels import credentials, record_channel_error, record_webhook
from resolvers.inbound import ingest

log = logging.getLogger("pytake.gateway")

CURSOR_NAME = "gateway"
_LOCK = "SELECT pg_try_advisory_lock(hashtextextended('gateway:' || $1::bigint, 0))"
_UNLOCK = "SELECT pg_advisory_unlock(hashtextextended('gateway:' || $1::bigint, 0))"
_SAVE_CURSOR = (
    "INSERT INTO channel_cursors (channel_id, name, value, updated_at) VALUES ($1, $2, $3, now()) "
    "ON CONFLICT (channel_id, name) DO UPDATE SET value = EXCLUDED.value, updated_at = now()"
)
CURSOR_WRITE_INTERVAL = 1.0  # seconds: a lost write only means a few replayed (deduped) events
CRASH_BACKOFF = 30.0  # seconds before this process retries a channel whose client crashed
STOP_TIMEOUT = 10.0


class _LeaseLost(Exception):
    pass


@dataclass
class _Held:
    """A channel this process holds the lease of, and its client."""

    channel_id: int
    fingerprint: str
    creds: ChannelCredentials
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    fatal: GatewayFatal | None = None
    crashed: bool = False
    pending: tuple[str | None, int | None, str | None] | None = None  # session not yet written
    last_write: float = 0.0


def _fingerprint(channel: Channel) -> str:
    """Changes when the channel's settings or secrets do: the client restarts with the new ones."""
    raw = orjson.dumps(channel.config, option=orjson.OPT_SORT_KEYS) + channel.secrets_encrypted.encode()
    return hashlib.sha256(raw).hexdigest()


class GatewayRunner:
    def __init__(self, dsn: str, client_options: Mapping[str, Any] | None = None):
        self.dsn = dsn
        self.client_options = dict(client_options or {})
        self.held: dict[int, _Held] = {}
        self._lease: asyncpg.Connection | None = None
        self._wake = asyncio.Event()
        # Channels not to retry: fatal refusals until their settings change, crashes for a while.
        self._refused: dict[int, str] = {}
        self._retry_at: dict[int, float] = {}
        self._takeover_grace = 0.0

    async def run(self, stop: asyncio.Event, poll_interval: float) -> None:
        # Long enough for an old holder to notice its lost lease: its next poll checks it.
        self._takeover_grace = 2 * poll_interval + 0.5
        try:
            while not stop.is_set():
                try:
                    await self._tick()
                except _LeaseLost as exc:
                    log.warning("gateway lease connection failed", extra={"error": repr(exc.__cause__)})
                    await self._lost_lease()
                except Exception:
                    # The database is briefly unreachable, say: clients keep running, try again later.
                    log.exception("gateway poll failed")
                self._wake.clear()
                stop_wait = asyncio.ensure_future(stop.wait())
                wake_wait = asyncio.ensure_future(self._wake.wait())
                await asyncio.wait(
                    {stop_wait, wake_wait}, timeout=poll_interval, return_when=asyncio.FIRST_COMPLETED
                )
                stop_wait.cancel()
                wake_wait.cancel()
        finally:
            await self._stop_all()
            if self._lease is not None:
                with contextlib.suppress(Exception):
                    await self._lease.close(timeout=5)  # releases every lease still held
                self._lease = None

    # ---- one poll --------------------------------------------------------------------------------

    async def _tick(self) -> None:
        try:
            lease = await self._lease_connection()
            await lease.fetchval("SELECT 1")  # a dead connection means our leases are gone
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise _LeaseLost from exc
        channels = {c.id: c for c in await Channel.filter(platform=Platform.DISCORD, enabled=True)}
        for held in list(self.held.values()):
            channel = channels.get(held.channel_id)
            if held.task is not None and held.task.done():
                await self._release(held)
            elif channel is None or _fingerprint(channel) != held.fingerprint:
                await self._stop(held)  # disabled, deleted or changed: let go (and retake with new settings)
                await self._release(held)
        now = time.monotonic()
        for channel in channels.values():
            if channel.id in self.held or self._refused.get(channel.id) == _fingerprint(channel):
                continue
            if self._retry_at.get(channel.id, 0.0) > now:
                continue
            if await lease.fetchval(_LOCK, channel.id):
                await self._start(channel)

    async def _lease_connection(self) -> asyncpg.Connection:
        if self._lease is not None and self._lease.is_closed():
            await self._lost_lease()
        if self._lease is None:
            self._lease = await asyncpg.connect(self.dsn)
            # Notice a dropped connection at once, not at the next poll.
            self._lease.add_termination_listener(lambda _conn: self._wake.set())
        return self._lease

    async def _lost_lease(self) -> None:
        """The lease connection is gone, and every lock with it: stop every client now."""
        if self.held:
            log.warning(
                "gateway lost its leases; stopping its clients", extra={"channels": sorted(self.held)}
            )
        await self._stop_all(release=False)
        if self._lease is not None:
            self._lease.terminate()
            self._lease = None

    # ---- clients ---------------------------------------------------------------------------------

    async def _start(self, channel: Channel) -> None:
        fingerprint = _fingerprint(channel)
        try:
            creds = credentials(channel)
        except SecretsUnreadable:
            await self._refuse(channel.id, fingerprint, "the channel's secrets cannot be decrypted")
            return
        token = (creds.secrets.get("bot_token") or "").strip()
        if not token:
            await self._refuse(channel.id, fingerprint, "the channel has no bot token")
            return
        session_id, seq, resume_url = await _load_session(channel.id)
        held = _Held(channel.id, fingerprint, creds)
        client = GatewayClient(
            token,
            gateway_intents(creds),
            url=gateway_url(creds),
            session_id=session_id,
            seq=seq,
            resume_url=resume_url,
            on_dispatch=lambda event, data, s: self._on_dispatch(held, event, data, s),
            on_session=lambda sid, s, url: self._on_session(held, sid, s, url),
            name=f"channel {channel.id}",
            **self.client_options,
        )
        grace = self._takeover_grace if session_id is not None else 0.0  # someone may hold it still
        held.task = asyncio.create_task(self._run_client(held, client, grace), name=f"gateway-{channel.id}")
        self.held[channel.id] = held
        log.info("gateway holds channel", extra={"channel_id": channel.id, "resuming": client.can_resume})

    async def _run_client(self, held: _Held, client: GatewayClient, grace: float) -> None:
        try:
            if grace:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(held.stop.wait(), grace)
                if held.stop.is_set():
                    return
            await client.run(held.stop)
        except GatewayFatal as exc:
            held.fatal = exc
            await record_channel_error(
                held.channel_id, f"Discord gateway closed with {exc.code}: {exc.reason}"
            )
        except Exception:
            held.crashed = True
            log.exception("gateway client crashed", extra={"channel_id": held.channel_id})
        finally:
            with contextlib.suppress(Exception):
                await self._write_session(held)  # the next holder resumes from exactly here
            self._wake.set()

    async def _on_dispatch(self, held: _Held, event: str, data: dict[str, Any], seq: int | None) -> None:
        parsed = parse_gateway_dispatch({"op": 0, "t": event, "s": seq, "d": data}, held.creds)
        if parsed.messages or parsed.edits or parsed.statuses:
            result = await ingest(held.channel_id, Platform.DISCORD.value, parsed)
            metrics.MESSAGES_IN.labels(Platform.DISCORD).inc(result.stored)
            metrics.MESSAGES_DUPLICATE.labels(Platform.DISCORD).inc(result.duplicates)
        await record_webhook(held.channel_id)

    async def _on_session(
        self, held: _Held, session_id: str | None, seq: int | None, url: str | None
    ) -> None:
        previous = held.pending
        held.pending = (session_id, seq, url)
        new_session = previous is None or previous[0] != session_id
        if new_session or time.monotonic() - held.last_write >= CURSOR_WRITE_INTERVAL:
            await self._write_session(held)

    async def _write_session(self, held: _Held) -> None:
        if held.pending is None:
            return
        session_id, seq, url = held.pending
        value = orjson.dumps({"session_id": session_id, "seq": seq, "resume_url": url}).decode()
        await db().execute_query(_SAVE_CURSOR, [held.channel_id, CURSOR_NAME, value])
        held.pending = None
        held.last_write = time.monotonic()

    async def _stop(self, held: _Held) -> None:
        held.stop.set()
        if held.task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(held.task), STOP_TIMEOUT)
            except TimeoutError:
                held.task.cancel()
                with contextlib.suppress(BaseException):
                    await held.task

    async def _release(self, held: _Held) -> None:
        self.held.pop(held.channel_id, None)
        if held.fatal is not None:
            self._refused[held.channel_id] = held.fingerprint
        elif held.crashed:
            self._retry_at[held.channel_id] = time.monotonic() + CRASH_BACKOFF
        if self._lease is not None and not self._lease.is_closed():
            await self._lease.fetchval(_UNLOCK, held.channel_id)

    async def _refuse(self, channel_id: int, fingerprint: str, reason: str) -> None:
        """Settings that cannot work: say so on the channel, and wait for them to change."""
        log.error("gateway cannot start channel", extra={"channel_id": channel_id, "reason": reason})
        self._refused[channel_id] = fingerprint
        await record_channel_error(channel_id, f"Discord gateway: {reason}.")
        if self._lease is not None:
            await self._lease.fetchval(_UNLOCK, channel_id)

    async def _stop_all(self, release: bool = True) -> None:
        held = list(self.held.values())
        await asyncio.gather(*(self._stop(h) for h in held), return_exceptions=True)
        for h in held:
            if release:
                with contextlib.suppress(Exception):
                    await self._release(h)
            else:
                self.held.pop(h.channel_id, None)


async def _load_session(channel_id: int) -> tuple[str | None, int | None, str | None]:
    cursor = await ChannelCursor.get_or_none(channel_id=channel_id, name=CURSOR_NAME)
    if cursor is None:
        return None, None, None
    try:
        value = orjson.loads(cursor.value)
    except orjson.JSONDecodeError:
        return None, None, None
    if not isinstance(value, dict):
        return None, None, None
    session_id, seq, url = value.get("session_id"), value.get("seq"), value.get("resume_url")
    return (
        session_id if isinstance(session_id, str) else None,
        seq if isinstance(seq, int) and not isinstance(seq, bool) else None,
        url if isinstance(url, str) else None,
    )


async def run_gateways(
    stop: asyncio.Event, poll_interval: float = 5.0, *, client_options: Mapping[str, Any] | None = None
) -> None:
    """Hold the gateway of every enabled Discord channel this process can lease, until `stop`.
    `client_options` go to each GatewayClient (tests shorten its delays)."""
    url = await core_db.resolve_database_url(get_settings())
    await GatewayRunner(core_db.asyncpg_dsn(url), client_options).run(stop, poll_interval)
