"""Plain mailboxes over IMAP: fetch what arrived since the last poll and ingest it like a webhook.

One poll of one mailbox: take a PostgreSQL advisory lock (transaction-scoped, on a connection of
its own, so two processes never read one mailbox at once and a dead process frees it at once),
connect with the stdlib `imaplib` in a worker thread (it blocks), LOGIN, SELECT the folder,
`UID SEARCH UID {last+1}:*`, `UID FETCH … (RFC822)`, parse each message with the webhook code
(connectors/email.py) and ingest it, then store the message's UID in `channel_cursors`.

The cursor moves after each ingest: a crash in between means the message is fetched again next
time and deduplicated on its Message-ID. When the mailbox's UIDVALIDITY changes (it was rebuilt,
or moved to another server) the old UIDs mean nothing: the poller starts over from the newest
messages and logs it.
"""

from __future__ import annotations

import asyncio
import imaplib
import logging
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.base import ChannelCredentials, MalformedPayload, ParsedWebhook, Platform
from connectors.email import parse_raw_message
from core.sql import db
from models import Channel, ChannelCursor
from resolvers.channels import clear_channel_error, credentials, record_channel_error, record_webhook
from resolvers.inbound import ingest

log = logging.getLogger("pytake.imap")

CURSOR_UID = "imap_uid"
CURSOR_VALIDITY = "imap_uidvalidity"
BATCH = 200  # messages per poll: a mailbox with a long backlog catches up over several polls
FETCH_CHUNK = 10  # messages per UID FETCH command (and held in memory at once)
RESYNC_NEWEST = 50  # after a UIDVALIDITY change, how many of the newest messages are read again
TIMEOUT = 30.0  # seconds, per socket operation
ERROR_PREFIX = "IMAP: "  # channel errors written here start with it, so a good poll can clear them

_LOCK = "SELECT pg_try_advisory_xact_lock(hashtextextended('imap:' || $1::bigint, 0))"
_SAVE_CURSOR = (
    "INSERT INTO channel_cursors (channel_id, name, value, updated_at) VALUES ($1, $2, $3, now()) "
    "ON CONFLICT (channel_id, name) DO UPDATE SET value = EXCLUDED.value, updated_at = now()"
)
_UID_RE = re.compile(rb"\bUID (\d+)", re.IGNORECASE)
_ATOM_SAFE = re.compile(r"^[A-Za-z0-9._@+\-/]+$")


class MailboxError(Exception):
    """The mailbox could not be read (login refused, folder missing, server error)."""


@dataclass
class Opened:
    """A selected mailbox: what changed since the last poll and which UIDs to read."""

    uidvalidity: int | None
    start_after: int  # the UID the search started after (moved when UIDVALIDITY changed)
    uids: list[int]  # to read in this poll, oldest first
    validity_changed: bool = False
    backlog: int = 0  # messages left for the next poll


def _quote(value: str) -> str:
    """An IMAP string argument (imaplib sends arguments as they are, except LOGIN's password)."""
    if _ATOM_SAFE.match(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Mailbox:
    """One IMAP session. Every method blocks (imaplib): call them through `asyncio.to_thread`."""

    def __init__(self, config: Mapping[str, Any], password: str):
        self.config = config
        self.password = password
        self.conn: imaplib.IMAP4 | None = None

    def open(self, after_uid: int, known_validity: int | None, batch: int = BATCH) -> Opened:
        """Connect, LOGIN, SELECT the folder and find the UIDs after `after_uid`."""
        config = self.config
        host = str(config["imap_host"])
        use_ssl = bool(config.get("imap_ssl", True))
        port = int(config.get("imap_port") or (993 if use_ssl else 143))
        folder = str(config.get("imap_folder") or "INBOX")
        if use_ssl:
            self.conn = imaplib.IMAP4_SSL(
                host, port, ssl_context=ssl.create_default_context(), timeout=TIMEOUT
            )
        else:
            self.conn = imaplib.IMAP4(host, port, timeout=TIMEOUT)
        conn = self.conn
        try:
            conn.login(_quote(str(config.get("imap_username") or "")), self.password)
        except imaplib.IMAP4.error as exc:
            raise MailboxError(
                f"IMAP login failed for {config.get('imap_username')!r}: {_text(exc)}"
            ) from exc
        typ, data = conn.select(_quote(folder))
        if typ != "OK":
            raise MailboxError(f"the folder {folder!r} cannot be opened: {_text(data)}")
        _, validity_data = conn.response("UIDVALIDITY")
        validity = _int(validity_data[0] if validity_data else None)
        start_after, changed = after_uid, False
        if known_validity is not None and validity is not None and validity != known_validity:
            # The old UIDs name other messages now: re-read the newest few (dedupe on Message-ID
            # absorbs those already stored) rather than the whole mailbox, or skip nothing new.
            every = _search(conn, 0)
            start_after = every[-RESYNC_NEWEST - 1] if len(every) > RESYNC_NEWEST else 0
            changed = True
        uids = _search(conn, start_after)
        return Opened(validity, start_after, uids[:batch], changed, max(0, len(uids) - batch))

    def read(self, uids: list[int], channel: ChannelCredentials) -> list[tuple[int, ParsedWebhook | str]]:
        """Fetch and parse these messages: (uid, parsed) or (uid, why it was skipped)."""
        assert self.conn is not None
        result: list[tuple[int, ParsedWebhook | str]] = []
        for uid, raw in _fetch(self.conn, uids):
            try:
                result.append((uid, parse_raw_message(raw, channel, "imap")))
            except MalformedPayload as exc:
                result.append((uid, str(exc)))
        return result

    def close(self) -> None:
        if self.conn is None:
            return
        try:
            self.conn.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
        self.conn = None


def _search(conn: imaplib.IMAP4, after_uid: int) -> list[int]:
    typ, data = conn.uid("SEARCH", "UID", f"{after_uid + 1}:*")
    if typ != "OK":
        raise MailboxError(f"UID SEARCH failed: {_text(data)}")
    found = set()
    for line in data:
        for token in (line or b"").split():
            if token.isdigit():
                found.add(int(token))
    # `n:*` always matches the newest message, even when its UID is below n (RFC 3501 6.4.8).
    return sorted(uid for uid in found if uid > after_uid)


def _fetch(conn: imaplib.IMAP4, uids: list[int]) -> list[tuple[int, bytes]]:
    typ, data = conn.uid("FETCH", ",".join(str(u) for u in uids), "(RFC822)")
    if typ != "OK":
        raise MailboxError(f"UID FETCH failed: {_text(data)}")
    result = []
    for item in data:
        if not isinstance(item, tuple) or len(item) < 2:
            continue  # the closing ")" of each response
        match = _UID_RE.search(item[0])
        if match and isinstance(item[1], bytes):
            result.append((int(match.group(1)), item[1]))
    result.sort()
    return result


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        value = b" ".join(v for v in value if isinstance(v, bytes)) or str(value)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, BaseException):
        value = " ".join(str(a.decode("utf-8", "replace") if isinstance(a, bytes) else a) for a in value.args)
    return str(value)


async def _save_cursor(channel_id: int, name: str, value: int) -> None:
    await db().execute_query(_SAVE_CURSOR, [channel_id, name, str(value)])


async def _cursors(channel_id: int) -> tuple[int, int | None]:
    rows = {
        c.name: c.value
        for c in await ChannelCursor.filter(channel_id=channel_id, name__in=[CURSOR_UID, CURSOR_VALIDITY])
    }
    return _int(rows.get(CURSOR_UID)) or 0, _int(rows.get(CURSOR_VALIDITY))


async def poll_mailbox(channel: Channel) -> int:
    """Read what arrived in the channel's mailbox since the last poll; returns how many messages
    were stored. 0 when another process is polling this mailbox right now."""
    creds = credentials(channel)
    if not creds.config.get("imap_host"):
        return 0
    async with db().acquire_connection() as lock_conn, lock_conn.transaction():
        if not await lock_conn.fetchval(_LOCK, channel.id):
            log.info("mailbox is being polled elsewhere", extra={"channel_id": channel.id})
            return 0
        return await _poll_locked(channel, creds)


async def _poll_locked(channel: Channel, creds: ChannelCredentials) -> int:
    last_uid, known_validity = await _cursors(channel.id)
    mailbox = Mailbox(creds.config, str(creds.secrets.get("imap_password") or ""))
    try:
        try:
            opened = await asyncio.to_thread(mailbox.open, last_uid, known_validity)
        except MailboxError as exc:
            await record_channel_error(channel.id, f"{ERROR_PREFIX}{exc}")
            raise
        except (OSError, imaplib.IMAP4.error) as exc:  # unreachable, TLS trouble, protocol errors
            await record_channel_error(channel.id, f"{ERROR_PREFIX}the mailbox could not be read ({exc!r})")
            raise MailboxError(f"the mailbox could not be read: {exc!r}") from exc
        if opened.validity_changed:
            log.warning(
                "mailbox UIDVALIDITY changed: starting over from the newest messages",
                extra={
                    "channel_id": channel.id,
                    "old_uidvalidity": known_validity,
                    "new_uidvalidity": opened.uidvalidity,
                    "restart_after_uid": opened.start_after,
                },
            )
        if opened.uidvalidity is not None and (opened.validity_changed or known_validity is None):
            await _save_cursor(channel.id, CURSOR_UID, opened.start_after)
            await _save_cursor(channel.id, CURSOR_VALIDITY, opened.uidvalidity)
        stored = 0
        # A chunk at a time: memory stays bounded by one chunk, whatever the backlog.
        for start in range(0, len(opened.uids), FETCH_CHUNK):
            chunk = opened.uids[start : start + FETCH_CHUNK]
            for uid, parsed in await asyncio.to_thread(mailbox.read, chunk, creds):
                if isinstance(parsed, str):
                    # Nothing to file it under (no sender): skipped for good rather than block the mailbox.
                    log.warning(
                        "mailbox message skipped",
                        extra={"channel_id": channel.id, "uid": uid, "reason": parsed},
                    )
                else:
                    stored += (await ingest(channel.id, Platform.EMAIL.value, parsed)).stored
                await _save_cursor(channel.id, CURSOR_UID, uid)
    finally:
        await asyncio.to_thread(mailbox.close)
    if opened.backlog:
        log.info(
            "mailbox backlog left for the next poll", extra={"channel_id": channel.id, "left": opened.backlog}
        )
    await record_webhook(channel.id)
    if (channel.last_error or "").startswith(ERROR_PREFIX):
        await clear_channel_error(channel.id)
    return stored


async def run_mailboxes(stop: asyncio.Event, interval: float) -> None:
    """Poll every enabled e-mail channel that has a mailbox, every `interval` seconds, until `stop`."""
    while not stop.is_set():
        try:
            channels = await Channel.filter(platform=Platform.EMAIL, enabled=True).order_by("id")
        except Exception:
            log.exception("mailbox poller could not list channels")
            channels = []
        for channel in channels:
            if stop.is_set():
                break
            if not channel.config.get("imap_host"):
                continue
            try:
                stored = await poll_mailbox(channel)
            except Exception as exc:  # one broken mailbox must not stop the others
                log.warning("mailbox poll failed", extra={"channel_id": channel.id, "error": str(exc)})
                continue
            if stored:
                log.info("mailbox polled", extra={"channel_id": channel.id, "stored": stored})
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except TimeoutError:
            pass
