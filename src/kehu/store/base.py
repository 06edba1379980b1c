"""Declarative base with a naming convention, so that migrations name constraints the same way on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


#: Primary and foreign key ids: 64-bit, but SQLite's INTEGER PRIMARY KEY (its rowid alias).
ID = BigInteger().with_variant(Integer, "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and returned as aware UTC; naive input is refused.

    SQLite has no time zone type, so the store keeps UTC everywhere and converts at the edges.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a time zone first")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


#: Names of tables and indexes that migrations make but no model declares: a full-text index's
#: virtual table and the tables it keeps its index in, indexes with an operator class only one
#: database has. Comparisons of the schema with the models (Alembic's autogenerate, the migration
#: test) leave them alone instead of proposing to drop them.
UNMODELLED: set[str] = set()


def not_modelled(*names: str) -> None:
    """Declare tables or indexes that a migration makes outside the models (see
    :data:`UNMODELLED`)."""
    UNMODELLED.update(names)


def modelled(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's ``include_name`` hook: compare only what the models may declare."""
    return not (type_ in ("table", "index") and name in UNMODELLED)
