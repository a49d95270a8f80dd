"""triage: marketplace-app catalogue (seeded), portals' installed apps, conversation triage

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from supportdesk.core.db import JsonDoc, UTCDateTime
from supportdesk.triage.data import DEMO_APPS

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    apps = op.create_table(
        "marketplace_apps",
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("name_ja", sa.String(length=200), nullable=False),
        sa.Column("aliases", JsonDoc, nullable=False),
        sa.Column("vendor", sa.String(length=200), nullable=False),
        sa.Column("support_url", sa.String(length=500), nullable=False),
        sa.Column("support_email", sa.String(length=320), nullable=False),
        sa.Column("support_tab_url", sa.String(length=500), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_marketplace_apps")),
    )
    op.bulk_insert(apps, [{**app, "active": True} for app in DEMO_APPS])
    op.create_table(
        "portal_apps",
        sa.Column("portal_id", _id(), nullable=False),
        sa.Column("codes", JsonDoc, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name=op.f("fk_portal_apps_portal_id_portals")
        ),
        sa.PrimaryKeyConstraint("portal_id", name=op.f("pk_portal_apps")),
    )
    op.create_table(
        "conversation_triage",
        sa.Column("conversation_id", _id(), nullable=False),
        sa.Column("result", JsonDoc, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_triage_conversation_id_conversations"),
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_conversation_triage")),
    )


def downgrade() -> None:
    op.drop_table("conversation_triage")
    op.drop_table("portal_apps")
    op.drop_table("marketplace_apps")
