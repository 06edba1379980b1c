"""Customer lifetime value (``kehu.analytics.clv``): the period-by-period discounted sum and the
discount-rate conversion."""

from __future__ import annotations

import numpy as np
import pytest

from kehu.analytics import (
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    customer_lifetime_value,
    per_period_discount_rate,
)
from kehu.errors import InputError

BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # weeks, FHL 2005
GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def test_per_period_discount_rate() -> None:
    assert per_period_discount_rate(0.10, 365.25) == pytest.approx(0.10, rel=1e-12)
    monthly = per_period_discount_rate(0.10, 365.25 / 12)
    assert (1 + monthly) ** 12 == pytest.approx(1.10, rel=1e-12)
    assert monthly == pytest.approx(0.007974, abs=1e-6)
    assert per_period_discount_rate(0.0, 7) == 0.0
    with pytest.raises(InputError):
        per_period_discount_rate(-1.5, 7)
    with pytest.raises(InputError):
        per_period_discount_rate(0.1, 0)


def test_clv_is_the_discounted_sum_of_period_increments() -> None:
    model = BetaGeoModel.from_params(BGNBD)
    frequency, recency, T = np.array([2, 0, 7]), np.array([30.43, 0, 35.0]), np.array([38.86] * 3)
    spend, margin, rate, weeks_per_month = np.array([40.0, 35.0, 20.0]), 0.3, 0.01, 4.348
    clv = customer_lifetime_value(
        model, spend, frequency, recency, T, horizon=24, discount_rate_per_period=rate,
        margin=margin, time_units_per_period=weeks_per_month,
    )  # fmt: skip
    expected = np.zeros(3)
    for i in range(1, 25):
        increment = model.conditional_expected_purchases(
            i * weeks_per_month, frequency, recency, T
        ) - model.conditional_expected_purchases((i - 1) * weeks_per_month, frequency, recency, T)
        expected += increment * spend * margin / (1 + rate) ** i
    np.testing.assert_allclose(clv, expected, rtol=1e-12)


def test_undiscounted_clv_is_expected_purchases_times_spend() -> None:
    model = ModifiedBetaGeoModel.from_params({"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614})
    clv = customer_lifetime_value(model, 50.0, 3, 20.0, 30.0, 52, 0.0)
    assert isinstance(clv, float)
    assert clv == pytest.approx(50.0 * model.conditional_expected_purchases(52, 3, 20.0, 30.0))
    assert customer_lifetime_value(model, 50.0, 3, 20.0, 30.0, 0, 0.01) == 0.0


def test_spend_model_and_identical_customers() -> None:
    transactions = BetaGeoModel.from_params(BGNBD)
    spend = GammaGammaModel.from_params(GAMMA_GAMMA)
    frequency = np.array([2, 2, 0, 5])
    recency = np.array([30.0, 30.0, 0.0, 38.0])
    T = np.array([38.0, 38.0, 38.0, 38.0])
    monetary = np.array([20.0, 20.0, 0.0, 55.0])
    clv = customer_lifetime_value(
        transactions, spend, frequency, recency, T, 12, 0.01, margin=0.25,
        time_units_per_period=4.348, monetary_value=monetary,
    )  # fmt: skip
    assert clv[0] == clv[1]
    direct = customer_lifetime_value(
        transactions, spend.conditional_expected_spend(frequency, monetary), frequency, recency,
        T, 12, 0.01, margin=0.25, time_units_per_period=4.348,
    )  # fmt: skip
    np.testing.assert_allclose(clv, direct, rtol=1e-12)
    assert np.all(clv > 0)
    with pytest.raises(InputError, match="monetary_value"):
        customer_lifetime_value(transactions, spend, frequency, recency, T, 12, 0.01)


def test_clv_stays_finite_for_extreme_customers() -> None:
    model = BetaGeoModel.from_params(BGNBD)
    clv = customer_lifetime_value(
        model, 10.0, [0, 4000, 3000], [0.0, 4000.0, 5.0], [5000.0, 4000.0, 4000.0], 120, 0.005
    )
    assert np.all(np.isfinite(clv)) and np.all(clv >= 0)


def test_bad_arguments() -> None:
    model = BetaGeoModel.from_params(BGNBD)
    with pytest.raises(InputError, match="horizon"):
        customer_lifetime_value(model, 1.0, 1, 1.0, 2.0, -1, 0.01)
    with pytest.raises(InputError, match="horizon"):
        customer_lifetime_value(model, 1.0, 1, 1.0, 2.0, 2.5, 0.01)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="discount_rate_per_period"):
        customer_lifetime_value(model, 1.0, 1, 1.0, 2.0, 3, -1.0)
    with pytest.raises(InputError, match="time_units_per_period"):
        customer_lifetime_value(model, 1.0, 1, 1.0, 2.0, 3, 0.01, time_units_per_period=0)
