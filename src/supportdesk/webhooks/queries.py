"""Reads: endpoints (admin routes only; the route's dependency has checked the role) and
the delivery log."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.core.errors import not_found
from supportdesk.webhooks.models import WebhookDelivery, WebhookEndpoint


async def access_endpoint_by_id(session: AsyncSession, endpoint_id: int) -> WebhookEndpoint:
    endpoint = await session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise not_found()
    return endpoint


async def all_endpoints(session: AsyncSession) -> Sequence[WebhookEndpoint]:
    return (await session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id))).all()


async def active_endpoints(session: AsyncSession) -> Sequence[WebhookEndpoint]:
    query = select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True))
    return (await session.scalars(query.order_by(WebhookEndpoint.id))).all()


async def deliveries(
    session: AsyncSession, endpoint_id: int, limit: int, before_id: int | None = None
) -> Sequence[WebhookDelivery]:
    """The endpoint's attempts, newest first; ``before_id`` pages back."""
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    if before_id is not None:
        query = query.where(WebhookDelivery.id < before_id)
    return (await session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit))).all()


async def attempts_so_far(session: AsyncSession, delivery_id: str) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(WebhookDelivery)
        .where(WebhookDelivery.delivery_id == delivery_id)
    )
    return int(count or 0)
