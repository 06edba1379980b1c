"""The warehouse: transaction logs to per-customer summaries, as Ibis expressions.

The same expressions run on embedded DuckDB (the default), PostgreSQL or Spark
(:mod:`kehu.warehouse.engines`). :mod:`~kehu.warehouse.sources` reads and validates a log into the
canonical table (:mod:`~kehu.warehouse.validation`); :mod:`~kehu.warehouse.summaries` computes the
Fader & Hardie summaries, the RFM inputs, the compressed summary the models fit on, and joins
scores back. Rows leave the engine only at the edges: :func:`to_arrow`, :func:`to_arrow_batches`,
:func:`to_parquet` (and :func:`scalar` for one value).
"""

from kehu.warehouse._compat import scalar, to_arrow, to_arrow_batches, to_parquet
from kehu.warehouse.engines import connect
from kehu.warehouse.sources import (
    ColumnMap,
    Transactions,
    from_arrow,
    from_table,
    read_cdnow,
    read_csv,
    read_parquet,
)
from kehu.warehouse.summaries import (
    UNITS,
    Summary,
    calibration_and_holdout_summary,
    compress,
    customer_summary,
    join_scores,
    purchase_periods,
    rfm_inputs,
    unit_days,
)

__all__ = [
    "UNITS",
    "ColumnMap",
    "Summary",
    "Transactions",
    "calibration_and_holdout_summary",
    "compress",
    "connect",
    "customer_summary",
    "from_arrow",
    "from_table",
    "join_scores",
    "purchase_periods",
    "read_cdnow",
    "read_csv",
    "read_parquet",
    "rfm_inputs",
    "scalar",
    "to_arrow",
    "to_arrow_batches",
    "to_parquet",
    "unit_days",
]
