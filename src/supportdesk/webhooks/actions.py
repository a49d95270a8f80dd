"""Every change to webhook endpoints, as ``do_*`` functions, and
``enqueue_webhook_event`` for the features whose events are sent.

An endpoint is checked by the SSRF guard whenever its URL is set or it is switched on;
the audit entry never holds the secret. Events become outbox jobs in the caller's
transaction (one per matching active endpoint), so a change that rolls back sends
nothing and a committed one is delivered at least once (``delivery.py``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.audit import actions as audit
from supportdesk.core import outbox
from supportdesk.core.auth import AgentPrincipal
from supportdesk.core.clock import utcnow
from supportdesk.services import Services
from supportdesk.webhooks import guard, queries, rules, signing
from supportdesk.webhooks.delivery import WEBHOOK_KIND, allow_list
from supportdesk.webhooks.models import WebhookDelivery, WebhookEndpoint


@dataclass(frozen=True, slots=True)
class Created:
    endpoint: WebhookEndpoint
    secret: str  # shown to the admin once


async def _check_target(svc: Services, url: str) -> None:
    target = rules.parse_url(url)
    await guard.checked_address(target.host, target.port, allow_list(svc.settings))


async def do_create_endpoint(
    svc: Services,
    admin: AgentPrincipal,
    *,
    url: str,
    events: list[str],
    description: str = "",
    active: bool = True,
) -> Created:
    url = rules.check_url(url)
    events = rules.check_events(events)
    description = rules.check_description(description)
    # Resolving may take a while: before the write transaction, not inside it.
    await _check_target(svc, url)
    secret = signing.new_secret()
    now = utcnow()
    async with svc.db.write() as session:
        endpoint = WebhookEndpoint(
            url=url,
            description=description,
            events=events,
            active=active,
            secret_sealed=signing.seal(svc.settings, secret),
            created_by=admin.agent_id,
            created_at=now,
            updated_at=now,
        )
        session.add(endpoint)
        await session.flush()
        audit.record(
            session,
            admin,
            "webhook.created",
            subject_type="webhook",
            subject_id=endpoint.id,
            url=url,
            events=events,
            active=active,
        )
    return Created(endpoint, secret)


async def do_update_endpoint(
    svc: Services,
    admin: AgentPrincipal,
    endpoint_id: int,
    *,
    url: str | None = None,
    events: list[str] | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> WebhookEndpoint:
    """Change only the fields given. A new URL, or switching an endpoint on, passes the
    guard again."""
    url = rules.check_url(url) if url is not None else None
    events = rules.check_events(events) if events is not None else None
    description = rules.check_description(description) if description is not None else None
    async with svc.db.read() as session:
        current = await queries.access_endpoint_by_id(session, endpoint_id)
    if url is not None or (active and not current.active):
        await _check_target(svc, url if url is not None else current.url)
    async with svc.db.write() as session:
        endpoint = await queries.access_endpoint_by_id(session, endpoint_id)
        changes: dict[str, Any] = {
            name: value
            for name, value in (
                ("url", url),
                ("events", events),
                ("description", description),
                ("active", active),
            )
            if value is not None and getattr(endpoint, name) != value
        }
        if changes:
            for name, value in changes.items():
                setattr(endpoint, name, value)
            endpoint.updated_at = utcnow()
            audit.record(
                session,
                admin,
                "webhook.updated",
                subject_type="webhook",
                subject_id=endpoint.id,
                **changes,
            )
    return endpoint


async def do_delete_endpoint(svc: Services, admin: AgentPrincipal, endpoint_id: int) -> None:
    """The endpoint and its delivery log go; jobs still queued for it find no endpoint
    and end without sending."""
    async with svc.db.write() as session:
        endpoint = await queries.access_endpoint_by_id(session, endpoint_id)
        await session.execute(
            delete(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint.id)
            .execution_options(synchronize_session=False)
        )
        await session.delete(endpoint)
        audit.record(
            session,
            admin,
            "webhook.deleted",
            subject_type="webhook",
            subject_id=endpoint_id,
            url=endpoint.url,
        )


def _enqueue(session: AsyncSession, endpoint_id: int, event: str, data: dict[str, Any]) -> str:
    delivery_id = rules.DELIVERY_ID_PREFIX + uuid.uuid4().hex
    body = rules.delivery_body(delivery_id, event, utcnow(), data)
    outbox.enqueue(
        session,
        WEBHOOK_KIND,
        {"endpoint_id": endpoint_id, "delivery_id": delivery_id, "event": event, "body": body},
    )
    return delivery_id


async def enqueue_webhook_event(session: AsyncSession, event: str, payload: dict[str, Any]) -> None:
    """Send ``event`` with ``payload`` (JSON-serialisable) to every active endpoint that
    subscribed to it: one outbox job each, in the caller's transaction."""
    if event not in rules.EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    for endpoint in await queries.active_endpoints(session):
        if rules.wants(endpoint.events, event):
            _enqueue(session, endpoint.id, event, payload)


async def do_ping_endpoint(svc: Services, admin: AgentPrincipal, endpoint_id: int) -> str:
    """A ``webhook.ping`` delivery to this endpoint alone (admins check their receiver
    with it); returns its delivery id."""
    async with svc.db.write() as session:
        endpoint = await queries.access_endpoint_by_id(session, endpoint_id)
        return _enqueue(
            session, endpoint.id, rules.PING_EVENT, {"endpoint_id": endpoint.id, "ping": True}
        )
