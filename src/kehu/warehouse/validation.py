"""From raw columns to the canonical transaction table, with the first bad row found in the engine.

The readers in :mod:`kehu.warehouse.sources` give this module a *raw* table: the user's columns
as they came (strings from CSV, typed columns from Parquet or Arrow) plus ``_kehu_row``, the
1-based data row number (header excluded). :func:`canonicalize` turns it into the canonical
table

==============  ====================  ==================================================
column          type                  meaning
==============  ====================  ==================================================
customer_id     string, not null      the customer's id, surrounding blanks removed
ts              timestamp (naive)     when, as wall-clock time in the business time zone
amount          decimal(18, m)        what the customer paid (negative: a return)
cost            decimal(18, m), null  what the sale cost the business, when known
transaction_id  string, null          the id of the transaction, when the input has one
source_row      int64                 1-based data row in the input, header excluded
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
One aggregate query finds, per column, the first row (smallest ``source_row``) whose value is
missing or cannot be read; only that row is then fetched to build the message. Nothing row-level
is pulled into Python, so a bad last row of a 10-million-row file costs one scan. Errors are
:class:`~kehu.errors.InputError` naming the file, the row, the user's column name and the raw
value. Rules:

- customer id: required (empty is missing; text sources such as CSV have the spaces around
  ids and values removed first, so blank is missing too);
- date: required; ISO date, ISO date-time (``T`` or space, optional fraction and offset) or
  ``YYYYMMDD`` -- or exactly ``date_format`` (strftime codes, DuckDB ``try_strptime``) if given;
- amount: required, a finite number (NaN and infinity are errors) that fits decimal(18, m);
- cost: optional; when present the same rules as amount;
- transaction id: optional. An id repeated with the same content (customer, time, amount, cost)
  is a duplicate: the first row is kept and the others dropped (and counted). An id repeated with
  a different content is a :class:`~kehu.errors.DuplicateIdError` naming both rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from kehu.errors import DuplicateIdError, EmptyInputError, InputError
from kehu.warehouse._compat import to_arrow, trim_spaces, try_strptime, tz_local

__all__ = ["CANONICAL_COLUMNS", "ROW", "ParseOptions", "canonicalize", "money_type"]

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
        return f"cannot read the date: it does not match date_format {options.date_format!r}"
    return (
        "cannot read the date; expected an ISO date (2024-01-31), an ISO date-time "
        "(2024-01-31 14:05:00, optionally with an offset such as +08:00) or YYYYMMDD "
        "(20240131); give date_format for other layouts"
    )


def canonicalize(
    raw: ir.Table,
    names: Mapping[str, str | None],
    options: ParseOptions,
    *,
    source: str,
    con: Any = None,
    trim: bool = False,
) -> Canonical:
    """Parse and validate ``raw`` (see the module doc) and return the canonical table.

    ``names`` maps the canonical roles ``customer, date, amount, id, cost`` to the user's column
    names (``id`` and ``cost`` may be None). ``trim`` removes the spaces around values (for text
    sources such as CSV; typed sources are taken as they are). Executes one aggregate query (two
    when the input has transaction ids) on ``con`` (default: the table's own backend).
    """
    customer, date, amount = names["customer"], names["date"], names["amount"]
    ident, cost = names.get("id"), names.get("cost")
    assert customer is not None and date is not None and amount is not None
    money = money_type(options.minor_units)

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

    checks: dict[str, ir.Scalar] = {
        "n": parsed.count(),
        "customer": parsed.source_row.min(where=parsed.customer_id.isnull()),
        "date": parsed.source_row.min(where=parsed.ts.isnull()),
        "amount": parsed.source_row.min(where=parsed.amount.isnull()),
    }
    if cost:
        checks["cost"] = parsed.source_row.min(
            where=parsed.raw_cost.notnull() & parsed.cost.isnull()
        )
    found = to_arrow(parsed.aggregate(**checks), con).to_pylist()[0]
    n_rows = int(found.pop("n") or 0)
    if n_rows == 0:
        raise EmptyInputError("there are no data rows", file=source)
    bad = {role: row for role, row in found.items() if row is not None}
    if bad:
        role, row = min(bad.items(), key=lambda item: item[1])
        _raise_bad_row(parsed, role, int(row), names, options, source, con)

    table = parsed.select(*CANONICAL_COLUMNS)
    n_duplicates = 0
    if ident:
        table, n_duplicates = _drop_repeated_ids(table, ident, source, con)
    return Canonical(table=table, n_rows=n_rows, n_duplicates=n_duplicates)


def _raise_bad_row(
    parsed: ir.Table,
    role: str,
    row: int,
    names: Mapping[str, str | None],
    options: ParseOptions,
    source: str,
    con: Any,
) -> None:
    raw_column = f"raw_{role}"
    value = to_arrow(parsed.filter(parsed.source_row == row).select(raw_column).limit(1), con)
    text = value.column(0)[0].as_py() if value.num_rows else None
    column = names[role]
    if text is None:
        what = {"customer": "customer id", "date": "date", "amount": "amount"}[role]
        raise InputError(f"the {what} is missing", file=source, row=row, column=column)
    if role == "date":
        raise InputError(
            _describe_date_problem(options), file=source, row=row, column=column, value=text
        )
    lowered = text.lower().lstrip("+-")
    if lowered in ("nan", "inf", "infinity"):
        reason = "must be a finite number"
    else:
        reason = (
            "cannot read it as a number with at most "
            f"{18 - options.minor_units} digits before the decimal point"
        )
    raise InputError(f"the {role} {reason}", file=source, row=row, column=column, value=text)


def _drop_repeated_ids(table: ir.Table, ident: str, source: str, con: Any) -> tuple[ir.Table, int]:
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
        raise DuplicateIdError(
            f"transaction id {hit['id']!r} is also on row {hit['first']} with a different "
            "customer, date, amount or cost",
            file=source,
            row=int(hit["row"]),
            column=ident,
            value=hit["id"],
        )
    drop = repeated.select("transaction_id", "first_row")
    kept = table.left_join(drop, "transaction_id")
    kept = kept.filter(kept.first_row.isnull() | (kept.source_row == kept.first_row))
    return kept.select(*CANONICAL_COLUMNS), extra
