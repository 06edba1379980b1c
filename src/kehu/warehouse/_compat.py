"""Small shims between kehu and the installed Ibis / DuckDB / pandas versions.

- :func:`quiet` silences the deprecation warnings that Ibis 12 triggers inside DuckDB 2.0
  (``fetch_arrow_table() is deprecated``) and inside pandas 3 (``future.infer_string``). They are
  warnings about Ibis's own calls, not about kehu's, and the test suite runs with warnings as
  errors.
- :func:`to_arrow` executes an expression to a pyarrow table (the one edge where rows leave the
  engine); it never goes through pandas.
- :func:`bounded_memory` caps DuckDB's memory for the duration of a streaming job (the import)
  and restores the connection's settings after, so that the same connection computes at full
  speed.
- The built-in functions that Ibis has no portable operation for (time zone conversion,
  ``try_strptime``, a plain ``trim``) are declared here as Ibis built-in UDFs.
  ``timezone(zone, timestamptz)`` has the same name and meaning in PostgreSQL.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

_NOISE = (
    r"fetch_(arrow_table|record_batch|arrow_reader)\(\) is deprecated",
    r"The 'future\.infer_string' option is deprecated",
)


def arrow_table(data: object) -> pa.Table | None:
    """``data`` as an Arrow table when it is one or a pandas DataFrame (index dropped), else None.

    pandas is not imported to find out: a caller holding a DataFrame has loaded it already, and
    the file readers, which never see one, must not wait for it (about 0.3 s of a bad file's
    refusal)."""
    if isinstance(data, pa.Table):
        return data
    if "pandas" in sys.modules:
        import pandas as pd

        if isinstance(data, pd.DataFrame):
            return pa.Table.from_pandas(data, preserve_index=False)
    return None


@contextmanager
def quiet() -> Iterator[None]:
    """Ignore the known deprecation warnings raised inside Ibis's own calls (see module doc)."""
    with warnings.catch_warnings():
        for message in _NOISE:
            warnings.filterwarnings("ignore", message=message)
        yield


def backend_of(expr: ir.Expr, con: Any = None) -> Any:
    """The backend that executes ``expr``: ``con`` if given, else the expression's own backend
    (the default in-memory DuckDB for expressions built only from in-memory tables)."""
    if con is not None:
        return con
    with quiet():
        return ibis.get_backend(expr)


def to_arrow(expr: ir.Expr, con: Any = None) -> pa.Table:
    """Execute ``expr`` and return a pyarrow table (a scalar expression gives a one-row table)."""
    backend = backend_of(expr, con)
    if isinstance(expr, ir.Scalar):
        expr = expr.as_table()
    with quiet():
        result = backend.to_pyarrow(expr)
    assert isinstance(result, pa.Table)
    return result


def scalar(expr: ir.Scalar, con: Any = None) -> Any:
    """Execute a scalar expression and return its Python value."""
    return to_arrow(expr, con).column(0)[0].as_py()


def to_parquet(expr: ir.Table, path: str | Path, con: Any = None) -> None:
    """Write the result of ``expr`` to a Parquet file, executed in the engine."""
    backend = backend_of(expr, con)
    with quiet():
        backend.to_parquet(expr, path)


@ibis.udf.scalar.builtin(name="timezone", signature=(("string", "timestamp('UTC')"), "timestamp"))
def tz_local(zone: str, ts: Any) -> Any:  # pragma: no cover - compiled, never called
    """``timezone(zone, ts)``: the wall-clock time in ``zone`` of an absolute instant."""


@ibis.udf.scalar.builtin(name="trim", signature=(("string",), "string"))
def trim_spaces(text: str) -> Any:  # pragma: no cover - compiled, never called
    """``trim(text)``: leading and trailing spaces removed (standard SQL; several times faster
    in DuckDB than Ibis's ``strip()``, which trims a set of white-space characters)."""


@ibis.udf.scalar.builtin(name="try_strptime", signature=(("string", "string"), "timestamp"))
def try_strptime(text: str, fmt: str) -> Any:  # pragma: no cover - compiled, never called
    """``try_strptime(text, format)``: parse with a strftime format; NULL when it does not match."""


def to_arrow_batches(
    expr: ir.Table, con: Any = None, chunk_size: int = 50_000
) -> pa.RecordBatchReader:
    """Execute ``expr`` and stream the result as Arrow record batches.

    Ibis 12's DuckDB ``to_pyarrow_batches`` calls ``fetch_record_batch``, which DuckDB 2.0 no
    longer has; on DuckDB the compiled query is streamed with ``to_arrow_reader`` instead.
    """
    backend = backend_of(expr, con)
    with quiet():
        if getattr(backend, "name", None) == "duckdb":
            backend._run_pre_execute_hooks(expr)
            sql = backend.compile(expr)
            return backend.con.sql(sql).to_arrow_reader(chunk_size)
        return backend.to_pyarrow_batches(expr, chunk_size=chunk_size)


# DuckDB's buffer pool and its allocator's cache of freed blocks both grow with the input up to
# their limits (by default 80% of RAM and 128 MiB / 512 MiB), so without a cap a streaming job's
# peak memory follows the size of the file. The memory limit grows with the threads, each of which
# reads CSV in its own buffers (8 MiB, see ``kehu.warehouse.sources``): 64 MB on 2 threads. What a
# bounded job needs beyond it (the hash table of transaction ids checked for repeats) spills to
# DuckDB's ``temp_directory``.
STREAMING_BASE_MB = 32
STREAMING_PER_THREAD_MB = 16
STREAMING_SETTINGS = {
    "allocator_flush_threshold": "8MB",
    "allocator_bulk_deallocation_flush_threshold": "8MB",
}


@contextmanager
def bounded_memory(backend: Any = None, settings: dict[str, str] | None = None) -> Iterator[None]:
    """Run the block with DuckDB's memory capped: ``memory_limit`` of ``STREAMING_BASE_MB`` plus
    ``STREAMING_PER_THREAD_MB`` a thread, and ``STREAMING_SETTINGS``; or ``settings`` if given.

    For a streaming job (the import) on a connection that otherwise computes with all its memory.
    ``backend`` is an Ibis backend (default: the default in-memory DuckDB). The previous values
    are restored afterwards, even on error. Other engines are left alone.
    """
    if backend is None:
        with quiet():
            backend = ibis.get_backend()
    if getattr(backend, "name", None) != "duckdb":
        yield
        return
    con = backend.con

    def current(name: str) -> str:
        return str(con.sql(f"SELECT current_setting('{name}')").fetchall()[0][0])

    if settings is None:
        threads = int(current("threads"))
        limit = STREAMING_BASE_MB + STREAMING_PER_THREAD_MB * threads
        settings = {"memory_limit": f"{limit}MB", **STREAMING_SETTINGS}
    before = {name: current(name) for name in settings}
    try:
        for name, value in settings.items():
            con.execute(f"SET {name} = '{value}'")
        yield
    finally:
        for name, value in before.items():
            con.execute(f"SET {name} = '{value}'")
