"""What a customer search matches, kept on each customer row: ``search_text`` (names, external
id, contacts) and ``search_pinyin`` (pinyin keys of the names).

The customers domain writes both on every change (:func:`kehu.customers.service.
refresh_search_text`), and a row inserted through SQLAlchemy without them gets them from its
names and external id (the columns' defaults). :func:`fill_missing_search_keys` is for rows that
other code inserted with plain SQL, such as the value import's new customers: without it they
would not be found at all, the search reading only the indexed columns.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from typing import NamedTuple, cast

from sqlalchemy import ColumnElement, Table, bindparam, func, select, text, update
from sqlalchemy.orm import Session

from kehu.customers.normalize import build_search_text
from kehu.customers.pinyin import pinyin_keys
from kehu.customers.tables import SEARCH_INDEX_TABLE, Customer

#: rows read and written at a time by :func:`fill_missing_search_keys`
FILL_BATCH_ROWS = 5_000


class SearchKeys(NamedTuple):
    text: str
    pinyin: str | None


def search_keys(
    *,
    names: Iterable[str | None],
    external_id: str | None,
    contacts: Iterable[tuple[str, str]],
) -> SearchKeys:
    """The ``search_text`` and ``search_pinyin`` of a customer."""
    names = tuple(names)
    return SearchKeys(
        build_search_text(names=names, external_id=external_id, contacts=contacts),
        pinyin_keys(names),
    )


def fill_missing_search_keys(session: Session, *, after_id: int = 0) -> int:
    """Write the search keys of every customer with ``id > after_id`` that has no
    ``search_text`` (inserted with plain SQL, so without contacts either), in batches; returns how
    many. Derived columns: the customer's ``version`` stays."""
    table = cast(Table, Customer.__table__)
    filled = _fill_plain_ids(session, table, after_id)
    statement = (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values(search_text=bindparam("text_value"), search_pinyin=bindparam("pinyin_value"))
    )
    while True:
        rows = session.execute(
            select(
                Customer.id,
                Customer.external_id,
                Customer.name,
                Customer.family_name,
                Customer.given_name,
            )
            .where(Customer.id > after_id, Customer.search_text.is_(None))
            .order_by(Customer.id)
            .limit(FILL_BATCH_ROWS)
        ).all()
        if not rows:
            return filled
        values = []
        for row_id, external_id, *names in rows:
            keys = search_keys(names=names, external_id=external_id, contacts=())
            values.append({"row_id": row_id, "text_value": keys.text, "pinyin_value": keys.pinyin})
        session.execute(statement, values)
        filled += len(rows)
        after_id = rows[-1][0]


def _fill_plain_ids(session: Session, table: Table, after_id: int) -> int:
    """The rows that are an external id alone in printable ASCII without spaces (what an import
    of a transaction log adds), in one UPDATE: their normal form is their lower case, and no
    pinyin. A row at a time through Python took 4 s for 150,000 new customers of an import."""
    external_id = table.c.external_id
    plain: ColumnElement[bool]
    lowered: ColumnElement[str]
    if session.get_bind().dialect.name == "sqlite":
        # SQLite's lower() folds ASCII only, which is all these ids have
        plain, lowered = external_id.op("NOT GLOB")("*[^!-~]*"), func.lower(external_id)
    else:
        # translate() is the same in every locale (lower() follows the database's)
        plain = external_id.regexp_match("^[!-~]*$")
        lowered = func.translate(external_id, string.ascii_uppercase, string.ascii_lowercase)
    result = session.execute(
        update(table)
        .where(
            table.c.id > after_id,
            table.c.search_text.is_(None),
            table.c.name.is_(None),
            table.c.family_name.is_(None),
            table.c.given_name.is_(None),
            plain,
        )
        .values(search_text=lowered)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def purge_replaced_keys(session: Session) -> None:
    """Rewrite SQLite's full-text index without the terms of keys that were replaced: FTS5 keeps
    a changed row's old terms in its older segments until they happen to be merged, so an erased
    name would stay readable there in fragments (0.3 s on 23,570 customers). Erasure calls it.
    PostgreSQL's index entries of old row versions go with the rows, at VACUUM."""
    if session.get_bind().dialect.name == "sqlite":
        table = SEARCH_INDEX_TABLE
        session.execute(text(f"INSERT INTO {table} ({table}) VALUES ('optimize')"))
