"""Reads about staff."""

from __future__ import annotations

from sqlalchemy import select

from supportdesk.core.auth import AgentPrincipal, Role
from supportdesk.core.clock import utcnow
from supportdesk.core.errors import DomainError
from supportdesk.core.i18n import normalize_locale
from supportdesk.services import Services
from supportdesk.staff.models import Agent, Presence, StaffSession


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


async def list_specialists(svc: Services) -> list[Agent]:
    """Active technical-support agents: online first, then away, then offline; by name."""
    order = {Presence.ONLINE.value: 0, Presence.AWAY.value: 1}
    async with svc.db.read() as session:
        agents = await session.scalars(select(Agent).where(Agent.active).order_by(Agent.id))
        # Roles are a JSON list, so the role filter runs here rather than in SQL.
        chosen = [a for a in agents if Role.TECHNICAL_SUPPORT.value in a.roles]
    return sorted(chosen, key=lambda a: (order.get(a.presence, 2), a.name, a.id))


async def get_agent(svc: Services, agent_id: int) -> Agent:
    async with svc.db.read() as session:
        agent = await session.get(Agent, agent_id)
    if agent is None:
        raise DomainError("invalid_session", 401)
    return agent
