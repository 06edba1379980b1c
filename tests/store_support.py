"""Stores for the tests that build their own instead of taking the shared ``database`` fixture
(tests/conftest.py): migration tests that start from an early revision, and modules that keep a
store of their own.

``store_at`` makes one at a revision (a new SQLite file, or the PostgreSQL test database emptied);
``DIALECTS`` parametrizes a fixture over both; ``downgrade`` is Alembic's downgrade; ``insert_row``
writes a row into a table as a revision has it, filling the NOT NULL columns a test does not care
about."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from kehu.store.db import Database

#: the params of a fixture that gives a store on SQLite always and on PostgreSQL when configured
DIALECTS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def drop_every_table(connection: Connection) -> None:
    """Empty a PostgreSQL test database: every table, the ones no model declares any more too
    (tables a later migration renamed or dropped would otherwise survive a ``metadata.drop_all``
    and break the next upgrade from an early revision). Extensions stay."""
    tables = sa.inspect(connection).get_table_names()
    if tables:
        names = ", ".join(f'"{name}"' for name in tables)
        connection.execute(sa.text(f"DROP TABLE {names} CASCADE"))


@contextmanager
def store_at(dialect: str, directory: Path, revision: str | None) -> Iterator[Database]:
    """A store at ``revision`` (``"head"`` for the newest; ``None``: no schema at all), disposed
    of afterwards: a new SQLite file ``kehu.db`` in ``directory``, or for ``"postgresql"`` the
    database of ``KEHU_TEST_POSTGRES_URL`` with every table dropped (the test is skipped when it
    is not set). The shared fixtures notice the changed PostgreSQL schema and migrate it again
    for the next test."""
    if dialect == "sqlite":
        database = Database(f"sqlite:///{directory / 'kehu.db'}")
    else:
        # read here, not at import: under pytest-xdist tests/conftest.py points it at the
        # worker's own database first
        url = os.environ.get("KEHU_TEST_POSTGRES_URL")
        if not url:
            pytest.skip("KEHU_TEST_POSTGRES_URL is not set")
        database = Database(url)
        with database.engine.begin() as connection:
            drop_every_table(connection)
    try:
        if revision is not None:
            database.upgrade(revision)
        yield database
    finally:
        database.dispose()


def downgrade(database: Database, revision: str) -> None:
    """Alembic's downgrade, configured as :meth:`Database.upgrade` configures the upgrade."""
    config = Config()
    config.set_main_option("script_location", str(resources.files("kehu.store") / "migrations"))
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _filler(column: sa.Column[Any], filled_at: datetime) -> Any:
    """A value for a NOT NULL column the test does not care about."""
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer):
        return 1
    if isinstance(kind, sa.DateTime):
        return filled_at
    if isinstance(kind, sa.JSON):
        return {}
    if isinstance(kind, sa.Float | sa.Numeric):
        return 0
    return "x"


def insert_row(
    connection: Connection, table_name: str, /, *, filled_at: datetime, **values: Any
) -> None:
    """Insert ``values`` into the table as the database has it now (reflected, so at whatever
    revision the store is); every other NOT NULL column without a server default gets a filler
    (``filled_at`` for a time). A module binds its time once:
    ``_insert = partial(insert_row, filled_at=NOW)``."""
    table = sa.Table(table_name, sa.MetaData(), autoload_with=connection)
    row = {
        column.name: _filler(column, filled_at)
        for column in table.columns
        if not column.nullable and column.server_default is None and not column.primary_key
    }
    row.update(values)
    connection.execute(table.insert().values(**row))
