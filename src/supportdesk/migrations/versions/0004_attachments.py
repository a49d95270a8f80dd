"""attachments and resumable uploads

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from supportdesk.core.db import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", _id(), nullable=False),
        sa.Column("portal_id", _id(), nullable=False),
        sa.Column("uploader_type", sa.String(length=12), nullable=False),
        sa.Column("uploader_id", _id(), nullable=False),
        sa.Column("client_key", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("mime", sa.String(length=100), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("duration", sa.Double(), nullable=True),
        sa.Column("thumbnail_sha256", sa.String(length=64), nullable=True),
        sa.Column("thumbnail_mime", sa.String(length=100), nullable=True),
        sa.Column("thumbnail_size", sa.BigInteger(), nullable=True),
        sa.Column("poster_sha256", sa.String(length=64), nullable=True),
        sa.Column("poster_mime", sa.String(length=100), nullable=True),
        sa.Column("poster_size", sa.BigInteger(), nullable=True),
        sa.Column("message_seq", sa.Integer(), nullable=True),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.Column("linked_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_attachments_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name=op.f("fk_attachments_portal_id_portals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
        sa.UniqueConstraint(
            "conversation_id",
            "uploader_type",
            "uploader_id",
            "client_key",
            name=op.f("uq_attachments_conversation_id_uploader_type_uploader_id_client_key"),
        ),
    )
    op.create_index("ix_attachments_portal", "attachments", ["portal_id"], unique=False)
    op.create_index(
        "ix_attachments_unlinked", "attachments", ["message_seq", "created_at"], unique=False
    )
    op.create_index("ix_attachments_sha256", "attachments", ["sha256"], unique=False)
    op.create_index(
        "ix_attachments_thumbnail_sha256", "attachments", ["thumbnail_sha256"], unique=False
    )
    op.create_index("ix_attachments_poster_sha256", "attachments", ["poster_sha256"], unique=False)
    op.create_table(
        "uploads",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", _id(), nullable=False),
        sa.Column("portal_id", _id(), nullable=False),
        sa.Column("uploader_type", sa.String(length=12), nullable=False),
        sa.Column("uploader_id", _id(), nullable=False),
        sa.Column("client_key", sa.String(length=100), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("attachment_id", _id(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["attachments.id"],
            name=op.f("fk_uploads_attachment_id_attachments"),
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_uploads_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name=op.f("fk_uploads_portal_id_portals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uploads")),
        sa.UniqueConstraint(
            "conversation_id",
            "uploader_type",
            "uploader_id",
            "client_key",
            name=op.f("uq_uploads_conversation_id_uploader_type_uploader_id_client_key"),
        ),
    )
    op.create_index("ix_uploads_created_at", "uploads", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_uploads_created_at", table_name="uploads")
    op.drop_table("uploads")
    for index in (
        "ix_attachments_poster_sha256",
        "ix_attachments_thumbnail_sha256",
        "ix_attachments_sha256",
        "ix_attachments_unlinked",
        "ix_attachments_portal",
    ):
        op.drop_index(index, table_name="attachments")
    op.drop_table("attachments")
