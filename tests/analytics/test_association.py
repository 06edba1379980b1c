"""Correlation and effects of the desk's measures on what customers say, pinned to scipy and
statsmodels computed here on the same data:

* Pearson's r, its p-value and Fisher-z interval: ``scipy.stats.pearsonr`` and its
  ``confidence_interval`` (which is Fisher's z-transformation);
* the least-squares slope: ``statsmodels.api.OLS`` (``params``, ``conf_int``, ``pvalues``);
* the relative effect: ``statsmodels.api.GLM`` with the Poisson family and ``cov_type="HC0"``
  (the modified Poisson regression of Zou 2004), ``exp(b) - 1`` of its estimate and interval.
"""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from kehu.analytics.association import correlation, linear_effect, relative_effect
from kehu.errors import EmptyInputError, InputError


def desk_sample(n: int = 240, seed: int = 7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Transfers per ticket, the customer's tenure (a covariate) and whether the customer came
    back (0/1), less often the more transfers."""
    rng = np.random.default_rng(seed)
    transfers = rng.poisson(1.2, n).astype(float)
    tenure = rng.gamma(2.0, 1.5, n)
    came_back = (rng.random(n) < 0.7 * np.exp(-0.12 * transfers + 0.02 * tenure)).astype(float)
    return transfers, tenure, came_back


def test_correlation_matches_scipy_pearsonr() -> None:
    rng = np.random.default_rng(3)
    kept = rng.uniform(0.6, 1.0, 40)  # kept-promise rate per team-month
    rating = 3 + 3 * kept + rng.normal(0, 0.3, 40)  # mean reliability rating
    result = correlation(kept, rating, level=0.9)
    oracle = stats.pearsonr(kept, rating)
    interval = oracle.confidence_interval(confidence_level=0.9)
    assert result.estimate == pytest.approx(oracle.statistic, abs=1e-12)
    assert result.p_value == pytest.approx(oracle.pvalue, rel=1e-9)
    assert (result.low, result.high) == pytest.approx((interval.low, interval.high), abs=1e-12)
    assert result.n == 40 and not result.small_sample


def test_correlation_leaves_out_incomplete_pairs() -> None:
    x = [1.0, 2.0, None, 4.0, 5.0, 6.0, 7.0]
    y = [2.0, 1.0, 3.0, np.nan, 6.0, 5.0, 8.0]
    result = correlation(x, y)
    oracle = stats.pearsonr([1, 2, 5, 6, 7], [2, 1, 6, 5, 8])
    assert result.estimate == pytest.approx(oracle.statistic)
    assert result.n == 5 and result.n_missing == 2 and result.small_sample


def test_linear_effect_matches_statsmodels_ols() -> None:
    transfers, tenure, came_back = desk_sample()
    result = linear_effect(came_back, transfers, covariates=tenure, level=0.9)
    fit = sm.OLS(came_back, sm.add_constant(np.column_stack([transfers, tenure]))).fit()
    low, high = fit.conf_int(alpha=0.1)[1]
    assert result.estimate == pytest.approx(fit.params[1], abs=1e-12)
    assert (result.low, result.high) == pytest.approx((low, high), abs=1e-12)
    assert result.p_value == pytest.approx(fit.pvalues[1], rel=1e-8)
    assert result.standard_error == pytest.approx(fit.bse[1], rel=1e-10)


@pytest.mark.parametrize("with_covariate", [False, True])
def test_relative_effect_is_statsmodels_modified_poisson(with_covariate: bool) -> None:
    transfers, tenure, came_back = desk_sample()
    covariates = tenure if with_covariate else None
    result = relative_effect(came_back, transfers, covariates=covariates)
    columns = [transfers, tenure] if with_covariate else [transfers]
    fit = sm.GLM(
        came_back, sm.add_constant(np.column_stack(columns)), family=sm.families.Poisson()
    ).fit(cov_type="HC0")
    low, high = fit.conf_int(alpha=0.05)[1]
    assert result.estimate == pytest.approx(np.expm1(fit.params[1]), abs=1e-9)
    assert (result.low, result.high) == pytest.approx((np.expm1(low), np.expm1(high)), abs=1e-9)
    assert result.standard_error == pytest.approx(fit.bse[1], rel=1e-7)
    assert result.p_value == pytest.approx(fit.pvalues[1], rel=1e-6)
    assert result.estimate < 0  # fewer come back after more transfers


def test_constant_or_short_columns_are_named_errors() -> None:
    with pytest.raises(InputError, match="constant") as error:
        linear_effect([1, 2, 3, 4], [2, 2, 2, 2], names=("ces", "transfers"))
    assert error.value.column == "transfers"
    with pytest.raises(InputError, match="constant"):
        correlation([1, 1, 1, 1], [1, 2, 3, 4])
    with pytest.raises(InputError, match="at least 4"):
        correlation([1, 2, 3], [1, 2, 4])
    with pytest.raises(InputError, match="at least 4 are needed"):
        linear_effect([1, 2, 3], [0, 1, 2], names=("ces", "transfers"))
    with pytest.raises(InputError, match="collinear"):
        linear_effect([1, 2, 3, 4, 5, 6], [0, 1, 2, 3, 4, 5], covariates=[0, 2, 4, 6, 8, 10])
    with pytest.raises(InputError, match="length"):
        correlation([1, 2, 3, 4], [1, 2, 3])


def test_relative_effect_needs_a_non_negative_outcome() -> None:
    with pytest.raises(InputError) as error:
        relative_effect([1, -1, 0, 1, 1], [0, 1, 2, 3, 4], names=("came back", "transfers"))
    assert error.value.column == "came back" and error.value.row == 2
    with pytest.raises(InputError, match="0 on every row"):
        relative_effect([0, 0, 0, 0, 0], [0, 1, 2, 3, 4])


def test_nothing_complete_is_an_empty_input_error() -> None:
    with pytest.raises(EmptyInputError):
        correlation([1, None, 3, 4], [None, 2, None, None])
