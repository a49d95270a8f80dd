"""Sending one webhook delivery attempt: the outbox handler of kind ``webhook``.

Each attempt re-reads the endpoint (deleted: nothing to do; switched off: not sent),
checks the target with the guard again, connects to the checked address with the
original Host header and TLS server name, POSTs the body stored in the job with a fresh
signature, and records the attempt in ``webhook_deliveries`` whatever happened. A non-2xx
answer, a timeout or a refused target raises, so the outbox retries with backoff until
``SUPPORTDESK_OUTBOX_MAX_ATTEMPTS``; receivers see the same ``X-Supportdesk-Delivery``
on every attempt and can drop repeats.
"""

from __future__ import annotations

import functools
import logging
import ssl
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from supportdesk import __version__
from supportdesk.config import Settings
from supportdesk.core import outbox
from supportdesk.core.clock import utcnow
from supportdesk.core.errors import DomainError
from supportdesk.core.i18n import translate
from supportdesk.webhooks import guard, queries, rules, signing
from supportdesk.webhooks.models import ERROR_LENGTH, WebhookDelivery, WebhookEndpoint

if TYPE_CHECKING:
    from supportdesk.services import Services

log = logging.getLogger(__name__)

WEBHOOK_KIND = "webhook"


class DeliveryFailed(Exception):
    """Raised to the outbox so it schedules the next attempt."""


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    error: str | None
    address: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return (
            self.error is None
            and self.status_code is not None
            and rules.delivered(self.status_code)
        )


def allow_list(settings: Settings) -> guard.AllowList:
    return guard.parse_allow_list(settings.webhook_allow)


@functools.lru_cache(maxsize=4)
def _tls_context(ca_file: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca_file)


def tls_verify(settings: Settings) -> ssl.SSLContext | bool:
    """Certificates are always verified: against ``SUPPORTDESK_WEBHOOK_CA_FILE`` if set,
    else the system's CAs."""
    return _tls_context(settings.webhook_ca_file) if settings.webhook_ca_file else True


def _domain_text(error: DomainError) -> str:
    return f"{error.code}: {translate(error.code, 'en', error.params)}"


async def send(
    settings: Settings, url: str, secret: str, event: str, delivery_id: str, body: str
) -> Outcome:
    """One attempt; never raises for network or target problems (they are the outcome)."""
    started = time.monotonic()
    address: str | None = None

    def outcome(status_code: int | None, error: str | None) -> Outcome:
        elapsed = int((time.monotonic() - started) * 1000)
        return Outcome(status_code, error[:ERROR_LENGTH] if error else None, address, elapsed)

    try:
        target = rules.parse_url(url)
        address = await guard.checked_address(target.host, target.port, allow_list(settings))
    except DomainError as exc:
        return outcome(None, _domain_text(exc))
    timestamp = int(time.time())
    headers = {
        "Host": target.host_header,
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": f"supportdesk-webhooks/{__version__}",
        signing.EVENT_HEADER: event,
        signing.DELIVERY_HEADER: delivery_id,
        signing.SIGNATURE_HEADER: signing.signature_header(secret, timestamp, body),
    }
    extensions: dict[str, Any] = {}
    if target.scheme == "https" and not target.is_ip:
        # TLS to the pinned address, but with the name's SNI and certificate check.
        extensions["sni_hostname"] = target.host
    timeout = httpx.Timeout(
        settings.webhook_timeout_seconds, connect=min(5.0, settings.webhook_timeout_seconds)
    )
    try:
        # No redirects (they could lead anywhere) and no environment proxies (the
        # request must go to the address that was checked).
        async with (
            httpx.AsyncClient(
                timeout=timeout,
                follow_redirects=False,
                trust_env=False,
                verify=tls_verify(settings),
            ) as client,
            client.stream(
                "POST",
                target.url_for(address),
                content=body.encode(),
                headers=headers,
                extensions=extensions,
            ) as response,
        ):
            # The answer's body is never read: a receiver cannot make us buffer it.
            status = response.status_code
    except httpx.TimeoutException as exc:
        return outcome(None, f"timeout: {type(exc).__name__}")
    except httpx.HTTPError as exc:
        return outcome(None, f"{type(exc).__name__}: {exc}")
    return outcome(status, None)


async def deliver(svc: Services, payload: dict[str, Any]) -> None:
    delivery_id = str(payload["delivery_id"])
    event = str(payload["event"])
    async with svc.db.read() as session:
        endpoint = await session.get(WebhookEndpoint, int(payload["endpoint_id"]))
        attempt = await queries.attempts_so_far(session, delivery_id) + 1
    if endpoint is None:
        log.info("webhook %s: endpoint deleted, not sent", delivery_id)
        return
    if not endpoint.active and event != rules.PING_EVENT:
        log.info("webhook %s: endpoint %s is off, not sent", delivery_id, endpoint.id)
        return
    try:
        secret = signing.unseal(svc.settings, endpoint.secret_sealed)
    except DomainError as exc:
        result = Outcome(None, _domain_text(exc), None, 0)
    else:
        result = await send(
            svc.settings, endpoint.url, secret, event, delivery_id, str(payload["body"])
        )
    async with svc.db.write() as session:
        if await session.get(WebhookEndpoint, endpoint.id) is not None:
            session.add(
                WebhookDelivery(
                    endpoint_id=endpoint.id,
                    delivery_id=delivery_id,
                    event=event,
                    attempt=attempt,
                    status_code=result.status_code,
                    error=result.error,
                    address=result.address,
                    duration_ms=result.duration_ms,
                    attempted_at=utcnow(),
                )
            )
    if not result.ok:
        raise DeliveryFailed(rules.describe_failure(result.status_code, result.error))
    log.info("webhook %s delivered to endpoint %s (attempt %s)", delivery_id, endpoint.id, attempt)


outbox.register(WEBHOOK_KIND, deliver)
