from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from supportdesk.core.db import Base, BigId, IdPK


class AuditEntry(Base):
    """One state change or staff login. Triggers in the migration forbid UPDATE and DELETE."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_subject", "subject_type", "subject_id"),)

    id: Mapped[IdPK]
    at: Mapped[datetime] = mapped_column(index=True)
    actor_type: Mapped[str] = mapped_column(String(20))  # agent | customer | system
    actor_id: Mapped[int | None] = mapped_column(BigId)
    action: Mapped[str] = mapped_column(String(60), index=True)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int | None] = mapped_column(BigId)
    portal_id: Mapped[int | None] = mapped_column(BigId, index=True)
    data: Mapped[dict[str, Any]]
