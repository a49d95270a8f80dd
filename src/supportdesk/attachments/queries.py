"""Reads: permission-checked loaders (404 for what the caller may not see) and usage."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.attachments import rules
from supportdesk.attachments.models import Attachment, Upload
from supportdesk.attachments.rules import AttachmentFacts
from supportdesk.conversations.models import Conversation
from supportdesk.conversations.timeline import author_of, facts_of, participants_of
from supportdesk.core.auth import Principal
from supportdesk.core.errors import not_found


def attachment_facts(att: Attachment) -> AttachmentFacts:
    return AttachmentFacts(
        id=att.id,
        conversation_id=att.conversation_id,
        uploader_type=att.uploader_type,
        uploader_id=att.uploader_id,
        message_seq=att.message_seq,
        internal=att.internal,
    )


async def access_attachment_by_id(
    session: AsyncSession, principal: Principal, attachment_id: int
) -> Attachment:
    """An attachment the principal may download, or 404 ``not_found`` (the same answer
    for a missing row, another portal's, an unsent one of someone else, a note's)."""
    att = await session.get(Attachment, attachment_id)
    if att is None:
        raise not_found()
    conv = await session.get(Conversation, att.conversation_id)
    if conv is None:
        raise not_found()
    facts = facts_of(conv, (await participants_of(session, [conv.id])).get(conv.id, []))
    if not rules.can_download(principal, facts, attachment_facts(att)):
        raise not_found()
    return att


async def access_upload_by_id(
    session: AsyncSession, principal: Principal, upload_id: str
) -> Upload:
    """A resumable upload of the caller's own, or 404."""
    upload = await session.get(Upload, upload_id)
    if upload is None or (upload.uploader_type, upload.uploader_id) != author_of(principal, "")[:2]:
        raise not_found()
    return upload


async def find_by_client_key(
    session: AsyncSession, conversation_id: int, principal: Principal, client_key: str
) -> Attachment | None:
    uploader_type, uploader_id = author_of(principal, "")[:2]
    found: Attachment | None = await session.scalar(
        select(Attachment).where(
            Attachment.conversation_id == conversation_id,
            Attachment.uploader_type == uploader_type,
            Attachment.uploader_id == uploader_id,
            Attachment.client_key == client_key,
        )
    )
    return found


async def portal_usage(session: AsyncSession, portal_id: int) -> int:
    """Bytes of the portal's attachments (each counted, even when stored once)."""
    used = await session.scalar(
        select(func.coalesce(func.sum(Attachment.size), 0)).where(Attachment.portal_id == portal_id)
    )
    return int(used or 0)


async def is_referenced(session: AsyncSession, digest: str) -> bool:
    """Does any attachment still use this object (as its file, thumbnail or poster)?"""
    found = await session.scalar(
        select(Attachment.id)
        .where(
            or_(
                Attachment.sha256 == digest,
                Attachment.thumbnail_sha256 == digest,
                Attachment.poster_sha256 == digest,
            )
        )
        .limit(1)
    )
    return found is not None
