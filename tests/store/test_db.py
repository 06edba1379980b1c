"""The store's engine: connecting to PostgreSQL gives up after a timeout (10 s unless the URL
says otherwise), so a server that does not answer is an error within seconds, not a command
that hangs; the store's errors name its URL with the password masked."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from kehu.errors import ConfigurationError, StoreError
from kehu.store import db
from kehu.store.db import Database


class Stop(Exception):
    """Raised instead of connecting, once the connection's parameters are seen."""


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port whose connections are accepted (by the kernel) and never answered, as a hung
    PostgreSQL server or a stalled network path behaves."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield int(listener.getsockname()[1])
    listener.close()


def connect_parameters(url: str, **engine_options: Any) -> dict[str, Any]:
    engine = db.make_engine(url, **engine_options)
    seen: dict[str, Any] = {}

    @event.listens_for(engine, "do_connect")
    def capture(_dialect: Any, _record: Any, _args: Any, parameters: dict[str, Any]) -> None:
        seen.update(parameters)
        raise Stop

    with pytest.raises(Stop):
        engine.connect()
    engine.dispose()
    return seen


def test_postgres_connections_have_a_timeout_by_default() -> None:
    seen = connect_parameters("postgresql://kehu:pw@db.example/kehu")
    assert seen["connect_timeout"] == db.POSTGRES_CONNECT_TIMEOUT_SECONDS == 10


def test_the_url_and_the_caller_may_choose_another_timeout() -> None:
    assert (
        connect_parameters("postgresql://kehu@db.example/kehu?connect_timeout=3")["connect_timeout"]
        == "3"
    )
    chosen = connect_parameters(
        "postgresql+psycopg://kehu@db.example/kehu", connect_args={"connect_timeout": 2}
    )
    assert chosen["connect_timeout"] == 2


def test_sqlite_engines_are_left_alone(tmp_path: Path) -> None:
    seen = connect_parameters(f"sqlite:///{tmp_path / 'kehu.db'}")
    assert "connect_timeout" not in seen


def test_a_silent_server_is_given_up_on(
    silent_server: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "POSTGRES_CONNECT_TIMEOUT_SECONDS", 1)
    engine = db.make_engine(f"postgresql://kehu@127.0.0.1:{silent_server}/kehu")
    took: list[float] = []

    def connect() -> None:
        started = time.monotonic()
        with pytest.raises(OperationalError, match="timeout"):
            engine.connect()
        took.append(time.monotonic() - started)

    # in a thread, so that a connection without a timeout fails this test rather than hangs it
    attempt = threading.Thread(target=connect, daemon=True)
    attempt.start()
    attempt.join(timeout=30)
    engine.dispose()
    assert took and took[0] < 10, "connecting did not give up"


@pytest.mark.parametrize(
    "url",
    [
        "nosuchdialect://kehu:s3cret@db.example/kehu",
        "postgresql+nosuchdriver://kehu:s3cret@db.example/kehu",
        "postgresql://kehu:s3cret@db.example:port/kehu",
    ],
)
def test_an_unusable_url_is_named_with_its_password_masked(url: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        db.make_engine(url)
    assert "kehu:***@db.example" in str(refused.value)
    assert "s3cret" not in str(refused.value)


def test_a_store_without_a_schema_is_named_with_its_password_masked(tmp_path: Path) -> None:
    database = db.Database(f"sqlite:///{tmp_path / 'empty.db'}")
    # SQLite URLs carry no password: name the store as a PostgreSQL one would be named
    database.url = "postgresql://kehu:s3cret@db.example/kehu"
    with pytest.raises(StoreError) as refused:
        database.check_schema()
    database.dispose()
    assert "postgresql://kehu:***@db.example/kehu has no kehu schema" in str(refused.value)
    assert "s3cret" not in str(refused.value)


def test_a_nan_in_a_json_column_is_stored_as_null_on_every_engine(database: Database) -> None:
    """PostgreSQL refuses JSON's non-standard NaN token (a value run's diagnostics held one:
    the effective number of draws of intervals made without resampling); the store writes
    null for NaN and infinity on SQLite and PostgreSQL alike."""
    assert db.json_without_nan({"a": float("nan"), "b": [1.0, float("inf")], "c": "x"}) == (
        '{"a": null, "b": [1.0, null], "c": "x"}'
    )
    table = sa.Table(
        "json_nan_probe", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("doc", sa.JSON),
    )  # fmt: skip
    table.create(database.engine)
    try:
        with database.engine.begin() as connection:
            connection.execute(table.insert(), {"id": 1, "doc": {"n": float("nan"), "k": 2}})
            stored = connection.execute(sa.select(table.c.doc)).scalar_one()
        assert stored == {"n": None, "k": 2}
    finally:
        table.drop(database.engine)
