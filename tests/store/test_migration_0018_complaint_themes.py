"""Migration 0018 adds the complaint themes' tables (themes, theme_texts, theme_tags) to a store
with users, customers and tickets (every row kept), takes rows of its own with their foreign
keys and unique keys, and goes down again leaving the rest as it was."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa

from kehu.store.db import Database
from store_support import DIALECTS, downgrade, insert_row, store_at

NOW = datetime(2026, 12, 6, 2, 0)
_insert = partial(insert_row, filled_at=NOW)
TABLES = {"themes", "theme_texts", "theme_tags"}


@pytest.fixture(params=DIALECTS)
def store_before(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with store_at(request.param, tmp_path, "0017") as database:
        yield database


def test_the_theme_tables_come_and_go_with_the_rest_kept(store_before: Database) -> None:
    database = store_before
    with database.engine.begin() as connection:
        _insert(connection, "users", id=7, email="ana@example.com", display_name="Ana")
        _insert(connection, "customers", id=3, external_id="C-3", kind="person")
        _insert(connection, "tickets", id=12, customer_id=3, subject="Parcel", status="new")

    database.upgrade("0018")
    with database.engine.begin() as connection:
        _insert(connection, "themes", id=1, key="delivery", name_en="Delivery", name_zh="物流",
                seed_words=["快递", "parcel"], active=True)  # fmt: skip
        _insert(connection, "theme_texts", id=4, target_kind="ticket", target_id=12,
                customer_id=3, ticket_id=12, text="Parcel late", written_at=NOW,
                checked_by=7, checked_at=NOW)  # fmt: skip
        _insert(connection, "theme_tags", text_id=4, theme_id=1, score=None, source="agent",
                tagged_by=7)  # fmt: skip
    with database.engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT t.target_id, t.checked_by, h.key, g.source FROM theme_tags g "
                "JOIN theme_texts t ON t.id = g.text_id JOIN themes h ON h.id = g.theme_id"
            )
        ).all()
        assert [tuple(row) for row in rows] == [(12, 7, "delivery", "agent")]
        indexes = {i["name"] for i in sa.inspect(connection).get_indexes("theme_texts")}
        assert {"ix_theme_texts_customer_id", "ix_theme_texts_written_at"} <= indexes
    # one text per target, one tag per (text, theme), one theme per key
    for table, row in (
        ("theme_texts", {"target_kind": "ticket", "target_id": 12, "text": "x", "written_at": NOW}),
        ("theme_tags", {"text_id": 4, "theme_id": 1, "source": "model"}),
        ("themes", {"key": "delivery", "name_en": "D", "name_zh": "D", "seed_words": ["d"]}),
    ):
        with pytest.raises(sa.exc.IntegrityError), database.engine.begin() as connection:
            _insert(connection, table, **row)
    # a tag needs its theme
    with pytest.raises(sa.exc.IntegrityError), database.engine.begin() as connection:
        if database.dialect == "sqlite":
            connection.execute(sa.text("PRAGMA foreign_keys = ON"))
        _insert(connection, "theme_tags", text_id=4, theme_id=99, source="model")

    downgrade(database, "0017")
    with database.engine.connect() as connection:
        assert TABLES.isdisjoint(sa.inspect(connection).get_table_names())
        assert connection.execute(sa.text("SELECT id, subject FROM tickets")).all() == [
            (12, "Parcel")
        ]
        assert connection.execute(sa.text("SELECT id FROM customers")).all() == [(3,)]
    database.upgrade("0018")  # and up again
