"""stored possible duplicates: customer_duplicate_flags (issue 8, defect 9)

A public complaint from a new email address with a known phone number used to be filed for a new
customer, and the ticket page computed "possible duplicate" on the fly. The flag is now a row,
raised when the weak match happens and kept with what became of it (``status``: ``open``,
``confirmed`` with the ``merge_id``, ``dismissed``; ``resolved_at`` and ``resolved_by_user_id``
say when and who), one per pair of customers. Foreign keys to ``customers``, ``users`` and
``customer_merges``, each indexed.

Downgrade drops the table: the decisions recorded in it are lost (the merges they made stay, in
``customer_merges``, and the customers' events keep ``duplicate_flagged`` and
``duplicate_dismissed``).

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TABLE = "customer_duplicate_flags"
_INDEXED = ("customer_id", "duplicate_of_id", "resolved_by_user_id", "merge_id")


def upgrade() -> None:
    op.create_table(
        _TABLE,
        sa.Column("id", _ID, nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("duplicate_of_id", _ID, nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="open", nullable=False),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_by_user_id", _ID, nullable=True),
        sa.Column("merge_id", _ID, nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f(f"fk_{_TABLE}_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of_id"],
            ["customers.id"],
            name=op.f(f"fk_{_TABLE}_duplicate_of_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_user_id"],
            ["users.id"],
            name=op.f(f"fk_{_TABLE}_resolved_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["merge_id"], ["customer_merges.id"], name=op.f(f"fk_{_TABLE}_merge_id_customer_merges")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{_TABLE}")),
        sa.UniqueConstraint(
            "customer_id", "duplicate_of_id", name=op.f(f"uq_{_TABLE}_customer_id")
        ),
    )
    for column in _INDEXED:
        op.create_index(op.f(f"ix_{_TABLE}_{column}"), _TABLE, [column], unique=False)


def downgrade() -> None:
    for column in _INDEXED:
        op.drop_index(op.f(f"ix_{_TABLE}_{column}"), table_name=_TABLE)
    op.drop_table(_TABLE)
