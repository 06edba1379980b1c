"""The Pareto/NBD model of repeat buying in continuous time (Schmittlein, Morrison & Colombo 1987).

While alive, a customer buys as a Poisson process with rate ``lambda ~ Gamma(r, alpha)``; her
unobserved lifetime is exponential with rate ``mu ~ Gamma(s, beta)``, independent of ``lambda``.
A customer is summarised by ``x`` repeat purchases (``frequency``), the time ``t_x`` of the last one
(``recency``) and the time ``T`` since her first purchase.

References (equation numbers refer to these):

* [FH05] Fader, P. S. & Hardie, B. G. S. (2005), "A Note on Deriving the Pareto/NBD Model and
  Related Expressions", http://brucehardie.com/notes/009/ — likelihood eq. (22) (and its 2F1 form
  eqs. (23)-(24) where ``alpha >= beta`` vs ``alpha < beta`` decides which parameter goes into the
  Gaussian hypergeometric function), P(alive) eq. (18), E[X(t)] eq. (17), conditional
  expectation eq. (26).
* [FH06] Fader, P. S. & Hardie, B. G. S. (2006), "Deriving an Expression for P(X(t) = x) Under the
  Pareto/NBD Model", http://brucehardie.com/notes/012/ — eq. (6), evaluated here through the
  integral over the lifetime that the note starts from (its eq. (2)).
* [FHL05] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005), "RFM and CLV: Using Iso-Value Curves
  for Customer Base Analysis", Journal of Marketing Research 42(4), 415-430 — the CDNOW estimates
  r = 0.553, alpha = 10.578, s = 0.606, beta = 11.669, LL = -9595.0 (also in Fader & Hardie
  (2005), "A Note on Implementing the Pareto/NBD Model in MATLAB", http://brucehardie.com/notes/008/).

Numerical method. The likelihood [FH05, eq. (22)] is

    L = Gamma(r+x) alpha^r beta^s / Gamma(r) * [ P(T) + s * integral_{t_x}^{T} (alpha+tau)^-(r+x)
                                                                   (beta+tau)^-(s+1) d tau ]

with ``P(u) = (alpha+u)^-(r+x) (beta+u)^-s``. Integrating ``P`` by parts splits the bracket into two
non-negative terms, ``P(t_x) H(t_x; r+x, s, alpha, beta) + P(T) H(T; s, r+x, beta, alpha)``, where

    H(u; p, q, c1, c2) = q (c1+u)^p (c2+u)^q integral_u^inf (c1+tau)^-p (c2+tau)^-(q+1) d tau

lies in (0, 1] when c1 >= c2. Each ``H`` is the [FH05] 2F1 term (with the ``alpha >= beta`` choice
of argument, so ``0 <= z < 1``) after Euler's transformation 2F1(a, b; a+1; z) = (1-z)^(1-b)
2F1(1, a+1-b; a+1; z): a function with positive, decreasing terms, bounded by 1/(1-z), that Gauss's
continued fraction evaluates quickly and without overflow. Summing two positive terms in log space
avoids the cancellation of the textbook form (a difference of two 2F1 terms), so frequencies and
ages in the thousands give finite log-likelihoods. Only where ``z`` is within about 1e-3 of 1
(alpha and beta orders of magnitude apart) does the fraction converge slowly; those few values are
integrated adaptively instead.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import integrate, special

from kehu.analytics._base import (
    BaseModel,
    FloatArray,
    check_parameter_rows,
    check_recency_frequency,
    check_weights,
    compress_rows,
    group_rows,
)
from kehu.errors import IdentificationError, InputError

__all__ = ["ParetoNBDModel"]

# Gauss's continued fraction converges in about 1.5 / sqrt(1 - z) steps; past this budget the
# remaining (rare) values are integrated numerically instead.
_CONTINUED_FRACTION_MAX_STEPS = 600
_CONTINUED_FRACTION_TOLERANCE = 4e-16
# Gauss-Legendre nodes for the integral over the lifetime in P(X(t) = x).
_QUADRATURE_NODES, _QUADRATURE_WEIGHTS = np.polynomial.legendre.leggauss(128)
# Elements of one (parameter vectors x rows) block of log_likelihood_at: ~16 MB per array.
_LIKELIHOOD_BLOCK_ELEMENTS = 2_000_000

# Ridge watch (see ParetoNBDModel._objective). A gamma shape of 100 is a coefficient of
# variation of 1/sqrt(100) = 10% in the customers' rates; the likelihood is still cheap to
# evaluate there (past a shape of ~500 the continued fraction gives way to quadrature, ~5x
# slower, and the wandering along the ridge took 1,000 evaluations and half a minute).
_RIDGE_SHAPE = 100.0
# The second point of the watch has shape and scale this many times those of the first.
_RIDGE_PROBE = 3.0
# After a look that finds a maximum at a finite shape the watch looks again only past a shape
# this many times larger (the slope in theta along the ridge at fixed r, alpha and mean rate is
# only a guide to the profile likelihood, so the optimiser may still head for the limit).
_RIDGE_REARM = 10.0
# A maximum at a finite shape that beats the limit by less than this (log-likelihood in all,
# weights counted) is within what the data can tell apart, and the fit stops at the ridge: a
# likelihood-ratio test of one common rate would need a gain of 1.35 to reject it at 5% (half
# the chi-square(1) 90% point, as theta = 0 is on the boundary: Self & Liang 1987, JASA 82(398),
# 605-610); 0.05 only stops fits that would otherwise wander on at shapes in the hundreds,
# where each evaluation costs ~5x more.
_RIDGE_TOLERANCE = 0.05


class _RidgeReachedError(Exception):
    """Internal: the optimiser reached the ridge of a gamma mixing distribution degenerating to
    a point (shape and scale growing together); carries the parameters and which rate."""

    def __init__(self, params: FloatArray, pair: tuple[int, int]) -> None:
        super().__init__("ridge reached")
        self.params = params
        self.pair = pair


def _hypergeometric_one(
    a: FloatArray, c: FloatArray, z: FloatArray
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """2F1(a, 1; c; z) for 0 < a < c and 0 <= z < 1 by Gauss's continued fraction.

    2F1(a, 1; c; z) = 1 / (1 - k1 z / (1 - k2 z / (1 - ...))) with
    k_{2m+1} = (a+m)(c-1+m) / ((c-1+2m)(c+2m)),  k_{2m+2} = (m+1)(c-a+m) / ((c+2m)(c+2m+1)),
    evaluated by the modified Lentz method. Returns the values and a mask of those that converged.
    """
    n = a.size
    value = np.ones(n)
    lentz_c = np.ones(n)
    lentz_d = np.zeros(n)
    active = np.arange(n)
    converged = np.zeros(n, dtype=bool)
    tiny = 1e-300
    for step in range(1, _CONTINUED_FRACTION_MAX_STEPS + 1):
        if active.size == 0:
            break
        a_, c_, z_ = a[active], c[active], z[active]
        m = (step - 1) // 2
        if step % 2 == 1:
            k = (a_ + m) * (c_ - 1.0 + m) / ((c_ - 1.0 + 2 * m) * (c_ + 2 * m))
        else:
            k = (m + 1.0) * (c_ - a_ + m) / ((c_ + 2 * m) * (c_ + 2 * m + 1.0))
        coefficient = -k * z_
        d = 1.0 + coefficient * lentz_d[active]
        d = 1.0 / np.where(d == 0.0, tiny, d)
        cc = 1.0 + coefficient / lentz_c[active]
        cc = np.where(cc == 0.0, tiny, cc)
        delta = cc * d
        value[active] *= delta
        lentz_c[active] = cc
        lentz_d[active] = d
        done = np.abs(delta - 1.0) <= _CONTINUED_FRACTION_TOLERANCE
        converged[active[done]] = True
        active = active[~done]
    return 1.0 / value, converged


# Steps of the continued fraction between convergence checks (and compactions of the set of
# values still iterating) when derivatives are carried along: extra steps only refine a value.
_CHECK_EVERY = 6


def _log_hypergeometric_one_with_derivatives(
    a: FloatArray, c: FloatArray, z: FloatArray
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """log 2F1(a, 1; c; z) and its derivatives with respect to ``a``, ``c`` and ``z`` (a
    ``(3, n)`` array), by the continued fraction of :func:`_hypergeometric_one` differentiated
    step by step (forward mode: each Lentz quantity carries its three partial derivatives, and
    d log f accumulates d log(delta) = dC/C + dD/D). Returns values, derivatives and the mask of
    those that converged (value and derivatives both settled)."""
    n = a.size
    log_value = np.zeros(n)
    derivatives = np.zeros((3, n))
    converged = np.zeros(n, dtype=bool)
    index = np.arange(n)
    a_, c_, z_ = a.copy(), c.copy(), z.copy()
    lentz_c = np.ones(n)
    lentz_d = np.zeros(n)
    d_c = np.zeros((3, n))
    d_d = np.zeros((3, n))
    f = np.ones(n)
    d_log_f = np.zeros((3, n))
    tiny = 1e-300
    step = 0
    while index.size and step < _CONTINUED_FRACTION_MAX_STEPS:
        for _ in range(_CHECK_EVERY):
            step += 1
            m = (step - 1) // 2
            if step % 2 == 1:
                numerator = (a_ + m) * (c_ - 1.0 + m)
                first, second = c_ - 1.0 + 2 * m, c_ + 2 * m
                dk_da = c_ - 1.0 + m
                dk_dc_numerator = a_ + m
            else:
                numerator = (m + 1.0) * (c_ - a_ + m)
                first, second = c_ + 2 * m, c_ + 2 * m + 1.0
                dk_da = np.full_like(a_, -(m + 1.0))
                dk_dc_numerator = np.full_like(a_, m + 1.0)
            inverse_denominator = 1.0 / (first * second)
            k = numerator * inverse_denominator
            # e = -k z and its derivatives with respect to a, c and z
            e = -k * z_
            de = np.empty((3, len(e)))
            np.multiply(dk_da, inverse_denominator, out=de[0])
            np.multiply(dk_dc_numerator - k * (first + second), inverse_denominator, out=de[1])
            de[:2] *= -z_
            np.negative(k, out=de[2])
            new_d = 1.0 + e * lentz_d
            new_d = 1.0 / np.where(new_d == 0.0, tiny, new_d)
            # d(1/(1 + e D)) / (1/(1 + e D)) = -(de D + e dD) / (1 + e D)
            log_d_change = -(de * lentz_d + e * d_d) * new_d
            new_c = 1.0 + e / lentz_c
            new_c = np.where(new_c == 0.0, tiny, new_c)
            # dC_new = de / C - e dC / C^2, relative to C_new
            log_c_change = (de - e * d_c / lentz_c) / (lentz_c * new_c)
            delta = new_c * new_d
            f *= delta
            d_step = log_c_change + log_d_change
            d_log_f += d_step
            d_c = log_c_change * new_c
            d_d = log_d_change * new_d
            lentz_c, lentz_d = new_c, new_d
        done = (np.abs(delta - 1.0) <= _CONTINUED_FRACTION_TOLERANCE) & np.all(
            np.abs(d_step) <= 1e-13 * (1.0 + np.abs(d_log_f)), axis=0
        )
        if done.any():
            finished = index[done]
            log_value[finished] = -np.log(f[done])
            derivatives[:, finished] = -d_log_f[:, done]
            converged[finished] = True
            keep = ~done
            index = index[keep]
            a_, c_, z_ = a_[keep], c_[keep], z_[keep]
            lentz_c, lentz_d, f = lentz_c[keep], lentz_d[keep], f[keep]
            d_c, d_d, d_log_f = d_c[:, keep], d_d[:, keep], d_log_f[:, keep]
    return log_value, derivatives, converged


def _log_h_by_quadrature(u: float, p: float, q: float, c1: float, c2: float) -> float:
    """log H(u; p, q, c1, c2) by adaptive quadrature, for the rare arguments where the continued
    fraction is slow. Substituting c_min + tau = (c_min + u) e^y turns H into an integral over
    y >= 0 of a log-concave function whose shape changes near y = log(1/eps)."""
    if c1 >= c2:
        log_eps = float(np.log(c2 + u) - np.log(c1 + u))

        def log_integrand(y: float) -> float:
            return -q * y - p * float(np.logaddexp(np.log1p(-np.exp(log_eps)), log_eps + y))

        log_front = float(np.log(q))
    else:
        log_eps = float(np.log(c1 + u) - np.log(c2 + u))

        def log_integrand(y: float) -> float:
            return -(p - 1.0) * y - (q + 1.0) * float(
                np.logaddexp(np.log1p(-np.exp(log_eps)), log_eps + y)
            )

        log_front = float(np.log(q) + log_eps)
    knee = max(-log_eps, 1.0)
    # Scale by the integrand's largest value (at 0 or at the knee) so that nothing overflows.
    shift = max(log_integrand(0.0), log_integrand(knee))

    def integrand(y: float) -> float:
        return float(np.exp(log_integrand(y) - shift))

    with warnings.catch_warnings():
        # quad reports slow convergence as a warning; the result is still checked below.
        warnings.simplefilter("ignore")
        head = integrate.quad(integrand, 0.0, knee, limit=200, epsabs=0.0, epsrel=1e-12)[0]
        tail = integrate.quad(integrand, knee, np.inf, limit=200, epsabs=0.0, epsrel=1e-12)[0]
    return log_front + shift + float(np.log(head + tail))


def _non_negative(value: ArrayLike, name: str) -> FloatArray:
    """``value`` as a float array (any shape) that must be finite and >= 0."""
    array = np.asarray(value, dtype=np.float64)
    bad = ~np.isfinite(array) | (array < 0)
    if bad.any():
        i = int(np.flatnonzero(bad.ravel())[0])
        raise InputError(
            f"{name} must be finite and >= 0", row=i + 1, column=name, value=array.ravel()[i]
        )
    return array


def _log_h(u: FloatArray, p: FloatArray, q: FloatArray, c1: float, c2: float) -> FloatArray:
    """log H(u; p, q, c1, c2), H = q (c1+u)^p (c2+u)^q int_u^inf (c1+t)^-p (c2+t)^-(q+1) dt.

    With a = p + q and z = |c1 - c2| / (max(c1, c2) + u) this is [FH05, eq. (23)/(24)]'s term:
    (q/a) 2F1(p, 1; a+1; z) when c1 >= c2, and (q/a) (c1+u)/(c2+u) 2F1(q+1, 1; a+1; z) otherwise.
    """
    u, p, q = np.broadcast_arrays(u, p, q)
    log_ratio = np.log(min(c1, c2) + u) - np.log(max(c1, c2) + u)  # log(1 - z), exact near z = 1
    z = -np.expm1(log_ratio)
    first_larger = c1 >= c2
    a = p + q
    shape = q + 1.0 if not first_larger else p
    hypergeometric, converged = _hypergeometric_one(
        np.ascontiguousarray(shape, dtype=np.float64).ravel(),
        np.ascontiguousarray(a + 1.0, dtype=np.float64).ravel(),
        np.ascontiguousarray(z, dtype=np.float64).ravel(),
    )
    result = np.log(q) - np.log(a) + np.log(hypergeometric).reshape(u.shape)
    if not first_larger:
        result = result + log_ratio
    if not converged.all():
        flat = result.reshape(-1)
        for index in np.flatnonzero(~converged):
            flat[index] = _log_h_by_quadrature(
                float(u.flat[index]), float(p.flat[index]), float(q.flat[index]), c1, c2
            )
        result = flat.reshape(u.shape)
    return np.asarray(result, dtype=np.float64)


def _hypergeometric_one_in_batches(
    a: FloatArray, c: FloatArray, z: FloatArray
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """:func:`_hypergeometric_one` for large arrays: the same continued fraction and modified
    Lentz steps, but convergence is checked (and the values still iterating compacted) every
    :data:`_CHECK_EVERY` steps rather than gathered at each, which costs a few extra steps on
    converged values (they only refine them) and saves most of the memory traffic."""
    n = a.size
    result = np.ones(n)
    converged = np.zeros(n, dtype=bool)
    index = np.arange(n)
    a_, c_, z_ = a.copy(), c.copy(), z.copy()
    value = np.ones(n)
    lentz_c = np.ones(n)
    lentz_d = np.zeros(n)
    delta = np.ones(n)
    tiny = 1e-300
    step = 0
    while index.size and step < _CONTINUED_FRACTION_MAX_STEPS:
        for _ in range(_CHECK_EVERY):
            step += 1
            m = (step - 1) // 2
            if step % 2 == 1:
                k = (a_ + m) * (c_ - 1.0 + m) / ((c_ - 1.0 + 2 * m) * (c_ + 2 * m))
            else:
                k = (m + 1.0) * (c_ - a_ + m) / ((c_ + 2 * m) * (c_ + 2 * m + 1.0))
            coefficient = -k * z_
            lentz_d = 1.0 + coefficient * lentz_d
            lentz_d = 1.0 / np.where(lentz_d == 0.0, tiny, lentz_d)
            lentz_c = 1.0 + coefficient / lentz_c
            lentz_c = np.where(lentz_c == 0.0, tiny, lentz_c)
            delta = lentz_c * lentz_d
            value *= delta
        done = np.abs(delta - 1.0) <= _CONTINUED_FRACTION_TOLERANCE
        if done.any():
            result[index[done]] = 1.0 / value[done]
            converged[index[done]] = True
            keep = ~done
            index = index[keep]
            a_, c_, z_ = a_[keep], c_[keep], z_[keep]
            value, lentz_c, lentz_d = value[keep], lentz_c[keep], lentz_d[keep]
    return result, converged


def _log_h_per_element(
    u: FloatArray, p: FloatArray, q: FloatArray, c1: FloatArray, c2: FloatArray
) -> FloatArray:
    """:func:`_log_h` with ``c1`` and ``c2`` per element too (arrays of one shape), so that many
    parameter vectors are evaluated in one pass: the side of [FH05, eq. (23)/(24)] (which of
    ``c1``, ``c2`` is larger) is chosen per element."""
    log_ratio = np.log(np.minimum(c1, c2) + u) - np.log(np.maximum(c1, c2) + u)
    first_larger = c1 >= c2
    a = p + q
    hypergeometric, converged = _hypergeometric_one_in_batches(
        np.where(first_larger, p, q + 1.0).ravel(),
        (a + 1.0).ravel(),
        (-np.expm1(log_ratio)).ravel(),
    )
    result = np.log(q) - np.log(a) + np.log(hypergeometric).reshape(u.shape)
    result += np.where(first_larger, 0.0, log_ratio)
    flat = result.reshape(-1)
    for index in np.flatnonzero(~converged):
        flat[index] = _log_h_by_quadrature(*(float(v.flat[index]) for v in (u, p, q, c1, c2)))
    return flat.reshape(u.shape)


class _PreparedRows(NamedTuple):
    """Fitting data with its distinct (frequency, time) pairs: the H terms depend only on such
    pairs, and there are several times fewer of them than distinct (x, t_x, T) rows."""

    frequency: FloatArray
    recency: FloatArray
    T: FloatArray
    recency_pairs: tuple[FloatArray, FloatArray]  # distinct (x, t_x)
    recency_pair_of_row: NDArray[np.intp]
    age_pairs: tuple[FloatArray, FloatArray]  # distinct (x, T)
    age_pair_of_row: NDArray[np.intp]


def _prepare(x: FloatArray, t_x: FloatArray, age: FloatArray) -> _PreparedRows:
    (x_r, t_r), recency_pair_of_row = group_rows([x, t_x])
    (x_a, t_a), age_pair_of_row = group_rows([x, age])
    return _PreparedRows(x, t_x, age, (x_r, t_r), recency_pair_of_row, (x_a, t_a), age_pair_of_row)


def _log_terms(
    params: FloatArray, rows: _PreparedRows
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """log of the constant, of the two non-negative terms of the likelihood bracket —
    ``P(t_x) H(t_x; r+x, s, alpha, beta)`` and ``P(T) H(T; s, r+x, beta, alpha)`` — and of
    ``P(T)``, the bracket's "still alive at T" part [FH05, eq. (18)]."""
    r, alpha, s, beta = (float(v) for v in params)
    x_r, t_r = rows.recency_pairs
    x_a, t_a = rows.age_pairs
    log_h_recency = _log_h(t_r, r + x_r, np.full_like(t_r, s), alpha, beta)
    log_h_age = _log_h(t_a, np.full_like(t_a, s), r + x_a, beta, alpha)
    x, t_x, age = rows.frequency, rows.recency, rows.T
    rho = r + x
    log_constant = special.gammaln(rho) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    log_p_recency = -rho * np.log(alpha + t_x) - s * np.log(beta + t_x)
    log_p_age = -rho * np.log(alpha + age) - s * np.log(beta + age)
    return (
        log_constant,
        log_p_recency + log_h_recency[rows.recency_pair_of_row],
        log_p_age + log_h_age[rows.age_pair_of_row],
        log_p_age,
    )


def _log_h_with_gradient(
    *terms: tuple[FloatArray, FloatArray, FloatArray, float, float],
) -> list[tuple[FloatArray, FloatArray, NDArray[np.bool_]]]:
    """:func:`_log_h` for each ``(u, p, q, c1, c2)`` of ``terms`` (1-d arguments) with its
    derivatives with respect to ``p, q, c1, c2`` (a ``(4, n)`` array), from the differentiated
    continued fraction (one pass for all terms); the mask says which values converged (the
    others need :func:`_log_h`'s quadrature, and have no derivatives here)."""
    arguments = []
    for u, p, q, c1, c2 in terms:
        log_ratio = np.log(min(c1, c2) + u) - np.log(max(c1, c2) + u)
        arguments.append((p if c1 >= c2 else q + 1.0, p + q + 1.0, -np.expm1(log_ratio)))
    log_f_all, d_f_all, converged_all = _log_hypergeometric_one_with_derivatives(
        *(np.concatenate(column) for column in zip(*arguments, strict=True))
    )
    results = []
    start = 0
    for u, p, q, c1, c2 in terms:
        stop = start + len(u)
        log_f, (d_f_da, d_f_dc, d_f_dz) = log_f_all[start:stop], d_f_all[:, start:stop]
        small, large = min(c1, c2), max(c1, c2)
        a = p + q
        inverse_a = 1.0 / a
        log_h = np.log(q) - np.log(a) + log_f
        gradient = np.empty((4, len(u)))
        gradient[0] = d_f_dc - inverse_a
        gradient[1] = 1.0 / q - inverse_a + d_f_dc
        inverse_large = 1.0 / (large + u)
        # z = 1 - (small + u) / (large + u)
        dz_d_large = (small + u) * inverse_large * inverse_large
        if c1 >= c2:  # c1 = large: 2F1(p, 1; a+1; z)
            gradient[0] += d_f_da
            gradient[2] = d_f_dz * dz_d_large
            gradient[3] = -d_f_dz * inverse_large
        else:  # c2 = large: (c1+u)/(c2+u) 2F1(q+1, 1; a+1; z)
            log_h += np.log(small + u) - np.log(large + u)
            gradient[1] += d_f_da
            gradient[2] = 1.0 / (small + u) - d_f_dz * inverse_large
            gradient[3] = d_f_dz * dz_d_large - inverse_large
        results.append((log_h, gradient, converged_all[start:stop]))
        start = stop
    return results


def _log_likelihood_and_gradient(
    params: FloatArray, rows: _PreparedRows
) -> tuple[FloatArray, FloatArray | None]:
    """Per-row log-likelihood and its derivatives with respect to ``r, alpha, s, beta`` (None
    when some H term needed quadrature: the caller then differentiates numerically)."""
    r, alpha, s, beta = (float(v) for v in params)
    x_r, t_r = rows.recency_pairs
    x_a, t_a = rows.age_pairs
    (log_h_recency, grad_recency, ok_recency), (log_h_age, grad_age, ok_age) = _log_h_with_gradient(
        (t_r, r + x_r, np.full_like(t_r, s), alpha, beta),
        (t_a, np.full_like(t_a, s), r + x_a, beta, alpha),
    )
    if not (ok_recency.all() and ok_age.all()):
        log_constant, first_term, second_term, _ = _log_terms(params, rows)
        return np.asarray(log_constant + np.logaddexp(first_term, second_term)), None
    x, t_x, age = rows.frequency, rows.recency, rows.T
    rho = r + x
    log_alpha_recency = np.log(alpha + t_x)
    log_beta_recency = np.log(beta + t_x)
    log_alpha_age = np.log(alpha + age)
    log_beta_age = np.log(beta + age)
    at_recency = rows.recency_pair_of_row
    at_age = rows.age_pair_of_row
    first_term = log_h_recency[at_recency] - rho * log_alpha_recency - s * log_beta_recency
    second_term = log_h_age[at_age] - rho * log_alpha_age - s * log_beta_age
    bracket = np.logaddexp(first_term, second_term)
    log_constant = special.gammaln(rho) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    weight_first = np.exp(first_term - bracket)
    weight_second = 1.0 - weight_first
    # H's derivatives by (r, alpha, s, beta): recency H(t_x; r+x, s, alpha, beta) takes them
    # as (p, c1, q, c2), age H(T; s, r+x, beta, alpha) as (q, c2, p, c1)
    g_first = grad_recency[:, at_recency]
    g_second = grad_age[:, at_age]
    gradient = np.empty((4, len(x)))
    gradient[0] = (
        special.digamma(rho)
        - special.digamma(r)
        + np.log(alpha)
        + weight_first * (g_first[0] - log_alpha_recency)
        + weight_second * (g_second[1] - log_alpha_age)
    )
    gradient[1] = (
        r / alpha
        + weight_first * (g_first[2] - rho / (alpha + t_x))
        + weight_second * (g_second[3] - rho / (alpha + age))
    )
    gradient[2] = (
        np.log(beta)
        + weight_first * (g_first[1] - log_beta_recency)
        + weight_second * (g_second[0] - log_beta_age)
    )
    gradient[3] = (
        s / beta
        + weight_first * (g_first[3] - s / (beta + t_x))
        + weight_second * (g_second[2] - s / (beta + age))
    )
    return np.asarray(log_constant + bracket, dtype=np.float64), gradient


class ParetoNBDModel(BaseModel):
    """Pareto/NBD customer-base model, fitted by maximum likelihood.

    >>> model = ParetoNBDModel().fit(frequency, recency, T)     # doctest: +SKIP
    >>> model.params_                                          # doctest: +SKIP
    {'r': 0.553, 'alpha': 10.578, 's': 0.606, 'beta': 11.669}

    Times may be in any unit (weeks, days); ``alpha`` and ``beta`` are in that unit.
    """

    alternative_models = "MBG/NBD or BG/NBD"

    param_names = ("r", "alpha", "s", "beta")
    # (rows, params bytes, log-likelihood rows, gradient rows) of the last evaluation
    _last_evaluation: tuple[Any, ...] | None = None

    # --- fitting ---------------------------------------------------------------------------------
    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        weights: ArrayLike | None = None,
        *,
        initial_params: ArrayLike | None = None,
        maxiter: int = 2000,
    ) -> Self:
        """Maximum-likelihood fit; returns ``self``. Identical rows are merged (weights summed)
        first, so the cost grows with the number of distinct rows, not of customers.

        Raises :class:`InputError` for bad data (naming field and row),
        :class:`IdentificationError` when no customer made a repeat purchase (or no time was
        observed) or when the customers' dropout (or purchase) rates differ too little for the
        data to tell (the likelihood rises towards a common rate; see :meth:`_objective`),
        :class:`ConvergenceError` when the optimiser fails.
        """
        x, t_x, age = check_recency_frequency(frequency, recency, T)
        w = check_weights(weights, len(x))
        keep = w > 0
        if not keep.any():
            raise InputError("no customers to fit (empty data or all weights zero)")
        (x_u, t_x_u, age_u), w_u = compress_rows([x[keep], t_x[keep], age[keep]], w[keep])
        if not np.any(x_u > 0):
            raise IdentificationError(
                "ParetoNBDModel cannot be identified: no customer made a repeat purchase "
                "(every frequency is 0), so purchase rates and dropout cannot be told apart",
                advice=(
                    "wait for a longer purchase history (or import one: a model of repeat buying "
                    "needs customers who bought again), or choose a longer observation end"
                ),
            )
        if not np.any(age_u > 0):
            raise IdentificationError(
                "ParetoNBDModel cannot be identified: every customer has T = 0 (no time observed)",
                advice="set the observation end after the first purchases, so time is observed",
            )
        try:
            self._fit_rows((x_u, t_x_u, age_u), w_u, initial_params, maxiter=maxiter)
        except _RidgeReachedError as ridge:
            raise self._ridge_error(ridge) from None
        finally:
            self._last_evaluation = None  # do not keep per-row arrays alive after the fit
        return self

    def _objective(
        self, data: Sequence[Any], weights: FloatArray
    ) -> Callable[[FloatArray], tuple[float, FloatArray]]:
        """The base objective, watched for the two ridges of the Pareto/NBD likelihood.

        When the customers' dropout rates (or purchase rates) hardly differ, the likelihood keeps
        rising as the gamma distribution of the rates degenerates to a point: its shape and scale
        (``s`` and ``beta``, or ``r`` and ``alpha``) grow together without bound with their
        ratio, the mean rate, fixed. The maximum is then the limiting model with one common rate,
        outside the Pareto/NBD's parameter space, and the optimiser wanders along the ridge
        (nearly flat in log-parameters) until it stalls at the noise level of the likelihood.

        The watch: at a new best point whose shape is past ``_RIDGE_SHAPE`` and where the
        likelihood still rises along the ridge (shape and scale scaled together, the mean rate
        held), the slope of the log-likelihood in ``theta = 1/shape`` (the squared coefficient
        of variation of the rates; the likelihood is smooth in it down to the limit theta = 0)
        is taken there and at a shape ``_RIDGE_PROBE`` times larger, from the analytic
        gradient, and extrapolated linearly to theta = 0. A slope <= 0 there says the
        likelihood is highest at the limit; a positive one puts a maximum at theta > 0, and
        one whose gain over the limit (slope^2 / (2 |curvature|)) is within
        ``_RIDGE_TOLERANCE`` is as good as the limit. Either way the data cannot tell the
        rates' spread from none, and the fit stops (:class:`_RidgeReachedError`, which
        :meth:`fit` turns into an :class:`IdentificationError`); otherwise the maximum lies
        at a finite shape and the fit goes on, watched again past a shape ``_RIDGE_REARM``
        times larger.
        """
        objective = super()._objective(data, weights)
        total_weight = float(weights.sum())
        # per pair (shape, scale): the log-shape past which the watch looks
        thresholds = {(0, 1): float(np.log(_RIDGE_SHAPE)), (2, 3): float(np.log(_RIDGE_SHAPE))}
        best = [np.inf]

        def slope_in_theta(
            log_params: FloatArray, gradient: FloatArray, pair: tuple[int, int]
        ) -> float:
            # d LL / d theta = -shape * d LL / d log(shape) along the ridge (both log-parameters
            # moving together); ``gradient`` is that of the negative mean log-likelihood.
            along_ridge = -(gradient[pair[0]] + gradient[pair[1]]) * total_weight
            return float(-np.exp(log_params[pair[0]]) * along_ridge)

        # wraps: the watched objective keeps the base one's name, which tests that fake the
        # optimiser (tests/analytics/test_model_selection.py) recognise it by
        @functools.wraps(objective)
        def watched_objective(log_params: FloatArray) -> tuple[float, FloatArray]:
            value, gradient = objective(log_params)
            if value >= best[0]:
                return value, gradient
            best[0] = value
            for pair, log_threshold in thresholds.items():
                shape, scale = pair
                if log_params[shape] < log_threshold:
                    continue
                slope = slope_in_theta(log_params, gradient, pair)
                if slope >= 0:  # the likelihood falls towards the limit here: not on the ridge
                    continue
                probe = log_params.copy()
                probe[[shape, scale]] += np.log(_RIDGE_PROBE)
                theta = float(np.exp(-log_params[shape]))
                theta_probe = theta / _RIDGE_PROBE
                slope_probe = slope_in_theta(probe, objective(probe)[1], pair)
                curvature = (slope - slope_probe) / (theta - theta_probe)
                slope_at_limit = slope_probe - curvature * theta_probe
                if slope_at_limit <= 0 or (
                    curvature < 0 and slope_at_limit**2 / (-2 * curvature) <= _RIDGE_TOLERANCE
                ):
                    raise _RidgeReachedError(np.exp(log_params), pair)
                thresholds[pair] = float(log_params[shape]) + np.log(_RIDGE_REARM)
            return value, gradient

        return watched_objective

    def _ridge_error(self, ridge: _RidgeReachedError) -> IdentificationError:
        """The ridge in words: which spread the data cannot tell, and the common rate."""
        shown = dict(zip(self.param_names, (float(f"{p:.3g}") for p in ridge.params), strict=True))
        shape, scale = (self.param_names[i] for i in ridge.pair)
        rate = float(ridge.params[ridge.pair[0]] / ridge.params[ridge.pair[1]])
        if ridge.pair == (2, 3):
            what, story = (
                "dropout",
                f"the customers look as if they all drop out at one common rate, about {rate:.3g} "
                f"per unit of time (a mean lifetime of {1.0 / rate:.3g} units)",
            )
        else:
            what, story = (
                "purchase",
                f"the customers look as if they all buy at one common rate, about {rate:.3g} "
                "purchases per unit of time while alive",
            )
        return IdentificationError(
            f"ParetoNBDModel cannot be identified: the data cannot tell how much the customers' "
            f"{what} rates differ. The likelihood rises as {shape} and {scale} grow together "
            f"without bound (params {shown} when the fit stopped; no finite {shape} does "
            f"measurably better), the gamma distribution of the {what} rates shrinking to a "
            f"point at {shape}/{scale} = {rate:.3g}: {story}, a limit the Pareto/NBD reaches "
            "only at infinity",
            advice=(
                f"use the {self.alternative_models}, or wait for a longer purchase history, "
                f"in which differences between customers' {what} rates can show"
            ),
        )

    def _prepare_rows(self, *data: FloatArray) -> tuple[Any, ...]:
        return (_prepare(*data),)

    def _initial_params(self, *data: FloatArray, weights: FloatArray) -> FloatArray:
        x, _, age = data
        mean_age = max(float(np.sum(weights * age)) / float(weights.sum()), 1e-6)
        mean_frequency = max(float(np.sum(weights * x)) / float(weights.sum()), 1e-3)
        # Unit shapes; scales that put the mean purchase rate and lifetime near the data's.
        return np.array([1.0, mean_age / mean_frequency, 1.0, mean_age])

    # --- likelihood ------------------------------------------------------------------------------
    def _log_likelihood_rows(self, params: FloatArray, *data: Any) -> FloatArray:
        """Per-row log-likelihood [FH05, eq. (22)], in the two-positive-terms form above."""
        (rows,) = data
        return self._evaluate(params, rows)[0]

    def _log_likelihood_gradient_rows(self, params: FloatArray, *data: Any) -> FloatArray | None:
        """Analytic derivatives of the per-row log-likelihood with respect to r, alpha, s, beta:
        the H terms' derivatives come from the continued fraction differentiated alongside."""
        (rows,) = data
        return self._evaluate(params, rows)[1]

    def _evaluate(
        self, params: FloatArray, rows: _PreparedRows
    ) -> tuple[FloatArray, FloatArray | None]:
        """Value and gradient at once; the optimiser asks for both at each point, so the last
        evaluation is kept."""
        key = params.tobytes()
        cached = self._last_evaluation
        if cached is not None and cached[0] is rows and cached[1] == key:
            return cached[2], cached[3]
        ll, gradient = _log_likelihood_and_gradient(params, rows)
        self._last_evaluation = (rows, key, ll, gradient)
        return ll, gradient

    def log_likelihood(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        weights: ArrayLike | None = None,
    ) -> float:
        """Total log-likelihood of the given customers at the fitted parameters."""
        params = self._check_fitted()
        x, t_x, age = check_recency_frequency(frequency, recency, T)
        w = check_weights(weights, len(x))
        return float(np.sum(w * self._log_likelihood_rows(params, _prepare(x, t_x, age))))

    def log_likelihood_at(
        self,
        params: ArrayLike,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        weights: ArrayLike | None = None,
    ) -> FloatArray:
        """Total log-likelihood [FH05, eq. (22)] of the data (weights counted) at each row of
        ``params`` (a ``(k, 4)`` array of r, alpha, s, beta; one vector is one row). Needs no
        fit and leaves a fitted model as it was.

        Built for evaluating many parameter vectors on one data set (the importance weights of
        :mod:`kehu.analytics.uncertainty`): the data are checked and merged once, and the H
        terms of a block of vectors go through one continued-fraction pass, per distinct
        (x, t_x) and (x, T) pair and vector, without the derivatives the fit carries along.
        """
        values = check_parameter_rows(params, self.param_names)
        x, t_x, age = check_recency_frequency(frequency, recency, T)
        w = check_weights(weights, len(x))
        (x, t_x, age), w = compress_rows([x, t_x, age], w)
        rows = _prepare(x, t_x, age)
        (x_r, t_r), (x_a, t_a) = rows.recency_pairs, rows.age_pairs
        frequencies, frequency_index = np.unique(x, return_inverse=True)
        weight_per_frequency = np.bincount(frequency_index, weights=w)
        totals = np.empty(len(values))
        per_vector = len(x) + len(x_r) + len(x_a)
        block = max(1, _LIKELIHOOD_BLOCK_ELEMENTS // per_vector)
        with np.errstate(all="ignore"):
            for start in range(0, len(values), block):
                r, alpha, s, beta = (values[start : start + block, i : i + 1] for i in range(4))
                log_h_recency = _log_h_per_element(
                    *np.broadcast_arrays(t_r, r + x_r, s, alpha, beta)
                )
                log_h_age = _log_h_per_element(*np.broadcast_arrays(t_a, s, r + x_a, beta, alpha))
                rho = r + x
                first_term = log_h_recency[:, rows.recency_pair_of_row]
                first_term -= rho * np.log(alpha + t_x) + s * np.log(beta + t_x)
                second_term = log_h_age[:, rows.age_pair_of_row]
                second_term -= rho * np.log(alpha + age) + s * np.log(beta + age)
                constant = (
                    special.gammaln(r + frequencies) - special.gammaln(r)
                ) @ weight_per_frequency + (
                    r[:, 0] * np.log(alpha[:, 0]) + s[:, 0] * np.log(beta[:, 0])
                ) * w.sum()
                totals[start : start + block] = constant + np.logaddexp(first_term, second_term) @ w
        totals[~np.isfinite(totals)] = -np.inf
        return totals

    # --- predictions -----------------------------------------------------------------------------
    @staticmethod
    def _shaped(values: FloatArray, shape: tuple[int, ...]) -> Any:
        result = np.asarray(values, dtype=np.float64).reshape(shape)
        return float(result) if shape == () else result

    def _probability_alive(self, x: FloatArray, t_x: FloatArray, age: FloatArray) -> FloatArray:
        params = self._check_fitted()
        _, first_term, second_term, log_p_age = _log_terms(params, _prepare(x, t_x, age))
        # P(alive) = P(T) / bracket: the constant cancels [FH05, eq. (18)].
        log_alive = log_p_age - np.logaddexp(first_term, second_term)
        return np.asarray(np.clip(np.exp(log_alive), 0.0, 1.0), dtype=np.float64)

    def probability_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> Any:
        """P(customer still alive at T | x, t_x, T) [FH05, eq. (18)]."""
        self._check_fitted()
        x, t_x, age = check_recency_frequency(frequency, recency, T, one_dimensional=False)
        shape = x.shape
        return self._shaped(self._probability_alive(x.ravel(), t_x.ravel(), age.ravel()), shape)

    def conditional_expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> Any:
        """E[purchases in (T, T + t] | x, t_x, T] [FH05, eq. (26)]:

        (r+x)(beta+T) / ((alpha+T)(s-1)) * [1 - ((beta+T)/(beta+T+t))^(s-1)] * P(alive).
        The bracket over (s-1) is written as log1p(t/(beta+T)) * exprel(...), finite at s = 1.
        """
        r, alpha, s, beta = (float(v) for v in self._check_fitted())
        horizon = _non_negative(t, "t")
        x, t_x, age = check_recency_frequency(frequency, recency, T, one_dimensional=False)
        horizon, x, t_x, age = np.broadcast_arrays(horizon, x, t_x, age)
        shape = x.shape
        horizon, x, t_x, age = (a.ravel() for a in (horizon, x, t_x, age))
        alive = self._probability_alive(x, t_x, age)
        log_growth = np.log1p(horizon / (beta + age))
        lifetime_factor = log_growth * special.exprel(-(s - 1.0) * log_growth)
        expected = (r + x) * (beta + age) / (alpha + age) * lifetime_factor * alive
        return self._shaped(expected, shape)

    def expected_purchases(self, t: ArrayLike) -> Any:
        """E[X(t)] for a randomly chosen new customer [FH05, eq. (17)]:
        r beta / (alpha (s-1)) * [1 - (beta/(beta+t))^(s-1)], finite at s = 1."""
        r, alpha, s, beta = (float(v) for v in self._check_fitted())
        horizon = _non_negative(t, "t")
        shape = horizon.shape
        horizon = horizon.ravel()
        log_growth = np.log1p(horizon / beta)
        expected = r * beta / alpha * log_growth * special.exprel(-(s - 1.0) * log_growth)
        return self._shaped(expected, shape)

    def probability_of_purchases(self, n: ArrayLike, t: ArrayLike) -> Any:
        """P(X(t) = n) for a randomly chosen new customer [FH06, eq. (6)].

        Evaluated from the mixture it is derived from [FH06, eq. (2)]: with NBD(n; t) the
        negative-binomial count of a customer alive throughout (0, t],

            P(X(t) = n) = NBD(n; t) (beta/(beta+t))^s
                          + int_0^t s beta^s / (beta+tau)^(s+1) NBD(n; tau) d tau,

        by 128-point Gauss-Legendre quadrature in log(1 + tau/c), c = min(alpha, beta), in log
        space, which avoids the cancelling sum of 2F1 terms of the closed form.
        """
        r, alpha, s, beta = (float(v) for v in self._check_fitted())
        count, horizon = np.broadcast_arrays(_non_negative(n, "n"), _non_negative(t, "t"))
        shape = count.shape
        count, horizon = count.ravel(), horizon.ravel()
        if (count != np.floor(count)).any():
            i = int(np.flatnonzero(count != np.floor(count))[0])
            raise InputError("n must be a whole number", row=i + 1, column="n", value=count[i])

        def log_nbd(k: FloatArray, tau: FloatArray) -> FloatArray:
            # log of Gamma(r+k)/(Gamma(r) k!) (alpha/(alpha+tau))^r (tau/(alpha+tau))^k
            log_tau_term = np.where(k > 0, k * np.log(np.where(tau > 0, tau, 1.0)), 0.0)
            log_tau_term = np.where((k > 0) & (tau <= 0), -np.inf, log_tau_term)
            return np.asarray(
                special.gammaln(r + k)
                - special.gammaln(r)
                - special.gammaln(k + 1.0)
                + r * np.log(alpha)
                + log_tau_term
                - (r + k) * np.log(alpha + tau)
            )

        alive_throughout = log_nbd(count, horizon) - s * np.log1p(horizon / beta)
        scale = min(alpha, beta)
        upper = np.log1p(horizon / scale)  # integrate over v = log(1 + tau/scale) in [0, upper]
        v = 0.5 * upper[:, None] * (_QUADRATURE_NODES[None, :] + 1.0)
        tau = scale * np.expm1(v)
        log_weights = (
            np.log(0.5 * _QUADRATURE_WEIGHTS)[None, :]
            + np.log(np.where(upper > 0, upper, 1.0))[:, None]
        )
        log_integrand = (
            np.log(s)
            + s * np.log(beta)
            - (s + 1.0) * np.log(beta + tau)
            + log_nbd(count[:, None], tau)
            + np.log(scale + tau)  # d tau = (scale + tau) d v
        )
        died_before = special.logsumexp(log_integrand + log_weights, axis=1)
        died_before = np.where(upper > 0, died_before, -np.inf)
        with np.errstate(divide="ignore"):
            probability = np.exp(np.logaddexp(alive_throughout, died_before))
        return self._shaped(np.clip(probability, 0.0, 1.0), shape)
