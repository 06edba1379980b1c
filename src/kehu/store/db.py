"""Engine, sessions and schema upgrades of the operational store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from kehu.errors import ConfigurationError, StoreError

#: How long a SQLite writer waits for another writer's lock before "database is locked".
SQLITE_BUSY_TIMEOUT_SECONDS = 30.0


def _sqlite_pragmas(busy_timeout_seconds: float) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets readers go on while an import writes; foreign keys are off by default.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_seconds * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect


def make_engine(
    url: str, *, busy_timeout_seconds: float = SQLITE_BUSY_TIMEOUT_SECONDS, **kwargs: Any
) -> Engine:
    """Create an engine for ``url``; SQLite gets WAL, foreign keys and ``busy_timeout_seconds``
    of waiting for the one writer's lock; PostgreSQL uses psycopg 3."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        engine = create_engine(url, future=True, **kwargs)
    except Exception as exc:  # unknown dialect, missing driver
        raise ConfigurationError(f"cannot use database URL {url!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas(busy_timeout_seconds))
    return engine


class Database:
    """The store: an engine, a session factory and the migrations that shape it."""

    def __init__(
        self,
        url: str,
        *,
        busy_timeout_seconds: float = SQLITE_BUSY_TIMEOUT_SECONDS,
        **engine_options: Any,
    ) -> None:
        self.url = url
        self.engine = make_engine(url, busy_timeout_seconds=busy_timeout_seconds, **engine_options)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema to ``revision`` with Alembic (creates it on an empty database)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(resources.files("kehu.store") / "migrations"))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

    def check_schema(self) -> None:
        """Refuse to work on a database that has not been migrated."""
        if not inspect(self.engine).has_table("transactions"):
            raise StoreError(
                f"the store at {self.url} has no kehu schema yet: run `kehu db upgrade` "
                "(kehu value and kehu import do it for you)"
            )

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
