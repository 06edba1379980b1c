"""initial schema: customers, transactions, value runs, scores

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "customers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("external_id", name=op.f("uq_customers_external_id")),
    )
    op.create_table(
        "import_batches",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("rows_read", sa.BigInteger(), nullable=False),
        sa.Column("rows_added", sa.BigInteger(), nullable=False),
        sa.Column("customers_added", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batches")),
    )
    op.create_table(
        "import_staging",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("import_id", sa.BigInteger(), nullable=False),
        sa.Column("source_row", sa.BigInteger(), nullable=False),
        sa.Column("customer_external_id", sa.String(length=200), nullable=False),
        sa.Column("transaction_key", sa.String(length=400), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("cost_minor", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_staging")),
    )
    with op.batch_alter_table("import_staging", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_import_staging_import_id"), ["import_id"], unique=False
        )

    op.create_table(
        "value_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("input_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("models", sa.JSON(), nullable=False),
        sa.Column("diagnostics", sa.JSON(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("n_customers", sa.BigInteger(), nullable=False),
        sa.Column("scores_archive", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_value_runs")),
    )
    op.create_table(
        "cost_to_serve",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=50), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_cost_to_serve_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cost_to_serve")),
    )
    with op.batch_alter_table("cost_to_serve", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cost_to_serve_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "customer_scores",
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("frequency", sa.Integer(), nullable=False),
        sa.Column("recency", sa.Float(), nullable=False),
        sa.Column("age", sa.Float(), nullable=False),
        sa.Column("monetary_value_minor", sa.BigInteger(), nullable=True),
        sa.Column("total_spend_minor", sa.BigInteger(), nullable=False),
        sa.Column("rfm_recency", sa.Integer(), nullable=False),
        sa.Column("rfm_frequency", sa.Integer(), nullable=False),
        sa.Column("rfm_monetary", sa.Integer(), nullable=False),
        sa.Column("rfm_segment", sa.String(length=40), nullable=False),
        sa.Column("probability_alive", sa.Float(), nullable=True),
        sa.Column("expected_purchases", sa.Float(), nullable=True),
        sa.Column("expected_spend_minor", sa.BigInteger(), nullable=True),
        sa.Column("clv_minor", sa.BigInteger(), nullable=True),
        sa.Column("value_tier", sa.String(length=10), nullable=True),
        sa.Column("margin_minor", sa.BigInteger(), nullable=False),
        sa.Column("cost_to_serve_minor", sa.BigInteger(), nullable=False),
        sa.Column("profit_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_customer_scores_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["value_runs.id"], name=op.f("fk_customer_scores_run_id_value_runs")
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_scores")),
    )
    with op.batch_alter_table("customer_scores", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customer_scores_run_id"), ["run_id"], unique=False)

    op.create_table(
        "transactions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("transaction_key", sa.String(length=400), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("cost_minor", sa.BigInteger(), nullable=True),
        sa.Column("import_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_transactions_customer_id_customers"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["import_batches.id"],
            name=op.f("fk_transactions_import_id_import_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transactions")),
        sa.UniqueConstraint("transaction_key", name=op.f("uq_transactions_transaction_key")),
    )
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_transactions_customer_occurred", ["customer_id", "occurred_at"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.drop_index("ix_transactions_customer_occurred")

    op.drop_table("transactions")
    with op.batch_alter_table("customer_scores", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_scores_run_id"))

    op.drop_table("customer_scores")
    with op.batch_alter_table("cost_to_serve", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cost_to_serve_customer_id"))

    op.drop_table("cost_to_serve")
    op.drop_table("value_runs")
    with op.batch_alter_table("import_staging", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_staging_import_id"))

    op.drop_table("import_staging")
    op.drop_table("import_batches")
    op.drop_table("customers")
