"""Migration 0010 on a store with teams and users: every team starts without automatic
assignment and every user present; the downgrade removes the columns and keeps the rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa

from kehu.store.db import Database
from store_support import DIALECTS, downgrade, insert_row, store_at

NOW = datetime(2026, 12, 3, 9, 0)
_insert = partial(insert_row, filled_at=NOW)


@pytest.fixture(params=DIALECTS)
def store_at_before(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with store_at(request.param, tmp_path, "0009") as database:
        yield database


def _columns(database: Database, table: str) -> set[str]:
    with database.engine.connect() as connection:
        return {column["name"] for column in sa.inspect(connection).get_columns(table)}


def test_teams_and_users_gain_their_assignment_columns_and_lose_them_again(
    store_at_before: Database,
) -> None:
    database = store_at_before
    with database.engine.begin() as connection:
        _insert(connection, "users", id=3, email="li@example.com", display_name="Li", role="agent")
        _insert(connection, "teams", id=5, name="Front")
        _insert(connection, "team_members", team_id=5, user_id=3)

    database.upgrade("0010")
    with database.engine.begin() as connection:
        team = connection.execute(
            sa.text("SELECT id, name, assignment_mode, round_robin_last_user_id FROM teams")
        ).one()
        assert tuple(team) == (5, "Front", "none", None)
        user = connection.execute(sa.text("SELECT id, absent, absent_until FROM users")).one()
        assert (user.id, bool(user.absent), user.absent_until) == (3, False, None)
        connection.execute(
            sa.text(
                "UPDATE teams SET assignment_mode = 'round_robin', round_robin_last_user_id = 3"
            )
        )
        connection.execute(sa.text("UPDATE users SET absent = :yes"), {"yes": True})

    downgrade(database, "0009")
    assert {"assignment_mode", "round_robin_last_user_id"}.isdisjoint(_columns(database, "teams"))
    assert {"absent", "absent_until"}.isdisjoint(_columns(database, "users"))
    with database.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT id, name FROM teams")).one() == (5, "Front")
        assert connection.execute(sa.text("SELECT id FROM users")).scalar_one() == 3
        members = connection.execute(sa.text("SELECT team_id, user_id FROM team_members")).one()
        assert tuple(members) == (5, 3)
