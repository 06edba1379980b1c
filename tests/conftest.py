"""Shared fixtures: a migrated store on SQLite always, and on PostgreSQL when
``KEHU_TEST_POSTGRES_URL`` is set.

A skipped test fails the run, unless it is a PostgreSQL variant on a machine without PostgreSQL:
the published-estimate tests, in particular, must never be skipped silently.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from kehu.store.base import Base
from kehu.store.db import Database
from kehu.store.models import import_all_models

POSTGRES_URL = os.environ.get("KEHU_TEST_POSTGRES_URL")

_unexpected_skips: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and "postgres" not in report.keywords:
        _unexpected_skips.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _unexpected_skips:
        print("\nskipped tests are failures here:\n  " + "\n  ".join(_unexpected_skips))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _reset_postgres(url: str) -> Database:
    database = Database(url)
    import_all_models()
    with database.engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    return database


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ]
)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A freshly migrated store: SQLite file, and PostgreSQL when configured."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'kehu.db'}")
    else:
        if not POSTGRES_URL:
            pytest.skip("KEHU_TEST_POSTGRES_URL is not set")
        db = _reset_postgres(POSTGRES_URL)
    db.upgrade()
    # Tables a domain has added but no migration creates yet still exist for its tests;
    # tests/store/test_migrations.py fails until the migration is written.
    import_all_models()
    Base.metadata.create_all(db.engine, checkfirst=True)
    yield db
    db.dispose()


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'kehu.db'}")
    db.upgrade()
    yield db
    db.dispose()
