from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from supportdesk.core.db import Base, BigId, IdPK


class State(StrEnum):
    WAITING = "waiting"  # in its tier's queue
    ASSIGNED = "assigned"
    RESOLVED = "resolved"
    CLOSED = "closed"


class ItemKind(StrEnum):
    MESSAGE = "message"  # visible to the customer
    NOTE = "note"  # internal, staff only
    SYSTEM = "system"  # assigned, transferred, resolved ... (visible to the customer)
    CARD = "card"  # an actionable card for the customer: rating prompt, later access requests


class AuthorType(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    SYSTEM = "system"


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("customer_id", "client_key"),
        Index("ix_conversations_queue", "state", "tier", "waiting_since"),
        Index("ix_conversations_portal", "portal_id", "created_at"),
        Index("ix_conversations_assignee", "assigned_agent_id", "state"),
    )

    id: Mapped[IdPK]
    portal_id: Mapped[int] = mapped_column(BigId, ForeignKey("portals.id"))
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("portal_users.id"))
    client_key: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(12))
    tier: Mapped[str] = mapped_column(String(30))
    locale: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(200))
    assigned_agent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("agents.id"))
    preferred_agent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("agents.id"))
    # The highest seq handed out; the next item gets last_seq + 1 in the same transaction.
    last_seq: Mapped[int] = mapped_column(default=0)
    waiting_since: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class Participant(Base):
    """Every agent who was ever assigned to a conversation, and at which tier."""

    __tablename__ = "conversation_participants"

    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id"), primary_key=True
    )
    agent_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("agents.id"), primary_key=True, index=True
    )
    tier: Mapped[str] = mapped_column(String(30))
    first_assigned_at: Mapped[datetime]


class TimelineItem(Base):
    __tablename__ = "timeline_items"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq"),
        UniqueConstraint("conversation_id", "author_type", "author_id", "client_key"),
    )

    id: Mapped[IdPK]
    conversation_id: Mapped[int] = mapped_column(BigId, ForeignKey("conversations.id"))
    seq: Mapped[int]
    kind: Mapped[str] = mapped_column(String(12))
    author_type: Mapped[str] = mapped_column(String(12))
    author_id: Mapped[int | None] = mapped_column(BigId)
    # A snapshot of who wrote it, as the customer saw it then; no join on every read.
    author_name: Mapped[str] = mapped_column(String(200), default="")
    author_tier: Mapped[str | None] = mapped_column(String(30))
    body: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any] | None]
    client_key: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]


class Rating(Base):
    __tablename__ = "ratings"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),)

    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id"), primary_key=True
    )
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("portal_users.id"))
    score: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(index=True)


class ConversationRead(Base):
    """How far an agent has read a conversation: items with a higher seq are unread."""

    __tablename__ = "conversation_reads"

    agent_id: Mapped[int] = mapped_column(BigId, ForeignKey("agents.id"), primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id"), primary_key=True
    )
    last_read_seq: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime]


class CustomerRead(Base):
    """How far the customer has read a conversation (the widget reports it): product
    notices still unread after a while are e-mailed."""

    __tablename__ = "conversation_customer_reads"

    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id"), primary_key=True
    )
    last_read_seq: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime]
