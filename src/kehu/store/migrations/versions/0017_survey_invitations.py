"""survey invitations: the rules that send surveys and the invitations sent (issue 10)

- ``survey_invitation_rules``: a survey sent after a resolved ticket, after a purchase, or to a
  segment (value tier, RFM segment, tag) every so many days;
- ``survey_invitations``: one invitation of one customer (trigger, ticket -- unique -- or
  purchase import, signed link, response, status and the time of each step).

Downgrade drops both tables, and with them every invitation (responses stay).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "survey_invitation_rules",
        sa.Column("id", _ID, nullable=False),
        sa.Column("survey_id", _ID, nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("delay_hours", sa.Integer(), nullable=False),
        sa.Column("segment_tier", sa.String(length=10), nullable=True),
        sa.Column("segment_rfm", sa.String(length=40), nullable=True),
        sa.Column("segment_tag", sa.String(length=100), nullable=True),
        sa.Column("every_days", sa.Integer(), nullable=True),
        sa.Column("next_run_at", sa.DateTime(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_survey_invitation_rules_survey_id_surveys"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_survey_invitation_rules_created_by_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_invitation_rules")),
    )
    for column in ("survey_id", "created_by"):
        op.create_index(
            op.f(f"ix_survey_invitation_rules_{column}"),
            "survey_invitation_rules",
            [column],
            unique=False,
        )
    op.create_table(
        "survey_invitations",
        sa.Column("id", _ID, nullable=False),
        sa.Column("survey_id", _ID, nullable=False),
        sa.Column("survey_version", sa.Integer(), nullable=True),
        sa.Column("rule_id", _ID, nullable=True),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("ticket_id", _ID, nullable=True),
        sa.Column("purchase_import_id", sa.BigInteger(), nullable=True),
        sa.Column("link_id", _ID, nullable=True),
        sa.Column("response_id", _ID, nullable=True),
        sa.Column("language", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("skip_reason", sa.String(length=40), nullable=True),
        sa.Column("send_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("reminded_at", sa.DateTime(), nullable=True),
        sa.Column("opened_at", sa.DateTime(), nullable=True),
        sa.Column("responded_at", sa.DateTime(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_survey_invitations_survey_id_surveys")
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["survey_invitation_rules.id"],
            name=op.f("fk_survey_invitations_rule_id_survey_invitation_rules"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_survey_invitations_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_survey_invitations_ticket_id_tickets")
        ),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["signed_links.id"],
            name=op.f("fk_survey_invitations_link_id_signed_links"),
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["survey_responses.id"],
            name=op.f("fk_survey_invitations_response_id_survey_responses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_invitations")),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_survey_invitations_ticket_id")),
    )
    for column in ("survey_id", "rule_id", "customer_id", "link_id", "response_id"):
        op.create_index(
            op.f(f"ix_survey_invitations_{column}"), "survey_invitations", [column], unique=False
        )
    op.create_index(
        "ix_survey_invitations_status_send_at",
        "survey_invitations",
        ["status", "send_at"],
        unique=False,
    )
    op.create_index(
        "ix_survey_invitations_customer_sent",
        "survey_invitations",
        ["customer_id", "sent_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_survey_invitations_customer_sent", table_name="survey_invitations")
    op.drop_index("ix_survey_invitations_status_send_at", table_name="survey_invitations")
    for column in ("response_id", "link_id", "customer_id", "rule_id", "survey_id"):
        op.drop_index(op.f(f"ix_survey_invitations_{column}"), table_name="survey_invitations")
    op.drop_table("survey_invitations")
    for column in ("created_by", "survey_id"):
        op.drop_index(
            op.f(f"ix_survey_invitation_rules_{column}"), table_name="survey_invitation_rules"
        )
    op.drop_table("survey_invitation_rules")
