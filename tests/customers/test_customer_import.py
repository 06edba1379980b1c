"""Customer CSV import: all or nothing, errors naming file/row/column/value, idempotent."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from customer_helpers import AGENT, READER
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kehu.customers.importing import import_customers_csv
from kehu.customers.search import search_customers
from kehu.customers.service import get_customer
from kehu.customers.tables import Customer, CustomerEvent
from kehu.errors import ColumnsError, EncodingError, InputError, PermissionDeniedError

GOOD = """external_id,kind,name,family_name,given_name,email,phone,tags,organisation,role
P1,person,,张,伟,zhang.wei@example.com;zw@work.cn,+86 138-0013-8000,VIP;华东,O1,采购经理
O1,organisation,上海浦东发展有限公司,,,,021-61234567,key account,,
P2,,Ada Lovelace,,,ada@example.com,,,,
"""


def _write(tmp_path: Path, text: str, name: str = "customers.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Customer)) or 0


def test_import_creates_people_and_organisations(session: Session, tmp_path: Path) -> None:
    summary = import_customers_csv(session, AGENT, _write(tmp_path, GOOD))
    assert (summary.rows, summary.created, summary.updated, summary.unchanged) == (3, 3, 0, 0)
    page = search_customers(session, AGENT, "1380013")
    assert [c.name for c in page.items] == ["张伟"]
    detail = get_customer(session, AGENT, page.items[0].id)
    assert detail.tags == ["VIP", "华东"]
    assert sorted(c.value for c in detail.contacts if c.type == "email") == [
        "zhang.wei@example.com",
        "zw@work.cn",
    ]
    assert [(m.organisation_name, m.role) for m in detail.memberships] == [
        ("上海浦东发展有限公司", "采购经理")
    ]


def test_import_is_idempotent_and_updates(session: Session, tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    import_customers_csv(session, AGENT, path)
    events = session.scalar(select(func.count()).select_from(CustomerEvent))
    again = import_customers_csv(session, AGENT, path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert session.scalar(select(func.count()).select_from(CustomerEvent)) == events
    changed = _write(
        tmp_path,
        "external_id,name,phone\nP2,Ada King,+44 20 7946 0000\n",
        "update.csv",
    )
    summary = import_customers_csv(session, AGENT, changed)
    assert (summary.created, summary.updated) == (0, 1)
    ada = search_customers(session, AGENT, "ada").items[0]
    assert ada.name == "Ada King"
    assert ada.version == 2
    event = session.scalars(select(CustomerEvent).where(CustomerEvent.kind == "imported")).one()
    assert event.data["before"] == {"name": "Ada Lovelace"}


@pytest.mark.parametrize(
    ("text", "line", "column", "value"),
    [
        ("external_id,name,email\nA,Ann,a@x.cn\nB,Bob,not-an-email\n", 3, "email", "not-an-email"),
        ("external_id,name,kind\nA,Ann,person\nB,Bob,robot\n", 3, "kind", "robot"),
        ("external_id,name\nA,Ann\nA,Ann again\n", 3, "external_id", "A"),
        ("external_id,name\nA,Ann\n,Nobody\n", 3, "external_id", ""),
        ("external_id,name,organisation\nA,Ann,NOPE\n", 2, "organisation", "NOPE"),
        ("external_id,name,owner_user_id\nA,Ann,x\n", 2, "owner_user_id", "x"),
        ("external_id,email\nNEW,a@x.cn\n", 2, "name", ""),
        # a quoted cell over two lines and a blank line: B starts on line 5
        ('external_id,name,email\nA,"Ann\nLovelace",a@x.cn\n\nB,Bob,bad\n', 5, "email", "bad"),
    ],
)
def test_errors_name_file_row_column_value_and_nothing_is_written(
    session: Session, tmp_path: Path, text: str, line: int, column: str, value: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as error:
        import_customers_csv(session, AGENT, path)
    assert (error.value.file, error.value.line, error.value.column) == (str(path), line, column)
    assert error.value.value == value
    assert str(path) in str(error.value)
    assert _count(session) == 0


def test_columns_encoding_and_permission(session: Session, tmp_path: Path) -> None:
    with pytest.raises(ColumnsError, match="unknown column"):
        import_customers_csv(session, AGENT, _write(tmp_path, "external_id,shoe_size\nA,42\n"))
    with pytest.raises(ColumnsError, match="no external_id"):
        import_customers_csv(session, AGENT, _write(tmp_path, "name\nA\n"))
    gbk = io.BytesIO("external_id,name\nA,张伟\n".encode("gb18030"))
    with pytest.raises(EncodingError, match="UTF-8"):
        import_customers_csv(session, AGENT, gbk, source="gbk.csv")
    with pytest.raises(PermissionDeniedError):
        import_customers_csv(session, READER, _write(tmp_path, GOOD))
    summary = import_customers_csv(
        session, AGENT, io.StringIO("\ufeffexternal_id,name\nA,Ann\n"), source="upload.csv"
    )
    assert summary.created == 1
