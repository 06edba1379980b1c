"""Migration 0014 on a store with customers, a user and a merge: the possible-duplicate flags'
table arrives empty beside them (every existing row kept), takes flags with its defaults and
foreign keys (one per pair), and the downgrade takes it away again, the other rows staying."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from kehu.store.db import Database
from store_support import DIALECTS, downgrade, insert_row, store_at

NOW = datetime(2026, 12, 4, 9, 0)
_insert = partial(insert_row, filled_at=NOW)


@pytest.fixture(params=DIALECTS)
def store_before(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with store_at(request.param, tmp_path, "0013") as database:
        yield database


def _count(connection: sa.Connection, table: str) -> int:
    return int(connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_the_flags_table_comes_and_goes_with_rows_present(store_before: Database) -> None:
    database = store_before
    with database.engine.begin() as connection:
        _insert(connection, "users", id=1, email="a@example.com", role="agent")
        for i in (1, 2, 3):
            _insert(connection, "customers", id=i, external_id=f"C-{i}", kind="person")
        _insert(connection, "customer_merges", id=1, survivor_id=1, merged_id=3)

    database.upgrade()
    with database.engine.begin() as connection:
        assert _count(connection, "customers") == 3 and _count(connection, "customer_merges") == 1
        assert _count(connection, "customer_duplicate_flags") == 0
        connection.execute(
            sa.text(
                "INSERT INTO customer_duplicate_flags (id, customer_id, duplicate_of_id, reason, "
                "raised_at) VALUES (1, 2, 1, 'same_phone', :now)"
            ),
            {"now": NOW},
        )
        connection.execute(
            sa.text(
                "INSERT INTO customer_duplicate_flags (id, customer_id, duplicate_of_id, reason, "
                "raised_at, status, resolved_at, resolved_by_user_id, merge_id) "
                "VALUES (2, 3, 1, 'same_phone', :now, 'confirmed', :now, 1, 1)"
            ),
            {"now": NOW},
        )
        status, version = connection.execute(
            sa.text("SELECT status, version FROM customer_duplicate_flags WHERE id = 1")
        ).one()
        assert (status, version) == ("open", 1)
    for duplicate in (
        "(3, 2, 1, 'same_phone', :now)",  # the same pair again
        "(4, 2, 99, 'same_phone', :now)",  # no such customer
    ):
        with pytest.raises(IntegrityError), database.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO customer_duplicate_flags (id, customer_id, duplicate_of_id, "
                    f"reason, raised_at) VALUES {duplicate}"
                ),
                {"now": NOW},
            )

    downgrade(database, "0013")
    with database.engine.connect() as connection:
        assert "customer_duplicate_flags" not in sa.inspect(connection).get_table_names()
        assert _count(connection, "customers") == 3 and _count(connection, "customer_merges") == 1
    database.upgrade()  # and up again, empty
    with database.engine.connect() as connection:
        assert _count(connection, "customer_duplicate_flags") == 0
