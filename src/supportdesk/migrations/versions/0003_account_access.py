"""account access: grants, the service's signing keys, the hash-chained access log

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from supportdesk.core.db import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

LOG = "access_log_entries"


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "access_signing_keys",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("algorithm", sa.String(length=10), nullable=False),
        sa.Column("public_key", sa.String(length=100), nullable=False),
        sa.Column("private_key_encrypted", sa.String(length=200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("retired_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_access_signing_keys")),
    )
    op.create_table(
        "access_log_heads",
        sa.Column("portal_id", _id(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name=op.f("fk_access_log_heads_portal_id_portals")
        ),
        sa.PrimaryKeyConstraint("portal_id", name=op.f("pk_access_log_heads")),
    )
    op.create_table(
        "access_grants",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", _id(), nullable=False),
        sa.Column("portal_id", _id(), nullable=False),
        sa.Column("specialist_id", _id(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("requested_scopes", sa.JSON(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_minutes", sa.Integer(), nullable=False),
        sa.Column("granted_minutes", sa.Integer(), nullable=True),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("answer_by", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decided_by", _id(), nullable=True),
        sa.Column("active_until", UTCDateTime(), nullable=True),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("first_used_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_access_grants_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["portal_users.id"],
            name=op.f("fk_access_grants_decided_by_portal_users"),
        ),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name=op.f("fk_access_grants_portal_id_portals")
        ),
        sa.ForeignKeyConstraint(
            ["specialist_id"], ["agents.id"], name=op.f("fk_access_grants_specialist_id_agents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_grants")),
    )
    op.create_index(
        "ix_access_grants_conversation", "access_grants", ["conversation_id", "id"], unique=False
    )
    op.create_index("ix_access_grants_portal", "access_grants", ["portal_id", "id"], unique=False)
    op.create_index("ix_access_grants_state", "access_grants", ["state"], unique=False)
    op.create_table(
        LOG,
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("portal_id", _id(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("actor_type", sa.String(length=20), nullable=False),
        sa.Column("actor_id", _id(), nullable=True),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("grant_id", _id(), nullable=True),
        sa.Column("conversation_id", _id(), nullable=True),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_access_log_entries_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["access_grants.id"],
            name=op.f("fk_access_log_entries_grant_id_access_grants"),
        ),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name=op.f("fk_access_log_entries_portal_id_portals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log_entries")),
        sa.UniqueConstraint("portal_id", "seq", name=op.f("uq_access_log_entries_portal_id_seq")),
    )
    op.create_index(op.f("ix_access_log_entries_grant_id"), LOG, ["grant_id"], unique=False)
    _append_only(LOG)


def _append_only(table: str) -> None:
    """Like ``audit_entries`` (0001): the database itself refuses UPDATE and DELETE."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
        return
    op.execute(
        f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION '{table} is append-only'; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {LOG}_no_{verb}")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {LOG}_append_only ON {LOG}")
        op.execute(f"DROP FUNCTION IF EXISTS {LOG}_append_only()")
    op.drop_index(op.f("ix_access_log_entries_grant_id"), table_name=LOG)
    op.drop_table(LOG)
    op.drop_index("ix_access_grants_state", table_name="access_grants")
    op.drop_index("ix_access_grants_portal", table_name="access_grants")
    op.drop_index("ix_access_grants_conversation", table_name="access_grants")
    op.drop_table("access_grants")
    op.drop_table("access_log_heads")
    op.drop_table("access_signing_keys")
