from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.audit.models import AuditEntry


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    actor_type: str | None = None
    actor_id: int | None = None
    subject_type: str | None = None
    subject_id: int | None = None
    portal_id: int | None = None
    start: datetime | None = None
    end: datetime | None = None
    before_id: int | None = None  # keyset pagination: entries older than this id


async def list_entries(session: AsyncSession, filters: AuditFilter, limit: int) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    for column, value in (
        (AuditEntry.action, filters.action),
        (AuditEntry.actor_type, filters.actor_type),
        (AuditEntry.actor_id, filters.actor_id),
        (AuditEntry.subject_type, filters.subject_type),
        (AuditEntry.subject_id, filters.subject_id),
        (AuditEntry.portal_id, filters.portal_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if filters.start is not None:
        query = query.where(AuditEntry.at >= filters.start)
    if filters.end is not None:
        query = query.where(AuditEntry.at < filters.end)
    if filters.before_id is not None:
        query = query.where(AuditEntry.id < filters.before_id)
    return list((await session.scalars(query)).all())
