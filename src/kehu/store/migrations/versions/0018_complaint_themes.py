"""complaint themes: the catalogue, the texts read and their tags (issue 10, item 5)

- ``themes``: key, names in English and Chinese, seed words (JSON), active;
- ``theme_texts``: one row per ticket or survey verbatim the tagging has read, with a copy of
  its text, its customer and ticket, when it was written, and who checked its tags;
- ``theme_tags``: (text, theme) with score, source (model or agent), who and when.

Downgrade drops the three tables, and with them every tag and correction.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "themes",
        sa.Column("id", _ID, nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("seed_words", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_themes")),
        sa.UniqueConstraint("key", name=op.f("uq_themes_key")),
    )
    op.create_table(
        "theme_texts",
        sa.Column("id", _ID, nullable=False),
        sa.Column("target_kind", sa.String(length=20), nullable=False),
        sa.Column("target_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", _ID, nullable=True),
        sa.Column("ticket_id", sa.BigInteger(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("written_at", sa.DateTime(), nullable=False),
        sa.Column("tagged_at", sa.DateTime(), nullable=False),
        sa.Column("checked_by", sa.BigInteger(), nullable=True),
        sa.Column("checked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_theme_texts_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["checked_by"], ["users.id"], name=op.f("fk_theme_texts_checked_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_theme_texts")),
        sa.UniqueConstraint("target_kind", "target_id", name=op.f("uq_theme_texts_target_kind")),
    )
    for column in ("customer_id", "ticket_id", "checked_by"):
        op.create_index(op.f(f"ix_theme_texts_{column}"), "theme_texts", [column], unique=False)
    op.create_index("ix_theme_texts_written_at", "theme_texts", ["written_at"], unique=False)
    op.create_table(
        "theme_tags",
        sa.Column("id", _ID, nullable=False),
        sa.Column("text_id", _ID, nullable=False),
        sa.Column("theme_id", _ID, nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("tagged_by", sa.BigInteger(), nullable=True),
        sa.Column("tagged_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["text_id"],
            ["theme_texts.id"],
            name=op.f("fk_theme_tags_text_id_theme_texts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"], ["themes.id"], name=op.f("fk_theme_tags_theme_id_themes")
        ),
        sa.ForeignKeyConstraint(
            ["tagged_by"], ["users.id"], name=op.f("fk_theme_tags_tagged_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_theme_tags")),
        sa.UniqueConstraint("text_id", "theme_id", name=op.f("uq_theme_tags_text_id")),
    )
    for column in ("theme_id", "tagged_by"):
        op.create_index(op.f(f"ix_theme_tags_{column}"), "theme_tags", [column], unique=False)


def downgrade() -> None:
    for column in ("tagged_by", "theme_id"):
        op.drop_index(op.f(f"ix_theme_tags_{column}"), table_name="theme_tags")
    op.drop_table("theme_tags")
    op.drop_index("ix_theme_texts_written_at", table_name="theme_texts")
    for column in ("checked_by", "ticket_id", "customer_id"):
        op.drop_index(op.f(f"ix_theme_texts_{column}"), table_name="theme_texts")
    op.drop_table("theme_texts")
    op.drop_table("themes")
