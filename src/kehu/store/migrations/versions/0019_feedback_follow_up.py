"""closing the loop: follow-up items and their rules (issue 10, item 9)

- ``follow_ups``: a customer to call back about a response or an urgent complaint theme, why
  (reason, question, score), status open / ticket_opened / closed, owner, due, the recovery
  ticket, and the row's optimistic lock;
- ``follow_up_rules``: the one row of thresholds and the automatic rule.

Downgrade drops both tables, and with them every follow-up item (the tickets stay).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "follow_ups",
        sa.Column("id", _ID, nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("response_id", _ID, nullable=True),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("question_id", sa.String(length=40), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("theme", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=True),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("ticket_id", _ID, nullable=True),
        sa.Column("opened_by_rule", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("ticket_opened_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_follow_ups_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["survey_responses.id"],
            name=op.f("fk_follow_ups_response_id_survey_responses"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_follow_ups_owner_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_follow_ups_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_ups")),
    )
    op.create_index(op.f("ix_follow_ups_customer_id"), "follow_ups", ["customer_id"])
    op.create_index(op.f("ix_follow_ups_response_id"), "follow_ups", ["response_id"], unique=True)
    op.create_index(op.f("ix_follow_ups_owner_id"), "follow_ups", ["owner_id"])
    op.create_index(op.f("ix_follow_ups_ticket_id"), "follow_ups", ["ticket_id"])
    op.create_table(
        "follow_up_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nps_at_most", sa.Integer(), nullable=False),
        sa.Column("ces_at_most", sa.Integer(), nullable=False),
        sa.Column("csat_at_most", sa.Integer(), nullable=False),
        sa.Column("due_days", sa.Integer(), nullable=False),
        sa.Column("auto_open_high_value", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_follow_up_rules_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_rules")),
    )
    op.create_index(op.f("ix_follow_up_rules_updated_by"), "follow_up_rules", ["updated_by"])


def downgrade() -> None:
    op.drop_index(op.f("ix_follow_up_rules_updated_by"), table_name="follow_up_rules")
    op.drop_table("follow_up_rules")
    for column in ("ticket_id", "owner_id", "response_id", "customer_id"):
        op.drop_index(op.f(f"ix_follow_ups_{column}"), table_name="follow_ups")
    op.drop_table("follow_ups")
