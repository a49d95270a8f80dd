"""Attachments and resumable uploads.

An attachment is one uploaded file, cleaned and stored by its SHA-256 (identical
content is stored once, see ``storage.py``), plus the previews made from it: an
image's thumbnail, a video's poster frame. It belongs to the conversation it was
uploaded into and to its uploader until a message links it (``message_seq``); one
never linked in time is garbage-collected.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from supportdesk.core.db import Base, BigId, IdPK


class Kind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    FILE = "file"


class Attachment(Base):
    __tablename__ = "attachments"
    __table_args__ = (
        # A retried upload (same uploader, same client_key) returns the first one.
        UniqueConstraint("conversation_id", "uploader_type", "uploader_id", "client_key"),
        Index("ix_attachments_portal", "portal_id"),
        Index("ix_attachments_unlinked", "message_seq", "created_at"),
        Index("ix_attachments_sha256", "sha256"),
        Index("ix_attachments_thumbnail_sha256", "thumbnail_sha256"),
        Index("ix_attachments_poster_sha256", "poster_sha256"),
    )

    id: Mapped[IdPK]
    conversation_id: Mapped[int] = mapped_column(BigId, ForeignKey("conversations.id"))
    portal_id: Mapped[int] = mapped_column(BigId, ForeignKey("portals.id"))
    uploader_type: Mapped[str] = mapped_column(String(12))  # customer | agent
    uploader_id: Mapped[int] = mapped_column(BigId)
    client_key: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(8))
    mime: Mapped[str] = mapped_column(String(100))
    # Sanitised and redacted for display only; never part of a storage path.
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))  # of the stored (cleaned) bytes
    width: Mapped[int | None]
    height: Mapped[int | None]
    duration: Mapped[float | None]
    thumbnail_sha256: Mapped[str | None] = mapped_column(String(64))
    thumbnail_mime: Mapped[str | None] = mapped_column(String(100))
    thumbnail_size: Mapped[int | None] = mapped_column(BigInteger)
    poster_sha256: Mapped[str | None] = mapped_column(String(64))
    poster_mime: Mapped[str | None] = mapped_column(String(100))
    poster_size: Mapped[int | None] = mapped_column(BigInteger)
    # The message that carries it (its seq in the conversation); None until sent.
    message_seq: Mapped[int | None]
    # Linked to an internal note: staff only.
    internal: Mapped[bool] = mapped_column(default=False)
    linked_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class Upload(Base):
    """A resumable (tus) upload in progress. The bytes received so far live in a local
    file named after ``id``; its size is the upload's offset."""

    __tablename__ = "uploads"
    __table_args__ = (
        UniqueConstraint("conversation_id", "uploader_type", "uploader_id", "client_key"),
        Index("ix_uploads_created_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, unguessable
    conversation_id: Mapped[int] = mapped_column(BigId, ForeignKey("conversations.id"))
    portal_id: Mapped[int] = mapped_column(BigId, ForeignKey("portals.id"))
    uploader_type: Mapped[str] = mapped_column(String(12))
    uploader_id: Mapped[int] = mapped_column(BigId)
    client_key: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255))
    length: Mapped[int] = mapped_column(BigInteger)
    attachment_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("attachments.id"))
    created_at: Mapped[datetime]
