"""Triage tables: the marketplace-app catalogue, each portal's installed apps, and the
triage result kept on every new conversation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from supportdesk.core.db import Base, BigId, JsonDoc

APP_CODE_LENGTH = 60


class MarketplaceApp(Base):
    """A third-party app of the host product's marketplace, with its vendor's contacts.

    Problems with these apps belong to the vendor; triage recognises them by name and alias."""

    __tablename__ = "marketplace_apps"

    code: Mapped[str] = mapped_column(String(APP_CODE_LENGTH), primary_key=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_ja: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list[str]] = mapped_column(JsonDoc)
    vendor: Mapped[str] = mapped_column(String(200))
    support_url: Mapped[str] = mapped_column(String(500))
    support_email: Mapped[str] = mapped_column(String(320))
    support_tab_url: Mapped[str] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(default=True)


class PortalApps(Base):
    """The apps a portal has installed, as the host said in the ``apps`` identity claim."""

    __tablename__ = "portal_apps"

    portal_id: Mapped[int] = mapped_column(BigId, ForeignKey("portals.id"), primary_key=True)
    codes: Mapped[list[str]] = mapped_column(JsonDoc)
    updated_at: Mapped[datetime]


class ConversationTriage(Base):
    """The triage of a conversation's first message, computed when it was opened."""

    __tablename__ = "conversation_triage"

    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id"), primary_key=True
    )
    result: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    created_at: Mapped[datetime]
