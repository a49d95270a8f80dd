"""Routing: hand waiting conversations to online agents, and publish queue positions.

``do_assign_waiting`` runs whenever a slot may have opened or a conversation joined a
queue: a new conversation, a transfer, an agent coming online, a resolution, a
reassignment. Runs are serialised (an asyncio lock in-process, and a transaction-level
advisory lock on PostgreSQL across processes) so two runs never hand the same
conversation to two agents.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.audit import actions as audit
from supportdesk.conversations import rules
from supportdesk.conversations.models import Conversation, ItemKind, Participant, State
from supportdesk.conversations.queries import conversation_public, open_chat_counts, public_views
from supportdesk.conversations.timeline import (
    Draft,
    append_items,
    facts_of,
    item_events,
    participants_of,
)
from supportdesk.core.auth import TIER_ROLE, AgentPrincipal, Role, Tier
from supportdesk.core.clock import utcnow
from supportdesk.realtime.events import ConversationEvent, QueueEvent
from supportdesk.services import Services
from supportdesk.staff.models import Agent, Presence

ASSIGNMENT_LOCK_KEY = 0x5D_A551  # any constant shared by all processes


def tiers_of_roles(roles: Iterable[Role]) -> list[Tier]:
    return [tier for tier, role in TIER_ROLE.items() if role in roles]


async def load_candidates(session: AsyncSession, tier: Tier) -> list[rules.Candidate]:
    agents = (
        await session.execute(
            select(Agent.id, Agent.languages, Agent.roles, Agent.max_chats).where(
                Agent.active, Agent.presence == Presence.ONLINE.value
            )
        )
    ).all()
    load = await open_chat_counts(session)
    role = TIER_ROLE[tier].value
    return [
        rules.Candidate(agent.id, tuple(agent.languages), load.get(agent.id, 0), agent.max_chats)
        for agent in agents
        if role in agent.roles
    ]


async def do_assign_waiting(
    svc: Services, tiers: Iterable[Tier] | None = None, roles: Iterable[Role] | None = None
) -> int:
    """Assign what can be assigned in ``tiers`` (or the tiers that ``roles`` work).

    Returns how many conversations were assigned. Publishes the new items, the changed
    conversations, each tier's queue summary, and every waiting customer's position.
    """
    chosen = list(tiers) if tiers is not None else tiers_of_roles(roles or TIER_ROLE.values())
    if not chosen:
        return 0
    events: list[object] = []
    assigned = 0
    async with svc.assignment_lock, svc.db.write() as session:
        if not svc.db.is_sqlite:
            await session.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": ASSIGNMENT_LOCK_KEY}
            )
        for tier in chosen:
            assigned += await _assign_tier(session, tier, events)
        for tier in chosen:
            events.extend(await _queue_events(session, tier))
    await svc.bus.publish(events)
    return assigned


async def _assign_tier(session: AsyncSession, tier: Tier, events: list[object]) -> int:
    queue = (
        await session.scalars(
            select(Conversation)
            .where(Conversation.state == State.WAITING.value, Conversation.tier == tier.value)
            .order_by(Conversation.waiting_since, Conversation.id)
            .with_for_update()
        )
    ).all()
    if not queue:
        return 0
    candidates = await load_candidates(session, tier)
    plan = rules.plan_assignments(
        [(c.id, c.locale, c.preferred_agent_id) for c in queue], candidates
    )
    if not plan:
        return 0
    by_id = {c.id: c for c in queue}
    agents = {
        a.id: a
        for a in (
            await session.scalars(
                select(Agent).where(Agent.id.in_([agent_id for _, agent_id in plan]))
            )
        ).all()
    }
    for conversation_id, agent_id in plan:
        events.extend(await assign(session, by_id[conversation_id], agents[agent_id], actor=None))
    return len(plan)


async def assign(
    session: AsyncSession, conv: Conversation, agent: Agent, actor: AgentPrincipal | None
) -> list[object]:
    """Assign a locked conversation to ``agent``; returns the events to publish."""
    conv.state = rules.next_state(conv.state, "assign")
    previous = conv.assigned_agent_id
    conv.assigned_agent_id = agent.id
    conv.waiting_since = None
    now = utcnow()
    if await session.get(Participant, (conv.id, agent.id)) is None:
        session.add(
            Participant(
                conversation_id=conv.id, agent_id=agent.id, tier=conv.tier, first_assigned_at=now
            )
        )
    items = await append_items(
        session,
        conv,
        [
            Draft(
                ItemKind.SYSTEM,
                None,
                data={
                    "event": "assigned",
                    "agent": {"id": agent.id, "name": agent.name, "tier": conv.tier},
                },
            )
        ],
        now,
    )
    audit.record(
        session,
        actor,
        "conversation.assigned",
        subject_type="conversation",
        subject_id=conv.id,
        portal_id=conv.portal_id,
        agent_id=agent.id,
        previous_agent_id=previous,
        tier=conv.tier,
    )
    await session.flush()
    facts = facts_of(conv, (await participants_of(session, [conv.id])).get(conv.id, []))
    public = await conversation_public(session, conv)
    return [*item_events(facts, items), ConversationEvent(facts=facts, conversation=public)]


async def _queue_events(session: AsyncSession, tier: Tier) -> list[object]:
    waiting = (
        await session.scalars(
            select(Conversation)
            .where(Conversation.state == State.WAITING.value, Conversation.tier == tier.value)
            .order_by(Conversation.waiting_since, Conversation.id)
        )
    ).all()
    events: list[object] = [
        QueueEvent(
            tier=tier.value,
            waiting=len(waiting),
            oldest_waiting_since=waiting[0].waiting_since if waiting else None,
        )
    ]
    participants = (
        await participants_of(session, [c.id for c in waiting]) if waiting else defaultdict(list)
    )
    # Positions are the queue order itself: no second query.
    positions = {conv.id: index + 1 for index, conv in enumerate(waiting)}
    views = await public_views(session, waiting, positions)
    events.extend(
        ConversationEvent(facts=facts_of(conv, participants.get(conv.id, [])), conversation=view)
        for conv, view in zip(waiting, views, strict=True)
    )
    return events
