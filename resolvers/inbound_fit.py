"""What a connector parsed, made to fit the tables before ingest stores it.

Every inbound path (webhooks, the web chat, Discord's gateway, the IMAP poller, the seed) ends in
`resolvers.inbound.ingest`, which calls `fit_for_storage` first. A platform's payload is signed,
not sane: a NUL, a lone surrogate or a 10 MB name must not fail the insert, or the webhook answers
5xx and the platform retries until it drops the customer's message. So:

- every string, through every dataclass, tuple and JSON mapping (metadata, attachments), is made
  storable by the one rule in core/storable.py (NUL removed, lone surrogates → U+FFFD);
- identifiers longer than their column keep a readable head and end in a digest of the whole,
  so distinct ids stay distinct and a redelivery still deduplicates;
- names and error codes are cut to their column; a phone, e-mail or reply address too long to be
  one is dropped (it would only mis-merge customers or fail every reply);
- text is kept up to TEXT_MAX characters (PostgreSQL refuses a search vector over 1 MB), and a
  cut text says so in `metadata.text_truncated`.
"""

from __future__ import annotations

import dataclasses
import hashlib

from connectors.base import InboundMessage, MessageEdit, ParsedWebhook, StatusUpdate
from core.storable import storable

# The columns' sizes (models/customers.py, models/messages.py).
EXTERNAL_ID_MAX = 200  # customer_identities.external_id
MESSAGE_ID_MAX = 255  # messages.platform_message_id, reply_to_platform_id, orphan_statuses
NAME_MAX = 200  # customers.name, customer_identities.display_name
PHONE_MAX = 32
EMAIL_MAX = 254
REPLY_ADDRESS_MAX = 255
ERROR_CODE_MAX = 64
# Far above every platform's own limit (WhatsApp 4,096, Slack 40,000, e-mail here 100,000), and
# safely below what makes the messages' tsvector exceed PostgreSQL's 1 MB.
TEXT_MAX = 100_000

_DIGEST_MARK = "~sha256:"


def fit_for_storage(parsed: ParsedWebhook) -> ParsedWebhook:
    parsed = storable(parsed)
    messages = tuple(_fit_message(m) for m in parsed.messages)
    statuses = tuple(_fit_status(s) for s in parsed.statuses)
    edits = tuple(_fit_edit(e) for e in parsed.edits)
    if _same(messages, parsed.messages) and _same(statuses, parsed.statuses) and _same(edits, parsed.edits):
        return parsed  # the usual webhook: nothing to fit, nothing copied
    return dataclasses.replace(parsed, messages=messages, statuses=statuses, edits=edits)


def _same(new: tuple[object, ...], old: tuple[object, ...]) -> bool:
    return all(a is b for a, b in zip(new, old, strict=True))


def _replaced(obj, **fields):  # type: ignore[no-untyped-def]
    """`obj` with `fields`, or `obj` itself when every field already holds that very value."""
    if all(getattr(obj, name) is value for name, value in fields.items()):
        return obj
    return dataclasses.replace(obj, **fields)


def fit_id(value: str, limit: int) -> str:
    """`value` when it fits; else its head and a digest of the whole, exactly `limit` long."""
    if len(value) <= limit:
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()
    return value[: limit - len(_DIGEST_MARK) - len(digest)] + _DIGEST_MARK + digest


def _fit_optional_id(value: str | None, limit: int) -> str | None:
    return fit_id(value, limit) if value is not None else None


def _fit_ids(values: tuple[str, ...], limit: int) -> tuple[str, ...]:
    fitted = tuple(fit_id(v, limit) for v in values)
    return values if _same(fitted, values) else fitted


def _within(value: str | None, limit: int) -> str | None:
    return value if value is not None and len(value) <= limit else None


def _fit_text(value: str | None) -> tuple[str | None, bool]:
    if value is None or len(value) <= TEXT_MAX:
        return value, False
    return value[:TEXT_MAX], True


def _fit_message(msg: InboundMessage) -> InboundMessage:
    text, cut = _fit_text(msg.text)
    metadata = {**msg.metadata, "text_truncated": True} if cut else msg.metadata
    return _replaced(
        msg,
        platform_message_id=fit_id(msg.platform_message_id, MESSAGE_ID_MAX),
        sender_id=fit_id(msg.sender_id, EXTERNAL_ID_MAX),
        text=text,
        sender_name=msg.sender_name[:NAME_MAX] if msg.sender_name is not None else None,
        sender_phone=_within(msg.sender_phone, PHONE_MAX),
        sender_email=_within(msg.sender_email, EMAIL_MAX),
        reply_address=_within(msg.reply_address, REPLY_ADDRESS_MAX),
        reply_to_platform_id=_fit_optional_id(msg.reply_to_platform_id, MESSAGE_ID_MAX),
        thread_refs=_fit_ids(msg.thread_refs, MESSAGE_ID_MAX),
        metadata=metadata,
    )


def _fit_status(status: StatusUpdate) -> StatusUpdate:
    return _replaced(
        status,
        platform_message_id=fit_id(status.platform_message_id, MESSAGE_ID_MAX),
        recipient_id=_fit_optional_id(status.recipient_id, EXTERNAL_ID_MAX),
        error_code=status.error_code[:ERROR_CODE_MAX] if status.error_code is not None else None,
    )


def _fit_edit(edit: MessageEdit) -> MessageEdit:
    text, _ = _fit_text(edit.text)
    return _replaced(edit, platform_message_id=fit_id(edit.platform_message_id, MESSAGE_ID_MAX), text=text)
