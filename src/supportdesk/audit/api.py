from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from supportdesk.audit.queries import AuditFilter, list_entries
from supportdesk.deps import SupervisorDep, SvcDep

router = APIRouter(prefix="/api/v1", tags=["audit"])


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor_type: str
    actor_id: int | None
    action: str
    subject_type: str
    subject_id: int | None
    portal_id: int | None
    data: dict[str, Any]


@router.get("/audit")
async def audit_log(
    _: SupervisorDep,
    svc: SvcDep,
    action: str | None = None,
    actor_type: str | None = None,
    actor_id: int | None = None,
    subject_type: str | None = None,
    subject_id: int | None = None,
    portal_id: int | None = None,
    start: datetime | None = Query(default=None, alias="from"),
    end: datetime | None = Query(default=None, alias="to"),
    before_id: int | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[AuditEntryOut]:
    """Newest first; page with ``before_id`` = the last id you received."""
    filters = AuditFilter(
        action, actor_type, actor_id, subject_type, subject_id, portal_id, start, end, before_id
    )
    async with svc.db.read() as session:
        entries = await list_entries(session, filters, limit)
    return [AuditEntryOut.model_validate(entry, from_attributes=True) for entry in entries]
