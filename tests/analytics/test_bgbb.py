"""BG/BB: published donations figures, internal consistency of the closed forms, numerical
stability far from the data, input and identification errors, and parameter recovery."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import approx_fprime

from kehu.analytics import bgbb
from kehu.analytics.bgbb import BetaGeoBetaBinomModel
from kehu.analytics.datasets import load_donations
from kehu.analytics.simulate_bgbb import simulate_bgbb
from kehu.errors import IdentificationError, InputError, NotFittedError

PUBLISHED = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
PUBLISHED_LOG_LIKELIHOOD = -33225.6


@pytest.fixture(scope="module")
def donations() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return load_donations()


@pytest.fixture(scope="module")
def fitted(
    donations: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> BetaGeoBetaBinomModel:
    return BetaGeoBetaBinomModel().fit(*donations)


# --- published figures ---------------------------------------------------------------------------
def test_donations_estimates_match_published(fitted: BetaGeoBetaBinomModel) -> None:
    """Fader, Hardie & Shang (2010), "Customer-Base Analysis in a Discrete-Time Noncontractual
    Setting", Marketing Science 29(6), section 4: on the 11,104 donors of the 1995 cohort with 6
    repeat opportunities, alpha = 1.204, beta = 0.750, gamma = 0.657, delta = 2.783 and
    LL = -33,225.6. Pinned to one unit of the last published digit, LL to 0.05."""
    for name, published in PUBLISHED.items():
        assert fitted.params_[name] == pytest.approx(published, abs=1e-3), name
    assert fitted.log_likelihood_ == pytest.approx(PUBLISHED_LOG_LIKELIHOOD, abs=0.05)
    assert fitted.n_observations_ == 11104
    assert all(np.isfinite(v) and v > 0 for v in fitted.standard_errors_.values())


def test_probability_alive_matches_published_table_6(fitted: BetaGeoBetaBinomModel) -> None:
    """Fader, Hardie & Shang (2010), Table 6, "P(alive in 2002)" (eq. (11), alive in period
    n + 1): 0.11 for a donor with no repeat donation, 0.59 for x = 2, t_x = 4, 0.93 for
    x = 6, t_x = 6."""
    alive = fitted.probability_alive([0, 2, 6], [0, 4, 6], 6, n_future_periods=1)
    np.testing.assert_allclose(alive, [0.11, 0.59, 0.93], atol=0.005)


def test_expectations_match_published_spreadsheet(
    fitted: BetaGeoBetaBinomModel,
    donations: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> None:
    """Fader, Hardie & Berger (2011), "Implementing the BG/BB Model for Customer-Base Analysis in
    Excel" (brucehardie.com/notes/010), spreadsheet of 2011-01-20: expected repeat donations over
    the next 5 years summed over the 11,104 donors = 12,884.2 (sheet "Conditional Expectations
    (II)", eq. (13)); expected numbers of donors with 0 and 6 repeat donations in 1996-2001 =
    3,454.9 and 1,253.1 (sheet "In-Sample Fit", eq. (8))."""
    x, t_x, n, weights = donations
    total = np.sum(fitted.conditional_expected_purchases(5, x, t_x, n) * weights)
    assert total == pytest.approx(12884.2, abs=0.05)
    expected_counts = fitted.probability_of_purchases([0, 6], 6) * weights.sum()
    np.testing.assert_allclose(expected_counts, [3454.9, 1253.1], atol=0.05)


# --- internal consistency ------------------------------------------------------------------------
def test_distribution_and_expectation_agree(fitted: BetaGeoBetaBinomModel) -> None:
    """P(X(n) = x) (eq. (8)) sums to 1 and has mean E[X(n)] (eq. (9))."""
    for n in (0, 1, 6, 40):
        counts = np.arange(n + 1)
        probabilities = fitted.probability_of_purchases(counts, n)
        assert probabilities.sum() == pytest.approx(1.0, abs=1e-12)
        assert counts @ probabilities == pytest.approx(fitted.expected_purchases(n), abs=1e-12)
    assert fitted.probability_of_purchases(7, 6) == 0.0


def test_closed_form_sums_agree_with_direct_sums(
    fitted: BetaGeoBetaBinomModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sums over very many periods switch to the telescoping closed form of eqs. (9) and (13);
    both ways agree."""
    horizons = np.array([1, 5, 300, 5000])
    direct = fitted.conditional_expected_purchases(horizons, 3, 5, 6)
    direct_unconditional = fitted.expected_purchases(horizons)
    monkeypatch.setattr(bgbb, "_DIRECT_SUM_MAX_PERIODS", 0)
    np.testing.assert_allclose(
        fitted.conditional_expected_purchases(horizons, 3, 5, 6), direct, rtol=1e-9
    )
    np.testing.assert_allclose(fitted.expected_purchases(horizons), direct_unconditional, rtol=1e-9)
    at_one = BetaGeoBetaBinomModel.from_params({**PUBLISHED, "gamma": 1.0})
    near_one = BetaGeoBetaBinomModel.from_params({**PUBLISHED, "gamma": 1.0 + 1e-6})
    assert at_one.expected_purchases(50) == pytest.approx(near_one.expected_purchases(50), rel=1e-5)


def test_probability_alive_decreases_into_the_future(fitted: BetaGeoBetaBinomModel) -> None:
    now = fitted.probability_alive([0, 2, 6], [0, 4, 6], 6)
    next_period = fitted.probability_alive([0, 2, 6], [0, 4, 6], 6, n_future_periods=1)
    assert np.all(now > next_period)
    assert fitted.probability_alive(6, 6, 6) == pytest.approx(fitted.probability_alive(6, 6, 6, 0))


def test_analytic_gradient_matches_finite_differences(
    donations: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> None:
    x, t_x, n, weights = donations
    model = BetaGeoBetaBinomModel()
    point = np.array([1.1, 0.8, 0.7, 2.5])
    analytic = model._log_likelihood_gradient_rows(point, x, t_x, n) @ weights
    numeric = approx_fprime(
        point, lambda p: float(weights @ model._log_likelihood_rows(p, x, t_x, n)), 1e-6
    )
    np.testing.assert_allclose(analytic, numeric, rtol=1e-4)


def test_scalars_and_arrays(fitted: BetaGeoBetaBinomModel) -> None:
    assert isinstance(fitted.probability_alive(2, 4, 6), float)
    assert fitted.probability_alive([2, 3], [4, 5], 6).shape == (2,)
    assert isinstance(fitted.expected_purchases(6), float)
    assert fitted.conditional_expected_purchases([1, 5], 2, 4, 6).shape == (2,)


# --- stability far from the data -----------------------------------------------------------------
positive = st.floats(min_value=-5.0, max_value=5.0).map(np.exp)


@settings(max_examples=100, deadline=None)
@given(
    alpha=positive,
    beta=positive,
    gamma=positive,
    delta=positive,
    n=st.integers(min_value=0, max_value=3000),
    frequency_share=st.floats(min_value=0.0, max_value=1.0),
    recency_at_end=st.booleans(),
)
def test_finite_far_from_the_data(
    alpha: float,
    beta: float,
    gamma: float,
    delta: float,
    n: int,
    frequency_share: float,
    recency_at_end: bool,
) -> None:
    """Thousands of periods, every frequency from 0 to n, recency = n or = frequency,
    parameters from e^-5 to e^5: no NaN, no inf, no floating-point warning."""
    x = round(frequency_share * n)
    t_x = 0 if x == 0 else (n if recency_at_end else x)
    model = BetaGeoBetaBinomModel.from_params(
        {"alpha": alpha, "beta": beta, "gamma": gamma, "delta": delta}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        log_likelihood = model.log_likelihood([x], [t_x], [n])
        alive = model.probability_alive(x, t_x, n)
        expected = model.conditional_expected_purchases(10, x, t_x, n)
        pmf = model.probability_of_purchases(x, n)
        mean = model.expected_purchases(n)
    assert np.isfinite(log_likelihood) and log_likelihood <= 1e-12  # a probability here
    assert 0.0 <= alive <= 1.0
    assert np.isfinite(expected) and 0.0 <= expected <= 10.0 + 1e-9
    assert 0.0 <= pmf <= 1.0
    assert 0.0 <= mean <= n + 1e-9


# --- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("frequency", "recency", "n_periods", "column", "row"),
    [
        ([1, -1], [1, 0], [6, 6], "frequency", 2),
        ([1, 7], [1, 6], [6, 6], "frequency", 2),
        ([1, 2], [1, 7], [6, 6], "recency", 2),
        ([np.nan, 2], [1, 2], [6, 6], "frequency", 1),
        ([1, 2], [1, 2.5], [6, 6], "recency", 2),
        ([3, 2], [2, 2], [6, 6], "frequency", 1),
    ],
)
def test_bad_input_names_field_and_row(
    frequency: list[float], recency: list[float], n_periods: list[float], column: str, row: int
) -> None:
    with pytest.raises(InputError) as caught:
        BetaGeoBetaBinomModel().fit(frequency, recency, n_periods)
    assert caught.value.column == column
    assert caught.value.row == row


def test_frequency_above_n_periods_is_named() -> None:
    with pytest.raises(InputError, match="frequency must not exceed n_periods"):
        BetaGeoBetaBinomModel().fit([1, 7], [1, 6], [6, 6])


@pytest.mark.parametrize(
    ("frequency", "recency", "reason"),
    [
        ([0, 0, 0], [0, 0, 0], "no customer made a repeat"),
        ([6, 6, 6], [6, 6, 6], "every customer transacted at every"),
    ],
)
def test_unidentifiable_data(frequency: list[int], recency: list[int], reason: str) -> None:
    with pytest.raises(IdentificationError, match=reason):
        BetaGeoBetaBinomModel().fit(frequency, recency, [6, 6, 6])


def test_not_fitted() -> None:
    with pytest.raises(NotFittedError):
        BetaGeoBetaBinomModel().expected_purchases(6)


def test_weights_equal_repeated_rows(
    donations: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    fitted: BetaGeoBetaBinomModel,
) -> None:
    x, t_x, n, weights = donations
    counts = weights.astype(int)
    expanded = BetaGeoBetaBinomModel().fit(
        np.repeat(x, counts), np.repeat(t_x, counts), np.repeat(n, counts)
    )
    assert expanded.diagnostics_.n_distinct_rows == len(x)
    assert expanded.log_likelihood_ == pytest.approx(fitted.log_likelihood_, rel=1e-12)
    for name in PUBLISHED:
        assert expanded.params_[name] == pytest.approx(fitted.params_[name], rel=1e-6)


# --- simulation ----------------------------------------------------------------------------------
def test_recovers_parameters_from_simulated_customers() -> None:
    """20,000 donors drawn at the published donations parameters over 6 opportunities: the fit
    recovers every parameter within 3 standard errors, and the expected alive share at the end
    of the window matches the simulated one."""
    customers = simulate_bgbb(20_000, **PUBLISHED, n_periods=6, seed=7)
    model = BetaGeoBetaBinomModel().fit(customers.frequency, customers.recency, customers.n_periods)
    for name, value in PUBLISHED.items():
        assert abs(model.params_[name] - value) < 3 * model.standard_errors_[name], name
    at_truth = BetaGeoBetaBinomModel.from_params(PUBLISHED)
    alive = at_truth.probability_alive(customers.frequency, customers.recency, 6)
    assert alive.mean() == pytest.approx(np.mean(customers.alive_periods == 6), abs=0.01)
