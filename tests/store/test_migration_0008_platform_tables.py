"""Migration 0008 on a store with outbox messages, status links and rate-limit hits: every row
survives the move into the platform's tables (and the downgrade brings them back)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa

from kehu.store.db import Database
from store_support import DIALECTS, downgrade, insert_row, store_at

NOW = datetime(2026, 11, 30, 9, 0)
_insert = partial(insert_row, filled_at=NOW)


@pytest.fixture(params=DIALECTS)
def store_at_0007(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with store_at(request.param, tmp_path, "0007") as database:
        yield database


def test_messages_links_and_hits_move_into_the_platform_tables(store_at_0007: Database) -> None:
    database = store_at_0007
    with database.engine.begin() as connection:
        _insert(connection, "customers", id=7, external_id="C-7", kind="person")
        _insert(connection, "tickets", id=12, customer_id=7, subject="Parcel", status="open")
        _insert(
            connection,
            "outbox_messages",
            id=3,
            customer_id=7,
            ticket_id=12,
            purpose="acknowledgement",
            subject="[#12] received",
            body="b",
        )
        _insert(connection, "outbox_messages", id=4, recipient="team@example.com", purpose="x")
        _insert(
            connection,
            "ticket_status_links",
            id=5,
            ticket_id=12,
            digest="d" * 64,
            created_at=NOW,
            expires_at=datetime(2027, 2, 28),
            revoked_at=None,
        )
        _insert(connection, "public_rate_limits", id=9, action="lookup", bucket="address:1", at=NOW)

    database.upgrade()
    with database.engine.connect() as connection:
        messages = connection.execute(
            sa.text(
                "SELECT id, customer_id, regarding_type, regarding_id, consent "
                "FROM outbox_messages ORDER BY id"
            )
        ).all()
        assert [tuple(m) for m in messages] == [
            (3, 7, "ticket", 12, "service"),
            (4, None, None, None, "service"),
        ]
        link = connection.execute(
            sa.text(
                "SELECT id, purpose, subject_type, subject_id, digest, single_use, used_at "
                "FROM signed_links"
            )
        ).one()
        assert tuple(link) == (5, "ticket_status", "ticket", 12, "d" * 64, False, None)
        hit = connection.execute(sa.text("SELECT id, action, bucket FROM rate_limit_hits")).one()
        assert tuple(hit) == (9, "lookup", "address:1")
        tables = set(sa.inspect(connection).get_table_names())
        assert {"ticket_status_links", "public_rate_limits"}.isdisjoint(tables)
    # new rows get new ids after the copied ones (PostgreSQL's sequences were advanced)
    with database.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO signed_links (purpose, subject_type, subject_id, digest, single_use, "
                "created_at, expires_at) VALUES ('ticket_status', 'ticket', 12, :d, false, :t, :t)"
            ),
            {"d": "e" * 64, "t": NOW},
        )

    downgrade(database, "0007")
    with database.engine.connect() as connection:
        assert connection.execute(
            sa.text("SELECT id, ticket_id FROM outbox_messages ORDER BY id")
        ).all() == [(3, 12), (4, None)]
        assert connection.execute(
            sa.text("SELECT id, ticket_id, digest FROM ticket_status_links ORDER BY id")
        ).all()[0] == (5, 12, "d" * 64)
        assert connection.execute(sa.text("SELECT id FROM public_rate_limits")).all() == [(9,)]
