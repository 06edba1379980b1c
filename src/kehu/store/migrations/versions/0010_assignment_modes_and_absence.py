"""teams assign arriving tickets automatically; users can be away

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# Plain ALTER TABLE, not batch mode: SQLite adds and (from 3.35) drops a column in place, where
# batch mode would copy the table and drop the original, which other tables' foreign keys to
# teams and users refuse once there are rows.


def upgrade() -> None:
    op.add_column(
        "teams",
        sa.Column("assignment_mode", sa.String(20), nullable=False, server_default="none"),
    )
    op.add_column("teams", sa.Column("round_robin_last_user_id", sa.BigInteger(), nullable=True))
    op.add_column(
        "users", sa.Column("absent", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("users", sa.Column("absent_until", sa.DateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "absent_until")
    op.drop_column("users", "absent")
    op.drop_column("teams", "round_robin_last_user_id")
    op.drop_column("teams", "assignment_mode")
