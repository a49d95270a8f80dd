"""Reads of saved replies: the search behind the composer's ``/`` picker."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import case, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.core.auth import AgentPrincipal
from supportdesk.core.errors import not_found
from supportdesk.saved_replies.models import SavedReply


async def access_saved_reply_by_id(
    session: AsyncSession, agent: AgentPrincipal, reply_id: int
) -> SavedReply:
    """Every agent may see every saved reply; a missing one is 404 ``not_found``."""
    reply = await session.get(SavedReply, reply_id)
    if reply is None:
        raise not_found()
    return reply


async def search_saved_replies(
    session: AsyncSession, q: str = "", locale: str | None = None, limit: int = 50
) -> Sequence[SavedReply]:
    """Replies whose shortcut, title or body contains ``q``, case-insensitively.

    ``%`` and ``_`` in ``q`` are literal. Replies whose shortcut starts with ``q`` come
    first (what the agent is typing after ``/``), then by shortcut.
    """
    query = select(SavedReply)
    if locale:
        query = query.where(SavedReply.locale == locale)
    text = q.strip().removeprefix("/").strip()
    order = []
    if text:
        query = query.where(
            or_(
                SavedReply.shortcut.icontains(text, autoescape=True),
                SavedReply.title.icontains(text, autoescape=True),
                SavedReply.body.icontains(text, autoescape=True),
            )
        )
        order.append(case((SavedReply.shortcut.istartswith(text, autoescape=True), 0), else_=1))
    query = query.order_by(*order, SavedReply.shortcut, SavedReply.locale).limit(limit)
    return (await session.scalars(query)).all()
