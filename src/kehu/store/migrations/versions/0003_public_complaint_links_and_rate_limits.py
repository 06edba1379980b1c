"""public complaint links and rate limits

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "public_rate_limits",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("bucket", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_rate_limits")),
    )
    with op.batch_alter_table("public_rate_limits", schema=None) as batch_op:
        batch_op.create_index(
            "ix_public_rate_limits_action_bucket_at", ["action", "bucket", "at"], unique=False
        )

    op.create_table(
        "ticket_status_links",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "ticket_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_status_links_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_status_links")),
        sa.UniqueConstraint("digest", name=op.f("uq_ticket_status_links_digest")),
    )
    with op.batch_alter_table("ticket_status_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ticket_status_links_ticket_id"), ["ticket_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("ticket_status_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_status_links_ticket_id"))

    op.drop_table("ticket_status_links")
    with op.batch_alter_table("public_rate_limits", schema=None) as batch_op:
        batch_op.drop_index("ix_public_rate_limits_action_bucket_at")

    op.drop_table("public_rate_limits")
