"""A real SMTP server (aiosmtpd) on loopback for tests that send mail, and what it got."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.servers import free_port


class Inbox:
    """What the SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]  # aiosmtpd hook
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        with self._lock:
            self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for rcpts, m in self.messages if address in rcpts]


@contextmanager
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    """An SMTP server on a free loopback port: its inbox and its port."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
