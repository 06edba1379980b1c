"""Engine connections: DuckDB in memory and in a file; clear errors for the others."""

from __future__ import annotations

import sys
from pathlib import Path

import ibis
import pyarrow as pa
import pytest

from kehu.errors import ConfigurationError
from kehu.warehouse import (
    ColumnMap,
    connect,
    customer_summary,
    from_arrow,
    scalar,
    to_arrow,
    to_arrow_batches,
    to_parquet,
)
from kehu.warehouse._compat import quiet


def test_duckdb_in_memory_runs_a_summary() -> None:
    con = connect()
    assert con.name == "duckdb"
    tx = from_arrow(
        pa.table({"c": ["a", "a"], "d": ["2024-01-01", "2024-01-03"], "x": [1.0, 2.0]}),
        ColumnMap("c", "d", "x"),
        con=con,
        timezone="UTC",
    )
    summary = customer_summary(tx, "2024-01-31", con=con)
    assert to_arrow(summary.table, con).column("frequency").to_pylist() == [1]
    con.disconnect()


def test_duckdb_file_and_parquet_export(tmp_path: Path) -> None:
    database = tmp_path / "warehouse.duckdb"
    con = connect("duckdb", database=database, threads=1, memory_limit="1GB")
    with quiet():  # Ibis 12's own calls into DuckDB 2.0 warn about deprecations
        table = con.create_table("t", pa.table({"x": [1, 2, 3]}))
    to_parquet(table.filter(ibis._.x > 1), tmp_path / "out.parquet", con)
    con.disconnect()
    assert database.exists()
    again = connect("duckdb", database=str(database))
    with quiet():
        stored, exported = again.table("t"), again.read_parquet(tmp_path / "out.parquet")
    assert to_arrow(stored.count(), again).column(0)[0].as_py() == 3
    assert to_arrow(exported, again).num_rows == 2
    again.disconnect()


def test_bad_duckdb_setting() -> None:
    with pytest.raises(ConfigurationError, match="DuckDB"):
        connect("duckdb", memory_limit="lots")


def test_unknown_engine() -> None:
    with pytest.raises(ConfigurationError, match="duckdb, postgres, pyspark"):
        connect("oracle")


def test_postgres_needs_a_url() -> None:
    with pytest.raises(ConfigurationError, match="url="):
        connect("postgres")
    with pytest.raises(ConfigurationError, match="not a PostgreSQL URL"):
        connect("postgres", url="mysql://localhost/db")


def test_postgres_without_psycopg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(ConfigurationError, match=r"kehu\[postgres\]"):
        connect("postgres", url="postgresql+psycopg://u:p@localhost/db")


def test_pyspark_without_pyspark(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(ConfigurationError, match=r"kehu\[spark\]"):
        connect("pyspark")


def test_streaming_and_scalar_edges() -> None:
    con = connect()
    table = ibis.memtable(pa.table({"x": list(range(10))}))
    reader = to_arrow_batches(table, con, chunk_size=4)
    assert sum(batch.num_rows for batch in reader) == 10
    assert scalar(table.x.sum(), con) == 45
    con.disconnect()
