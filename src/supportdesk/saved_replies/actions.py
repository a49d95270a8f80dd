"""Every change to saved replies, as ``do_*`` functions, audited in the same transaction.

Only supervisors manage replies. Deleting removes the row for good; the audit entry
keeps its shortcut, locale and title.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.audit import actions as audit
from supportdesk.core.auth import AgentPrincipal
from supportdesk.core.clock import utcnow
from supportdesk.core.errors import DomainError, conflict
from supportdesk.core.i18n import Locale
from supportdesk.saved_replies import rules
from supportdesk.saved_replies.models import SavedReply
from supportdesk.saved_replies.queries import access_saved_reply_by_id
from supportdesk.services import Services


def _checked(
    svc: Services, shortcut: str, title: str, body: str, locale: Locale
) -> rules.ReplyDraft:
    draft = rules.check_reply(shortcut, title, body, locale)
    # A reply longer than a message could be picked but never sent.
    rules.check_body(draft.body, min(rules.BODY_LENGTH, svc.settings.message_max_chars))
    return draft


async def _check_shortcut_free(
    session: AsyncSession, draft: rules.ReplyDraft, reply_id: int | None = None
) -> None:
    query = select(SavedReply.id).where(
        SavedReply.locale == draft.locale, SavedReply.shortcut == draft.shortcut
    )
    if reply_id is not None:
        query = query.where(SavedReply.id != reply_id)
    if await session.scalar(query) is not None:
        raise _taken(draft)


def _taken(draft: rules.ReplyDraft) -> DomainError:
    return conflict("saved_reply_shortcut_taken", shortcut=draft.shortcut)


async def do_create_saved_reply(
    svc: Services, agent: AgentPrincipal, shortcut: str, title: str, body: str, locale: Locale
) -> SavedReply:
    rules.check_can_manage(agent)
    draft = _checked(svc, shortcut, title, body, locale)
    now = utcnow()
    try:
        async with svc.db.write() as session:
            await _check_shortcut_free(session, draft)
            reply = SavedReply(
                shortcut=draft.shortcut,
                title=draft.title,
                body=draft.body,
                locale=draft.locale,
                created_by=agent.agent_id,
                updated_by=agent.agent_id,
                created_at=now,
                updated_at=now,
            )
            session.add(reply)
            await session.flush()
            audit.record(
                session,
                agent,
                "saved_reply.created",
                subject_type="saved_reply",
                subject_id=reply.id,
                shortcut=reply.shortcut,
                locale=reply.locale,
                title=reply.title,
            )
    except IntegrityError:
        # Two supervisors saved the same shortcut at once: the unique constraint decides.
        raise _taken(draft) from None
    return reply


async def do_update_saved_reply(
    svc: Services,
    agent: AgentPrincipal,
    reply_id: int,
    shortcut: str,
    title: str,
    body: str,
    locale: Locale,
) -> SavedReply:
    rules.check_can_manage(agent)
    draft = _checked(svc, shortcut, title, body, locale)
    try:
        async with svc.db.write() as session:
            reply = await access_saved_reply_by_id(session, agent, reply_id)
            await _check_shortcut_free(session, draft, reply.id)
            changed = sorted(
                name
                for name in ("shortcut", "title", "body", "locale")
                if getattr(reply, name) != getattr(draft, name)
            )
            reply.shortcut, reply.title = draft.shortcut, draft.title
            reply.body, reply.locale = draft.body, draft.locale
            reply.updated_by, reply.updated_at = agent.agent_id, utcnow()
            await session.flush()
            audit.record(
                session,
                agent,
                "saved_reply.updated",
                subject_type="saved_reply",
                subject_id=reply.id,
                shortcut=reply.shortcut,
                locale=reply.locale,
                changed=changed,
            )
    except IntegrityError:
        raise _taken(draft) from None
    return reply


async def do_delete_saved_reply(svc: Services, agent: AgentPrincipal, reply_id: int) -> None:
    rules.check_can_manage(agent)
    async with svc.db.write() as session:
        reply = await access_saved_reply_by_id(session, agent, reply_id)
        audit.record(
            session,
            agent,
            "saved_reply.deleted",
            subject_type="saved_reply",
            subject_id=reply.id,
            shortcut=reply.shortcut,
            locale=reply.locale,
            title=reply.title,
        )
        await session.delete(reply)
