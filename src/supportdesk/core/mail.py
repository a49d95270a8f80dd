"""Outbound e-mail: plain-text messages sent through the outbox to the SMTP server named by
``SUPPORTDESK_SMTP_URL``.

``enqueue_mail(session, ...)`` writes an outbox job of kind ``mail`` in the caller's
transaction; the outbox runner sends it with aiosmtplib. Without ``SMTP_URL`` (the
embedded default) the mail is logged as skipped and the job is done.

Header injection: every header value is refused if it holds a line break (addresses) or
has its line breaks folded to spaces (subject), and the standard library's ``SMTP``
policy refuses any that remain. Each message gets a ``Message-ID`` made from the job's
key, so a retried send after a lost acknowledgement can be recognised as a repeat.
The SMTP password is never logged: log lines name the host and port only.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.core import outbox

if TYPE_CHECKING:
    from supportdesk.config import Settings
    from supportdesk.services import Services

log = logging.getLogger(__name__)

MAIL_KIND = "mail"
SUBJECT_LENGTH = 200
BODY_LENGTH = 50_000
SMTP_TIMEOUT_SECONDS = 30.0
# Deliberately simple: one address, no display name, no spaces, quotes or line breaks.
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9.-]{1,253}")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")
_TRUE = frozenset({"1", "true", "yes", "on"})


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    host: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool  # smtps://
    starttls: bool  # ?starttls=1

    def describe(self) -> str:
        """For logs: never the credentials."""
        return f"{'smtps' if self.implicit_tls else 'smtp'}://{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpTarget:
    """``smtp://user:pass@host:port`` (port 25 by default; ``?starttls=1`` to upgrade) or
    ``smtps://...`` (implicit TLS, port 465 by default). Raises ``ValueError`` without
    repeating the URL (it may hold a password)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("SUPPORTDESK_SMTP_URL must start with smtp:// or smtps://")
    if not parts.hostname:
        raise ValueError("SUPPORTDESK_SMTP_URL has no host")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("SUPPORTDESK_SMTP_URL has an invalid port") from None
    implicit_tls = parts.scheme == "smtps"
    query = parse_qs(parts.query)
    starttls = any(value.lower() in _TRUE for value in query.get("starttls", []))
    if implicit_tls and starttls:
        raise ValueError("SUPPORTDESK_SMTP_URL: smtps:// already uses TLS; drop ?starttls")
    return SmtpTarget(
        host=parts.hostname,
        port=port or (465 if implicit_tls else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        implicit_tls=implicit_tls,
        starttls=starttls,
    )


def check_address(address: str) -> str:
    """One plain address (``name@domain``) or ``ValueError``: nothing a header could be
    smuggled in with."""
    if not _ADDRESS.fullmatch(address):
        raise ValueError("not a plain e-mail address")
    return address


def one_line(text: str, limit: int = SUBJECT_LENGTH) -> str:
    """A header value on one line: line breaks become spaces, then cut to ``limit``."""
    return _LINE_BREAKS.sub(" ", text).strip()[:limit]


@dataclass(frozen=True, slots=True)
class Mail:
    to: str
    subject: str
    body: str
    message_key: str  # unique per logical mail: becomes the Message-ID
    reply_to: str | None = None
    locale: str = "en"

    def payload(self) -> dict[str, Any]:
        return {
            "to": self.to,
            "subject": self.subject,
            "body": self.body,
            "message_key": self.message_key,
            "reply_to": self.reply_to,
            "locale": self.locale,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Mail:
        return cls(
            to=str(payload["to"]),
            subject=str(payload["subject"]),
            body=str(payload["body"]),
            message_key=str(payload["message_key"]),
            reply_to=payload.get("reply_to") or None,
            locale=str(payload.get("locale") or "en"),
        )


def build_message(mail: Mail, sender: str) -> EmailMessage:
    """A plain-text UTF-8 message with safe headers."""
    message = EmailMessage(policy=SMTP)
    message["From"] = Address(addr_spec=check_address(sender))
    message["To"] = Address(addr_spec=check_address(mail.to))
    if mail.reply_to:
        message["Reply-To"] = Address(addr_spec=check_address(mail.reply_to))
    message["Subject"] = one_line(mail.subject)
    message["Date"] = formatdate(usegmt=True)
    domain = sender.rpartition("@")[2]
    key = re.sub(r"[^A-Za-z0-9.-]", "-", mail.message_key)[:100]
    message["Message-ID"] = f"<{key}@{domain}>"
    message.set_content(mail.body[:BODY_LENGTH], subtype="plain", charset="utf-8")
    # After set_content, which replaces every Content-* header.
    message["Content-Language"] = "ja" if mail.locale == "ja" else "en"
    return message


def enqueue_mail(session: AsyncSession, mail: Mail) -> outbox.OutboxJob:
    """Send ``mail`` once the caller's transaction commits. The addresses are checked
    now, so a bad one is refused with the change rather than failing in the runner."""
    check_address(mail.to)
    if mail.reply_to:
        check_address(mail.reply_to)
    return outbox.enqueue(session, MAIL_KIND, mail.payload())


async def send_mail(settings: Settings, mail: Mail) -> bool:
    """Send now; ``False`` when no SMTP server is configured (logged as skipped)."""
    url = settings.smtp_url.get_secret_value()
    if not url:
        log.info(
            "mail skipped (no SUPPORTDESK_SMTP_URL): to=%s subject=%r",
            mail.to,
            one_line(mail.subject),
        )
        return False
    import aiosmtplib

    target = parse_smtp_url(url)
    message = build_message(mail, settings.mail_from)
    await aiosmtplib.send(
        message,
        hostname=target.host,
        port=target.port,
        username=target.username,
        password=target.password,
        use_tls=target.implicit_tls,
        start_tls=target.starttls,
        timeout=SMTP_TIMEOUT_SECONDS,
    )
    log.info("mail sent via %s to=%s", target.describe(), mail.to)
    return True


async def _deliver(svc: Services, payload: dict[str, Any]) -> None:
    await send_mail(svc.settings, Mail.from_payload(payload))


outbox.register(MAIL_KIND, _deliver)
