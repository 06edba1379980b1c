"""Migration 0012 (canned replies) on a store with teams, users and tickets: the upgrade adds the
macros table beside them, the downgrade drops it with its rows and leaves the rest alone."""

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


@pytest.fixture(params=DIALECTS)
def store_before(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with store_at(request.param, tmp_path, "0011") as database:
        yield database


def test_macros_table_up_and_down_with_rows(store_before: Database) -> None:
    database = store_before
    with database.engine.begin() as connection:
        _insert(connection, "users", id=4, email="lead@example.com")
        _insert(connection, "teams", id=2, name="Front")
        _insert(connection, "customers", id=7, external_id="C-7", kind="person")
        _insert(connection, "tickets", id=12, customer_id=7, team_id=2, subject="Parcel")

    database.upgrade("0012")
    with database.engine.begin() as connection:
        _insert(
            connection,
            "macros",
            id=1,
            name="Apology",
            team_id=2,
            body_en="Dear {customer_name}",
            body_zh="{customer_name}您好",
            created_by=4,
            version=1,
        )
        _insert(
            connection, "macros", id=2, name="Thanks", team_id=None, body_en="Thanks", body_zh=""
        )
        rows = connection.execute(
            sa.text("SELECT id, name, team_id, body_zh FROM macros ORDER BY id")
        ).all()
        assert [tuple(r) for r in rows] == [
            (1, "Apology", 2, "{customer_name}您好"),
            (2, "Thanks", None, ""),
        ]
        indexes = {i["name"] for i in sa.inspect(connection).get_indexes("macros")}
        assert {"ix_macros_team_id", "ix_macros_created_by"} <= indexes
        with pytest.raises(sa.exc.IntegrityError), connection.begin_nested():
            _insert(connection, "macros", id=3, name="Orphan", team_id=99, body_en="x")

    downgrade(database, "0011")
    with database.engine.connect() as connection:
        assert "macros" not in sa.inspect(connection).get_table_names()
        assert connection.execute(sa.text("SELECT name FROM teams")).scalar_one() == "Front"
        assert connection.execute(sa.text("SELECT subject FROM tickets")).scalar_one() == "Parcel"

    database.upgrade("0012")
    with database.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM macros")).scalar_one() == 0
