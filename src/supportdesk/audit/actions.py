"""Writing audit entries. Callers pass their own session, so an entry commits (or rolls
back) together with the change it describes."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.audit.models import AuditEntry
from supportdesk.core.auth import AgentPrincipal, CustomerPrincipal, Principal
from supportdesk.core.clock import utcnow


def actor_of(principal: Principal | None) -> tuple[str, int | None]:
    if isinstance(principal, AgentPrincipal):
        return "agent", principal.agent_id
    if isinstance(principal, CustomerPrincipal):
        return "customer", principal.user_id
    return "system", None


def record(
    session: AsyncSession,
    actor: Principal | None,
    action: str,
    *,
    subject_type: str,
    subject_id: int | None,
    portal_id: int | None = None,
    **data: Any,
) -> None:
    actor_type, actor_id = actor_of(actor)
    session.add(
        AuditEntry(
            at=utcnow(),
            actor_type=actor_type,
            actor_id=actor_id,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            portal_id=portal_id,
            data=data,
        )
    )
