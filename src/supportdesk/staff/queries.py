"""Reads about staff."""

from __future__ import annotations

from sqlalchemy import select

from supportdesk.core.auth import AgentPrincipal, Role
from supportdesk.core.clock import utcnow
from supportdesk.core.errors import DomainError
from supportdesk.core.i18n import normalize_locale
from supportdesk.services import Services
from supportdesk.staff.models import Agent, StaffSession


def principal_for(agent: Agent, session_id: int | None, csrf_token: str | None) -> AgentPrincipal:
    return AgentPrincipal(
        agent_id=agent.id,
        name=agent.name,
        email=agent.email,
        roles=frozenset(Role(role) for role in agent.roles),
        languages=tuple(agent.languages),
        locale=normalize_locale(agent.locale),
        session_id=session_id,
        csrf_token=csrf_token,
    )


async def authenticate_session(svc: Services, token_hash: str) -> AgentPrincipal:
    """The principal of a live session, or 401 ``invalid_session``."""
    async with svc.db.read() as session:
        row = (
            await session.execute(
                select(Agent, StaffSession)
                .join(StaffSession, StaffSession.agent_id == Agent.id)
                .where(StaffSession.token_hash == token_hash)
            )
        ).first()
    if row is None:
        raise DomainError("invalid_session", 401)
    agent, staff_session = row
    if (
        staff_session.revoked_at is not None
        or staff_session.expires_at <= utcnow()
        or not agent.active
    ):
        raise DomainError("invalid_session", 401)
    return principal_for(agent, staff_session.id, staff_session.csrf_token)


async def list_agents(svc: Services) -> list[Agent]:
    async with svc.db.read() as session:
        return list(await session.scalars(select(Agent).order_by(Agent.id)))
