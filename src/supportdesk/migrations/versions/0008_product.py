"""product: topics, wishes and bugs, discussion, development requests, notices,
integration tokens; the customers' read markers

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from supportdesk.core.db import JsonDoc, UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

FIRST_REQUEST_NUMBER = 1001


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "product_topics",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("merged_into_id", _id(), nullable=True),
        sa.Column("merged_by", _id(), nullable=True),
        sa.Column("merged_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        _fk("product_topics", "merged_into_id", "product_topics"),
        _fk("product_topics", "merged_by", "agents"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_topics")),
    )
    op.create_index("ix_product_topics_merged", "product_topics", ["merged_into_id"])
    op.create_table(
        "product_links",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("topic_id", _id(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("conversation_id", _id(), nullable=False),
        sa.Column("portal_id", _id(), nullable=False),
        sa.Column("agent_id", _id(), nullable=False),
        sa.Column("quote", sa.Text(), nullable=False),
        sa.Column("steps", sa.Text(), nullable=True),
        sa.Column("expected", sa.Text(), nullable=True),
        sa.Column("actual", sa.Text(), nullable=True),
        sa.Column("attachment_ids", JsonDoc, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("product_links", "topic_id", "product_topics"),
        _fk("product_links", "conversation_id", "conversations"),
        _fk("product_links", "portal_id", "portals"),
        _fk("product_links", "agent_id", "agents"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_links")),
    )
    op.create_index("ix_product_links_topic", "product_links", ["topic_id", "portal_id"])
    op.create_index("ix_product_links_portal", "product_links", ["portal_id"])
    op.create_table(
        "product_comments",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("topic_id", _id(), nullable=False),
        sa.Column("agent_id", _id(), nullable=False),
        sa.Column("author_name", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("product_comments", "topic_id", "product_topics"),
        _fk("product_comments", "agent_id", "agents"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_comments")),
    )
    op.create_index("ix_product_comments_topic", "product_comments", ["topic_id", "id"])
    counters = op.create_table(
        "product_counters",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_product_counters")),
    )
    op.bulk_insert(counters, [{"name": "request_number", "value": FIRST_REQUEST_NUMBER - 1}])
    op.create_table(
        "product_requests",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("topic_id", _id(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("complexity", sa.String(length=1), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        _fk("product_requests", "topic_id", "product_topics"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_requests")),
        sa.UniqueConstraint("number", name=op.f("uq_product_requests_number")),
        sa.UniqueConstraint("topic_id", name=op.f("uq_product_requests_topic_id")),
    )
    op.create_table(
        "product_request_events",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("request_id", _id(), nullable=False),
        sa.Column("change", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("client_key", sa.String(length=100), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("product_request_events", "request_id", "product_requests"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_request_events")),
        sa.UniqueConstraint(
            "request_id", "client_key", name=op.f("uq_product_request_events_request_id_client_key")
        ),
    )
    op.create_index(
        "ix_product_request_events_request", "product_request_events", ["request_id", "id"]
    )
    op.create_table(
        "product_request_notices",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("event_id", _id(), nullable=False),
        sa.Column("conversation_id", _id(), nullable=False),
        sa.Column("item_seq", sa.Integer(), nullable=True),
        sa.Column("emailed_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("product_request_notices", "event_id", "product_request_events"),
        _fk("product_request_notices", "conversation_id", "conversations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_request_notices")),
        sa.UniqueConstraint(
            "event_id",
            "conversation_id",
            name=op.f("uq_product_request_notices_event_id_conversation_id"),
        ),
    )
    op.create_index(
        op.f("ix_product_request_notices_conversation_id"),
        "product_request_notices",
        ["conversation_id"],
    )
    op.create_table(
        "product_integration_tokens",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", _id(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        _fk("product_integration_tokens", "created_by", "agents"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_integration_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_product_integration_tokens_token_hash")),
    )
    op.create_table(
        "conversation_customer_reads",
        sa.Column("conversation_id", _id(), nullable=False),
        sa.Column("last_read_seq", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        _fk("conversation_customer_reads", "conversation_id", "conversations"),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_conversation_customer_reads")),
    )


def downgrade() -> None:
    op.drop_table("conversation_customer_reads")
    op.drop_table("product_integration_tokens")
    op.drop_index(
        op.f("ix_product_request_notices_conversation_id"), table_name="product_request_notices"
    )
    op.drop_table("product_request_notices")
    op.drop_index("ix_product_request_events_request", table_name="product_request_events")
    op.drop_table("product_request_events")
    op.drop_table("product_requests")
    op.drop_table("product_counters")
    op.drop_index("ix_product_comments_topic", table_name="product_comments")
    op.drop_table("product_comments")
    op.drop_index("ix_product_links_portal", table_name="product_links")
    op.drop_index("ix_product_links_topic", table_name="product_links")
    op.drop_table("product_links")
    op.drop_index("ix_product_topics_merged", table_name="product_topics")
    op.drop_table("product_topics")
