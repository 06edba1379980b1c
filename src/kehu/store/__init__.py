"""The operational store: SQLAlchemy 2 models, sessions and Alembic migrations.

SQLite file by default (WAL journal), PostgreSQL (psycopg 3) in production. Timestamps are UTC;
money is integer minor units. The declarative base is :class:`kehu.store.base.Base`, the
connection :class:`kehu.store.db.Database`; the package itself imports nothing, so that
:mod:`kehu.store.urls` (used by every front door's error messages) does not load SQLAlchemy.
"""
