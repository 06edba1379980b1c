"""the platform's outbox, signed links and rate limits no longer belong to the desk

- ``outbox_messages``: what a message is about becomes generic (``regarding_type``,
  ``regarding_id``; existing messages become ``ticket`` <ticket_id>) and the message says which
  consent it needs (``consent``, ``service`` for every existing one); the foreign keys to
  ``tickets`` and ``customers`` go (the platform knows no domain table; merges and erasure reach
  ``customer_id`` through the registries).
- ``ticket_status_links`` becomes ``signed_links`` (purpose ``ticket_status``, subject ``ticket``),
  every link kept with its digest, expiry and revocation.
- ``public_rate_limits`` becomes ``rate_limit_hits``, every hit kept.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("regarding_type", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("regarding_id", _ID, nullable=True))
        batch_op.add_column(
            sa.Column("consent", sa.String(length=20), nullable=False, server_default="service")
        )
    op.execute(
        "UPDATE outbox_messages SET regarding_type = 'ticket', regarding_id = ticket_id "
        "WHERE ticket_id IS NOT NULL"
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_constraint("fk_outbox_messages_ticket_id_tickets", type_="foreignkey")
        batch_op.drop_constraint("fk_outbox_messages_customer_id_customers", type_="foreignkey")
        batch_op.drop_column("ticket_id")
        batch_op.alter_column("consent", server_default=None)
        batch_op.create_index(
            "ix_outbox_messages_regarding", ["regarding_type", "regarding_id"], unique=False
        )

    op.create_table(
        "signed_links",
        sa.Column("id", _ID, nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("subject_type", sa.String(length=40), nullable=False),
        sa.Column("subject_id", _ID, nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("single_use", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_by", _ID, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signed_links")),
        sa.UniqueConstraint("digest", name=op.f("uq_signed_links_digest")),
    )
    op.create_index(
        "ix_signed_links_subject", "signed_links", ["subject_type", "subject_id", "purpose"]
    )
    op.execute(
        "INSERT INTO signed_links (id, purpose, subject_type, subject_id, digest, single_use, "
        "created_at, expires_at, used_at, revoked_at, revoked_by) "
        "SELECT id, 'ticket_status', 'ticket', ticket_id, digest, false, created_at, "
        "expires_at, NULL, revoked_at, revoked_by FROM ticket_status_links"
    )
    op.drop_index("ix_ticket_status_links_ticket_id", table_name="ticket_status_links")
    op.drop_table("ticket_status_links")

    op.create_table(
        "rate_limit_hits",
        sa.Column("id", _ID, nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("bucket", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_limit_hits")),
    )
    op.create_index(
        "ix_rate_limit_hits_action_bucket_at", "rate_limit_hits", ["action", "bucket", "at"]
    )
    op.execute(
        "INSERT INTO rate_limit_hits (id, action, bucket, at) "
        "SELECT id, action, bucket, at FROM public_rate_limits"
    )
    op.drop_index("ix_public_rate_limits_action_bucket_at", table_name="public_rate_limits")
    op.drop_table("public_rate_limits")
    _advance_sequences()


def _advance_sequences() -> None:
    # PostgreSQL: the copied ids were given explicitly; the new tables' sequences start past them
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in ("signed_links", "rate_limit_hits"):
        op.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        )


def downgrade() -> None:
    op.create_table(
        "public_rate_limits",
        sa.Column("id", _ID, nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("bucket", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_rate_limits")),
    )
    op.create_index(
        "ix_public_rate_limits_action_bucket_at", "public_rate_limits", ["action", "bucket", "at"]
    )
    op.execute(
        "INSERT INTO public_rate_limits (id, action, bucket, at) "
        "SELECT id, action, bucket, at FROM rate_limit_hits"
    )
    op.drop_index("ix_rate_limit_hits_action_bucket_at", table_name="rate_limit_hits")
    op.drop_table("rate_limit_hits")

    op.create_table(
        "ticket_status_links",
        sa.Column("id", _ID, nullable=False),
        sa.Column("ticket_id", _ID, nullable=False),
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
    op.create_index(
        "ix_ticket_status_links_ticket_id", "ticket_status_links", ["ticket_id"], unique=False
    )
    # links of other purposes (none before this revision) cannot go back
    op.execute(
        "INSERT INTO ticket_status_links (id, ticket_id, digest, created_at, expires_at, "
        "revoked_at, revoked_by) SELECT id, subject_id, digest, created_at, expires_at, "
        "revoked_at, revoked_by FROM signed_links "
        "WHERE purpose = 'ticket_status' AND subject_type = 'ticket'"
    )
    op.drop_index("ix_signed_links_subject", table_name="signed_links")
    op.drop_table("signed_links")

    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ticket_id", _ID, nullable=True))
    op.execute(
        "UPDATE outbox_messages SET ticket_id = regarding_id WHERE regarding_type = 'ticket'"
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_messages_regarding")
        batch_op.drop_column("consent")
        batch_op.drop_column("regarding_id")
        batch_op.drop_column("regarding_type")
        batch_op.create_foreign_key(
            "fk_outbox_messages_ticket_id_tickets", "tickets", ["ticket_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_outbox_messages_customer_id_customers", "customers", ["customer_id"], ["id"]
        )
