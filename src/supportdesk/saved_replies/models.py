from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from supportdesk.core.db import Base, BigId, IdPK

SHORTCUT_LENGTH = 40
TITLE_LENGTH = 120


class SavedReply(Base):
    """A reusable reply in one language, picked in the console composer by ``/shortcut``.

    Deleting removes the row (the audit log keeps what it said); the same shortcut may
    exist once per locale, so ``/password`` finds the Japanese or the English text.
    """

    __tablename__ = "saved_replies"
    __table_args__ = (UniqueConstraint("locale", "shortcut"),)

    id: Mapped[IdPK]
    shortcut: Mapped[str] = mapped_column(String(SHORTCUT_LENGTH))
    title: Mapped[str] = mapped_column(String(TITLE_LENGTH))
    body: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(8))
    # Empty for the policy replies that the migration installs.
    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("agents.id"))
    updated_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("agents.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
