"""The operational store: SQLAlchemy 2 models, sessions and Alembic migrations.

SQLite file by default (WAL journal), PostgreSQL (psycopg 3) in production. Timestamps are UTC;
money is integer minor units.
"""

from kehu.store.base import Base
from kehu.store.db import Database

__all__ = ["Base", "Database"]
