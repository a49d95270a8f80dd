"""Outbound mail (core/mail.py): the SMTP URL setting, safe headers, and the skipped send
without a server (logged without secrets)."""

from __future__ import annotations

import logging
from email import message_from_bytes, policy

import pytest
from pydantic import ValidationError

from supportdesk.config import Settings
from supportdesk.core.mail import (
    Mail,
    SmtpTarget,
    build_message,
    check_address,
    one_line,
    parse_smtp_url,
    send_mail,
)

pytestmark = pytest.mark.unit

SECRET = "test-identity-secret-0123456789abcdef"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.com", SmtpTarget("mail.example.com", 25, None, None, False, False)),
        (
            "smtp://u%40x:p%3Ass@mail.example.com:587?starttls=1",
            SmtpTarget("mail.example.com", 587, "u@x", "p:ss", False, True),
        ),
        (
            "smtps://user:pw@mail.example.com",
            SmtpTarget("mail.example.com", 465, "user", "pw", True, False),
        ),
    ],
)
def test_smtp_urls(url: str, expected: SmtpTarget) -> None:
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://mail.example.com",
        "smtp://",
        "smtp://host:notaport",
        "smtps://host?starttls=1",
    ],
)
def test_bad_smtp_urls_are_refused_without_echoing_them(url: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_smtp_url(url.replace("host", "user:hunter2@host"))
    assert "hunter2" not in str(caught.value)


def test_settings_refuse_a_bad_smtp_url_or_sender_at_start_up() -> None:
    with pytest.raises(ValidationError):
        Settings(identity_secret=SECRET, smtp_url="imap://x")
    with pytest.raises(ValidationError):
        Settings(identity_secret=SECRET, mail_from="Support <s@example.com>")
    settings = Settings(identity_secret=SECRET, smtp_url="smtp://u:hunter2@h:25")
    assert "hunter2" not in repr(settings)


def test_headers_cannot_be_injected() -> None:
    mail = Mail(
        to="partner@example.com",
        subject="Hello\r\nBcc: victim@example.com",
        body="Line one\nBcc: not-a-header@example.com\n",
        message_key="lead-7",
        reply_to="customer@example.com",
        locale="ja",
    )
    raw = build_message(mail, "support@desk.example.com").as_bytes()
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "Hello Bcc: victim@example.com"
    assert parsed["To"] == "partner@example.com"
    assert parsed["Reply-To"] == "customer@example.com"
    assert parsed["Message-ID"] == "<lead-7@desk.example.com>"
    assert parsed["Content-Language"] == "ja"
    assert parsed.get_content_type() == "text/plain"
    for address in ("a@example.com\r\nBcc: b@example.com", "a@example.com, b@example.com", "x"):
        with pytest.raises(ValueError):
            check_address(address)
    with pytest.raises(ValueError):
        build_message(Mail("a@example.com\nBcc: b@x.com", "s", "b", "k"), "s@example.com")
    assert one_line("a\u2028b\r\n\r\nc") == "a b c"


async def test_without_a_server_the_mail_is_logged_as_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = Settings(identity_secret=SECRET)
    with caplog.at_level(logging.INFO, logger="supportdesk.core.mail"):
        sent = await send_mail(settings, Mail("p@example.com", "Subject", "Body", "k-1"))
    assert sent is False
    assert "mail skipped" in caplog.text and "Body" not in caplog.text
