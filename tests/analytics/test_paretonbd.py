"""Pareto/NBD: published CDNOW figures, the likelihood against direct quadrature, numerical
stability far from the data, input and identification errors, and parameter recovery."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special

from kehu.analytics import paretonbd
from kehu.analytics.datasets import load_cdnow_summary
from kehu.analytics.paretonbd import ParetoNBDModel
from kehu.analytics.simulate_paretonbd import simulate_paretonbd
from kehu.errors import IdentificationError, InputError, NotFittedError

PUBLISHED = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
PUBLISHED_LOG_LIKELIHOOD = -9595.0


@pytest.fixture(scope="module")
def cdnow() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def cdnow_whole_days(cdnow: tuple[np.ndarray, np.ndarray, np.ndarray]) -> ParetoNBDModel:
    """The CDNOW times are whole days expressed in weeks; the shipped CSV rounds them to two
    decimals (30.43 for 213/7 = 30.4286). Restoring the exact day counts gives the data the
    published estimates were computed on."""
    x, t_x, age = cdnow
    return ParetoNBDModel().fit(x, np.round(t_x * 7) / 7, np.round(age * 7) / 7)


def reference_log_likelihood(params: dict[str, float], x: float, t_x: float, age: float) -> float:
    """Fader & Hardie (2005) note, eq. (22), with the integral left as an integral (no 2F1) and
    evaluated by adaptive quadrature: an independent check of the 2F1/continued-fraction path."""
    r, alpha, s, beta = params["r"], params["alpha"], params["s"], params["beta"]
    log_constant = (
        special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    )
    alive = (alpha + age) ** -(r + x) * (beta + age) ** -s
    integral = integrate.quad(
        lambda tau: (alpha + tau) ** -(r + x) * (beta + tau) ** -(s + 1),
        t_x,
        age,
        epsabs=0.0,
        epsrel=1e-13,
    )[0]
    return float(log_constant + np.log(alive + s * integral))


# --- published figures ---------------------------------------------------------------------------
def test_cdnow_estimates_match_published(cdnow_whole_days: ParetoNBDModel) -> None:
    """Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves for Customer Base
    Analysis", JMR 42(4), and Fader & Hardie (2005), "A Note on Implementing the Pareto/NBD Model
    in MATLAB" (brucehardie.com/notes/008): on the 2,357 CDNOW customers, r = 0.553,
    alpha = 10.578, s = 0.606, beta = 11.669 and LL = -9595.0. Pinned to one unit of the last
    published digit, LL to 0.05."""
    model = cdnow_whole_days
    for name, published in PUBLISHED.items():
        assert model.params_[name] == pytest.approx(published, abs=1e-3), name
    assert model.log_likelihood_ == pytest.approx(PUBLISHED_LOG_LIKELIHOOD, abs=0.05)
    assert model.diagnostics_.n_observations == 2357


def test_cdnow_csv_as_shipped_is_at_least_as_good_as_published(
    cdnow: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    """On the CSV exactly as shipped (times rounded to 0.01 week) the estimates stay within
    rel. 1e-3 of Fader, Hardie & Lee (2005) and the maximised LL is no lower than the LL at the
    published parameters (the likelihood is flat in beta: its standard error is about 6)."""
    x, t_x, age = cdnow
    model = ParetoNBDModel().fit(x, t_x, age)
    for name, published in PUBLISHED.items():
        assert model.params_[name] == pytest.approx(published, rel=1e-3), name
    at_published = ParetoNBDModel.from_params(PUBLISHED).log_likelihood(x, t_x, age)
    assert model.log_likelihood_ >= at_published
    assert model.log_likelihood_ == pytest.approx(PUBLISHED_LOG_LIKELIHOOD, abs=0.05)
    assert model.log_likelihood_ == pytest.approx(model.log_likelihood(x, t_x, age), rel=1e-12)
    assert all(np.isfinite(v) and v > 0 for v in model.standard_errors_.values())


def test_cdnow_conditional_expectation_matches_btyd_walkthrough(
    cdnow_whole_days: ParetoNBDModel,
) -> None:
    """BTYD walkthrough (Dziurzynski, Wadsworth & McCarthy, "BTYD: Implementing Buy 'Til You Die
    Models", CRAN vignette, section 2.2): a CDNOW customer with x = 26, t_x = 30.86, T = 31 is
    expected to make 25.46 purchases in the next 52 weeks (Fader & Hardie 2005 note, eq. (26))."""
    expected = cdnow_whole_days.conditional_expected_purchases(52, 26, 30.86, 31)
    assert expected == pytest.approx(25.46, abs=0.01)


def test_predictions_at_published_parameters() -> None:
    """Closed forms of Fader & Hardie (2005) note, eqs. (17), (18), (26), at the CDNOW estimates
    for the spreadsheet's customer (x = 2, t_x = 30.43, T = 38.86). The figures agree to 1e-12
    with lifetimes 0.11.3's ParetoNBDFitter at the same parameters (an independent, textbook-2F1
    implementation)."""
    model = ParetoNBDModel.from_params(PUBLISHED)
    x = np.array([0, 2, 26, 5, 0])
    t_x = np.array([0, 30.43, 30.86, 10.0, 0])
    age = np.array([38.86, 38.86, 31, 38.0, 5.0])
    np.testing.assert_allclose(
        model.probability_alive(x, t_x, age),
        [0.2952866, 0.86916756, 0.99791873, 0.05175382, 0.78746881],
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        model.conditional_expected_purchases(39, x, t_x, age),
        [0.10708147, 1.45512319, 20.11702608, 0.19130069, 0.71929095],
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        model.expected_purchases([1.0, 10, 39, 78]),
        [0.05097984, 0.42760114, 1.21300284, 1.90939813],
        rtol=1e-6,
    )


# --- the likelihood and its building blocks ------------------------------------------------------
def test_log_likelihood_matches_direct_quadrature() -> None:
    """Per-row log-likelihood equals eq. (22) of the Fader & Hardie (2005) note integrated
    directly, over random parameters (alpha above and below beta) and customers."""
    rng = np.random.default_rng(2024)
    for _ in range(6):
        params = dict(zip(("r", "alpha", "s", "beta"), np.exp(rng.uniform(-3, 3, 4)), strict=True))
        model = ParetoNBDModel.from_params(params)
        age = rng.uniform(0.1, 60, 12)
        x = rng.integers(0, 40, 12).astype(float)
        t_x = np.where(x > 0, age * rng.uniform(0, 1, 12), 0.0)
        ours = [model.log_likelihood([a], [b], [c]) for a, b, c in zip(x, t_x, age, strict=True)]
        reference = [
            reference_log_likelihood(params, *row) for row in zip(x, t_x, age, strict=True)
        ]
        np.testing.assert_allclose(ours, reference, rtol=1e-11, atol=1e-10)


def test_continued_fraction_matches_scipy_where_scipy_is_reliable() -> None:
    rng = np.random.default_rng(5)
    a = rng.uniform(0.05, 40, 500)
    c = a + rng.uniform(0.05, 40, 500)
    z = rng.uniform(0, 0.95, 500)
    values, converged = paretonbd._hypergeometric_one(a, c, z)
    assert converged.all()
    np.testing.assert_allclose(values, special.hyp2f1(a, 1.0, c, z), rtol=1e-12)


def test_quadrature_fallback_agrees_with_continued_fraction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where alpha and beta are orders of magnitude apart the continued fraction is slow and
    such values are integrated instead; both paths give the same H."""
    u = np.array([0.0, 1.0, 30.0, 0.0, 0.0])
    p = np.array([0.6, 3.0, 1500.0, 40.0, 0.3])
    q = np.array([0.7, 0.2, 2.5, 1.0, 0.4])
    for c1, c2 in ((500.0, 0.3), (0.3, 500.0), (1e5, 0.01), (0.01, 1e5)):
        by_quadrature = [
            paretonbd._log_h_by_quadrature(*row, c1, c2) for row in zip(u, p, q, strict=True)
        ]
        np.testing.assert_allclose(
            paretonbd._log_h(u, p, q, c1, c2), by_quadrature, rtol=1e-9, atol=1e-10
        )
        with monkeypatch.context() as patched:
            # A budget large enough that the continued fraction converges everywhere.
            patched.setattr(paretonbd, "_CONTINUED_FRACTION_MAX_STEPS", 200_000)
            by_fraction = paretonbd._log_h(u, p, q, c1, c2)
        np.testing.assert_allclose(by_fraction, by_quadrature, rtol=1e-9, atol=1e-10)


def test_probability_of_purchases_is_a_distribution_with_the_right_mean() -> None:
    """P(X(t) = n) (Fader & Hardie 2006 note, eq. (6)) sums to 1 over n and its mean is E[X(t)]
    (eq. (17) of the 2005 note)."""
    model = ParetoNBDModel.from_params(PUBLISHED)
    counts = np.arange(400)
    for t in (0.5, 39.0, 78.0):
        probabilities = model.probability_of_purchases(counts, t)
        assert probabilities.sum() == pytest.approx(1.0, abs=1e-9)
        assert counts @ probabilities == pytest.approx(model.expected_purchases(t), rel=1e-8)
    assert model.probability_of_purchases(0, 0.0) == 1.0
    assert model.probability_of_purchases(3, 0.0) == 0.0


def test_expectations_are_continuous_at_s_equal_one() -> None:
    near = ParetoNBDModel.from_params({"r": 0.5, "alpha": 10.0, "s": 1.0 + 1e-9, "beta": 12.0})
    at = ParetoNBDModel.from_params({"r": 0.5, "alpha": 10.0, "s": 1.0, "beta": 12.0})
    assert at.expected_purchases(39.0) == pytest.approx(near.expected_purchases(39.0), rel=1e-7)
    assert at.conditional_expected_purchases(39.0, 3, 20.0, 30.0) == pytest.approx(
        near.conditional_expected_purchases(39.0, 3, 20.0, 30.0), rel=1e-7
    )


def test_scalars_and_arrays(cdnow_whole_days: ParetoNBDModel) -> None:
    model = cdnow_whole_days
    scalar = model.probability_alive(2, 30.43, 38.86)
    assert isinstance(scalar, float)
    array = model.probability_alive([2, 2], [30.43, 30.43], 38.86)
    assert array.shape == (2,)
    assert array[0] == pytest.approx(scalar)
    assert isinstance(model.expected_purchases(10.0), float)
    assert model.conditional_expected_purchases([10.0, 20.0], 2, 30.43, 38.86).shape == (2,)


# --- stability far from the data -----------------------------------------------------------------
positive = st.floats(min_value=-6.0, max_value=6.0).map(np.exp)


@settings(max_examples=100, deadline=None)
@given(
    r=positive,
    alpha=positive,
    s=positive,
    beta=positive,
    frequency=st.integers(min_value=0, max_value=5000),
    age=st.floats(min_value=0.0, max_value=5000.0),
    recency_share=st.sampled_from([0.0, 1.0, 0.5, 1e-6]),
)
def test_finite_far_from_the_data(
    r: float,
    alpha: float,
    s: float,
    beta: float,
    frequency: int,
    age: float,
    recency_share: float,
) -> None:
    """Frequencies and ages in the thousands, recency = T or 0, parameters from e^-6 to e^6:
    no NaN, no inf, no floating-point warning (warnings are errors in this suite)."""
    recency = age * recency_share if frequency > 0 else 0.0
    model = ParetoNBDModel.from_params({"r": r, "alpha": alpha, "s": s, "beta": beta})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        log_likelihood = model.log_likelihood([frequency], [recency], [age])
        alive = model.probability_alive(frequency, recency, age)
        expected = model.conditional_expected_purchases(100.0, frequency, recency, age)
        pmf = model.probability_of_purchases(frequency, age)
    assert np.isfinite(log_likelihood)  # a density in the purchase times: may exceed 0
    assert 0.0 <= alive <= 1.0
    assert np.isfinite(expected) and expected >= 0.0
    assert 0.0 <= pmf <= 1.0


# --- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("frequency", "recency", "age", "column", "row"),
    [
        ([1, -1], [1.0, 0.0], [2.0, 2.0], "frequency", 2),
        ([1, 2], [1.0, 3.0], [2.0, 2.0], "recency", 2),
        ([1, 2], [np.nan, 1.0], [2.0, 2.0], "recency", 1),
        ([1, 2], [1.0, 1.0], [2.0, np.inf], "T", 2),
        ([1.5, 2], [1.0, 1.0], [2.0, 2.0], "frequency", 1),
    ],
)
def test_bad_input_names_field_and_row(
    frequency: list[float], recency: list[float], age: list[float], column: str, row: int
) -> None:
    with pytest.raises(InputError) as caught:
        ParetoNBDModel().fit(frequency, recency, age)
    assert caught.value.column == column
    assert caught.value.row == row
    assert column in str(caught.value)


def test_no_repeat_buyers_cannot_identify_the_model() -> None:
    with pytest.raises(IdentificationError, match="no customer made a repeat purchase"):
        ParetoNBDModel().fit([0, 0, 0], [0.0, 0.0, 0.0], [10.0, 20.0, 30.0])


def test_not_fitted() -> None:
    with pytest.raises(NotFittedError):
        ParetoNBDModel().probability_alive(1, 1.0, 2.0)


def test_compression_and_weights_give_the_same_fit(
    cdnow: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    """Identical rows are merged before fitting: the fit on 2,357 rows equals the fit on the
    distinct rows with counts as weights, and the LL counts every customer."""
    x, t_x, age = cdnow
    rows, counts = np.unique(np.column_stack([x, t_x, age]), axis=0, return_counts=True)
    by_weights = ParetoNBDModel().fit(rows[:, 0], rows[:, 1], rows[:, 2], counts)
    by_rows = ParetoNBDModel().fit(x, t_x, age)
    assert by_weights.diagnostics_.n_distinct_rows == by_rows.diagnostics_.n_distinct_rows
    assert by_weights.log_likelihood_ == pytest.approx(by_rows.log_likelihood_, rel=1e-12)
    for name in PUBLISHED:
        assert by_weights.params_[name] == pytest.approx(by_rows.params_[name], rel=1e-6)


# --- simulation ----------------------------------------------------------------------------------
def test_recovers_parameters_from_simulated_customers() -> None:
    """20,000 customers drawn at CDNOW-like parameters, in days (alpha, beta scaled by 7), each
    observed for a whole number of days with recency rounded to the day (flooring would bias it
    by half a day): the fit recovers every parameter within 3 standard errors, and the mean
    P(alive) matches the share truly alive."""
    truth = {"r": 0.553, "alpha": 10.578 * 7, "s": 0.606, "beta": 11.669 * 7}
    rng = np.random.default_rng(0)
    age = rng.integers(189, 274, 20_000).astype(float)
    customers = simulate_paretonbd(20_000, **truth, T=age, seed=100)
    recency = np.round(customers.recency)
    model = ParetoNBDModel().fit(customers.frequency, recency, customers.T)
    for name, value in truth.items():
        assert abs(model.params_[name] - value) < 3 * model.standard_errors_[name], name
    at_truth = ParetoNBDModel.from_params(truth)
    alive = at_truth.probability_alive(customers.frequency, customers.recency, customers.T)
    assert alive.mean() == pytest.approx(customers.alive.mean(), abs=0.015)


# --- ridges: rates that hardly differ ------------------------------------------------------------
ONE_DROPOUT_RATE = -7 * np.log(0.99)  # per week: lifetimes geometric in days with p = 0.01


def one_dropout_rate_customers(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The story of the small log of tests/value/test_queries.py: purchase rates gamma(0.5, 12
    per day), first purchases over 90 days of a 500-day history, and every customer dropping
    out at one common rate (a gamma with shape 1e6 is a point), in weeks, times whole days."""
    rng = np.random.default_rng(seed)
    age = (500 - rng.integers(0, 90, n)) / 7
    customers = simulate_paretonbd(n, 0.5, 12 / 7, 1e6, 1e6 / ONE_DROPOUT_RATE, age, seed=rng)
    return customers.frequency, np.round(customers.recency * 7) / 7, age


def count_evaluations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = paretonbd._log_likelihood_and_gradient

    def counted(*args: object) -> object:
        calls.append(1)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(paretonbd, "_log_likelihood_and_gradient", counted)
    return calls


def test_one_common_dropout_rate_is_an_identification_error_found_fast(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When every customer drops out at one rate the likelihood rises without bound as s and
    beta grow together (the gamma of the dropout rates shrinking to a point at s/beta). The fit
    says so in words, with s/beta within 10% of the generating rate (-7 ln 0.99 = 0.0704 a week),
    after a few dozen likelihood evaluations: before the ridge watch the 300 customers of
    tests/value/test_queries.py's log took 970 evaluations (28-38 s) to end in a
    ConvergenceError at s = 9e4."""
    calls = count_evaluations(monkeypatch)
    with pytest.raises(IdentificationError) as caught:
        ParetoNBDModel().fit(*one_dropout_rate_customers(300, seed=4))
    error = caught.value
    assert "cannot tell how much the customers' dropout rates differ" in error.reason
    assert "s and beta grow together without bound" in error.reason
    rate = float(re.search(r"s/beta = ([0-9.]+)", error.reason).group(1))  # type: ignore[union-attr]
    assert rate == pytest.approx(ONE_DROPOUT_RATE, rel=0.1)
    assert "drop out at one common rate" in error.reason
    assert "MBG/NBD or BG/NBD" in error.advice and "Pareto/NBD" not in error.advice
    assert len(calls) < 60


def test_one_common_purchase_rate_is_an_identification_error() -> None:
    """The other ridge: purchase rates all 0.2 a week (a gamma with shape 1e5), dropout as in
    CDNOW (s = 0.6, beta = 12): r and alpha grow together, r/alpha within 10% of 0.2."""
    customers = simulate_paretonbd(2000, 1e5, 1e5 / 0.2, 0.6, 12.0, 52.0, seed=3)
    with pytest.raises(IdentificationError) as caught:
        ParetoNBDModel().fit(*customers[:3])
    reason = caught.value.reason
    assert "purchase rates differ" in reason and "r and alpha grow together" in reason
    rate = float(re.search(r"r/alpha = ([0-9.]+)", reason).group(1))  # type: ignore[union-attr]
    assert rate == pytest.approx(0.2, rel=0.1)


@pytest.mark.parametrize("threshold", [5.0, 30.0])
def test_the_ridge_watch_lets_a_maximum_at_a_finite_shape_through(
    monkeypatch: pytest.MonkeyPatch, threshold: float
) -> None:
    """Customers of one dropout rate whose sample happens to favour a small spread: the
    maximum lies at s of about 20-30 (the likelihood falls on both sides along the ridge, checked
    here by direct evaluation at s and beta scaled by e and 1/e). With the watch set to look
    from a shape of 5 or 30 (on the way up to the maximum), it still lets the fit through."""
    monkeypatch.setattr(paretonbd, "_RIDGE_SHAPE", threshold)
    x, t_x, age = one_dropout_rate_customers(1000, seed=4)
    model = ParetoNBDModel().fit(x, t_x, age)
    assert model.diagnostics_.converged
    assert 10 < model.params_["s"] < 60
    for factor in (np.e, 1 / np.e):
        moved = dict(model.params_, s=model.params_["s"] * factor)
        moved["beta"] = model.params_["beta"] * factor
        assert ParetoNBDModel.from_params(moved).log_likelihood(x, t_x, age) < (
            model.log_likelihood_
        )


def test_log_likelihood_at_many_vectors(cdnow: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    """``log_likelihood_at`` (the one-pass evaluation for many parameter vectors): on CDNOW in
    whole days at the published estimates it is the published LL -9595.0 (FHL 2005; to 0.05),
    and on a few customers, at vectors on both sides of alpha = beta and far from the optimum,
    it equals [FH05, eq. (22)] by quadrature (``reference_log_likelihood``) to 1e-9."""
    x, t_x, age = cdnow
    whole_days = (x, np.round(t_x * 7) / 7, np.round(age * 7) / 7)
    vectors = np.array([list(PUBLISHED.values()), [2.0, 1.0, 3.0, 100.0], [0.1, 80.0, 0.05, 0.5]])
    model = ParetoNBDModel()
    at_published = model.log_likelihood_at(vectors[0], *whole_days)[0]
    assert at_published == pytest.approx(PUBLISHED_LOG_LIKELIHOOD, abs=0.05)
    customers = np.array([[0, 0.0, 38.9], [1, 4.3, 30.1], [7, 25.0, 31.0], [40, 30.0, 300.0]])
    got = model.log_likelihood_at(vectors, *customers.T)
    want = [
        sum(
            reference_log_likelihood(dict(zip(PUBLISHED, vector, strict=True)), *customer)
            for customer in customers
        )
        for vector in vectors
    ]
    np.testing.assert_allclose(got, want, rtol=1e-9)
