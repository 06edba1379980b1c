"""Shared fixtures: a migrated store on SQLite always, and on PostgreSQL when
``KEHU_TEST_POSTGRES_URL`` is set.

A skipped test fails the run, unless it is a PostgreSQL variant on a machine without PostgreSQL
or a test marked ``shared_data`` on a checkout without ../shared (the reference data sets next to
the repository, which kehu must not need): the published-estimate tests, in particular, must never
be skipped silently.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, make_url, text

import kehu.domains  # noqa: F401  (every domain's tables and registrations)
from kehu.store.base import Base
from kehu.store.db import Database
from store_support import drop_every_table

_unexpected_skips: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist each worker tests on a PostgreSQL database of its own
    (``<database>_<worker>``, created when missing), so the workers never share tables; test
    modules read ``KEHU_TEST_POSTGRES_URL`` after this ran."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = os.environ.get("KEHU_TEST_POSTGRES_URL")
    if worker and url:
        os.environ["KEHU_TEST_POSTGRES_URL"] = _database_of_worker(url, worker)


def _database_of_worker(url: str, worker: str) -> str:
    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            # A test database need not survive a crash of the server: commits that do not wait
            # for the write-ahead log to reach the disk make the many small test transactions
            # cheaper. Visibility and locking are unchanged, so the concurrency tests still hold.
            connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit TO off'))
    finally:
        engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not {"postgres", "shared_data"} & set(report.keywords):
        _unexpected_skips.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _unexpected_skips:
        print("\nskipped tests are failures here:\n  " + "\n  ".join(_unexpected_skips))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _migrate(database: Database) -> None:
    database.upgrade()
    # Tables a domain has added but no migration creates yet still exist for its tests;
    # tests/store/test_migrations.py fails until the migration is written.
    Base.metadata.create_all(database.engine, checkfirst=True)


def _reset_postgres(url: str) -> Database:
    database = Database(url)
    with database.engine.begin() as connection:
        drop_every_table(connection)
    return database


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store migrated once per test session; each test gets a copy of the file (running the
    migrations took a third of a second per test, the copy half a millisecond)."""
    path = tmp_path_factory.mktemp("template") / "kehu.db"
    database = Database(f"sqlite:///{path}")
    _migrate(database)
    database.dispose()
    return path


@dataclass
class _PostgresTemplate:
    """The worker's PostgreSQL database, migrated once; each test empties its tables
    (TRUNCATE ... RESTART IDENTITY, a few milliseconds) instead of migrating again. A test
    that changed the schema (a migration test, a module that drops and re-creates the tables)
    is noticed by the schema's fingerprint, and the next test migrates afresh."""

    url: str
    fingerprint: tuple[Any, ...] = ()

    def fresh(self) -> Database:
        database = Database(self.url)
        if self.fingerprint and _schema_fingerprint(database) == self.fingerprint:
            _empty_tables(database)
            return database
        database.dispose()
        database = _reset_postgres(self.url)
        _migrate(database)
        self.fingerprint = _schema_fingerprint(database)
        return database


def _schema_fingerprint(database: Database) -> tuple[Any, ...]:
    with database.engine.connect() as connection:
        columns = connection.execute(
            text(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = current_schema() ORDER BY 1, 2"
            )
        ).all()
        version = connection.execute(
            text(
                "SELECT version_num FROM alembic_version"
                if inspect(connection).has_table("alembic_version")
                else "SELECT NULL"
            )
        ).all()
    return (tuple(map(tuple, columns)), tuple(map(tuple, version)))


def _empty_tables(database: Database) -> None:
    with database.engine.begin() as connection:
        tables = [
            name for name in inspect(connection).get_table_names() if name != "alembic_version"
        ]
        if tables:
            names = ", ".join(f'"{name}"' for name in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def postgres_template() -> _PostgresTemplate:
    url = os.environ.get("KEHU_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("KEHU_TEST_POSTGRES_URL is not set")
    return _PostgresTemplate(url)


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ]
)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A freshly migrated, empty store: SQLite file, and PostgreSQL when configured."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copyfile(template, tmp_path / "kehu.db")
        db = Database(f"sqlite:///{tmp_path / 'kehu.db'}")
    else:
        postgres: _PostgresTemplate = request.getfixturevalue("postgres_template")
        db = postgres.fresh()
    yield db
    db.dispose()


@pytest.fixture
def sqlite_database(tmp_path: Path, sqlite_template: Path) -> Iterator[Database]:
    shutil.copyfile(sqlite_template, tmp_path / "kehu.db")
    db = Database(f"sqlite:///{tmp_path / 'kehu.db'}")
    yield db
    db.dispose()
