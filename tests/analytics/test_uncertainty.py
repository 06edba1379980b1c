"""Per-customer intervals from the estimates' sampling distribution
(``kehu.analytics.uncertainty``): the covariance they start from, the draws, the per-(x, T)
shortcut against brute force, and the coverage of nominal 90 % intervals on kehu's simulator."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from scipy import stats

from kehu.analytics import (
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
    customer_lifetime_value,
    load_cdnow_summary,
    simulate_bgnbd,
    simulate_gamma_gamma,
    simulate_mbgnbd,
)
from kehu.analytics.simulate_paretonbd import simulate_paretonbd
from kehu.analytics.uncertainty import (
    QUADRATIC_TOLERANCE,
    ParameterUncertainty,
    draw_log_normal_parameters,
    reference_log_prior,
    resample_log_parameters,
)
from kehu.errors import IdentificationError, InputError, NotFittedError

BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # weeks, FHL 2005
GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}  # FHL 2005 JMR (CDNOW)
WEEKLY_DISCOUNT = 0.0018  # about 10 % a year


@pytest.fixture(scope="module")
def cdnow() -> Any:
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def cdnow_bgnbd(cdnow: Any) -> BetaGeoModel:
    return BetaGeoModel().fit(*cdnow)


@pytest.fixture(scope="module")
def spend() -> tuple[GammaGammaModel, np.ndarray]:
    """A Gamma-Gamma fit on simulated spend of the CDNOW customers' frequencies."""
    frequency = load_cdnow_summary().frequency
    monetary = simulate_gamma_gamma(**GAMMA_GAMMA, frequency=frequency, seed=7)
    repeat = frequency > 0
    model = GammaGammaModel().fit(frequency[repeat], monetary[repeat])
    return model, np.where(repeat, monetary, np.nan)


def test_covariance_gives_the_published_standard_errors(cdnow_bgnbd: BetaGeoModel) -> None:
    """lifetimes' quickstart (BetaGeoFitter on the same CDNOW summary, its ``summary`` table)
    prints se(coef) r 0.012557, alpha 0.378221, a 0.185719, b 0.705345: kehu's covariance has
    them on its diagonal, and is symmetric with a positive determinant."""
    covariance = cdnow_bgnbd.covariance_
    published = np.array([0.012557, 0.378221, 0.185719, 0.705345])
    np.testing.assert_allclose(np.sqrt(np.diag(covariance)), published, rtol=1e-4)
    np.testing.assert_allclose(covariance, covariance.T, rtol=1e-12)
    assert np.linalg.det(covariance) > 0
    assert np.all(np.isnan(BetaGeoModel.from_params(BGNBD).covariance_))


def test_draws_follow_the_log_normal_and_repeat_with_the_seed(cdnow_bgnbd: BetaGeoModel) -> None:
    draws = draw_log_normal_parameters(cdnow_bgnbd, 20_000, np.random.default_rng(1))
    again = draw_log_normal_parameters(cdnow_bgnbd, 20_000, np.random.default_rng(1))
    np.testing.assert_array_equal(draws, again)
    estimate = np.array(list(cdnow_bgnbd.params_.values()))
    log_covariance = cdnow_bgnbd.covariance_ / np.outer(estimate, estimate)
    logs = np.log(draws)
    np.testing.assert_allclose(logs.mean(axis=0), np.log(estimate), atol=0.01)
    scale = np.sqrt(np.outer(np.diag(log_covariance), np.diag(log_covariance)))
    # the sampling error of a covariance from 20,000 draws is below 1 % of sigma_i sigma_j
    np.testing.assert_allclose(np.cov(logs.T), log_covariance, rtol=0, atol=0.03 * scale.max())
    assert np.all(np.abs(np.cov(logs.T) - log_covariance) <= 0.03 * scale)
    assert np.all(draws > 0)


@dataclass
class _OneRate:
    """A fitted one-parameter model: a Poisson rate with ``count`` events in ``count`` units of
    exposure, so the MLE is 1 and its variance 1 / count (the observed information)."""

    count: float
    param_names: tuple[str, ...] = ("rate",)
    params_: dict[str, float] = field(default_factory=lambda: {"rate": 1.0})

    @property
    def covariance_(self) -> np.ndarray:
        return np.array([[1.0 / self.count]])

    @classmethod
    def from_params(cls, params: Any) -> Any:  # pragma: no cover - not used here
        raise NotImplementedError


def test_resampling_follows_a_skewed_likelihood_where_the_normal_does_not() -> None:
    """A Poisson rate seen through 5 events in 5 units of exposure: with a flat prior on the
    log-rate, the likelihood normalised over the log scale is the Gamma(5, rate 5) distribution
    of the rate (conjugacy), whose 5 % and 95 % points scipy gives (0.394, 1.831). The normal
    approximation of the log-rate puts them at exp(-+1.645 / sqrt 5) = (0.479, 2.087); the
    resampled draws must find the Gamma's (within 4 %: the Monte-Carlo error of 4,000 draws
    from an importance sample of 40,000)."""
    count = 5.0
    model = _OneRate(count)

    def log_likelihood(params: np.ndarray) -> np.ndarray:
        rate = params[:, 0]
        return np.asarray(count * np.log(rate) - count * rate)

    resampled = resample_log_parameters(
        model, 4000, np.random.default_rng(0), log_likelihood, 40_000
    )
    assert resampled.method == "importance resampling"
    assert resampled.quadratic_departure > QUADRATIC_TOLERANCE
    assert 0.4 * 40_000 < resampled.effective_draws < 40_000
    gamma_ends = stats.gamma(count, scale=1.0 / count).ppf([0.05, 0.95])
    np.testing.assert_allclose(gamma_ends, [0.394, 1.831], atol=1e-3)
    ends = np.quantile(resampled.draws[:, 0], [0.05, 0.95])
    np.testing.assert_allclose(ends, gamma_ends, rtol=0.04)
    normal_ends = np.exp(np.array([-1.0, 1.0]) * 1.645 / np.sqrt(count))
    assert np.all(np.abs(ends / normal_ends - 1) > 0.1)


def test_a_quadratic_likelihood_keeps_the_normal_draws() -> None:
    """A log-likelihood exactly quadratic in the log-rate, -count (log rate)^2 / 2, has nothing
    for the weights to correct: the draws are the normal approximation's, and the departure
    from quadratic measured on the pilot is 0 to rounding."""
    model = _OneRate(50.0)

    def log_likelihood(params: np.ndarray) -> np.ndarray:
        return np.asarray(-0.5 * 50.0 * np.log(params[:, 0]) ** 2 + 7.0)

    resampled = resample_log_parameters(model, 200, np.random.default_rng(3), log_likelihood, 1000)
    assert resampled.method == "normal"
    assert resampled.quadratic_departure < 1e-9
    standard = np.random.default_rng(3).standard_normal((200, 1))
    np.testing.assert_allclose(resampled.draws, np.exp(standard / np.sqrt(50.0)), rtol=1e-12)


def test_a_likelihood_finite_only_at_the_estimate_gives_no_intervals() -> None:
    """Every proposal impossible under the data (a log-likelihood of -inf away from the
    estimate): no weights to resample by, an IdentificationError rather than NaN draws; and a
    likelihood not finite at the estimate itself is refused too."""
    model = _OneRate(5.0)

    def only_at_one(params: np.ndarray) -> np.ndarray:
        return np.where(params[:, 0] == 1.0, 0.0, -np.inf)

    with pytest.raises(IdentificationError, match="not finite at any"):
        resample_log_parameters(model, 50, np.random.default_rng(0), only_at_one, 100)
    with pytest.raises(IdentificationError, match="at the estimates"):
        resample_log_parameters(
            model, 50, np.random.default_rng(0), lambda p: np.full(len(p), np.nan), 100
        )


def test_reference_prior_is_flat_on_the_mixing_distributions_heterogeneity() -> None:
    """The prior's log-density on the log scale is the log-Jacobian from (log r, log a, log b)
    to (1/r, mean a/(a+b), polarisation 1/(a+b+1)), alpha staying flat on the log scale:
    checked against the Jacobian's determinant by central differences, up to the constant the
    weights do not see."""

    def log_jacobian(logs: np.ndarray) -> float:
        def transform(point: np.ndarray) -> np.ndarray:
            r, a, b = np.exp(point)
            return np.array([1 / r, a / (a + b), 1 / (a + b + 1)])

        step = 1e-6
        columns = [
            (transform(logs + step * unit) - transform(logs - step * unit)) / (2 * step)
            for unit in np.eye(len(logs))
        ]
        return float(np.log(abs(np.linalg.det(np.array(columns)))))

    vectors = np.array([[0.3, 4.0, 0.8, 2.4], [2.0, 0.5, 7.0, 30.0], [0.05, 9.0, 0.2, 0.1]])
    got = reference_log_prior(vectors)
    want = np.array([log_jacobian(np.log(v[[0, 2, 3]])) for v in vectors])
    np.testing.assert_allclose(got - got[0], want - want[0], atol=1e-6)


def _brute_force(
    uncertainty: ParameterUncertainty,
    x: np.ndarray,
    t_x: np.ndarray,
    age: np.ndarray,
    monetary: np.ndarray,
    horizon: int,
) -> dict[str, np.ndarray]:
    """The intervals the slow way: every draw's model scores every customer; CLV with the
    period-by-period discounting of each draw and its own Gamma-Gamma draw."""
    model_class = type(uncertainty.transaction_model_)
    names = model_class.param_names
    spend_names = GammaGammaModel.param_names
    assert uncertainty.spend_draws_ is not None
    alive, expected, clv = [], [], []
    for draw, spend_draw in zip(
        uncertainty.transaction_draws_, uncertainty.spend_draws_, strict=True
    ):
        model = model_class.from_params(dict(zip(names, draw, strict=True)))
        spend_model = GammaGammaModel.from_params(dict(zip(spend_names, spend_draw, strict=True)))
        alive.append(model.probability_alive(x, t_x, age))
        expected.append(model.conditional_expected_purchases(horizon, x, t_x, age))
        clv.append(
            customer_lifetime_value(
                model,
                spend_model,
                x,
                t_x,
                age,
                horizon=horizon,
                discount_rate_per_period=WEEKLY_DISCOUNT,
                monetary_value=np.nan_to_num(monetary),
            )
        )
    level = [0.05, 0.95]
    return {
        name: np.quantile(np.array(values), level, axis=0)
        for name, values in (("alive", alive), ("expected", expected), ("clv", clv))
    }


@pytest.mark.parametrize("model_class", [BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel])
def test_per_row_shortcut_equals_brute_force(
    model_class: type[Any], cdnow: Any, spend: tuple[GammaGammaModel, Any]
) -> None:
    """P(alive) and expected purchases computed per (x, T) pair and row are the brute-force
    quantiles to rounding; CLV, whose discounting profile comes from the point estimate, is
    within 0.5 % of the exact per-draw discounting over a year of weeks at 10 % a year
    (measured on CDNOW, largest relative difference of an end over the customers: BG/NBD
    0.14 %, MBG/NBD 0.16 %, Pareto/NBD 0.18 %; the intervals themselves are tens of per cent
    wide)."""
    spend_model, monetary = spend
    model = model_class().fit(*cdnow)
    uncertainty = ParameterUncertainty(n_draws=60, seed=3).fit(model, spend_model)
    sample = slice(0, None, 7)  # a third of the customers keeps the brute force quick
    x, t_x, age = (np.asarray(v)[sample] for v in cdnow)
    m = monetary[sample]
    got = uncertainty.predict(
        x, t_x, age, horizon=52, discount_rate_per_period=WEEKLY_DISCOUNT, monetary_value=m
    )
    want = _brute_force(uncertainty, x, t_x, age, m, 52)
    np.testing.assert_allclose(got.probability_alive, want["alive"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got.expected_purchases, want["expected"], rtol=1e-9, atol=1e-12)
    assert got.clv is not None
    relative = np.abs(np.asarray(got.clv) / want["clv"] - 1.0)
    assert relative.max() < 5e-3
    assert np.all(got.clv.low < got.clv.high)


def test_intervals_hold_the_point_estimate_and_narrow_with_more_customers(
    cdnow_bgnbd: BetaGeoModel, spend: tuple[GammaGammaModel, Any]
) -> None:
    spend_model, monetary = spend
    summary = load_cdnow_summary()
    intervals = (
        ParameterUncertainty(seed=0)
        .fit(cdnow_bgnbd, spend_model)
        .predict(
            *summary,
            horizon=52,
            discount_rate_per_period=WEEKLY_DISCOUNT,
            monetary_value=monetary,
            margin=0.3,
        )
    )
    expected = cdnow_bgnbd.conditional_expected_purchases(52, *summary)
    alive = cdnow_bgnbd.probability_alive(*summary)
    repeat = summary.frequency > 0
    assert np.all(intervals.expected_purchases.low <= expected)
    assert np.all(expected <= intervals.expected_purchases.high)
    assert np.all(intervals.probability_alive.low[repeat] <= alive[repeat])
    assert np.all(alive[repeat] <= intervals.probability_alive.high[repeat])
    # BG/NBD: a one-time buyer is alive with probability 1 under every draw
    assert np.all(intervals.probability_alive.low[~repeat] == 1.0)
    width = intervals.expected_purchases.high - intervals.expected_purchases.low
    # CDNOW has 2,357 customers: the median interval is 15 % of the estimate wide (measured)
    assert 0.1 < float(np.median(width / expected)) < 0.2

    big = simulate_bgnbd(**BGNBD, T=np.linspace(27, 39, 40_000).round(), seed=5)
    recency = np.where(big.frequency > 0, np.maximum(big.recency, 1e-3), 0.0)
    fitted = BetaGeoModel().fit(big.frequency, recency, big.T)
    narrow = (
        ParameterUncertainty(seed=0)
        .fit(fitted)
        .predict(*summary, horizon=52, discount_rate_per_period=WEEKLY_DISCOUNT)
    )
    narrow_width = narrow.expected_purchases.high - narrow.expected_purchases.low
    assert float(np.median(narrow_width / width)) < 0.5  # 17x the customers: ~1/4 the width
    assert narrow.clv is None


def test_draws_are_reproducible_and_negative_margins_swap_the_ends(
    cdnow_bgnbd: BetaGeoModel, spend: tuple[GammaGammaModel, Any]
) -> None:
    spend_model, monetary = spend
    summary = load_cdnow_summary()

    def clv(seed: int, margin: float) -> Any:
        result = (
            ParameterUncertainty(n_draws=50, level=0.8, seed=seed)
            .fit(cdnow_bgnbd, spend_model)
            .predict(
                *summary,
                horizon=12,
                discount_rate_per_period=0.01,
                time_units_per_period=4.348,
                monetary_value=monetary,
                margin=margin,
            )
        )
        return result.clv

    first, again, other = clv(11, 0.3), clv(11, 0.3), clv(12, 0.3)
    np.testing.assert_array_equal(first.low, again.low)
    assert not np.array_equal(first.low, other.low)
    negative = clv(11, -0.3)
    np.testing.assert_allclose(negative.low, -first.high)
    np.testing.assert_allclose(negative.high, -first.low)


def test_bad_settings_and_unfitted_use_are_refused(cdnow_bgnbd: BetaGeoModel) -> None:
    with pytest.raises(NotFittedError):
        ParameterUncertainty().predict(1, 2, 3, horizon=1, discount_rate_per_period=0)
    with pytest.raises(InputError, match="level"):
        ParameterUncertainty(level=1.5).fit(cdnow_bgnbd)
    with pytest.raises(InputError, match="n_draws"):
        ParameterUncertainty(n_draws=5).fit(cdnow_bgnbd)
    with pytest.raises(IdentificationError, match="covariance"):
        ParameterUncertainty().fit(BetaGeoModel.from_params(BGNBD))
    with pytest.raises(InputError, match="together"):
        ParameterUncertainty().fit(cdnow_bgnbd, frequency=[1, 2], recency=[1, 2])
    with pytest.raises(InputError, match="proposals_per_draw"):
        ParameterUncertainty(proposals_per_draw=0).fit(cdnow_bgnbd)
    spend_model = GammaGammaModel.from_params(GAMMA_GAMMA)
    spend_model.covariance_ = np.eye(3) * 1e-4
    with pytest.raises(InputError, match="monetary_value"):
        ParameterUncertainty().fit(cdnow_bgnbd, spend_model).predict(
            1, 2, 3, horizon=1, discount_rate_per_period=0
        )


MBGNBD = {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}  # weeks, BTYDplus on CDNOW
PARETONBD = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}  # weeks, FHL 2005 JMR


def _simulated_base(model: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """A customer base of ``n`` from the model with the CDNOW parameters, T 26-39 weeks."""
    ages = rng.uniform(26, 39, n).round(1)
    if model == "bgnbd":
        x, t_x, age = simulate_bgnbd(**BGNBD, T=ages, seed=rng)
    elif model == "mbgnbd":
        x, t_x, age = simulate_mbgnbd(**MBGNBD, T=ages, seed=rng)
    else:
        x, t_x, age, *_ = simulate_paretonbd(n, **PARETONBD, T=ages, seed=rng)
    return x, np.where(x > 0, np.maximum(t_x, 1e-3), 0.0), age


def _coverage(
    model: str,
    bases: int,
    *,
    customers: int = 2000,
    checked: int = 500,
    n_draws: int = 200,
    proposals_per_draw: int = 5,
    seed: int = 2026,
    methods: tuple[str, ...] = ("data", "normal"),
) -> dict[str, dict[str, float]]:
    """Coverage of nominal 90 % intervals over ``bases`` simulated customer bases, by method:
    "data" (the draws follow the likelihood of the base: ``fit`` given the data) and "normal"
    (``fit`` without the data: the normal approximation alone), on the same bases and draws'
    seeds. Each base is fitted whole (transaction model and Gamma-Gamma); the intervals are
    checked on ``checked`` of its customers against their predictions under the TRUE
    parameters (P(alive) on repeat buyers only for the BG/NBD, whose one-time buyers have
    P(alive) = 1 under any parameters). Coverage is the mean over bases of the share covered."""
    model_class, params = {
        "bgnbd": (BetaGeoModel, BGNBD),
        "mbgnbd": (ModifiedBetaGeoModel, MBGNBD),
        "paretonbd": (ParetoNBDModel, PARETONBD),
    }[model]
    truth = model_class.from_params(params)
    true_spend = GammaGammaModel.from_params(GAMMA_GAMMA)
    rng = np.random.default_rng(seed)
    covered: dict[str, dict[str, list[float]]] = {
        method: {"alive": [], "expected": [], "clv": []} for method in methods
    }
    for base in range(bases):
        x, t_x, age = _simulated_base(model, customers, rng)
        repeat = x > 0
        monetary = simulate_gamma_gamma(**GAMMA_GAMMA, frequency=x, seed=rng)
        fitted = model_class().fit(x, t_x, age)
        spend_model = GammaGammaModel().fit(x[repeat], monetary[repeat])
        who = rng.choice(customers, checked, replace=False)
        xs, ts, ages, ms = x[who], t_x[who], age[who], monetary[who]
        true_values = {
            "alive": truth.probability_alive(xs, ts, ages),
            "expected": truth.conditional_expected_purchases(52, xs, ts, ages),
            "clv": customer_lifetime_value(
                truth,
                true_spend,
                xs,
                ts,
                ages,
                horizon=52,
                discount_rate_per_period=WEEKLY_DISCOUNT,
                monetary_value=ms,
            ),
        }
        counted = xs > 0 if model == "bgnbd" else np.ones(checked, dtype=bool)
        arms = {"data": {"frequency": x, "recency": t_x, "T": age}, "normal": {}}
        for method in methods:
            data = arms[method]
            intervals = (
                ParameterUncertainty(
                    n_draws=n_draws, seed=base, proposals_per_draw=proposals_per_draw
                )
                .fit(fitted, spend_model, **data)
                .predict(
                    xs,
                    ts,
                    ages,
                    horizon=52,
                    discount_rate_per_period=WEEKLY_DISCOUNT,
                    monetary_value=np.where(xs > 0, ms, np.nan),
                )
            )
            assert intervals.clv is not None
            for name, interval in (
                ("alive", intervals.probability_alive),
                ("expected", intervals.expected_purchases),
                ("clv", intervals.clv),
            ):
                value = true_values[name]
                inside = (interval.low <= value) & (value <= interval.high)
                share = inside[counted].mean() if name == "alive" else inside.mean()
                covered[method][name].append(float(share))
    return {
        method: {name: float(np.mean(values)) for name, values in figures.items()}
        for method, figures in covered.items()
    }


@pytest.mark.slow
def test_nominal_90_percent_intervals_cover_85_to_95_percent_with_the_bgnbd() -> None:
    """100 customer bases of 2,000 drawn from the BG/NBD and Gamma-Gamma with the CDNOW
    parameters (FHL 2005), intervals of 200 draws checked on 500 customers of each. Measured
    with this seed: P(alive) 0.913, expected purchases 0.864, CLV 0.860, each +-0.02 (the
    standard error over the bases; the normal draws alone on the same bases, not computed
    here: 0.910, 0.875, 0.877; benchmarks/intervals/coverage.py on 100 other bases of all 2,000
    customers: 0.896, 0.901, 0.897). Most bases are resampled at this size; the normal
    approximation was already about right for this model, and resampling must keep it so."""
    coverage = _coverage("bgnbd", 100, methods=("data",))
    for name, share in coverage["data"].items():
        assert 0.85 <= share <= 0.95, (name, coverage)


@pytest.mark.slow
def test_nominal_90_percent_intervals_cover_85_to_95_percent_with_the_mbgnbd() -> None:
    """As the BG/NBD test with the MBG/NBD at the BTYDplus CDNOW estimates. The normal
    approximation alone covers only about 0.81-0.85 here (its standard errors of log a, log b
    are 15-19 % smaller than the estimates' spread, which is skewed to the right); the draws
    that follow the likelihood must cover 85-95 % and more than the normal's on the same bases.
    Checked on 300 customers of each base. Measured with this seed: P(alive) 0.936, expected
    purchases 0.911, CLV 0.879 (the normal draws alone on the same bases: 0.844, 0.854, 0.816),
    each +-0.02-0.03 over the bases; the paired differences are far less noisy than that (the
    same bases and seeds)."""
    coverage = _coverage("mbgnbd", 100, checked=300)
    for name, share in coverage["data"].items():
        assert 0.85 <= share <= 0.95, (name, coverage)
        assert share >= coverage["normal"][name] + 0.03, (name, coverage)


@pytest.mark.slow
def test_nominal_90_percent_intervals_cover_85_to_95_percent_with_the_paretonbd() -> None:
    """As the BG/NBD test with the Pareto/NBD at the FHL 2005 CDNOW estimates, whose draws are
    the normal approximation's (not resampled: module notes), on 30 bases with 100 draws (its
    fit and predictions cost several times the BG/NBD's), checked on 300 customers of each.
    The standard error over bases is about 0.04 here (the customers of a base share its
    parameter error, so a base's coverage is mostly 0 or 1), so the band guards against a gross
    failure rather than pinning 90 %; docs/value.md has 60 more bases of
    benchmarks/intervals/coverage.py. Measured with this seed: P(alive) 0.901, expected
    purchases 0.893, CLV 0.904."""
    coverage = _coverage("paretonbd", 30, checked=300, n_draws=100, methods=("data",))
    for name, share in coverage["data"].items():
        assert 0.85 <= share <= 0.95, (name, coverage)
