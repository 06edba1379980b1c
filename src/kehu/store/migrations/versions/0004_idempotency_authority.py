"""idempotency keys remember the caller's rights

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Keys remembered before this revision get an authority no caller has: a retry of one finds
    # it (never runs the write twice) and is answered 409 "other rights" (never replayed to a
    # caller whose rights were not checked).
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("authority_digest", sa.String(length=64), nullable=False, server_default="")
        )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.alter_column("authority_digest", server_default=None)
    # Answers that held a secret shown once are no longer kept: drop the ones remembered (they
    # are never replayed now, see above, but must not stay readable in the store either).
    op.execute(
        "UPDATE idempotency_keys SET response_body = NULL "
        "WHERE path = '/api/tokens' OR path LIKE '/api/public/%' OR path LIKE '%/status-links'"
    )


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_column("authority_digest")
