"""per-customer intervals on customer_scores (issue 9, must-have 2)

Each score row gets the ends of its run's intervals from the estimates' sampling distribution
(:mod:`kehu.analytics.uncertainty`, at the run's ``interval_level``, 90 % unless set):
``probability_alive_low``/``_high``, ``expected_purchases_low``/``_high`` (floats, as the scores
are) and ``clv_low_minor``/``clv_high_minor`` (integer minor units of the run's currency, as
``clv_minor`` is). All nullable: rows of earlier runs have no intervals and keep none.

Downgrade drops the six columns: the intervals of the latest run are lost (its archive of
earlier scores is untouched; running ``kehu value`` again recomputes them).

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_TABLE = "customer_scores"
_COLUMNS = (
    ("probability_alive_low", sa.Float()),
    ("probability_alive_high", sa.Float()),
    ("expected_purchases_low", sa.Float()),
    ("expected_purchases_high", sa.Float()),
    ("clv_low_minor", sa.BigInteger()),
    ("clv_high_minor", sa.BigInteger()),
)


# Plain ALTER TABLE, not batch mode (as 0007): SQLite adds and (from 3.35) drops a column in
# place, where batch mode would copy the scores table.


def upgrade() -> None:
    for name, column_type in _COLUMNS:
        op.add_column(_TABLE, sa.Column(name, column_type, nullable=True))


def downgrade() -> None:
    for name, _ in reversed(_COLUMNS):
        op.drop_column(_TABLE, name)
