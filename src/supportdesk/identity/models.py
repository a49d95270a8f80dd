from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from supportdesk.core.db import Base, BigId, IdPK


class Plan(Base):
    """A host-product plan. Only ``commercial`` plans include the support chat."""

    __tablename__ = "plans"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_en: Mapped[str] = mapped_column(String(100))
    name_ja: Mapped[str] = mapped_column(String(100))
    commercial: Mapped[bool]
    sort_order: Mapped[int] = mapped_column(default=0)


class Portal(Base):
    """A tenant account of the host product, known by the host's own id."""

    __tablename__ = "portals"

    id: Mapped[IdPK]
    external_id: Mapped[str] = mapped_column(String(200), unique=True)
    plan_code: Mapped[str] = mapped_column(ForeignKey("plans.code"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class PortalUser(Base):
    __tablename__ = "portal_users"
    __table_args__ = (UniqueConstraint("portal_id", "external_id"),)

    id: Mapped[IdPK]
    portal_id: Mapped[int] = mapped_column(BigId, ForeignKey("portals.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    role: Mapped[str] = mapped_column(String(20))
    locale: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
