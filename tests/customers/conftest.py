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


@pytest.fixture
def database(database: Database) -> Database:
    """The shared store fixture; until the lead's migration adds the customer columns to the
    ``customers`` table made by migration 0001, the tables are rebuilt from the models."""
    columns = {c["name"] for c in inspect(database.engine).get_columns("customers")}
    if "version" not in columns:
        with database.engine.begin() as connection:
            Base.metadata.drop_all(connection)
            Base.metadata.create_all(connection)
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
