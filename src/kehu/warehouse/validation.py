"""From raw columns to the canonical transaction table, with the first bad row found in the engine.

The readers in :mod:`kehu.warehouse.sources` give this module a *raw* table: the user's columns
as they came (strings from CSV, typed columns from Parquet or Arrow) plus ``_kehu_row``, the
1-based data record number (header excluded), and a :class:`RowLocator` that says where a record
is in the input for messages: a CSV file's line number (header = line 1, blank lines and
line breaks inside quoted fields counted, as an editor numbers lines; :class:`CsvLines`), or
for Parquet and tables the record number itself as a 1-based ``row`` (:class:`DataRows`).
:func:`canonicalize` turns it into the canonical table

==============  ====================  ==================================================
column          type                  meaning
==============  ====================  ==================================================
customer_id     string, not null      the customer's id, surrounding blanks removed
ts              timestamp (naive)     when, as wall-clock time in the business time zone
amount          decimal(18, m)        what the customer paid (negative: a return)
cost            decimal(18, m), null  what the sale cost the business, when known
transaction_id  string, null          the id of the transaction, when the input has one
source_row      int64                 1-based data record in the input, header excluded
==============  ====================  ==================================================

where ``m`` is the currency's minor units (2 for USD and CNY). Amounts are rounded to ``m``
decimals (half away from zero).

Time stamps
-----------
``ts`` is a *naive* timestamp holding the wall-clock time in the business time zone. Day
boundaries are the only use the summaries make of time, so with local wall-clock time "the same
day" is a plain ``date()`` on every engine, free of session time-zone settings (Spark's in
particular). Inputs are converted on the way in:

- a date or a date-time without an offset (``2024-01-31``, ``2024-01-31 14:05``, ``20240131``)
  is taken to be business-local already;
- a date-time with an offset (``2024-01-31T23:30:00Z``, ``...+08:00``) and a time-zone-aware
  timestamp column (Parquet, Arrow, pandas ``datetime64[ns, UTC]``) are absolute instants and are
  converted to the business time zone: with ``timezone="Asia/Shanghai"``, 23:30 UTC on 31 January
  is 07:30 on 1 February.

Validation
----------
One aggregate query counts, per problem (a column's value missing, or there but unreadable),
the rows that have it; only for a problem found are its first :data:`SHOWN_ROWS` rows then
fetched to build the message. Nothing else row-level is pulled into Python, so a valid
10-million-row file costs one scan. Bad rows raise one :class:`~kehu.errors.InvalidRowsError`
listing every problem with its first rows (line or row number and raw value, the user's column
name) and how many more rows have it. Rules:

- customer id: required (empty is missing; text sources such as CSV have the spaces around
  ids and values removed first, so blank is missing too);
- date: required; ISO date, ISO date-time (``T`` or space, optional fraction and offset) or
  ``YYYYMMDD`` -- or exactly ``date_format`` (strftime codes, DuckDB ``try_strptime``; the
  commands' ``--date-format``) if given;
- amount: required, a finite number (NaN and infinity are errors) that fits decimal(18, m);
- cost: optional; when present the same rules as amount;
- transaction id: optional. An id repeated with the same content (customer, time, amount, cost)
  is a duplicate: the first row is kept and the others dropped (and counted). An id repeated with
  a different content is a :class:`~kehu.errors.DuplicateIdError` naming both rows.
"""

from __future__ import annotations

import csv
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from kehu.errors import DuplicateIdError, EmptyInputError, InvalidRowsError, RowProblem
from kehu.warehouse._compat import to_arrow, trim_spaces, try_strptime, tz_local

__all__ = [
    "CANONICAL_COLUMNS",
    "ROW",
    "SHOWN_ROWS",
    "CsvLines",
    "DataRows",
    "ParseOptions",
    "RowLocator",
    "canonicalize",
    "money_type",
]

#: Bad rows shown per problem; the rest are counted.
SHOWN_ROWS = 20

ROW = "_kehu_row"
CANONICAL_COLUMNS = ("customer_id", "ts", "amount", "cost", "transaction_id", "source_row")

# An ISO date-time that ends in an offset: "...T23:30:00Z", "... 23:30+08:00", "...23:30:00.5-0500".
_OFFSET = r"[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*([Zz]|[+-]\d{2}(:?\d{2})?)$"
_COMPACT = r"^\d{8}$"


@dataclass(frozen=True)
class ParseOptions:
    """How raw values are read: business ``timezone`` (IANA name), ``minor_units`` of the
    currency, and an optional strftime ``date_format`` (default: ISO or YYYYMMDD, detected per
    value)."""

    timezone: str = "UTC"
    minor_units: int = 2
    date_format: str | None = None


class RowLocator(Protocol):
    """Where data records (1-based, header excluded) are in their input, for messages:
    ``unit`` is ``"line"`` (a text file's line numbers) or ``"row"`` (1-based data rows)."""

    unit: str

    def locate(self, records: Collection[int]) -> dict[int, int]: ...


class DataRows:
    """Records of data without lines (Parquet, Arrow, an engine's table): the 1-based row."""

    unit = "row"

    def locate(self, records: Collection[int]) -> dict[int, int]:
        return {record: record for record in records}


class CsvLines:
    """The line on which each record of a text file starts, as an editor numbers lines (the
    header, when there is one, is line 1): blank lines, which the readers skip, and line breaks
    inside quoted fields are counted. Read only when a message needs it, up to the last record
    asked for (the error path: valid files are never read for it)."""

    unit = "line"

    def __init__(
        self,
        path: str | Path,
        *,
        encoding: str = "utf-8",
        delimiter: str = ",",
        header: bool = True,
        quoting: bool = True,
    ) -> None:
        self.path = Path(path)
        self.encoding = encoding
        self.delimiter = delimiter
        self.header = header
        self.quoting = quoting

    def locate(self, records: Collection[int]) -> dict[int, int]:
        wanted = set(records)
        if not wanted:
            return {}
        last = max(wanted)
        found: dict[int, int] = {}
        record = 0 if self.header else 1
        end = 0
        with self.path.open(encoding=self.encoding, errors="replace", newline="") as handle:
            reader = csv.reader(
                handle,
                delimiter=self.delimiter,
                quotechar='"',
                quoting=csv.QUOTE_MINIMAL if self.quoting else csv.QUOTE_NONE,
                strict=False,
            )
            for fields in reader:
                start, end = end + 1, reader.line_num
                if not fields:
                    continue  # a blank line: skipped by the readers, counted by editors
                if record == 0:  # the header
                    record = 1
                    continue
                if record in wanted:
                    found[record] = start
                if record >= last:
                    break
                record += 1
        # a record past the end (cannot happen for records the engine read): its own number
        return {r: found.get(r, r + (1 if self.header else 0)) for r in wanted}


def money_type(minor_units: int) -> dt.Decimal:
    return dt.Decimal(precision=18, scale=minor_units)


@dataclass(frozen=True)
class Canonical:
    table: ir.Table
    n_rows: int
    n_duplicates: int


def _text(value: ir.Value, trim: bool = False) -> ir.StringValue:
    """Any column as text, empty as NULL; with ``trim``, surrounding spaces removed first."""
    text = value if value.type().is_string() else value.cast("string")
    assert isinstance(text, ir.StringValue)
    if trim:
        text = trim_spaces(text)
    result = text.nullif("")
    assert isinstance(result, ir.StringValue)
    return result


def _money(value: ir.Value, minor_units: int) -> ir.Value:
    target = money_type(minor_units)
    kind = value.type()
    if kind.is_floating():
        assert isinstance(value, ir.FloatingValue)
        return ibis.cases(
            (value.isnan() | value.isinf(), ibis.null(target)), else_=value.try_cast(target)
        )
    if kind.is_numeric():
        return value.try_cast(target)
    return _text(value, trim=True).try_cast(target)


def _parse_text_time(text: ir.StringValue, options: ParseOptions) -> ir.Value:
    if options.date_format is not None:
        return try_strptime(text, options.date_format)
    compact = text.substr(0, 4) + "-" + text.substr(4, 2) + "-" + text.substr(6, 2)
    instant = text.re_replace(r"\s+([Zz]|[+-]\d{2}(:?\d{2})?)$", r"\1")
    return ibis.cases(
        (text.re_search(_COMPACT), compact.try_cast("timestamp")),
        (text.re_search(_OFFSET), tz_local(options.timezone, instant.try_cast("timestamp('UTC')"))),
        else_=text.try_cast("timestamp"),
    )


def _time(value: ir.Value, options: ParseOptions) -> ir.Value:
    kind = value.type()
    if kind.is_timestamp():
        assert isinstance(kind, dt.Timestamp)
        if kind.timezone is not None:
            return tz_local(options.timezone, value.cast("timestamp('UTC')"))
        return value.cast("timestamp")
    if kind.is_date():
        return value.cast("timestamp")
    return _parse_text_time(_text(value, trim=True), options)


def _describe_date_problem(options: ParseOptions) -> str:
    if options.date_format is not None:
        return (
            f"cannot read the date: it does not match --date-format {options.date_format!r} "
            "(strftime codes: %d day, %m month, %Y year, %H:%M time)"
        )
    return (
        "cannot read the date; expected an ISO date (2024-01-31), an ISO date-time "
        "(2024-01-31 14:05:00, optionally with an offset such as +08:00) or YYYYMMDD "
        "(20240131); for other layouts give --date-format, e.g. --date-format '%d/%m/%Y' "
        "for 31/01/2024"
    )


def canonicalize(
    raw: ir.Table,
    names: Mapping[str, str | None],
    options: ParseOptions,
    *,
    source: str,
    con: Any = None,
    trim: bool = False,
    locator: RowLocator | None = None,
) -> Canonical:
    """Parse and validate ``raw`` (see the module doc) and return the canonical table.

    ``names`` maps the canonical roles ``customer, date, amount, id, cost`` to the user's column
    names (``id`` and ``cost`` may be None). ``trim`` removes the spaces around values (for text
    sources such as CSV; typed sources are taken as they are). ``locator`` turns record numbers
    into the places messages name (default :class:`DataRows`). Executes one aggregate query
    (two when the input has transaction ids) on ``con`` (default: the table's own backend).
    """
    customer, date, amount = names["customer"], names["date"], names["amount"]
    ident, cost = names.get("id"), names.get("cost")
    assert customer is not None and date is not None and amount is not None
    money = money_type(options.minor_units)
    locator = locator or DataRows()

    raw_text: dict[str, ir.Value] = {
        "raw_customer": _text(raw[customer], trim),
        "raw_date": _text(raw[date], trim),
        "raw_amount": _text(raw[amount], trim),
        "raw_cost": _text(raw[cost], trim) if cost else ibis.null("string"),
        "raw_id": _text(raw[ident], trim) if ident else ibis.null("string"),
    }
    parsed = raw.select(
        source_row=raw[ROW].cast("int64"),
        customer_id=raw_text["raw_customer"],
        ts=_time(raw[date], options).cast("timestamp"),
        amount=_money(raw[amount], options.minor_units),
        cost=_money(raw[cost], options.minor_units) if cost else ibis.null(money),
        transaction_id=raw_text["raw_id"],
        **raw_text,
    )

    problems = _problems(parsed, has_cost=bool(cost))
    counts = to_arrow(
        parsed.aggregate(
            n=parsed.count(),
            n_bad=ibis.or_(*(where for _, where in problems.values())).cast("int64").sum(),
            **{key: where.cast("int64").sum() for key, (_, where) in problems.items()},
        ),
        con,
    ).to_pylist()[0]
    n_rows = int(counts.pop("n") or 0)
    n_bad = int(counts.pop("n_bad") or 0)
    if n_rows == 0:
        raise EmptyInputError("there are no data rows", file=source)
    found = {key: int(n) for key, n in counts.items() if n}
    if found:
        _raise_bad_rows(parsed, problems, found, n_bad, names, options, source, con, locator)

    table = parsed.select(*CANONICAL_COLUMNS)
    n_duplicates = 0
    if ident:
        table, n_duplicates = _drop_repeated_ids(table, ident, source, con, locator)
    return Canonical(table=table, n_rows=n_rows, n_duplicates=n_duplicates)


def _problems(parsed: ir.Table, *, has_cost: bool) -> dict[str, tuple[str, ir.BooleanValue]]:
    """Every problem a row can have, ``key -> (role, condition)``, in the order reported."""
    problems: dict[str, tuple[str, ir.BooleanValue]] = {
        "customer_missing": ("customer", parsed.customer_id.isnull()),
        "date_missing": ("date", parsed.raw_date.isnull()),
        "date_unreadable": ("date", parsed.raw_date.notnull() & parsed.ts.isnull()),
        "amount_missing": ("amount", parsed.raw_amount.isnull()),
        "amount_unreadable": ("amount", parsed.raw_amount.notnull() & parsed.amount.isnull()),
    }
    if has_cost:
        problems["cost_unreadable"] = ("cost", parsed.raw_cost.notnull() & parsed.cost.isnull())
    return problems


_WHAT = {"customer": "customer id", "date": "date", "amount": "amount", "cost": "cost"}


def _reason(key: str, role: str, values: list[Any], options: ParseOptions) -> str:
    if key.endswith("_missing"):
        return f"the {_WHAT[role]} is missing"
    if role == "date":
        return _describe_date_problem(options)
    digits = f"with at most {18 - options.minor_units} digits before the decimal point"
    infinite = [str(v).lower().lstrip("+-") in ("nan", "inf", "infinity") for v in values]
    if all(infinite):
        return f"the {role} must be a finite number"
    if any(infinite):
        return f"the {role} must be a finite number {digits}"
    return f"the {role} is not a number {digits}"


def _raise_bad_rows(
    parsed: ir.Table,
    problems: Mapping[str, tuple[str, ir.BooleanValue]],
    found: Mapping[str, int],
    n_bad: int,
    names: Mapping[str, str | None],
    options: ParseOptions,
    source: str,
    con: Any,
    locator: RowLocator,
) -> None:
    """Fetch the first :data:`SHOWN_ROWS` rows of every problem found and raise them all."""
    shown: dict[str, list[tuple[int, Any]]] = {}
    for key in found:
        role, where = problems[key]
        rows = to_arrow(
            parsed.filter(where)
            .select("source_row", value=parsed[f"raw_{role}"])
            .order_by("source_row")
            .limit(SHOWN_ROWS),
            con,
        ).to_pylist()
        shown[key] = [(int(row["source_row"]), row["value"]) for row in rows]
    places = locator.locate({record for rows in shown.values() for record, _ in rows})
    report = [
        RowProblem(
            column=names[problems[key][0]],
            reason=_reason(key, problems[key][0], [v for _, v in rows], options),
            places=tuple((places[record], value) for record, value in rows),
            n_rows=found[key],
            unit=locator.unit,
        )
        for key, rows in shown.items()
    ]
    # the problem met first in the file first
    report.sort(key=lambda problem: problem.places[0][0])
    raise InvalidRowsError(report, file=source, n_rows=n_bad)


def _drop_repeated_ids(
    table: ir.Table, ident: str, source: str, con: Any, locator: RowLocator
) -> tuple[ir.Table, int]:
    """Keep the first row of each transaction id; rows repeating it exactly are dropped."""
    with_id = table.filter(table.transaction_id.notnull())
    repeated = (
        with_id.group_by("transaction_id")
        .aggregate(n=with_id.count(), first_row=with_id.source_row.min())
        .filter(lambda t: t.n > 1)
    )
    stats = to_arrow(repeated.aggregate(extra=(repeated.n - 1).sum()), con).to_pylist()[0]
    extra = int(stats["extra"] or 0)
    if extra == 0:
        return table, 0

    members = table.join(repeated, "transaction_id").select(
        *CANONICAL_COLUMNS, first_row=repeated.first_row
    )
    firsts = members.filter(members.source_row == members.first_row)
    others = members.filter(members.source_row != members.first_row)
    content = ("customer_id", "ts", "amount", "cost")
    pairs = others.join(firsts, "transaction_id")
    differs = ibis.or_(*(~others[c].identical_to(firsts[c]) for c in content))
    conflict = to_arrow(
        pairs.filter(differs)
        .select(row=others.source_row, first=firsts.source_row, id=others.transaction_id)
        .order_by("row")
        .limit(1),
        con,
    ).to_pylist()
    if conflict:
        hit = conflict[0]
        places = locator.locate({int(hit["row"]), int(hit["first"])})
        unit = locator.unit
        raise DuplicateIdError(
            f"transaction id {hit['id']!r} is also on {unit} {places[int(hit['first'])]} with "
            "a different customer, date, amount or cost",
            file=source,
            column=ident,
            value=hit["id"],
            line=places[int(hit["row"])] if unit == "line" else None,
            row=places[int(hit["row"])] if unit == "row" else None,
        )
    drop = repeated.select("transaction_id", "first_row")
    kept = table.left_join(drop, "transaction_id")
    kept = kept.filter(kept.first_row.isnull() | (kept.source_row == kept.first_row))
    return kept.select(*CANONICAL_COLUMNS), extra
