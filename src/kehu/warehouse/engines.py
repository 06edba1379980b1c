"""Connections to the engines that run the warehouse's Ibis expressions.

``connect("duckdb")`` (the default) is embedded DuckDB, in memory or in a file: nothing to install
or run, and fast enough for tens of millions of transactions on a laptop. When a business outgrows
one machine the same summaries run on PostgreSQL or Spark:

==========  ===========================================  ==================================
engine      options                                      needs
==========  ===========================================  ==================================
duckdb      ``database`` (":memory:" or a file path),    (installed with kehu)
            ``threads``, ``memory_limit`` ("4GB"), any
            other DuckDB setting
postgres    ``url`` ("postgresql://user:pw@host/db";     ``pip install 'kehu[postgres]'``
            SQLAlchemy-style "postgresql+psycopg://"
            is accepted)
pyspark     ``session`` (an existing SparkSession) or    ``pip install 'kehu[spark]'`` and
            ``master`` ("local[*]" by default),          Java 17 (pyspark 4 runs in local
            ``app_name``                                 mode without a cluster)
==========  ===========================================  ==================================

Keep DuckDB's ``preserve_insertion_order`` at its default (true): the CSV reader numbers rows
with ``row_number() OVER ()``, which follows the file order only while insertion order is kept
(Parquet rows are numbered from ``file_row_number`` and do not depend on it).

The file readers of :mod:`kehu.warehouse.sources` (CSV, Parquet, CDNOW) use DuckDB's readers;
on PostgreSQL or Spark load the transactions into a table and use
:func:`kehu.warehouse.sources.from_table`. Only the DuckDB path is exercised by the test suite.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis

from kehu.errors import ConfigurationError
from kehu.warehouse._compat import quiet

__all__ = ["ENGINES", "connect"]

ENGINES = ("duckdb", "postgres", "pyspark")


def connect(engine: str = "duckdb", **options: Any) -> ibis.BaseBackend:
    """Connect to ``engine`` (see the module doc for the options of each engine).

    Raises :class:`~kehu.errors.ConfigurationError` for an unknown engine, a missing option, or an
    engine whose optional dependency is not installed (the message says what to install).
    """
    name = engine.lower().strip()
    if name == "duckdb":
        return _duckdb(**options)
    if name in ("postgres", "postgresql"):
        return _postgres(**options)
    if name in ("pyspark", "spark"):
        return _pyspark(**options)
    raise ConfigurationError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")


def _duckdb(database: str | Path = ":memory:", **config: Any) -> ibis.BaseBackend:
    settings = {key: value for key, value in config.items() if value is not None}
    try:
        with quiet():
            return ibis.duckdb.connect(str(database), **settings)
    except Exception as exc:  # duckdb raises its own error classes for bad settings / files
        raise ConfigurationError(f"cannot open DuckDB database {str(database)!r}: {exc}") from exc


def _postgres(url: str | None = None, **kwargs: Any) -> ibis.BaseBackend:
    if not url:
        raise ConfigurationError(
            "the postgres engine needs url='postgresql://user:password@host:5432/database'"
        )
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise ConfigurationError(
            "the postgres engine needs psycopg: pip install 'kehu[postgres]'"
        ) from exc
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme.startswith("postgres"):
        raise ConfigurationError(f"not a PostgreSQL URL: {url!r}")
    # SQLAlchemy spells the driver into the scheme ("postgresql+psycopg"); Ibis does not.
    ibis_url = f"postgres://{rest}"
    try:
        with quiet():
            return ibis.connect(ibis_url, **kwargs)
    except Exception as exc:
        raise ConfigurationError(f"cannot connect to PostgreSQL: {exc}") from exc


def _pyspark(
    session: Any = None, master: str = "local[*]", app_name: str = "kehu", **conf: Any
) -> ibis.BaseBackend:
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise ConfigurationError(
            "the pyspark engine needs pyspark and Java 17: pip install 'kehu[spark]'"
        ) from exc
    if session is None:
        builder = SparkSession.builder.master(master).appName(app_name)
        for key, value in conf.items():
            builder = builder.config(key, value)
        session = builder.getOrCreate()
    try:
        with quiet():
            return ibis.pyspark.connect(session)
    except Exception as exc:
        raise ConfigurationError(f"cannot use the Spark session: {exc}") from exc
