"""Every write of the product feature, as ``do_*`` functions, and the outbox handlers
that tell linked conversations about request changes.

A request change (creation, status, title) writes, in its own transaction: the request
row, a ``RequestEvent``, one ``RequestNotice`` per linked conversation (unique on event
and conversation) with two outbox jobs each (the chat item now, the e-mail check after
``SUPPORTDESK_NOTIFY_EMAIL_AFTER_SECONDS``), the webhook jobs and the audit entry. The
handlers do their work only while the notice says it is not done yet, in the same
transaction that records it, so a job run twice posts one item and sends one mail.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.attachments.models import Attachment
from supportdesk.audit import actions as audit
from supportdesk.conversations.models import Conversation, CustomerRead, ItemKind
from supportdesk.conversations.queries import access_conversation_by_id
from supportdesk.conversations.rules import check_post
from supportdesk.conversations.timeline import (
    Draft,
    append_items,
    facts_of,
    item_events,
    participants_of,
)
from supportdesk.core import outbox
from supportdesk.core.auth import AgentPrincipal
from supportdesk.core.clock import utcnow
from supportdesk.core.errors import DomainError, conflict, invalid, not_found
from supportdesk.core.mail import Mail, enqueue_mail
from supportdesk.identity.models import PortalUser
from supportdesk.product import queries, rules, texts
from supportdesk.product.models import (
    Counter,
    DevRequest,
    IntegrationToken,
    RequestEvent,
    RequestNotice,
    Topic,
    TopicComment,
    TopicLink,
)
from supportdesk.services import Services
from supportdesk.webhooks.actions import enqueue_webhook_event

NOTICE_KIND = "product.request_notice"
EMAIL_KIND = "product.request_email"
INTEGRATION_TOKEN_PREFIX = "sdi_"
REQUEST_COUNTER = "request_number"


@dataclass(frozen=True, slots=True)
class NewTopic:
    title: str
    description: str


@dataclass(frozen=True, slots=True)
class BugDetails:
    steps: str
    expected: str
    actual: str
    attachment_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class IntegrationActor:
    """An external tracker, proven by an integration token."""

    token_id: int
    name: str


Actor = AgentPrincipal | IntegrationActor


def _actor_label(actor: Actor) -> str:
    if isinstance(actor, IntegrationActor):
        return f"integration:{actor.token_id}"
    return f"agent:{actor.agent_id}"


# --- recording wishes and bugs ------------------------------------------------------------


async def _topic_for_link(
    session: AsyncSession,
    agent: AgentPrincipal,
    topic_id: int | None,
    new_topic: NewTopic | None,
) -> Topic:
    if (topic_id is None) == (new_topic is None):
        raise invalid("product_topic_choice")
    now = utcnow()
    if new_topic is not None:
        topic = Topic(
            title=rules.check_title(new_topic.title),
            description=rules.check_text(
                new_topic.description, "product_text_invalid", required=False
            ),
            state="recorded",
            merged_into_id=None,
            merged_by=None,
            merged_at=None,
            created_at=now,
            updated_at=now,
        )
        session.add(topic)
        await session.flush()
        audit.record(session, agent, "topic.created", subject_type="topic", subject_id=topic.id)
        return topic
    assert topic_id is not None
    await queries.access_topic_by_id(session, topic_id)
    # A merged topic's new links go to the topic it now counts toward. The lock orders
    # this link after (or before) an accept of the same topic, so the conversation
    # either is among those the accept notifies or sees the new request here.
    root = rules.root_of(topic_id, await queries.merge_tree(session))
    return await queries.access_topic_by_id(session, root, lock=True)


async def _record(
    svc: Services,
    agent: AgentPrincipal,
    conversation_id: int,
    kind: str,
    quote: str,
    topic_id: int | None,
    new_topic: NewTopic | None,
    bug: BugDetails | None = None,
) -> tuple[TopicLink, Topic]:
    async with svc.db.write() as session:
        conv, facts = await access_conversation_by_id(session, agent, conversation_id)
        # The same rule as an internal note: the assigned agent or a supervisor, also
        # after the conversation was resolved.
        check_post(agent, facts, internal=True)
        if bug is not None and bug.attachment_ids:
            found = set(
                await session.scalars(
                    select(Attachment.id).where(
                        Attachment.id.in_(bug.attachment_ids),
                        Attachment.conversation_id == conv.id,
                    )
                )
            )
            if found != set(bug.attachment_ids):
                raise invalid("product_attachment_unknown")
        topic = await _topic_for_link(session, agent, topic_id, new_topic)
        link = TopicLink(
            topic_id=topic.id,
            kind=kind,
            conversation_id=conv.id,
            portal_id=conv.portal_id,
            agent_id=agent.agent_id,
            quote=quote,
            steps=bug.steps if bug else None,
            expected=bug.expected if bug else None,
            actual=bug.actual if bug else None,
            attachment_ids=list(bug.attachment_ids) if bug else [],
            created_at=utcnow(),
        )
        session.add(link)
        topic.updated_at = link.created_at
        await session.flush()
        audit.record(
            session,
            agent,
            f"topic.{kind}_recorded",
            subject_type="topic",
            subject_id=topic.id,
            portal_id=conv.portal_id,
            conversation_id=conv.id,
            link_id=link.id,
        )
        # Locked like a status change locks it: the catch-up shows the status as it is,
        # and a later change sees this link.
        request = await queries.request_of_topic(session, topic.id, lock=True)
        if request is not None:
            await _catch_up(svc, session, agent, request, [conv.id])
    return link, topic


async def do_record_wish(
    svc: Services,
    agent: AgentPrincipal,
    conversation_id: int,
    quote: str,
    topic_id: int | None = None,
    new_topic: NewTopic | None = None,
) -> tuple[TopicLink, Topic]:
    quote = rules.check_text(quote, "product_quote_invalid")
    return await _record(svc, agent, conversation_id, "wish", quote, topic_id, new_topic)


async def do_file_bug(
    svc: Services,
    agent: AgentPrincipal,
    conversation_id: int,
    bug: BugDetails,
    topic_id: int | None = None,
    new_topic: NewTopic | None = None,
) -> tuple[TopicLink, Topic]:
    rules.check_bug_reporter(agent)
    bug = BugDetails(
        steps=rules.check_text(bug.steps, "product_bug_steps_invalid"),
        expected=rules.check_text(bug.expected, "product_bug_expected_invalid"),
        actual=rules.check_text(bug.actual, "product_bug_actual_invalid"),
        attachment_ids=tuple(rules.check_attachment_ids(bug.attachment_ids)),
    )
    return await _record(svc, agent, conversation_id, "bug", bug.actual, topic_id, new_topic, bug)


# --- discussion, states, merging ------------------------------------------------------------


async def do_comment(
    svc: Services, agent: AgentPrincipal, topic_id: int, body: str
) -> TopicComment:
    body = rules.check_text(body, "product_comment_invalid", rules.COMMENT_MAX)
    async with svc.db.write() as session:
        topic = await queries.access_topic_by_id(session, topic_id)
        comment = TopicComment(
            topic_id=topic.id,
            agent_id=agent.agent_id,
            author_name=agent.name,
            body=body,
            created_at=utcnow(),
        )
        session.add(comment)
        await session.flush()
        audit.record(session, agent, "topic.commented", subject_type="topic", subject_id=topic.id)
    return comment


@dataclass(frozen=True, slots=True)
class Acceptance:
    kind: str | None = None  # default: "bug" when a bug report is linked, else improvement
    complexity: str = "M"
    title: str | None = None  # default: the topic's title


async def do_set_topic_state(
    svc: Services,
    agent: AgentPrincipal,
    topic_id: int,
    state: str,
    acceptance: Acceptance = Acceptance(),
) -> Topic:
    """Move a topic; accepting it creates its development request (REQ-n) and tells every
    linked conversation, all in one transaction."""
    rules.check_product(agent)
    if state == "accepted":
        if acceptance.kind is not None:
            rules.check_kind(acceptance.kind)
        rules.check_complexity(acceptance.complexity)
    async with svc.db.write() as session:
        topic = await queries.access_topic_by_id(session, topic_id, lock=True)
        if topic.merged_into_id is not None:
            raise conflict("product_topic_merged")
        new_state = rules.next_topic_state(topic.state, state)
        if new_state is None:
            return topic
        if new_state == "accepted":
            await _accept(svc, session, agent, topic, acceptance)
        else:
            _move_topic(session, agent, topic, new_state)
    return topic


def _move_topic(session: AsyncSession, agent: AgentPrincipal, topic: Topic, state: str) -> None:
    previous = topic.state
    topic.state = state
    topic.updated_at = utcnow()
    audit.record(
        session,
        agent,
        "topic.state_changed",
        subject_type="topic",
        subject_id=topic.id,
        from_state=previous,
        to_state=state,
    )


async def _accept(
    svc: Services,
    session: AsyncSession,
    agent: AgentPrincipal,
    topic: Topic,
    acceptance: Acceptance,
) -> DevRequest:
    """Accept a (locked, root) topic and create its request: the one path shared by
    accepting the topic and confirming one of its bugs."""
    _move_topic(session, agent, topic, "accepted")
    return await _create_request(svc, session, agent, topic, acceptance)


async def do_confirm_bug(
    svc: Services,
    agent: AgentPrincipal,
    link_id: int,
    complexity: str = "M",
    title: str | None = None,
) -> tuple[DevRequest, bool]:
    """Confirm a bug report: its topic (the one it counts toward) is accepted and gets a
    ``bug`` request, as if accepted on the board. ``(request, created)``: when the topic
    already has a request (confirmed or accepted before), nothing changes and that
    request is the answer."""
    rules.check_product(agent)
    rules.check_complexity(complexity)
    if title is not None:
        rules.check_title(title)
    async with svc.db.write() as session:
        link = await queries.access_bug_by_id(session, link_id)
        root = rules.root_of(link.topic_id, await queries.merge_tree(session))
        topic = await queries.access_topic_by_id(session, root, lock=True)
        if topic.merged_into_id is not None:  # merged meanwhile: the caller may retry
            raise conflict("product_topic_merged")
        existing = await queries.request_of_topic(session, topic.id)
        if existing is not None:
            return existing, False
        rules.check_confirmable(topic.state)
        request = await _accept(svc, session, agent, topic, Acceptance("bug", complexity, title))
        audit.record(
            session,
            agent,
            "bug.confirmed",
            subject_type="topic_link",
            subject_id=link.id,
            portal_id=link.portal_id,
            topic_id=topic.id,
            number=rules.request_label(request.number),
        )
    return request, True


async def _create_request(
    svc: Services,
    session: AsyncSession,
    agent: AgentPrincipal,
    topic: Topic,
    acceptance: Acceptance,
) -> DevRequest:
    group = rules.group_of(topic.id, await queries.merge_tree(session))
    kind = acceptance.kind
    if kind is None:
        has_bug = await session.scalar(
            select(TopicLink.id).where(TopicLink.topic_id.in_(group), TopicLink.kind == "bug")
        )
        kind = "bug" if has_bug is not None else "improvement"
    # The counter moves in this transaction: a rolled-back accept leaves no gap.
    number = await session.scalar(
        update(Counter)
        .where(Counter.name == REQUEST_COUNTER)
        .values(value=Counter.value + 1)
        .returning(Counter.value)
    )
    if number is None:
        raise RuntimeError("the request_number counter row is missing (run the migrations)")
    now = utcnow()
    request = DevRequest(
        number=number,
        topic_id=topic.id,
        kind=kind,
        title=rules.check_title(acceptance.title) if acceptance.title else topic.title,
        complexity=acceptance.complexity,
        status="queued",
        created_at=now,
        updated_at=now,
    )
    session.add(request)
    await session.flush()
    audit.record(
        session,
        agent,
        "request.created",
        subject_type="request",
        subject_id=request.id,
        number=rules.request_label(number),
        topic_id=topic.id,
    )
    await _record_change(svc, session, agent, request, "created", None)
    return request


async def do_merge(svc: Services, agent: AgentPrincipal, topic_id: int, into: int) -> Topic:
    """Merge a topic into another: its links stay where they are and now count toward
    ``into`` (each portal once); undone by ``do_unmerge``."""
    rules.check_product(agent)
    async with svc.db.write() as session:
        source = await queries.access_topic_by_id(session, topic_id, lock=True)
        target = await queries.access_topic_by_id(session, into, lock=True)
        rules.check_merge(source.id, target.id, await queries.merge_tree(session))
        if await session.scalar(select(DevRequest.id).where(DevRequest.topic_id == source.id)):
            raise conflict("product_topic_has_request")
        now = utcnow()
        source.merged_into_id = target.id
        source.merged_by = agent.agent_id
        source.merged_at = now
        source.updated_at = target.updated_at = now
        audit.record(
            session,
            agent,
            "topic.merged",
            subject_type="topic",
            subject_id=source.id,
            into=target.id,
        )
        await session.flush()
        # The source's conversations now hear about the target's request: those that
        # never heard of it get the catch-up first.
        request = await queries.request_of_topic(session, target.id, lock=True)
        if request is not None:
            conversations = await queries.linked_conversations(session, target.id)
            await _catch_up(svc, session, agent, request, conversations)
    return source


async def do_unmerge(svc: Services, agent: AgentPrincipal, topic_id: int) -> Topic:
    rules.check_product(agent)
    async with svc.db.write() as session:
        topic = await queries.access_topic_by_id(session, topic_id, lock=True)
        if topic.merged_into_id is None:
            raise conflict("product_topic_not_merged")
        previous = topic.merged_into_id
        topic.merged_into_id = topic.merged_by = topic.merged_at = None
        topic.updated_at = utcnow()
        audit.record(
            session,
            agent,
            "topic.unmerged",
            subject_type="topic",
            subject_id=topic.id,
            was_merged_into=previous,
        )
    return topic


# --- requests ---------------------------------------------------------------------------------


async def do_update_request(
    svc: Services,
    agent: AgentPrincipal,
    number: int,
    title: str | None = None,
    complexity: str | None = None,
) -> DevRequest:
    """A new title is a change the linked conversations hear about; the complexity is
    internal."""
    rules.check_product(agent)
    new_title = rules.check_title(title) if title is not None else None
    if complexity is not None:
        rules.check_complexity(complexity)
    async with svc.db.write() as session:
        request = await queries.access_request_by_number(session, number, lock=True)
        changed = []
        if complexity is not None and complexity != request.complexity:
            request.complexity = complexity
            changed.append("complexity")
        if new_title is not None and new_title != request.title:
            request.title = new_title
            changed.append("title")
        if changed:
            request.updated_at = utcnow()
            audit.record(
                session,
                agent,
                "request.updated",
                subject_type="request",
                subject_id=request.id,
                changed=changed,
            )
        if "title" in changed:
            await _record_change(svc, session, agent, request, "title", None)
    return request


async def do_set_request_status(
    svc: Services, actor: Actor, number: int, status: str, client_key: str | None = None
) -> tuple[DevRequest, bool]:
    """Set a request's status; ``(request, changed)``. Setting the current status again,
    or repeating a ``client_key``, changes nothing and notifies nobody."""
    if isinstance(actor, AgentPrincipal):
        rules.check_product(actor)
    rules.check_request_status(status)
    async with svc.db.write() as session:
        request = await queries.access_request_by_number(session, number, lock=True)
        if client_key is not None:
            repeat = await session.scalar(
                select(RequestEvent.id).where(
                    RequestEvent.request_id == request.id, RequestEvent.client_key == client_key
                )
            )
            if repeat is not None:
                return request, False
        new_status = rules.next_request_status(request.status, status)
        if new_status is None:
            return request, False
        previous = request.status
        request.status = new_status
        request.updated_at = utcnow()
        audit.record(
            session,
            actor if isinstance(actor, AgentPrincipal) else None,
            "request.status_changed",
            subject_type="request",
            subject_id=request.id,
            by=_actor_label(actor),
            from_status=previous,
            to_status=new_status,
        )
        await _record_change(svc, session, actor, request, "status", client_key)
    return request, True


async def _record_change(
    svc: Services,
    session: AsyncSession,
    actor: Actor,
    request: DevRequest,
    change: str,
    client_key: str | None,
) -> RequestEvent:
    """The history row, one notice (two outbox jobs) per linked conversation and the
    webhook jobs, in the caller's transaction."""
    now = utcnow()
    event = RequestEvent(
        request_id=request.id,
        change=change,
        status=request.status,
        title=request.title,
        actor=_actor_label(actor),
        client_key=client_key,
        created_at=now,
    )
    session.add(event)
    await session.flush()
    await _notify(
        svc, session, event, await queries.linked_conversations(session, request.topic_id)
    )
    webhook_event = {
        "created": "request.created",
        "status": "request.status_changed",
        "title": "request.title_changed",
    }[change]
    await enqueue_webhook_event(session, webhook_event, request_payload(request, event))
    return event


async def _notify(
    svc: Services, session: AsyncSession, event: RequestEvent, conversation_ids: Sequence[int]
) -> None:
    """One notice per conversation with its two outbox jobs (the chat item now, the
    e-mail check later), in the caller's transaction."""
    delay = svc.settings.notify_email_after_seconds
    for conversation_id in conversation_ids:
        notice = RequestNotice(
            event_id=event.id,
            conversation_id=conversation_id,
            item_seq=None,
            emailed_at=None,
            created_at=event.created_at,
        )
        session.add(notice)
        await session.flush()
        now = event.created_at
        outbox.enqueue(session, NOTICE_KIND, {"notice_id": notice.id}, now=now)
        outbox.enqueue(session, EMAIL_KIND, {"notice_id": notice.id}, now=now, delay_seconds=delay)


async def _catch_up(
    svc: Services,
    session: AsyncSession,
    actor: Actor,
    request: DevRequest,
    conversation_ids: Sequence[int],
) -> None:
    """Tell conversations linked after the request existed where it stands, once each:
    a conversation that already has a notice of the request is skipped. The caller holds
    the request's row lock (as every writer of its notices does), so two links from one
    chat cannot both catch up. A ``linked`` event (no webhook, not in the history) per
    conversation, told through the usual notice, so the item is live and e-mailed if
    unread like any other."""
    told = await queries.conversations_told(session, request.id, conversation_ids)
    for conversation_id in conversation_ids:
        if conversation_id in told:
            continue
        event = RequestEvent(
            request_id=request.id,
            change=rules.LINKED_CHANGE,
            status=request.status,
            title=request.title,
            actor=_actor_label(actor),
            client_key=None,
            created_at=utcnow(),
        )
        session.add(event)
        await session.flush()
        await _notify(svc, session, event, [conversation_id])


def request_payload(request: DevRequest, event: RequestEvent) -> dict[str, Any]:
    """What webhooks receive: the request as it is after the change."""
    return {
        "request": rules.request_label(request.number),
        "number": request.number,
        "kind": request.kind,
        "title": request.title,
        "complexity": request.complexity,
        "status": request.status,
        "change": event.change,
        "event_id": event.id,
        "changed_at": event.created_at.isoformat(),
    }


# --- integration tokens ----------------------------------------------------------------------


def hash_integration_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def do_create_integration_token(
    svc: Services, admin: AgentPrincipal, name: str
) -> tuple[IntegrationToken, str]:
    """A new token, returned once in clear; only its hash is kept."""
    name = rules.check_text(name, "product_token_name_invalid", 200)
    token = INTEGRATION_TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with svc.db.write() as session:
        row = IntegrationToken(
            name=name,
            token_hash=hash_integration_token(token),
            created_by=admin.agent_id,
            created_at=utcnow(),
            last_used_at=None,
            revoked_at=None,
        )
        session.add(row)
        await session.flush()
        audit.record(
            session,
            admin,
            "integration_token.created",
            subject_type="integration_token",
            subject_id=row.id,
            name=name,
        )
    return row, token


async def do_revoke_integration_token(
    svc: Services, admin: AgentPrincipal, token_id: int
) -> IntegrationToken:
    async with svc.db.write() as session:
        row = await session.get(IntegrationToken, token_id)
        if row is None:
            raise not_found()
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            audit.record(
                session,
                admin,
                "integration_token.revoked",
                subject_type="integration_token",
                subject_id=row.id,
            )
    return row


async def authenticate_integration(svc: Services, token: str) -> IntegrationActor:
    if not token.startswith(INTEGRATION_TOKEN_PREFIX):
        raise DomainError("integration_token_invalid", 401)
    async with svc.db.write() as session:
        row = await session.scalar(
            select(IntegrationToken).where(
                IntegrationToken.token_hash == hash_integration_token(token)
            )
        )
        if row is None or row.revoked_at is not None:
            raise DomainError("integration_token_invalid", 401)
        row.last_used_at = utcnow()
        return IntegrationActor(row.id, row.name)


# --- the outbox handlers ------------------------------------------------------------------------


def notice_data(request: DevRequest, event: RequestEvent) -> dict[str, Any]:
    label = rules.request_label(request.number)
    return {
        "system": "request_update",
        "request": label,
        "change": event.change,
        "title": event.title,
        "status": event.status,
        "text": texts.update_text(event.change, label, event.title, event.status),
    }


async def _post_notice(svc: Services, payload: dict[str, Any]) -> None:
    """Append the notice's item to its conversation (whatever its state) and publish it."""
    async with svc.db.write() as session:
        notice = await session.scalar(
            select(RequestNotice).where(RequestNotice.id == payload["notice_id"]).with_for_update()
        )
        if notice is None or notice.item_seq is not None:
            return  # already posted by an earlier run of this job
        event = await session.get(RequestEvent, notice.event_id)
        assert event is not None
        request = await session.get(DevRequest, event.request_id)
        assert request is not None
        conv = await session.scalar(
            select(Conversation).where(Conversation.id == notice.conversation_id).with_for_update()
        )
        assert conv is not None
        items = await append_items(
            session,
            conv,
            [Draft(ItemKind.SYSTEM, None, data=notice_data(request, event))],
        )
        notice.item_seq = items[0].seq
        participants = await participants_of(session, [conv.id])
        facts = facts_of(conv, participants.get(conv.id, []))
    await svc.bus.publish(item_events(facts, items))


class NoticeNotPostedYet(Exception):
    """The e-mail check ran before the chat item exists: retried by the outbox."""


async def _email_if_unread(svc: Services, payload: dict[str, Any]) -> None:
    """E-mail the conversation's customer when the notice's item is still unread."""
    async with svc.db.write() as session:
        notice = await session.scalar(
            select(RequestNotice).where(RequestNotice.id == payload["notice_id"]).with_for_update()
        )
        if notice is None or notice.emailed_at is not None:
            return
        if notice.item_seq is None:
            raise NoticeNotPostedYet(f"notice {notice.id} has no chat item yet")
        read = await session.scalar(
            select(CustomerRead.last_read_seq).where(
                CustomerRead.conversation_id == notice.conversation_id
            )
        )
        if read is not None and read >= notice.item_seq:
            return
        conv = await session.get(Conversation, notice.conversation_id)
        assert conv is not None
        customer = await session.get(PortalUser, conv.customer_id)
        if customer is None or not customer.email:
            return
        event = await session.get(RequestEvent, notice.event_id)
        request = await session.get(DevRequest, event.request_id) if event else None
        assert event is not None and request is not None
        locale = "ja" if conv.locale == "ja" else "en"
        label = rules.request_label(request.number)
        text = texts.update_text(event.change, label, event.title, event.status)[locale]
        try:
            enqueue_mail(
                session,
                Mail(
                    to=customer.email,
                    subject=texts.pick(texts.MAIL_SUBJECT, locale).format(number=label),
                    body=texts.pick(texts.MAIL_BODY, locale).format(text=text),
                    message_key=f"request-notice-{notice.id}",
                    locale=locale,
                ),
            )
        except ValueError:
            return  # an address the mail layer refuses: nothing to send to
        notice.emailed_at = utcnow()


outbox.register(NOTICE_KIND, _post_notice)
outbox.register(EMAIL_KIND, _email_if_unread)


def history_view(events: Sequence[RequestEvent]) -> list[dict[str, Any]]:
    return [
        {"change": e.change, "status": e.status, "title": e.title, "at": e.created_at}
        for e in events
    ]
