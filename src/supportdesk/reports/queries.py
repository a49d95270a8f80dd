"""Reads behind the supervisor reports. Each report is one or two queries whatever the
number of conversations (no N+1); percentiles and day buckets are computed in Python by
``reports.rules``, so the figures are the same on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.conversations.models import (
    Conversation,
    ItemKind,
    Participant,
    Rating,
    TimelineItem,
)
from supportdesk.core.auth import Tier
from supportdesk.reports import rules
from supportdesk.reports.rules import ConversationTimes, Transfer, Window


async def operations(
    session: AsyncSession, window: Window, tier: Tier | None = None
) -> list[rules.OperationsRow]:
    """Conversations opened in the window, per UTC day and tier (``rules.operations_rows``
    says which tier a conversation counts in). Two queries: the conversations, then the
    ``transferred`` system items of those conversations."""
    opened_in_window = (Conversation.created_at >= window.start) & (
        Conversation.created_at < window.end
    )
    conversations = [
        ConversationTimes(*row)
        for row in await session.execute(
            select(
                Conversation.id,
                Conversation.tier,
                Conversation.created_at,
                Conversation.first_response_at,
                Conversation.resolved_at,
            ).where(opened_in_window)
        )
    ]
    transfers: list[Transfer] = []
    if conversations:
        items = await session.execute(
            select(TimelineItem.conversation_id, TimelineItem.data)
            .join(Conversation, Conversation.id == TimelineItem.conversation_id)
            .where(
                opened_in_window,
                TimelineItem.kind == ItemKind.SYSTEM.value,
                TimelineItem.data["event"].as_string() == "transferred",
            )
            .order_by(TimelineItem.conversation_id, TimelineItem.seq)
        )
        transfers = [
            Transfer(conversation_id, str(data["from_tier"]), str(data["to_tier"]))
            for conversation_id, data in items
        ]
    tiers = [tier.value] if tier is not None else [t.value for t in Tier]
    return rules.operations_rows(conversations, transfers, window.days, tiers)


def rating_conditions(
    window: Window, tier: Tier | None = None, agent_id: int | None = None
) -> list[ColumnElement[bool]]:
    """Ratings given in the window, filtered like ``conversations.queries.csat_report``: a
    rating counts for a tier or an agent when that agent (at that tier) was ever assigned
    to the conversation."""
    conditions = [Rating.created_at >= window.start, Rating.created_at < window.end]
    if tier is not None or agent_id is not None:
        handled = select(Participant.conversation_id)
        if tier is not None:
            handled = handled.where(Participant.tier == tier.value)
        if agent_id is not None:
            handled = handled.where(Participant.agent_id == agent_id)
        conditions.append(Rating.conversation_id.in_(handled))
    return conditions


async def csat_daily(
    session: AsyncSession, window: Window, tier: Tier | None = None, agent_id: int | None = None
) -> list[rules.CsatDay]:
    """Count and average score per UTC day the rating was given; one query."""
    rows = await session.execute(
        select(Rating.created_at, Rating.score).where(*rating_conditions(window, tier, agent_id))
    )
    return rules.csat_days(((rated_at, score) for rated_at, score in rows), window.days)
