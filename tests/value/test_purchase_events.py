"""The import publishes PurchaseRecorded once per customer whose purchases it added, in its own
transaction, and creates its new customers through the customers domain."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kehu.core.events import PurchaseRecorded, subscribe, unsubscribe
from kehu.customers.provisioning import customer_ids_by_external_id
from kehu.customers.tables import CustomerEvent
from kehu.store.db import Database
from kehu.value.importing import import_transactions
from kehu.value.tables import ImportBatch
from kehu.warehouse import ColumnMap, read_csv

COLUMNS = ColumnMap(customer="customer", date="date", amount="amount")


def _import(database: Database, path: Path, rows: list[str]) -> int:
    path.write_text("\n".join(["customer,date,amount", *rows]) + "\n", encoding="utf-8")
    transactions = read_csv(path, COLUMNS, timezone="Asia/Shanghai", minor_units=2)
    return import_transactions(
        database,
        transactions.table,
        source=str(path),
        fingerprint="test",
        currency="CNY",
        timezone="Asia/Shanghai",
    ).import_id


@pytest.fixture
def seen() -> Iterator[list[tuple[PurchaseRecorded, bool]]]:
    """The PurchaseRecorded events published while the test runs, each with whether its import
    batch was visible in the handler's session (the import's own transaction)."""
    events: list[tuple[PurchaseRecorded, bool]] = []

    def handler(session: Session, event: PurchaseRecorded) -> None:
        visible = session.get(ImportBatch, event.import_id) is not None
        events.append((event, visible))

    subscribe(PurchaseRecorded, handler)
    try:
        yield events
    finally:
        unsubscribe(PurchaseRecorded, handler)


def test_one_event_per_customer_with_new_purchases(
    database: Database, tmp_path: Path, seen: list[tuple[PurchaseRecorded, bool]]
) -> None:
    first = _import(
        database,
        tmp_path / "a.csv",
        ["c1,2024-01-01 10:00,10.00", "c1,2024-01-05 09:30,3.00", "c2,2024-01-03,5.50"],
    )
    with database.session() as session:
        ids = customer_ids_by_external_id(session, ["c1", "c2"])
    assert [(e.customer_id, e.import_id, e.count) for e, _ in seen] == [
        (ids["c1"], first, 2),
        (ids["c2"], first, 1),
    ]
    c1 = seen[0][0]
    # the newest purchase, 09:30 in Shanghai, in UTC
    assert c1.latest == datetime(2024, 1, 5, 1, 30, tzinfo=UTC)
    assert c1.at.tzinfo is not None
    assert all(visible for _, visible in seen)  # published inside the import's transaction

    seen.clear()
    # c1's two purchases are stored already: only c3's new one is an event
    second = _import(
        database,
        tmp_path / "b.csv",
        ["c1,2024-01-01 10:00,10.00", "c1,2024-01-05 09:30,3.00", "c3,2024-02-01,1"],
    )
    with database.session() as session:
        c3 = customer_ids_by_external_id(session, ["c3"])["c3"]
        # the new customer was created through the customers domain, with its event
        kinds = session.scalars(
            select(CustomerEvent.kind).where(CustomerEvent.customer_id == c3)
        ).all()
    assert kinds == ["created"]
    assert [(e.customer_id, e.import_id, e.count) for e, _ in seen] == [(c3, second, 1)]

    seen.clear()
    _import(database, tmp_path / "c.csv", ["c1,2024-01-01 10:00,10.00"])
    assert seen == []  # nothing new, nothing published


def test_a_handler_that_fails_undoes_the_import(database: Database, tmp_path: Path) -> None:
    def refuse(_session: Session, _event: PurchaseRecorded) -> None:
        raise RuntimeError("subscriber failed")

    subscribe(PurchaseRecorded, refuse)
    try:
        with pytest.raises(RuntimeError, match="subscriber failed"):
            _import(database, tmp_path / "a.csv", ["c1,2024-01-01,10.00"])
    finally:
        unsubscribe(PurchaseRecorded, refuse)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(ImportBatch)) == 0
        assert customer_ids_by_external_id(session) == {}
