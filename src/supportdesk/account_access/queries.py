"""Reads of account access shaped for the API, and the permission-checked loader
``access_grant_by_id``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.account_access import rules
from supportdesk.account_access.log import check_portal_chain
from supportdesk.account_access.models import AccessGrant, AccessLogEntry
from supportdesk.conversations.models import Conversation
from supportdesk.conversations.queries import access_conversation_by_id
from supportdesk.core.auth import CustomerPrincipal, Principal
from supportdesk.core.errors import not_found
from supportdesk.realtime.events import ConversationFacts
from supportdesk.staff.models import Agent


class SpecialistRef(BaseModel):
    id: int
    name: str


class AccessGrantPublic(BaseModel):
    id: int
    conversation_id: int
    portal_id: int
    specialist: SpecialistRef
    state: str
    requested_scopes: list[str]
    scopes: list[str]  # granted; [] until approved
    reason: str
    requested_minutes: int
    granted_minutes: int | None
    requested_at: datetime
    answer_by: datetime
    decided_at: datetime | None
    active_until: datetime | None
    ended_at: datetime | None
    first_used_at: datetime | None


async def grant_views(
    session: AsyncSession, grants: Sequence[AccessGrant]
) -> list[AccessGrantPublic]:
    """API shapes for many grants with one query for the specialists' names."""
    ids = {grant.specialist_id for grant in grants}
    names: dict[int, str] = {}
    if ids:
        names = dict(
            (await session.execute(select(Agent.id, Agent.name).where(Agent.id.in_(ids)))).all()
        )
    return [
        AccessGrantPublic(
            id=grant.id,
            conversation_id=grant.conversation_id,
            portal_id=grant.portal_id,
            specialist=SpecialistRef(
                id=grant.specialist_id, name=names.get(grant.specialist_id, "")
            ),
            state=grant.state,
            requested_scopes=list(grant.requested_scopes),
            scopes=list(grant.scopes),
            reason=grant.reason,
            requested_minutes=grant.requested_minutes,
            granted_minutes=grant.granted_minutes,
            requested_at=grant.requested_at,
            answer_by=grant.answer_by,
            decided_at=grant.decided_at,
            active_until=grant.active_until,
            ended_at=grant.ended_at,
            first_used_at=grant.first_used_at,
        )
        for grant in grants
    ]


async def access_grant_by_id(
    session: AsyncSession, principal: Principal, grant_id: int, *, lock: bool = False
) -> tuple[AccessGrant, Conversation, ConversationFacts]:
    """A grant the principal may see, with its conversation, or 404 ``not_found``: the
    same answer for a missing grant and for one of another portal. Tier 1 gets 403
    before anything is read. With ``lock``, the conversation and then the grant are
    locked (always in that order, like every access action)."""
    rules.check_may_use_access(principal)
    grant = await session.get(AccessGrant, grant_id)
    if grant is None:
        raise not_found()
    conv, facts = await access_conversation_by_id(
        session, principal, grant.conversation_id, lock=lock
    )
    if not rules.can_view_grants(principal, facts):
        raise not_found()
    if lock:
        locked = await session.scalar(
            select(AccessGrant)
            .where(AccessGrant.id == grant_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert locked is not None
        grant = locked
    return grant, conv, facts


async def grants_of_conversation(
    session: AsyncSession, principal: Principal, conversation_id: int
) -> list[AccessGrantPublic]:
    rules.check_may_use_access(principal)
    _, facts = await access_conversation_by_id(session, principal, conversation_id)
    if not rules.can_view_grants(principal, facts):
        raise not_found()
    grants = await session.scalars(
        select(AccessGrant)
        .where(AccessGrant.conversation_id == conversation_id)
        .order_by(AccessGrant.id.desc())
    )
    return await grant_views(session, list(grants))


async def grants_of_portal(
    session: AsyncSession, customer: CustomerPrincipal, limit: int = 200
) -> list[AccessGrantPublic]:
    grants = await session.scalars(
        select(AccessGrant)
        .where(AccessGrant.portal_id == customer.portal_id)
        .order_by(AccessGrant.id.desc())
        .limit(limit)
    )
    return await grant_views(session, list(grants))


class LogActorPublic(BaseModel):
    type: str
    id: int | None
    name: str


class AccessLogEntryPublic(BaseModel):
    id: int
    seq: int
    at: datetime
    action: str
    actor: LogActorPublic
    grant_id: int | None
    conversation_id: int | None
    data: dict[str, Any]
    prev_hash: str
    hash: str


class AccessLogPage(BaseModel):
    entries: list[AccessLogEntryPublic]
    chain_intact: bool


async def access_log_page(
    session: AsyncSession, customer: CustomerPrincipal, limit: int, before_id: int | None
) -> AccessLogPage:
    """The portal's entries newest first, and whether its whole chain verifies."""
    query = (
        select(AccessLogEntry)
        .where(AccessLogEntry.portal_id == customer.portal_id)
        .order_by(AccessLogEntry.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(AccessLogEntry.id < before_id)
    rows = list(await session.scalars(query))
    check = await check_portal_chain(session, customer.portal_id)
    return AccessLogPage(
        entries=[
            AccessLogEntryPublic(
                id=row.id,
                seq=row.seq,
                at=row.at,
                action=row.action,
                actor=LogActorPublic(type=row.actor_type, id=row.actor_id, name=row.actor_name),
                grant_id=row.grant_id,
                conversation_id=row.conversation_id,
                data=row.data,
                prev_hash=row.prev_hash,
                hash=row.hash,
            )
            for row in rows
        ],
        chain_intact=check.intact,
    )
