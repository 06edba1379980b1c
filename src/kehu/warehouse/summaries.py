"""Per-customer summaries of a transaction log, as Ibis expressions.

The definitions are those of the customer-base models (Fader, Hardie & Lee 2005, "Counting Your
Customers the Easy Way", *Marketing Science* 24(2); Fader, Hardie & Lee 2005, "RFM and CLV: Using
Iso-Value Curves for Customer Base Analysis", *JMR* 42(4)), in the conventions of ``lifetimes``'
``summary_data_from_transaction_data`` except where noted.

Purchase days
-------------
Transactions are first merged per customer and *purchase period* -- the calendar day by default
(``period="week"`` merges ISO weeks starting Monday, ``"month"`` calendar months) -- in the
business time zone (``ts`` is business-local wall-clock time, see
:mod:`kehu.warehouse.validation`): amounts and costs of the period are summed. Returns (negative
amounts) therefore net against the same period's purchases, and **a period with a return whose
amounts net to zero or less is not a purchase**: it does not count in ``frequency``,
``recency``, ``T`` or ``monetary_value``, though its amount still counts in ``total_spend`` and
``total_margin``. A period without returns is a purchase whatever its amount, so a free item
(amount 0) is a purchase occasion -- CDNOW has 8 customers whose only purchase in the
calibration period is worth $0, and the published summary counts them. Customers with no
purchase period up to the observation end (only returns) have no row
(:func:`customers_left_out` counts them, and those whose first purchase is after the end).
(``lifetimes`` counts every period with a transaction, returns included.)

Per customer, up to and including the observation end (a business-local date)
------------------------------------------------------------------------------
- ``frequency`` -- number of *repeat* purchases: purchase periods minus one;
- ``recency`` -- time from the first to the last purchase (0 for one-time buyers);
- ``T`` -- time from the first purchase to the observation end;
- ``monetary_value`` -- mean amount of the repeat purchases (the first purchase is excluded, as
  in Fader, Hardie & Lee's Gamma-Gamma data); **NULL for one-time buyers** (``lifetimes`` gives
  0, which a Gamma-Gamma fit must then filter out);
- ``n_purchase_days``, ``first_purchase``, ``last_purchase`` (dates);
- ``total_spend`` -- sum of all amounts, returns included (net spend);
- ``total_margin`` -- ``total_spend * margin`` when a margin fraction is given; otherwise the sum
  of ``amount - cost``, NULL when any of the customer's transactions has no cost.

Times are **elapsed days divided by the unit length** ``unit_days`` (day 1, week 7, month
30.4375, year 365.25, or any positive float), as in Fader & Hardie's CDNOW data (recency 30.43 =
213 days / 7). ``lifetimes`` with ``freq="W"`` instead counts calendar-week periods, which gives
integers. Transactions dated after the observation end are excluded and counted
(:attr:`Summary.n_after_end`); the observation end day itself is included.

Every summary is two group-bys in the engine -- one per customer and period, one per customer --
so the log is scanned once; model fitting runs on :func:`compress`, which is small however large
the log, and scores come back with :func:`join_scores`.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from kehu.errors import InputError
from kehu.warehouse._compat import arrow_table, backend_of, quiet, scalar, to_arrow
from kehu.warehouse.sources import Transactions

if TYPE_CHECKING:  # annotations only (see _compat.arrow_table)
    import pandas as pd

__all__ = [
    "LEFT_OUT_REASONS",
    "MODEL_KEYS",
    "PERIODS",
    "UNITS",
    "Summary",
    "calibration_and_holdout_summary",
    "compress",
    "customer_summary",
    "customers_left_out",
    "join_scores",
    "purchase_periods",
    "repeat_purchases_by_period",
    "rfm_inputs",
    "unit_days",
]

UNITS: dict[str, float] = {"day": 1.0, "week": 7.0, "month": 30.4375, "year": 365.25}
PERIODS: dict[str, str | None] = {"day": None, "week": "W", "month": "M"}
MODEL_KEYS = ("frequency", "recency", "T")

SUMMARY_COLUMNS = (
    "customer_id",
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "n_purchase_days",
    "first_purchase",
    "last_purchase",
    "total_spend",
    "total_margin",
)


@dataclass(frozen=True)
class Summary:
    """A per-customer summary: ``table`` is a lazy Ibis expression with :data:`SUMMARY_COLUMNS`
    (plus ``frequency_holdout, monetary_value_holdout, duration_holdout`` for a calibration and
    holdout summary); ``n_after_end`` transactions were dated after the observation end (after
    ``holdout_end`` for a holdout summary) and left out."""

    table: ir.Table
    observation_end: _dt.date
    unit_days: float
    period: str
    n_after_end: int
    holdout_end: _dt.date | None = None

    def cached(self, con: Any = None) -> Summary:
        """This summary with its table computed once, into a temporary table of the engine
        (``con``, default the table's own backend). Use it before deriving several results
        (:func:`compress`, :func:`rfm_inputs`, :func:`join_scores`, export) so that the log is
        scanned only once."""
        backend = backend_of(self.table, con)
        name = f"kehu_summary_{os.urandom(6).hex()}"
        with quiet():
            table = backend.create_table(name, self.table, temp=True)
        return replace(self, table=table)


def unit_days(unit: str | float) -> float:
    """Length of a time unit in days: a name of :data:`UNITS` or a positive number."""
    if isinstance(unit, str):
        try:
            return UNITS[unit.lower()]
        except KeyError:
            raise InputError(
                f"unknown time unit {unit!r}; choose one of {', '.join(UNITS)} or a number of days"
            ) from None
    days = float(unit)
    if not days > 0 or days == float("inf"):
        raise InputError(f"the time unit must be a positive number of days, got {unit!r}")
    return days


def _as_date(value: _dt.date | str, name: str) -> _dt.date:
    if isinstance(value, _dt.datetime):
        raise InputError(f"{name} must be a date (the whole day is included), got {value!r}")
    if isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"{name} must be an ISO date (2024-12-31), got {value!r}") from None


def _table(transactions: Transactions | ir.Table) -> ir.Table:
    return transactions.table if isinstance(transactions, Transactions) else transactions


def _check_period(period: str) -> str | None:
    try:
        return PERIODS[period]
    except KeyError:
        raise InputError(
            f"unknown purchase period {period!r}; choose one of {', '.join(PERIODS)}"
        ) from None


def purchase_periods(
    transactions: Transactions | ir.Table,
    *,
    period: str = "day",
    after: _dt.date | None = None,
    through: _dt.date | None = None,
) -> ir.Table:
    """Transactions merged per customer and purchase period (first group-by).

    Keeps transactions dated after ``after`` (exclusive) and up to ``through`` (inclusive).
    Columns: ``customer_id, day`` (the period's first date), ``amount, cost`` (sums),
    ``n_missing_cost``, ``n_transactions``, ``n_returns`` (negative amounts), ``is_purchase``
    (``amount > 0``, or no returns in the period).
    """
    truncate = _check_period(period)
    t = _table(transactions)
    date = t.ts.date()
    if after is not None:
        t = t.filter(date > after)
    if through is not None:
        t = t.filter(date <= through)
    date = t.ts.date()
    day = date if truncate is None else date.truncate(truncate)
    merged = t.group_by(customer_id=t.customer_id, day=day).aggregate(
        amount=t.amount.sum(),
        cost=t.cost.sum(),
        n_missing_cost=t.cost.isnull().cast("int64").sum(),
        n_transactions=t.count(),
        n_returns=(t.amount < 0).cast("int64").sum(),
    )
    return merged.mutate(is_purchase=(merged.amount > 0) | (merged.n_returns == 0))


def _per_customer(days: ir.Table, end: _dt.date, unit: float, margin: float | None) -> ir.Table:
    """The second group-by: one row per customer with at least one purchase period."""
    buy = days.is_purchase
    agg = days.group_by("customer_id").aggregate(
        n_purchase_days=days.day.count(where=buy),
        first_purchase=days.day.min(where=buy),
        last_purchase=days.day.max(where=buy),
        purchase_amount=days.amount.sum(where=buy),
        first_amount=days.amount.argmin(days.day, where=buy),
        total_spend=days.amount.sum(),
        total_cost=days.cost.sum(),
        n_missing_cost=days.n_missing_cost.sum(),
    )
    agg = agg.filter(agg.n_purchase_days > 0)
    frequency = agg.n_purchase_days - 1
    repeat_amount = (agg.purchase_amount - agg.first_amount).cast("float64")
    if margin is None:
        total_margin = ibis.cases(
            (agg.n_missing_cost == 0, agg.total_spend - agg.total_cost),
            else_=ibis.null(agg.total_spend.type()),
        )
    else:
        scale = agg.total_spend.type()
        total_margin = (agg.total_spend * ibis.literal(Decimal(str(margin)))).cast(scale)
    return agg.select(
        customer_id=agg.customer_id,
        frequency=frequency.cast("int64"),
        recency=agg.last_purchase.delta(agg.first_purchase, unit="day").cast("float64") / unit,
        T=ibis.literal(end).delta(agg.first_purchase, unit="day").cast("float64") / unit,
        monetary_value=ibis.cases(
            (frequency > 0, repeat_amount / frequency.cast("float64")),
            else_=ibis.null("float64"),
        ),
        n_purchase_days=agg.n_purchase_days.cast("int64"),
        first_purchase=agg.first_purchase,
        last_purchase=agg.last_purchase,
        total_spend=agg.total_spend,
        total_margin=total_margin,
    )


def _count_after(t: ir.Table, end: _dt.date, con: Any) -> int:
    return int(scalar(t.filter(t.ts.date() > end).count(), con) or 0)


def customer_summary(
    transactions: Transactions | ir.Table,
    observation_end: _dt.date | str,
    *,
    unit: str | float = "day",
    period: str = "day",
    margin: float | None = None,
    con: Any = None,
) -> Summary:
    """Per-customer ``frequency, recency, T, monetary_value`` and spend (see the module doc).

    ``observation_end`` is a business-local date, included. Runs one small count query now
    (transactions after the end, :attr:`Summary.n_after_end`); the summary itself is lazy.
    """
    end = _as_date(observation_end, "observation_end")
    days_per_unit = unit_days(unit)
    _check_margin(margin)
    t = _table(transactions)
    days = purchase_periods(t, period=period, through=end)
    return Summary(
        table=_per_customer(days, end, days_per_unit, margin),
        observation_end=end,
        unit_days=days_per_unit,
        period=period,
        n_after_end=_count_after(t, end, con),
    )


def _check_margin(margin: float | None) -> None:
    if margin is not None and not -1.0 <= float(margin) <= 1.0:
        raise InputError(f"margin must be a fraction of the amount (0.3 for 30%), got {margin!r}")


def calibration_and_holdout_summary(
    transactions: Transactions | ir.Table,
    calibration_end: _dt.date | str,
    holdout_end: _dt.date | str,
    *,
    unit: str | float = "day",
    period: str = "day",
    margin: float | None = None,
    con: Any = None,
) -> Summary:
    """:func:`customer_summary` up to ``calibration_end``, plus the holdout period after it up to
    ``holdout_end`` (inclusive) for the customers seen in calibration:

    - ``frequency_holdout`` -- purchase periods in the holdout (0 when none);
    - ``monetary_value_holdout`` -- their mean amount (NULL when none);
    - ``duration_holdout`` -- holdout length, ``(holdout_end - calibration_end)`` days / unit.

    Customers whose first purchase falls in the holdout are not in the result (as in
    ``lifetimes``' ``calibration_and_holdout_data``).
    """
    cal_end = _as_date(calibration_end, "calibration_end")
    hold_end = _as_date(holdout_end, "holdout_end")
    if hold_end <= cal_end:
        raise InputError(f"holdout_end ({hold_end}) must be after calibration_end ({cal_end})")
    days_per_unit = unit_days(unit)
    _check_margin(margin)
    t = _table(transactions)
    calibration = _per_customer(
        purchase_periods(t, period=period, through=cal_end), cal_end, days_per_unit, margin
    )
    later = purchase_periods(t, period=period, after=cal_end, through=hold_end)
    later = later.filter(later.is_purchase)
    holdout = later.group_by("customer_id").aggregate(
        n_holdout=later.count(), amount_holdout=later.amount.sum()
    )
    joined = calibration.left_join(holdout, "customer_id")
    n_holdout = joined.n_holdout.fill_null(0).cast("int64")
    table = joined.select(
        *SUMMARY_COLUMNS,
        frequency_holdout=n_holdout,
        monetary_value_holdout=ibis.cases(
            (n_holdout > 0, joined.amount_holdout.cast("float64") / n_holdout.cast("float64")),
            else_=ibis.null("float64"),
        ),
        duration_holdout=ibis.literal((hold_end - cal_end).days / days_per_unit, "float64"),
    )
    return Summary(
        table=table,
        observation_end=cal_end,
        unit_days=days_per_unit,
        period=period,
        n_after_end=_count_after(t, hold_end, con),
        holdout_end=hold_end,
    )


#: Why a customer of the log has no summary row (:func:`customers_left_out`).
LEFT_OUT_REASONS = ("no_purchase_after_returns", "first_purchase_after_end")


def customers_left_out(
    transactions: Transactions | ir.Table,
    observation_end: _dt.date | str,
    *,
    period: str = "day",
    con: Any = None,
) -> dict[str, int]:
    """How many customers of the log a summary up to ``observation_end`` leaves out, and why
    (one query):

    - ``customers`` -- distinct customers in the log;
    - ``no_purchase_after_returns`` -- customers with transactions up to the end but no purchase
      period: their returns net every period's purchases to zero or less (a purchase fully
      refunded the same day);
    - ``first_purchase_after_end`` -- customers whose every transaction is after the end (with
      a holdout: after the calibration end, so they are not in the calibration summary).

    ``customers`` minus the two is the number of summary rows.
    """
    end = _as_date(observation_end, "observation_end")
    t = _table(transactions)
    periods = purchase_periods(t, period=period, through=end)
    bought = periods.group_by("customer_id").aggregate(
        n_purchases=periods.is_purchase.cast("int64").sum()
    )
    everyone = t.select("customer_id").distinct()
    joined = everyone.left_join(bought, everyone.customer_id == bought.customer_id).select(
        n_purchases=bought.n_purchases
    )
    counts = _one_row(
        joined.aggregate(
            customers=joined.count(),
            no_purchase_after_returns=(joined.n_purchases == 0).cast("int64").sum(),
            first_purchase_after_end=joined.n_purchases.isnull().cast("int64").sum(),
        ),
        con,
    )
    return {key: int(value or 0) for key, value in counts.items()}


def _one_row(table: ir.Table, con: Any) -> dict[str, Any]:
    """The one row of an aggregate, as a dict."""
    rows: list[dict[str, Any]] = to_arrow(table, con).to_pylist()
    return rows[0]


def repeat_purchases_by_period(
    transactions: Transactions | ir.Table, summary: Summary, start: _dt.date, period_days: int
) -> ir.Table:
    """Repeat purchases of the summary's customers per ``period_days``-day period counted from
    ``start`` (period 0 holds days ``start .. start + period_days - 1``), up to the holdout end
    (a calibration and holdout summary) or the observation end: purchase periods (the summary's
    :func:`purchase_periods`) after each customer's first purchase, the ones ``frequency`` and
    ``frequency_holdout`` count. Columns ``period`` (int64) and ``repeat_purchases``, periods
    without a repeat purchase left out. For the tracking plot of Fader, Hardie & Lee (2005),
    "Counting your customers the easy way", *Marketing Science* 24(2), Figure 3."""
    if period_days < 1:
        raise InputError(f"period_days must be >= 1, got {period_days}")
    end = summary.holdout_end or summary.observation_end
    days = purchase_periods(transactions, period=summary.period, through=end)
    days = days.filter(days.is_purchase)
    customers = summary.table.select("customer_id", "first_purchase")
    joined = days.join(customers, "customer_id")
    joined = joined.filter(joined.day > joined.first_purchase)
    offset = joined.day.delta(ibis.literal(start), unit="day")
    with_period = joined.mutate(period=(offset // period_days).cast("int64"))
    return with_period.group_by("period").aggregate(repeat_purchases=with_period.count())


def rfm_inputs(summary: Summary) -> ir.Table:
    """The inputs of RFM scoring (:func:`kehu.analytics.rfm.rfm_table`), which uses its own
    definitions: ``recency_days`` = days from the last purchase to the observation end (fewer
    is better), ``frequency`` = number of purchase periods (the first included), ``monetary``
    = total (net) spend, as float."""
    t = summary.table
    return t.select(
        customer_id=t.customer_id,
        recency_days=ibis.literal(summary.observation_end).delta(t.last_purchase, unit="day"),
        frequency=t.n_purchase_days,
        monetary=t.total_spend.cast("float64"),
    )


def compress(summary: Summary | ir.Table, by: Sequence[str] = MODEL_KEYS) -> ir.Table:
    """Identical ``by`` rows (default ``frequency, recency, T``) grouped, with a ``weight`` count,
    ordered by ``by``. The models fit on this; its size is bounded by the number of distinct
    (frequency, recency, T) triples, not by the number of customers."""
    t = summary.table if isinstance(summary, Summary) else summary
    keys = list(by)
    return t.group_by(keys).aggregate(weight=t.count()).order_by(keys)


def join_scores(
    summary: Summary | ir.Table,
    scores: ir.Table | pa.Table | pd.DataFrame,
    *,
    on: Sequence[str] = MODEL_KEYS,
) -> ir.Table:
    """Attach scores computed per distinct row of :func:`compress` to every customer, in the
    engine (a left join on ``on``; customers whose row has no score get NULLs).

    ``scores`` holds the ``on`` columns with the values of the compressed rows, unchanged (they
    are matched exactly), and any score columns; a ``weight`` column is ignored.
    """
    t = summary.table if isinstance(summary, Summary) else summary
    keys = list(on)
    table = arrow_table(scores)
    if table is not None:
        scores = ibis.memtable(table)
    assert isinstance(scores, ir.Table)  # an Arrow table or a DataFrame became one above
    missing = [k for k in keys if k not in scores.columns]
    if missing:
        raise InputError(f"the scores lack the key columns {missing}; found {scores.columns}")
    extra = [c for c in scores.columns if c not in keys and c != "weight"]
    clash = [c for c in extra if c in t.columns]
    if clash:
        raise InputError(f"score columns {clash} are already in the summary")
    right = scores.select(*keys, *extra)
    joined = t.left_join(right, keys)
    return joined.select(*[t[c] for c in t.columns], *[right[c] for c in extra])
