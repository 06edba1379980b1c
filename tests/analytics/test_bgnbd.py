"""BG/NBD (``kehu.analytics.BetaGeoModel``): published figures, parameter recovery, numerical
stability far from the data, and input/identification errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import integrate, optimize, special

from kehu.analytics import BetaGeoModel, ModifiedBetaGeoModel, load_cdnow_summary
from kehu.analytics import _base as base_module
from kehu.analytics.simulate import simulate_bgnbd
from kehu.errors import ConvergenceError, IdentificationError, InputError, NotFittedError

PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


@pytest.fixture(scope="module")
def cdnow() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(load_cdnow_summary())  # type: ignore[return-value]


@pytest.fixture(scope="module")
def cdnow_fit(cdnow: tuple[np.ndarray, np.ndarray, np.ndarray]) -> BetaGeoModel:
    return BetaGeoModel().fit(*cdnow)


# --- truth: published figures ---------------------------------------------------------------------
def test_cdnow_estimates_match_fader_hardie_lee_2005(cdnow_fit: BetaGeoModel) -> None:
    """Fader, Hardie & Lee (2005), "Counting your customers the easy way", Marketing Science
    24(2), section 4: on the 2,357 CDNOW customers (39 weeks) r = 0.243, alpha = 4.414,
    a = 0.793, b = 2.426, LL = -9582.4. Pinned to one unit of the last published digit."""
    for name, value in PUBLISHED.items():
        assert abs(cdnow_fit.params_[name] - value) <= 0.001, name
    assert abs(cdnow_fit.log_likelihood_ - (-9582.4)) <= 0.05
    assert cdnow_fit.n_observations_ == 2357
    assert cdnow_fit.diagnostics_.converged


def test_log_likelihood_at_published_parameters(
    cdnow: tuple[np.ndarray, np.ndarray, np.ndarray], cdnow_fit: BetaGeoModel
) -> None:
    """FHL 2005 eq. (6) summed over CDNOW at the published (rounded) estimates is -9582.4."""
    at_published = cdnow_fit.log_likelihood(*cdnow, params=PUBLISHED)
    assert at_published == pytest.approx(-9582.4, abs=0.05)
    assert cdnow_fit.log_likelihood_ >= at_published


def test_conditional_expectation_paper_example(cdnow_fit: BetaGeoModel) -> None:
    """FHL 2005, section 5, eq. (10): a customer with x = 2, t_x = 30.43, T = 38.86 weeks is
    expected to make 1.226 purchases in the next 39 weeks."""
    expected = cdnow_fit.conditional_expected_purchases(39, 2, 30.43, 38.86)
    assert isinstance(expected, float)
    assert abs(expected - 1.226) < 0.001


def test_expected_purchases_match_hardie_spreadsheet(cdnow_fit: BetaGeoModel) -> None:
    """FHL 2005 eq. (9), E[X(t)] at the CDNOW estimates, as tabulated in Hardie's BG/NBD
    spreadsheet (the values the lifetimes test suite pins)."""
    times = np.array([0.1429, 1.0, 3.00, 31.8571, 32.00, 78.00])
    expected = np.array([0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576])
    np.testing.assert_allclose(cdnow_fit.expected_purchases(times), expected, atol=5e-4)


def test_pmf_matches_r_btyd() -> None:
    """FHL 2005 eq. (8) at r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, as printed by the R
    package BTYD (``bgnbd.pmf`` documentation): P(X(2) = 10) = 1.07869e-07,
    P(X(39) = 0) = 0.5737864 and P(X(30) = 11..20)."""
    model = BetaGeoModel.from_params(PUBLISHED)
    assert model.probability_of_purchases(10, 2) == pytest.approx(1.07869e-07, rel=1e-5)
    assert model.probability_of_purchases(0, 39) == pytest.approx(0.5737864, rel=1e-6)
    btyd = [0.0019995214, 0.0015170236, 0.0011633150, 0.0009003148, 0.0007023638,
            0.0005517902, 0.0004361913, 0.0003467171, 0.0002769613, 0.0002222260]  # fmt: skip
    np.testing.assert_allclose(
        model.probability_of_purchases(np.arange(11, 21), 30), btyd, rtol=1e-6
    )


# --- internal consistency -------------------------------------------------------------------------
def test_pmf_sums_to_one_and_its_mean_is_the_expectation() -> None:
    """eq. (8) is a distribution whose mean is eq. (9)."""
    model = BetaGeoModel.from_params({"r": 1.3, "alpha": 2.0, "a": 2.5, "b": 4.0})
    counts = np.arange(0, 3000)
    for t in (0.5, 10.0, 52.0):
        pmf = model.probability_of_purchases(counts, t)
        assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
        assert counts @ pmf == pytest.approx(model.expected_purchases(t), rel=1e-7)
    assert model.probability_of_purchases(0, 0.0) == 1.0
    assert model.expected_purchases(0.0) == 0.0


def direct_conditional_expectation(params: dict[str, float], t, x, t_x, T):
    """FHL 2005 eq. (10) exactly as printed (fine for moderate x and T)."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
    numerator = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
    odds = a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x) if x > 0 else 0.0
    denominator = 1 + odds
    return numerator / denominator


@settings(max_examples=100, deadline=None)
@given(
    r=st.floats(0.05, 5),
    alpha=st.floats(0.5, 50),
    a=st.floats(0.1, 5),
    b=st.floats(0.1, 10),
    x=st.integers(0, 15),
    recency_share=st.floats(0, 1),
    T=st.floats(0.5, 60),
    t=st.floats(0, 60),
)
def test_euler_transformed_expectation_equals_paper_formula(
    r: float, alpha: float, a: float, b: float, x: int, recency_share: float, T: float, t: float
) -> None:
    assume(abs(a - 1) > 0.01)
    params = {"r": r, "alpha": alpha, "a": a, "b": b}
    t_x = recency_share * T if x > 0 else 0.0
    model = BetaGeoModel.from_params(params)
    ours = model.conditional_expected_purchases(t, x, t_x, T)
    with np.errstate(all="ignore"):
        paper = direct_conditional_expectation(params, t, x, t_x, T)
    assume(np.isfinite(paper))
    assert ours == pytest.approx(paper, rel=1e-6, abs=1e-9)


def test_expectation_is_continuous_across_a_equal_one() -> None:
    """(a+b+x-1)/(a-1) · [...] is 0/0 at a = 1; the value there must join its neighbours."""
    values = [
        BetaGeoModel.from_params(
            {"r": 0.5, "alpha": 3.0, "a": a, "b": 2.0}
        ).conditional_expected_purchases(20.0, 3, 10.0, 30.0)
        for a in (1 - 1e-3, 1 - 1e-6, 1.0, 1 + 1e-6, 1 + 1e-3)
    ]
    assert np.all(np.isfinite(values))
    assert values[2] == pytest.approx(values[1], rel=1e-5)
    assert values[2] == pytest.approx(values[3], rel=1e-5)
    assert values[0] < values[2] < values[4] or values[0] > values[2] > values[4]


# --- stability far from the data ------------------------------------------------------------------
parameters = st.fixed_dictionaries(
    {
        "r": st.floats(0.01, 20),
        "alpha": st.floats(0.01, 500),
        "a": st.floats(0.05, 20),
        "b": st.floats(0.05, 50),
    }
)


@settings(max_examples=100, deadline=None)
@given(
    params=parameters,
    x=st.one_of(st.integers(0, 5), st.integers(1000, 5000)),
    T=st.one_of(st.floats(0, 50), st.floats(1000, 5000)),
    recency_kind=st.sampled_from(["zero", "T", "inside"]),
    share=st.floats(0, 1),
    t=st.one_of(st.floats(0, 100), st.floats(1000, 10000)),
)
def test_predictions_are_finite_and_sane_far_from_the_data(
    params: dict[str, float], x: int, T: float, recency_kind: str, share: float, t: float
) -> None:
    t_x = {"zero": 0.0, "T": T, "inside": share * T}[recency_kind] if x > 0 else 0.0
    model = BetaGeoModel.from_params(params)
    alive = model.probability_alive(x, t_x, T)
    expected = model.conditional_expected_purchases(t, x, t_x, T)
    later = model.conditional_expected_purchases(t * 1.5 + 1, x, t_x, T)
    assert 0.0 <= alive <= 1.0
    assert np.isfinite(expected) and np.isfinite(later)
    assert -1e-9 <= expected <= later * (1 + 1e-9) + 1e-9
    ll = model.log_likelihood([x], [t_x], [T])
    assert np.isfinite(ll)  # a density in time for x > 0: may be positive
    unconditional = model.expected_purchases(t)
    assert np.isfinite(unconditional) and unconditional >= -1e-12
    pmf = model.probability_of_purchases(np.array([0, 1, x]), t)
    assert np.all(np.isfinite(pmf)) and np.all((pmf >= 0) & (pmf <= 1 + 1e-12))


def test_fit_is_stable_with_extreme_customers(
    cdnow: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    """Heavy buyers (frequency in the thousands, T in the thousands of weeks, recency = T or 0)
    added to the CDNOW customers: the fit converges and every prediction is finite."""
    extreme_frequency = np.array([3000, 4000, 2500, 1, 0, 5000])
    extreme_recency = np.array([3000, 10.0, 4400, 4000, 0, 5000.0])
    extreme_T = np.array([3000, 4000, 4500, 4000, 3500, 5000.0])
    frequency, recency, T = (
        np.concatenate([column, extra])
        for column, extra in zip(
            cdnow, (extreme_frequency, extreme_recency, extreme_T), strict=True
        )
    )
    model = BetaGeoModel().fit(frequency, recency, T)
    assert np.all(np.isfinite(list(model.params_.values())))
    assert np.isfinite(model.log_likelihood_)
    predictions = model.conditional_expected_purchases(365.0, frequency, recency, T)
    assert np.all(np.isfinite(predictions)) and np.all(predictions >= 0)
    alive = model.probability_alive(frequency, recency, T)
    assert np.all((alive >= 0) & (alive <= 1))


# --- recovery from simulated data -----------------------------------------------------------------
def test_recovers_parameters_from_simulated_customers() -> None:
    """20,000 customers drawn from the model with the CDNOW parameters (T between 27 and 39
    weeks): each estimate within 3 standard errors of the truth."""
    truth = (0.243, 4.414, 0.793, 2.426)
    ages = np.random.default_rng(7).uniform(27, 39, 20_000)
    customers = simulate_bgnbd(*truth, ages, seed=1)
    model = BetaGeoModel().fit(*customers)
    for name, value in zip(model.param_names, truth, strict=True):
        assert abs(model.params_[name] - value) <= 3 * model.standard_errors_[name], name


def test_weights_are_equivalent_to_repeated_rows(
    cdnow: tuple[np.ndarray, np.ndarray, np.ndarray], cdnow_fit: BetaGeoModel
) -> None:
    frequency, recency, T = cdnow
    half = BetaGeoModel().fit(frequency[:1000], recency[:1000], T[:1000], weights=np.full(1000, 2))
    doubled = BetaGeoModel().fit(
        np.tile(frequency[:1000], 2), np.tile(recency[:1000], 2), np.tile(T[:1000], 2)
    )
    for name in half.param_names:
        assert half.params_[name] == pytest.approx(doubled.params_[name], rel=1e-6)
    assert half.log_likelihood_ == pytest.approx(doubled.log_likelihood_, rel=1e-10)
    assert half.n_observations_ == 2000


def test_time_unit_only_rescales_alpha(cdnow: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    """Fitting in days instead of weeks multiplies alpha by 7; the log-likelihood, a density in
    time, changes by -sum(x)·log(7)."""
    frequency, recency, T = cdnow
    weeks = BetaGeoModel().fit(frequency, recency, T)
    days = BetaGeoModel().fit(frequency, recency * 7, T * 7)
    assert days.params_["alpha"] == pytest.approx(7 * weeks.params_["alpha"], rel=1e-5)
    for name in ("r", "a", "b"):
        assert days.params_[name] == pytest.approx(weeks.params_[name], rel=1e-5)
    shift = -frequency.sum() * np.log(7)
    assert days.log_likelihood_ == pytest.approx(weeks.log_likelihood_ + shift, abs=1e-3)


def test_scalar_and_array_outputs(cdnow_fit: BetaGeoModel) -> None:
    assert isinstance(cdnow_fit.probability_alive(1, 2.0, 5.0), float)
    assert isinstance(cdnow_fit.expected_purchases(10), float)
    assert isinstance(cdnow_fit.probability_of_purchases(1, 10), float)
    out = cdnow_fit.conditional_expected_purchases(np.array([1.0, 2.0]), 1, 2.0, 5.0)
    assert isinstance(out, np.ndarray) and out.shape == (2,)
    assert cdnow_fit.probability_alive(0, 0, 30.0) == 1.0  # BG/NBD: no repeat, no dropout
    summary = cdnow_fit.summary()
    assert summary["model"] == "BetaGeoModel" and summary["n_distinct_rows"] < 2357
    assert cdnow_fit.bic_ > -2 * cdnow_fit.log_likelihood_


# --- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("frequency", "recency", "T", "column", "row"),
    [
        ([1, -1], [1, 0], [2, 2], "frequency", 2),
        ([1, 1.5], [1, 1], [2, 2], "frequency", 2),
        ([1, 1], [1, 3], [2, 2], "recency", 2),
        ([1, 0], [1, 0.5], [2, 2], "recency", 2),
        ([1, 1], [float("nan"), 1], [2, 2], "recency", 1),
        ([1, 1], [1, 1], [2, -2], "T", 2),
        ([1, 2], [1, 0], [2, 2], "recency", 2),
    ],
)
def test_bad_input_names_field_and_row(
    frequency: list[float], recency: list[float], T: list[float], column: str, row: int
) -> None:
    with pytest.raises(InputError) as caught:
        BetaGeoModel().fit(frequency, recency, T)
    assert caught.value.column == column
    assert caught.value.row == row
    assert column in str(caught.value) and f"row {row}" in str(caught.value)


def test_no_repeat_buyer_cannot_identify_the_model() -> None:
    with pytest.raises(IdentificationError, match="repeat purchase"):
        BetaGeoModel().fit([0, 0, 0], [0, 0, 0], [5, 10, 20])


def test_flat_likelihood_is_an_identification_error() -> None:
    """Five customers, every repeat buyer seen at the very end: no proper maximum."""
    with pytest.raises(IdentificationError):
        BetaGeoModel().fit([0, 0, 1, 2, 3], [0, 0, 10, 10, 10], [10, 10, 10, 10, 10])


def test_weights_must_match_and_be_non_negative() -> None:
    with pytest.raises(InputError, match="weights"):
        BetaGeoModel().fit([1, 0], [1, 0], [2, 2], weights=[1])
    with pytest.raises(InputError, match="weights"):
        BetaGeoModel().fit([1, 0], [1, 0], [2, 2], weights=[1, -1])


def test_not_fitted() -> None:
    with pytest.raises(NotFittedError):
        BetaGeoModel().probability_alive(1, 1, 2)


def test_prediction_inputs_are_checked(cdnow_fit: BetaGeoModel) -> None:
    with pytest.raises(InputError, match="t"):
        cdnow_fit.conditional_expected_purchases(-1, 1, 1, 2)
    with pytest.raises(InputError, match="recency"):
        cdnow_fit.probability_alive(1, 3, 2)
    with pytest.raises(InputError, match="n"):
        cdnow_fit.probability_of_purchases(1.5, 2)


def test_failed_optimisation_raises_convergence_error(
    monkeypatch: pytest.MonkeyPatch, cdnow: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> None:
    def give_up(function, start, **kwargs):
        return optimize.OptimizeResult(x=start, success=False, message="gave up", nit=0)

    monkeypatch.setattr(base_module.optimize, "minimize", give_up)
    with pytest.raises(ConvergenceError, match="did not converge"):
        BetaGeoModel().fit(*cdnow)


# --- the log-likelihood at many parameter vectors (for kehu.analytics.uncertainty) ---------------
def _integrated_likelihood(
    params: np.ndarray, x: float, t_x: float, age: float, dropout_at_start: bool
) -> float:
    """The individual-level likelihood of FHL 2005 eq. (3) (MBG/NBD: Batislam et al. 2007, the
    extra dropout chance at time 0), integrated over the Gamma(r, alpha) purchase rate in
    closed form and over the Beta(a, b) dropout probability by adaptive quadrature: the mixing
    integral of eq. (6) done numerically, independently of its Beta-function form."""
    r, alpha, a, b = params
    shift = 1.0 if dropout_at_start else 0.0

    def purchases(until: float) -> float:  # E over lambda of lambda^x e^(-lambda until)
        log_value = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
        return float(np.exp(log_value - (r + x) * np.log(alpha + until)))

    def integrand(p: float) -> float:
        density = np.exp((a - 1) * np.log(p) + (b - 1) * np.log1p(-p) - special.betaln(a, b))
        alive = (1 - p) ** (x + shift) * purchases(age)
        dropped = p * (1 - p) ** (x - 1 + shift) * purchases(t_x) if (x > 0 or shift) else 0.0
        return float(density * (alive + dropped))

    return float(
        np.log(integrate.quad(integrand, 0.0, 1.0, epsabs=0.0, epsrel=1e-11, limit=200)[0])
    )


@pytest.mark.parametrize("dropout_at_start", [False, True])
def test_log_likelihood_at_many_vectors_equals_the_mixing_integral(
    cdnow: tuple[np.ndarray, np.ndarray, np.ndarray], dropout_at_start: bool
) -> None:
    """``log_likelihood_at`` on CDNOW at FHL 2005's published estimates is the published
    LL -9582.4 (BG/NBD); on a few customers, at vectors far from the optimum, it equals the
    likelihood integrated numerically (``_integrated_likelihood``) to 1e-8; bad vectors are
    refused with their row."""
    model = ModifiedBetaGeoModel() if dropout_at_start else BetaGeoModel()
    vectors = np.array([list(PUBLISHED.values()), [1.7, 0.9, 3.2, 0.6], [0.05, 20.0, 0.4, 9.0]])
    if not dropout_at_start:
        assert model.log_likelihood_at(vectors[0], *cdnow)[0] == pytest.approx(-9582.4, abs=0.05)
    customers = np.array([[0, 0.0, 38.9], [1, 4.3, 30.1], [7, 25.0, 31.0], [2, 30.43, 38.86]])
    weights = np.array([3.0, 1.0, 2.0, 1.0])
    got = model.log_likelihood_at(vectors, *customers.T, weights=weights)
    want = [
        sum(
            weight * _integrated_likelihood(vector, *customer, dropout_at_start)
            for customer, weight in zip(customers, weights, strict=True)
        )
        for vector in vectors
    ]
    np.testing.assert_allclose(got, want, rtol=1e-8)
    with pytest.raises(InputError, match="row 2"):
        model.log_likelihood_at([[1, 1, 1, 1], [1, -1, 1, 1]], *customers.T)
    with pytest.raises(InputError, match="one column per parameter"):
        model.log_likelihood_at([[1, 1, 1]], *customers.T)
