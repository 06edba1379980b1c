"""Migration 0015 on a store with a value run and a customer's scores: the six interval
columns arrive empty on the existing row (every other value kept), take intervals (money as
integer minor units), and the downgrade takes them away again, the scores staying."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa

from kehu.store.db import Database
from store_support import DIALECTS, downgrade, insert_row, store_at

NOW = datetime(2026, 12, 4, 9, 0)
_insert = partial(insert_row, filled_at=NOW)
INTERVAL_COLUMNS = (
    "probability_alive_low",
    "probability_alive_high",
    "expected_purchases_low",
    "expected_purchases_high",
    "clv_low_minor",
    "clv_high_minor",
)


@pytest.fixture(params=DIALECTS)
def store_before(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with store_at(request.param, tmp_path, "0014") as database:
        yield database


def _columns(connection: sa.Connection) -> set[str]:
    return {column["name"] for column in sa.inspect(connection).get_columns("customer_scores")}


def test_interval_columns_come_and_go_with_scores_present(store_before: Database) -> None:
    database = store_before
    with database.engine.begin() as connection:
        _insert(connection, "customers", id=1, external_id="C-1", kind="person")
        _insert(connection, "customers", id=2, external_id="C-2", kind="person")
        _insert(connection, "value_runs", id=1, currency="CNY")
        _insert(
            connection,
            "customer_scores",
            customer_id=1,
            run_id=1,
            probability_alive=0.8,
            expected_purchases=1.5,
            clv_minor=123_000,
        )

    database.upgrade()
    with database.engine.begin() as connection:
        assert set(INTERVAL_COLUMNS) <= _columns(connection)
        kept = connection.execute(
            sa.text(
                "SELECT probability_alive, clv_minor, "
                + ", ".join(INTERVAL_COLUMNS)
                + " FROM customer_scores WHERE customer_id = 1"
            )
        ).one()
        assert tuple(kept) == (0.8, 123_000, None, None, None, None, None, None)
        _insert(
            connection,
            "customer_scores",
            customer_id=2,
            run_id=1,
            clv_minor=123_000,
            probability_alive_low=0.7,
            probability_alive_high=0.9,
            expected_purchases_low=1.2,
            expected_purchases_high=1.9,
            clv_low_minor=80_000,
            clv_high_minor=9_000_000_000,  # beyond 32 bits: minor units need BigInteger
        )
        stored = connection.execute(
            sa.text(
                "SELECT "
                + ", ".join(INTERVAL_COLUMNS)
                + " FROM customer_scores WHERE customer_id = 2"
            )
        ).one()
        assert tuple(stored) == (0.7, 0.9, 1.2, 1.9, 80_000, 9_000_000_000)

    downgrade(database, "0014")
    with database.engine.connect() as connection:
        assert not set(INTERVAL_COLUMNS) & _columns(connection)
        count = connection.execute(sa.text("SELECT count(*) FROM customer_scores")).scalar_one()
        assert count == 2
    database.upgrade()  # and up again, the intervals empty
    with database.engine.connect() as connection:
        ends = connection.execute(
            sa.text("SELECT clv_low_minor, clv_high_minor FROM customer_scores")
        ).all()
        assert [tuple(row) for row in ends] == [(None, None), (None, None)]
