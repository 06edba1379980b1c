"""PLS path modelling of a satisfaction model of the ACSI/ECSI kind.

:class:`PLSPathModel` estimates a path model between constructs (image, expectations, perceived
quality, perceived value, satisfaction, complaints, loyalty, ...) each measured by survey items
("indicators"), by the partial least squares algorithm of Wold (1982) in the form Lohmöller (1989)
gives it, as described by Tenenhaus, Esposito Vinzi, Chatelin & Lauro (2005), "PLS path modeling",
Computational Statistics & Data Analysis 48, 159-205 (cited below as TEVCL; its outer and inner
estimation steps, modes and weighting schemes). The formulas are numbered (1)-(8) here; the
papers' own equation numbers are not quoted because they could not be checked against the text.
The conventions (standardisation with the ``n - 1`` divisor, unit starting weights, the stopping
rule, no sign correction) are those of the R package seminr, whose golden estimates on the ECSI
mobile-phone data (mobi) the tests reproduce.

The algorithm, for ``n`` respondents, indicators ``x_h`` grouped into constructs ``j``:

1. Indicators are standardised: ``z_h = (x_h - mean_h) / s_h`` with ``s_h`` the sample standard
   deviation (divisor ``n - 1``).
2. Outer estimation (TEVCL), (1): ``Y_j = sum_h w_jh z_jh``, rescaled to unit variance. The weights
   start at 1 for every indicator of a construct.
3. Inner estimation (TEVCL), (2): ``Z_j = sum_i e_ji Y_i`` over the constructs ``i`` adjacent to
   ``j`` in the structural model, rescaled to unit variance, with the inner weights ``e_ji`` of the
   chosen scheme (TEVCL, after Lohmöller 1989), (3):

   - ``"path"`` (path weighting, the default): for a predecessor ``i`` of ``j`` (``i -> j``),
     ``e_ji`` is ``Y_i``'s coefficient in the multiple regression of ``Y_j`` on all of ``j``'s
     predecessors; for a successor ``i`` (``j -> i``), ``e_ji = cor(Y_j, Y_i)``;
   - ``"factorial"``: ``e_ji = cor(Y_j, Y_i)`` for every neighbour;
   - ``"centroid"``: ``e_ji = sign(cor(Y_j, Y_i))`` for every neighbour.

4. Mode A outer weights (TEVCL), (4): ``w_jh = cov(z_jh, Z_j)``, then rescaled so that
   ``var(sum_h w_jh z_jh) = 1``.
5. Steps 2-4 repeat until the weights change by less than ``tol`` in total
   (``sum |w_new - w_old| < tol``, default ``1e-7``) or ``max_iter`` rounds (default 300) have run;
   a model that does not converge raises :class:`kehu.errors.ConvergenceError`.

After convergence the construct scores are ``Y_j = sum_h w_jh z_jh`` (mean 0, variance 1); the
outer loadings are ``cor(x_h, Y_j)``; the path coefficients are the ordinary least squares
coefficients of each endogenous construct's scores on its predecessors' scores (5), with
its ``R²`` (and adjusted ``R² = 1 - (1 - R²)(n - 1)/(n - k - 1)`` for ``k`` predecessors). The total
effects are (6) ``T = B + B² + B³ + ... = (I - B)⁻¹ - I`` for the matrix ``B`` of path
coefficients (``B[i, j]`` the path ``i -> j``; Alwin & Hauser 1975, "The decomposition of effects
in path analysis", American Sociological Review 40, 37-47), the indirect effects ``T - B``.

Signs. A composite's sign is arbitrary (``-Y_j`` fits as well as ``Y_j``). As in seminr, no sign is
flipped after the fact: the unit starting weights orient each construct with the sum of its
indicators, and mode A weights keep that orientation, so a construct whose items are positively
worded comes out positive. Bootstrap resamples are not sign-corrected either (seminr's default).

Bootstrap (:meth:`PLSPathModel.bootstrap`): resamples of the respondents with replacement (seeded),
the whole algorithm refitted on each; the standard error is the standard deviation (divisor
``n_boot - 1``) of the resampled estimates and the interval their percentiles. A resample on which
the model cannot be fitted (an indicator constant in the resample, a singular regression, no
convergence) is dropped and counted in ``n_failed``, as seminr does; if fewer than half of the
resamples succeed, :class:`kehu.errors.ModelError` is raised rather than a thin interval.

The 0-100 index (:meth:`PLSPathModel.index`) is the ACSI's (Fornell, Johnson, Anderson, Cha &
Bryant 1996, "The American Customer Satisfaction Index: nature, purpose, and findings", Journal of
Marketing 60(4), 7-18): with the standardised outer weights ``w_h`` turned into weights of the
indicators' original scale, ``u_h = w_h / s_h``, the construct on that scale is
``xi = sum_h u_h x_h`` and

    (7)  index = 100 * (E[xi] - min xi) / (max xi - min xi)
               = 100 * sum_h u_h (mean_h - lo_h) / sum_h u_h (hi_h - lo_h),

where ``lo_h`` and ``hi_h`` are the lowest and highest answers the item allows (1 and 10 on the ECSI
items). Equivalently, the rescaled weights ``r_h = u_h / sum u`` (summing to 1) average the items,
and the average is mapped from the answer scale onto 0-100. A respondent's index is the same with
their answers instead of the means. The importance-performance map (:meth:`importance_performance`,
Ringle & Sarstedt 2016, "Gain more insight from your PLS-SEM results: the importance-performance
map analysis", Industrial Management & Data Systems 116(9), 1865-1886) gives each construct that
affects a target its performance (its mean 0-100 index) and its importance (its total effect on
the target in the 0-100 metric, (8): the standardised total effect times ``sd(target index) /
sd(its index)``, i.e. the points of target index one point of its index brings).

Data are a table with named columns: a pandas ``DataFrame``, a mapping of column names to columns,
or a 2-D array with ``columns=`` naming its columns. Missing answers are not imputed here: a NaN is
an :class:`kehu.errors.InputError` naming its row and column.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Self

import numpy as np
from numpy.typing import NDArray

from kehu.errors import (
    ColumnsError,
    ConvergenceError,
    EmptyInputError,
    IdentificationError,
    InputError,
    KehuError,
    ModelError,
    NotFittedError,
)

FloatArray = NDArray[np.float64]
InnerScheme = Literal["path", "factorial", "centroid"]
INNER_SCHEMES: tuple[InnerScheme, ...] = ("path", "factorial", "centroid")
Path = tuple[str, str]
ScaleRange = tuple[float, float] | Mapping[str, tuple[float, float]]

# Below this share of successful bootstrap resamples the intervals would rest on the resamples
# that happened to work, not on the sampling distribution.
_MIN_BOOTSTRAP_SUCCESS_SHARE = 0.5


@dataclass(frozen=True)
class BootstrapEstimate:
    """One parameter's bootstrap summary: the full-sample ``estimate``, the ``mean`` and
    ``std_error`` (standard deviation, divisor ``n - 1``) of the resampled estimates, their
    percentile interval ``lower``-``upper`` and ``t = estimate / std_error``."""

    estimate: float
    mean: float
    std_error: float
    lower: float
    upper: float

    @property
    def t_value(self) -> float:
        return self.estimate / self.std_error if self.std_error > 0 else float("inf")


@dataclass(frozen=True)
class PLSBootstrap:
    """Bootstrap results of a :class:`PLSPathModel`: per path ``(source, target)``, per indicator
    (weights and loadings), per pair with a total effect, per endogenous construct (``R²``).
    ``n_boot`` resamples were drawn, ``n_failed`` of them could not be fitted and were dropped;
    ``level`` is the percentile interval's coverage."""

    paths: dict[Path, BootstrapEstimate]
    weights: dict[str, BootstrapEstimate]
    loadings: dict[str, BootstrapEstimate]
    total_effects: dict[Path, BootstrapEstimate]
    r_squared: dict[str, BootstrapEstimate]
    n_boot: int
    n_failed: int
    level: float
    seed: int | None


@dataclass(frozen=True)
class ConstructIndex:
    """A construct's 0-100 index (Fornell et al. 1996): ``mean`` over the respondents, each
    respondent's ``scores``, and the rescaled weights of its indicators on their original scale
    (``weights``, summing to 1)."""

    construct: str
    mean: float
    scores: FloatArray
    weights: dict[str, float]


@dataclass(frozen=True)
class ImportancePerformance:
    """One construct on the importance-performance map of ``target``: ``importance`` (total effect
    in the 0-100 metric: target index points per point of this construct's index),
    ``total_effect`` (the standardised total effect) and ``performance`` (mean 0-100 index)."""

    construct: str
    target: str
    importance: float
    total_effect: float
    performance: float


@dataclass(frozen=True)
class _Estimates:
    """One fit's numbers, in the model's fixed orders (indicators, constructs)."""

    weights: FloatArray  # (p,) each indicator's weight on its own construct
    loadings: FloatArray  # (p,)
    paths: FloatArray  # (k, k) B[i, j] = path i -> j
    total: FloatArray  # (k, k)
    r_squared: FloatArray  # (k,) NaN for exogenous constructs
    scores: FloatArray  # (n, k)
    n_iter: int


class PLSPathModel:
    """A PLS path model: ``measurement`` maps each construct to its indicators (column names of
    the data, mode A: reflective), ``structure`` lists the paths as ``(source, target)`` pairs
    (it must have no cycle). ``scheme`` is the inner weighting scheme (``"path"``, the default,
    ``"factorial"`` or ``"centroid"``); ``tol`` and ``max_iter`` the stopping rule (see the
    module docstring).

    After :meth:`fit`: ``constructs_`` and ``indicators_`` (the orders of the arrays),
    ``outer_weights_`` and ``outer_loadings_`` (indicator -> number), ``path_coefficients_``,
    ``total_effects_`` and ``indirect_effects_`` ((source, target) -> number),
    ``r_squared_`` and ``adjusted_r_squared_`` (endogenous construct -> number),
    ``construct_scores_`` (respondents x constructs, standardised), ``indicator_means_`` and
    ``indicator_sds_`` (divisor ``n - 1``), ``n_iter_`` (rounds of steps 2-4; seminr reports
    one fewer, counting from 0) and ``n_obs_``.
    """

    def __init__(
        self,
        measurement: Mapping[str, Sequence[str]],
        structure: Iterable[Path],
        *,
        scheme: InnerScheme = "path",
        tol: float = 1e-7,
        max_iter: int = 300,
    ) -> None:
        if scheme not in INNER_SCHEMES:
            raise InputError(
                f"unknown inner weighting scheme {scheme!r}; use one of {', '.join(INNER_SCHEMES)}",
                column="scheme",
                value=scheme,
            )
        if not tol > 0:
            raise InputError("tol must be > 0", column="tol", value=tol)
        if max_iter < 1:
            raise InputError("max_iter must be >= 1", column="max_iter", value=max_iter)
        # a lone name is one indicator, not a sequence of one-letter indicators
        self.measurement = {
            str(c): (items,) if isinstance(items, str) else tuple(str(i) for i in items)
            for c, items in measurement.items()
        }
        self.structure = tuple(_path(path) for path in structure)
        self.scheme = scheme
        self.tol = tol
        self.max_iter = max_iter
        self._check_specification()
        self._constructs = tuple(self.measurement)
        self._indicators = tuple(i for c in self._constructs for i in self.measurement[c])
        position = {c: j for j, c in enumerate(self._constructs)}
        self._owner = np.array(
            [position[c] for c in self._constructs for _ in self.measurement[c]], dtype=np.intp
        )
        k = len(self._constructs)
        self._adjacency = np.zeros((k, k), dtype=bool)  # [i, j]: path i -> j
        for source, target in self.structure:
            self._adjacency[position[source], position[target]] = True
        self._predecessors = [np.flatnonzero(self._adjacency[:, j]) for j in range(k)]
        self._endogenous = tuple(j for j in range(k) if len(self._predecessors[j]))

    # -- specification ------------------------------------------------------------------------

    def _check_specification(self) -> None:
        if not self.measurement:
            raise InputError("the measurement model has no constructs", column="measurement")
        seen: dict[str, str] = {}
        for construct, items in self.measurement.items():
            if not items:
                raise InputError(f"construct {construct!r} has no indicators", column="measurement")
            for item in items:
                if item in seen:
                    raise InputError(
                        f"indicator {item!r} is in both {seen[item]!r} and {construct!r}; each "
                        "indicator measures one construct",
                        column=item,
                    )
                seen[item] = construct
        if not self.structure:
            raise InputError("the structural model has no paths", column="structure")
        unknown = sorted({c for path in self.structure for c in path if c not in self.measurement})
        if unknown:
            raise InputError(
                f"the structural model names constructs the measurement model does not have: "
                f"{', '.join(unknown)}",
                column="structure",
            )
        for source, target in self.structure:
            if source == target:
                raise InputError(
                    f"the path {source} -> {target} is a cycle (a construct explaining itself)",
                    column="structure",
                )
        if len(set(self.structure)) != len(self.structure):
            raise InputError("the structural model lists a path twice", column="structure")
        in_paths = {c for path in self.structure for c in path}
        isolated = [c for c in self.measurement if c not in in_paths]
        if isolated:
            raise InputError(
                f"construct(s) in no path of the structural model: {', '.join(isolated)}",
                column="structure",
            )
        cycle = _find_cycle(self.structure)
        if cycle:
            raise InputError(
                "the structural model has a cycle: "
                + " -> ".join(cycle)
                + "; PLS path models (and their total effects) need a recursive model",
                column="structure",
            )

    # -- fitting ------------------------------------------------------------------------------

    def fit(self, data: Any, *, columns: Sequence[str] | None = None) -> Self:
        """Estimate the model from ``data`` (respondents in rows; see the module docstring for
        the accepted tables). Returns ``self``."""
        raw = self._indicator_matrix(data, columns)
        n = raw.shape[0]
        max_predictors = max(len(self._predecessors[j]) for j in self._endogenous)
        if n < max_predictors + 2:
            raise InputError(
                f"{n} respondent(s) are too few: the model needs at least {max_predictors + 2} "
                f"(the largest number of predictors of a construct, {max_predictors}, plus 2)",
                column="data",
            )
        means = raw.mean(axis=0)
        sds = raw.std(axis=0, ddof=1)
        constant = [self._indicators[h] for h in np.flatnonzero(~(sds > 0))]
        if constant:
            raise InputError(
                f"indicator(s) with the same answer from every respondent: {', '.join(constant)}; "
                "a constant item measures nothing",
                column=constant[0],
            )
        estimates = self._estimate((raw - means) / sds)
        self._raw = raw
        self.n_obs_ = n
        self.n_iter_ = estimates.n_iter
        self.indicator_means_ = dict(zip(self._indicators, means.tolist(), strict=True))
        self.indicator_sds_ = dict(zip(self._indicators, sds.tolist(), strict=True))
        self._store(estimates)
        return self

    def _indicator_matrix(self, data: Any, columns: Sequence[str] | None) -> FloatArray:
        table = _named_columns(data, columns)
        missing = [i for i in self._indicators if i not in table]
        if missing:
            raise ColumnsError(
                f"indicator(s) not in the data: {', '.join(missing)}; the data have the columns "
                f"{', '.join(map(str, table)) or '(none)'}",
                column=missing[0],
            )
        raw = np.column_stack([_numeric_column(table[i], i) for i in self._indicators]).astype(
            np.float64
        )
        if raw.shape[0] == 0:
            raise EmptyInputError("the data have no respondents (rows)", column="data")
        return raw

    def _estimate(self, z: FloatArray) -> _Estimates:
        """The PLS algorithm on standardised indicators ``z`` (n x p); raises ModelError."""
        n, p = z.shape
        k = len(self._constructs)
        membership = np.zeros((p, k))
        membership[np.arange(p), self._owner] = 1.0
        weights = membership.copy()  # unit starting weights
        n_iter = 0
        for n_iter in range(1, self.max_iter + 1):  # noqa: B007 (the count is reported)
            outer = _unit_variance(z @ weights)  # (1)
            inner = _unit_variance(outer @ self._inner_weights(outer))  # (2), (3)
            # Mode A, (4): covariance of each indicator with its construct's inner proxy
            new = membership * (z.T @ inner) / (n - 1)
            new = new / _column_sds(z @ new)
            change = float(np.abs(new - weights).sum())
            weights = new
            if change < self.tol:
                break
        else:
            raise ConvergenceError(
                f"the PLS weights did not converge in {self.max_iter} iterations "
                f"(last change {change:.3g} >= tol {self.tol:g})",
                advice="raise max_iter, or check the measurement model (items that do not "
                "belong together keep the weights oscillating)",
            )
        scores = z @ weights
        loadings_matrix = (z.T @ scores) / (n - 1)
        paths = np.zeros((k, k))
        r_squared = np.full(k, np.nan)
        correlation = _correlation(scores)
        for j in self._endogenous:
            pred = self._predecessors[j]
            # (5): OLS from the correlations of the unit-variance scores
            beta = _solve(correlation[np.ix_(pred, pred)], correlation[pred, j], self, j)
            paths[pred, j] = beta
            r_squared[j] = float(beta @ correlation[pred, j])
        total = np.linalg.inv(np.eye(k) - paths) - np.eye(k)  # (6)
        rows = np.arange(p)
        return _Estimates(
            weights=weights[rows, self._owner],
            loadings=loadings_matrix[rows, self._owner],
            paths=paths,
            total=total,
            r_squared=r_squared,
            scores=scores,
            n_iter=n_iter,
        )

    def _inner_weights(self, outer: FloatArray) -> FloatArray:
        """Matrix ``E`` with ``E[i, j]`` the weight of construct ``i`` in ``j``'s inner proxy."""
        correlation = _correlation(outer)
        neighbours = self._adjacency | self._adjacency.T
        if self.scheme == "factorial":
            return correlation * neighbours
        if self.scheme == "centroid":
            return np.sign(correlation) * neighbours
        # path weighting: successors by correlation, predecessors by regression coefficients
        inner = correlation * self._adjacency.T
        for j in self._endogenous:
            pred = self._predecessors[j]
            inner[pred, j] = _solve(correlation[np.ix_(pred, pred)], correlation[pred, j], self, j)
        return inner

    def _store(self, estimates: _Estimates) -> None:
        names = self._constructs
        self.constructs_ = names
        self.indicators_ = self._indicators
        self.outer_weights_ = dict(zip(self._indicators, estimates.weights.tolist(), strict=True))
        self.outer_loadings_ = dict(zip(self._indicators, estimates.loadings.tolist(), strict=True))
        self.path_coefficients_ = {
            (s, t): float(estimates.paths[names.index(s), names.index(t)])
            for s, t in self.structure
        }
        reachable = _reachability(self._adjacency)
        self.total_effects_ = {
            (names[i], names[j]): float(estimates.total[i, j])
            for i, j in zip(*np.nonzero(reachable), strict=True)
        }
        self.indirect_effects_ = {
            pair: value - self.path_coefficients_.get(pair, 0.0)
            for pair, value in self.total_effects_.items()
        }
        self.r_squared_ = {names[j]: float(estimates.r_squared[j]) for j in self._endogenous}
        n = estimates.scores.shape[0]
        self.adjusted_r_squared_ = {
            names[j]: 1.0
            - (1.0 - float(estimates.r_squared[j])) * (n - 1) / (n - len(self._predecessors[j]) - 1)
            if n - len(self._predecessors[j]) - 1 > 0
            else float("nan")
            for j in self._endogenous
        }
        self.construct_scores_ = estimates.scores
        self._estimates = estimates

    def _require_fitted(self) -> None:
        if not hasattr(self, "_estimates"):
            raise NotFittedError("the PLS path model is not fitted")

    # -- bootstrap ----------------------------------------------------------------------------

    def bootstrap(
        self,
        n_boot: int = 500,
        *,
        seed: int | None = None,
        level: float = 0.95,
        resamples: Any = None,
    ) -> PLSBootstrap:
        """Bootstrap standard errors and percentile intervals (``level``) of the paths, weights,
        loadings, total effects and R²s from ``n_boot`` resamples of the respondents, drawn with
        numpy's default generator seeded by ``seed``. ``resamples`` instead gives the resamples
        themselves, an integer array of 0-based row numbers, one row per resample (to repeat
        another tool's resamples, or to resample within strata); ``n_boot`` is then its number
        of rows. Failed resamples are dropped and counted (see the module docstring)."""
        self._require_fitted()
        if not 0 < level < 1:
            raise InputError("level must be between 0 and 1", column="level", value=level)
        raw = self._raw
        n = raw.shape[0]
        if resamples is None:
            if n_boot < 2:
                raise InputError("n_boot must be >= 2", column="n_boot", value=n_boot)
            rows = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
        else:
            rows = _check_resamples(resamples, n)
            n_boot = rows.shape[0]
        draws: list[_Estimates] = []
        for resample in rows:
            sample = raw[resample]
            sds = sample.std(axis=0, ddof=1)
            if not (sds > 0).all():
                continue  # an item constant in this resample: the resample cannot be fitted
            try:
                draws.append(self._estimate((sample - sample.mean(axis=0)) / sds))
            except KehuError:
                continue
        n_failed = n_boot - len(draws)
        if len(draws) < _MIN_BOOTSTRAP_SUCCESS_SHARE * n_boot or len(draws) < 2:
            raise ModelError(
                f"{n_failed} of {n_boot} bootstrap resamples could not be fitted",
                advice="collect more responses, or drop items that are nearly constant",
            )
        full = self._estimates
        alpha = (1.0 - level) / 2.0

        def summarise(estimate: float, values: FloatArray) -> BootstrapEstimate:
            low, high = np.quantile(values, [alpha, 1.0 - alpha])
            return BootstrapEstimate(
                estimate=float(estimate),
                mean=float(values.mean()),
                std_error=float(values.std(ddof=1)),
                lower=float(low),
                upper=float(high),
            )

        names = self._constructs
        paths = np.stack([d.paths for d in draws])
        total = np.stack([d.total for d in draws])
        weights = np.stack([d.weights for d in draws])
        loadings = np.stack([d.loadings for d in draws])
        r_squared = np.stack([d.r_squared for d in draws])
        index = {c: j for j, c in enumerate(names)}
        return PLSBootstrap(
            paths={
                (s, t): summarise(full.paths[index[s], index[t]], paths[:, index[s], index[t]])
                for s, t in self.structure
            },
            weights={
                item: summarise(full.weights[h], weights[:, h])
                for h, item in enumerate(self._indicators)
            },
            loadings={
                item: summarise(full.loadings[h], loadings[:, h])
                for h, item in enumerate(self._indicators)
            },
            total_effects={
                (s, t): summarise(full.total[index[s], index[t]], total[:, index[s], index[t]])
                for s, t in self.total_effects_
            },
            r_squared={
                names[j]: summarise(full.r_squared[j], r_squared[:, j]) for j in self._endogenous
            },
            n_boot=n_boot,
            n_failed=n_failed,
            level=level,
            seed=seed,
        )

    # -- index and importance-performance -----------------------------------------------------

    def index(self, construct: str, scale: ScaleRange) -> ConstructIndex:
        """The 0-100 index of ``construct`` (Fornell et al. 1996; formula in the module
        docstring). ``scale`` is the answer range ``(lowest, highest)`` of its items, one pair
        for all or a mapping item -> pair. Raises :class:`kehu.errors.IdentificationError` when
        an item's weight is negative (the index would then fall as that item's answers rise)."""
        self._require_fitted()
        if construct not in self.measurement:
            raise InputError(
                f"unknown construct {construct!r}; the model has {', '.join(self._constructs)}",
                column="construct",
                value=construct,
            )
        items = self.measurement[construct]
        columns = [self._indicators.index(i) for i in items]
        low, high = self._scale_bounds(items, scale)
        raw = self._raw[:, columns]
        for position, item in enumerate(items):
            outside = np.flatnonzero(
                (raw[:, position] < low[position]) | (raw[:, position] > high[position])
            )
            if len(outside):
                row = int(outside[0])
                raise InputError(
                    f"answer outside the scale {low[position]:g}-{high[position]:g}",
                    row=row + 1,
                    column=item,
                    value=float(raw[row, position]),
                )
        unstandardised = np.array([self.outer_weights_[i] / self.indicator_sds_[i] for i in items])
        negative = [i for i, u in zip(items, unstandardised, strict=True) if u < 0]
        if negative:
            raise IdentificationError(
                f"construct {construct!r} has negative weight(s) on {', '.join(negative)}: its "
                "0-100 index would fall as those answers rise",
                advice="check the items' wording (a reversed item must be recoded before the "
                "model is fitted) or drop the item",
            )
        span = float(unstandardised @ (high - low))
        scores = 100.0 * ((raw - low) @ unstandardised) / span  # (7)
        rescaled = unstandardised / unstandardised.sum()
        return ConstructIndex(
            construct=construct,
            mean=float(scores.mean()),
            scores=scores,
            weights=dict(zip(items, rescaled.tolist(), strict=True)),
        )

    def _scale_bounds(
        self, items: Sequence[str], scale: ScaleRange
    ) -> tuple[FloatArray, FloatArray]:
        if isinstance(scale, Mapping):
            absent = [i for i in items if i not in scale]
            if absent:
                raise InputError(f"no answer scale given for {', '.join(absent)}", column=absent[0])
            pairs = [scale[i] for i in items]
        else:
            pairs = [scale] * len(items)
        low = np.array([float(p[0]) for p in pairs])
        high = np.array([float(p[1]) for p in pairs])
        for item, lo, hi in zip(items, low, high, strict=True):
            if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo):
                raise InputError(
                    f"the answer scale must be (lowest, highest) with lowest < highest, got "
                    f"({lo:g}, {hi:g})",
                    column=item,
                )
        return low, high

    def importance_performance(self, target: str, scale: ScaleRange) -> list[ImportancePerformance]:
        """The importance-performance map of ``target`` (Ringle & Sarstedt 2016): every construct
        with a total effect on it, by decreasing importance. ``scale`` as for :meth:`index`
        (it must cover the items of every construct on the map and of the target)."""
        self._require_fitted()
        if target not in self.measurement:
            raise InputError(
                f"unknown construct {target!r}; the model has {', '.join(self._constructs)}",
                column="target",
                value=target,
            )
        sources = [s for (s, t) in self.total_effects_ if t == target]
        if not sources:
            raise InputError(
                f"no construct has an effect on {target!r} (it has no predecessors)",
                column="target",
                value=target,
            )
        target_index = self.index(target, scale)
        target_sd = float(target_index.scores.std(ddof=1))
        rows = []
        for source in sources:
            source_index = self.index(source, scale)
            effect = self.total_effects_[(source, target)]
            rows.append(
                ImportancePerformance(
                    construct=source,
                    target=target,
                    importance=effect * target_sd / float(source_index.scores.std(ddof=1)),  # (8)
                    total_effect=effect,
                    performance=source_index.mean,
                )
            )
        rows.sort(key=lambda row: -row.importance)
        return rows


# -- helpers ----------------------------------------------------------------------------------


def _path(path: Any) -> Path:
    if isinstance(path, str) or len(path) != 2:
        raise InputError(
            f"a path must be a (source, target) pair, got {path!r}", column="structure"
        )
    source, target = path
    return str(source), str(target)


def _named_columns(data: Any, columns: Sequence[str] | None) -> dict[str, Any]:
    """Column name -> column of a DataFrame-like table, a mapping, or a 2-D array with names."""
    if columns is not None:
        array = np.asarray(data)
        if array.ndim != 2:
            raise InputError(
                f"data with columns= must be a 2-D array, got shape {array.shape}", column="data"
            )
        names = [str(c) for c in columns]
        if len(names) != array.shape[1]:
            raise InputError(
                f"columns names {len(names)} columns but the data have {array.shape[1]}",
                column="columns",
            )
        if len(set(names)) != len(names):
            raise InputError("columns names a column twice", column="columns")
        return {name: array[:, j] for j, name in enumerate(names)}
    if hasattr(data, "columns") and hasattr(data, "__getitem__"):  # a DataFrame
        return {str(c): np.asarray(data[c]) for c in data.columns}
    if isinstance(data, Mapping):
        return {str(c): np.asarray(v) for c, v in data.items()}
    raise InputError(
        "data must be a table with named columns (a DataFrame, a mapping of column names to "
        "columns, or a 2-D array with columns=)",
        column="data",
    )


def _numeric_column(values: Any, name: str) -> FloatArray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise InputError(f"column must be one-dimensional, got shape {array.shape}", column=name)
    try:
        numbers = array.astype(np.float64)
    except (TypeError, ValueError):
        for row, value in enumerate(array):
            try:
                float(value)
            except (TypeError, ValueError):
                raise InputError(
                    "answer is not a number", row=row + 1, column=name, value=value
                ) from None
        raise
    bad = np.flatnonzero(~np.isfinite(numbers))
    if len(bad):
        row = int(bad[0])
        raise InputError(
            "missing or infinite answer (impute or drop the respondent before fitting)",
            row=row + 1,
            column=name,
            value=array[row],
        )
    return numbers


def _check_resamples(resamples: Any, n: int) -> NDArray[np.intp]:
    rows = np.asarray(resamples)
    if rows.ndim != 2 or rows.shape[0] < 2 or not np.issubdtype(rows.dtype, np.integer):
        raise InputError(
            "resamples must be a 2-D integer array with one resample (of row numbers) per row "
            f"and at least 2 resamples, got shape {rows.shape} of {rows.dtype}",
            column="resamples",
        )
    outside = np.argwhere((rows < 0) | (rows >= n))
    if len(outside):
        i, j = (int(v) for v in outside[0])
        raise InputError(
            f"row number outside 0..{n - 1} (row numbers are 0-based)",
            row=i + 1,
            column="resamples",
            value=int(rows[i, j]),
        )
    return rows.astype(np.intp)


def _unit_variance(scores: FloatArray) -> FloatArray:
    centred = scores - scores.mean(axis=0)
    sds = centred.std(axis=0, ddof=1)
    if not (sds > 0).all():
        raise IdentificationError(
            "a construct's scores have no variance",
            advice="check that every construct's items vary and are related to its neighbours",
        )
    return centred / sds


def _column_sds(scores: FloatArray) -> FloatArray:
    sds = scores.std(axis=0, ddof=1)
    if not (sds > 0).all():
        raise IdentificationError(
            "a construct's weights vanished (its items are uncorrelated with its neighbours)",
            advice="check the measurement model",
        )
    return sds


def _correlation(scores: FloatArray) -> FloatArray:
    """Correlation matrix of the columns (2-D even for one column)."""
    return np.atleast_2d(np.asarray(np.corrcoef(scores, rowvar=False), dtype=np.float64))


def _solve(gram: FloatArray, rhs: FloatArray, model: PLSPathModel, j: int) -> FloatArray:
    """Regression coefficients from correlations; a singular system names the construct."""
    if np.linalg.cond(gram) > 1e12:
        predecessors = [model._constructs[i] for i in model._predecessors[j]]
        raise IdentificationError(
            f"the predictors of {model._constructs[j]!r} ({', '.join(predecessors)}) are "
            "collinear: their regression is singular",
            advice="merge or drop one of the collinear constructs",
        )
    return np.asarray(np.linalg.solve(gram, rhs), dtype=np.float64)


def _reachability(adjacency: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """``R[i, j]``: a directed path leads from ``i`` to ``j``."""
    k = adjacency.shape[0]
    reach = adjacency.copy()
    for _ in range(k):
        step = reach | ((reach.astype(np.int64) @ adjacency.astype(np.int64)) > 0)
        if (step == reach).all():
            break
        reach = step
    return reach


def _find_cycle(structure: Sequence[Path]) -> list[str]:
    """A cycle of the directed graph as ``[a, b, ..., a]``, or ``[]`` when it has none."""
    successors: dict[str, list[str]] = {}
    for source, target in structure:
        successors.setdefault(source, []).append(target)
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in successors.get(node, []):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return []

    for node in list(successors):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []
