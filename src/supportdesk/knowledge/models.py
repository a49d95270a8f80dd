"""Knowledge-base tables.

Translations of one article share its ``slug`` (the translation group): the Japanese and
the English text are two rows with the same slug and different ``locale``. The search index
tables are not here: they belong to the engine behind ``knowledge.search`` and are created
and rebuilt by it (an external engine could replace them without a migration).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from supportdesk.core.db import Base, BigId, IdPK, JsonDoc

SLUG_LENGTH = 120
TITLE_LENGTH = 200
CATEGORY_LENGTH = 60
QUERY_LENGTH = 500


class Status(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"  # "deleted": out of search and the customer's reach, restorable


class Article(Base):
    __tablename__ = "kb_articles"
    __table_args__ = (
        UniqueConstraint("slug", "locale"),
        Index("ix_kb_articles_status", "status", "locale"),
    )

    id: Mapped[IdPK]
    slug: Mapped[str] = mapped_column(String(SLUG_LENGTH))
    locale: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(TITLE_LENGTH))
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(CATEGORY_LENGTH))
    tags: Mapped[list[str]] = mapped_column(JsonDoc)
    status: Mapped[str] = mapped_column(String(12))
    version: Mapped[int] = mapped_column(default=1)
    view_count: Mapped[int] = mapped_column(default=0)
    helpful_count: Mapped[int] = mapped_column(default=0)
    not_helpful_count: Mapped[int] = mapped_column(default=0)
    deflection_count: Mapped[int] = mapped_column(default=0)
    # Empty when the change came from ``supportdesk kb import``.
    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("agents.id"))
    updated_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("agents.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    published_at: Mapped[datetime | None]


class ArticleVersion(Base):
    """One saved state of an article: what it said, who saved it, when, and what changed."""

    __tablename__ = "kb_article_versions"
    __table_args__ = (UniqueConstraint("article_id", "version"),)

    id: Mapped[IdPK]
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("kb_articles.id"))
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(TITLE_LENGTH))
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(CATEGORY_LENGTH))
    tags: Mapped[list[str]] = mapped_column(JsonDoc)
    status: Mapped[str] = mapped_column(String(12))
    changed: Mapped[list[str]] = mapped_column(JsonDoc)
    changed_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("agents.id"))
    source: Mapped[str] = mapped_column(String(12))  # "editor" | "import"
    created_at: Mapped[datetime]


class ArticleVote(Base):
    """A customer's "Was this helpful?" answer: one row per customer and article."""

    __tablename__ = "kb_article_votes"
    __table_args__ = (UniqueConstraint("article_id", "user_id"),)

    id: Mapped[IdPK]
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("kb_articles.id"))
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("portal_users.id"))
    helpful: Mapped[bool]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Deflection(Base):
    """ "This solved my problem": a question answered by an article instead of a chat."""

    __tablename__ = "kb_deflections"
    __table_args__ = (Index("ix_kb_deflections_article", "article_id", "created_at"),)

    id: Mapped[IdPK]
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("kb_articles.id"))
    portal_id: Mapped[int] = mapped_column(BigId, ForeignKey("portals.id"))
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("portal_users.id"))
    query: Mapped[str] = mapped_column(String(QUERY_LENGTH))
    created_at: Mapped[datetime]


class ConversationSuggestions(Base):
    """The articles the widget suggested before the customer asked anyway (for the agent)."""

    __tablename__ = "kb_conversation_suggestions"

    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id"), primary_key=True
    )
    article_ids: Mapped[list[int]] = mapped_column(JsonDoc)
    created_at: Mapped[datetime]
