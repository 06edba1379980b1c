"""A transaction file, validated: the first step of the value job, kept light.

Only the warehouse (Ibis, DuckDB) and the money rules are imported here -- not the store, the
models or the report -- so that a front door can check a file and refuse a bad one before it
loads the rest of the value stack (issue 9: a bad file fails at once).
:mod:`kehu.value.pipeline` builds on it and re-exports :class:`Source`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from kehu.core.money import currency_code, currency_exponent
from kehu.errors import EmptyInputError, InputError
from kehu.warehouse import ColumnMap, Transactions, read_csv, read_parquet
from kehu.warehouse._compat import scalar

__all__ = ["Source", "file_fingerprint", "open_file"]


@dataclass
class Source:
    """A validated transaction log, where it came from and the currency of its amounts (what a
    file was declared in; for the store, what its transactions are in)."""

    transactions: Transactions
    label: str
    fingerprint: str
    path: Path | None
    currency: str

    def last_date(self) -> date:
        """The last purchase date in the log: the default observation end."""
        value = scalar(self.transactions.table.ts.max())
        if value is None:
            raise EmptyInputError("there are no transactions", file=self.label)
        return value.date() if hasattr(value, "date") else value


def file_fingerprint(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def open_file(
    file: Path,
    *,
    customer: str,
    date: str,
    amount: str,
    id: str | None,
    cost: str | None,
    encoding: str,
    timezone: str,
    currency: str,
    date_format: str | None = None,
) -> Source:
    """Validate a CSV/Parquet file whose amounts are in ``currency`` (read with its minor unit's
    decimals; text dates in ``date_format`` when given, strftime codes)."""
    currency = currency_code(currency)
    minor_units = currency_exponent(currency)
    columns = ColumnMap(customer=customer, date=date, amount=amount, id=id, cost=cost)
    if not file.is_file():
        raise InputError("no such file", file=str(file))
    if file.suffix.lower() == ".parquet":
        transactions = read_parquet(
            file, columns, timezone=timezone, minor_units=minor_units, date_format=date_format
        )
    else:
        transactions = read_csv(
            file,
            columns,
            encoding=encoding,
            timezone=timezone,
            minor_units=minor_units,
            date_format=date_format,
        )
    return Source(transactions, str(file), file_fingerprint(file), file, currency)
