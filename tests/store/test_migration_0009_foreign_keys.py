"""Migration 0009 on a store whose user id columns name users that exist and users that do not:
the unknown ids become NULL (the membership of an unknown user goes), the known ones stay, the
foreign keys refuse new unknown ids, SQLite's customer search keeps its triggers, and the
downgrade takes the keys and indexes away again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from kehu.store.db import Database
from store_support import DIALECTS, downgrade, insert_row, store_at

NOW = datetime(2026, 12, 4, 9, 0)
_insert = partial(insert_row, filled_at=NOW)
KNOWN, UNKNOWN = 1, 99

#: every column naming a staff user, as (table, column)
USER_COLUMNS = {
    ("tickets", "assignee_id"),
    ("tickets", "created_by"),
    ("ticket_events", "actor_id"),
    ("ticket_messages", "author_id"),
    ("ticket_attachments", "uploaded_by"),
    ("sla_policy_versions", "created_by"),
    ("escalation_rules", "assignee_id"),
    ("customers", "owner_user_id"),
    ("customer_events", "actor_user_id"),
    ("customer_merges", "merged_by_user_id"),
    ("customer_merges", "undone_by_user_id"),
    ("signed_links", "revoked_by"),
    ("team_members", "user_id"),
}


@pytest.fixture(params=DIALECTS)
def store_at_0008(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with store_at(request.param, tmp_path, "0008") as database:
        yield database


def _fill(connection: sa.Connection) -> None:
    """Two rows per table: id 1 names the known user, id 2 the unknown one."""
    _insert(connection, "users", id=KNOWN, email="a@example.com", role="agent")
    _insert(connection, "business_calendars", id=1, name="Office")
    _insert(connection, "teams", id=1, name="Front", calendar_id=1)
    _insert(connection, "team_members", team_id=1, user_id=KNOWN)
    _insert(connection, "team_members", team_id=1, user_id=UNKNOWN)
    _insert(connection, "sla_policies", id=1, name="Standard")
    for row, user in ((1, KNOWN), (2, UNKNOWN)):
        _insert(
            connection,
            "customers",
            id=row,
            external_id=f"C-{row}",
            name=f"张伟 {row}",
            search_text=f"张伟 {row} c-{row}",
            owner_user_id=user,
        )
    for row, user in ((1, KNOWN), (2, UNKNOWN)):
        _insert(connection, "customer_events", id=row, customer_id=1, actor_user_id=user)
        _insert(
            connection,
            "customer_merges",
            id=row,
            survivor_id=1,
            merged_id=2,
            merged_by_user_id=user,
            undone_by_user_id=user,
        )
        _insert(
            connection,
            "sla_policy_versions",
            id=row,
            policy_id=1,
            version=row,
            calendar_id=1,
            created_by=user,
        )
        _insert(connection, "escalation_rules", id=row, action="notify", assignee_id=user)
        _insert(
            connection,
            "tickets",
            id=row,
            customer_id=row,
            team_id=1,
            sla_policy_version_id=row,
            assignee_id=user,
            created_by=user,
            repeat_of_id=1 if row == 2 else None,
        )
        _insert(connection, "ticket_events", id=row, ticket_id=row, actor_id=user)
        _insert(connection, "ticket_messages", id=row, ticket_id=row, author_id=user)
        _insert(
            connection,
            "ticket_attachments",
            id=row,
            ticket_id=row,
            message_id=row,
            uploaded_by=user,
        )
        _insert(
            connection,
            "signed_links",
            id=row,
            purpose="ticket_status",
            subject_type="ticket",
            subject_id=row,
            digest=str(row) * 64,
            revoked_by=user,
        )


def _user_ids(connection: sa.Connection) -> dict[tuple[str, str], list[Any]]:
    ids: dict[tuple[str, str], list[Any]] = {}
    for table, column in sorted(USER_COLUMNS):
        order = "team_id, user_id" if table == "team_members" else "id"
        ids[table, column] = list(
            connection.scalars(sa.text(f"SELECT {column} FROM {table} ORDER BY {order}"))
        )
    return ids


def _user_keys(connection: sa.Connection) -> set[tuple[str, str]]:
    inspector = sa.inspect(connection)
    return {
        (table, key["constrained_columns"][0])
        for table in {table for table, _column in USER_COLUMNS}
        for key in inspector.get_foreign_keys(table)
        if key["referred_table"] == "users"
    }


def _indexed(connection: sa.Connection, table: str, column: str) -> bool:
    return any(
        index["column_names"][:1] == [column] for index in sa.inspect(connection).get_indexes(table)
    )


def _search_triggers(connection: sa.Connection) -> list[str]:
    return list(
        connection.scalars(
            sa.text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name = 'customers' ORDER BY name"
            )
        )
    )


def test_unknown_user_ids_are_cleared_and_the_keys_hold(store_at_0008: Database) -> None:
    database = store_at_0008
    sqlite = database.dialect == "sqlite"
    with database.engine.begin() as connection:
        _fill(connection)
        triggers_before = _search_triggers(connection) if sqlite else []

    database.upgrade()

    with database.engine.connect() as connection:
        ids = _user_ids(connection)
        assert ids.pop(("team_members", "user_id")) == [KNOWN]  # the unknown user's is gone
        assert ids == {key: [KNOWN, None] for key in ids}, ids
        assert _user_keys(connection) == USER_COLUMNS
        for table, column in [*USER_COLUMNS, ("tickets", "repeat_of_id")]:
            assert _indexed(connection, table, column), (table, column)
        # the rows with a cleared id are all still there, with their other references
        assert list(connection.scalars(sa.text("SELECT repeat_of_id FROM tickets"))) == [None, 1]
        assert connection.scalar(sa.text("SELECT count(*) FROM customer_events")) == 2
        if sqlite:
            assert len(triggers_before) == 3
            assert _search_triggers(connection) == triggers_before
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []

    for table, column in [("tickets", "assignee_id"), ("team_members", "user_id")]:
        with pytest.raises(IntegrityError), database.engine.begin() as connection:
            key = "team_id = 1" if table == "team_members" else "id = 1"
            connection.execute(sa.text(f"UPDATE {table} SET {column} = {UNKNOWN} WHERE {key}"))
    if sqlite:  # the search index still follows every change of a customer
        with database.engine.begin() as connection:
            _insert(connection, "customers", id=3, external_id="C-3", search_text="wangfang c-3")
            found = connection.scalars(
                sa.text("SELECT rowid FROM customer_search WHERE customer_search MATCH 'wangfang'")
            )
            assert list(found) == [3]

    downgrade(database, "0008")
    with database.engine.begin() as connection:
        assert _user_keys(connection) == set()
        assert not _indexed(connection, "tickets", "repeat_of_id")
        assert not _indexed(connection, "ticket_events", "actor_id")
        assert _indexed(connection, "tickets", "assignee_id")  # 0002's index stays
        assert _indexed(connection, "customers", "owner_user_id")
        ids = _user_ids(connection)
        assert ids[("tickets", "assignee_id")] == [KNOWN, None]
        assert ids[("customers", "owner_user_id")][:2] == [KNOWN, None]
        if sqlite:
            assert _search_triggers(connection) == triggers_before
        connection.execute(sa.text(f"UPDATE tickets SET assignee_id = {UNKNOWN} WHERE id = 1"))

    database.upgrade()  # and up again, over the unknown id written meanwhile
    with database.engine.connect() as connection:
        assert _user_ids(connection)[("tickets", "assignee_id")] == [None, None]
