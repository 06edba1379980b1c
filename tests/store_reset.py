"""Emptying a PostgreSQL test database: every table, the ones no model declares any more too
(tables a later migration renamed or dropped would otherwise survive a ``metadata.drop_all`` and
break the next upgrade from an early revision). Extensions stay."""

from __future__ import annotations

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection


def drop_every_table(connection: Connection) -> None:
    tables = inspect(connection).get_table_names()
    if tables:
        names = ", ".join(f'"{name}"' for name in tables)
        connection.execute(text(f"DROP TABLE {names} CASCADE"))
