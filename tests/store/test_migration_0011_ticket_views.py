"""Migration 0011 (saved views of the ticket queue) up and down with rows present, on SQLite and
PostgreSQL: the table arrives empty beside the existing users and tickets, takes views, keeps a
user's names unique, and goes again on downgrade without touching the other rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from kehu.desk.tables import SEARCH_TRIGRAM_INDEXES
from kehu.store.db import Database
from store_support import DIALECTS, downgrade, insert_row, store_at

NOW = datetime(2026, 12, 4, 2, 0)
_insert = partial(insert_row, filled_at=NOW)


@pytest.fixture(params=DIALECTS)
def store_before(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with store_at(request.param, tmp_path, "0010") as database:
        yield database


def test_ticket_views_up_and_down(store_before: Database) -> None:
    database = store_before
    with database.engine.begin() as connection:
        _insert(connection, "users", id=5, email="lead@example.com", role="manager")
        _insert(connection, "customers", id=7, external_id="C-7", kind="person")
        _insert(connection, "tickets", id=12, customer_id=7, subject="Parcel", status="open")

    database.upgrade("0011")
    with database.engine.begin() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM ticket_views")).scalar() == 0
        _insert(
            connection,
            "ticket_views",
            id=1,
            owner_id=5,
            name="Breached",
            shared=True,
            params={"promise": "breached"},
        )
        indexes = {i["name"] for i in sa.inspect(connection).get_indexes("ticket_views")}
        assert "ix_ticket_views_owner_id" in indexes
        assert _trigram_indexes(connection) == (
            set(SEARCH_TRIGRAM_INDEXES) if connection.dialect.name == "postgresql" else set()
        )
    with pytest.raises(IntegrityError), database.engine.begin() as connection:
        _insert(connection, "ticket_views", id=2, owner_id=5, name="Breached", params={})
    with pytest.raises(IntegrityError), database.engine.begin() as connection:
        _insert(connection, "ticket_views", id=3, owner_id=99, name="Nobody's", params={})
    with database.engine.connect() as connection:
        row = connection.execute(sa.text("SELECT owner_id, name, shared FROM ticket_views")).one()
        assert tuple(row) == (5, "Breached", True)

    downgrade(database, "0010")
    with database.engine.connect() as connection:
        assert "ticket_views" not in sa.inspect(connection).get_table_names()
        assert connection.execute(sa.text("SELECT id FROM tickets")).all() == [(12,)]
        assert connection.execute(sa.text("SELECT id FROM users")).all() == [(5,)]
        assert _trigram_indexes(connection) == set()
    database.upgrade("0011")  # and up again
    with database.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM ticket_views")).scalar() == 0


def _trigram_indexes(connection: sa.Connection) -> set[str]:
    inspector = sa.inspect(connection)
    names = {
        str(i["name"])
        for table in ("tickets", "ticket_messages")
        for i in inspector.get_indexes(table)
    }
    return names & set(SEARCH_TRIGRAM_INDEXES)


@pytest.mark.postgres
def test_the_queue_search_uses_the_trigram_index_on_postgresql(store_before: Database) -> None:
    database = store_before
    if database.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's trigram indexes")
    database.upgrade("0011")
    with database.engine.begin() as connection:
        connection.execute(sa.text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(
            connection.execute(
                sa.text("EXPLAIN SELECT id FROM ticket_messages WHERE body ILIKE '%courier%'")
            ).scalars()
        )
    assert "ix_ticket_messages_body_trgm" in plan, plan
