"""Wishes and bugs, the topics they are linked to, discussion, development requests and
the notices that tell linked conversations about request changes.

A wish and a bug report are both a ``TopicLink`` (``kind`` tells them apart; a bug adds
steps, expected, actual and attachment references). Links never move between topics:
merging only sets ``topics.merged_into_id``, so unmerging restores exactly what was
there, and a topic's mentions are counted over its own links and those of every topic
merged into it (recursively).

``RequestEvent`` is the history of a request (created, each status and title change);
each event makes one ``RequestNotice`` per linked conversation, unique on (event,
conversation): the outbox handlers look the notice up and do their work only once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from supportdesk.core.db import Base, BigId, IdPK, JsonDoc

TITLE_LENGTH = 200
TEXT_LENGTH = 5000


class Topic(Base):
    __tablename__ = "product_topics"
    __table_args__ = (Index("ix_product_topics_merged", "merged_into_id"),)

    id: Mapped[IdPK]
    title: Mapped[str] = mapped_column(String(TITLE_LENGTH))
    description: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20))
    merged_into_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("product_topics.id"))
    merged_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("agents.id"))
    merged_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class TopicLink(Base):
    """A wish (``kind="wish"``) or a bug report (``kind="bug"``) from one conversation."""

    __tablename__ = "product_links"
    __table_args__ = (
        Index("ix_product_links_topic", "topic_id", "portal_id"),
        Index("ix_product_links_portal", "portal_id"),
    )

    id: Mapped[IdPK]
    topic_id: Mapped[int] = mapped_column(BigId, ForeignKey("product_topics.id"))
    kind: Mapped[str] = mapped_column(String(8))
    conversation_id: Mapped[int] = mapped_column(BigId, ForeignKey("conversations.id"))
    portal_id: Mapped[int] = mapped_column(BigId, ForeignKey("portals.id"))
    agent_id: Mapped[int] = mapped_column(BigId, ForeignKey("agents.id"))
    quote: Mapped[str] = mapped_column(Text, default="")
    steps: Mapped[str | None] = mapped_column(Text)
    expected: Mapped[str | None] = mapped_column(Text)
    actual: Mapped[str | None] = mapped_column(Text)
    attachment_ids: Mapped[list[int]] = mapped_column(JsonDoc, default=list)
    created_at: Mapped[datetime]


class TopicComment(Base):
    """Internal discussion: staff only, never shown to customers."""

    __tablename__ = "product_comments"
    __table_args__ = (Index("ix_product_comments_topic", "topic_id", "id"),)

    id: Mapped[IdPK]
    topic_id: Mapped[int] = mapped_column(BigId, ForeignKey("product_topics.id"))
    agent_id: Mapped[int] = mapped_column(BigId, ForeignKey("agents.id"))
    author_name: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class Counter(Base):
    """Named counters; ``request_number`` holds the last REQ number handed out. It is
    raised in the transaction that creates the request, so a rolled-back attempt leaves
    no gap."""

    __tablename__ = "product_counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int]


class DevRequest(Base):
    """A development request. Deliberately no deadline or due-date column."""

    __tablename__ = "product_requests"

    id: Mapped[IdPK]
    number: Mapped[int] = mapped_column(unique=True)
    topic_id: Mapped[int] = mapped_column(BigId, ForeignKey("product_topics.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(12))
    title: Mapped[str] = mapped_column(String(TITLE_LENGTH))
    complexity: Mapped[str] = mapped_column(String(1))
    status: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class RequestEvent(Base):
    """The request's history: ``change`` is created | status | title."""

    __tablename__ = "product_request_events"
    __table_args__ = (
        UniqueConstraint("request_id", "client_key"),
        Index("ix_product_request_events_request", "request_id", "id"),
    )

    id: Mapped[IdPK]
    request_id: Mapped[int] = mapped_column(BigId, ForeignKey("product_requests.id"))
    change: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(12))
    title: Mapped[str] = mapped_column(String(TITLE_LENGTH))
    actor: Mapped[str] = mapped_column(String(200))  # "agent:12" | "integration:3"
    client_key: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]


class RequestNotice(Base):
    """One request event told to one linked conversation: the chat item (``item_seq``
    once appended) and the e-mail if it stays unread (``emailed_at``)."""

    __tablename__ = "product_request_notices"
    __table_args__ = (UniqueConstraint("event_id", "conversation_id"),)

    id: Mapped[IdPK]
    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("product_request_events.id"))
    conversation_id: Mapped[int] = mapped_column(BigId, ForeignKey("conversations.id"), index=True)
    item_seq: Mapped[int | None]
    emailed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class IntegrationToken(Base):
    """A token for an external tracker: it may only set request statuses. Only the
    SHA-256 of the token is stored; the token itself is shown once."""

    __tablename__ = "product_integration_tokens"

    id: Mapped[IdPK]
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[int] = mapped_column(BigId, ForeignKey("agents.id"))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
