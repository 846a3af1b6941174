"""Fake mail infrastructure for tests, spoken over real sockets:

- `FakeSMTP`: a real SMTP server (aiosmtpd) on 127.0.0.1 that insists on AUTH LOGIN/PLAIN, records
  every message it accepts, and can be told to refuse the next ones with any SMTP reply;
- `FakeIMAP`: a small IMAP4rev1 server (asyncio streams) with one mailbox, enough for imaplib:
  CAPABILITY, LOGIN, SELECT (EXISTS, UIDVALIDITY, UIDNEXT), UID SEARCH over UID sets, UID FETCH
  (RFC822) with literals, NOOP, LOGOUT; `append()` delivers new mail;
- Mailgun's side: signed route posts (multipart/form-data or urlencoded, like a `forward()`
  route) and signed event webhooks; SendGrid Inbound Parse posts.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import secrets
import socket
import time
import urllib.parse
import uuid
from collections import deque
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import default as default_policy
from email.utils import format_datetime, formataddr, make_msgid
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

log = logging.getLogger(__name__)


# ---- SMTP ---------------------------------------------------------------------------------------


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    login: str | None

    @property
    def message(self) -> EmailMessage:
        return BytesParser(policy=default_policy).parsebytes(self.data)  # type: ignore[return-value]


class _SMTPHandler:
    def __init__(self, fake: FakeSMTP):
        self.fake = fake

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        refusal = self.fake._refusal("RCPT")
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        refusal = self.fake._refusal("DATA")
        if refusal is not None:
            return refusal
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        content = envelope.original_content or envelope.content or b""
        data = content if isinstance(content, bytes) else content.encode()
        self.fake.received.append(ReceivedMail(str(envelope.mail_from), list(envelope.rcpt_tos), data, login))
        return "250 2.0.0 Ok: queued"


class FakeSMTP:
    """A submission server (like port 587 without TLS): AUTH required, messages recorded."""

    def __init__(self, username: str = "pytake", password: str | None = None):
        self.username = username
        self.password = password or secrets.token_hex(8)
        self.received: list[ReceivedMail] = []
        self.failed_logins = 0
        self._refusals: deque[tuple[str, str]] = deque()
        self.host = "127.0.0.1"
        self.port = 0

    def refuse_next(self, reply: str, stage: str = "DATA", times: int = 1) -> None:
        """The next `times` messages get `reply` (e.g. "451 4.3.0 Try again later",
        "550 5.1.1 No such user") at RCPT or DATA."""
        for _ in range(times):
            self._refusals.append((stage.upper(), reply))

    def _refusal(self, stage: str) -> str | None:
        if self._refusals and self._refusals[0][0] == stage:
            return self._refusals.popleft()[1]
        return None

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if mechanism not in ("LOGIN", "PLAIN") or not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = hmac.compare_digest(auth_data.login, self.username.encode()) and hmac.compare_digest(
            auth_data.password, self.password.encode()
        )
        if not ok:
            self.failed_logins += 1
            return AuthResult(success=False, handled=False)  # aiosmtpd answers 535
        return AuthResult(success=True, auth_data=auth_data)

    @contextlib.asynccontextmanager
    async def serve(self) -> AsyncIterator[FakeSMTP]:
        self.port = _free_port()
        controller = Controller(
            _SMTPHandler(self),
            hostname=self.host,
            port=self.port,
            authenticator=self._authenticate,
            auth_required=True,
            auth_require_tls=False,  # loopback only; real servers require TLS first
            auth_exclude_mechanism=["CRAM-MD5"],
        )
        await asyncio.to_thread(controller.start)
        try:
            yield self
        finally:
            await asyncio.to_thread(controller.stop)

    def config(self) -> dict[str, Any]:
        """The channel settings that send through this server."""
        return {
            "smtp_host": self.host,
            "smtp_port": self.port,
            "smtp_username": self.username,
            "smtp_starttls": False,
        }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---- IMAP ---------------------------------------------------------------------------------------


@dataclass
class _Stored:
    uid: int
    raw: bytes
    flags: set[str] = field(default_factory=set)


class FakeIMAP:
    """One user, one folder. UIDs grow with `append`; `rebuild()` renumbers the mailbox under a
    new UIDVALIDITY, as a server does when a mailbox is recreated."""

    def __init__(
        self, username: str = "support@example.com", password: str | None = None, folder: str = "INBOX"
    ):
        self.username = username
        self.password = password or secrets.token_hex(8)
        self.folder = folder
        self.uidvalidity = int(time.time()) % 1_000_000_000
        self.uidnext = 1
        self.messages: list[_Stored] = []
        self.commands: list[str] = []  # every command name received, for tests
        self.fetched: list[int] = []  # UIDs sent to clients
        self.failed_logins = 0
        self.host = "127.0.0.1"
        self.port = 0

    def append(self, raw: bytes) -> int:
        uid = self.uidnext
        self.uidnext += 1
        self.messages.append(_Stored(uid, raw))
        return uid

    def rebuild(self, *, skip_uids: int = 100) -> None:
        """A new UIDVALIDITY and new UIDs for every message, as when a mailbox is recreated or
        restored. The new UIDs start at `skip_uids`, above the old ones: a client that ignored
        UIDVALIDITY would take every old message for new mail."""
        self.uidvalidity += 1
        self.uidnext = skip_uids
        for stored in self.messages:
            stored.uid = self.uidnext
            self.uidnext += 1

    @contextlib.asynccontextmanager
    async def serve(self) -> AsyncIterator[FakeIMAP]:
        server = await asyncio.start_server(self._client, self.host, 0)
        self.port = int(server.sockets[0].getsockname()[1])
        try:
            yield self
        finally:
            server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 5)

    def config(self) -> dict[str, Any]:
        return {
            "imap_host": self.host,
            "imap_port": self.port,
            "imap_username": self.username,
            "imap_ssl": False,
            "imap_folder": self.folder,
        }

    # ---- the protocol ---------------------------------------------------------------------------

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = {"user": None, "selected": False}
        try:
            writer.write(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] Fake IMAP ready\r\n")
            await writer.drain()
            while True:
                line = await reader.readline()
                if not line:
                    return
                try:
                    tag, command, args = await self._read_command(line, reader, writer)
                except ValueError:
                    writer.write(b"* BAD Command line not understood\r\n")
                    await writer.drain()
                    continue
                self.commands.append(command)
                done = await self._dispatch(tag, command, args, session, writer)
                await writer.drain()
                if done:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _read_command(
        self, line: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tuple[str, str, list[str]]:
        """Tag, upper-case command and its arguments (atoms, "quoted strings", {n} literals)."""
        text = line.rstrip(b"\r\n")
        tokens: list[str] = []
        pos = 0
        while True:
            while pos < len(text) and text[pos : pos + 1] == b" ":
                pos += 1
            if pos >= len(text):
                break
            char = text[pos : pos + 1]
            if char == b'"':
                value = bytearray()
                pos += 1
                while pos < len(text) and text[pos : pos + 1] != b'"':
                    if text[pos : pos + 1] == b"\\":
                        pos += 1
                    value += text[pos : pos + 1]
                    pos += 1
                if pos >= len(text):
                    raise ValueError("unterminated string")
                pos += 1
                tokens.append(value.decode("utf-8", "replace"))
            elif char == b"{" and text.endswith(b"}") and text.rfind(b"{") == pos:
                size = int(text[pos + 1 : -1].rstrip(b"+"))
                writer.write(b"+ Ready for literal data\r\n")
                await writer.drain()
                literal = await reader.readexactly(size)
                tokens.append(literal.decode("utf-8", "replace"))
                text = (await reader.readline()).rstrip(b"\r\n")
                pos = 0
            else:
                end = pos
                depth = 0
                while end < len(text) and (text[end : end + 1] != b" " or depth):
                    if text[end : end + 1] == b"(":
                        depth += 1
                    elif text[end : end + 1] == b")":
                        depth -= 1
                    end += 1
                tokens.append(text[pos:end].decode("utf-8", "replace"))
                pos = end
        if len(tokens) < 2:
            raise ValueError("no command")
        return tokens[0], tokens[1].upper(), tokens[2:]

    async def _dispatch(
        self, tag: str, command: str, args: list[str], session: dict[str, Any], writer: asyncio.StreamWriter
    ) -> bool:
        def say(text: str) -> None:
            writer.write(text.encode() + b"\r\n")

        if command == "CAPABILITY":
            say("* CAPABILITY IMAP4rev1 AUTH=PLAIN")
            say(f"{tag} OK CAPABILITY completed")
        elif command == "NOOP":
            if session["selected"]:
                say(f"* {len(self.messages)} EXISTS")
            say(f"{tag} OK NOOP completed")
        elif command == "LOGOUT":
            say("* BYE Fake IMAP logging out")
            say(f"{tag} OK LOGOUT completed")
            return True
        elif command == "LOGIN":
            if len(args) != 2:
                say(f"{tag} BAD LOGIN needs a user name and a password")
            elif hmac.compare_digest(args[0].encode(), self.username.encode()) and hmac.compare_digest(
                args[1].encode(), self.password.encode()
            ):
                session["user"] = args[0]
                say(f"{tag} OK [CAPABILITY IMAP4rev1] Logged in")
            else:
                self.failed_logins += 1
                say(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)")
        elif session["user"] is None:
            say(f"{tag} BAD Command {command} is not allowed before LOGIN")
        elif command in ("SELECT", "EXAMINE"):
            if not args or args[0].upper() != self.folder.upper():
                session["selected"] = False
                say(f"{tag} NO [NONEXISTENT] Unknown Mailbox: {args[0] if args else ''}")
            else:
                session["selected"] = True
                say("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)")
                say(f"* {len(self.messages)} EXISTS")
                say("* 0 RECENT")
                say(f"* OK [UIDVALIDITY {self.uidvalidity}] UIDs valid")
                say(f"* OK [UIDNEXT {self.uidnext}] Predicted next UID")
                mode = "READ-ONLY" if command == "EXAMINE" else "READ-WRITE"
                say(f"{tag} OK [{mode}] {command} completed")
        elif not session["selected"]:
            say(f"{tag} BAD No mailbox selected")
        elif command == "UID" and args and args[0].upper() == "SEARCH":
            criteria = [a.upper() for a in args[1:]]
            if criteria[:1] == ["UID"] and len(criteria) == 2:
                uids = self._uid_set(criteria[1])
            elif criteria in (["ALL"], []):
                uids = [m.uid for m in self.messages]
            else:
                say(f"{tag} BAD Unsupported search criteria")
                return False
            say("* SEARCH" + "".join(f" {u}" for u in uids))
            say(f"{tag} OK SEARCH completed")
        elif command == "UID" and args and args[0].upper() == "FETCH" and len(args) >= 3:
            items = args[2].upper()
            if "RFC822" not in items and "BODY[]" not in items and "BODY.PEEK[]" not in items:
                say(f"{tag} BAD Only RFC822 / BODY[] fetches are supported")
                return False
            peek = "PEEK" in items
            wanted = set(self._uid_set(args[1]))
            for seq, stored in enumerate(self.messages, start=1):
                if stored.uid not in wanted:
                    continue
                if not peek:
                    stored.flags.add("\\Seen")
                name = "RFC822" if "RFC822" in items else "BODY[]"
                flags = " ".join(sorted(stored.flags))
                writer.write(
                    f"* {seq} FETCH (UID {stored.uid} FLAGS ({flags}) {name} {{{len(stored.raw)}}}\r\n".encode()
                    + stored.raw
                    + b")\r\n"
                )
                self.fetched.append(stored.uid)
            say(f"{tag} OK FETCH completed")
        else:
            say(f"{tag} BAD Command not supported by the fake")
        return False

    def _uid_set(self, spec: str) -> list[int]:
        """The UIDs of existing messages in a sequence set like "4:*" or "1,3:5". `*` is the
        largest UID in use, so "n:*" always includes the newest message (RFC 3501)."""
        existing = [m.uid for m in self.messages]
        if not existing:
            return []
        largest = max(existing)
        chosen: set[int] = set()
        for part in spec.split(","):
            if ":" in part:
                low_text, high_text = part.split(":", 1)
                low = largest if low_text == "*" else int(low_text)
                high = largest if high_text == "*" else int(high_text)
                low, high = min(low, high), max(low, high)
                chosen.update(u for u in existing if low <= u <= high)
            else:
                value = largest if part == "*" else int(part)
                if value in existing:
                    chosen.add(value)
        return sorted(chosen)


def make_mail(
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    sender_name: str = "",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: Iterable[str] = (),
    headers: Mapping[str, str] | None = None,
    attachments: Iterable[tuple[str, str, bytes]] = (),
) -> bytes:
    """A raw RFC 5322 message as a mail client writes it (attachments: (filename, mime, bytes))."""
    mail = EmailMessage()
    mail["From"] = formataddr((sender_name, sender)) if sender_name else sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail["Message-ID"] = message_id or make_msgid(domain=sender.rsplit("@", 1)[-1])
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
    refs = list(references)
    if refs:
        mail["References"] = " ".join(refs)
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content(text)
    for filename, mime, data in attachments:
        main, _, sub = mime.partition("/")
        mail.add_attachment(data, maintype=main, subtype=sub, filename=filename)
    return mail.as_bytes()


# ---- Mailgun and SendGrid posting to our webhook ------------------------------------------------


def mailgun_signature(signing_key: str, now: float | None = None, token: str | None = None) -> dict[str, str]:
    """Mailgun's {timestamp, token, signature}: hex HMAC-SHA256(key, timestamp + token)."""
    timestamp = str(int(time.time() if now is None else now))
    token = token or secrets.token_hex(25)
    signature = hmac.new(signing_key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return {"timestamp": timestamp, "token": token, "signature": signature}


def route_fields_from_mail(raw: bytes, recipient: str) -> dict[str, str]:
    """The fields a Mailgun `forward()` route posts for a raw message (without the signature)."""
    message: Message = BytesParser(policy=default_policy).parsebytes(raw)
    body = message.get_body(preferencelist=("plain",)) if isinstance(message, EmailMessage) else None
    text = body.get_content() if body is not None else ""
    pairs = [[name, str(value)] for name, value in message.items()]
    fields = {
        "recipient": recipient,
        "sender": str(message.get("Return-Path") or message.get("From") or "").strip("<>"),
        "from": str(message.get("From") or ""),
        "subject": str(message.get("Subject") or ""),
        "body-plain": text,
        "attachment-count": "0",
        "message-headers": json.dumps(pairs),
    }
    for name in ("Message-Id", "In-Reply-To", "References", "Date", "To", "From", "Subject"):
        value = message.get(name)
        if value is not None:
            fields[name] = str(value)
    return fields


def multipart_form(
    fields: Mapping[str, str], files: Iterable[tuple[str, str, str, bytes]] = ()
) -> tuple[bytes, str]:
    """A multipart/form-data body (files: (field name, filename, mime type, bytes))."""
    boundary = "----pytakefake" + uuid.uuid4().hex
    out = bytearray()
    for name, value in fields.items():
        out += f"--{boundary}\r\n".encode()
        out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode() + b"\r\n"
    for name, filename, mime, data in files:
        out += f"--{boundary}\r\n".encode()
        out += f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'.encode()
        out += f"Content-Type: {mime}\r\n\r\n".encode()
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def signed_route_request(
    fields: Mapping[str, str],
    signing_key: str,
    *,
    now: float | None = None,
    files: Iterable[tuple[str, str, str, bytes]] = (),
    multipart: bool = True,
) -> tuple[bytes, dict[str, str]]:
    """(body, headers) of a Mailgun route post, signed. Mailgun sends urlencoded without files."""
    files = list(files)
    all_fields = {**fields, **mailgun_signature(signing_key, now)}
    if files:
        all_fields["attachment-count"] = str(len(files))
    if multipart or files:
        body, content_type = multipart_form(all_fields, files)
    else:
        body, content_type = urllib.parse.urlencode(all_fields).encode(), "application/x-www-form-urlencoded"
    return body, {"Content-Type": content_type, "User-Agent": "mailgun/treq-16.12.0"}


def event_payload(
    event: str,
    message_id: str,
    recipient: str,
    *,
    severity: str | None = None,
    reason: str | None = None,
    code: int | None = None,
    message: str | None = None,
    timestamp: float | None = None,
) -> dict[str, Any]:
    """An event webhook body like mailgun_status_*.json (without the signature)."""
    data: dict[str, Any] = {
        "id": uuid.uuid4().hex[:22],
        "timestamp": time.time() if timestamp is None else timestamp,
        "log-level": "error" if event == "failed" else "info",
        "event": event,
        "recipient": recipient,
        "recipient-domain": recipient.rsplit("@", 1)[-1],
        "message": {
            "headers": {"message-id": message_id.strip("<>"), "to": recipient},
            "attachments": [],
            "size": 100,
        },
    }
    if event == "failed":
        data["severity"] = severity or "permanent"
        data["reason"] = reason or "bounce"
        data["delivery-status"] = {
            "code": code or 550,
            "message": message or "550 5.1.1 No such user",
            "description": "",
        }
    elif event == "delivered":
        data["delivery-status"] = {"code": 250, "message": "OK", "description": ""}
    return {"event-data": data}


def signed_event_request(
    payload: Mapping[str, Any], signing_key: str, *, now: float | None = None
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"signature": mailgun_signature(signing_key, now), **payload}).encode()
    return body, {"Content-Type": "application/json"}


async def post(url: str, body: bytes, headers: Mapping[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(timeout=20) as client:
        return await client.post(url, content=body, headers=dict(headers))


async def post_route(
    url: str,
    fields: Mapping[str, str],
    signing_key: str,
    *,
    now: float | None = None,
    files: Iterable[tuple[str, str, str, bytes]] = (),
    multipart: bool = True,
) -> httpx.Response:
    body, headers = signed_route_request(fields, signing_key, now=now, files=files, multipart=multipart)
    return await post(url, body, headers)


async def post_event(
    url: str, payload: Mapping[str, Any], signing_key: str, *, now: float | None = None
) -> httpx.Response:
    body, headers = signed_event_request(payload, signing_key, now=now)
    return await post(url, body, headers)


async def post_sendgrid(
    url: str, key: str, fields: Mapping[str, str], files: Iterable[tuple[str, str, str, bytes]] = ()
) -> httpx.Response:
    """SendGrid Inbound Parse: multipart/form-data to a URL that carries our secret as ?key=."""
    body, content_type = multipart_form(fields, files)
    separator = "&" if "?" in url else "?"
    return await post(f"{url}{separator}key={urllib.parse.quote(key)}", body, {"Content-Type": content_type})
