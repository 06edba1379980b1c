"""tickets remember when their next SLA alert is due

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

#: The categories the SLA check looks at (kehu.desk.workflow.ACTIVE_CATEGORIES, as of this
#: revision: a migration does not follow later code).
_ACTIVE = ("open", "waiting_on_customer")


# Plain ALTER TABLE, not batch mode: SQLite adds and (from 3.35) drops a column in place, where
# batch mode would copy the tickets table and drop the original, which the other tables'
# foreign keys to it refuse once there are tickets.


def upgrade() -> None:
    op.add_column("tickets", sa.Column("sla_next_alert_at", sa.DateTime(), nullable=True))
    op.create_index(
        op.f("ix_tickets_sla_next_alert_at"), "tickets", ["sla_next_alert_at"], unique=False
    )
    # Existing open tickets are due at once (from their creation): the first SLA check after
    # the upgrade evaluates each of them, as every check did before, fires what is due and
    # stores its real next alert. Computing the times here would need the SLA clock's code as
    # it is today inside a migration that must keep working as that code changes.
    op.execute(
        sa.text(
            "UPDATE tickets SET sla_next_alert_at = created_at "
            "WHERE sla_policy_version_id IS NOT NULL AND status_category IN :active"
        ).bindparams(sa.bindparam("active", value=list(_ACTIVE), expanding=True))
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_tickets_sla_next_alert_at"), table_name="tickets")
    op.drop_column("tickets", "sla_next_alert_at")
