"""Customer profit: margin minus cost-to-serve.

The largest customers are not always the most profitable: they ask for more service and bigger
discounts, and the cost of serving them can eat the margin. Activity-based costing of customers
(Kaplan & Narayanan 2001, "Measuring and Managing Customer Profitability", *Journal of Cost
Management* 15(5), 5-15; Kaplan & Anderson 2004, "Time-Driven Activity-Based Costing", *Harvard
Business Review* 82(11)) puts the cost-to-serve (handling time x rate, discounts, service) against
each customer's margin; sorting customers by profit gives the "whale curve" (see
:func:`kehu.analytics.tiers.pareto_curve`, which accepts negative values).

    margin         = amount - cost            (when product cost is known)
                   = amount * margin_rate     (otherwise, with a margin fraction)
    profit         = margin - cost_to_serve   (a missing cost-to-serve counts as 0)
    profitable     = profit > 0

Floats and money
----------------
:func:`customer_profit` works on float arrays: fast and exact enough to rank, tier and chart
customers. A float profit within 1e-12 (relative to the amounts involved) of zero is set to
exactly 0, so that rounding noise (``0.3 - 0.1 - 0.2 == 5.6e-17``) does not make a break-even
customer "profitable". Money *of record* -- ledgers, invoices,
anything stored or summed for accounting -- stays :class:`decimal.Decimal` in the store; use
:func:`profit_of` there, which computes the same formula in exact decimal arithmetic. Round only for
display.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from kehu.analytics._base import FloatArray, as_float_array
from kehu.errors import InputError

__all__ = ["customer_profit", "profit_of"]

_RELATIVE_NOISE = 1e-12


def _broadcast(value: ArrayLike, n: int, name: str) -> FloatArray:
    array = as_float_array(value, name)
    if len(array) == 1 and n != 1:
        return np.full(n, array[0])
    if len(array) != n:
        raise InputError(f"{name} must have length {n} (one per customer), got {len(array)}")
    return array


def customer_profit(
    amount: ArrayLike,
    *,
    cost: ArrayLike | None = None,
    margin_rate: ArrayLike | None = None,
    cost_to_serve: ArrayLike | None = None,
    index: ArrayLike | None = None,
) -> pd.DataFrame:
    """Margin, cost-to-serve, profit and profitable flag per customer (float arithmetic).

    Parameters
    ----------
    amount:
        Revenue per customer (may be negative after returns).
    cost:
        Product cost per customer; ``margin = amount - cost``. Give exactly one of ``cost`` and
        ``margin_rate``.
    margin_rate:
        Margin as a fraction of ``amount`` (scalar or per customer, at most 1);
        ``margin = amount * margin_rate``.
    cost_to_serve:
        Cost of serving each customer (scalar or per customer); ``None`` or NaN entries count as 0.
    index:
        Customer ids for the rows of the result.

    Returns
    -------
    DataFrame with columns ``amount, margin, cost_to_serve, profit, profitable`` (bool).
    """
    revenue = as_float_array(amount, "amount")
    n = len(revenue)
    if (cost is None) == (margin_rate is None):
        raise InputError("give exactly one of cost and margin_rate")
    if cost is not None:
        margin = revenue - _broadcast(cost, n, "cost")
    else:
        assert margin_rate is not None
        rate = _broadcast(margin_rate, n, "margin_rate")
        above = rate > 1
        if above.any():
            i = int(np.flatnonzero(above)[0])
            raise InputError(
                "margin_rate must be at most 1 (a margin above the amount means a negative cost)",
                row=i + 1,
                column="margin_rate",
                value=rate[i],
            )
        margin = revenue * rate
    if cost_to_serve is None:
        serve = np.zeros(n)
    else:
        raw = np.atleast_1d(np.asarray(cost_to_serve, dtype=np.float64))
        serve = _broadcast(np.where(np.isnan(raw), 0.0, raw), n, "cost_to_serve")
    profit = margin - serve
    # float rounding noise around zero (0.3 - 0.1 - 0.2 == 5.6e-17) must not flip the flag
    scale = np.maximum.reduce([np.abs(revenue), np.abs(margin), np.abs(serve)])
    profit = np.where(np.abs(profit) <= _RELATIVE_NOISE * scale, 0.0, profit)
    return pd.DataFrame(
        {
            "amount": revenue,
            "margin": margin,
            "cost_to_serve": serve,
            "profit": profit,
            "profitable": profit > 0,
        },
        index=None if index is None else pd.Index(np.asarray(index)),
    )


def profit_of(
    amount: Decimal,
    *,
    cost: Decimal | None = None,
    margin_rate: Decimal | None = None,
    cost_to_serve: Decimal | None = None,
) -> Decimal:
    """One customer's profit in exact decimal arithmetic (same rule as :func:`customer_profit`).

    Floats are refused (:class:`~kehu.errors.InputError`): convert money to ``Decimal`` from its
    string form, never from a binary float.
    """
    for name, value in (
        ("amount", amount),
        ("cost", cost),
        ("margin_rate", margin_rate),
        ("cost_to_serve", cost_to_serve),
    ):
        if value is not None and not isinstance(value, Decimal | int):
            raise InputError(
                f"{name} must be a Decimal (or int), got {type(value).__name__}",
                column=name,
                value=value,
            )
        if isinstance(value, Decimal) and not value.is_finite():
            raise InputError(f"{name} must be finite", column=name, value=value)
    if (cost is None) == (margin_rate is None):
        raise InputError("give exactly one of cost and margin_rate")
    revenue = Decimal(amount)
    if cost is not None:
        margin = revenue - Decimal(cost)
    else:
        assert margin_rate is not None
        if Decimal(margin_rate) > 1:
            raise InputError(
                "margin_rate must be at most 1", column="margin_rate", value=margin_rate
            )
        margin = revenue * Decimal(margin_rate)
    serve = Decimal(0) if cost_to_serve is None else Decimal(cost_to_serve)
    return margin - serve
