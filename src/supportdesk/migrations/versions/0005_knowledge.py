"""knowledge base: articles, versions, votes, deflections, suggestions kept on conversations

The search index tables are created by ``knowledge.search`` (they belong to the engine).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from supportdesk.core.db import JsonDoc, UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _json() -> sa.types.TypeEngine[Any]:
    return JsonDoc


def upgrade() -> None:
    op.create_table(
        "kb_articles",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.Column("tags", _json(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("view_count", sa.Integer(), nullable=False),
        sa.Column("helpful_count", sa.Integer(), nullable=False),
        sa.Column("not_helpful_count", sa.Integer(), nullable=False),
        sa.Column("deflection_count", sa.Integer(), nullable=False),
        sa.Column("created_by", _id(), nullable=True),
        sa.Column("updated_by", _id(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["agents.id"], name=op.f("fk_kb_articles_created_by_agents")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["agents.id"], name=op.f("fk_kb_articles_updated_by_agents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_articles")),
        sa.UniqueConstraint("slug", "locale", name=op.f("uq_kb_articles_slug_locale")),
    )
    op.create_index("ix_kb_articles_status", "kb_articles", ["status", "locale"], unique=False)
    op.create_table(
        "kb_article_versions",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("article_id", _id(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.Column("tags", _json(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("changed", _json(), nullable=False),
        sa.Column("changed_by", _id(), nullable=True),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["kb_articles.id"],
            name=op.f("fk_kb_article_versions_article_id_kb_articles"),
        ),
        sa.ForeignKeyConstraint(
            ["changed_by"], ["agents.id"], name=op.f("fk_kb_article_versions_changed_by_agents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_article_versions")),
        sa.UniqueConstraint(
            "article_id", "version", name=op.f("uq_kb_article_versions_article_id_version")
        ),
    )
    op.create_table(
        "kb_article_votes",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("article_id", _id(), nullable=False),
        sa.Column("user_id", _id(), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["kb_articles.id"],
            name=op.f("fk_kb_article_votes_article_id_kb_articles"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["portal_users.id"], name=op.f("fk_kb_article_votes_user_id_portal_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_article_votes")),
        sa.UniqueConstraint(
            "article_id", "user_id", name=op.f("uq_kb_article_votes_article_id_user_id")
        ),
    )
    op.create_table(
        "kb_deflections",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("article_id", _id(), nullable=False),
        sa.Column("portal_id", _id(), nullable=False),
        sa.Column("user_id", _id(), nullable=False),
        sa.Column("query", sa.String(length=500), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["kb_articles.id"],
            name=op.f("fk_kb_deflections_article_id_kb_articles"),
        ),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name=op.f("fk_kb_deflections_portal_id_portals")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["portal_users.id"], name=op.f("fk_kb_deflections_user_id_portal_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_deflections")),
    )
    op.create_index(
        "ix_kb_deflections_article", "kb_deflections", ["article_id", "created_at"], unique=False
    )
    op.create_table(
        "kb_conversation_suggestions",
        sa.Column("conversation_id", _id(), nullable=False),
        sa.Column("article_ids", _json(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_kb_conversation_suggestions_conversation_id_conversations"),
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_kb_conversation_suggestions")),
    )


def downgrade() -> None:
    op.drop_table("kb_conversation_suggestions")
    op.drop_index("ix_kb_deflections_article", table_name="kb_deflections")
    op.drop_table("kb_deflections")
    op.drop_table("kb_article_votes")
    op.drop_table("kb_article_versions")
    op.drop_index("ix_kb_articles_status", table_name="kb_articles")
    op.drop_table("kb_articles")
