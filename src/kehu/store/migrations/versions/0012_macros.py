"""canned replies (macros): a body per language, for one team or every team

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "macros",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("team_id", _ID, nullable=True),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("body_zh", sa.Text(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_macros_team_id_teams")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_macros_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_macros")),
    )
    op.create_index(op.f("ix_macros_team_id"), "macros", ["team_id"], unique=False)
    op.create_index(op.f("ix_macros_created_by"), "macros", ["created_by"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_macros_created_by"), table_name="macros")
    op.drop_index(op.f("ix_macros_team_id"), table_name="macros")
    op.drop_table("macros")
