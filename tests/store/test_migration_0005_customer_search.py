"""Migration 0005 on a store that has customers: the backfill writes what the customers domain
writes (so a change to the keys without a migration that rebuilds them fails here), the index
finds them, and the downgrade takes it all away again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

import kehu.domains  # noqa: F401  (every domain's tables and registrations)
from kehu.core.auth.principal import Principal
from kehu.customers.search import search_customers
from kehu.customers.search_keys import search_keys
from kehu.customers.tables import Customer
from kehu.store.base import Base
from kehu.store.db import Database
from store_support import DIALECTS, downgrade, store_at

ADMIN = Principal.for_user(1, ["admin"], display_name="admin")
#: more than one batch of the backfill
IMPORTED = 5_003


@pytest.fixture(params=DIALECTS)
def store_at_0004(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty store at revision 0004, before the search index."""
    with store_at(request.param, tmp_path, "0004") as database:
        yield database


def _add_customers_as_before(database: Database) -> None:
    """Customers as kehu wrote them before 0005: by the customers domain (with search text) and
    by the value import (an external id only)."""
    now = datetime(2026, 11, 1, 12)
    written = [
        ("C-1", "曾伟", "曾伟\nc-1\nzeng.wei@example.com\n13800138000"),
        ("C-2", "单雄信", "单雄信\nc-2"),
        ("C-3", "Ada King", "ada king\nc-3"),
        ("C-4", "上海明远贸易有限公司", "上海明远贸易有限公司\nc-4"),
    ]
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO customers (external_id, name, search_text, created_at, updated_at) "
                "VALUES (:external_id, :name, :search_text, :now, :now)"
            ),
            [{"external_id": e, "name": n, "search_text": s, "now": now} for e, n, s in written],
        )
        connection.execute(
            text(
                "INSERT INTO customers (external_id, created_at, updated_at) "
                "VALUES (:external_id, :now, :now)"
            ),
            [{"external_id": f"CDNOW-{i:05d}", "now": now} for i in range(IMPORTED)],
        )


def _found(database: Database, query: str) -> list[str]:
    with database.session() as session:
        page = search_customers(session, ADMIN, query, limit=10)
        return sorted(c.external_id for c in page.items)


def test_upgrade_backfills_the_keys_the_domain_writes_and_downgrade_removes_them(
    store_at_0004: Database,
) -> None:
    database = store_at_0004
    _add_customers_as_before(database)
    database.upgrade("0005")
    with database.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT external_id, name, search_text, search_pinyin FROM customers ORDER BY id")
        ).all()
        assert len(rows) == 4 + IMPORTED
        for external_id, name, stored_text, stored_pinyin in rows:
            keys = search_keys(names=(name,), external_id=external_id, contacts=())
            assert stored_pinyin == keys.pinyin, name
            if name is None:
                assert stored_text == keys.text == external_id.lower()
        assert rows[0].search_text.endswith("13800138000")  # written text is kept as it was
        if database.dialect == "sqlite":
            connection.execute(
                text(
                    "INSERT INTO customer_search (customer_search, rank) "
                    "VALUES ('integrity-check', 1)"
                )
            )

    downgrade(database, "0004")
    with database.engine.connect() as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("customers")}
        assert "search_pinyin" not in columns
        tables = set(inspect(connection).get_table_names())
        assert not {t for t in tables if t.startswith("customer_search")}
        if database.dialect == "sqlite":
            triggers = connection.execute(
                text(
                    "SELECT name FROM sqlite_master "
                    "WHERE type = 'trigger' AND name LIKE 'customer_search%'"
                )
            ).all()
            assert triggers == []
        else:
            indexes = connection.execute(
                text(
                    "SELECT indexname FROM pg_indexes "
                    "WHERE schemaname = current_schema() AND indexname LIKE '%trgm'"
                )
            ).all()
            assert indexes == []
        # the filled search text stays: the old search's fallback matched it anyway
        assert (
            connection.execute(
                text("SELECT search_text FROM customers WHERE external_id = 'CDNOW-00042'")
            ).scalar()
            == "cdnow-00042"
        )

    database.upgrade()
    Base.metadata.create_all(database.engine, checkfirst=True)  # as the test stores are made
    assert _found(database, "zeng wei") == _found(database, "zw") == ["C-1"]
    assert _found(database, "shanxiongxin") == _found(database, "dan") == ["C-2"]
    assert _found(database, "mingyuan") == _found(database, "明远贸易") == ["C-4"]
    assert _found(database, "cdnow-00042") == _found(database, "CDNOW-00042") == ["CDNOW-00042"]
    assert _found(database, "13800138000") == ["C-1"]
    with database.session() as session:
        assert (
            session.scalar(select(Customer.search_pinyin).where(Customer.name == "Ada King"))
            is None
        )
