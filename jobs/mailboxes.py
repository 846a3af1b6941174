"""Plain mailboxes over IMAP: polled by a job every API process enqueues on a timer.

Two polls of one mailbox never run at once (ingress/mailbox_poller.py takes a database lock per
mailbox) and the last seen UID is stored, so N processes enqueueing the job costs N quick no-ops,
never a message read twice.
"""

from __future__ import annotations

import logging

from core import tasks
from ingress.mailbox_poller import poll_mailbox
from models import Channel

log = logging.getLogger(__name__)


@tasks.POLL_MAILBOXES.actor(max_retries=0, time_limit=120_000)
async def poll_mailboxes() -> None:
    for channel in await Channel.filter(platform="email", enabled=True):
        if not channel.config.get("imap_host"):
            continue
        try:
            stored = await poll_mailbox(channel)
        except Exception:  # one broken mailbox must not stop the others
            log.warning("mailbox poll failed", extra={"channel_id": channel.id}, exc_info=True)
            continue
        if stored:
            log.info("mailbox polled", extra={"channel_id": channel.id, "stored": stored})
