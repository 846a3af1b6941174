"""The installation's own e-mail (invitations, password resets), not a customer channel's.

Sent over SMTP as `SMTP_URL` says (`smtp://user:password@host:587` with STARTTLS when the server
offers it, `smtps://…:465` for implicit TLS), from `MAIL_FROM`, with aiosmtplib like the e-mail
connector. Without `SMTP_URL` mail is not sent but logged, whole in embedded mode (the demo has no
mail server: the link is in the log) and by recipient only otherwise. `use_mailer` swaps the mailer,
for tests and for installations that deliver another way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import unquote, urlparse

import aiosmtplib

from core.settings import get_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str


class MailNotSent(Exception):
    """The SMTP server refused or could not be reached."""


class Mailer(Protocol):
    async def send(self, mail: Mail) -> None: ...


class SmtpMailer:
    def __init__(self, url: str, sender: str) -> None:
        parsed = urlparse(url)
        if parsed.scheme not in ("smtp", "smtps") or not parsed.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:password@host:587 or smtps://…")
        self.implicit_tls = parsed.scheme == "smtps"
        self.host = parsed.hostname
        self.port = parsed.port or (465 if self.implicit_tls else 587)
        self.username = unquote(parsed.username) if parsed.username else None
        self.password = unquote(parsed.password) if parsed.password else None
        self.sender = sender

    async def send(self, mail: Mail) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, mail.to, mail.subject
        message.set_content(mail.text)
        try:
            await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                use_tls=self.implicit_tls,
                start_tls=None if not self.implicit_tls else False,  # None: STARTTLS when offered
                timeout=15,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise MailNotSent(f"the mail server did not take the message ({exc})") from exc


class LogMailer:
    def __init__(self, whole: bool) -> None:
        self.whole = whole

    async def send(self, mail: Mail) -> None:
        if self.whole:
            log.warning(
                "no SMTP_URL: mail not sent\nTo: %s\nSubject: %s\n\n%s", mail.to, mail.subject, mail.text
            )
        else:
            log.warning("no SMTP_URL: mail to %s (%s) not sent", mail.to, mail.subject)


_mailer: Mailer | None = None


def mailer() -> Mailer:
    global _mailer
    if _mailer is None:
        settings = get_settings()
        _mailer = (
            SmtpMailer(settings.smtp_url, settings.mail_from)
            if settings.smtp_url
            else LogMailer(whole=settings.embedded or settings.demo)
        )
    return _mailer


def use_mailer(new: Mailer | None) -> Mailer | None:
    """Send through `new` from now on (None: back to the settings'); returns the previous one."""
    global _mailer
    previous, _mailer = _mailer, new
    return previous
