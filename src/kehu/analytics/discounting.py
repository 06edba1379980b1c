"""Discount rates per time unit: numpy only, so the value options can convert a rate without
loading the models' scipy (a front door validates its options and its file first)."""

from __future__ import annotations

import numpy as np

from kehu.errors import InputError

#: The mean length of a year in days (the Gregorian calendar's 365.2425, rounded as Julian).
DAYS_PER_YEAR = 365.25


def per_period_discount_rate(annual_rate: float, period_days: float) -> float:
    """The discount rate per period of ``period_days`` days equivalent to ``annual_rate``.

    Compounding is exact: ``(1 + annual_rate) ** (period_days / 365.25) - 1``, so that
    compounding the result over one year (365.25 days) gives back ``annual_rate``. For example
    10 % a year is 0.797 % per 30.4375-day month and 0.183 % per week.
    """
    if not np.isfinite(annual_rate) or annual_rate <= -1.0:
        raise InputError("annual_rate must be > -1", column="annual_rate", value=annual_rate)
    if not np.isfinite(period_days) or period_days <= 0:
        raise InputError("period_days must be > 0", column="period_days", value=period_days)
    return float(np.expm1(np.log1p(annual_rate) * period_days / DAYS_PER_YEAR))
