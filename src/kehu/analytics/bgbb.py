"""The beta-geometric/beta-Bernoulli (BG/BB) model of repeat transactions in discrete time.

Each period a transaction opportunity arises (a yearly donation drive, a monthly event). While
alive, a customer transacts at each opportunity with probability ``p ~ Beta(alpha, beta)``; at the
start of each period she may drop out ("die") with probability ``theta ~ Beta(gamma, delta)``.
A customer is summarised by ``x`` transactions (``frequency``) in ``n`` opportunities
(``n_periods``), the last in period ``t_x`` (``recency``, 0 when ``x = 0``).

Reference (equation numbers refer to it): [FHS10] Fader, P. S., Hardie, B. G. S. & Shang, J.
(2010), "Customer-Base Analysis in a Discrete-Time Noncontractual Setting", Marketing Science
29(6), 1086-1108 — likelihood eq. (5), P(X(n) = x) eq. (8), E[X(n)] eq. (9), P(alive in period
n+1) eq. (11), conditional expectation E[X(n, n+n*)] eq. (13); the donations estimates
alpha = 1.204, beta = 0.750, gamma = 0.657, delta = 2.783, LL = -33,225.6 (section 4). See also
Fader, Hardie & Berger (2011), "Implementing the BG/BB Model for Customer-Base Analysis in Excel",
http://brucehardie.com/notes/010/.

Numerical method. Every quantity is a sum of products of beta-function ratios; all are evaluated
in log space (``betaln``, log-sum-exp) so that thousands of periods neither overflow nor underflow.
Sums over periods run directly (padded per row, in bounded chunks); only sums over more than
20,000 periods use the telescoping closed form of eqs. (9) and (13).
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from kehu.analytics._base import BaseModel, FloatArray, as_float_array, check_weights, compress_rows
from kehu.errors import N_, IdentificationError, InputError

__all__ = ["BetaGeoBetaBinomModel"]

# Largest padded (rows x periods) block evaluated at once, to bound memory.
_BLOCK_ELEMENTS = 1 << 22
# Sums over more periods than this use the closed (telescoping) form.
_DIRECT_SUM_MAX_PERIODS = 20_000


def _whole_non_negative(value: ArrayLike, name: str) -> FloatArray:
    """``value`` as a float array (any shape) of finite whole numbers >= 0."""
    array = np.asarray(value, dtype=np.float64)
    flat = array.ravel()
    for bad, message in (
        (~np.isfinite(flat), "must be finite"),
        (flat < 0, "must be >= 0"),
        (flat != np.floor(flat), "must be a whole number"),
    ):
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"{name} {message}", row=i + 1, column=name, value=float(flat[i]))
    return array


def check_discrete_summary(
    frequency: ArrayLike, recency: ArrayLike, n_periods: ArrayLike, *, one_dimensional: bool = True
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Validate a discrete-time summary; :class:`InputError` names the field and the 1-based row.

    ``0 <= frequency <= recency <= n_periods``, whole numbers, and ``recency == 0`` exactly when
    ``frequency == 0``. With ``one_dimensional=False`` the three are broadcast (for predictions).
    """
    if one_dimensional:
        x = as_float_array(frequency, "frequency")
        t_x = as_float_array(recency, "recency")
        n = as_float_array(n_periods, "n_periods")
        if not len(x) == len(t_x) == len(n):
            raise InputError(
                f"frequency, recency and n_periods must have the same length, got {len(x)}, "
                f"{len(t_x)} and {len(n)}"
            )
    x, t_x, n = np.broadcast_arrays(
        _whole_non_negative(frequency, "frequency"),
        _whole_non_negative(recency, "recency"),
        _whole_non_negative(n_periods, "n_periods"),
    )
    for bad, name, values, message in (
        (x > n, "frequency", x, "must not exceed n_periods (one transaction per period at most)"),
        (t_x > n, "recency", t_x, "must not exceed n_periods"),
        (x > t_x, "frequency", x, "must not exceed recency (x transactions need x periods)"),
        ((x > 0) != (t_x > 0), "recency", t_x, "must be 0 exactly when frequency is 0"),
    ):
        flat = np.asarray(bad).ravel()
        if flat.any():
            i = int(np.flatnonzero(flat)[0])
            raise InputError(
                f"{name} {message}", row=i + 1, column=name, value=float(values.ravel()[i])
            )
    return (
        np.asarray(x, dtype=np.float64),
        np.asarray(t_x, dtype=np.float64),
        np.asarray(n, dtype=np.float64),
    )


def _blocks(n_rows: int, width: int) -> list[slice]:
    """Row slices such that each (rows x width) block stays within the memory budget."""
    step = max(1, _BLOCK_ELEMENTS // max(width, 1))
    return [slice(start, min(start + step, n_rows)) for start in range(0, n_rows, step)]


def _masked_logsumexp(terms: FloatArray, valid: NDArray[np.bool_]) -> FloatArray:
    """Row-wise log-sum-exp over the valid entries; -inf for rows without any."""
    masked = np.where(valid, terms, -np.inf)
    top = masked.max(axis=1)
    top = np.where(np.isfinite(top), top, 0.0)
    total = np.exp(masked - top[:, None]).sum(axis=1)
    with np.errstate(divide="ignore"):
        return np.asarray(top + np.log(total), dtype=np.float64)


def _digamma_beta(a: ArrayLike, b: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Partial derivatives of log B(a, b) with respect to a and b."""
    a_, b_ = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    both = special.digamma(a_ + b_)
    return (
        np.asarray(special.digamma(a_) - both, dtype=np.float64),
        np.asarray(special.digamma(b_) - both, dtype=np.float64),
    )


class BetaGeoBetaBinomModel(BaseModel):
    """BG/BB customer-base model for discrete transaction opportunities [FHS10].

    >>> model = BetaGeoBetaBinomModel().fit(x, t_x, n, weights)  # doctest: +SKIP
    >>> model.params_  # doctest: +SKIP
    {'alpha': 1.204, 'beta': 0.750, 'gamma': 0.657, 'delta': 2.783}
    """

    param_names = ("alpha", "beta", "gamma", "delta")

    # --- fitting ---------------------------------------------------------------------------------
    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        n_periods: ArrayLike,
        weights: ArrayLike | None = None,
        *,
        initial_params: ArrayLike | None = None,
        maxiter: int = 2000,
    ) -> Self:
        """Maximum-likelihood fit; returns ``self``. Identical rows are merged (weights summed).

        Raises :class:`InputError` for bad data (naming field and row),
        :class:`IdentificationError` when the data cannot separate purchase and dropout (nobody
        transacted after the first period, or everybody transacted in every period), and
        :class:`ConvergenceError` when the optimiser fails.
        """
        x, t_x, n = check_discrete_summary(frequency, recency, n_periods)
        w = check_weights(weights, len(x))
        keep = w > 0
        if not keep.any():
            raise InputError("no customers to fit (empty data or all weights zero)")
        (x_u, t_x_u, n_u), w_u = compress_rows([x[keep], t_x[keep], n[keep]], w[keep])
        if not np.any(x_u > 0):
            raise IdentificationError(
                N_(
                    "BetaGeoBetaBinomModel cannot be identified: no customer made a repeat "
                    "transaction (every frequency is 0), so the transaction probability and the "
                    "dropout probability cannot be told apart"
                ),
                advice=N_(
                    "wait for more repeat opportunities (a longer history), or check that the "
                    "periods are counted right"
                ),
            )
        if np.all(x_u == n_u):
            raise IdentificationError(
                N_(
                    "BetaGeoBetaBinomModel cannot be identified: every customer transacted at "
                    "every opportunity, so nobody is seen to lapse or drop out"
                ),
                advice=N_(
                    "wait for more repeat opportunities (a longer history), or check that the "
                    "periods are counted right"
                ),
            )
        self._fit_rows((x_u, t_x_u, n_u), w_u, initial_params, maxiter=maxiter)
        return self

    def _initial_params(self, *data: FloatArray, weights: FloatArray) -> FloatArray:
        return np.array([1.0, 1.0, 1.0, 3.0])

    # --- likelihood ------------------------------------------------------------------------------
    def _likelihood_terms(
        self, params: FloatArray, x: FloatArray, t_x: FloatArray, n: FloatArray, block: slice
    ) -> tuple[FloatArray, FloatArray, NDArray[np.bool_], FloatArray]:
        """Log terms of [FHS10, eq. (5)] for the rows in ``block``: column 0 is "alive through all
        n periods", column 1 + i is "died at the start of period t_x + i + 1" (i < n - t_x).
        Also returns, per column, the offsets m with which the beta functions are evaluated."""
        alpha, beta, gamma, delta = (float(v) for v in params)
        xb, tb, nb = x[block, None], t_x[block, None], n[block, None]
        width = int(np.max(n[block] - t_x[block])) if nb.size else 0
        i = np.arange(width, dtype=np.float64)[None, :]
        # Columns: failures (beta offset) and survivals (delta offset) of each term.
        failures = np.concatenate([nb - xb, tb - xb + i + 0.0 * xb], axis=1)
        survivals = np.concatenate([nb, tb + i + 0.0 * xb], axis=1)
        died = np.zeros_like(failures, dtype=bool)
        died[:, 1:] = True
        valid = np.concatenate([np.ones_like(nb, dtype=bool), i < (nb - tb)], axis=1)
        log_terms = (
            special.betaln(alpha + xb, beta + failures)
            - special.betaln(alpha, beta)
            + np.where(
                died,
                special.betaln(gamma + 1.0, delta + survivals),
                special.betaln(gamma, delta + survivals),
            )
            - special.betaln(gamma, delta)
        )
        return log_terms, failures, valid, survivals

    def _log_likelihood_rows(self, params: FloatArray, *data: Any) -> FloatArray:
        """Per-row log-likelihood [FHS10, eq. (5)]."""
        x, t_x, n = data
        out = np.empty(len(x))
        width = int(np.max(n - t_x)) + 1 if len(x) else 1
        for block in _blocks(len(x), width):
            log_terms, _, valid, _ = self._likelihood_terms(params, x, t_x, n, block)
            out[block] = _masked_logsumexp(log_terms, valid)
        return out

    def _log_likelihood_gradient_rows(self, params: FloatArray, *data: Any) -> FloatArray | None:
        """Derivatives of the per-row log-likelihood: the term-probability-weighted average of
        each term's digamma derivatives."""
        alpha, beta, gamma, delta = (float(v) for v in params)
        x, t_x, n = data
        gradient = np.empty((4, len(x)))
        width = int(np.max(n - t_x)) + 1 if len(x) else 1
        d_alpha0, d_beta0 = _digamma_beta(np.float64(alpha), np.float64(beta))
        d_gamma0, d_delta0 = _digamma_beta(np.float64(gamma), np.float64(delta))
        for block in _blocks(len(x), width):
            log_terms, failures, valid, survivals = self._likelihood_terms(params, x, t_x, n, block)
            total = _masked_logsumexp(log_terms, valid)
            share = np.where(valid, np.exp(np.where(valid, log_terms, 0.0) - total[:, None]), 0.0)
            d_alpha, d_beta = _digamma_beta(alpha + x[block, None], beta + failures)
            died = np.zeros_like(valid)
            died[:, 1:] = True
            d_gamma, d_delta = _digamma_beta(gamma + died, delta + survivals)
            gradient[0, block] = np.sum(share * d_alpha, axis=1) - d_alpha0
            gradient[1, block] = np.sum(share * d_beta, axis=1) - d_beta0
            gradient[2, block] = np.sum(share * d_gamma, axis=1) - d_gamma0
            gradient[3, block] = np.sum(share * d_delta, axis=1) - d_delta0
        return gradient

    def log_likelihood(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        n_periods: ArrayLike,
        weights: ArrayLike | None = None,
    ) -> float:
        """Total log-likelihood of the given customers at the fitted parameters."""
        params = self._check_fitted()
        x, t_x, n = check_discrete_summary(frequency, recency, n_periods)
        w = check_weights(weights, len(x))
        return float(np.sum(w * self._log_likelihood_rows(params, x, t_x, n)))

    # --- helpers for predictions -----------------------------------------------------------------
    @staticmethod
    def _shaped(values: FloatArray, shape: tuple[int, ...]) -> Any:
        result = np.asarray(values, dtype=np.float64).reshape(shape)
        return float(result) if shape == () else result

    def _log_survival(self, periods: FloatArray) -> FloatArray:
        """log P(alive in period t) = log B(gamma, delta + t) / B(gamma, delta)."""
        _, _, gamma, delta = (float(v) for v in self._check_fitted())
        return np.asarray(
            special.betaln(gamma, delta + periods) - special.betaln(gamma, delta), dtype=np.float64
        )

    def _survival_sum_from(self, start: FloatArray, count: FloatArray) -> FloatArray:
        """sum_{t=start}^{start+count-1} S(t) / S(start), S(t) = B(gamma, delta+t)/B(gamma, delta).

        Ratios to S(start) keep the sum within [0, count], free of under- and overflow. Direct
        sums use S(t+1)/S(t) = (delta+t)/(gamma+delta+t); sums over very many periods use the
        telescoping closed form behind [FHS10, eqs. (9) and (13)]."""
        _, _, gamma, delta = (float(v) for v in self._check_fitted())
        out = np.zeros(len(start))
        long = count > _DIRECT_SUM_MAX_PERIODS
        short_rows = np.flatnonzero(~long & (count > 0))
        if short_rows.size:
            width = int(np.max(count[short_rows]))
            for block in _blocks(short_rows.size, width):
                rows = short_rows[block]
                j = np.arange(width, dtype=np.float64)[None, :]
                base = start[rows, None]
                log_step = np.log(delta + base + j) - np.log(gamma + delta + base + j)
                # log S(start + j) - log S(start) = sum of the first j log-steps.
                log_ratio = np.cumsum(log_step, axis=1) - log_step
                valid = j < count[rows, None]
                out[rows] = np.sum(np.where(valid, np.exp(log_ratio), 0.0), axis=1)
        long_rows = np.flatnonzero(long)
        if long_rows.size:
            a = start[long_rows]
            b = a + count[long_rows] - 1.0
            # sum_{t=a}^{b} G(d+t)/G(g+d+t) = [h(a) - h(b+1)] / (g-1), h(t) = G(d+t)/G(g+d+t-1);
            # divided by S(a)'s G(d+a)/G(g+d+a) this is (g+d+a-1) (1 - e^D) / (g-1).
            if abs(gamma - 1.0) > 1e-8:
                log_h_ratio = (
                    special.gammaln(delta + b + 1.0)
                    - special.gammaln(gamma + delta + b)
                    - special.gammaln(delta + a)
                    + special.gammaln(gamma + delta + a - 1.0)
                )
                out[long_rows] = (gamma + delta + a - 1.0) * -np.expm1(log_h_ratio) / (gamma - 1.0)
            else:
                # gamma = 1: S(t)/S(a) = (delta+a)/(delta+t), a harmonic-type sum.
                out[long_rows] = (delta + a) * (
                    special.digamma(delta + b + 1.0) - special.digamma(delta + a)
                )
        return out

    def _log_likelihood_of(self, x: FloatArray, t_x: FloatArray, n: FloatArray) -> FloatArray:
        return self._log_likelihood_rows(self._check_fitted(), x, t_x, n)

    # --- predictions -----------------------------------------------------------------------------
    def probability_alive(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        n_periods: ArrayLike,
        n_future_periods: ArrayLike = 0,
    ) -> Any:
        """P(alive in period n + n_future_periods | x, t_x, n) [FHS10, eq. (11)].

        The default ``n_future_periods = 0`` is the probability that the customer is still alive
        at the end of the ``n_periods`` observed (has not dropped out in periods 1..n);
        ``n_future_periods = 1`` is eq. (11) itself, "alive in period n+1" (the paper's Table 6).
        """
        alpha, beta, _, _ = (float(v) for v in self._check_fitted())
        future = _whole_non_negative(n_future_periods, "n_future_periods")
        x, t_x, n = check_discrete_summary(frequency, recency, n_periods, one_dimensional=False)
        future, x, t_x, n = np.broadcast_arrays(future, x, t_x, n)
        shape = x.shape
        future, x, t_x, n = (a.ravel() for a in (future, x, t_x, n))
        log_alive = (
            special.betaln(alpha + x, beta + n - x)
            - special.betaln(alpha, beta)
            + self._log_survival(n + future)
            - self._log_likelihood_of(x, t_x, n)
        )
        return self._shaped(np.clip(np.exp(log_alive), 0.0, 1.0), shape)

    def conditional_expected_purchases(
        self,
        n_future_periods: ArrayLike,
        frequency: ArrayLike,
        recency: ArrayLike,
        n_periods: ArrayLike,
    ) -> Any:
        """E[transactions in periods n+1 .. n+n* | x, t_x, n] [FHS10, eq. (13)]:

        B(alpha+x+1, beta+n-x)/B(alpha, beta) / L * sum_{t=n+1}^{n+n*} S(t),
        with S(t) = B(gamma, delta+t)/B(gamma, delta) (the sum is eq. (13)'s gamma-function
        bracket, computed without its 1/(gamma-1) singularity)."""
        alpha, beta, _, _ = (float(v) for v in self._check_fitted())
        future = _whole_non_negative(n_future_periods, "n_future_periods")
        x, t_x, n = check_discrete_summary(frequency, recency, n_periods, one_dimensional=False)
        future, x, t_x, n = np.broadcast_arrays(future, x, t_x, n)
        shape = x.shape
        future, x, t_x, n = (a.ravel() for a in (future, x, t_x, n))
        log_front = (
            special.betaln(alpha + x + 1.0, beta + n - x)
            - special.betaln(alpha, beta)
            - self._log_likelihood_of(x, t_x, n)
            + self._log_survival(n + 1.0)
        )
        expected = np.exp(log_front) * self._survival_sum_from(n + 1.0, future)
        return self._shaped(expected, shape)

    def expected_purchases(self, n_periods: ArrayLike) -> Any:
        """E[X(n)], transactions of a random new customer in n opportunities [FHS10, eq. (9)]:
        alpha/(alpha+beta) * sum_{t=1}^{n} S(t)."""
        alpha, beta, _, _ = (float(v) for v in self._check_fitted())
        n = _whole_non_negative(n_periods, "n_periods")
        shape = n.shape
        n = n.ravel()
        ones = np.ones_like(n)
        expected = (
            alpha
            / (alpha + beta)
            * np.exp(self._log_survival(ones))
            * self._survival_sum_from(ones, n)
        )
        return self._shaped(expected, shape)

    def probability_of_purchases(self, n: ArrayLike, n_periods: ArrayLike) -> Any:
        """P(X(n_periods) = n): a random new customer transacts at n of the n_periods
        opportunities [FHS10, eq. (8)]."""
        alpha, beta, gamma, delta = (float(v) for v in self._check_fitted())
        count, periods = np.broadcast_arrays(
            _whole_non_negative(n, "n"), _whole_non_negative(n_periods, "n_periods")
        )
        shape = count.shape
        count, periods = count.ravel(), periods.ravel()
        result = np.zeros(len(count))
        possible = np.flatnonzero(count <= periods)
        if possible.size:
            xs, ns = count[possible], periods[possible]
            width = int(np.max(ns - xs)) + 1
            log_probability = np.empty(possible.size)

            def log_choose(top: FloatArray, k: FloatArray) -> FloatArray:
                return np.asarray(
                    special.gammaln(top + 1.0)
                    - special.gammaln(k + 1.0)
                    - special.gammaln(top - k + 1.0)
                )

            for block in _blocks(possible.size, width):
                xb, nb = xs[block, None], ns[block, None]
                i = xb + np.arange(width - 1, dtype=np.float64)[None, :]  # i = x .. n-1
                valid = np.concatenate([np.ones_like(xb, dtype=bool), i < nb], axis=1)
                i_safe = np.where(i < nb, i, xb)
                alive_term = (
                    log_choose(nb, xb)
                    + special.betaln(alpha + xb, beta + nb - xb)
                    + special.betaln(gamma, delta + nb)
                )
                died_terms = (
                    log_choose(i_safe, xb + 0.0 * i_safe)
                    + special.betaln(alpha + xb, beta + i_safe - xb)
                    + special.betaln(gamma + 1.0, delta + i_safe)
                )
                terms = np.concatenate([alive_term, died_terms], axis=1)
                log_probability[block] = _masked_logsumexp(terms, valid)
            log_probability -= special.betaln(alpha, beta) + special.betaln(gamma, delta)
            result[possible] = np.exp(log_probability)
        return self._shaped(np.clip(result, 0.0, 1.0), shape)
