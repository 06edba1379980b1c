"""Import into the store: idempotent, all-or-nothing, errors that name file, row and column."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
from sqlalchemy import func, select

from kehu.customers.tables import Customer
from kehu.errors import DuplicateIdError, InputError
from kehu.store.db import Database
from kehu.value.importing import _as_utc, _utc, import_transactions
from kehu.value.tables import ImportStaging, Transaction
from kehu.warehouse import ColumnMap, read_csv

COLUMNS = ColumnMap(customer="customer", date="date", amount="amount")
WITH_IDS = ColumnMap(customer="customer", date="date", amount="amount", id="order")


def _write(path: Path, rows: list[str], header: str = "customer,date,amount") -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _import(database: Database, path: Path, columns: ColumnMap = COLUMNS) -> tuple[int, int]:
    transactions = read_csv(path, columns, timezone="Asia/Shanghai", minor_units=2)
    result = import_transactions(
        database,
        transactions.table,
        source=str(path),
        fingerprint="test",
        currency="CNY",
        timezone="Asia/Shanghai",
        locator=transactions.locator,
    )
    return result.rows_read, result.rows_added


def _counts(database: Database) -> tuple[int, int]:
    with database.session() as session:
        customers = session.scalar(select(func.count()).select_from(Customer))
        transactions = session.scalar(select(func.count()).select_from(Transaction))
    return int(customers or 0), int(transactions or 0)


def test_reimport_of_same_and_overlapping_file_adds_nothing_new(
    database: Database, tmp_path: Path
) -> None:
    first = _write(
        tmp_path / "a.csv",
        ["c1,2024-01-01,10.00", "c1,2024-01-01,10.00", "c2,2024-01-03,5.50"],
    )
    assert _import(database, first) == (3, 3)  # two identical purchases are both kept
    assert _import(database, first) == (3, 0)
    overlapping = _write(
        tmp_path / "b.csv",
        ["c1,2024-01-01,10.00", "c1,2024-01-01,10.00", "c1,2024-01-01,10.00", "c3,2024-02-01,1"],
    )
    # the third identical purchase and c3's are new
    assert _import(database, overlapping) == (4, 2)
    assert _counts(database) == (3, 5)


def test_ids_make_reimport_idempotent_and_money_is_minor_units(
    database: Database, tmp_path: Path
) -> None:
    path = _write(
        tmp_path / "ids.csv",
        ["c1,2024-01-01 23:30,10.25,o1", "c1,2024-01-02,-3.10,o2"],
        header="customer,date,amount,order",
    )
    assert _import(database, path, WITH_IDS) == (2, 2)
    assert _import(database, path, WITH_IDS) == (2, 0)
    with database.session() as session:
        stored = session.execute(
            select(
                Transaction.external_id, Transaction.amount_minor, Transaction.occurred_at
            ).order_by(Transaction.external_id)
        ).all()
    assert [(r[0], r[1]) for r in stored] == [("o1", 1025), ("o2", -310)]
    # business-local 23:30 in Shanghai is 15:30 UTC in the store
    assert stored[0][2].hour == 15 and stored[0][2].utcoffset().total_seconds() == 0


def test_stored_id_with_other_content_is_refused_and_store_unchanged(
    database: Database, tmp_path: Path
) -> None:
    header = "customer,date,amount,order"
    _import(database, _write(tmp_path / "a.csv", ["c1,2024-01-01,10,o1"], header), WITH_IDS)
    changed = _write(tmp_path / "b.csv", ["c9,2024-01-05,1,o0", "c1,2024-01-01,11,o1"], header)
    with pytest.raises(DuplicateIdError) as error:
        _import(database, changed, WITH_IDS)
    assert "line 3" in str(error.value) and "'o1'" in str(error.value)  # header = line 1
    assert _counts(database) == (1, 1)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(ImportStaging)) == 0


def test_bad_last_row_leaves_store_unchanged(database: Database, tmp_path: Path) -> None:
    _import(database, _write(tmp_path / "good.csv", ["c1,2024-01-01,10"]))
    rows = [f"c{i},2024-01-{1 + i % 28:02d},{i}.5" for i in range(2000)] + ["c5,2024-13-45,1"]
    with pytest.raises(InputError) as error:
        _import(database, _write(tmp_path / "bad.csv", rows))
    message = str(error.value)
    assert "bad.csv" in message and "line 2002" in message and "'date'" in message
    assert "2024-13-45" in message
    assert _counts(database) == (1, 1)


@pytest.mark.parametrize(
    "zone", ["UTC", "Asia/Shanghai", "America/New_York", "Australia/Lord_Howe", "Pacific/Apia"]
)
def test_times_are_converted_to_utc_in_arrow_as_python_does(zone: str) -> None:
    """Every 7 minutes over 2011-2012 (clock changes, Apia's skipped day): the staged UTC time
    is Python's reading (``fold=0``) of the wall-clock time, skipped and repeated times included."""
    start = datetime(2011, 1, 1)
    wall = [start + timedelta(minutes=7 * i) for i in range(2 * 366 * 24 * 60 // 7)]
    tz = ZoneInfo(zone)
    converted = _utc(pa.array(wall, pa.timestamp("us")), tz)
    expected = [_as_utc(value, tz) for value in wall]
    assert converted == expected
    assert all(value.utcoffset() == timedelta(0) for value in converted)


def test_reimport_after_a_merge_adds_nothing_and_new_rows_go_to_the_survivor(
    database: Database, tmp_path: Path
) -> None:
    from kehu.core.auth import SYSTEM
    from kehu.customers.merge import merge_customers

    header = "customer,date,amount,order"
    first = _write(tmp_path / "a.csv", ["c1,2024-01-01,10,o1", "c2,2024-01-02,5,o2"], header)
    assert _import(database, first, WITH_IDS) == (2, 2)
    with database.session() as session:
        ids = {row[0]: row[1] for row in session.execute(select(Customer.external_id, Customer.id))}
        merge_customers(session, SYSTEM, ids["c1"], ids["c2"])
    # o2 now belongs to c1 (the survivor): importing the same file again is not a conflict
    assert _import(database, first, WITH_IDS) == (2, 0)
    later = _write(tmp_path / "b.csv", ["c2,2024-02-01,7,o3"], header)
    assert _import(database, later, WITH_IDS) == (1, 1)
    with database.session() as session:
        owner = session.scalar(
            select(Transaction.customer_id).where(Transaction.external_id == "o3")
        )
    assert owner == ids["c1"]
