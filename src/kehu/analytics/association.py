"""How two measures move together, with uncertainty: the statistics that link the service desk's
own records to what customers say (issue 10, item 8).

* :func:`correlation`: Pearson's r of two measures per unit (e.g. a team-month's kept-promise
  rate and its customers' mean reliability rating), with the interval from Fisher's (1915)
  z-transformation, ``tanh(atanh(r) ± z / sqrt(n - 3))`` (Fisher 1921, "On the 'probable
  error' of a coefficient of correlation deduced from a small sample", *Metron* 1, 3-32), and
  the two-sided p-value of ``t = r sqrt((n - 2) / (1 - r²))`` on ``n - 2`` degrees of freedom
  for no correlation. Assumes independent pairs, roughly bivariate normal (the interval) and a
  straight-line relation; it says nothing about cause.
* :func:`linear_effect`: the least-squares slope of an outcome on an exposure (e.g. the CES
  answer per extra transfer), optionally holding covariates fixed, with the classical t
  interval ``b ± t_{n-p} se(b)``, ``se`` from ``s² (XᵀX)⁻¹`` (homoscedastic errors).
* :func:`relative_effect`: the relative change of a non-negative outcome per extra unit of
  exposure, ``exp(b) - 1`` from a log-linear (Poisson) regression, ``log E[y] = a + b x + ...``,
  fitted by iteratively reweighted least squares (McCullagh & Nelder 1989, *Generalized Linear
  Models*, 2nd ed., §2.5), with the robust (sandwich, HC0) covariance so that the outcome need
  not be Poisson: with a 0/1 outcome (came back, bought again) it is the relative risk per
  unit of Zou (2004), "A modified Poisson regression approach to prospective studies with
  binary data", *American Journal of Epidemiology* 159(7), 702-706. The interval is
  ``exp(b ± z se(b)) - 1``. This is "each extra transfer cuts loyalty by x %" estimated from
  kehu's own data, with its interval: an association in observational data, not a controlled
  experiment (customers with harder problems are both transferred more and less loyal; give
  what is known of that as covariates).

Rows with a missing value (NaN/None) in any of the columns used are left out (``n_missing``).
Every result carries ``n`` and ``small_sample`` (``n < min_n``, default 30).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from kehu.analytics.satisfaction import (
    DEFAULT_MIN_N,
    answers_array,
    check_level,
    check_min_n,
    check_scale,
    normal_quantile,
)
from kehu.errors import ConvergenceError, EmptyInputError, InputError

FloatArray = NDArray[np.float64]

_MAX_ITERATIONS = 100
_TOLERANCE = 1e-10


@dataclass(frozen=True)
class Correlation:
    """Pearson's r with its Fisher-z interval at ``level`` and the p-value for no correlation."""

    estimate: float
    low: float
    high: float
    level: float
    n: int
    small_sample: bool
    p_value: float
    n_missing: int = 0
    method: str = "Pearson r, Fisher z interval"


@dataclass(frozen=True)
class Effect:
    """The effect of one more unit of exposure on the outcome, with its interval at ``level``.

    For :func:`linear_effect` ``estimate`` is in the outcome's units per unit of exposure; for
    :func:`relative_effect` it is the relative change (-0.12 = 12 % lower per unit).
    ``standard_error`` is that of the coefficient (the log-scale one for the relative effect)."""

    estimate: float
    low: float
    high: float
    level: float
    n: int
    small_sample: bool
    p_value: float
    standard_error: float
    n_missing: int = 0
    method: str = ""


def correlation(
    x: ArrayLike,
    y: ArrayLike,
    *,
    level: float = 0.95,
    min_n: int = DEFAULT_MIN_N,
    names: tuple[str, str] = ("x", "y"),
) -> Correlation:
    """Pearson's r of ``x`` and ``y`` (one pair per row) with the Fisher-z interval and the
    t-test p-value (module docstring). Needs at least 4 complete pairs (the interval's
    ``n - 3``); a constant column is an :class:`InputError` naming it."""
    level, min_n = check_level(level), check_min_n(min_n)
    (xs, ys), n_missing = _complete_rows([x, y], list(names))
    n = xs.size
    if n < 4:
        raise InputError(
            f"a correlation needs at least 4 complete pairs, got {n}", column=", ".join(names)
        )
    for values, name in ((xs, names[0]), (ys, names[1])):
        if np.ptp(values) == 0:
            raise InputError("the column is constant: it has no correlation", column=name)
    dx, dy = xs - xs.mean(), ys - ys.mean()
    r = float(np.clip(dx @ dy / np.sqrt((dx @ dx) * (dy @ dy)), -1.0, 1.0))
    half = normal_quantile(level) / np.sqrt(n - 3)
    if abs(r) == 1.0:
        low = high = r
        p_value = 0.0
    else:
        centre = np.arctanh(r)
        low, high = float(np.tanh(centre - half)), float(np.tanh(centre + half))
        t = r * np.sqrt((n - 2) / (1.0 - r * r))
        p_value = float(2.0 * stats.t.sf(abs(t), n - 2))
    return Correlation(r, low, high, level, n, n < min_n, p_value, n_missing)


def linear_effect(
    outcome: ArrayLike,
    exposure: ArrayLike,
    *,
    covariates: ArrayLike | None = None,
    level: float = 0.95,
    min_n: int = DEFAULT_MIN_N,
    names: tuple[str, str] = ("outcome", "exposure"),
) -> Effect:
    """The least-squares slope of ``outcome`` on ``exposure`` (covariates held fixed), with the
    t interval and p-value (module docstring)."""
    level, min_n = check_level(level), check_min_n(min_n)
    y, design, n_missing = _design(outcome, exposure, covariates, names)
    n, p = design.shape
    xtx_inverse = np.linalg.inv(design.T @ design)
    coefficients = xtx_inverse @ design.T @ y
    residuals = y - design @ coefficients
    variance = float(residuals @ residuals) / (n - p)
    standard_error = float(np.sqrt(variance * xtx_inverse[1, 1]))
    slope = float(coefficients[1])
    half = float(stats.t.ppf(0.5 + level / 2.0, n - p)) * standard_error
    p_value = _two_sided(slope, standard_error, stats.t(n - p).sf)
    return Effect(
        estimate=slope,
        low=slope - half,
        high=slope + half,
        level=level,
        n=n,
        small_sample=n < min_n,
        p_value=p_value,
        standard_error=standard_error,
        n_missing=n_missing,
        method="least squares slope, t interval",
    )


def relative_effect(
    outcome: ArrayLike,
    exposure: ArrayLike,
    *,
    covariates: ArrayLike | None = None,
    level: float = 0.95,
    min_n: int = DEFAULT_MIN_N,
    names: tuple[str, str] = ("outcome", "exposure"),
) -> Effect:
    """The relative change of the non-negative ``outcome`` per extra unit of ``exposure``,
    ``exp(b) - 1`` of a log-linear regression with robust standard errors (module docstring:
    Zou 2004's modified Poisson regression for a 0/1 outcome)."""
    level, min_n = check_level(level), check_min_n(min_n)
    y, design, n_missing = _design(outcome, exposure, covariates, names)
    check_scale(y, 0.0, np.inf, names[0], whole=False)
    if not (y > 0).any():
        raise InputError("the outcome is 0 on every row: no relative change", column=names[0])
    coefficients = _poisson_irls(y, design)
    mean = np.exp(design @ coefficients)
    bread = np.linalg.inv(design.T @ (design * mean[:, None]))
    scores = design * (y - mean)[:, None]
    covariance = bread @ (scores.T @ scores) @ bread
    b = float(coefficients[1])
    standard_error = float(np.sqrt(covariance[1, 1]))
    half = normal_quantile(level) * standard_error
    return Effect(
        estimate=float(np.expm1(b)),
        low=float(np.expm1(b - half)),
        high=float(np.expm1(b + half)),
        level=level,
        n=int(y.size),
        small_sample=y.size < min_n,
        p_value=_two_sided(b, standard_error, stats.norm.sf),
        standard_error=standard_error,
        n_missing=n_missing,
        method="log-linear (Poisson) regression, robust (HC0) interval",
    )


def _two_sided(estimate: float, standard_error: float, sf: Callable[[float], float]) -> float:
    """Two-sided p-value of ``estimate / standard_error`` under the survival function ``sf``."""
    if standard_error == 0:
        return 0.0 if estimate != 0 else 1.0
    return float(2.0 * sf(abs(estimate) / standard_error))


def _poisson_irls(y: FloatArray, design: FloatArray) -> FloatArray:
    """Maximum likelihood of ``log E[y] = X b`` by iteratively reweighted least squares."""
    coefficients = np.zeros(design.shape[1])
    coefficients[0] = np.log(y.mean())
    previous = np.inf
    for _ in range(_MAX_ITERATIONS):
        linear = design @ coefficients
        mean = np.exp(linear)
        working = linear + (y - mean) / mean
        weighted = design * mean[:, None]
        coefficients = np.asarray(
            np.linalg.solve(design.T @ weighted, weighted.T @ working), dtype=np.float64
        )
        mean = np.exp(design @ coefficients)
        with np.errstate(divide="ignore", invalid="ignore"):
            deviance = 2.0 * float(np.sum(np.where(y > 0, y * np.log(y / mean), 0.0) - (y - mean)))
        if abs(previous - deviance) <= _TOLERANCE * (abs(deviance) + 1.0):
            return coefficients
        previous = deviance
    raise ConvergenceError(
        f"the log-linear regression did not converge in {_MAX_ITERATIONS} iterations",
        advice="check for an exposure value that alone predicts an outcome of 0 (separation)",
    )


def _complete_rows(columns: list[ArrayLike], names: list[str]) -> tuple[list[FloatArray], int]:
    arrays = [answers_array(column, name) for column, name in zip(columns, names, strict=True)]
    lengths = {array.size for array in arrays}
    if len(lengths) != 1:
        raise InputError(
            "the columns differ in length: "
            + ", ".join(f"{name} {array.size}" for array, name in zip(arrays, names, strict=True)),
            column=", ".join(names),
        )
    for array, name in zip(arrays, names, strict=True):
        check_scale(array, -np.inf, np.inf, name, whole=False)
    complete = np.logical_and.reduce([~np.isnan(array) for array in arrays])
    if not complete.any():
        raise EmptyInputError("no row has every value: nothing to estimate", column=names[0])
    return [array[complete] for array in arrays], int((~complete).sum())


def _design(
    outcome: ArrayLike,
    exposure: ArrayLike,
    covariates: ArrayLike | None,
    names: tuple[str, str],
) -> tuple[FloatArray, FloatArray, int]:
    """Outcome and the design matrix [1, exposure, covariates...] of the complete rows."""
    columns: list[ArrayLike] = [outcome, exposure]
    column_names = list(names)
    if covariates is not None:
        extra = np.asarray(covariates, dtype=np.float64)
        extra = extra[:, None] if extra.ndim == 1 else extra
        columns += [extra[:, k] for k in range(extra.shape[1])]
        column_names += [f"covariate {k + 1}" for k in range(extra.shape[1])]
    arrays, n_missing = _complete_rows(columns, column_names)
    y = arrays[0]
    design = np.column_stack([np.ones(y.size), *arrays[1:]])
    n, p = design.shape
    if n < p + 2:
        raise InputError(
            f"{n} complete rows for {p - 1} explanatory column(s): at least {p + 2} are needed",
            column=", ".join(column_names[1:]),
        )
    for k, name in enumerate(column_names[1:], start=1):
        if np.ptp(design[:, k]) == 0:
            raise InputError("the column is constant: no effect can be estimated", column=name)
    if np.linalg.matrix_rank(design) < p:
        raise InputError(
            "the explanatory columns are collinear (one is a combination of the others)",
            column=", ".join(column_names[1:]),
        )
    return y, design, n_missing
