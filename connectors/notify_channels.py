"""Where notifications leave PyTake for people (not customers): an e-mail over the operator's
SMTP server, and a post to a Slack incoming webhook. Failures are one exception type, so the
delivery job can record the reason and retry."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib
import httpx

TIMEOUT = 15.0


class DeliveryFailed(Exception):
    pass


@dataclass(frozen=True)
class MailServer:
    host: str | None
    port: int
    username: str | None
    password: str | None
    starttls: bool
    ssl: bool
    sender: str


async def send_email(server: MailServer, to: str, subject: str, body: str) -> None:
    if not server.host:
        raise DeliveryFailed("no SMTP server for notifications (NOTIFY_SMTP_HOST)")
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = server.sender, to, subject
    mail.set_content(body)
    try:
        await aiosmtplib.send(
            mail,
            hostname=server.host,
            port=server.port,
            username=server.username,
            password=server.password if server.username else None,
            use_tls=server.ssl,
            start_tls=False if server.ssl else server.starttls,
            timeout=TIMEOUT,
        )
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise DeliveryFailed(f"SMTP {server.host}:{server.port}: {exc!r}") from exc


async def post_slack(webhook_url: str, text: str) -> None:
    """Slack answers a good post with 200 `ok` (text, not JSON)."""
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            response = await client.post(webhook_url, json={"text": text})
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"Slack webhook unreachable: {exc!r}") from exc
    if response.status_code != 200:
        raise DeliveryFailed(f"Slack webhook answered {response.status_code}: {response.text[:200]}")
