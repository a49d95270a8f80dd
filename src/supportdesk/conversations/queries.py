"""Reads shaped for the API, and the permission-checked loader ``access_conversation_by_id``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from supportdesk.conversations import rules
from supportdesk.conversations.models import (
    AuthorType,
    Conversation,
    ConversationRead,
    ItemKind,
    Participant,
    Rating,
    State,
    TimelineItem,
)
from supportdesk.conversations.timeline import facts_of, item_public, participants_of
from supportdesk.core.auth import AgentPrincipal, CustomerPrincipal, Principal, Tier
from supportdesk.core.errors import not_found
from supportdesk.identity.models import Plan, Portal, PortalUser
from supportdesk.realtime.events import AgentRef, ConversationFacts, ConversationPublic, ItemPublic
from supportdesk.staff.models import Agent

PAGE = 200


async def access_conversation_by_id(
    session: AsyncSession, principal: Principal, conversation_id: int, *, lock: bool = False
) -> tuple[Conversation, ConversationFacts]:
    """Load a conversation the principal may see, or raise 404 ``not_found``: the same
    answer for a missing row and for another portal's row."""
    query = select(Conversation).where(Conversation.id == conversation_id)
    if lock:
        query = query.with_for_update()
    conv = await session.scalar(query)
    if conv is None:
        raise not_found()
    facts = facts_of(conv, (await participants_of(session, [conv.id])).get(conv.id, []))
    if not rules.can_view(principal, facts):
        raise not_found()
    return conv, facts


async def open_chat_counts(session: AsyncSession) -> dict[int, int]:
    """Agent id -> conversations currently assigned to them (their load)."""
    rows = await session.execute(
        select(Conversation.assigned_agent_id, func.count())
        .where(Conversation.state == State.ASSIGNED.value)
        .group_by(Conversation.assigned_agent_id)
    )
    return {agent_id: count for agent_id, count in rows if agent_id is not None}


async def queue_positions(session: AsyncSession, conversation_ids: Sequence[int]) -> dict[int, int]:
    """1-based FIFO positions of waiting conversations within their tier's queue."""
    if not conversation_ids:
        return {}
    tiers = set(
        (
            await session.scalars(
                select(Conversation.tier).where(
                    Conversation.id.in_(conversation_ids), Conversation.state == State.WAITING.value
                )
            )
        ).all()
    )
    positions: dict[int, int] = {}
    for tier in tiers:
        queue = (
            await session.scalars(
                select(Conversation.id)
                .where(Conversation.state == State.WAITING.value, Conversation.tier == tier)
                .order_by(Conversation.waiting_since, Conversation.id)
            )
        ).all()
        positions.update({cid: index + 1 for index, cid in enumerate(queue)})
    return {cid: positions[cid] for cid in conversation_ids if cid in positions}


async def public_views(
    session: AsyncSession, convs: Sequence[Conversation], positions: dict[int, int] | None = None
) -> list[ConversationPublic]:
    """API shapes for many conversations in a fixed number of queries (no N+1): agents,
    ratings and queue positions are each loaded once for the whole list."""
    agent_ids = {c.assigned_agent_id for c in convs if c.assigned_agent_id}
    agents = {}
    if agent_ids:
        agents = {
            a.id: a for a in await session.scalars(select(Agent).where(Agent.id.in_(agent_ids)))
        }
    finished = [c.id for c in convs if c.state in (State.RESOLVED.value, State.CLOSED.value)]
    rated: set[int] = set()
    if finished:
        rated = set(
            await session.scalars(
                select(Rating.conversation_id).where(Rating.conversation_id.in_(finished))
            )
        )
    if positions is None:
        positions = await queue_positions(
            session, [c.id for c in convs if c.state == State.WAITING.value]
        )
    views = []
    for conv in convs:
        agent = agents.get(conv.assigned_agent_id) if conv.assigned_agent_id else None
        views.append(
            ConversationPublic(
                id=conv.id,
                portal_id=conv.portal_id,
                state=conv.state,
                tier=conv.tier,
                subject=conv.subject,
                locale=conv.locale,
                assigned_agent=AgentRef(id=agent.id, name=agent.name, tier=conv.tier)
                if agent
                else None,
                queue_position=positions.get(conv.id),
                last_seq=conv.last_seq,
                created_at=conv.created_at,
                updated_at=conv.updated_at,
                resolved_at=conv.resolved_at,
                rated=conv.id in rated,
            )
        )
    return views


async def conversation_public(
    session: AsyncSession, conv: Conversation, queue_position: int | None = None
) -> ConversationPublic:
    positions = {conv.id: queue_position} if queue_position is not None else {}
    return (await public_views(session, [conv], positions))[0]


async def conversation_view(session: AsyncSession, conv: Conversation) -> ConversationPublic:
    """One conversation as the API shows it, with its queue position when waiting."""
    return (await public_views(session, [conv]))[0]


async def list_items(
    session: AsyncSession,
    principal: Principal,
    conversation_id: int,
    after: int = 0,
    limit: int = PAGE,
) -> list[ItemPublic]:
    """Items after ``seq`` in order; customers never receive internal notes."""
    await access_conversation_by_id(session, principal, conversation_id)
    return await items_after(session, principal, conversation_id, after, limit)


async def items_after(
    session: AsyncSession, principal: Principal, conversation_id: int, after: int, limit: int = PAGE
) -> list[ItemPublic]:
    items = (await session.scalars(_items_query(principal, conversation_id, after, limit))).all()
    return [item_public(item) for item in items]


def items_after_sync(
    session: Session, principal: Principal, conversation_id: int, after: int, limit: int = PAGE
) -> list[ItemPublic]:
    """The read behind ``list_items`` without the access check, for the socket hub, which
    routes by ``can_view`` already; it runs in one hop (``Database.run_read``)."""
    items = session.scalars(_items_query(principal, conversation_id, after, limit)).all()
    return [item_public(item) for item in items]


def _items_query(
    principal: Principal, conversation_id: int, after: int, limit: int
) -> Select[TimelineItem]:
    query = (
        select(TimelineItem)
        .where(TimelineItem.conversation_id == conversation_id, TimelineItem.seq > after)
        .order_by(TimelineItem.seq)
        .limit(limit)
    )
    if not rules.can_see_internal(principal):
        query = query.where(TimelineItem.kind != ItemKind.NOTE.value)
    return query


@dataclass(frozen=True)
class ConversationFilter:
    scope: str = "all"  # customers: all; staff: mine | queue | handled | all
    tier: Tier | None = None
    state: str | None = None


async def list_conversations(
    session: AsyncSession, principal: Principal, filters: ConversationFilter, limit: int = 100
) -> list[ConversationPublic]:
    query = select(Conversation).order_by(Conversation.id.desc()).limit(limit)
    if isinstance(principal, CustomerPrincipal):
        if not principal.is_portal_admin:
            return []
        query = query.where(Conversation.portal_id == principal.portal_id)
    else:
        query = _staff_scope(query, principal, filters)
    if filters.state:
        query = query.where(Conversation.state == filters.state)
    return await public_views(session, (await session.scalars(query)).all())


def _staff_scope(query, agent: AgentPrincipal, filters: ConversationFilter):  # type: ignore[no-untyped-def]
    if filters.tier is not None:
        query = query.where(Conversation.tier == filters.tier.value)
    if filters.scope == "mine":
        return query.where(
            Conversation.assigned_agent_id == agent.agent_id,
            Conversation.state == State.ASSIGNED.value,
        )
    if filters.scope == "queue":
        tiers = (
            [t.value for t in agent.tiers] if not agent.is_supervisor else [t.value for t in Tier]
        )
        return query.where(Conversation.state == State.WAITING.value, Conversation.tier.in_(tiers))
    handled = select(Participant.conversation_id).where(Participant.agent_id == agent.agent_id)
    if filters.scope == "handled":
        return query.where(Conversation.id.in_(handled))
    if agent.is_supervisor:
        return query
    return query.where(
        Conversation.tier.in_([t.value for t in agent.tiers]) | Conversation.id.in_(handled)
    )


@dataclass(frozen=True)
class QueueView:
    """One tier's queue as the console shows it: the ``queue`` event's summary plus the
    waiting conversations themselves, in FIFO order."""

    tier: str
    waiting: int
    oldest_waiting_since: datetime | None
    conversations: list[ConversationPublic]


async def queues_of(session: AsyncSession, agent: AgentPrincipal) -> list[QueueView]:
    """The queues of the tiers the agent works (supervisors: every tier)."""
    tiers = list(Tier) if agent.is_supervisor else sorted(agent.tiers, key=lambda t: t.number)
    views = []
    for tier in tiers:
        waiting = (
            await session.scalars(
                select(Conversation)
                .where(Conversation.state == State.WAITING.value, Conversation.tier == tier.value)
                .order_by(Conversation.waiting_since, Conversation.id)
            )
        ).all()
        # Positions are the queue order itself: no second query.
        positions = {conv.id: index + 1 for index, conv in enumerate(waiting)}
        views.append(
            QueueView(
                tier=tier.value,
                waiting=len(waiting),
                oldest_waiting_since=waiting[0].waiting_since if waiting else None,
                conversations=await public_views(session, waiting, positions),
            )
        )
    return views


@dataclass(frozen=True)
class PlanView:
    code: str
    name_ja: str
    name_en: str
    commercial: bool


@dataclass(frozen=True)
class PortalView:
    id: int
    external_id: str
    plan: PlanView


@dataclass(frozen=True)
class CustomerView:
    id: int
    external_id: str
    name: str
    email: str
    role: str
    locale: str


@dataclass(frozen=True)
class CustomerPanel:
    conversation_id: int
    portal: PortalView
    user: CustomerView


async def customer_panel(
    session: AsyncSession, principal: Principal, conversation_id: int
) -> CustomerPanel:
    """Who is asking: the portal with its plan, and the user who opened the conversation
    (their current name, email, role and locale, as the latest identity token said)."""
    conv, _ = await access_conversation_by_id(session, principal, conversation_id)
    row = (
        await session.execute(
            select(Portal, Plan, PortalUser)
            .join(Plan, Plan.code == Portal.plan_code)
            .join(PortalUser, PortalUser.portal_id == Portal.id)
            .where(Portal.id == conv.portal_id, PortalUser.id == conv.customer_id)
        )
    ).one()
    portal, plan, user = row
    return CustomerPanel(
        conversation_id=conv.id,
        portal=PortalView(
            id=portal.id,
            external_id=portal.external_id,
            plan=PlanView(plan.code, plan.name_ja, plan.name_en, plan.commercial),
        ),
        user=CustomerView(
            id=user.id,
            external_id=user.external_id,
            name=user.name,
            email=user.email,
            role=user.role,
            locale=user.locale,
        ),
    )


async def search_conversations(
    session: AsyncSession, agent: AgentPrincipal, q: str, limit: int = 20
) -> list[ConversationPublic]:
    """Conversations the agent may see (the list's visibility) matching ``q``: ``#12`` or
    ``12`` by number, otherwise a case-insensitive substring of the portal's external id,
    the customer's name or email, the subject, or any timeline item (notes included).
    ``%`` and ``_`` are literal. The conversation named by number comes first, then the
    newest."""
    terms = rules.parse_search(q)
    matches = []
    if terms.conversation_id is not None:
        matches.append(Conversation.id == terms.conversation_id)
    if text := terms.text:
        # A LIKE with a leading % scans; fine at a support desk's volume, and it finds
        # any substring, Japanese included, with no tokenizer. A full-text index (FTS5,
        # PostgreSQL tsvector) is the step up when volume needs it.
        matches += [
            Conversation.subject.icontains(text, autoescape=True),
            Conversation.portal_id.in_(
                select(Portal.id).where(Portal.external_id.icontains(text, autoescape=True))
            ),
            Conversation.customer_id.in_(
                select(PortalUser.id).where(
                    PortalUser.name.icontains(text, autoescape=True)
                    | PortalUser.email.icontains(text, autoescape=True)
                )
            ),
            Conversation.id.in_(
                select(TimelineItem.conversation_id).where(
                    TimelineItem.body.icontains(text, autoescape=True)
                )
            ),
        ]
    if not matches:
        return []
    query = select(Conversation).where(or_(*matches))
    if terms.conversation_id is not None:
        query = query.order_by(case((Conversation.id == terms.conversation_id, 0), else_=1))
    query = query.order_by(Conversation.id.desc()).limit(limit)
    query = _staff_scope(query, agent, ConversationFilter())
    return await public_views(session, (await session.scalars(query)).all())


async def unread_counts(session: AsyncSession, agent: AgentPrincipal) -> dict[int, int]:
    """For each conversation assigned to the agent: the items after their read marker
    that someone else wrote. One query, however many chats."""
    own = (TimelineItem.author_type == AuthorType.AGENT.value) & (
        TimelineItem.author_id == agent.agent_id
    )
    rows = await session.execute(
        select(Conversation.id, func.count(TimelineItem.id))
        .outerjoin(
            ConversationRead,
            (ConversationRead.conversation_id == Conversation.id)
            & (ConversationRead.agent_id == agent.agent_id),
        )
        .outerjoin(
            TimelineItem,
            (TimelineItem.conversation_id == Conversation.id)
            & (TimelineItem.seq > func.coalesce(ConversationRead.last_read_seq, 0))
            & ~own,
        )
        .where(
            Conversation.assigned_agent_id == agent.agent_id,
            Conversation.state == State.ASSIGNED.value,
        )
        .group_by(Conversation.id)
    )
    return {conversation_id: count for conversation_id, count in rows}


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    subject: str
    state: str
    tier: str
    created_at: datetime
    handled_by: list[AgentRef]


async def portal_history(
    session: AsyncSession, principal: Principal, conversation_id: int, limit: int = 50
) -> list[HistoryEntry]:
    """The portal's other conversations and the agents (with tiers) who handled them, so
    tier 1 can see that a customer already worked with a specialist."""
    conv, _ = await access_conversation_by_id(session, principal, conversation_id)
    earlier = (
        await session.scalars(
            select(Conversation)
            .where(Conversation.portal_id == conv.portal_id, Conversation.id != conv.id)
            .order_by(Conversation.id.desc())
            .limit(limit)
        )
    ).all()
    handlers: dict[int, list[AgentRef]] = defaultdict(list)
    if earlier:
        rows = await session.execute(
            select(Participant.conversation_id, Participant.tier, Agent.id, Agent.name)
            .join(Agent, Agent.id == Participant.agent_id)
            .where(Participant.conversation_id.in_([c.id for c in earlier]))
            .order_by(Participant.first_assigned_at)
        )
        for conversation_id, tier, agent_id, name in rows:
            handlers[conversation_id].append(AgentRef(id=agent_id, name=name, tier=tier))
    return [
        HistoryEntry(c.id, c.subject, c.state, c.tier, c.created_at, handlers.get(c.id, []))
        for c in earlier
    ]


@dataclass(frozen=True)
class CsatRow:
    agent_id: int
    agent_name: str
    tier: str
    count: int
    average: float


@dataclass(frozen=True)
class CsatReport:
    count: int
    average: float | None
    distribution: dict[int, int]
    by_agent: list[CsatRow]


async def csat_report(
    session: AsyncSession,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    tier: Tier | None = None,
    agent_id: int | None = None,
) -> CsatReport:
    """Customer satisfaction from ratings. A rating counts for every agent who was assigned
    to the conversation, at the tier where they handled it; the overall figures count
    each rating once."""
    base = select(Rating.conversation_id, Rating.score)
    if start is not None:
        base = base.where(Rating.created_at >= start)
    if end is not None:
        base = base.where(Rating.created_at < end)
    if tier is not None or agent_id is not None:
        handled = select(Participant.conversation_id)
        if tier is not None:
            handled = handled.where(Participant.tier == tier.value)
        if agent_id is not None:
            handled = handled.where(Participant.agent_id == agent_id)
        base = base.where(Rating.conversation_id.in_(handled))
    ratings = (await session.execute(base)).all()
    distribution = {score: 0 for score in range(1, 6)}
    for _, score in ratings:
        distribution[score] += 1
    count = len(ratings)
    average = round(sum(score for _, score in ratings) / count, 3) if count else None

    rated_ids = [cid for cid, _ in ratings]
    per_agent = (
        select(
            Participant.agent_id, Agent.name, Participant.tier, func.count(), func.avg(Rating.score)
        )
        .join(Rating, Rating.conversation_id == Participant.conversation_id)
        .join(Agent, Agent.id == Participant.agent_id)
        .where(Participant.conversation_id.in_(rated_ids))
        .group_by(Participant.agent_id, Agent.name, Participant.tier)
        .order_by(Participant.agent_id)
    )
    if tier is not None:
        per_agent = per_agent.where(Participant.tier == tier.value)
    if agent_id is not None:
        per_agent = per_agent.where(Participant.agent_id == agent_id)
    rows = (await session.execute(per_agent)).all() if rated_ids else []
    return CsatReport(
        count=count,
        average=average,
        distribution=distribution,
        by_agent=[CsatRow(a, n, t, c, round(float(avg), 3)) for a, n, t, c, avg in rows],
    )
