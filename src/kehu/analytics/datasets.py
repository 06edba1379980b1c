"""Loaders for the reference data sets shipped in ``kehu/data``.

These are the data sets the customer-base literature reports its estimates on, so the truth tests
can pin kehu's models to published figures:

* ``cdnow_customers_summary.csv`` — the 2,357-customer CDNOW sample (first purchases in the first
  quarter of 1997), summarised over the 39-week calibration period ending 1997-09-30: frequency
  (repeat purchases), recency and T in weeks. Used by Fader, Hardie & Lee (2005), "Counting your
  customers the easy way", Marketing Science 24(2). (From the lifetimes project, MIT licence.)
* ``CDNOW_sample.txt`` — the raw transactions of the same 2,357 customers through 1998-06-30.
* ``donations.csv`` — the annual-donation data of Fader, Hardie & Shang (2010), "Customer-base
  analysis in a discrete-time noncontractual setting", Marketing Science 29(6): 11,104 donors,
  6 repeat opportunities, already compressed into (frequency, recency, periods, weights).

Only numpy is used (``analytics`` stays free of pandas).
"""

from __future__ import annotations

from importlib import resources
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray


class CustomerSummary(NamedTuple):
    """Recency-frequency summary, one row per customer (unpacks as ``frequency, recency, T``)."""

    frequency: NDArray[np.float64]
    recency: NDArray[np.float64]
    T: NDArray[np.float64]


class DiscreteSummary(NamedTuple):
    """Discrete-time summary, one row per distinct pattern with its number of customers."""

    frequency: NDArray[np.float64]
    recency: NDArray[np.float64]
    periods: NDArray[np.float64]
    weights: NDArray[np.float64]


class Transactions(NamedTuple):
    """Raw CDNOW transactions, one row per order line as shipped."""

    customer_id: NDArray[np.int64]  # master-file customer id
    sample_id: NDArray[np.int64]  # 1..2357, the id used by the summary file
    date: NDArray[np.datetime64]  # day precision
    number_of_cds: NDArray[np.int64]
    dollar_value: NDArray[np.float64]


def _data_path(name: str) -> resources.abc.Traversable:
    # kehu/data has no __init__.py, so address it from the kehu package root.
    return resources.files("kehu") / "data" / name


def _read_csv_columns(name: str) -> dict[str, NDArray[np.float64]]:
    with _data_path(name).open("r", encoding="utf-8") as handle:
        header = handle.readline().strip().split(",")
        table = np.loadtxt(handle, delimiter=",", dtype=np.float64, ndmin=2)
    return {column: table[:, i].copy() for i, column in enumerate(header)}


def load_cdnow_summary() -> CustomerSummary:
    """The CDNOW calibration summary: 2,357 customers, times in weeks (T up to 38.86)."""
    columns = _read_csv_columns("cdnow_customers_summary.csv")
    return CustomerSummary(columns["frequency"], columns["recency"], columns["T"])


def load_donations() -> DiscreteSummary:
    """The donations data (Fader, Hardie & Shang 2010): 22 distinct patterns, 11,104 donors."""
    columns = _read_csv_columns("donations.csv")
    return DiscreteSummary(
        columns["frequency"], columns["recency"], columns["periods"], columns["weights"]
    )


def load_cdnow_sample_transactions() -> Transactions:
    """The raw CDNOW sample: whitespace-separated, no header — customer id, sample id, date
    (YYYYMMDD), number of CDs, dollar value. 6,919 rows, 1997-01-01 through 1998-06-30."""
    with _data_path("CDNOW_sample.txt").open("r", encoding="ascii") as handle:
        table = np.loadtxt(handle, dtype=str, ndmin=2)
    dates = np.array([f"{d[:4]}-{d[4:6]}-{d[6:8]}" for d in table[:, 2]], dtype="datetime64[D]")
    return Transactions(
        customer_id=table[:, 0].astype(np.int64),
        sample_id=table[:, 1].astype(np.int64),
        date=dates,
        number_of_cds=table[:, 3].astype(np.int64),
        dollar_value=table[:, 4].astype(np.float64),
    )
