"""stored amounts carry their currency (issue 7, item 6)

Before this revision an amount was an integer whose currency was whatever ``KEHU_CURRENCY`` said
when it was read, in as many decimals as ``KEHU_CURRENCY_MINOR_UNITS`` said (default 2, whatever
the currency): changing either setting reinterpreted every stored figure. Now each amount has its
currency beside it, and its integer counts that currency's ISO 4217 minor unit.

Backfill, so that an existing store keeps the figures it showed:

- ``value_runs.currency``: the run's own ``settings["currency"]`` (USD, the old default, where a
  run has none);
- ``transactions.currency``, ``import_batches.currency``, ``cost_to_serve.currency``: the currency
  kehu runs with when it migrates (``KEHU_CURRENCY``, which the front door passes as the
  ``backfill_currency`` attribute; USD, its default, when nothing is passed), which is the
  currency the pages showed those amounts in.

Scale: where the store kept other decimals than the currency has (a JPY store under the old
default of 2 kept hundredths of a yen), the integers are rescaled to the currency's minor unit:

- a run's scores by the run's ``settings["minor_units"]``; to fewer decimals they are rounded
  half away from zero (they are model estimates), and ``settings["minor_units"]`` of the run
  whose scores are in ``customer_scores`` is set to the new scale (an archived run's Parquet
  file keeps its own);
- transactions and cost-to-serve by the decimals of the latest value run (the setting they were
  imported under; 2 when the store has no run), exactly: if an amount would lose a fraction, the
  upgrade stops and names the count. Keys of transactions without an id spell the amount
  (``row:<customer>|<time>|<amount>|<n>``); they are respelt in the new scale, so that importing
  the same file again still finds them.

Columns: ``currency VARCHAR(3) NOT NULL``, with no default on PostgreSQL. SQLite cannot drop a
column's default without rebuilding its table, and cannot rebuild ``value_runs`` or
``import_batches`` inside the migration's transaction while rows refer to them (foreign keys are
on); there the column is added with the default ``''``, which is no currency, and a trigger per
table refuses a row that comes with it, so a writer that forgets the currency fails on both
databases instead of being given one.

The ISO 4217 exponents are frozen in this file (not read from :mod:`kehu.core.money`), so the
migration does the same on every version of kehu.

Downgrade drops the columns; amounts stay in their currency's scale, so an older kehu needs
``KEHU_CURRENCY`` set to the store's currency and ``KEHU_CURRENCY_MINOR_UNITS`` to its decimals.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import context, op

from kehu.errors import StoreError

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

DEFAULT_CURRENCY = "USD"  # KEHU_CURRENCY's default
DEFAULT_DIGITS = 2  # KEHU_CURRENCY_MINOR_UNITS' default before this revision
#: ISO 4217 minor units that are not 2, as of this revision.
_ZERO = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
EXPONENTS = {
    **{code: 0 for code in _ZERO.split()},
    **{code: 3 for code in ("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND")},
    **{code: 4 for code in ("CLF", "UYW")},
}
TABLES = ("value_runs", "import_batches", "transactions", "cost_to_serve")
KEY_BATCH_ROWS = 10_000

value_runs = sa.table("value_runs", sa.column("id", sa.BigInteger), sa.column("settings", sa.JSON))
transactions = sa.table(
    "transactions",
    sa.column("id", sa.BigInteger),
    sa.column("transaction_key", sa.String),
    sa.column("external_id", sa.String),
)


def _exponent(currency: str) -> int:
    return EXPONENTS.get(currency, 2)


def _backfill_currency() -> str:
    currency = str(context.config.attributes.get("backfill_currency") or DEFAULT_CURRENCY)
    currency = currency.strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise ValueError(f"backfill currency must be an ISO 4217 code, got {currency!r}")
    return currency


def _add_currency(table: str, currency: str) -> None:
    """A NOT NULL ``currency`` column filled with ``currency`` (see the docstring on SQLite)."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} ADD COLUMN currency VARCHAR(3) NOT NULL DEFAULT ''")
        op.execute(
            sa.text(f"UPDATE {table} SET currency = :currency").bindparams(currency=currency)
        )
        op.execute(
            f"CREATE TRIGGER {table}_currency_required BEFORE INSERT ON {table} "
            "WHEN NEW.currency = '' "
            f"BEGIN SELECT RAISE(ABORT, 'NOT NULL constraint failed: {table}.currency'); END"
        )
        return
    op.add_column(
        table, sa.Column("currency", sa.String(length=3), nullable=False, server_default=currency)
    )
    op.alter_column(table, "currency", server_default=None)


def upgrade() -> None:
    connection = op.get_bind()
    currency = _backfill_currency()
    runs = connection.execute(sa.select(value_runs.c.id, value_runs.c.settings)).all()
    for table in TABLES:
        _add_currency(table, currency)
    for run_id, settings in runs:
        run_currency = str((settings or {}).get("currency") or DEFAULT_CURRENCY).upper()
        connection.execute(
            sa.text("UPDATE value_runs SET currency = :currency WHERE id = :id"),
            {"currency": run_currency, "id": run_id},
        )
    _rescale_scores(connection, runs)
    latest = max(runs, key=lambda run: run[0], default=None)
    digits = int((latest[1] or {}).get("minor_units", DEFAULT_DIGITS)) if latest else DEFAULT_DIGITS
    _rescale_recorded_amounts(connection, digits, _exponent(currency), currency)


def _scaled(column: str, digits: int, exponent: int) -> str:
    """SQL for ``column`` from ``digits`` decimals to ``exponent`` (half away from zero)."""
    if exponent >= digits:
        return f"{column} * {10 ** (exponent - digits)}"
    divisor = 10 ** (digits - exponent)
    half = divisor // 2
    return (
        f"CASE WHEN {column} >= 0 THEN ({column} + {half}) / {divisor} "
        f"ELSE -((-{column} + {half}) / {divisor}) END"
    )


SCORE_AMOUNTS = (
    "monetary_value_minor",
    "total_spend_minor",
    "expected_spend_minor",
    "clv_minor",
    "margin_minor",
    "cost_to_serve_minor",
    "profit_minor",
)


def _rescale_scores(connection: Any, runs: Sequence[Any]) -> None:
    scored = set(
        connection.execute(sa.text("SELECT DISTINCT run_id FROM customer_scores")).scalars()
    )
    for run_id, settings in runs:
        settings = dict(settings or {})
        digits = int(settings.get("minor_units", DEFAULT_DIGITS))
        exponent = _exponent(str(settings.get("currency") or DEFAULT_CURRENCY).upper())
        if digits == exponent or run_id not in scored:
            continue
        assignments = ", ".join(
            f"{name} = {_scaled(name, digits, exponent)}" for name in SCORE_AMOUNTS
        )
        connection.execute(
            sa.text(f"UPDATE customer_scores SET {assignments} WHERE run_id = :id"), {"id": run_id}
        )
        settings["minor_units"] = exponent
        connection.execute(
            value_runs.update().where(value_runs.c.id == run_id).values(settings=settings)
        )


def _rescale_recorded_amounts(connection: Any, digits: int, exponent: int, currency: str) -> None:
    if digits == exponent:
        return
    if exponent < digits:
        divisor = 10 ** (digits - exponent)
        for table, condition in (
            (
                "transactions",
                f"amount_minor % {divisor} <> 0 OR "
                f"(cost_minor IS NOT NULL AND cost_minor % {divisor} <> 0)",
            ),
            ("cost_to_serve", f"amount_minor % {divisor} <> 0"),
        ):
            count = connection.execute(
                sa.text(f"SELECT COUNT(*) FROM {table} WHERE {condition}")
            ).scalar()
            if count:
                raise StoreError(
                    f"cannot upgrade: {count} rows of {table} hold amounts in {digits} decimals, "
                    f"but {currency} has {exponent}; is KEHU_CURRENCY the currency they are in?"
                )
    connection.execute(
        sa.text(
            f"UPDATE transactions SET amount_minor = {_scaled('amount_minor', digits, exponent)}, "
            f"cost_minor = {_scaled('cost_minor', digits, exponent)}"
        )
    )
    connection.execute(
        sa.text(
            f"UPDATE cost_to_serve SET amount_minor = {_scaled('amount_minor', digits, exponent)}"
        )
    )
    _respell_row_keys(connection, exponent)


def _respell_row_keys(connection: Any, exponent: int) -> None:
    """``row:<customer>|<time>|<amount>|<n>`` with ``<amount>`` in ``exponent`` decimals."""
    quantum = Decimal(1).scaleb(-exponent)
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(transactions.c.id, transactions.c.transaction_key)
            .where(transactions.c.external_id.is_(None), transactions.c.id > last_id)
            .order_by(transactions.c.id)
            .limit(KEY_BATCH_ROWS)
        ).all()
        if not rows:
            return
        last_id = rows[-1][0]
        changed = []
        for row_id, key in rows:
            head, amount, occurrence = key.rsplit("|", 2)
            respelt = f"{head}|{Decimal(amount).quantize(quantum)}|{occurrence}"
            if respelt != key:
                changed.append({"row_id": row_id, "key": respelt})
        if changed:
            connection.execute(
                transactions.update()
                .where(transactions.c.id == sa.bindparam("row_id"))
                .values(transaction_key=sa.bindparam("key")),
                changed,
            )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in reversed(TABLES):
        if sqlite:  # SQLite's own DROP COLUMN: a batch rebuild of value_runs would fail (above)
            op.execute(f"DROP TRIGGER IF EXISTS {table}_currency_required")
            op.execute(f"ALTER TABLE {table} DROP COLUMN currency")
        else:
            op.drop_column(table, "currency")
