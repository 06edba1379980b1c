"""Migration 0006: stored amounts get their currency, from the setting kehu migrates with and from
each value run's own settings; a store kept in other decimals than its currency has is rescaled
(and its row keys respelt, so a re-import still finds them); downgrade drops the columns."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from kehu.errors import StoreError
from kehu.store.base import UTCDateTime
from kehu.store.db import Database
from kehu.value.importing import import_transactions, keyed_rows
from kehu.warehouse import ColumnMap, read_csv, to_arrow
from store_support import DIALECTS, downgrade, store_at

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
COLUMNS = ColumnMap(customer="customer", date="date", amount="amount", cost="cost")
SCORE_AMOUNTS = (
    "monetary_value_minor",
    "total_spend_minor",
    "expected_spend_minor",
    "clv_minor",
    "margin_minor",
    "cost_to_serve_minor",
    "profit_minor",
)

# The tables as revision 0005 has them (times bound as the store binds them), plus currency.
customers = sa.table(
    "customers",
    sa.column("id"),
    sa.column("external_id"),
    sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
)
import_batches = sa.table(
    "import_batches",
    *(sa.column(name) for name in ("id", "source", "fingerprint", "rows_read")),
    sa.column("started_at", UTCDateTime()),
    sa.column("rows_added"),
    sa.column("customers_added"),
)
transactions = sa.table(
    "transactions",
    *(sa.column(name) for name in ("id", "customer_id", "transaction_key", "external_id")),
    *(sa.column(name) for name in ("amount_minor", "cost_minor", "import_id")),
    sa.column("occurred_at", UTCDateTime()),
    sa.column("created_at", UTCDateTime()),
    sa.column("currency"),
)
cost_to_serve = sa.table(
    "cost_to_serve",
    *(sa.column(name) for name in ("customer_id", "amount_minor", "source")),
    sa.column("recorded_at", UTCDateTime()),
    sa.column("currency"),
)
value_runs = sa.table(
    "value_runs",
    *(sa.column(name) for name in ("id", "status", "source", "input_fingerprint")),
    sa.column("started_at", UTCDateTime()),
    sa.column("settings", sa.JSON),
    sa.column("models", sa.JSON),
    sa.column("diagnostics", sa.JSON),
    sa.column("n_customers"),
    sa.column("currency"),
)
customer_scores = sa.table(
    "customer_scores",
    *(sa.column(name) for name in ("customer_id", "run_id", "frequency", "recency", "age")),
    *(sa.column(name) for name in ("rfm_recency", "rfm_frequency", "rfm_monetary")),
    sa.column("rfm_segment"),
    *(sa.column(name) for name in SCORE_AMOUNTS),
)


@pytest.fixture(params=DIALECTS)
def bare(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty database without any schema."""
    with store_at(request.param, tmp_path, None) as database:
        yield database


def _legacy_store(
    database: Database,
    path: Path,
    rows: list[str],
    *,
    digits: int,
    run_currency: str | None,
    scores: dict[str, int] | None = None,
) -> None:
    """A store at revision 0005 holding what the kehu before 0006 wrote: the file's rows as it
    imported them (``digits`` decimals, keys spelling the amount so), a cost-to-serve row and,
    unless ``run_currency`` is None, a value run with one customer's scores."""
    database.upgrade("0005")
    path.write_text("\n".join(["customer,date,amount,cost", *rows]) + "\n", encoding="utf-8")
    parsed = read_csv(path, COLUMNS, timezone="UTC", minor_units=digits)
    staged = to_arrow(keyed_rows(parsed.table, digits)).to_pylist()
    seen: Counter[str] = Counter()
    for row in staged:  # repeats of an identical row are numbered, as the import does
        seen[row["transaction_key"]] += 1
        row["transaction_key"] = row["transaction_key"][:-1] + str(seen[row["transaction_key"]])
    with database.engine.begin() as connection:
        names = sorted({row["customer_external_id"] for row in staged})
        connection.execute(
            customers.insert(),
            [{"external_id": name, "created_at": NOW, "updated_at": NOW} for name in names],
        )
        ids = dict(connection.execute(sa.select(customers.c.external_id, customers.c.id)).all())
        batch = connection.execute(
            import_batches.insert().returning(import_batches.c.id),
            {
                "source": str(path),
                "fingerprint": "0" * 64,
                "rows_read": len(staged),
                "rows_added": len(staged),
                "customers_added": len(names),
                "started_at": NOW,
            },
        ).scalar_one()
        connection.execute(
            transactions.insert(),
            [
                {
                    "customer_id": ids[row["customer_external_id"]],
                    "transaction_key": row["transaction_key"],
                    "external_id": None,
                    "occurred_at": row["occurred_at"].replace(tzinfo=UTC),
                    "amount_minor": row["amount_minor"],
                    "cost_minor": row["cost_minor"],
                    "import_id": batch,
                    "created_at": NOW,
                }
                for row in staged
            ],
        )
        connection.execute(
            cost_to_serve.insert(),
            {
                "customer_id": ids[names[0]],
                "amount_minor": 3 * 10**digits,
                "source": "ticket_event:1",
                "recorded_at": NOW,
            },
        )
        if run_currency is None:
            return
        settings: dict[str, Any] = {"observation_end": "2024-01-31", "minor_units": digits}
        if run_currency:
            settings["currency"] = run_currency
        run = connection.execute(
            value_runs.insert().returning(value_runs.c.id),
            {
                "started_at": NOW,
                "status": "succeeded",
                "source": "<store>",
                "input_fingerprint": "0" * 64,
                "settings": settings,
                "models": [],
                "diagnostics": {},
                "n_customers": 1,
            },
        ).scalar_one()
        amounts = dict.fromkeys(SCORE_AMOUNTS, 0) | (scores or {})
        connection.execute(
            customer_scores.insert(),
            {
                "customer_id": ids[names[0]],
                "run_id": run,
                "frequency": 1,
                "recency": 1.0,
                "age": 2.0,
                "rfm_recency": 3,
                "rfm_frequency": 3,
                "rfm_monetary": 3,
                "rfm_segment": "champions",
                **amounts,
            },
        )


def _rows(database: Database, statement: Any) -> list[tuple[Any, ...]]:
    with database.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(statement)]


def test_backfill_keeps_the_figures_a_store_showed(bare: Database, tmp_path: Path) -> None:
    _legacy_store(
        bare,
        tmp_path / "orders.csv",
        ["c1,2024-01-05,12.34,7.00", "c2,2024-01-06,-3.10,"],
        digits=2,
        run_currency="EUR",
        scores={"clv_minor": 98765, "profit_minor": -120},
    )
    bare.upgrade(backfill_currency="CNY")
    assert _rows(
        bare,
        sa.select(
            transactions.c.amount_minor, transactions.c.cost_minor, transactions.c.currency
        ).order_by(transactions.c.id),
    ) == [(1234, 700, "CNY"), (-310, None, "CNY")]
    assert _rows(bare, sa.select(cost_to_serve.c.amount_minor, cost_to_serve.c.currency)) == [
        (300, "CNY")
    ]
    assert _rows(bare, sa.select(sa.text("currency")).select_from(import_batches)) == [("CNY",)]
    # the run keeps the currency it computed in, whatever the setting says at the upgrade
    assert _rows(bare, sa.select(value_runs.c.currency, value_runs.c.settings)) == [
        ("EUR", {"observation_end": "2024-01-31", "minor_units": 2, "currency": "EUR"})
    ]
    assert _rows(bare, sa.select(customer_scores.c.clv_minor, customer_scores.c.profit_minor)) == [
        (98765, -120)
    ]


def test_a_run_without_a_currency_was_in_the_old_default(bare: Database, tmp_path: Path) -> None:
    _legacy_store(bare, tmp_path / "o.csv", ["c1,2024-01-05,1.00,"], digits=2, run_currency="")
    bare.upgrade(backfill_currency="CNY")
    assert _rows(bare, sa.select(value_runs.c.currency)) == [("USD",)]


def test_a_store_kept_in_hundredths_of_a_yen_is_rescaled_and_reimports_add_nothing(
    bare: Database, tmp_path: Path
) -> None:
    # JPY under the old default KEHU_CURRENCY_MINOR_UNITS=2: ¥1,234 was kept as 123400
    path = tmp_path / "yen.csv"
    rows = ["c1,2024-01-05,1234,1000", "c1,2024-01-05,1234,1000", "c2,2024-01-06,-500,"]
    _legacy_store(
        bare,
        path,
        rows,
        digits=2,
        run_currency="JPY",
        scores={"clv_minor": 123456, "profit_minor": -123450, "total_spend_minor": 246800},
    )
    before = _rows(bare, sa.select(transactions.c.transaction_key).order_by(transactions.c.id))
    assert before[0][0].endswith("|1234.00|1") and before[1][0].endswith("|1234.00|2")
    bare.upgrade(backfill_currency="JPY")
    assert _rows(
        bare,
        sa.select(
            transactions.c.amount_minor,
            transactions.c.cost_minor,
            transactions.c.currency,
            transactions.c.transaction_key,
        ).order_by(transactions.c.id),
    ) == [
        (1234, 1000, "JPY", before[0][0].replace("|1234.00|", "|1234|")),
        (1234, 1000, "JPY", before[1][0].replace("|1234.00|", "|1234|")),
        (-500, None, "JPY", before[2][0].replace("|-500.00|", "|-500|")),
    ]
    assert _rows(bare, sa.select(cost_to_serve.c.amount_minor)) == [(3,)]
    # estimates to whole yen, half away from zero; the run's settings say the new scale
    assert _rows(
        bare,
        sa.select(
            customer_scores.c.clv_minor,
            customer_scores.c.profit_minor,
            customer_scores.c.total_spend_minor,
        ),
    ) == [(1235, -1235, 2468)]
    assert _rows(bare, sa.select(value_runs.c.settings))[0][0]["minor_units"] == 0
    # the same file again: every row is found under its respelt key
    parsed = read_csv(path, COLUMNS, timezone="UTC", minor_units=0)
    again = import_transactions(
        bare, parsed.table, source=str(path), fingerprint="again", currency="JPY", timezone="UTC"
    )
    assert (again.rows_read, again.rows_added) == (3, 0)


def test_whole_yuan_kept_without_decimals_are_scaled_up(bare: Database, tmp_path: Path) -> None:
    _legacy_store(bare, tmp_path / "y.csv", ["c1,2024-01-05,12,5"], digits=0, run_currency="CNY")
    bare.upgrade(backfill_currency="CNY")
    assert _rows(bare, sa.select(transactions.c.amount_minor, transactions.c.cost_minor)) == [
        (1200, 500)
    ]
    key = _rows(bare, sa.select(transactions.c.transaction_key))[0][0]
    assert key.endswith("|12.00|1")


def test_amounts_that_would_lose_a_fraction_stop_the_upgrade(
    bare: Database, tmp_path: Path
) -> None:
    _legacy_store(bare, tmp_path / "f.csv", ["c1,2024-01-05,12.50,"], digits=2, run_currency=None)
    with pytest.raises(StoreError, match=r"1 rows of transactions hold amounts in 2 decimals"):
        bare.upgrade(backfill_currency="JPY")
    # nothing was changed: the upgrade ran in one transaction
    assert _rows(bare, sa.text("SELECT version_num FROM alembic_version")) == [("0005",)]


def test_a_row_without_its_currency_is_refused(bare: Database) -> None:
    bare.upgrade(backfill_currency="CNY")
    with bare.engine.begin() as connection:
        connection.execute(
            customers.insert(), {"external_id": "c1", "created_at": NOW, "updated_at": NOW}
        )
    for statement in (
        sa.insert(import_batches).values(
            source="x",
            fingerprint="0",
            rows_read=0,
            rows_added=0,
            customers_added=0,
            started_at=NOW,
        ),
        sa.insert(value_runs).values(
            status="running",
            source="x",
            input_fingerprint="0",
            settings={},
            models=[],
            diagnostics={},
            n_customers=0,
            started_at=NOW,
        ),
        sa.text(
            "INSERT INTO cost_to_serve (customer_id, amount_minor, source, recorded_at) "
            "SELECT id, 100, 'x', created_at FROM customers"
        ),
        sa.text(
            "INSERT INTO transactions (customer_id, transaction_key, occurred_at, amount_minor,"
            " created_at) SELECT id, 'k', created_at, 100, created_at FROM customers"
        ),
    ):
        with pytest.raises(IntegrityError, match="currency"), bare.engine.begin() as connection:
            connection.execute(statement)


def test_downgrade_drops_the_columns_and_upgrade_adds_them_again(
    bare: Database, tmp_path: Path
) -> None:
    _legacy_store(bare, tmp_path / "d.csv", ["c1,2024-01-05,1.00,"], digits=2, run_currency="CNY")
    bare.upgrade(backfill_currency="CNY")
    downgrade(bare, "0005")
    inspector = sa.inspect(bare.engine)
    for table in ("transactions", "import_batches", "cost_to_serve", "value_runs"):
        assert "currency" not in {column["name"] for column in inspector.get_columns(table)}
    bare.upgrade(backfill_currency="USD")
    assert _rows(bare, sa.select(transactions.c.amount_minor, transactions.c.currency)) == [
        (100, "USD")
    ]
    assert _rows(bare, sa.select(value_runs.c.currency)) == [("CNY",)]
