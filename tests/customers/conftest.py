"""Fixtures of the customers domain: a store with the customer tables, a session, and a quick
way to add people."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from kehu.core.auth.principal import SYSTEM
from kehu.customers.schemas import ContactIn, CustomerCreate
from kehu.customers.service import create_customer
from kehu.store.base import Base
from kehu.store.db import Database
from staff_support import add_staff


@pytest.fixture
def database(database: Database) -> Database:
    """The shared store fixture; until the lead's migration adds the customer columns to the
    ``customers`` table made by migration 0001, the tables are rebuilt from the models."""
    columns = {c["name"] for c in inspect(database.engine).get_columns("customers")}
    if "version" not in columns:
        with database.engine.begin() as connection:
            Base.metadata.drop_all(connection)
            Base.metadata.create_all(connection)
    # the principals of these tests act as users 1-5 and 7: actors are real users
    # (migration 0009's foreign keys to users)
    with database.session() as session:
        add_staff(session, 1, 2, 3, 4, 5, 7)
    return database


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    with database.session() as session:
        yield session


@pytest.fixture
def person(session: Session) -> Callable[..., int]:
    def make(name: str, *contacts: tuple[str, str], **fields: Any) -> int:
        data = CustomerCreate(
            name=name,
            contacts=[ContactIn(type=t, value=v) for t, v in contacts],  # type: ignore[arg-type]
            **fields,
        )
        return create_customer(session, SYSTEM, data).id

    return make
