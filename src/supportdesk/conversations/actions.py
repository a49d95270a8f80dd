"""Every state change of a conversation, as ``do_*`` functions.

Each one checks the rules, writes in one transaction (with its audit entry), and
publishes its events only after the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from supportdesk.account_access import actions as access_actions
from supportdesk.attachments.rules import check_attachment_count
from supportdesk.audit import actions as audit
from supportdesk.conversations import rules
from supportdesk.conversations.assignment import assign, do_assign_waiting
from supportdesk.conversations.models import (
    Conversation,
    ConversationRead,
    CustomerRead,
    ItemKind,
    Rating,
    State,
    TimelineItem,
)
from supportdesk.conversations.queries import access_conversation_by_id, conversation_view
from supportdesk.conversations.timeline import (
    Draft,
    append_items,
    facts_of,
    item_events,
    item_public,
    participants_of,
    secret_removed,
)
from supportdesk.core.auth import AgentPrincipal, CustomerPrincipal, Principal, Role, Tier
from supportdesk.core.clock import utcnow
from supportdesk.core.errors import DomainError, conflict, forbidden, invalid, not_found
from supportdesk.identity.models import Plan
from supportdesk.identity.rules import eligibility
from supportdesk.realtime.events import ConversationEvent, ConversationPublic, ItemPublic
from supportdesk.safety.guard import asks_for_credentials
from supportdesk.safety.redaction import redact
from supportdesk.services import Services
from supportdesk.staff.models import Agent
from supportdesk.triage import actions as triage_actions

SUBJECT_LENGTH = 120


async def ineligible_error(svc: Services, customer: CustomerPrincipal, code: str) -> DomainError:
    """A 403 with the plan's name and the links that help instead."""
    async with svc.db.read() as session:
        plan = await session.get(Plan, customer.plan_code)
    name = (
        (plan.name_ja if customer.locale == "ja" else plan.name_en) if plan else customer.plan_code
    )
    return DomainError(
        code,
        403,
        params={"plan_name": name},
        extra={
            "links": {
                "pricing": svc.settings.pricing_url,
                "help_center": svc.settings.help_center_url,
            },
        },
    )


@dataclass(frozen=True)
class Opened:
    conversation: ConversationPublic
    first_item: ItemPublic
    created: bool


async def do_open_conversation(
    svc: Services, customer: CustomerPrincipal, body: str, client_key: str
) -> Opened:
    """Open a conversation with its first message. It always starts at tier 1, waiting.

    Nothing is written when the customer may not open one. A retried ``client_key``
    returns the conversation it created the first time. Secrets in the message are
    redacted before anything is stored (the subject is made from the redacted text).
    """
    verdict = eligibility(customer)
    if not verdict.eligible:
        raise await ineligible_error(svc, customer, verdict.reason or "forbidden")
    rules.check_body(body, svc.settings.message_max_chars)
    rules.check_client_key(client_key)
    redacted = redact(body)
    body = redacted.text
    triage = await triage_actions.triage_new_conversation(svc, customer, body)
    now = utcnow()
    async with svc.db.write() as session:
        existing = await session.scalar(
            select(Conversation).where(
                Conversation.customer_id == customer.user_id, Conversation.client_key == client_key
            )
        )
        if existing is not None:
            first = await session.scalar(
                select(TimelineItem).where(
                    TimelineItem.conversation_id == existing.id, TimelineItem.seq == 1
                )
            )
            if first is None or first.body != body:
                raise conflict("client_key_reused")
            return Opened(await conversation_view(session, existing), item_public(first), False)
        conv = Conversation(
            portal_id=customer.portal_id,
            customer_id=customer.user_id,
            client_key=client_key,
            state=State.WAITING.value,
            tier=Tier.CUSTOMER_SUPPORT.value,
            locale=customer.locale,
            subject=" ".join(body.split())[:SUBJECT_LENGTH],
            last_seq=0,
            waiting_since=now,
            created_at=now,
            updated_at=now,
        )
        session.add(conv)
        await session.flush()
        triage_actions.keep_triage(session, conv.id, triage)
        drafts = [Draft(ItemKind.MESSAGE, customer, body=body, client_key=client_key)]
        if redacted.kinds:
            drafts.append(Draft(ItemKind.SYSTEM, None, data=secret_removed(redacted.kinds)))
        items = await append_items(session, conv, drafts, now)
        audit.record(
            session,
            customer,
            "conversation.opened",
            subject_type="conversation",
            subject_id=conv.id,
            portal_id=conv.portal_id,
        )
        facts = facts_of(conv, [])
        public = await conversation_view(session, conv)
    await svc.bus.publish(
        [*item_events(facts, items), ConversationEvent(facts=facts, conversation=public)]
    )
    await do_assign_waiting(svc, [Tier.CUSTOMER_SUPPORT])
    # Read it again: the assignment run may have handed it to an agent already.
    return Opened(await _fresh_view(svc, customer, conv.id), items[0], True)


async def do_post_message(
    svc: Services,
    principal: Principal,
    conversation_id: int,
    body: str,
    client_key: str,
    internal: bool = False,
    attachment_ids: Sequence[int] = (),
) -> ItemPublic:
    """A message or internal note, through the group-commit writer.

    HTTP and the WebSocket both land here, so this is where customer text is redacted:
    once, before it is queued, stored, published, indexed or logged. The writer adds the
    ``secret_removed`` item after the message in the same transaction. An agent's message
    to the customer that asks for their password is refused (422). It may carry up to
    ``SUPPORTDESK_MAX_ATTACHMENTS_PER_MESSAGE`` attachments (then the body may be empty).
    """
    attachments = tuple(dict.fromkeys(attachment_ids))  # the same one twice counts once
    check_attachment_count(len(attachments), svc.settings.max_attachments_per_message)
    secret_kinds: tuple[str, ...] = ()
    if isinstance(principal, CustomerPrincipal):
        redacted = redact(body)
        body, secret_kinds = redacted.text, redacted.kinds
    elif not internal and asks_for_credentials(body):
        raise invalid("staff_may_not_ask_for_credentials")
    return await svc.writer.post(
        principal,
        conversation_id,
        body,
        client_key,
        internal,
        secret_kinds=secret_kinds,
        attachment_ids=attachments,
    )


async def do_transfer(
    svc: Services,
    agent: AgentPrincipal,
    conversation_id: int,
    to_tier: Tier,
    note: str,
    preferred_agent_id: int | None = None,
) -> ConversationPublic:
    """Move a conversation to another tier's queue, in the same chat with its history.

    The handoff note is stored as an internal note; the customer sees a system item.
    """
    async with svc.db.write() as session:
        conv, facts = await access_conversation_by_id(session, agent, conversation_id, lock=True)
        rules.check_transfer(agent, facts, to_tier, note)
        if preferred_agent_id is not None:
            preferred = await session.get(Agent, preferred_agent_id)
            roles = preferred.roles if preferred is not None and preferred.active else []
            if to_tier is Tier.TECHNICAL_SUPPORT:
                rules.check_preferred_agent(roles)
            elif Role.CUSTOMER_SUPPORT.value not in roles:
                raise invalid("agent_not_in_tier")
        from_tier = conv.tier
        now = utcnow()
        items = await append_items(
            session,
            conv,
            [
                Draft(
                    ItemKind.NOTE,
                    agent,
                    body=note.strip(),
                    data={"handoff": True, "from_tier": from_tier, "to_tier": to_tier.value},
                ),
                Draft(
                    ItemKind.SYSTEM,
                    None,
                    data={"event": "transferred", "from_tier": from_tier, "to_tier": to_tier.value},
                ),
            ],
            now,
        )
        conv.state = rules.next_state(conv.state, "transfer")
        conv.tier = to_tier.value
        conv.assigned_agent_id = None
        conv.preferred_agent_id = preferred_agent_id
        conv.waiting_since = now
        audit.record(
            session,
            agent,
            "conversation.transferred",
            subject_type="conversation",
            subject_id=conv.id,
            portal_id=conv.portal_id,
            from_tier=from_tier,
            to_tier=to_tier.value,
            preferred_agent_id=preferred_agent_id,
        )
        await session.flush()
        facts = facts_of(conv, facts.participant_ids)
        public = await conversation_view(session, conv)
    await svc.bus.publish(
        [*item_events(facts, items), ConversationEvent(facts=facts, conversation=public)]
    )
    await do_assign_waiting(svc, [Tier(from_tier), to_tier])
    return await _fresh_view(svc, agent, conversation_id)


async def do_resolve(
    svc: Services, agent: AgentPrincipal, conversation_id: int
) -> ConversationPublic:
    """Resolve: the customer gets a rating prompt, and the agent's slot frees up."""
    async with svc.db.write() as session:
        conv, facts = await access_conversation_by_id(session, agent, conversation_id, lock=True)
        rules.check_agent_action(agent, facts)
        conv.state = rules.next_state(conv.state, "resolve")
        now = utcnow()
        conv.resolved_at = now
        conv.waiting_since = None
        items = await append_items(
            session,
            conv,
            [
                Draft(
                    ItemKind.SYSTEM,
                    None,
                    data={"event": "resolved", "by": {"id": agent.agent_id, "name": agent.name}},
                ),
                Draft(ItemKind.CARD, None, data={"card": "rating_prompt", "scale": [1, 5]}),
            ],
            now,
        )
        # Account access ends with the conversation, in this same transaction.
        items += await access_actions.do_complete_for_conversation(svc, session, conv, agent)
        audit.record(
            session,
            agent,
            "conversation.resolved",
            subject_type="conversation",
            subject_id=conv.id,
            portal_id=conv.portal_id,
        )
        await session.flush()
        facts = facts_of(conv, facts.participant_ids)
        public = await conversation_view(session, conv)
        tier = Tier(conv.tier)
    await svc.bus.publish(
        [*item_events(facts, items), ConversationEvent(facts=facts, conversation=public)]
    )
    await do_assign_waiting(svc, [tier])
    return public


async def do_reassign(
    svc: Services, supervisor: AgentPrincipal, conversation_id: int, agent_id: int
) -> ConversationPublic:
    """A supervisor hands a waiting or assigned conversation to an agent of its tier."""
    if not supervisor.is_supervisor:
        raise forbidden()
    async with svc.db.write() as session:
        conv, _ = await access_conversation_by_id(session, supervisor, conversation_id, lock=True)
        target = await session.get(Agent, agent_id)
        if target is None or not target.active:
            raise not_found()
        if conv.tier not in target.roles:
            raise invalid("agent_not_in_tier")
        previous_tier = Tier(conv.tier)
        events = await assign(session, conv, target, actor=supervisor)
    await svc.bus.publish(events)
    await do_assign_waiting(svc, [previous_tier])
    return await _fresh_view(svc, supervisor, conversation_id)


@dataclass(frozen=True)
class Rated:
    score: int
    comment: str
    created: bool


async def do_rate(
    svc: Services, customer: CustomerPrincipal, conversation_id: int, score: int, comment: str = ""
) -> Rated:
    """Rate once, after resolution; the rating closes the conversation. Repeating the same
    rating returns it again; a different second rating is refused."""
    rules.check_rating(score, comment)
    comment = redact(comment).text  # free customer text, stored and shown in reports
    async with svc.db.write() as session:
        conv, facts = await access_conversation_by_id(session, customer, conversation_id, lock=True)
        rules.check_can_rate(customer, facts)
        existing = await session.get(Rating, conv.id)
        if existing is not None:
            if existing.score == score and existing.comment == comment:
                return Rated(existing.score, existing.comment, False)
            raise conflict("already_rated")
        now = utcnow()
        session.add(
            Rating(
                conversation_id=conv.id,
                customer_id=customer.user_id,
                score=score,
                comment=comment,
                created_at=now,
            )
        )
        items = await append_items(
            session,
            conv,
            [
                Draft(ItemKind.SYSTEM, None, data={"event": "rated", "score": score}),
            ],
            now,
        )
        if conv.state == State.RESOLVED.value:
            conv.state = rules.next_state(conv.state, "close")
            conv.closed_at = now
        audit.record(
            session,
            customer,
            "conversation.rated",
            subject_type="conversation",
            subject_id=conv.id,
            portal_id=conv.portal_id,
            score=score,
        )
        await session.flush()
        facts = facts_of(conv, facts.participant_ids)
        public = await conversation_view(session, conv)
    await svc.bus.publish(
        [*item_events(facts, items), ConversationEvent(facts=facts, conversation=public)]
    )
    return Rated(score, comment, True)


async def do_mark_read(svc: Services, agent: Principal, conversation_id: int, seq: int) -> int:
    """Move the agent's read marker of a conversation they may see to ``seq`` and return
    where it stands: it only moves forward, and a seq past the last item is clamped
    (``rules.next_read_seq``). Not audited: reading is not a change to the conversation.
    A customer moves the conversation's customer marker (``CustomerRead``) the same way.
    """
    if isinstance(agent, CustomerPrincipal):
        return await _mark_read_customer(svc, agent, conversation_id, seq)
    async with svc.db.write() as session:
        conv, _ = await access_conversation_by_id(session, agent, conversation_id)
        key = (ConversationRead.agent_id == agent.agent_id) & (
            ConversationRead.conversation_id == conv.id
        )
        current = await session.scalar(select(ConversationRead.last_read_seq).where(key))
        target = rules.next_read_seq(current or 0, seq, conv.last_seq)
        if current is None or target > current:
            # An upsert whose update only ever raises the marker, so two tabs reporting
            # at once (even the first time) cannot collide or move it back.
            insert = sqlite_insert if svc.db.is_sqlite else postgresql_insert
            new = insert(ConversationRead).values(
                agent_id=agent.agent_id,
                conversation_id=conv.id,
                last_read_seq=target,
                updated_at=utcnow(),
            )
            await session.execute(
                new.on_conflict_do_update(
                    index_elements=["agent_id", "conversation_id"],
                    set_={
                        "last_read_seq": new.excluded.last_read_seq,
                        "updated_at": new.excluded.updated_at,
                    },
                    where=ConversationRead.last_read_seq < new.excluded.last_read_seq,
                )
            )
        return target


async def _mark_read_customer(
    svc: Services, customer: CustomerPrincipal, conversation_id: int, seq: int
) -> int:
    async with svc.db.write() as session:
        conv, _ = await access_conversation_by_id(session, customer, conversation_id)
        key = CustomerRead.conversation_id == conv.id
        current = await session.scalar(select(CustomerRead.last_read_seq).where(key))
        target = rules.next_read_seq(current or 0, seq, conv.last_seq)
        if current is None or target > current:
            insert = sqlite_insert if svc.db.is_sqlite else postgresql_insert
            new = insert(CustomerRead).values(
                conversation_id=conv.id, last_read_seq=target, updated_at=utcnow()
            )
            await session.execute(
                new.on_conflict_do_update(
                    index_elements=["conversation_id"],
                    set_={
                        "last_read_seq": new.excluded.last_read_seq,
                        "updated_at": new.excluded.updated_at,
                    },
                    where=CustomerRead.last_read_seq < new.excluded.last_read_seq,
                )
            )
        return target


async def _fresh_view(
    svc: Services, principal: Principal, conversation_id: int
) -> ConversationPublic:
    """The conversation as the principal may now see it (a transfer can move it out of
    the agent's tier, yet they keep read-only access as a participant)."""
    async with svc.db.read() as session:
        conv = await session.get(Conversation, conversation_id)
        if conv is None:
            raise not_found()
        participants = await participants_of(session, [conv.id])
        if not rules.can_view(principal, facts_of(conv, participants.get(conv.id, []))):
            raise not_found()
        return await conversation_view(session, conv)
