"""Read a transaction log into the canonical Ibis table (see :mod:`kehu.warehouse.validation`).

Readers
-------
- :func:`read_csv`: a CSV file with a header row, any delimiter (taken from the header line
  unless given), any encoding. DuckDB reads UTF-8 and Latin-1 itself; other encodings
  (``gbk``, ``gb18030``, ``utf-16``, ``big5``, ``shift_jis``, ...) are transcoded to a temporary
  UTF-8 file in 1 MiB streaming chunks, loaded into a temporary DuckDB table, and the temporary
  file is removed.
- :func:`read_parquet`: a Parquet file; typed columns (timestamps, dates, decimals, floats) are
  used as they are, text columns are parsed like CSV.
- :func:`from_arrow`: an in-memory pyarrow table or pandas DataFrame (for instance transactions
  fetched from the operational store). pandas' NaN in a float column is read as missing.
- :func:`from_table`: any Ibis table on any engine (PostgreSQL, Spark): the same validation
  and the same canonical table, for data already in the engine.
- :func:`read_cdnow`: the whitespace-separated CDNOW files of Fader & Hardie (``CDNOW_master.txt``
  with its header row, or ``CDNOW_sample.txt`` without).

Every reader checks the input eagerly (wrong column names, wrong encoding, empty input, first bad
rows, repeated transaction ids) and returns :class:`Transactions`, whose ``table`` is a lazy Ibis
expression: nothing row-level is pulled into Python. ``source_row`` counts data records
(header excluded, 1-based; blank lines in a CSV file are skipped by the reader and not
counted); messages name a CSV file's *line* (header = line 1, as an editor counts) and a Parquet
file's or a table's 1-based *row* (:attr:`Transactions.locator`).
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import difflib
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kehu.errors import (
    ColumnsError,
    ConfigurationError,
    EmptyInputError,
    EncodingError,
    InputError,
)
from kehu.warehouse._compat import arrow_table, quiet
from kehu.warehouse.validation import (
    ROW,
    CsvLines,
    DataRows,
    ParseOptions,
    RowLocator,
    canonicalize,
)

if TYPE_CHECKING:  # annotations only (see _compat.arrow_table)
    import pandas as pd

__all__ = [
    "ColumnMap",
    "Transactions",
    "from_arrow",
    "from_table",
    "read_cdnow",
    "read_csv",
    "read_parquet",
]

_CHUNK = 1 << 20
# DuckDB reads CSV in buffers of 16 x max_line_size (32 MiB) by default, several at a time: on a
# large file that is memory that a small file (read in one buffer of its own size) does not use.
# 8 MiB buffers keep peak memory nearly flat across file sizes at no measurable cost in speed.
_CSV_BUFFER = 8 << 20
_NATIVE_ENCODINGS = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "iso8859-1": "latin-1"}


@dataclass(frozen=True)
class ColumnMap:
    """The user's names for the columns of their transaction log.

    ``customer``, ``date`` and ``amount`` are required; ``id`` (transaction id) and ``cost``
    (cost of goods sold, for margins) are optional.
    """

    customer: str
    date: str
    amount: str
    id: str | None = None
    cost: str | None = None

    def roles(self) -> dict[str, str | None]:
        return {
            "customer": self.customer,
            "date": self.date,
            "amount": self.amount,
            "id": self.id,
            "cost": self.cost,
        }

    def required(self) -> list[str]:
        return [name for name in self.roles().values() if name is not None]


@dataclass(frozen=True)
class Transactions:
    """A validated transaction log.

    ``table`` has the canonical columns ``customer_id, ts, amount, cost, transaction_id,
    source_row`` (``ts`` naive wall-clock time in ``timezone``); ``n_rows`` data rows were read,
    of which ``n_duplicates`` repeated an earlier row's transaction id with the same content and
    are not in ``table``. ``locator`` turns ``source_row`` into the line or row messages name.
    """

    table: ir.Table
    source: str
    n_rows: int
    n_duplicates: int
    timezone: str
    locator: RowLocator = dataclasses.field(default_factory=DataRows)


def _options(timezone: str, minor_units: int, date_format: str | None) -> ParseOptions:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigurationError(f"unknown time zone {timezone!r}") from exc
    if not 0 <= minor_units <= 4:
        raise ConfigurationError(f"minor_units must be 0..4, got {minor_units}")
    return ParseOptions(timezone=timezone, minor_units=minor_units, date_format=date_format)


def _duckdb(con: Any) -> Any:
    if con is None:
        with quiet():
            con = ibis.get_backend()
    if getattr(con, "name", None) != "duckdb":
        raise ConfigurationError(
            "the file readers need the DuckDB engine; on other engines load the transactions "
            "into a table and use kehu.warehouse.sources.from_table"
        )
    return con


def _check_columns(found: Iterable[str], columns: ColumnMap, source: str) -> None:
    present = [str(name) for name in found if name != ROW]
    missing = [name for name in columns.required() if name not in present]
    if not missing:
        return
    hints = []
    for name in missing:
        close = difflib.get_close_matches(name, present, n=1, cutoff=0.6) or [
            p for p in present if p.strip().lower() == name.strip().lower()
        ]
        if close:
            hints.append(f"{name!r} -> {close[0]!r}?")
    hint = f" (did you mean {', '.join(hints)})" if hints else ""
    raise ColumnsError(
        f"column{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))} not found"
        f"{hint}; the columns found are: {', '.join(map(repr, present))}",
        file=source,
    )


def _finish(
    raw: ir.Table,
    columns: ColumnMap,
    options: ParseOptions,
    source: str,
    con: Any,
    *,
    text: bool = False,
    locator: RowLocator | None = None,
) -> Transactions:
    locator = locator or DataRows()
    result = canonicalize(
        raw, columns.roles(), options, source=source, con=con, trim=text, locator=locator
    )
    return Transactions(
        table=result.table,
        source=source,
        n_rows=result.n_rows,
        n_duplicates=result.n_duplicates,
        timezone=options.timezone,
        locator=locator,
    )


# ---------------------------------------------------------------------------------------- CSV


def read_csv(
    path: str | Path,
    columns: ColumnMap,
    *,
    con: Any = None,
    encoding: str = "utf-8",
    delimiter: str | None = None,
    date_format: str | None = None,
    timezone: str = "UTC",
    minor_units: int = 2,
) -> Transactions:
    """Read a CSV file with a header row.

    ``encoding`` is any Python codec name (``utf-8``, ``gbk``, ``gb18030``, ``utf-16``, ...);
    ``delimiter`` is, unless given, the most frequent of ``, ; tab |`` in the header line;
    fields may be quoted with ``"``; every row must have as many fields as the header.
    ``timezone`` (business time zone) and ``minor_units`` (of the amounts' currency) are the
    caller's business settings (defaults: UTC, 2 decimals); the warehouse reads no settings.

    Raises :class:`~kehu.errors.EmptyInputError` (no data rows),
    :class:`~kehu.errors.EncodingError` (the bytes are not in ``encoding``; the message suggests
    one), :class:`~kehu.errors.ColumnsError` (a named column is missing; lists those found),
    :class:`~kehu.errors.InputError` (first bad row) or
    :class:`~kehu.errors.DuplicateIdError`.
    """
    con = _duckdb(con)
    source = str(path)
    options = _options(timezone, minor_units, date_format)
    file = Path(path)
    if not file.is_file():
        raise InputError("no such file", file=source)
    try:
        codec = codecs.lookup(encoding).name
    except LookupError as exc:
        raise EncodingError(f"unknown encoding {encoding!r}", file=source) from exc
    _check_not_empty(file, codec, source)

    native = _NATIVE_ENCODINGS.get(codec)
    if native is not None:
        names, delim = _header(file, codec, delimiter, source)
        _check_columns(names, columns, source)
        view = _read_csv_view(con, file, names, delim, native, source, encoding)
        raw = view.mutate(**{ROW: ibis.row_number() + 1})
        lines = CsvLines(file, encoding=codec, delimiter=delim)
        return _guarded(
            lambda: _finish(raw, columns, options, source, con, text=True, locator=lines),
            source,
            encoding,
        )

    workdir = Path(tempfile.mkdtemp(prefix="kehu-csv-"))
    try:
        utf8 = workdir / "transcoded.csv"
        _transcode(file, utf8, codec, source)
        names, delim = _header(utf8, "utf-8", delimiter, source)
        _check_columns(names, columns, source)
        view = _read_csv_view(con, utf8, names, delim, "utf-8", source, encoding)
        raw_view = view.mutate(**{ROW: ibis.row_number() + 1})
        # The view would read the temporary file on every query: keep the rows in the engine.
        with quiet():
            raw = _guarded(
                lambda: con.create_table(_temp_name(), raw_view, temp=True), source, encoding
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    lines = CsvLines(file, encoding=codec, delimiter=delim)
    return _finish(raw, columns, options, source, con, text=True, locator=lines)


_DELIMITERS = (",", ";", "\t", "|")


def _header(file: Path, codec: str, delimiter: str | None, source: str) -> tuple[list[str], str]:
    """Column names and delimiter from the header line.

    The delimiter, unless given, is the most frequent of ``, ; tab |`` in the header line
    (comma when none occurs). Empty names become ``column<i>``; repeated names get ``_<n>``.
    """
    with file.open("rb") as handle:
        line = handle.readline(1 << 20)
    try:
        text = line.decode(codec)
    except UnicodeDecodeError:
        raise EncodingError(
            f"the header line is not {codec}; {_suggest_encoding(source, codec)}", file=source
        ) from None
    text = text.lstrip("\ufeff").rstrip("\r\n")
    if delimiter is None:
        counts = {d: text.count(d) for d in _DELIMITERS}
        best = max(_DELIMITERS, key=lambda d: counts[d])
        delimiter = best if counts[best] > 0 else ","
    fields = next(csv.reader([text], delimiter=delimiter, quotechar='"'), [])
    names: list[str] = []
    for i, field in enumerate(fields):
        name = field.strip() or f"column{i}"
        base, n = name, 1
        while name in names:
            name, n = f"{base}_{n}", n + 1
        names.append(name)
    return names, delimiter


def _temp_name() -> str:
    return f"kehu_raw_{os.urandom(6).hex()}"


def _check_not_empty(file: Path, codec: str, source: str) -> None:
    with file.open("rb") as handle:
        head = handle.read(4096)
    if not head:
        raise EmptyInputError("the file is empty", file=source)
    if len(head) < 4096:
        try:
            text = head.decode(codec)
        except UnicodeDecodeError:
            return  # let the reader report the encoding problem with its position
        if not text.strip().lstrip("\ufeff").strip():
            raise EmptyInputError("the file is empty", file=source)


def _read_csv_view(
    con: Any,
    file: Path,
    names: list[str],
    delimiter: str,
    encoding: str,
    source: str,
    declared: str,
) -> ir.Table:
    """A DuckDB view of the file: every column as text, dialect fixed (no sniffing)."""

    def read() -> ir.Table:
        with quiet():
            table: ir.Table = con.read_csv(
                str(file),
                table_name=_temp_name(),
                columns=dict.fromkeys(names, "VARCHAR"),
                header=True,
                auto_detect=False,
                delim=delimiter,
                quote='"',
                escape='"',
                encoding=encoding,
                buffer_size=_CSV_BUFFER,
            )
        return table

    return _guarded(read, source, declared)


_LINE = re.compile(r"CSV Error on Line: (\d+)")


def _guarded(action: Any, source: str, encoding: str) -> Any:
    """Run ``action``; DuckDB's CSV errors become kehu input errors naming the row."""
    try:
        return action()
    except InputError:
        raise
    except Exception as exc:
        message = str(exc)
        if "CSV Error" not in message and "Invalid unicode" not in message:
            raise
        match = _LINE.search(message)
        # DuckDB numbers the lines of the file as an editor does (the header is line 1)
        line = int(match.group(1)) if match else None
        if "Invalid unicode" in message or "byte sequence mismatch" in message:
            raise EncodingError(
                f"the file is not {encoding}; {_suggest_encoding(source, encoding)}",
                file=source,
                line=line,
            ) from None
        detail = next(
            (
                line.strip()
                for line in message.splitlines()[1:]
                if line.strip() and not line.startswith("Original Line")
            ),
            message.splitlines()[0],
        )
        raise InputError(f"cannot read the CSV file: {detail}", file=source, line=line) from None


def _suggest_encoding(source: str, tried: str) -> str:
    """A hint for the ``--encoding`` option: decode the file as UTF-8 up to its first bad byte
    and try the likely legacy encodings on the lines around it (error path only)."""
    tried = codecs.lookup(tried).name if tried else ""
    window = b""
    try:
        with open(source, "rb") as handle:
            head = handle.read(4)
            if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and tried != "utf-16":
                return "it looks like utf-16: try --encoding utf-16"
            handle.seek(0)
            decoder = codecs.getincrementaldecoder("utf-8")("strict")
            while chunk := handle.read(_CHUNK):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    line_start = chunk.rfind(b"\n", 0, exc.start) + 1
                    window = chunk[line_start : exc.start + 4096]
                    break
    except OSError:
        return "give the file's encoding, e.g. --encoding gbk"
    if not window:
        if tried not in ("utf-8", "utf-8-sig"):
            return "it looks like utf-8: try --encoding utf-8"
        return "give the file's encoding, e.g. --encoding gbk or --encoding latin-1"
    for codec, name in (("gb18030", "gbk"), ("big5", "big5"), ("shift_jis", "shift_jis")):
        if codecs.lookup(codec).name == tried or name == tried:
            continue
        try:
            codecs.getincrementaldecoder(codec)("strict").decode(window, final=False)
        except UnicodeDecodeError:
            continue
        return f"it looks like {name}: try --encoding {name}"
    return "give the file's encoding, e.g. --encoding gbk or --encoding latin-1"


def _transcode(src: Path, dst: Path, codec: str, source: str) -> None:
    """Stream ``src`` in ``codec`` to UTF-8 ``dst``; a decode error names the line."""
    decoder = codecs.getincrementaldecoder(codec)("strict")
    newlines = 0
    with src.open("rb") as inp, dst.open("w", encoding="utf-8", newline="") as out:
        while True:
            chunk = inp.read(_CHUNK)
            final = not chunk
            try:
                text = decoder.decode(chunk, final=final)
            except UnicodeDecodeError as exc:
                before = exc.object[: exc.start]
                if isinstance(before, bytes | bytearray):
                    prefix = bytes(before).decode(codec, errors="replace")
                else:
                    prefix = ""
                line = newlines + prefix.count("\n") + 1
                raise EncodingError(
                    f"the file is not {codec} (byte {exc.object[exc.start : exc.start + 1]!r}); "
                    f"{_suggest_encoding(source, codec)}",
                    file=source,
                    line=line,
                ) from None
            newlines += text.count("\n")
            out.write(text.lstrip("\ufeff") if out.tell() == 0 else text)
            if final:
                break


# ------------------------------------------------------------------------------------ Parquet


def read_parquet(
    path: str | Path,
    columns: ColumnMap,
    *,
    con: Any = None,
    date_format: str | None = None,
    timezone: str = "UTC",
    minor_units: int = 2,
) -> Transactions:
    """Read one Parquet file. ``source_row`` is the 1-based row in the file (messages say
    "row 41" for the 41st row, pandas' and pyarrow's index 40)."""
    con = _duckdb(con)
    source = str(path)
    options = _options(timezone, minor_units, date_format)
    if not Path(path).is_file():
        raise InputError("no such file", file=source)
    try:
        with quiet():
            view = con.read_parquet(str(path), table_name=_temp_name(), file_row_number=True)
    except Exception as exc:
        raise InputError(f"cannot read the Parquet file: {exc}", file=source) from None
    found = [c for c in view.columns if c != "file_row_number"]
    _check_columns(found, columns, source)
    raw = view.mutate(**{ROW: view.file_row_number.cast("int64") + 1})
    return _finish(raw, columns, options, source, con)


# ------------------------------------------------------------------------- in-memory, tables


def from_arrow(
    data: pa.Table | pd.DataFrame,
    columns: ColumnMap,
    *,
    con: Any = None,
    source: str = "<memory>",
    date_format: str | None = None,
    timezone: str = "UTC",
    minor_units: int = 2,
) -> Transactions:
    """Use an in-memory pyarrow table or pandas DataFrame (index ignored).

    Time-zone-aware timestamps are converted to the business time zone here (in Arrow), naive
    ones are taken as business-local. The data stay in Arrow memory and are scanned by the engine
    (``con``, default the in-memory DuckDB) as an Ibis memtable.
    """
    options = _options(timezone, minor_units, date_format)
    table = arrow_table(data)
    if table is None:
        raise InputError(f"expected a pyarrow Table or pandas DataFrame, got {type(data)!r}")
    _check_columns(table.column_names, columns, source)
    if table.num_rows == 0:
        raise EmptyInputError("there are no data rows", file=source)
    wanted = list(dict.fromkeys(columns.required()))
    table = table.select(wanted)
    date_index = wanted.index(columns.date)
    date_column = table.column(date_index)
    if pa.types.is_timestamp(date_column.type) and date_column.type.tz is not None:
        local = pc.local_timestamp(date_column.cast(pa.timestamp("us", tz=options.timezone)))
        table = table.set_column(date_index, columns.date, local)
    rows = pa.array(np.arange(1, table.num_rows + 1, dtype=np.int64))
    table = table.append_column(ROW, rows)
    with quiet():
        raw = ibis.memtable(table)
    return _finish(raw, columns, options, source, con)


def from_table(
    table: ir.Table,
    columns: ColumnMap,
    *,
    con: Any = None,
    source: str = "<table>",
    date_format: str | None = None,
    timezone: str = "UTC",
    minor_units: int = 2,
) -> Transactions:
    """Use an Ibis table already in an engine (``source_row`` is the scan order).

    Time-zone-aware timestamp columns are converted with ``timezone(zone, ts)`` (DuckDB and
    PostgreSQL); text columns are parsed with ``TRY_CAST`` (DuckDB, Spark; PostgreSQL has no
    non-raising cast, so store typed columns there).
    """
    options = _options(timezone, minor_units, date_format)
    _check_columns(table.columns, columns, source)
    raw = table.mutate(**{ROW: ibis.row_number() + 1})
    return _finish(raw, columns, options, source, con)


# -------------------------------------------------------------------------------------- CDNOW


def read_cdnow(path: str | Path, *, con: Any = None, timezone: str = "UTC") -> Transactions:
    """Read a CDNOW file of Fader & Hardie (whitespace-separated, dates ``YYYYMMDD``).

    - ``CDNOW_sample.txt`` (no header; customer id, sample-local id, date, number of CDs,
      dollar value): ``customer_id`` is the sample-local id without leading zeros ("1".."2357"),
      the ``ID`` of the published summary ``cdnow_customers_summary.csv``;
    - ``CDNOW_master.txt`` (header row; customer id, date, number of CDs, dollar value):
      ``customer_id`` is the customer id without leading zeros.

    ``amount`` is the dollar value (2 decimals); there are no costs or transaction ids.
    """
    con = _duckdb(con)
    source = str(path)
    file = Path(path)
    if not file.is_file():
        raise InputError("no such file", file=source)
    with file.open("r", encoding="latin-1") as handle:
        first = next((line for line in handle if line.strip()), "")
    if not first:
        raise EmptyInputError("the file is empty", file=source)
    header = not first.split()[0].isdigit()
    with quiet():
        lines = con.read_csv(
            str(file),
            table_name=_temp_name(),
            columns={"line": "VARCHAR"},
            header=False,
            skip=1 if header else 0,
            delim="\x1f",
            quote="",
            escape="",
        )
    fields = lines.line.strip().re_split(r"\s+")
    n_fields = len(first.split())
    if n_fields == 5:
        customer, date, amount = fields[1], fields[2], fields[4]
    elif n_fields == 4:
        customer, date, amount = fields[0], fields[1], fields[3]
    else:
        raise InputError(
            f"not a CDNOW file: expected 4 or 5 whitespace-separated fields, found {n_fields}",
            file=source,
        )
    raw = lines.select(
        customer=customer.try_cast("int64").cast("string"),
        date=date,
        amount=amount,
        **{ROW: ibis.row_number() + 1},
    )
    options = _options(timezone, 2, "%Y%m%d")
    lines = CsvLines(file, encoding="latin-1", delimiter="\x1f", header=header, quoting=False)
    return _finish(
        raw,
        ColumnMap("customer", "date", "amount"),
        options,
        source,
        con,
        text=True,
        locator=lines,
    )
