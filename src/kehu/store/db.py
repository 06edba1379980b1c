"""Engine, sessions and schema upgrades of the operational store."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from kehu.errors import ConfigurationError, InputError, StoreError
from kehu.store.urls import mask_passwords, masked_url

#: How long a SQLite writer waits for another writer's lock before "database is locked".
SQLITE_BUSY_TIMEOUT_SECONDS = 30.0


#: How long connecting to PostgreSQL may take (libpq's ``connect_timeout``): an unreachable
#: server is an error naming it within seconds, not a command that hangs. A URL's own
#: ``?connect_timeout=`` wins.
POSTGRES_CONNECT_TIMEOUT_SECONDS = 10

#: Execution option of a connection whose transaction only reads (SQLite begins it DEFERRED).
READ_ONLY_OPTION = "kehu_read_only"


def _sqlite_pragmas(busy_timeout_seconds: float) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # kehu emits BEGIN itself (below): the sqlite3 module's legacy transaction control
        # leaves SELECTs outside the transaction and lets a SAVEPOINT run on its own.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL lets readers go on while an import writes; foreign keys are off by default.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_seconds * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect


def _sqlite_begin(connection: Connection) -> None:
    """A transaction that may write takes SQLite's one write lock when it begins (IMMEDIATE),
    waiting up to the busy timeout for another writer; one that began DEFERRED, read a snapshot
    and then wrote would fail at once ("database is locked") whenever another writer had
    committed meanwhile. Read-only transactions begin DEFERRED and never wait."""
    if connection.get_execution_options().get(READ_ONLY_OPTION):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


NUL = "\x00"


def _refuse_nul(
    _connection: Connection,
    _cursor: Any,
    _statement: str,
    parameters: Any,
    context: Any,
    _executemany: bool,
) -> None:
    """Refuse text holding the NUL character (U+0000) before it reaches the store, on every
    dialect: PostgreSQL cannot store it in text (psycopg's DataError was a 500), and SQLite
    would keep what PostgreSQL could never take. The error names the column when the
    statement has named parameters (an ORM write: ``body``, ``name``...)."""
    named = getattr(context, "compiled_parameters", None) or []
    for row in named:
        for name, value in row.items():
            if isinstance(value, str) and NUL in value:
                raise InputError(_NUL_REASON, column=_column_of(name))
    if not named:
        rows = parameters if isinstance(parameters, list) else [parameters]
        for row in rows:
            values = row.values() if isinstance(row, dict) else row or ()
            if any(isinstance(value, str) and NUL in value for value in values):
                raise InputError(_NUL_REASON)


_NUL_REASON = "text cannot contain the NUL character (U+0000)"


def _column_of(parameter: str) -> str:
    """``body`` of a bind parameter ``body``, ``rfm_segment`` of ``rfm_segment_1``."""
    stem, _, suffix = parameter.rpartition("_")
    return stem if stem and suffix.isdigit() else parameter


def _postgres_connect_timeout(url: str, options: dict[str, Any]) -> dict[str, Any]:
    if not url.startswith("postgresql+psycopg://") or "connect_timeout=" in url:
        return options
    connect_args = {"connect_timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS}
    return {**options, "connect_args": connect_args | options.get("connect_args", {})}


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def json_without_nan(value: Any) -> str:
    """JSON for the store's JSON columns, the same on every engine: a NaN or infinite figure
    (a run's diagnostics may hold one, say an effective sample size that was not computed) is
    stored as null. PostgreSQL refuses the NaN token that SQLite kept, so a value run that
    saved on SQLite failed on PostgreSQL with a 500."""
    return json.dumps(_finite(value))


def make_engine(
    url: str, *, busy_timeout_seconds: float = SQLITE_BUSY_TIMEOUT_SECONDS, **kwargs: Any
) -> Engine:
    """Create an engine for ``url``; SQLite gets WAL, foreign keys, ``busy_timeout_seconds``
    of waiting for the one writer's lock and transactions that begin as they mean to go on
    (see :func:`_sqlite_begin`); PostgreSQL uses psycopg 3 and gives up connecting after
    :data:`POSTGRES_CONNECT_TIMEOUT_SECONDS`."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        engine = create_engine(
            url,
            future=True,
            json_serializer=json_without_nan,
            **_postgres_connect_timeout(url, kwargs),
        )
    except Exception as exc:  # unknown dialect, missing driver
        raise ConfigurationError(
            f"cannot use database URL {masked_url(url)!r}: {mask_passwords(str(exc))}"
        ) from exc
    event.listen(engine, "before_cursor_execute", _refuse_nul)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas(busy_timeout_seconds))
        event.listen(engine, "begin", _sqlite_begin)
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

    def upgrade(self, revision: str = "head", *, backfill_currency: str = "USD") -> None:
        """Bring the schema to ``revision`` with Alembic (creates it on an empty database).
        ``backfill_currency`` is the currency of amounts stored before amounts carried one
        (``KEHU_CURRENCY``, which the front door passes; see migration 0006)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(resources.files("kehu.store") / "migrations"))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            config.attributes["backfill_currency"] = backfill_currency
            command.upgrade(config, revision)

    def check_schema(self) -> None:
        """Refuse to work on a database that has not been migrated."""
        if not inspect(self.engine).has_table("transactions"):
            raise StoreError(
                f"the store at {masked_url(self.url)} has no kehu schema yet: run "
                "`kehu db upgrade` (kehu value and kehu import do it for you)"
            )

    @contextmanager
    def session(self, *, read_only: bool = False) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error.
        ``read_only`` sessions (a GET request's) do not take SQLite's write lock; writing in
        one works, but may fail with "database is locked" under concurrent writers."""
        with self.sessions() as session, session.begin():
            if read_only:
                session.connection(execution_options={READ_ONLY_OPTION: True})
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
