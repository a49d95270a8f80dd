"""Partner directory, referrals and leads.

A referral is one card sent into a chat: a partner card lists up to three partners
(``partner_referral_partners``, in the card's order; the rows also feed the report), a
vendor card names a marketplace app. A lead is a customer pressing "ask this partner" on
a partner card: at most one per (referral, partner), whatever the retries.
``partners.last_referred_at`` is the fair-rotation state: among equally good matches the
partner referred longest ago comes first.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from supportdesk.core.db import Base, BigId, IdPK, JsonDoc

NAME_LENGTH = 200
URL_LENGTH = 500
EMAIL_LENGTH = 320
DESCRIPTION_LENGTH = 2000


class Partner(Base):
    __tablename__ = "partners"

    id: Mapped[IdPK]
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    level: Mapped[str] = mapped_column(String(20))
    specializations: Mapped[list[str]] = mapped_column(JsonDoc)
    countries: Mapped[list[str]] = mapped_column(JsonDoc)
    languages: Mapped[list[str]] = mapped_column(JsonDoc)
    contact_url: Mapped[str] = mapped_column(String(URL_LENGTH))
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    description_en: Mapped[str] = mapped_column(Text)
    description_ja: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    last_referred_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Referral(Base):
    __tablename__ = "partner_referrals"
    __table_args__ = (Index("ix_partner_referrals_created", "created_at"),)

    id: Mapped[IdPK]
    conversation_id: Mapped[int] = mapped_column(BigId, ForeignKey("conversations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # "partner" | "vendor"
    specialization: Mapped[str | None] = mapped_column(String(40))
    app_code: Mapped[str | None] = mapped_column(String(100))
    agent_id: Mapped[int] = mapped_column(BigId, ForeignKey("agents.id"))
    item_seq: Mapped[int]  # the card's seq in the conversation
    created_at: Mapped[datetime]


class ReferralPartner(Base):
    __tablename__ = "partner_referral_partners"

    referral_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("partner_referrals.id"), primary_key=True
    )
    partner_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("partners.id"), primary_key=True, index=True
    )
    position: Mapped[int]


class Lead(Base):
    __tablename__ = "partner_leads"
    __table_args__ = (
        UniqueConstraint("referral_id", "partner_id"),
        Index("ix_partner_leads_created", "created_at"),
    )

    id: Mapped[IdPK]
    referral_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner_referrals.id"))
    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partners.id"), index=True)
    conversation_id: Mapped[int] = mapped_column(BigId, ForeignKey("conversations.id"))
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("portal_users.id"))
    client_key: Mapped[str] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(8))  # the language of the mail to the partner
    created_at: Mapped[datetime]
