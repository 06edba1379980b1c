"""The Alembic migrations create exactly the schema the models declare."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import kehu.domains  # noqa: F401  (every domain's tables and registrations)
from kehu.store.base import Base, modelled
from kehu.store.db import Database


def test_migrations_match_the_models(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'migrated.db'}")
    database.upgrade()
    with database.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": modelled}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], f"write a migration for: {differences}"
    database.dispose()


def test_upgrade_is_repeatable(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'again.db'}")
    database.upgrade()
    database.upgrade()
    database.check_schema()
    database.dispose()
