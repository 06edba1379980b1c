"""Customer lifetime value: discounted expected margin from a transaction model and a spend model.

The residual value of a customer over the next ``horizon`` periods is (Fader, Hardie & Lee 2005,
"RFM and CLV: Using Iso-Value Curves for Customer Base Analysis", JMR 42(4), with the discounting
done period by period instead of in continuous time)::

    CLV = Σ_{i=1..horizon} ( E[X(T, T + i·u) | x, t_x, T] - E[X(T, T + (i-1)·u) | x, t_x, T] )
                           · E[spend] · margin / (1 + d)^i

where ``u`` is the length of one period in the model's time unit (``time_units_per_period``),
``E[X(T, T+t) | ...]`` the transaction model's ``conditional_expected_purchases`` and ``d`` the
discount rate per period. Purchases expected during period i are discounted to the end of
period i (a conservative, "end of period" convention).

The expected spend is either given (a number or one per customer) or computed by a fitted
spend model such as :class:`~kehu.analytics.gammagamma.GammaGammaModel` from each customer's
frequency and ``monetary_value``.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike

from kehu.analytics._base import FloatArray, group_rows
from kehu.analytics.discounting import DAYS_PER_YEAR, per_period_discount_rate
from kehu.errors import InputError

__all__ = [
    "DAYS_PER_YEAR",
    "SpendModel",
    "TransactionModel",
    "customer_lifetime_value",
    "per_period_discount_rate",
]


class TransactionModel(Protocol):
    """Anything with the BG/NBD-style conditional expectation (BG/NBD, MBG/NBD, Pareto/NBD ...)."""

    def conditional_expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> Any: ...


class SpendModel(Protocol):
    """Anything with the Gamma-Gamma-style expected spend."""

    def conditional_expected_spend(
        self, frequency: ArrayLike, monetary_value: ArrayLike
    ) -> Any: ...


def customer_lifetime_value(
    transaction_model: TransactionModel,
    spend: ArrayLike | SpendModel,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    horizon: int,
    discount_rate_per_period: float,
    margin: float = 1.0,
    time_units_per_period: float = 1.0,
    monetary_value: ArrayLike | None = None,
) -> Any:
    """Discounted expected margin of each customer over the next ``horizon`` periods.

    ``transaction_model`` is a fitted model with ``conditional_expected_purchases(t, frequency,
    recency, T)``, its time unit being that of ``recency`` and ``T``. ``spend`` is the expected
    value per transaction (scalar or one per customer) or a fitted spend model with
    ``conditional_expected_spend(frequency, monetary_value)``, in which case ``monetary_value``
    is required. ``time_units_per_period`` converts a discounting period into the model's unit
    (e.g. 30.4375 for monthly periods on a model fitted in days; 1 when they coincide), and
    ``discount_rate_per_period`` is the rate per such period (see
    :func:`per_period_discount_rate`). ``margin`` is the share of spend kept as profit.

    Returns a float for scalar inputs, else one value per customer. Identical customers are
    computed once.
    """
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 0:
        raise InputError("horizon must be a whole number of periods >= 0", column="horizon")
    for name, value, lowest in (
        ("discount_rate_per_period", discount_rate_per_period, -1.0),
        ("time_units_per_period", time_units_per_period, 0.0),
    ):
        if not np.isfinite(value) or value <= lowest:
            raise InputError(f"{name} must be > {lowest:g}", column=name, value=value)
    if not np.isfinite(margin):
        raise InputError("margin must be finite", column="margin", value=margin)

    scalar_input = all(np.ndim(v) == 0 for v in (frequency, recency, T))
    x, t_x, t_cal = (
        np.atleast_1d(np.asarray(v, dtype=np.float64)).ravel() for v in (frequency, recency, T)
    )
    x, t_x, t_cal = np.broadcast_arrays(x, t_x, t_cal)
    expected_spend = _expected_spend(spend, x, monetary_value)
    if not np.all(np.isfinite(expected_spend)):
        index = int(np.flatnonzero(~np.isfinite(expected_spend))[0])
        raise InputError("expected spend must be finite", row=index + 1, column="spend")

    # The expectation depends only on (x, t_x, T): evaluate each distinct customer once.
    (x_unique, t_x_unique, t_cal_unique), group_of_row = group_rows([x, t_x, t_cal])
    discounted_purchases = np.zeros(len(x_unique))
    previous = np.zeros(len(x_unique))
    for period in range(1, horizon + 1):
        cumulative = np.asarray(
            transaction_model.conditional_expected_purchases(
                period * time_units_per_period, x_unique, t_x_unique, t_cal_unique
            ),
            dtype=np.float64,
        )
        discounted_purchases += (cumulative - previous) / (1.0 + discount_rate_per_period) ** period
        previous = cumulative
    values = discounted_purchases[group_of_row] * expected_spend * margin
    spend_is_scalar = not hasattr(spend, "conditional_expected_spend") and np.ndim(spend) == 0
    monetary_is_scalar = monetary_value is None or np.ndim(monetary_value) == 0
    if scalar_input and spend_is_scalar and monetary_is_scalar:
        return float(values[0])
    return values


def _expected_spend(
    spend: ArrayLike | SpendModel, frequency: FloatArray, monetary_value: ArrayLike | None
) -> FloatArray:
    if hasattr(spend, "conditional_expected_spend"):
        if monetary_value is None:
            raise InputError(
                "monetary_value is required when spend is a spend model", column="monetary_value"
            )
        monetary = np.atleast_1d(np.asarray(monetary_value, dtype=np.float64)).ravel()
        frequency, monetary = np.broadcast_arrays(frequency, monetary)
        return np.asarray(spend.conditional_expected_spend(frequency, monetary), dtype=np.float64)
    values = np.atleast_1d(np.asarray(spend, dtype=np.float64)).ravel()
    return np.asarray(np.broadcast_to(values, frequency.shape), dtype=np.float64)
