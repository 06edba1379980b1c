"""Shared machinery of the customer-base models: input checks, row compression, maximum
likelihood by L-BFGS-B on log-parameters, standard errors from the observed information, model
selection figures.

Estimator conventions (scikit-learn): ``fit`` returns ``self``; learned state ends in ``_``; using a
fitted-only method before ``fit`` raises :class:`kehu.errors.NotFittedError`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize
from threadpoolctl import threadpool_limits

from kehu.errors import N_, ConvergenceError, IdentificationError, InputError, NotFittedError

FloatArray = NDArray[np.float64]

# Fits run on log-parameters within these bounds (parameters within e^-30 .. e^30).
_LOG_PARAM_BOUND = 30.0


def as_float_array(value: ArrayLike, name: str) -> FloatArray:
    """Return ``value`` as a 1-d float array; NaN or inf is an :class:`InputError` naming
    ``name`` and the (1-based) row."""
    array = np.atleast_1d(np.asarray(value, dtype=np.float64))
    if array.ndim != 1:
        raise InputError(f"{name} must be one-dimensional, got shape {array.shape}", column=name)
    bad = ~np.isfinite(array)
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        raise InputError(f"{name} must be finite", row=index + 1, column=name, value=array[index])
    return array


def check_weights(weights: ArrayLike | None, n_rows: int) -> FloatArray:
    """Customer weights (counts of identical customers): finite, non-negative, one per row."""
    if weights is None:
        return np.ones(n_rows)
    w = as_float_array(weights, "weights")
    if len(w) != n_rows:
        raise InputError(f"weights has {len(w)} rows but the data have {n_rows}", column="weights")
    _require(w >= 0, "weights", w, "must be >= 0")
    return w


def check_recency_frequency(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, *, one_dimensional: bool = True
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Validate a recency-frequency summary; :class:`InputError` names the field and 1-based row.

    ``frequency`` is the number of repeat purchases (a whole number >= 0), ``recency`` the time of
    the last purchase and ``T`` the time since the first purchase (both from the first purchase,
    in the same unit), so ``0 <= recency <= T``, and ``recency == 0`` when ``frequency == 0``.
    With ``one_dimensional=False`` the three are broadcast against each other (for predictions)
    and rows are counted in the flattened broadcast shape.
    """
    if one_dimensional:
        x, t_x, t_cal = (
            as_float_array(v, n)
            for v, n in ((frequency, "frequency"), (recency, "recency"), (T, "T"))
        )
        if not len(x) == len(t_x) == len(t_cal):
            raise InputError(
                f"frequency, recency and T must have the same length, got {len(x)}, "
                f"{len(t_x)} and {len(t_cal)}"
            )
    else:
        x, t_x, t_cal = np.broadcast_arrays(
            *(
                _finite_array(v, n)
                for v, n in ((frequency, "frequency"), (recency, "recency"), (T, "T"))
            )
        )
    _require(x >= 0, "frequency", x, "must be >= 0")
    _require(x == np.floor(x), "frequency", x, "must be a whole number of repeat purchases")
    _require(t_x >= 0, "recency", t_x, "must be >= 0")
    _require(t_cal >= 0, "T", t_cal, "must be >= 0")
    # Times that went through a float unit conversion may exceed T by a rounding error.
    tolerance = 1e-9 * np.maximum(t_cal, 1.0)
    _require(t_x <= t_cal + tolerance, "recency", t_x, "must be <= T")
    _require((x > 0) | (t_x == 0), "recency", t_x, "must be 0 when frequency is 0")
    return x, np.minimum(t_x, t_cal), t_cal


def check_parameter_rows(params: ArrayLike, names: Sequence[str]) -> FloatArray:
    """Parameter vectors as a ``(k, len(names))`` float array, one vector per row (a single
    vector is one row), each positive and finite; :class:`InputError` names the row."""
    array = np.asarray(params, dtype=np.float64)
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] != len(names):
        raise InputError(
            f"params must have one column per parameter ({', '.join(names)}), got shape "
            f"{array.shape}",
            column="params",
        )
    bad = ~(np.isfinite(array) & (array > 0)).all(axis=1)
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        raise InputError(
            "params must all be positive and finite",
            row=index + 1,
            column="params",
            value=array[index].tolist(),
        )
    return array


def _finite_array(value: ArrayLike, name: str) -> FloatArray:
    array = np.asarray(value, dtype=np.float64)
    bad = ~np.isfinite(array)
    if bad.any():
        index = int(np.flatnonzero(bad.ravel())[0])
        raise InputError(
            f"{name} must be finite", row=index + 1, column=name, value=array.ravel()[index]
        )
    return array


def _require(condition: NDArray[np.bool_], name: str, values: FloatArray, message: str) -> None:
    if not np.all(condition):
        index = int(np.flatnonzero(~np.asarray(condition).ravel())[0])
        value = float(np.asarray(values).ravel()[index])
        raise InputError(f"{name} {message}", row=index + 1, column=name, value=value)


def compress_rows(
    columns: Sequence[FloatArray], weights: FloatArray | None = None
) -> tuple[list[FloatArray], FloatArray]:
    """Merge identical rows of ``columns`` into one row each, summing their ``weights``.

    Fitting then costs time in the number of distinct rows, not in the number of customers. The
    distinct rows come back in lexicographic order of the columns. Integer-valued columns (counts,
    times in whole days) take a fast path through one integer key per row.
    """
    n = len(columns[0])
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    if n == 0:
        return [np.asarray(c, dtype=np.float64).copy() for c in columns], w.copy()
    unique_columns, group_of_row = group_rows(columns)
    n_groups = len(unique_columns[0])
    summed = np.bincount(group_of_row, weights=w, minlength=n_groups).astype(np.float64)
    return unique_columns, summed


def group_rows(columns: Sequence[FloatArray]) -> tuple[list[FloatArray], NDArray[np.intp]]:
    """The distinct rows of ``columns`` (lexicographic order) and, for every row, the index of its
    distinct row — so results computed once per distinct row can be spread back with
    ``result[group_of_row]``.

    Fast path: when every column lies on a regular grid (whole numbers, or e.g. whole days
    expressed in weeks) the rows get one integer key each and are grouped by counting, without
    sorting the rows. The grouping is then verified to be exact, else the general lexicographic
    sort is used.
    """
    arrays = [np.asarray(c, dtype=np.float64) for c in columns]
    n = len(arrays[0])
    if n == 0:
        return [a.copy() for a in arrays], np.zeros(0, dtype=np.intp)
    grouped = _group_rows_on_grid(arrays)
    if grouped is not None:
        return grouped
    order = np.lexsort(tuple(reversed(arrays)))
    sorted_columns = [a[order] for a in arrays]
    new_group = np.zeros(n, dtype=bool)
    new_group[0] = True
    for c in sorted_columns:
        new_group[1:] |= c[1:] != c[:-1]
    group_of_sorted = np.cumsum(new_group) - 1
    group_of_row = np.empty(n, dtype=np.intp)
    group_of_row[order] = group_of_sorted
    starts = np.flatnonzero(new_group)
    return [c[starts] for c in sorted_columns], group_of_row


def _group_rows_on_grid(
    arrays: Sequence[FloatArray],
) -> tuple[list[FloatArray], NDArray[np.intp]] | None:
    n = len(arrays[0])
    codes: list[NDArray[np.intp]] = []
    spans: list[int] = []
    for a in arrays:
        coded = _grid_codes(a)
        if coded is None:
            return None
        column_codes, column_exact = coded
        low = int(column_codes.min())
        if low:
            column_codes -= low
        span = int(column_codes.max()) + 1
        if span > max(1 << 24, 8 * n):
            return None  # sparse values: group by sorting instead
        if not column_exact:
            # Two different values sharing a grid point would be merged: check that each code
            # stands for one value (a scatter and a gather over a small, cache-resident array).
            value_of_code = np.empty(span)
            value_of_code[column_codes] = a
            if not np.array_equal(value_of_code[column_codes], a):
                return None
        codes.append(column_codes.astype(np.intp, copy=False))
        spans.append(span)
    # Combine the columns one at a time, relabelling the groups densely (0 .. groups-1, in
    # lexicographic order) after each: every key range stays small enough to group by counting,
    # in one pass and without sorting the rows.
    group_of_row = codes[0]
    n_groups = spans[0]
    group_of_row, n_groups = _dense_labels(group_of_row, n_groups)
    for column_codes, span in zip(codes[1:], spans[1:], strict=True):
        keys = group_of_row * span
        keys += column_codes
        key_range = n_groups * span
        if key_range > max(1 << 24, 8 * n):
            unique_keys, inverse = np.unique(keys, return_inverse=True)
            group_of_row, n_groups = inverse.astype(np.intp).reshape(-1), len(unique_keys)
        else:
            group_of_row, n_groups = _dense_labels(keys, key_range)
    # Groups are in lexicographic order of the codes, and the codes in the order of the values.
    # Each group's values are read from one of its rows, never rebuilt from codes.
    representative = np.empty(n_groups, dtype=np.intp)
    representative[group_of_row] = np.arange(n)
    return [a[representative] for a in arrays], group_of_row


def _dense_labels(keys: NDArray[np.intp], key_range: int) -> tuple[NDArray[np.intp], int]:
    """Keys in ``0 .. key_range-1`` relabelled ``0 .. distinct-1`` in the same order."""
    present = np.bincount(keys, minlength=key_range) > 0
    slot = np.cumsum(present, dtype=np.intp)
    slot -= 1
    return slot[keys], int(slot[-1]) + 1 if key_range else 0


def _grid_codes(a: FloatArray) -> tuple[NDArray[np.int64], bool] | None:
    """Integer codes ``round(a / step)`` when ``a`` lies on a grid of some step (and whether the
    codes are known to be exact, as for whole numbers), else None."""
    largest = float(max(np.max(a), -np.min(a)))  # NaN (or inf) fails the test below
    if not largest <= 2.0**50:
        return None
    as_int = a.astype(np.int64)
    if np.array_equal(as_int, a):
        return as_int, True
    # Guess the step from the spacing of a sample of the values (e.g. 1/7 for days in weeks).
    sample = np.unique(a[:: max(1, len(a) // 4096)])
    spacing = np.diff(sample)
    spacing = spacing[spacing > 0]
    if spacing.size == 0:
        return None
    step = float(spacing.min())
    if largest / step > 2.0**50:
        return None
    scaled = a / step
    rounded = np.rint(scaled)
    scaled -= rounded
    if float(max(np.max(scaled), -np.min(scaled))) > 1e-6:
        return None
    return rounded.astype(np.int64), False


def optimizer_reason(message: str) -> str:
    """L-BFGS-B's stopping message in words. scipy (1.15+) reports a failed line search as
    ``"ABNORMAL: "`` with nothing after the colon (its task codes 301/302 have no text), which is
    what a user saw as the whole reason; the Fortran-era texts are translated too."""
    text = message.upper()
    if "ITERATIONS REACHED LIMIT" in text or "EVALUATIONS EXCEEDS LIMIT" in text:
        return N_("the optimizer ran out of iterations before the likelihood stopped improving")
    if text.startswith("ABNORMAL") or "LNSRCH" in text:
        return N_(
            "the line search found no step that improves the likelihood: it is flat or "
            "numerically rough where the optimizer stopped, short of a maximum"
        )
    if "ROUNDING ERRORS" in text or "STPMAX" in text or "STPMIN" in text or "XTOL" in text:
        return N_(
            "rounding errors stopped the optimizer short of a maximum (a very flat likelihood)"
        )
    if text.startswith("ERROR") or "NO FEASIBLE" in text:
        return N_("the optimizer refused its starting point or bounds")
    return f"the optimizer stopped without a maximum ({message.strip(': ') or 'no reason given'})"


def optimizer_advice_template(message: str) -> str:
    """:func:`optimizer_advice` as a message template with ``%(alternatives)s`` (for a page or a
    report to translate)."""
    if "LIMIT" in message.upper():
        return N_(
            "a coarser time unit (weeks instead of days) makes the numbers smaller and the fit "
            "easier; or try another model (%(alternatives)s)"
        )
    return N_(
        "try another model (%(alternatives)s), a longer purchase history, or a coarser time "
        "unit (weeks instead of days)"
    )


def optimizer_advice(message: str, alternatives: str = "MBG/NBD or Pareto/NBD") -> str:
    """What to try after the stop :func:`optimizer_reason` describes; ``alternatives`` names
    the other models worth a try (never the one that just failed)."""
    return optimizer_advice_template(message) % {"alternatives": alternatives}


@dataclass(frozen=True)
class FitDiagnostics:
    """What the optimiser reported for one fit."""

    converged: bool
    iterations: int
    message: str
    n_observations: float  # customers, weights counted
    n_distinct_rows: int


class BaseModel:
    """Maximum-likelihood estimator over compressed rows.

    Subclasses set ``param_names`` and implement ``_log_likelihood_rows(params, *data)`` returning
    the per-row log-likelihood (and, optionally, ``_log_likelihood_gradient_rows`` returning a
    ``(n_params, n_rows)`` array of its derivatives with respect to the natural parameters).
    """

    #: the other models to try when this one cannot be fitted (its advice names them)
    alternative_models: str = "another model"

    param_names: tuple[str, ...] = ()

    def __init__(self, penalizer_coef: float = 0.0) -> None:
        self.penalizer_coef = penalizer_coef

    # --- to be provided by the model -------------------------------------------------------------
    def _log_likelihood_rows(self, params: FloatArray, *data: Any) -> FloatArray:
        raise NotImplementedError

    def _log_likelihood_gradient_rows(self, params: FloatArray, *data: Any) -> FloatArray | None:
        return None

    def _initial_params(self, *data: FloatArray, weights: FloatArray) -> FloatArray:
        return np.ones(len(self.param_names))

    def _prepare_rows(self, *data: FloatArray) -> tuple[Any, ...]:
        """Hook: precompute data-only quantities once per fit.

        Whatever this returns is what ``_log_likelihood_rows`` and ``_log_likelihood_gradient_rows``
        receive as ``*data`` during fitting. The default passes the (compressed) columns through.
        """
        return tuple(data)

    # --- fitting ---------------------------------------------------------------------------------
    def _objective(
        self, data: Sequence[Any], weights: FloatArray
    ) -> Callable[[FloatArray], tuple[float, FloatArray]]:
        """Negative mean log-likelihood in log-parameter space, with its gradient."""
        total_weight = float(weights.sum())

        def negative_mean_log_likelihood(log_params: FloatArray) -> tuple[float, FloatArray]:
            # The optimiser may probe extreme parameters; a non-finite value is reported as a
            # huge one (so the line search backs off) rather than as a floating-point warning.
            with np.errstate(all="ignore"):
                params = np.exp(log_params)
                ll_rows = self._log_likelihood_rows(params, *data)
                value = -weighted_sum(ll_rows, weights) / total_weight
                value += self.penalizer_coef * float(params @ params)
                if not np.isfinite(value):
                    return 1e300, np.zeros_like(log_params)
                gradient_rows = self._log_likelihood_gradient_rows(params, *data)
                if gradient_rows is None:
                    gradient = _finite_difference_gradient(
                        lambda lp: (
                            -weighted_sum(self._log_likelihood_rows(np.exp(lp), *data), weights)
                            / total_weight
                            + self.penalizer_coef * float(np.exp(lp) @ np.exp(lp))
                        ),
                        log_params,
                    )
                else:
                    gradient = -weighted_sum(gradient_rows, weights) / total_weight * params
                    gradient += 2.0 * self.penalizer_coef * params * params
                if not np.all(np.isfinite(gradient)):
                    return 1e300, np.zeros_like(log_params)
            return value, gradient

        return negative_mean_log_likelihood

    def _fit_rows(
        self,
        data: Sequence[FloatArray],
        weights: FloatArray,
        initial_params: ArrayLike | None,
        maxiter: int = 2000,
    ) -> None:
        total_weight = float(weights.sum())
        start = (
            np.asarray(initial_params, dtype=np.float64)
            if initial_params is not None
            else self._initial_params(*data, weights=weights)
        )
        prepared = self._prepare_rows(*data)
        objective = self._objective(prepared, weights)
        # The problem has a handful of parameters: BLAS threads only contend for the cores with
        # the numpy work of the likelihood (L-BFGS-B's small updates ran 2x slower with them).
        with _single_threaded_blas():
            result = optimize.minimize(
                objective,
                np.log(start),
                jac=True,
                method="L-BFGS-B",
                bounds=[(-_LOG_PARAM_BOUND, _LOG_PARAM_BOUND)] * len(start),
                options={"maxiter": maxiter, "ftol": 1e-14, "gtol": 1e-9},
            )
        params = np.exp(result.x)
        gradient_norm = float(np.max(np.abs(objective(result.x)[1])))
        converged = bool(result.success) or gradient_norm < 1e-6
        shown = dict(zip(self.param_names, (float(f"{p:.6g}") for p in params), strict=True))
        if not converged or not np.all(np.isfinite(params)):
            raise ConvergenceError(
                N_(
                    "%(model)s did not converge: %(why)s (optimizer: %(message)s; params "
                    "%(params)s, largest gradient %(gradient).3g)"
                ),
                values={
                    "model": type(self).__name__,
                    "why": optimizer_reason(str(result.message)),
                    "message": str(result.message).strip(": ") or "no message",
                    "params": str(shown),
                    "gradient": gradient_norm,
                },
                advice=optimizer_advice_template(str(result.message)),
                advice_values={"alternatives": self.alternative_models},
            )
        at_bound = np.abs(result.x) >= _LOG_PARAM_BOUND - 1e-3
        if at_bound.any():
            # A parameter running off to 0 or infinity means the likelihood has no interior
            # maximum for these data: reporting the boundary value would be silent garbage.
            names = [name for name, hit in zip(self.param_names, at_bound, strict=True) if hit]
            raise IdentificationError(
                N_(
                    "%(model)s: the data cannot identify %(parameters)s (the likelihood keeps "
                    "rising as it goes to 0 or infinity; params %(params)s)"
                ),
                values={
                    "model": type(self).__name__,
                    "parameters": ", ".join(names),
                    "params": str(shown),
                },
            )
        self._params_array = params
        self.params_ = dict(zip(self.param_names, (float(p) for p in params), strict=True))
        self._flat_params = self._flat_parameters(result.x, objective)
        with np.errstate(all="ignore"):
            self.log_likelihood_ = weighted_sum(
                self._log_likelihood_rows(params, *prepared), weights
            )
        self.n_observations_ = total_weight
        self.diagnostics_ = FitDiagnostics(
            converged=converged,
            iterations=int(result.nit),
            message=str(result.message),
            n_observations=total_weight,
            n_distinct_rows=len(weights),
        )
        with _single_threaded_blas():
            self.covariance_ = self._covariance(params, prepared, weights)
        variances = np.diag(self.covariance_)
        errors = np.sqrt(np.where(variances > 0, variances, np.nan))
        self.standard_errors_ = dict(zip(self.param_names, (float(e) for e in errors), strict=True))

    def _covariance(
        self, params: FloatArray, data: Sequence[Any], weights: FloatArray
    ) -> FloatArray:
        """The inverse observed information: the asymptotic covariance of the estimates (natural
        parameters, in ``param_names`` order; NaN where the information cannot be inverted).
        Its diagonal gives ``standard_errors_``; the whole matrix drives the parameter draws of
        :mod:`kehu.analytics.uncertainty`.

        The Hessian is a central difference of the analytic gradient when the model has one (more
        accurate than second differences of the likelihood), else of the likelihood itself.
        """

        def total_log_likelihood(p: FloatArray) -> float:
            return weighted_sum(self._log_likelihood_rows(p, *data), weights)

        with np.errstate(all="ignore"):
            if self._log_likelihood_gradient_rows(params, *data) is not None:

                def total_gradient(p: FloatArray) -> FloatArray:
                    rows = self._log_likelihood_gradient_rows(p, *data)
                    assert rows is not None
                    return weighted_sum(rows, weights)

                hessian = _finite_difference_jacobian(total_gradient, params)
            else:
                hessian = _finite_difference_hessian(total_log_likelihood, params)
        covariance = np.full((len(params), len(params)), np.nan)
        if np.all(np.isfinite(hessian)):
            with contextlib.suppress(np.linalg.LinAlgError):
                covariance = np.linalg.inv(-hessian)
        return np.asarray(covariance, dtype=np.float64)

    def _flat_parameters(
        self, optimum: FloatArray, objective: Callable[[FloatArray], tuple[float, FloatArray]]
    ) -> list[str]:
        """The parameters along which the likelihood does not fall when the parameter is
        multiplied or divided by e (the others held): at a proper maximum every such step costs
        likelihood; along a ridge to 0 or infinity one of them costs nothing. Where the optimizer
        stops on such a ridge depends on floating-point details (the machine's vector unit), so
        the observed information alone can look finite there."""
        with np.errstate(all="ignore"):
            at_optimum = float(objective(optimum)[0])
            tolerance = 1e-9 * max(1.0, abs(at_optimum))
            flat = []
            for index, name in enumerate(self.param_names):
                for step in (-1.0, 1.0):
                    moved = optimum.copy()
                    moved[index] += step
                    value = float(objective(moved)[0])
                    if np.isfinite(value) and value <= at_optimum + tolerance:
                        flat.append(name)
                        break
        return flat

    def _require_identified(self) -> None:
        """Raise :class:`IdentificationError` (and forget the fit) when the observed information
        is not positive definite at the optimum: the likelihood is flat or saddle-shaped there,
        so the data do not pin the parameters down and the estimates would be arbitrary."""
        flat = getattr(self, "_flat_params", [])
        undetermined = [
            name
            for name, error in self.standard_errors_.items()
            if not np.isfinite(error) or name in flat
        ]
        if undetermined:
            shown = {name: float(f"{value:.6g}") for name, value in self.params_.items()}
            self._params_array = None
            raise IdentificationError(
                N_(
                    "%(model)s: the data cannot identify %(parameters)s (the likelihood has no "
                    "proper maximum there; params reached %(params)s)"
                ),
                values={
                    "model": type(self).__name__,
                    "parameters": ", ".join(undetermined),
                    "params": str(shown),
                },
            )

    @classmethod
    def from_params(cls, params: Mapping[str, float], **init_kwargs: Any) -> Self:
        """A model with given parameters (e.g. published estimates) instead of fitted ones.

        Predictions work as after :meth:`fit`; ``standard_errors_``, ``covariance_``,
        ``log_likelihood_`` and ``n_observations_`` are NaN because no data were seen.
        """
        missing = [name for name in cls.param_names if name not in params]
        unknown = [name for name in params if name not in cls.param_names]
        if missing or unknown:
            raise InputError(
                f"{cls.__name__} takes parameters {', '.join(cls.param_names)}; "
                f"missing {missing}, unknown {unknown}",
                column="params",
            )
        values = np.array([float(params[name]) for name in cls.param_names])
        if not np.all(np.isfinite(values) & (values > 0)):
            raise InputError(
                f"{cls.__name__} parameters must be positive and finite, got {dict(params)}",
                column="params",
            )
        model = cls(**init_kwargs)
        model._params_array = values
        model.params_ = dict(zip(cls.param_names, (float(v) for v in values), strict=True))
        model.standard_errors_ = {name: float("nan") for name in cls.param_names}
        model.covariance_ = np.full((len(values), len(values)), np.nan)
        model.log_likelihood_ = float("nan")
        model.n_observations_ = float("nan")
        model.diagnostics_ = FitDiagnostics(
            converged=False,
            iterations=0,
            message="parameters given, not estimated",
            n_observations=float("nan"),
            n_distinct_rows=0,
        )
        return model

    # --- after fitting ---------------------------------------------------------------------------
    def _check_fitted(self) -> FloatArray:
        params = getattr(self, "_params_array", None)
        if params is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted yet: call fit() first")
        return params

    @property
    def bic_(self) -> float:
        self._check_fitted()
        n_params = len(self.param_names)
        return n_params * float(np.log(self.n_observations_)) - 2 * self.log_likelihood_

    @property
    def aic_(self) -> float:
        self._check_fitted()
        return 2 * len(self.param_names) - 2 * self.log_likelihood_

    def summary(self) -> dict[str, Any]:
        """Parameters, standard errors and fit figures, ready to store or print."""
        self._check_fitted()
        return {
            "model": type(self).__name__,
            "params": dict(self.params_),
            "standard_errors": dict(self.standard_errors_),
            "log_likelihood": self.log_likelihood_,
            "bic": self.bic_,
            "aic": self.aic_,
            "n_observations": self.n_observations_,
            "n_distinct_rows": self.diagnostics_.n_distinct_rows,
            "converged": self.diagnostics_.converged,
            "iterations": self.diagnostics_.iterations,
            "message": self.diagnostics_.message,
        }

    def __repr__(self) -> str:
        if getattr(self, "params_", None) is None:
            return f"{type(self).__name__}()"
        shown = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"{type(self).__name__}({shown})"


def _single_threaded_blas() -> threadpool_limits:
    """Limit BLAS (numpy's and scipy's bundled OpenBLAS) to one thread while fitting."""
    return threadpool_limits(limits=1, user_api="blas")


def weighted_sum(rows: FloatArray, weights: FloatArray) -> Any:
    """``rows @ weights`` over the last axis (a float for 1-d rows, an array for 2-d) without BLAS.

    Multi-threaded BLAS busy-waits between calls; on a small machine its idle threads then steal
    the CPU from the numpy work of the next likelihood evaluation (fits ran 2-3x slower).
    """
    total = np.einsum("...i,i->...", rows, weights)
    return float(total) if np.ndim(total) == 0 else np.asarray(total, dtype=np.float64)


def _finite_difference_gradient(
    function: Callable[[FloatArray], float], point: FloatArray
) -> FloatArray:
    gradient = np.empty_like(point)
    for i in range(len(point)):
        step = 1e-6 * max(1.0, abs(point[i]))
        up, down = point.copy(), point.copy()
        up[i] += step
        down[i] -= step
        gradient[i] = (function(up) - function(down)) / (2 * step)
    return gradient


def _finite_difference_jacobian(
    function: Callable[[FloatArray], FloatArray], point: FloatArray
) -> FloatArray:
    """Symmetrised forward-difference Jacobian of an analytic gradient (i.e. a Hessian).

    Relative steps of 1e-6 give about six correct digits, plenty for standard errors, with
    k + 1 gradient evaluations (the one at ``point`` is usually cached from the fit).
    """
    k = len(point)
    steps = 1e-6 * np.maximum(np.abs(point), 1e-8)
    at_point = function(point)
    jacobian = np.empty((k, k))
    for i in range(k):
        step = np.zeros(k)
        step[i] = steps[i]
        jacobian[:, i] = (function(point + step) - at_point) / steps[i]
    return np.asarray(0.5 * (jacobian + jacobian.T), dtype=np.float64)


def _finite_difference_hessian(
    function: Callable[[FloatArray], float], point: FloatArray
) -> FloatArray:
    """Central-difference Hessian with relative steps (parameters are positive)."""
    k = len(point)
    steps = 1e-4 * np.maximum(np.abs(point), 1e-8)
    hessian = np.empty((k, k))
    for i in range(k):
        for j in range(i, k):
            ei = np.zeros(k)
            ej = np.zeros(k)
            ei[i] = steps[i]
            ej[j] = steps[j]
            value = (
                function(point + ei + ej)
                - function(point + ei - ej)
                - function(point - ei + ej)
                + function(point - ei - ej)
            ) / (4 * steps[i] * steps[j])
            hessian[i, j] = hessian[j, i] = value
    return hessian
