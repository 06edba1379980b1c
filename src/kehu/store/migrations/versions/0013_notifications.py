"""in-app notifications for staff users, and their choice of e-mail

- ``notifications``: one per staff user notified (recipient, kind, what it is about as
  ``regarding_type``/``regarding_id`` like the outbox, the title rendered in their language,
  when it was made and read);
- ``notification_preferences``: a staff user's choice to receive them by e-mail too (no row:
  yes).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", _ID, nullable=False),
        sa.Column("recipient_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("regarding_type", sa.String(length=40), nullable=True),
        sa.Column("regarding_id", _ID, nullable=True),
        sa.Column("actor_id", _ID, nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["users.id"], name=op.f("fk_notifications_recipient_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index(
        "ix_notifications_recipient_unread", "notifications", ["recipient_id", "read_at"]
    )
    op.create_index(
        "ix_notifications_regarding", "notifications", ["regarding_type", "regarding_id"]
    )
    op.create_table(
        "notification_preferences",
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("email", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notification_preferences_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notification_preferences")),
    )


def downgrade() -> None:
    op.drop_table("notification_preferences")
    op.drop_index("ix_notifications_regarding", table_name="notifications")
    op.drop_index("ix_notifications_recipient_unread", table_name="notifications")
    op.drop_table("notifications")
