"""Every customer has its search keys, whoever inserted it: the use cases, SQLAlchemy inserts
without them (the columns' defaults), plain SQL (the value import) through
``fill_missing_search_keys``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from customer_helpers import AGENT
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from kehu.customers.search import search_customers
from kehu.customers.search_keys import FILL_BATCH_ROWS, fill_missing_search_keys, search_keys
from kehu.customers.tables import Customer
from kehu.store.db import Database
from kehu.value.importing import import_transactions
from kehu.warehouse import ColumnMap, read_csv


def _found(session: Session, query: str) -> list[str]:
    return sorted(c.external_id for c in search_customers(session, AGENT, query).items)


def test_inserts_without_the_keys_get_them_from_names_and_external_id(session: Session) -> None:
    now = datetime.now(UTC)
    session.add(Customer(external_id="ORM-1", name="曾伟"))
    session.execute(
        insert(Customer),
        [
            {"external_id": "CORE-1", "name": "单雄信", "created_at": now, "updated_at": now},
            {"external_id": "CORE-2", "created_at": now, "updated_at": now},
        ],
    )
    session.flush()
    assert _found(session, "zengwei") == ["ORM-1"]
    assert _found(session, "shan xiong") == ["CORE-1"]
    assert _found(session, "core-2") == ["CORE-2"]
    row = session.scalars(select(Customer).where(Customer.external_id == "CORE-1")).one()
    expected = search_keys(names=("单雄信", None, None), external_id="CORE-1", contacts=())
    assert (row.search_text, row.search_pinyin) == expected


def test_rows_inserted_with_plain_sql_are_filled_in(session: Session) -> None:
    count = FILL_BATCH_ROWS + 3  # more than one batch
    session.execute(
        text(
            "INSERT INTO customers (external_id, name, created_at, updated_at) "
            "VALUES (:external_id, :name, :now, :now)"
        ),
        [
            {"external_id": f"X-{i:05d}", "name": "李娜" if i == 7 else None, "now": datetime.now()}
            for i in range(count)
        ],
    )
    assert _found(session, "x-00007") == []  # not searchable without its keys
    first = session.scalar(select(Customer.id).where(Customer.external_id == "X-00000"))
    assert fill_missing_search_keys(session, after_id=first) == count - 1
    assert fill_missing_search_keys(session) == 1  # X-00000, left out above
    assert fill_missing_search_keys(session) == 0
    assert _found(session, "x-00007") == _found(session, "lina") == ["X-00007"]
    versions = set(session.scalars(select(Customer.version)))
    assert versions == {1}  # derived columns: no new version


def test_every_external_id_gets_the_normal_form_of_the_customers_domain(session: Session) -> None:
    # plain ASCII ids are lower-cased in the database, the others go through Python
    ids = [
        "PLAIN-Id_9",
        "with  two spaces ",
        "ＦＵＬＬ－ＷＩＤＴＨ",
        "Ärger",
        "客户-1",
        "tab\there",
        "x",
    ]
    session.execute(
        text(
            "INSERT INTO customers (external_id, created_at, updated_at) "
            "VALUES (:external_id, :now, :now)"
        ),
        [{"external_id": e, "now": datetime.now()} for e in ids],
    )
    assert fill_missing_search_keys(session) == len(ids)
    stored = dict(session.execute(select(Customer.external_id, Customer.search_text)).all())
    for external_id in ids:
        expected = search_keys(names=(), external_id=external_id, contacts=()).text
        assert stored[external_id] == expected, external_id
    assert _found(session, "full-width") == ["ＦＵＬＬ－ＷＩＤＴＨ"]
    assert _found(session, "plain-id_9") == ["PLAIN-Id_9"]


def test_customers_added_by_the_value_import_are_searchable(
    database: Database, tmp_path: Path
) -> None:
    path = tmp_path / "purchases.csv"
    path.write_text("customer,date,amount\nVIP-0042,2024-01-01,10\nvip 0043,2024-01-02,5\n")
    columns = ColumnMap(customer="customer", date="date", amount="amount")
    transactions = read_csv(path, columns, timezone="Asia/Shanghai", minor_units=2)
    import_transactions(
        database,
        transactions.table,
        source=str(path),
        fingerprint="test",
        currency="CNY",
        timezone="Asia/Shanghai",
    )
    with database.session() as session:
        assert _found(session, "vip-0042") == ["VIP-0042"]
        assert _found(session, "VIP 0043") == ["vip 0043"]  # two words, both in the id
        assert session.scalar(select(Customer.search_text).where(Customer.id > 0).limit(1))
