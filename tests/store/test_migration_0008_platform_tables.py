"""Migration 0008 on a store with outbox messages, status links and rate-limit hits: every row
survives the move into the platform's tables (and the downgrade brings them back)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from kehu.store.db import Database
from store_reset import drop_every_table


def _downgrade(database: Database, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(resources.files("kehu.store") / "migrations"))
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


NOW = datetime(2026, 11, 30, 9, 0)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_at_0007(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'kehu.db'}")
    else:
        url = os.environ.get("KEHU_TEST_POSTGRES_URL")
        if not url:
            pytest.skip("KEHU_TEST_POSTGRES_URL is not set")
        database = Database(url)
        with database.engine.begin() as connection:
            drop_every_table(connection)
    database.upgrade("0007")
    yield database
    database.dispose()


def _filler(column: sa.Column[Any]) -> Any:
    """A value for a NOT NULL column the test does not care about."""
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer):
        return 1
    if isinstance(kind, sa.DateTime):
        return NOW
    if isinstance(kind, sa.JSON):
        return {}
    if isinstance(kind, sa.Float | sa.Numeric):
        return 0
    return "x"


def _insert(connection: sa.Connection, name: str, **values: Any) -> None:
    table = sa.Table(name, sa.MetaData(), autoload_with=connection)
    row = {
        column.name: _filler(column)
        for column in table.columns
        if not column.nullable and column.server_default is None and not column.primary_key
    }
    row.update(values)
    connection.execute(table.insert().values(**row))


def test_messages_links_and_hits_move_into_the_platform_tables(store_at_0007: Database) -> None:
    database = store_at_0007
    with database.engine.begin() as connection:
        _insert(connection, "customers", id=7, external_id="C-7", kind="person")
        _insert(connection, "tickets", id=12, customer_id=7, subject="Parcel", status="open")
        _insert(
            connection,
            "outbox_messages",
            id=3,
            customer_id=7,
            ticket_id=12,
            purpose="acknowledgement",
            subject="[#12] received",
            body="b",
        )
        _insert(connection, "outbox_messages", id=4, recipient="team@example.com", purpose="x")
        _insert(
            connection,
            "ticket_status_links",
            id=5,
            ticket_id=12,
            digest="d" * 64,
            created_at=NOW,
            expires_at=datetime(2027, 2, 28),
            revoked_at=None,
        )
        _insert(connection, "public_rate_limits", id=9, action="lookup", bucket="address:1", at=NOW)

    database.upgrade()
    with database.engine.connect() as connection:
        messages = connection.execute(
            sa.text(
                "SELECT id, customer_id, regarding_type, regarding_id, consent "
                "FROM outbox_messages ORDER BY id"
            )
        ).all()
        assert [tuple(m) for m in messages] == [
            (3, 7, "ticket", 12, "service"),
            (4, None, None, None, "service"),
        ]
        link = connection.execute(
            sa.text(
                "SELECT id, purpose, subject_type, subject_id, digest, single_use, used_at "
                "FROM signed_links"
            )
        ).one()
        assert tuple(link) == (5, "ticket_status", "ticket", 12, "d" * 64, False, None)
        hit = connection.execute(sa.text("SELECT id, action, bucket FROM rate_limit_hits")).one()
        assert tuple(hit) == (9, "lookup", "address:1")
        tables = set(sa.inspect(connection).get_table_names())
        assert {"ticket_status_links", "public_rate_limits"}.isdisjoint(tables)
    # new rows get new ids after the copied ones (PostgreSQL's sequences were advanced)
    with database.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO signed_links (purpose, subject_type, subject_id, digest, single_use, "
                "created_at, expires_at) VALUES ('ticket_status', 'ticket', 12, :d, false, :t, :t)"
            ),
            {"d": "e" * 64, "t": NOW},
        )

    _downgrade(database, "0007")
    with database.engine.connect() as connection:
        assert connection.execute(
            sa.text("SELECT id, ticket_id FROM outbox_messages ORDER BY id")
        ).all() == [(3, 12), (4, None)]
        assert connection.execute(
            sa.text("SELECT id, ticket_id, digest FROM ticket_status_links ORDER BY id")
        ).all()[0] == (5, 12, "d" * 64)
        assert connection.execute(sa.text("SELECT id FROM public_rate_limits")).all() == [(9,)]
