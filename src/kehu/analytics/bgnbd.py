"""The BG/NBD model of repeat buying in a noncontractual, continuous-time setting.

Reference: Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005), "'Counting Your Customers' the Easy
Way: An Alternative to the Pareto/NBD Model", *Marketing Science* 24(2), 275-284 — "FHL 2005"
below, with its equation numbers.

Story: while alive, a customer buys as a Poisson process with rate ``lambda ~ Gamma(r, alpha)``
(shape ``r``, rate ``alpha``); after every purchase she drops out with probability
``p ~ Beta(a, b)``. A customer is summarised by ``frequency`` x (repeat purchases), ``recency``
t_x (time of the last purchase) and ``T`` (time since the first purchase), all in the same unit.

The MBG/NBD (:mod:`kehu.analytics.mbgnbd`) differs only in letting the customer also drop out at
time 0, right after the first purchase; both are implemented by :class:`BetaGeometricNBDFamily`.

Numerical notes (so that frequencies and times in the thousands stay finite):

* the likelihood's two terms are added in log space (``logaddexp``), never as ratios that
  overflow such as ``((alpha + T) / (alpha + t_x)) ** (r + x)``;
* P(alive) is a logistic function of a log-odds;
* the Gaussian hypergeometric term of the conditional expectation is rewritten with Euler's
  transformation ``2F1(A, B; C; z) = (1 - z)^(C-A-B) 2F1(C-A, C-B; C; z)``, which turns
  ``(1 - z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z)`` (a tiny number times a huge one) into
  ``(1 - z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)``, whose parameters no longer grow with x.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from kehu.analytics._base import (
    BaseModel,
    FloatArray,
    check_parameter_rows,
    check_recency_frequency,
    check_weights,
    compress_rows,
)
from kehu.errors import N_, IdentificationError, InputError

# Below this distance of a from 1 the factor 1/(a-1) of the expectations cancels against a
# vanishing bracket; the expectations (analytic in a) are then interpolated across a = 1.
_A_NEAR_ONE = 1e-4
# Elements of one (parameter vectors x rows) block of log_likelihood_at: ~16 MB per array.
_LIKELIHOOD_BLOCK_ELEMENTS = 2_000_000


@dataclass(frozen=True)
class _SummaryRows:
    """Compressed summary rows with their data-only quantities, computed once per fit.

    Frequencies take few distinct values, so the special functions of ``r + x``, ``b + x`` ...
    are evaluated once per distinct frequency and spread to the rows: by ``np.repeat`` when the
    rows are sorted by frequency (as :func:`compress_rows` leaves them), else by indexing.
    """

    frequency: FloatArray
    recency: FloatArray
    age: FloatArray
    frequency_values: FloatArray
    frequency_index: NDArray[np.intp]
    frequency_counts: NDArray[np.intp] | None  # rows per distinct frequency, if sorted

    def spread(self, per_value: FloatArray) -> FloatArray:
        """Per-distinct-frequency values (last axis) to per-row values."""
        if self.frequency_counts is not None:
            return np.repeat(per_value, self.frequency_counts, axis=-1)
        return np.asarray(per_value[..., self.frequency_index], dtype=np.float64)


class BetaGeometricNBDFamily(BaseModel):
    """Maximum-likelihood BG/NBD-type model; ``_dropout_at_start`` selects the variant.

    With ``k = 1`` if the customer may drop out right after the first purchase (MBG/NBD) and
    ``k = 0`` otherwise (BG/NBD), the individual likelihood integrated over the Gamma and Beta
    mixing distributions is (FHL 2005 eq. 6 for k = 0)::

        L = Γ(r+x) α^r / Γ(r) · B(a, b+x+k) / B(a, b)
            · [ (α+T)^-(r+x) + δ · a / (b+x-1+k) · (α+t_x)^-(r+x) ]

    with ``δ = 1[x > 0]`` for the BG/NBD and ``δ = 1`` for the MBG/NBD.
    """

    param_names = ("r", "alpha", "a", "b")
    _dropout_at_start: ClassVar[bool] = False
    _model_label: ClassVar[str] = "BG/NBD"
    # (rows, params bytes, log-likelihood rows, gradient rows) of the last evaluation
    _last_evaluation: tuple[Any, ...] | None = None

    # --- fitting ---------------------------------------------------------------------------------
    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        weights: ArrayLike | None = None,
        initial_params: ArrayLike | None = None,
    ) -> BetaGeometricNBDFamily:
        """Estimate ``r, alpha, a, b`` by maximum likelihood; returns ``self``.

        ``weights`` counts identical customers (default 1 each). Identical rows are merged
        before fitting, so the cost grows with the number of distinct (x, t_x, T) rows.
        Raises :class:`~kehu.errors.InputError` for malformed data,
        :class:`~kehu.errors.IdentificationError` when no customer ever bought again (the dropout
        process is then invisible) and :class:`~kehu.errors.ConvergenceError` when the optimiser
        fails.
        """
        x, t_x, t_cal = check_recency_frequency(frequency, recency, T)
        w = check_weights(weights, len(x))
        instant = (x > 0) & (t_x == 0) & (w > 0)
        if instant.any():
            # All repeat purchases at the very moment of the first one have an infinite density
            # (the likelihood grows without bound as alpha -> 0): bad data, not a model result.
            index = int(np.flatnonzero(instant)[0])
            raise InputError(
                "recency must be > 0 when frequency > 0 (repeat purchases come after the first "
                "one; merge purchases made at the same time as the first)",
                row=index + 1,
                column="recency",
                value=0.0,
            )
        keep = w > 0
        if not keep.all():
            if not keep.any():
                raise IdentificationError(
                    N_("%(model)s: every weight is 0, so there is no customer to fit"),
                    values={"model": self._model_label},
                    advice=N_("give each row the number of customers it stands for (weights > 0)"),
                )
            x, t_x, t_cal, w = x[keep], t_x[keep], t_cal[keep], w[keep]
        (x, t_x, t_cal), w = compress_rows([x, t_x, t_cal], w)
        if not np.any(x > 0):
            raise IdentificationError(
                N_(
                    "%(model)s cannot be estimated: no customer made a repeat purchase (every "
                    "frequency is 0), so the data say nothing about how customers drop out"
                ),
                values={"model": self._model_label},
                advice=N_(
                    "wait for a longer purchase history (or import one: a model of repeat buying "
                    "needs customers who bought again), or choose a longer observation end"
                ),
            )
        try:
            self._fit_rows((x, t_x, t_cal), w, initial_params)
        finally:
            self._last_evaluation = None  # do not keep per-row arrays alive after the fit
        self._require_identified()
        return self

    def _initial_params(self, *data: FloatArray, weights: FloatArray) -> FloatArray:
        frequency, _, age = data
        total = float(weights.sum())
        mean_frequency = max(float(weights @ frequency) / total, 1e-3)
        mean_age = max(float(weights @ age) / total, 1e-3)
        # Start the purchase rate r/alpha at the observed repeat rate, so the start is
        # independent of the time unit (weeks or days).
        return np.array([1.0, mean_age / mean_frequency, 1.0, 3.0])

    def _prepare_rows(self, *data: FloatArray) -> tuple[Any, ...]:
        frequency, recency, age = (np.asarray(column, dtype=np.float64) for column in data)
        values, index = np.unique(frequency, return_inverse=True)
        is_sorted = bool(np.all(frequency[1:] >= frequency[:-1]))
        counts = np.bincount(index, minlength=len(values)).astype(np.intp) if is_sorted else None
        rows = _SummaryRows(
            frequency=frequency,
            recency=recency,
            age=age,
            frequency_values=values,
            frequency_index=index.astype(np.intp),
            frequency_counts=counts,
        )
        return (rows,)

    def _log_likelihood_rows(self, params: FloatArray, *data: Any) -> FloatArray:
        """Per-row log of FHL 2005 eq. (6) (k = 0) or its MBG/NBD analogue (k = 1)."""
        (rows,) = data
        return self._evaluate(params, rows)[0]

    def _log_likelihood_gradient_rows(self, params: FloatArray, *data: Any) -> FloatArray | None:
        """Analytic derivatives of the per-row log-likelihood with respect to r, alpha, a, b."""
        (rows,) = data
        return self._evaluate(params, rows)[1]

    def _evaluate(self, params: FloatArray, rows: _SummaryRows) -> tuple[FloatArray, FloatArray]:
        """Per-row log-likelihood and its gradient, sharing all intermediate terms.

        The optimiser asks for the value and then the gradient at the same point: the last
        evaluation is kept, so each point costs one pass over the rows.
        """
        cached = getattr(self, "_last_evaluation", None)
        key = params.tobytes()
        if cached is not None and cached[0] is rows and cached[1] == key:
            return cached[2], cached[3]
        r, alpha, a, b = (float(value) for value in params)
        k = 1.0 if self._dropout_at_start else 0.0
        xv = rows.frequency_values
        # The "dropped out after the last purchase" term exists for x > 0 (BG/NBD) or for every
        # x (MBG/NBD); its factor a / (b + x - 1 + k) is only evaluated where it exists.
        active = (xv > 0) | self._dropout_at_start
        shifted = np.where(active, b + xv - 1.0 + k, 1.0)
        digamma_ab = special.digamma(a + b)
        digamma_abx = special.digamma(a + b + xv + k)
        per_value = np.vstack(
            [
                # log Γ(r+x)/Γ(r) + log B(a, b+x+k)/B(a, b)
                special.gammaln(r + xv)
                - special.gammaln(r)
                + special.betaln(a, b + xv + k)
                - special.betaln(a, b),
                # log of a / (b+x-1+k); -inf where the second term does not exist
                np.where(active, np.log(a) - np.log(shifted), -np.inf),
                special.digamma(r + xv) - special.digamma(r),
                digamma_ab - digamma_abx,
                special.digamma(b + xv + k) - digamma_abx - special.digamma(b) + digamma_ab,
                np.where(active, 1.0 / shifted, 0.0),
            ]
        )
        log_gamma_beta, log_factor, d_r_const, d_a_const, d_b_const, inverse_shifted = rows.spread(
            per_value
        )
        # In-place arithmetic below: fits on a million customers spend their time here, and
        # every avoided temporary is a pass over memory saved.
        log_alpha = float(np.log(alpha))
        n = rows.frequency + r
        alpha_age = rows.age + alpha
        alpha_recency = rows.recency + alpha
        log_alpha_age = np.log(alpha_age)
        log_ratio = np.log(alpha_recency)
        np.subtract(log_alpha_age, log_ratio, out=log_ratio)  # log((α+T)/(α+t_x)) >= 0
        # Log-odds of the two likelihood terms: "dropped out after t_x" against "still alive".
        log_odds = np.multiply(n, log_ratio)
        log_odds += log_factor
        # log(1 + e^d) as max(d, 0) + log1p(e^-|d|): stable, and several times faster than
        # np.logaddexp(0, d); the posterior weight of the second term is e^(d - log(1 + e^d)).
        softplus = np.abs(log_odds)
        np.negative(softplus, out=softplus)
        np.exp(softplus, out=softplus)
        np.log1p(softplus, out=softplus)
        softplus += np.maximum(log_odds, 0.0)
        weight_dropped = np.subtract(log_odds, softplus, out=log_odds)
        np.exp(weight_dropped, out=weight_dropped)
        ll = softplus
        ll += log_gamma_beta
        ll -= np.multiply(n, log_alpha_age, out=log_gamma_beta)
        ll += r * log_alpha
        gradient = np.empty((4, len(n)))
        # d/dr = ψ(r+x) - ψ(r) + log α - log(α+T) + w · log((α+T)/(α+t_x))
        np.multiply(weight_dropped, log_ratio, out=gradient[0])
        gradient[0] += d_r_const
        gradient[0] -= log_alpha_age
        gradient[0] += log_alpha
        # d/dα = r/α - (r+x) · [1/(α+T) + w · (1/(α+t_x) - 1/(α+T))]
        inverse_age = np.reciprocal(alpha_age, out=alpha_age)
        bracket = np.reciprocal(alpha_recency, out=alpha_recency)
        bracket -= inverse_age
        bracket *= weight_dropped
        bracket += inverse_age
        bracket *= n
        np.subtract(r / alpha, bracket, out=gradient[1])
        # d/da = ψ(a+b) - ψ(a+b+x+k) + w / a
        np.multiply(weight_dropped, 1.0 / a, out=gradient[2])
        gradient[2] += d_a_const
        # d/db = ψ(b+x+k) - ψ(a+b+x+k) - ψ(b) + ψ(a+b) - w / (b+x-1+k)
        np.multiply(weight_dropped, inverse_shifted, out=gradient[3])
        np.subtract(d_b_const, gradient[3], out=gradient[3])
        self._last_evaluation = (rows, key, ll, gradient)
        return ll, gradient

    # --- evaluation ------------------------------------------------------------------------------
    def log_likelihood(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        weights: ArrayLike | None = None,
        params: Mapping[str, float] | None = None,
    ) -> float:
        """Total log-likelihood of the data (weights counted) at the fitted ``params_`` or at
        ``params`` given as a mapping with the literature names."""
        x, t_x, t_cal = check_recency_frequency(frequency, recency, T)
        w = check_weights(weights, len(x))
        values = self._params_from(params)
        (rows,) = self._prepare_rows(x, t_x, t_cal)
        with np.errstate(all="ignore"):
            total = float(w @ self._log_likelihood_rows(values, rows))
        self._last_evaluation = None
        return total

    def log_likelihood_at(
        self,
        params: ArrayLike,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        weights: ArrayLike | None = None,
    ) -> FloatArray:
        """Total log-likelihood of the data (weights counted) at each row of ``params`` (a
        ``(k, 4)`` array of r, alpha, a, b; one vector is one row): FHL 2005 eq. (6) or its
        MBG/NBD analogue (class notes). Needs no fit and leaves a fitted model as it was.

        Built for evaluating many parameter vectors on one data set (the importance weights of
        :mod:`kehu.analytics.uncertainty`): the data are checked and merged into distinct
        (x, t_x, T) rows once; per vector, the Gamma and Beta functions are evaluated per
        distinct frequency, the logarithms per distinct t_x and T, and only the log of the
        bracket's sum per row.
        """
        values = check_parameter_rows(params, self.param_names)
        x, t_x, t_cal = check_recency_frequency(frequency, recency, T)
        w = check_weights(weights, len(x))
        (x, t_x, t_cal), w = compress_rows([x, t_x, t_cal], w)
        k = 1.0 if self._dropout_at_start else 0.0
        # Only rows whose bracket has the "dropped out after t_x" term need a per-row logarithm;
        # for the others (BG/NBD's x = 0) the bracket is (α+T)^-(r+x) alone.
        two_terms = (x > 0) | self._dropout_at_start
        frequencies, frequency_index = np.unique(x, return_inverse=True)
        weight_per_frequency = np.bincount(frequency_index, weights=w)
        ages, age_index = np.unique(t_cal, return_inverse=True)
        weight_per_age = np.bincount(age_index, weights=w)
        weighted_x_per_age = np.bincount(age_index, weights=w * x)
        recencies, recency_index = np.unique(t_x[two_terms], return_inverse=True)
        frequency_index_2 = frequency_index[two_terms]
        age_index_2 = age_index[two_terms]
        x_2, w_2 = x[two_terms], w[two_terms]
        active = (frequencies > 0) | self._dropout_at_start
        totals = np.empty(len(values))
        block = max(1, _LIKELIHOOD_BLOCK_ELEMENTS // max(1, len(x_2)))
        with np.errstate(all="ignore"):
            for start in range(0, len(values), block):
                r, alpha, a, b = (values[start : start + block, i : i + 1] for i in range(4))
                # log Γ(r+x)/Γ(r) + log B(a, b+x+k)/B(a, b) + r log α, summed over customers
                constant = (
                    special.gammaln(r + frequencies)
                    - special.gammaln(r)
                    + special.betaln(a, b + frequencies + k)
                    - special.betaln(a, b)
                ) @ weight_per_frequency + r[:, 0] * np.log(alpha[:, 0]) * w.sum()
                # - (r+x) log(α+T), summed over customers per distinct T
                log_alpha_age = np.log(alpha + ages)
                alive_term = -(r[:, 0] * (log_alpha_age @ weight_per_age)) - (
                    log_alpha_age @ weighted_x_per_age
                )
                # log(1 + a/(b+x-1+k) ((α+T)/(α+t_x))^(r+x)) per two-term row, as a softplus
                # of its log-odds
                log_factor = np.log(a) - np.log(np.where(active, b + frequencies - 1.0 + k, 1.0))
                log_odds = log_alpha_age[:, age_index_2]
                log_odds -= np.log(alpha + recencies)[:, recency_index]
                log_odds *= r + x_2
                log_odds += log_factor[:, frequency_index_2]
                softplus = np.maximum(log_odds, 0.0)
                np.abs(log_odds, out=log_odds)
                np.negative(log_odds, out=log_odds)
                np.exp(log_odds, out=log_odds)
                np.log1p(log_odds, out=log_odds)
                softplus += log_odds
                totals[start : start + block] = constant + alive_term + softplus @ w_2
        return totals

    def _params_from(self, params: Mapping[str, float] | None) -> FloatArray:
        if params is None:
            return self._check_fitted()
        missing = [name for name in self.param_names if name not in params]
        if missing:
            raise InputError(f"params lacks {', '.join(missing)}", column="params")
        values = np.array([float(params[name]) for name in self.param_names])
        if not np.all(np.isfinite(values) & (values > 0)):
            raise InputError("params must all be positive and finite", column="params")
        return values

    # --- predictions -----------------------------------------------------------------------------
    def probability_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> Any:
        """P(alive at T | x, t_x, T).

        BG/NBD: ``1 / (1 + δ_{x>0} · a/(b+x-1) · ((α+T)/(α+t_x))^(r+x))`` — Fader, Hardie & Lee
        (2008), "Computing P(alive) Using the BG/NBD Model" (brucehardie.com note 021); it is the
        denominator of FHL 2005 eq. (10). MBG/NBD: the same with ``a/(b+x)`` and no δ.
        Returns a float for scalar input, else an array of the broadcast shape.
        """
        params = self._check_fitted()
        x, t_x, t_cal = check_recency_frequency(frequency, recency, T, one_dimensional=False)
        result = self._probability_alive(params, x, t_x, t_cal)
        return _as_output(result, frequency, recency, T)

    def _probability_alive(
        self, params: FloatArray, x: FloatArray, t_x: FloatArray, t_cal: FloatArray
    ) -> FloatArray:
        r, alpha, a, b = params
        k = 1.0 if self._dropout_at_start else 0.0
        active = (x > 0) | self._dropout_at_start
        shifted = np.where(active, b + x - 1.0 + k, 1.0)
        # log of a/(b+x-1+k) · ((α+T)/(α+t_x))^(r+x), kept in logs to avoid overflow.
        log_odds = np.log(a) - np.log(shifted) + (r + x) * np.log1p((t_cal - t_x) / (alpha + t_x))
        return np.where(active, special.expit(-log_odds), 1.0)

    def conditional_expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> Any:
        """E[X(T, T+t) | x, t_x, T]: expected repeat purchases in the next ``t`` time units.

        FHL 2005 eq. (10)::

            (a+b+x-1)/(a-1) · [1 - ((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; t/(α+T+t))]
            / (1 + δ_{x>0} a/(b+x-1) ((α+T)/(α+t_x))^(r+x))

        (MBG/NBD: ``a+b+x`` for ``a+b+x-1``, ``b+x+1`` for ``b+x``, ``a/(b+x)`` and no δ —
        Batislam, Denizel & Filiztekin 2007). Evaluated as P(alive) times the expectation for an
        alive customer, with the hypergeometric term Euler-transformed (see module notes).
        Returns a float for scalar input, else an array of the broadcast shape.
        """
        params = self._check_fitted()
        x, t_x, t_cal = check_recency_frequency(frequency, recency, T, one_dimensional=False)
        horizon = _check_nonnegative(t, "t")
        x, t_x, t_cal, horizon = np.broadcast_arrays(x, t_x, t_cal, horizon)
        alive = self._probability_alive(params, x, t_x, t_cal)
        if_alive = self._expected_purchases_if_alive(params, horizon, x, t_cal)
        return _as_output(alive * if_alive, t, frequency, recency, T)

    def _expected_purchases_if_alive(
        self, params: FloatArray, t: FloatArray, x: FloatArray, t_cal: FloatArray
    ) -> FloatArray:
        """c/(a-1) · [1 - (1-z)^(a-1) 2F1(c-r-x, a-1; c; z)], c = a+b+x-1+k, z = t/(α+T+t)."""
        r, alpha, a, b = params
        if not self._dropout_at_start and abs(a + b - 1.0) < _A_NEAR_ONE:
            # BG/NBD with x = 0 has c = a + b - 1: at a + b = 1, c and a pole of 2F1 meet
            # (0 · ∞). The expectation is smooth in b: extrapolate linearly from two points
            # just above the singular one (b > 0 stays guaranteed).
            near = 1.0 - a + 2.0 * _A_NEAR_ONE
            far = 1.0 - a + 4.0 * _A_NEAR_ONE
            at_near = self._expected_if_alive_safe_in_a(r, alpha, a, near, t, x, t_cal)
            at_far = self._expected_if_alive_safe_in_a(r, alpha, a, far, t, x, t_cal)
            share = (b - near) / (far - near)
            return np.asarray(at_near + share * (at_far - at_near), dtype=np.float64)
        return self._expected_if_alive_safe_in_a(r, alpha, a, b, t, x, t_cal)

    def _expected_if_alive_safe_in_a(
        self,
        r: float,
        alpha: float,
        a: float,
        b: float,
        t: FloatArray,
        x: FloatArray,
        t_cal: FloatArray,
    ) -> FloatArray:
        if abs(a - 1.0) >= _A_NEAR_ONE:
            return self._expected_if_alive_at(r, alpha, a, b, t, x, t_cal)
        # The expression is analytic in a; interpolate between two well-conditioned points.
        below = self._expected_if_alive_at(r, alpha, 1.0 - _A_NEAR_ONE, b, t, x, t_cal)
        above = self._expected_if_alive_at(r, alpha, 1.0 + _A_NEAR_ONE, b, t, x, t_cal)
        share = (a - (1.0 - _A_NEAR_ONE)) / (2.0 * _A_NEAR_ONE)
        return np.asarray(below + share * (above - below), dtype=np.float64)

    def _expected_if_alive_at(
        self,
        r: float,
        alpha: float,
        a: float,
        b: float,
        t: FloatArray,
        x: FloatArray,
        t_cal: FloatArray,
    ) -> FloatArray:
        k = 1.0 if self._dropout_at_start else 0.0
        c = a + b + x - 1.0 + k
        ratio = t / (alpha + t_cal)
        z = ratio / (1.0 + ratio)
        # (1 - z)^(a-1) with 1 - z = (α+T)/(α+T+t)
        scale = np.exp(-(a - 1.0) * np.log1p(ratio))
        hypergeometric = _hyp2f1(c - r - x, a - 1.0, c, z)
        bracket = 1.0 - scale * hypergeometric
        return np.asarray(c / (a - 1.0) * bracket, dtype=np.float64)

    def expected_purchases(self, t: ArrayLike) -> Any:
        """E[X(t)]: expected repeat purchases in (0, t] of a customer acquired at time 0.

        FHL 2005 eq. (9): ``(a+b-1)/(a-1) · [1 - (α/(α+t))^r 2F1(r, b; a+b-1; t/(α+t))]``;
        MBG/NBD: ``b/(a-1) · [1 - (α/(α+t))^r 2F1(r, b+1; a+b; t/(α+t))]``. Both equal the
        conditional expectation (eq. 10) of a customer with x = t_x = T = 0.
        """
        params = self._check_fitted()
        horizon = _check_nonnegative(t, "t")
        zeros = np.zeros_like(horizon)
        alive = self._probability_alive(params, zeros, zeros, zeros)
        result = alive * self._expected_purchases_if_alive(params, horizon, zeros, zeros)
        return _as_output(result, t)

    def probability_of_purchases(self, n: ArrayLike, t: ArrayLike) -> Any:
        """P(X(t) = n): probability that a new customer makes exactly ``n`` repeat purchases
        in (0, t].

        FHL 2005 eq. (8)::

            B(a, b+n)/B(a, b) · Γ(r+n)/(Γ(r) n!) (α/(α+t))^r (t/(α+t))^n
            + δ_{n>0} B(a+1, b+n-1)/B(a, b) · [1 - (α/(α+t))^r Σ_{j<n} Γ(r+j)/(Γ(r) j!) (t/(α+t))^j]

        The bracket is the NBD survival P(N(t) >= n) = I_{t/(α+t)}(n, r) (regularised incomplete
        beta), computed directly instead of as 1 minus a partial sum. MBG/NBD: ``B(a, b+n+1)`` and
        ``B(a+1, b+n)``, the second term also for n = 0 (bracket = 1).
        """
        r, alpha, a, b = self._check_fitted()
        k = 1.0 if self._dropout_at_start else 0.0
        count = _check_nonnegative(n, "n")
        if not np.all(count == np.floor(count)):
            raise InputError("n must be a whole number of purchases", column="n")
        horizon = _check_nonnegative(t, "t")
        count, horizon = np.broadcast_arrays(count, horizon)
        log_alpha_t = np.log(alpha + horizon)
        # NBD pmf Γ(r+n)/(Γ(r) n!) (α/(α+t))^r (t/(α+t))^n; xlogy makes 0·log 0 = 0 at t = 0.
        log_nbd = (
            special.gammaln(r + count)
            - special.gammaln(r)
            - special.gammaln(count + 1.0)
            + r * (np.log(alpha) - log_alpha_t)
            + special.xlogy(count, horizon)
            - count * log_alpha_t
        )
        log_beta_ratio = special.betaln(a, b + count + k) - special.betaln(a, b)
        first = np.exp(log_beta_ratio + log_nbd)
        active = (count > 0) | self._dropout_at_start
        shifted = np.where(active, b + count - 1.0 + k, 1.0)
        survival = np.where(
            count > 0,
            special.betainc(np.maximum(count, 1.0), r, horizon / (alpha + horizon)),
            1.0,
        )
        second = np.where(active, np.exp(log_beta_ratio) * a / shifted * survival, 0.0)
        return _as_output(first + second, n, t)


class BetaGeoModel(BetaGeometricNBDFamily):
    """BG/NBD model (Fader, Hardie & Lee 2005, Marketing Science 24(2)).

    Parameters ``r, alpha`` (Gamma heterogeneity of the purchase rate, shape and rate) and
    ``a, b`` (Beta heterogeneity of the dropout probability). After :meth:`fit`: ``params_``,
    ``standard_errors_``, ``log_likelihood_`` (total, weights counted, in the data's own time
    unit), ``bic_``, ``aic_``, :meth:`summary`.

    On the CDNOW sample (2,357 customers, weeks) the paper reports r = 0.243, alpha = 4.414,
    a = 0.793, b = 2.426, LL = -9582.4.
    """

    alternative_models = "MBG/NBD or Pareto/NBD"

    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        weights: ArrayLike | None = None,
        initial_params: ArrayLike | None = None,
    ) -> BetaGeoModel:
        super().fit(frequency, recency, T, weights, initial_params)
        return self


def _hyp2f1(a: ArrayLike, b: ArrayLike, c: ArrayLike, z: ArrayLike) -> FloatArray:
    """``scipy.special.hyp2f1`` with a guard for its gaps.

    SciPy 1.17 returns NaN for some integer parameter sets near z = 1 (e.g. 2F1(1, 1; 1002;
    0.91), whose value is 1.0009). The function is analytic in its first parameter, so such
    points are recomputed as the mean of two evaluations just either side of it (error of the
    order of the squared nudge, ~1e-14).
    """
    a, b, c, z = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (a, b, c, z)))
    value = np.asarray(special.hyp2f1(a, b, c, z), dtype=np.float64)
    gaps = ~np.isfinite(value)
    if gaps.any():
        nudge = 1e-7 * np.maximum(1.0, np.abs(a[gaps]))
        above = special.hyp2f1(a[gaps] + nudge, b[gaps], c[gaps], z[gaps])
        below = special.hyp2f1(a[gaps] - nudge, b[gaps], c[gaps], z[gaps])
        value = value.copy()
        value[gaps] = 0.5 * (above + below)
    return value


def _check_nonnegative(value: ArrayLike, name: str) -> FloatArray:
    array = np.asarray(value, dtype=np.float64)
    bad = ~np.isfinite(array) | (array < 0)
    if bad.any():
        index = int(np.flatnonzero(bad.ravel())[0])
        raise InputError(
            f"{name} must be finite and >= 0",
            row=index + 1,
            column=name,
            value=float(array.ravel()[index]),
        )
    return array


def _as_output(result: ArrayLike, *inputs: ArrayLike) -> Any:
    """A float when every input was a scalar, else a float array."""
    array = np.asarray(result, dtype=np.float64)
    if all(np.ndim(value) == 0 for value in inputs):
        return float(array)
    return array
