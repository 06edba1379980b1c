"""saved views of the ticket queue (issue 8, must have 2)

``ticket_views``: a name for the queue's filters and sort (``params``, the queue's URL
parameters as a JSON object), owned by a user (``owner_id``, indexed, a foreign key to
``users.id`` like every staff column), shared with every user or not. A user's view names are
unique (``uq_ticket_views_owner_name``).

Downgrade drops the table (the saved views with it).

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ticket_views",
        sa.Column("id", ID, primary_key=True),
        sa.Column("owner_id", sa.BigInteger(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("owner_id", "name", name="uq_ticket_views_owner_name"),
    )
    op.create_index("ix_ticket_views_owner_id", "ticket_views", ["owner_id"])


def downgrade() -> None:
    op.drop_index("ix_ticket_views_owner_id", table_name="ticket_views")
    op.drop_table("ticket_views")
