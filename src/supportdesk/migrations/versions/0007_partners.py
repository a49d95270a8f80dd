"""partners: directory, referral cards, leads; the outbox of background jobs

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from supportdesk.core.db import JsonDoc, UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _json() -> sa.types.TypeEngine[Any]:
    return JsonDoc


def upgrade() -> None:
    op.create_table(
        "partners",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("specializations", _json(), nullable=False),
        sa.Column("countries", _json(), nullable=False),
        sa.Column("languages", _json(), nullable=False),
        sa.Column("contact_url", sa.String(length=500), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("description_en", sa.Text(), nullable=False),
        sa.Column("description_ja", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_referred_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partners")),
        sa.UniqueConstraint("name", name=op.f("uq_partners_name")),
    )
    op.create_table(
        "partner_referrals",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", _id(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("specialization", sa.String(length=40), nullable=True),
        sa.Column("app_code", sa.String(length=100), nullable=True),
        sa.Column("agent_id", _id(), nullable=False),
        sa.Column("item_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_partner_referrals_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_partner_referrals_conversation_id_conversations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_referrals")),
    )
    op.create_index(
        "ix_partner_referrals_created", "partner_referrals", ["created_at"], unique=False
    )
    op.create_index(
        op.f("ix_partner_referrals_conversation_id"),
        "partner_referrals",
        ["conversation_id"],
        unique=False,
    )
    op.create_table(
        "partner_referral_partners",
        sa.Column("referral_id", _id(), nullable=False),
        sa.Column("partner_id", _id(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_referral_partners_partner_id_partners"),
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["partner_referrals.id"],
            name=op.f("fk_partner_referral_partners_referral_id_partner_referrals"),
        ),
        sa.PrimaryKeyConstraint(
            "referral_id", "partner_id", name=op.f("pk_partner_referral_partners")
        ),
    )
    op.create_index(
        op.f("ix_partner_referral_partners_partner_id"),
        "partner_referral_partners",
        ["partner_id"],
        unique=False,
    )
    op.create_table(
        "partner_leads",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("referral_id", _id(), nullable=False),
        sa.Column("partner_id", _id(), nullable=False),
        sa.Column("conversation_id", _id(), nullable=False),
        sa.Column("customer_id", _id(), nullable=False),
        sa.Column("client_key", sa.String(length=100), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_partner_leads_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["portal_users.id"],
            name=op.f("fk_partner_leads_customer_id_portal_users"),
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name=op.f("fk_partner_leads_partner_id_partners")
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["partner_referrals.id"],
            name=op.f("fk_partner_leads_referral_id_partner_referrals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_leads")),
        sa.UniqueConstraint(
            "referral_id", "partner_id", name=op.f("uq_partner_leads_referral_id_partner_id")
        ),
    )
    op.create_index("ix_partner_leads_created", "partner_leads", ["created_at"], unique=False)
    op.create_index(
        op.f("ix_partner_leads_partner_id"), "partner_leads", ["partner_id"], unique=False
    )
    op.create_table(
        "outbox",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("available_at", UTCDateTime(), nullable=False),
        sa.Column("leased_until", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "available_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index(op.f("ix_partner_leads_partner_id"), table_name="partner_leads")
    op.drop_index("ix_partner_leads_created", table_name="partner_leads")
    op.drop_table("partner_leads")
    op.drop_index(
        op.f("ix_partner_referral_partners_partner_id"), table_name="partner_referral_partners"
    )
    op.drop_table("partner_referral_partners")
    op.drop_index(op.f("ix_partner_referrals_conversation_id"), table_name="partner_referrals")
    op.drop_index("ix_partner_referrals_created", table_name="partner_referrals")
    op.drop_table("partner_referrals")
    op.drop_table("partners")
