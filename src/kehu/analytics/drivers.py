"""Key driver analysis: how much of an overall score each attribute score explains, and the
importance-performance matrix that says where to improve.

Both methods split the R² of the least-squares regression of the overall score ``y`` on the ``p``
attribute scores ``X`` (with an intercept) into ``p`` non-negative parts that sum to R², computed
from the correlation matrix of ``[X, y]`` (so the result does not depend on the drivers' units):

``method="relative_weights"`` -- Johnson (2000), "A heuristic method for estimating the relative
    weight of predictor variables in multiple regression", *Multivariate Behavioral Research*
    35(1), 1-19. With ``R`` the drivers' correlation matrix and ``r`` their correlations with
    ``y``:

    (J1) ``R = P Δ Pᵀ``, the eigen decomposition of ``R``;
    (J2) ``Λ = P Δ^½ Pᵀ``, the correlations between the drivers and ``Z``, the orthonormal
         variables closest to them in the least-squares sense (Johnson's ``Λ``);
    (J3) ``β = Λ⁻¹ r``, the standardised coefficients of ``y`` on ``Z`` (uncorrelated, so
         ``Σ β_k² = R²``);
    (J4) ``ε_j = Σ_k Λ_jk² β_k²``, the relative weight of driver ``j``; ``Σ_j ε_j = R²``
         because every column of ``Λ²`` sums to one.

    Tonidandel & LeBreton (2011), "Relative importance analysis: a useful supplement to
    regression analysis", *Journal of Business and Psychology* 26, 1-9, give the same steps.
    (J1)-(J4) number the steps here; the paper's own equation numbers were not at hand to check.

``method="shapley"`` -- the Shapley value of R² (Lipovetsky & Conklin 2001, "Analysis of
    regression in game theory approach", *Applied Stochastic Models in Business and Industry*
    17(4), 319-330), which is the *general dominance* statistic of dominance analysis (Budescu
    1993, "Dominance analysis: a new approach to the problem of relative importance of predictors
    in multiple regression", *Psychological Bulletin* 114(3), 542-551; Azen & Budescu 2003, "The
    dominance analysis approach for comparing predictors in multiple regression",
    *Psychological Methods* 8(2), 129-148), and the LMG measure of Lindeman, Merenda & Gold
    (1980):

    (S1) ``R²(S) = r_Sᵀ R_SS⁻¹ r_S`` for every subset ``S`` of the drivers (``R²(∅) = 0``);
    (S2) ``φ_j = Σ_{S ∌ j} |S|! (p - |S| - 1)! / p! · [R²(S ∪ {j}) - R²(S)]``;
    (S3) conditional dominance ``C_j(k)``: the mean of the increment in (S2) over the subsets of
         size ``k - 1`` (driver ``j`` entering as the ``k``-th), so ``φ_j = mean_k C_j(k)``;
    (S4) complete dominance of ``i`` over ``j``: the share of the subsets ``S`` without either in
         which ``R²(S ∪ {i}) > R²(S ∪ {j})`` (1: ``i`` completely dominates ``j``).

    (S1)-(S4) number the steps here, not the papers' equations.
    The ``2^p`` subset R² values come from the one correlation matrix (S1), solved in batches
    of equal size; the work doubles with every driver, so ``p`` is limited to
    :data:`MAX_SHAPLEY_DRIVERS` (15: 32,768 subsets).

Intervals are bootstrap percentile intervals (Efron & Tibshirani 1993, *An Introduction to the
Bootstrap*, ch. 13): ``n_boot`` resamples of the responses with replacement, seeded, the analysis
repeated on each, the ``(1 - level)/2`` and ``(1 + level)/2`` quantiles of each statistic taken
(Tonidandel, LeBreton & Johnson 2009, "Determining the statistical significance of relative
weights", *Psychological Methods* 14(4), 387-399; Azen & Budescu 2006 for dominance). A resample in
which a driver is constant or the drivers are collinear has no answer; it is drawn again and
counted in ``n_boot_discarded_`` (the intervals are then conditional on non-degenerate resamples).

Variance inflation factors: ``VIF_j = (R⁻¹)_jj = 1 / (1 - R_j²)``, with ``R_j²`` the R² of
driver ``j`` on the other drivers (Marquardt 1970, "Generalized inverses, ridge regression,
biased linear estimation, and nonlinear estimation", *Technometrics* 12(3), 591-612).

Bad input is an :class:`kehu.errors.InputError` naming the columns: a constant driver or outcome,
a set of perfectly collinear drivers, fewer complete responses than drivers + 2, non-finite values.
Missing values (NaN) are handled by listwise deletion by default: a response missing the outcome or
any driver is left out and counted in ``n_dropped_`` (``missing="error"`` refuses instead, naming
the first row and column).

Importance-performance analysis: Martilla & James (1977), "Importance-performance analysis",
*Journal of Marketing* 41(1), 77-79. See :func:`importance_performance`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kehu.analytics._base import FloatArray
from kehu.errors import IdentificationError, InputError, NotFittedError

__all__ = [
    "MAX_SHAPLEY_DRIVERS",
    "QUADRANTS",
    "QUADRANT_NAMES",
    "ImportancePerformance",
    "KeyDriverAnalysis",
    "importance_performance",
]

Method = Literal["relative_weights", "shapley"]
MissingRule = Literal["drop", "error"]
QuadrantRule = Literal["mean", "midpoint"]

#: The most drivers the exact Shapley decomposition takes (2^15 = 32,768 subset regressions).
MAX_SHAPLEY_DRIVERS = 15

# A driver whose R² on the others leaves a residual below this share of its spread is a linear
# combination of them: VIF above 1e16, beyond what double precision can tell from exact.
_COLLINEAR_RESIDUAL = 1e-8
# A resample whose drivers' correlation matrix has an eigenvalue below this is singular.
_SINGULAR_EIGENVALUE = 1e-12
# Bootstrap resamples are processed in blocks of about this many numbers at a time.
_BLOCK_ELEMENTS = 2_000_000
# Draws allowed per wanted resample before the bootstrap gives up on degenerate data.
_MAX_DRAWS_PER_RESAMPLE = 10


class KeyDriverAnalysis:
    """Key driver analysis of an overall score on attribute scores (see the module docstring for
    the methods and their references).

    Parameters
    ----------
    method:
        ``"relative_weights"`` (Johnson 2000) or ``"shapley"`` (Shapley value / general
        dominance of R², exact, at most :data:`MAX_SHAPLEY_DRIVERS` drivers).
    n_boot:
        bootstrap resamples for the intervals; 0 for none (the intervals are then NaN).
    level:
        coverage of the percentile intervals, in (0, 1).
    seed:
        seed of the bootstrap's random generator (the same seed, data and settings give the same
        intervals).
    missing:
        ``"drop"`` (listwise deletion, counted in ``n_dropped_``) or ``"error"``.

    After :meth:`fit` (arrays in the drivers' order, ``names_``):

    - ``importance_``: the raw importance of each driver; non-negative, sums to ``r_squared_``;
    - ``share_``: the same in percent of ``r_squared_`` (sums to 100);
    - ``rank_``: 1 for the most important driver (ties share the better rank);
    - ``importance_interval_``, ``share_interval_``: ``(p, 2)`` bootstrap percentile intervals;
      ``r_squared_interval_``: ``(2,)``;
    - ``r_squared_``: R² of the regression of the outcome on all drivers (with an intercept);
    - ``vif_``: variance inflation factors;
    - ``correlation_``: each driver's correlation with the outcome (its direction: importance is
      always >= 0); ``beta_``: standardised regression coefficients;
    - ``performance_``: each driver's mean score over the responses used (the performance axis of
      :meth:`importance_performance`);
    - ``n_obs_``, ``n_dropped_``, ``n_boot_discarded_``;
    - for ``"shapley"`` only: ``conditional_dominance_`` ``(p, p)``, column ``k`` the mean increment
      when the driver enters as the ``(k+1)``-th (S3); ``complete_dominance_`` ``(p, p)``, entry
      ``[i, j]`` the share of comparable subsets where driver ``i`` adds more than ``j`` (S4; NaN on
      the diagonal).
    """

    def __init__(
        self,
        method: Method = "relative_weights",
        *,
        n_boot: int = 1000,
        level: float = 0.95,
        seed: int | None = None,
        missing: MissingRule = "drop",
    ) -> None:
        if method not in ("relative_weights", "shapley"):
            raise InputError(
                f"method must be 'relative_weights' or 'shapley', got {method!r}", column="method"
            )
        if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 0:
            raise InputError(f"n_boot must be a whole number >= 0, got {n_boot!r}", column="n_boot")
        if not (isinstance(level, int | float) and 0.0 < float(level) < 1.0):
            raise InputError(f"level must be in (0, 1), got {level!r}", column="level")
        if missing not in ("drop", "error"):
            raise InputError(
                f"missing must be 'drop' or 'error', got {missing!r}", column="missing"
            )
        self.method: Method = method
        self.n_boot = int(n_boot)
        self.level = float(level)
        self.seed = seed
        self.missing: MissingRule = missing

    # --- fitting ---------------------------------------------------------------------------------
    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        names: Sequence[str] | None = None,
        *,
        outcome: str | None = None,
    ) -> Self:
        """Decompose the R² of ``y`` on the columns of ``X`` (responses in rows).

        ``names`` name the columns of ``X`` (default: a DataFrame's columns, else ``x1`` ...
        ``xp``); ``outcome`` names ``y`` in messages (default: a Series' name, else
        ``"overall"``). Returns ``self``.
        """
        if outcome is None:
            series_name = getattr(y, "name", None)
            outcome = str(series_name) if series_name is not None else "overall"
        drivers, overall, labels, n_dropped = _prepare(X, y, names, outcome, self.missing)
        p = len(labels)
        if self.method == "shapley" and p > MAX_SHAPLEY_DRIVERS:
            raise InputError(
                f"the exact Shapley decomposition takes at most {MAX_SHAPLEY_DRIVERS} drivers "
                f"(2^p subset regressions), got {p}: {', '.join(labels)}; use "
                "method='relative_weights', or group the attributes first",
                column="X",
            )
        n = len(overall)
        if n < p + 2:
            raise InputError(
                f"key driver analysis of {outcome!r} on {p} driver{'s' if p > 1 else ''} "
                f"({', '.join(labels)}) needs at least {p + 2} complete responses (drivers + 2), "
                f"got {n}"
                + (f" after leaving out {n_dropped} with missing values" if n_dropped else ""),
                column=outcome,
            )
        _check_constant(drivers, overall, labels, outcome)
        _check_collinear(drivers, labels)

        data = np.column_stack([drivers, overall])
        corr = np.asarray(np.corrcoef(data, rowvar=False), dtype=np.float64)[np.newaxis]
        estimate = self._statistics(corr)
        # The bootstrap runs before anything is stored, so a failure leaves no half-fitted model.
        intervals = self._bootstrap(data)
        self.names_ = tuple(labels)
        self.outcome_ = outcome
        self.n_obs_ = n
        self.n_dropped_ = n_dropped
        self.importance_ = estimate["importance"][0]
        self.r_squared_ = float(estimate["r_squared"][0])
        self.share_ = _shares(self.importance_[np.newaxis], estimate["r_squared"])[0]
        self.rank_ = _ranks(self.importance_)
        r_xx, r_xy = corr[0, :p, :p], corr[0, :p, p]
        self.vif_ = np.diag(np.linalg.inv(r_xx)).copy()
        self.correlation_ = r_xy.copy()
        self.beta_ = np.linalg.solve(r_xx, r_xy)
        self.performance_ = drivers.mean(axis=0)
        if self.method == "shapley":
            r2_subsets = _all_subset_r_squared(corr)[0]
            self.conditional_dominance_ = _conditional_dominance(r2_subsets, p)
            self.complete_dominance_ = _complete_dominance(r2_subsets, p)
        (
            self.importance_interval_,
            self.share_interval_,
            self.r_squared_interval_,
            self.n_boot_discarded_,
        ) = intervals
        return self

    def _statistics(self, corr: FloatArray) -> dict[str, FloatArray]:
        """Importance ``(B, p)`` and R² ``(B,)`` of a stack of correlation matrices of
        ``[X, y]``."""
        if self.method == "relative_weights":
            importance = _relative_weights(corr)
        else:
            p = corr.shape[-1] - 1
            importance = _shapley(_all_subset_r_squared(corr), p)
        return {"importance": importance, "r_squared": _r_squared(corr)}

    def _bootstrap(self, data: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, int]:
        """Percentile intervals of the importances ``(p, 2)``, the shares ``(p, 2)`` and R²
        ``(2,)`` from ``n_boot`` usable resamples of the rows of ``data`` (``[X, y]``), and how
        many degenerate resamples were drawn again."""
        n, width = data.shape
        p = width - 1
        if self.n_boot == 0:
            return np.full((p, 2), np.nan), np.full((p, 2), np.nan), np.full(2, np.nan), 0
        rng = np.random.default_rng(self.seed)
        block = max(1, _BLOCK_ELEMENTS // (n * width))
        importances: list[FloatArray] = []
        r_squares: list[FloatArray] = []
        kept = drawn = discarded = 0
        while kept < self.n_boot:
            if drawn >= _MAX_DRAWS_PER_RESAMPLE * self.n_boot:
                raise IdentificationError(
                    f"only {kept} of {drawn} bootstrap resamples of the {n} responses had "
                    "drivers that vary and are not collinear",
                    advice="collect more responses, or combine attributes that rarely vary",
                )
            size = min(block, self.n_boot - kept)
            rows = rng.integers(0, n, size=(size, n))
            drawn += size
            corr, ok = _correlation_stack(data[rows])
            discarded += int(np.count_nonzero(~ok))
            if not ok.any():
                continue
            result = self._statistics(corr[ok])
            importances.append(result["importance"])
            r_squares.append(result["r_squared"])
            kept += int(np.count_nonzero(ok))
        importance = np.concatenate(importances)
        r_squared = np.concatenate(r_squares)
        share = _shares(importance, r_squared)
        quantiles = [(1.0 - self.level) / 2.0, (1.0 + self.level) / 2.0]
        return (
            np.quantile(importance, quantiles, axis=0).T,
            np.quantile(share, quantiles, axis=0).T,
            np.quantile(r_squared, quantiles),
            discarded,
        )

    # --- after fitting ---------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if getattr(self, "importance_", None) is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted yet: call fit() first")

    def summary(self) -> dict[str, Any]:
        """The results as plain numbers, ready to store, show or export: the fit figures and one
        row per driver, most important first."""
        self._check_fitted()
        drivers = []
        for j in np.argsort(-self.importance_, kind="stable"):
            drivers.append(
                {
                    "name": self.names_[j],
                    "importance": float(self.importance_[j]),
                    "importance_low": float(self.importance_interval_[j, 0]),
                    "importance_high": float(self.importance_interval_[j, 1]),
                    "share": float(self.share_[j]),
                    "share_low": float(self.share_interval_[j, 0]),
                    "share_high": float(self.share_interval_[j, 1]),
                    "rank": int(self.rank_[j]),
                    "vif": float(self.vif_[j]),
                    "correlation": float(self.correlation_[j]),
                    "beta": float(self.beta_[j]),
                    "performance": float(self.performance_[j]),
                }
            )
        return {
            "method": self.method,
            "outcome": self.outcome_,
            "n_obs": self.n_obs_,
            "n_dropped": self.n_dropped_,
            "r_squared": self.r_squared_,
            "r_squared_low": float(self.r_squared_interval_[0]),
            "r_squared_high": float(self.r_squared_interval_[1]),
            "n_boot": self.n_boot,
            "n_boot_discarded": self.n_boot_discarded_,
            "level": self.level,
            "drivers": drivers,
        }

    def importance_performance(
        self, *, rule: QuadrantRule = "mean", performance_scale: tuple[float, float] | None = None
    ) -> ImportancePerformance:
        """The importance-performance matrix of the fitted drivers: importance is ``share_`` (%),
        performance the drivers' mean scores (``performance_``).

        With ``rule="mean"`` both lines are at the means over the drivers (for the shares that is
        ``100 / p``, the share of every driver if all mattered equally). With ``rule="midpoint"``
        the performance line is the midpoint of ``performance_scale`` (e.g. ``(1, 7)`` -> 4); a
        derived importance has no scale, so its line stays at ``100 / p``.
        """
        self._check_fitted()
        equal_share = 100.0 / len(self.names_)
        return importance_performance(
            self.names_,
            self.share_,
            self.performance_,
            rule=rule,
            performance_scale=performance_scale,
            importance_boundary=equal_share if rule == "midpoint" else None,
        )

    def __repr__(self) -> str:
        if getattr(self, "importance_", None) is None:
            return f"{type(self).__name__}(method={self.method!r})"
        shown = ", ".join(f"{n}={s:.1f}%" for n, s in zip(self.names_, self.share_, strict=True))
        return f"{type(self).__name__}(method={self.method!r}, R²={self.r_squared_:.4f}: {shown})"


# --- input checks --------------------------------------------------------------------------------
def _prepare(
    X: ArrayLike, y: ArrayLike, names: Sequence[str] | None, outcome: str, missing: MissingRule
) -> tuple[FloatArray, FloatArray, list[str], int]:
    if names is None and hasattr(X, "columns"):
        names = [str(c) for c in X.columns]
    try:
        drivers = np.asarray(X, dtype=np.float64)
        overall = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InputError(f"the scores must be numbers: {error}", column="X") from error
    if drivers.ndim == 1:
        drivers = drivers[:, np.newaxis]
    if drivers.ndim != 2 or drivers.shape[1] == 0:
        raise InputError(
            f"X must be a table of responses by drivers, got shape {drivers.shape}", column="X"
        )
    if overall.ndim != 1:
        raise InputError(
            f"{outcome} must be one-dimensional, got shape {overall.shape}", column=outcome
        )
    if len(overall) != len(drivers):
        raise InputError(
            f"{outcome} has {len(overall)} responses but the drivers have {len(drivers)}",
            column=outcome,
        )
    p = drivers.shape[1]
    labels = [f"x{j + 1}" for j in range(p)] if names is None else [str(n) for n in names]
    if len(labels) != p:
        raise InputError(f"{len(labels)} names for {p} drivers", column="names")
    duplicated = sorted({n for n in labels if labels.count(n) > 1})
    if duplicated:
        raise InputError(
            f"driver names must be distinct: {', '.join(duplicated)} repeated", column="names"
        )
    if outcome in labels:
        raise InputError(f"the outcome {outcome!r} is also a driver", column=outcome)
    columns = [*labels, outcome]
    table = np.column_stack([drivers, overall])
    infinite = np.isinf(table)
    if infinite.any():
        row, col = (int(i) for i in np.argwhere(infinite)[0])
        raise InputError(
            "scores must be finite", row=row + 1, column=columns[col], value=float(table[row, col])
        )
    absent = np.isnan(table)
    incomplete = absent.any(axis=1)
    if incomplete.any() and missing == "error":
        row, col = (int(i) for i in np.argwhere(absent)[0])
        raise InputError(
            "missing value (missing='error' refuses incomplete responses)",
            row=row + 1,
            column=columns[col],
        )
    keep = ~incomplete
    return drivers[keep], overall[keep], labels, int(np.count_nonzero(incomplete))


def _check_constant(
    drivers: FloatArray, overall: FloatArray, labels: list[str], outcome: str
) -> None:
    if np.ptp(overall) == 0:
        raise InputError(
            f"the outcome is constant (every response {float(overall[0]):g}): nothing to explain",
            column=outcome,
        )
    constant = [
        name for name, spread in zip(labels, np.ptp(drivers, axis=0), strict=True) if spread == 0
    ]
    if constant:
        raise InputError(
            f"constant driver{'s' if len(constant) > 1 else ''} ({', '.join(constant)}): a score "
            "every response gives alike cannot explain differences; leave "
            f"{'them' if len(constant) > 1 else 'it'} out",
            column=constant[0],
        )


def _check_collinear(drivers: FloatArray, labels: list[str]) -> None:
    """Name every set of perfectly collinear drivers: each driver that is (to rounding) a linear
    combination of the earlier independent ones, with those it combines."""
    centred = drivers - drivers.mean(axis=0)
    scaled = centred / np.linalg.norm(centred, axis=0)
    basis: list[int] = []
    sets: list[list[str]] = []
    for j in range(scaled.shape[1]):
        column = scaled[:, j]
        if basis:
            coefficients, *_ = np.linalg.lstsq(scaled[:, basis], column, rcond=None)
            residual = column - scaled[:, basis] @ coefficients
            if np.linalg.norm(residual) < _COLLINEAR_RESIDUAL:
                involved = [
                    labels[b] for b, c in zip(basis, coefficients, strict=True) if abs(c) > 1e-6
                ]
                sets.append([*involved, labels[j]])
                continue
        basis.append(j)
    if sets:
        shown = "; ".join("{" + ", ".join(s) + "}" for s in sets)
        raise InputError(
            f"perfectly collinear drivers: {shown} (in each set one driver is an exact linear "
            "combination of the others, so their shares cannot be told apart); leave one of each "
            "set out or combine them",
            column=sets[0][-1],
        )


# --- the statistics, on stacks of correlation matrices of [X, y] ---------------------------------
def _correlation_stack(samples: FloatArray) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Correlation matrices ``(B, p+1, p+1)`` of resampled data ``(B, n, p+1)`` and which of them
    are usable (no constant column, drivers not collinear)."""
    centred = samples - samples.mean(axis=1, keepdims=True)
    cov = np.einsum("bni,bnj->bij", centred, centred)
    spread = np.sqrt(np.einsum("bii->bi", cov))
    scale = np.max(np.abs(samples), axis=1) + 1.0
    ok = np.all(spread > 1e-12 * scale * np.sqrt(samples.shape[1]), axis=1)
    safe = np.where(spread > 0, spread, 1.0)
    corr = cov / (safe[:, :, np.newaxis] * safe[:, np.newaxis, :])
    p = samples.shape[2] - 1
    if ok.any():
        smallest = np.full(len(ok), -1.0)
        smallest[ok] = np.linalg.eigvalsh(corr[ok, :p, :p])[:, 0]
        ok &= smallest > _SINGULAR_EIGENVALUE
    return corr, ok


def _r_squared(corr: FloatArray) -> FloatArray:
    """R² of ``y`` on all drivers: ``rᵀ R⁻¹ r`` (S1 with S = all drivers)."""
    p = corr.shape[-1] - 1
    r_xy = corr[:, :p, p]
    solved = np.linalg.solve(corr[:, :p, :p], r_xy[:, :, np.newaxis])[:, :, 0]
    return np.asarray(np.einsum("bi,bi->b", r_xy, solved), dtype=np.float64)


def _relative_weights(corr: FloatArray) -> FloatArray:
    """Johnson's relative weights (J1)-(J4) of a stack of correlation matrices."""
    p = corr.shape[-1] - 1
    r_xx, r_xy = corr[:, :p, :p], corr[:, :p, p]
    eigenvalues, eigenvectors = np.linalg.eigh(r_xx)  # (J1)
    root = np.sqrt(np.clip(eigenvalues, 0.0, None))
    lam = np.einsum("bik,bk,bjk->bij", eigenvectors, root, eigenvectors)  # (J2)
    inverse_root = np.einsum("bik,bk,bjk->bij", eigenvectors, 1.0 / root, eigenvectors)
    beta = np.einsum("bij,bj->bi", inverse_root, r_xy)  # (J3): Λ⁻¹ r
    return np.asarray(np.einsum("bjk,bk->bj", lam**2, beta**2), dtype=np.float64)  # (J4)


@lru_cache(maxsize=MAX_SHAPLEY_DRIVERS)
def _subsets(p: int) -> tuple[tuple[NDArray[np.intp], NDArray[np.intp]], ...]:
    """For each size k = 1..p: the bit masks of the subsets of size k and their members
    ``(m, k)`` in increasing order."""
    masks = np.arange(1 << p, dtype=np.intp)
    bits = (masks[:, np.newaxis] >> np.arange(p)) & 1
    sizes = bits.sum(axis=1)
    out = []
    for k in range(1, p + 1):
        of_size = masks[sizes == k]
        members = np.nonzero(bits[of_size])[1].reshape(len(of_size), k)
        out.append((of_size, members.astype(np.intp)))
    return tuple(out)


def _all_subset_r_squared(corr: FloatArray) -> FloatArray:
    """R² of ``y`` on every subset of the drivers (S1), ``(B, 2^p)`` indexed by bit mask (bit
    ``j`` set: driver ``j`` in the subset), from a stack of correlation matrices."""
    batch, width = corr.shape[0], corr.shape[-1]
    p = width - 1
    r2 = np.zeros((batch, 1 << p))
    for masks, members in _subsets(p):
        m, k = members.shape
        # Blocks of resamples keep the stacked k-by-k systems to a few million numbers.
        step = max(1, _BLOCK_ELEMENTS // (m * k * k))
        rows = members[:, :, np.newaxis]
        cols = members[:, np.newaxis, :]
        for start in range(0, batch, step):
            part = corr[start : start + step]
            r_ss = part[:, rows, cols]  # (b, m, k, k)
            r_s = part[:, members, p]  # (b, m, k)
            solved = np.linalg.solve(r_ss, r_s[..., np.newaxis])[..., 0]
            r2[start : start + step, masks] = np.einsum("bmk,bmk->bm", r_s, solved)
    return r2


@lru_cache(maxsize=MAX_SHAPLEY_DRIVERS)
def _shapley_weights(p: int) -> tuple[NDArray[np.intp], FloatArray]:
    """The masks without driver j's bit, per j ``(p, 2^(p-1))``, and the weights of (S2)
    ``|S|! (p-|S|-1)! / p!`` by subset size."""
    masks = np.arange(1 << p, dtype=np.intp)
    without = np.stack([masks[(masks >> j) & 1 == 0] for j in range(p)])
    weights = np.array(
        [math.factorial(s) * math.factorial(p - s - 1) / math.factorial(p) for s in range(p)]
    )
    return without, weights


def _popcount(masks: NDArray[np.intp], p: int) -> NDArray[np.intp]:
    return np.asarray(((masks[..., np.newaxis] >> np.arange(p)) & 1).sum(axis=-1), dtype=np.intp)


def _increments(r2: FloatArray, p: int) -> tuple[FloatArray, NDArray[np.intp]]:
    """``R²(S ∪ {j}) - R²(S)`` for every j and S ∌ j: ``(B, p, 2^(p-1))``, and |S| for each."""
    without, _ = _shapley_weights(p)
    with_j = without | (1 << np.arange(p))[:, np.newaxis]
    return r2[:, with_j] - r2[:, without], _popcount(without, p)


def _shapley(r2: FloatArray, p: int) -> FloatArray:
    """The Shapley value (S2) of every driver from all subset R² values ``(B, 2^p)``."""
    increments, sizes = _increments(r2, p)
    _, weights = _shapley_weights(p)
    return np.asarray(np.einsum("bjm,jm->bj", increments, weights[sizes]), dtype=np.float64)


def _conditional_dominance(r2: FloatArray, p: int) -> FloatArray:
    """(S3): ``[j, k]`` the mean increment of driver j entering as the (k+1)-th."""
    increments, sizes = _increments(r2[np.newaxis], p)
    out = np.empty((p, p))
    for k in range(p):
        out[:, k] = np.array([increments[0, j, sizes[j] == k].mean() for j in range(p)])
    return out


def _complete_dominance(r2: FloatArray, p: int) -> FloatArray:
    """(S4): ``[i, j]`` the share of subsets S without i and j where R²(S+i) > R²(S+j)."""
    masks = np.arange(1 << p, dtype=np.intp)
    out = np.full((p, p), np.nan)
    for i in range(p):
        for j in range(p):
            if i == j:
                continue
            neither = masks[((masks >> i) & 1 == 0) & ((masks >> j) & 1 == 0)]
            out[i, j] = np.mean(r2[neither | (1 << i)] > r2[neither | (1 << j)])
    return out


def _shares(importance: FloatArray, r_squared: FloatArray) -> FloatArray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(100.0 * importance / r_squared[:, np.newaxis], dtype=np.float64)


def _ranks(importance: FloatArray) -> NDArray[np.intp]:
    """1 for the largest; tied values (to 1e-12 of R²-scale rounding) share the better rank."""
    return np.array(
        [1 + int(np.count_nonzero(importance > value + 1e-12)) for value in importance],
        dtype=np.intp,
    )


# --- importance-performance ----------------------------------------------------------------------
#: The quadrants of Martilla & James (1977), in their order A-D.
QUADRANTS: tuple[str, ...] = (
    "concentrate_here",
    "keep_up_the_good_work",
    "low_priority",
    "possible_overkill",
)
#: Display names of the quadrants.
QUADRANT_NAMES: dict[str, dict[str, str]] = {
    "concentrate_here": {"en": "Concentrate here", "zh": "重点改进"},
    "keep_up_the_good_work": {"en": "Keep up the good work", "zh": "继续保持"},
    "low_priority": {"en": "Low priority", "zh": "低优先级"},
    "possible_overkill": {"en": "Possible overkill", "zh": "可能过度投入"},
}


@dataclass(frozen=True)
class ImportancePerformance:
    """An importance-performance matrix: per attribute its importance, performance and quadrant,
    and where the two lines that make the quadrants are and why (``importance_rule``,
    ``performance_rule``, in words). A value on a line counts as high."""

    names: tuple[str, ...]
    importance: FloatArray
    performance: FloatArray
    quadrant: tuple[str, ...]
    importance_boundary: float
    performance_boundary: float
    importance_rule: str
    performance_rule: str

    @property
    def rule(self) -> str:
        """The quadrant rule in one sentence, to show under the chart."""
        return (
            f"Importance is high from {self.importance_boundary:.4g} ({self.importance_rule}); "
            f"performance is high from {self.performance_boundary:.4g} "
            f"({self.performance_rule}). High importance and low performance: concentrate here; "
            "high and high: keep up the good work; low and low: low priority; low importance and "
            "high performance: possible overkill."
        )

    def rows(self) -> list[dict[str, Any]]:
        """One dict per attribute (name, importance, performance, quadrant key)."""
        return [
            {"name": n, "importance": float(i), "performance": float(p), "quadrant": q}
            for n, i, p, q in zip(
                self.names, self.importance, self.performance, self.quadrant, strict=True
            )
        ]


def importance_performance(
    names: Sequence[str],
    importance: ArrayLike,
    performance: ArrayLike,
    *,
    rule: QuadrantRule = "mean",
    importance_scale: tuple[float, float] | None = None,
    performance_scale: tuple[float, float] | None = None,
    importance_boundary: float | None = None,
    performance_boundary: float | None = None,
) -> ImportancePerformance:
    """Martilla & James's (1977) importance-performance matrix.

    ``importance`` is one number per attribute: stated (e.g. the mean of 1-5 importance ratings,
    or of 100 points split over the attributes) or derived (a driver share from
    :class:`KeyDriverAnalysis`). ``performance`` is the mean performance rating per attribute, or
    a table of ratings (responses by attributes, NaN for no answer) whose column means are taken.

    Where the lines go is the analyst's choice (Martilla & James leave it to judgement; the
    usual choices are compared by Bacon 2003, "A comparison of approaches to
    importance-performance analysis", *International Journal of Market Research* 45(1), 55-71):

    - ``rule="mean"`` (default, data-centred): each line at the mean over the attributes of
      their importance and of their performance, so attributes are judged relative to each other;
    - ``rule="midpoint"`` (scale-centred): each line at the midpoint of the rating scale given as
      ``importance_scale`` / ``performance_scale``, e.g. ``(1, 5)`` -> 3.

    ``importance_boundary`` / ``performance_boundary`` put a line at a given value instead. A
    value on a line counts as high. Quadrants: high importance and low performance is
    ``"concentrate_here"``; high and high ``"keep_up_the_good_work"``; low and low
    ``"low_priority"``; low importance and high performance ``"possible_overkill"``.
    """
    if rule not in ("mean", "midpoint"):
        raise InputError(f"rule must be 'mean' or 'midpoint', got {rule!r}", column="rule")
    labels = [str(n) for n in names]
    if not labels:
        raise InputError("no attributes", column="names")
    duplicated = sorted({n for n in labels if labels.count(n) > 1})
    if duplicated:
        raise InputError(
            f"attribute names must be distinct: {', '.join(duplicated)} repeated", column="names"
        )
    imp = _attribute_values(importance, labels, "importance")
    perf = _attribute_values(performance, labels, "performance")
    i_line, i_rule = _boundary(
        imp, labels, "importance", rule, importance_scale, importance_boundary
    )
    p_line, p_rule = _boundary(
        perf, labels, "performance", rule, performance_scale, performance_boundary
    )
    quadrant = []
    for i, p in zip(imp, perf, strict=True):
        high_importance, high_performance = i >= i_line, p >= p_line
        if high_importance:
            quadrant.append("keep_up_the_good_work" if high_performance else "concentrate_here")
        else:
            quadrant.append("possible_overkill" if high_performance else "low_priority")
    return ImportancePerformance(
        names=tuple(labels),
        importance=imp,
        performance=perf,
        quadrant=tuple(quadrant),
        importance_boundary=float(i_line),
        performance_boundary=float(p_line),
        importance_rule=i_rule,
        performance_rule=p_rule,
    )


def _attribute_values(values: ArrayLike, labels: list[str], axis: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 2:
        if array.shape[1] != len(labels):
            raise InputError(
                f"{axis} has {array.shape[1]} columns for {len(labels)} attributes", column=axis
            )
        if np.isinf(array).any():
            row, col = (int(i) for i in np.argwhere(np.isinf(array))[0])
            raise InputError(f"{axis} ratings must be finite", row=row + 1, column=labels[col])
        no_answer = np.asarray(np.isnan(array).all(axis=0))
        unanswered = [n for n, c in zip(labels, no_answer.tolist(), strict=True) if c]
        if unanswered:
            raise InputError(f"no {axis} ratings for {', '.join(unanswered)}", column=unanswered[0])
        return np.asarray(np.nanmean(array, axis=0), dtype=np.float64)
    if array.ndim != 1 or len(array) != len(labels):
        raise InputError(
            f"{axis} needs one value per attribute ({len(labels)}), got shape {array.shape}",
            column=axis,
        )
    bad = ~np.isfinite(array)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise InputError(f"{axis} must be a finite number", column=labels[j], value=float(array[j]))
    return array


def _boundary(
    values: FloatArray,
    labels: list[str],
    axis: str,
    rule: QuadrantRule,
    scale: tuple[float, float] | None,
    given: float | None,
) -> tuple[float, str]:
    if given is not None:
        if not np.isfinite(given):
            raise InputError(
                f"the {axis} boundary must be finite", column=f"{axis}_boundary", value=given
            )
        return float(given), "given"
    if rule == "mean":
        return float(values.mean()), f"the mean {axis} of the {len(values)} attributes"
    if scale is None:
        raise InputError(
            f"rule='midpoint' needs the {axis} rating scale, e.g. {axis}_scale=(1, 5)",
            column=f"{axis}_scale",
        )
    low, high = (float(v) for v in scale)
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise InputError(
            f"{axis}_scale must be (lowest, highest) with lowest < highest",
            column=f"{axis}_scale",
            value=scale,
        )
    outside = [n for n, v in zip(labels, values, strict=True) if not low <= v <= high]
    if outside:
        raise InputError(
            f"{axis} of {', '.join(outside)} lies outside the scale {low:g}-{high:g}",
            column=outside[0],
        )
    return (low + high) / 2.0, f"the midpoint of the {low:g}-{high:g} scale"
