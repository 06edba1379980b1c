"""kehu.core.sorting.sort_by: a ``sort`` parameter against allowed keys, as ORDER BY clauses."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from kehu.core.sorting import sort_by
from kehu.errors import InputError

things = Table(
    "things",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("name", String),
    Column("created_at", DateTime),
)
FIELDS = {"name": things.c.name, "created_at": things.c.created_at}


def order_sql(clauses: list[Any], dialect: Any = None) -> str:
    statement = select(things.c.id).order_by(*clauses)
    compiled = str(statement.compile(dialect=dialect or sqlite.dialect()))
    return compiled.split("ORDER BY ", 1)[1]


def test_keys_in_order_minus_descending_nulls_last_then_the_tiebreak() -> None:
    clauses = sort_by("-created_at, +name", FIELDS, default="name", tiebreak=things.c.id)
    assert order_sql(clauses) == (
        "things.created_at DESC NULLS LAST, things.name ASC NULLS LAST, things.id ASC"
    )
    assert order_sql(clauses, postgresql.dialect()) == order_sql(clauses)


@pytest.mark.parametrize("sort", [None, ""])
def test_no_sort_is_the_default(sort: str | None) -> None:
    assert order_sql(sort_by(sort, FIELDS, default="-name")) == "things.name DESC NULLS LAST"


def test_without_a_tiebreak_only_the_keys() -> None:
    assert len(sort_by("name,created_at", FIELDS, default="name")) == 2


@pytest.mark.parametrize("sort", ["id", "name,-secret", "-", "name,"])
def test_an_unknown_key_is_an_input_error_naming_the_parameter(sort: str) -> None:
    with pytest.raises(InputError) as raised:
        sort_by(sort, FIELDS, default="name")
    assert raised.value.column == "sort"
    assert raised.value.reason.startswith("cannot sort by ")
    assert raised.value.reason.endswith("; sort by one of created_at, name")


def test_the_error_names_the_key_and_the_given_parameter() -> None:
    with pytest.raises(InputError) as raised:
        sort_by("-password_hash", FIELDS, default="name", field="order")
    assert raised.value.column == "order"
    assert raised.value.reason == (
        "cannot sort by 'password_hash'; sort by one of created_at, name"
    )
