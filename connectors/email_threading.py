"""E-mail threading and hygiene: Message-ID handling, our own outbound ids, quoted-reply
stripping, auto-reply and bounce detection.

Pure functions over strings and `email.message` objects, shared by the webhook parser and the
IMAP poller (connectors/email.py, ingress/mailbox_poller.py), so both paths thread a message the same way.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from email.message import Message

# platform_message_id is a VARCHAR(255); longer ids (rare, but legal) are hashed to fit.
MAX_ID_LENGTH = 255
_ID_RE = re.compile(r"<([^<>\s]+)>")
_OURS_RE = re.compile(r"^<pytake\.([A-Za-z0-9_-]+)\.[0-9a-f]{16}@[^>]+>$")
_UNSAFE_KEY = re.compile(r"[^A-Za-z0-9_-]")


def normalise_message_id(value: str | None) -> str | None:
    """`<id@host>` whatever the header looked like (bare, extra spaces, comments, several ids:
    the first wins). None when there is nothing usable."""
    if not value:
        return None
    match = _ID_RE.search(value)
    if match:
        core = match.group(1)
    else:
        bare = value.strip().split()
        if not bare:
            return None
        core = bare[0].strip("<>")
        if not core:
            return None
    result = f"<{core}>"
    if len(result) > MAX_ID_LENGTH:
        digest = hashlib.sha256(core.encode("utf-8", "surrogateescape")).hexdigest()
        result = f"<sha256.{digest}@long-message-id.invalid>"
    return result


def message_ids(value: str | None) -> list[str]:
    """Every id of a References / In-Reply-To header, in header order (oldest first)."""
    if not value:
        return []
    found = _ID_RE.findall(value)
    raw = [f"<{f}>" for f in found] if found else value.split()
    ids = []
    for item in raw:
        normal = normalise_message_id(item)
        if normal and normal not in ids:
            ids.append(normal)
    return ids


def thread_refs(in_reply_to: str | None, references: str | None) -> tuple[str, ...]:
    """In-Reply-To first, then References newest first (References lists the oldest first), each
    once: ingest files the message into the conversation of the nearest one it knows."""
    refs: list[str] = []
    for ref in message_ids(in_reply_to) + list(reversed(message_ids(references))):
        if ref not in refs:
            refs.append(ref)
    return tuple(refs)


def outbound_message_id(key: str, domain: str, channel_id: int) -> str:
    """Our Message-ID for an outbound message: `<pytake.{key}.{16 hex}@{domain}>`.

    Deterministic in (channel, key, domain): a retried send job produces the same id, so a
    message that reached the server before a timeout is recognised as one by mail clients and
    matched by delivery events. `key` is our message id (the job's idempotency key)."""
    safe_key = _UNSAFE_KEY.sub("-", key)[:64] or "message"
    digest = hashlib.sha256(f"pytake:{channel_id}:{key}:{domain}".encode()).hexdigest()[:16]
    return f"<pytake.{safe_key}.{digest}@{domain}>"


def our_message_key(message_id: str | None) -> str | None:
    """The key embedded in one of our own Message-IDs, or None when someone else wrote it."""
    if not message_id:
        return None
    match = _OURS_RE.match(message_id)
    return match.group(1) if match else None


def reply_subject(subject: str | None) -> str | None:
    """`Re: subject`, without stacking prefixes (Re:, RE:, AW:, SV:, ...) already there."""
    if not subject or not subject.strip():
        return None
    subject = " ".join(subject.split())
    if re.match(r"^(re|aw|sv|antw|ref|r)\s*(\[\d+\])?\s*:", subject, re.IGNORECASE):
        return subject
    return f"Re: {subject}"


def references_header(references: Iterable[str], in_reply_to: str | None, limit: int = 20) -> list[str]:
    """The References of a reply: the thread's ids oldest first, ending with the one we answer.
    Long threads keep the first id (the thread root) and the most recent ones, as RFC 5322 advises."""
    ids: list[str] = []
    for ref in [*references, in_reply_to]:
        normal = normalise_message_id(ref) if ref else None
        if normal and normal not in ids:
            ids.append(normal)
    if in_reply_to:  # the message we answer comes last, whatever order we were given
        normal = normalise_message_id(in_reply_to)
        if normal in ids:
            ids.remove(normal)
            ids.append(normal)
    if len(ids) > limit:
        ids = [ids[0], *ids[-(limit - 1) :]]
    return ids


# ---- quoted replies and signatures ---------------------------------------------------------------

# Lines where the quoted earlier message starts, in the common clients' languages and shapes.
_QUOTE_HEADERS = [
    re.compile(r"^\s*On\b.{0,300}\bwrote:\s*$", re.IGNORECASE | re.DOTALL),  # Gmail, Apple Mail
    re.compile(r"^\s*Am\b.{0,300}\bschrieb\b.{0,100}:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*Le\b.{0,300}\ba écrit\s*:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*El\b.{0,300}\bescribió\s*:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*Op\b.{0,300}\bschreef\b.{0,100}:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*-{2,}\s*Original Message\s*-{2,}\s*$", re.IGNORECASE),  # Outlook
    re.compile(r"^\s*-{2,}\s*Forwarded message\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^_{10,}\s*$"),  # Outlook's rule above the quoted header block
]
_OUTLOOK_BLOCK = re.compile(r"^\s*(From|De|Von|Van):\s.+$", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\s*(Sent|Date|Envoyé|Gesendet|Verzonden|To|Subject):\s", re.IGNORECASE)
_SIGNATURE_LINES = [
    re.compile(r"^-- ?$"),  # the RFC 3676 signature separator
    re.compile(r"^Sent from my \w+", re.IGNORECASE),
    re.compile(r"^Get Outlook for \w+", re.IGNORECASE),
]


def strip_reply(text: str) -> str:
    """The new part of a reply: the quoted earlier message and the signature removed.

    Returns the text unchanged when stripping would leave nothing (a message that is all
    quote is better shown whole than as an empty bubble)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = len(lines)
    for i, line in enumerate(lines):
        two = f"{line} {lines[i + 1]}" if i + 1 < len(lines) else line
        if any(p.match(line) for p in _QUOTE_HEADERS) or (
            # "On Tue, ... Acme Support <support@example.com>\nwrote:" wraps over two lines
            line.strip().lower().startswith(("on ", "am ", "le ", "el ", "op "))
            and any(p.match(two) for p in _QUOTE_HEADERS[:5])
        ):
            cut = i
            break
        if (
            _OUTLOOK_BLOCK.match(line)
            and i + 1 < len(lines)
            and _OUTLOOK_NEXT.match(lines[i + 1])
            and i > 0
            and not lines[i - 1].strip().startswith(">")
        ):
            cut = i
            break
        if line.startswith(">") and all(not rest.strip() or rest.startswith(">") for rest in lines[i:]):
            cut = i  # a trailing block of "> " lines with nothing new after it
            break
    kept = lines[:cut]
    for i, line in enumerate(kept):
        if any(p.match(line) for p in _SIGNATURE_LINES):
            kept = kept[:i]
            break
    stripped = "\n".join(kept).strip()
    return stripped or text.strip()


# ---- automatic mail -------------------------------------------------------------------------------

_AUTO_PRECEDENCE = {"auto_reply", "bulk", "junk", "list"}


def is_auto_reply(headers: Mapping[str, str]) -> bool:
    """Vacation replies and other machine mail (RFC 3834's Auto-Submitted, the de-facto
    X-Autoreply/X-Autorespond and Precedence headers). Stored, flagged, never answered by
    automation: two autoresponders answering each other never stop."""
    lower = {k.lower(): v for k, v in headers.items()}
    auto = (lower.get("auto-submitted") or "").strip().lower()
    if auto and auto.split(";")[0].strip() != "no":
        return True
    if lower.get("x-autoreply") or lower.get("x-autorespond") or lower.get("x-autoresponse"):
        return True
    return (lower.get("precedence") or "").strip().lower() in _AUTO_PRECEDENCE


def is_bounce(content_type: str | None, headers: Mapping[str, str]) -> bool:
    """A delivery status notification (RFC 3464's multipart/report), or a bounce that names the
    failed recipients the way Exim and Postfix do."""
    if content_type and content_type.split(";")[0].strip().lower() == "multipart/report":
        return True
    return any(k.lower() == "x-failed-recipients" for k in headers)


def bounce_details(message: Message) -> tuple[str | None, str | None]:
    """(Message-ID of the message that bounced, the reason) from a DSN's parts, as far as they go."""
    original: str | None = None
    reason: str | None = None
    for part in message.walk():
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            for block in part.get_payload() if part.is_multipart() else []:
                if not isinstance(block, Message):
                    continue
                action = (block.get("Action") or "").strip().lower()
                diagnostic = block.get("Diagnostic-Code") or block.get("Status")
                if action == "failed" and diagnostic and reason is None:
                    reason = " ".join(str(diagnostic).split())
                    reason = reason.split(";", 1)[1].strip() if reason.lower().startswith("smtp;") else reason
        elif ctype in ("message/rfc822", "message/global") and original is None:
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            if isinstance(inner, Message):
                original = normalise_message_id(inner.get("Message-ID"))
        elif ctype in ("text/rfc822-headers", "message/rfc822-headers") and original is None:
            payload = part.get_payload(decode=True) or b""
            match = re.search(rb"^Message-ID:\s*(.+)$", payload, re.IGNORECASE | re.MULTILINE)
            if match:
                original = normalise_message_id(match.group(1).decode("utf-8", "replace"))
    return original, reason
