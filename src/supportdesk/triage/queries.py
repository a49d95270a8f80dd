"""Reads for triage: the marketplace catalogue, a portal's installed apps, and the triage
kept on a conversation (only for staff who may view the conversation)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.conversations.queries import access_conversation_by_id
from supportdesk.core.auth import AgentPrincipal
from supportdesk.triage.models import ConversationTriage, MarketplaceApp, PortalApps
from supportdesk.triage.rules import AppEntry


async def get_app(session: AsyncSession, code: str) -> MarketplaceApp | None:
    """A catalogue app by code (active or not: callers decide what an inactive one means)."""
    return await session.get(MarketplaceApp, code)


def app_entry(app: MarketplaceApp) -> AppEntry:
    return AppEntry(
        code=app.code,
        name_en=app.name_en,
        name_ja=app.name_ja,
        aliases=tuple(app.aliases or ()),
        vendor=app.vendor,
        support_url=app.support_url,
        support_email=app.support_email,
        support_tab_url=app.support_tab_url,
    )


async def active_catalogue(session: AsyncSession) -> list[AppEntry]:
    rows = await session.scalars(
        select(MarketplaceApp).where(MarketplaceApp.active.is_(True)).order_by(MarketplaceApp.code)
    )
    return [app_entry(app) for app in rows]


async def installed_apps(session: AsyncSession, portal_id: int) -> list[str]:
    row = await session.get(PortalApps, portal_id)
    return list(row.codes) if row is not None else []


async def conversation_triage(
    session: AsyncSession, agent: AgentPrincipal, conversation_id: int
) -> dict[str, Any] | None:
    """The triage stored when the conversation was opened; 404 if the agent may not see
    the conversation, ``None`` if it has none (opened before triage existed)."""
    await access_conversation_by_id(session, agent, conversation_id)
    kept = await session.get(ConversationTriage, conversation_id)
    return dict(kept.result) if kept is not None else None
