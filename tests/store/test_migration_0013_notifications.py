"""Migration 0013 adds the notifications and their e-mail preferences to a store with users,
tickets and messages (every row kept), takes rows of its own, and goes down again leaving the
rest as it was."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa

from kehu.store.db import Database
from store_support import DIALECTS, downgrade, insert_row, store_at

NOW = datetime(2026, 12, 4, 2, 0)
_insert = partial(insert_row, filled_at=NOW)


@pytest.fixture(params=DIALECTS)
def store_before(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with store_at(request.param, tmp_path, "0012") as database:
        yield database


def test_notifications_come_and_go_with_the_rest_kept(store_before: Database) -> None:
    database = store_before
    with database.engine.begin() as connection:
        _insert(connection, "users", id=7, email="ana@example.com", display_name="Ana")
        _insert(connection, "customers", id=3, external_id="C-3", kind="person")
        _insert(connection, "tickets", id=12, customer_id=3, subject="Parcel", status="new")
        _insert(connection, "outbox_messages", id=4, recipient="ana@example.com", purpose="reply")

    database.upgrade("0013")
    with database.engine.begin() as connection:
        _insert(
            connection,
            "notifications",
            id=1,
            recipient_id=7,
            kind="desk.mentioned",
            regarding_type="ticket",
            regarding_id=12,
            title="Bo mentioned you on ticket #12: Parcel",
            read_at=None,
        )
        _insert(connection, "notification_preferences", user_id=7, email=False)
    with database.engine.connect() as connection:
        row = connection.execute(
            sa.text("SELECT recipient_id, kind, regarding_id, title, read_at FROM notifications")
        ).one()
        assert tuple(row) == (
            7,
            "desk.mentioned",
            12,
            "Bo mentioned you on ticket #12: Parcel",
            None,
        )
        assert connection.execute(
            sa.text("SELECT user_id, email FROM notification_preferences")
        ).one() == (7, False)
        indexes = {i["name"] for i in sa.inspect(connection).get_indexes("notifications")}
        assert {"ix_notifications_recipient_unread", "ix_notifications_regarding"} <= indexes
    # a notification needs a user to go to
    with pytest.raises(sa.exc.IntegrityError), database.engine.begin() as connection:
        if database.dialect == "sqlite":
            connection.execute(sa.text("PRAGMA foreign_keys = ON"))
        _insert(connection, "notifications", recipient_id=999, kind="x.y", title="t")

    downgrade(database, "0012")
    with database.engine.connect() as connection:
        tables = set(sa.inspect(connection).get_table_names())
        assert {"notifications", "notification_preferences"}.isdisjoint(tables)
        assert connection.execute(sa.text("SELECT id, email FROM users")).all() == [
            (7, "ana@example.com")
        ]
        assert connection.execute(sa.text("SELECT id, subject FROM tickets")).all() == [
            (12, "Parcel")
        ]
        assert connection.execute(sa.text("SELECT id FROM outbox_messages")).all() == [(4,)]
    database.upgrade("0013")  # and up again
