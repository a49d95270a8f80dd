"""Pure decisions about webhooks: the events there are, what a valid endpoint URL and
event list are, the JSON body of a delivery and which HTTP answers count as delivered.
No I/O (resolving and checking the target's addresses is ``guard.py``)."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from supportdesk.core.errors import invalid
from supportdesk.webhooks.models import DESCRIPTION_LENGTH, URL_LENGTH

# The events an endpoint may subscribe to. ``webhook.ping`` is only ever sent by an
# admin's "test delivery" to one endpoint, whatever it subscribed to.
REQUEST_EVENTS: tuple[str, ...] = (
    "request.created",
    "request.status_changed",
    "request.title_changed",
)
PING_EVENT = "webhook.ping"
EVENTS: tuple[str, ...] = REQUEST_EVENTS

DELIVERY_ID_PREFIX = "whd_"
DELIVERIES_LIMIT_MAX = 200


@dataclass(frozen=True, slots=True)
class Target:
    """An endpoint URL taken apart: where to connect and what to ask for."""

    scheme: str  # "http" | "https"
    host: str  # lower-case name, or an IP address without brackets
    port: int
    target: str  # path and query, as sent in the request line

    @property
    def is_ip(self) -> bool:
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return False
        return True

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"

    def url_for(self, address: str) -> str:
        """The URL with the host replaced by the checked address, so the connection goes
        exactly there whatever the name resolves to by then."""
        host = f"[{address}]" if ":" in address else address
        return f"{self.scheme}://{host}:{self.port}{self.target}"


def parse_url(url: str) -> Target:
    """``http(s)://host[:port]/path?query``; no user info (it would end up in logs),
    no fragment, at most ``URL_LENGTH`` characters."""
    url = url.strip()
    if not url or len(url) > URL_LENGTH or any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise invalid("webhook_url_invalid", max=URL_LENGTH)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise invalid("webhook_url_invalid", max=URL_LENGTH) from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if (
        scheme not in ("http", "https")
        or not host
        or parts.username is not None
        or parts.password is not None
        or parts.fragment
        or "%" in host  # IPv6 zone ids name a local interface
    ):
        raise invalid("webhook_url_invalid", max=URL_LENGTH)
    try:
        host.encode("ascii")
    except UnicodeEncodeError:
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise invalid("webhook_url_invalid", max=URL_LENGTH) from None
    path = parts.path or "/"
    target = f"{path}?{parts.query}" if parts.query else path
    return Target(
        scheme=scheme,
        host=host.lower(),
        port=port or (443 if scheme == "https" else 80),
        target=target,
    )


def check_url(url: str) -> str:
    """The URL as stored (trimmed), after ``parse_url`` accepted it."""
    parse_url(url)
    return url.strip()


def check_events(events: Sequence[str]) -> list[str]:
    """A non-empty subset of ``EVENTS``, de-duplicated, in the catalogue's order."""
    chosen = {event.strip() for event in events}
    if not chosen or not chosen <= set(EVENTS):
        raise invalid("webhook_events_invalid", allowed=", ".join(EVENTS))
    return [event for event in EVENTS if event in chosen]


def check_description(description: str) -> str:
    description = description.strip()
    if len(description) > DESCRIPTION_LENGTH:
        raise invalid("webhook_description_too_long", max=DESCRIPTION_LENGTH)
    return description


def wants(events: Sequence[str], event: str) -> bool:
    return event in events


def delivery_body(delivery_id: str, event: str, created_at: datetime, data: dict[str, Any]) -> str:
    """The JSON text sent for one event. Built once when the event happens and kept in
    the outbox job, so every retry sends (and signs) exactly the same bytes."""
    document = {
        "id": delivery_id,
        "event": event,
        "created_at": created_at.isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def delivered(status_code: int) -> bool:
    """Only a 2xx answer is a delivery; redirects are not followed, so a 3xx is a
    failure like any other (and is retried)."""
    return 200 <= status_code < 300


def describe_failure(status_code: int | None, error: str | None) -> str:
    """The reason an attempt failed, for the outbox's ``last_error`` and logs."""
    if error:
        return error
    return f"HTTP {status_code}"
