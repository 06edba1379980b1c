"""Per-customer intervals for P(alive), expected purchases and CLV from the estimates' sampling
distribution.

Method: draws from the asymptotic normal distribution of the maximum-likelihood estimates of the
*log*-parameters (the scale the models are fitted on), ``log θ* ~ N(log θ̂, J⁻¹)`` with ``J`` the
observed information in log-parameters, i.e. ``J⁻¹ = diag(1/θ̂) Σ diag(1/θ̂)`` for the natural-scale
covariance ``Σ`` = the models' ``covariance_`` (the inverse of the negative Hessian of the
log-likelihood at the optimum; Cox & Hinkley 1974, *Theoretical Statistics*, ch. 9; the
delta method for ``log θ``). Each draw is turned into a model with
:meth:`~kehu.analytics._base.BaseModel.from_params` and every customer's prediction is computed
under it; the interval is the ``(1-level)/2`` and ``(1+level)/2`` quantiles of the draws'
predictions (the simulation approach of King, Tomz & Wittenberg 2000, "Making the most of
statistical analyses", *American Journal of Political Science* 44(2); Mandel 2013,
"Simulation-based confidence intervals for functions with complicated derivatives", *The
American Statistician* 67, on its use in place of the delta method or a bootstrap).

Why this and not a parametric bootstrap: a bootstrap refits the model once per replicate
(hundreds of fits, each of them an optimisation over the distinct rows) and must simulate whole
customer bases; the normal draws cost one covariance (already computed by the fit for the
standard errors) and only predictions. On the log scale the draws stay positive and the normal
approximation is better than on the natural one (the estimates' distributions are skewed to the
right). What it assumes: the sample is large enough for the likelihood to be near quadratic in
the log-parameters. On kehu's simulator nominal 90 % intervals held the true prediction for 90-91 %
of customers with the BG/NBD on 2,000 customers per data set, but for only 80-86 % with the
MBG/NBD and the Pareto/NBD (weakly identified dropout parameters), 87-98 % by 10,000 customers
(``docs/value.md`` has the figures): with a small customer base, read them as a lower bound.

What the interval covers, and what it does not: it is the uncertainty of the *prediction* (a
function of the population parameters and the customer's summary) that comes from having
estimated the parameters from a finite customer base. It is **not** a range for what the
customer will actually do: her own purchases over the horizon are a Poisson-type count around
that prediction, usually far wider (a customer with an expected 0.4 purchases buys 0 or 1 or 2
times). Nor does it cover a wrong model (a BG/NBD fitted to data that follow another story).

The spend model's (Gamma-Gamma) parameters are drawn the same way, independently of the
transaction model's: the joint likelihood of (x, t_x, T) and of the spend given x factorises
(Fader, Hardie & Lee 2005, JMR 42(4), the independence assumption of the Gamma-Gamma model), so
the two estimates are asymptotically independent. A CLV draw is the transaction draw's
discounted purchases times the spend draw's expected spend.

Cost: predictions are computed per distinct (x, t_x, T) row, and the expensive part, the expected
purchases of a customer known to be alive, per distinct (x, T) pair only. That relies on a
property the models of :mod:`kehu.analytics` share (BG/NBD, FHL 2005 eq. 10; MBG/NBD; Pareto/NBD,
Fader & Hardie 2005 note, eq. 26): ``E[X(T, T+t) | x, t_x, T] = P(alive | x, t_x, T) ·
E[X(T, T+t) | alive, x, T]``, since given that the customer is alive at T the posterior of her
rates depends on x and T only. The discounting of CLV takes each pair's purchase-timing profile
over the horizon from the point estimate (``CLV_draw = E_draw[X(T, T+h)] · D̂ / Ê[X(T, T+h)]``,
``D̂`` the point estimate's discounted purchases): the share of the horizon's purchases that come
early moves far less between draws than their number, and evaluating the profile per draw would
cost one prediction per period (52 for a year of weeks) per draw. Against the exact per-draw
discounting (the test suite's brute force, CDNOW, a year of weeks at 10 % a year) an interval
end moved by at most 0.2 %, in intervals tens of per cent wide.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kehu.analytics._base import FloatArray, group_rows
from kehu.analytics.clv import customer_lifetime_value
from kehu.errors import IdentificationError, InputError, NotFittedError

#: Elements of one (draws x rows) block: bounds the memory of a run at ~16 MB per matrix.
_BLOCK_ELEMENTS = 2_000_000


class FittedModel(Protocol):
    """A fitted kehu model: parameters, their covariance and ``from_params``."""

    param_names: tuple[str, ...]
    params_: dict[str, float]
    covariance_: FloatArray

    @classmethod
    def from_params(cls, params: Mapping[str, float]) -> Any: ...


class FittedTransactionModel(FittedModel, Protocol):
    """A fitted transaction model (BG/NBD, MBG/NBD, Pareto/NBD)."""

    def probability_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> Any: ...

    def conditional_expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> Any: ...


class Interval(NamedTuple):
    """Lower and upper ends of an interval, one per customer."""

    low: FloatArray
    high: FloatArray


@dataclass(frozen=True)
class CustomerIntervals:
    """The intervals of one call of :meth:`ParameterUncertainty.predict`; ``clv`` is None
    without a spend model."""

    probability_alive: Interval
    expected_purchases: Interval
    clv: Interval | None


def draw_log_normal_parameters(
    model: FittedModel, n_draws: int, rng: np.random.Generator
) -> FloatArray:
    """``n_draws`` parameter vectors (rows, natural scale, in ``param_names`` order) from the
    asymptotic normal of the log-parameters: ``log θ* = log θ̂ + L z`` with ``L Lᵀ`` the
    covariance of ``log θ̂`` (delta method: ``Σ_ij / (θ̂_i θ̂_j)``) and ``z`` standard normal."""
    names = model.param_names
    estimate = np.array([model.params_[name] for name in names], dtype=np.float64)
    covariance = np.asarray(getattr(model, "covariance_", np.nan), dtype=np.float64)
    label = type(model).__name__
    if covariance.shape != (len(names), len(names)) or not np.all(np.isfinite(covariance)):
        raise IdentificationError(
            f"{label}: no finite covariance of the estimates (parameters given rather than "
            "fitted, or an observed information that cannot be inverted), so no intervals"
        )
    log_covariance = covariance / np.outer(estimate, estimate)
    log_covariance = 0.5 * (log_covariance + log_covariance.T)
    try:
        factor = np.linalg.cholesky(log_covariance)
    except np.linalg.LinAlgError:
        eigenvalues, eigenvectors = np.linalg.eigh(log_covariance)
        if eigenvalues.min() < -1e-8 * max(1.0, float(eigenvalues.max())):
            raise IdentificationError(
                f"{label}: the covariance of the estimates is not positive semi-definite "
                "(the likelihood is not at a maximum), so no intervals"
            ) from None
        factor = eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))
    normal = rng.standard_normal((n_draws, len(names)))
    return np.asarray(np.exp(np.log(estimate) + normal @ factor.T), dtype=np.float64)


class ParameterUncertainty:
    """Intervals for each customer's predictions from draws of the fitted parameters.

    ``ParameterUncertainty(n_draws=200, level=0.90, seed=0).fit(transaction_model,
    spend_model)`` draws the parameters (see the module notes for the method, what it covers and
    what it does not); :meth:`predict` gives the intervals. The same seed gives the same draws.

    Learned state: ``transaction_draws_`` (``n_draws`` x parameters), ``spend_draws_`` (or None),
    ``transaction_model_``, ``spend_model_``.
    """

    def __init__(self, n_draws: int = 200, level: float = 0.90, seed: int | None = 0) -> None:
        self.n_draws = n_draws
        self.level = level
        self.seed = seed

    def fit(
        self, transaction_model: FittedTransactionModel, spend_model: FittedModel | None = None
    ) -> Self:
        """Draw the parameters of ``transaction_model`` (BG/NBD, MBG/NBD or Pareto/NBD, fitted)
        and of ``spend_model`` (Gamma-Gamma, fitted, optional); returns ``self``."""
        if isinstance(self.n_draws, bool) or not isinstance(self.n_draws, int | np.integer):
            raise InputError("n_draws must be a whole number", column="n_draws")
        if self.n_draws < 20:
            raise InputError(
                "n_draws must be >= 20 (fewer draws cannot place the interval's ends)",
                column="n_draws",
                value=self.n_draws,
            )
        if not (np.isfinite(self.level) and 0.0 < self.level < 1.0):
            raise InputError("level must be between 0 and 1", column="level", value=self.level)
        rng = np.random.default_rng(self.seed)
        self.transaction_draws_ = draw_log_normal_parameters(transaction_model, self.n_draws, rng)
        self.spend_draws_ = (
            None
            if spend_model is None
            else draw_log_normal_parameters(spend_model, self.n_draws, rng)
        )
        self.transaction_model_ = transaction_model
        self.spend_model_ = spend_model
        return self

    def _check_fitted(self) -> FloatArray:
        draws = getattr(self, "transaction_draws_", None)
        if draws is None:
            raise NotFittedError("ParameterUncertainty is not fitted yet: call fit() first")
        return np.asarray(draws)

    def predict(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        *,
        horizon: int,
        discount_rate_per_period: float,
        time_units_per_period: float = 1.0,
        monetary_value: ArrayLike | None = None,
        margin: ArrayLike = 1.0,
    ) -> CustomerIntervals:
        """Intervals, one per customer (row of the inputs), for P(alive), the expected purchases
        over ``horizon`` periods of ``time_units_per_period`` and (with a spend model and
        ``monetary_value``) the CLV of :func:`kehu.analytics.clv.customer_lifetime_value` with
        the same arguments and ``margin`` (a number or one per customer; a negative margin
        swaps the ends).

        Transaction-model predictions are computed per distinct (x, t_x, T) row; the spend part
        per customer (it depends on the customer's own mean spend), with (x, t_x, T) rows of
        one-time buyers, whose expected spend is the population mean, per row.
        """
        draws = self._check_fitted()
        model_class = type(self.transaction_model_)
        names = self.transaction_model_.param_names
        x, t_x, age = (
            np.atleast_1d(np.asarray(v, dtype=np.float64)).ravel() for v in (frequency, recency, T)
        )
        x, t_x, age = (np.ascontiguousarray(a) for a in np.broadcast_arrays(x, t_x, age))
        n = len(x)
        t = float(horizon) * float(time_units_per_period)
        want_clv = self.spend_model_ is not None and monetary_value is not None
        if self.spend_model_ is not None and monetary_value is None:
            raise InputError(
                "monetary_value is required for CLV intervals with a spend model",
                column="monetary_value",
            )
        (row_x, row_t_x, row_age), row_of_customer = group_rows([x, t_x, age])
        # (x, T) pairs with a representative row of a customer known to be alive-ish: the last
        # purchase at T (any t_x <= T is valid); one-time buyers keep t_x = 0.
        (pair_x, pair_age), pair_of_row = group_rows([row_x, row_age])
        pair_t_x = np.where(pair_x > 0, pair_age, 0.0)
        point = self.transaction_model_
        pair_expected_point = np.asarray(
            point.conditional_expected_purchases(t, pair_x, pair_t_x, pair_age), dtype=np.float64
        )
        pair_discounted_point = np.asarray(
            customer_lifetime_value(
                point,
                1.0,
                pair_x,
                pair_t_x,
                pair_age,
                horizon=horizon,
                discount_rate_per_period=discount_rate_per_period,
                time_units_per_period=time_units_per_period,
            ),
            dtype=np.float64,
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            discount_share = np.where(
                pair_expected_point > 0, pair_discounted_point / pair_expected_point, 1.0
            )

        models = [model_class.from_params(dict(zip(names, d, strict=True))) for d in draws]
        # expected purchases of a customer alive at T, per draw and (x, T) pair
        expected_if_alive = np.empty((len(models), len(pair_x)))
        for k, model in enumerate(models):
            expected = model.conditional_expected_purchases(t, pair_x, pair_t_x, pair_age)
            alive = model.probability_alive(pair_x, pair_t_x, pair_age)
            with np.errstate(divide="ignore", invalid="ignore"):
                expected_if_alive[k] = np.where(alive > 0, expected / alive, 0.0)

        quantiles = [(1.0 - self.level) / 2.0, (1.0 + self.level) / 2.0]
        n_rows = len(row_x)
        alive_bounds = np.empty((2, n_rows))
        expected_bounds = np.empty((2, n_rows))
        clv_low = np.full(n, np.nan)
        clv_high = np.full(n, np.nan)
        spend_setup = self._spend_setup(x, monetary_value, margin, n) if want_clv else None
        customers_by_row = np.argsort(row_of_customer, kind="stable")
        first_customer_of_row = np.searchsorted(
            row_of_customer[customers_by_row], np.arange(n_rows)
        )
        block = max(1, _BLOCK_ELEMENTS // len(models))
        for start in range(0, n_rows, block):
            stop = min(n_rows, start + block)
            rows = slice(start, stop)
            alive = np.empty((len(models), stop - start))
            for k, model in enumerate(models):
                alive[k] = model.probability_alive(row_x[rows], row_t_x[rows], row_age[rows])
            expected = alive * expected_if_alive[:, pair_of_row[rows]]
            alive_bounds[:, rows] = _quantiles(alive, quantiles)
            expected_bounds[:, rows] = _quantiles(expected, quantiles)
            if spend_setup is None:
                continue
            discounted = expected * discount_share[pair_of_row[rows]]
            first = first_customer_of_row[start]
            last = first_customer_of_row[stop] if stop < n_rows else n
            self._clv_block(
                discounted,
                customers_by_row[first:last],
                row_of_customer,
                start,
                spend_setup,
                quantiles,
                clv_low,
                clv_high,
            )
        probability_alive = Interval(
            alive_bounds[0][row_of_customer], alive_bounds[1][row_of_customer]
        )
        expected_purchases = Interval(
            expected_bounds[0][row_of_customer], expected_bounds[1][row_of_customer]
        )
        clv = Interval(clv_low, clv_high) if want_clv else None
        return CustomerIntervals(probability_alive, expected_purchases, clv)

    def _spend_setup(
        self, x: FloatArray, monetary_value: ArrayLike | None, margin: ArrayLike, n: int
    ) -> _SpendSetup:
        spend_draws = self.spend_draws_
        assert spend_draws is not None and self.spend_model_ is not None
        names = self.spend_model_.param_names
        p, q, gamma = (spend_draws[:, names.index(name)] for name in ("p", "q", "gamma"))
        monetary = np.broadcast_to(
            np.atleast_1d(np.asarray(monetary_value, dtype=np.float64)).ravel(), (n,)
        )
        margins = np.broadcast_to(np.atleast_1d(np.asarray(margin, dtype=np.float64)).ravel(), (n,))
        # as the engine's expected spend: the customer's own mean wherever she has one
        repeat = (x > 0) & np.isfinite(monetary)
        with np.errstate(divide="ignore", invalid="ignore"):
            # Gamma-Gamma's population mean spend p γ / (q - 1) (infinite for a draw with q <= 1)
            population_mean = np.where(q > 1.0, p * gamma / (q - 1.0), np.inf)
            # E(M | x, m) = p (γ + m x) / (p x + q - 1) = base(x) + slope(x) · m, per distinct
            # frequency (rows) and draw (columns); infinite where p x + q <= 1
            frequencies, frequency_index = np.unique(x, return_inverse=True)
            denominator = np.outer(frequencies, p) + (q - 1.0)
            positive = denominator > 0
            base = np.where(positive, p * gamma / denominator, np.inf)
            slope = np.where(positive, np.outer(frequencies, p) / denominator, np.inf)
        return _SpendSetup(
            population_mean, base, slope, frequency_index.reshape(-1), monetary, margins, repeat
        )

    @staticmethod
    def _clv_block(
        discounted: FloatArray,
        customers: NDArray[np.intp],
        row_of_customer: NDArray[np.intp],
        first_row: int,
        spend: _SpendSetup,
        quantiles: list[float],
        clv_low: FloatArray,
        clv_high: FloatArray,
    ) -> None:
        """CLV bounds of ``customers`` (all of whose rows lie in this block of rows)."""
        if len(customers) == 0:
            return
        local_row = row_of_customer[customers] - first_row
        one_time = customers[~spend.repeat[customers]]
        if len(one_time):
            # the spend is the population mean: the bounds per row, scaled by each margin
            with np.errstate(invalid="ignore"):
                per_row = _quantiles(discounted * spend.population_mean[:, None], quantiles)
            rows = row_of_customer[one_time] - first_row
            _store_scaled(per_row[:, rows], spend.margin[one_time], one_time, clv_low, clv_high)
        repeat = customers[spend.repeat[customers]]
        repeat_rows = local_row[spend.repeat[customers]]
        # customers x draws from here on: each customer's draws contiguous, for the gathers and
        # the sort
        discounted_by_row = np.ascontiguousarray(discounted.T)
        chunk = max(1, _BLOCK_ELEMENTS // discounted.shape[0])
        for start in range(0, len(repeat), chunk):
            who = repeat[start : start + chunk]
            frequency = spend.frequency_index[who]
            with np.errstate(invalid="ignore"):
                values = spend.slope[frequency]
                values *= spend.monetary[who][:, None]
                values += spend.base[frequency]
                values *= discounted_by_row[repeat_rows[start : start + chunk]]
                values.sort(axis=1)
                bounds = _interpolated(values, quantiles)
            _store_scaled(bounds, spend.margin[who], who, clv_low, clv_high)


def _quantiles(values_by_draw: FloatArray, quantiles: list[float]) -> FloatArray:
    """Quantiles over the draws (axis 0) of each column, numpy's default ("linear") rule.

    Sorting each column's draws (contiguous after the transpose) beats ``np.quantile``'s
    partition here: numpy's vectorised sort ran 4-5x faster on 200 draws per column."""
    with np.errstate(invalid="ignore"):
        return _interpolated(np.sort(values_by_draw.T, axis=1), quantiles)


def _interpolated(ordered: FloatArray, quantiles: list[float]) -> FloatArray:
    """Linear interpolation between order statistics of rows sorted along the last axis."""
    n = ordered.shape[1]
    bounds = np.empty((len(quantiles), ordered.shape[0]))
    for i, quantile in enumerate(quantiles):
        position = (n - 1) * quantile
        below = int(np.floor(position))
        share = position - below
        above = min(below + 1, n - 1)
        if share == 0.0 or above == below:
            bounds[i] = ordered[:, below]
        else:
            with np.errstate(invalid="ignore"):
                bounds[i] = ordered[:, below] + share * (ordered[:, above] - ordered[:, below])
    return bounds


@dataclass(frozen=True)
class _SpendSetup:
    """The spend draws arranged for :meth:`ParameterUncertainty._clv_block`."""

    population_mean: FloatArray  # per draw
    base: FloatArray  # distinct frequency x draw
    slope: FloatArray  # distinct frequency x draw
    frequency_index: NDArray[np.intp]  # per customer: row of base and slope
    monetary: FloatArray
    margin: FloatArray
    repeat: NDArray[np.bool_]


def _store_scaled(
    bounds: FloatArray,
    margin: FloatArray,
    customers: NDArray[np.intp],
    low: FloatArray,
    high: FloatArray,
) -> None:
    """Bounds times each customer's margin (a negative margin swaps the ends); an end that is
    not finite (a spend draw with an infinite mean) is stored as NaN: unknown, not infinite."""
    with np.errstate(invalid="ignore"):
        scaled_low, scaled_high = bounds[0] * margin, bounds[1] * margin
    first, second = np.minimum(scaled_low, scaled_high), np.maximum(scaled_low, scaled_high)
    low[customers] = np.where(np.isfinite(first), first, np.nan)
    high[customers] = np.where(np.isfinite(second), second, np.nan)


__all__ = [
    "CustomerIntervals",
    "Interval",
    "ParameterUncertainty",
    "draw_log_normal_parameters",
]
